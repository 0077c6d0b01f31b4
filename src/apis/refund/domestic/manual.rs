//! Domestic refunds (境内退款, `/v3/refund/domestic/…`): refund part or all of a paid order,
//! query a refund, and send a refund that could not reach the user somewhere else.
//!
//! ```no_run
//! use wxpay::apis::refund::domestic::{CreateRefund, RefundAmount, RefundStatus};
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let refund = client
//!     .send(CreateRefund::by_out_trade_no(
//!         "1217752501201407033233368018",
//!         "1217752501201407033233368042",
//!         RefundAmount::cny(50, 100), // refund 0.50 of a 1.00 order
//!     ))
//!     .await?;
//! assert!(matches!(refund.status, RefundStatus::Processing | RefundStatus::Success));
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::endpoint;

platform_enum! {
    /// Where a refund stands (退款状态).
    pub enum RefundStatus {
        /// Refunded (退款成功).
        Success = "SUCCESS",
        /// Closed (退款关闭).
        Close = "CLOSE",
        /// Being processed (退款处理中).
        Processing = "PROCESSING",
        /// Could not reach the user's account: apply with [`ApplyAbnormalRefund`] (退款异常).
        Abnormal = "ABNORMAL",
    }
}

platform_enum! {
    /// Where the money goes back to (退款渠道).
    pub enum RefundChannel {
        /// The way it was paid (原路退款).
        Original = "ORIGINAL",
        /// The user's balance (退回到余额).
        Balance = "BALANCE",
        /// Another balance account after the original was abnormal (原账户异常退到其他余额账户).
        OtherBalance = "OTHER_BALANCE",
        /// Another bank card after the original was abnormal (原银行卡异常退到其他银行卡).
        OtherBankcard = "OTHER_BANKCARD",
    }
}

platform_enum! {
    /// Which merchant funds a refund comes from (资金账户).
    pub enum FundsAccount {
        /// Unsettled funds (未结算资金).
        Unsettled = "UNSETTLED",
        /// Available balance (可用余额).
        Available = "AVAILABLE",
        /// Unavailable balance (不可用余额).
        Unavailable = "UNAVAILABLE",
        /// Operating account (运营户).
        Operation = "OPERATION",
        /// Basic account (基本账户).
        Basic = "BASIC",
        /// E-commerce basic account (数字人民币基本账户).
        EcnyBasic = "ECNY_BASIC",
    }
}

platform_enum! {
    /// How an abnormal refund is handled (异常退款处理方式).
    pub enum AbnormalRefundType {
        /// To a bank card of the user (退款到用户银行卡).
        UserBankCard = "USER_BANK_CARD",
        /// To the merchant's bank account (退款至交易商户银行账户).
        MerchantBankCard = "MERCHANT_BANK_CARD",
    }
}

/// How much to refund, of which order total, all in fen (金额信息).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundAmount {
    /// Refund, in fen; all refunds of an order together cannot exceed what was paid.
    pub refund: u64,
    /// The order's total, in fen (原订单金额).
    pub total: u64,
    /// Currency: `CNY`.
    pub currency: String,
}

impl RefundAmount {
    /// `refund` fen of an order of `total` fen, in Chinese yuan.
    pub fn cny(refund: u64, total: u64) -> Self {
        RefundAmount {
            refund,
            total,
            currency: "CNY".into(),
        }
    }
}

/// 申请退款API — refunds part or all of a paid order (within a year of payment).
///
/// Name the order by `transaction_id` or `out_trade_no`. The same `out_refund_no` refunds
/// once however often it is sent, so retry with the same number.
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_5_9.shtml)
#[endpoint(POST "/v3/refund/domestic/refunds" -> Refund, idempotent)]
#[derive(Debug, Clone)]
pub struct CreateRefund {
    /// WeChat Pay's order number (either this or `out_trade_no`).
    pub transaction_id: Option<String>,
    /// The merchant's order number (either this or `transaction_id`).
    pub out_trade_no: Option<String>,
    /// The merchant's refund number: the idempotency key of this call (商户退款单号).
    pub out_refund_no: String,
    /// Why; shown to the user (退款原因).
    pub reason: Option<String>,
    /// Where the refund result is notified.
    pub notify_url: Option<String>,
    /// Refund from this account (only `AVAILABLE` is accepted).
    pub funds_account: Option<FundsAccount>,
    /// The amounts.
    pub amount: RefundAmount,
}

impl CreateRefund {
    /// A refund of the order with this merchant order number.
    pub fn by_out_trade_no(
        out_trade_no: impl Into<String>,
        out_refund_no: impl Into<String>,
        amount: RefundAmount,
    ) -> Self {
        CreateRefund {
            transaction_id: None,
            out_trade_no: Some(out_trade_no.into()),
            out_refund_no: out_refund_no.into(),
            reason: None,
            notify_url: None,
            funds_account: None,
            amount,
        }
    }

    /// A refund of the order with this WeChat Pay transaction id.
    pub fn by_transaction_id(
        transaction_id: impl Into<String>,
        out_refund_no: impl Into<String>,
        amount: RefundAmount,
    ) -> Self {
        CreateRefund {
            transaction_id: Some(transaction_id.into()),
            out_trade_no: None,
            out_refund_no: out_refund_no.into(),
            reason: None,
            notify_url: None,
            funds_account: None,
            amount,
        }
    }
}

/// 查询单笔退款API — one refund by the merchant's refund number.
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/apis/chapter3_5_10.shtml)
#[endpoint(GET "/v3/refund/domestic/refunds/<out_refund_no>" -> Refund)]
#[derive(Debug, Clone)]
pub struct QueryRefund {
    /// The merchant's refund number (商户退款单号).
    pub out_refund_no: String,
}

/// 发起异常退款 — sends an [`RefundStatus::Abnormal`] refund to a bank card of the user
/// (`bank_account` and `real_name` are encrypted for you) or to the merchant's bank account.
/// [Official documentation](https://pay.weixin.qq.com/docs/merchant/apis/refund/refunds/create-abnormal-refund.html)
#[endpoint(POST "/v3/refund/domestic/refunds/<refund_id>/apply-abnormal-refund" -> Refund, idempotent)]
#[derive(Clone)]
pub struct ApplyAbnormalRefund {
    /// WeChat Pay's refund number (微信退款单号).
    pub refund_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// How to handle it.
    #[serde(rename = "type")]
    pub kind: AbnormalRefundType,
    /// The user's bank (开户银行, e.g. `ICBC_DEBIT`), for [`AbnormalRefundType::UserBankCard`].
    pub bank_type: Option<String>,
    /// The user's card number (encrypted with the platform key).
    #[wxpay(encrypt)]
    pub bank_account: Option<String>,
    /// The user's name (encrypted with the platform key).
    #[wxpay(encrypt)]
    pub real_name: Option<String>,
}

/// The money of a refund, in fen (金额信息).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RefundAmountDetail {
    /// The order's total.
    pub total: u64,
    /// This refund.
    pub refund: u64,
    /// What the user paid.
    pub payer_total: u64,
    /// What goes back to the user.
    pub payer_refund: u64,
    /// Refund after non-settled offers.
    #[serde(default)]
    pub settlement_refund: Option<u64>,
    /// Order total after non-settled offers.
    #[serde(default)]
    pub settlement_total: Option<u64>,
    /// Offers refunded.
    #[serde(default)]
    pub discount_refund: Option<u64>,
    /// Currency.
    pub currency: String,
    /// Fees refunded.
    #[serde(default)]
    pub refund_fee: Option<u64>,
}

/// A refund as the platform describes it (from create, query and abnormal handling).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// WeChat Pay's refund number.
    pub refund_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat Pay's order number.
    pub transaction_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// Where the money goes back to.
    pub channel: RefundChannel,
    /// The account that receives it, in words (e.g. `招商银行信用卡0403`, `支付用户零钱`).
    pub user_received_account: String,
    /// When the money arrived.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub success_time: Option<OffsetDateTime>,
    /// When the refund was accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub create_time: OffsetDateTime,
    /// Where it stands.
    pub status: RefundStatus,
    /// Which merchant funds it comes from.
    #[serde(default)]
    pub funds_account: Option<FundsAccount>,
    /// The amounts.
    pub amount: RefundAmountDetail,
}
