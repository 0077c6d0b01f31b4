//! The typed payloads of notifications.

use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::{decode_resource, resource_error};
use crate::error::NotificationError;

use crate::__platform_enum as platform_enum;

platform_enum! {
    /// `event_type` of a notification.
    ///
    /// ```
    /// use wxpay_core::notification::EventType;
    /// assert_eq!(EventType::from("REFUND.SUCCESS"), EventType::RefundSuccess);
    /// assert_eq!(EventType::from("PAYSCORE.USER_PAID").as_str(), "PAYSCORE.USER_PAID");
    /// ```
    pub enum EventType {
        /// 支付成功: a payment succeeded.
        TransactionSuccess = "TRANSACTION.SUCCESS",
        /// 退款成功: a refund reached the payer.
        RefundSuccess = "REFUND.SUCCESS",
        /// 退款异常: a refund could not be paid out (the payer's card was closed, say).
        RefundAbnormal = "REFUND.ABNORMAL",
        /// 退款关闭: a refund was closed.
        RefundClosed = "REFUND.CLOSED",
        /// 代金券核销: a favor coupon was used.
        CouponUse = "COUPON.USE",
        /// 领券: a coupon was sent to a user.
        CouponSend = "COUPON.SEND",
    }
}

platform_enum! {
    /// `trade_state` of a transaction.
    pub enum TradeState {
        /// 支付成功
        Success = "SUCCESS",
        /// 转入退款
        Refund = "REFUND",
        /// 未支付
        NotPay = "NOTPAY",
        /// 已关闭
        Closed = "CLOSED",
        /// 已撤销（付款码支付）
        Revoked = "REVOKED",
        /// 用户支付中（付款码支付）
        UserPaying = "USERPAYING",
        /// 支付失败
        PayError = "PAYERROR",
    }
}

platform_enum! {
    /// `trade_type` of a transaction.
    pub enum TradeType {
        /// 公众号/小程序支付
        Jsapi = "JSAPI",
        /// 扫码支付
        Native = "NATIVE",
        /// APP 支付
        App = "APP",
        /// 付款码支付
        Micropay = "MICROPAY",
        /// H5 支付
        Mweb = "MWEB",
        /// 刷脸支付
        Facepay = "FACEPAY",
    }
}

platform_enum! {
    /// `refund_status` of a refund.
    pub enum RefundStatus {
        /// 退款成功
        Success = "SUCCESS",
        /// 退款关闭
        Closed = "CLOSED",
        /// 退款处理中
        Processing = "PROCESSING",
        /// 退款异常
        Abnormal = "ABNORMAL",
    }
}

platform_enum! {
    /// `status` of a favor coupon.
    pub enum CouponStatus {
        /// 可用
        Sended = "SENDED",
        /// 已实扣
        Used = "USED",
        /// 已过期
        Expired = "EXPIRED",
    }
}

platform_enum! {
    /// `coupon_type` of a favor coupon.
    pub enum CouponType {
        /// 满减券
        Normal = "NORMAL",
        /// 减至券
        CutTo = "CUT_TO",
    }
}

/// What a notification reports, decoded by its event type.
///
/// Types without a typed payload in this version arrive as [`Event::Other`] with the decrypted
/// JSON: an unknown event type is not an error.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// `TRANSACTION.SUCCESS`: the paid transaction of a direct merchant.
    TransactionSuccess(Box<Transaction>),
    /// `TRANSACTION.SUCCESS` to a service provider: the paid transaction of one of its
    /// sub-merchants (the resource names `sp_mchid` and `sub_mchid`).
    PartnerTransactionSuccess(Box<PartnerTransaction>),
    /// `REFUND.SUCCESS`.
    RefundSuccess(Box<Refund>),
    /// `REFUND.ABNORMAL`.
    RefundAbnormal(Box<Refund>),
    /// `REFUND.CLOSED`.
    RefundClosed(Box<Refund>),
    /// `COUPON.USE`: the used favor coupon.
    CouponUse(Box<Coupon>),
    /// Any other event type: the decrypted resource as JSON.
    Other(Resource),
}

impl Event {
    pub(super) fn decode(
        event_type: &EventType,
        plaintext: &[u8],
    ) -> Result<Event, NotificationError> {
        Ok(match event_type {
            EventType::TransactionSuccess => {
                // One event type, two shapes: a service provider's names its merchant
                // `sp_mchid`, a direct merchant's `mchid`.
                let json: serde_json::Value = decode_resource(event_type, plaintext)?;
                let resource = Resource {
                    event_type: event_type.clone(),
                    json,
                };
                if resource.json.get("sp_mchid").is_some() {
                    Event::PartnerTransactionSuccess(resource.deserialize()?)
                } else {
                    Event::TransactionSuccess(resource.deserialize()?)
                }
            }
            EventType::RefundSuccess => {
                Event::RefundSuccess(decode_resource(event_type, plaintext)?)
            }
            EventType::RefundAbnormal => {
                Event::RefundAbnormal(decode_resource(event_type, plaintext)?)
            }
            EventType::RefundClosed => Event::RefundClosed(decode_resource(event_type, plaintext)?),
            EventType::CouponUse => Event::CouponUse(decode_resource(event_type, plaintext)?),
            _ => Event::Other(Resource {
                event_type: event_type.clone(),
                json: decode_resource(event_type, plaintext)?,
            }),
        })
    }
}

/// A payment (`TRANSACTION.SUCCESS`), as the platform describes a transaction.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Transaction {
    /// The app the payment was made in.
    pub appid: String,
    /// The merchant number.
    pub mchid: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// The platform's transaction id.
    pub transaction_id: String,
    /// How the payer paid.
    pub trade_type: TradeType,
    /// State of the transaction (`SUCCESS` in this notification).
    pub trade_state: TradeState,
    /// The state in words.
    pub trade_state_desc: String,
    /// The payer's bank, e.g. `CMC`.
    #[serde(default)]
    pub bank_type: Option<String>,
    /// The merchant's own data given when ordering.
    #[serde(default)]
    pub attach: Option<String>,
    /// When the payment succeeded.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub success_time: Option<OffsetDateTime>,
    /// Who paid: only the openid.
    pub payer: Payer,
    /// How much.
    pub amount: TransactionAmount,
}

/// A sub-merchant's payment (`TRANSACTION.SUCCESS` to its service provider).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct PartnerTransaction {
    /// The service provider's app.
    pub sp_appid: String,
    /// The service provider's merchant number.
    pub sp_mchid: String,
    /// The sub-merchant's app, when the order named one.
    #[serde(default)]
    pub sub_appid: Option<String>,
    /// The sub-merchant's merchant number.
    pub sub_mchid: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// The platform's transaction id.
    pub transaction_id: String,
    /// How the payer paid.
    pub trade_type: TradeType,
    /// State of the transaction (`SUCCESS` in this notification).
    pub trade_state: TradeState,
    /// The state in words.
    pub trade_state_desc: String,
    /// The payer's bank, e.g. `CMC`.
    #[serde(default)]
    pub bank_type: Option<String>,
    /// The merchant's own data given when ordering.
    #[serde(default)]
    pub attach: Option<String>,
    /// When the payment succeeded.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub success_time: Option<OffsetDateTime>,
    /// Who paid.
    #[serde(default)]
    pub payer: Option<PartnerPayer>,
    /// How much.
    pub amount: TransactionAmount,
}

/// The payer of a sub-merchant's transaction: its openid under the provider's app, under the
/// sub-merchant's, or both.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct PartnerPayer {
    /// The openid under `sp_appid`.
    #[serde(default)]
    pub sp_openid: Option<String>,
    /// The openid under `sub_appid`.
    #[serde(default)]
    pub sub_openid: Option<String>,
}

/// The payer of a transaction.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Payer {
    /// The payer's openid under the transaction's appid.
    pub openid: String,
}

/// Amounts of a transaction, in fen.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct TransactionAmount {
    /// The order total.
    pub total: u64,
    /// What the payer paid (the total less coupons).
    #[serde(default)]
    pub payer_total: Option<u64>,
    /// Currency of the order, `CNY`.
    pub currency: String,
    /// Currency the payer paid in.
    #[serde(default)]
    pub payer_currency: Option<String>,
}

/// A refund (`REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`).
///
/// `Debug` leaves out [`user_received_account`](Self::user_received_account): it names the
/// payer's bank card.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// Whose refund: a direct merchant's, or a sub-merchant's through its service provider.
    #[serde(flatten)]
    pub merchant: RefundMerchant,
    /// The merchant's order number of the refunded payment.
    pub out_trade_no: String,
    /// The platform's transaction id of the refunded payment.
    pub transaction_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// The platform's refund id.
    pub refund_id: String,
    /// Outcome.
    pub refund_status: RefundStatus,
    /// When the refund succeeded (only for `SUCCESS`).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub success_time: Option<OffsetDateTime>,
    /// Where the money went, e.g. `招商银行信用卡0403` or `支付用户零钱`.
    pub user_received_account: String,
    /// How much.
    pub amount: RefundAmount,
}

impl fmt::Debug for Refund {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refund")
            .field("merchant", &self.merchant)
            .field("out_trade_no", &self.out_trade_no)
            .field("transaction_id", &self.transaction_id)
            .field("out_refund_no", &self.out_refund_no)
            .field("refund_id", &self.refund_id)
            .field("refund_status", &self.refund_status)
            .field("success_time", &self.success_time)
            .field("user_received_account", &format_args!("<redacted>"))
            .field("amount", &self.amount)
            .finish()
    }
}

/// The merchant a refund notification is about.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum RefundMerchant {
    /// A sub-merchant's refund, notified to its service provider.
    Partner {
        /// The service provider's merchant number.
        sp_mchid: String,
        /// The sub-merchant's merchant number.
        sub_mchid: String,
    },
    /// A direct merchant's refund.
    Direct {
        /// The merchant number.
        mchid: String,
    },
}

/// Amounts of a refund, in fen.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct RefundAmount {
    /// The order total.
    pub total: u64,
    /// The refund.
    pub refund: u64,
    /// What the payer paid.
    pub payer_total: u64,
    /// What goes back to the payer.
    pub payer_refund: u64,
}

/// A favor coupon (`COUPON.USE`), as the platform describes it when it is used.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Coupon {
    /// The merchant that created the stock.
    pub stock_creator_mchid: String,
    /// The stock the coupon came from.
    pub stock_id: String,
    /// The coupon.
    pub coupon_id: String,
    /// The coupon's name.
    #[serde(default)]
    pub coupon_name: Option<String>,
    /// `USED` in this notification.
    pub status: CouponStatus,
    /// How to use it.
    #[serde(default)]
    pub description: Option<String>,
    /// When the user received it.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// Fixed amount off, or cut to a price.
    #[serde(default)]
    pub coupon_type: Option<CouponType>,
    /// Whether the coupon is 免充值 (no pre-funding).
    #[serde(default)]
    pub no_cash: Option<bool>,
    /// Whether it applies to single items.
    #[serde(default)]
    pub singleitem: Option<bool>,
    /// When it becomes usable.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub available_begin_time: Option<OffsetDateTime>,
    /// When it stops being usable.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub available_end_time: Option<OffsetDateTime>,
    /// Face value and threshold of a fixed-amount coupon.
    #[serde(default)]
    pub normal_coupon_information: Option<NormalCouponInformation>,
    /// Where and when it was used.
    #[serde(default)]
    pub consume_information: Option<CouponConsumeInformation>,
}

/// Face value and threshold of a fixed-amount coupon, in fen.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct NormalCouponInformation {
    /// Amount off.
    pub coupon_amount: u64,
    /// Minimum order amount.
    pub transaction_minimum: u64,
}

/// Where and when a coupon was used.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct CouponConsumeInformation {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub consume_time: OffsetDateTime,
    /// At which merchant.
    pub consume_mchid: String,
    /// In which transaction.
    pub transaction_id: String,
}

/// The decrypted resource of an event type without a typed payload.
///
/// It may hold personal data, so `Debug` shows only the event type; read it deliberately with
/// [`Resource::json`] or [`Resource::deserialize`].
#[derive(Clone)]
pub struct Resource {
    event_type: EventType,
    json: serde_json::Value,
}

impl Resource {
    /// The decrypted JSON.
    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }

    /// Decodes the resource into a type of your own.
    ///
    /// # Errors
    /// [`NotificationError::MalformedResource`] (naming the position, not the value).
    ///
    /// ```no_run
    /// # fn run(resource: wxpay_core::notification::Resource) -> Result<(), wxpay_core::NotificationError> {
    /// #[derive(serde::Deserialize)]
    /// struct CouponSend { coupon_id: String }
    /// let sent: CouponSend = resource.deserialize()?;
    /// println!("{}", sent.coupon_id);
    /// # Ok(()) }
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, NotificationError> {
        T::deserialize(&self.json).map_err(|e| resource_error(&self.event_type, &e))
    }
}

impl fmt::Debug for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resource")
            .field("event_type", &self.event_type.as_str())
            .field("json", &format_args!("<redacted>"))
            .finish()
    }
}
