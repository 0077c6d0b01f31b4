//! Multi-use consumption coupons (消费金, `/v3/multiuse/…`).
//!
//! ```no_run
//! use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon};
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let sent = client
//!     .send(
//!         SendMultiuseCoupon::new(
//!             "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
//!             "wx233544546545989",
//!             CardType::IdCard,
//!             "110101199003072316", // encrypted for you
//!             "8956000202407191254642",
//!             "9856000",
//!             "张三", // encrypted for you
//!         )
//!         .amount(10000),
//!     )
//!     .await?;
//! println!("coupon {}", sent.coupon_id);
//! # Ok(()) }
//! ```
