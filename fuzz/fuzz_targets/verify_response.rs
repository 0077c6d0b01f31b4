//! Response verification and header parsing: any answer is an error or verified data.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let ring = common::ring();
    let response = common::response(data);
    let _ = wxpay_core::protocol::verify_signature(response.headers(), response.body(), &ring, 1_800_000_000, 300);
    let _ = wxpay_core::protocol::read_response(response, &ring, 1_800_000_000, 300, |b| {
        serde_json::from_slice::<serde_json::Value>(b)
    });
});
