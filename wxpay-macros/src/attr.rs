//! The arguments of `#[endpoint(METHOD "template" -> Response, options...)]`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitStr, Token, Type};

use crate::validate::Errors;

/// The methods an endpoint can have.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    const ALL: [(&'static str, Method); 5] = [
        ("GET", Method::Get),
        ("POST", Method::Post),
        ("PUT", Method::Put),
        ("PATCH", Method::Patch),
        ("DELETE", Method::Delete),
    ];

    /// The name as written, which is also the `http::Method` constant.
    pub(crate) fn name(self) -> &'static str {
        Method::ALL
            .iter()
            .find(|(_, method)| *method == self)
            .map_or("GET", |(name, _)| name)
    }

    /// GET and DELETE send their fields in the query string unless marked otherwise.
    pub(crate) fn has_body(self) -> bool {
        !matches!(self, Method::Get | Method::Delete)
    }

    /// Only GET has no body at all: a DELETE may carry `#[wxpay(body)]` fields.
    pub(crate) fn refuses_body(self) -> bool {
        self == Method::Get
    }
}

/// The parsed arguments. `method` is `None` when it was misspelt (already reported), so the
/// rest can still be checked.
pub(crate) struct Args {
    pub method: Option<Method>,
    pub method_span: Span,
    pub template: LitStr,
    /// `None` for `-> ()` or no arrow: the endpoint answers with an empty body.
    pub response: Option<Type>,
    /// The runtime's path, `::wxpay` unless `crate = "..."` says otherwise.
    pub krate: TokenStream,
    /// `idempotent`: sending the request twice acts once (it carries a caller-chosen request
    /// number), so the client may retry it after an unclear failure.
    pub idempotent: bool,
    /// `exhaustive`: the struct stays open to struct literals (no `#[non_exhaustive]`).
    pub exhaustive: bool,
    /// `no_constructor`: no generated `new` and setters.
    pub constructor: bool,
    /// `download`: the answer is a file, streamed with `Client::download_file`.
    pub download: bool,
    /// `host = apihk`: the variant of the runtime's `Host` that serves the operation; `None`
    /// for the default host.
    pub host: Option<Ident>,
    /// `v2 POST "/pay/micropay"`: an APIv2 operation and its options; `None` for APIv3.
    pub apiv2: Option<ApiV2Args>,
}

/// The options of an APIv2 endpoint (`#[endpoint(v2 POST "/path" -> R, options...)]`).
pub(crate) struct ApiV2Args {
    /// `sign_type = hmac_sha256 | either`: the variant of the runtime's `SignTypes`
    /// (`Md5` when not given).
    pub sign_types: Ident,
    /// `cert`: the merchant's API client certificate goes on the connection.
    pub client_certificate: bool,
    /// `unsigned_answer`: the platform answers without a `sign`.
    pub unsigned_answer: bool,
    /// `no_nonce`: the request carries no `nonce_str`.
    pub no_nonce: bool,
    /// `unsigned_request`: the request carries no `sign` (a page the user's browser opens
    /// with plain parameters, `authindex`).
    pub unsigned_request: bool,
    /// `answer = text | json | page`: the variant of the runtime's `ApiV2Answer` (`Xml` when
    /// not given).
    pub answer: Ident,
}

/// The options only an APIv2 endpoint takes.
const APIV2_FLAGS: [&str; 4] = ["cert", "unsigned_answer", "no_nonce", "unsigned_request"];

/// The keys `sign_type = …` takes and the runtime's `SignTypes` variant of each.
const SIGN_TYPES: [(&str, &str); 3] = [
    ("md5", "Md5"),
    ("hmac_sha256", "HmacSha256"),
    ("either", "Either"),
];

/// The keys `answer = …` takes and the runtime's `ApiV2Answer` variant of each.
const ANSWERS: [(&str, &str); 4] = [
    ("xml", "Xml"),
    ("text", "Text"),
    ("json", "Json"),
    ("page", "Page"),
];

/// The host keys `host = …` takes and the runtime's `Host` variant of each (the runtime's
/// `Host::key` spells the same keys; a facade test declares an endpoint on each).
const HOSTS: [(&str, &str); 5] = [
    ("api", "Api"),
    ("apihk", "Apihk"),
    ("fraud", "Fraud"),
    ("payapp", "Payapp"),
    ("payapp_mch", "PayappMch"),
];

/// Parses the arguments. Misspelt names are reported in `errors` and parsing goes on; a
/// shape that cannot be read at all is the `Err`.
pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> syn::Result<Args> {
    let parser = |input: ParseStream| parse_args(input, errors);
    parser.parse2(tokens)
}

const SHAPE: &str = "#[endpoint(GET \"/v3/...\" -> Response)]";

fn parse_args(input: ParseStream, errors: &mut Errors) -> syn::Result<Args> {
    if input.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            format!("missing method and path template: write `{SHAPE}`"),
        ));
    }
    if input.peek(LitStr) {
        return Err(input.error(format!(
            "missing method before the path template: write the method first, as in `{SHAPE}`"
        )));
    }
    // `v2` before the method: an APIv2 operation.
    let v2 = if input.peek(Ident) && input.fork().parse::<Ident>().is_ok_and(|i| i == "v2") {
        Some(input.parse::<Ident>()?.span())
    } else {
        None
    };
    let method_ident: Ident = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("expected the HTTP method, as in `{SHAPE}`"),
        )
    })?;
    let method = method_from(&method_ident, errors);

    if !input.peek(LitStr) {
        let what = format!(
            "missing path template after `{method_ident}`: write `#[endpoint({method_ident} \
             \"/v3/...\" -> Response)]`"
        );
        return Err(syn::Error::new(method_ident.span(), what));
    }
    let template: LitStr = input.parse()?;

    let mut response = None;
    if input.peek(Token![->]) {
        input.parse::<Token![->]>()?;
        let ty: Type = input.parse()?;
        let unit = matches!(&ty, Type::Tuple(tuple) if tuple.elems.is_empty());
        if !unit {
            response = Some(ty);
        }
    }

    let mut krate: Option<TokenStream> = None;
    let mut idempotent = false;
    let mut exhaustive = false;
    let mut constructor = true;
    let mut download = false;
    let mut host: Option<Ident> = None;
    let mut sign_types: Option<Ident> = None;
    let mut sign_type_span: Option<Span> = None;
    let mut answer: Option<(Ident, Ident)> = None;
    let mut apiv2_flags = [false; APIV2_FLAGS.len()];
    while !input.is_empty() {
        if !input.peek(Token![,]) {
            return Err(input.error(
                "expected `-> Response` after the template, or `,` before an option such as \
                 `crate = \"::wxpay\"`",
            ));
        }
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        if input.peek(Token![crate]) {
            let keyword: Token![crate] = input.parse()?;
            input.parse::<Token![=]>()?;
            let lit: LitStr = input.parse()?;
            match lit.parse::<syn::Path>() {
                Ok(path) if krate.is_none() => krate = Some(quote::quote!(#path)),
                Ok(_) => errors.push(syn::Error::new(
                    keyword.span,
                    "`crate` is given twice; keep one",
                )),
                Err(_) => errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "`crate = \"{}\"` is not a path; write the path the runtime is reached \
                         by, e.g. `crate = \"::wxpay\"`",
                        lit.value()
                    ),
                )),
            }
        } else if input.peek(Ident) {
            let option: Ident = input.parse()?;
            if option == "host" {
                let key = parse_key(&option, input, ("host key", "apihk"), &HOSTS, errors)?;
                if host.is_some() {
                    errors.push(syn::Error::new(
                        option.span(),
                        "`host` is given twice; keep one",
                    ));
                } else {
                    host = key;
                }
                continue;
            }
            if option == "sign_type" {
                let key = parse_key(
                    &option,
                    input,
                    ("sign type", "hmac_sha256"),
                    &SIGN_TYPES,
                    errors,
                )?;
                if sign_types.is_some() {
                    errors.push(syn::Error::new(
                        option.span(),
                        "`sign_type` is given twice; keep one",
                    ));
                } else {
                    sign_types = key;
                    sign_type_span = Some(option.span());
                }
                if v2.is_none() {
                    errors.push(v3_refuses(&option));
                }
                continue;
            }
            if option == "answer" {
                let key = parse_key(&option, input, ("kind of answer", "text"), &ANSWERS, errors)?;
                if answer.is_some() {
                    errors.push(syn::Error::new(
                        option.span(),
                        "`answer` is given twice; keep one",
                    ));
                } else {
                    answer = key.map(|key| (option.clone(), key));
                }
                if v2.is_none() {
                    errors.push(v3_refuses(&option));
                }
                continue;
            }
            if let Some(index) = APIV2_FLAGS.iter().position(|flag| option == flag) {
                if std::mem::replace(&mut apiv2_flags[index], true) {
                    errors.push(syn::Error::new(
                        option.span(),
                        format!("`{option}` is given twice; keep one"),
                    ));
                }
                if v2.is_none() {
                    errors.push(v3_refuses(&option));
                }
                if input.peek(Token![=]) {
                    errors.push(syn::Error::new(
                        option.span(),
                        format!("`{option}` takes no value"),
                    ));
                    while !input.is_empty() && !input.peek(Token![,]) {
                        input.parse::<proc_macro2::TokenTree>()?;
                    }
                }
                continue;
            }
            let flag = match option.to_string().as_str() {
                "idempotent" => Some(&mut idempotent),
                "exhaustive" => Some(&mut exhaustive),
                "no_constructor" => Some(&mut constructor),
                "download" => Some(&mut download),
                _ => None,
            };
            if let Some(flag) = flag {
                // `constructor` starts true and is switched off; the others start false.
                let given = if option == "no_constructor" {
                    !*flag
                } else {
                    *flag
                };
                if given {
                    errors.push(syn::Error::new(
                        option.span(),
                        format!("`{option}` is given twice; keep one"),
                    ));
                }
                *flag = option != "no_constructor";
                if input.peek(Token![=]) {
                    errors.push(syn::Error::new(
                        option.span(),
                        format!("`{option}` takes no value"),
                    ));
                    while !input.is_empty() && !input.peek(Token![,]) {
                        input.parse::<proc_macro2::TokenTree>()?;
                    }
                }
                continue;
            }
            errors.push(syn::Error::new(option.span(), unknown_option(&option)));
            // Skip its value so the options after it are still read.
            while !input.is_empty() && !input.peek(Token![,]) {
                input.parse::<proc_macro2::TokenTree>()?;
            }
        } else {
            return Err(input.error("expected an option such as `crate = \"::wxpay\"`"));
        }
    }

    if download {
        if let Some(ty) = &response {
            errors.push(syn::Error::new_spanned(
                ty,
                "a `download` endpoint answers a file, not a typed value: remove `-> ...` and \
                 stream the answer with `Client::download_file`",
            ));
        }
        if method.is_some_and(|method| method != Method::Get) {
            errors.push(syn::Error::new(
                method_ident.span(),
                "a `download` endpoint is a GET: the platform serves files to GET requests",
            ));
        }
    }

    if let Some(v2) = v2 {
        if download {
            errors.push(syn::Error::new(
                v2,
                "`download` is an APIv3 option: an APIv2 bill (`downloadbill`) answers text, \
                 declared as its response",
            ));
        }
        if method.is_some_and(|method| !matches!(method, Method::Post | Method::Get)) {
            errors.push(syn::Error::new(
                method_ident.span(),
                "an APIv2 call is a POST of its `<xml>` document, or a GET whose fields are the \
                 signed query string (the contract-signing pages)",
            ));
        }
    }
    if let (Some((option, kind)), Some(_)) = (&answer, v2) {
        match (kind.to_string().as_str(), &response) {
            ("Page", Some(ty)) => errors.push(syn::Error::new_spanned(
                ty,
                "a page for the user's browser (`answer = page`) gives the server nothing to \
                 read: remove `-> ...` and send the browser to `Client::page_url`",
            )),
            ("Page", None) if method.is_some_and(|method| method != Method::Get) => {
                errors.push(syn::Error::new(
                    method_ident.span(),
                    "a page for the user's browser (`answer = page`) is a GET: the browser \
                     opens its signed URL",
                ))
            }
            ("Text" | "Json", None) => errors.push(syn::Error::new(
                option.span(),
                "`answer = text` or `answer = json` is decoded into the declared response: write \
                 `-> String` for text, `-> Type` for JSON",
            )),
            _ => {}
        }
    }
    let [
        client_certificate,
        unsigned_answer,
        no_nonce,
        unsigned_request,
    ] = apiv2_flags;
    if let Some(span) = sign_type_span.filter(|_| unsigned_request && v2.is_some()) {
        errors.push(syn::Error::new(
            span,
            "`sign_type` says how the request is signed, but it is `unsigned_request`: nothing \
             is signed; remove one of them",
        ));
    }
    let apiv2 = v2.map(|span| ApiV2Args {
        sign_types: sign_types.unwrap_or_else(|| Ident::new("Md5", span)),
        client_certificate,
        unsigned_answer,
        no_nonce,
        unsigned_request,
        answer: answer.map_or_else(|| Ident::new("Xml", span), |(_, kind)| kind),
    });

    Ok(Args {
        method,
        method_span: method_ident.span(),
        template,
        response,
        krate: krate.unwrap_or_else(|| quote::quote!(::wxpay)),
        idempotent,
        exhaustive,
        constructor,
        download,
        host,
        apiv2,
    })
}

/// An APIv2 option on an APIv3 endpoint.
fn v3_refuses(option: &Ident) -> syn::Error {
    syn::Error::new(
        option.span(),
        format!(
            "`{option}` is an APIv2 option: declare the operation as APIv2 with `v2` before the \
             method, as in `#[endpoint(v2 POST \"/pay/micropay\" -> Response, {option})]`"
        ),
    )
}

/// `option = key`: the key, as the runtime's variant it names in `table` (`None` when it was
/// wrong, already reported). `what` names a key in messages, `example` shows one.
fn parse_key(
    option: &Ident,
    input: ParseStream,
    (what, example): (&str, &str),
    table: &[(&str, &str)],
    errors: &mut Errors,
) -> syn::Result<Option<Ident>> {
    let keys = || {
        table
            .iter()
            .map(|(key, _)| format!("`{key}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !input.peek(Token![=]) {
        errors.push(syn::Error::new(
            option.span(),
            format!(
                "`{option}` takes a {what}, as in `{option} = {example}`; the keys are {}",
                keys()
            ),
        ));
        return Ok(None);
    }
    input.parse::<Token![=]>()?;
    let key: Ident = input.parse().map_err(|e| {
        let hint = if option == "host" {
            ", not a URL: the client maps keys to base URLs"
        } else {
            ""
        };
        syn::Error::new(
            e.span(),
            format!(
                "expected a {what} such as `{example}`{hint}; the keys are {}",
                keys()
            ),
        )
    })?;
    match table.iter().find(|(known, _)| key == known) {
        Some((_, variant)) => Ok(Some(Ident::new(variant, key.span()))),
        None => {
            errors.push(syn::Error::new(
                key.span(),
                format!("unknown {what} `{key}`; the keys are {}", keys()),
            ));
            Ok(None)
        }
    }
}

/// What to say about an option `#[endpoint]` does not have; the shapes it leaves to the
/// runtime get a pointer to where they live.
fn unknown_option(option: &Ident) -> String {
    match option.to_string().as_str() {
        "multipart" | "upload" => format!(
            "`{option}` is not an endpoint option: an upload is an endpoint with a \
             `#[wxpay(file)] file: wxpay::UploadFile` field; its other body fields are the \
             `meta` JSON, which is what gets signed (APIv2: the signed text parts)"
        ),
        "unsigned" => format!(
            "`{option}` is not an endpoint option: an APIv3 answer is always verified; an \
             endpoint that answers a file is marked `download`, and an APIv2 operation the \
             platform answers unsigned is marked `unsigned_answer` (one whose request carries \
             no `sign`, `unsigned_request`)"
        ),
        "file" => format!(
            "`{option}` is not an endpoint option: an endpoint that answers a file is marked \
             `download` and streamed with `Client::download_file`"
        ),
        _ => format!(
            "unknown endpoint option `{option}`; the options are `idempotent`, `exhaustive`, \
             `no_constructor`, `download`, `host = key` and `crate = \"path\"`, and for \
             APIv2 (`v2 POST …`) `cert`, `unsigned_answer`, `no_nonce`, `unsigned_request`, \
             `sign_type = key` and `answer = kind`"
        ),
    }
}

fn method_from(ident: &Ident, errors: &mut Errors) -> Option<Method> {
    let name = ident.to_string();
    if let Some((_, method)) = Method::ALL.iter().find(|(known, _)| *known == name) {
        return Some(*method);
    }
    let upper = name.to_ascii_uppercase();
    let message = if Method::ALL.iter().any(|(known, _)| *known == upper) {
        format!("methods are written in upper case: `{upper}`")
    } else {
        format!("unknown method `{name}`; expected one of `GET`, `POST`, `PUT`, `PATCH`, `DELETE`")
    };
    errors.push(syn::Error::new(ident.span(), message));
    None
}
