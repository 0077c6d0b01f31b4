//! Multi-use consumption coupons (消费金, `/v3/multiuse/…`).
//!
//! ```no_run
//! use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon};
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let sent = client
//!     .send(SendMultiuseCoupon {
//!         openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
//!         stock_id: "9856000".into(),
//!         out_request_no: "8956000202407191254642".into(),
//!         user_name: "张三".into(),                  // encrypted for you
//!         id_card_number: "110101199003072316".into(), // encrypted for you
//!         amount: Some(10000),
//!         appid: "wx233544546545989".into(),
//!         card_type: CardType::IdCard,
//!     })
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

// The name and ID number are personal data: they never reach Debug output or logs.
impl std::fmt::Debug for SendMultiuseCoupon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendMultiuseCoupon")
            .field("openid", &self.openid)
            .field("stock_id", &self.stock_id)
            .field("out_request_no", &self.out_request_no)
            .field("user_name", &"<redacted>")
            .field("id_card_number", &"<redacted>")
            .field("amount", &self.amount)
            .field("appid", &self.appid)
            .field("card_type", &self.card_type)
            .finish()
    }
}

/// The answer to [`SendMultiuseCoupon`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SendMultiuseCouponResponse {
    /// The multi-use coupon's id (消费金ID).
    pub coupon_id: String,
}
