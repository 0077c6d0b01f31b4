//! wxpay-core's integration tests, one binary.

mod answer_headers;
mod apiv2;
mod apiv2_bank_payout;
mod apiv2_client;
mod apiv2_dynamic;
mod apiv2_endpoints;
mod apiv2_merchant;
mod apiv2_sandbox;
mod certificate_store;
mod common;
mod config;
mod downloads;
mod dynamic_encrypt;
mod golden_requests;
mod hardening;
mod keys;
mod layers;
mod loopback;
mod many_merchants;
mod properties;
mod redirects;
mod runtimes;
mod signed_is_sent;
mod transport;
mod vectors;
mod verification;
