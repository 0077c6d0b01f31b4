//! Image uploads (`/v3/merchant/media/upload`, `/v3/marketing/favor/media/image-upload`):
//! `multipart/form-data` with a `meta` JSON part (`filename`, `sha256`) and a `file` part.
//! The request signature covers the `meta` JSON (the gate asks [`signed_part`] for it);
//! here the file must match the meta's name and SHA-256 and be a JPG, PNG or BMP within
//! the API's size limit.

use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::json_ok;
use crate::crypto::random_alphanumeric;
use crate::error::ApiError;
use crate::state::Platform;

/// One part of a multipart body.
struct Part<'b> {
    name: String,
    filename: Option<String>,
    content: &'b [u8],
}

fn boundary(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let (kind, params) = value.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (key, value) = p.trim().split_once('=')?;
        key.eq_ignore_ascii_case("boundary")
            .then(|| value.trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `name="…"` in a Content-Disposition.
fn disposition_param(header: &str, key: &str) -> Option<String> {
    let start = header.find(&format!("{key}=\""))? + key.len() + 2;
    let end = header[start..].find('"')? + start;
    Some(header[start..end].to_owned())
}

fn parts<'b>(boundary: &str, body: &'b [u8]) -> Option<Vec<Part<'b>>> {
    let delimiter = format!("--{boundary}");
    let mut rest = body.get(find(body, delimiter.as_bytes())? + delimiter.len()..)?;
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        let after_head = &rest[head_end + 4..];
        let next = find(after_head, format!("\r\n{delimiter}").as_bytes())?;
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
        parts.push(Part {
            name: disposition_param(disposition, "name")?,
            filename: disposition_param(disposition, "filename"),
            content: &after_head[..next],
        });
        rest = &after_head[next + 2 + delimiter.len()..];
    }
}

/// What the signature of a multipart request covers: its `meta` part. `None` when the
/// request is not multipart (its body is signed) or has no `meta`.
pub(crate) fn signed_part(headers: &HeaderMap, body: &[u8]) -> Option<Vec<u8>> {
    let boundary = boundary(headers)?;
    let parts = parts(&boundary, body)?;
    parts
        .into_iter()
        .find(|p| p.name == "meta")
        .map(|p| p.content.to_vec())
}

#[derive(Deserialize)]
struct Meta {
    filename: String,
    sha256: String,
}

fn check_upload(headers: &HeaderMap, body: &[u8], max_bytes: usize) -> Result<String, ApiError> {
    let boundary = boundary(headers).ok_or_else(|| {
        ApiError::param("Content-Type must be multipart/form-data with a boundary")
    })?;
    let parts =
        parts(&boundary, body).ok_or_else(|| ApiError::param("malformed multipart body"))?;
    let meta = parts
        .iter()
        .find(|p| p.name == "meta")
        .ok_or_else(|| ApiError::param("the meta part is missing"))?;
    let meta: Meta = serde_json::from_slice(meta.content)
        .map_err(|e| ApiError::param(format!("meta is not {{filename, sha256}} JSON: {e}")))?;
    let file = parts
        .iter()
        .find(|p| p.name == "file")
        .ok_or_else(|| ApiError::param("the file part is missing"))?;
    if file.filename.as_deref() != Some(meta.filename.as_str()) {
        return Err(ApiError::param(
            "the file part's filename is not meta.filename",
        ));
    }
    let sha256: String = digest(&SHA256, file.content)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if !sha256.eq_ignore_ascii_case(&meta.sha256) {
        return Err(ApiError::param(format!(
            "meta.sha256 {} is not the SHA-256 of the file ({sha256})",
            meta.sha256
        )));
    }
    if file.content.len() > max_bytes {
        return Err(ApiError::param(format!(
            "the image is {} bytes; at most {max_bytes} are accepted",
            file.content.len()
        )));
    }
    let content = file.content;
    let image = content.starts_with(&[0xFF, 0xD8, 0xFF])
        || content.starts_with(b"\x89PNG\r\n\x1a\n")
        || content.starts_with(b"BM");
    let extension = meta
        .filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !image || !["jpg", "jpeg", "png", "bmp"].contains(&extension.as_str()) {
        return Err(ApiError::param("only JPG, PNG and BMP images are accepted"));
    }
    Ok(sha256)
}

/// `POST /v3/merchant/media/upload`: at most 5 MiB.
pub(super) async fn merchant_upload(
    State(_platform): State<Arc<Platform>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_upload(&headers, &body, 5 * 1024 * 1024)?;
    Ok(json_ok(json!({ "media_id": random_alphanumeric(64) })))
}

/// `POST /v3/marketing/favor/media/image-upload`: at most 2 MiB.
pub(super) async fn marketing_upload(
    State(_platform): State<Arc<Platform>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let sha256 = check_upload(&headers, &body, 2 * 1024 * 1024)?;
    Ok(json_ok(json!({
        "media_url": format!("https://wxpaylogo.qpic.cn/wxpaylogo/{sha256}/0")
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(meta_sha: &str, file: &[u8]) -> (HeaderMap, Vec<u8>) {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            "multipart/form-data; boundary=XyZ".parse().unwrap(),
        );
        let mut body = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n{{\"filename\":\"a.png\",\"sha256\":\"{meta_sha}\"}}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        (headers, body)
    }

    #[test]
    fn the_meta_is_what_is_signed_and_the_file_must_match_it() {
        let file = b"\x89PNG\r\n\x1a\nabc";
        let sha: String = digest(&SHA256, file)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let (headers, body) = upload(&sha, file);
        assert_eq!(
            signed_part(&headers, &body).unwrap(),
            format!("{{\"filename\":\"a.png\",\"sha256\":\"{sha}\"}}").into_bytes()
        );
        assert!(check_upload(&headers, &body, 100).is_ok());
        assert!(check_upload(&headers, &body, 5).is_err(), "over the limit");
        let (headers, body) = upload(&"0".repeat(64), file);
        assert!(
            check_upload(&headers, &body, 100).is_err(),
            "sha256 mismatch"
        );
        let (headers, body) = upload(&sha, b"GIF89a");
        assert!(check_upload(&headers, &body, 100).is_err());
        assert_eq!(signed_part(&HeaderMap::new(), &body), None);
    }
}
