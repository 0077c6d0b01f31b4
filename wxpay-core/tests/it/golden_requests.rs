//! Golden requests: fixed key, time and nonce give exactly the vectors' `Authorization`.

use crate::common;

use common::{config, key, s, vectors};
use http::header::{ACCEPT, AUTHORIZATION, USER_AGENT};
use http::{HeaderValue, Method};
use wxpay_core::protocol::{self, RequestContext, Signer};
use wxpay_core::{CryptoBackend, MerchantKey, PlatformKey, PlatformKeys, RequestParts};

fn parts(method: &str, url: &str, body: &str) -> RequestParts {
    let mut writer = wxpay_core::RequestWriter::new(method.parse().expect("method"), None, 0);
    writer.path_literal(url);
    let mut parts = writer.finish();
    parts.body = body.as_bytes().to_vec();
    parts
}

#[test]
fn every_vector_request_signs_to_the_exact_authorization_with_every_backend() {
    let vectors = vectors();
    let config = config();
    for &backend in CryptoBackend::all() {
        for key_file in ["TEST_merchant_key.pem", "TEST_merchant_key.pkcs1.pem"] {
            let merchant =
                MerchantKey::from_pem_with(s(&config, "merchant_serial"), &key(key_file), backend)
                    .expect("merchant key");
            let ring = PlatformKeys::new();
            let user_agent = HeaderValue::from_static("wxpay-test");
            let context = RequestContext {
                base_url: "https://api.mch.weixin.qq.com",
                signer: Signer {
                    mchid: s(&config, "mchid"),
                    key: &merchant,
                },
                platform_keys: &ring,
                user_agent: &user_agent,
            };
            for vector in vectors["requests"].as_array().expect("requests") {
                let name = s(vector, "name");
                let timestamp: i64 = s(vector, "timestamp").parse().expect("timestamp");
                let message = protocol::request_message(
                    s(vector, "method"),
                    s(vector, "url"),
                    timestamp,
                    s(vector, "nonce"),
                    s(vector, "body").as_bytes(),
                );
                assert_eq!(message, s(vector, "message").as_bytes(), "{name}: message");

                let request = protocol::sign_request(
                    parts(s(vector, "method"), s(vector, "url"), s(vector, "body")),
                    &context,
                    timestamp,
                    s(vector, "nonce"),
                )
                .expect("signs");
                assert_eq!(
                    request.headers()[AUTHORIZATION],
                    s(vector, "authorization"),
                    "{name} with {backend:?} and {key_file}"
                );
                assert_eq!(request.headers()[ACCEPT], "application/json");
                assert_eq!(request.headers()[USER_AGENT], "wxpay-test");
                assert_eq!(
                    request.uri().to_string(),
                    format!("https://api.mch.weixin.qq.com{}", s(vector, "url"))
                );
                assert_eq!(request.body(), s(vector, "body").as_bytes());
            }
        }
    }
}

#[test]
fn nonces_are_32_alphanumerics_and_differ() {
    let a = protocol::nonce().expect("nonce");
    let b = protocol::nonce().expect("nonce");
    assert_eq!(a.len(), 32);
    assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
    assert_ne!(a, b);
}

#[test]
fn encrypted_fields_use_one_key_and_name_it_in_wechatpay_serial() {
    let config = config();
    let platform = PlatformKey::from_certificate_pem(&key("TEST_platform_cert.pem")).expect("cert");
    let mut ring = PlatformKeys::new();
    ring.insert(platform);
    let now = 1_800_000_000; // inside the TEST certificate's validity window
    let mut writer = wxpay_core::RequestWriter::new(Method::POST, Some(&ring), now);
    writer.path_literal("/v3/multiuse/users/o1/coupons");
    let name = writer.encrypt("张三").expect("encrypts");
    let id = writer.encrypt("110101199003072316").expect("encrypts");
    let parts = writer.finish();
    assert_eq!(
        parts.headers["wechatpay-serial"],
        s(&config, "platform_serial")
    );
    assert_ne!(name, id);

    let platform_private = MerchantKey::from_pem(
        "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E",
        &key("TEST_platform_key.pem"),
    )
    .expect("key");
    assert_eq!(&*platform_private.decrypt(&name).expect("decrypts"), "张三");
    assert_eq!(
        &*platform_private.decrypt(&id).expect("decrypts"),
        "110101199003072316"
    );
}

#[test]
fn encrypting_without_platform_keys_is_an_error_not_a_panic() {
    let mut writer = wxpay_core::RequestWriter::new(Method::POST, None, 0);
    let err = writer.encrypt("x").expect_err("no key");
    assert!(
        matches!(err, wxpay_core::RequestError::NoEncryptionKey),
        "{err:?}"
    );
}
