//! Turns fuzzer bytes into an HTTP answer: header lines up to a blank line, then the body.
#![allow(dead_code)] // each target uses part of it

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use wxpay_core::{PlatformKey, PlatformKeys};

pub fn ring() -> PlatformKeys {
    let mut ring = PlatformKeys::new();
    let pem = include_str!("../../tests/fixtures/keys/TEST_platform_cert.pem");
    if let Ok(key) = PlatformKey::from_certificate_pem(pem) {
        ring.insert(key);
    }
    ring
}

pub fn response(data: &[u8]) -> http::Response<Bytes> {
    let (status, rest) = match data.split_first() {
        Some((&s, rest)) => (100 + u16::from(s) * 2, rest),
        None => (200, data),
    };
    let split = rest.windows(2).position(|w| w == b"\n\n").unwrap_or(rest.len());
    let (head, body) = rest.split_at(split);
    let mut response = http::Response::new(Bytes::copy_from_slice(body.get(2..).unwrap_or_default()));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(&line[colon + 1..])) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
