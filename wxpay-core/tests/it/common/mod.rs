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
