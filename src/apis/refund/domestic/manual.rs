//! Domestic refunds (境内退款, `/v3/refund/domestic/…`): refund part or all of a paid order,
//! query a refund, and send a refund that could not reach the user somewhere else.
//!
//! ```no_run
//! use wxpay::apis::refund::domestic::{Amount, CreateRefund, CreateRefundRequired, RefundStatus};
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! let refund = client
//!     .send(
//!         CreateRefund::new(CreateRefundRequired {
//!             amount: Amount::cny(50, 100), // refund 0.50 of a 1.00 order
//!             out_refund_no: "1217752501201407033233368042".into(),
//!         })
//!         // The order: its merchant order number, or `.transaction_id(…)`.
//!         .out_trade_no("1217752501201407033233368018"),
//!     )
//!     .await?;
//! assert!(matches!(refund.status, RefundStatus::Processing | RefundStatus::Success));
//! # Ok(()) }
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Amount, AmountRequired, RefundStatus};

impl Amount {
    /// `refund` fen of an order of `total` fen, in Chinese yuan.
    pub fn cny(refund: i64, total: i64) -> Self {
        Amount::new(AmountRequired {
            currency: "CNY".into(),
            refund,
            total,
        })
    }
}

/// A refund as its notification reports it (`REFUND.SUCCESS`, `REFUND.ABNORMAL`,
/// `REFUND.CLOSED`; see [`Event`](crate::notification::Event)). The platform notifies a shape of
/// its own, which the spec does not describe: `refund_status` instead of the query's `status`,
/// no `channel` or `create_time`, and a sub-merchant's refund names `sp_mchid` and `sub_mchid`.
///
/// `Debug` leaves out [`user_received_account`](Self::user_received_account): it names the
/// payer's bank card.
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundNotice {
    /// Whose refund: a direct merchant's, or a sub-merchant's through its service provider.
    #[serde(flatten)]
    pub merchant: RefundMerchant,
    /// 商户订单号 (`out_trade_no`).
    pub out_trade_no: String,
    /// 微信支付订单号 (`transaction_id`).
    pub transaction_id: String,
    /// 商户退款单号 (`out_refund_no`).
    pub out_refund_no: String,
    /// 微信支付退款号 (`refund_id`).
    pub refund_id: String,
    /// 退款状态 (`refund_status`).
    pub refund_status: RefundStatus,
    /// 退款成功时间 (`success_time`), only for `SUCCESS`.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub success_time: Option<OffsetDateTime>,
    /// 退款入账账户 (`user_received_account`), e.g. `招商银行信用卡0403` or `支付用户零钱`.
    pub user_received_account: String,
    /// 金额信息 (`amount`).
    pub amount: RefundNoticeAmount,
}

impl fmt::Debug for RefundNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefundNotice")
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum RefundMerchant {
    /// A sub-merchant's refund, notified to its service provider.
    Partner {
        /// 服务商户号 (`sp_mchid`).
        sp_mchid: String,
        /// 子商户号 (`sub_mchid`).
        sub_mchid: String,
    },
    /// A direct merchant's refund.
    Direct {
        /// 直连商户号 (`mchid`).
        mchid: String,
    },
}

/// The amounts of a notified refund, in fen.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundNoticeAmount {
    /// 订单金额 (`total`).
    pub total: i64,
    /// 退款金额 (`refund`).
    pub refund: i64,
    /// 用户支付金额 (`payer_total`).
    pub payer_total: i64,
    /// 用户退款金额 (`payer_refund`).
    pub payer_refund: i64,
}
