//! Clients built with default settings, called from tokio runtimes that come and go (one per
//! `#[tokio::test]`, or an application that builds several): every call of a live runtime
//! succeeds. A connection belongs to the runtime that opened it, so one pool shared by every
//! runtime fails the calls of the next runtime with "dispatch task is gone" once the first
//! one ends (what failed the catalog tests).

use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use wxpay_core::{Client, RetryPolicy};
use wxpay_sandbox::{Fault, FaultKind, FaultPlan, KeyMode, Sandbox};

/// The platform, on a runtime of its own that outlives the clients' runtimes.
struct Platform {
    sandbox: Sandbox,
    _runtime: Runtime,
}

fn platform() -> Platform {
    platform_with(KeyMode::PublicKey)
}

fn platform_with(keys: KeyMode) -> Platform {
    let runtime = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = runtime
        .block_on(Sandbox::builder().key_mode(keys).start())
        .expect("sandbox");
    Platform {
        sandbox,
        _runtime: runtime,
    }
}

/// Default settings but for retries: a retried call would hide the failure of the first
/// attempt (and a POST that failed after it was written cannot be retried at all).
fn client(sandbox: &Sandbox) -> Client {
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
        .platform_public_key(
            merchant.public_key_id.as_deref().expect("public key id"),
            merchant
                .platform_public_key_pem
                .as_deref()
                .expect("public key"),
        )
        .base_url(sandbox.base_url())
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client")
}

async fn query_stock(client: &Client, sandbox: &Sandbox) -> Result<(), wxpay_core::Error> {
    client
        .get("/v3/marketing/favor/stocks/{stock_id}")
        .path("stock_id", &sandbox.favor_stock_ids()[0])
        .query("stock_creator_mchid", client.mchid())
        .send::<serde_json::Value>()
        .await
        .map(drop)
}

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn a_second_runtime_calls_after_the_first_one_ended() {
    let platform = platform();
    let sandbox = &platform.sandbox;
    let clients = [client(sandbox), client(sandbox)];
    for round in 0..3 {
        // Each round a new runtime, as each `#[tokio::test]` has; the connections the
        // previous one opened (idle in a pool) went with it.
        let runtime = current_thread();
        runtime.block_on(async {
            for client in &clients {
                for call in 0..2 {
                    query_stock(client, sandbox)
                        .await
                        .unwrap_or_else(|e| panic!("round {round}, call {call}: {e}"));
                }
            }
        });
        drop(runtime);
    }
}

#[test]
fn a_call_in_flight_survives_another_runtime_ending() {
    let platform = platform();
    let sandbox = &platform.sandbox;
    let client = client(sandbox);
    // Runtime A opens a connection and keeps it idle.
    let first = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    first
        .block_on(query_stock(&client, sandbox))
        .expect("runtime A's call");
    // Runtime B starts a call the platform holds for a moment…
    let second = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    sandbox.inject_faults(
        FaultPlan::next(1, Fault::Delay(Duration::from_millis(500))).path_prefix("/v3/"),
    );
    let call = {
        let client = client.clone();
        let stock = sandbox.favor_stock_ids()[0].clone();
        second.spawn(async move {
            client
                .get("/v3/marketing/favor/stocks/{stock_id}")
                .path("stock_id", &stock)
                .query("stock_creator_mchid", client.mchid())
                .send::<serde_json::Value>()
                .await
                .map(drop)
        })
    };
    // …and while the platform holds it (it has counted the delay), runtime A ends.
    let deadline = Instant::now() + Duration::from_secs(10);
    while sandbox.fault_counts().of(FaultKind::Delay) == 0 {
        assert!(
            Instant::now() < deadline,
            "the call never reached the platform"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(first);
    let outcome = second.block_on(call).expect("the call's task");
    outcome.expect("runtime B's call, sent while runtime A ended");
}

#[test]
fn the_refresh_moves_to_a_live_runtime_when_its_runtime_ends() {
    let platform = platform_with(KeyMode::Certificate);
    let sandbox = &platform.sandbox;
    let merchant = sandbox.merchant();
    // A certificate merchant with the APIv3 key: on the process's refresh schedule.
    let client = Client::builder()
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
                .expect("certificate"),
        )
        .apiv3_key(merchant.apiv3_key.expose())
        .base_url(sandbox.base_url())
        .certificate_refresh_interval(Duration::from_millis(200))
        .build()
        .expect("client");
    // Runtime A's call puts the client on the schedule (and starts the scheduler there unless
    // another test's runtime hosts it); runtime B makes one call too, then only waits.
    let first = current_thread();
    first
        .block_on(query_stock(&client, sandbox))
        .expect("runtime A's call");
    let second = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    second
        .block_on(query_stock(&client, sandbox))
        .expect("runtime B's call");
    drop(first);
    // No call from now on: the refresh goes on in a runtime still alive.
    let before = sandbox.certificate_downloads();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sandbox.certificate_downloads() < before + 2 {
        assert!(
            Instant::now() < deadline,
            "no refresh after runtime A ended: {} downloads",
            sandbox.certificate_downloads() - before
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(second);
}

#[test]
fn a_call_outside_any_runtime_is_an_error_not_a_panic() {
    let platform = platform();
    let client = client(&platform.sandbox);
    let mut call = std::pin::pin!(query_stock(&client, &platform.sandbox));
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    // Polled on this plain thread: no tokio runtime to open a connection in.
    match call.as_mut().poll(&mut context) {
        std::task::Poll::Ready(Err(wxpay_core::Error::Transport(error))) => {
            assert_eq!(error.kind, wxpay_core::TransportErrorKind::Connect);
            assert!(
                error.source.to_string().contains("tokio runtime"),
                "{error}"
            );
        }
        other => panic!("expected a transport error at once, got {other:?}"),
    }
}
