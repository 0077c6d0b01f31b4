//! The crypto backends behind one small interface.
//!
//! Two implementations exist, chosen by Cargo features: aws-lc-rs (default; the library rustls
//! already compiles, constant-time) and the pure-Rust RustCrypto stack (`rsa`, `sha2`, `sha1`,
//! `aes-gcm`; blinded RSA signing). Both pass the same known-answer vectors. With both features
//! on, aws-lc-rs is the default and `CryptoBackend::RustCrypto` can be asked for.

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::error::{CryptoError, KeyError};
use crate::{hex, pem};

#[cfg(feature = "aws-lc-rs")]
mod aws_lc;
#[cfg(feature = "rsa")]
mod rust_crypto;

/// Which library performs RSA and AES.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CryptoBackend {
    /// aws-lc-rs (feature `aws-lc-rs`, on by default).
    #[cfg(feature = "aws-lc-rs")]
    AwsLc,
    /// The pure-Rust RustCrypto crates (feature `rsa`).
    #[cfg(feature = "rsa")]
    RustCrypto,
}

impl Default for CryptoBackend {
    /// aws-lc-rs when it is compiled in, RustCrypto otherwise.
    fn default() -> Self {
        #[cfg(feature = "aws-lc-rs")]
        return CryptoBackend::AwsLc;
        #[cfg(not(feature = "aws-lc-rs"))]
        return CryptoBackend::RustCrypto;
    }
}

impl CryptoBackend {
    /// Every backend compiled into this build, the default first.
    pub fn all() -> &'static [CryptoBackend] {
        &[
            #[cfg(feature = "aws-lc-rs")]
            CryptoBackend::AwsLc,
            #[cfg(feature = "rsa")]
            CryptoBackend::RustCrypto,
        ]
    }

    /// A short name for logs and benchmark ids: `aws-lc` or `rsa`.
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "aws-lc-rs")]
            CryptoBackend::AwsLc => "aws-lc",
            #[cfg(feature = "rsa")]
            CryptoBackend::RustCrypto => "rsa",
        }
    }
}

/// The smallest RSA modulus accepted: APIv3 signs with RSA-2048 (`WECHATPAY2-SHA256-RSA2048`).
const MIN_RSA_BITS: usize = 2048;

fn require_rsa_2048(bits: usize) -> Result<(), KeyError> {
    if bits < MIN_RSA_BITS {
        return Err(KeyError::TooSmall { bits });
    }
    Ok(())
}

// Algorithm and size are checked here, before a backend sees the key, so that both backends
// refuse the same keys with the same error (`rsa` alone would take a 1024-bit key).
impl CryptoBackend {
    /// Loads an RSA private key from PKCS#8 DER.
    pub(crate) fn private_key(self, pkcs8_der: &[u8]) -> Result<Arc<dyn PrivateKeyOps>, KeyError> {
        require_rsa_2048(pem::rsa_private_key_bits(pkcs8_der)?)?;
        Ok(match self {
            #[cfg(feature = "aws-lc-rs")]
            CryptoBackend::AwsLc => Arc::new(aws_lc::PrivateKey::from_pkcs8(pkcs8_der)?),
            #[cfg(feature = "rsa")]
            CryptoBackend::RustCrypto => Arc::new(rust_crypto::PrivateKey::from_pkcs8(pkcs8_der)?),
        })
    }

    /// Loads an RSA public key from SubjectPublicKeyInfo DER.
    pub(crate) fn public_key(self, spki_der: &[u8]) -> Result<Arc<dyn PublicKeyOps>, KeyError> {
        require_rsa_2048(pem::rsa_public_key_bits(spki_der)?)?;
        Ok(match self {
            #[cfg(feature = "aws-lc-rs")]
            CryptoBackend::AwsLc => Arc::new(aws_lc::PublicKey::from_spki(spki_der)?),
            #[cfg(feature = "rsa")]
            CryptoBackend::RustCrypto => Arc::new(rust_crypto::PublicKey::from_spki(spki_der)?),
        })
    }

    /// AEAD_AES_256_GCM decryption of ciphertext ‖ 16-byte tag. A nonce that is not 12 bytes,
    /// like a wrong key, AAD or tag, is [`CryptoError::Decrypt`].
    pub(crate) fn aes_256_gcm_decrypt(
        self,
        key: &[u8; 32],
        nonce: &[u8],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        match self {
            #[cfg(feature = "aws-lc-rs")]
            CryptoBackend::AwsLc => {
                aws_lc::aes_256_gcm_decrypt(key, nonce, aad, ciphertext_and_tag)
            }
            #[cfg(feature = "rsa")]
            CryptoBackend::RustCrypto => {
                rust_crypto::aes_256_gcm_decrypt(key, nonce, aad, ciphertext_and_tag)
            }
        }
    }

    /// AEAD_AES_256_GCM encryption to ciphertext ‖ 16-byte tag. A nonce that is not 12 bytes is
    /// [`CryptoError::Encrypt`].
    pub(crate) fn aes_256_gcm_encrypt(
        self,
        key: &[u8; 32],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        match self {
            #[cfg(feature = "aws-lc-rs")]
            CryptoBackend::AwsLc => aws_lc::aes_256_gcm_encrypt(key, nonce, aad, plaintext),
            #[cfg(feature = "rsa")]
            CryptoBackend::RustCrypto => {
                rust_crypto::aes_256_gcm_encrypt(key, nonce, aad, plaintext)
            }
        }
    }
}

/// An RSA private key as one backend holds it.
pub(crate) trait PrivateKeyOps: Send + Sync + 'static {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1.
    fn decrypt_oaep_sha1(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError>;
    /// The public half as SubjectPublicKeyInfo DER.
    fn public_key_spki_der(&self) -> Vec<u8>;
    /// The modulus length in bytes: the length of a signature.
    fn modulus_len(&self) -> usize;
}

/// An RSA public key as one backend holds it.
pub(crate) trait PublicKeyOps: Send + Sync + 'static {
    /// Whether `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `message`.
    fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool;
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1 (randomised).
    fn encrypt_oaep_sha1(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

/// SHA-256 of `data`, lower-case hex (the `sha256` of an upload's `meta`). Any backend
/// gives the same digest; the default one computes it.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    #[cfg(feature = "aws-lc-rs")]
    return hex::lower(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref());
    #[cfg(not(feature = "aws-lc-rs"))]
    return hex::lower(&<sha2::Sha256 as sha2::Digest>::digest(data));
}

/// A SHA-1 computation (the digest bills are checked with) in one backend.
pub(crate) enum Sha1 {
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(aws_lc_rs::digest::Context),
    #[cfg(feature = "rsa")]
    RustCrypto(sha1::Sha1),
}

impl CryptoBackend {
    /// A SHA-1 computation in this backend.
    pub(crate) fn sha1(self) -> Sha1 {
        match self {
            #[cfg(feature = "aws-lc-rs")]
            CryptoBackend::AwsLc => Sha1::AwsLc(aws_lc_rs::digest::Context::new(
                &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            )),
            #[cfg(feature = "rsa")]
            CryptoBackend::RustCrypto => Sha1::RustCrypto(<sha1::Sha1 as sha1::Digest>::new()),
        }
    }
}

impl Sha1 {
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            #[cfg(feature = "aws-lc-rs")]
            Sha1::AwsLc(context) => context.update(data),
            #[cfg(feature = "rsa")]
            Sha1::RustCrypto(hasher) => sha1::Digest::update(hasher, data),
        }
    }

    /// The digest, lower-case hex.
    pub(crate) fn finish(self) -> String {
        match self {
            #[cfg(feature = "aws-lc-rs")]
            Sha1::AwsLc(context) => hex::lower(context.finish().as_ref()),
            #[cfg(feature = "rsa")]
            Sha1::RustCrypto(hasher) => hex::lower(&sha1::Digest::finalize(hasher)),
        }
    }
}
