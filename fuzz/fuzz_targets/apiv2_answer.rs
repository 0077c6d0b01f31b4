//! APIv2 answers and notifications: any bytes are read as an answer (signed and unsigned) and
//! as both notification kinds; the outcome is a value or an error, never a panic, and nothing
//! unsigned passes as a signed answer.
#![no_main]

use wxpay_core::apiv2::{self, SignType};
use wxpay_core::{ApiV2Key, CryptoBackend};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(key) = ApiV2Key::new("TESTfuzzkey0123456789ABCDEFGHIJK") else {
        return;
    };
    let backend = CryptoBackend::default();
    for sign_type in [SignType::Md5, SignType::HmacSha256] {
        if let Ok(fields) = apiv2::read_answer(data, &key, sign_type, true, backend) {
            // A signed answer that passed carries a sign that verifies.
            assert!(apiv2::verify(&fields, &key, sign_type, backend).is_ok());
        }
        let _ = apiv2::read_answer(data, &key, sign_type, false, backend);
        let _ = apiv2::read_payment_notification(data, &key, sign_type, backend);
    }
    let _ = apiv2::read_refund_notification(data, &key, backend);
});
