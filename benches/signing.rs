//! What one call costs next to the RSA it cannot avoid.
//!
//! `cargo bench -p wxpay-benches --bench signing` (add `--features rsa` to measure aws-lc-rs
//! and RustCrypto in the same run). For every compiled-in backend:
//!
//! - `raw_sign/<backend>`, `raw_verify/<backend>`: the crypto floor, SHA256withRSA over a
//!   300-byte message (through `MerchantKey::sign` and `PlatformKey::verify`, so the floor
//!   includes the base64 of the 256-byte signature the protocol needs anyway);
//! - `prepare/<backend>`: `PauseStock` to a complete signed `http::Request`, nonce included;
//! - `prepare_encrypted/<backend>`: `SendMultiuseCoupon`, two fields RSA-OAEP encrypted;
//! - `verify_response/<backend>`: a signed platform answer to a typed `PauseStockResponse`;
//! - `roundtrip/c1/<backend>`, `roundtrip/c64/<backend>`: `QueryStock` against the in-process
//!   sandbox on 127.0.0.1, one request at a time and 64 in flight, with the CPU time per
//!   request of the client's threads and of the sandbox's threads printed separately.
//!
//! Before criterion runs, the binary prints the heap allocations of one `prepare` and one
//! `verify_response`, counted by the global allocator below.
//!
//! Ratios to the floor are measured once more at the start, each operation alternating with
//! its floor (medians of 400 pairs), and printed at the end of the run as `summary:` lines:
//! on a shared machine, interleaving puts a neighbour's load on both sides of a ratio alike.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput};
use http::HeaderValue;
use wxpay::__private::unix_now;
use wxpay::apis::marketing::favor::{
    PauseStock, PauseStockRequired, QueryStock, QueryStockRequired,
};
use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon, SendMultiuseCouponRequired};
use wxpay::protocol::{self, RequestContext, Signer};
use wxpay::{Client, CryptoBackend, Endpoint, MerchantKey, PlatformKey, PlatformKeys};

// ---------------------------------------------------------------------------------------------
// Allocation counting: every allocation and reallocation of the process, on any thread.

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations (count, bytes) made by `f`, which must not start threads.
fn allocations<T>(f: impl FnOnce() -> T) -> (u64, u64, T) {
    let (count, bytes) = (
        ALLOCATIONS.load(Ordering::SeqCst),
        ALLOCATED_BYTES.load(Ordering::SeqCst),
    );
    let value = f();
    (
        ALLOCATIONS.load(Ordering::SeqCst) - count,
        ALLOCATED_BYTES.load(Ordering::SeqCst) - bytes,
        value,
    )
}

// ---------------------------------------------------------------------------------------------
// TEST fixtures (tests/fixtures/keys; never used with the real platform).

const MCHID: &str = "1230000109";
const MERCHANT_SERIAL: &str = "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81";
const PLATFORM_SERIAL: &str = "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E";
const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0112300001092025110100000000";
const MERCHANT_KEY: &str = include_str!("../tests/fixtures/keys/TEST_merchant_key.pem");
const PLATFORM_KEY: &str = include_str!("../tests/fixtures/keys/TEST_platform_key.pem");
const PLATFORM_PUB: &str = include_str!("../tests/fixtures/keys/TEST_platform_pub.pem");
const PAUSE_ANSWER: &[u8] = br#"{"stock_id":"9856888","pause_time":"2015-05-20T13:29:35+08:00"}"#;

/// Keys of one backend.
struct Keys {
    backend: CryptoBackend,
    merchant: MerchantKey,
    /// The platform's private key, to sign answers as the platform would.
    platform_signer: MerchantKey,
    platform: PlatformKeys,
    user_agent: HeaderValue,
}

impl Keys {
    fn new(backend: CryptoBackend) -> Keys {
        let mut platform = PlatformKeys::new();
        platform.insert(
            PlatformKey::from_public_key_pem_with(PUBLIC_KEY_ID, PLATFORM_PUB, backend)
                .expect("TEST platform public key"),
        );
        Keys {
            backend,
            merchant: MerchantKey::from_pem_with(MERCHANT_SERIAL, MERCHANT_KEY, backend)
                .expect("TEST merchant key"),
            platform_signer: MerchantKey::from_pem_with(PLATFORM_SERIAL, PLATFORM_KEY, backend)
                .expect("TEST platform key"),
            platform,
            user_agent: HeaderValue::from_static("wxpay-bench/0.1"),
        }
    }

    fn context(&self) -> RequestContext<'_> {
        RequestContext {
            base_url: "https://api.mch.weixin.qq.com",
            signer: Signer {
                mchid: MCHID,
                key: &self.merchant,
            },
            platform_keys: &self.platform,
            user_agent: &self.user_agent,
        }
    }

    /// The headers of a platform answer signed over `body` at `timestamp`.
    fn signed_answer_headers(&self, timestamp: i64, body: &[u8]) -> http::HeaderMap {
        let timestamp = timestamp.to_string();
        let nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
        let signature = self
            .platform_signer
            .sign(&protocol::response_message(&timestamp, nonce, body))
            .expect("sign the answer");
        let mut headers = http::HeaderMap::new();
        for (name, value) in [
            (protocol::WECHATPAY_SERIAL, PUBLIC_KEY_ID.to_owned()),
            (protocol::WECHATPAY_TIMESTAMP, timestamp),
            (protocol::WECHATPAY_NONCE, nonce.to_owned()),
            (protocol::WECHATPAY_SIGNATURE, signature),
            (
                protocol::REQUEST_ID,
                "08F78BB5AF0610D302A1A0FC0129E8E0E0B0".to_owned(),
            ),
        ] {
            headers.insert(name, HeaderValue::try_from(value).expect("header value"));
        }
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers
    }
}

fn pause_stock() -> PauseStock {
    PauseStock::new(PauseStockRequired {
        stock_id: "9856888".into(),
        stock_creator_mchid: MCHID.into(),
    })
}

fn send_multiuse_coupon() -> SendMultiuseCoupon {
    SendMultiuseCoupon::new(SendMultiuseCouponRequired {
        openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
        appid: "wx233544546545989".into(),
        card_type: CardType::IdCard,
        id_card_number: "110101199003072316".into(),
        out_request_no: "8956000202407191254642".into(),
        stock_id: "9856000".into(),
        user_name: "张三".into(),
    })
    .amount(10000)
}

/// One `prepare` as `Client::prepare` does it: a fresh nonce, then sign.
fn prepare<E: Endpoint>(endpoint: &E, keys: &Keys, now: i64) -> http::Request<Vec<u8>> {
    let nonce = protocol::nonce().expect("nonce");
    protocol::prepare(endpoint, &keys.context(), now, &nonce).expect("prepare")
}

fn answer(headers: &http::HeaderMap, body: &Bytes) -> http::Response<Bytes> {
    let mut response = http::Response::new(body.clone());
    *response.headers_mut() = headers.clone();
    response
}

fn verify_response(
    response: http::Response<Bytes>,
    keys: &Keys,
    now: i64,
) -> wxpay::apis::marketing::favor::PauseStockResponse {
    protocol::read_response(
        response,
        &keys.platform,
        now,
        protocol::DEFAULT_TIMESTAMP_TOLERANCE,
        PauseStock::decode_response,
    )
    .expect("a valid answer")
    .value
}

// ---------------------------------------------------------------------------------------------

fn report_allocations(all: &[Keys]) {
    let now = unix_now();
    for keys in all {
        let name = keys.backend.name();
        // Warm up once so lazily initialised state (RNG, CPU feature detection) is not counted.
        let _ = prepare(&pause_stock(), keys, now);
        let endpoint = pause_stock();
        let (count, bytes, request) = allocations(|| prepare(&endpoint, keys, now));
        drop(request);
        eprintln!("allocations: prepare/{name}: {count} allocations, {bytes} bytes");
        let endpoint = send_multiuse_coupon();
        let _ = prepare(&endpoint, keys, now);
        let (count, bytes, request) = allocations(|| prepare(&endpoint, keys, now));
        drop(request);
        eprintln!("allocations: prepare_encrypted/{name}: {count} allocations, {bytes} bytes");
        let body = Bytes::from_static(PAUSE_ANSWER);
        let headers = keys.signed_answer_headers(now, &body);
        let _ = verify_response(answer(&headers, &body), keys, now);
        let response = answer(&headers, &body);
        let (count, bytes, value) = allocations(|| verify_response(response, keys, now));
        drop(value);
        eprintln!("allocations: verify_response/{name}: {count} allocations, {bytes} bytes");
        let message = [b'x'; 300];
        let (count, bytes, signature) = allocations(|| keys.merchant.sign(&message).expect("sign"));
        drop(signature);
        eprintln!("allocations: raw_sign/{name}: {count} allocations, {bytes} bytes");
    }
}

fn crypto(c: &mut Criterion, all: &[Keys]) {
    let message: Vec<u8> = (0..300u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut group = c.benchmark_group("raw_sign");
    for keys in all {
        group.bench_function(keys.backend.name(), |b| {
            b.iter(|| keys.merchant.sign(black_box(&message)).expect("sign"))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("raw_verify");
    for keys in all {
        let signature = keys.platform_signer.sign(&message).expect("sign");
        let platform = keys.platform.get(PUBLIC_KEY_ID).expect("platform key");
        assert!(platform.verify(&message, &signature));
        group.bench_function(keys.backend.name(), |b| {
            b.iter(|| platform.verify(black_box(&message), black_box(&signature)))
        });
    }
    group.finish();
}

fn requests(c: &mut Criterion, all: &[Keys]) {
    let now = unix_now();
    let mut group = c.benchmark_group("prepare");
    for keys in all {
        let endpoint = pause_stock();
        group.bench_function(keys.backend.name(), |b| {
            b.iter(|| prepare(black_box(&endpoint), keys, now))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("prepare_encrypted");
    for keys in all {
        let endpoint = send_multiuse_coupon();
        group.bench_function(keys.backend.name(), |b| {
            b.iter(|| prepare(black_box(&endpoint), keys, now))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("verify_response");
    for keys in all {
        let body = Bytes::from_static(PAUSE_ANSWER);
        // The answer's time is the `now` it is checked against, so a long run never drifts
        // out of the 300 s window.
        let headers = keys.signed_answer_headers(now, &body);
        group.bench_function(keys.backend.name(), |b| {
            b.iter_batched(
                || answer(&headers, &body),
                |response| verify_response(response, keys, now),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Round trips against the sandbox, with CPU time per thread group.

/// The CPU clocks of a set of threads, read with `pthread_getcpuclockid` (nanoseconds, unlike
/// the 10 ms ticks of /proc/self/task/*/stat).
#[derive(Clone, Default)]
struct ThreadClocks(Arc<Mutex<Vec<libc::pthread_t>>>);

impl ThreadClocks {
    fn register_current(&self) {
        // SAFETY: pthread_self has no preconditions.
        let thread = unsafe { libc::pthread_self() };
        self.0.lock().expect("clock list").push(thread);
    }

    /// Total CPU time of the registered threads that are still alive.
    fn total(&self) -> Duration {
        let threads = self.0.lock().expect("clock list");
        threads
            .iter()
            .map(|&thread| {
                let mut clock: libc::clockid_t = 0;
                let mut time = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                // SAFETY: the threads are runtime workers that live as long as their runtime,
                // which outlives every call of `total`; both out-pointers are valid.
                let ok = unsafe {
                    libc::pthread_getcpuclockid(thread, &mut clock) == 0
                        && libc::clock_gettime(clock, &mut time) == 0
                };
                if ok {
                    Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
                } else {
                    Duration::ZERO
                }
            })
            .sum()
    }
}

/// CPU time of the whole process (user + system), the bound on client + sandbox together.
fn process_cpu() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer, RUSAGE_SELF.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn runtime(name: &str, clocks: &ThreadClocks) -> tokio::runtime::Runtime {
    let clocks = clocks.clone();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .on_thread_start(move || clocks.register_current())
        .build()
        .expect("tokio runtime")
}

#[derive(Default)]
struct CpuTally {
    requests: u64,
    wall: Duration,
    client: Duration,
    sandbox: Duration,
    process: Duration,
}

fn roundtrip(c: &mut Criterion, summary: &Summary) {
    let client_clocks = ThreadClocks::default();
    let sandbox_clocks = ThreadClocks::default();
    // Two runtimes so the two sides run on threads we can tell apart. The sandbox is the
    // platform's stand-in: its signing and verification are not the client's cost.
    let sandbox_rt = runtime("sandbox", &sandbox_clocks);
    let client_rt = runtime("client", &client_clocks);
    let sandbox = sandbox_rt
        .block_on(wxpay_sandbox::Sandbox::start())
        .expect("start the sandbox on 127.0.0.1");
    let stock_id = sandbox
        .favor_stock_ids()
        .first()
        .expect("the sandbox has a favor stock")
        .clone();

    let mut group = c.benchmark_group("roundtrip");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(1));
    for &backend in CryptoBackend::all() {
        let client = client_rt.block_on(async { client_for(&sandbox, backend) });
        let query = QueryStock::new(QueryStockRequired {
            stock_id: stock_id.clone(),
            stock_creator_mchid: client.mchid().to_owned(),
        });
        // One call first: connection set up, and a check that the sandbox accepts it.
        client_rt
            .block_on(client.send(query.clone()))
            .expect("the sandbox answers QueryStock");
        for concurrency in [1u64, 64] {
            let tally = Arc::new(Mutex::new(CpuTally::default()));
            group.bench_function(format!("c{concurrency}/{}", backend.name()), |b| {
                b.iter_custom(|iters| {
                    let (client_before, sandbox_before, process_before) =
                        (client_clocks.total(), sandbox_clocks.total(), process_cpu());
                    let start = Instant::now();
                    client_rt.block_on(async {
                        let tasks: Vec<_> = (0..concurrency)
                            .map(|task| {
                                let n = iters / concurrency + u64::from(task < iters % concurrency);
                                let client = client.clone();
                                let query = query.clone();
                                tokio::spawn(async move {
                                    for _ in 0..n {
                                        client.send(query.clone()).await.expect("QueryStock");
                                    }
                                })
                            })
                            .collect();
                        for task in tasks {
                            task.await.expect("request task");
                        }
                    });
                    let wall = start.elapsed();
                    let mut tally = tally.lock().expect("tally");
                    tally.requests += iters;
                    tally.wall += wall;
                    tally.client += client_clocks.total() - client_before;
                    tally.sandbox += sandbox_clocks.total() - sandbox_before;
                    tally.process += process_cpu() - process_before;
                    wall
                })
            });
            let tally = tally.lock().expect("tally");
            if tally.requests > 0 {
                let per = |d: Duration| d.as_secs_f64() * 1e6 / tally.requests as f64;
                let line = format!(
                    "roundtrip/c{concurrency}/{}: {:.0} req/s; CPU per request: client threads {:.0} µs, sandbox threads {:.0} µs, whole process {:.0} µs ({} requests)",
                    backend.name(),
                    tally.requests as f64 / tally.wall.as_secs_f64(),
                    per(tally.client),
                    per(tally.sandbox),
                    per(tally.process),
                    tally.requests,
                );
                eprintln!("{line}");
                summary.push(line);
            }
        }
    }
    group.finish();
    sandbox_rt.block_on(sandbox.shutdown());
}

fn client_for(sandbox: &wxpay_sandbox::Sandbox, backend: CryptoBackend) -> Client {
    let merchant = sandbox.merchant();
    let mut builder = Client::builder()
        .mchid(&merchant.mchid)
        .merchant_key(
            &merchant.merchant_serial,
            merchant
                .merchant_private_key_pem
                .as_ref()
                .expect("generated key")
                .expose(),
        )
        .base_url(sandbox.base_url())
        .crypto_backend(backend);
    if let Some(certificate) = &merchant.platform_certificate_pem {
        builder = builder.platform_certificate(certificate);
    }
    if let (Some(id), Some(key)) = (&merchant.public_key_id, &merchant.platform_public_key_pem) {
        builder = builder.platform_public_key(id, key);
    }
    builder.build().expect("a client for the sandbox")
}

// ---------------------------------------------------------------------------------------------
// Ratios from one run: each operation interleaved with its floor.

#[derive(Default)]
struct Summary(Mutex<Vec<String>>);

impl Summary {
    fn push(&self, line: String) {
        self.0.lock().expect("summary").push(line);
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Median time of `floor` and of `operation`, measured alternately `rounds` times, so that a
/// neighbour's load on the shared machine falls on both alike.
fn interleaved(
    rounds: usize,
    mut floor: impl FnMut(),
    mut operation: impl FnMut(),
) -> (Duration, Duration) {
    let (mut floors, mut operations) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        floor();
        floors.push(start.elapsed());
        let start = Instant::now();
        operation();
        operations.push(start.elapsed());
    }
    (median(floors), median(operations))
}

fn ratios(all: &[Keys], rounds: usize, summary: &Summary) {
    let now = unix_now();
    let message: Vec<u8> = (0..300u32).map(|i| b'a' + (i % 26) as u8).collect();
    for keys in all {
        let name = keys.backend.name();
        let line = |what: &str, floor_name: &str, (floor, time): (Duration, Duration)| {
            summary.push(format!(
                "{what}/{name}: {:.1} µs, {floor_name} {:.1} µs, ratio {:.3}",
                time.as_secs_f64() * 1e6,
                floor.as_secs_f64() * 1e6,
                time.as_secs_f64() / floor.as_secs_f64(),
            ));
        };
        let sign = || {
            black_box(keys.merchant.sign(black_box(&message)).expect("sign"));
        };
        let pause = pause_stock();
        line(
            "prepare",
            "raw_sign",
            interleaved(rounds, sign, || {
                black_box(prepare(black_box(&pause), keys, now));
            }),
        );
        let coupon = send_multiuse_coupon();
        line(
            "prepare_encrypted",
            "raw_sign",
            interleaved(rounds, sign, || {
                black_box(prepare(black_box(&coupon), keys, now));
            }),
        );
        let signature = keys.platform_signer.sign(&message).expect("sign");
        let platform = keys.platform.get(PUBLIC_KEY_ID).expect("platform key");
        let body = Bytes::from_static(PAUSE_ANSWER);
        let headers = keys.signed_answer_headers(now, &body);
        // Ten verifications per sample: one is short enough for timer resolution to matter.
        line(
            "verify_response(x10)",
            "raw_verify(x10)",
            interleaved(
                rounds,
                || {
                    for _ in 0..10 {
                        black_box(platform.verify(black_box(&message), black_box(&signature)));
                    }
                },
                || {
                    for _ in 0..10 {
                        black_box(verify_response(answer(&headers, &body), keys, now));
                    }
                },
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Instruction counts: `WXPAY_BENCH_CALLGRIND=<backend>` runs each operation a few times in a
// function of its own and exits, for `valgrind --tool=callgrind` (see BENCHMARKS.md), whose
// inclusive counts per function are deterministic where wall time on a shared machine is not.

const CALLGRIND_ROUNDS: usize = 5;

#[inline(never)]
fn callgrind_raw_sign(keys: &Keys, message: &[u8]) {
    for _ in 0..CALLGRIND_ROUNDS {
        black_box(keys.merchant.sign(black_box(message)).expect("sign"));
    }
}

#[inline(never)]
fn callgrind_prepare(keys: &Keys, now: i64) {
    let endpoint = pause_stock();
    for _ in 0..CALLGRIND_ROUNDS {
        black_box(prepare(black_box(&endpoint), keys, now));
    }
}

#[inline(never)]
fn callgrind_prepare_encrypted(keys: &Keys, now: i64) {
    let endpoint = send_multiuse_coupon();
    for _ in 0..CALLGRIND_ROUNDS {
        black_box(prepare(black_box(&endpoint), keys, now));
    }
}

#[inline(never)]
fn callgrind_raw_verify(platform: &PlatformKey, message: &[u8], signature: &str) {
    for _ in 0..CALLGRIND_ROUNDS {
        black_box(platform.verify(black_box(message), black_box(signature)));
    }
}

#[inline(never)]
fn callgrind_verify_response(keys: &Keys, responses: Vec<http::Response<Bytes>>, now: i64) {
    for response in responses {
        black_box(verify_response(response, keys, now));
    }
}

fn callgrind(keys: &Keys) {
    let now = unix_now();
    let message: Vec<u8> = (0..300u32).map(|i| b'a' + (i % 26) as u8).collect();
    let signature = keys.platform_signer.sign(&message).expect("sign");
    let platform = keys.platform.get(PUBLIC_KEY_ID).expect("platform key");
    let body = Bytes::from_static(PAUSE_ANSWER);
    let headers = keys.signed_answer_headers(now, &body);
    let responses = (0..CALLGRIND_ROUNDS)
        .map(|_| answer(&headers, &body))
        .collect();
    // Once each first, so one-time initialisation is not counted in the functions below.
    black_box(prepare(&send_multiuse_coupon(), keys, now));
    black_box(verify_response(answer(&headers, &body), keys, now));
    callgrind_raw_sign(keys, &message);
    callgrind_prepare(keys, now);
    callgrind_prepare_encrypted(keys, now);
    callgrind_raw_verify(platform, &message, &signature);
    callgrind_verify_response(keys, responses, now);
}

fn main() {
    if let Ok(backend) = std::env::var("WXPAY_BENCH_CALLGRIND") {
        let backend = CryptoBackend::all()
            .iter()
            .copied()
            .find(|b| b.name() == backend)
            .expect("WXPAY_BENCH_CALLGRIND names a compiled-in backend");
        callgrind(&Keys::new(backend));
        return;
    }

    let all: Vec<Keys> = CryptoBackend::all().iter().map(|&b| Keys::new(b)).collect();
    report_allocations(&all);

    let summary = Summary::default();
    // Criterion's own rule: without `--bench` (as under `cargo test`) every benchmark runs once.
    let args: Vec<String> = std::env::args().collect();
    let quick = !args.iter().any(|arg| arg == "--bench")
        || args.iter().any(|arg| arg == "--test" || arg == "--list");
    ratios(&all, if quick { 5 } else { 400 }, &summary);

    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    crypto(&mut c, &all);
    requests(&mut c, &all);
    roundtrip(&mut c, &summary);
    c.final_summary();
    for line in summary.0.lock().expect("summary").iter() {
        eprintln!("summary: {line}");
    }
}
