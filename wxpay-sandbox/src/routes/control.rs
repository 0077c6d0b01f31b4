//! The sandbox's own control endpoints, for clients that cannot call [`Sandbox`]
//! methods (other languages, other processes). They live under `/sandbox/`, outside
//! the platform's API: no merchant signature is asked for and the answers are not
//! signed. The sandbox listens on loopback; these are test tools.
//!
//! [`Sandbox`]: crate::Sandbox

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::{json_body, json_ok};
use crate::SandboxError;
use crate::error::ApiError;
use crate::state::Platform;

/// Paths starting with this are control endpoints.
pub(super) const PREFIX: &str = "/sandbox/";

/// `POST /sandbox/platform/rotate`.
pub(super) const ROTATE_PATH: &str = "/sandbox/platform/rotate";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    overlap_ms: u64,
}

/// `POST /sandbox/platform/rotate` with `{"overlap_ms": N}`: rotates the platform
/// certificate and answers `{"serial": "…"}`.
pub(super) async fn rotate(
    State(platform): State<Arc<Platform>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let RotateBody { overlap_ms } = json_body(&body)?;
    let overlap = Duration::from_millis(overlap_ms);
    // Key generation is slow: off the async workers.
    let serial = tokio::task::spawn_blocking(move || {
        platform.keys.rotate(overlap, &platform.merchant.serial)
    })
    .await
    .map_err(|_| ApiError::system("the rotation did not finish"))?
    .map_err(|error| match error {
        SandboxError::Config(message) => ApiError::invalid_request(message),
        other => ApiError::system(other.to_string()),
    })?;
    Ok(json_ok(json!({ "serial": serial })))
}
