//! The `#[endpoint]` attribute of the wxpay SDK.
//!
//! Use it through the `wxpay` facade (`use wxpay::endpoint;`); the generated code refers to
//! the runtime as `::wxpay::__private`, or to the path given with `crate = "..."`.
#![deny(missing_docs)]

mod ast;
mod attr;
mod constructor;
mod expand;
mod sensitive;
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
/// - `host = apihk` names the platform host that serves the operation when it is not the
///   main API host: a key (`api`, `apihk`, `fraud`, `payapp`, `payapp_mch`), never a URL; the client maps
///   each key to a base URL, so one client sends every operation to the right place.
/// - `crate = "path"` names the runtime when it is not reachable as `::wxpay`.
///
/// `v2` before the method declares an APIv2 operation: a POST of a flat `<xml>` document (or,
/// for the contract-signing pages, a GET with the same fields as its query), signed by the
/// runtime with the APIv2 key. Every field is an element: text, a number or a platform enum;
/// a field the platform takes as JSON text is marked `#[wxpay(json)]`. The path has no
/// placeholders, and `nonce_str`, `sign` and `sign_type` are never fields: the runtime writes
/// them. On a POST, `#[wxpay(query)]` sends a field in the URL beside the `<xml>`, outside
/// the sign (`submchmanage`'s `action`); `#[wxpay(file)] media: wxpay::UploadFile` makes an
/// upload (`uploadmedia`): the other fields become text parts of a `multipart/form-data` body
/// that the sign covers, the file is not signed, and `file(md5 = "media_hash", max_bytes = N)`
/// fills the element `media_hash` with the file's MD5 (lower-case hex) before signing. Its
/// options:
///
/// ```ignore
/// #[endpoint(v2 POST "/mmpaymkttransfers/sendredpack" -> SendRedpackResponse, cert, unsigned_answer)]
/// pub struct SendRedpack { pub mch_billno: String, pub total_amount: u64, /* … */ }
/// ```
///
/// - `cert`: the merchant's API client certificate goes on the TLS connection.
/// - `unsigned_answer`: the platform answers without a `sign` (red packets, transfers, …).
/// - `sign_type = hmac_sha256` (the request says `sign_type=HMAC-SHA256`) or `either` (the
///   client's choice); MD5 without a `sign_type` element when not given.
/// - `no_nonce`: the request carries no `nonce_str`.
/// - `unsigned_request`: the request carries no `sign` (a page the user's browser opens with
///   plain parameters, `authindex`).
/// - `idempotent`, `host = key`, `exhaustive`, `no_constructor` and `crate` as for APIv3.
///
/// - `exhaustive` leaves the struct open to struct-literal construction; without it the
///   struct is `#[non_exhaustive]`, so a field the platform adds later is not a breaking change.
/// - `no_constructor` leaves out the generated `new`, its `…Required` struct and the setters
///   (for a struct with its own `new`).
///
/// The struct gets `new` and a chainable setter per `Option` field, named after it (`String`
/// setters take `impl Into<String>`). `new` takes the required (non-`Option`) fields as a
/// struct of their own, `{Name}Required`, built with a struct literal: every value is named,
/// in any order, and leaving one out is a compile error naming the field.
///
/// ```ignore
/// let request = PauseStock::new(PauseStockRequired {
///     stock_id: "9856888".into(),
///     stock_creator_mchid: client.mchid().into(),
/// });
/// ```
///
/// Field attributes: `#[wxpay(query)]`, `#[wxpay(header = "Name")]`, `#[wxpay(body)]`,
/// `#[wxpay(encrypt)]`, `#[wxpay(redact)]` (personal data sent in plain text: printed
/// `<redacted>` by the generated `Debug`, the wire unchanged). An encrypted body field is a `String`, `Option<String>`, `Vec<String>`
/// or (an `Option`/`Vec` of) a type with `#[derive(wxpay::Sensitive)]`, whose own
/// `#[wxpay(encrypt)]` fields are then encrypted, at any depth; an encrypted query parameter
/// is a `String` or `Option<String>`. Such fields are personal data: the struct gets a `Debug`
/// that prints `<redacted>` for them, and a `#[derive(Debug)]` of its own is refused.
/// Other fields are the JSON body of POST, PUT and PATCH and the query string of GET and
/// DELETE (a DELETE sends its `#[wxpay(body)]` fields as a JSON body); `Option` fields are
/// left out when `None`; `#[serde(...)]` attributes keep working on body fields, and `rename`
/// names a query parameter. A response type that derives `Sensitive` is decrypted with the
/// merchant key before `Client::send` returns it.
#[proc_macro_attribute]
pub fn endpoint(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::endpoint(args.into(), input.into()).into()
}

/// Encrypts a nested type's `#[wxpay(encrypt)]` fields in requests and decrypts them in
/// answers, at any depth, and writes a `Debug` that prints `<redacted>` for them (so a
/// `#[derive(Debug)]` beside it is a conflicting impl).
///
/// ```ignore
/// #[derive(Clone, serde::Serialize, wxpay::Sensitive)]
/// pub struct Receiver {
///     pub account: String,
///     #[wxpay(encrypt)]
///     pub name: String, // String, Option<String>, Vec<String>, or another Sensitive type
/// }
/// ```
///
/// In answers, declare decrypted fields as `wxpay::SensitiveString`: it is wiped when
/// dropped and never printed.
///
/// `#[wxpay(redact)]` marks personal data the platform sends in plain text (an OpenID, a
/// payee's name, a bank account): never encrypted or decrypted, printed `<redacted>` by the
/// `Debug` all the same. It takes the same types as `encrypt`.
#[proc_macro_derive(Sensitive, attributes(wxpay))]
pub fn derive_sensitive(input: TokenStream) -> TokenStream {
    sensitive::derive(input.into()).into()
}

/// `new({Name}Required { required fields… })` and a chainable setter per `Option` field, as
/// `#[endpoint]` gives an endpoint: for the `#[non_exhaustive]` types a request carries.
///
/// ```ignore
/// #[derive(wxpay::Constructor)]
/// #[non_exhaustive]
/// pub struct StoreInfo { pub id: Option<String>, pub name: String }
///
/// let store = StoreInfo::new(StoreInfoRequired { name: "腾讯大厦分店".into() }).id("0001");
/// ```
#[proc_macro_derive(Constructor)]
pub fn derive_constructor(input: TokenStream) -> TokenStream {
    constructor::derive(input.into()).into()
}

/// The characters a path segment keeps besides ASCII letters and digits, as a byte string:
/// the one definition shared by the template check and the runtime's encoder. Not public API.
#[doc(hidden)]
#[proc_macro]
pub fn __path_segment_chars(_input: TokenStream) -> TokenStream {
    let chars = proc_macro2::Literal::byte_string(template::LITERAL_CHARS.as_bytes());
    quote::quote!(#chars).into()
}
