//! `new(required fields…)` and a chainable setter per `Option` field: the one expansion
//! behind both `#[endpoint]` and `#[derive(wxpay::Constructor)]`, so endpoints and the
//! `#[non_exhaustive]` types they carry are built the same way.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Ident, Type};

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

/// `impl Ident { pub fn new(..) -> Self; pub fn optional(mut self, ..) -> Self; .. }`.
pub(crate) fn expand(ident: &Ident, fields: &[Field]) -> TokenStream {
    let mut parameters = Vec::new();
    let mut values = Vec::new();
    let mut setters = Vec::new();
    for field in fields {
        let member = field.ident;
        match option_inner(field.ty) {
            Some(inner) => {
                values.push(quote!(#member: ::core::option::Option::None));
                let (ty, value) = into_string(inner, member);
                let docs = &field.docs;
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
                let (ty, value) = into_string(field.ty, member);
                parameters.push(quote!(#member: #ty));
                values.push(quote!(#member: #value));
            }
        }
    }
    let doc = format!(
        "A `{ident}` with its required fields; each optional field has a setter of its name."
    );
    quote! {
        #[automatically_derived]
        impl #ident {
            #[doc = #doc]
            #[allow(clippy::too_many_arguments, clippy::new_without_default)]
            #[inline]
            #[must_use]
            pub fn new(#(#parameters),*) -> Self {
                #ident { #(#values),* }
            }
            #(#setters)*
        }
    }
}

/// A `String` parameter takes `impl Into<String>`; other types are taken as they are (a
/// number literal would not infer through `impl Into<u64>`).
fn into_string(ty: &Type, member: &Ident) -> (TokenStream, TokenStream) {
    if is_named(ty, "String") {
        (
            quote!(impl ::core::convert::Into<::std::string::String>),
            quote!(::core::convert::Into::into(#member)),
        )
    } else {
        (quote!(#ty), quote!(#member))
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
            expand(&item.ident, &fields)
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
