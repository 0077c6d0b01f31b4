//! wxpay-sandbox's integration tests, one binary.

mod apiv2;
mod binary;
mod builder;
mod certificates;
mod common;
mod faults;
mod favor;
mod multiuse;
mod notify;
mod pages;
mod payments;
mod protocol;
mod rotation;
