//! Notifications handled once across four receivers sharing one Redis, however often and
//! wherever the platform delivers them, with handlers that fail and a Redis that goes away.
//!
//! The platform's side is driven here: each delivery is signed with the TEST platform key and
//! repeated until a receiver acknowledges it (the platform's day of retries, compressed), and
//! the platform may deliver one notification several times.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use wxpay_core::notification::{Claim, NotificationLedger, Receiver, SeenNotifications};
use wxpay_core::{ApiV3Key, Client, CryptoBackend, MerchantKey, RedisFleet};

use crate::redis_server::RedisServer;

const RECEIVERS: usize = 4;
const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0112300001092025110100000000";
const APIV3_KEY: &str = "TESTapiv3key0123456789ABCDEFGHIJ";
/// A delivery is attempted at most this often before the platform gives up: far more than
/// any test needs, so a give-up is a lost notification.
const MAX_ATTEMPTS: u32 = 400;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn client() -> Client {
    Client::builder()
        .mchid("1230000109")
        .merchant_key(
            "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81",
            fixture("TEST_merchant_key.pem"),
        )
        .platform_public_key(PUBLIC_KEY_ID, fixture("TEST_platform_pub.pem"))
        .apiv3_key(APIV3_KEY)
        .build()
        .expect("client")
}

/// A small deterministic generator, seeded from the OS and printed, so a failure can be
/// replayed by setting `WXPAY_FLEET_SEED`.
struct Random(u64);

impl Random {
    fn new() -> Random {
        let seed = std::env::var("WXPAY_FLEET_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let mut bytes = [0u8; 8];
                getrandom::fill(&mut bytes).expect("randomness");
                u64::from_le_bytes(bytes) | 1
            });
        eprintln!("WXPAY_FLEET_SEED={seed}");
        Random(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// One notification as the platform POSTs it: the body and its signed headers.
#[derive(Clone)]
struct Delivery {
    id: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn notifications(count: usize, run: &str) -> Vec<Delivery> {
    let signer = MerchantKey::from_pem("01", &fixture("TEST_platform_key.pem")).expect("key");
    let apiv3_key = ApiV3Key::new(APIV3_KEY).expect("APIv3 key");
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        .to_string();
    (0..count)
        .map(|n| {
            let id = format!("EV-{run}-{n:06}");
            let nonce = format!("{n:012}");
            let resource = serde_json::json!({ "out_trade_no": format!("order-{n}"), "trade_state": "SUCCESS" });
            let ciphertext = apiv3_key
                .encrypt(
                    &nonce,
                    "transaction",
                    resource.to_string().as_bytes(),
                    CryptoBackend::default(),
                )
                .expect("encrypt");
            let body = serde_json::json!({
                "id": id,
                "create_time": "2026-12-01T10:00:00+08:00",
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": {
                    "original_type": "transaction",
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": ciphertext,
                    "associated_data": "transaction",
                    "nonce": nonce,
                },
            })
            .to_string()
            .into_bytes();
            let header_nonce = format!("N{n:031}");
            let mut message = format!("{timestamp}\n{header_nonce}\n").into_bytes();
            message.extend_from_slice(&body);
            message.push(b'\n');
            let signature = signer.sign(&message).expect("sign");
            let mut headers = HeaderMap::new();
            for (name, value) in [
                ("wechatpay-timestamp", timestamp.as_str()),
                ("wechatpay-nonce", header_nonce.as_str()),
                ("wechatpay-signature", signature.as_str()),
                ("wechatpay-serial", PUBLIC_KEY_ID),
                ("wechatpay-signature-type", "WECHATPAY2-SHA256-RSA2048"),
            ] {
                headers.insert(name, HeaderValue::from_str(value).expect("header"));
            }
            Delivery { id, headers, body }
        })
        .collect()
}

/// What the merchant's handler did, by notification id.
#[derive(Default)]
struct Handled {
    /// Successful runs.
    runs: Mutex<HashMap<String, u32>>,
    /// Runs that failed on purpose.
    failures: Mutex<HashMap<String, u32>>,
}

impl Handled {
    async fn handle(&self, id: &str, fail_first: bool) -> Result<(), &'static str> {
        // Long enough for concurrent deliveries of the same id to meet the claim.
        tokio::time::sleep(Duration::from_millis(2)).await;
        if fail_first {
            let mut failures = self.failures.lock().expect("failures");
            let count = failures.entry(id.to_owned()).or_default();
            if *count == 0 {
                *count += 1;
                return Err("the database is down (on purpose)");
            }
        }
        *self
            .runs
            .lock()
            .expect("runs")
            .entry(id.to_owned())
            .or_default() += 1;
        Ok(())
    }
}

fn receivers(redis: &RedisServer, ledger: impl Fn(RedisFleet) -> Receiver) -> Vec<Receiver> {
    (0..RECEIVERS)
        .map(|_| ledger(RedisFleet::open(&redis.url()).expect("fleet")))
        .collect()
}

fn in_redis(fleet: RedisFleet) -> Receiver {
    Receiver::with_ledger(client(), fleet.seen_notifications())
}

/// The platform's side: every notification delivered 1–3 times, each delivery to a random
/// receiver and repeated until one acknowledges it. Returns how many acknowledgements came,
/// and how many deliveries were given up (lost).
async fn deliver_all(
    deliveries: &[Delivery],
    receivers: &[Receiver],
    handled: &Arc<Handled>,
    fail_first: bool,
    acknowledged: &Arc<AtomicUsize>,
) -> (usize, usize) {
    let mut random = Random::new();
    let mut tasks = Vec::new();
    for delivery in deliveries {
        let copies = 1 + random.below(3);
        for _ in 0..copies {
            let seed = random.below(u64::MAX);
            let (delivery, receivers) = (delivery.clone(), receivers.to_vec());
            let (handled, acknowledged) = (handled.clone(), acknowledged.clone());
            tasks.push(tokio::spawn(async move {
                let mut random = Random(seed | 1);
                let mut delay = Duration::from_millis(5);
                for _ in 0..MAX_ATTEMPTS {
                    let receiver = &receivers[random.below(RECEIVERS as u64) as usize];
                    let handled = handled.clone();
                    let reply = receiver
                        .receive(
                            &delivery.headers,
                            &delivery.body,
                            |notification| async move {
                                handled.handle(&notification.id, fail_first).await
                            },
                        )
                        .await;
                    if reply.is_success() {
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                        return true;
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_millis(100));
                }
                eprintln!("gave up delivering {}", delivery.id);
                false
            }));
        }
    }
    let mut given_up = 0;
    let total = tasks.len();
    for task in tasks {
        if !task.await.expect("delivery task") {
            given_up += 1;
        }
    }
    (total, given_up)
}

fn assert_each_handled_once(deliveries: &[Delivery], handled: &Handled) {
    let runs = handled.runs.lock().expect("runs");
    let twice: Vec<_> = runs.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "handled more than once: {twice:?}");
    let missing: Vec<_> = deliveries
        .iter()
        .filter(|d| !runs.contains_key(&d.id))
        .map(|d| &d.id)
        .collect();
    assert!(missing.is_empty(), "never handled: {missing:?}");
    assert_eq!(runs.len(), deliveries.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_notification_is_handled_once_across_four_receivers() {
    let redis = RedisServer::start("once");
    let deliveries = notifications(1_000, "once");
    let receivers = receivers(&redis, in_redis);
    let handled = Arc::new(Handled::default());
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let (total, given_up) =
        deliver_all(&deliveries, &receivers, &handled, false, &acknowledged).await;
    assert_eq!(given_up, 0, "lost deliveries");
    assert_eq!(acknowledged.load(Ordering::Relaxed), total);
    assert!(
        total > deliveries.len(),
        "some were delivered more than once"
    );
    assert_each_handled_once(&deliveries, &handled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_fails_first_is_handled_on_the_retry() {
    let redis = RedisServer::start("fails");
    let deliveries = notifications(300, "fails");
    let receivers = receivers(&redis, in_redis);
    let handled = Arc::new(Handled::default());
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let (_, given_up) = deliver_all(&deliveries, &receivers, &handled, true, &acknowledged).await;
    assert_eq!(given_up, 0, "lost deliveries");
    assert_each_handled_once(&deliveries, &handled);
    let failures = handled.failures.lock().expect("failures");
    assert_eq!(failures.len(), deliveries.len(), "each failed once first");
    assert!(failures.values().all(|n| *n == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_restarted_mid_run_loses_nothing_and_repeats_nothing() {
    let redis = Arc::new(Mutex::new(RedisServer::start("outage")));
    let deliveries = notifications(1_000, "outage");
    // Claims whose SET reached Redis just before it died, but whose answer never came back,
    // are held by nobody: they expire, and the platform's next delivery is handled. The
    // expiry is the default's 5 minutes scaled down as the platform's day of retries is here.
    let receivers = receivers(&redis.lock().expect("redis"), |fleet| {
        Receiver::with_ledger(
            client(),
            fleet
                .seen_notifications()
                .claim_expiry(Duration::from_secs(5)),
        )
    });
    let handled = Arc::new(Handled::default());
    let acknowledged = Arc::new(AtomicUsize::new(0));

    // A quarter of the way in, Redis dies as in a crash, stays away, and comes back with what
    // it had acknowledged (append-only file).
    let outage = {
        let (redis, acknowledged) = (redis.clone(), acknowledged.clone());
        tokio::spawn(async move {
            for _ in 0..2_000 {
                if acknowledged.load(Ordering::Relaxed) >= 250 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let at = acknowledged.load(Ordering::Relaxed);
            let killer = redis.clone();
            tokio::task::spawn_blocking(move || killer.lock().expect("redis").kill())
                .await
                .expect("kill");
            tokio::time::sleep(Duration::from_millis(500)).await;
            tokio::task::spawn_blocking(move || redis.lock().expect("redis").restart())
                .await
                .expect("restart");
            at
        })
    };
    let (total, given_up) =
        deliver_all(&deliveries, &receivers, &handled, false, &acknowledged).await;
    let killed_at = outage.await.expect("outage task");
    eprintln!("Redis killed after {killed_at} of {total} deliveries were acknowledged");
    assert!(
        killed_at < total,
        "the outage happened mid-run ({killed_at} of {total})"
    );
    assert_eq!(given_up, 0, "lost deliveries");
    assert_each_handled_once(&deliveries, &handled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_the_receiver_asks_for_a_retry_or_falls_back_when_told() {
    let mut redis = RedisServer::start("fallback");
    let deliveries = notifications(2, "fallback");
    let fleet = RedisFleet::open(&redis.url())
        .expect("fleet")
        .command_timeout(Duration::from_millis(200));
    let strict = Receiver::with_ledger(client(), fleet.seen_notifications());
    let lenient = Receiver::with_ledger(
        client(),
        fleet
            .seen_notifications()
            .fall_back_to_local(SeenNotifications::default()),
    );
    redis.kill();
    let runs = Arc::new(AtomicUsize::new(0));
    let handler = |runs: Arc<AtomicUsize>| {
        move |_| async move {
            runs.fetch_add(1, Ordering::Relaxed);
            Ok::<(), std::convert::Infallible>(())
        }
    };
    let delivery = &deliveries[0];
    let reply = strict
        .receive(&delivery.headers, &delivery.body, handler(runs.clone()))
        .await;
    assert_eq!(reply.status(), 503, "a retryable failure");
    assert_eq!(
        runs.load(Ordering::Relaxed),
        0,
        "not handled without a claim"
    );

    let reply = lenient
        .receive(&delivery.headers, &delivery.body, handler(runs.clone()))
        .await;
    assert!(reply.is_success());
    let reply = lenient
        .receive(&delivery.headers, &delivery.body, handler(runs.clone()))
        .await;
    assert!(reply.is_success(), "a duplicate is acknowledged");
    assert_eq!(runs.load(Ordering::Relaxed), 1, "handled once, locally");

    // Back up: the fallback's handled notification reaches Redis, and the strict receiver
    // acknowledges it without handling it again.
    redis.restart();
    let mut marked = false;
    for _ in 0..100 {
        let key = format!("wxpay:notification:{}", delivery.id);
        if redis.cli(&["GET", &key]).as_deref() == Some("handled") {
            marked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(marked, "the handled mark reached Redis after the outage");
    let reply = strict
        .receive(&delivery.headers, &delivery.body, handler(runs.clone()))
        .await;
    assert!(reply.is_success());
    assert_eq!(runs.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_held_by_a_crashed_instance_expires() {
    let redis = RedisServer::start("crashed");
    let deliveries = notifications(1, "crashed");
    let delivery = &deliveries[0];
    let fleet = RedisFleet::open(&redis.url()).expect("fleet");
    let ledger = fleet
        .seen_notifications()
        .claim_expiry(Duration::from_millis(300));
    // The crashed instance claimed it and never came back.
    let Claim::Claimed(_) = ledger.claim(&delivery.id).await.expect("claim") else {
        panic!("the first claim is taken");
    };
    let receiver = Receiver::with_ledger(client(), ledger);
    let runs = Arc::new(AtomicUsize::new(0));
    let run = |runs: Arc<AtomicUsize>| {
        move |_| async move {
            runs.fetch_add(1, Ordering::Relaxed);
            Ok::<(), std::convert::Infallible>(())
        }
    };
    let reply = receiver
        .receive(&delivery.headers, &delivery.body, run(runs.clone()))
        .await;
    assert_eq!(reply.status(), 429, "held elsewhere: retry later");
    let mut handled = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let reply = receiver
            .receive(&delivery.headers, &delivery.body, run(runs.clone()))
            .await;
        if reply.is_success() {
            handled = true;
            break;
        }
    }
    assert!(handled, "handled once the claim expired");
    assert_eq!(runs.load(Ordering::Relaxed), 1);
}
