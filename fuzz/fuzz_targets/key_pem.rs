//! Keys and certificates from configuration or a certificate download.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = wxpay_core::MerchantKey::from_pem("0A3C", &text);
    let _ = wxpay_core::PlatformKey::from_certificate_pem(&text);
    let _ = wxpay_core::PlatformKey::from_public_key_pem("PUB_KEY_ID_01", &text);
    let _ = wxpay_core::PlatformKey::from_certificate_der_with(data, wxpay_core::CryptoBackend::default());
});
