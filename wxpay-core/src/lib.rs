//! The runtime behind [`wxpay`](https://docs.rs/wxpay): keys, request signing, response
//! verification, sensitive-field encryption, the crypto backends and the HTTP client.
//!
//! The protocol lives in pure functions ([`protocol`]) that turn an [`Endpoint`] into an
//! [`http::Request`] and an [`http::Response`] back into a typed value; [`Client`] adds the
//! transport at the edge. Most users depend on the `wxpay` facade and never name this crate.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(not(any(feature = "aws-lc-rs", feature = "rsa")))]
compile_error!("wxpay-core needs a crypto backend: enable the `aws-lc-rs` or the `rsa` feature");

pub mod certificates;
mod client;
mod config;
pub mod crypto;
mod download;
mod dynamic;
mod endpoint;
mod error;
mod keyring;
pub mod keys;
mod merchant;
pub mod notification;
mod pem;
pub mod protocol;
mod retry;

pub use client::Client;
pub use config::{BACKUP_BASE_URL, ClientBuilder, DEFAULT_BASE_URL};
pub use crypto::CryptoBackend;
pub use download::{Compression, Download, DownloadError, Downloaded, MAX_WRITE};
pub use dynamic::DynamicRequest;
pub use endpoint::{Endpoint, RequestParts, RequestWriter};
pub use error::{
    ApiError, ConfigError, CryptoError, DecodeError, Error, KeyError, NotificationError,
    RequestError, SignedRequest, TransportError, TransportErrorKind, VerificationError,
};
pub use keyring::{CertificateStore, DirectoryStore, PlatformKeyStatus, StoredCertificate};
pub use keys::{ApiV3Key, MerchantKey, PlatformKey, PlatformKeyKind, PlatformKeys};
pub use notification::Notification;
pub use protocol::Verified;
pub use retry::RetryPolicy;

/// What `#[endpoint]` expands to refers to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::endpoint::{Endpoint, RequestWriter};
    pub use crate::error::Error;
    pub use http::Method;
    pub use serde;
    pub use serde::Serialize;
    pub use serde_json;

    /// `skip_serializing_if` for borrowed `Option` fields of a generated body.
    #[inline]
    pub fn option_is_none<T>(value: &&Option<T>) -> bool {
        value.is_none()
    }

    /// Decodes a JSON answer.
    #[inline]
    pub fn decode_json<T: serde::de::DeserializeOwned>(
        body: &[u8],
    ) -> Result<T, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Accepts any body of an endpoint declared without a response type.
    #[inline]
    pub fn decode_empty(_body: &[u8]) -> Result<(), serde_json::Error> {
        Ok(())
    }
}
