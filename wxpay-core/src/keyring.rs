//! The platform key ring of one client: a snapshot that answers are verified against, replaced
//! whole when certificates are downloaded, with the refresh bookkeeping beside it.
//!
//! Readers take an `Arc` snapshot and never wait on a download; a download holds an async
//! lock so concurrent triggers collapse into one (single flight).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use crate::certificates::DownloadedCertificate;
use crate::keys::{PlatformKeyKind, PlatformKeys};

/// Where downloaded platform certificates are kept so a fleet of processes can share them and
/// start without a download. Certificates are public; nothing secret passes through here.
pub trait CertificateStore: Send + Sync + 'static {
    /// The certificate PEMs stored for `mchid` (none is not an error).
    fn load(&self, mchid: &str) -> io::Result<Vec<String>>;
    /// Replaces what is stored for `mchid` with `certificates`.
    fn save(&self, mchid: &str, certificates: &[StoredCertificate]) -> io::Result<()>;
}

/// A certificate as a [`CertificateStore`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCertificate {
    /// Serial, upper-case hex.
    pub serial: String,
    /// The certificate PEM.
    pub pem: String,
}

/// A [`CertificateStore`] in a directory: `<root>/<mchid>/<SERIAL>.pem`, each written to a
/// temporary file and renamed, so a reader never sees half a certificate.
///
/// ```no_run
/// # fn run(builder: wxpay_core::ClientBuilder) {
/// let builder = builder.certificate_store(wxpay_core::DirectoryStore::new("/var/lib/wxpay/certificates"));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DirectoryStore {
    root: PathBuf,
}

impl DirectoryStore {
    /// A store under `root` (created on the first save).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirectoryStore { root: root.into() }
    }

    fn merchant_dir(&self, mchid: &str) -> io::Result<PathBuf> {
        // mchid comes from configuration, but it names a directory: keep it to digits.
        if mchid.is_empty() || !mchid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "mchid must be digits",
            ));
        }
        Ok(self.root.join(mchid))
    }
}

impl CertificateStore for DirectoryStore {
    fn load(&self, mchid: &str) -> io::Result<Vec<String>> {
        let dir = self.merchant_dir(mchid)?;
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut pems = Vec::new();
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "pem") {
                pems.push(std::fs::read_to_string(&path)?);
            }
        }
        Ok(pems)
    }

    fn save(&self, mchid: &str, certificates: &[StoredCertificate]) -> io::Result<()> {
        let dir = self.merchant_dir(mchid)?;
        std::fs::create_dir_all(&dir)?;
        let mut keep = Vec::with_capacity(certificates.len());
        for certificate in certificates {
            if certificate.serial.is_empty()
                || !certificate.serial.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a serial must be hex",
                ));
            }
            let name = format!("{}.pem", certificate.serial.to_ascii_uppercase());
            write_atomically(&dir, &name, certificate.pem.as_bytes())?;
            keep.push(name);
        }
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let stale = path.extension().is_some_and(|e| e == "pem")
                && path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !keep.iter().any(|k| k == n));
            if stale {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(())
    }
}

fn write_atomically(dir: &Path, name: &str, contents: &[u8]) -> io::Result<()> {
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, contents)?;
    std::fs::rename(&temporary, dir.join(name))
}

/// How the client's platform keys are doing: read it to alert on a refresh that keeps
/// failing long before the old certificates expire.
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
}

#[derive(Default)]
struct Bookkeeping {
    last_attempt: Option<Instant>,
    last_success: Option<SystemTime>,
    last_error: Option<(SystemTime, String)>,
    downloads: u64,
    /// PEMs of the certificates in the ring, for the store.
    pems: BTreeMap<String, String>,
}

/// One client's platform keys and their refresh state.
pub(crate) struct KeyRing {
    keys: RwLock<Arc<PlatformKeys>>,
    bookkeeping: Mutex<Bookkeeping>,
    /// Held for the whole of a download: concurrent triggers wait and then find the keys.
    pub(crate) download: tokio::sync::Mutex<()>,
}

impl KeyRing {
    pub(crate) fn new(keys: PlatformKeys, stored: BTreeMap<String, String>) -> Self {
        KeyRing {
            keys: RwLock::new(Arc::new(keys)),
            bookkeeping: Mutex::new(Bookkeeping {
                pems: stored,
                ..Bookkeeping::default()
            }),
            download: tokio::sync::Mutex::new(()),
        }
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

    pub(crate) fn record_failure(&self, error: &crate::Error) {
        tracing::warn!(%error, "platform certificate refresh failed; keeping the current keys");
        self.bookkeeping().last_error = Some((SystemTime::now(), error.to_string()));
    }

    /// Adds downloaded certificates; certificates that have expired by `now` leave the ring,
    /// others stay until they do. Returns what a store should keep.
    pub(crate) fn install(
        &self,
        downloaded: Vec<DownloadedCertificate>,
        now: i64,
    ) -> Vec<StoredCertificate> {
        let mut keys = PlatformKeys::clone(&self.snapshot());
        let mut book = self.bookkeeping();
        for certificate in downloaded {
            book.pems
                .insert(certificate.key.id().to_owned(), certificate.pem);
            keys.insert(certificate.key);
        }
        keys.retain(|key| {
            !matches!(key.kind(), PlatformKeyKind::Certificate { .. }) || key.is_valid_at(now)
        });
        book.pems.retain(|serial, _| keys.get(serial).is_some());
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        book.pems
            .iter()
            .map(|(serial, pem)| StoredCertificate {
                serial: serial.clone(),
                pem: pem.clone(),
            })
            .collect()
    }

    pub(crate) fn status(&self) -> PlatformKeyStatus {
        let key_ids = self
            .snapshot()
            .iter()
            .map(|key| key.id().to_owned())
            .collect();
        let book = self.bookkeeping();
        PlatformKeyStatus {
            last_success: book.last_success,
            last_error: book.last_error.clone(),
            downloads: book.downloads,
            key_ids,
        }
    }
}
