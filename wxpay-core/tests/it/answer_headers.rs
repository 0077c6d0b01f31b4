//! Header fidelity of signed answers and notifications: each `Wechatpay-*` header appears
//! once (an answer with two is not to be trusted: which one was checked?), and
//! `Wechatpay-Signature-Type`, when present, names the RSA scheme this SDK verifies.

use crate::common;

use base64::Engine as _;
use common::{config, key, s};
use http::{HeaderMap, HeaderName, HeaderValue};
use wxpay_core::protocol;
use wxpay_core::{ApiV3Key, CryptoBackend, Error, MerchantKey, PlatformKey, PlatformKeys};
use wxpay_core::{VerificationError, notification};

const NOW: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"id":"EV-2018022511223320873","create_time":"2015-05-20T13:29:35+08:00","resource_type":"encrypt-resource","event_type":"TRANSACTION.SUCCESS","summary":"x","resource":{"algorithm":"AEAD_AES_256_GCM","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"fdasflkja484","associated_data":"transaction"}}"#;

fn keys() -> PlatformKeys {
    let mut keys = PlatformKeys::new();
    keys.insert(PlatformKey::from_certificate_pem(&key("TEST_platform_cert.pem")).expect("cert"));
    keys
}

/// The four headers, signed by the TEST platform key as the platform signs.
fn signed(body: &[u8]) -> HeaderMap {
    let config = config();
    let platform =
        MerchantKey::from_pem(s(&config, "platform_serial"), &key("TEST_platform_key.pem"))
            .expect("key");
    let (timestamp, nonce) = (NOW.to_string(), "5K8264ILTKCH16CQ2502SI8ZNMTM67VS");
    let signature = platform
        .sign(&protocol::response_message(&timestamp, nonce, body))
        .expect("sign");
    let mut headers = HeaderMap::new();
    let mut set = |name: HeaderName, value: &str| {
        headers.insert(name, HeaderValue::from_str(value).expect("value"));
    };
    set(protocol::WECHATPAY_TIMESTAMP, &timestamp);
    set(protocol::WECHATPAY_NONCE, nonce);
    set(protocol::WECHATPAY_SIGNATURE, &signature);
    set(protocol::WECHATPAY_SERIAL, s(&config, "platform_serial"));
    headers
}

fn verify(headers: &HeaderMap) -> Result<(), VerificationError> {
    protocol::verify_signature(headers, BODY, &keys(), NOW, 300).map(|_| ())
}

#[test]
fn the_signed_headers_verify_as_they_are() {
    assert_eq!(verify(&signed(BODY)), Ok(()));
}

#[test]
fn a_second_copy_of_any_signed_header_is_refused() {
    let forged = base64::engine::general_purpose::STANDARD.encode([7u8; 256]);
    for (name, label, second) in [
        (
            protocol::WECHATPAY_SIGNATURE,
            "Wechatpay-Signature",
            forged.as_str(),
        ),
        (
            protocol::WECHATPAY_TIMESTAMP,
            "Wechatpay-Timestamp",
            "1700000001",
        ),
        (protocol::WECHATPAY_NONCE, "Wechatpay-Nonce", "other"),
        (
            protocol::WECHATPAY_SERIAL,
            "Wechatpay-Serial",
            "PUB_KEY_ID_0000",
        ),
        (
            protocol::WECHATPAY_SIGNATURE_TYPE,
            "Wechatpay-Signature-Type",
            protocol::SIGNATURE_TYPE,
        ),
    ] {
        let mut headers = signed(BODY);
        if name == protocol::WECHATPAY_SIGNATURE_TYPE {
            headers.insert(
                name.clone(),
                HeaderValue::from_static(protocol::SIGNATURE_TYPE),
            );
        }
        // The genuine value first: "the first wins" would accept this.
        headers.append(name, HeaderValue::from_str(second).expect("value"));
        assert_eq!(
            verify(&headers),
            Err(VerificationError::DuplicateHeader(label)),
            "{label}"
        );
    }
}

#[test]
fn a_notification_with_a_duplicate_header_is_refused() {
    let mut headers = signed(BODY);
    headers.append(
        protocol::WECHATPAY_NONCE,
        HeaderValue::from_static("another"),
    );
    let apiv3 = ApiV3Key::new(s(&config(), "apiv3_key")).expect("apiv3 key");
    let result = notification::read(
        &headers,
        BODY,
        &keys(),
        &apiv3,
        CryptoBackend::default(),
        NOW,
        300,
    );
    assert!(
        matches!(
            result,
            Err(Error::Verification {
                kind: VerificationError::DuplicateHeader("Wechatpay-Nonce"),
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn the_rsa_signature_type_or_none_is_accepted() {
    let mut headers = signed(BODY);
    assert_eq!(verify(&headers), Ok(()), "absent is accepted");
    headers.insert(
        protocol::WECHATPAY_SIGNATURE_TYPE,
        HeaderValue::from_static("WECHATPAY2-SHA256-RSA2048"),
    );
    assert_eq!(verify(&headers), Ok(()));
}

#[test]
fn another_signature_type_is_its_own_error_not_a_bad_signature() {
    for scheme in ["WECHATPAY2-SM2-WITH-SM3", "wechatpay2-sha256-rsa2048 ", ""] {
        let mut headers = signed(BODY);
        headers.insert(
            protocol::WECHATPAY_SIGNATURE_TYPE,
            HeaderValue::from_str(scheme).expect("value"),
        );
        let result = verify(&headers);
        assert_eq!(
            result,
            Err(VerificationError::UnsupportedSignatureType(
                scheme.to_owned()
            )),
            "{scheme:?}"
        );
        let message = result.expect_err("refused").to_string();
        assert!(message.contains("unsupported signature type"), "{message}");
    }
}
