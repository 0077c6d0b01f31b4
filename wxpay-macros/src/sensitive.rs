//! `#[derive(wxpay::Sensitive)]`: encrypts the `#[wxpay(encrypt)]` fields of a nested type in
//! requests, decrypts them in answers, and writes a `Debug` that redacts them and the
//! `#[wxpay(redact)]` ones (personal data the platform sends in plain text).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{LitStr, Meta};

use crate::ast::{self, SerdeItem};
use crate::constructor::named_fields;
use crate::validate::Errors;

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let item: syn::DeriveInput = match syn::parse2(input) {
        Ok(item) => item,
        Err(error) => return error.into_compile_error(),
    };
    let fields = match named_fields(&item, "Sensitive") {
        Ok(fields) => fields,
        Err(error) => return error.into_compile_error(),
    };
    let mut errors = Errors::default();
    let private = quote!(::wxpay::__private);
    let ident = &item.ident;
    let mut encrypt = Vec::new();
    let mut decrypt = Vec::new();
    let mut debug = Vec::new();
    for field in fields {
        let Some(member) = field.ident.as_ref() else {
            continue;
        };
        let name = LitStr::new(
            &syn::ext::IdentExt::unraw(member).to_string(),
            member.span(),
        );
        let ty = &field.ty;
        // Every use names the trait on the field's type at the type's span, so a type that is
        // not sensitive is one error there (rustc folds the identical reports into one).
        let sensitive = quote_spanned!(ty.span()=> <#ty as #private::Sensitive>);
        let mark = mark(&field.attrs, &mut errors);
        debug.push(match mark {
            Mark::Shown => quote!(.field(#name, &self.#member)),
            Mark::Encrypt | Mark::Redact => quote! {
                .field(#name, &#private::RedactedWith(&self.#member, #sensitive::fmt_redacted))
            },
        });
        if !matches!(mark, Mark::Encrypt) {
            continue;
        }
        // The path names the field as the JSON does.
        let json = SerdeItem::rename(&ast::serde_items(&field.attrs, &mut errors)).map_or_else(
            || LitStr::new(&name.value(), member.span()),
            |rename| LitStr::new(&rename, member.span()),
        );
        encrypt.push(quote! {
            #sensitive::encrypt_fields(&mut self.#member, __request, __path.field(#json))?;
        });
        decrypt.push(quote! {
            #sensitive::decrypt_fields(&mut self.#member, __key, __path.field(#json))?;
        });
    }
    let shown = ident.to_string();
    let errors = errors.into_compile_error();
    quote! {
        #[automatically_derived]
        #[diagnostic::do_not_recommend]
        impl #private::Sensitive for #ident {
            #[inline]
            fn encrypt_fields(
                &mut self,
                __request: &mut #private::RequestWriter<'_>,
                __path: #private::FieldPath<'_>,
            ) -> ::core::result::Result<(), #private::RequestError> {
                let _ = (&__request, &__path);
                #(#encrypt)*
                ::core::result::Result::Ok(())
            }

            #[inline]
            fn decrypt_fields(
                &mut self,
                __key: &#private::MerchantKey,
                __path: #private::FieldPath<'_>,
            ) -> ::core::result::Result<(), #private::DecryptError> {
                let _ = (&__key, &__path);
                #(#decrypt)*
                ::core::result::Result::Ok(())
            }

            #[inline]
            fn fmt_redacted(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Debug::fmt(self, __f)
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Debug for #ident {
            #[inline]
            fn fmt(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                __f.debug_struct(#shown) #(#debug)* .finish()
            }
        }

        #errors
    }
}

/// What a field's `#[wxpay(…)]` says.
enum Mark {
    Shown,
    /// Encrypted in requests, decrypted in answers, redacted in `Debug`.
    Encrypt,
    /// Redacted in `Debug` only: personal data that travels in plain text.
    Redact,
}

/// The field's mark; any other key, or both, is reported.
fn mark(attrs: &[syn::Attribute], errors: &mut Errors) -> Mark {
    let mut mark = Mark::Shown;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("wxpay")) {
        if let Meta::Path(path) = &attr.meta {
            errors.push(syn::Error::new(
                path.span(),
                "write `#[wxpay(encrypt)]` or `#[wxpay(redact)]`",
            ));
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let this = if meta.path.is_ident("encrypt") {
                Mark::Encrypt
            } else if meta.path.is_ident("redact") {
                Mark::Redact
            } else {
                return Err(meta.error(
                    "`#[derive(Sensitive)]` knows two field attributes, `#[wxpay(encrypt)]` and \
                     `#[wxpay(redact)]`; query, header and body places belong to `#[endpoint]` \
                     fields",
                ));
            };
            if !matches!(mark, Mark::Shown) {
                return Err(meta.error(
                    "one of `encrypt` and `redact`: an encrypted field is redacted already",
                ));
            }
            mark = this;
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    mark
}
