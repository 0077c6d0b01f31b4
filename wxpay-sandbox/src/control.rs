//! Sandbox controls as methods, for in-process tests and examples: what users and banks do
//! on the real platform. The same controls are served over HTTP under `/sandbox/…`.

use crate::Sandbox;
use crate::payments::PayError;

/// Why a sandbox control could not be applied (no such order, wrong state).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sandbox control refused: {0}")]
pub struct ControlError(String);

impl From<PayError> for ControlError {
    fn from(error: PayError) -> Self {
        ControlError(format!("{error:?}"))
    }
}

impl Sandbox {
    /// The user pays the unpaid order `out_trade_no`; returns its new `transaction_id`.
    ///
    /// # Errors
    /// When there is no such order or it is not `NOTPAY` (closed, expired, already paid).
    pub fn pay_order(&self, out_trade_no: &str) -> Result<String, ControlError> {
        let order = crate::routes::pay_order(&self.platform, out_trade_no)?;
        Ok(order["transaction_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The unpaid order `out_trade_no` passes its payment window: it becomes `CLOSED`.
    ///
    /// # Errors
    /// When there is no such order or it was paid.
    pub fn expire_order(&self, out_trade_no: &str) -> Result<(), ControlError> {
        self.platform.payments().expire(out_trade_no)?;
        Ok(())
    }

    /// The refund `out_refund_no` cannot reach the user's account: it becomes `ABNORMAL`.
    ///
    /// # Errors
    /// When there is no such refund.
    pub fn make_refund_abnormal(&self, out_refund_no: &str) -> Result<(), ControlError> {
        crate::routes::make_refund_abnormal(&self.platform, out_refund_no)?;
        Ok(())
    }

    /// Adds `rows` generated successful trades to the trade bill of `bill_date` (a Beijing
    /// day). They are generated while the bill is hashed and served, never stored: a bill
    /// of any size costs the sandbox the same few kilobytes.
    pub fn add_synthetic_trades(&self, bill_date: time::Date, rows: u64) {
        *self
            .platform
            .payments()
            .synthetic_rows
            .entry(bill_date)
            .or_default() += rows;
    }
}
