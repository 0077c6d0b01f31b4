//! The runtime behind [`wxpay`](https://docs.rs/wxpay): keys, request signing, response
//! verification, sensitive-field encryption, the crypto backends and the HTTP client.
//!
//! The protocol lives in pure functions ([`protocol`]) that turn an [`Endpoint`] into an
//! [`http::Request`] and an [`http::Response`] back into a typed value; [`Client`] adds the
//! transport at the edge. Most users depend on the `wxpay` facade and never name this crate.
//!
//! ## Layers
//!
//! Each module uses only modules on lines strictly below its own: no two modules use each
//! other, and no module uses one on its own line, so each layer reads without the ones above
//! it. From `runtimes` up is the edge, where the client meets the network (tokio's runtimes,
//! reqwest, Redis); nothing below it needs either, down to the wall clock. A test
//! (`tests/it/layers.rs`) reads this picture and fails on any `crate::` path that goes up or
//! sideways.
//!
//! ```text
//! config                                                                the builder, which assembles a client
//! dynamic download merchant notification::axum notification::receiver  what a client does beside declared calls
//! client                                                                Client: declared calls, verification, notifications
//! refresh                                                               platform certificates kept fresh, alone or in a fleet
//! caller fleet scheduler                                                signed attempts and retries; Redis; the refresh timer
//! transport                                                             one exchange: failover, redirects refused, body limit
//! runtimes                                                              the tokio runtimes sent from, a connection pool each
//! keyring                                                               platform keys over time, what a store may add
//! certificates notification seal store                                  certificate lists, webhooks; the store and its seal
//! protocol retry                                                        signing, verification, retries
//! endpoint                                                              Endpoint, RequestWriter, Sensitive
//! wire host                                                             encoding, scalars, header names; hosts
//! keys                                                                  merchant, platform, APIv3 keys
//! crypto                                                                the two backends, digests
//! pem                                                                   PEM, DER, certificates
//! error hex clock policy                                                errors; hex text; the wall clock, jitter; limits
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(not(any(feature = "aws-lc-rs", feature = "rsa")))]
compile_error!("wxpay-core needs a crypto backend: enable the `aws-lc-rs` or the `rsa` feature");

/// Declares a string enum of the platform with an `Unknown(String)` fallback, so a value the
/// SDK does not know yet never breaks decoding. Shared by the runtime and the catalog.
#[doc(hidden)]
#[macro_export]
macro_rules! __platform_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version of the SDK does not know yet, kept as sent.
            Unknown(::std::string::String),
        }

        impl $name {
            /// The value as the platform writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Unknown(other) => other,
                }
            }
        }

        // Paths spelled out: a catalog module may define a type named `From` or `Result`.
        impl ::core::convert::From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( $text => $name::$variant, )*
                    other => $name::Unknown(::std::borrow::ToOwned::to_owned(other)),
                }
            }
        }

        #[diagnostic::do_not_recommend]
        impl $crate::__private::PathSegment for $name {}

        #[diagnostic::do_not_recommend]
        impl $crate::__private::XmlText for $name {}

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                ::core::result::Result::Ok(<$name as ::core::convert::From<&str>>::from(&*text))
            }
        }
    };
}

mod caller;
pub mod certificates;
mod client;
mod clock;
mod config;
pub mod crypto;
mod download;
mod dynamic;
mod endpoint;
mod error;
#[cfg(feature = "redis")]
mod fleet;
mod hex;
mod host;
mod keyring;
pub mod keys;
mod merchant;
pub mod notification;
mod pem;
mod policy;
pub mod protocol;
mod refresh;
mod retry;
mod runtimes;
mod scheduler;
mod seal;
mod store;
mod transport;
mod wire;

pub use client::Client;
pub use config::{BACKUP_BASE_URL, ClientBuilder, DEFAULT_BASE_URL};
pub use crypto::CryptoBackend;
pub use download::{Compression, Download, Downloaded, FileCheck, MAX_WRITE};
pub use dynamic::DynamicRequest;
pub use endpoint::sensitive::{FieldPath, Sensitive, SensitiveString};
pub use endpoint::{
    ApiV2, Endpoint, FileMeta, ImageFormat, PathSegment, Protocol, RequestParts, RequestWriter,
    SignTypes, Streamed, UploadFile, XmlText,
};
pub use error::{
    ApiError, ConfigError, CryptoError, DecodeError, DecryptError, DownloadError, Error,
    FleetError, KeyError, NotificationError, RequestError, SignInformation, SignedRequest,
    TransportError, TransportErrorKind, VerificationError,
};
#[cfg(feature = "redis")]
pub use fleet::{RedisFleet, RedisSeenNotifications};
pub use host::Host;
pub use keyring::{KeyWarning, PlatformKeyStatus};
pub use keys::{ApiV3Key, MerchantKey, PlatformKey, PlatformKeyKind, PlatformKeys};
pub use notification::Notification;
pub use protocol::Verified;
pub use retry::RetryPolicy;
pub use store::{CertificateStore, DirectoryStore, StoredCertificate};

/// What `#[endpoint]` expands to refers to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::clock::unix_now;
    pub use crate::endpoint::sensitive::{
        DecryptNothing, DecryptSensitive, Decrypter, EncryptedCopy, FieldPath, Probe, Redacted,
        RedactedWith, Sensitive,
    };
    pub use crate::endpoint::{
        ApiV2, Endpoint, FileMeta, JsonObject, JsonSerializer, PathSegment, Protocol,
        RequestWriter, SignTypes, Streamed, UploadFile, XmlText,
    };
    pub use crate::error::{DecryptError, Error, RequestError};
    pub use crate::host::Host;
    pub use crate::keys::MerchantKey;
    pub use http::Method;
    pub use serde;
    pub use serde_json;

    /// Decodes a JSON answer.
    #[inline]
    pub fn decode_json<T: serde::de::DeserializeOwned>(
        body: &[u8],
    ) -> Result<T, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Decodes the verified elements of an APIv2 answer.
    #[inline]
    pub fn decode_xml<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
        // MERGE: the protocol layer's element deserializer (branch v2proto).
        let _ = body;
        Err(<serde_json::Error as serde::de::Error>::custom("not yet"))
    }

    /// Accepts any body of an endpoint declared without a response type.
    #[inline]
    pub fn decode_empty(_body: &[u8]) -> Result<(), serde_json::Error> {
        Ok(())
    }
}

/// Entry points for the fuzz targets in `fuzz/`: checks that sit behind a signature or a
/// network call. Only with the hidden `__fuzz` feature; not part of the public API.
#[cfg(feature = "__fuzz")]
#[doc(hidden)]
pub mod __fuzz {
    use crate::{ApiV3Key, Client, CryptoBackend, Error, NotificationError, RequestParts};

    /// The check of a bill's `download_url`: its origin and path-and-query, or the refusal.
    pub fn split_url<'u>(url: &'u str, base_url: &str) -> Result<(&'u str, &'u str), Error> {
        crate::download::split_url(url, &[base_url])
    }

    /// A notification body read as if its signature had verified.
    pub fn read_verified_notification(
        body: &[u8],
        apiv3_key: &ApiV3Key,
        backend: CryptoBackend,
    ) -> Result<crate::Notification, NotificationError> {
        crate::notification::decrypt_verified(body, apiv3_key, backend)
    }

    /// The request a dynamic call would sign, without sending it.
    pub fn dynamic_request_parts(
        client: &Client,
        method: http::Method,
        template: &str,
        path: &[(&str, &str)],
        query: &[(&str, &str)],
    ) -> Result<RequestParts, Error> {
        let mut request = client.request(method, template);
        for (name, value) in path {
            request = request.path(name, value);
        }
        for (name, value) in query {
            request = request.query(name, value);
        }
        request.parts(None, None, 1_800_000_000)
    }
}
