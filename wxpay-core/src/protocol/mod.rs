//! The APIv3 wire rules as pure functions: what is signed, how `Authorization` reads, how an
//! answer is verified. Nothing here touches the network or the clock; callers pass the time.

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
/// `Request-ID`, the platform's name for one call.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
