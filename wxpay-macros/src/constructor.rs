//! `new(Required { every required field named })` and a chainable setter per `Option` field:
//! the one expansion behind both `#[endpoint]` and `#[derive(wxpay::Constructor)]`, so
//! endpoints and the `#[non_exhaustive]` types they carry are built the same way.
//!
//! The required fields are a struct of their own, built with a struct literal: every value
//! is named at the call site, in any order, and leaving one out is rustc's own error naming
//! the field (`missing field `stock_id` in initializer of `PauseStockRequired``). Of the
//! mechanisms measured (BENCHMARKS.md) it costs the compiler least: one plain struct and one
//! non-generic function, where a typestate builder adds a generic type and impl per field.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Attribute, Ident, Type, Visibility};

use crate::validate::{is_named, option_inner};

/// One field as the constructor sees it.
pub(crate) struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub docs: Vec<&'a Attribute>,
}

impl<'a> Field<'a> {
    pub(crate) fn of(field: &'a syn::Field) -> Option<Self> {
        Some(Field {
            ident: field.ident.as_ref()?,
            ty: &field.ty,
            docs: field
                .attrs
                .iter()
                .filter(|attr| attr.path().is_ident("doc"))
                .collect(),
        })
    }
}

/// The struct `{Ident}Required` (when any field is required), then
/// `impl Ident { pub fn new(..) -> Self; pub fn optional(mut self, ..) -> Self; .. }`.
pub(crate) fn expand(vis: &Visibility, ident: &Ident, fields: &[Field]) -> TokenStream {
    let required_ident = format_ident!("{}Required", ident);
    let mut required = Vec::new();
    let mut members = Vec::new();
    let mut values = Vec::new();
    let mut setters = Vec::new();
    for field in fields {
        let member = field.ident;
        let docs = &field.docs;
        match option_inner(field.ty) {
            Some(inner) => {
                values.push(quote!(#member: ::core::option::Option::None));
                // A `String` setter takes `impl Into<String>`; a number literal would not
                // infer through `impl Into<u64>`, so other types are taken as they are.
                let (ty, value) = if is_named(inner, "String") {
                    (
                        quote!(impl ::core::convert::Into<::std::string::String>),
                        quote!(::core::convert::Into::into(#member)),
                    )
                } else {
                    (quote!(#inner), quote!(#member))
                };
                setters.push(quote! {
                    #(#docs)*
                    #[inline]
                    #[must_use]
                    pub fn #member(mut self, #member: #ty) -> Self {
                        self.#member = ::core::option::Option::Some(#value);
                        self
                    }
                });
            }
            None => {
                let ty = field.ty;
                required.push(quote!(#(#docs)* pub #member: #ty,));
                members.push(member);
                values.push(quote!(#member));
            }
        }
    }
    let (parameter, unpack, required_struct) = if required.is_empty() {
        (TokenStream::new(), TokenStream::new(), TokenStream::new())
    } else {
        let doc = format!(
            "The required fields of [`{ident}`], each named where the request is built: \
             `{ident}::new({required_ident} {{ .. }})`. Leaving one out is a compile error \
             naming it."
        );
        (
            quote!(required: #required_ident),
            quote!(let #required_ident { #(#members),* } = required;),
            quote! {
                #[doc = #doc]
                #vis struct #required_ident {
                    #(#required)*
                }
            },
        )
    };
    let doc = if required.is_empty() {
        format!("A `{ident}`; each optional field has a setter of its name.")
    } else {
        format!(
            "A `{ident}` from its required fields; each optional field has a setter of its name."
        )
    };
    quote! {
        #required_struct

        #[automatically_derived]
        impl #ident {
            #[doc = #doc]
            #[allow(clippy::new_without_default)]
            #[inline]
            #[must_use]
            pub fn new(#parameter) -> Self {
                #unpack
                #ident { #(#values),* }
            }
            #(#setters)*
        }
    }
}

/// `#[derive(wxpay::Constructor)]` on a struct with named fields.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let item: syn::DeriveInput = match syn::parse2(input) {
        Ok(item) => item,
        Err(error) => return error.into_compile_error(),
    };
    match named_fields(&item, "Constructor") {
        Ok(fields) => {
            let fields: Vec<_> = fields.iter().filter_map(Field::of).collect();
            expand(&item.vis, &item.ident, &fields)
        }
        Err(error) => error.into_compile_error(),
    }
}

/// The named fields of a non-generic struct, or the error saying why a derive cannot apply.
pub(crate) fn named_fields<'a>(
    item: &'a syn::DeriveInput,
    derive: &str,
) -> syn::Result<&'a syn::punctuated::Punctuated<syn::Field, syn::Token![,]>> {
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &item.generics,
            format!("`#[derive({derive})]` takes a struct without generic parameters"),
        ));
    }
    match &item.data {
        syn::Data::Struct(syn::DataStruct {
            fields: syn::Fields::Named(fields),
            ..
        }) => Ok(&fields.named),
        _ => Err(syn::Error::new(
            item.ident.span(),
            format!("`#[derive({derive})]` takes a struct with named fields"),
        )),
    }
}
