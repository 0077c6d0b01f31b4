//! Many merchants in one process (a SaaS platform): memory per `Client`, threads and tokio
//! tasks for N merchants, in one run:
//!
//! 1. public-key clients with default settings: every call takes the connection pool of the
//!    runtime it runs in, one for all the clients;
//! 2. public-key clients each given a reqwest client of its own (`http_client`), as every
//!    client had before: a pool each, each loading the system's root certificates;
//! 3. the same, but the reqwest clients share one rustls configuration (roots loaded once,
//!    through reqwest's `tls_backend_preconfigured`): what a pool alone costs;
//! 4. certificate clients with default settings, each having made one call to the sandbox, so
//!    each is on the periodic refresh (one scheduler task for all of them).
//!
//! ```text
//! cargo run --example many_merchants            # 10 000 merchants (≈ 4 min on 2 cores)
//! cargo run --example many_merchants -- 1000
//! ```
//!
//! Memory per client is the growth of the Rust heap (counted by a wrapping global allocator)
//! and of the resident set (which also sees aws-lc's C allocations, such as parsed keys),
//! divided by the number of clients; threads from `/proc/self/status`, tasks from tokio's
//! metrics. Exits non-zero over the goal: 10 KiB per default client, no thread or task per
//! client. See BENCHMARKS.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls_platform_verifier::BuilderVerifierExt;
use wxpay::Client;
use wxpay_sandbox::{KeyMode, Sandbox};

/// The system allocator, counting the bytes it holds live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, passed on as is.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Calls in flight at once while the certificate clients make their first call.
const CONCURRENT_CALLS: usize = 16;

/// Resident memory in bytes (`/proc/self/statm`, 4 KiB pages): what the Rust counter misses,
/// such as keys parsed inside aws-lc (C allocations).
fn resident() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Hands freed memory back to the system, so the next resident figure starts clean.
fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator; no pointer is involved.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// How the public-key clients of a row send.
#[derive(Clone, Copy)]
enum Pool {
    /// The default.
    Runtime,
    /// A reqwest client each, as built by reqwest.
    EachOwnTls,
    /// A reqwest client each, all on one rustls configuration.
    EachSharedTls,
}

struct Measured {
    bytes_per_client: f64,
    resident_per_client: f64,
    threads: usize,
    tasks: usize,
}

impl Measured {
    fn since(start: (usize, usize), n: usize) -> Measured {
        Measured {
            bytes_per_client: LIVE.load(Ordering::Relaxed).saturating_sub(start.0) as f64
                / n as f64,
            resident_per_client: resident().saturating_sub(start.1) as f64 / n as f64,
            threads: threads(),
            tasks: tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks(),
        }
    }
}

fn start() -> (usize, usize) {
    trim();
    (LIVE.load(Ordering::Relaxed), resident())
}

fn report(label: &str, n: usize, measured: &Measured) {
    println!(
        "{label:<58} {:>7.1} KiB/client heap  {:>7.1} KiB/client resident  {:>3} threads  {:>4} tokio tasks  ({n} clients)",
        measured.bytes_per_client / 1024.0,
        measured.resident_per_client / 1024.0,
        measured.threads,
        measured.tasks
    );
}

fn main() -> ExitCode {
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 10_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: many_merchants [N > 0]");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(n)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(n: usize) -> Result<bool, Box<dyn std::error::Error>> {
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await?;
    let merchant = sandbox.merchant().clone();
    let merchant_key = merchant
        .merchant_private_key_pem
        .as_ref()
        .ok_or("no merchant key")?
        .expose()
        .to_owned();
    let platform_pub = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keys/TEST_platform_pub.pem"
    ))?;
    let public_key_merchant = || {
        Client::builder()
            .mchid(&merchant.mchid)
            .merchant_key(&merchant.merchant_serial, &merchant_key)
            .platform_public_key("PUB_KEY_ID_0112300001092025110100000000", &platform_pub)
    };
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let certificate_merchant = || -> Result<Client, Box<dyn std::error::Error>> {
        Ok(Client::builder()
            .mchid(&merchant.mchid)
            .merchant_key(&merchant.merchant_serial, &merchant_key)
            .platform_certificate(
                merchant
                    .platform_certificate_pem
                    .as_deref()
                    .ok_or("no certificate")?,
            )
            .apiv3_key(merchant.apiv3_key.expose())
            .base_url(sandbox.base_url())
            .build()?)
    };
    let stock = sandbox.favor_stock_ids()[0].clone();
    // Warm what every client shares (this runtime's pool and its connection, the scheduler,
    // lazy statics), so the first measurement does not carry it.
    let warm = certificate_merchant()?;
    warm.get("/v3/marketing/favor/stocks/{stock_id}")
        .path("stock_id", &stock)
        .query("stock_creator_mchid", warm.mchid())
        .send::<serde_json::Value>()
        .await?;
    drop(warm);
    // One rustls configuration for every pool of row 3 (what reqwest builds for each pool).
    let tls = rustls::ClientConfig::builder()
        .with_platform_verifier()?
        .with_no_client_auth();
    let pool_each = |tls: Option<&rustls::ClientConfig>| {
        let builder = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .pool_idle_timeout(std::time::Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none());
        match tls {
            Some(tls) => builder.tls_backend_preconfigured(tls.clone()),
            None => builder,
        }
        .build()
    };

    let mut results = Vec::new();
    // The default first: memory freed by a run is reused by the next, which would flatter
    // whichever comes later.
    for (label, pool) in [
        (
            "public-key clients, default settings (the runtime's pool)",
            Pool::Runtime,
        ),
        (
            "public-key clients, a pool each (reqwest's own TLS each)",
            Pool::EachOwnTls,
        ),
        (
            "public-key clients, a pool each, one shared rustls config",
            Pool::EachSharedTls,
        ),
    ] {
        let before = start();
        let mut clients = Vec::with_capacity(n);
        for _ in 0..n {
            let builder = public_key_merchant();
            let builder = match pool {
                Pool::Runtime => builder,
                Pool::EachOwnTls => builder.http_client(pool_each(None)?),
                Pool::EachSharedTls => builder.http_client(pool_each(Some(&tls))?),
            };
            clients.push(builder.build()?);
        }
        let measured = Measured::since(before, n);
        report(label, n, &measured);
        results.push(measured);
        drop(clients);
    }

    // Certificate merchants with the APIv3 key: the first call puts each on the refresh.
    let before = start();
    let tasks_before = tasks();
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        clients.push(certificate_merchant()?);
    }
    let mut calls = tokio::task::JoinSet::new();
    for client in &clients {
        if calls.len() >= CONCURRENT_CALLS
            && let Some(done) = calls.join_next().await
        {
            done??;
        }
        let (client, stock) = (client.clone(), stock.clone());
        calls.spawn(async move {
            client
                .get("/v3/marketing/favor/stocks/{stock_id}")
                .path("stock_id", &stock)
                .query("stock_creator_mchid", client.mchid())
                .send::<serde_json::Value>()
                .await
                .map(drop)
        });
    }
    while let Some(done) = calls.join_next().await {
        done??;
    }
    // Idle connections (and their tasks) close after the pool's 5 s: what stays is per client.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let measured = Measured::since(before, n);
    report(
        "certificate clients after one call each (on the refresh)",
        n,
        &measured,
    );
    println!(
        "tokio tasks added by {n} refreshing clients: {}",
        measured.tasks.saturating_sub(tasks_before)
    );
    let default = &results[0];
    for (label, row) in [
        ("a pool each", &results[1]),
        ("a pool each, one rustls config", &results[2]),
    ] {
        println!(
            "{label} / the default: {:.1}x the heap, {:.1}x the resident memory per client",
            row.bytes_per_client / default.bytes_per_client.max(1.0),
            row.resident_per_client / default.resident_per_client.max(1.0),
        );
    }
    // The goal: 10 KiB per default client; no thread, nor task, per client (the tasks left
    // are the scheduler's one and connections not yet closed, whatever the count of clients).
    let ok = default.resident_per_client <= 10.0 * 1024.0
        && measured.tasks.saturating_sub(tasks_before) < n.div_ceil(100).max(64)
        && measured.threads == default.threads;
    if !ok {
        eprintln!("over the goal: 10 KiB per default client, no thread or task per client");
    }
    drop(clients);
    sandbox.shutdown().await;
    Ok(ok)
}
