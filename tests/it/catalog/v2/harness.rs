//! What the generated APIv2 cases run: each declaration against the spec's facts, its signed
//! request element by element against the spec's examples, each example answer through the
//! runtime's decoding. Every failure of a module is collected and reported together, so one
//! run shows every operation that is off.

use wxpay::apiv2::{self, CallContext, Fields, SignType};
use wxpay::{
    ApiV2, ApiV2Key, CryptoBackend, Endpoint, Error, Host, Protocol, SignTypes, UploadFile,
};

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

/// The file every upload case sends; xtask's `CASE_FILE_MD5` is its MD5, as `md5sum` gives it.
pub fn file() -> UploadFile {
    UploadFile::new("TEST_media.jpg", "image/jpeg", FILE.to_vec()).expect("a valid file")
}

const FILE: &[u8] = b"TEST media";

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
/// verifies with the key (none for `unsigned_request`); in the `<xml>` body of a POST (the
/// text parts of an upload, beside its file), in the query of a GET. A POST's query
/// parameters (`action`) are in its URL, and the sign is checked over the body alone: a sign
/// that covered them would not verify.
fn exact_request(case: &Case, request: &dyn Declared) -> Result<(), String> {
    let backend = CryptoBackend::default();
    let key = ApiV2Key::new(KEY).map_err(|e| e.to_string())?;
    // HMAC-SHA256 where the operation lets the caller choose, as the client prefers.
    let context = CallContext::new(base_url(case.host), &key, backend);
    let prepared = request
        .prepare(&context)
        .map_err(|e| format!("not prepared: {e}"))?;
    let url = format!("{}{}", base_url(case.host), case.path);
    let uri = prepared.uri().to_string();
    let (at, query) = uri.split_once('?').unwrap_or((&uri, ""));
    let query = query_fields(query)?;
    let content_type = prepared
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (sent, beside) = match case.method {
        "GET" => (query, Fields::new()),
        _ if content_type.starts_with("multipart/form-data") => {
            (upload_parts(content_type, prepared.body())?, query)
        }
        _ => {
            let fields = apiv2::parse(prepared.body()).map_err(|e| format!("not <xml>: {e}"))?;
            (fields, query)
        }
    };
    if at != url {
        return Err(format!("sent to {at}, the spec says {url}"));
    }
    let signed = case.protocol.signed_request;
    let sign_type = match case.protocol.sign_types {
        SignTypes::Md5 => SignType::Md5,
        _ => SignType::HmacSha256,
    };
    let mut expected: Vec<(&str, &str)> = case.fields.to_vec();
    if case.protocol.nonce {
        expected.push(("nonce_str", NONCE));
    }
    if signed && sign_type == SignType::HmacSha256 {
        expected.push(("sign_type", "HMAC-SHA256"));
    }
    let mut unsigned: Vec<(&str, &str)> = sent
        .iter()
        .chain(beside.iter())
        .filter(|(name, _)| *name != "sign")
        .collect();
    unsigned.sort_unstable();
    expected.sort_unstable();
    if unsigned != expected {
        return Err(format!(
            "sent {unsigned:?}\n  the examples give {expected:?}"
        ));
    }
    let signs = sent
        .names()
        .chain(beside.names())
        .filter(|name| *name == "sign")
        .count();
    if !signed {
        return match signs {
            0 => Ok(()),
            _ => Err("a `sign` on an unsigned request".to_owned()),
        };
    }
    if signs != 1 || sent.get("sign").is_none() {
        return Err("no single `sign` in the body".to_owned());
    }
    apiv2::verify(&sent, &key, sign_type, backend).map_err(|e| format!("its sign: {e}"))
}

/// The platform's base URL of `host`, as the client maps it.
fn base_url(host: Host) -> &'static str {
    match host {
        Host::Api => BASE_URL,
        other => other.default_base_url(),
    }
}

/// The text parts of an upload, after checking that its one file part is [`file`]'s.
fn upload_parts(content_type: &str, body: &[u8]) -> Result<Fields, String> {
    let boundary = content_type
        .split_once("boundary=")
        .map(|(_, b)| b)
        .ok_or("multipart without a boundary")?;
    let delimiter = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    let ending = format!("\r\n{delimiter}--\r\n");
    if !text.ends_with(&ending) {
        return Err("the multipart body is not closed".to_owned());
    }
    let mut fields = Fields::new();
    let mut files = Vec::new();
    let expected = file();
    for part in text[..text.len() - ending.len() + 2]
        .split(delimiter.as_str())
        .skip(1)
    {
        let part = part.strip_prefix("\r\n").ok_or("a part without its line")?;
        let (head, value) = part
            .split_once("\r\n\r\n")
            .ok_or("a part without headers")?;
        let value = value.strip_suffix("\r\n").ok_or("a part not ended")?;
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or("a part without a name")?;
        if head.contains("filename=") {
            let wanted = format!(
                "filename=\"{}\"\r\nContent-Type: {}",
                expected.filename(),
                expected.content_type()
            );
            if !head.contains(&wanted) || value.as_bytes() != expected.content() {
                return Err(format!("file part `{name}` is not the case's file: {head}"));
            }
            files.push(name.to_owned());
        } else {
            fields.insert(name, value);
        }
    }
    if files.len() != 1 {
        return Err(format!("{} file parts", files.len()));
    }
    Ok(fields)
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
