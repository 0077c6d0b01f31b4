//! Signing responses the way the platform does: `Wechatpay-Timestamp`,
//! `Wechatpay-Nonce`, `Wechatpay-Signature` (SHA256withRSA over
//! `timestamp\nnonce\nbody\n`) and `Wechatpay-Serial`.

use aws_lc_rs::error::Unspecified;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::clock;
use crate::crypto::{random_alphanumeric, random_hex};
use crate::keys::Signer;
use crate::state::Platform;

pub(crate) const WECHATPAY_TIMESTAMP: HeaderName = HeaderName::from_static("wechatpay-timestamp");
pub(crate) const WECHATPAY_NONCE: HeaderName = HeaderName::from_static("wechatpay-nonce");
pub(crate) const WECHATPAY_SIGNATURE: HeaderName = HeaderName::from_static("wechatpay-signature");
pub(crate) const WECHATPAY_SERIAL: HeaderName = HeaderName::from_static("wechatpay-serial");
pub(crate) const WECHATPAY_SIGNATURE_TYPE: HeaderName =
    HeaderName::from_static("wechatpay-signature-type");
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");

/// The scheme the platform names on every signed answer and notification.
pub(crate) const SIGNATURE_TYPE: &str = "WECHATPAY2-SHA256-RSA2048";

/// A fresh `Request-ID`, the handle a merchant quotes to support.
pub(crate) fn new_request_id() -> HeaderValue {
    // Upper-case hex digits are always a valid header value.
    HeaderValue::from_str(&random_hex(40)).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

/// The string a response signature covers.
pub(crate) fn response_sign_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for part in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        message.extend_from_slice(part);
        message.push(b'\n');
    }
    message
}

/// Adds the `Wechatpay-*` headers for `body` (the four signature headers and
/// `Wechatpay-Signature-Type`), signed now with the key that signs
/// the platform's responses at this moment.
pub(crate) fn sign_response(
    platform: &Platform,
    headers: &mut HeaderMap,
    body: &[u8],
    now_unix: i64,
) -> Result<(), Unspecified> {
    let signer = platform.keys.response_signer(clock::monotonic());
    sign_response_as(&signer, headers, body, now_unix)
}

/// Adds the `Wechatpay-*` headers for `body`, signed by `signer`.
pub(crate) fn sign_response_as(
    signer: &Signer,
    headers: &mut HeaderMap,
    body: &[u8],
    now_unix: i64,
) -> Result<(), Unspecified> {
    let timestamp = now_unix.to_string();
    let nonce = random_alphanumeric(32);
    let signature = signer.sign(&response_sign_message(&timestamp, &nonce, body))?;
    let value = |text: &str| HeaderValue::from_str(text).map_err(|_| Unspecified);
    headers.insert(WECHATPAY_TIMESTAMP, value(&timestamp)?);
    headers.insert(WECHATPAY_NONCE, value(&nonce)?);
    headers.insert(WECHATPAY_SIGNATURE, value(&STANDARD.encode(signature))?);
    headers.insert(WECHATPAY_SERIAL, value(signer.serial())?);
    headers.insert(
        WECHATPAY_SIGNATURE_TYPE,
        HeaderValue::from_static(SIGNATURE_TYPE),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_message_layout() {
        assert_eq!(response_sign_message("1", "n", b"{}"), b"1\nn\n{}\n");
        assert_eq!(response_sign_message("1", "n", b""), b"1\nn\n\n");
    }
}
