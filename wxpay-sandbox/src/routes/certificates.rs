//! `GET /v3/certificates`: the platform certificates listed now, encrypted with the
//! APIv3 key, oldest first (the answer is signed by the oldest: see `routes::finish`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::json_ok;
use crate::clock::{self, rfc3339_beijing};
use crate::crypto::{aes_256_gcm_seal, random_alphanumeric};
use crate::error::ApiError;
use crate::keys::Certificate;
use crate::state::Platform;

/// The associated data the platform uses for certificates.
const ASSOCIATED_DATA: &str = "certificate";

pub(super) async fn list(State(platform): State<Arc<Platform>>) -> Result<Response, ApiError> {
    // Only authenticated requests get here.
    platform.keys.downloads.record();
    if platform.keys.downloads.failing() {
        return Err(ApiError::system(
            "系统错误: certificate downloads are failing (a sandbox test hook)",
        ));
    }
    let certificates = platform.keys.certificates(clock::monotonic());
    if certificates.is_empty() {
        return Err(ApiError::not_found(
            "this merchant has no platform certificates: it uses the WeChat Pay public key",
        ));
    }
    let data = certificates
        .iter()
        .map(|cert| entry(&platform, cert))
        .collect::<Result<Vec<Value>, ApiError>>()?;
    Ok(json_ok(json!({ "data": data })))
}

/// One `data[]` item: the certificate encrypted under the APIv3 key.
fn entry(platform: &Platform, cert: &Certificate) -> Result<Value, ApiError> {
    let nonce = random_alphanumeric(12);
    let ciphertext = aes_256_gcm_seal(
        platform.apiv3_key.expose().as_bytes(),
        nonce.as_bytes(),
        ASSOCIATED_DATA.as_bytes(),
        cert.pem.as_bytes(),
    )
    .map_err(|_| ApiError::system("encrypting the certificate failed"))?;
    Ok(json!({
        "serial_no": cert.serial,
        "effective_time": rfc3339_beijing(cert.not_before),
        "expire_time": rfc3339_beijing(cert.not_after),
        "encrypt_certificate": {
            "algorithm": "AEAD_AES_256_GCM",
            "nonce": nonce,
            "associated_data": ASSOCIATED_DATA,
            "ciphertext": STANDARD.encode(ciphertext),
        },
    }))
}
