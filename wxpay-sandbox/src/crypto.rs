//! Small cryptographic building blocks shared by the rest of the platform: random
//! identifiers, AES-256-GCM for `/v3/certificates`, RSA-OAEP for sensitive fields.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::error::Unspecified;
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey};
use zeroize::Zeroizing;

const ALPHANUMERIC: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const DIGITS: &[u8; 10] = b"0123456789";

/// Fills `dest` from the operating system's CSPRNG.
///
/// aws-lc's RNG does not fail in practice (it aborts the process on an unusable
/// entropy source), so a failure here is a broken machine, not a recoverable error.
pub(crate) fn fill_random(dest: &mut [u8]) {
    #[allow(clippy::expect_used)]
    aws_lc_rs::rand::fill(dest).expect("the system CSPRNG failed");
}

/// `len` characters drawn uniformly from `alphabet`, by rejection sampling so there is
/// no modulo bias.
fn random_from(alphabet: &[u8], len: usize) -> String {
    debug_assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    // Largest multiple of the alphabet size that fits in a byte: bytes at or above it
    // are thrown away.
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        fill_random(&mut buf);
        for &b in &buf {
            if usize::from(b) < limit && out.len() < len {
                out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
            }
        }
    }
    out
}

/// Random ASCII letters and digits: nonces, APIv3 keys.
pub(crate) fn random_alphanumeric(len: usize) -> String {
    random_from(ALPHANUMERIC, len)
}

/// Random upper-case hexadecimal digits: request ids.
pub(crate) fn random_hex(len: usize) -> String {
    random_from(HEX_UPPER, len)
}

/// Random decimal digits: stock ids, coupon ids, public key ids.
pub(crate) fn random_digits(len: usize) -> String {
    random_from(DIGITS, len)
}

/// AES-256-GCM encryption as the platform does it for `encrypt_certificate` and
/// notifications: returns `ciphertext ‖ 16-byte tag`.
pub(crate) fn aes_256_gcm_seal(
    key: &[u8],
    nonce: &[u8],
    associated_data: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, Unspecified> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key)?);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Unspecified)?;
    let mut in_out = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(associated_data),
        &mut in_out,
    )?;
    Ok(in_out)
}

/// RSAES-OAEP with SHA-1 and MGF1-SHA-1, the scheme of APIv3 sensitive fields.
pub(crate) fn oaep_sha1_decrypt(
    key: &OaepPrivateDecryptingKey,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Unspecified> {
    let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
    let len = key
        .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut out, None)?
        .len();
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_strings_have_the_asked_length_and_alphabet() {
        let nonce = random_alphanumeric(32);
        assert_eq!(nonce.len(), 32);
        assert!(nonce.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(random_digits(36).bytes().all(|b| b.is_ascii_digit()));
        assert!(
            random_hex(40)
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        );
        assert_ne!(random_alphanumeric(32), random_alphanumeric(32));
    }

    #[test]
    fn aes_gcm_appends_a_tag() {
        let sealed =
            aes_256_gcm_seal(&[7u8; 32], b"0123456789ab", b"certificate", b"hello").expect("seal");
        assert_eq!(sealed.len(), 5 + 16);
        assert!(aes_256_gcm_seal(&[7u8; 31], b"0123456789ab", b"", b"x").is_err());
        assert!(aes_256_gcm_seal(&[7u8; 32], b"short", b"", b"x").is_err());
    }
}
