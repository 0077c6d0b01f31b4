//! Bills (`/v3/bill/…`): the answer names a download URL and the SHA1 of the (uncompressed)
//! CSV; the download itself (`/v3/billdownload/file`) is authenticated like any request but
//! answered unsigned and streamed, as the platform does for files.

use std::convert::Infallible;
use std::io::Write as _;
use std::sync::Arc;

use aws_lc_rs::digest::{Context, SHA1_FOR_LEGACY_USE_ONLY};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;
use time::Date;
use time::macros::format_description;

use super::{QueryParams, json_ok};
use crate::bills::{BillCursor, BillFile, BillKind};
use crate::crypto::random_alphanumeric;
use crate::error::ApiError;
use crate::state::Platform;

/// Marks a response the gate must pass on unsigned and unbuffered: a file body.
#[derive(Clone, Copy)]
pub(crate) struct UnsignedFile;

fn bill_date(query: &QueryParams) -> Result<Date, ApiError> {
    let text = query
        .0
        .get("bill_date")
        .ok_or_else(|| ApiError::param("bill_date is required"))?;
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| ApiError::param(format!("bill_date {text:?} is not YYYY-MM-DD")))
}

fn gzip(query: &QueryParams) -> Result<bool, ApiError> {
    match query.0.get("tar_type").map(String::as_str) {
        None => Ok(false),
        Some("GZIP") => Ok(true),
        Some(other) => Err(ApiError::param(format!("tar_type {other:?} is not GZIP"))),
    }
}

fn sha1_hex(file: &Arc<BillFile>) -> String {
    let mut context = Context::new(&SHA1_FOR_LEGACY_USE_ONLY);
    let mut cursor = file.cursor();
    while let Some(piece) = cursor.next_piece() {
        context.update(piece.as_bytes());
    }
    context
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn answer(
    platform: &Platform,
    headers: &HeaderMap,
    kind: BillKind,
    query: &QueryParams,
) -> Result<Response, ApiError> {
    let date = bill_date(query)?;
    let gzip = gzip(query)?;
    let (day, synthetic) = {
        let payments = platform.payments();
        let synthetic = payments.synthetic_rows.get(&date).copied().unwrap_or(0);
        (payments.day(date), synthetic)
    };
    let file = Arc::new(BillFile::new(
        kind,
        date,
        &platform.mchid,
        day,
        synthetic,
        gzip,
    ));
    let hash = sha1_hex(&file);
    let token = random_alphanumeric(32);
    platform
        .payments()
        .bill_files
        .insert(token.clone(), Arc::clone(&file));
    let host = super::request_host(headers);
    Ok(json_ok(json!({
        "hash_type": "SHA1",
        "hash_value": hash,
        "download_url": format!("http://{host}/v3/billdownload/file?token={token}"),
    })))
}

/// `GET /v3/bill/tradebill`
pub(super) async fn trade_bill(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    query: QueryParams,
) -> Result<Response, ApiError> {
    match query.0.get("bill_type").map(String::as_str) {
        None | Some("ALL" | "SUCCESS" | "REFUND") => {}
        Some(other) => {
            return Err(ApiError::param(format!(
                "bill_type {other:?} is not ALL, SUCCESS or REFUND"
            )));
        }
    }
    answer(&platform, &headers, BillKind::Trade, &query)
}

/// `GET /v3/bill/fundflowbill`
pub(super) async fn fund_flow_bill(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    query: QueryParams,
) -> Result<Response, ApiError> {
    match query.0.get("account_type").map(String::as_str) {
        None | Some("BASIC" | "OPERATION" | "FEES") => {}
        Some(other) => {
            return Err(ApiError::param(format!(
                "account_type {other:?} is not BASIC, OPERATION or FEES"
            )));
        }
    }
    answer(&platform, &headers, BillKind::FundFlow, &query)
}

/// Streams the CSV, gzipped when asked, one piece at a time.
struct Stream {
    cursor: BillCursor,
    encoder: Option<GzEncoder<Vec<u8>>>,
}

impl Stream {
    fn next(&mut self) -> Option<Bytes> {
        loop {
            let piece = self.cursor.next_piece();
            let Some(encoder) = self.encoder.as_mut() else {
                return piece.map(Bytes::from);
            };
            match piece {
                Some(piece) => {
                    // Writing into a Vec cannot fail.
                    let _ = encoder.write_all(piece.as_bytes());
                    let out = std::mem::take(encoder.get_mut());
                    if !out.is_empty() {
                        return Some(Bytes::from(out));
                    }
                }
                None => {
                    let out = self.encoder.take()?.finish().unwrap_or_default();
                    return Some(Bytes::from(out));
                }
            }
        }
    }
}

/// `GET /v3/billdownload/file?token=…`
pub(super) async fn download(
    State(platform): State<Arc<Platform>>,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let token = query
        .0
        .get("token")
        .ok_or_else(|| ApiError::param("token is required"))?;
    let file = platform
        .payments()
        .bill_files
        .get(token)
        .cloned()
        .ok_or_else(|| {
            ApiError::resource_not_exists("账单不存在: the download token is unknown")
        })?;
    let stream = Stream {
        cursor: file.cursor(),
        encoder: file
            .gzip
            .then(|| GzEncoder::new(Vec::new(), Compression::fast())),
    };
    let body = futures_util::stream::unfold(stream, |mut stream| async move {
        stream
            .next()
            .map(|bytes| (Ok::<_, Infallible>(bytes), stream))
    });
    let content_type = if file.gzip {
        "application/x-gzip"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut response = (
        StatusCode::OK,
        [(CONTENT_TYPE, content_type)],
        Body::from_stream(body),
    )
        .into_response();
    response.extensions_mut().insert(UnsignedFile);
    Ok(response)
}
