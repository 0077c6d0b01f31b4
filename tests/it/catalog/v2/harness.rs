//! What the generated APIv2 cases run: each declaration against the spec's facts, its signed
//! request element by element against the spec's examples, each example answer through the
//! runtime's decoding. Every failure of a module is collected and reported together, so one
//! run shows every operation that is off.

use wxpay::apiv2::{self, CallContext, Fields, SignType};
use wxpay::{ApiV2, ApiV2Key, CryptoBackend, Endpoint, Error, Host, Protocol, SignTypes};

/// One operation: how to build its request (constructor and every setter), and what the spec
/// says of it.
pub struct Case {
    pub name: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub host: Host,
    pub protocol: ApiV2,
    pub idempotent: bool,
    pub request: fn() -> Box<dyn Declared>,
    /// The request's elements as built from the spec's examples, `(name, text)`.
    pub fields: &'static [(&'static str, &'static str)],
}

/// What a declaration says of itself, and the request it prepares.
pub trait Declared {
    fn declaration(&self) -> (&'static str, &'static str, Host, Protocol, bool);
    fn prepare(&self, context: &CallContext<'_>) -> Result<http::Request<Vec<u8>>, Error>;
}

impl<E: Endpoint> Declared for E {
    fn declaration(&self) -> (&'static str, &'static str, Host, Protocol, bool) {
        let method = match E::METHOD.as_str() {
            "GET" => "GET",
            "POST" => "POST",
            _ => "another method",
        };
        (
            method,
            E::PATH_TEMPLATE,
            E::HOST,
            E::PROTOCOL,
            E::IDEMPOTENT,
        )
    }

    fn prepare(&self, context: &CallContext<'_>) -> Result<http::Request<Vec<u8>>, Error> {
        apiv2::prepare(self, context, NONCE)
    }
}

/// The TEST APIv2 key and the nonce requests are prepared with.
const KEY: &str = "TEST0APIv2Key0catalog0123456789a";
const NONCE: &str = "TEST5K8264ILTKCH16CQ2502SI8ZNMTM";
const BASE_URL: &str = "https://api.mch.weixin.qq.com";

/// Each declaration against the spec's facts, and the request it signs against the examples.
pub fn declarations(cases: &[Case]) {
    let mut problems = Vec::new();
    for case in cases {
        let request = (case.request)();
        let declared = request.declaration();
        let spec = (
            case.method,
            case.path,
            case.host,
            Protocol::ApiV2(case.protocol),
            case.idempotent,
        );
        if declared != spec {
            problems.push(format!(
                "{}: declared {declared:?}, the spec says {spec:?}",
                case.name
            ));
        }
        if let Err(e) = exact_request(case, request.as_ref()) {
            problems.push(format!("{}: {e}", case.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The prepared request carries exactly the example's elements, then `nonce_str` (unless the
/// operation has none), `sign_type` (HMAC-SHA256 only: MD5 goes unnamed) and a `sign` that
/// verifies with the key; in the `<xml>` body of a POST, in the query of a GET.
fn exact_request(case: &Case, request: &dyn Declared) -> Result<(), String> {
    let backend = CryptoBackend::default();
    let key = ApiV2Key::new(KEY).map_err(|e| e.to_string())?;
    // HMAC-SHA256 where the operation lets the caller choose, as the client prefers.
    let context = CallContext::new(BASE_URL, &key, backend);
    let prepared = request
        .prepare(&context)
        .map_err(|e| format!("not prepared: {e}"))?;
    let url = format!("{BASE_URL}{}", case.path);
    let (uri, sent) = match case.method {
        "GET" => {
            let uri = prepared.uri().to_string();
            let (at, query) = uri.split_once('?').unwrap_or((&uri, ""));
            (at.to_owned(), query_fields(query)?)
        }
        _ => {
            let fields = apiv2::parse(prepared.body()).map_err(|e| format!("not <xml>: {e}"))?;
            (prepared.uri().to_string(), fields)
        }
    };
    if uri != url {
        return Err(format!("sent to {uri}, the spec says {url}"));
    }
    let sign_type = match case.protocol.sign_types {
        SignTypes::Md5 => SignType::Md5,
        _ => SignType::HmacSha256,
    };
    let mut expected: Vec<(&str, &str)> = case.fields.to_vec();
    if case.protocol.nonce {
        expected.push(("nonce_str", NONCE));
    }
    if sign_type == SignType::HmacSha256 {
        expected.push(("sign_type", "HMAC-SHA256"));
    }
    let mut unsigned: Vec<(&str, &str)> = sent.iter().filter(|(name, _)| *name != "sign").collect();
    unsigned.sort_unstable();
    expected.sort_unstable();
    if unsigned != expected {
        return Err(format!(
            "sent {unsigned:?}\n  the examples give {expected:?}"
        ));
    }
    if sent.names().filter(|name| *name == "sign").count() != 1 {
        return Err("no single `sign`".to_owned());
    }
    apiv2::verify(&sent, &key, sign_type, backend).map_err(|e| format!("its sign: {e}"))
}

/// The fields of a query string, percent-decoded.
fn query_fields(query: &str) -> Result<Fields, String> {
    let mut fields = Fields::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8()
                .map(|text| text.into_owned())
                .map_err(|e| format!("query {pair}: {e}"))
        };
        fields.insert(decode(name)?, decode(value)?);
    }
    Ok(fields)
}

/// One example answer: the `<xml>` a successful call receives.
pub struct Answer {
    pub name: &'static str,
    pub decode: fn(&str) -> Result<(), String>,
    pub body: &'static str,
}

/// Decodes `body` as `E`'s answer, the way the client does after verifying it.
pub fn decodes<E: Endpoint>(body: &str) -> Result<(), String> {
    E::decode_response(body.as_bytes())
        .map(drop)
        .map_err(|e| e.to_string())
}

pub fn answers(cases: &[Answer]) {
    let problems: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            (case.decode)(case.body)
                .err()
                .map(|e| format!("{}: {e}\n  {}", case.name, case.body))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
