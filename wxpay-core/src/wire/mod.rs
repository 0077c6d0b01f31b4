//! The wire rules below every request: how values become text (`scalar`), how text is
//! percent-encoded and how already-encoded paths are checked (`encoding`), and the names of
//! the headers the protocol uses. No keys, no endpoints: everything above builds on these.

pub(crate) mod encoding;
pub(crate) mod scalar;

use http::HeaderName;

/// `Wechatpay-Serial`: the platform key a response is signed with, or the one encrypted
/// request fields are encrypted with.
pub const WECHATPAY_SERIAL: HeaderName = HeaderName::from_static("wechatpay-serial");
/// `Wechatpay-Timestamp` of a response or notification.
pub const WECHATPAY_TIMESTAMP: HeaderName = HeaderName::from_static("wechatpay-timestamp");
/// `Wechatpay-Nonce` of a response or notification.
pub const WECHATPAY_NONCE: HeaderName = HeaderName::from_static("wechatpay-nonce");
/// `Wechatpay-Signature` of a response or notification.
pub const WECHATPAY_SIGNATURE: HeaderName = HeaderName::from_static("wechatpay-signature");
/// `Wechatpay-Signature-Type` of a response or notification: the signature scheme.
pub const WECHATPAY_SIGNATURE_TYPE: HeaderName =
    HeaderName::from_static("wechatpay-signature-type");
/// The one signature scheme this SDK verifies, as `Wechatpay-Signature-Type` names it (the
/// platform also has SM2/SM3 schemes).
pub const SIGNATURE_TYPE: &str = "WECHATPAY2-SHA256-RSA2048";
/// `Request-ID`, the platform's name for one call.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");

/// The scheme of the `Authorization` header.
pub const AUTHORIZATION_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// A `Wechatpay-Signature` starting with this is a deliberate probe from the platform: it must
/// fail verification, and is reported as
/// [`VerificationError::SignatureProbe`](crate::VerificationError::SignatureProbe).
pub const SIGNATURE_PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// How far (in seconds) a response or notification timestamp may be from local time.
pub const DEFAULT_TIMESTAMP_TOLERANCE: u64 = 300;
