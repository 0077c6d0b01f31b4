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
use wxpay::apis::marketing::favor::{SendCoupon, SendCouponRequired};
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
        .send(SendCoupon::new(SendCouponRequired {
            openid: SANDBOX_OPENID.into(),
            appid: SANDBOX_APPID.into(),
            out_request_no: out_request_no.into(),
            stock_creator_mchid: client.mchid().into(),
            stock_id: sandbox.favor_stock_ids()[0].clone(),
        }))
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
        let Ok(Event::CouponUse(coupon)) = Event::of(notification) else {
            panic!("{notification:?}");
        };
        assert_eq!(coupon.coupon_id.as_ref(), Some(&coupons[0]));
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

/// Each of the spec's event types delivered to this receiver (generated from
/// `xtask/events.tsv` by `cargo xtask codegen`).
#[cfg(feature = "axum")]
mod every_event;

/// Resources in the platform's documented shapes for the event types the table types.
#[cfg(feature = "axum")]
mod documented;

/// An axum receiver of the sandbox's notifications: the extractor verifies and decrypts each,
/// the handler types it with [`Event::of`] and hands it over, and acknowledges it.
#[cfg(feature = "axum")]
struct EventReceiver {
    sandbox: Sandbox,
    events: tokio::sync::mpsc::UnboundedReceiver<Result<Event, NotificationError>>,
    sent: usize,
}

#[cfg(feature = "axum")]
impl EventReceiver {
    async fn start() -> EventReceiver {
        use axum::extract::FromRef;

        #[derive(Clone)]
        struct App {
            client: Client,
            events: tokio::sync::mpsc::UnboundedSender<Result<Event, NotificationError>>,
        }
        impl FromRef<App> for Client {
            fn from_ref(app: &App) -> Client {
                app.client.clone()
            }
        }
        async fn notify(State(app): State<App>, notification: Notification) -> Reply {
            let event = Event::of(&notification);
            let reply = match &event {
                Ok(_) => Reply::success(),
                Err(error) => Reply::rejecting(&Error::from(error.clone())),
            };
            let _ = app.events.send(event);
            reply
        }

        let sandbox = Sandbox::start().await.unwrap();
        let apiv3_key = sandbox.merchant().apiv3_key.expose().to_owned();
        let (sender, events) = tokio::sync::mpsc::unbounded_channel();
        let app = App {
            client: with_apiv3_key(&sandbox, CryptoBackend::default(), &apiv3_key),
            events: sender,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        let router = Router::new().route("/notify", post(notify)).with_state(app);
        tokio::spawn(async move { axum::serve(listener, router).await });
        sandbox.set_notify_url(Some(&url)).unwrap();
        EventReceiver {
            sandbox,
            events,
            sent: 0,
        }
    }

    /// Has the sandbox send `event_type` with `resource` and returns it as the handler typed
    /// it, after checking that it prints as `{"event_type", "resource"}`.
    async fn deliver(&mut self, event_type: &str, resource: wxpay_sandbox::EventResource) -> Event {
        let id = self.sandbox.notify(event_type, resource).await.unwrap();
        assert!(id.is_some(), "{event_type}: sent");
        self.sent += 1;
        // Bounded: a delivery to loopback takes milliseconds; a lost one fails here.
        let received = tokio::time::timeout(std::time::Duration::from_secs(30), self.events.recv())
            .await
            .unwrap_or_else(|_| panic!("{event_type}: not received"))
            .unwrap_or_else(|| panic!("{event_type}: the receiver stopped"));
        let event = received.unwrap_or_else(|error| panic!("{event_type}: {error}"));
        assert_eq!(event.event_type().as_str(), event_type);
        let printed = serde_json::to_value(&event).unwrap();
        assert_eq!(printed["event_type"], event_type, "{printed}");
        assert!(printed["resource"].is_object(), "{event_type}: {printed}");
        event
    }

    /// Waits for the sandbox to finish its deliveries and returns how many were acknowledged
    /// at the first attempt.
    async fn finish(self) -> usize {
        let deliveries = self.sandbox.settled_deliveries().await;
        assert_eq!(deliveries.len(), self.sent);
        deliveries
            .iter()
            .filter(|d| d.acknowledged && d.attempts == [Some(204)])
            .count()
    }
}

/// Pays `out_trade_no` (placed before) with the sandbox's control and refunds it in full: a
/// `TRANSACTION.SUCCESS`, then `REFUND.SUCCESS` (or `REFUND.ABNORMAL`), one at a time.
async fn pay_and_refund(sandbox: &Sandbox, client: &Client, out_trade_no: &str, abnormal: bool) {
    use wxpay::apis::refund::domestic::{
        Amount, CreateRefund, CreateRefundRequired, QueryRefund, QueryRefundRequired,
    };
    sandbox.pay_order(out_trade_no).unwrap();
    sandbox.settled_deliveries().await;
    let out_refund_no = format!("{out_trade_no}r");
    client
        .send(
            CreateRefund::new(CreateRefundRequired {
                amount: Amount::cny(100, 100),
                out_refund_no: out_refund_no.clone(),
            })
            .out_trade_no(out_trade_no),
        )
        .await
        .unwrap();
    if abnormal {
        sandbox.make_refund_abnormal(&out_refund_no).unwrap();
    } else {
        client
            .send(QueryRefund::new(QueryRefundRequired {
                out_refund_no: (&out_refund_no).into(),
            }))
            .await
            .unwrap();
    }
    sandbox.settled_deliveries().await;
}

#[tokio::test]
async fn payment_and_refund_notifications_verify_across_a_certificate_rotation_both_ways() {
    use wxpay::apis::pay::transactions::{Amount, CreateNativeOrder, CreateNativeOrderRequired};
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .unwrap();
    // No cooldown: the download at the start must not stop the one an unknown serial asks for.
    let client = wxpay::ClientBuilder::from_settings(sandbox.settings())
        .unwrap()
        .unknown_serial_cooldown(std::time::Duration::ZERO)
        .build()
        .unwrap();
    let (url, outcomes) = serve(client.clone()).await;
    sandbox.set_notify_url(Some(&url)).unwrap();
    let place = |no: &'static str| {
        client.send(CreateNativeOrder::new(CreateNativeOrderRequired {
            amount: Amount::cny(100),
            appid: SANDBOX_APPID.into(),
            description: "Image形象店-深圳腾大-QQ公仔".into(),
            mchid: client.mchid().into(),
            notify_url: "https://merchant.example.com/wxpay/notify".into(),
            out_trade_no: no.into(),
        }))
    };
    let old = sandbox.response_serial();

    // Old to new: the client has learned the newer certificate, the older one still signs.
    let newer = sandbox
        .rotate_platform_certificate(std::time::Duration::from_secs(3600))
        .unwrap();
    client.refresh_platform_certificates().await.unwrap();
    assert!(client.platform_keys().get(&newer).is_some());
    place("rotation0001").await.unwrap();
    assert_eq!(sandbox.response_serial(), old, "the older one signs");
    pay_and_refund(&sandbox, &client, "rotation0001", false).await;

    // New to unknown: a certificate the client has never seen signs at once; the
    // notification itself is what makes the client download it.
    place("rotation0002").await.unwrap();
    let newest = sandbox
        .rotate_platform_certificate(std::time::Duration::ZERO)
        .unwrap();
    assert_eq!(sandbox.response_serial(), newest);
    assert!(client.platform_keys().get(&newest).is_none());
    let downloads = client.platform_key_status().downloads;
    pay_and_refund(&sandbox, &client, "rotation0002", true).await;
    assert!(client.platform_keys().get(&newest).is_some());
    assert!(client.platform_key_status().downloads > downloads);

    let outcomes = outcomes.lock().unwrap();
    let events: Vec<&str> = outcomes
        .iter()
        .map(|outcome| match outcome {
            Ok(n) => n.event_type.as_str(),
            Err(error) => panic!("refused: {error}"),
        })
        .collect();
    assert_eq!(
        events,
        [
            "TRANSACTION.SUCCESS",
            "REFUND.SUCCESS",
            "TRANSACTION.SUCCESS",
            "REFUND.ABNORMAL"
        ]
    );
    for outcome in outcomes.iter() {
        let ok = match Event::of(outcome.as_ref().unwrap()) {
            Ok(Event::TransactionSuccess(paid)) => paid.out_trade_no.starts_with("rotation"),
            Ok(Event::RefundSuccess(refund) | Event::RefundAbnormal(refund)) => {
                refund.out_refund_no.starts_with("rotation")
            }
            _ => false,
        };
        assert!(ok, "{outcome:?}");
    }
}
