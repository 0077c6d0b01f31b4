//! The platform key ring of one client: a snapshot that answers are verified against, replaced
//! whole when certificates are downloaded, with the refresh bookkeeping beside it.
//!
//! Readers take an `Arc` snapshot and never wait on a download; a download holds an async
//! lock so concurrent triggers collapse into one (single flight).

use std::collections::BTreeMap;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::certificates::{CertificateError, DownloadedCertificate};
use crate::crypto::CryptoBackend;
use crate::error::CryptoError;
use crate::hex;
use crate::keys::{ApiV3Key, PlatformKey, PlatformKeyKind, PlatformKeys};
use crate::pem;

/// Where downloaded platform certificates are kept so a fleet of processes can share them and
/// start without a download. Certificates are public, so nothing secret passes through here.
///
/// A store is a cache, never a trust anchor: whoever can write to it could otherwise make the
/// client trust any key. So the client tags every certificate it saves with a MAC keyed by the
/// APIv3 key (see [`StoredCertificate::tag`]) and, when it is built, uses a stored certificate
/// only if its tag checks out; configured keys always win over stored ones. Entries it ignores
/// are listed in [`PlatformKeyStatus::warnings`].
pub trait CertificateStore: Send + Sync + 'static {
    /// The certificates stored for `mchid`, tags included (none is not an error).
    fn load(&self, mchid: &str) -> io::Result<Vec<StoredCertificate>>;
    /// Replaces what is stored for `mchid` with `certificates` (keeping their tags).
    fn save(&self, mchid: &str, certificates: &[StoredCertificate]) -> io::Result<()>;
}

/// A certificate as a [`CertificateStore`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCertificate {
    /// Serial, upper-case hex.
    pub serial: String,
    /// The certificate PEM.
    pub pem: String,
    /// The integrity tag the client wrote with it; opaque to the store, which keeps it as
    /// given. `None` for an entry without one (which the client will not use).
    ///
    /// The tag is `wxpay-store-v1:<nonce>:<mac>` (base64): AES-256-GCM with an empty plaintext
    /// (GMAC) over the merchant number, the serial and the PEM, under a key derived from the
    /// APIv3 key, so only a process holding the APIv3 key can write an entry others will use.
    pub tag: Option<String>,
}

/// The largest file the directory store reads: a certificate PEM is under 4 KiB.
const MAX_STORED_FILE: u64 = 64 << 10;

/// A [`CertificateStore`] in a directory: `<root>/<mchid>/<SERIAL>.pem`, the tag on the first
/// line and the PEM after it, so one rename replaces both and a reader never sees half an
/// entry.
///
/// Writes go to a temporary file with a random name created exclusively (never through an
/// existing file or symlink) and are renamed into place. A root, merchant directory or entry
/// that is a symbolic link is refused, not followed.
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

/// `Ok(false)` when `path` does not exist, `Ok(true)` for a real directory, an error for a
/// symbolic link or anything else.
fn real_directory(path: &Path) -> io::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is a symbolic link; refusing to follow it",
                path.display()
            ),
        )),
        Ok(meta) if meta.is_dir() => Ok(true),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not a directory", path.display()),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// `<SERIAL>` of a `<SERIAL>.pem` file name.
fn serial_of(name: &str) -> Option<&str> {
    name.strip_suffix(".pem")
        .filter(|serial| !serial.is_empty() && serial.bytes().all(|b| b.is_ascii_hexdigit()))
}

const TAG_PREFIX: &str = "wxpay-store-";

/// Splits a stored file into its tag line (if it starts with one) and the PEM.
fn split_tag(text: &str) -> (Option<&str>, &str) {
    match text.split_once('\n') {
        Some((line, pem)) if line.starts_with(TAG_PREFIX) => (Some(line.trim_end()), pem),
        _ => (None, text),
    }
}

fn read_entry(path: &Path) -> io::Result<String> {
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_STORED_FILE + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_STORED_FILE {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "too large"));
    }
    Ok(text)
}

impl CertificateStore for DirectoryStore {
    fn load(&self, mchid: &str) -> io::Result<Vec<StoredCertificate>> {
        let dir = self.merchant_dir(mchid)?;
        if !real_directory(&self.root)? || !real_directory(&dir)? {
            return Ok(Vec::new());
        }
        let mut stored = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(serial) = name.to_str().and_then(serial_of) else {
                continue;
            };
            // `file_type` does not follow links: a link, a FIFO or a directory is no entry.
            if !entry.file_type()?.is_file() {
                tracing::warn!(path = %entry.path().display(), "skipping a store entry that is not a regular file");
                continue;
            }
            match read_entry(&entry.path()) {
                Ok(text) => {
                    let (tag, pem) = split_tag(&text);
                    stored.push(StoredCertificate {
                        serial: serial.to_ascii_uppercase(),
                        pem: pem.to_owned(),
                        tag: tag.map(str::to_owned),
                    });
                }
                Err(error) => {
                    tracing::warn!(path = %entry.path().display(), %error, "skipping an unreadable store entry");
                }
            }
        }
        Ok(stored)
    }

    fn save(&self, mchid: &str, certificates: &[StoredCertificate]) -> io::Result<()> {
        let dir = self.merchant_dir(mchid)?;
        if !real_directory(&self.root)? {
            std::fs::create_dir_all(&self.root)?;
            real_directory(&self.root)?;
        }
        if !real_directory(&dir)? {
            std::fs::create_dir(&dir)?;
            real_directory(&dir)?;
        }
        let mut keep = Vec::with_capacity(certificates.len());
        for certificate in certificates {
            if serial_of(&format!("{}.pem", certificate.serial)).is_none() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a serial must be hex",
                ));
            }
            let name = format!("{}.pem", certificate.serial.to_ascii_uppercase());
            let mut contents = String::new();
            if let Some(tag) = &certificate.tag {
                if !tag.starts_with(TAG_PREFIX) || tag.contains(['\n', '\r']) {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "a tag is one wxpay-store- line",
                    ));
                }
                contents.push_str(tag);
                contents.push('\n');
            }
            contents.push_str(&certificate.pem);
            write_atomically(&dir, &name, contents.as_bytes())?;
            keep.push(name);
        }
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let stale = name
                .to_str()
                .is_some_and(|n| serial_of(n).is_some() && !keep.iter().any(|k| k == n));
            // Removing a link removes the link, never what it points to.
            if stale && !entry.file_type()?.is_dir() {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }
}

/// Writes `dir/name` by way of a temporary file with an unpredictable name, so nobody can
/// plant a link where the store is about to write.
fn write_atomically(dir: &Path, name: &str, contents: &[u8]) -> io::Result<()> {
    let mut random = [0u8; 12];
    getrandom::fill(&mut random).map_err(io::Error::other)?;
    let suffix = hex::lower(&random);
    write_through(dir, &format!(".{name}.{suffix}.tmp"), name, contents)
}

fn write_through(dir: &Path, temporary: &str, name: &str, contents: &[u8]) -> io::Result<()> {
    let target = dir.join(name);
    match std::fs::symlink_metadata(&target) {
        Ok(meta) if !meta.is_file() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is not a regular file; refusing to replace it",
                    target.display()
                ),
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let temporary = dir.join(temporary);
    // `create_new` is O_CREAT|O_EXCL: it fails on any existing name, a symlink included,
    // and never opens what a link points to.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)?;
    let written = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temporary, &target));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

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
    /// The [`CertificateStore`] of this process.
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
    /// Held for the whole of a download: concurrent triggers wait and then find the keys.
    pub(crate) download: tokio::sync::Mutex<()>,
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
            download: tokio::sync::Mutex::new(()),
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

    #[cfg(unix)]
    #[test]
    fn the_temporary_file_is_created_exclusively_never_through_a_link() {
        let dir = std::env::temp_dir().join(format!("wxpay-keyring-excl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").expect("victim");
        std::os::unix::fs::symlink(&victim, dir.join(".X.pem.tmp")).expect("link");
        let result = write_through(&dir, ".X.pem.tmp", "X.pem", b"attacker-chosen");
        assert_eq!(
            result.map_err(|e| e.kind()),
            Err(io::ErrorKind::AlreadyExists)
        );
        assert_eq!(
            std::fs::read_to_string(&victim).expect("victim"),
            "precious"
        );
        assert!(!dir.join("X.pem").exists());
        // A planted regular file at the temporary name is not written into either.
        std::fs::write(dir.join(".Y.pem.tmp"), "planted").expect("plant");
        assert!(write_through(&dir, ".Y.pem.tmp", "Y.pem", b"x").is_err());
        assert_eq!(
            std::fs::read_to_string(dir.join(".Y.pem.tmp")).expect("planted"),
            "planted"
        );
        let _ = std::fs::remove_dir_all(&dir);
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

    #[test]
    fn the_tag_line_and_the_pem_are_split_apart() {
        assert_eq!(split_tag(PEM), (None, PEM));
        let text = format!("wxpay-store-v1:a:b\r\n{PEM}");
        assert_eq!(split_tag(&text), (Some("wxpay-store-v1:a:b"), PEM));
    }
}
