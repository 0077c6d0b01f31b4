//! The known-answer vectors of `tests/fixtures/vectors.json` (computed by an independent
//! implementation) through every compiled crypto backend, and every backend against every other.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use wxpay_core::crypto::CryptoBackend;
use wxpay_core::keys::PlatformKeyKind;
use wxpay_core::{ApiV3Key, CryptoError, MerchantKey, PlatformKey};

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/",
            $path
        ))
    };
}

const VECTORS: &str = fixture!("vectors.json");
const CONFIG: &str = fixture!("keys/config.json");
const MERCHANT_KEY: &str = fixture!("keys/TEST_merchant_key.pem");
const MERCHANT_KEY_PKCS1: &str = fixture!("keys/TEST_merchant_key.pkcs1.pem");
const MERCHANT_CERT: &str = fixture!("keys/TEST_merchant_cert.pem");
const MERCHANT_PUB: &str = fixture!("keys/TEST_merchant_pub.pem");
const PLATFORM_KEY: &str = fixture!("keys/TEST_platform_key.pem");
const PLATFORM_CERT: &str = fixture!("keys/TEST_platform_cert.pem");
const PLATFORM_PUB: &str = fixture!("keys/TEST_platform_pub.pem");

#[derive(Deserialize)]
struct Vectors {
    requests: Vec<SignedRequest>,
    responses: Vec<SignedResponse>,
    aesgcm: Vec<AesGcm>,
    oaep: Vec<Oaep>,
}

#[derive(Deserialize)]
struct SignedRequest {
    name: String,
    message: String,
    signature: String,
}

#[derive(Deserialize)]
struct SignedResponse {
    name: String,
    message: String,
    signature: String,
    serial: String,
    public_key_id: String,
}

#[derive(Deserialize)]
struct AesGcm {
    plaintext: String,
    nonce: String,
    associated_data: String,
    key: String,
    ciphertext: String,
}

#[derive(Deserialize)]
struct Oaep {
    plaintext: String,
    ciphertext: String,
    decrypt_with: String,
}

#[derive(Deserialize)]
struct Config {
    merchant_serial: String,
    platform_serial: String,
    platform_public_key_id: String,
    apiv3_key: String,
}

fn vectors() -> Vectors {
    serde_json::from_str(VECTORS).expect("vectors.json")
}

fn config() -> Config {
    serde_json::from_str(CONFIG).expect("config.json")
}

/// The platform private key in the one type that decrypts: the tests play the platform.
fn platform_as_merchant(backend: CryptoBackend) -> MerchantKey {
    MerchantKey::from_pem_with(config().platform_serial, PLATFORM_KEY, backend).unwrap()
}

/// The platform key ring's two forms of the same key: certificate and public key.
fn platform_keys(backend: CryptoBackend) -> [PlatformKey; 2] {
    [
        PlatformKey::from_certificate_pem_with(PLATFORM_CERT, backend).unwrap(),
        PlatformKey::from_public_key_pem_with(
            config().platform_public_key_id,
            PLATFORM_PUB,
            backend,
        )
        .unwrap(),
    ]
}

fn flip_bit(base64: &str, index: usize) -> String {
    let mut bytes = BASE64.decode(base64).unwrap();
    bytes[index] ^= 0x01;
    BASE64.encode(bytes)
}

#[test]
fn signs_every_request_exactly_from_pkcs8_and_pkcs1() {
    let config = config();
    for &backend in CryptoBackend::all() {
        for pem in [MERCHANT_KEY, MERCHANT_KEY_PKCS1] {
            let key = MerchantKey::from_pem_with(&config.merchant_serial, pem, backend).unwrap();
            assert_eq!(key.serial(), config.merchant_serial);
            assert_eq!(key.backend(), backend);
            for request in vectors().requests {
                assert_eq!(
                    key.sign(request.message.as_bytes()).unwrap(),
                    request.signature,
                    "{} / {}",
                    backend.name(),
                    request.name
                );
            }
        }
    }
}

#[test]
fn verifies_every_response_with_the_certificate_and_the_public_key() {
    let config = config();
    for &backend in CryptoBackend::all() {
        let [certificate, public_key] = platform_keys(backend);
        for response in vectors().responses {
            assert_eq!(certificate.id(), response.serial);
            assert_eq!(public_key.id(), response.public_key_id);
            for key in [&certificate, &public_key] {
                assert!(
                    key.verify(response.message.as_bytes(), &response.signature),
                    "{} / {} / {}",
                    backend.name(),
                    response.name,
                    key.id()
                );
            }
        }
        assert_eq!(public_key.id(), config.platform_public_key_id);
        assert_eq!(public_key.kind(), PlatformKeyKind::PublicKey);
    }
}

#[test]
fn rejects_a_flipped_byte_of_body_or_signature() {
    for &backend in CryptoBackend::all() {
        for key in platform_keys(backend) {
            for response in vectors().responses {
                let message = response.message.as_bytes();
                for index in [0, message.len() / 2, message.len() - 1] {
                    let mut tampered = message.to_vec();
                    tampered[index] ^= 0x01;
                    assert!(
                        !key.verify(&tampered, &response.signature),
                        "{} / {}: body byte {index}",
                        backend.name(),
                        response.name
                    );
                }
                for index in [0, 128, 255] {
                    let signature = flip_bit(&response.signature, index);
                    assert!(
                        !key.verify(message, &signature),
                        "{} / {}: signature byte {index}",
                        backend.name(),
                        response.name
                    );
                }
                let truncated = BASE64.encode(&BASE64.decode(&response.signature).unwrap()[1..]);
                assert!(!key.verify(message, &truncated));
                assert!(!key.verify(message, "not base64!"));
                assert!(!key.verify(message, ""));
            }
            // A merchant signature is not a platform signature.
            for request in vectors().requests {
                assert!(!key.verify(request.message.as_bytes(), &request.signature));
            }
        }
    }
}

#[test]
fn decrypts_every_oaep_vector() {
    for &backend in CryptoBackend::all() {
        for vector in vectors().oaep {
            assert_eq!(vector.decrypt_with, "TEST_platform_key.pem");
            let plaintext = platform_as_merchant(backend)
                .decrypt(&vector.ciphertext)
                .unwrap();
            assert_eq!(*plaintext, vector.plaintext, "{}", backend.name());
        }
    }
}

#[test]
fn oaep_refuses_tampered_ciphertext_and_the_wrong_key() {
    let config = config();
    for &backend in CryptoBackend::all() {
        let merchant =
            MerchantKey::from_pem_with(&config.merchant_serial, MERCHANT_KEY, backend).unwrap();
        let platform = platform_as_merchant(backend);
        for vector in vectors().oaep {
            assert_eq!(
                merchant.decrypt(&vector.ciphertext),
                Err(CryptoError::Decrypt)
            );
            let tampered = flip_bit(&vector.ciphertext, 100);
            assert_eq!(platform.decrypt(&tampered), Err(CryptoError::Decrypt));
            let truncated = BASE64.encode(&BASE64.decode(&vector.ciphertext).unwrap()[1..]);
            assert_eq!(platform.decrypt(&truncated), Err(CryptoError::Decrypt));
        }
        assert_eq!(platform.decrypt(""), Err(CryptoError::Decrypt));
        assert_eq!(platform.decrypt("%%%"), Err(CryptoError::Base64));
    }
}

#[test]
fn oaep_round_trips_and_is_randomised() {
    for &backend in CryptoBackend::all() {
        let platform = platform_as_merchant(backend);
        for key in platform_keys(backend) {
            for plaintext in ["", "张三", "110101199003072316", &"x".repeat(214)] {
                let first = key.encrypt(plaintext).unwrap();
                let second = key.encrypt(plaintext).unwrap();
                assert_ne!(first, second, "OAEP must be randomised");
                assert_eq!(BASE64.decode(&first).unwrap().len(), 256);
                assert_eq!(*platform.decrypt(&first).unwrap(), plaintext);
                assert_eq!(*platform.decrypt(&second).unwrap(), plaintext);
            }
            // RSA-2048 with OAEP SHA-1 takes at most 256 - 2 * 20 - 2 = 214 bytes.
            assert_eq!(key.encrypt(&"x".repeat(215)), Err(CryptoError::Encrypt));
        }
    }
}

#[test]
fn decrypts_every_aesgcm_vector_and_reencrypts_it_exactly() {
    let config = config();
    for &backend in CryptoBackend::all() {
        for vector in vectors().aesgcm {
            assert_eq!(vector.key, config.apiv3_key);
            let key = ApiV3Key::new(&vector.key).unwrap();
            let plaintext = key
                .decrypt(
                    &vector.nonce,
                    &vector.associated_data,
                    &vector.ciphertext,
                    backend,
                )
                .unwrap();
            assert_eq!(
                *plaintext,
                vector.plaintext.as_bytes(),
                "{}",
                backend.name()
            );
            let ciphertext = key
                .encrypt(
                    &vector.nonce,
                    &vector.associated_data,
                    vector.plaintext.as_bytes(),
                    backend,
                )
                .unwrap();
            assert_eq!(ciphertext, vector.ciphertext, "{}", backend.name());
        }
    }
}

#[test]
fn aesgcm_refuses_wrong_aad_key_nonce_and_tampering() {
    let other_key = ApiV3Key::new("0123456789abcdef0123456789abcdef").unwrap();
    for &backend in CryptoBackend::all() {
        for vector in vectors().aesgcm {
            let key = ApiV3Key::new(&vector.key).unwrap();
            let decrypt = |key: &ApiV3Key, nonce: &str, aad: &str, ciphertext: &str| {
                key.decrypt(nonce, aad, ciphertext, backend).map(|_| ())
            };
            let (nonce, aad, ciphertext) = (
                vector.nonce.as_str(),
                vector.associated_data.as_str(),
                vector.ciphertext.as_str(),
            );
            let raw = BASE64.decode(ciphertext).unwrap();

            assert_eq!(decrypt(&key, nonce, aad, ciphertext), Ok(()));
            let wrong_aad = format!("{aad}x");
            assert_eq!(
                decrypt(&key, nonce, &wrong_aad, ciphertext),
                Err(CryptoError::Decrypt)
            );
            assert_eq!(
                decrypt(&other_key, nonce, aad, ciphertext),
                Err(CryptoError::Decrypt)
            );
            let mut wrong_nonce = nonce.to_owned().into_bytes();
            wrong_nonce[0] ^= 0x01;
            let wrong_nonce = String::from_utf8(wrong_nonce).unwrap();
            assert_eq!(
                decrypt(&key, &wrong_nonce, aad, ciphertext),
                Err(CryptoError::Decrypt)
            );
            for nonce in [&nonce[..11], &format!("{nonce}x"), ""] {
                assert_eq!(
                    decrypt(&key, nonce, aad, ciphertext),
                    Err(CryptoError::Decrypt),
                    "nonce of {} bytes",
                    nonce.len()
                );
                assert_eq!(
                    key.encrypt(nonce, aad, b"x", backend),
                    Err(CryptoError::Encrypt)
                );
            }
            for len in [raw.len() - 1, 16, 15, 0] {
                let truncated = BASE64.encode(&raw[..len]);
                assert_eq!(
                    decrypt(&key, nonce, aad, &truncated),
                    Err(CryptoError::Decrypt),
                    "{len} bytes"
                );
            }
            for index in [0, raw.len() - 1] {
                assert_eq!(
                    decrypt(&key, nonce, aad, &flip_bit(ciphertext, index)),
                    Err(CryptoError::Decrypt)
                );
            }
            assert_eq!(
                decrypt(&key, nonce, aad, "not base64!"),
                Err(CryptoError::Base64)
            );
        }
    }
}

#[test]
fn certificate_serials_keep_their_leading_zero() {
    let config = config();
    for &backend in CryptoBackend::all() {
        let platform = PlatformKey::from_certificate_pem_with(PLATFORM_CERT, backend).unwrap();
        assert_eq!(platform.id(), config.platform_serial);
        let merchant = PlatformKey::from_certificate_pem_with(MERCHANT_CERT, backend).unwrap();
        assert_eq!(merchant.id(), config.merchant_serial);
        for serial in [platform.id(), merchant.id()] {
            assert!(serial.starts_with('0'), "{serial}");
            assert_eq!(serial.len(), 40, "{serial}");
        }
    }
}

#[test]
fn every_backend_verifies_every_backends_signatures() {
    let config = config();
    let message = b"POST\n/v3/x\n1554208460\nnonce\n{}\n";
    for &signer in CryptoBackend::all() {
        let key =
            MerchantKey::from_pem_with(&config.merchant_serial, MERCHANT_KEY, signer).unwrap();
        let signature = key.sign(message).unwrap();
        for &verifier in CryptoBackend::all() {
            let certificate =
                PlatformKey::from_certificate_pem_with(MERCHANT_CERT, verifier).unwrap();
            let public_key =
                PlatformKey::from_public_key_pem_with("merchant", MERCHANT_PUB, verifier).unwrap();
            for key in [certificate, public_key] {
                assert!(
                    key.verify(message, &signature),
                    "signed by {}, verified by {}",
                    signer.name(),
                    verifier.name()
                );
            }
            // PKCS#1 v1.5 is deterministic: every backend signs alike.
            let other = MerchantKey::from_pem_with(&config.merchant_serial, MERCHANT_KEY, verifier)
                .unwrap();
            assert_eq!(other.sign(message).unwrap(), signature);
        }
    }
}

#[test]
fn every_backend_decrypts_every_backends_ciphertexts() {
    let api_v3_key = ApiV3Key::new(&config().apiv3_key).unwrap();
    for &encrypter in CryptoBackend::all() {
        let [certificate, _] = platform_keys(encrypter);
        let rsa_ciphertext = certificate.encrypt("110101199003072316").unwrap();
        let aes_ciphertext = api_v3_key
            .encrypt("0123456789ab", "certificate", b"secret", encrypter)
            .unwrap();
        for &decrypter in CryptoBackend::all() {
            let platform = platform_as_merchant(decrypter);
            assert_eq!(
                *platform.decrypt(&rsa_ciphertext).unwrap(),
                "110101199003072316",
                "encrypted by {}, decrypted by {}",
                encrypter.name(),
                decrypter.name()
            );
            let plaintext = api_v3_key
                .decrypt("0123456789ab", "certificate", &aes_ciphertext, decrypter)
                .unwrap();
            assert_eq!(*plaintext, b"secret");
        }
    }
}
