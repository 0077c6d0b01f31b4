//! A local stand-in for the WeChat Pay APIv3 platform, for tests, examples and other
//! languages' clients.
//!
//! There is no public test environment for APIv3. This crate is one: an HTTP server on
//! loopback that behaves like the platform for the endpoints the SDK ships. It
//!
//! - verifies every request's `Authorization` (`WECHATPAY2-SHA256-RSA2048`, SHA256withRSA
//!   over `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n` with the merchant's key, the
//!   merchant id, the merchant serial, and a clock within 300 s), answering
//!   `401 SIGN_ERROR` with the platform's `sign_information` when it does not hold;
//! - signs every other response (`Wechatpay-Timestamp`, `-Nonce`, `-Signature`,
//!   `-Serial`) with the platform key, and gives every response a `Request-ID`;
//! - checks `Wechatpay-Serial` on requests and decrypts RSA-OAEP sensitive fields;
//! - keeps favor stocks (create, query, start, pause, restart, issue coupons once per
//!   `out_request_no`) and multiuse coupons in memory;
//! - serves `/v3/certificates` encrypted with the APIv3 key, or 404 for a merchant that
//!   only has the WeChat Pay public key ([`KeyMode`]);
//! - rotates its platform certificate at runtime, as the platform does, with an overlap
//!   during which old and new are both listed
//!   ([`Sandbox::rotate_platform_certificate`], also `POST /sandbox/platform/rotate`
//!   and the binary's `--rotate-every`), and has hooks to make certificate downloads
//!   fail or come forged, for testing a client's refresh.
//! - delivers notifications to a notify URL, sealed with the APIv3 key and signed like
//!   responses, retried until acknowledged, and on request deliberately wrong
//!   ([`DeliveryMode`]); its own control API lives under `/sandbox/…`, apart from the
//!   platform API.
//! - injects faults on demand — dropped connections, 5xx and 429, slow, truncated,
//!   tampered, oversized and HTML answers ([`Sandbox::inject_faults`], [`FaultPlan`], or
//!   `POST /sandbox/faults` for other languages' clients).
//!
//! It deliberately shares no code with `wxpay-core`: it is an independent
//! implementation of the platform side, so the SDK is never tested only against itself.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = wxpay_sandbox::Sandbox::start().await?;
//! let merchant = sandbox.merchant();
//! println!("point the client at {} as merchant {}", sandbox.base_url(), merchant.mchid);
//!
//! // Or hand the settings to another process as WXPAY_* variables.
//! let dir = std::env::temp_dir().join(format!("wxpay-sandbox-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let env = sandbox.to_env(&dir)?;
//! assert!(env.iter().any(|(name, _)| name == "WXPAY_MERCHANT_KEY"));
//! std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! The `wxpay-sandbox` binary serves the same platform from the command line; run it
//! with `--help`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod auth;
mod bills;
mod builder;
pub mod cli;
mod clock;
mod closed_port;
mod control;
mod crypto;
mod error;
mod faults;
mod journal;
mod keys;
mod notify;
mod payments;
mod rotation;
mod routes;
mod sandbox;
mod settings;
mod signing;
mod spec;
mod state;
mod tls;
mod v2;
mod web;

pub use builder::SandboxBuilder;
pub use closed_port::ClosedPort;
pub use control::ControlError;
pub use faults::{Fault, FaultCounts, FaultKind, FaultPlan, InjectedFault, OVERSIZED_BODY_BYTES};
pub use notify::{Delivery, DeliveryMode, EventResource, NOTIFY_ATTEMPTS};
pub use sandbox::{ApiV2Operation, Sandbox};
pub use settings::{MerchantSettings, Secret};
pub use tls::HttpsIdentity;

/// The merchant id the sandbox uses unless told otherwise.
pub const DEFAULT_MCHID: &str = "1230000109";

/// An app id to use in requests to the sandbox (it accepts any).
pub const SANDBOX_APPID: &str = "wxd678efh567hg6787";

/// The one sub-merchant of the sandbox's merchant in its part as a service provider: the
/// `sub_mchid` its partner payment APIs (`/v3/pay/partner/…`) and refunds accept.
pub const SANDBOX_SUB_MCHID: &str = "1900000109";

/// An openid to use in requests to the sandbox (it accepts any).
pub const SANDBOX_OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

/// How merchants know the platform's key, and so what `Wechatpay-Serial` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeyMode {
    /// Platform certificates only (older merchants): responses carry the certificate
    /// serial; `/v3/certificates` serves the certificates. The only mode that can
    /// rotate them ([`Sandbox::rotate_platform_certificate`]).
    Certificate,
    /// The WeChat Pay public key only (merchants created since late 2024): responses
    /// carry the `PUB_KEY_ID_…`; `/v3/certificates` answers 404.
    PublicKey,
    /// Both, as during a migration: responses carry the public key id, certificates
    /// are still served, and requests may name either. The public key id is bound to
    /// the one platform key, so this mode does not rotate certificates.
    #[default]
    Both,
}

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// Settings that contradict each other or are malformed.
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
    /// Key or certificate material that cannot be read or used.
    #[error("invalid key material: {0}")]
    Key(String),
    /// Key generation or another cryptographic step failed.
    #[error("cryptography failed: {0}")]
    Crypto(String),
    /// Binding the listener failed; [`source`](std::error::Error::source) says why.
    #[error("cannot listen on the address")]
    Io(#[from] std::io::Error),
}
