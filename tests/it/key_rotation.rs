//! Platform certificate rotation: the client follows it with one download, survives failed
//! and forged downloads with its old keys, and says what happened in its status.

use std::time::Duration;

use wxpay::apis::marketing::favor::{QueryStock, QueryStockRequired};
use wxpay::certificates::CertificateError;
use wxpay::{Client, ClientBuilder, Error, VerificationError};
use wxpay_sandbox::{KeyMode, Sandbox};

async fn certificate_sandbox() -> Sandbox {
    Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("sandbox")
}

/// A certificate merchant: the initial certificate plus the APIv3 key.
fn client(sandbox: &Sandbox, cooldown: Duration) -> Client {
    certificate_merchant(sandbox)
        .unknown_serial_cooldown(cooldown)
        .build()
        .expect("client")
}

fn certificate_merchant(sandbox: &Sandbox) -> ClientBuilder {
    let merchant = sandbox.merchant();
    Client::builder()
        .mchid(&merchant.mchid)
        .merchant_key(
            &merchant.merchant_serial,
            merchant
                .merchant_private_key_pem
                .as_ref()
                .expect("generated key")
                .expose(),
        )
        .platform_certificate(
            merchant
                .platform_certificate_pem
                .as_deref()
                .expect("certificate mode"),
        )
        .apiv3_key(merchant.apiv3_key.expose())
        .base_url(sandbox.base_url())
}

fn query(sandbox: &Sandbox) -> QueryStock {
    QueryStock::new(QueryStockRequired {
        stock_id: sandbox.favor_stock_ids()[0].clone(),
        stock_creator_mchid: sandbox.merchant().mchid.clone(),
    })
}

// Paused time (so one thread): the overlap passes on tokio's clock, which the sandbox times
// rotations by, without a wall-clock wait. The 64 calls still all wait on the same unknown
// serial at once, which is what the one download is about.
#[tokio::test(start_paused = true)]
async fn an_unknown_serial_costs_exactly_one_download_for_64_concurrent_answers() {
    let sandbox = certificate_sandbox().await;
    let client = client(&sandbox, Duration::from_secs(3600));
    client
        .send(query(&sandbox))
        .await
        .expect("before the rotation");

    // Past the overlap the platform signs with the new key; the old certificate is still
    // listed (until twice the overlap) and signs the download that teaches the new one.
    let overlap = Duration::from_secs(3);
    let new_serial = sandbox
        .rotate_platform_certificate(overlap)
        .expect("rotate");
    tokio::time::sleep(overlap + Duration::from_millis(1)).await;
    assert_eq!(sandbox.response_serial(), new_serial);
    assert!(client.platform_keys().get(&new_serial).is_none());

    let calls: Vec<_> = (0..64)
        .map(|_| {
            let (client, query) = (client.clone(), query(&sandbox));
            tokio::spawn(async move { client.send(query).await })
        })
        .collect();
    for call in calls {
        call.await
            .expect("task")
            .expect("every call succeeds after the one refresh");
    }
    assert_eq!(client.platform_key_status().downloads, 1);
    assert_eq!(sandbox.certificate_downloads(), 1);
    assert!(client.platform_keys().get(&new_serial).is_some());
    // The old certificate stays until it expires.
    assert_eq!(client.platform_keys().len(), 2);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_old_keys_and_shows_in_the_status() {
    let sandbox = certificate_sandbox().await;
    let client = client(&sandbox, Duration::ZERO);
    let before = client.platform_key_status().key_ids;

    sandbox.fail_certificate_downloads(true);
    let err = client
        .refresh_platform_certificates()
        .await
        .expect_err("download fails");
    assert!(matches!(&err, Error::Api(e) if e.status == 500), "{err:?}");
    let status = client.platform_key_status();
    assert_eq!(status.key_ids, before);
    let (_, message) = status.last_error.expect("the failure is visible");
    assert!(message.contains("500"), "{message}");
    client
        .send(query(&sandbox))
        .await
        .expect("the old keys still verify");

    sandbox.fail_certificate_downloads(false);
    client
        .refresh_platform_certificates()
        .await
        .expect("recovers");
    let status = client.platform_key_status();
    assert!(status.last_error.is_none());
    assert!(status.last_success.is_some());
}

#[tokio::test]
async fn a_download_that_does_not_verify_with_the_previous_ring_is_rejected() {
    let sandbox = certificate_sandbox().await;
    let client = client(&sandbox, Duration::ZERO);
    // Forged under the serial the client trusts: the signature does not match its key.
    sandbox.sign_certificate_downloads_with_unknown_key(true);
    let err = client
        .refresh_platform_certificates()
        .await
        .expect_err("forged download");
    assert!(
        matches!(
            err,
            Error::Certificates(CertificateError::Verification(
                VerificationError::BadSignature { .. }
            ))
        ),
        "{err:?}"
    );

    // Forged under a new serial that only the forged download could vouch for.
    let new_serial = sandbox
        .rotate_platform_certificate(Duration::from_secs(3600))
        .expect("rotate");

    let err = client
        .refresh_platform_certificates()
        .await
        .expect_err("forged download");

    assert!(
        matches!(err, Error::Certificates(CertificateError::Verification(_))),
        "{err:?}"
    );
    assert!(
        client.platform_keys().get(&new_serial).is_none(),
        "nothing from a forged download is trusted"
    );
    assert!(client.platform_key_status().last_error.is_some());

    sandbox.sign_certificate_downloads_with_unknown_key(false);
    client
        .refresh_platform_certificates()
        .await
        .expect("a genuine download");
    assert!(client.platform_keys().get(&new_serial).is_some());
}

#[tokio::test]
async fn the_cooldown_stops_a_flood_of_unknown_serials_from_downloading_again() {
    let sandbox = certificate_sandbox().await;
    let client = client(&sandbox, Duration::from_secs(3600));
    client
        .refresh_platform_certificates()
        .await
        .expect("download");
    // The platform now signs with a key the client cannot learn (the download it would use
    // is forged), and the cooldown forbids a second attempt anyway.
    sandbox
        .rotate_platform_certificate(Duration::ZERO)
        .expect("rotate");
    for _ in 0..5 {
        let result = client.send(query(&sandbox)).await;
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
    }
    assert_eq!(client.platform_key_status().downloads, 1);
}

#[tokio::test]
async fn the_background_refresh_learns_a_new_certificate_before_it_signs_anything() {
    let sandbox = certificate_sandbox().await;
    let client = certificate_merchant(&sandbox)
        .certificate_refresh_interval(Duration::from_millis(200))
        .build()
        .expect("client");
    // The first call starts the refresher in this runtime.
    client.send(query(&sandbox)).await.expect("call");
    let new_serial = sandbox
        .rotate_platform_certificate(Duration::from_secs(3600))
        .expect("rotate");
    // Still signed with the old key: nothing but the background refresh can teach the new one.
    for _ in 0..50 {
        if client.platform_keys().get(&new_serial).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        client.platform_keys().get(&new_serial).is_some(),
        "{:?}",
        client.platform_key_status()
    );
    assert!(client.platform_key_status().downloads >= 1);
}
