//! Basic payments (基础支付, `/v3/pay/…`).

pub mod transactions;
