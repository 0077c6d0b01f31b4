//! WeChat Pay APIv3 for Rust.
#![deny(missing_docs)]

extern crate self as wxpay;

pub use wxpay_core::*;
pub use wxpay_macros::endpoint;

pub mod apis;
