//! APIv2 answers and notifications: what is data, and what never is.

use super::{Fields, SignType, parse_with, to_xml, verify};
use crate::crypto::CryptoBackend;
use crate::error::{ApiV2Error, ApiV2NotificationError, CryptoError};
use crate::keys::ApiV2Key;

/// The largest APIv2 answer read, 1 MiB. The spec's answers are flat fields of at most
/// 6,000 characters each (`certificates`, `promotion_detail`), a few dozen per answer, so the
/// largest is tens of KiB; a limit far above that never refuses a genuine answer, and one
/// this size bounds the memory a hostile answer can take after the transport's own limit.
pub const MAX_ANSWER_LEN: usize = 1024 * 1024;

/// The largest APIv2 notification read, 64 KiB: the same limit as APIv3 notifications
/// (a payment notification is a few dozen short fields; a refund's `req_info` is about 1 KiB).
pub const MAX_NOTIFICATION_LEN: usize = 64 * 1024;

/// The acknowledgement a notification handler answers once it has taken a notification.
pub const ACKNOWLEDGEMENT: &str = "<xml><return_code>SUCCESS</return_code></xml>";

/// The answer that tells the platform a notification was not taken (it sends it again later),
/// with a message for the merchant platform's logs.
///
/// ```
/// use wxpay_core::apiv2;
/// assert_eq!(
///     apiv2::refusal("busy"),
///     "<xml><return_code>FAIL</return_code><return_msg>busy</return_msg></xml>"
/// );
/// ```
pub fn refusal(message: &str) -> String {
    let with_message: Fields = [("return_code", "FAIL"), ("return_msg", message)]
        .into_iter()
        .collect();
    // A message XML cannot carry is dropped rather than sent broken.
    to_xml(&with_message)
        .unwrap_or_else(|_| "<xml><return_code>FAIL</return_code></xml>".to_owned())
}

/// Reads an APIv2 answer: the verified fields, or why they are not data.
///
/// `sign_type` is the type the request asked for; `signed` is whether the operation's answers
/// are signed (the platform leaves red packets, transfers, bank payouts, `downloadbill`,
/// `getpublickey`, `getsignkey` and a few others unsigned). In order:
///
/// 1. the body must be a flat `<xml>` document ([`ApiV2Error::Xml`]);
/// 2. `return_code` `FAIL` is [`ApiV2Error::Platform`] with `return_msg` (the platform sends
///    these unsigned, and they carry no data); no `return_code` of `SUCCESS` or `FAIL` is
///    [`ApiV2Error::MissingReturnCode`];
/// 3. for a signed operation the `sign` must verify ([`ApiV2Error::Verification`]);
/// 4. `result_code` `FAIL` is [`ApiV2Error::Business`] with `err_code` and `err_code_des`.
///
/// ```
/// use wxpay_core::apiv2::{self, ApiV2Error, ApiV2SignError, SignType};
/// use wxpay_core::{ApiV2Key, CryptoBackend};
/// let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
/// let backend = CryptoBackend::default();
/// let refused = "<xml><return_code>FAIL</return_code><return_msg>签名错误</return_msg></xml>".as_bytes();
/// assert_eq!(
///     apiv2::read_answer(refused, &key, SignType::Md5, true, backend),
///     Err(ApiV2Error::Platform { return_msg: Some("签名错误".into()) })
/// );
/// let unsigned = b"<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code></xml>";
/// assert_eq!(
///     apiv2::read_answer(unsigned, &key, SignType::Md5, true, backend),
///     Err(ApiV2Error::Verification(ApiV2SignError::MissingSign))
/// );
/// let fields = apiv2::read_answer(unsigned, &key, SignType::Md5, false, backend).unwrap();
/// assert_eq!(fields.get("result_code"), Some("SUCCESS"));
/// ```
pub fn read_answer(
    body: &[u8],
    key: &ApiV2Key,
    sign_type: SignType,
    signed: bool,
    backend: CryptoBackend,
) -> Result<Fields, ApiV2Error> {
    let fields = parse_with(body, "xml", MAX_ANSWER_LEN).map_err(ApiV2Error::Xml)?;
    match fields.get("return_code") {
        Some("SUCCESS") => {}
        Some("FAIL") => {
            return Err(ApiV2Error::Platform {
                return_msg: fields.get("return_msg").map(str::to_owned),
            });
        }
        _ => return Err(ApiV2Error::MissingReturnCode),
    }
    if signed {
        verify(&fields, key, sign_type, backend).map_err(ApiV2Error::Verification)?;
    }
    if fields.get("result_code") == Some("FAIL") {
        return Err(ApiV2Error::Business {
            err_code: fields.get("err_code").map(str::to_owned),
            err_code_des: fields.get("err_code_des").map(str::to_owned),
        });
    }
    Ok(fields)
}

/// Reads a payment result notification: a signed `<xml>` document, verified as an answer is,
/// with `sign_type` the type the merchant's orders ask for. A notification with
/// `result_code` `FAIL` is still a verified notification (the payment failed): its fields are
/// returned for the caller to read.
///
/// ```
/// use wxpay_core::apiv2::{self, ApiV2NotificationError, ApiV2SignError, SignType};
/// use wxpay_core::{ApiV2Key, CryptoBackend};
/// let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
/// let forged = b"<xml><return_code>SUCCESS</return_code><total_fee>1</total_fee><sign>00</sign></xml>";
/// assert_eq!(
///     apiv2::read_payment_notification(forged, &key, SignType::Md5, CryptoBackend::default()),
///     Err(ApiV2NotificationError::Verification(ApiV2SignError::BadSign { sign_type: "MD5" }))
/// );
/// ```
pub fn read_payment_notification(
    body: &[u8],
    key: &ApiV2Key,
    sign_type: SignType,
    backend: CryptoBackend,
) -> Result<Fields, ApiV2NotificationError> {
    let fields =
        parse_with(body, "xml", MAX_NOTIFICATION_LEN).map_err(ApiV2NotificationError::Xml)?;
    if fields.get("return_code") != Some("SUCCESS") {
        return Err(ApiV2NotificationError::NotSuccess);
    }
    verify(&fields, key, sign_type, backend).map_err(ApiV2NotificationError::Verification)?;
    Ok(fields)
}

/// A refund result notification: its envelope and the decrypted `req_info`.
///
/// `Debug` shows field names only.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundNotification {
    /// The outer fields (`return_code`, `appid`, `mch_id`, `nonce_str`, `req_info`): not signed,
    /// so to be trusted only as far as `refund` decrypted.
    pub envelope: Fields,
    /// The decrypted `req_info` fields (`out_refund_no`, `refund_id`, `refund_status`,
    /// `refund_fee`, `success_time`, …).
    pub refund: Fields,
}

/// Reads a refund result notification: `req_info` is base64 of AES-256-ECB (PKCS#7) under the
/// lower-case hex MD5 of the APIv2 key, holding a flat `<root>` document.
///
/// The envelope carries no `sign`: only the APIv2 key holder can make a `req_info` that
/// decrypts to a well-formed `<root>` document, and that is the whole check the protocol
/// offers (ECB has no integrity of its own: see `docs/threats.md`).
///
/// ```
/// use wxpay_core::apiv2::{self, ApiV2NotificationError};
/// use wxpay_core::{ApiV2Key, CryptoBackend};
/// let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
/// let backend = CryptoBackend::default();
/// let req_info = key.encrypt_req_info(b"<root><refund_fee>1</refund_fee></root>", backend).unwrap();
/// let body = format!("<xml><return_code>SUCCESS</return_code><req_info>{req_info}</req_info></xml>");
/// let notification = apiv2::read_refund_notification(body.as_bytes(), &key, backend).unwrap();
/// assert_eq!(notification.refund.get("refund_fee"), Some("1"));
///
/// let other_key = ApiV2Key::new("TESTotherkey0123456789ABCDEFGHIJ").unwrap();
/// assert_eq!(
///     apiv2::read_refund_notification(body.as_bytes(), &other_key, backend),
///     Err(ApiV2NotificationError::ReqInfoPadding)
/// );
/// ```
pub fn read_refund_notification(
    body: &[u8],
    key: &ApiV2Key,
    backend: CryptoBackend,
) -> Result<RefundNotification, ApiV2NotificationError> {
    let envelope =
        parse_with(body, "xml", MAX_NOTIFICATION_LEN).map_err(ApiV2NotificationError::Xml)?;
    if envelope.get("return_code") != Some("SUCCESS") {
        return Err(ApiV2NotificationError::NotSuccess);
    }
    let req_info = envelope
        .get("req_info")
        .filter(|text| !text.is_empty())
        .ok_or(ApiV2NotificationError::MissingReqInfo)?;
    let plaintext = key
        .decrypt_req_info(req_info, backend)
        .map_err(|e| match e {
            CryptoError::Base64 => ApiV2NotificationError::ReqInfoNotBase64,
            CryptoError::Padding => ApiV2NotificationError::ReqInfoPadding,
            _ => ApiV2NotificationError::ReqInfoDecrypt,
        })?;
    let refund = parse_with(&plaintext, "root", MAX_NOTIFICATION_LEN)
        .map_err(ApiV2NotificationError::ReqInfo)?;
    Ok(RefundNotification { envelope, refund })
}

/// A verified APIv2 notification: what [`read_notification`] (and
/// `Client::read_apiv2_notification`) gives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notification {
    /// A payment result: the signed `<xml>` fields (`out_trade_no`, `transaction_id`,
    /// `total_fee`, `result_code`, …), verified. A `result_code` of `FAIL` is a verified
    /// notification of a failed payment.
    Payment(Fields),
    /// A refund result: its envelope and the decrypted `req_info`.
    Refund(RefundNotification),
}

/// Reads an APIv2 notification of either kind: one that carries `req_info` is a refund
/// result ([`read_refund_notification`]), any other a payment result
/// ([`read_payment_notification`]), verified with the sign type it names in `sign_type` (MD5
/// when it names none, as the protocol defines). The merchant cannot know which type the
/// platform signed an order's notification with, and nothing is lost by reading it there:
/// `sign_type` is covered by the `sign`, and both types are keyed by the APIv2 key. A `sign`
/// of the other type than the one named is refused ([`ApiV2SignError::OtherSignType`]).
///
/// ```
/// use wxpay_core::apiv2::{self, Fields, Notification, SignType};
/// use wxpay_core::{ApiV2Key, CryptoBackend};
/// let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
/// let backend = CryptoBackend::default();
/// let paid: Fields = [("return_code", "SUCCESS"), ("out_trade_no", "TEST1")].into_iter().collect();
/// // Signed HMAC-SHA256, so it carries `sign_type` HMAC-SHA256.
/// let body = apiv2::signed_request_xml(paid, Some("TESTnonce"), &key, SignType::HmacSha256, backend).unwrap();
/// match apiv2::read_notification(body.as_bytes(), &key, backend).unwrap() {
///     Notification::Payment(fields) => assert_eq!(fields.get("out_trade_no"), Some("TEST1")),
///     other => panic!("{other:?}"),
/// }
/// ```
///
/// [`ApiV2SignError::OtherSignType`]: crate::ApiV2SignError::OtherSignType
pub fn read_notification(
    body: &[u8],
    key: &ApiV2Key,
    backend: CryptoBackend,
) -> Result<Notification, ApiV2NotificationError> {
    let envelope =
        parse_with(body, "xml", MAX_NOTIFICATION_LEN).map_err(ApiV2NotificationError::Xml)?;
    if envelope.get("req_info").is_some() {
        return read_refund_notification(body, key, backend).map(Notification::Refund);
    }
    let sign_type = envelope
        .get("sign_type")
        .and_then(SignType::from_name)
        .unwrap_or_default();
    read_payment_notification(body, key, sign_type, backend).map(Notification::Payment)
}

/// The answer to an APIv2 notification delivery: the XML acknowledgement, or a refusal the
/// platform delivers the notification again after.
///
/// ```
/// use wxpay_core::apiv2::{self, Reply};
/// let taken = Reply::acknowledge().into_http_response();
/// assert_eq!(taken.status(), 200);
/// assert_eq!(taken.body(), apiv2::ACKNOWLEDGEMENT);
/// let refused = Reply::refuse("busy").into_http_response();
/// assert_eq!(refused.status(), 500);
/// assert_eq!(refused.body(), &apiv2::refusal("busy"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    refusal: Option<String>,
}

impl Reply {
    /// [`ACKNOWLEDGEMENT`] with 200: send it once the notification is stored (or was already
    /// handled: acknowledge duplicates too, or they keep coming).
    pub fn acknowledge() -> Reply {
        Reply { refusal: None }
    }

    /// [`refusal`] of `message` with 500: the platform delivers the notification again.
    pub fn refuse(message: impl Into<String>) -> Reply {
        Reply {
            refusal: Some(message.into()),
        }
    }

    /// The refusal of a notification that could not be read. The message names the kind of
    /// problem only: the details are for the merchant's logs, not for whoever sent it.
    pub fn rejecting(error: &crate::error::Error) -> Reply {
        use crate::error::Error;
        Reply::refuse(match error {
            Error::ApiV2Notification(ApiV2NotificationError::Verification(_)) => {
                "signature verification failed"
            }
            Error::ApiV2Notification(_) => "the notification could not be read",
            _ => "the notification could not be processed",
        })
    }

    /// Whether this acknowledges the notification.
    pub fn is_acknowledgement(&self) -> bool {
        self.refusal.is_none()
    }

    /// The HTTP response, for any web framework (with the `axum` feature `Reply` is also an
    /// `axum::response::IntoResponse`).
    pub fn into_http_response(self) -> http::Response<String> {
        let (status, body) = match self.refusal {
            None => (http::StatusCode::OK, ACKNOWLEDGEMENT.to_owned()),
            Some(message) => (http::StatusCode::INTERNAL_SERVER_ERROR, refusal(&message)),
        };
        let mut response = http::Response::new(body);
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/xml; charset=utf-8"),
        );
        response
    }
}
