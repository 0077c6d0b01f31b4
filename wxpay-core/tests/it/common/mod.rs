//! Known-answer vectors and TEST key material from `tests/fixtures/` at the repository root.
#![allow(dead_code)]

use serde_json::Value;

pub fn fixture(name: &str) -> String {
    let path = format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

pub fn vectors() -> Value {
    serde_json::from_str(&fixture("vectors.json")).expect("vectors.json is JSON")
}

pub fn config() -> Value {
    serde_json::from_str(&fixture("keys/config.json")).expect("config.json is JSON")
}

pub fn key(name: &str) -> String {
    fixture(&format!("keys/{name}"))
}

pub fn s<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {field} is not a string"))
}

/// The sandbox's APIv2 TEST CA, server and merchant client certificates
/// (`wxpay-sandbox/tests/fixtures/v2/`).
pub fn v2_fixture(name: &str) -> String {
    let path = format!(
        "{}/../wxpay-sandbox/tests/fixtures/v2/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The sandbox's HTTPS listener with its TEST CA and server certificate.
pub fn v2_https_identity() -> wxpay_sandbox::HttpsIdentity {
    wxpay_sandbox::HttpsIdentity {
        ca_certificate_pem: v2_fixture("TEST-ca-cert.pem"),
        server_certificate_pem: v2_fixture("TEST-server-cert.pem"),
        server_key_pem: wxpay_sandbox::Secret::new(v2_fixture("TEST-server-key.pem")),
    }
}

/// A plain connection that trusts the TEST CA, with the merchant's TEST client certificate or
/// none (what a merchant's own HTTP client would present).
pub fn v2_tls(client_certificate: bool) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(v2_fixture("TEST-ca-cert.pem").as_bytes()).expect("CA");
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(std::time::Duration::from_secs(20));
    if client_certificate {
        let pem = v2_fixture("TEST-apiclient-cert.pem") + &v2_fixture("TEST-apiclient-key.pem");
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("identity"));
    }
    builder.build().expect("TLS client")
}

/// The sandbox's merchant with its APIv2 key `key`, its API client certificate registered
/// (serial of `TEST-apiclient-cert.pem`) and its HTTPS listener; start it with `.start()`.
pub fn v2_sandbox(key: &str) -> wxpay_sandbox::SandboxBuilder {
    wxpay_sandbox::Sandbox::builder()
        .mchid("1230000109")
        .merchant_serial("16412D2BC33DC85094A8A7B1B2FD7D9303DA7B49")
        .merchant_certificate_pem(v2_fixture("TEST-apiclient-cert.pem"))
        .apiv2_key(key)
        .https(v2_https_identity())
}

/// The merchant's client as `from_settings` reads it: the sandbox's settings and the merchant
/// key (and client certificate, when asked), aimed at the HTTPS listener and trusting its
/// TEST CA.
pub fn v2_client_builder(
    sandbox: &wxpay_sandbox::Sandbox,
    with_certificate: bool,
) -> wxpay_core::ClientBuilder {
    let mut settings = sandbox.settings();
    settings.push((
        "WXPAY_MERCHANT_KEY".into(),
        v2_fixture("TEST-apiclient-key.pem"),
    ));
    if with_certificate {
        settings.push((
            "WXPAY_MERCHANT_CERT".into(),
            v2_fixture("TEST-apiclient-cert.pem"),
        ));
    }
    wxpay_core::ClientBuilder::from_settings(settings)
        .expect("the sandbox's settings")
        .base_url(sandbox.https_url().expect("the HTTPS listener"))
        .root_certificate(v2_fixture("TEST-ca-cert.pem"))
        .timeouts(
            std::time::Duration::from_secs(5),
            std::time::Duration::from_secs(20),
        )
}
