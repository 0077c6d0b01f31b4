//! Platform certificates shared through Redis: one download per rotation for a fleet of four
//! instances under load, and entries an attacker wrote to Redis ignored and reported.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use wxpay_core::{Client, KeyWarning, RedisFleet};
use wxpay_sandbox::{KeyMode, Sandbox};

use crate::redis_server::RedisServer;

const INSTANCES: usize = 4;
const TASKS_PER_INSTANCE: usize = 4;
const ROTATIONS: u64 = 2;

async fn certificate_sandbox() -> Arc<Sandbox> {
    Arc::new(
        Sandbox::builder()
            .key_mode(KeyMode::Certificate)
            .start()
            .await
            .expect("sandbox"),
    )
}

/// An instance with an empty ring and the APIv3 key: everything it trusts comes from a
/// download or from the fleet's store.
fn instance(sandbox: &Sandbox, fleet: RedisFleet) -> Client {
    builder(sandbox, fleet).build().expect("client")
}

fn builder(sandbox: &Sandbox, fleet: RedisFleet) -> wxpay_core::ClientBuilder {
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
        .apiv3_key(merchant.apiv3_key.expose())
        .base_url(sandbox.base_url())
        .unknown_serial_cooldown(Duration::from_millis(200))
        .fleet(fleet)
}

async fn query_stock(client: &Client, sandbox: &Sandbox) -> Result<Value, wxpay_core::Error> {
    client
        .get("/v3/marketing/favor/stocks/{stock_id}")
        .path("stock_id", &sandbox.favor_stock_ids()[0])
        .query("stock_creator_mchid", client.mchid())
        .send()
        .await
}

async fn rotate(sandbox: &Arc<Sandbox>, overlap: Duration) -> String {
    let sandbox = sandbox.clone();
    // Generating an RSA key takes a while: off the runtime's threads.
    tokio::task::spawn_blocking(move || sandbox.rotate_platform_certificate(overlap))
        .await
        .expect("rotation task")
        .expect("rotate")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_downloads_once_per_rotation_and_no_call_fails() {
    let redis = RedisServer::start("rotation");
    let sandbox = certificate_sandbox().await;
    let instances: Vec<Client> = (0..INSTANCES)
        .map(|_| {
            let fleet = RedisFleet::open(&redis.url()).expect("fleet");
            instance(&sandbox, fleet)
        })
        .collect();

    let calls = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for client in &instances {
        for _ in 0..TASKS_PER_INSTANCE {
            let (client, sandbox) = (client.clone(), sandbox.clone());
            let (calls, failures, stopped) = (calls.clone(), failures.clone(), stopped.clone());
            tasks.push(tokio::spawn(async move {
                // Bounded: the test stops the load long before this many calls.
                for _ in 0..100_000 {
                    if stopped.load(Ordering::Acquire) {
                        break;
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                    if let Err(error) = query_stock(&client, &sandbox).await {
                        failures.fetch_add(1, Ordering::Relaxed);
                        eprintln!("call failed: {error}");
                    }
                }
            }));
        }
    }

    // Until every instance has trusted a key, then through each rotation's overlap and past
    // it, while the load runs.
    let mut seen = Vec::new();
    for _ in 0..200 {
        if instances.iter().all(|c| !c.platform_keys().is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    for _ in 0..ROTATIONS {
        let serial = rotate(&sandbox, Duration::from_millis(300)).await;
        // Every instance learns the new serial (from the one download, or from Redis).
        for _ in 0..400 {
            if instances
                .iter()
                .all(|c| c.platform_keys().get(&serial).is_some())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        // The sandbox signs with it once the overlap is over: let the load meet that.
        tokio::time::sleep(Duration::from_millis(600)).await;
        seen.push(serial);
    }
    stopped.store(true, Ordering::Release);
    for task in tasks {
        task.await.expect("load task");
    }

    for client in &instances {
        for serial in &seen {
            assert!(
                client.platform_keys().get(serial).is_some(),
                "{serial} missing: {:?}",
                client.platform_key_status()
            );
        }
    }
    let calls = calls.load(Ordering::Relaxed);
    assert!(calls > 100, "the load ran ({calls} calls)");
    assert_eq!(failures.load(Ordering::Relaxed), 0, "failed calls");
    let downloads_by_instances: u64 = instances
        .iter()
        .map(|c| c.platform_key_status().downloads)
        .sum();
    // The first download fills the empty rings; then one per rotation, fleet-wide.
    assert_eq!(sandbox.certificate_downloads(), 1 + ROTATIONS);
    assert_eq!(downloads_by_instances, 1 + ROTATIONS);
    let key = format!("wxpay:certificates:{}", instances[0].mchid());
    let ttl: i64 = redis
        .cli(&["TTL", &key])
        .and_then(|t| t.parse().ok())
        .expect("TTL");
    assert!(
        ttl > 24 * 3600,
        "kept past the certificates' expiry, not forever: {ttl}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_refresh_is_taken_by_one_instance_per_interval() {
    const INTERVAL: Duration = Duration::from_millis(600);
    const RUN: Duration = Duration::from_secs(3);
    let redis = RedisServer::start("periodic");
    let sandbox = certificate_sandbox().await;
    let instances: Vec<Client> = (0..INSTANCES)
        .map(|_| {
            let fleet = RedisFleet::open(&redis.url()).expect("fleet");
            builder(&sandbox, fleet)
                .certificate_refresh_interval(INTERVAL)
                .build()
                .expect("client")
        })
        .collect();
    // The first call of each puts it on the refresh scheduler.
    for client in &instances {
        query_stock(client, &sandbox).await.expect("first call");
    }
    let first = sandbox.certificate_downloads();
    assert_eq!(first, 1, "one download filled the four rings");
    tokio::time::sleep(RUN).await;
    let refreshes = sandbox.certificate_downloads() - first;
    // Four instances on their own would download RUN / INTERVAL times each (some 20 in all);
    // the fleet takes one turn per 0.8 interval at most (a turn is a Redis key that lives that
    // long; timers late on a loaded machine make fewer).
    let per_instance = (RUN.as_secs_f64() / INTERVAL.as_secs_f64()) as u64;
    let fleet_bound = (RUN.as_secs_f64() / (0.8 * INTERVAL.as_secs_f64())).ceil() as u64 + 1;
    eprintln!("{refreshes} refreshes by the fleet; at most {fleet_bound} expected");
    assert!(refreshes >= 1, "the refresh ran");
    assert!(
        refreshes <= fleet_bound && refreshes < INSTANCES as u64 * per_instance / 2,
        "{refreshes} refreshes in {RUN:?} by {INSTANCES} instances every {INTERVAL:?}"
    );
    // Those that did not download read the store: every ring stays whole.
    for client in &instances {
        assert!(!client.platform_keys().is_empty());
        assert!(client.platform_key_status().warnings.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_planted_or_tampered_in_redis_are_ignored_and_reported() {
    let redis = RedisServer::start("planted");
    let sandbox = certificate_sandbox().await;
    let fleet = RedisFleet::open(&redis.url()).expect("fleet");
    // A genuine instance downloads and stores a tagged entry.
    let writer = instance(&sandbox, fleet.clone());
    query_stock(&writer, &sandbox).await.expect("first call");
    let key = format!("wxpay:certificates:{}", writer.mchid());
    let genuine: Value =
        serde_json::from_str(&redis.cli(&["GET", &key]).expect("stored")).expect("JSON list");
    let entry = &genuine[0];
    let (serial, pem, tag) = (
        entry["serial"].as_str().expect("serial"),
        entry["pem"].as_str().expect("pem"),
        entry["tag"].as_str().expect("a tag"),
    );

    // Whoever can write to Redis, without the APIv3 key: a certificate of their own under
    // the genuine tag, the genuine certificate with a tag they altered, and one untagged.
    let attacker_pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/keys/TEST_platform_cert.pem"
    ))
    .expect("fixture");
    // One character of the MAC, clear of the base64 padding at its end.
    let mut altered = tag.as_bytes().to_vec();
    let at = altered.len() - 5;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).expect("ASCII tag");
    let planted = serde_json::json!([
        { "serial": "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E", "pem": attacker_pem, "tag": tag },
        { "serial": serial, "pem": pem, "tag": altered },
        { "serial": "0A", "pem": attacker_pem, "tag": null },
    ]);
    assert_eq!(
        redis.cli(&["SET", &key, &planted.to_string()]).as_deref(),
        Some("OK")
    );

    // A new instance with downloads failing can only learn keys from Redis: it learns none.
    sandbox.fail_certificate_downloads(true);
    let reader = instance(&sandbox, fleet.clone());
    let result = query_stock(&reader, &sandbox).await;
    assert!(result.is_err(), "nothing trusted, so no answer: {result:?}");
    assert!(
        reader.platform_keys().is_empty(),
        "nothing planted was used"
    );
    let warnings = reader.platform_key_status().warnings;
    let ignored: Vec<(&str, &str)> = warnings
        .iter()
        .filter_map(|w| match w {
            KeyWarning::StoredCertificateIgnored { serial, reason } => {
                Some((serial.as_str(), *reason))
            }
            _ => None,
        })
        .collect();
    assert_eq!(ignored.len(), 3, "{warnings:?}");
    assert!(
        ignored
            .iter()
            .filter(|(_, reason)| reason.contains("integrity tag does not verify"))
            .count()
            == 2,
        "{ignored:?}"
    );
    assert!(
        ignored
            .iter()
            .any(|(s, reason)| *s == "0A" && reason.contains("another serial")),
        "{ignored:?}"
    );

    // Downloads back: the reader downloads (nothing in Redis stood for the certificate), and
    // what it stores replaces the planted entries with tagged ones.
    sandbox.fail_certificate_downloads(false);
    tokio::time::sleep(Duration::from_millis(250)).await; // past the unknown-serial cooldown
    query_stock(&reader, &sandbox)
        .await
        .expect("a call after downloads return");
    assert!(reader.platform_key_status().warnings.is_empty());
    let rewritten: Value =
        serde_json::from_str(&redis.cli(&["GET", &key]).expect("stored")).expect("JSON list");
    assert_eq!(rewritten.as_array().map(Vec::len), Some(1));
    assert_eq!(rewritten[0]["serial"], serial);
    assert_ne!(rewritten[0]["tag"].as_str(), Some(altered.as_str()));

    // A value that is not a list at all is reported like an unreadable store; calls go on.
    assert_eq!(redis.cli(&["SET", &key, "not json"]).as_deref(), Some("OK"));
    let third = instance(&sandbox, fleet);
    tokio::time::sleep(Duration::from_millis(250)).await;
    query_stock(&third, &sandbox).await.expect("call");
    assert_eq!(
        sandbox.certificate_downloads(),
        4,
        "writer, reader twice, third"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lock_holder_or_a_dead_redis_never_blocks_a_call() {
    let mut redis = RedisServer::start("dead");
    let sandbox = certificate_sandbox().await;
    let mchid = sandbox.merchant().mchid.clone();
    // An instance took the download lock and died: the lock outlives the test.
    let lock = format!("wxpay:certificates:{mchid}:download-lock");
    assert_eq!(
        redis
            .cli(&["SET", &lock, "dead-instance", "PX", "600000"])
            .as_deref(),
        Some("OK")
    );
    let fleet = RedisFleet::open(&redis.url())
        .expect("fleet")
        .download_lock(Duration::from_millis(300), Duration::from_secs(15));
    let waiting = instance(&sandbox, fleet.clone());
    let started = std::time::Instant::now();
    query_stock(&waiting, &sandbox)
        .await
        .expect("a call past a dead lock holder");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "it waited for the holder first"
    );
    assert_eq!(sandbox.certificate_downloads(), 1, "then downloaded itself");
    assert_eq!(
        redis.cli(&["GET", &lock]).as_deref(),
        Some("dead-instance"),
        "another's lock is never released by this instance"
    );

    // Redis gone: a new instance still downloads and calls; the store failure is reported.
    redis.kill();
    let alone = instance(&sandbox, fleet);
    query_stock(&alone, &sandbox)
        .await
        .expect("a call without Redis");
    assert_eq!(sandbox.certificate_downloads(), 2);
    let warnings = alone.platform_key_status().warnings;
    assert!(
        warnings
            .iter()
            .any(|w| matches!(w, KeyWarning::Store(text) if text.contains("cannot save"))),
        "{warnings:?}"
    );
}
