//! Refunds (退款, `/v3/refund/…`).

pub mod domestic;
