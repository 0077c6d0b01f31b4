//! Puts it together: the user's struct (unknown attributes removed), then
//! `impl Endpoint for Struct { ... }` when nothing was wrong, then the errors.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{DeriveInput, Ident};

use crate::ast::{self, Endpoint, Field, SerdeItem};
use crate::attr::{self, ApiV2Args, Args};
use crate::constructor;
use crate::template::{self, Piece};
use crate::validate::{self, Errors, Place, Plan, Text};

/// Expands `#[endpoint(args)] input`.
pub(crate) fn endpoint(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: DeriveInput = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "`#[endpoint]` goes on a struct with named fields",
            );
            let error = error.into_compile_error();
            return quote!(#input #error);
        }
    };

    let mut errors = Errors::default();
    let args = match attr::parse(args, &mut errors) {
        Ok(args) => Some(args),
        Err(error) => {
            errors.push(error);
            None
        }
    };

    let keep_serde = ast::derives_serde(&item);
    let krate = args
        .as_ref()
        .map_or_else(|| quote!(::wxpay), |args| args.krate.clone());
    let implementation = match ast::Endpoint::from_input(&item, &mut errors) {
        Some(endpoint) => {
            validate::check_debug(&item, &endpoint, &mut errors);
            let plan = validate::check(args.as_ref(), &endpoint, &mut errors);
            match (&args, plan) {
                (Some(args), Some(plan)) if errors.is_empty() && plan.method.is_some() => {
                    let mut out = match &args.apiv2 {
                        Some(apiv2) => implement_apiv2(args, apiv2, &endpoint, &plan),
                        None => implement(args, &endpoint, &plan),
                    };
                    out.extend(redacting_debug(&endpoint, &krate));
                    if args.constructor {
                        out.extend(constructors(&item));
                    }
                    out
                }
                // One mistake is one error: with a stand-in impl, every `client.send` of the
                // struct still type-checks instead of adding an error of its own.
                (_, plan) if item.generics.params.is_empty() => {
                    stub(args.as_ref(), &endpoint, plan.as_ref(), &krate)
                }
                _ => TokenStream::new(),
            }
        }
        None => TokenStream::new(),
    };

    ast::strip(&mut item, keep_serde);
    let exhaustive = args.as_ref().is_some_and(|args| args.exhaustive);
    if !exhaustive && matches!(item.data, syn::Data::Struct(_)) {
        item.attrs.push(syn::parse_quote!(#[non_exhaustive]));
    }
    let errors = errors.into_compile_error();
    quote! {
        #item
        #implementation
        #errors
    }
}

/// What stands in for the implementation when the endpoint has errors: it compiles whatever
/// was wrong, and does nothing (the crate does not build anyway).
fn stub(
    args: Option<&Args>,
    endpoint: &Endpoint,
    plan: Option<&Plan>,
    krate: &TokenStream,
) -> TokenStream {
    let private = quote!(#krate::__private);
    // The trait check of encrypted body fields stays, so their mistakes are reported with
    // the others rather than after them.
    let sensitive = plan.into_iter().flat_map(|plan| {
        endpoint
            .fields
            .iter()
            .zip(&plan.encrypted)
            .filter(|(_, text)| **text == Some(Text::Value))
            .map(|(field, _)| {
                let ty = field.ty;
                let sensitive = quote_spanned!(ty.span()=> <#ty as #private::Sensitive>);
                quote!(let _ = #sensitive::fmt_redacted;)
            })
    });
    let ident = endpoint.ident;
    let response = args
        .and_then(|args| args.response.as_ref())
        .map_or_else(|| quote!(()), |ty| quote!(#ty));
    quote! {
        #[automatically_derived]
        impl #private::Endpoint for #ident {
            type Response = #response;
            const METHOD: #private::Method = #private::Method::GET;
            const PATH_TEMPLATE: &'static str = "";

            fn write_request(
                &self,
                _: &mut #private::RequestWriter<'_>,
            ) -> ::core::result::Result<(), #private::RequestError> {
                #(#sensitive)*
                ::core::result::Result::Ok(())
            }

            fn decode_response(
                _: &[u8],
            ) -> ::core::result::Result<Self::Response, #private::serde_json::Error> {
                ::core::result::Result::Err(
                    <#private::serde_json::Error as #private::serde::de::Error>::custom(
                        "the endpoint did not compile",
                    ),
                )
            }
        }
    }
}

/// A `Debug` that prints `<redacted>` for the encrypted and redacted fields, for a struct that
/// has any.
fn redacting_debug(endpoint: &Endpoint, krate: &TokenStream) -> TokenStream {
    if !endpoint.fields.iter().any(Field::is_personal) {
        return TokenStream::new();
    }
    let private = quote!(#krate::__private);
    let ident = endpoint.ident;
    let shown = ident.to_string();
    let fields = endpoint.fields.iter().map(|field| {
        let member = field.ident;
        let name = field.name.as_str();
        match field.is_personal() {
            false => quote!(.field(#name, &self.#member)),
            true => {
                let ty = field.ty;
                let sensitive = quote_spanned!(ty.span()=> <#ty as #private::Sensitive>);
                quote!(.field(#name, &#private::RedactedWith(&self.#member, #sensitive::fmt_redacted)))
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl ::core::fmt::Debug for #ident {
            #[inline]
            fn fmt(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                __f.debug_struct(#shown) #(#fields)* .finish()
            }
        }
    }
}

fn constructors(item: &DeriveInput) -> TokenStream {
    let syn::Data::Struct(data) = &item.data else {
        return TokenStream::new();
    };
    let fields: Vec<_> = data
        .fields
        .iter()
        .filter_map(constructor::Field::of)
        .collect();
    constructor::expand(&item.vis, &item.ident, &fields)
}

fn implement(args: &Args, endpoint: &Endpoint, plan: &Plan) -> TokenStream {
    let krate = &args.krate;
    let private = quote!(#krate::__private);
    let ident = endpoint.ident;
    let method = Ident::new(
        plan.method.map_or("GET", |method| method.name()),
        args.method_span,
    );
    let documented = template::documented(&plan.pieces);
    // Spanned on the response type, so a type that is not `Deserialize` is named there.
    let (response, decode) = match &args.response {
        None if args.download => (
            quote!(#private::Streamed),
            quote! {{
                let _ = __body;
                ::core::result::Result::Err(
                    <#private::serde_json::Error as #private::serde::de::Error>::custom(
                        "a download endpoint's file is streamed with `Client::download_file`",
                    ),
                )
            }},
        ),
        Some(ty) => {
            let private = respan(private.clone(), ty.span());
            // Only the function is spanned there: `__body` keeps the macro's own hygiene, so
            // a response type that comes from a `macro_rules!` fragment still sees it.
            let function = quote_spanned!(ty.span()=> #private::decode_json);
            let decode = quote!(#function(__body));
            (quote!(#ty), decode)
        }
        None => (quote!(()), quote!(#private::decode_empty(__body))),
    };
    // A response type that derives `Sensitive` is decrypted; the choice is made by method
    // resolution on the concrete type, so other responses cost nothing.
    let decrypt = args.response.as_ref().map(|_| {
        quote! {
            #[inline]
            fn decrypt_response(
                __response: &mut Self::Response,
                __key: &#private::MerchantKey,
            ) -> ::core::result::Result<(), #private::DecryptError> {
                #[allow(unused_imports)]
                use #private::{DecryptNothing as _, DecryptSensitive as _};
                let __decrypt = (&&#private::Probe::<Self::Response>::NEW).decrypter();
                __decrypt(__response, __key)
            }
        }
    });

    let fields = || {
        endpoint
            .fields
            .iter()
            .zip(&plan.places)
            .zip(&plan.encrypted)
            .zip(&plan.members)
            .filter(|(((field, _), _), _)| !skipped(field))
            .map(|(((field, place), text), member)| (field, *place, *text, member.as_str()))
    };

    let path = plan.pieces.iter().map(|piece| match piece {
        Piece::Literal(text) => quote!(__request.path_literal(#text);),
        Piece::Placeholder { name, .. } => {
            let field = endpoint.fields.iter().find(|field| field.name == *name);
            let span = field.map_or_else(Span::call_site, |field| field.ty.span());
            let member = field.map(|field| field.ident);
            quote_spanned!(span=> __request.path_param(#name, &self.#member)?;)
        }
    });

    let query = fields()
        .filter(|(_, place, _, _)| *place == Place::Query)
        .map(|(field, _, text, _)| {
            let member = field.ident;
            let name = validate::query_name(field);
            match text {
                None => quote_spanned!(field.ty.span()=> __request.query(#name, &self.#member)?;),
                Some(text) => {
                    let ciphertext = encrypt(member, &name, text, field.ty, &private);
                    quote! {{
                        let __value = #ciphertext;
                        __request.query(#name, &__value)?;
                    }}
                }
            }
        });

    let headers = fields().filter_map(|(field, place, _, _)| match place {
        Place::Header(name) => {
            let member = field.ident;
            Some(quote_spanned!(field.ty.span()=> __request.header(#name, &self.#member)?;))
        }
        _ => None,
    });

    let members: Vec<_> = fields()
        .filter(|(_, place, _, _)| *place == Place::Body)
        .map(|(field, _, text, name)| body_member(field, text, name, &private))
        .collect();
    // An upload sends its body fields as the `meta` JSON, even when there are none.
    let upload = fields().find_map(|(field, place, _, _)| match place {
        Place::File(keys) => Some((field, keys)),
        _ => None,
    });
    let write_body = if members.is_empty() && upload.is_none() {
        quote!(::core::result::Result::Ok(()))
    } else {
        let send = match upload {
            None => quote!(__request.json_object(__json)),
            Some((file, keys)) => {
                let parts = fields()
                    .filter(|(_, place, _, _)| *place == Place::Part)
                    .map(|(field, _, _, _)| {
                        let member = field.ident;
                        let name = &field.name;
                        quote_spanned!(field.ty.span()=> __request.form_part(#name, &self.#member)?;)
                    });
                let member = file.ident;
                let part = &file.name;
                let ty = file.ty;
                // Spanned on the field's type, so a type that is not `UploadFile` is named there.
                let file =
                    quote_spanned!(ty.span()=> let __file: &#private::UploadFile = &self.#member;);
                let key = |key: &Option<String>| match key {
                    Some(key) => quote!(::core::option::Option::Some(#key)),
                    None => quote!(::core::option::Option::None),
                };
                let (filename, sha256) = (key(&keys.filename), key(&keys.sha256));
                let max_bytes = match keys.max_bytes {
                    Some(max) => quote!(::core::option::Option::Some(#max)),
                    None => quote!(::core::option::Option::None),
                };
                quote! {
                    #(#parts)*
                    #file
                    __request.upload(
                        &__json.into_value()?,
                        #part,
                        __file,
                        #private::FileMeta::new(#filename, #sha256, #max_bytes),
                    )
                }
            }
        };
        let json = if members.is_empty() {
            quote!(let __json = #private::JsonObject::new();)
        } else {
            quote!(let mut __json = #private::JsonObject::new();)
        };
        quote! {
            #json
            #(#members)*
            #send
        }
    };

    let (idempotent, host) = (idempotent(args), host(args, &private));
    quote! {
        #[automatically_derived]
        impl #private::Endpoint for #ident {
            type Response = #response;
            const METHOD: #private::Method = #private::Method::#method;
            const PATH_TEMPLATE: &'static str = #documented;
            #idempotent
            #host

            // `#[inline]`: compiled in the crate that sends the endpoint, not for every
            // endpoint of the catalog that declares it.
            #[inline]
            fn write_request(
                &self,
                __request: &mut #private::RequestWriter<'_>,
            ) -> ::core::result::Result<(), #private::RequestError> {
                #(#path)*
                #(#query)*
                #(#headers)*
                #write_body
            }

            #[inline]
            fn decode_response(
                __body: &[u8],
            ) -> ::core::result::Result<Self::Response, #private::serde_json::Error> {
                #decode
            }

            #decrypt
        }
    }
}

/// `const IDEMPOTENT`, said only when true: the trait's default is `false`, and every item
/// costs compile time.
fn idempotent(args: &Args) -> Option<TokenStream> {
    args.idempotent.then(|| {
        quote!(
            const IDEMPOTENT: bool = true;
        )
    })
}

/// `const HOST`, said only when it is not the default `Api`.
fn host(args: &Args, private: &TokenStream) -> Option<TokenStream> {
    let host = args.host.as_ref().filter(|host| *host != "Api")?;
    Some(quote!(const HOST: #private::Host = #private::Host::#host;))
}

/// The implementation of an APIv2 endpoint: its rules, and its fields written one by one as
/// elements of the `<xml>` the runtime signs; the answer is decoded from the verified
/// elements.
fn implement_apiv2(
    args: &Args,
    apiv2: &ApiV2Args,
    endpoint: &Endpoint,
    plan: &Plan,
) -> TokenStream {
    let krate = &args.krate;
    let private = quote!(#krate::__private);
    let ident = endpoint.ident;
    let path = args.template.value();
    let (response, decode) = match &args.response {
        Some(ty) => {
            let private = respan(private.clone(), ty.span());
            // Text for a bill, JSON for `getaccesstoken`, else the `<xml>` elements.
            let function = match apiv2.answer.to_string().as_str() {
                "Text" => quote_spanned!(ty.span()=> #private::decode_text),
                "Json" => quote_spanned!(ty.span()=> #private::decode_json),
                _ => quote_spanned!(ty.span()=> #private::decode_xml),
            };
            (quote!(#ty), quote!(#function(__body)))
        }
        None => (quote!(()), quote!(#private::decode_empty(__body))),
    };
    let fields = endpoint
        .fields
        .iter()
        .zip(&plan.places)
        .zip(&plan.members)
        .filter(|((field, _), _)| !skipped(field))
        .map(|((field, place), name)| {
            let member = field.ident;
            // Spanned on the field's type, so a type that is not flat text is named there.
            let span = field.ty.span();
            match place {
                Place::XmlJson => {
                    quote_spanned!(span=> __request.xml_json_field(#name, &self.#member)?;)
                }
                Place::Query => quote_spanned!(span=> __request.query(#name, &self.#member)?;),
                Place::File(keys) => {
                    let ty = field.ty;
                    // Spanned on the field's type, so a type that is not `UploadFile` is named
                    // there.
                    let file = quote_spanned!(ty.span()=> let __file: &#private::UploadFile = &self.#member;);
                    let md5 = match &keys.md5 {
                        Some(md5) => quote!(::core::option::Option::Some(#md5)),
                        None => quote!(::core::option::Option::None),
                    };
                    let max_bytes = match keys.max_bytes {
                        Some(max) => quote!(::core::option::Option::Some(#max)),
                        None => quote!(::core::option::Option::None),
                    };
                    quote! {{
                        #file
                        __request.xml_file(#name, __file, #md5, #max_bytes)?;
                    }}
                }
                _ => quote_spanned!(span=> __request.xml_field(#name, &self.#member)?;),
            }
        });
    // Only what differs from `ApiV2::new()`, as for the trait's defaults.
    let mut rules = quote!(#private::ApiV2::new());
    let sign_types = &apiv2.sign_types;
    if *sign_types != "Md5" {
        rules = quote!(#rules.with_sign_types(#private::SignTypes::#sign_types));
    }
    if apiv2.client_certificate {
        rules = quote!(#rules.with_client_certificate(true));
    }
    if apiv2.unsigned_answer {
        rules = quote!(#rules.with_signed_answer(false));
    }
    if apiv2.no_nonce {
        rules = quote!(#rules.with_nonce(false));
    }
    if apiv2.unsigned_request {
        rules = quote!(#rules.with_signed_request(false));
    }
    let answer = &apiv2.answer;
    if *answer != "Xml" {
        rules = quote!(#rules.with_answer(#private::ApiV2Answer::#answer));
    }
    let (idempotent, host) = (idempotent(args), host(args, &private));
    let method = Ident::new(
        plan.method.map_or("POST", |method| method.name()),
        args.method_span,
    );
    quote! {
        #[automatically_derived]
        impl #private::Endpoint for #ident {
            type Response = #response;
            const METHOD: #private::Method = #private::Method::#method;
            const PATH_TEMPLATE: &'static str = #path;
            const PROTOCOL: #private::Protocol = #private::Protocol::ApiV2(#rules);
            #idempotent
            #host

            #[inline]
            fn write_request(
                &self,
                __request: &mut #private::RequestWriter<'_>,
            ) -> ::core::result::Result<(), #private::RequestError> {
                __request.path_literal(#path);
                #(#fields)*
                ::core::result::Result::Ok(())
            }

            #[inline]
            fn decode_response(
                __body: &[u8],
            ) -> ::core::result::Result<Self::Response, #private::serde_json::Error> {
                #decode
            }
        }
    }
}

/// A field marked `#[serde(skip)]` or `#[serde(skip_serializing)]` is not sent anywhere.
fn skipped(field: &Field) -> bool {
    field
        .serde
        .iter()
        .any(|item| item.key == "skip" || item.key == "skip_serializing")
}

/// The ciphertext of an encrypted field, as an expression.
fn encrypt(
    member: &Ident,
    name: &str,
    text: Text,
    ty: &syn::Type,
    private: &TokenStream,
) -> TokenStream {
    let path = quote!(#private::FieldPath::new(#name));
    match text {
        Text::String => quote!(__request.encrypt_field(#path, &self.#member)?),
        Text::OptionString => quote! {
            self.#member
                .as_deref()
                .map(|__value| __request.encrypt_field(#path, __value))
                .transpose()?
        },
        // A copy with everything sensitive inside encrypted; the trait is named at the
        // field's type, so a type that is not `Sensitive` is reported there.
        Text::Value => {
            let sensitive = quote_spanned!(ty.span()=> <#ty as #private::Sensitive>);
            let copy = quote_spanned!(ty.span()=> <#ty as #private::EncryptedCopy>::encrypted_copy);
            quote! {{
                let mut __value = #copy(&self.#member);
                #sensitive::encrypt_fields(&mut __value, __request, #path)?;
                __value
            }}
        }
    }
}

/// One member of the JSON body, written into `__json`: the field's value (its ciphertext when
/// encrypted), left out as its serde `skip_serializing_if` or its `Option`'s `None` says, and
/// written as its `serialize_with`, `with` or `flatten` says. `JsonObject` keeps the first
/// error, so a member is a statement without a `?`, and most members are one call: across a
/// catalog of a thousand endpoints, the cheapest shape for the compiler.
fn body_member(
    field: &Field,
    text: Option<Text>,
    name: &str,
    private: &TokenStream,
) -> TokenStream {
    let member = field.ident;
    // A function named in a serde attribute, spanned on its string so a wrong path is
    // reported there.
    let function = |key: &str| {
        let item = SerdeItem::find(&field.serde, key)?;
        let lit = item.value.as_ref()?;
        let path = lit
            .parse::<syn::ExprPath>()
            .map_or_else(|error| error.into_compile_error(), |path| quote!(#path));
        Some(respan(path, lit.span()))
    };
    let flatten = SerdeItem::find(&field.serde, "flatten").is_some();
    let (serialize_with, with) = (function("serialize_with"), function("with"));
    let skip = function("skip_serializing_if");
    let option = validate::option_inner(field.ty).is_some();
    let custom = serialize_with.is_some() || with.is_some();
    // Spanned on the field's type, so a type that is not `Serialize` is named there.
    let span = field.ty.span();

    // The common member: the field itself, written as it is.
    if text.is_none() && !flatten && !custom && skip.is_none() {
        return if option {
            quote_spanned!(span=> __json.optional(#name, &self.#member);)
        } else {
            quote_spanned!(span=> __json.field(#name, &self.#member);)
        };
    }

    let value = match text {
        // Owned: the user's serde functions see the ciphertext, as the platform will.
        Some(text) => {
            let ciphertext = encrypt(member, name, text, field.ty, private);
            quote!(let __owned = #ciphertext; let __value = &__owned;)
        }
        None => quote!(let __value = &self.#member;),
    };
    let write = if flatten {
        quote_spanned!(span=> __json.flatten(__value);)
    } else if let Some(function) = serialize_with {
        quote!(__json.field_with(#name, |__serializer| #function(__value, __serializer));)
    } else if let Some(module) = with {
        quote!(__json.field_with(#name, |__serializer| #module::serialize(__value, __serializer));)
    } else if skip.is_none() && option {
        quote_spanned!(span=> __json.optional(#name, __value);)
    } else {
        quote_spanned!(span=> __json.field(#name, __value);)
    };
    let write = match skip {
        Some(skip) => quote!(if !#skip(__value) { #write }),
        // `optional` leaves a `None` out itself; `flatten` writes nothing for one.
        None if option && custom => {
            quote!(if ::core::option::Option::is_some(__value) { #write })
        }
        None => write,
    };
    quote!({ #value #write })
}

/// `tokens` with every span set to `span`, so that an error about the expression they form is
/// reported there.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(args: &str, item: &str) -> String {
        endpoint(args.parse().unwrap(), item.parse().unwrap()).to_string()
    }

    #[test]
    fn the_crate_option_replaces_every_runtime_path() {
        let out = expand(
            r#"POST "/v3/x/<id>" -> X, crate = "crate::alias::inner""#,
            "pub struct S { id: String, a: Option<u8>, #[wxpay(query)] q: u8 }",
        );
        assert!(!out.contains(":: wxpay"), "{out}");
        assert!(
            out.contains("impl crate :: alias :: inner :: __private :: Endpoint for S"),
            "{out}"
        );
        assert!(
            out.contains("crate :: alias :: inner :: __private :: JsonObject :: new ()"),
            "{out}"
        );
    }

    #[test]
    fn the_default_runtime_path_is_absolute() {
        let out = expand(r#"GET "/v3/x""#, "struct S { a: u8 }");
        assert!(
            out.contains("impl :: wxpay :: __private :: Endpoint for S"),
            "{out}"
        );
        assert!(
            out.contains(":: wxpay :: __private :: decode_empty (__body)"),
            "{out}"
        );
        // No body on GET: no JSON object at all.
        assert!(!out.contains("JsonObject"), "{out}");
    }

    #[test]
    fn on_error_the_struct_is_emitted_with_a_stub_impl() {
        let out = expand(
            r#"FETCH "/v3/<missing>" -> R"#,
            r#"#[serde(rename_all = "camelCase")] pub struct S { #[wxpay(query)] #[serde(rename = "b")] pub a: u8 }"#,
        );
        assert!(
            out.starts_with("# [non_exhaustive] pub struct S { pub a : u8 }"),
            "{out}"
        );
        // One stand-in impl, so `client.send(S ..)` adds no error of its own; nothing else.
        assert_eq!(out.matches("impl").count(), 1, "{out}");
        assert!(out.contains("Endpoint for S"), "{out}");
        assert!(out.contains("type Response = R ;"), "{out}");
        assert!(!out.contains("fn new"), "{out}");
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
    }

    #[test]
    fn options_keep_struct_literals_and_leave_out_the_constructor() {
        let out = expand(
            r#"GET "/v3/x", exhaustive, no_constructor"#,
            "pub struct S { a: u8 }",
        );
        assert!(!out.contains("non_exhaustive"), "{out}");
        assert!(!out.contains("fn new"), "{out}");
        let out = expand(
            r#"GET "/v3/x""#,
            "pub struct S { a: String, b: Option<String>, c: Option<u8> }",
        );
        // The required fields are named in a struct of their own; options have setters.
        assert!(
            out.contains("pub struct SRequired { pub a : String , }"),
            "{out}"
        );
        assert!(
            out.contains(
                "pub fn new (required : SRequired) -> Self { let SRequired { a } = required ;"
            ),
            "{out}"
        );
        assert!(out.contains("pub fn b (mut self , b : impl :: core :: convert :: Into < :: std :: string :: String >) -> Self"), "{out}");
        assert!(
            out.contains("pub fn c (mut self , c : u8) -> Self"),
            "{out}"
        );
    }

    #[test]
    fn serde_attributes_stay_when_a_serde_derive_owns_them() {
        let out = expand(
            r#"POST "/v3/x""#,
            r#"#[derive(Debug, serde::Serialize)] #[serde(rename_all = "camelCase")] pub struct S { #[wxpay(query)] #[serde(rename = "b")] pub a: u8 }"#,
        );
        assert!(
            out.starts_with(
                "# [derive (Debug , serde :: Serialize)] # [serde (rename_all = \"camelCase\")] \
                 # [non_exhaustive] pub struct S { # [serde (rename = \"b\")] pub a : u8 }"
            ),
            "{out}"
        );
    }

    #[test]
    fn body_members_follow_the_serde_attributes() {
        let out = expand(
            r#"POST "/v3/x""#,
            r#"#[serde(rename_all = "camelCase")] struct S {
                #[serde(skip_serializing_if = "is_zero")] out_no: u64,
                #[serde(serialize_with = "yuan")] b: u64,
                #[serde(with = "m")] c: Option<u64>,
                #[serde(flatten)] d: Scene,
                #[serde(rename = "E")] e: u8,
                #[serde(skip)] f: u8,
                #[wxpay(encrypt)] #[serde(skip_serializing_if = "String::is_empty")] g: String,
                h: Option<u8>,
            }"#,
        );
        let members = [
            r#"{ let __value = & self . out_no ; if ! is_zero (__value) { __json . field ("outNo" , __value) ; } }"#,
            r#"__json . field_with ("b" , | __serializer | yuan (__value , __serializer)) ;"#,
            r#"if :: core :: option :: Option :: is_some (__value) { __json . field_with ("c" , | __serializer | m :: serialize (__value , __serializer)) ; }"#,
            r#"{ let __value = & self . d ; __json . flatten (__value) ; }"#,
            // The common member is one call.
            r#"__json . field ("E" , & self . e) ;"#,
            r#"__json . optional ("h" , & self . h) ;"#,
            // The ciphertext is owned: the user's function sees it as the platform will.
            "let __owned = { let mut __value = < String as :: wxpay :: __private :: EncryptedCopy > :: \
             encrypted_copy (& self . g) ; \
             < String as :: wxpay :: __private :: Sensitive > :: encrypt_fields (& mut __value , \
             __request , :: wxpay :: __private :: FieldPath :: new (\"g\")) ? ; __value } ; \
             let __value = & __owned ; if ! String :: is_empty (__value) { __json . field (\"g\" , __value) ; }",
        ];
        for member in members {
            assert!(out.contains(member), "{member}\n\n{out}");
        }
        assert!(!out.contains(r#"__json . field ("f""#), "{out}");
        assert!(
            out.contains(
                "__json . optional (\"h\" , & self . h) ; __request . json_object (__json) }"
            ),
            "{out}"
        );
    }

    #[test]
    fn serde_items_the_body_cannot_follow_are_errors() {
        let out = expand(
            r#"POST "/v3/x""#,
            r#"#[serde(tag = "t", rename_all = "Title Case")] struct S { #[serde(sorted)] a: u8 }"#,
        );
        assert!(
            out.contains("`#[serde(tag)]` cannot shape an endpoint's body"),
            "{out}"
        );
        assert!(
            out.contains(r#"unknown `rename_all` rule \"Title Case\""#),
            "{out}"
        );
        assert!(
            out.contains("unknown serde field attribute `sorted`"),
            "{out}"
        );
    }

    #[test]
    fn an_apiv2_endpoint_writes_flat_elements_under_its_rules() {
        let out = expand(
            r#"v2 POST "/secapi/pay/refund" -> R, cert, sign_type = either, idempotent"#,
            r#"struct S {
                out_refund_no: String,
                #[serde(rename = "op_user_id")] user: Option<String>,
                #[wxpay(json)] detail: Detail,
                #[serde(skip)] local: u8,
            }"#,
        );
        let expected = [
            "const PROTOCOL : :: wxpay :: __private :: Protocol = :: wxpay :: __private :: \
             Protocol :: ApiV2 (:: wxpay :: __private :: ApiV2 :: new () . with_sign_types (:: \
             wxpay :: __private :: SignTypes :: Either) . with_client_certificate (true)) ;",
            "const IDEMPOTENT : bool = true ;",
            "const PATH_TEMPLATE : & 'static str = \"/secapi/pay/refund\" ;",
            "__request . path_literal (\"/secapi/pay/refund\") ; \
             __request . xml_field (\"out_refund_no\" , & self . out_refund_no) ? ; \
             __request . xml_field (\"op_user_id\" , & self . user) ? ; \
             __request . xml_json_field (\"detail\" , & self . detail) ? ; \
             :: core :: result :: Result :: Ok (())",
            ":: wxpay :: __private :: decode_xml (__body)",
        ];
        for expected in expected {
            assert!(out.contains(expected), "{expected}\n\n{out}");
        }
        assert!(!out.contains("(\"local\""), "{out}");
        // A POST's query parameter goes in the URL, an upload's file beside its elements.
        let out = expand(
            r#"v2 POST "/secapi/mch/uploadmedia" -> R, cert, sign_type = either, no_nonce"#,
            r#"struct S {
                mch_id: String,
                #[wxpay(query)] action: String,
                #[wxpay(file(md5 = "media_hash", max_bytes = 2097152))] media: UploadFile,
            }"#,
        );
        let expected = "__request . xml_field (\"mch_id\" , & self . mch_id) ? ; \
             __request . query (\"action\" , & self . action) ? ; \
             { let __file : & :: wxpay :: __private :: UploadFile = & self . media ; \
             __request . xml_file (\"media\" , __file , :: core :: option :: Option :: Some \
             (\"media_hash\") , :: core :: option :: Option :: Some (2097152usize)) ? ; }";
        assert!(out.contains(expected), "{expected}\n\n{out}");
        let out = expand(
            r#"v2 GET "/appauth/authindex", unsigned_request, no_nonce, host = payapp_mch"#,
            "struct S { mch_id: String }",
        );
        assert!(
            out.contains("ApiV2 :: new () . with_nonce (false) . with_signed_request (false)) ;"),
            "{out}"
        );
        assert!(
            out.contains("const HOST : :: wxpay :: __private :: Host = :: wxpay :: __private :: Host :: PayappMch ;"),
            "{out}"
        );
        // The usual rules are the runtime's defaults: nothing is said for them.
        let out = expand(
            r#"v2 POST "/pay/closeorder" -> R"#,
            "struct S { a: String }",
        );
        assert!(
            out.contains("Protocol :: ApiV2 (:: wxpay :: __private :: ApiV2 :: new ()) ;"),
            "{out}"
        );
        assert!(!out.contains("IDEMPOTENT"), "{out}");
    }

    #[test]
    fn rename_all_follows_serde_for_field_names() {
        use crate::validate::tests_support::rename;
        let cases = [
            ("lowercase", "out_trade_no"),
            ("UPPERCASE", "OUT_TRADE_NO"),
            ("PascalCase", "OutTradeNo"),
            ("camelCase", "outTradeNo"),
            ("snake_case", "out_trade_no"),
            ("SCREAMING_SNAKE_CASE", "OUT_TRADE_NO"),
            ("kebab-case", "out-trade-no"),
            ("SCREAMING-KEBAB-CASE", "OUT-TRADE-NO"),
        ];
        for (rule, expected) in cases {
            assert_eq!(
                rename(rule, "out_trade_no").as_deref(),
                Some(expected),
                "{rule}"
            );
        }
        assert_eq!(rename("Title Case", "a"), None);
    }
}
