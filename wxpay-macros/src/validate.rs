//! Checks the endpoint as a whole (template against fields, roles against the method, field
//! types against `encrypt`) and decides where each field goes.

use std::ops::Range;

use proc_macro2::{Span, TokenStream};
use syn::{GenericArgument, LitStr, PathArguments, Type};

use crate::ast::{Endpoint, Field, FileKeys, RoleKind, SerdeItem};
use crate::attr::{Args, Method};
use crate::template::{self, Piece};

/// Errors collected while reading and checking, combined into one at the end.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub(crate) fn into_compile_error(self) -> TokenStream {
        self.0
            .map(syn::Error::into_compile_error)
            .unwrap_or_default()
    }
}

/// Where a field goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place<'a> {
    Path,
    Query,
    Header(&'a str),
    /// The JSON body, or the `meta` JSON of an upload.
    Body,
    /// The uploaded file, and what the runtime writes about it into `meta`.
    File(&'a FileKeys),
    /// A text part of an upload.
    Part,
    /// An element of an APIv2 `<xml>` body.
    Xml,
    /// An element of an APIv2 `<xml>` body that holds JSON text (`#[wxpay(json)]`).
    XmlJson,
}

/// What an encrypted field holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// A query parameter's `String`.
    String,
    /// A query parameter's `Option<String>`.
    OptionString,
    /// A body field of any `Sensitive` type (checked by the trait, at the field's type).
    Value,
}

/// A checked endpoint: the template's pieces and the place of each field (in field order).
pub(crate) struct Plan<'a> {
    /// `None` when it was misspelt (already reported): the places are then still known.
    pub method: Option<Method>,
    pub pieces: Vec<Piece>,
    pub places: Vec<Place<'a>>,
    /// For each field: encrypted, and as which kind of text.
    pub encrypted: Vec<Option<Text>>,
    /// For each field: its member name in the JSON body.
    pub members: Vec<String>,
}

/// Serde items that only mean something in the JSON body.
const BODY_ONLY_SERDE: [&str; 4] = ["flatten", "serialize_with", "with", "skip_serializing_if"];

/// Checks everything; returns the plan when the arguments could be read (the caller emits it
/// only if no error was reported at all).
pub(crate) fn check<'a>(
    args: Option<&Args>,
    endpoint: &'a Endpoint<'a>,
    errors: &mut Errors,
) -> Option<Plan<'a>> {
    if let Some(args) = args.filter(|args| args.apiv2.is_some()) {
        return Some(check_apiv2(args, endpoint, errors));
    }
    let method = args.and_then(|args| args.method);
    let pieces = match args {
        Some(args) => check_template(&args.template, endpoint, errors),
        None => Vec::new(),
    };
    let in_path = |field: &Field| {
        pieces
            .iter()
            .any(|piece| matches!(piece, Piece::Placeholder { name, .. } if *name == field.name))
    };

    let mut places = Vec::with_capacity(endpoint.fields.len());
    let mut encrypted = Vec::with_capacity(endpoint.fields.len());
    for field in &endpoint.fields {
        let place = if in_path(field) {
            check_path_field(field, errors);
            Place::Path
        } else {
            check_role(field, method, errors)
        };
        encrypted.push(check_encrypt(field, place, errors));
        places.push(place);
    }
    check_unique_names(endpoint, &places, errors);
    check_upload(endpoint, &places, method, errors);
    let members = body_members(endpoint, errors);

    Some(Plan {
        method,
        pieces,
        places,
        encrypted,
        members,
    })
}

/// The elements of an APIv2 request that the runtime writes: no field may send them.
const APIV2_RUNTIME_FIELDS: [&str; 3] = ["nonce_str", "sign", "sign_type"];

/// Checks an APIv2 endpoint: a path without placeholders, every field an element of the flat
/// `<xml>` body (plain text, or JSON text when marked `#[wxpay(json)]`) or, on a POST, a
/// query parameter beside it (`#[wxpay(query)]`) or the one file of an upload
/// (`#[wxpay(file)]`, whose other fields are then text parts), none of them one the runtime
/// writes, no two with one name.
fn check_apiv2<'a>(args: &Args, endpoint: &'a Endpoint<'a>, errors: &mut Errors) -> Plan<'a> {
    let pieces = check_template(&args.template, endpoint, errors);
    let text = args.template.value();
    for piece in &pieces {
        if let Piece::Placeholder { name, range } = piece {
            errors.push(syn::Error::new(
                template_span(&args.template, &text, range.clone()),
                format!(
                    "an APIv2 path has no placeholders: every field, `{name}` too, is an \
                     element of the `<xml>` body; write the path as documented"
                ),
            ));
        }
    }
    let members = body_members(endpoint, errors);
    let get = args.method == Some(Method::Get);
    let mut places = Vec::with_capacity(endpoint.fields.len());
    let mut file: Option<&str> = None;
    for (field, member) in endpoint.fields.iter().zip(&members) {
        let place = match &field.role {
            None => Place::Xml,
            Some(role) => match &role.kind {
                RoleKind::Json => Place::XmlJson,
                // A POST's query parameter beside its body (`submchmanage`'s `action`); a GET's
                // fields are its query already.
                RoleKind::Query if get => {
                    errors.push(syn::Error::new(
                        role.span,
                        "`#[wxpay(query)]` on an APIv2 GET: every field of a GET is in its query \
                         string already; remove it",
                    ));
                    Place::Xml
                }
                RoleKind::Query => Place::Query,
                RoleKind::File(keys) => {
                    check_apiv2_file(field, role.span, keys, get, file, errors);
                    file.get_or_insert(&field.name);
                    Place::File(keys)
                }
                RoleKind::Part => {
                    errors.push(syn::Error::new(
                        role.span,
                        "`#[wxpay(part)]` has no place in an APIv2 request: beside a \
                         `#[wxpay(file)]` every field is a text part of the upload already (and \
                         signed); remove it",
                    ));
                    Place::Xml
                }
                kind => {
                    errors.push(syn::Error::new(
                        role.span,
                        format!(
                            "`#[wxpay({})]` has no place in an APIv2 request: every field is an \
                             element of its `<xml>` body (or, marked `#[wxpay(query)]` on a POST, \
                             a query parameter beside it); remove it",
                            kind.key()
                        ),
                    ));
                    Place::Xml
                }
            },
        };
        if let Some(span) = field.encrypt {
            errors.push(syn::Error::new(
                span,
                "`#[wxpay(encrypt)]` is APIv3's encryption with the platform certificate; an \
                 APIv2 field that is encrypted (`enc_bank_no`, `enc_true_name`) is sent as the \
                 ciphertext made with the key `getpublickey` answers",
            ));
        }
        if APIV2_RUNTIME_FIELDS.contains(&member.as_str()) {
            errors.push(syn::Error::new(
                field.ident.span(),
                format!(
                    "`{member}` is the runtime's: it adds `nonce_str`, `sign_type` and `sign` to \
                     every APIv2 request it signs; remove the field"
                ),
            ));
        }
        for key in BODY_ONLY_SERDE {
            if let Some(item) = SerdeItem::find(&field.serde, key) {
                errors.push(syn::Error::new(
                    item.span,
                    format!(
                        "`#[serde({key})]` cannot shape an APIv2 element, which is written as \
                         text; declare the field as the `<xml>` sends it"
                    ),
                ));
            }
        }
        places.push(place);
    }
    // The element the runtime fills with the file's MD5 is no field's.
    for place in &places {
        if let Place::File(FileKeys {
            md5: Some(md5),
            md5_key: Some(span),
            ..
        }) = place
            && let Some((field, _)) = endpoint
                .fields
                .iter()
                .zip(&members)
                .find(|(_, member)| *member == md5)
        {
            errors.push(syn::Error::new(
                *span,
                format!(
                    "`md5 = \"{md5}\"` fills the element `{md5}` from the file, but the field \
                     `{}` sends it too; remove the field",
                    field.name
                ),
            ));
        }
    }
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (field, member) in endpoint.fields.iter().zip(&members) {
        match seen.iter().find(|(seen, _)| *seen == member) {
            Some((_, first)) => errors.push(syn::Error::new(
                field.ident.span(),
                format!(
                    "`{first}` and `{}` both send the element `{member}`; an element is sent \
                     once, so rename or remove one of them",
                    field.name
                ),
            )),
            None => seen.push((member, &field.name)),
        }
    }
    Plan {
        method: args.method,
        pieces,
        places,
        encrypted: vec![None; endpoint.fields.len()],
        members,
    }
}

/// An APIv2 upload's file (`uploadmedia`'s `media`): one, on a POST, with no `meta` keys
/// (APIv2 has no `meta` JSON; the file's MD5 goes in an element named by `md5`).
fn check_apiv2_file(
    field: &Field,
    span: Span,
    keys: &FileKeys,
    get: bool,
    first: Option<&str>,
    errors: &mut Errors,
) {
    if let Some(first) = first {
        errors.push(syn::Error::new(
            span,
            format!(
                "an upload sends one file, but `{first}` and `{}` are both marked `file`; keep one",
                field.name
            ),
        ));
    }
    if get {
        errors.push(syn::Error::new(
            span,
            "`#[wxpay(file)]` on an APIv2 GET: an upload is a POST",
        ));
    }
    if let Some(key) = keys.meta_key {
        errors.push(syn::Error::new(
            key,
            "an APIv2 upload has no `meta` JSON for `name` or `sha256` to go in: its fields are \
             signed text parts; to send the file's MD5 in one, write `md5 = \"media_hash\"`",
        ));
    }
}

/// Container serde items that say nothing about the body `#[endpoint]` writes (they belong
/// to deserializing, or to a serde derive of the user's own).
const CONTAINER_SERDE_IGNORED: &[&str] = &[
    "rename",
    "deny_unknown_fields",
    "default",
    "bound",
    "crate",
    "expecting",
    "from",
    "try_from",
    "remote",
];

/// Field serde items the body follows, or that belong to deserializing only.
const FIELD_SERDE_KNOWN: &[&str] = &[
    "rename",
    "skip",
    "skip_serializing",
    "skip_serializing_if",
    "serialize_with",
    "with",
    "flatten",
    "default",
    "alias",
    "deserialize_with",
    "skip_deserializing",
    "borrow",
    "bound",
    "getter",
];

/// The JSON member name of each field (its `rename`, else the container's `rename_all`
/// applied to its name), reporting the serde items the body cannot follow.
fn body_members(endpoint: &Endpoint, errors: &mut Errors) -> Vec<String> {
    let mut rule = None;
    for item in &endpoint.serde {
        match item.key.as_str() {
            "rename_all" => {
                let value = item.value.as_ref().or_else(|| {
                    SerdeItem::find(&item.nested, "serialize").and_then(|n| n.value.as_ref())
                });
                match value.map(|value| (value, RenameRule::parse(&value.value()))) {
                    Some((_, Some(parsed))) => rule = Some(parsed),
                    Some((value, None)) => errors.push(syn::Error::new(
                        value.span(),
                        format!(
                            "unknown `rename_all` rule {:?}; serde knows {}",
                            value.value(),
                            RenameRule::NAMED.map(|(name, _)| name).join(", ")
                        ),
                    )),
                    None => {}
                }
            }
            key if CONTAINER_SERDE_IGNORED.contains(&key) => {}
            key => errors.push(syn::Error::new(
                item.span,
                format!(
                    "`#[serde({key})]` cannot shape an endpoint's body, which `#[endpoint]` \
                     writes field by field; declare the fields as the body sends them"
                ),
            )),
        }
    }
    endpoint
        .fields
        .iter()
        .map(|field| {
            for item in &field.serde {
                if !FIELD_SERDE_KNOWN.contains(&item.key.as_str()) {
                    errors.push(syn::Error::new(
                        item.span,
                        format!("unknown serde field attribute `{}`", item.key),
                    ));
                }
            }
            SerdeItem::rename(&field.serde).unwrap_or_else(|| match rule {
                Some(rule) => rule.apply(&field.name),
                None => field.name.clone(),
            })
        })
        .collect()
}

/// serde's `rename_all` rules, as they apply to field names.
#[derive(Clone, Copy)]
enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    /// Each rule by the name `rename_all` gives it.
    const NAMED: [(&str, RenameRule); 8] = [
        ("lowercase", RenameRule::Lower),
        ("UPPERCASE", RenameRule::Upper),
        ("PascalCase", RenameRule::Pascal),
        ("camelCase", RenameRule::Camel),
        ("snake_case", RenameRule::Snake),
        ("SCREAMING_SNAKE_CASE", RenameRule::ScreamingSnake),
        ("kebab-case", RenameRule::Kebab),
        ("SCREAMING-KEBAB-CASE", RenameRule::ScreamingKebab),
    ];

    fn parse(name: &str) -> Option<Self> {
        Self::NAMED
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, rule)| *rule)
    }

    fn apply(self, field: &str) -> String {
        match self {
            RenameRule::Lower | RenameRule::Snake => field.to_owned(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => {
                let mut pascal = String::with_capacity(field.len());
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        pascal.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        pascal.push(ch);
                    }
                }
                pascal
            }
            RenameRule::Camel => {
                let pascal = RenameRule::Pascal.apply(field);
                let mut chars = pascal.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_lowercase().to_string() + chars.as_str()
                })
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

/// A derived `Debug` would print what `#[wxpay(encrypt)]` protects in transit: personal data
/// (names, ID and card numbers) must not reach logs either.
pub(crate) fn check_debug(item: &syn::DeriveInput, endpoint: &Endpoint, errors: &mut Errors) {
    let Some(debug) = crate::ast::derived(item, &["Debug"]) else {
        return;
    };
    let personal: Vec<String> = endpoint
        .fields
        .iter()
        .filter(|field| field.is_personal())
        .map(|field| format!("`{}`", field.name))
        .collect();
    if personal.is_empty() {
        return;
    }
    errors.push(syn::Error::new(
        debug,
        format!(
            "`#[derive(Debug)]` would print {} in plain text, but encrypted and redacted fields \
             are personal data; remove `Debug` from the derive: `#[endpoint]` writes a `Debug` \
             that prints `<redacted>` for them",
            personal.join(", ")
        ),
    ));
}

/// Parses the template, reports its mistakes at sub-spans of the literal, and checks that each
/// placeholder names a field.
fn check_template(lit: &LitStr, endpoint: &Endpoint, errors: &mut Errors) -> Vec<Piece> {
    let text = lit.value();
    let (pieces, template_errors) = template::parse(&text);
    for error in template_errors {
        errors.push(syn::Error::new(
            template_span(lit, &text, error.range),
            error.message,
        ));
    }
    for piece in &pieces {
        if let Piece::Placeholder { name, range } = piece
            && !endpoint.fields.iter().any(|field| field.name == *name)
        {
            let ident = endpoint.ident;
            errors.push(syn::Error::new(
                template_span(lit, &text, range.clone()),
                format!(
                    "placeholder `<{name}>` names no field of `{ident}`; add a field `{name}` \
                     or fix the template"
                ),
            ));
        }
    }
    pieces
}

/// The span of bytes `range` of the literal's value: a sub-span where the compiler offers one
/// (nightly), else the whole literal.
fn template_span(lit: &LitStr, value: &str, range: Range<usize>) -> Span {
    let token = lit.token();
    let source = token.to_string();
    // Only a plain or raw string without escapes maps value bytes onto source bytes.
    let Some(quote) = source.find('"') else {
        return lit.span();
    };
    let start = quote + 1;
    if source.get(start..start + value.len()) != Some(value) {
        return lit.span();
    }
    let end = if range.is_empty() {
        range.end + 1
    } else {
        range.end
    };
    token
        .subspan(start + range.start..start + end)
        .unwrap_or_else(|| lit.span())
}

fn check_path_field(field: &Field, errors: &mut Errors) {
    let name = &field.name;
    if let Some(role) = &field.role {
        let key = role.kind.key();
        errors.push(syn::Error::new(
            role.span,
            format!(
                "`{name}` fills the path segment `<{name}>`, so it cannot also be `{key}`; \
                 remove `{key}` or rename the placeholder"
            ),
        ));
    }
    if option_inner(field.ty).is_some() {
        errors.push(syn::Error::new_spanned(
            field.ty,
            format!(
                "`{name}` fills the path segment `<{name}>`, which cannot be left out; make it \
                 a plain type instead of `Option`"
            ),
        ));
    }
    if let Some(shape) = not_scalar(field.ty) {
        errors.push(syn::Error::new_spanned(
            field.ty,
            format!(
                "`{name}` fills the path segment `<{name}>`, which is one value, but it is \
                 {shape}; use a `String`, a number or a platform enum"
            ),
        ));
    }
    body_only_serde(field, "fills a path segment", errors);
}

/// What a type is when it obviously cannot be one path segment (a list or a tuple); other
/// types are checked by the `PathSegment` trait at the field's type.
fn not_scalar(ty: &Type) -> Option<&'static str> {
    match ungroup(ty) {
        Type::Array(_) | Type::Slice(_) => Some("a list"),
        Type::Tuple(_) => Some("a tuple"),
        Type::Reference(reference) => not_scalar(&reference.elem),
        Type::Path(path) => {
            let last = path.path.segments.last()?;
            let lists = [
                "Vec", "VecDeque", "HashSet", "BTreeSet", "HashMap", "BTreeMap",
            ];
            lists
                .iter()
                .any(|list| last.ident == list)
                .then_some("a collection")
        }
        _ => None,
    }
}

fn check_role<'a>(field: &'a Field, method: Option<Method>, errors: &mut Errors) -> Place<'a> {
    let name = &field.name;
    let default = match method {
        Some(method) if !method.has_body() => Place::Query,
        _ => Place::Body,
    };
    let place = match &field.role {
        None => default,
        Some(role) => match &role.kind {
            RoleKind::Query => Place::Query,
            RoleKind::Header(header, span) => {
                check_header_name(header, *span, errors);
                Place::Header(header)
            }
            RoleKind::Body => {
                if let Some(method) = method.filter(|method| method.refuses_body()) {
                    let method = method.name();
                    errors.push(syn::Error::new(
                        role.span,
                        format!(
                            "`#[wxpay(body)]` on a {method} endpoint: {method} requests have \
                             no body; remove it (`{name}` then goes to the query string)"
                        ),
                    ));
                }
                Place::Body
            }
            RoleKind::File(keys) => {
                if let Some(span) = keys.md5_key {
                    errors.push(syn::Error::new(
                        span,
                        "`md5` names the element of an APIv2 upload that carries the file's \
                         MD5; an APIv3 upload's `meta` takes the file's digest with `sha256 = \
                         \"...\"`",
                    ));
                }
                Place::File(keys)
            }
            RoleKind::Part => Place::Part,
            RoleKind::Json => {
                errors.push(syn::Error::new(
                    role.span,
                    "`#[wxpay(json)]` marks JSON text inside an APIv2 `<xml>` body; an APIv3 \
                     body is JSON already: remove it",
                ));
                default
            }
        },
    };
    match place {
        Place::Body => {}
        Place::Query if field.role.is_none() => {
            let why = match method {
                Some(Method::Delete) => "goes to the query string (a DELETE sends its fields \
                                         there unless they are marked `#[wxpay(body)]`)"
                    .to_owned(),
                method => {
                    let method = method.map_or("GET", Method::name);
                    format!("goes to the query string (a {method} request has no body)")
                }
            };
            body_only_serde(field, &why, errors);
        }
        Place::Query => body_only_serde(field, "goes to the query string", errors),
        Place::File(_) | Place::Part => body_only_serde(field, "is a part of the upload", errors),
        _ => body_only_serde(field, "is sent as a header", errors),
    }
    place
}

/// Reports serde items that only work in the JSON body on a field that is sent elsewhere.
fn body_only_serde(field: &Field, why: &str, errors: &mut Errors) {
    let name = &field.name;
    for key in BODY_ONLY_SERDE {
        if let Some(item) = SerdeItem::find(&field.serde, key) {
            let fix = if key == "skip_serializing_if" {
                "; make the field an `Option`, which is left out when `None`"
            } else if key == "flatten" {
                "; list the inner fields one by one"
            } else {
                ""
            };
            errors.push(syn::Error::new(
                item.span,
                format!(
                    "`#[serde({key})]` works only on fields of the JSON body, but `{name}` \
                     {why}{fix}"
                ),
            ));
        }
    }
}

fn check_header_name(name: &str, span: Span, errors: &mut Errors) {
    const TCHAR: &str = "!#$%&'*+-.^_`|~";
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || TCHAR.contains(*c)));
    if name.is_empty() {
        let message = "the header name is empty; write it, e.g. `header = \"Idempotency-Key\"`";
        errors.push(syn::Error::new(span, message));
        return;
    }
    let reason = match bad {
        Some(' ') => "contains a space".to_owned(),
        Some(c) if c.is_ascii_graphic() => format!("contains `{c}`"),
        Some(c) => format!("contains `{}`", c.escape_default()),
        None => {
            // Headers the protocol owns: the client writes them, a field must not.
            const OWNED: [&str; 3] = ["Authorization", "Content-Type", "Wechatpay-Serial"];
            if let Some(owned) = OWNED.iter().find(|owned| owned.eq_ignore_ascii_case(name)) {
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "`{owned}` is written by wxpay itself (signing, the JSON body, encrypted \
                         fields); a field cannot set it"
                    ),
                ));
            }
            return;
        }
    };
    errors.push(syn::Error::new(
        span,
        format!(
            "`{name}` is not a valid header name: it {reason}; a header name is letters, \
             digits and `-`, e.g. `Idempotency-Key`"
        ),
    ));
}

fn check_encrypt(field: &Field, place: Place, errors: &mut Errors) -> Option<Text> {
    let span = field.encrypt?;
    let name = &field.name;
    let text = match place {
        // Any `Sensitive` type: the trait bound at the field's type says what to add.
        Place::Body => Some(Text::Value),
        _ if is_named(field.ty, "String") => Some(Text::String),
        _ if option_inner(field.ty).is_some_and(|inner| is_named(inner, "String")) => {
            Some(Text::OptionString)
        }
        Place::Query => {
            let ty = quote::ToTokens::to_token_stream(field.ty)
                .to_string()
                .replace(" < ", "<")
                .replace(" >", ">")
                .replace(" :: ", "::");
            errors.push(syn::Error::new_spanned(
                field.ty,
                format!(
                    "an encrypted query parameter is a `String` or `Option<String>`, but \
                     `{name}` is `{ty}`; sensitive values are encrypted as text"
                ),
            ));
            None
        }
        _ => None,
    };
    let elsewhere = match place {
        Place::Path => Some("fills a path segment"),
        Place::Header(_) => Some("is a header"),
        Place::File(_) => Some("is the uploaded file"),
        Place::Part => Some("is a text part of the upload"),
        // `check_apiv2` reports `encrypt` on an APIv2 field itself.
        Place::Query | Place::Body | Place::Xml | Place::XmlJson => None,
    };
    if let Some(elsewhere) = elsewhere {
        errors.push(syn::Error::new(
            span,
            format!(
                "only body and query fields can be encrypted, but `{name}` {elsewhere}; remove \
                 `encrypt`"
            ),
        ));
        return None;
    }
    text
}

/// An upload has one file, sent with a body (its fields are the `meta` JSON); text parts
/// belong to an upload.
fn check_upload(
    endpoint: &Endpoint,
    places: &[Place],
    method: Option<Method>,
    errors: &mut Errors,
) {
    let mut file = None;
    for (field, place) in endpoint.fields.iter().zip(places) {
        let span = field
            .role
            .as_ref()
            .map_or_else(|| field.ident.span(), |role| role.span);
        match place {
            Place::File(_) => {
                if let Some(first) = file {
                    errors.push(syn::Error::new(
                        span,
                        format!(
                            "an upload sends one file, but `{first}` and `{}` are both marked \
                             `file`; keep one",
                            field.name
                        ),
                    ));
                }
                file.get_or_insert(&field.name);
                if let Some(method) = method.filter(|method| !method.has_body()) {
                    let method = method.name();
                    errors.push(syn::Error::new(
                        span,
                        format!("`#[wxpay(file)]` on a {method} endpoint: an upload is a POST"),
                    ));
                }
            }
            Place::Part if !places.iter().any(|place| matches!(place, Place::File(_))) => {
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "`#[wxpay(part)]` is a text part of an upload, but `{}` has no \
                         `#[wxpay(file)]` field",
                        endpoint.ident
                    ),
                ));
            }
            _ => {}
        }
    }
}

/// Two fields may not send the same query parameter or header.
fn check_unique_names(endpoint: &Endpoint, places: &[Place], errors: &mut Errors) {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for (field, place) in endpoint.fields.iter().zip(places) {
        let (key, what) = match place {
            Place::Query => (query_name(field), "query parameter"),
            Place::Header(header) => (header.to_ascii_lowercase(), "header"),
            _ => continue,
        };
        if let Some((_, first)) = seen.iter().find(|(seen, _)| *seen == key) {
            errors.push(syn::Error::new(
                field.ident.span(),
                format!(
                    "`{first}` and `{}` both send the {what} `{key}`; a {what} is sent once, so \
                     rename or remove one of them",
                    field.name
                ),
            ));
        } else {
            seen.push((key, &field.name));
        }
    }
}

/// The query parameter of a field: its serde `rename`, else its name.
pub(crate) fn query_name(field: &Field) -> String {
    SerdeItem::rename(&field.serde).unwrap_or_else(|| field.name.clone())
}

/// `T` of `Option<T>` (by the last path segment's name, the way serde recognises it).
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    if path.qself.is_some() || last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// Whether the type's last path segment is `name` without arguments.
pub(crate) fn is_named(ty: &Type, name: &str) -> bool {
    let Type::Path(path) = ungroup(ty) else {
        return false;
    };
    path.qself.is_none()
        && path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == name && last.arguments.is_none())
}

/// A type passed through a `macro_rules!` `$ty:ty` arrives in an invisible group: look inside.
fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => ungroup(&group.elem),
        Type::Paren(paren) => ungroup(&paren.elem),
        other => other,
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// `field` renamed by the `rename_all` rule `rule`, `None` for an unknown rule.
    pub(crate) fn rename(rule: &str, field: &str) -> Option<String> {
        super::RenameRule::parse(rule).map(|rule| rule.apply(field))
    }
}
