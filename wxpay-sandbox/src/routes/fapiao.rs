//! E-invoice files (`/v3/new-tax-control-fapiao/…`): the file list names a download URL per
//! invoice, and the download itself (下载发票文件) is answered unsigned, as the platform serves
//! files. The platform hands out links on its file host; the sandbox hands out its own.
//!
//! Simplification: every application id names one issued invoice, the `fapiao_id` asked for.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{QueryParams, UnsignedFile, json_ok};
use crate::crypto::random_alphanumeric;
use crate::error::ApiError;
use crate::state::Platform;

fn required<'q>(query: &'q QueryParams, name: &str) -> Result<&'q str, ApiError> {
    query
        .0
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ApiError::param(format!("{name} is required")))
}

/// `GET /v3/new-tax-control-fapiao/fapiao-applications/{fapiao_apply_id}/fapiao-files`
pub(super) async fn files(
    State(platform): State<Arc<Platform>>,
    Path(fapiao_apply_id): Path<String>,
    headers: HeaderMap,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let sub_mchid = required(&query, "sub_mchid")?;
    let fapiao_id = required(&query, "fapiao_id")?;
    let file = format!(
        "%PDF-1.4\n% TEST e-invoice {fapiao_id} of application {fapiao_apply_id} for \
         sub-merchant {sub_mchid}, served by the sandbox\n%%EOF\n"
    )
    .into_bytes();
    let token = random_alphanumeric(32);
    platform.payments().fapiao_files.insert(token.clone(), file);
    let host = super::request_host(&headers);
    Ok(json_ok(json!({
        "fapiao_download_info_list": [{
            "fapiao_id": fapiao_id,
            "download_url": format!("http://{host}/v3/new-tax-control-fapiao/download?token={token}"),
            "status": "ISSUED",
        }],
    })))
}

/// `GET /v3/new-tax-control-fapiao/download?token=…`
pub(super) async fn download(
    State(platform): State<Arc<Platform>>,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let token = required(&query, "token")?;
    let file = platform
        .payments()
        .fapiao_files
        .get(token)
        .cloned()
        .ok_or_else(|| {
            ApiError::resource_not_exists("发票文件不存在: the download token is unknown")
        })?;
    let mut response = (StatusCode::OK, [(CONTENT_TYPE, "application/pdf")], file).into_response();
    response.extensions_mut().insert(UnsignedFile);
    Ok(response)
}
