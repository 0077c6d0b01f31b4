//! The facade's integration tests, one binary (each file in `tests/` used to link its own:
//! minutes of linking and gigabytes of target). The macro's UI tests live with it, in
//! `wxpay-macros/tests/ui`.

#[cfg(feature = "v2")]
mod apiv2_shapes;
mod bill_e2e;
mod catalog;
mod catalog_golden;
mod common;
// Answer types declare what the platform sends, read or not.
#[allow(dead_code)]
mod endpoint_expansion;
mod error_hygiene;
mod faults;
mod key_rotation;
mod media_upload;
mod notifications;
mod pay_catalog;
mod pay_e2e;
mod pay_params_golden;
mod platform_keys;
mod sandbox_e2e;
mod secrets;
#[allow(dead_code)]
mod sensitive;
mod spec_served;
