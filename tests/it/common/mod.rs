//! Shared helpers for the facade's integration tests.
#![allow(dead_code)]

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use wxpay::{Client, ClientBuilder, CryptoBackend};
use wxpay_sandbox::Sandbox;

/// The sandbox merchant's number, API key and the sandbox's URL — no platform key yet.
pub fn merchant_builder(sandbox: &Sandbox) -> ClientBuilder {
    let merchant = sandbox.merchant();
    Client::builder()
        .mchid(&merchant.mchid)
        .merchant_key(
            &merchant.merchant_serial,
            merchant
                .merchant_private_key_pem
                .as_ref()
                .expect("the sandbox generated the key")
                .expose(),
        )
        .base_url(sandbox.base_url())
}

/// A client for the sandbox's merchant, configured from the settings it hands out (the
/// platform certificate and/or public key, as a real merchant configures them).
pub fn client_for(sandbox: &Sandbox, backend: CryptoBackend) -> Client {
    ClientBuilder::from_settings(sandbox.settings())
        .expect("the sandbox's settings")
        .crypto_backend(backend)
        .build()
        .expect("the sandbox's settings make a valid client")
}

/// The body of a plain GET to one of the sandbox's controls (not platform API: unsigned).
pub async fn control_get(sandbox: &Sandbox, path: &str) -> Vec<u8> {
    let base = sandbox.base_url();
    let host = base.strip_prefix("http://").expect("an http URL");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    answer.split_off(split + 4)
}

/// The sandbox's APIv2 TEST CA, server and merchant client certificates
/// (`wxpay-sandbox/tests/fixtures/v2/`).
pub fn v2_fixture(name: &str) -> String {
    let path = format!(
        "{}/wxpay-sandbox/tests/fixtures/v2/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The sandbox with the APIv2 key `key`, the merchant's TEST API certificate registered
/// (serial of `TEST-apiclient-cert.pem`) and its HTTPS listener with the TEST CA; start it
/// with `.start()`.
pub fn v2_sandbox(key: &str) -> wxpay_sandbox::SandboxBuilder {
    Sandbox::builder()
        .merchant_serial("16412D2BC33DC85094A8A7B1B2FD7D9303DA7B49")
        .merchant_certificate_pem(v2_fixture("TEST-apiclient-cert.pem"))
        .apiv2_key(key)
        .https(wxpay_sandbox::HttpsIdentity {
            ca_certificate_pem: v2_fixture("TEST-ca-cert.pem"),
            server_certificate_pem: v2_fixture("TEST-server-cert.pem"),
            server_key_pem: wxpay_sandbox::Secret::new(v2_fixture("TEST-server-key.pem")),
        })
}
