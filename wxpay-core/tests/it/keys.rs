//! Key loading through the public API: what is refused and how, the platform key ring, and
//! `Debug` output that never shows key material.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use wxpay_core::crypto::CryptoBackend;
use wxpay_core::keys::PlatformKeyKind;
use wxpay_core::{ApiV3Key, KeyError, MerchantKey, PlatformKey, PlatformKeys};

macro_rules! key {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/keys/",
            $name
        ))
    };
}

const MERCHANT_SERIAL: &str = "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81";
const PLATFORM_SERIAL: &str = "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E";
const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0112300001092025110100000000";
const APIV3_KEY: &str = "TESTapiv3key0123456789ABCDEFGHIJ";

const MERCHANT_KEY: &str = key!("TEST_merchant_key.pem");
const MERCHANT_KEY_PKCS1: &str = key!("TEST_merchant_key.pkcs1.pem");
const MERCHANT_CERT: &str = key!("TEST_merchant_cert.pem");
const PLATFORM_CERT: &str = key!("TEST_platform_cert.pem");
const PLATFORM_PUB: &str = key!("TEST_platform_pub.pem");
const EC_KEY: &str = key!("TEST_ec_key.pem");
const EC_PUB: &str = key!("TEST_ec_pub.pem");
const RSA1024_KEY: &str = key!("TEST_rsa1024_key.pem");
const RSA1024_PUB: &str = key!("TEST_rsa1024_pub.pem");

/// Validity of the fixture certificates (`openssl x509 -startdate -enddate`).
const MERCHANT_NOT_BEFORE: i64 = 1_795_294_364; // 2026-11-21 20:52:44Z
const PLATFORM_NOT_BEFORE: i64 = 1_795_294_370; // 2026-11-21 20:52:50Z
const PLATFORM_NOT_AFTER: i64 = 2_426_014_370; // 2046-11-16 20:52:50Z

fn merchant_key(pem: &str, backend: CryptoBackend) -> Result<MerchantKey, KeyError> {
    MerchantKey::from_pem_with(MERCHANT_SERIAL, pem, backend)
}

/// Every way this crate reads a PEM public key or certificate.
fn platform_keys_from(pem: &str, backend: CryptoBackend) -> [Result<PlatformKey, KeyError>; 2] {
    [
        PlatformKey::from_certificate_pem_with(pem, backend),
        PlatformKey::from_public_key_pem_with(PUBLIC_KEY_ID, pem, backend),
    ]
}

/// The PEM body of `pem` (its base64) and the DER it holds.
fn body(pem: &str) -> (String, Vec<u8>) {
    let base64: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = BASE64.decode(&base64).unwrap();
    (base64, der)
}

fn pem(label: &str, der: &[u8]) -> String {
    let base64 = BASE64.encode(der);
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[test]
fn keys_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<MerchantKey>();
    assert_send_sync::<PlatformKey>();
    assert_send_sync::<PlatformKeys>();
    assert_send_sync::<ApiV3Key>();
}

#[test]
fn the_default_backend_is_the_first() {
    assert_eq!(CryptoBackend::all()[0], CryptoBackend::default());
    let key = MerchantKey::from_pem(MERCHANT_SERIAL, MERCHANT_KEY).unwrap();
    assert_eq!(key.backend(), CryptoBackend::default());
    let key = PlatformKey::from_certificate_pem(PLATFORM_CERT).unwrap();
    assert_eq!(key.id(), PLATFORM_SERIAL);
    let key = PlatformKey::from_public_key_pem(PUBLIC_KEY_ID, PLATFORM_PUB).unwrap();
    assert_eq!(key.id(), PUBLIC_KEY_ID);
}

#[test]
fn garbage_and_bad_base64_are_not_pem() {
    for &backend in CryptoBackend::all() {
        for text in ["", "garbage", "-----BEGIN PRIVATE KEY-----\n"] {
            assert!(matches!(
                merchant_key(text, backend),
                Err(KeyError::NotPem(_))
            ));
            for result in platform_keys_from(text, backend) {
                assert!(matches!(result, Err(KeyError::NotPem(_))));
            }
        }
        let bad_base64 = MERCHANT_KEY.replacen("MIIE", "MI!E", 1);
        assert_eq!(
            merchant_key(&bad_base64, backend).unwrap_err(),
            KeyError::NotPem("bad base64 in the PEM body")
        );
        let bad_base64 = PLATFORM_CERT.replacen("MIID", "MI\u{e9}D", 1);
        assert!(matches!(
            PlatformKey::from_certificate_pem_with(&bad_base64, backend),
            Err(KeyError::NotPem(_))
        ));
    }
}

#[test]
fn a_pem_of_the_wrong_kind_is_named() {
    for &backend in CryptoBackend::all() {
        for (text, label) in [(PLATFORM_CERT, "CERTIFICATE"), (PLATFORM_PUB, "PUBLIC KEY")] {
            match merchant_key(text, backend) {
                Err(KeyError::WrongKind { found, .. }) => assert_eq!(found, label),
                other => panic!("{label} as a private key: {other:?}"),
            }
        }
        for (text, label) in [
            (MERCHANT_KEY, "PRIVATE KEY"),
            (MERCHANT_KEY_PKCS1, "RSA PRIVATE KEY"),
        ] {
            for result in platform_keys_from(text, backend) {
                match result {
                    Err(KeyError::WrongKind { found, .. }) => assert_eq!(found, label),
                    other => panic!("{label} as a platform key: {other:?}"),
                }
            }
        }
        assert!(matches!(
            PlatformKey::from_certificate_pem_with(PLATFORM_PUB, backend),
            Err(KeyError::WrongKind { found, .. }) if found == "PUBLIC KEY"
        ));
        assert!(matches!(
            PlatformKey::from_public_key_pem_with(PUBLIC_KEY_ID, PLATFORM_CERT, backend),
            Err(KeyError::WrongKind { found, .. }) if found == "CERTIFICATE"
        ));
    }
}

#[test]
fn truncated_der_is_malformed() {
    let (_, key_der) = body(MERCHANT_KEY);
    let (_, pkcs1_der) = body(MERCHANT_KEY_PKCS1);
    let (_, cert_der) = body(PLATFORM_CERT);
    let (_, pub_der) = body(PLATFORM_PUB);
    for &backend in CryptoBackend::all() {
        for (label, der) in [("PRIVATE KEY", &key_der), ("RSA PRIVATE KEY", &pkcs1_der)] {
            for len in [1, 30, der.len() / 2, der.len() - 1] {
                let truncated = pem(label, &der[..len]);
                assert!(
                    matches!(
                        merchant_key(&truncated, backend),
                        Err(KeyError::Malformed { .. })
                    ),
                    "{label} cut to {len} bytes"
                );
            }
        }
        for len in [0, 1, 30, cert_der.len() / 2, cert_der.len() - 1] {
            assert!(matches!(
                PlatformKey::from_certificate_der_with(&cert_der[..len], backend),
                Err(KeyError::Malformed { .. })
            ));
        }
        let truncated = pem("CERTIFICATE", &cert_der[..cert_der.len() - 1]);
        assert!(matches!(
            PlatformKey::from_certificate_pem_with(&truncated, backend),
            Err(KeyError::Malformed { .. })
        ));
        let truncated = pem("PUBLIC KEY", &pub_der[..pub_der.len() - 1]);
        assert!(matches!(
            PlatformKey::from_public_key_pem_with(PUBLIC_KEY_ID, &truncated, backend),
            Err(KeyError::Malformed { .. })
        ));
        // Well-formed DER of another shape under a plausible label.
        let swapped = pem("PRIVATE KEY", &cert_der);
        assert!(matches!(
            merchant_key(&swapped, backend),
            Err(KeyError::Malformed { .. })
        ));
        // A private key's DER where a certificate's is expected.
        assert!(matches!(
            PlatformKey::from_certificate_der_with(&key_der, backend),
            Err(KeyError::Malformed { .. })
        ));
    }
}

#[test]
fn an_ec_key_is_not_rsa() {
    for &backend in CryptoBackend::all() {
        assert_eq!(merchant_key(EC_KEY, backend).unwrap_err(), KeyError::NotRsa);
        assert_eq!(
            PlatformKey::from_public_key_pem_with(PUBLIC_KEY_ID, EC_PUB, backend).unwrap_err(),
            KeyError::NotRsa
        );
    }
}

#[test]
fn a_1024_bit_key_is_too_small() {
    for &backend in CryptoBackend::all() {
        assert_eq!(
            merchant_key(RSA1024_KEY, backend).unwrap_err(),
            KeyError::TooSmall { bits: 1024 }
        );
        assert_eq!(
            PlatformKey::from_public_key_pem_with(PUBLIC_KEY_ID, RSA1024_PUB, backend).unwrap_err(),
            KeyError::TooSmall { bits: 1024 }
        );
    }
}

#[test]
fn a_corrupt_rsa_key_is_rejected_by_the_backend() {
    // Well-formed DER and a 2048-bit modulus, but the modulus is no longer p·q: flip the last
    // bit of n, after the PKCS#8 prefix (26 bytes), the RSAPrivateKey SEQUENCE header (4), the
    // version (3) and n's INTEGER header with its sign byte (5).
    let (_, mut der) = body(MERCHANT_KEY);
    const N: usize = 26 + 4 + 3;
    assert_eq!(der[N..N + 5], [0x02, 0x82, 0x01, 0x01, 0x00]);
    der[N + 5 + 255] ^= 0x01;
    let corrupt = pem("PRIVATE KEY", &der);
    for &backend in CryptoBackend::all() {
        assert_eq!(
            merchant_key(&corrupt, backend).unwrap_err(),
            KeyError::Rejected,
            "{}",
            backend.name()
        );
    }
}

#[test]
fn merchant_serials_are_hex_and_kept_upper_case() {
    let key = MerchantKey::from_pem(MERCHANT_SERIAL.to_lowercase(), MERCHANT_KEY).unwrap();
    assert_eq!(key.serial(), MERCHANT_SERIAL);
    for serial in ["", "0A3C 5E7F", "0A3C\"", "PUB_KEY_ID_01"] {
        assert!(
            matches!(
                MerchantKey::from_pem(serial, MERCHANT_KEY),
                Err(KeyError::Malformed { .. })
            ),
            "{serial:?}"
        );
    }
}

#[test]
fn apiv3_keys_are_exactly_32_printable_ascii_characters() {
    assert!(ApiV3Key::new(APIV3_KEY).is_ok());
    assert!(matches!(
        ApiV3Key::new(&APIV3_KEY[..31]),
        Err(KeyError::ApiV3KeyLength(31))
    ));
    assert!(matches!(
        ApiV3Key::new(&format!("{APIV3_KEY}x")),
        Err(KeyError::ApiV3KeyLength(33))
    ));
    assert!(matches!(
        ApiV3Key::new(""),
        Err(KeyError::ApiV3KeyLength(0))
    ));
    // A line break read with the key from a file is a byte too many, not trimmed silently.
    assert!(matches!(
        ApiV3Key::new(&format!("{APIV3_KEY}\n")),
        Err(KeyError::ApiV3KeyLength(33))
    ));
    // 32 bytes are not enough: ten 3-byte characters and two ASCII ones are 32 bytes, but the
    // platform issues 32 ASCII characters, so such a key was copied wrongly.
    assert_eq!(
        ApiV3Key::new(&format!("{}ab", "密".repeat(10))).err(),
        Some(KeyError::ApiV3KeyCharacters)
    );
    assert_eq!(
        ApiV3Key::new(&format!("{} ", &APIV3_KEY[..31])).err(),
        Some(KeyError::ApiV3KeyCharacters)
    );
}

#[test]
fn certificates_are_valid_inside_their_window_and_public_keys_always() {
    let certificate = PlatformKey::from_certificate_pem(PLATFORM_CERT).unwrap();
    assert_eq!(
        certificate.kind(),
        PlatformKeyKind::Certificate {
            not_before: PLATFORM_NOT_BEFORE,
            not_after: PLATFORM_NOT_AFTER,
        }
    );
    assert!(!certificate.is_valid_at(PLATFORM_NOT_BEFORE - 1));
    assert!(certificate.is_valid_at(PLATFORM_NOT_BEFORE));
    assert!(certificate.is_valid_at(PLATFORM_NOT_AFTER));
    assert!(!certificate.is_valid_at(PLATFORM_NOT_AFTER + 1));

    let public_key = PlatformKey::from_public_key_pem(PUBLIC_KEY_ID, PLATFORM_PUB).unwrap();
    for now in [i64::MIN, 0, PLATFORM_NOT_BEFORE, i64::MAX] {
        assert!(public_key.is_valid_at(now));
    }
}

#[test]
fn the_ring_finds_serials_in_any_case_and_replaces_by_id() {
    let mut keys = PlatformKeys::new();
    assert!(keys.is_empty());
    keys.insert(PlatformKey::from_certificate_pem(PLATFORM_CERT).unwrap());
    keys.insert(PlatformKey::from_public_key_pem(PUBLIC_KEY_ID, PLATFORM_PUB).unwrap());
    keys.insert(PlatformKey::from_certificate_pem(PLATFORM_CERT).unwrap());
    assert_eq!(keys.len(), 2);

    assert_eq!(keys.get(PLATFORM_SERIAL).unwrap().id(), PLATFORM_SERIAL);
    assert_eq!(
        keys.get(&PLATFORM_SERIAL.to_lowercase()).unwrap().id(),
        PLATFORM_SERIAL
    );
    assert_eq!(keys.get(PUBLIC_KEY_ID).unwrap().id(), PUBLIC_KEY_ID);
    assert!(keys.get(MERCHANT_SERIAL).is_none());
    assert!(keys.get("").is_none());
    // Leading zeros are part of the serial.
    assert!(keys.get(&PLATFORM_SERIAL[1..]).is_none());

    let ids: Vec<&str> = keys.iter().map(PlatformKey::id).collect();
    assert_eq!(ids, [PLATFORM_SERIAL, PUBLIC_KEY_ID]);
}

#[test]
fn encryption_prefers_the_public_key_then_the_newest_valid_certificate() {
    let merchant_certificate = PlatformKey::from_certificate_pem(MERCHANT_CERT).unwrap();
    let platform_certificate = PlatformKey::from_certificate_pem(PLATFORM_CERT).unwrap();
    let public_key = PlatformKey::from_public_key_pem(PUBLIC_KEY_ID, PLATFORM_PUB).unwrap();

    let mut keys = PlatformKeys::new();
    assert!(keys.encryption_key(PLATFORM_NOT_BEFORE).is_none());
    // Two certificates (the merchant's stands in for an older platform certificate).
    keys.insert(platform_certificate);
    keys.insert(merchant_certificate);
    fn chosen(keys: &PlatformKeys, now: i64) -> Option<&str> {
        keys.encryption_key(now).map(PlatformKey::id)
    }
    assert_eq!(chosen(&keys, MERCHANT_NOT_BEFORE - 1), None);
    assert_eq!(chosen(&keys, MERCHANT_NOT_BEFORE), Some(MERCHANT_SERIAL));
    assert_eq!(chosen(&keys, PLATFORM_NOT_BEFORE), Some(PLATFORM_SERIAL));
    assert_eq!(chosen(&keys, PLATFORM_NOT_AFTER + 1), None);

    keys.insert(public_key);
    for now in [0, PLATFORM_NOT_BEFORE, PLATFORM_NOT_AFTER + 1] {
        assert_eq!(chosen(&keys, now), Some(PUBLIC_KEY_ID));
    }
}

#[test]
fn debug_shows_names_never_key_material() {
    let (merchant_body, _) = body(MERCHANT_KEY);
    let (pkcs1_body, _) = body(MERCHANT_KEY_PKCS1);
    for &backend in CryptoBackend::all() {
        for (pem, body) in [
            (MERCHANT_KEY, &merchant_body),
            (MERCHANT_KEY_PKCS1, &pkcs1_body),
        ] {
            let key = merchant_key(pem, backend).unwrap();
            let debug = format!("{key:?} {key:#?}");
            assert_eq!(
                format!("{key:?}"),
                format!(
                    "MerchantKey {{ serial: \"{MERCHANT_SERIAL}\", backend: {backend:?}, key: <redacted> }}"
                )
            );
            for window in body.as_bytes().windows(8) {
                let window = std::str::from_utf8(window).unwrap();
                assert!(!debug.contains(window), "{window}");
            }
        }
    }

    let mut keys = PlatformKeys::new();
    keys.insert(PlatformKey::from_public_key_pem(PUBLIC_KEY_ID, PLATFORM_PUB).unwrap());
    let backend = CryptoBackend::default();
    assert_eq!(
        format!("{keys:?}"),
        format!(
            "[PlatformKey {{ id: \"{PUBLIC_KEY_ID}\", kind: PublicKey, backend: {backend:?}, .. }}]"
        )
    );

    let api_v3_key = ApiV3Key::new(APIV3_KEY).unwrap();
    assert_eq!(format!("{api_v3_key:?}"), "ApiV3Key(<redacted>)");
    assert_eq!(format!("{api_v3_key:#?}"), "ApiV3Key(<redacted>)");
}

#[test]
fn errors_do_not_echo_the_input() {
    let (body, der) = body(MERCHANT_KEY);
    let truncated = pem("PRIVATE KEY", &der[..der.len() / 2]);
    let bad_base64 = MERCHANT_KEY.replacen("MIIE", "MI!E", 1);
    for text in [
        truncated.as_str(),
        &bad_base64,
        MERCHANT_CERT,
        EC_KEY,
        RSA1024_KEY,
    ] {
        let error = MerchantKey::from_pem(MERCHANT_SERIAL, text).unwrap_err();
        let shown = format!("{error} {error:?}");
        for window in body.as_bytes().windows(8).step_by(8) {
            assert!(
                !shown.contains(std::str::from_utf8(window).unwrap()),
                "{shown}"
            );
        }
        assert!(!shown.contains("MII"), "{shown}");
    }
}

#[test]
fn an_answer_naming_an_expired_certificate_fails_with_its_own_kind() {
    use wxpay_core::VerificationError;
    use wxpay_core::protocol;
    // Holds the platform's public key, valid only during 2020.
    let expired_pem = key!("TEST_expired_platform_cert.pem");
    let serial = "7E57E8A11ED0000000000000000000000000000F";
    let not_after = 1_609_459_200; // 2021-01-01T00:00:00Z
    let platform = merchant_key(key!("TEST_platform_key.pem"), CryptoBackend::default()).unwrap();
    for &backend in CryptoBackend::all() {
        let mut ring = PlatformKeys::new();
        ring.insert(PlatformKey::from_certificate_pem_with(expired_pem, backend).unwrap());
        let verify_at = |now: i64| {
            let (timestamp, nonce, body) = (now.to_string(), "593BEC0C930BF1AF", b"{}");
            let message = protocol::response_message(&timestamp, nonce, body);
            let mut headers = http::HeaderMap::new();
            for (name, value) in [
                ("wechatpay-serial", serial.to_owned()),
                ("wechatpay-timestamp", timestamp.clone()),
                ("wechatpay-nonce", nonce.to_owned()),
                ("wechatpay-signature", platform.sign(&message).unwrap()),
            ] {
                headers.insert(name, value.parse().unwrap());
            }
            protocol::verify_signature(&headers, body, &ring, now, 300)
                .map(|key| key.id().to_owned())
        };
        // Genuinely signed, and accepted up to the last second of its validity.
        assert_eq!(
            verify_at(not_after),
            Ok(serial.to_owned()),
            "{}",
            backend.name()
        );
        assert_eq!(
            verify_at(not_after + 1),
            Err(VerificationError::ExpiredCertificate {
                serial: serial.into(),
                not_after
            }),
            "{}",
            backend.name()
        );
        assert!(
            verify_at(1_800_000_000)
                .unwrap_err()
                .to_string()
                .contains("expired"),
        );
    }
}
