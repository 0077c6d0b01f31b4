//! WeChat Pay APIv3 for Rust.
//!
//! Endpoints are declared once with [`endpoint`]; the SDK signs every request with the
//! merchant key, encrypts sensitive fields with the platform key, verifies every answer's
//! platform signature and decodes it into a typed value. The catalog of declared endpoints is
//! [`apis`].
//!
//! ```no_run
//! use wxpay::apis::marketing::favor::{PauseStock, PauseStockRequired};
//!
//! # async fn run() -> Result<(), wxpay::Error> {
//! let client = wxpay::Client::from_env()?;
//! // Every required field is named; optional ones have setters.
//! let paused = client
//!     .send(PauseStock::new(PauseStockRequired {
//!         stock_id: "9856888".into(),
//!         stock_creator_mchid: client.mchid().into(),
//!     }))
//!     .await?;
//! println!("paused at {}", paused.pause_time);
//! # Ok(()) }
//! ```
//!
//! Declaring an endpoint that is not in the catalog yet:
//!
//! ```
//! use wxpay::endpoint;
//!
//! #[derive(serde::Deserialize)]
//! pub struct QueryCouponResponse {
//!     pub coupon_id: String,
//!     pub status: String,
//! }
//!
//! /// 查询代金券详情API
//! #[endpoint(GET "/v3/marketing/favor/users/<openid>/coupons/<coupon_id>" -> QueryCouponResponse)]
//! pub struct QueryCoupon {
//!     pub openid: String,
//!     pub coupon_id: String,
//!     pub appid: String, // a GET: sent in the query
//! }
//! ```
//!
//! Every failure is an [`Error`] to match on: configuration, transport, the platform's
//! answer, verification (forged or tampered answers), decoding, crypto.
//!
//! The client is the default feature `client`; without it, declaring endpoints, preparing and
//! signing requests ([`protocol`]), verifying answers and notifications, and the catalog's
//! types build without tokio, reqwest or url (see the README's "Without the client").
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Without the client, the links to it have nothing to point to; the default build's docs check
// every link.
#![cfg_attr(not(feature = "client"), allow(rustdoc::broken_intra_doc_links))]

extern crate self as wxpay;

pub use wxpay_core::*;
pub use wxpay_macros::{Constructor, Sensitive, endpoint};

/// The date-time crate the catalog uses for times with offsets.
pub use time;

pub mod apis;
pub mod notification;
