//! The crypto backends behind one small interface.
//!
//! Two implementations exist, chosen by Cargo features: aws-lc-rs (default; the library rustls
//! already compiles, constant-time) and the pure-Rust RustCrypto stack (`rsa`, `sha2`, `sha1`,
//! `aes-gcm`; blinded RSA signing). Both pass the same known-answer vectors. With both features
//! on, aws-lc-rs is the default and [`CryptoBackend::RustCrypto`] can be asked for.

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::error::{CryptoError, KeyError};

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

/// An RSA private key as one backend holds it.
pub(crate) trait PrivateKeyOps: Send + Sync + 'static {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1.
    fn decrypt_oaep_sha1(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError>;
    /// The public half as SubjectPublicKeyInfo DER.
    fn public_key_spki_der(&self) -> Vec<u8>;
}

/// An RSA public key as one backend holds it.
pub(crate) trait PublicKeyOps: Send + Sync + 'static {
    /// Whether `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `message`.
    fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool;
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1 (randomised).
    fn encrypt_oaep_sha1(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError>;
}
