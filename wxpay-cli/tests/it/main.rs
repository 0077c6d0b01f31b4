//! wxpay-cli's integration tests, one binary.

mod cli;
