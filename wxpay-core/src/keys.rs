//! Key material: the merchant's private key, the platform's public keys and the APIv3 key.
//!
//! Every constructor validates its input and answers with a [`KeyError`] that describes the
//! problem without echoing key bytes. `Debug` never prints key material.
//!
//! STUB: signatures are the contract; bodies are being implemented.
#![allow(unused_variables, dead_code)]

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::crypto::{CryptoBackend, PrivateKeyOps, PublicKeyOps};
use crate::error::{CryptoError, KeyError};

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
        todo!()
    }
    /// As [`MerchantKey::from_pem`], with a chosen backend.
    pub fn from_pem_with(
        serial: impl Into<String>,
        pem: &str,
        backend: CryptoBackend,
    ) -> Result<Self, KeyError> {
        todo!()
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
        todo!()
    }
    /// Decrypts a base64 RSA-OAEP (SHA-1) ciphertext made with the merchant's public key.
    pub fn decrypt(&self, ciphertext_base64: &str) -> Result<Zeroizing<String>, CryptoError> {
        todo!()
    }
}

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
        todo!()
    }
    /// As [`PlatformKey::from_certificate_pem`], with a chosen backend.
    pub fn from_certificate_pem_with(pem: &str, backend: CryptoBackend) -> Result<Self, KeyError> {
        todo!()
    }
    /// Parses a certificate from DER.
    pub fn from_certificate_der_with(der: &[u8], backend: CryptoBackend) -> Result<Self, KeyError> {
        todo!()
    }
    /// Parses a PEM WeChat Pay public key (`PUBLIC KEY`, SubjectPublicKeyInfo) with its id.
    pub fn from_public_key_pem(id: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        todo!()
    }
    /// As [`PlatformKey::from_public_key_pem`], with a chosen backend.
    pub fn from_public_key_pem_with(
        id: impl Into<String>,
        pem: &str,
        backend: CryptoBackend,
    ) -> Result<Self, KeyError> {
        todo!()
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
        todo!()
    }
    /// Checks a base64 SHA256withRSA signature. `false` for bad base64 as for a bad signature.
    pub fn verify(&self, message: &[u8], signature_base64: &str) -> bool {
        todo!()
    }
    /// Encrypts a sensitive value with RSA-OAEP (SHA-1), base64.
    pub fn encrypt(&self, plaintext: &str) -> Result<String, CryptoError> {
        todo!()
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
        todo!()
    }
    /// The key named `id` (a certificate serial, compared case-insensitively, or a `PUB_KEY_ID_…`).
    pub fn get(&self, id: &str) -> Option<&PlatformKey> {
        todo!()
    }
    /// The key to encrypt sensitive fields with at `now`: the public key if one is configured,
    /// otherwise the valid certificate with the latest `not_before`. `None` if there is none.
    pub fn encryption_key(&self, now: i64) -> Option<&PlatformKey> {
        todo!()
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

/// The 32-byte APIv3 key that encrypts certificates and notification resources (AES-256-GCM).
#[derive(Clone)]
pub struct ApiV3Key(Zeroizing<[u8; 32]>);

impl ApiV3Key {
    /// Takes the key as set in the merchant platform: exactly 32 bytes of text.
    pub fn new(key: &str) -> Result<Self, KeyError> {
        todo!()
    }
    /// AEAD_AES_256_GCM decryption; `ciphertext_base64` is base64 of ciphertext ‖ 16-byte tag.
    pub fn decrypt(
        &self,
        nonce: &str,
        associated_data: &str,
        ciphertext_base64: &str,
        backend: CryptoBackend,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        todo!()
    }
    /// AEAD_AES_256_GCM encryption, base64 of ciphertext ‖ tag (the platform side; for tests).
    pub fn encrypt(
        &self,
        nonce: &str,
        associated_data: &str,
        plaintext: &[u8],
        backend: CryptoBackend,
    ) -> Result<String, CryptoError> {
        todo!()
    }
}
