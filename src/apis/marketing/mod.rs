//! Marketing tools (`/v3/marketing/…`).

pub mod favor;
