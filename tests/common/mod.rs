//! Shared helpers for the facade's integration tests.
#![allow(dead_code)]

use wxpay::{Client, CryptoBackend};
use wxpay_sandbox::Sandbox;

/// A client for the sandbox's merchant, configured as a real merchant would configure one.
pub fn client_for(sandbox: &Sandbox, backend: CryptoBackend) -> Client {
    let merchant = sandbox.merchant();
    let mut builder = Client::builder()
        .mchid(&merchant.mchid)
        .merchant_key(
            &merchant.merchant_serial,
            merchant
                .merchant_private_key_pem
                .as_ref()
                .expect("generated key")
                .expose(),
        )
        .base_url(sandbox.base_url())
        .crypto_backend(backend);
    if let Some(certificate) = &merchant.platform_certificate_pem {
        builder = builder.platform_certificate(certificate);
    }
    if let (Some(id), Some(key)) = (&merchant.public_key_id, &merchant.platform_public_key_pem) {
        builder = builder.platform_public_key(id, key);
    }
    builder
        .build()
        .expect("the sandbox's settings make a valid client")
}
