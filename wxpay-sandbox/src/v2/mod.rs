//! APIv2: the platform's older XML protocol, served beside APIv3 on the same origin (and on the
//! HTTPS listener, where the client certificate operations can be called).
//!
//! Every request is verified: an `<xml>` body (or the query of the few GET pages, or the
//! fields of `uploadmedia`'s form), `sign` over the sorted fields with the merchant's APIv2 key
//! (MD5, or HMAC-SHA256 when the request says `sign_type=HMAC-SHA256`), the fields the spec
//! requires, the merchant id, and for the operations marked `x-api-cert-required` a client
//! certificate that chains to the sandbox's CA and names the merchant. What fails is answered
//! as the platform does: `return_code` FAIL with its `return_msg`, unsigned.
//!
//! Red packets, orders (micropay, unifiedorder, orderquery, closeorder) and refunds
//! (refund, refundquery, with the refund notification's `req_info`) keep state; every other
//! operation is answered from the spec's example (`crate::spec::V2_OPERATIONS`, generated),
//! signed with the request's sign type where the platform signs its answer.

mod bank;
mod state;
pub(crate) mod wire;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::crypto::random_alphanumeric;
use crate::spec::V2_OPERATIONS;
use crate::state::Platform;
pub(crate) use state::{V2Store, pay_order};
use wire::{Fields, SignType, XmlError, get as field};

/// The ids an order or refund query may name; the spec marks them all required, the platform
/// wants one.
const ORDER_IDS: &[&str] = &[
    "transaction_id",
    "out_trade_no",
    "out_refund_no",
    "refund_id",
];

/// How an operation's request travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    /// An `<xml>` document.
    Xml,
    /// The query string of a GET (papay's pages, `getaccesstoken`).
    Query,
    /// `multipart/form-data` (`uploadmedia`): the fields are signed, the file is not.
    Multipart,
}

/// What the platform answers on success.
#[derive(Debug)]
pub(crate) enum Answer {
    /// An `<xml>` document with these fields (the spec's examples).
    Xml(&'static [(&'static str, &'static str)]),
    /// A JSON object (`getaccesstoken`).
    Json(&'static str),
    /// A file (bills): plain text, unsigned.
    File,
    /// A redirect (`authindex`).
    Redirect,
    /// A page for the user's browser (papay's contract signing).
    Page,
}

/// One APIv2 operation of the spec.
#[derive(Debug)]
pub(crate) struct V2Operation {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    /// The platform's host for it (`api.mch.weixin.qq.com`, `fraud.mch.…`, `payapp.…`); the
    /// sandbox serves them all on its one origin.
    pub(crate) host: &'static str,
    /// Whether the merchant's API client certificate must be on the connection.
    pub(crate) cert: bool,
    pub(crate) body: Body,
    pub(crate) signed_request: bool,
    /// Whether the platform signs the answer (red packets, transfers, bills… it does not).
    pub(crate) signed_answer: bool,
    /// Fields the request must carry, non-empty (`sign` apart).
    pub(crate) required: &'static [&'static str],
    pub(crate) answer: Answer,
}

/// The merchant id named by the client certificate on the connection, which the TLS listener
/// has checked chains to the sandbox's CA. Absent on plain HTTP or without a certificate.
#[derive(Debug, Clone)]
pub(crate) struct ClientCertificate {
    pub(crate) common_name: Option<String>,
}

/// The APIv2 operations' routes, to merge beside the APIv3 gate (they have their own checks).
pub(crate) fn routes() -> Router<Arc<Platform>> {
    let mut router = Router::new();
    let mut seen = std::collections::HashSet::new();
    for op in V2_OPERATIONS {
        if !seen.insert((op.method, op.path)) {
            continue;
        }
        router = match op.method {
            "GET" => router.route(op.path, get(handle)),
            _ => router.route(op.path, post(handle)),
        };
    }
    router
}

/// The operation at `method path`.
pub(crate) fn find(method: &Method, path: &str) -> Option<&'static V2Operation> {
    V2_OPERATIONS
        .iter()
        .find(|op| op.method == method.as_str() && op.path == path)
}

/// A FAIL answer as the platform writes it: `return_code` FAIL and a `return_msg`, unsigned.
pub(crate) fn fail(return_msg: &str) -> Response {
    xml_response(&vec![
        ("return_code".to_owned(), "FAIL".to_owned()),
        ("return_msg".to_owned(), return_msg.to_owned()),
    ])
}

fn xml_response(fields: &Fields) -> Response {
    (
        StatusCode::OK,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        )],
        wire::write(fields),
    )
        .into_response()
}

/// What a verified request is: its operation, fields and sign type.
pub(crate) struct Call {
    pub(crate) op: &'static V2Operation,
    pub(crate) fields: Fields,
    pub(crate) sign_type: SignType,
}

impl Call {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        field(&self.fields, name).filter(|v| !v.is_empty())
    }
}

/// A business answer: `return_code` SUCCESS, then `result_code` and the rest.
pub(crate) enum Outcome {
    /// `result_code` SUCCESS with these fields (after return_code/return_msg).
    Success(Fields),
    /// `result_code` FAIL with `err_code` and `err_code_des`.
    Failure(&'static str, String),
}

async fn handle(State(platform): State<Arc<Platform>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Some(op) = find(&parts.method, parts.uri.path()) else {
        return fail("no such API");
    };
    let body = match axum::body::to_bytes(body, crate::routes::MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => return fail("请求体过大或不可读"),
    };
    let (fields, files) = match read_fields(op, &parts, &body) {
        Ok(read) => read,
        Err(message) => return fail(&message),
    };
    let sign_type = match SignType::of(&fields) {
        Ok(sign_type) => sign_type,
        Err(message) => return fail(&message),
    };
    let key = platform.v2.apiv2_key.expose();
    if op.signed_request && !wire::verify(&fields, key, sign_type) {
        return fail("签名错误");
    }
    if op.cert {
        let named = parts
            .extensions
            .get::<ClientCertificate>()
            .and_then(|c| c.common_name.as_deref());
        match named {
            None => return fail("请求未携带证书或证书无效"),
            Some(name) if name != platform.mchid => {
                return fail("证书与商户号不匹配");
            }
            Some(_) => {}
        }
    }
    let query: Fields = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    // A required file (`uploadmedia`'s `media`) is a part with a filename, never signed.
    let present = |name: &str| {
        files.iter().any(|file| file == name)
            || [&fields, &query]
                .iter()
                .any(|f| field(f, name).is_some_and(|v| !v.is_empty()))
    };
    for name in op.required {
        // The spec lists every id a query may name as required; any one of them will do.
        let found = if ORDER_IDS.contains(name) {
            ORDER_IDS.iter().any(|id| present(id))
        } else {
            present(name)
        };
        if !found {
            return fail(&format!("缺少参数 {name}"));
        }
    }
    // The merchant id goes by several names across the products.
    let named_mchid = ["mch_id", "mchid", "sp_mchid"]
        .iter()
        .find_map(|name| field(&fields, name).filter(|v| !v.is_empty()));
    if let Some(mchid) = named_mchid
        && mchid != platform.mchid
    {
        return fail("mch_id 参数错误");
    }
    let call = Call {
        op,
        fields,
        sign_type,
    };
    match &op.answer {
        Answer::File => file_answer(field(&call.fields, "tar_type") == Some("GZIP")),
        Answer::Redirect => {
            let mut response = StatusCode::FOUND.into_response();
            response
                .headers_mut()
                .insert(LOCATION, HeaderValue::from_static("/sandbox/"));
            response
        }
        Answer::Page => (
            StatusCode::OK,
            [(CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><title>wxpay-sandbox</title><p>TEST page of the sandbox</p>",
        )
            .into_response(),
        Answer::Json(example) => (
            StatusCode::OK,
            [(CONTENT_TYPE, "application/json")],
            *example,
        )
            .into_response(),
        Answer::Xml(example) => {
            let outcome = state::stateful(&platform, &call)
                .unwrap_or_else(|| Outcome::Success(echo(example, &call)));
            answer(&platform, &call, outcome)
        }
    }
}

/// The request's fields from where the operation puts them, and the names of its file parts.
fn read_fields(
    op: &V2Operation,
    parts: &axum::http::request::Parts,
    body: &Bytes,
) -> Result<(Fields, Vec<String>), String> {
    match op.body {
        Body::Xml => wire::parse(body)
            .map(|fields| (fields, Vec::new()))
            .map_err(|e| match e {
                XmlError::TooLarge => "请求体过大".to_owned(),
                XmlError::Refused(why) => format!("XML 格式错误: {why}"),
            }),
        Body::Query => Ok((
            form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
            Vec::new(),
        )),
        Body::Multipart => multipart_fields(parts, body),
    }
}

/// The text parts of a multipart form, by name, and the names of its file parts (with a
/// filename), which are no fields: the sign does not cover them.
fn multipart_fields(
    parts: &axum::http::request::Parts,
    body: &Bytes,
) -> Result<(Fields, Vec<String>), String> {
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .ok_or("multipart/form-data 缺少 boundary")?;
    let delimiter = format!("--{boundary}");
    let mut fields = Fields::new();
    let mut files = Vec::new();
    let text = String::from_utf8_lossy(body);
    for part in text.split(delimiter.as_str()).skip(1) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split(';')
            .find_map(|p| p.trim().strip_prefix("name="))
            .map(|n| n.split("\r\n").next().unwrap_or(n).trim_matches('"'))
        else {
            continue;
        };
        if head.contains("filename=") {
            files.push(name.to_owned());
            continue;
        }
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        fields.push((name.to_owned(), value.to_owned()));
    }
    Ok((fields, files))
}

/// The example answer with the values the request itself gave (ids, amounts, `mch_billno`…),
/// as the platform echoes them.
pub(crate) fn echo(example: &[(&str, &str)], call: &Call) -> Fields {
    example
        .iter()
        .filter(|(k, _)| !matches!(*k, "return_code" | "return_msg" | "result_code"))
        .map(|(k, v)| {
            let given = match *k {
                "nonce_str" | "sign_type" => None,
                _ => call.get(k),
            };
            ((*k).to_owned(), given.unwrap_or(v).to_owned())
        })
        .collect()
}

/// Writes a business outcome: SUCCESS envelope, result, a fresh `nonce_str`, and `sign` where the
/// platform signs this answer (with the request's sign type).
pub(crate) fn answer(platform: &Platform, call: &Call, outcome: Outcome) -> Response {
    let mut fields: Fields = vec![
        ("return_code".to_owned(), "SUCCESS".to_owned()),
        ("return_msg".to_owned(), "OK".to_owned()),
    ];
    match outcome {
        Outcome::Success(rest) => {
            fields.push(("result_code".to_owned(), "SUCCESS".to_owned()));
            fields.extend(rest.into_iter().filter(|(k, _)| k != "result_code"));
        }
        Outcome::Failure(code, description) => {
            fields.push(("result_code".to_owned(), "FAIL".to_owned()));
            fields.push(("err_code".to_owned(), code.to_owned()));
            fields.push(("err_code_des".to_owned(), description));
            for name in ["appid", "mch_id", "mch_billno", "out_trade_no"] {
                if let Some(value) = call.get(name) {
                    fields.push((name.to_owned(), value.to_owned()));
                }
            }
        }
    }
    if call.op.signed_answer {
        match fields.iter_mut().find(|(k, _)| k == "nonce_str") {
            Some((_, nonce)) => *nonce = random_alphanumeric(32),
            None => fields.push(("nonce_str".to_owned(), random_alphanumeric(32))),
        }
        let sign = wire::sign(&fields, platform.v2.apiv2_key.expose(), call.sign_type);
        fields.push(("sign".to_owned(), sign));
    }
    xml_response(&fields)
}

/// A bill, as `downloadbill` sends it on success: text, unsigned; GZIP bytes when the
/// request asks `tar_type=GZIP`.
fn file_answer(gzip: bool) -> Response {
    const BILL: &str = "交易时间,公众账号ID,商户号,微信订单号,商户订单号,交易状态,总金额\n\
         `2026-01-02 03:04:05,`wxd678efh567hg6787,`1230000109,`TEST,`TEST,`SUCCESS,`1.00\n\
         总交易单数,应结订单总金额\n`1,`1.00\n";
    if gzip {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        // Writing to a Vec cannot fail.
        if encoder.write_all(BILL.as_bytes()).is_ok()
            && let Ok(bytes) = encoder.finish()
        {
            return (
                StatusCode::OK,
                [(CONTENT_TYPE, "application/x-gzip")],
                bytes,
            )
                .into_response();
        }
    }
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        BILL,
    )
        .into_response()
}
