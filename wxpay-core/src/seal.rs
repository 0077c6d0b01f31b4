//! The store's seal: tags on stored certificates that only holders of the APIv3 key can
//! write, so a store (a directory, a shared Redis) is never a trust anchor.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::crypto::CryptoBackend;
use crate::error::CryptoError;
use crate::keys::ApiV3Key;

/// Tags stored certificates with a MAC only holders of the APIv3 key can compute.
///
/// AES-256-GCM is what both crypto backends already have, so the tag is GMAC (GCM with an
/// empty plaintext, the entry as associated data) under a key of its own: the first 32 bytes of
/// AES-256-GCM keystream of the APIv3 key under a fixed nonce. Both that nonce and every tag's
/// nonce start with the byte 0xFF, which UTF-8 never contains, while every nonce the platform
/// uses with the APIv3 key is text: no nonce is ever shared with the platform's encryptions.
pub(crate) struct StoreSeal {
    key: Zeroizing<[u8; 32]>,
    backend: CryptoBackend,
}

const TAG_VERSION: &str = "wxpay-store-v1";
const DERIVATION_NONCE: [u8; 12] = *b"\xFFwxpay-store";
const DERIVATION_LABEL: &[u8] = b"wxpay certificate store tag key v1";

impl StoreSeal {
    pub(crate) fn new(apiv3_key: &ApiV3Key, backend: CryptoBackend) -> Result<Self, CryptoError> {
        let stream = Zeroizing::new(backend.aes_256_gcm_encrypt(
            apiv3_key.bytes(),
            &DERIVATION_NONCE,
            DERIVATION_LABEL,
            &[0; 32],
        )?);
        let mut key = Zeroizing::new([0; 32]);
        key.copy_from_slice(stream.get(..32).ok_or(CryptoError::Encrypt)?);
        Ok(StoreSeal { key, backend })
    }

    /// What a tag covers: each part length-prefixed, so no two entries read the same.
    fn message(mchid: &str, serial: &str, pem: &str) -> Vec<u8> {
        let mut message = Vec::with_capacity(64 + pem.len());
        for part in [TAG_VERSION, mchid, &serial.to_ascii_uppercase(), pem] {
            message.extend_from_slice(&(part.len() as u64).to_be_bytes());
            message.extend_from_slice(part.as_bytes());
        }
        message
    }

    pub(crate) fn tag(&self, mchid: &str, serial: &str, pem: &str) -> Result<String, CryptoError> {
        let mut nonce = [0xFF; 12];
        getrandom::fill(&mut nonce[1..]).map_err(|_| CryptoError::Random)?;
        let mac = self.backend.aes_256_gcm_encrypt(
            &self.key,
            &nonce,
            &Self::message(mchid, serial, pem),
            &[],
        )?;
        Ok(format!(
            "{TAG_VERSION}:{}:{}",
            BASE64.encode(nonce),
            BASE64.encode(mac)
        ))
    }

    /// Whether `tag` is this seal's tag of the entry (the AEAD compares in constant time).
    pub(crate) fn verifies(&self, mchid: &str, serial: &str, pem: &str, tag: &str) -> bool {
        let Some(rest) = tag
            .strip_prefix(TAG_VERSION)
            .and_then(|r| r.strip_prefix(':'))
        else {
            return false;
        };
        let Some((nonce, mac)) = rest.split_once(':') else {
            return false;
        };
        let (Ok(nonce), Ok(mac)) = (BASE64.decode(nonce), BASE64.decode(mac)) else {
            return false;
        };
        nonce.first() == Some(&0xFF)
            && self
                .backend
                .aes_256_gcm_decrypt(&self.key, &nonce, &Self::message(mchid, serial, pem), &mac)
                .is_ok_and(|plaintext| plaintext.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(backend: CryptoBackend) -> StoreSeal {
        let key = ApiV3Key::new("TESTapiv3key0123456789ABCDEFGHIJ").expect("key");
        StoreSeal::new(&key, backend).expect("seal")
    }

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    #[test]
    fn a_tag_verifies_only_its_own_entry_under_its_own_key() {
        for &backend in CryptoBackend::all() {
            let seal = seal(backend);
            let tag = seal.tag("1230000109", "0A", PEM).expect("tag");
            assert!(seal.verifies("1230000109", "0A", PEM, &tag));
            assert!(
                seal.verifies("1230000109", "0a", PEM, &tag),
                "serials are hex"
            );
            assert!(
                !seal.verifies("1230000108", "0A", PEM, &tag),
                "another merchant"
            );
            assert!(
                !seal.verifies("1230000109", "0B", PEM, &tag),
                "another serial"
            );
            assert!(!seal.verifies("1230000109", "0A", &PEM.replace('A', "B"), &tag));
            // Every byte of the tag matters.
            for i in TAG_VERSION.len() + 1..tag.len() {
                let mut bytes = tag.clone().into_bytes();
                bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
                let tampered = String::from_utf8(bytes).expect("ascii");
                assert!(
                    !seal.verifies("1230000109", "0A", PEM, &tampered),
                    "{tampered}"
                );
            }
            let other = StoreSeal::new(
                &ApiV3Key::new("TESTapiv3key0123456789ABCDEFGHIK").expect("key"),
                backend,
            )
            .expect("seal");
            assert!(
                !other.verifies("1230000109", "0A", PEM, &tag),
                "another APIv3 key"
            );
            assert!(!seal.verifies("1230000109", "0A", PEM, ""));
            assert!(!seal.verifies("1230000109", "0A", PEM, "wxpay-store-v1:AAAA:AAAA"));
        }
    }

    #[test]
    fn every_backend_reads_the_tags_of_every_other() {
        for &writer in CryptoBackend::all() {
            let tag = seal(writer).tag("1230000109", "0A", PEM).expect("tag");
            for &reader in CryptoBackend::all() {
                assert!(seal(reader).verifies("1230000109", "0A", PEM, &tag));
            }
        }
    }

    #[test]
    fn the_tag_key_is_not_the_apiv3_key() {
        // A MAC made directly with the APIv3 key does not pass: the store has its own key.
        let apiv3 = ApiV3Key::new("TESTapiv3key0123456789ABCDEFGHIJ").expect("key");
        let backend = CryptoBackend::default();
        let nonce = [0xFF; 12];
        let mac = backend
            .aes_256_gcm_encrypt(
                apiv3.bytes(),
                &nonce,
                &StoreSeal::message("1", "0A", PEM),
                &[],
            )
            .expect("mac");
        let forged = format!(
            "{TAG_VERSION}:{}:{}",
            BASE64.encode(nonce),
            BASE64.encode(mac)
        );
        assert!(!seal(backend).verifies("1", "0A", PEM, &forged));
    }
}
