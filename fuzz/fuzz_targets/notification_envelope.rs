//! The notification envelope after its signature verified: any body is a typed error or a
//! notification. The first byte chooses how the rest is used: as the whole body, or as the
//! plaintext of a resource sealed with the APIv3 key (so the event decoders are reached).
#![no_main]

use wxpay_core::{ApiV3Key, CryptoBackend};

const EVENTS: [&str; 7] = [
    "TRANSACTION.SUCCESS",
    "REFUND.SUCCESS",
    "REFUND.ABNORMAL",
    "REFUND.CLOSED",
    "COUPON.USE",
    "COUPON.SEND",
    "SOMETHING.NEW",
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(key) = ApiV3Key::new("TESTapiv3key0123456789ABCDEFGHIJ") else { return };
    let backend = CryptoBackend::default();
    let Some((&mode, rest)) = data.split_first() else { return };
    let body = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let event_type = EVENTS[usize::from(mode >> 1) % EVENTS.len()];
        let Ok(ciphertext) = key.encrypt("fuzznonce012", "transaction", rest, backend) else { return };
        serde_json::json!({
            "id": "EV-2018022511223320873",
            "create_time": "2015-05-20T13:29:35+08:00",
            "event_type": event_type,
            "resource_type": "encrypt-resource",
            "summary": "fuzz",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": ciphertext,
                "nonce": "fuzznonce012",
                "associated_data": "transaction",
                "original_type": "transaction",
            },
        })
        .to_string()
        .into_bytes()
    };
    if let Err(error) = wxpay_core::__fuzz::read_verified_notification(&body, &key, backend) {
        // The resource's plaintext may be personal data: its errors carry positions only.
        let text = error.to_string();
        assert!(!text.is_empty());
    }
});
