//! Notification reading against the TEST keys and the AES-GCM vectors: the genuine path, every
//! event type, and a negative table of every header and every kind of tampering.

use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::*;
use crate::error::VerificationError;
use crate::keys::{MerchantKey, PlatformKey};

const APIV3_KEY: &str = "TESTapiv3key0123456789ABCDEFGHIJ";
const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0112300001092025110100000000";
const NOW: i64 = 1_700_000_000;
const TOLERANCE: u64 = 300;
const NONCE: &str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";

fn fixture(name: &str) -> String {
    let path = format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The platform's private key, held as a "merchant" key only because that type can sign.
fn platform_signer() -> MerchantKey {
    MerchantKey::from_pem("01", &fixture("keys/TEST_platform_key.pem")).unwrap()
}

fn platform_keys(backend: CryptoBackend) -> PlatformKeys {
    let mut keys = PlatformKeys::new();
    keys.insert(
        PlatformKey::from_public_key_pem_with(
            PUBLIC_KEY_ID,
            &fixture("keys/TEST_platform_pub.pem"),
            backend,
        )
        .unwrap(),
    );
    keys
}

fn apiv3_key() -> ApiV3Key {
    ApiV3Key::new(APIV3_KEY).unwrap()
}

fn transaction() -> Value {
    json!({
        "appid": "wxd678efh567hg6787",
        "mchid": "1230000109",
        "out_trade_no": "1217752501201407033233368018",
        "transaction_id": "1217752501201407033233368018",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "CMC",
        "attach": "自定义数据",
        "success_time": "2018-06-08T10:34:56+08:00",
        "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
        "amount": { "total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY" },
    })
}

/// An envelope around `resource`, encrypted as the platform does.
fn envelope(event_type: &str, associated_data: &str, resource: &Value) -> Value {
    let nonce = "fdasflkja484";
    let ciphertext = apiv3_key()
        .encrypt(
            nonce,
            associated_data,
            resource.to_string().as_bytes(),
            CryptoBackend::default(),
        )
        .unwrap();
    json!({
        "id": "EV-2018022511223320873",
        "create_time": "2015-05-20T13:29:35+08:00",
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": "支付成功",
        "resource": {
            "original_type": associated_data,
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": ciphertext,
            "associated_data": associated_data,
            "nonce": nonce,
        },
    })
}

/// Headers signing `body` at `timestamp` with the TEST platform key.
fn signed_headers(body: &[u8], timestamp: i64) -> HeaderMap {
    let timestamp = timestamp.to_string();
    let signature = platform_signer()
        .sign(&protocol::response_message(&timestamp, NONCE, body))
        .unwrap();
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (protocol::WECHATPAY_TIMESTAMP, timestamp.as_str()),
        (protocol::WECHATPAY_NONCE, NONCE),
        (protocol::WECHATPAY_SIGNATURE, signature.as_str()),
        (protocol::WECHATPAY_SERIAL, PUBLIC_KEY_ID),
    ] {
        headers.insert(name, HeaderValue::from_str(value).unwrap());
    }
    headers
}

fn read_at(headers: &HeaderMap, body: &[u8], now: i64) -> Result<Notification, Error> {
    read(
        headers,
        body,
        &platform_keys(CryptoBackend::default()),
        &apiv3_key(),
        CryptoBackend::default(),
        now,
        TOLERANCE,
    )
}

/// Signs `body` properly and reads it: for failures past the signature.
fn read_signed(body: &[u8]) -> Result<Notification, Error> {
    read_at(&signed_headers(body, NOW), body, NOW)
}

fn genuine_body() -> Vec<u8> {
    envelope("TRANSACTION.SUCCESS", "transaction", &transaction())
        .to_string()
        .into_bytes()
}

#[test]
fn a_genuine_payment_notification_is_read_with_every_backend() {
    let body = genuine_body();
    let headers = signed_headers(&body, NOW);
    for &backend in CryptoBackend::all() {
        let notification = read(
            &headers,
            &body,
            &platform_keys(backend),
            &apiv3_key(),
            backend,
            NOW,
            TOLERANCE,
        )
        .unwrap();
        assert_eq!(notification.id, "EV-2018022511223320873");
        assert_eq!(notification.event_type, EventType::TransactionSuccess);
        assert_eq!(notification.original_type, "transaction");
        assert_eq!(notification.create_time.offset().whole_hours(), 8);
        assert_eq!(notification.resource.json(), &transaction());
    }
}

/// Every event type, known or not, is kept as JSON that `Debug` does not show (the catalog's
/// `wxpay::notification::Event` types it).
#[test]
fn resources_are_kept_as_redacted_json_and_typed_on_request() {
    let other = json!({ "openid": "oSECRET", "user_name": "张三", "trade_state": "PAYERROR" });
    let body = envelope("SOMETHING.NEW", "transaction", &other).to_string();
    let notification = read_signed(body.as_bytes()).unwrap();
    assert_eq!(
        notification.event_type,
        EventType::Unknown("SOMETHING.NEW".into())
    );
    let known = envelope("TRANSACTION.FAIL", "transaction", &other).to_string();
    assert_eq!(
        read_signed(known.as_bytes()).unwrap().event_type,
        EventType::TransactionFail
    );
    let debug = format!("{notification:?}");
    assert!(
        !debug.contains("oSECRET") && !debug.contains("张三"),
        "{debug}"
    );
    let resource = &notification.resource;
    assert_eq!(resource.json()["trade_state"], "PAYERROR");
    #[derive(Deserialize)]
    struct Fail {
        trade_state: String,
    }
    assert_eq!(
        resource.deserialize::<Fail>().unwrap().trade_state,
        "PAYERROR"
    );
}

/// The AES-GCM known answers made by an independent implementation decrypt through the
/// notification path with every backend.
#[test]
fn the_aesgcm_vectors_decrypt_as_notification_resources() {
    let vectors: Value = serde_json::from_str(&fixture("vectors.json")).unwrap();
    let vectors = vectors["aesgcm"].as_array().unwrap();
    assert!(!vectors.is_empty());
    for vector in vectors {
        let text = |name: &str| vector[name].as_str().unwrap().to_owned();
        let key = ApiV3Key::new(&text("key")).unwrap();
        let body = json!({
            "id": "EV-1", "create_time": "2015-05-20T13:29:35+08:00",
            "resource_type": "encrypt-resource", "event_type": "VECTOR.TEST", "summary": "",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM", "ciphertext": text("ciphertext"),
                "nonce": text("nonce"), "associated_data": text("associated_data"),
                "original_type": "vector",
            },
        })
        .to_string();
        for &backend in CryptoBackend::all() {
            let plaintext_is_json = serde_json::from_str::<Value>(&text("plaintext")).is_ok();
            let result = decrypt_verified(body.as_bytes(), &key, backend);
            if plaintext_is_json {
                let Ok(Notification { resource, .. }) = result else {
                    panic!("{}: {result:?}", backend.name());
                };
                let expected: Value = serde_json::from_str(&text("plaintext")).unwrap();
                assert_eq!(resource.json(), &expected);
            } else {
                // It decrypted (the AEAD held) and then was found not to be JSON.
                assert!(
                    matches!(
                        result,
                        Err(NotificationError::MalformedResource { problem, .. }) if problem == "not JSON"
                    ),
                    "{}: {result:?}",
                    backend.name()
                );
            }
        }
    }
}

#[test]
fn a_resource_of_another_shape_is_an_error_that_hides_its_values() {
    let vectors: Value = serde_json::from_str(&fixture("vectors.json")).unwrap();
    let vector = vectors["aesgcm"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["associated_data"] == "transaction")
        .unwrap();
    let body = json!({
        "id": "EV-1", "create_time": "2015-05-20T13:29:35+08:00", "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {
            "algorithm": "AEAD_AES_256_GCM", "ciphertext": vector["ciphertext"],
            "nonce": vector["nonce"], "associated_data": "transaction", "original_type": "transaction",
        },
    })
    .to_string();
    let notification = read_signed(body.as_bytes()).unwrap();
    assert_eq!(
        notification.resource.json()["payer"]["openid"],
        "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    );
    // serde's own message would quote the openid it found where a number was expected.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Payer {
        openid: u64,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Paid {
        payer: Payer,
    }
    let error = notification.resource.deserialize::<Paid>().unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(
        matches!(error, NotificationError::MalformedResource { .. }),
        "{text}"
    );
    assert!(!text.contains("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"), "{text}");
}

fn verification(result: Result<Notification, Error>) -> VerificationError {
    match result {
        Err(Error::Verification { kind, .. }) => kind,
        other => panic!("expected a verification error, got {other:?}"),
    }
}

fn notification_error(result: Result<Notification, Error>) -> NotificationError {
    match result {
        Err(Error::Notification(kind)) => kind,
        other => panic!("expected a notification error, got {other:?}"),
    }
}

#[test]
fn every_missing_header_is_named() {
    let body = genuine_body();
    for (name, label) in [
        (protocol::WECHATPAY_TIMESTAMP, "Wechatpay-Timestamp"),
        (protocol::WECHATPAY_NONCE, "Wechatpay-Nonce"),
        (protocol::WECHATPAY_SIGNATURE, "Wechatpay-Signature"),
        (protocol::WECHATPAY_SERIAL, "Wechatpay-Serial"),
    ] {
        let mut headers = signed_headers(&body, NOW);
        headers.remove(&name);
        assert_eq!(
            verification(read_at(&headers, &body, NOW)),
            VerificationError::MissingHeader(label)
        );
    }
}

#[test]
fn tampering_with_the_signed_message_is_a_bad_signature() {
    let body = genuine_body();
    let headers = signed_headers(&body, NOW);
    let bad = VerificationError::BadSignature {
        serial: PUBLIC_KEY_ID.into(),
    };

    let tampered_body = String::from_utf8(body.clone())
        .unwrap()
        .replace("支付成功", "支付失败");
    assert_ne!(tampered_body.as_bytes(), &body[..]);
    assert_eq!(
        verification(read_at(&headers, tampered_body.as_bytes(), NOW)),
        bad
    );

    // Re-serialising the body (what a framework's JSON extractor does) breaks it too.
    let reserialised = serde_json::from_slice::<Value>(&body).unwrap();
    let pretty = serde_json::to_vec_pretty(&reserialised).unwrap();
    assert_eq!(verification(read_at(&headers, &pretty, NOW)), bad);

    let mut nonce = headers.clone();
    nonce.insert(
        protocol::WECHATPAY_NONCE,
        HeaderValue::from_static("5K8264ILTKCH16CQ2502SI8ZNMTM67VT"),
    );
    assert_eq!(verification(read_at(&nonce, &body, NOW)), bad);

    let mut timestamp = headers.clone();
    timestamp.insert(
        protocol::WECHATPAY_TIMESTAMP,
        HeaderValue::from_str(&(NOW + 1).to_string()).unwrap(),
    );
    assert_eq!(verification(read_at(&timestamp, &body, NOW)), bad);

    let mut signature = headers.clone();
    let original = headers[&protocol::WECHATPAY_SIGNATURE].to_str().unwrap();
    let flipped = match original.strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", &original[1..]),
    };
    signature.insert(
        protocol::WECHATPAY_SIGNATURE,
        HeaderValue::from_str(&flipped).unwrap(),
    );
    assert_eq!(verification(read_at(&signature, &body, NOW)), bad);

    let mut serial = headers;
    serial.insert(
        protocol::WECHATPAY_SERIAL,
        HeaderValue::from_static("PUB_KEY_ID_0000000000000000000000000000"),
    );
    assert!(matches!(
        verification(read_at(&serial, &body, NOW)),
        VerificationError::UnknownSerial(_)
    ));
}

#[test]
fn skew_both_ways_is_refused_and_the_edge_accepted() {
    let body = genuine_body();
    for offset in [-301, 301] {
        let headers = signed_headers(&body, NOW + offset);
        assert!(matches!(
            verification(read_at(&headers, &body, NOW)),
            VerificationError::ClockSkew { tolerance: 300, .. }
        ));
    }
    for offset in [-300, 300] {
        assert!(read_at(&signed_headers(&body, NOW + offset), &body, NOW).is_ok());
    }
}

#[test]
fn a_probe_is_its_own_kind() {
    let body = genuine_body();
    let mut headers = signed_headers(&body, NOW);
    headers.insert(
        protocol::WECHATPAY_SIGNATURE,
        HeaderValue::from_static("WECHATPAY/SIGNTEST/2zkXhDbR3Nq4c1gOw7uV2vDZ"),
    );
    assert_eq!(
        verification(read_at(&headers, &body, NOW)),
        VerificationError::SignatureProbe
    );
}

/// Genuinely signed envelopes whose resource is wrong: what only a broken platform, a wrong
/// key or a forger holding the platform key would produce.
#[test]
fn every_kind_of_bad_resource_is_a_clear_error() {
    let good = envelope("TRANSACTION.SUCCESS", "transaction", &transaction());
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut envelope = good.clone();
        edit(&mut envelope);
        notification_error(read_signed(envelope.to_string().as_bytes()))
    };
    let ciphertext = good["resource"]["ciphertext"].as_str().unwrap().to_owned();

    let mut sealed = BASE64.decode(&ciphertext).unwrap();
    sealed[0] ^= 1;
    let flipped = BASE64.encode(&sealed);
    assert_eq!(
        with(&|e| e["resource"]["ciphertext"] = json!(flipped)),
        NotificationError::Decrypt
    );
    let truncated_tag = BASE64.encode(&sealed[..sealed.len() - 1]);
    assert_eq!(
        with(&|e| e["resource"]["ciphertext"] = json!(truncated_tag)),
        NotificationError::Decrypt
    );
    assert_eq!(
        with(&|e| e["resource"]["associated_data"] = json!("certificate")),
        NotificationError::Decrypt
    );
    assert_eq!(
        with(&|e| e["resource"]["nonce"] = json!("fdasflkja485")),
        NotificationError::Decrypt
    );
    assert_eq!(
        with(&|e| e["resource"]["nonce"] = json!("short")),
        NotificationError::BadNonce { length: 5 }
    );
    assert_eq!(
        with(&|e| e["resource"]["algorithm"] = json!("AEAD_AES_128_GCM")),
        NotificationError::UnsupportedAlgorithm("AEAD_AES_128_GCM".into())
    );
    let short = BASE64.encode([0u8; 10]);
    assert_eq!(
        with(&|e| e["resource"]["ciphertext"] = json!(short)),
        NotificationError::TruncatedCiphertext { length: 10 }
    );
    assert_eq!(
        with(&|e| e["resource"]["ciphertext"] = json!("not base64!")),
        NotificationError::CiphertextNotBase64
    );
    for broken in [
        &(|e: &mut Value| e["resource"] = Value::Null) as &dyn Fn(&mut Value),
        &|e| e["create_time"] = json!("yesterday"),
        &|e| e["create_time"] = json!("2015-05-20T13:29:35"),
        &|e| {
            e.as_object_mut().unwrap().remove("id");
        },
        &|e| *e = json!([1, 2, 3]),
    ] {
        assert!(matches!(
            with(broken),
            NotificationError::MalformedEnvelope { .. }
        ));
    }
    assert!(matches!(
        notification_error(read_signed(b"not json at all")),
        NotificationError::MalformedEnvelope { .. }
    ));

    let wrong_key = ApiV3Key::new("WRONGapiv3key123456789ABCDEFGHIJ").unwrap();
    let body = good.to_string();
    let result = read(
        &signed_headers(body.as_bytes(), NOW),
        body.as_bytes(),
        &platform_keys(CryptoBackend::default()),
        &wrong_key,
        CryptoBackend::default(),
        NOW,
        TOLERANCE,
    );
    assert_eq!(notification_error(result), NotificationError::Decrypt);
}

#[test]
fn replies_map_errors_to_retryable_failures() {
    let body = genuine_body();
    let mut headers = signed_headers(&body, NOW);
    headers.remove(&protocol::WECHATPAY_NONCE);
    let unsigned = read_at(&headers, &body, NOW).unwrap_err();
    let reply = Reply::rejecting(&unsigned).into_http_response();
    assert_eq!(reply.status(), 401);
    let answer: Value = serde_json::from_slice(reply.body()).unwrap();
    assert_eq!(answer["code"], "SIGN_ERROR");

    let undecryptable = read_signed(
        envelope("X", "x", &json!({}))
            .to_string()
            .replace("x\"", "y\"")
            .as_bytes(),
    )
    .unwrap_err();
    assert_eq!(Reply::rejecting(&undecryptable).status(), 400);

    assert_eq!(
        Reply::failure(http::StatusCode::OK, "FAIL", "no").status(),
        500,
        "a failure can never read as success"
    );
    assert!(Reply::success().is_success());
}

#[test]
fn a_resource_naming_a_key_twice_is_refused_at_any_depth() {
    let nonce = "fdasflkja484";
    let with_plaintext = |plaintext: &str| {
        let ciphertext = apiv3_key()
            .encrypt(
                nonce,
                "transaction",
                plaintext.as_bytes(),
                CryptoBackend::default(),
            )
            .unwrap();
        let mut envelope = envelope("TRANSACTION.SUCCESS", "transaction", &json!({}));
        envelope["resource"]["ciphertext"] = json!(ciphertext);
        read_signed(envelope.to_string().as_bytes())
    };
    // Two order numbers: serde_json would keep the second and say nothing.
    let twice = r#"{"mchid":"1230000109","out_trade_no":"ORDER-A","out_trade_no":"ORDER-B"}"#;
    let error = notification_error(with_plaintext(twice));
    assert_eq!(
        error,
        NotificationError::DuplicateKey {
            event_type: "TRANSACTION.SUCCESS".into(),
            key: "out_trade_no".into(),
        }
    );
    // The message names the key, never either value.
    let message = error.to_string();
    assert!(message.contains("out_trade_no"), "{message}");
    assert!(!message.contains("ORDER-"), "{message}");

    // Nested: an amount written twice.
    let nested = r#"{"out_trade_no":"A","amount":{"total":1,"payer_total":1,"total":100}}"#;
    assert!(matches!(
        notification_error(with_plaintext(nested)),
        NotificationError::DuplicateKey { key, .. } if key == "amount.total"
    ));
    // The same resource without the repeat reads.
    let once = r#"{"out_trade_no":"A","amount":{"total":1,"payer_total":1}}"#;
    let notification = with_plaintext(once).expect("a resource with distinct keys");
    assert_eq!(notification.resource.json()["amount"]["total"], 1);
}
