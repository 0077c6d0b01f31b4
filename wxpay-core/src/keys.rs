//! Key material: the merchant's private key, the platform's public keys, the APIv3 key and the
//! APIv2 key.
//!
//! Every constructor validates its input and answers with a [`KeyError`] that describes the
//! problem without echoing key bytes. `Debug` never prints key material.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::crypto::{CryptoBackend, PrivateKeyOps, PublicKeyOps};
use crate::error::{CryptoError, KeyError, VerificationError};
use crate::pem;

/// The merchant's API private key (from `apiclient_key.pem`) and its certificate serial.
#[derive(Clone)]
pub struct MerchantKey {
    serial: String,
    key: Arc<dyn PrivateKeyOps>,
    backend: CryptoBackend,
}

impl MerchantKey {
    /// Parses a PEM private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`) with the
    /// default backend. `serial` is the merchant certificate's serial number (hex).
    pub fn from_pem(serial: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        Self::from_pem_with(serial, pem, CryptoBackend::default())
    }
    /// As [`MerchantKey::from_pem`], with a chosen backend.
    pub fn from_pem_with(
        serial: impl Into<String>,
        pem: &str,
        backend: CryptoBackend,
    ) -> Result<Self, KeyError> {
        let serial = certificate_serial(serial.into())?;
        let pkcs8 = pem::private_key_pkcs8(pem)?;
        Ok(MerchantKey {
            serial,
            key: backend.private_key(&pkcs8)?,
            backend,
        })
    }
    /// The merchant certificate serial (upper-case hex).
    pub fn serial(&self) -> &str {
        &self.serial
    }
    /// The backend that holds the key.
    pub fn backend(&self) -> CryptoBackend {
        self.backend
    }
    /// SHA256withRSA over `message`, base64.
    pub fn sign(&self, message: &[u8]) -> Result<String, CryptoError> {
        Ok(BASE64.encode(self.key.sign_sha256(message)?))
    }
    /// As [`MerchantKey::sign`], appending the base64 to `out` (no `String` of its own).
    pub(crate) fn sign_into(&self, message: &[u8], out: &mut String) -> Result<(), CryptoError> {
        BASE64.encode_string(self.key.sign_sha256(message)?, out);
        Ok(())
    }
    /// The length of a base64 signature by this key.
    pub(crate) fn signature_base64_len(&self) -> usize {
        self.key.modulus_len().div_ceil(3) * 4
    }
    /// Decrypts a base64 RSA-OAEP (SHA-1) ciphertext made with the merchant's public key.
    pub fn decrypt(&self, ciphertext_base64: &str) -> Result<Zeroizing<String>, CryptoError> {
        let ciphertext = BASE64
            .decode(ciphertext_base64)
            .map_err(|_| CryptoError::Base64)?;
        let plaintext = self.key.decrypt_oaep_sha1(&ciphertext)?;
        // Copied rather than moved into a `String`: a `FromUtf8Error` would carry the bytes off
        // without zeroizing them.
        let text = std::str::from_utf8(&plaintext).map_err(|_| CryptoError::Decrypt)?;
        Ok(Zeroizing::new(text.to_owned()))
    }
    /// The public half as SubjectPublicKeyInfo DER, to recognise the merchant's own key where a
    /// platform key belongs.
    pub(crate) fn public_key_spki_der(&self) -> Vec<u8> {
        self.key.public_key_spki_der()
    }
}

impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantKey")
            .field("serial", &self.serial)
            .field("backend", &self.backend)
            .field("key", &format_args!("<redacted>"))
            .finish()
    }
}

/// Checks and normalises a certificate serial: hex digits only (it goes into the
/// `Authorization` header as is), upper case as the platform writes it.
fn certificate_serial(mut serial: String) -> Result<String, KeyError> {
    if serial.is_empty() || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::Malformed {
            what: "certificate serial (expected hex digits)",
        });
    }
    serial.make_ascii_uppercase();
    Ok(serial)
}

/// The buffer for a decoded signature: 8192-bit RSA, the largest the backends verify, plus the
/// slack base64's length estimate asks for.
const MAX_SIGNATURE_LEN: usize = 1024 + 3;

/// Which of the platform's two kinds of key a [`PlatformKey`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlatformKeyKind {
    /// A platform certificate, valid between two instants (unix seconds).
    Certificate {
        /// notBefore.
        not_before: i64,
        /// notAfter.
        not_after: i64,
    },
    /// A WeChat Pay public key, named by a `PUB_KEY_ID_…` id.
    PublicKey,
}

/// One platform public key: a certificate (named by its serial) or a WeChat Pay public key
/// (named by its `PUB_KEY_ID_…`).
#[derive(Clone)]
pub struct PlatformKey {
    id: String,
    kind: PlatformKeyKind,
    key: Arc<dyn PublicKeyOps>,
    backend: CryptoBackend,
}

impl PlatformKey {
    /// Parses a PEM platform certificate; its id is the certificate serial, upper-case hex with
    /// leading zeros kept (40 digits for the platform's 20-byte serials).
    pub fn from_certificate_pem(pem: &str) -> Result<Self, KeyError> {
        Self::from_certificate_pem_with(pem, CryptoBackend::default())
    }
    /// As [`PlatformKey::from_certificate_pem`], with a chosen backend.
    pub fn from_certificate_pem_with(pem: &str, backend: CryptoBackend) -> Result<Self, KeyError> {
        Self::from_certificate_der_with(&pem::certificate_der(pem)?, backend)
    }
    /// Parses a certificate from DER.
    pub fn from_certificate_der_with(der: &[u8], backend: CryptoBackend) -> Result<Self, KeyError> {
        let certificate = pem::Certificate::from_der(der)?;
        Ok(PlatformKey {
            key: backend.public_key(&certificate.public_key_spki)?,
            id: certificate.serial,
            kind: PlatformKeyKind::Certificate {
                not_before: certificate.not_before,
                not_after: certificate.not_after,
            },
            backend,
        })
    }
    /// Parses a PEM WeChat Pay public key (`PUBLIC KEY`, SubjectPublicKeyInfo) with its id.
    pub fn from_public_key_pem(id: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        Self::from_public_key_pem_with(id, pem, CryptoBackend::default())
    }
    /// As [`PlatformKey::from_public_key_pem`], with a chosen backend.
    pub fn from_public_key_pem_with(
        id: impl Into<String>,
        pem: &str,
        backend: CryptoBackend,
    ) -> Result<Self, KeyError> {
        let spki = pem::public_key_spki(pem)?;
        Ok(PlatformKey {
            id: id.into(),
            kind: PlatformKeyKind::PublicKey,
            key: backend.public_key(&spki)?,
            backend,
        })
    }
    /// The serial or `PUB_KEY_ID_…` that `Wechatpay-Serial` uses to name this key.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Certificate or public key.
    pub fn kind(&self) -> PlatformKeyKind {
        self.kind
    }
    /// Whether the key may be used at `now` (unix seconds): public keys always, certificates
    /// within their validity window.
    pub fn is_valid_at(&self, now: i64) -> bool {
        match self.kind {
            PlatformKeyKind::Certificate {
                not_before,
                not_after,
            } => (not_before..=not_after).contains(&now),
            PlatformKeyKind::PublicKey => true,
        }
    }
    /// Checks a base64 SHA256withRSA signature. `false` for bad base64 as for a bad signature.
    pub fn verify(&self, message: &[u8], signature_base64: &str) -> bool {
        // Decoded on the stack: an RSA signature is at most 1024 bytes (8192 bits), and base64
        // longer than the buffer allows is no valid signature anyway.
        let mut signature = [0; MAX_SIGNATURE_LEN];
        if signature_base64.len() > MAX_SIGNATURE_LEN / 3 * 4 {
            return false;
        }
        BASE64
            .decode_slice(signature_base64, &mut signature)
            .is_ok_and(|len| self.key.verify_sha256(message, &signature[..len]))
    }
    /// Encrypts a sensitive value with RSA-OAEP (SHA-1), base64.
    pub fn encrypt(&self, plaintext: &str) -> Result<String, CryptoError> {
        Ok(BASE64.encode(self.key.encrypt_oaep_sha1(plaintext.as_bytes())?))
    }
    /// Whether `id` names this key: certificate serials are hex, so case does not matter; a
    /// `PUB_KEY_ID_…` is compared exactly.
    fn is_named(&self, id: &str) -> bool {
        match self.kind {
            PlatformKeyKind::Certificate { .. } => self.id.eq_ignore_ascii_case(id),
            PlatformKeyKind::PublicKey => self.id == id,
        }
    }
    /// `not_before` of a certificate; public keys have no validity window.
    fn not_before(&self) -> Option<i64> {
        match self.kind {
            PlatformKeyKind::Certificate { not_before, .. } => Some(not_before),
            PlatformKeyKind::PublicKey => None,
        }
    }
}

impl fmt::Debug for PlatformKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformKey")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// The platform key ring: every key a response or notification may be signed with, by id.
#[derive(Clone, Default)]
pub struct PlatformKeys {
    keys: Vec<PlatformKey>,
}

impl PlatformKeys {
    /// An empty ring.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a key, replacing one with the same id.
    pub fn insert(&mut self, key: PlatformKey) {
        match self.keys.iter_mut().find(|known| known.is_named(&key.id)) {
            Some(known) => *known = key,
            None => self.keys.push(key),
        }
    }
    /// The key named `id` (a certificate serial, compared case-insensitively, or a `PUB_KEY_ID_…`).
    pub fn get(&self, id: &str) -> Option<&PlatformKey> {
        self.keys.iter().find(|key| key.is_named(id))
    }
    /// The key to verify a signature naming `id` with at `now`: a certificate past its
    /// notAfter verifies nothing, whoever configured it.
    ///
    /// ```
    /// # use wxpay_core::{PlatformKeys, VerificationError};
    /// let ring = PlatformKeys::new();
    /// assert_eq!(
    ///     ring.verifying_key("05D1", 1_800_000_000).err(),
    ///     Some(VerificationError::UnknownSerial("05D1".into()))
    /// );
    /// ```
    pub fn verifying_key(&self, id: &str, now: i64) -> Result<&PlatformKey, VerificationError> {
        let key = self
            .get(id)
            .ok_or_else(|| VerificationError::UnknownSerial(id.to_owned()))?;
        match key.kind {
            PlatformKeyKind::Certificate { not_after, .. } if not_after < now => {
                Err(VerificationError::ExpiredCertificate {
                    serial: key.id.clone(),
                    not_after,
                })
            }
            _ => Ok(key),
        }
    }
    /// The key to encrypt sensitive fields with at `now`: the public key if one is configured,
    /// otherwise the valid certificate with the latest `not_before`. `None` if there is none.
    pub fn encryption_key(&self, now: i64) -> Option<&PlatformKey> {
        let public_key = self
            .keys
            .iter()
            .find(|key| key.kind == PlatformKeyKind::PublicKey);
        public_key.or_else(|| {
            self.keys
                .iter()
                .filter(|key| key.is_valid_at(now))
                .max_by_key(|key| key.not_before())
        })
    }
    /// Keeps only the keys for which `keep` is true.
    pub(crate) fn retain(&mut self, keep: impl FnMut(&PlatformKey) -> bool) {
        self.keys.retain(keep);
    }
    /// All keys.
    pub fn iter(&self) -> impl Iterator<Item = &PlatformKey> {
        self.keys.iter()
    }
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    /// Whether the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl fmt::Debug for PlatformKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

/// The 32-byte APIv3 key that encrypts certificates and notification resources (AES-256-GCM).
#[derive(Clone)]
pub struct ApiV3Key(Zeroizing<[u8; 32]>);

impl ApiV3Key {
    /// Takes the key as set in the merchant platform: exactly 32 printable ASCII characters.
    ///
    /// ```
    /// use wxpay_core::{ApiV3Key, KeyError};
    /// assert!(ApiV3Key::new("TESTapiv3key0123456789ABCDEFGHIJ").is_ok());
    /// // 32 bytes, but 16 two-byte characters: not a key the platform issues.
    /// assert_eq!(ApiV3Key::new(&"é".repeat(16)).err(), Some(KeyError::ApiV3KeyCharacters));
    /// ```
    pub fn new(key: &str) -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0; 32]);
        if key.len() != bytes.len() {
            return Err(KeyError::ApiV3KeyLength(key.len()));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(KeyError::ApiV3KeyCharacters);
        }
        bytes.copy_from_slice(key.as_bytes());
        Ok(ApiV3Key(bytes))
    }
    /// The key bytes, for deriving the certificate store's tag key.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// AEAD_AES_256_GCM decryption; `ciphertext_base64` is base64 of ciphertext ‖ 16-byte tag.
    pub fn decrypt(
        &self,
        nonce: &str,
        associated_data: &str,
        ciphertext_base64: &str,
        backend: CryptoBackend,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let ciphertext = BASE64
            .decode(ciphertext_base64)
            .map_err(|_| CryptoError::Base64)?;
        backend.aes_256_gcm_decrypt(
            &self.0,
            nonce.as_bytes(),
            associated_data.as_bytes(),
            &ciphertext,
        )
    }
    /// AEAD_AES_256_GCM encryption, base64 of ciphertext ‖ tag (the platform side; for tests).
    pub fn encrypt(
        &self,
        nonce: &str,
        associated_data: &str,
        plaintext: &[u8],
        backend: CryptoBackend,
    ) -> Result<String, CryptoError> {
        let ciphertext = backend.aes_256_gcm_encrypt(
            &self.0,
            nonce.as_bytes(),
            associated_data.as_bytes(),
            plaintext,
        )?;
        Ok(BASE64.encode(ciphertext))
    }
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key(<redacted>)")
    }
}

/// The APIv2 key (API密钥): it signs APIv2 requests and answers (MD5 or HMAC-SHA256 `sign`) and,
/// through its MD5, decrypts refund notifications (`req_info`).
///
/// Zeroized on drop; `Debug` prints no key material.
#[derive(Clone)]
pub struct ApiV2Key(Zeroizing<[u8; 32]>);

impl ApiV2Key {
    /// Takes the key as set in the merchant platform: exactly 32 ASCII letters and digits,
    /// the only keys the platform issues.
    ///
    /// ```
    /// use wxpay_core::{ApiV2Key, KeyError};
    /// assert!(ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").is_ok());
    /// assert_eq!(ApiV2Key::new("short").err(), Some(KeyError::ApiV2KeyLength(5)));
    /// // 32 characters, but a space is not one the platform issues: copied wrongly.
    /// assert_eq!(
    ///     ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHI ").err(),
    ///     Some(KeyError::ApiV2KeyCharacters)
    /// );
    /// ```
    pub fn new(key: &str) -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0; 32]);
        if key.len() != bytes.len() {
            return Err(KeyError::ApiV2KeyLength(key.len()));
        }
        if !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(KeyError::ApiV2KeyCharacters);
        }
        bytes.copy_from_slice(key.as_bytes());
        Ok(ApiV2Key(bytes))
    }
    /// The key as text, for the `&key=` end of the string to sign and the HMAC key.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// The `req_info` key: the lower-case hex MD5 of the APIv2 key, 32 ASCII bytes.
    fn req_info_key(&self) -> Zeroizing<[u8; 32]> {
        let digest = Zeroizing::new(crate::crypto::md5(&*self.0));
        let mut key = Zeroizing::new([0; 32]);
        for (pair, byte) in key.chunks_exact_mut(2).zip(digest.iter()) {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        key
    }
    /// Decrypts a refund notification's `req_info`: base64, then AES-256-ECB with PKCS#7
    /// padding under the lower-case hex MD5 of this key.
    ///
    /// Bad base64 is [`CryptoError::Base64`], a ciphertext that is not whole AES blocks
    /// [`CryptoError::Decrypt`], a wrong padding (most often a wrong key)
    /// [`CryptoError::Padding`].
    pub fn decrypt_req_info(
        &self,
        req_info_base64: &str,
        backend: CryptoBackend,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let ciphertext = BASE64
            .decode(req_info_base64.trim())
            .map_err(|_| CryptoError::Base64)?;
        backend.aes_256_ecb_decrypt(&self.req_info_key(), &ciphertext)
    }
    /// Encrypts a `req_info` as the platform does (the platform side; for the sandbox and
    /// tests), base64.
    pub fn encrypt_req_info(
        &self,
        plaintext: &[u8],
        backend: CryptoBackend,
    ) -> Result<String, CryptoError> {
        let ciphertext = backend.aes_256_ecb_encrypt(&self.req_info_key(), plaintext)?;
        Ok(BASE64.encode(ciphertext))
    }
}

impl fmt::Debug for ApiV2Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV2Key(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merchant_public_key_is_exported_as_spki_by_every_backend() {
        let merchant_key = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/keys/TEST_merchant_key.pem"
        ));
        let merchant_pub = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/keys/TEST_merchant_pub.pem"
        ));
        let spki = pem::public_key_spki(merchant_pub).unwrap();
        for &backend in CryptoBackend::all() {
            let key = MerchantKey::from_pem_with("0A3C", merchant_key, backend).unwrap();
            assert_eq!(key.public_key_spki_der(), *spki, "{}", backend.name());
        }
    }
}
