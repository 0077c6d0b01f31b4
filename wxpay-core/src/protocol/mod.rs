//! The APIv3 wire rules as pure functions: what is signed, how `Authorization` reads, how an
//! answer is verified. Nothing here touches the network or the clock; callers pass the time.

use http::header::{ACCEPT, AUTHORIZATION, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue};

use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;

use crate::endpoint::{Endpoint, RequestParts, RequestWriter, write_apiv3};
use crate::error::{
    ApiError, ConfigError, CryptoError, DecodeError, Error, RequestError, VerificationError,
};
use crate::keys::{MerchantKey, PlatformKey, PlatformKeys};

pub use crate::wire::{
    AUTHORIZATION_SCHEME, DEFAULT_TIMESTAMP_TOLERANCE, REQUEST_ID, SIGNATURE_PROBE_PREFIX,
    SIGNATURE_TYPE, WECHATPAY_NONCE, WECHATPAY_SERIAL, WECHATPAY_SIGNATURE,
    WECHATPAY_SIGNATURE_TYPE, WECHATPAY_TIMESTAMP,
};

/// The string a request signature covers:
/// `METHOD\nPATH_AND_QUERY\nTIMESTAMP\nNONCE\nBODY\n`.
///
/// ```
/// use wxpay_core::protocol::request_message;
/// let m = request_message("GET", "/v3/certificates", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB240", b"");
/// assert_eq!(m, b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB240\n\n");
/// ```
pub fn request_message(
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    // The signed message and the `Authorization` header both need the timestamp as text,
    // without a `String` each.
    let mut digits = itoa::Buffer::new();
    let timestamp = digits.format(timestamp);
    let mut message = Vec::with_capacity(
        method.len() + path_and_query.len() + timestamp.len() + nonce.len() + body.len() + 5,
    );
    for part in [
        method.as_bytes(),
        path_and_query.as_bytes(),
        timestamp.as_bytes(),
        nonce.as_bytes(),
        body,
    ] {
        message.extend_from_slice(part);
        message.push(b'\n');
    }
    message
}

/// The string a response or notification signature covers: `TIMESTAMP\nNONCE\nBODY\n`, over
/// the raw body bytes (never a re-serialised value).
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for part in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        message.extend_from_slice(part);
        message.push(b'\n');
    }
    message
}

/// The `Authorization` header value, fields in the order the platform's documentation shows.
pub fn authorization(
    mchid: &str,
    serial_no: &str,
    timestamp: i64,
    nonce: &str,
    signature: &str,
) -> String {
    let mut header =
        authorization_before_signature(mchid, serial_no, timestamp, nonce, signature.len() + 1);
    header.push_str(signature);
    header.push('"');
    header
}

/// The `Authorization` value up to and including `signature="`, with room for `rest` more
/// bytes, so the signature can be base64-encoded straight into it (one allocation in all).
fn authorization_before_signature(
    mchid: &str,
    serial_no: &str,
    timestamp: i64,
    nonce: &str,
    rest: usize,
) -> String {
    // The signed message and the `Authorization` header both need the timestamp as text,
    // without a `String` each.
    let mut digits = itoa::Buffer::new();
    let timestamp = digits.format(timestamp);
    let parts = [
        AUTHORIZATION_SCHEME,
        " mchid=\"",
        mchid,
        "\",serial_no=\"",
        serial_no,
        "\",timestamp=\"",
        timestamp,
        "\",nonce_str=\"",
        nonce,
        "\",signature=\"",
    ];
    let mut header = String::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + rest);
    for part in parts {
        header.push_str(part);
    }
    header
}

/// 32 random alphanumerics from the operating system's CSPRNG, without modulo bias.
pub fn nonce() -> Result<String, CryptoError> {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut nonce = String::with_capacity(32);
    let mut pool = [0u8; 64];
    while nonce.len() < 32 {
        getrandom::fill(&mut pool).map_err(|_| CryptoError::Random)?;
        // 248 = 4 * 62: bytes at or above it are dropped so every symbol is equally likely.
        for &byte in pool.iter().filter(|&&b| b < 248) {
            if nonce.len() == 32 {
                break;
            }
            nonce.push(char::from(ALPHABET[usize::from(byte % 62)]));
        }
    }
    Ok(nonce)
}

/// Who signs requests: the merchant number and its API key.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    /// The merchant number (`mchid`).
    pub mchid: &'a str,
    /// The merchant's API private key and certificate serial.
    pub key: &'a MerchantKey,
}

/// Everything besides the endpoint that goes into a signed request.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// Scheme and host, no trailing slash, e.g. `https://api.mch.weixin.qq.com`.
    pub base_url: &'a str,
    /// Who signs.
    pub signer: Signer<'a>,
    /// The key ring that chooses the key for encrypted fields.
    pub platform_keys: &'a PlatformKeys,
    /// The `User-Agent` header.
    pub user_agent: &'a HeaderValue,
}

/// Builds the complete signed request for an endpoint.
///
/// Pure: the caller supplies the time (unix seconds) and the nonce, so a fixed key, time and
/// nonce give the same bytes every time (encrypted fields aside: OAEP is randomised).
pub fn prepare<E: Endpoint + ?Sized>(
    endpoint: &E,
    context: &RequestContext<'_>,
    timestamp: i64,
    nonce: &str,
) -> Result<http::Request<Vec<u8>>, Error> {
    let mut writer = RequestWriter::new(E::METHOD, Some(context.platform_keys), timestamp);
    write_apiv3(endpoint, &mut writer)?;
    sign_request(writer.finish(), context, timestamp, nonce)
}

/// Signs request parts into a complete [`http::Request`]: `Authorization`, `Accept`,
/// `User-Agent`, and the parts' own headers. Pure, like [`prepare`].
pub fn sign_request(
    parts: RequestParts,
    context: &RequestContext<'_>,
    timestamp: i64,
    nonce: &str,
) -> Result<http::Request<Vec<u8>>, Error> {
    let signer = context.signer;
    let message = request_message(
        parts.method.as_str(),
        &parts.path_and_query,
        timestamp,
        nonce,
        parts.signed_body.as_deref().unwrap_or(&parts.body),
    );
    let mut authorization = authorization_before_signature(
        signer.mchid,
        signer.key.serial(),
        timestamp,
        nonce,
        signer.key.signature_base64_len() + 1,
    );
    signer.key.sign_into(&message, &mut authorization)?;
    authorization.push('"');
    // Sized exactly: `Uri` and `HeaderValue` then take the buffers over without copying.
    let mut uri = String::with_capacity(context.base_url.len() + parts.path_and_query.len());
    uri.push_str(context.base_url);
    uri.push_str(&parts.path_and_query);
    let mut request = http::Request::builder()
        .method(parts.method)
        .uri(uri)
        .body(parts.body)
        .map_err(|e| {
            Error::Request(RequestError::Field {
                field: "path",
                reason: e.to_string(),
            })
        })?;
    let headers = request.headers_mut();
    *headers = parts.headers;
    // The client builder only admits a mchid and serial of plain ASCII, so this cannot fail
    // for a built client; a hand-made context gets an error, not a panic.
    let authorization = HeaderValue::try_from(authorization).map_err(|_| {
        Error::Config(ConfigError::Invalid {
            setting: "mchid".into(),
            reason: "the mchid or merchant serial is not usable in a header".into(),
        })
    })?;
    headers.insert(AUTHORIZATION, authorization);
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, context.user_agent.clone());
    Ok(request)
}

/// Checks the platform signature of a response or notification: the four `Wechatpay-*`
/// headers (each exactly once), `Wechatpay-Signature-Type` if present (it must be
/// [`SIGNATURE_TYPE`]), the timestamp against `now` (unix seconds) within `tolerance`
/// seconds, the serial against `keys`, and the signature over the raw `body`. Returns the id
/// of the key that signed.
pub fn verify_signature<'k>(
    headers: &HeaderMap,
    body: &[u8],
    keys: &'k PlatformKeys,
    now: i64,
    tolerance: u64,
) -> Result<&'k PlatformKey, VerificationError> {
    // One copy of each: with two, "the first wins" would verify one copy and trust the other.
    let once = |name: &HeaderName, label: &'static str| {
        let mut values = headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (_, Some(_)) => Err(VerificationError::DuplicateHeader(label)),
            (value, None) => Ok(value),
        }
    };
    let text = |name: &HeaderName, label: &'static str| -> Result<&str, VerificationError> {
        once(name, label)?
            .ok_or(VerificationError::MissingHeader(label))?
            .to_str()
            .map_err(|_| VerificationError::MalformedHeader(label))
    };
    let serial = text(&WECHATPAY_SERIAL, "Wechatpay-Serial")?;
    let signature = text(&WECHATPAY_SIGNATURE, "Wechatpay-Signature")?;
    let timestamp_text = text(&WECHATPAY_TIMESTAMP, "Wechatpay-Timestamp")?;
    let nonce = text(&WECHATPAY_NONCE, "Wechatpay-Nonce")?;
    let signature_type = once(&WECHATPAY_SIGNATURE_TYPE, "Wechatpay-Signature-Type")?;

    // The probe is recognised before anything else can fail, so the platform's checks of our
    // verification always see this kind, whatever else the probe carries.
    if signature.starts_with(SIGNATURE_PROBE_PREFIX) {
        return Err(VerificationError::SignatureProbe);
    }
    // Absent is accepted (older answers carry none); anything but the RSA scheme is named as
    // such, not reported as a bad signature.
    if let Some(scheme) = signature_type
        && scheme.as_bytes() != SIGNATURE_TYPE.as_bytes()
    {
        let shown = String::from_utf8_lossy(scheme.as_bytes())
            .chars()
            .take(64)
            .collect();
        return Err(VerificationError::UnsupportedSignatureType(shown));
    }
    let timestamp = parse_timestamp(timestamp_text)
        .ok_or(VerificationError::MalformedHeader("Wechatpay-Timestamp"))?;
    if timestamp.abs_diff(now) > tolerance {
        return Err(VerificationError::ClockSkew {
            timestamp,
            now,
            tolerance,
        });
    }
    let key = keys.verifying_key(serial, now)?;
    // The timestamp is signed as received: verifying the parsed number would accept a
    // re-formatted header.
    let message = response_message(timestamp_text, nonce, body);
    if key.verify(&message, signature) {
        Ok(key)
    } else {
        Err(VerificationError::BadSignature {
            serial: serial.to_owned(),
        })
    }
}

/// Decimal unix seconds only: no sign, no spaces, no leading `+`.
fn parse_timestamp(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A verified answer with what support and logging need beside the value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Verified<T> {
    /// The typed value.
    pub value: T,
    /// HTTP status (2xx).
    pub status: StatusCode,
    /// `Request-ID`, for support tickets.
    pub request_id: Option<String>,
    /// All response headers.
    pub headers: HeaderMap,
}

/// Turns an answer into a typed value: a 2xx must carry a valid platform signature and is
/// then decoded by `decode`; anything else becomes an [`ApiError`].
///
/// An error answer without signature headers is still reported (the platform leaves its 401s
/// unsigned) with [`ApiError::signature_verified`] false; one whose signature is present but
/// wrong is a [`Error::Verification`], since only tampering produces it.
pub fn read_response<T>(
    response: http::Response<Bytes>,
    keys: &PlatformKeys,
    now: i64,
    tolerance: u64,
    decode: impl FnOnce(&[u8]) -> Result<T, serde_json::Error>,
) -> Result<Verified<T>, Error> {
    let verification =
        verify_signature(response.headers(), response.body(), keys, now, tolerance).map(|_| ());
    interpret_response(response, verification, decode)
}

/// [`read_response`] once the signature has been checked (by a caller that may have
/// refreshed its keys in between).
pub fn interpret_response<T>(
    response: http::Response<Bytes>,
    verification: Result<(), VerificationError>,
    decode: impl FnOnce(&[u8]) -> Result<T, serde_json::Error>,
) -> Result<Verified<T>, Error> {
    let (head, body) = response.into_parts();
    let request_id = head
        .headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if !head.status.is_success() {
        let signature_verified = match verification {
            Ok(()) => true,
            Err(VerificationError::MissingHeader(_)) => false,
            Err(kind) => return Err(Error::Verification { kind, request_id }),
        };
        return Err(Error::Api(Box::new(api_error(
            head.status,
            &body,
            request_id,
            signature_verified,
        ))));
    }
    if let Err(kind) = verification {
        return Err(Error::Verification { kind, request_id });
    }
    match decode(&body) {
        Ok(value) => Ok(Verified {
            value,
            status: head.status,
            request_id,
            headers: head.headers,
        }),
        Err(source) => Err(Error::Decode(Box::new(DecodeError::new(
            head.status,
            request_id,
            body,
            &source,
        )))),
    }
}

/// Reads the platform's `{code, message, detail}`; a body that is not that JSON (a proxy's
/// HTML page, say) keeps its text as the message, cut to a readable length.
fn api_error(
    status: StatusCode,
    body: &[u8],
    request_id: Option<String>,
    signature_verified: bool,
) -> ApiError {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
        detail: Option<serde_json::Value>,
    }
    let (code, message, detail) = match serde_json::from_slice::<Body>(body) {
        Ok(b) => (b.code, b.message, b.detail),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let message: String = text.chars().take(256).collect();
            (String::new(), message, None)
        }
    };
    ApiError {
        status,
        code,
        message,
        detail,
        request_id,
        signature_verified,
        signed_request: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_reads_as_the_documented_format() {
        let header = authorization(
            "1900009191",
            "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
            -5,
            "n",
            "s==",
        );
        assert_eq!(
            header,
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",serial_no=\"1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C\",timestamp=\"-5\",nonce_str=\"n\",signature=\"s==\""
        );
        assert_eq!(header.len(), header.capacity(), "sized exactly");
    }
}
