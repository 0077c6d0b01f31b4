//! The platform key ring of one client: a snapshot that answers are verified against, replaced
//! whole when certificates are downloaded, with the refresh bookkeeping beside it.
//!
//! Readers take an `Arc` snapshot and never wait on a download. Which stored certificates may
//! join is decided here: the rule every store follows.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use crate::certificates::{CertificateError, DownloadedCertificate};
use crate::crypto::CryptoBackend;
use crate::keys::{PlatformKey, PlatformKeyKind, PlatformKeys};
use crate::pem;
use crate::seal::StoreSeal;
use crate::store::StoredCertificate;

/// Something about the platform keys an operator should look at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyWarning {
    /// A certificate in the store was not used: it may have been planted or tampered with.
    #[error("stored certificate {serial} ignored: {reason}")]
    StoredCertificateIgnored {
        /// The serial the store named it by.
        serial: String,
        /// Why.
        reason: &'static str,
    },
    /// The store could not be read or written; the client downloads what it needs.
    #[error("certificate store: {0}")]
    Store(String),
    /// A certificate of the ring is past its notAfter: answers signed with it are refused.
    #[error("platform certificate {serial} expired at {not_after} (unix seconds)")]
    CertificateExpired {
        /// Its serial.
        serial: String,
        /// Its notAfter, unix seconds.
        not_after: i64,
    },
}

/// How the client's platform keys are doing: read it to alert on a refresh that keeps
/// failing long before the old certificates expire, and on [`warnings`](Self::warnings).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PlatformKeyStatus {
    /// When certificates were last downloaded and installed (or the platform said it has
    /// none for a public-key merchant).
    pub last_success: Option<SystemTime>,
    /// The last refresh failure, with when it happened; cleared by the next success.
    pub last_error: Option<(SystemTime, String)>,
    /// Downloads attempted since the client was built.
    pub downloads: u64,
    /// The ids of the keys in the ring now.
    pub key_ids: Vec<String>,
    /// Store entries that were not trusted, store failures, and certificates of the ring that
    /// have expired.
    pub warnings: Vec<KeyWarning>,
}

#[derive(Default)]
struct Bookkeeping {
    last_attempt: Option<Instant>,
    last_success: Option<SystemTime>,
    last_error: Option<(SystemTime, String)>,
    downloads: u64,
    /// PEMs of the downloaded or stored certificates in the ring, for the store.
    pems: BTreeMap<String, String>,
    /// What the store held that was ignored, and the last store failure.
    store_warnings: Vec<KeyWarning>,
    /// The same for the store a fleet shares (Redis), kept apart so neither hides the other.
    shared_warnings: Vec<KeyWarning>,
}

/// What a client's key ring starts from: the configured keys.
pub(crate) struct KeyRingSetup {
    /// The configured keys.
    pub(crate) keys: PlatformKeys,
    /// The configured certificates' PEMs by serial: a stored entry under one of these serials
    /// must be the same certificate.
    pub(crate) configured_certificates: BTreeMap<String, String>,
    /// The merchant's own certificate serial, never a platform key.
    pub(crate) merchant_serial: String,
    /// Tags what is saved to the store and checks what is read (only with the APIv3 key).
    pub(crate) seal: Option<StoreSeal>,
    /// The merchant number, which store entries are tagged for.
    pub(crate) mchid: String,
    /// Parses stored certificates.
    pub(crate) backend: CryptoBackend,
}

/// Which store a set of warnings is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreKind {
    /// The [`CertificateStore`](crate::CertificateStore) of this process.
    Local,
    /// The store a fleet shares.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Shared,
}

/// One client's platform keys and their refresh state.
pub(crate) struct KeyRing {
    keys: RwLock<Arc<PlatformKeys>>,
    bookkeeping: Mutex<Bookkeeping>,
    /// Ids of the configured keys: downloads never replace them.
    configured: Vec<String>,
    configured_certificates: BTreeMap<String, String>,
    merchant_serial: String,
    seal: Option<StoreSeal>,
    mchid: String,
    backend: CryptoBackend,
}

impl KeyRing {
    pub(crate) fn new(setup: KeyRingSetup) -> Self {
        KeyRing {
            configured: setup.keys.iter().map(|k| k.id().to_owned()).collect(),
            keys: RwLock::new(Arc::new(setup.keys)),
            bookkeeping: Mutex::new(Bookkeeping::default()),
            configured_certificates: setup.configured_certificates,
            merchant_serial: setup.merchant_serial,
            seal: setup.seal,
            mchid: setup.mchid,
            backend: setup.backend,
        }
    }

    /// The key of a stored certificate that may join the ring, `Ok(None)` for one that is
    /// fine but not needed (expired, or the configured certificate itself), or why it is
    /// ignored. The rule every store follows: an entry is used only when its tag verifies
    /// under the APIv3 key, and never in place of a configured key.
    fn check_stored(
        &self,
        entry: &StoredCertificate,
        now: i64,
    ) -> Result<Option<PlatformKey>, &'static str> {
        let key = PlatformKey::from_certificate_pem_with(&entry.pem, self.backend)
            .map_err(|_| "not a readable certificate")?;
        if !key.id().eq_ignore_ascii_case(&entry.serial) {
            return Err("the certificate inside has another serial");
        }
        if key.id().eq_ignore_ascii_case(&self.merchant_serial) {
            return Err("it is the merchant's own certificate");
        }
        if let Some((_, pem)) = self
            .configured_certificates
            .iter()
            .find(|(serial, _)| serial.eq_ignore_ascii_case(key.id()))
        {
            let same = matches!(
                (pem::certificate_der(pem), pem::certificate_der(&entry.pem)),
                (Ok(a), Ok(b)) if *a == *b
            );
            // The configured certificate stays; a different one under its serial is an attack.
            return if same {
                Ok(None)
            } else {
                Err("it differs from the configured certificate with that serial")
            };
        }
        let seal = self
            .seal
            .as_ref()
            .ok_or("no APIv3 key is configured to check its tag")?;
        let tag = entry.tag.as_deref().ok_or("it has no integrity tag")?;
        if !seal.verifies(&self.mchid, key.id(), &entry.pem, tag) {
            return Err(
                "its integrity tag does not verify (tampered, planted, or written with another APIv3 key)",
            );
        }
        Ok(key.is_valid_at(now).then_some(key))
    }

    /// Adds the stored certificates that pass [`KeyRing::check_stored`] to the ring, and
    /// reports the entries it ignored in the status (replacing what `kind` reported before).
    /// Returns how many entries joined.
    pub(crate) fn adopt_stored(
        &self,
        entries: Vec<StoredCertificate>,
        kind: StoreKind,
        now: i64,
    ) -> usize {
        let mut trusted = Vec::new();
        let mut warnings = Vec::new();
        for entry in entries {
            match self.check_stored(&entry, now) {
                Ok(Some(key)) => trusted.push(DownloadedCertificate {
                    key,
                    pem: entry.pem,
                }),
                Ok(None) => {
                    tracing::debug!(serial = %entry.serial, "skipping a stored certificate that is expired or configured")
                }
                Err(reason) => {
                    tracing::warn!(serial = %entry.serial, reason, "ignoring a stored certificate");
                    warnings.push(KeyWarning::StoredCertificateIgnored {
                        serial: entry.serial,
                        reason,
                    });
                }
            }
        }
        let adopted = trusted.len();
        if adopted > 0
            && let Err(error) = self.install(trusted, now)
        {
            // Checked above already; kept for the rule's sake.
            tracing::warn!(%error, "ignoring the stored certificates");
            return 0;
        }
        *self.store_warnings(kind) = warnings;
        adopted
    }

    /// Records a store that could not be read: the client downloads what it needs.
    pub(crate) fn record_store_unreadable(&self, kind: StoreKind, error: &dyn std::fmt::Display) {
        tracing::warn!(%error, "cannot read the certificate store; certificates will be downloaded");
        *self.store_warnings(kind) = vec![KeyWarning::Store(format!("cannot read: {error}"))];
    }

    fn store_warnings(&self, kind: StoreKind) -> MappedWarnings<'_> {
        MappedWarnings {
            book: self.bookkeeping(),
            kind,
        }
    }

    /// The merchant number its store entries are tagged for.
    pub(crate) fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The keys as they are now.
    pub(crate) fn snapshot(&self) -> Arc<PlatformKeys> {
        // A poisoned lock only means a reader panicked; the Arc inside is still whole.
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn bookkeeping(&self) -> std::sync::MutexGuard<'_, Bookkeeping> {
        self.bookkeeping
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether an unknown-serial download may start: not within `cooldown` of the last one.
    pub(crate) fn may_download(&self, cooldown: Duration) -> bool {
        self.bookkeeping()
            .last_attempt
            .is_none_or(|at| at.elapsed() >= cooldown)
    }

    pub(crate) fn record_attempt(&self) {
        let mut book = self.bookkeeping();
        book.last_attempt = Some(Instant::now());
        book.downloads += 1;
    }

    pub(crate) fn record_success(&self) {
        let mut book = self.bookkeeping();
        book.last_success = Some(SystemTime::now());
        book.last_error = None;
    }

    pub(crate) fn record_failure(&self, error: &crate::error::Error) {
        tracing::warn!(%error, "platform certificate refresh failed; keeping the current keys");
        self.bookkeeping().last_error = Some((SystemTime::now(), error.to_string()));
    }

    /// Records how saving to the store went: a failure is logged and kept in the status
    /// until the next save succeeds. A save rewrites the merchant's entries, so it also ends
    /// the warnings about entries ignored at start.
    pub(crate) fn record_store_result<E: std::fmt::Display>(
        &self,
        kind: StoreKind,
        result: Result<(), E>,
    ) {
        let mut warnings = self.store_warnings(kind);
        warnings.clear();
        if let Err(error) = result {
            // The keys are installed; only sharing them with other processes failed.
            tracing::warn!(%error, "cannot save the platform certificates to the store");
            warnings.push(KeyWarning::Store(format!("cannot save: {error}")));
        }
    }

    /// Adds downloaded certificates (verified by the caller); certificates that have expired
    /// by `now` leave the ring, others stay until they do. A configured key is never replaced,
    /// and a download naming the merchant's own certificate is refused whole. Returns what a
    /// store should keep, tagged.
    pub(crate) fn install(
        &self,
        downloaded: Vec<DownloadedCertificate>,
        now: i64,
    ) -> Result<Vec<StoredCertificate>, CertificateError> {
        if let Some(own) = downloaded
            .iter()
            .find(|c| c.key.id().eq_ignore_ascii_case(&self.merchant_serial))
        {
            return Err(CertificateError::MerchantCertificate {
                serial: own.key.id().to_owned(),
            });
        }
        let mut keys = PlatformKeys::clone(&self.snapshot());
        let mut book = self.bookkeeping();
        for certificate in downloaded {
            let id = certificate.key.id();
            if self.configured.iter().any(|c| c.eq_ignore_ascii_case(id)) {
                continue;
            }
            book.pems.insert(id.to_owned(), certificate.pem);
            keys.insert(certificate.key);
        }
        keys.retain(|key| {
            !matches!(key.kind(), PlatformKeyKind::Certificate { .. }) || key.is_valid_at(now)
        });
        book.pems.retain(|serial, _| keys.get(serial).is_some());
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        Ok(book
            .pems
            .iter()
            .map(|(serial, pem)| StoredCertificate {
                serial: serial.clone(),
                pem: pem.clone(),
                tag: self.seal.as_ref().and_then(|seal| {
                    seal.tag(&self.mchid, serial, pem)
                        .inspect_err(|error| tracing::warn!(%error, "cannot tag a certificate for the store"))
                        .ok()
                }),
            })
            .collect())
    }

    pub(crate) fn status(&self, now: i64) -> PlatformKeyStatus {
        let keys = self.snapshot();
        let key_ids = keys.iter().map(|key| key.id().to_owned()).collect();
        let book = self.bookkeeping();
        let mut warnings = book.store_warnings.clone();
        warnings.extend(book.shared_warnings.iter().cloned());
        for key in keys.iter() {
            if let PlatformKeyKind::Certificate { not_after, .. } = key.kind()
                && not_after < now
            {
                warnings.push(KeyWarning::CertificateExpired {
                    serial: key.id().to_owned(),
                    not_after,
                });
            }
        }
        PlatformKeyStatus {
            last_success: book.last_success,
            last_error: book.last_error.clone(),
            downloads: book.downloads,
            key_ids,
            warnings,
        }
    }
}

/// The warnings of one store, under the bookkeeping lock.
struct MappedWarnings<'a> {
    book: std::sync::MutexGuard<'a, Bookkeeping>,
    kind: StoreKind,
}

impl std::ops::Deref for MappedWarnings<'_> {
    type Target = Vec<KeyWarning>;
    fn deref(&self) -> &Vec<KeyWarning> {
        match self.kind {
            StoreKind::Local => &self.book.store_warnings,
            StoreKind::Shared => &self.book.shared_warnings,
        }
    }
}

impl std::ops::DerefMut for MappedWarnings<'_> {
    fn deref_mut(&mut self) -> &mut Vec<KeyWarning> {
        match self.kind {
            StoreKind::Local => &mut self.book.store_warnings,
            StoreKind::Shared => &mut self.book.shared_warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;
    use crate::keys::ApiV3Key;

    fn seal(backend: CryptoBackend) -> StoreSeal {
        let key = ApiV3Key::new("TESTapiv3key0123456789ABCDEFGHIJ").expect("key");
        StoreSeal::new(&key, backend).expect("seal")
    }

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/../tests/fixtures/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).expect("fixture")
    }

    fn downloaded(name: &str) -> DownloadedCertificate {
        let pem = fixture(name);
        DownloadedCertificate {
            key: crate::keys::PlatformKey::from_certificate_pem(&pem).expect("certificate"),
            pem,
        }
    }

    fn setup() -> KeyRingSetup {
        KeyRingSetup {
            keys: PlatformKeys::new(),
            configured_certificates: BTreeMap::new(),
            merchant_serial: "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81".into(),
            seal: Some(seal(CryptoBackend::default())),
            mchid: "1230000109".into(),
            backend: CryptoBackend::default(),
        }
    }

    fn ring(configured: PlatformKeys) -> KeyRing {
        KeyRing::new(KeyRingSetup {
            keys: configured,
            ..setup()
        })
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_download_listing_the_merchants_own_certificate_is_refused_whole() {
        let ring = ring(PlatformKeys::new());
        let result = ring.install(
            vec![
                downloaded("TEST_platform_cert.pem"),
                downloaded("TEST_merchant_cert.pem"),
            ],
            NOW,
        );
        assert_eq!(
            result,
            Err(CertificateError::MerchantCertificate {
                serial: "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81".into()
            })
        );
        assert!(ring.snapshot().is_empty(), "nothing installed");
    }

    #[test]
    fn a_download_never_replaces_a_configured_key_and_what_it_stores_is_tagged() {
        let mut configured = PlatformKeys::new();
        configured.insert(downloaded("TEST_platform_cert.pem").key);
        let pinned = ring(configured);
        // A download carrying the configured serial with another key inside.
        let forged = downloaded("TEST_forged_platform_cert.pem");
        assert_eq!(forged.key.id(), "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E");
        let stored = pinned.install(vec![forged], NOW).expect("installed");
        assert!(stored.is_empty(), "configured keys are not the store's");
        let genuine = crate::keys::MerchantKey::from_pem("01", &fixture("TEST_platform_key.pem"))
            .expect("key")
            .sign(b"m")
            .expect("sign");
        let snapshot = pinned.snapshot();
        let key = snapshot
            .get("05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E")
            .expect("key");
        assert!(
            key.verify(b"m", &genuine),
            "still the configured certificate"
        );

        let fresh = ring(PlatformKeys::new());
        let stored = fresh
            .install(vec![downloaded("TEST_platform_cert.pem")], NOW)
            .expect("installed");
        assert_eq!(stored.len(), 1);
        let tag = stored[0].tag.as_deref().expect("tagged");
        assert!(seal(CryptoBackend::default()).verifies(
            "1230000109",
            &stored[0].serial,
            &stored[0].pem,
            tag
        ));
    }

    #[test]
    fn the_status_reports_a_certificate_once_it_has_expired() {
        let mut keys = PlatformKeys::new();
        let key = downloaded("TEST_platform_cert.pem").key;
        let PlatformKeyKind::Certificate { not_after, .. } = key.kind() else {
            panic!("a certificate");
        };
        keys.insert(key);
        let ring = ring(keys);
        assert!(ring.status(not_after).warnings.is_empty());
        assert_eq!(
            ring.status(not_after + 1).warnings,
            vec![KeyWarning::CertificateExpired {
                serial: "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E".into(),
                not_after,
            }]
        );
    }

    #[test]
    fn a_failed_save_shows_in_the_status_until_one_succeeds() {
        let ring = ring(PlatformKeys::new());
        ring.record_store_result(StoreKind::Local, Err(io::Error::other("disk full")));
        let warnings = ring.status(NOW).warnings;
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].to_string().contains("disk full"),
            "{warnings:?}"
        );
        ring.record_store_result(StoreKind::Local, Ok::<(), io::Error>(()));
        assert!(ring.status(NOW).warnings.is_empty());
        // Entries ignored at start are rewritten by a save, and no longer reported; each
        // store's warnings are its own.
        let ignored = ring;
        let untagged = StoredCertificate {
            serial: "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E".into(),
            pem: fixture("TEST_platform_cert.pem"),
            tag: None,
        };
        for kind in [StoreKind::Local, StoreKind::Shared] {
            assert_eq!(ignored.adopt_stored(vec![untagged.clone()], kind, NOW), 0);
        }
        assert_eq!(ignored.status(NOW).warnings.len(), 2);
        ignored.record_store_result(StoreKind::Shared, Ok::<(), io::Error>(()));
        assert_eq!(ignored.status(NOW).warnings.len(), 1);
        ignored.record_store_result(StoreKind::Local, Ok::<(), io::Error>(()));
        assert!(ignored.status(NOW).warnings.is_empty());
        assert!(ignored.snapshot().is_empty(), "nothing untagged was used");
    }

    #[test]
    fn a_tagged_stored_certificate_joins_the_ring_and_a_planted_one_does_not() {
        let ring = ring(PlatformKeys::new());
        let pem = fixture("TEST_platform_cert.pem");
        let serial = "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E";
        let tag = seal(CryptoBackend::default())
            .tag("1230000109", serial, &pem)
            .expect("tag");
        let planted = StoredCertificate {
            serial: "1A".into(),
            pem: pem.clone(),
            tag: Some(tag.clone()),
        };
        let genuine = StoredCertificate {
            serial: serial.into(),
            pem,
            tag: Some(tag),
        };
        assert_eq!(
            ring.adopt_stored(vec![planted, genuine], StoreKind::Shared, NOW),
            1
        );
        assert!(ring.snapshot().get(serial).is_some());
        let warnings = ring.status(NOW).warnings;
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].to_string().contains("another serial"));
    }
}
