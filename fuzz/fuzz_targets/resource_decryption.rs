//! Encrypted resources (certificates, notifications): envelope parsing and AES-GCM decryption.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(key) = wxpay_core::ApiV3Key::new("TESTapiv3key0123456789ABCDEFGHIJ") else { return };
    if let Ok(list) = serde_json::from_slice::<wxpay_core::certificates::CertificateList>(data) {
        let _ = wxpay_core::certificates::decrypt_certificates(&list, &key, wxpay_core::CryptoBackend::default(), 1_800_000_000);
    }
    if let Ok(resource) = serde_json::from_slice::<wxpay_core::certificates::EncryptedResource>(data) {
        let _ = resource.decrypt(&key, wxpay_core::CryptoBackend::default());
    }
});
