//! The aws-lc-rs backend.
//!
//! aws-lc-rs takes private keys as PKCS#8 (`KeyPair::from_pkcs8` to sign,
//! `PrivateDecryptingKey::from_pkcs8` to decrypt; `KeyPair::from_der` would take PKCS#1) and
//! public keys for encryption only as SubjectPublicKeyInfo (`PublicEncryptingKey::from_der`),
//! while verification accepts SPKI or a bare PKCS#1 `RSAPublicKey`. Callers hand this module
//! PKCS#8 and SPKI, already checked to be RSA of at least 2048 bits.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{
    AES_256, DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey,
};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::error::Unspecified;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeyPair, OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use zeroize::Zeroizing;

use super::{PrivateKeyOps, PublicKeyOps};
use crate::error::{CryptoError, KeyError};

/// An RSA private key, parsed once for signing and once for OAEP: aws-lc-rs keeps the two roles
/// in separate types.
pub(super) struct PrivateKey {
    signing: KeyPair,
    decrypting: OaepPrivateDecryptingKey,
    public_key_spki: Vec<u8>,
}

impl PrivateKey {
    pub(super) fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let signing = KeyPair::from_pkcs8(pkcs8).map_err(|_| KeyError::Rejected)?;
        let decrypting = PrivateDecryptingKey::from_pkcs8(pkcs8)
            .map_err(|_| KeyError::Rejected)
            .and_then(|key| OaepPrivateDecryptingKey::new(key).map_err(|_| KeyError::Rejected))?;
        // `KeyPair::public_key().as_ref()` is PKCS#1 `RSAPublicKey`; `as_der` gives SPKI.
        let public_key_spki = signing
            .public_key()
            .as_der()
            .map_err(|_| KeyError::Rejected)?
            .as_ref()
            .to_vec();
        Ok(PrivateKey {
            signing,
            decrypting,
            public_key_spki,
        })
    }
}

impl PrivateKeyOps for PrivateKey {
    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut signature = vec![0; self.signing.public_modulus_len()];
        // aws-lc-rs ignores the RNG: PKCS#1 v1.5 is deterministic and AWS-LC blinds internally.
        self.signing
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| CryptoError::Sign)?;
        Ok(signature)
    }

    fn decrypt_oaep_sha1(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mut plaintext = Zeroizing::new(vec![0; self.decrypting.min_output_size()]);
        let len = self
            .decrypting
            .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut plaintext, None)
            .map_err(|_| CryptoError::Decrypt)?
            .len();
        plaintext.truncate(len);
        Ok(plaintext)
    }

    fn public_key_spki_der(&self) -> Vec<u8> {
        self.public_key_spki.clone()
    }

    fn modulus_len(&self) -> usize {
        self.signing.public_modulus_len()
    }
}

/// An RSA public key, parsed once for verification and once for OAEP.
pub(super) struct PublicKey {
    verifying: ParsedPublicKey,
    encrypting: OaepPublicEncryptingKey,
}

impl PublicKey {
    pub(super) fn from_spki(spki: &[u8]) -> Result<Self, KeyError> {
        let verifying = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki)
            .map_err(|_| KeyError::Rejected)?;
        let encrypting = PublicEncryptingKey::from_der(spki)
            .map_err(|_| KeyError::Rejected)
            .and_then(|key| OaepPublicEncryptingKey::new(key).map_err(|_| KeyError::Rejected))?;
        Ok(PublicKey {
            verifying,
            encrypting,
        })
    }
}

impl PublicKeyOps for PublicKey {
    fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifying.verify_sig(message, signature).is_ok()
    }

    fn encrypt_oaep_sha1(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if plaintext.len() > self.encrypting.max_plaintext_size(&OAEP_SHA1_MGF1SHA1) {
            return Err(CryptoError::Encrypt);
        }
        let mut ciphertext = vec![0; self.encrypting.ciphertext_size()];
        let len = self
            .encrypting
            .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext, &mut ciphertext, None)
            .map_err(|_| CryptoError::Encrypt)?
            .len();
        ciphertext.truncate(len);
        Ok(ciphertext)
    }
}

pub(super) fn aes_256_gcm_decrypt(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (key, nonce) = aes_256_gcm_key(key, nonce).map_err(|_| CryptoError::Decrypt)?;
    let mut in_out = Zeroizing::new(ciphertext_and_tag.to_vec());
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut in_out)
        .map_err(|_| CryptoError::Decrypt)?
        .len();
    in_out.truncate(len);
    Ok(in_out)
}

pub(super) fn aes_256_gcm_encrypt(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (key, nonce) = aes_256_gcm_key(key, nonce).map_err(|_| CryptoError::Encrypt)?;
    // Room for the tag up front, so the plaintext is never copied by a reallocation; zeroized in
    // case sealing fails with the plaintext still in place.
    let mut in_out = Zeroizing::new(Vec::with_capacity(plaintext.len() + AES_256_GCM.tag_len()));
    in_out.extend_from_slice(plaintext);
    key.seal_in_place_append_tag(nonce, Aad::from(aad), &mut *in_out)
        .map_err(|_| CryptoError::Encrypt)?;
    Ok(std::mem::take(&mut *in_out))
}

/// `LessSafeKey` because the platform chooses the nonces; a nonce other than 12 bytes is refused.
fn aes_256_gcm_key(key: &[u8; 32], nonce: &[u8]) -> Result<(LessSafeKey, Nonce), Unspecified> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key)?);
    Ok((key, Nonce::try_assume_unique_for_key(nonce)?))
}

pub(super) fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<[u8; 32], CryptoError> {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    aws_lc_rs::hmac::sign(&key, data)
        .as_ref()
        .try_into()
        .map_err(|_| CryptoError::Sign)
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// ECB without padding (`DecryptingKey::ecb`): the caller checks PKCS#7 itself, so a wrong
/// padding and a ciphertext that is not whole blocks stay two different errors.
pub(super) fn aes_256_ecb_decrypt_blocks(
    key: &[u8; 32],
    blocks: &mut [u8],
) -> Result<(), CryptoError> {
    let key = UnboundCipherKey::new(&AES_256, key)
        .and_then(DecryptingKey::ecb)
        .map_err(|_| CryptoError::Decrypt)?;
    key.decrypt(blocks, DecryptionContext::None)
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(())
}

pub(super) fn aes_256_ecb_encrypt_blocks(
    key: &[u8; 32],
    blocks: &mut [u8],
) -> Result<(), CryptoError> {
    let key = UnboundCipherKey::new(&AES_256, key)
        .and_then(EncryptingKey::ecb)
        .map_err(|_| CryptoError::Encrypt)?;
    key.less_safe_encrypt(blocks, EncryptionContext::None)
        .map_err(|_| CryptoError::Encrypt)?;
    Ok(())
}
