//! Properties of everything that parses input from the network or from configuration: no
//! panic on any input, round trips where they exist. (The `fuzz/` targets explore the same
//! functions coverage-guided; these run on stable in every CI run.)

use crate::common;

use bytes::Bytes;
use common::key;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use proptest::prelude::*;
use wxpay_core::protocol;
use wxpay_core::{
    ApiV3Key, CryptoBackend, Error, MerchantKey, PlatformKey, PlatformKeys, RequestWriter,
};

fn ring() -> PlatformKeys {
    let mut ring = PlatformKeys::new();
    ring.insert(PlatformKey::from_certificate_pem(&key("TEST_platform_cert.pem")).expect("cert"));
    ring
}

const HEADERS: [&str; 5] = [
    "wechatpay-serial",
    "wechatpay-signature",
    "wechatpay-timestamp",
    "wechatpay-nonce",
    "request-id",
];
const SERIAL: &str = "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E";

/// Headers as an attacker might send them: any subset, any printable values, sometimes the
/// real serial so verification reaches the RSA check.
fn headers() -> impl Strategy<Value = HeaderMap> {
    proptest::collection::vec((0..HEADERS.len(), "[ -~]{0,64}", any::<bool>()), 0..8).prop_map(
        |entries| {
            let mut map = HeaderMap::new();
            for (index, value, real_serial) in entries {
                let value = if index == 0 && real_serial {
                    SERIAL.to_owned()
                } else {
                    value
                };
                if let Ok(value) = HeaderValue::try_from(value) {
                    map.insert(HeaderName::from_static(HEADERS[index]), value);
                }
            }
            map
        },
    )
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).expect("hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn verification_never_panics_and_never_accepts_junk(headers in headers(), body in proptest::collection::vec(any::<u8>(), 0..256), now in any::<i64>()) {
        let ring = ring();
        prop_assert!(protocol::verify_signature(&headers, &body, &ring, now, 300).is_err());
    }

    #[test]
    fn any_answer_is_interpreted_without_panic(status in 100u16..600, headers in headers(), body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let ring = ring();
        let mut response = http::Response::new(Bytes::from(body));
        *response.status_mut() = http::StatusCode::from_u16(status).expect("status");
        *response.headers_mut() = headers;
        let result = protocol::read_response(response, &ring, 0, 300, |b| serde_json::from_slice::<serde_json::Value>(b));
        // Nothing here carries a valid signature, so nothing is ever data.
        prop_assert!(result.is_err());
        if let Err(Error::Api(e)) = result {
            prop_assert!(!(200..300).contains(&e.status.as_u16()));
        }
    }

    #[test]
    fn path_segments_round_trip_through_percent_encoding(value in "\\PC{1,40}") {
        // Dot segments are refused, never encoded (`signed_is_sent.rs`).
        prop_assume!(value != "." && value != "..");
        let mut writer = RequestWriter::new(Method::GET, None, 0);
        writer.path_literal("/v3/x/");
        writer.path_param("id", &value).expect("encodes");
        let parts = writer.finish();
        let segment = &parts.path_and_query["/v3/x/".len()..];
        prop_assert!(!segment.contains(['/', '?', '#', ' ']));
        prop_assert!(segment.bytes().all(|b| b.is_ascii_graphic()));
        prop_assert_eq!(percent_decode(segment), value.as_bytes());
        // The result is a valid URI path.
        prop_assert!(parts.path_and_query.parse::<http::uri::PathAndQuery>().is_ok());
    }

    #[test]
    fn query_values_round_trip_through_percent_encoding(value in "\\PC{0,40}") {
        let mut writer = RequestWriter::new(Method::GET, None, 0);
        writer.path_literal("/v3/x");
        writer.query("q", &value).expect("encodes");
        let parts = writer.finish();
        let encoded = parts.path_and_query.strip_prefix("/v3/x?q=").expect("query");
        prop_assert!(!encoded.contains(['&', '=', '+', ' ', '#']));
        prop_assert_eq!(percent_decode(encoded), value.as_bytes());
    }

    #[test]
    fn resource_decryption_never_panics(nonce in "[ -~]{0,16}", aad in "[ -~]{0,16}", ciphertext in "[A-Za-z0-9+/=]{0,64}") {
        let key = ApiV3Key::new("TESTapiv3key0123456789ABCDEFGHIJ").expect("key");
        for &backend in CryptoBackend::all() {
            prop_assert!(key.decrypt(&nonce, &aad, &ciphertext, backend).is_err());
        }
    }

    #[test]
    fn key_parsing_never_panics_on_text(text in "\\PC{0,200}") {
        prop_assert!(MerchantKey::from_pem("0A3C", &text).is_err());
        prop_assert!(PlatformKey::from_certificate_pem(&text).is_err());
        prop_assert!(PlatformKey::from_public_key_pem("PUB_KEY_ID_01", &text).is_err());
    }

    #[test]
    fn key_parsing_never_panics_on_der(der in proptest::collection::vec(any::<u8>(), 0..600), label in prop::sample::select(vec!["PRIVATE KEY", "RSA PRIVATE KEY", "CERTIFICATE", "PUBLIC KEY"])) {
        use base64::Engine as _;
        let pem = format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", base64::engine::general_purpose::STANDARD.encode(&der));
        for &backend in CryptoBackend::all() {
            let _ = MerchantKey::from_pem_with("0A3C", &pem, backend);
            let _ = PlatformKey::from_certificate_pem_with(&pem, backend);
            let _ = PlatformKey::from_public_key_pem_with("PUB_KEY_ID_01", &pem, backend);
        }
    }
}
