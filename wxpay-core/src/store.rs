//! Where platform certificates are kept between processes: the [`CertificateStore`] trait, the
//! entries it keeps, and [`DirectoryStore`]. A store is a cache; what the client trusts of it
//! is decided by the key ring with the store's seal.

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use crate::hex;

/// Where downloaded platform certificates are kept so a fleet of processes can share them and
/// start without a download. Certificates are public, so nothing secret passes through here.
///
/// A store is a cache, never a trust anchor: whoever can write to it could otherwise make the
/// client trust any key. So the client tags every certificate it saves with a MAC keyed by the
/// APIv3 key (see [`StoredCertificate::tag`]) and, when it is built, uses a stored certificate
/// only if its tag checks out; configured keys always win over stored ones. Entries it ignores
/// are listed in [`PlatformKeyStatus::warnings`](crate::PlatformKeyStatus::warnings).
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
/// # #[cfg(feature = "client")]
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

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

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

    #[test]
    fn the_tag_line_and_the_pem_are_split_apart() {
        assert_eq!(split_tag(PEM), (None, PEM));
        let text = format!("wxpay-store-v1:a:b\r\n{PEM}");
        assert_eq!(split_tag(&text), (Some("wxpay-store-v1:a:b"), PEM));
    }
}
