//! Key material: generating the sandbox's merchant and platform keys, and loading
//! keys and certificates handed to the builder as PEM.
//!
//! Every key here is RSA-2048 (or larger, when loaded), as on the real platform.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::error::Unspecified;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{self, KeySize, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{
    KeyPair as _, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, UnparsedPublicKey,
};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::time::Instant;
use x509_cert::der::pem::{self, LineEnding};
use x509_cert::der::{Decode, Encode};
use zeroize::Zeroizing;

use crate::clock;
use crate::crypto::{fill_random, oaep_sha1_decrypt, random_digits};
use crate::rotation::{CertificateDownloads, CertificateRing};
use crate::settings::Secret;
use crate::{KeyMode, SandboxError};

/// Prefix of every WeChat Pay public key id.
pub(crate) const PUBLIC_KEY_ID_PREFIX: &str = "PUB_KEY_ID_";

/// An RSA private key with its PKCS#8 encoding kept for export.
pub(crate) struct RsaKey {
    pair: rsa::KeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl RsaKey {
    /// A fresh RSA-2048 key.
    pub(crate) fn generate() -> Result<Self, SandboxError> {
        let pair = rsa::KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| SandboxError::Crypto("RSA-2048 key generation failed".into()))?;
        let pkcs8 = Zeroizing::new(
            pair.as_der()
                .map_err(|_| SandboxError::Crypto("PKCS#8 export failed".into()))?
                .as_ref()
                .to_vec(),
        );
        Ok(RsaKey { pair, pkcs8 })
    }

    /// Reads a `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1) PEM.
    pub(crate) fn from_pem(what: &str, text: &str) -> Result<Self, SandboxError> {
        let (label, der) = pem_block(what, text)?;
        let der = Zeroizing::new(der);
        let pair = match label.as_str() {
            "PRIVATE KEY" => rsa::KeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => rsa::KeyPair::from_der(&der),
            other => {
                return Err(SandboxError::Key(format!(
                    "{what}: expected a PRIVATE KEY or RSA PRIVATE KEY PEM, found {other}"
                )));
            }
        }
        .map_err(|e| SandboxError::Key(format!("{what}: not a usable RSA private key: {e}")))?;
        if pair.public_modulus_len() < 256 {
            return Err(SandboxError::Key(format!(
                "{what}: RSA keys shorter than 2048 bits are not accepted"
            )));
        }
        let pkcs8 = Zeroizing::new(
            pair.as_der()
                .map_err(|_| SandboxError::Key(format!("{what}: PKCS#8 export failed")))?
                .as_ref()
                .to_vec(),
        );
        Ok(RsaKey { pair, pkcs8 })
    }

    /// The private key as a PKCS#8 `PRIVATE KEY` PEM.
    pub(crate) fn private_key_pem(&self) -> Result<Secret, SandboxError> {
        let text = pem::encode_string("PRIVATE KEY", LineEnding::LF, &self.pkcs8)
            .map_err(|e| SandboxError::Crypto(format!("PEM encoding failed: {e}")))?;
        Ok(Secret::new(text))
    }

    /// The public half as X.509 `SubjectPublicKeyInfo` DER.
    pub(crate) fn spki_der(&self) -> Result<Vec<u8>, SandboxError> {
        Ok(self
            .pair
            .public_key()
            .as_der()
            .map_err(|_| SandboxError::Crypto("public key export failed".into()))?
            .as_ref()
            .to_vec())
    }

    /// The public half as a `PUBLIC KEY` (SPKI) PEM, the form WeChat Pay hands out.
    pub(crate) fn public_key_pem(&self) -> Result<String, SandboxError> {
        pem::encode_string("PUBLIC KEY", LineEnding::LF, &self.spki_der()?)
            .map_err(|e| SandboxError::Crypto(format!("PEM encoding failed: {e}")))
    }

    /// SHA256withRSA, PKCS#1 v1.5.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Unspecified> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            message,
            &mut signature,
        )?;
        Ok(signature)
    }

    /// The same key for RSA-OAEP decryption.
    pub(crate) fn decrypting_key(&self) -> Result<OaepPrivateDecryptingKey, SandboxError> {
        PrivateDecryptingKey::from_pkcs8(&self.pkcs8)
            .map_err(|e| SandboxError::Key(format!("key not usable for decryption: {e}")))
            .and_then(|key| {
                OaepPrivateDecryptingKey::new(key)
                    .map_err(|_| SandboxError::Key("key not usable for RSA-OAEP".into()))
            })
    }

    /// A self-signed X.509 certificate for this key with the given serial.
    pub(crate) fn self_signed_certificate(
        &self,
        serial: &str,
        common_name: &str,
        organization: &str,
    ) -> Result<Certificate, SandboxError> {
        let signer = rcgen::KeyPair::try_from(self.pkcs8.as_slice())
            .map_err(|e| SandboxError::Crypto(format!("certificate signing key: {e}")))?;
        let mut params = rcgen::CertificateParams::default();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial_bytes(serial)?));
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, organization);
        params
            .distinguished_name
            .push(rcgen::DnType::CountryName, "CN");
        // Whole seconds: X.509 times have no fractions, and the validity we report in
        // /v3/certificates must match what the certificate says.
        let now = OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp())
            .map_err(|e| SandboxError::Crypto(format!("clock: {e}")))?;
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(5 * 365);
        let certificate = params
            .self_signed(&signer)
            .map_err(|e| SandboxError::Crypto(format!("certificate generation failed: {e}")))?;
        Certificate::from_pem("generated certificate", &certificate.pem())
    }
}

/// A certificate with the facts the platform needs from it.
#[derive(Clone)]
pub(crate) struct Certificate {
    /// The PEM text, served (encrypted) by `/v3/certificates`.
    pub(crate) pem: String,
    /// Upper-case hex serial, as in `Wechatpay-Serial` and `serial_no`.
    pub(crate) serial: String,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
    /// The subject public key as SPKI DER.
    pub(crate) spki_der: Vec<u8>,
}

impl Certificate {
    /// Reads the first `CERTIFICATE` block of a PEM text.
    pub(crate) fn from_pem(what: &str, text: &str) -> Result<Self, SandboxError> {
        let (label, der) = pem_block(what, text)?;
        if label != "CERTIFICATE" {
            return Err(SandboxError::Key(format!(
                "{what}: expected a CERTIFICATE PEM, found {label}"
            )));
        }
        let cert = x509_cert::Certificate::from_der(&der)
            .map_err(|e| SandboxError::Key(format!("{what}: not an X.509 certificate: {e}")))?;
        let tbs = &cert.tbs_certificate;
        let spki_der = tbs
            .subject_public_key_info
            .to_der()
            .map_err(|e| SandboxError::Key(format!("{what}: public key: {e}")))?;
        let public_key = rsa::PublicKey::from_der(&spki_der)
            .map_err(|e| SandboxError::Key(format!("{what}: not an RSA public key: {e}")))?;
        if public_key.modulus_len() < 256 {
            return Err(SandboxError::Key(format!(
                "{what}: RSA keys shorter than 2048 bits are not accepted"
            )));
        }
        let time = |t: x509_cert::time::Time| {
            let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
            OffsetDateTime::from_unix_timestamp(secs)
                .map_err(|e| SandboxError::Key(format!("{what}: validity out of range: {e}")))
        };
        let pem = pem::encode_string("CERTIFICATE", LineEnding::LF, &der)
            .map_err(|e| SandboxError::Key(format!("{what}: {e}")))?;
        Ok(Certificate {
            pem,
            serial: serial_hex(tbs.serial_number.as_bytes()),
            not_before: time(tbs.validity.not_before)?,
            not_after: time(tbs.validity.not_after)?,
            spki_der,
        })
    }
}

/// Reads a `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1) PEM, returning DER that
/// aws-lc-rs verification accepts.
pub(crate) fn public_key_from_pem(what: &str, text: &str) -> Result<Vec<u8>, SandboxError> {
    let (label, der) = pem_block(what, text)?;
    if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
        return Err(SandboxError::Key(format!(
            "{what}: expected a PUBLIC KEY PEM, found {label}"
        )));
    }
    let key = rsa::PublicKey::from_der(&der)
        .map_err(|e| SandboxError::Key(format!("{what}: not an RSA public key: {e}")))?;
    if key.modulus_len() < 256 {
        return Err(SandboxError::Key(format!(
            "{what}: RSA keys shorter than 2048 bits are not accepted"
        )));
    }
    Ok(der)
}

/// The first PEM block in `text` (anything before `-----BEGIN` or after the matching
/// `-----END …-----` is ignored), with its label.
fn pem_block(what: &str, text: &str) -> Result<(String, Vec<u8>), SandboxError> {
    let missing = || SandboxError::Key(format!("{what}: no PEM block found"));
    let start = text.find("-----BEGIN ").ok_or_else(missing)?;
    let block = &text[start..];
    let end_marker = block.find("-----END ").ok_or_else(missing)?;
    let after_end = &block[end_marker + "-----END ".len()..];
    let close = after_end.find("-----").ok_or_else(missing)?;
    let end = end_marker + "-----END ".len() + close + "-----".len();
    let block = format!("{}\n", &block[..end]);
    let (label, der) = pem::decode_vec(block.as_bytes())
        .map_err(|e| SandboxError::Key(format!("{what}: malformed PEM: {e}")))?;
    Ok((label.to_owned(), der))
}

/// Upper-case hex of a serial number's magnitude (no leading zero bytes).
fn serial_hex(bytes: &[u8]) -> String {
    let trimmed = match bytes.iter().position(|&b| b != 0) {
        Some(first) => &bytes[first..],
        None => &bytes[bytes.len().saturating_sub(1)..],
    };
    trimmed.iter().map(|b| format!("{b:02X}")).collect()
}

/// Parses a hex serial (at most 40 digits, i.e. the 20 bytes RFC 5280 allows).
fn serial_bytes(serial: &str) -> Result<Vec<u8>, SandboxError> {
    let bad = || {
        SandboxError::Config(format!(
            "certificate serial {serial:?} is not 1 to 40 hexadecimal digits"
        ))
    };
    if serial.is_empty() || serial.len() > 40 || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let padded = if serial.len() % 2 == 1 {
        format!("0{serial}")
    } else {
        serial.to_owned()
    };
    let bytes = (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&padded[i..i + 2], 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>, _>>()?;
    if bytes.iter().all(|&b| b == 0) {
        return Err(bad());
    }
    Ok(bytes)
}

/// A random 40-hex-digit serial whose first digit is 0, like the platform's and
/// merchants' certificate serials: 20 bytes, the first in `0x01..=0x0F` so the DER
/// INTEGER is positive and minimal.
pub(crate) fn random_serial() -> String {
    let mut bytes = [0u8; 20];
    fill_random(&mut bytes);
    bytes[0] = (bytes[0] % 0x0F) + 1;
    serial_hex(&bytes)
}

/// `PUB_KEY_ID_01` followed by 36 random digits.
pub(crate) fn random_public_key_id() -> String {
    format!("{PUBLIC_KEY_ID_PREFIX}01{}", random_digits(36))
}

/// Whether two serials name the same certificate (serials are hex: case does not matter).
pub(crate) fn same_serial(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The merchant as the platform knows it: the serial it signs under and its public key.
pub(crate) struct MerchantKey {
    pub(crate) serial: String,
    public_key_der: Vec<u8>,
}

impl MerchantKey {
    pub(crate) fn new(serial: String, public_key_der: Vec<u8>) -> Self {
        MerchantKey {
            serial,
            public_key_der,
        }
    }

    /// The merchant's public key (SubjectPublicKeyInfo DER), which answers' sensitive fields
    /// are encrypted with.
    pub(crate) fn public_key_der(&self) -> &[u8] {
        &self.public_key_der
    }

    /// Checks an SHA256withRSA (PKCS#1 v1.5) signature made with the merchant key.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.public_key_der)
            .verify(message, signature)
            .is_ok()
    }
}

/// One platform RSA key, ready to sign responses and decrypt sensitive request fields.
pub(crate) struct PlatformKey {
    key: RsaKey,
    decrypting: OaepPrivateDecryptingKey,
}

impl PlatformKey {
    pub(crate) fn new(key: RsaKey) -> Result<Self, SandboxError> {
        let decrypting = key.decrypting_key()?;
        Ok(PlatformKey { key, decrypting })
    }

    /// SHA256withRSA, PKCS#1 v1.5.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Unspecified> {
        self.key.sign(message)
    }

    /// Decrypts an RSA-OAEP (SHA-1) ciphertext made with this key's public half.
    pub(crate) fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, Unspecified> {
        oaep_sha1_decrypt(&self.decrypting, ciphertext)
    }
}

/// Who signs an answer: a key and the serial (or public key id) announced with it in
/// `Wechatpay-Serial`. Taken as one value so the two never disagree across a rotation.
#[derive(Clone)]
pub(crate) struct Signer {
    key: Arc<PlatformKey>,
    serial: String,
}

impl Signer {
    pub(crate) fn serial(&self) -> &str {
        &self.serial
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Unspecified> {
        self.key.sign(message)
    }
}

/// The platform's keys: they sign every response and decrypt sensitive request fields.
/// Clients know them by certificate serials, a public key id, or both (the key mode).
///
/// The key the platform starts with is the one the public key id names, for good.
/// Certificates can be rotated at runtime (in `Certificate` mode only): see
/// [`crate::rotation`] for the timeline.
pub(crate) struct PlatformKeys {
    original: Arc<PlatformKey>,
    public_key_pem: String,
    initial_certificate: Option<Certificate>,
    public_key_id: Option<String>,
    /// Locked briefly, never across an `.await`.
    certificates: RwLock<CertificateRing>,
    pub(crate) downloads: CertificateDownloads,
}

impl PlatformKeys {
    /// Puts the pieces together; which of `certificate` and `public_key_id` are present
    /// is the key mode.
    pub(crate) fn new(
        key: RsaKey,
        certificate: Option<Certificate>,
        public_key_id: Option<String>,
    ) -> Result<Self, SandboxError> {
        if certificate.is_none() && public_key_id.is_none() {
            return Err(SandboxError::Config(
                "the platform needs a certificate, a public key id, or both".into(),
            ));
        }
        if let Some(cert) = &certificate
            && cert.spki_der != key.spki_der()?
        {
            return Err(SandboxError::Config(
                "the platform certificate does not belong to the platform private key".into(),
            ));
        }
        let public_key_pem = key.public_key_pem()?;
        let original = Arc::new(PlatformKey::new(key)?);
        let ring = match &certificate {
            Some(cert) => CertificateRing::new(original.clone(), cert.clone()),
            None => CertificateRing::default(),
        };
        Ok(PlatformKeys {
            original,
            public_key_pem,
            initial_certificate: certificate,
            public_key_id,
            certificates: RwLock::new(ring),
            downloads: CertificateDownloads::default(),
        })
    }

    pub(crate) fn mode(&self) -> KeyMode {
        match (&self.initial_certificate, &self.public_key_id) {
            (Some(_), Some(_)) => KeyMode::Both,
            (Some(_), None) => KeyMode::Certificate,
            _ => KeyMode::PublicKey,
        }
    }

    /// The certificate the platform started with (it may have been rotated out since).
    pub(crate) fn initial_certificate(&self) -> Option<&Certificate> {
        self.initial_certificate.as_ref()
    }

    pub(crate) fn public_key_id(&self) -> Option<&str> {
        self.public_key_id.as_deref()
    }

    pub(crate) fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    fn ring(&self) -> RwLockReadGuard<'_, CertificateRing> {
        // Nothing that holds the lock can panic halfway through a change (a rotation
        // only retains, updates one expiry and pushes), so poisoning is ignored.
        self.certificates
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The certificates listed at `now`, oldest first.
    pub(crate) fn certificates(&self, now: Instant) -> Vec<Certificate> {
        self.ring()
            .listed(now)
            .map(|e| e.certificate.clone())
            .collect()
    }

    /// Who signs responses at `now`: the original key under the public key id when
    /// there is one (it is what the platform signs under once a merchant has a public
    /// key), else the current certificate.
    pub(crate) fn response_signer(&self, now: Instant) -> Signer {
        if let Some(id) = &self.public_key_id {
            return Signer {
                key: self.original.clone(),
                serial: id.clone(),
            };
        }
        match self.ring().signer(now) {
            Some(entry) => Signer {
                key: entry.key.clone(),
                serial: entry.certificate.serial.clone(),
            },
            // `new` refuses a platform with neither a certificate nor a key id.
            None => Signer {
                key: self.original.clone(),
                serial: String::new(),
            },
        }
    }

    /// Who signs `/v3/certificates` at `now`: the oldest listed certificate (in
    /// `Certificate` mode; with a public key id, the usual response signer), or, while
    /// downloads are being forged, an unknown key under the newest serial.
    pub(crate) fn download_signer(&self, now: Instant) -> Signer {
        let (forged_serial, oldest) = {
            let ring = self.ring();
            (
                ring.newest(now).map(|e| e.certificate.serial.clone()),
                ring.oldest(now)
                    .map(|e| (e.key.clone(), e.certificate.serial.clone())),
            )
        };
        if let Some(forger) = self.downloads.forging_key() {
            return Signer {
                key: forger,
                serial: forged_serial.unwrap_or_else(|| self.response_serial(now)),
            };
        }
        match oldest {
            Some((key, serial)) if self.public_key_id.is_none() => Signer { key, serial },
            _ => self.response_signer(now),
        }
    }

    /// `Wechatpay-Serial` on responses at `now`.
    pub(crate) fn response_serial(&self, now: Instant) -> String {
        self.response_signer(now).serial
    }

    /// Whether a request's `Wechatpay-Serial` names a key the platform has at `now`.
    pub(crate) fn knows_serial(&self, serial: &str, now: Instant) -> bool {
        self.public_key_id.as_deref() == Some(serial) || self.ring().find(serial, now).is_some()
    }

    /// Decrypts an RSA-OAEP (SHA-1) ciphertext made with the public half of the key
    /// that `serial` (a request's `Wechatpay-Serial`) names at `now`.
    pub(crate) fn decrypt_for(
        &self,
        serial: &str,
        ciphertext: &[u8],
        now: Instant,
    ) -> Result<Zeroizing<Vec<u8>>, Unspecified> {
        if self.public_key_id.as_deref() == Some(serial) {
            return self.original.decrypt(ciphertext);
        }
        let key = self
            .ring()
            .find(serial, now)
            .map(|e| e.key.clone())
            .ok_or(Unspecified)?;
        key.decrypt(ciphertext)
    }

    /// Rotates to a freshly generated RSA-2048 key and certificate (see
    /// [`crate::rotation`]); returns the new serial, which is never `avoid` (the
    /// merchant's serial) nor a listed one. Slow (key generation): keep it off the
    /// async workers.
    pub(crate) fn rotate(&self, overlap: Duration, avoid: &str) -> Result<String, SandboxError> {
        match self.mode() {
            KeyMode::Certificate => {}
            KeyMode::PublicKey => {
                return Err(SandboxError::Config(
                    "platform certificate rotation needs KeyMode::Certificate: this merchant \
                     has no platform certificates (KeyMode::PublicKey)"
                        .into(),
                ));
            }
            KeyMode::Both => {
                return Err(SandboxError::Config(
                    "platform certificate rotation needs KeyMode::Certificate: in KeyMode::Both \
                     responses are signed under the public key id, which stays bound to the \
                     original key"
                        .into(),
                ));
            }
        }
        let key = RsaKey::generate()?;
        let mut serial = random_serial();
        while same_serial(&serial, avoid) || self.ring().find(&serial, clock::monotonic()).is_some()
        {
            serial = random_serial();
        }
        let certificate =
            key.self_signed_certificate(&serial, "WeChat Pay sandbox platform", "wxpay-sandbox")?;
        let key = Arc::new(PlatformKey::new(key)?);
        self.certificates
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .rotate(key, certificate, overlap, clock::monotonic())?;
        tracing::info!(%serial, ?overlap, "platform certificate rotated");
        Ok(serial)
    }

    /// Starts or stops forging `/v3/certificates` signatures with a freshly
    /// generated key. Slow when starting (key generation).
    pub(crate) fn forge_downloads(&self, on: bool) -> Result<(), SandboxError> {
        let key = match on {
            true => Some(Arc::new(PlatformKey::new(RsaKey::generate()?)?)),
            false => None,
        };
        self.downloads.set_forging_key(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_forty_hex_digits_starting_with_zero() {
        for _ in 0..50 {
            let serial = random_serial();
            assert_eq!(serial.len(), 40, "{serial}");
            assert!(serial.starts_with('0'), "{serial}");
            assert_ne!(&serial[..2], "00", "{serial}");
            assert_eq!(serial_hex(&serial_bytes(&serial).expect("hex")), serial);
        }
    }

    #[test]
    fn serial_parsing_rejects_junk() {
        assert!(serial_bytes("").is_err());
        assert!(serial_bytes("XYZ").is_err());
        assert!(serial_bytes(&"1".repeat(41)).is_err());
        assert!(serial_bytes("0000").is_err());
        assert_eq!(serial_bytes("abc").expect("hex"), vec![0x0A, 0xBC]);
    }

    #[test]
    fn public_key_ids_have_the_platform_shape() {
        let id = random_public_key_id();
        assert!(id.starts_with("PUB_KEY_ID_01"));
        assert_eq!(id.len(), "PUB_KEY_ID_01".len() + 36);
    }

    #[test]
    fn generated_certificate_round_trips() {
        let key = RsaKey::generate().expect("key");
        let serial = random_serial();
        let cert = key
            .self_signed_certificate(&serial, "test", "wxpay-sandbox")
            .expect("certificate");
        assert_eq!(cert.serial, serial);
        assert_eq!(cert.spki_der, key.spki_der().expect("spki"));
        assert!(cert.not_before < cert.not_after);
        let again = Certificate::from_pem("again", &format!("junk\n{}trailing", cert.pem))
            .expect("reparse");
        assert_eq!(again.serial, serial);

        let pem = key.private_key_pem().expect("pem");
        let reloaded = RsaKey::from_pem("key", pem.expose()).expect("reload");
        assert_eq!(reloaded.spki_der().expect("spki"), cert.spki_der);
        let signature = reloaded.sign(b"message").expect("sign");
        let merchant = MerchantKey::new(serial, cert.spki_der.clone());
        assert!(merchant.verify(b"message", &signature));
        assert!(!merchant.verify(b"massage", &signature));
    }
}
