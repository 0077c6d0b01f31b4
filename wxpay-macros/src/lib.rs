//! The `#[endpoint]` attribute of the wxpay SDK.
//!
//! Use it through the `wxpay` facade (`use wxpay::endpoint;`); the generated code refers to
//! the runtime as `::wxpay::__private`, or to the path given with `crate = "..."`.
#![deny(missing_docs)]

mod ast;
mod attr;
mod expand;
mod template;
mod validate;

use proc_macro::TokenStream;

/// Declares an APIv3 endpoint on a struct with named fields.
///
/// ```ignore
/// use wxpay::endpoint;
///
/// #[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/pause" -> PauseStockResponse)]
/// pub struct PauseStock {
///     pub stock_id: String,            // named in the template: a path segment
///     pub stock_creator_mchid: String, // the JSON body (GET and DELETE: the query string)
/// }
/// ```
///
/// - The method is one of `GET`, `POST`, `PUT`, `PATCH`, `DELETE`.
/// - The template starts with `/`; `<name>` is a whole segment filled, percent-encoded, from
///   the field `name`. Queries come from fields, never from the template.
/// - `-> Response` is the decoded answer; no arrow, or `-> ()`, means an empty answer.
/// - `idempotent` declares that sending the request twice acts once (it carries a
///   caller-chosen request number such as `out_request_no`), so the client may retry it when
///   it cannot tell whether the platform received it.
/// - `crate = "path"` names the runtime when it is not reachable as `::wxpay`.
///
/// Field attributes: `#[wxpay(query)]`, `#[wxpay(header = "Name")]`, `#[wxpay(body)]`,
/// `#[wxpay(encrypt)]` (a `String` or `Option<String>`, encrypted with the platform key; such
/// fields are personal data, so `#[derive(Debug)]` on the struct is refused — write a `Debug`
/// that redacts them).
/// Other fields are the JSON body of POST, PUT and PATCH and the query string of GET and
/// DELETE; `Option` fields are left out when `None`; `#[serde(...)]` attributes keep working
/// on body fields, and `rename` names a query parameter.
#[proc_macro_attribute]
pub fn endpoint(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::endpoint(args.into(), input.into()).into()
}
