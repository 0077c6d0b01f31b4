//! Small holes, each closed: an empty key ring does not download on every call, a
//! notification body has one size limit however it is read, and transport errors (what the
//! "call failed" warning logs) carry no URL with personal data in it.

use crate::common;
use crate::loopback;

use std::time::Duration;

use common::{config, key, s};
use loopback::{Loopback, answer};
use wxpay_core::certificates::CertificateError;
use wxpay_core::notification::MAX_NOTIFICATION_BYTES;
use wxpay_core::{
    ApiV3Key, Client, CryptoBackend, Error, MerchantKey, NotificationError, PlatformKey,
    PlatformKeys, RetryPolicy, protocol,
};

#[tokio::test]
async fn an_empty_key_ring_does_not_download_on_every_call() {
    let platform = Loopback::answering(answer(500, "", b"{}")).await;
    let config = config();
    let client = Client::builder()
        .mchid(s(&config, "mchid"))
        .merchant_key(s(&config, "merchant_serial"), key("TEST_merchant_key.pem"))
        .apiv3_key(s(&config, "apiv3_key"))
        .base_url(&platform.url)
        .retry_policy(RetryPolicy::never())
        .unknown_serial_cooldown(Duration::from_secs(60))
        .build()
        .expect("client");
    for _ in 0..3 {
        let result: Result<serde_json::Value, Error> = client
            .get("/v3/marketing/favor/stocks/{id}")
            .path("id", "1")
            .send()
            .await;
        assert!(result.is_err());
    }
    assert_eq!(platform.count(), 1, "one download, then the cooldown");
    assert_eq!(client.platform_key_status().downloads, 1);
    let result: Result<serde_json::Value, Error> = client
        .get("/v3/marketing/favor/stocks/{id}")
        .path("id", "1")
        .send()
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Certificates(CertificateError::Cooldown { .. }))
        ),
        "{result:?}"
    );
}

/// A notification-shaped body of `size` bytes, validly signed by the TEST platform key.
fn signed_notification(size: usize) -> (http::HeaderMap, Vec<u8>, i64) {
    let config = config();
    let mut body = br#"{"id":"EV-1","padding":""#.to_vec();
    body.resize(size - 2, b'x');
    body.extend_from_slice(b"\"}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let platform =
        MerchantKey::from_pem(s(&config, "platform_serial"), &key("TEST_platform_key.pem"))
            .expect("platform key");
    let nonce = "NONCE";
    let signature = platform
        .sign(&protocol::response_message(&now.to_string(), nonce, &body))
        .expect("sign");
    let mut headers = http::HeaderMap::new();
    for (name, value) in [
        (protocol::WECHATPAY_TIMESTAMP, now.to_string()),
        (protocol::WECHATPAY_NONCE, nonce.to_owned()),
        (protocol::WECHATPAY_SIGNATURE, signature),
        (
            protocol::WECHATPAY_SERIAL,
            s(&config, "platform_serial").to_owned(),
        ),
    ] {
        headers.insert(name, value.parse().expect("header"));
    }
    (headers, body, now)
}

#[tokio::test]
async fn read_notification_has_the_extractors_size_limit() {
    let config = config();
    let client = loopback::merchant(wxpay_core::DEFAULT_BASE_URL)
        .apiv3_key(s(&config, "apiv3_key"))
        .build()
        .expect("client");
    let (headers, body, now) = signed_notification(MAX_NOTIFICATION_BYTES + 1);
    let result = client.read_notification(&headers, &body).await;
    assert!(
        matches!(
            result,
            Err(Error::Notification(NotificationError::UnreadableBody))
        ),
        "{result:?}"
    );
    // The pure reader too.
    let mut keys = PlatformKeys::new();
    keys.insert(PlatformKey::from_certificate_pem(&key("TEST_platform_cert.pem")).expect("cert"));
    let apiv3 = ApiV3Key::new(s(&config, "apiv3_key")).expect("apiv3");
    let result = wxpay_core::notification::read(
        &headers,
        &body,
        &keys,
        &apiv3,
        CryptoBackend::default(),
        now,
        300,
    );
    assert!(
        matches!(
            result,
            Err(Error::Notification(NotificationError::UnreadableBody))
        ),
        "{result:?}"
    );
    // At the limit it is read (and fails later, as the envelope it is not).
    let (headers, body, _) = signed_notification(MAX_NOTIFICATION_BYTES);
    let result = client.read_notification(&headers, &body).await;
    assert!(
        matches!(
            result,
            Err(Error::Notification(
                NotificationError::MalformedEnvelope { .. }
            ))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn transport_errors_carry_no_url_with_personal_data() {
    // Reads the request and closes: an interrupted call, the warning's usual case.
    let platform = Loopback::start(|_| Vec::new()).await;
    let client = loopback::merchant(&platform.url)
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client");
    let result: Result<serde_json::Value, Error> = client
        .get("/v3/multiuse/users/{openid}/coupons")
        .path("openid", "oPATHSECRET")
        .query("openid", "oQUERYSECRET")
        .send()
        .await;
    let error = result.expect_err("interrupted");
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(platform.count(), 1);
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains("SECRET"), "{text}");
    }
}
