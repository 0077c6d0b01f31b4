//! `GET /v3/certificates`: the platform certificates, encrypted with the APIv3 key.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::json_ok;
use crate::clock::rfc3339_beijing;
use crate::crypto::{aes_256_gcm_seal, random_alphanumeric};
use crate::error::ApiError;
use crate::state::Platform;

/// The associated data the platform uses for certificates.
const ASSOCIATED_DATA: &str = "certificate";

pub(super) async fn list(State(platform): State<Arc<Platform>>) -> Result<Response, ApiError> {
    let Some(cert) = platform.keys.certificate() else {
        return Err(ApiError::not_found(
            "this merchant has no platform certificates: it uses the WeChat Pay public key",
        ));
    };
    let nonce = random_alphanumeric(12);
    let ciphertext = aes_256_gcm_seal(
        platform.apiv3_key.expose().as_bytes(),
        nonce.as_bytes(),
        ASSOCIATED_DATA.as_bytes(),
        cert.pem.as_bytes(),
    )
    .map_err(|_| ApiError::system("encrypting the certificate failed"))?;
    Ok(json_ok(json!({
        "data": [{
            "serial_no": cert.serial,
            "effective_time": rfc3339_beijing(cert.not_before),
            "expire_time": rfc3339_beijing(cert.not_after),
            "encrypt_certificate": {
                "algorithm": "AEAD_AES_256_GCM",
                "nonce": nonce,
                "associated_data": ASSOCIATED_DATA,
                "ciphertext": STANDARD.encode(ciphertext),
            },
        }],
    })))
}
