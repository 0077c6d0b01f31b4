//! Notifications (webhooks): verified and decrypted.
//!
//! Every payment, refund and coupon event reaches a merchant as a notification POSTed to its
//! URL. Reading one takes the raw request, never a parsed JSON value, because the signature
//! covers the exact bytes received:
//!
//! 1. verify the `Wechatpay-*` signature over `timestamp\nnonce\nbody\n` with the platform key
//!    ring, rejecting timestamps outside the tolerance and `WECHATPAY/SIGNTEST/` probes;
//! 2. parse the envelope `{id, create_time, event_type, resource_type, summary, resource}`;
//! 3. decrypt `resource` (AEAD_AES_256_GCM with the APIv3 key, its nonce and associated data);
//! 4. keep it as a [`Resource`]: JSON, typed with [`Resource::deserialize`] (the facade's
//!    `wxpay::notification::Event` types it with the catalog's own types).
//!
//! With a [`Client`](crate::Client) this is one call, [`Client::read_notification`](crate::Client::read_notification), which
//! verifies with the client's key ring (the same one answers are checked with). Without one,
//! [`read`] is the same as a pure function of the keys and the time.
//!
//! # Duplicates
//!
//! The platform repeats a notification until it is acknowledged, for about a day, and may
//! deliver one twice even after an acknowledgement. Handle each notification idempotently by
//! its [`id`](Notification::id): record the id (or the business key, such as `out_trade_no`)
//! in the same database transaction as its effect, and acknowledge a repeat with
//! [`Reply::success`] without acting on it again. [`SeenNotifications`] is a small in-memory
//! guard for a single process; it does not replace the database check.
//!
//! [`Receiver`] does the whole round: it reads a delivery, claims its id in a
//! [`NotificationLedger`] before the handler runs, marks it handled after, releases the claim
//! when the handler fails, and answers. The ledger is [`SeenNotifications`] unless told
//! otherwise; with the `redis` feature, `RedisFleet::seen_notifications` shares it across a
//! fleet of instances, so a retry that lands on another instance is not handled twice.
//!
//! # Replying
//!
//! Answer [`Reply::success`] (204) once the event is safely stored, and [`Reply::rejecting`]
//! (4xx/5xx with `{code, message}`) otherwise, so that the platform delivers it again.
//!
//! ```
//! use wxpay_core::notification::{EventType, Reply};
//!
//! #[derive(serde::Deserialize)]
//! struct Paid { out_trade_no: String }
//!
//! # #[cfg(feature = "client")]
//! # async fn handle(client: wxpay_core::Client, headers: http::HeaderMap, body: bytes::Bytes) -> http::Response<bytes::Bytes> {
//! let notification = match client.read_notification(&headers, &body).await {
//!     Ok(notification) => notification,
//!     Err(error) => return Reply::rejecting(&error).into_http_response(),
//! };
//! if notification.event_type == EventType::TransactionSuccess {
//!     match notification.resource.deserialize::<Paid>() {
//!         Ok(paid) => println!("{} paid", paid.out_trade_no),
//!         Err(error) => return Reply::rejecting(&wxpay_core::Error::from(error)).into_http_response(),
//!     }
//! }
//! Reply::success().into_http_response()
//! # }
//! ```

#[cfg(feature = "axum")]
mod axum;
mod event_type;
mod events;
mod ledger;
#[cfg(feature = "client")]
mod receiver;
mod reply;
mod seen;
mod unique;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::crypto::CryptoBackend;
use crate::error::{Error, NotificationError};
use crate::keys::{ApiV3Key, PlatformKeys};
use crate::protocol;

#[cfg(feature = "axum")]
pub use self::axum::{ApiV2NotificationRejection, NotificationRejection};
pub use events::{EventType, Resource};
pub use ledger::{Claim, ClaimToken, LedgerFuture, NotificationLedger};
#[cfg(feature = "client")]
pub use receiver::Receiver;
pub use reply::Reply;
pub use seen::SeenNotifications;

/// The only resource algorithm the platform uses.
pub const RESOURCE_ALGORITHM: &str = "AEAD_AES_256_GCM";

/// Notification bodies larger than this are refused unread, however they are read
/// ([`read`], [`Client::read_notification`](crate::Client::read_notification), the axum
/// extractor); real ones are a few KiB.
pub const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

/// Refuses a body over [`MAX_NOTIFICATION_BYTES`] before its signature is computed over.
pub(crate) fn check_size(body: &[u8]) -> Result<(), NotificationError> {
    if body.len() > MAX_NOTIFICATION_BYTES {
        return Err(NotificationError::UnreadableBody);
    }
    Ok(())
}

/// AES-GCM nonces are 12 bytes; the platform sends 12 characters.
const NONCE_LEN: usize = 12;
/// AES-GCM tag appended to the ciphertext.
const TAG_LEN: usize = 16;

/// A verified, decrypted notification.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Notification {
    /// The notification id: the same for every delivery of one notification, so the key to
    /// handle it idempotently.
    pub id: String,
    /// When the platform created the notification.
    pub create_time: OffsetDateTime,
    /// What happened, e.g. `TRANSACTION.SUCCESS`.
    pub event_type: EventType,
    /// `encrypt-resource` for every notification with an encrypted resource.
    pub resource_type: String,
    /// The platform's one-line summary (Chinese), e.g. `支付成功`.
    pub summary: String,
    /// The type of the object before encryption, e.g. `transaction`.
    pub original_type: String,
    /// The decrypted resource.
    pub resource: Resource,
}

/// The envelope as sent; `resource` still encrypted.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(with = "time::serde::rfc3339")]
    create_time: OffsetDateTime,
    event_type: String,
    #[serde(default)]
    resource_type: String,
    #[serde(default)]
    summary: String,
    resource: EncryptedResource,
}

#[derive(Deserialize)]
struct EncryptedResource {
    algorithm: String,
    ciphertext: String,
    nonce: String,
    #[serde(default)]
    associated_data: String,
    #[serde(default)]
    original_type: String,
}

/// Reads a notification: verifies its signature against `keys` at `now` (unix seconds, within
/// `tolerance` seconds), then parses and decrypts it with `apiv3_key`.
///
/// Pure: no network and no clock, so a fixed key, time and body always give the same result.
/// [`Client::read_notification`](crate::Client::read_notification) is the same with the
/// client's keys, its tolerance and the current time.
///
/// # Errors
/// [`Error::Verification`] for a missing or malformed header, a skewed timestamp, an unknown
/// serial, a bad signature or a probe; [`Error::Notification`] for an envelope or resource
/// that cannot be read.
///
/// ```
/// use wxpay_core::notification;
/// use wxpay_core::{ApiV3Key, CryptoBackend, Error, PlatformKeys, VerificationError};
///
/// let apiv3_key = ApiV3Key::new("TESTapiv3key0123456789ABCDEFGHIJ")?;
/// let unsigned = http::HeaderMap::new();
/// let result = notification::read(&unsigned, b"{}", &PlatformKeys::new(), &apiv3_key,
///     CryptoBackend::default(), 1_700_000_000, 300);
/// assert!(matches!(result, Err(Error::Verification { kind: VerificationError::MissingHeader(_), .. })));
/// # Ok::<(), wxpay_core::KeyError>(())
/// ```
pub fn read(
    headers: &HeaderMap,
    body: &[u8],
    keys: &PlatformKeys,
    apiv3_key: &ApiV3Key,
    backend: CryptoBackend,
    now: i64,
    tolerance: u64,
) -> Result<Notification, Error> {
    check_size(body)?;
    protocol::verify_signature(headers, body, keys, now, tolerance).map_err(|kind| {
        Error::Verification {
            kind,
            request_id: None,
        }
    })?;
    Ok(decrypt_verified(body, apiv3_key, backend)?)
}

/// Parses and decrypts a body whose signature has been verified. Private on purpose: there is
/// no public way to read a notification without verifying it.
pub(crate) fn decrypt_verified(
    body: &[u8],
    apiv3_key: &ApiV3Key,
    backend: CryptoBackend,
) -> Result<Notification, NotificationError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| NotificationError::MalformedEnvelope {
            reason: e.to_string(),
        })?;
    let resource = &envelope.resource;
    if resource.algorithm != RESOURCE_ALGORITHM {
        return Err(NotificationError::UnsupportedAlgorithm(
            resource.algorithm.clone(),
        ));
    }
    if resource.nonce.len() != NONCE_LEN {
        return Err(NotificationError::BadNonce {
            length: resource.nonce.len(),
        });
    }
    // Checked here, before the AEAD, so a cut-off body is named as such rather than as a
    // wrong key.
    let sealed = BASE64
        .decode(&resource.ciphertext)
        .map_err(|_| NotificationError::CiphertextNotBase64)?;
    if sealed.len() < TAG_LEN {
        return Err(NotificationError::TruncatedCiphertext {
            length: sealed.len(),
        });
    }
    let plaintext = apiv3_key
        .decrypt(
            &resource.nonce,
            &resource.associated_data,
            &resource.ciphertext,
            backend,
        )
        .map_err(|_| NotificationError::Decrypt)?;
    let event_type = EventType::from(envelope.event_type.as_str());
    let resource = Resource::new(
        event_type.clone(),
        decode_resource(&event_type, &plaintext)?,
    );
    Ok(Notification {
        id: envelope.id,
        create_time: envelope.create_time,
        event_type,
        resource_type: envelope.resource_type,
        summary: envelope.summary,
        original_type: envelope.resource.original_type,
        resource,
    })
}

/// Decodes decrypted JSON, refusing a key named twice in one object at any depth (a JSON
/// parser keeps the last of two and says nothing). serde's messages quote the offending
/// value, which here may be personal data, so the error keeps only where and what kind of
/// problem it was.
fn decode_resource<T: DeserializeOwned>(
    event_type: &EventType,
    plaintext: &[u8],
) -> Result<T, NotificationError> {
    let value = serde_json::from_slice(plaintext).map_err(|e| resource_error(event_type, &e))?;
    if let Some(key) = unique::repeated_key(plaintext) {
        return Err(NotificationError::DuplicateKey {
            event_type: event_type.as_str().to_owned(),
            key,
        });
    }
    Ok(value)
}

fn resource_error(event_type: &EventType, e: &serde_json::Error) -> NotificationError {
    NotificationError::MalformedResource {
        event_type: event_type.as_str().to_owned(),
        problem: crate::error::json_problem(e),
        line: e.line(),
        column: e.column(),
    }
}

#[cfg(test)]
mod tests;
