//! wxpay-cli's integration tests, one binary.

mod catalog;
mod cli;
