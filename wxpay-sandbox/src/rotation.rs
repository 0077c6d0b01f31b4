//! Platform certificate rotation: the list of certificates `/v3/certificates` serves,
//! which of them signs responses, and when an old one expires.
//!
//! Nothing runs in the background: each certificate carries the instants at which it
//! starts signing and leaves the list, and every question is answered for a given
//! `now`. The rules for a rotation at `t` with overlap `o`:
//!
//! - the new certificate is listed from `t`;
//! - it signs responses from `t + o` (before that, the certificate that signed until
//!   then keeps signing);
//! - the certificate that was newest before it stays listed, and accepted as a
//!   request's `Wechatpay-Serial`, until `t + 2o`, then expires.
//!
//! `/v3/certificates` is always signed with the oldest certificate still listed, so a
//! client that knows the old one can verify the download that teaches it the new one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::SandboxError;
use crate::keys::{Certificate, PlatformKey, same_serial};

/// One certificate of the platform with its key and its place in the timeline.
pub(crate) struct ListedCertificate {
    pub(crate) key: Arc<PlatformKey>,
    pub(crate) certificate: Certificate,
    /// From when it signs responses; `None`: from the start.
    signs_from: Option<Instant>,
    /// When it leaves the list; `None`: not scheduled (it is the newest).
    expires_at: Option<Instant>,
}

impl ListedCertificate {
    fn is_listed(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }

    fn signs_at(&self, now: Instant) -> bool {
        self.signs_from.is_none_or(|t| t <= now)
    }
}

/// The platform certificates, oldest first. Empty for a merchant that only knows the
/// WeChat Pay public key.
#[derive(Default)]
pub(crate) struct CertificateRing {
    entries: Vec<ListedCertificate>,
}

impl CertificateRing {
    /// A ring holding the certificate the platform starts with.
    pub(crate) fn new(key: Arc<PlatformKey>, certificate: Certificate) -> Self {
        CertificateRing {
            entries: vec![ListedCertificate {
                key,
                certificate,
                signs_from: None,
                expires_at: None,
            }],
        }
    }

    /// The certificates listed at `now`, oldest first.
    pub(crate) fn listed(&self, now: Instant) -> impl Iterator<Item = &ListedCertificate> {
        self.entries.iter().filter(move |e| e.is_listed(now))
    }

    /// The oldest listed certificate: the one that signs `/v3/certificates`.
    pub(crate) fn oldest(&self, now: Instant) -> Option<&ListedCertificate> {
        self.listed(now).next()
    }

    /// The newest listed certificate.
    pub(crate) fn newest(&self, now: Instant) -> Option<&ListedCertificate> {
        self.listed(now).last()
    }

    /// The certificate that signs responses at `now`: the newest listed one whose
    /// overlap has passed (or the oldest listed, should none have).
    pub(crate) fn signer(&self, now: Instant) -> Option<&ListedCertificate> {
        self.listed(now)
            .filter(|e| e.signs_at(now))
            .last()
            .or_else(|| self.oldest(now))
    }

    /// The listed certificate with this serial.
    pub(crate) fn find(&self, serial: &str, now: Instant) -> Option<&ListedCertificate> {
        self.listed(now)
            .find(|e| same_serial(&e.certificate.serial, serial))
    }

    /// Adds a new certificate at `now`, following the rules in the module docs, and
    /// forgets the ones that have already expired.
    pub(crate) fn rotate(
        &mut self,
        key: Arc<PlatformKey>,
        certificate: Certificate,
        overlap: Duration,
        now: Instant,
    ) -> Result<(), SandboxError> {
        let too_long = || SandboxError::Config(format!("overlap {overlap:?} is too long"));
        let signs_from = now.checked_add(overlap).ok_or_else(too_long)?;
        let expires_at = overlap
            .checked_mul(2)
            .and_then(|twice| now.checked_add(twice))
            .ok_or_else(too_long)?;
        self.entries.retain(|e| e.is_listed(now));
        if let Some(previous) = self.entries.last_mut() {
            previous.expires_at = Some(
                previous
                    .expires_at
                    .map_or(expires_at, |t| t.min(expires_at)),
            );
        }
        self.entries.push(ListedCertificate {
            key,
            certificate,
            signs_from: Some(signs_from),
            expires_at: None,
        });
        Ok(())
    }
}

/// Test hooks on `/v3/certificates`, and a count of the downloads.
#[derive(Default)]
pub(crate) struct CertificateDownloads {
    count: AtomicU64,
    fail: AtomicBool,
    /// While set, downloads are signed with this key (unknown to any client).
    forging_key: std::sync::Mutex<Option<Arc<PlatformKey>>>,
}

impl CertificateDownloads {
    /// Counts one authenticated download.
    pub(crate) fn record(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn set_fail(&self, fail: bool) {
        self.fail.store(fail, Ordering::Relaxed);
    }

    pub(crate) fn failing(&self) -> bool {
        self.fail.load(Ordering::Relaxed)
    }

    /// Sets or clears the key that forges download signatures.
    pub(crate) fn set_forging_key(&self, key: Option<Arc<PlatformKey>>) {
        *self
            .forging_key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = key;
    }

    pub(crate) fn forging_key(&self) -> Option<Arc<PlatformKey>> {
        self.forging_key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{RsaKey, random_serial};

    fn certificate(key: &RsaKey) -> Certificate {
        key.self_signed_certificate(&random_serial(), "test", "wxpay-sandbox")
            .expect("certificate")
    }

    fn serials(ring: &CertificateRing, now: Instant) -> Vec<String> {
        ring.listed(now)
            .map(|e| e.certificate.serial.clone())
            .collect()
    }

    #[test]
    fn overlapping_rotations_follow_the_same_rules() {
        // One key is enough to follow the timeline: only the serials matter here.
        let rsa = RsaKey::generate().expect("key");
        let (a, b, c) = (certificate(&rsa), certificate(&rsa), certificate(&rsa));
        let key = Arc::new(PlatformKey::new(rsa).expect("platform key"));
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let signer =
            |ring: &CertificateRing, at| ring.signer(at).map(|e| e.certificate.serial.clone());

        let mut ring = CertificateRing::new(key.clone(), a.clone());
        ring.rotate(key.clone(), b.clone(), ms(300), t0)
            .expect("rotate");
        assert_eq!(serials(&ring, t0), [a.serial.as_str(), &b.serial]);
        assert_eq!(signer(&ring, t0 + ms(299)), Some(a.serial.clone()));
        assert_eq!(signer(&ring, t0 + ms(300)), Some(b.serial.clone()));
        assert_eq!(
            ring.oldest(t0 + ms(599)).map(|e| &e.certificate.serial),
            Some(&a.serial)
        );

        // A second rotation before the first one is over.
        let t1 = t0 + ms(100);
        ring.rotate(key.clone(), c.clone(), ms(400), t1)
            .expect("rotate");
        assert_eq!(
            serials(&ring, t1),
            [a.serial.as_str(), &b.serial, &c.serial]
        );
        assert_eq!(signer(&ring, t1), Some(a.serial.clone()));
        assert_eq!(signer(&ring, t0 + ms(300)), Some(b.serial.clone()));
        assert_eq!(serials(&ring, t0 + ms(600)), [b.serial.as_str(), &c.serial]);
        assert_eq!(signer(&ring, t1 + ms(400)), Some(c.serial.clone()));
        assert_eq!(serials(&ring, t1 + ms(800)), [c.serial.as_str()]);
        assert!(ring.find(&b.serial, t1 + ms(799)).is_some());
        assert!(ring.find(&b.serial.to_lowercase(), t1 + ms(799)).is_some());
        assert!(ring.find(&b.serial, t1 + ms(800)).is_none());
        assert_eq!(
            ring.newest(t1 + ms(900)).map(|e| &e.certificate.serial),
            Some(&c.serial)
        );

        // A zero overlap switches at once.
        let t2 = t1 + ms(1000);
        ring.rotate(key.clone(), a.clone(), Duration::ZERO, t2)
            .expect("rotate");
        assert_eq!(serials(&ring, t2), [a.serial.as_str()]);
        assert_eq!(signer(&ring, t2), Some(a.serial.clone()));
        assert!(
            ring.rotate(key, b, Duration::MAX, t2).is_err(),
            "an overlap past the end of time is refused"
        );
    }
}
