//! Multi-use consumption coupons (消费金, `/v3/multiuse/…`).
//!
//! ```no_run
//! use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon, SendMultiuseCouponRequired};
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let sent = client
//!     .send(
//!         SendMultiuseCoupon::new(SendMultiuseCouponRequired {
//!             openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
//!             appid: "wx233544546545989".into(),
//!             card_type: CardType::IdCard,
//!             id_card_number: "110101199003072316".into(), // encrypted for you
//!             out_request_no: "8956000202407191254642".into(),
//!             stock_id: "9856000".into(),
//!             user_name: "张三".into(), // encrypted for you
//!         })
//!         .amount(10000),
//!     )
//!     .await?;
//! println!("coupon {}", sent.coupon_id);
//! # Ok(()) }
//! ```
