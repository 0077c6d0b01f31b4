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
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate self as wxpay;

pub use wxpay_core::*;
pub use wxpay_macros::{Constructor, Sensitive, endpoint};

/// The date-time crate the catalog uses for times with offsets.
pub use time;

pub mod apis;
pub mod notification;
