//! API error bodies: any non-2xx body becomes an error value.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut response = common::response(data);
    *response.status_mut() = http::StatusCode::BAD_REQUEST;
    let result = wxpay_core::protocol::interpret_response(response, Ok(()), |_| Ok(()));
    assert!(result.is_err());
});
