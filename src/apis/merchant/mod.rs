//! Merchant tools (`/v3/merchant/…`).

pub mod media;
