//! The `Authorization` header: parsing `WECHATPAY2-SHA256-RSA2048 k="v",…` and checking
//! it the way the platform does (merchant id, serial, clock, signature).

use axum::http::header::{CONTENT_TYPE, HeaderValue};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::keys::same_serial;
use crate::state::Platform;

/// The only scheme APIv3 knows.
pub(crate) const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// How far a request's timestamp may be from the platform's clock, in seconds.
pub(crate) const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// How many characters of the body the platform echoes back in
/// `truncated_sign_message` (it shows enough to spot a body mismatch, no more).
const TRUNCATED_BODY_CHARS: usize = 10;

/// The fields of a parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization {
    pub(crate) mchid: String,
    pub(crate) nonce_str: String,
    pub(crate) timestamp: String,
    pub(crate) serial_no: String,
    pub(crate) signature: String,
}

/// Parses `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",…`: fields in any order,
/// optional spaces after commas, each of the five exactly once; unknown fields are ignored.
pub(crate) fn parse_authorization(header: &str) -> Result<Authorization, String> {
    let rest = header
        .strip_prefix(SCHEME)
        .ok_or_else(|| format!("authorization scheme is not {SCHEME}"))?;
    if !rest.starts_with(' ') {
        return Err(format!("authorization scheme is not {SCHEME}"));
    }
    let mut fields: [(&str, Option<String>); 5] = [
        ("mchid", None),
        ("nonce_str", None),
        ("timestamp", None),
        ("serial_no", None),
        ("signature", None),
    ];
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("malformed authorization parameters near {rest:?}"))?;
        let name = rest[..eq].trim();
        let after = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or_else(|| format!("value of {name} is not quoted"))?;
        let close = after
            .find('"')
            .ok_or_else(|| format!("value of {name} is not closed"))?;
        let value = &after[..close];
        if let Some(slot) = fields.iter_mut().find(|(n, _)| *n == name) {
            if slot.1.is_some() {
                return Err(format!("{name} appears twice"));
            }
            slot.1 = Some(value.to_owned());
        }
        rest = after[close + 1..].trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
            if rest.is_empty() {
                return Err("trailing comma in authorization".into());
            }
        } else if !rest.is_empty() {
            return Err(format!("expected a comma near {rest:?}"));
        }
    }
    let [mchid, nonce_str, timestamp, serial_no, signature] = fields.map(|(name, value)| {
        value
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{name} is missing from authorization"))
    });
    Ok(Authorization {
        mchid: mchid?,
        nonce_str: nonce_str?,
        timestamp: timestamp?,
        serial_no: serial_no?,
        signature: signature?,
    })
}

/// The string a request signature covers.
pub(crate) fn request_sign_message(
    method: &str,
    url: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut message = Vec::with_capacity(method.len() + url.len() + body.len() + 64);
    for part in [
        method.as_bytes(),
        url.as_bytes(),
        timestamp.as_bytes(),
        nonce.as_bytes(),
        body,
    ] {
        message.extend_from_slice(part);
        message.push(b'\n');
    }
    message
}

/// A refused signature: 401 `SIGN_ERROR` with the platform's view of what was signed.
/// Like the platform, the answer is not signed.
#[derive(Debug)]
pub(crate) struct SignRejection {
    pub(crate) issue: String,
    method: String,
    url: String,
    truncated_sign_message: String,
    sign_message_length: usize,
    /// The whole message the platform expected to be signed (for the dashboard only: the
    /// answer carries the truncated one, as the platform's does).
    pub(crate) expected_message: String,
}

impl SignRejection {
    fn new(
        issue: impl Into<String>,
        method: &Method,
        url: &str,
        ts: &str,
        nonce: &str,
        body: &[u8],
    ) -> Self {
        let body_text = String::from_utf8_lossy(body);
        let truncated_body: String = body_text.chars().take(TRUNCATED_BODY_CHARS).collect();
        let truncated =
            request_sign_message(method.as_str(), url, ts, nonce, truncated_body.as_bytes());
        let expected = request_sign_message(method.as_str(), url, ts, nonce, body);
        SignRejection {
            issue: issue.into(),
            method: method.as_str().to_owned(),
            url: url.to_owned(),
            truncated_sign_message: String::from_utf8_lossy(&truncated).into_owned(),
            sign_message_length: expected.len(),
            expected_message: crate::journal::shorten(&String::from_utf8_lossy(&expected)),
        }
    }

    /// `detail.sign_information` of the answer.
    pub(crate) fn sign_information(&self) -> serde_json::Value {
        json!({
            "method": self.method,
            "url": self.url,
            "truncated_sign_message": self.truncated_sign_message,
            "sign_message_length": self.sign_message_length,
        })
    }
}

impl IntoResponse for SignRejection {
    fn into_response(self) -> Response {
        let body = json!({
            "code": "SIGN_ERROR",
            "message": "签名错误",
            "detail": {
                "field": "signature",
                "location": "authorization",
                "issue": self.issue,
                "sign_information": self.sign_information(),
            },
        });
        let mut response = (StatusCode::UNAUTHORIZED, body.to_string()).into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// Checks a request's `Authorization` against the merchant the platform knows. A refusal is
/// boxed: it carries the whole expected message for the dashboard.
pub(crate) fn verify_request(
    platform: &Platform,
    method: &Method,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
    now_unix: i64,
) -> Result<Authorization, Box<SignRejection>> {
    let reject = |issue: String, ts: &str, nonce: &str| {
        Box::new(SignRejection::new(issue, method, url, ts, nonce, body))
    };
    let header = match headers.get(axum::http::header::AUTHORIZATION) {
        None => return Err(reject("Authorization header is missing".into(), "", "")),
        Some(value) => match value.to_str() {
            Ok(text) => text,
            Err(_) => return Err(reject("Authorization header is not ASCII".into(), "", "")),
        },
    };
    let auth = parse_authorization(header).map_err(|issue| reject(issue, "", ""))?;
    let fail = |issue: String| reject(issue, &auth.timestamp, &auth.nonce_str);
    if auth.mchid != platform.mchid {
        return Err(fail(format!("mchid {} is not this merchant", auth.mchid)));
    }
    if !same_serial(&auth.serial_no, &platform.merchant.serial) {
        return Err(fail(format!(
            "serial_no {} is not the merchant certificate serial",
            auth.serial_no
        )));
    }
    let timestamp: i64 = auth
        .timestamp
        .parse()
        .map_err(|_| fail(format!("timestamp {} is not unix seconds", auth.timestamp)))?;
    if (now_unix - timestamp).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(fail(format!(
            "timestamp {timestamp} is more than {MAX_CLOCK_SKEW_SECS} seconds from the platform clock {now_unix}"
        )));
    }
    let signature = STANDARD
        .decode(&auth.signature)
        .map_err(|_| fail("signature is not base64".into()))?;
    let message =
        request_sign_message(method.as_str(), url, &auth.timestamp, &auth.nonce_str, body);
    if !platform.merchant.verify(&message, &signature) {
        return Err(fail("sign not match".into()));
    }
    Ok(auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="c2lnbmF0dXJl",timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C""#;

    #[test]
    fn parses_fields_in_any_order() {
        let auth = parse_authorization(GOOD).expect("parse");
        assert_eq!(auth.mchid, "1900009191");
        assert_eq!(auth.nonce_str, "593BEC0C930BF1AFEB40B4A08C8FB242");
        assert_eq!(auth.timestamp, "1554208460");
        assert_eq!(auth.serial_no, "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C");
        assert_eq!(auth.signature, "c2lnbmF0dXJl");
        let spaced = GOOD.replace("\",", "\", ");
        assert_eq!(parse_authorization(&spaced).expect("spaces"), auth);
    }

    #[test]
    fn rejects_malformed_headers() {
        for bad in [
            "",
            "Bearer x",
            &GOOD.replacen("WECHATPAY2-SHA256-RSA2048", "WECHATPAY2-SHA256-RSA2048x", 1),
            &GOOD.replacen("mchid=\"1900009191\",", "", 1),
            &GOOD.replacen("mchid=\"1900009191\"", "mchid=\"\"", 1),
            &format!("{GOOD},mchid=\"1\""),
            &format!("{GOOD},"),
            &GOOD.replacen("\"1554208460\"", "1554208460", 1),
            &GOOD.replacen("\"1554208460\"", "\"1554208460", 1),
            &GOOD.replacen(",", " ", 1),
        ] {
            assert!(parse_authorization(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sign_message_layout() {
        assert_eq!(
            request_sign_message("GET", "/v3/certificates", "1", "n", b""),
            b"GET\n/v3/certificates\n1\nn\n\n"
        );
    }
}
