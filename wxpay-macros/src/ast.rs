//! The struct under `#[endpoint]`: its fields, the role each field asks for with
//! `#[wxpay(...)]`, and the `#[serde(...)]` items that matter to the generated body.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt as _;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, LitStr, Meta, Token, Type};

use crate::validate::Errors;

/// A struct with named fields, read from the item.
pub(crate) struct Endpoint<'a> {
    pub ident: &'a Ident,
    pub fields: Vec<Field<'a>>,
    /// Items of the container's `#[serde(...)]`, for the generated body.
    pub serde: Vec<SerdeItem>,
}

/// One field and what its attributes ask for.
pub(crate) struct Field<'a> {
    pub ident: &'a Ident,
    /// The name without `r#`, as placeholders and query names spell it.
    pub name: String,
    pub ty: &'a Type,
    /// The role given with `#[wxpay(...)]`, if any.
    pub role: Option<ExplicitRole>,
    /// The span of `encrypt` in `#[wxpay(encrypt)]`.
    pub encrypt: Option<Span>,
    /// The span of `redact` in `#[wxpay(redact)]`: personal data sent in plain text, printed
    /// `<redacted>` by `Debug`.
    pub redact: Option<Span>,
    /// Items of the field's `#[serde(...)]` attributes.
    pub serde: Vec<SerdeItem>,
}

impl Field<'_> {
    /// Personal data: encrypted on the wire or marked `redact`, and never printed by `Debug`.
    pub(crate) fn is_personal(&self) -> bool {
        self.encrypt.is_some() || self.redact.is_some()
    }
}

/// A role a field was given explicitly.
pub(crate) struct ExplicitRole {
    pub kind: RoleKind,
    /// The key (`query`, `header`, `body`) in the attribute.
    pub span: Span,
}

pub(crate) enum RoleKind {
    Query,
    Body,
    /// `header = "Name"` and the span of the literal.
    Header(String, Span),
    /// `file` or `file(name = "...", sha256 = "...", max_bytes = N)`: the uploaded file.
    File(FileKeys),
    /// `part`: a text part of a multipart upload.
    Part,
    /// `json`: an APIv2 element the platform takes as JSON text (the spec's `x-json`).
    Json,
}

/// What the runtime writes into an upload's `meta` about the file (APIv3), or into an element
/// beside it (APIv2's `md5`).
#[derive(Clone)]
pub(crate) struct FileKeys {
    pub filename: Option<String>,
    pub sha256: Option<String>,
    pub max_bytes: Option<usize>,
    /// `md5 = "media_hash"`: the APIv2 element that carries the file's MD5.
    pub md5: Option<String>,
    /// The span of the first `name` or `sha256` key written out (`meta` keys, APIv3 only).
    pub meta_key: Option<Span>,
    /// The span of `md5` (APIv2 only).
    pub md5_key: Option<Span>,
}

// The keys' values, not where they were written.
impl PartialEq for FileKeys {
    fn eq(&self, other: &Self) -> bool {
        (&self.filename, &self.sha256, self.max_bytes, &self.md5)
            == (&other.filename, &other.sha256, other.max_bytes, &other.md5)
    }
}

impl Eq for FileKeys {}

impl FileKeys {
    /// Bare `#[wxpay(file)]`: the keys most upload APIs use (an APIv2 upload has no `meta`
    /// and ignores them).
    fn usual() -> Self {
        FileKeys {
            filename: Some("filename".into()),
            sha256: Some("sha256".into()),
            ..FileKeys::none()
        }
    }

    /// `#[wxpay(file())]`: nothing filled in yet.
    fn none() -> Self {
        FileKeys {
            filename: None,
            sha256: None,
            max_bytes: None,
            md5: None,
            meta_key: None,
            md5_key: None,
        }
    }
}

impl RoleKind {
    pub(crate) fn key(&self) -> &'static str {
        match self {
            RoleKind::Query => "query",
            RoleKind::Body => "body",
            RoleKind::Header(..) => "header",
            RoleKind::File(_) => "file",
            RoleKind::Part => "part",
            RoleKind::Json => "json",
        }
    }
}

/// One item of `#[serde(...)]`: `rename = "x"`, `flatten`, `rename(serialize = "x")`...
pub(crate) struct SerdeItem {
    pub key: String,
    pub span: Span,
    /// The string of `key = "..."`.
    pub value: Option<LitStr>,
    /// The items of `key(...)`.
    pub nested: Vec<SerdeItem>,
}

impl SerdeItem {
    /// The `rename` a field has for serialization, if any.
    pub(crate) fn rename(items: &[SerdeItem]) -> Option<String> {
        items
            .iter()
            .filter(|item| item.key == "rename")
            .find_map(|item| match &item.value {
                Some(value) => Some(value.value()),
                None => item
                    .nested
                    .iter()
                    .find(|nested| nested.key == "serialize")
                    .and_then(|nested| nested.value.as_ref())
                    .map(LitStr::value),
            })
    }

    pub(crate) fn find<'i>(items: &'i [SerdeItem], key: &str) -> Option<&'i SerdeItem> {
        items.iter().find(|item| item.key == key)
    }
}

impl<'a> Endpoint<'a> {
    /// Reads the struct. Shapes that cannot be an endpoint (tuple and unit structs, enums,
    /// unions) are reported and give `None`; other mistakes are reported and reading goes on.
    pub(crate) fn from_input(input: &'a DeriveInput, errors: &mut Errors) -> Option<Self> {
        let ident = &input.ident;
        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(fields) => Some(fields),
                Fields::Unnamed(fields) => {
                    errors.push(syn::Error::new(
                        fields.paren_token.span.join(),
                        format!(
                            "`#[endpoint]` needs named fields, but `{ident}` is a tuple struct; \
                             name the fields (`struct {ident} {{ stock_id: String, ... }}`) so \
                             they can fill the path, query and body"
                        ),
                    ));
                    None
                }
                Fields::Unit => {
                    errors.push(syn::Error::new(
                        ident.span(),
                        format!(
                            "`#[endpoint]` needs a struct with named fields, but `{ident}` is a \
                             unit struct; write `struct {ident} {{}}` for an endpoint that takes \
                             no parameters"
                        ),
                    ));
                    None
                }
            },
            Data::Enum(data) => {
                errors.push(syn::Error::new(
                    data.enum_token.span,
                    format!(
                        "`#[endpoint]` goes on a struct with named fields, not on an enum; \
                         declare one struct per endpoint (`{ident}` can be a field's type)"
                    ),
                ));
                None
            }
            Data::Union(data) => {
                errors.push(syn::Error::new(
                    data.union_token.span,
                    "`#[endpoint]` goes on a struct with named fields, not on a union",
                ));
                None
            }
        };

        let generics = &input.generics;
        let generic = if !generics.params.is_empty() {
            Some(quote::ToTokens::to_token_stream(generics))
        } else {
            generics
                .where_clause
                .as_ref()
                .map(quote::ToTokens::to_token_stream)
        };
        if let Some(generic) = generic {
            errors.push(syn::Error::new_spanned(
                generic,
                format!(
                    "`#[endpoint]` structs cannot be generic: `{ident}` is one API operation \
                     with fixed field types; use concrete types (e.g. `String` for `&'a str`)"
                ),
            ));
        }

        for attr in &input.attrs {
            if attr.path().is_ident("wxpay") {
                errors.push(syn::Error::new(
                    attr.path().span(),
                    "`#[wxpay(...)]` goes on fields; endpoint options go in \
                     `#[endpoint(..., crate = \"...\")]`",
                ));
            }
        }
        let serde = serde_items(&input.attrs, errors);

        let fields = fields?
            .named
            .iter()
            .filter_map(|field| {
                let ident = field.ident.as_ref()?;
                let Marks {
                    role,
                    encrypt,
                    redact,
                } = wxpay_attrs(&field.attrs, errors);
                Some(Field {
                    ident,
                    name: ident.unraw().to_string(),
                    ty: &field.ty,
                    role,
                    encrypt,
                    redact,
                    serde: serde_items(&field.attrs, errors),
                })
            })
            .collect();

        Some(Endpoint {
            ident,
            fields,
            serde,
        })
    }
}

/// What a field's `#[wxpay(...)]` attributes say.
struct Marks {
    role: Option<ExplicitRole>,
    encrypt: Option<Span>,
    redact: Option<Span>,
}

/// Reads the `#[wxpay(...)]` attributes of a field.
fn wxpay_attrs(attrs: &[Attribute], errors: &mut Errors) -> Marks {
    let mut role: Option<ExplicitRole> = None;
    let mut encrypt: Option<Span> = None;
    let mut redact: Option<Span> = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("wxpay")) {
        if let Meta::Path(path) = &attr.meta {
            errors.push(syn::Error::new(
                path.span(),
                "`#[wxpay]` needs a key: `#[wxpay(query)]`, `#[wxpay(header = \"Name\")]`, \
                 `#[wxpay(body)]`, `#[wxpay(file)]`, `#[wxpay(part)]`, `#[wxpay(encrypt)]`, \
                 `#[wxpay(redact)]` or, for APIv2, `#[wxpay(json)]`",
            ));
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(Ident::to_string);
            let span = meta.path.span();
            let kind = match key.as_deref() {
                Some(key @ ("encrypt" | "redact")) => {
                    let (this, other) = if key == "encrypt" {
                        (&mut encrypt, redact)
                    } else {
                        (&mut redact, encrypt)
                    };
                    if this.is_some() {
                        errors.push(syn::Error::new(span, format!("`{key}` is given twice")));
                    } else if other.is_some() {
                        errors.push(syn::Error::new(
                            span,
                            "one of `encrypt` and `redact`: an encrypted field is redacted already",
                        ));
                    }
                    *this = Some(span);
                    return Ok(());
                }
                Some("query") => RoleKind::Query,
                Some("body") => RoleKind::Body,
                Some("part") => RoleKind::Part,
                Some("json") => RoleKind::Json,
                Some("file") if meta.input.peek(syn::token::Paren) => {
                    let mut keys = FileKeys::none();
                    // `syn::meta::parser` also takes `file()`: no keys filled in.
                    let group: proc_macro2::Group = meta.input.parse()?;
                    let parser = syn::meta::parser(|inner| file_key(&inner, &mut keys, errors));
                    syn::parse::Parser::parse2(parser, group.stream())?;
                    RoleKind::File(keys)
                }
                Some("file") => RoleKind::File(FileKeys::usual()),
                Some("header") => {
                    let lit: LitStr = meta.value()?.parse().map_err(|_| {
                        syn::Error::new(
                            span,
                            "write the header's name: `#[wxpay(header = \"Idempotency-Key\")]`",
                        )
                    })?;
                    RoleKind::Header(lit.value(), lit.span())
                }
                _ => {
                    let path = &meta.path;
                    let shown = quote::quote!(#path).to_string().replace(' ', "");
                    errors.push(syn::Error::new(
                        span,
                        format!(
                            "unknown `wxpay` key `{shown}`; expected `query`, `header = \
                             \"Name\"`, `body`, `file`, `part`, `encrypt`, `redact` or `json`"
                        ),
                    ));
                    // Skip the value so the keys after it are still read.
                    while !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                        meta.input.parse::<TokenTree>()?;
                    }
                    return Ok(());
                }
            };
            match &role {
                Some(first) => {
                    let (a, b) = (first.kind.key(), kind.key());
                    let message = if a == b {
                        format!("`{b}` is given twice; keep one")
                    } else {
                        format!(
                            "a field has one role, but this one is marked both `{a}` and `{b}`; \
                             keep one (a field is sent in exactly one place)"
                        )
                    };
                    errors.push(syn::Error::new(span, message));
                }
                None => role = Some(ExplicitRole { kind, span }),
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    Marks {
        role,
        encrypt,
        redact,
    }
}

/// Reads one key of `file(name = "...", sha256 = "...", max_bytes = N)`.
fn file_key(
    meta: &syn::meta::ParseNestedMeta,
    keys: &mut FileKeys,
    errors: &mut Errors,
) -> syn::Result<()> {
    let key = meta.path.get_ident().map(Ident::to_string);
    let span = meta.path.span();
    let given = match key.as_deref() {
        Some("name") => keys.filename.is_some(),
        Some("sha256") => keys.sha256.is_some(),
        Some("max_bytes") => keys.max_bytes.is_some(),
        Some("md5") => keys.md5.is_some(),
        _ => {
            errors.push(syn::Error::new(
                span,
                "unknown `file` key; expected `name = \"filename\"`, `sha256 = \"sha256\"` \
                 (the `meta` keys the runtime fills from the file), `max_bytes = 5242880` or, \
                 for APIv2, `md5 = \"media_hash\"`",
            ));
            while !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                meta.input.parse::<TokenTree>()?;
            }
            return Ok(());
        }
    };
    if given {
        errors.push(syn::Error::new(span, "given twice; keep one"));
    }
    if key.as_deref() == Some("max_bytes") {
        let lit: syn::LitInt = meta.value()?.parse()?;
        keys.max_bytes = Some(lit.base10_parse()?);
    } else {
        let lit: LitStr = meta.value()?.parse()?;
        let value = Some(lit.value());
        match key.as_deref() {
            Some("md5") => {
                keys.md5 = value;
                keys.md5_key = Some(span);
            }
            name => {
                keys.meta_key.get_or_insert(span);
                if name == Some("name") {
                    keys.filename = value;
                } else {
                    keys.sha256 = value;
                }
            }
        }
    }
    Ok(())
}

/// Reads the items of every `#[serde(...)]` attribute in `attrs`.
pub(crate) fn serde_items(attrs: &[Attribute], errors: &mut Errors) -> Vec<SerdeItem> {
    let mut items = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("serde")) {
        match &attr.meta {
            Meta::List(list) => items.extend(split_items(list.tokens.clone())),
            _ => errors.push(syn::Error::new(
                attr.path().span(),
                "expected `#[serde(...)]`",
            )),
        }
    }
    items
}

/// Splits `a = "x", b, c(d = "y")` into its items.
fn split_items(tokens: TokenStream) -> Vec<SerdeItem> {
    let mut items = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    for tree in tokens.into_iter().chain(std::iter::once(comma())) {
        if matches!(&tree, TokenTree::Punct(p) if p.as_char() == ',') {
            if let Some(item) = item(std::mem::take(&mut current)) {
                items.push(item);
            }
        } else {
            current.push(tree);
        }
    }
    items
}

fn comma() -> TokenTree {
    TokenTree::Punct(proc_macro2::Punct::new(',', proc_macro2::Spacing::Alone))
}

fn item(trees: Vec<TokenTree>) -> Option<SerdeItem> {
    let TokenTree::Ident(key) = trees.first()? else {
        return None;
    };
    let value = match (trees.get(1), trees.get(2), trees.len()) {
        (Some(TokenTree::Punct(eq)), Some(TokenTree::Literal(lit)), 3) if eq.as_char() == '=' => {
            syn::parse2::<LitStr>(TokenTree::Literal(lit.clone()).into()).ok()
        }
        _ => None,
    };
    let nested = match (trees.get(1), trees.len()) {
        (Some(TokenTree::Group(group)), 2) if group.delimiter() == Delimiter::Parenthesis => {
            split_items(group.stream())
        }
        _ => Vec::new(),
    };
    Some(SerdeItem {
        key: key.to_string(),
        span: key.span(),
        value,
        nested,
    })
}

/// Whether a `#[derive(...)]` on the item names `Serialize` or `Deserialize`, so that the
/// `#[serde]` helper attribute is known to rustc and must be kept.
pub(crate) fn derives_serde(input: &DeriveInput) -> bool {
    derived(input, &["Serialize", "Deserialize"]).is_some()
}

/// The span of the first derive on the item whose last path segment is one of `names`.
pub(crate) fn derived(input: &DeriveInput, names: &[&str]) -> Option<Span> {
    input
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
        .filter_map(|attr| {
            attr.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .find(|path| {
            path.segments
                .last()
                .is_some_and(|s| names.iter().any(|name| s.ident == name))
        })
        .map(|path| path.span())
}

/// Removes what rustc would not know: `#[wxpay(...)]` everywhere, and `#[serde(...)]` when
/// no derive of serde's is there to own it.
pub(crate) fn strip(input: &mut DeriveInput, keep_serde: bool) {
    let unknown = |attr: &Attribute| {
        attr.path().is_ident("wxpay") || (!keep_serde && attr.path().is_ident("serde"))
    };
    let strip_fields = |fields: &mut Fields| {
        for field in fields.iter_mut() {
            field.attrs.retain(|attr| !unknown(attr));
        }
    };
    input.attrs.retain(|attr| !unknown(attr));
    match &mut input.data {
        Data::Struct(data) => strip_fields(&mut data.fields),
        Data::Enum(data) => {
            for variant in data.variants.iter_mut() {
                variant.attrs.retain(|attr| !unknown(attr));
                strip_fields(&mut variant.fields);
            }
        }
        Data::Union(data) => {
            for field in data.fields.named.iter_mut() {
                field.attrs.retain(|attr| !unknown(attr));
            }
        }
    }
}
