//! wxpay-cli's integration tests, one binary.

mod apiv2;
mod catalog;
mod cli;
