//! The RSA key bank-card payouts are encrypted with (`/mmpaysptrans/pay_bank`).

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::crypto::{CryptoBackend, PublicKeyOps};
use crate::error::{CryptoError, KeyError};
use crate::pem;

/// The platform's RSA public key for bank-card payouts: `pay_bank`'s `enc_bank_no` (the card
/// number) and `enc_true_name` (the holder's name) are encrypted with it.
///
/// The platform hands it out through `POST /risk/getpublickey` (`pub_key`, a PKCS#1
/// `-----BEGIN RSA PUBLIC KEY-----` PEM); `Client::bank_payout_key` fetches and keeps it.
/// [`BankPayoutKey::encrypt`] is RSAES-OAEP with SHA-1 and MGF1-SHA-1 (OpenSSL's
/// `RSA_PKCS1_OAEP_PADDING`), written in standard base64: what the platform decrypts.
///
/// Encryption is randomised, so the same card number never gives the same text twice. The
/// plaintext never reaches an error or `Debug`.
///
/// ```
/// # let pem = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keys/TEST_platform_pub.pkcs1.pem"));
/// use wxpay_core::apiv2::BankPayoutKey;
///
/// let key = BankPayoutKey::from_pem(pem)?;
/// let enc_bank_no = key.encrypt("6222020200000000000")?;
/// assert_eq!(enc_bank_no.len(), 344); // 256 bytes of RSA-2048, in base64
/// # Ok::<(), wxpay_core::Error>(())
/// ```
#[derive(Clone)]
pub struct BankPayoutKey {
    key: Arc<dyn PublicKeyOps>,
    bits: usize,
    backend: CryptoBackend,
}

impl BankPayoutKey {
    /// Reads the key from PEM: the PKCS#1 `RSA PUBLIC KEY` that `getpublickey` answers, or a
    /// SubjectPublicKeyInfo `PUBLIC KEY`, with the default backend.
    ///
    /// # Errors
    /// [`KeyError::NotPem`] for text that is not PEM, [`KeyError::WrongKind`] for another kind
    /// of block, [`KeyError::Malformed`] for DER that is not an RSA public key,
    /// [`KeyError::NotRsa`] for another algorithm, [`KeyError::TooSmall`] below 2048 bits.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        Self::from_pem_with(text, CryptoBackend::default())
    }

    /// As [`BankPayoutKey::from_pem`], encrypting with `backend`.
    ///
    /// # Errors
    /// As [`BankPayoutKey::from_pem`].
    pub fn from_pem_with(text: &str, backend: CryptoBackend) -> Result<Self, KeyError> {
        let spki = pem::rsa_public_key_spki(text)?;
        let bits = pem::rsa_public_key_bits(&spki)?;
        Ok(BankPayoutKey {
            key: backend.public_key(&spki)?,
            bits,
            backend,
        })
    }

    /// `plaintext` (a card number, a holder's name) encrypted for the platform: RSA-OAEP
    /// (SHA-1, MGF1-SHA-1) over its UTF-8 bytes, in standard base64 with padding.
    ///
    /// # Errors
    /// [`CryptoError::Encrypt`] when `plaintext` is longer than the key takes (214 bytes for
    /// RSA-2048: far more than any card number or name), [`CryptoError::Random`] if the system
    /// random number generator fails.
    pub fn encrypt(&self, plaintext: &str) -> Result<String, CryptoError> {
        let ciphertext = self.key.encrypt_oaep_sha1(plaintext.as_bytes())?;
        Ok(BASE64.encode(ciphertext))
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }
}

impl fmt::Debug for BankPayoutKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BankPayoutKey")
            .field("bits", &self.bits)
            .field("backend", &self.backend)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUB_PKCS1: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/keys/TEST_platform_pub.pkcs1.pem"
    ));
    const PUB_SPKI: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/keys/TEST_platform_pub.pem"
    ));
    const PRIVATE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/keys/TEST_platform_key.pem"
    ));
    const RSA1024_PUB: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/keys/TEST_rsa1024_pub.pem"
    ));
    const EC_PUB: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/keys/TEST_ec_pub.pem"
    ));

    /// What the platform does with `enc_bank_no`: base64, then RSA-OAEP-SHA1 with its
    /// private key, in every backend.
    fn platform_decrypts(text: &str, backend: CryptoBackend) -> String {
        let ciphertext = BASE64.decode(text).expect("standard base64");
        let pkcs8 = pem::private_key_pkcs8(PRIVATE).unwrap();
        let private = backend.private_key(&pkcs8).unwrap();
        let plaintext = private.decrypt_oaep_sha1(&ciphertext).expect("decrypts");
        String::from_utf8(plaintext.to_vec()).unwrap()
    }

    #[test]
    fn round_trips_through_every_backend_pair() {
        for &encrypting in CryptoBackend::all() {
            for pem in [PUB_PKCS1, PUB_SPKI] {
                let key = BankPayoutKey::from_pem_with(pem, encrypting).unwrap();
                assert_eq!(key.bits(), 2048);
                for plaintext in ["6222020200000000000", "张三", ""] {
                    let first = key.encrypt(plaintext).unwrap();
                    assert_eq!(first.len(), 344, "{encrypting:?}");
                    assert_ne!(first, key.encrypt(plaintext).unwrap(), "randomised");
                    for &decrypting in CryptoBackend::all() {
                        assert_eq!(platform_decrypts(&first, decrypting), plaintext);
                    }
                }
            }
        }
    }

    #[test]
    fn refuses_too_long_plaintext_without_quoting_it() {
        for &backend in CryptoBackend::all() {
            let key = BankPayoutKey::from_pem_with(PUB_PKCS1, backend).unwrap();
            // RSA-2048 with OAEP-SHA1 takes 256 - 2*20 - 2 = 214 bytes.
            assert!(key.encrypt(&"6".repeat(214)).is_ok(), "{backend:?}");
            let long = "6".repeat(215);
            let error = key.encrypt(&long).unwrap_err();
            assert_eq!(error, CryptoError::Encrypt, "{backend:?}");
            assert!(!format!("{error} {error:?}").contains("666"));
        }
    }

    #[test]
    fn refuses_what_is_not_an_rsa_public_key_of_2048_bits() {
        for &backend in CryptoBackend::all() {
            let read = |text: &str| BankPayoutKey::from_pem_with(text, backend).map(|_| ());
            assert!(matches!(read("pub_key"), Err(KeyError::NotPem(_))));
            assert!(matches!(
                read(PRIVATE),
                Err(KeyError::WrongKind { found, .. }) if found == "PRIVATE KEY"
            ));
            assert_eq!(read(EC_PUB), Err(KeyError::NotRsa));
            assert_eq!(read(RSA1024_PUB), Err(KeyError::TooSmall { bits: 1024 }));
            let garbage = "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n";
            assert!(matches!(read(garbage), Err(KeyError::Malformed { .. })));
            // The spec's placeholder, as the sandbox's example answer carries it.
            let placeholder = "-----BEGIN RSA PUBLIC KEY-----...-----END RSA PUBLIC KEY-----";
            assert!(matches!(read(placeholder), Err(KeyError::NotPem(_))));
        }
    }

    #[test]
    fn debug_shows_the_size_only() {
        let key = BankPayoutKey::from_pem(PUB_PKCS1).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.starts_with("BankPayoutKey { bits: 2048"), "{shown}");
        assert!(!shown.contains("MII"));
    }
}
