//! Answer verification: the vectors verify, and every way an answer can be wrong is its own
//! error kind.

use crate::common;

use bytes::Bytes;
use common::{config, key, s, vectors};
use http::{HeaderName, StatusCode};
use serde_json::Value;
use wxpay_core::protocol::{self, Verified};
use wxpay_core::{CryptoBackend, Error, PlatformKey, PlatformKeys, VerificationError};

const TOLERANCE: u64 = 300;

fn vector(name: &str) -> Value {
    vectors()["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .find(|v| v["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no response vector {name}"))
}

/// Rings in every configuration the platform can be in, with every backend.
fn rings() -> Vec<(String, PlatformKeys, String)> {
    let config = config();
    let mut rings = Vec::new();
    for &backend in CryptoBackend::all() {
        let certificate =
            PlatformKey::from_certificate_pem_with(&key("TEST_platform_cert.pem"), backend)
                .expect("cert");
        let public = PlatformKey::from_public_key_pem_with(
            s(&config, "platform_public_key_id"),
            &key("TEST_platform_pub.pem"),
            backend,
        )
        .expect("public key");
        let mut cert_ring = PlatformKeys::new();
        cert_ring.insert(certificate.clone());
        let mut key_ring = PlatformKeys::new();
        key_ring.insert(public.clone());
        let mut both = PlatformKeys::new();
        both.insert(certificate);
        both.insert(public);
        let serial = s(&config, "platform_serial").to_owned();
        let id = s(&config, "platform_public_key_id").to_owned();
        rings.push((
            format!("{backend:?} certificate"),
            cert_ring,
            serial.clone(),
        ));
        rings.push((format!("{backend:?} public key"), key_ring, id.clone()));
        rings.push((format!("{backend:?} both by serial"), both.clone(), serial));
        rings.push((format!("{backend:?} both by id"), both, id));
    }
    rings
}

fn response(status: u16, vector: &Value, serial: &str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header("Wechatpay-Timestamp", s(vector, "timestamp"))
        .header("Wechatpay-Nonce", s(vector, "nonce"))
        .header("Wechatpay-Signature", s(vector, "signature"))
        .header("Wechatpay-Serial", serial)
        .header("Request-ID", "08F78BB5AF0610D302A0F3BF0F1234")
        .body(Bytes::from(s(vector, "body").to_owned()))
        .expect("response")
}

fn at(vector: &Value) -> i64 {
    s(vector, "timestamp").parse().expect("timestamp")
}

fn read(
    response: http::Response<Bytes>,
    ring: &PlatformKeys,
    now: i64,
) -> Result<Verified<Value>, Error> {
    protocol::read_response(response, ring, now, TOLERANCE, |b| {
        serde_json::from_slice::<Value>(b)
    })
}

fn kind(result: Result<Verified<Value>, Error>) -> VerificationError {
    match result {
        Err(Error::Verification { kind, request_id }) => {
            assert_eq!(
                request_id.as_deref(),
                Some("08F78BB5AF0610D302A0F3BF0F1234")
            );
            kind
        }
        other => panic!("expected a verification error, got {other:?}"),
    }
}

#[test]
fn vector_responses_verify_in_every_key_configuration() {
    let json = vector("json");
    for (name, ring, serial) in rings() {
        let answer = read(response(200, &json, &serial), &ring, at(&json))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(answer.value["stock_id"], "9856888", "{name}");
        assert_eq!(
            answer.request_id.as_deref(),
            Some("08F78BB5AF0610D302A0F3BF0F1234")
        );
        assert_eq!(
            protocol::response_message(
                s(&json, "timestamp"),
                s(&json, "nonce"),
                s(&json, "body").as_bytes()
            ),
            s(&json, "message").as_bytes()
        );

        let empty = vector("empty_204");
        let answer = protocol::read_response(
            response(204, &empty, &serial),
            &ring,
            at(&empty),
            TOLERANCE,
            |b| {
                assert!(b.is_empty());
                Ok(())
            },
        );
        assert!(answer.is_ok(), "{name}: {answer:?}");
    }
}

#[test]
fn every_missing_header_is_named() {
    let json = vector("json");
    let (_, ring, serial) = rings().remove(0);
    for (header, label) in [
        ("wechatpay-timestamp", "Wechatpay-Timestamp"),
        ("wechatpay-nonce", "Wechatpay-Nonce"),
        ("wechatpay-signature", "Wechatpay-Signature"),
        ("wechatpay-serial", "Wechatpay-Serial"),
    ] {
        let mut r = response(200, &json, &serial);
        r.headers_mut().remove(HeaderName::from_static(header));
        assert_eq!(
            kind(read(r, &ring, at(&json))),
            VerificationError::MissingHeader(label)
        );
    }
}

#[test]
fn clock_skew_is_rejected_both_ways_and_the_boundary_is_accepted() {
    let json = vector("json");
    let (_, ring, serial) = rings().remove(0);
    let ts = at(&json);
    for now in [ts - 300, ts + 300] {
        assert!(
            read(response(200, &json, &serial), &ring, now).is_ok(),
            "{now}"
        );
    }
    for now in [ts - 301, ts + 301, ts + 86_400] {
        assert_eq!(
            kind(read(response(200, &json, &serial), &ring, now)),
            VerificationError::ClockSkew {
                timestamp: ts,
                now,
                tolerance: TOLERANCE
            }
        );
    }
}

#[test]
fn malformed_timestamps_are_rejected() {
    let json = vector("json");
    let (_, ring, serial) = rings().remove(0);
    for bad in [
        "",
        "abc",
        "-1554209980",
        "+1554209980",
        " 1554209980",
        "1554209980.0",
        "99999999999999999999",
    ] {
        let mut r = response(200, &json, &serial);
        r.headers_mut()
            .insert("wechatpay-timestamp", bad.parse().expect("header"));
        assert_eq!(
            kind(read(r, &ring, at(&json))),
            VerificationError::MalformedHeader("Wechatpay-Timestamp"),
            "{bad:?}"
        );
    }
}

#[test]
fn unknown_serial_is_named() {
    let json = vector("json");
    let (_, ring, _) = rings().remove(0);
    let r = response(200, &json, "7132D72A03E93CDDF8C03BBD1F37EEDF");
    assert_eq!(
        kind(read(r, &ring, at(&json))),
        VerificationError::UnknownSerial("7132D72A03E93CDDF8C03BBD1F37EEDF".into())
    );
    // The public key id is unknown to a certificate-only ring, and the other way round.
    let config = config();
    let r = response(200, &json, s(&config, "platform_public_key_id"));
    assert!(matches!(
        kind(read(r, &ring, at(&json))),
        VerificationError::UnknownSerial(_)
    ));
}

#[test]
fn the_serial_matches_whatever_its_case() {
    let json = vector("json");
    let (_, ring, serial) = rings().remove(0);
    assert!(
        read(
            response(200, &json, &serial.to_lowercase()),
            &ring,
            at(&json)
        )
        .is_ok()
    );
}

#[test]
fn tampering_with_body_nonce_timestamp_or_signature_is_a_bad_signature() {
    let json = vector("json");
    for (name, ring, serial) in rings() {
        let bad = VerificationError::BadSignature {
            serial: serial.clone(),
        };

        let mut r = response(200, &json, &serial);
        *r.body_mut() = Bytes::from(s(&json, "body").replace("9856888", "9856889"));
        assert_eq!(kind(read(r, &ring, at(&json))), bad, "{name}: body");

        let mut r = response(200, &json, &serial);
        *r.body_mut() = Bytes::from(format!("{} ", s(&json, "body")));
        assert_eq!(
            kind(read(r, &ring, at(&json))),
            bad,
            "{name}: trailing space"
        );

        let mut r = response(200, &json, &serial);
        r.headers_mut().insert(
            "wechatpay-nonce",
            "c5ac7061fccab6bf3e254dcf98995b81".parse().expect("h"),
        );
        assert_eq!(kind(read(r, &ring, at(&json))), bad, "{name}: nonce");

        let mut r = response(200, &json, &serial);
        r.headers_mut().insert(
            "wechatpay-timestamp",
            (at(&json) + 1).to_string().parse().expect("h"),
        );
        assert_eq!(kind(read(r, &ring, at(&json))), bad, "{name}: timestamp");

        let mut r = response(200, &json, &serial);
        let mut signature = s(&json, "signature").to_owned();
        signature.replace_range(
            0..4,
            if signature.starts_with("AAAA") {
                "BBBB"
            } else {
                "AAAA"
            },
        );
        r.headers_mut()
            .insert("wechatpay-signature", signature.parse().expect("h"));
        assert_eq!(kind(read(r, &ring, at(&json))), bad, "{name}: signature");

        let mut r = response(200, &json, &serial);
        r.headers_mut().insert(
            "wechatpay-signature",
            "not base64 at all!".parse().expect("h"),
        );
        assert_eq!(kind(read(r, &ring, at(&json))), bad, "{name}: not base64");

        // Another answer's valid signature does not carry over.
        let other = vector("utf8");
        let mut r = response(200, &json, &serial);
        r.headers_mut().insert(
            "wechatpay-signature",
            s(&other, "signature").parse().expect("h"),
        );
        assert_eq!(
            kind(read(r, &ring, at(&json))),
            bad,
            "{name}: other signature"
        );
    }
}

#[test]
fn a_signature_probe_is_its_own_kind_even_when_everything_else_is_wrong() {
    let json = vector("json");
    let (_, ring, _) = rings().remove(0);
    let mut r = response(200, &json, "UNKNOWN");
    r.headers_mut().insert(
        "wechatpay-signature",
        "WECHATPAY/SIGNTEST/qOGPrFrwbHwFSWysyZ6wXanO+vzPu3RH"
            .parse()
            .expect("h"),
    );
    assert_eq!(
        kind(read(r, &ring, at(&json) + 10_000)),
        VerificationError::SignatureProbe
    );
}

#[test]
fn a_signed_error_answer_is_an_api_error_with_its_fields() {
    let utf8 = vector("utf8");
    for (name, ring, serial) in rings() {
        match read(response(400, &utf8, &serial), &ring, at(&utf8)) {
            Err(Error::Api(e)) => {
                assert_eq!(e.status, StatusCode::BAD_REQUEST);
                assert_eq!(e.code, "PARAM_ERROR");
                assert_eq!(e.message, "参数错误");
                assert_eq!(
                    e.request_id.as_deref(),
                    Some("08F78BB5AF0610D302A0F3BF0F1234")
                );
                assert!(e.signature_verified, "{name}");
                assert!(e.to_string().contains("PARAM_ERROR"));
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn an_unsigned_error_answer_is_reported_as_unverified_but_a_badly_signed_one_is_forged() {
    let (_, ring, serial) = rings().remove(0);
    let unsigned = http::Response::builder()
        .status(401)
        .header("Request-ID", "R1")
        .body(Bytes::from_static(br#"{"code":"SIGN_ERROR","message":"x","detail":{"sign_information":{"method":"POST"}}}"#))
        .expect("response");
    match read(unsigned, &ring, 0) {
        Err(Error::Api(e)) => {
            assert_eq!(e.code, "SIGN_ERROR");
            assert!(!e.signature_verified);
            assert_eq!(
                e.detail.as_ref().expect("detail")["sign_information"]["method"],
                "POST"
            );
            assert_eq!(e.request_id.as_deref(), Some("R1"));
        }
        other => panic!("{other:?}"),
    }

    let utf8 = vector("utf8");
    let mut tampered = response(400, &utf8, &serial);
    *tampered.body_mut() = Bytes::from_static(br#"{"code":"ORDERPAID","message":"paid"}"#);
    assert!(matches!(
        kind(read(tampered, &ring, at(&utf8))),
        VerificationError::BadSignature { .. }
    ));
}

#[test]
fn an_unsigned_success_is_never_data() {
    let (_, ring, _) = rings().remove(0);
    let r = http::Response::builder()
        .status(200)
        .body(Bytes::from_static(br#"{"stock_id":"1"}"#))
        .expect("response");
    assert!(matches!(
        read(r, &ring, 0),
        Err(Error::Verification {
            kind: VerificationError::MissingHeader(_),
            ..
        })
    ));
}

#[test]
fn an_error_answer_that_is_not_json_keeps_its_text() {
    let (_, ring, _) = rings().remove(0);
    let r = http::Response::builder()
        .status(502)
        .body(Bytes::from_static(b"<html>Bad Gateway</html>"))
        .expect("response");
    match read(r, &ring, 0) {
        Err(Error::Api(e)) => {
            assert_eq!(e.status, StatusCode::BAD_GATEWAY);
            assert_eq!(e.code, "");
            assert_eq!(e.message, "<html>Bad Gateway</html>");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_verified_body_that_does_not_decode_keeps_the_raw_body() {
    let json = vector("json");
    let (_, ring, serial) = rings().remove(0);
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        coupon_id: String,
    }
    let result = protocol::read_response(
        response(200, &json, &serial),
        &ring,
        at(&json),
        TOLERANCE,
        |b| serde_json::from_slice::<Wrong>(b),
    );
    match result {
        Err(Error::Decode(e)) => {
            assert_eq!(e.raw_body(), s(&json, "body").as_bytes());
            assert!(e.to_string().contains("coupon_id"), "{e}");
            assert_eq!(
                e.request_id.as_deref(),
                Some("08F78BB5AF0610D302A0F3BF0F1234")
            );
        }
        other => panic!("{other:?}"),
    }
}
