//! The platform key lifecycle against the sandbox: first download, public-key-only merchants,
//! the certificate store, several merchants in one process, expired certificates.

use crate::common;

use std::time::Duration;

use common::{client_for, merchant_builder};
use wxpay::apis::marketing::favor::{PauseStock, PauseStockRequired};
use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon, SendMultiuseCouponRequired};
use wxpay::{
    CertificateStore, CryptoBackend, DirectoryStore, Error, PlatformKeyKind, RequestError,
    VerificationError,
};
use wxpay_sandbox::{KeyMode, Sandbox};

fn pause(sandbox: &Sandbox) -> PauseStock {
    PauseStock::new(PauseStockRequired {
        stock_id: sandbox.favor_stock_ids()[0].clone(),
        stock_creator_mchid: sandbox.merchant().mchid.clone(),
    })
}

fn multiuse(sandbox: &Sandbox, n: &str) -> SendMultiuseCoupon {
    SendMultiuseCoupon::new(SendMultiuseCouponRequired {
        openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
        appid: "wxd678efh567hg6787".into(),
        card_type: CardType::IdCard,
        id_card_number: "110101199003072316".into(),
        out_request_no: n.into(),
        stock_id: sandbox.multiuse_stock_ids()[0].clone(),
        user_name: "张三".into(),
    })
    .amount(100)
}

/// Only the merchant key and the APIv3 key: the platform certificates come by download.
fn certificate_less_builder(sandbox: &Sandbox) -> wxpay::ClientBuilder {
    merchant_builder(sandbox).apiv3_key(sandbox.merchant().apiv3_key.expose())
}

#[tokio::test]
async fn a_merchant_configured_with_only_the_apiv3_key_downloads_certificates_first() {
    for &backend in CryptoBackend::all() {
        // A sandbox per backend: the pause below is a state change the second would repeat.
        let sandbox = Sandbox::builder()
            .key_mode(KeyMode::Certificate)
            .start()
            .await
            .expect("sandbox");
        let client = certificate_less_builder(&sandbox)
            .crypto_backend(backend)
            .build()
            .expect("client");
        assert!(client.platform_keys().is_empty());
        // The first call downloads, trusts the download once, and then verifies the answer.
        client
            .send(multiuse(&sandbox, &format!("first-{backend:?}")))
            .await
            .expect("send");
        let status = client.platform_key_status();
        assert_eq!(status.downloads, 1);
        assert!(status.last_success.is_some());
        assert!(status.last_error.is_none());
        let serial = sandbox
            .merchant()
            .platform_certificate_serial
            .clone()
            .expect("certificate mode");
        assert_eq!(status.key_ids, vec![serial]);
        // Later calls use the ring they have.
        client.send(pause(&sandbox)).await.expect("pause");
        assert_eq!(client.platform_key_status().downloads, 1);
    }
}

#[tokio::test]
async fn a_public_key_only_merchant_works_without_the_certificate_endpoint() {
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::PublicKey)
        .start()
        .await
        .expect("sandbox");
    let merchant = sandbox.merchant();
    let client = client_for(&sandbox, CryptoBackend::default());
    // Even with the APIv3 key configured, the 404 of /v3/certificates is not an error.
    let with_apiv3 = certificate_less_builder(&sandbox)
        .platform_public_key(
            merchant.public_key_id.as_deref().expect("id"),
            merchant.platform_public_key_pem.as_deref().expect("key"),
        )
        .build()
        .expect("client");
    with_apiv3
        .refresh_platform_certificates()
        .await
        .expect("404 with a public key is fine");
    let status = with_apiv3.platform_key_status();
    assert!(status.last_error.is_none(), "{status:?}");
    assert_eq!(
        status.key_ids,
        vec![merchant.public_key_id.clone().expect("id")]
    );

    for c in [&client, &with_apiv3] {
        c.send(multiuse(&sandbox, "pk"))
            .await
            .expect("encrypted with the public key");
        assert_eq!(
            c.encryption_key().expect("key").kind(),
            PlatformKeyKind::PublicKey,
            "encryption uses the public key"
        );
    }
    with_apiv3.send(pause(&sandbox)).await.expect("pause");
}

#[tokio::test]
async fn a_public_key_only_merchant_without_a_key_cannot_trust_anything() {
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::PublicKey)
        .start()
        .await
        .expect("sandbox");
    let client = certificate_less_builder(&sandbox).build().expect("client");
    // No certificates to download and no public key: even the platform's 404 is signed by a
    // key the client cannot know, so the call fails, the status says so, and nothing is trusted.
    let result = client.send(pause(&sandbox)).await;
    assert!(
        matches!(
            &result,
            Err(Error::Verification {
                kind: VerificationError::UnknownSerial(_),
                ..
            })
        ),
        "{result:?}"
    );
    let status = client.platform_key_status();
    assert!(status.last_error.is_some());
    assert!(client.platform_keys().is_empty());
}

#[tokio::test]
async fn stored_certificates_let_a_second_process_start_without_a_download() {
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("sandbox");
    let dir = std::env::temp_dir().join(format!("wxpay-store-{}-{}", std::process::id(), line!()));
    let first = certificate_less_builder(&sandbox)
        .certificate_store(DirectoryStore::new(&dir))
        .build()
        .expect("client");
    first.send(pause(&sandbox)).await.expect("first process");
    assert_eq!(first.platform_key_status().downloads, 1);

    let serial = sandbox
        .merchant()
        .platform_certificate_serial
        .clone()
        .expect("serial");
    let stored = DirectoryStore::new(&dir)
        .load(&sandbox.merchant().mchid)
        .expect("load");
    assert_eq!(stored.len(), 1);
    assert!(
        dir.join(&sandbox.merchant().mchid)
            .join(format!("{serial}.pem"))
            .exists()
    );

    let second = certificate_less_builder(&sandbox)
        .certificate_store(DirectoryStore::new(&dir))
        .build()
        .expect("client");
    assert_eq!(second.platform_key_status().key_ids, vec![serial]);
    second
        .send(multiuse(&sandbox, "second"))
        .await
        .expect("second process");
    assert_eq!(
        second.platform_key_status().downloads,
        0,
        "started from the store"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn two_merchants_in_one_process_do_not_see_each_others_keys() {
    let a = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("a");
    let b = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("b");
    let client_a = certificate_less_builder(&a).build().expect("client a");
    let client_b = certificate_less_builder(&b).build().expect("client b");
    client_a.send(pause(&a)).await.expect("a works");
    client_b.send(pause(&b)).await.expect("b works");
    assert_ne!(
        client_a.platform_key_status().key_ids,
        client_b.platform_key_status().key_ids
    );

    // A's client pointed at B's platform: B's answers are signed by a key A does not trust,
    // and A's download (to look for it) is not trusted either.
    let a_keys_at_b = merchant_builder(&a)
        .platform_certificate(
            a.merchant()
                .platform_certificate_pem
                .as_deref()
                .expect("cert"),
        )
        .base_url(b.base_url())
        .build()
        .expect("client");
    let result = a_keys_at_b.send(pause(&b)).await;
    assert!(
        matches!(result, Err(Error::Api(ref e)) if e.code == "SIGN_ERROR"),
        "B does not know A: {result:?}"
    );
}

#[tokio::test]
async fn an_expired_certificate_is_never_used_to_encrypt() {
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("sandbox");
    let client = client_for(&sandbox, CryptoBackend::default());
    let keys = client.platform_keys();
    let PlatformKeyKind::Certificate { not_after, .. } = keys.iter().next().expect("a key").kind()
    else {
        panic!("certificate mode");
    };
    // The same ring, asked after the certificate's expiry, offers nothing to encrypt with.
    assert!(keys.encryption_key(not_after + 1).is_none());
    let mut writer = wxpay::RequestWriter::new(http::Method::POST, Some(&keys), not_after + 1);
    let err = writer
        .encrypt("110101199003072316")
        .expect_err("no valid key");
    assert!(matches!(err, RequestError::NoEncryptionKey), "{err:?}");
    assert!(keys.encryption_key(not_after).is_some());
}

#[tokio::test]
async fn an_unknown_serial_without_an_apiv3_key_is_reported_without_a_download() {
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("sandbox");
    let other = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("other");
    // Trusts the other platform's certificate only.
    let client = merchant_builder(&sandbox)
        .platform_certificate(
            other
                .merchant()
                .platform_certificate_pem
                .as_deref()
                .expect("cert"),
        )
        .unknown_serial_cooldown(Duration::from_secs(3600))
        .build()
        .expect("client");
    let result = client.send(pause(&sandbox)).await;
    assert!(
        matches!(
            result,
            Err(Error::Verification {
                kind: VerificationError::UnknownSerial(_),
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(client.platform_key_status().downloads, 0);
}

/// A first process downloads and stores; returns the store's directory and the entry's path.
async fn stored_entry(sandbox: &Sandbox, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("wxpay-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = certificate_less_builder(sandbox)
        .certificate_store(DirectoryStore::new(&dir))
        .build()
        .expect("client");
    first.send(pause(sandbox)).await.expect("first process");
    let serial = sandbox
        .merchant()
        .platform_certificate_serial
        .clone()
        .expect("serial");
    let entry = dir
        .join(&sandbox.merchant().mchid)
        .join(format!("{serial}.pem"));
    (dir, entry)
}

#[tokio::test]
async fn a_tampered_store_entry_is_ignored_and_reported() {
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("sandbox");
    let (dir, entry) = stored_entry(&sandbox, "tampered").await;
    let genuine = std::fs::read_to_string(&entry).expect("entry");
    let (tag, pem) = genuine.split_once('\n').expect("a tag line, then the PEM");
    assert!(tag.starts_with("wxpay-store-v1:"), "{tag}");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    // A flipped byte of the tag, the PEM without its tag, and the tag over another certificate.
    let flipped = {
        let mut bytes = tag.as_bytes().to_vec();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).expect("ascii")
    };
    let other = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("other platform");
    let other_pem = other
        .merchant()
        .platform_certificate_pem
        .clone()
        .expect("pem");
    for (what, contents) in [
        ("flipped tag", format!("{flipped}\n{pem}")),
        ("no tag", pem.to_owned()),
        ("another certificate", format!("{tag}\n{other_pem}")),
    ] {
        std::fs::write(&entry, contents).expect("tamper");
        let client = certificate_less_builder(&sandbox)
            .certificate_store(DirectoryStore::new(&dir))
            .build()
            .expect("client");
        assert!(client.platform_keys().is_empty(), "{what}: not trusted");
        let status = client.platform_key_status();
        assert_eq!(status.warnings.len(), 1, "{what}: {status:?}");
        // It downloads instead, and the store is whole again.
        client.refresh_platform_certificates().await.expect(what);
        let status = client.platform_key_status();
        assert_eq!(status.downloads, 1, "{what}");
        assert!(
            status.warnings.is_empty(),
            "{what}: the store was rewritten: {status:?}"
        );
    }
    let restored = certificate_less_builder(&sandbox)
        .certificate_store(DirectoryStore::new(&dir))
        .build()
        .expect("client");
    assert_eq!(
        restored.platform_keys().len(),
        1,
        "rewritten with a good tag"
    );
    assert!(restored.platform_key_status().warnings.is_empty());

    // Another merchant's APIv3 key cannot vouch for this merchant's entries.
    let wrong_key = merchant_builder(&sandbox)
        .apiv3_key("TESTotherkey0123456789ABCDEFGHIJ")
        .certificate_store(DirectoryStore::new(&dir))
        .build()
        .expect("client");
    assert!(wrong_key.platform_keys().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
