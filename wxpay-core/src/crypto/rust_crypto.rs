//! The RustCrypto backend: `rsa`, `sha1`, `sha2` and `aes-gcm`; for APIv2 `hmac`, `aes` and
//! `subtle`.
//!
//! `rsa` reads private keys as PKCS#8 (`DecodePrivateKey::from_pkcs8_der`; PKCS#1 would need
//! `DecodeRsaPrivateKey`) and public keys as SubjectPublicKeyInfo (`DecodePublicKey`). Every
//! private-key operation is blinded with the OS RNG: `rsa` is not constant-time, and its paths
//! without an RNG (`Signer::sign`, `RsaPrivateKey::decrypt`) do not blind.

use aes::Aes256;
use aes::cipher::{BlockDecrypt as _, BlockEncrypt as _};
use aes_gcm::aead::AeadInPlace as _;
use aes_gcm::{Aes256Gcm, KeyInit as _, Nonce};
use rand_core::OsRng;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _};
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Verifier as _};
use rsa::traits::PublicKeyParts as _;
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{PrivateKeyOps, PublicKeyOps};
use crate::error::{CryptoError, KeyError};

/// AES-GCM nonce length; `Nonce::from_slice` panics on another, so it is checked first.
const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
const TAG_LEN: usize = 16;

/// An RSA private key. `RsaPrivateKey` zeroizes itself on drop.
pub(super) struct PrivateKey {
    signing: SigningKey<Sha256>,
    public_key_spki: Vec<u8>,
}

impl PrivateKey {
    pub(super) fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        // Validates the key (`RsaPrivateKey::from_components`), so a corrupt one fails here.
        let key = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(|_| KeyError::Rejected)?;
        let public_key_spki = key
            .to_public_key()
            .to_public_key_der()
            .map_err(|_| KeyError::Rejected)?
            .into_vec();
        Ok(PrivateKey {
            signing: SigningKey::new(key),
            public_key_spki,
        })
    }
}

impl PrivateKeyOps for PrivateKey {
    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        // With an RNG `rsa` blinds the private operation; the signature is still deterministic.
        let signature = self
            .signing
            .try_sign_with_rng(&mut OsRng, message)
            .map_err(|_| CryptoError::Sign)?;
        Ok(signature.to_vec())
    }

    fn decrypt_oaep_sha1(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let key: &RsaPrivateKey = self.signing.as_ref();
        key.decrypt_blinded(&mut OsRng, Oaep::new::<Sha1>(), ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Decrypt)
    }

    fn public_key_spki_der(&self) -> Vec<u8> {
        self.public_key_spki.clone()
    }

    fn modulus_len(&self) -> usize {
        let key: &RsaPrivateKey = self.signing.as_ref();
        key.size()
    }
}

/// An RSA public key.
pub(super) struct PublicKey {
    verifying: VerifyingKey<Sha256>,
}

impl PublicKey {
    pub(super) fn from_spki(spki: &[u8]) -> Result<Self, KeyError> {
        let key = RsaPublicKey::from_public_key_der(spki).map_err(|_| KeyError::Rejected)?;
        Ok(PublicKey {
            verifying: VerifyingKey::new(key),
        })
    }
}

impl PublicKeyOps for PublicKey {
    fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::try_from(signature)
            .is_ok_and(|signature| self.verifying.verify(message, &signature).is_ok())
    }

    fn encrypt_oaep_sha1(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key: &RsaPublicKey = self.verifying.as_ref();
        key.encrypt(&mut OsRng, Oaep::new::<Sha1>(), plaintext)
            .map_err(|_| CryptoError::Encrypt)
    }
}

pub(super) fn aes_256_gcm_decrypt(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if nonce.len() != NONCE_LEN {
        return Err(CryptoError::Decrypt);
    }
    let mut buffer = Zeroizing::new(ciphertext_and_tag.to_vec());
    Aes256Gcm::new(key.into())
        .decrypt_in_place(Nonce::from_slice(nonce), aad, &mut *buffer)
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(buffer)
}

pub(super) fn aes_256_gcm_encrypt(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if nonce.len() != NONCE_LEN {
        return Err(CryptoError::Encrypt);
    }
    // Room for the tag up front, so the plaintext is never copied by a reallocation; zeroized in
    // case encryption fails with the plaintext still in place.
    let mut buffer = Zeroizing::new(Vec::with_capacity(plaintext.len() + TAG_LEN));
    buffer.extend_from_slice(plaintext);
    Aes256Gcm::new(key.into())
        .encrypt_in_place(Nonce::from_slice(nonce), aad, &mut *buffer)
        .map_err(|_| CryptoError::Encrypt)?;
    Ok(std::mem::take(&mut *buffer))
}

pub(super) fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<[u8; 32], CryptoError> {
    use hmac::Mac as _;
    // HMAC takes keys of every length; the error exists for other MACs.
    let mut mac =
        <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(key).map_err(|_| CryptoError::Sign)?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.ct_eq(b).into()
}

/// ECB block by block (the `ecb` crate would add a dependency for a loop); `blocks` is whole
/// 16-byte blocks, checked by the caller.
pub(super) fn aes_256_ecb_decrypt_blocks(key: &[u8; 32], blocks: &mut [u8]) {
    let cipher = Aes256::new(key.into());
    for block in blocks.chunks_exact_mut(16) {
        cipher.decrypt_block(block.into());
    }
}

pub(super) fn aes_256_ecb_encrypt_blocks(key: &[u8; 32], blocks: &mut [u8]) {
    let cipher = Aes256::new(key.into());
    for block in blocks.chunks_exact_mut(16) {
        cipher.encrypt_block(block.into());
    }
}
