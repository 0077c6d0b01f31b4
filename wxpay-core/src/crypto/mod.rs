//! The crypto backends behind one small interface.
//!
//! Two implementations exist, chosen by Cargo features: aws-lc-rs (default; the library rustls
//! already compiles, constant-time) and the pure-Rust RustCrypto stack (`rsa`, `sha2`, `sha1`,
//! `aes-gcm`; blinded RSA signing). Both pass the same known-answer vectors. With both features
//! on, aws-lc-rs is the default and `CryptoBackend::RustCrypto` can be asked for.
//!
//! APIv2 adds HMAC-SHA256, AES-256-ECB and constant-time comparison to both backends (the
//! RustCrypto side with `hmac`, `aes` and `subtle`), and MD5, which aws-lc-rs does not offer:
//! every build computes it with the RustCrypto `md-5` crate. PKCS#7 padding is checked here,
//! once, so both backends refuse the same ciphertexts with the same error.

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

/// MD5 of `data` (APIv2's default `sign` and its `req_info` key). aws-lc-rs has no MD5, so every
/// build uses the RustCrypto `md-5` crate.
pub(crate) fn md5(data: &[u8]) -> [u8; 16] {
    <md5::Md5 as md5::Digest>::digest(data).into()
}

/// The AES block length.
const AES_BLOCK: usize = 16;

// APIv2: HMAC-SHA256 signs, AES-256-ECB carries refund notifications (`req_info`).
impl CryptoBackend {
    /// HMAC-SHA256 of `data` under `key`.
    pub(crate) fn hmac_sha256(self, key: &[u8], data: &[u8]) -> Result<[u8; 32], CryptoError> {
        match self {
            #[cfg(feature = "aws-lc-rs")]
            CryptoBackend::AwsLc => aws_lc::hmac_sha256(key, data),
            #[cfg(feature = "rsa")]
            CryptoBackend::RustCrypto => rust_crypto::hmac_sha256(key, data),
        }
    }

    /// Whether `a` and `b` are equal, in time that depends on their length only.
    pub(crate) fn constant_time_eq(self, a: &[u8], b: &[u8]) -> bool {
        match self {
            #[cfg(feature = "aws-lc-rs")]
            CryptoBackend::AwsLc => aws_lc::constant_time_eq(a, b),
            #[cfg(feature = "rsa")]
            CryptoBackend::RustCrypto => rust_crypto::constant_time_eq(a, b),
        }
    }

    /// AES-256-ECB decryption with PKCS#7 padding removed. A ciphertext that is empty or not
    /// whole blocks is [`CryptoError::Decrypt`]; a plaintext whose padding is wrong (the usual
    /// sign of a wrong key) is [`CryptoError::Padding`].
    pub(crate) fn aes_256_ecb_decrypt(
        self,
        key: &[u8; 32],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(AES_BLOCK) {
            return Err(CryptoError::Decrypt);
        }
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        match self {
            #[cfg(feature = "aws-lc-rs")]
            CryptoBackend::AwsLc => aws_lc::aes_256_ecb_decrypt_blocks(key, &mut buffer)?,
            #[cfg(feature = "rsa")]
            CryptoBackend::RustCrypto => rust_crypto::aes_256_ecb_decrypt_blocks(key, &mut buffer),
        }
        let len = pkcs7_unpadded_len(&buffer).ok_or(CryptoError::Padding)?;
        buffer.truncate(len);
        Ok(buffer)
    }

    /// AES-256-ECB encryption with PKCS#7 padding (the platform side of `req_info`; for the
    /// sandbox and tests).
    pub(crate) fn aes_256_ecb_encrypt(
        self,
        key: &[u8; 32],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let pad = AES_BLOCK - plaintext.len() % AES_BLOCK;
        let mut buffer = Vec::with_capacity(plaintext.len() + pad);
        buffer.extend_from_slice(plaintext);
        // `pad` is 1..=16, so it fits a byte.
        buffer.resize(plaintext.len() + pad, pad as u8);
        match self {
            #[cfg(feature = "aws-lc-rs")]
            CryptoBackend::AwsLc => aws_lc::aes_256_ecb_encrypt_blocks(key, &mut buffer)?,
            #[cfg(feature = "rsa")]
            CryptoBackend::RustCrypto => rust_crypto::aes_256_ecb_encrypt_blocks(key, &mut buffer),
        }
        Ok(buffer)
    }
}

/// The length of `block_aligned` without its PKCS#7 padding, `None` when the padding is wrong.
/// Every padding byte is looked at whatever the first one says, so the time taken tells little
/// about where the padding went wrong.
fn pkcs7_unpadded_len(block_aligned: &[u8]) -> Option<usize> {
    let last = *block_aligned.last()?;
    let pad = usize::from(last);
    let tail = &block_aligned[block_aligned.len().saturating_sub(AES_BLOCK)..];
    let mut wrong = u8::from(pad == 0 || pad > AES_BLOCK);
    for (from_end, &byte) in tail.iter().rev().enumerate() {
        // Bytes within the padding must equal it; the others are not looked at for meaning.
        let inside = u8::from(from_end < pad);
        wrong |= inside & u8::from(byte != last);
    }
    (wrong == 0).then(|| block_aligned.len() - pad)
}

#[cfg(test)]
mod tests {
    use super::pkcs7_unpadded_len;

    #[test]
    fn pkcs7_padding_is_checked_byte_by_byte() {
        let mut block = [7_u8; 16];
        block[..9].copy_from_slice(b"123456789");
        assert_eq!(pkcs7_unpadded_len(&block), Some(9));
        assert_eq!(pkcs7_unpadded_len(&[16; 16]), Some(0));
        block[10] = 6; // one byte inside the padding differs
        assert_eq!(pkcs7_unpadded_len(&block), None);
        assert_eq!(pkcs7_unpadded_len(&[0; 16]), None, "zero is no padding");
        assert_eq!(pkcs7_unpadded_len(&[17; 16]), None, "longer than a block");
        assert_eq!(pkcs7_unpadded_len(&[]), None);
    }
}
