//! The SDK reading notifications the sandbox delivers: through any framework (raw headers and
//! body), through the axum extractor, with every backend and key mode, and with a wrong key.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use tokio::net::TcpListener;
use wxpay::apis::marketing::favor::SendCoupon;
use wxpay::notification::{Event, Reply};
use wxpay::{Client, CryptoBackend, Error, Notification, NotificationError, VerificationError};
use wxpay_sandbox::{
    DeliveryMode, KeyMode, NOTIFY_ATTEMPTS, SANDBOX_APPID, SANDBOX_OPENID, Sandbox,
};

type Outcomes = Arc<Mutex<Vec<Result<Notification, Error>>>>;

#[derive(Clone)]
struct Receiver {
    client: Client,
    outcomes: Outcomes,
}

/// A handler as in any framework: the raw headers and body bytes in, an HTTP answer out.
async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let outcome = receiver.client.read_notification(&headers, &body).await;
    let reply = match &outcome {
        Ok(_) => Reply::success(),
        Err(error) => Reply::rejecting(error),
    };
    receiver.outcomes.lock().unwrap().push(outcome);
    reply.into_http_response().map(axum::body::Body::from)
}

/// Starts a receiver for `client` and returns its URL and what it will have read.
async fn serve(client: Client) -> (String, Outcomes) {
    let outcomes = Outcomes::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/notify", post(receive))
        .with_state(Receiver {
            client,
            outcomes: outcomes.clone(),
        });
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, outcomes)
}

fn with_apiv3_key(sandbox: &Sandbox, backend: CryptoBackend, apiv3_key: &str) -> Client {
    let merchant = sandbox.merchant();
    let mut builder = Client::builder()
        .mchid(&merchant.mchid)
        .merchant_key(
            &merchant.merchant_serial,
            merchant.merchant_private_key_pem.as_ref().unwrap().expose(),
        )
        .apiv3_key(apiv3_key)
        .base_url(sandbox.base_url())
        .crypto_backend(backend);
    if let Some(certificate) = &merchant.platform_certificate_pem {
        builder = builder.platform_certificate(certificate);
    }
    if let (Some(id), Some(key)) = (&merchant.public_key_id, &merchant.platform_public_key_pem) {
        builder = builder.platform_public_key(id, key);
    }
    builder.build().unwrap()
}

/// Issues a favor coupon with the SDK and has the sandbox use it: one notification.
async fn use_a_coupon(sandbox: &Sandbox, client: &Client, out_request_no: &str) -> String {
    let coupon = client
        .send(SendCoupon::new(
            SANDBOX_OPENID,
            SANDBOX_APPID,
            out_request_no,
            client.mchid(),
            sandbox.favor_stock_ids()[0].clone(),
        ))
        .await
        .unwrap();
    sandbox.use_favor_coupon(&coupon.coupon_id).await.unwrap();
    coupon.coupon_id
}

fn verification_kind(outcome: &Result<Notification, Error>) -> &VerificationError {
    match outcome {
        Err(Error::Verification { kind, .. }) => kind,
        other => panic!("expected a verification error: {other:?}"),
    }
}

#[tokio::test]
async fn every_key_mode_and_backend_reads_genuine_notifications_and_refuses_bad_ones() {
    for (mode, backend) in [
        (KeyMode::Certificate, CryptoBackend::default()),
        (KeyMode::PublicKey, CryptoBackend::default()),
        (KeyMode::Both, *CryptoBackend::all().last().unwrap()),
    ] {
        let sandbox = Sandbox::builder().key_mode(mode).start().await.unwrap();
        let apiv3_key = sandbox.merchant().apiv3_key.expose().to_owned();
        let client = with_apiv3_key(&sandbox, backend, &apiv3_key);
        let (url, outcomes) = serve(client.clone()).await;
        sandbox.set_notify_url(Some(&url)).unwrap();
        sandbox.queue_delivery_modes([
            DeliveryMode::Genuine,
            DeliveryMode::Probe,
            DeliveryMode::StaleTimestamp,
            DeliveryMode::TamperedBody,
        ]);
        let mut coupons = Vec::new();
        for n in 0..4 {
            coupons.push(use_a_coupon(&sandbox, &client, &format!("e2e-{n}")).await);
            // One notification at a time, so the outcomes line up with the modes.
            sandbox.settled_deliveries().await;
        }
        let deliveries = sandbox.settled_deliveries().await;
        let outcomes = outcomes.lock().unwrap();
        let attempts = usize::try_from(NOTIFY_ATTEMPTS).unwrap();
        assert_eq!(outcomes.len(), 1 + 3 * attempts, "{mode:?}");

        let Ok(notification) = &outcomes[0] else {
            panic!("{mode:?} {}: {:?}", backend.name(), outcomes[0]);
        };
        assert_eq!(notification.id, deliveries[0].notification_id);
        let Event::CouponUse(coupon) = &notification.event else {
            panic!("{:?}", notification.event);
        };
        assert_eq!(coupon.coupon_id, coupons[0]);
        assert!(deliveries[0].acknowledged);

        let bad = &outcomes[1..];
        for (n, expected) in ["probe", "skew", "signature"].iter().enumerate() {
            let chunk = &bad[n * attempts..(n + 1) * attempts];
            for outcome in chunk {
                let kind = verification_kind(outcome);
                let matches = match *expected {
                    "probe" => *kind == VerificationError::SignatureProbe,
                    "skew" => matches!(kind, VerificationError::ClockSkew { .. }),
                    _ => matches!(kind, VerificationError::BadSignature { .. }),
                };
                assert!(matches, "{mode:?}: expected {expected}, got {kind:?}");
            }
            let delivery = &deliveries[n + 1];
            assert!(!delivery.acknowledged);
            assert!(
                delivery.attempts.iter().all(|s| *s == Some(401)),
                "{delivery:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_wrong_apiv3_key_is_a_decryption_error_and_a_retryable_failure() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = with_apiv3_key(
        &sandbox,
        CryptoBackend::default(),
        "not-the-merchant-s-apiv3-key-32b",
    );
    let (url, outcomes) = serve(client.clone()).await;
    sandbox.set_notify_url(Some(&url)).unwrap();
    use_a_coupon(&sandbox, &client, "wrong-key").await;
    let deliveries = sandbox.settled_deliveries().await;
    assert!(deliveries[0].attempts.iter().all(|s| *s == Some(400)));
    for outcome in outcomes.lock().unwrap().iter() {
        assert!(
            matches!(
                outcome,
                Err(Error::Notification(NotificationError::Decrypt))
            ),
            "{outcome:?}"
        );
    }
}

#[tokio::test]
async fn a_client_without_an_apiv3_key_cannot_read_notifications() {
    let sandbox = Sandbox::start().await.unwrap();
    let without_key = sandbox
        .settings()
        .into_iter()
        .filter(|(name, _)| name != "WXPAY_APIV3_KEY");
    let client = wxpay::ClientBuilder::from_settings(without_key)
        .unwrap()
        .build()
        .unwrap();
    let result = client.read_notification(&HeaderMap::new(), b"{}").await;
    assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
}

#[cfg(feature = "axum")]
mod extractor {
    use super::*;
    use axum::extract::FromRef;

    #[derive(Clone)]
    struct App {
        client: Client,
        ids: Arc<Mutex<Vec<String>>>,
    }

    impl FromRef<App> for Client {
        fn from_ref(app: &App) -> Client {
            app.client.clone()
        }
    }

    async fn notify(State(app): State<App>, notification: Notification) -> Reply {
        app.ids.lock().unwrap().push(notification.id);
        Reply::success()
    }

    #[tokio::test]
    async fn the_extractor_hands_over_only_verified_notifications() {
        let sandbox = Sandbox::start().await.unwrap();
        let apiv3_key = sandbox.merchant().apiv3_key.expose().to_owned();
        let client = with_apiv3_key(&sandbox, CryptoBackend::default(), &apiv3_key);
        let app = App {
            client: client.clone(),
            ids: Arc::default(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        let router = Router::new()
            .route("/notify", post(notify))
            .with_state(app.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        sandbox.set_notify_url(Some(&url)).unwrap();
        sandbox.queue_delivery_modes([DeliveryMode::Probe, DeliveryMode::Duplicate]);
        use_a_coupon(&sandbox, &client, "extractor-probe").await;
        use_a_coupon(&sandbox, &client, "extractor-duplicate").await;
        let deliveries = sandbox.settled_deliveries().await;
        let probe = deliveries
            .iter()
            .find(|d| d.mode == DeliveryMode::Probe)
            .unwrap();
        assert!(probe.attempts.iter().all(|s| *s == Some(401)));
        let duplicate: Vec<_> = deliveries
            .iter()
            .filter(|d| d.mode == DeliveryMode::Duplicate)
            .collect();
        assert_eq!(duplicate.len(), 2);
        assert!(duplicate.iter().all(|d| d.attempts == [Some(204)]));
        // The handler ran for the two genuine deliveries only: the same id twice.
        let ids = app.ids.lock().unwrap().clone();
        assert_eq!(
            ids,
            [
                duplicate[0].notification_id.clone(),
                duplicate[0].notification_id.clone()
            ]
        );
    }
}
