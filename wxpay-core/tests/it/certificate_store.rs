//! The certificate store is a cache, not a trust anchor: what an attacker who can write to the
//! store's directory can plant, and what the client does with it.
//!
//! Each test builds a client offline (no download happens at build) over a store directory
//! the test has prepared as the attacker would.

use crate::common;

use std::path::{Path, PathBuf};

use common::{config, key, s};
use wxpay_core::{CertificateStore, Client, DirectoryStore, MerchantKey, StoredCertificate};

const PLATFORM_SERIAL: &str = "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E";

/// A fresh directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("wxpay-store-attack-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mchid() -> String {
    s(&config(), "mchid").to_owned()
}

fn merchant() -> wxpay_core::ClientBuilder {
    let config = config();
    Client::builder()
        .mchid(s(&config, "mchid"))
        .merchant_key(s(&config, "merchant_serial"), key("TEST_merchant_key.pem"))
}

fn apiv3_key() -> String {
    s(&config(), "apiv3_key").to_owned()
}

/// Writes `pem` where the store keeps the certificate `serial`, as an attacker with write
/// access to the directory would.
fn plant(root: &Path, serial: &str, pem: &str) {
    let dir = root.join(mchid());
    std::fs::create_dir_all(&dir).expect("merchant directory");
    std::fs::write(dir.join(format!("{serial}.pem")), pem).expect("planted");
}

/// A client built by `builder` over a store in which `planted` (a fixture) was planted under
/// the platform serial. The scratch directory lives as long as the returned guard.
fn over_planted_store(
    name: &str,
    planted: &str,
    builder: wxpay_core::ClientBuilder,
) -> (Scratch, Client) {
    let scratch = Scratch::new(name);
    plant(scratch.path(), PLATFORM_SERIAL, &key(planted));
    let client = builder
        .certificate_store(DirectoryStore::new(scratch.path()))
        .build()
        .expect("client");
    (scratch, client)
}

/// Whether the status lists an ignored entry for the platform serial.
fn reports_the_planted_entry(client: &Client) -> bool {
    client
        .platform_key_status()
        .warnings
        .iter()
        .any(|w| w.to_string().contains(PLATFORM_SERIAL))
}

/// Whether the ring's key named `serial` verifies what the genuine platform key signs.
fn verifies_genuine_platform_signatures(client: &Client, serial: &str) -> bool {
    let platform = MerchantKey::from_pem("01", &key("TEST_platform_key.pem")).expect("key");
    let signature = platform.sign(b"genuine answer").expect("sign");
    client
        .platform_keys()
        .get(serial)
        .is_some_and(|key| key.verify(b"genuine answer", &signature))
}

#[test]
fn a_planted_certificate_is_not_trusted_by_a_public_key_merchant() {
    let (_scratch, client) = over_planted_store(
        "public-key",
        "TEST_platform_cert.pem",
        merchant()
            .platform_public_key(
                s(&config(), "platform_public_key_id"),
                key("TEST_platform_pub.pem"),
            )
            .apiv3_key(apiv3_key()),
    );
    assert_eq!(
        client.platform_key_status().key_ids,
        vec![s(&config(), "platform_public_key_id").to_owned()],
        "only the configured public key is trusted"
    );
    assert!(
        reports_the_planted_entry(&client),
        "the ignored entry is reported"
    );
}

#[test]
fn a_planted_certificate_is_not_trusted_on_first_use_either() {
    // No configured platform key: the store is all the client would have.
    let (_scratch, client) = over_planted_store(
        "apiv3-only",
        "TEST_platform_cert.pem",
        merchant().apiv3_key(apiv3_key()),
    );
    assert!(
        client.platform_keys().is_empty(),
        "an untagged entry is ignored"
    );
    assert_eq!(client.platform_key_status().warnings.len(), 1);
}

#[test]
fn a_planted_certificate_with_the_pinned_serial_does_not_replace_the_pinned_one() {
    let (_scratch, client) = over_planted_store(
        "pinned",
        "TEST_forged_platform_cert.pem",
        merchant()
            .platform_certificate(key("TEST_platform_cert.pem"))
            .apiv3_key(apiv3_key()),
    );
    assert_eq!(client.platform_keys().len(), 1);
    assert!(
        verifies_genuine_platform_signatures(&client, PLATFORM_SERIAL),
        "the pinned certificate still verifies genuine answers"
    );
    assert!(reports_the_planted_entry(&client));
}

#[test]
fn a_store_is_ignored_without_the_apiv3_key_to_check_it() {
    // A merchant without the APIv3 key cannot check tags: it uses what it is given.
    let (_scratch, client) = over_planted_store(
        "no-apiv3",
        "TEST_forged_platform_cert.pem",
        merchant().platform_public_key(
            s(&config(), "platform_public_key_id"),
            key("TEST_platform_pub.pem"),
        ),
    );
    assert_eq!(client.platform_keys().len(), 1);
    assert!(client.platform_keys().get(PLATFORM_SERIAL).is_none());
}

fn certificate() -> StoredCertificate {
    StoredCertificate {
        serial: PLATFORM_SERIAL.into(),
        pem: key("TEST_platform_cert.pem"),
        tag: Some("wxpay-store-v1:test".into()),
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_at_the_old_predictable_temporary_name_is_not_followed() {
    let scratch = Scratch::new("temp-symlink");
    let victim = scratch.path().join("victim");
    std::fs::write(&victim, "precious").expect("victim");
    let root = scratch.path().join("store");
    let dir = root.join(mchid());
    std::fs::create_dir_all(&dir).expect("dir");
    // The name the store used to write to first: `.<SERIAL>.pem.<pid>.tmp`.
    let predictable = dir.join(format!(".{PLATFORM_SERIAL}.pem.{}.tmp", std::process::id()));
    std::os::unix::fs::symlink(&victim, &predictable).expect("symlink");
    DirectoryStore::new(&root)
        .save(&mchid(), &[certificate()])
        .expect("saved under another name");
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );
    let stored = DirectoryStore::new(&root).load(&mchid()).expect("load");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].pem, key("TEST_platform_cert.pem"));
}

#[cfg(unix)]
#[test]
fn a_symlink_at_the_target_is_refused_and_its_target_untouched() {
    let scratch = Scratch::new("target-symlink");
    let victim = scratch.path().join("victim");
    std::fs::write(&victim, "precious").expect("victim");
    let root = scratch.path().join("store");
    let dir = root.join(mchid());
    std::fs::create_dir_all(&dir).expect("dir");
    let target = dir.join(format!("{PLATFORM_SERIAL}.pem"));
    std::os::unix::fs::symlink(&victim, &target).expect("symlink");
    let store = DirectoryStore::new(&root);
    assert!(store.save(&mchid(), &[certificate()]).is_err());
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );
    assert!(
        std::fs::symlink_metadata(&target)
            .expect("still there")
            .file_type()
            .is_symlink()
    );
    // Nor is a symlinked entry read.
    std::fs::write(&victim, key("TEST_platform_cert.pem")).expect("victim");
    assert!(store.load(&mchid()).expect("load").is_empty());
}

#[cfg(unix)]
#[test]
fn a_symlinked_store_root_or_merchant_directory_is_refused() {
    let scratch = Scratch::new("root-symlink");
    let elsewhere = scratch.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("elsewhere");
    let root = scratch.path().join("store");
    std::os::unix::fs::symlink(&elsewhere, &root).expect("symlink");
    plant(&elsewhere, PLATFORM_SERIAL, &key("TEST_platform_cert.pem"));
    let store = DirectoryStore::new(&root);
    assert!(store.load(&mchid()).is_err());
    assert!(store.save(&mchid(), &[certificate()]).is_err());
    let planted = elsewhere
        .join(mchid())
        .join(format!("{PLATFORM_SERIAL}.pem"));
    assert_eq!(
        std::fs::read_to_string(&planted).expect("planted"),
        key("TEST_platform_cert.pem"),
        "nothing written through the link"
    );
    assert_eq!(
        std::fs::read_dir(elsewhere.join(mchid()))
            .expect("dir")
            .count(),
        1
    );

    // The merchant's directory as a link.
    let real_root = scratch.path().join("real");
    std::fs::create_dir_all(&real_root).expect("root");
    std::os::unix::fs::symlink(elsewhere.join(mchid()), real_root.join(mchid())).expect("link");
    let store = DirectoryStore::new(&real_root);
    assert!(store.load(&mchid()).is_err());
    assert!(store.save(&mchid(), &[certificate()]).is_err());
}

#[test]
fn only_regular_files_of_a_certificates_size_are_read() {
    let scratch = Scratch::new("odd-entries");
    let dir = scratch.path().join(mchid());
    // A directory where an entry would be, and a file far larger than any certificate.
    std::fs::create_dir_all(dir.join("0A.pem")).expect("directory entry");
    std::fs::write(dir.join("0B.pem"), "A".repeat(1 << 20)).expect("large entry");
    // And names that are no entry at all.
    std::fs::write(dir.join("notes.txt"), key("TEST_platform_cert.pem")).expect("other file");
    std::fs::write(dir.join("not-hex.pem"), key("TEST_platform_cert.pem")).expect("other name");
    let stored = DirectoryStore::new(scratch.path())
        .load(&mchid())
        .expect("load");
    assert!(stored.is_empty(), "{stored:?}");
}
