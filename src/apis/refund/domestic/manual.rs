//! Domestic refunds (境内退款, `/v3/refund/domestic/…`): refund part or all of a paid order,
//! query a refund, and send a refund that could not reach the user somewhere else.
//!
//! ```no_run
//! use wxpay::apis::refund::domestic::{Amount as RefundAmount, CreateRefund, RefundStatus};
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

use super::{Amount as RefundAmount, CreateRefund};

impl RefundAmount {
    /// `refund` fen of an order of `total` fen, in Chinese yuan.
    pub fn cny(refund: i64, total: i64) -> Self {
        RefundAmount::new("CNY", refund, total)
    }
}

impl CreateRefund {
    /// A refund of the order with this merchant order number.
    pub fn by_out_trade_no(
        out_trade_no: impl Into<String>,
        out_refund_no: impl Into<String>,
        amount: RefundAmount,
    ) -> Self {
        CreateRefund::new(amount, out_refund_no).out_trade_no(out_trade_no)
    }

    /// A refund of the order with this WeChat Pay transaction id.
    pub fn by_transaction_id(
        transaction_id: impl Into<String>,
        out_refund_no: impl Into<String>,
        amount: RefundAmount,
    ) -> Self {
        CreateRefund::new(amount, out_refund_no).transaction_id(transaction_id)
    }
}
