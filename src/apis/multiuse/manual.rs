//! Multi-use consumption coupons (消费金, `/v3/multiuse/…`).
//!
//! ```no_run
//! use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon};
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let sent = client
//!     .send(
//!         SendMultiuseCoupon::new(
//!             "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
//!             "9856000",
//!             "8956000202407191254642",
//!             "张三",               // encrypted for you
//!             "110101199003072316", // encrypted for you
//!             "wx233544546545989",
//!             CardType::IdCard,
//!         )
//!         .amount(10000),
//!     )
//!     .await?;
//! println!("coupon {}", sent.coupon_id);
//! # Ok(()) }
//! ```

use serde::Deserialize;

use crate::endpoint;

platform_enum! {
    /// The kind of identity document (证件类型).
    pub enum CardType {
        /// Mainland resident identity card (身份证).
        IdCard = "ID_CARD",
    }
}

/// 发放指定批次的消费金 — sends multi-use coupon money of a stock to a user, who is
/// identified by name and ID number (both encrypted with the platform key).
///
/// The same `out_request_no` sends once however often it is sent.
/// [Official documentation](https://pay.weixin.qq.com/docs/merchant/apis/multiuse-coupon/multiuse-coupon/send-multiuse-coupon.html)
#[endpoint(POST "/v3/multiuse/users/<openid>/coupons" -> SendMultiuseCouponResponse, idempotent)]
#[derive(Clone)]
pub struct SendMultiuseCoupon {
    /// The user's OpenID under `appid`.
    pub openid: String,
    /// Stock id.
    pub stock_id: String,
    /// The merchant's request number: the idempotency key of this call.
    pub out_request_no: String,
    /// The user's name; sent encrypted.
    #[wxpay(encrypt)]
    pub user_name: String,
    /// The user's ID number; sent encrypted.
    #[wxpay(encrypt)]
    pub id_card_number: String,
    /// Amount in fen, for stocks that let the sender choose it.
    pub amount: Option<u64>,
    /// The app the OpenID belongs to.
    pub appid: String,
    /// Kind of identity document.
    pub card_type: CardType,
}

/// The answer to [`SendMultiuseCoupon`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SendMultiuseCouponResponse {
    /// The multi-use coupon's id (消费金ID).
    pub coupon_id: String,
}
