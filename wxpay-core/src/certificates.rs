//! Platform certificates: `GET /v3/certificates`, their decryption with the APIv3 key, and the
//! rule that decides which keys a download is verified with.
//!
//! Trust: every download after the first is verified with the key ring as it was before the
//! download. The very first one can only be verified with the certificates it contains (trust
//! on first use), unless a WeChat Pay public key is configured, which then verifies it. To avoid
//! trusting on first use at all, configure one platform certificate or the public key.
//! Configured keys are never replaced by downloaded ones, a download listing the merchant's own
//! certificate is refused whole, and a certificate store only hands back what a holder of the
//! APIv3 key wrote (see [`CertificateStore`](crate::CertificateStore)).

use serde::Deserialize;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::crypto::CryptoBackend;
use crate::error::KeyError;
use crate::keys::{ApiV3Key, PlatformKey, PlatformKeys};
use crate::protocol;

pub use crate::error::CertificateError;

/// 下载平台证书 — the platform certificates, each encrypted with the APIv3 key.
///
/// Merchants created since late 2024 have none: the platform answers 404 and they use the
/// WeChat Pay public key. The client downloads and refreshes certificates by itself; declare
/// this only to inspect them.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/merchant/4012551764)
#[wxpay_macros::endpoint(GET "/v3/certificates" -> CertificateList, crate = "crate")]
#[derive(Debug, Clone, Default)]
pub struct DownloadCertificates {
    /// `RSA` or `SM2`; the platform answers RSA certificates when left out.
    pub algorithm_type: Option<String>,
}

/// The answer to [`DownloadCertificates`].
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct CertificateList {
    /// One entry per certificate.
    pub data: Vec<EncryptedCertificate>,
}

/// One platform certificate as listed: its serial, validity and the encrypted PEM.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct EncryptedCertificate {
    /// The certificate serial (upper-case hex).
    pub serial_no: String,
    /// From when it is valid.
    #[serde(with = "time::serde::rfc3339")]
    pub effective_time: OffsetDateTime,
    /// Until when it is valid.
    #[serde(with = "time::serde::rfc3339")]
    pub expire_time: OffsetDateTime,
    /// The certificate PEM, encrypted with the APIv3 key.
    pub encrypt_certificate: EncryptedResource,
}

/// Data the platform encrypts with the APIv3 key (AEAD_AES_256_GCM): certificates in
/// downloads, resources in notifications.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct EncryptedResource {
    /// Always `AEAD_AES_256_GCM` so far.
    pub algorithm: String,
    /// The 12-character nonce.
    pub nonce: String,
    /// Associated data (`certificate`, `transaction`, …; may be empty).
    #[serde(default)]
    pub associated_data: String,
    /// Base64 of ciphertext ‖ 16-byte tag.
    pub ciphertext: String,
}

impl std::fmt::Debug for EncryptedResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedResource")
            .field("algorithm", &self.algorithm)
            .field("associated_data", &self.associated_data)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// The only algorithm the platform uses for resources.
pub const AEAD_AES_256_GCM: &str = "AEAD_AES_256_GCM";

impl EncryptedResource {
    /// Decrypts with the APIv3 key.
    pub fn decrypt(
        &self,
        key: &ApiV3Key,
        backend: CryptoBackend,
    ) -> Result<Zeroizing<Vec<u8>>, CertificateError> {
        if self.algorithm != AEAD_AES_256_GCM {
            return Err(CertificateError::UnsupportedAlgorithm(
                self.algorithm.clone(),
            ));
        }
        key.decrypt(
            &self.nonce,
            &self.associated_data,
            &self.ciphertext,
            backend,
        )
        .map_err(CertificateError::Decrypt)
    }
}

/// A downloaded certificate, decrypted and checked.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DownloadedCertificate {
    /// The key, named by the certificate serial.
    pub key: PlatformKey,
    /// The certificate PEM (public; kept for a [`CertificateStore`](crate::CertificateStore)).
    pub pem: String,
}

/// Decrypts and checks every listed certificate: the serial inside must equal `serial_no`,
/// and certificates outside their validity window at `now` (unix seconds) are left out.
pub fn decrypt_certificates(
    list: &CertificateList,
    key: &ApiV3Key,
    backend: CryptoBackend,
    now: i64,
) -> Result<Vec<DownloadedCertificate>, CertificateError> {
    let mut certificates = Vec::with_capacity(list.data.len());
    for entry in &list.data {
        let plaintext = entry.encrypt_certificate.decrypt(key, backend)?;
        let pem = String::from_utf8(plaintext.to_vec())
            .map_err(|_| CertificateError::Key(KeyError::NotPem("not UTF-8 text")))?;
        let platform_key =
            PlatformKey::from_certificate_pem_with(&pem, backend).map_err(CertificateError::Key)?;
        if !platform_key.id().eq_ignore_ascii_case(&entry.serial_no) {
            return Err(CertificateError::SerialMismatch {
                listed: entry.serial_no.clone(),
                actual: platform_key.id().to_owned(),
            });
        }
        if platform_key.is_valid_at(now) {
            certificates.push(DownloadedCertificate {
                key: platform_key,
                pem,
            });
        } else {
            tracing::warn!(serial = %entry.serial_no, "skipping a listed platform certificate outside its validity window");
        }
    }
    if certificates.is_empty() {
        return Err(CertificateError::NoneValid);
    }
    Ok(certificates)
}

/// Verifies a download's signature: with `trusted` (the ring before the download) when it has
/// any key, otherwise with the downloaded certificates themselves (trust on first use).
pub fn verify_download(
    headers: &http::HeaderMap,
    body: &[u8],
    trusted: &PlatformKeys,
    downloaded: &[DownloadedCertificate],
    now: i64,
    tolerance: u64,
) -> Result<(), CertificateError> {
    let first_use;
    let keys = if trusted.is_empty() {
        let mut ring = PlatformKeys::new();
        for certificate in downloaded {
            ring.insert(certificate.key.clone());
        }
        first_use = ring;
        &first_use
    } else {
        trusted
    };
    protocol::verify_signature(headers, body, keys, now, tolerance)
        .map(|_| ())
        .map_err(CertificateError::Verification)
}
