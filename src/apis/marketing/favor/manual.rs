//! Favor coupons (代金券, `/v3/marketing/favor/…`): a stock is created, started, paused and
//! restarted; coupons are sent from a running stock to users.
//!
//! ```no_run
//! use wxpay::apis::marketing::favor::PauseStock;
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let paused = client
//!     .send(PauseStock::new("9856888", "1230000109"))
//!     .await?;
//! println!("paused at {}", paused.pause_time);
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::endpoint;

platform_enum! {
    /// The state of a favor stock.
    pub enum StockStatus {
        /// Created, not yet started (未激活).
        Unactivated = "unactivated",
        /// Under review (审核中).
        Audit = "audit",
        /// Coupons can be sent (运行中).
        Running = "running",
        /// Stopped for good (已停止; the platform spells it `stoped`).
        Stopped = "stoped",
        /// Paused: no coupons are sent until it is restarted (暂停发放).
        Paused = "paused",
    }
}

platform_enum! {
    /// The kind of coupon a stock issues.
    pub enum StockType {
        /// Fixed amount off above a threshold (固定面额满减券).
        Normal = "NORMAL",
        /// Percentage discount (折扣券).
        Discount = "DISCOUNT",
        /// Exchange (换购券; the platform spells it `EXCHAHGE`).
        Exchange = "EXCHAHGE",
        /// Personalised amounts (千人千面券).
        Random = "RANDOM",
        /// Cut and discount (立减与折扣).
        DiscountCut = "DISCOUNT_CUT",
    }
}

/// How many coupons a stock may send, and to whom (发放规则).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StockUseRule {
    /// Most coupons the stock sends in all.
    pub max_coupons: u64,
    /// Total budget, in fen.
    pub max_amount: u64,
    /// Most fen sent per day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_amount_by_day: Option<u64>,
    /// Most coupons one user may receive.
    pub max_coupons_per_user: u64,
    /// Count per natural person rather than per account.
    pub natural_person_limit: bool,
    /// Guard API sending against abuse.
    pub prevent_api_abuse: bool,
}

impl StockUseRule {
    /// A rule with the given limits; both guards off.
    pub fn new(max_coupons: u64, max_amount: u64, max_coupons_per_user: u64) -> Self {
        StockUseRule {
            max_coupons,
            max_amount,
            max_amount_by_day: None,
            max_coupons_per_user,
            natural_person_limit: false,
            prevent_api_abuse: false,
        }
    }
}

/// A fixed amount off above a threshold, both in fen (固定面额满减券使用规则).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedNormalCoupon {
    /// Amount off, in fen.
    pub coupon_amount: u64,
    /// Least order amount, in fen.
    pub transaction_minimum: u64,
}

/// When a received coupon may be used (券可核销时间).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, crate::Constructor)]
#[non_exhaustive]
pub struct CouponAvailableTime {
    /// Usable from.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub available_begin_time: Option<OffsetDateTime>,
    /// Usable until.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub available_end_time: Option<OffsetDateTime>,
    /// Becomes usable the day after it is received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_day_available: Option<bool>,
    /// Days it stays usable after it is received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_time_after_receive: Option<u64>,
}

/// How coupons of a stock are used (核销规则).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CouponUseRule {
    /// When coupons are usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_available_time: Option<CouponAvailableTime>,
    /// Fixed amount off (for [`StockType::Normal`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_normal_coupon: Option<FixedNormalCoupon>,
    /// Order tags the coupon applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goods_tag: Vec<String>,
    /// Merchants where the coupon can be used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub available_merchants: Vec<String>,
    /// Whether it combines with other offers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine_use: Option<bool>,
}

impl CouponUseRule {
    /// A fixed-amount rule usable at the given merchants.
    pub fn fixed(coupon: FixedNormalCoupon, available_merchants: Vec<String>) -> Self {
        CouponUseRule {
            fixed_normal_coupon: Some(coupon),
            available_merchants,
            ..Default::default()
        }
    }
}

/// How coupons show in the user's card wallet (样式信息).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, crate::Constructor)]
#[non_exhaustive]
pub struct PatternInfo {
    /// Instructions for use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Merchant name shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_name: Option<String>,
    /// Background colour, `Color010` … `Color100`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
}

/// 创建代金券批次API — creates a favor stock; it starts out [`StockStatus::Unactivated`].
///
/// The same `out_request_no` creates one stock however often it is sent.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/merchant/4012534633)
#[endpoint(POST "/v3/marketing/favor/coupon-stocks" -> CreateStockResponse, idempotent)]
#[derive(Debug, Clone)]
pub struct CreateStock {
    /// Stock name (批次名称).
    pub stock_name: String,
    /// Note for the merchant's own use.
    pub comment: Option<String>,
    /// The merchant the stock belongs to (归属商户号).
    pub belong_merchant: String,
    /// Sending starts.
    #[serde(with = "time::serde::rfc3339")]
    pub available_begin_time: OffsetDateTime,
    /// Sending ends.
    #[serde(with = "time::serde::rfc3339")]
    pub available_end_time: OffsetDateTime,
    /// Sending limits.
    pub stock_use_rule: StockUseRule,
    /// Wallet display.
    pub pattern_info: Option<PatternInfo>,
    /// Use rules.
    pub coupon_use_rule: CouponUseRule,
    /// No funds move: the merchant bears the discount (免充值).
    pub no_cash: bool,
    /// Coupon kind.
    pub stock_type: StockType,
    /// The merchant's request number: the idempotency key of this call.
    pub out_request_no: String,
}

/// The answer to [`CreateStock`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CreateStockResponse {
    /// The new stock's id (批次号).
    pub stock_id: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
}

/// 激活代金券批次API — starts a stock so coupons can be sent.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/merchant/4012460137)
#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/start" -> StartStockResponse)]
#[derive(Debug, Clone)]
pub struct StartStock {
    /// Stock id.
    pub stock_id: String,
    /// The merchant that created the stock.
    pub stock_creator_mchid: String,
}

/// The answer to [`StartStock`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct StartStockResponse {
    /// Stock id.
    pub stock_id: String,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub start_time: OffsetDateTime,
}

/// 暂停代金券批次API — pauses a running stock: no coupons are sent until it is restarted.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/merchant/4012460305)
#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/pause" -> PauseStockResponse)]
#[derive(Debug, Clone)]
pub struct PauseStock {
    /// Stock id.
    pub stock_id: String,
    /// The merchant that created the stock.
    pub stock_creator_mchid: String,
}

/// The answer to [`PauseStock`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PauseStockResponse {
    /// Stock id.
    pub stock_id: String,
    /// When it was paused, with the platform's offset (+08:00).
    #[serde(with = "time::serde::rfc3339")]
    pub pause_time: OffsetDateTime,
}

/// 重启代金券批次API — restarts a paused stock.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/merchant/4012460411)
#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/restart" -> RestartStockResponse)]
#[derive(Debug, Clone)]
pub struct RestartStock {
    /// Stock id.
    pub stock_id: String,
    /// The merchant that created the stock.
    pub stock_creator_mchid: String,
}

/// The answer to [`RestartStock`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RestartStockResponse {
    /// Stock id.
    pub stock_id: String,
    /// When it restarted.
    #[serde(with = "time::serde::rfc3339")]
    pub restart_time: OffsetDateTime,
}

/// 查询批次详情API — one stock, with its state and how many coupons it has sent.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/merchant/4012460564)
#[endpoint(GET "/v3/marketing/favor/stocks/<stock_id>" -> Stock)]
#[derive(Debug, Clone)]
pub struct QueryStock {
    /// Stock id.
    pub stock_id: String,
    /// The merchant that created the stock (sent in the query).
    pub stock_creator_mchid: String,
}

/// A favor stock as the platform describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Stock {
    /// Stock id.
    pub stock_id: String,
    /// The merchant that created it.
    pub stock_creator_mchid: String,
    /// Name.
    pub stock_name: String,
    /// State.
    pub status: StockStatus,
    /// Instructions for use.
    #[serde(default)]
    pub description: Option<String>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// Started, once it has been.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub start_time: Option<OffsetDateTime>,
    /// Stopped, once it has been.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub stop_time: Option<OffsetDateTime>,
    /// Sending starts.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub available_begin_time: Option<OffsetDateTime>,
    /// Sending ends.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub available_end_time: Option<OffsetDateTime>,
    /// Sending limits.
    #[serde(default)]
    pub stock_use_rule: Option<StockUseRule>,
    /// Coupons sent so far.
    #[serde(default)]
    pub distributed_coupons: u64,
    /// No funds move.
    #[serde(default)]
    pub no_cash: bool,
    /// Coupon kind.
    #[serde(default)]
    pub stock_type: Option<StockType>,
    /// Single-item offer.
    #[serde(default)]
    pub singleitem: Option<bool>,
}

/// 发放代金券API — sends one coupon of a running stock to a user.
///
/// The same `out_request_no` sends one coupon however often it is sent.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/merchant/4012463767)
#[endpoint(POST "/v3/marketing/favor/users/<openid>/coupons" -> SendCouponResponse, idempotent)]
#[derive(Debug, Clone)]
pub struct SendCoupon {
    /// The user's OpenID under `appid`.
    pub openid: String,
    /// Stock id.
    pub stock_id: String,
    /// The merchant's request number: the idempotency key of this call.
    pub out_request_no: String,
    /// The app the OpenID belongs to.
    pub appid: String,
    /// The merchant that created the stock.
    pub stock_creator_mchid: String,
    /// Amount, for stocks that let the sender choose it (fen).
    pub coupon_value: Option<u64>,
    /// Threshold, for stocks that let the sender choose it (fen).
    pub coupon_minimum: Option<u64>,
}

/// The answer to [`SendCoupon`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SendCouponResponse {
    /// The coupon's id (代金券id).
    pub coupon_id: String,
}
