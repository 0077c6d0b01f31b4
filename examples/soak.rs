//! Issue #6's proof: thousands of calls through the SDK against a sandbox that injects every
//! kind of fault, checking that no coupon is issued twice, no wrong answer is accepted, and
//! every error is the typed error of a fault that was injected on that call.
//!
//! ```text
//! cargo run --example soak                          # 20 000 calls, concurrency 64
//! WXPAY_SOAK_REQUESTS=2000 cargo run --example soak # fewer
//! ```
//!
//! The last line is `requests: N, ok: A, errors: E, duplicates: D, wrong successes: W`; the
//! exit status is non-zero when D or W is not 0 or when an error matches no injected fault.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wxpay::apis::marketing::favor::{
    QueryStock, QueryStockRequired, SendCoupon, SendCouponRequired,
};
use wxpay::apis::multiuse::{CardType, SendMultiuseCoupon, SendMultiuseCouponRequired};
use wxpay::{Client, ClientBuilder, Error, RetryPolicy, TransportErrorKind, VerificationError};
use wxpay_sandbox::{Fault, FaultKind, FaultPlan, InjectedFault, Sandbox};

const DEFAULT_REQUESTS: usize = 20_000;
const CONCURRENCY: usize = 64;
const FAULT_PROBABILITY: f64 = 0.02;
const SEED: u64 = 0x5eed_0006;
/// The client gives up on an answer after this long (a debug build of client and sandbox
/// sharing two cores at concurrency 64 answers in about 0.3 s on average, with a tail
/// that passes 0.5 s, so the timeout leaves room for that)…
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// …and the sandbox's delay fault holds its answer longer.
const FAULT_DELAY: Duration = Duration::from_secs(3);
/// Below the sandbox's oversized body (8 MiB).
const MAX_RESPONSE_BODY: usize = 1 << 20;

/// What one call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    QueryStock,
    SendCoupon,
    /// `SendCoupon` again with the `out_request_no` of an earlier call.
    RepeatCoupon,
    SendMultiuse,
}

/// One finished call.
struct Outcome {
    operation: Operation,
    /// `out_request_no` of a POST.
    out_request_no: Option<String>,
    result: Result<String, Error>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn requests_from_env() -> Result<usize, String> {
    match std::env::var("WXPAY_SOAK_REQUESTS") {
        Ok(text) => text
            .parse()
            .map_err(|_| format!("WXPAY_SOAK_REQUESTS={text:?} is not a number")),
        Err(_) => Ok(DEFAULT_REQUESTS),
    }
}

async fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let requests = requests_from_env()?;
    let sandbox = Sandbox::start().await?;
    let client = client_for(&sandbox)?;
    let stock_id = sandbox
        .favor_stock_ids()
        .first()
        .ok_or("the sandbox has no favor stock")?
        .clone();
    let multiuse_stock_id = sandbox
        .multiuse_stock_ids()
        .first()
        .ok_or("the sandbox has no multiuse stock")?
        .clone();
    sandbox.inject_faults(FaultPlan::random(
        FAULT_PROBABILITY,
        Fault::every_kind(FAULT_DELAY),
        SEED,
    ));
    println!(
        "soak: {requests} calls, concurrency {CONCURRENCY}, {}% faults of every kind (seed {SEED:#x}), timeout {} ms, delay fault {} ms",
        FAULT_PROBABILITY * 100.0,
        REQUEST_TIMEOUT.as_millis(),
        FAULT_DELAY.as_millis()
    );

    let started = Instant::now();
    let shared = Arc::new((client, stock_id.clone(), multiuse_stock_id));
    let mut workers = Vec::with_capacity(CONCURRENCY);
    for worker in 0..CONCURRENCY {
        let shared = shared.clone();
        workers.push(tokio::spawn(async move {
            let (client, stock_id, multiuse_stock_id) = &*shared;
            let mut outcomes = Vec::new();
            // Worker w makes calls w, w + 64, …, one after the other, so call i - 64 (the
            // one a repeat repeats) has finished before call i starts.
            for index in (worker..requests).step_by(CONCURRENCY) {
                outcomes.push(call(client, index, stock_id, multiuse_stock_id).await);
            }
            outcomes
        }));
    }
    let mut outcomes = Vec::with_capacity(requests);
    for worker in workers {
        outcomes.extend(worker.await?);
    }
    let elapsed = started.elapsed();
    sandbox.clear_faults();

    let report = check(&sandbox, &outcomes, &stock_id);
    let counts = sandbox.fault_counts();
    let injected: Vec<String> = FaultKind::ALL
        .iter()
        .map(|kind| format!("{kind} {}", counts.of(*kind)))
        .collect();
    println!(
        "sandbox: {} requests arrived, {} faults injected ({})",
        counts.requests,
        counts.total(),
        injected.join(", ")
    );
    let errors: Vec<String> = report
        .errors_by_kind
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    println!(
        "errors by the fault that caused them: {}",
        errors.join(", ")
    );
    println!(
        "idempotent POSTs the client repeated after a fault: {}; errors matching no injected fault: {}",
        report.resent, report.unexplained
    );
    println!(
        "took {:.1} s ({:.0} calls/s)",
        elapsed.as_secs_f64(),
        outcomes.len() as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
    );
    println!(
        "requests: {}, ok: {}, errors: {}, duplicates: {}, wrong successes: {}",
        outcomes.len(),
        report.ok,
        report.errors,
        report.duplicates,
        report.wrong_successes
    );
    // Repeats are expected: the coupon endpoints are declared idempotent, so the client retries
    // them after an unclear failure. What must never happen is a second coupon for one
    // request number (`duplicates`).
    Ok(report.duplicates == 0 && report.wrong_successes == 0 && report.unexplained == 0)
}

/// A client for the sandbox's merchant with a short timeout and a small body limit.
fn client_for(sandbox: &Sandbox) -> Result<Client, Box<dyn std::error::Error>> {
    Ok(ClientBuilder::from_settings(sandbox.settings())?
        .timeouts(Duration::from_secs(5), REQUEST_TIMEOUT)
        .max_response_body(MAX_RESPONSE_BODY)
        .retry_policy(RetryPolicy::default())
        .build()?)
}

fn favor_no(index: usize) -> String {
    format!("soak-favor-{index}")
}

/// Call `index`: half are stock queries, the rest coupons (a tenth repeats an earlier one).
async fn call(client: &Client, index: usize, stock_id: &str, multiuse_stock_id: &str) -> Outcome {
    let operation = match index % 10 {
        0..=4 => Operation::QueryStock,
        5..=7 => Operation::SendCoupon,
        8 => Operation::SendMultiuse,
        _ if index >= CONCURRENCY => Operation::RepeatCoupon,
        _ => Operation::SendCoupon,
    };
    let openid = format!("o-soak-{index}");
    match operation {
        Operation::QueryStock => {
            let result = client
                .send(QueryStock::new(QueryStockRequired {
                    stock_id: stock_id.to_owned(),
                    stock_creator_mchid: client.mchid().to_owned(),
                }))
                .await
                .map(|stock| stock.stock_id.unwrap_or_default());
            Outcome {
                operation,
                out_request_no: None,
                result,
            }
        }
        Operation::SendCoupon | Operation::RepeatCoupon => {
            // (index - 64) % 10 == 5 for a repeat: a SendCoupon made by this same worker,
            // whose openid the repeat must use too.
            let original = if operation == Operation::RepeatCoupon {
                index - CONCURRENCY
            } else {
                index
            };
            let out_request_no = favor_no(original);
            let result = client
                .send(SendCoupon::new(SendCouponRequired {
                    openid: format!("o-soak-{original}"),
                    appid: wxpay_sandbox::SANDBOX_APPID.to_owned(),
                    out_request_no: out_request_no.clone(),
                    stock_creator_mchid: client.mchid().to_owned(),
                    stock_id: stock_id.to_owned(),
                }))
                .await
                .map(|answer| answer.coupon_id);
            Outcome {
                operation,
                out_request_no: Some(out_request_no),
                result,
            }
        }
        Operation::SendMultiuse => {
            let out_request_no = format!("soak-multiuse-{index}");
            let result = client
                .send(
                    SendMultiuseCoupon::new(SendMultiuseCouponRequired {
                        openid,
                        appid: wxpay_sandbox::SANDBOX_APPID.to_owned(),
                        card_type: CardType::IdCard,
                        id_card_number: "110101199003072316".into(),
                        out_request_no: out_request_no.clone(),
                        stock_id: multiuse_stock_id.to_owned(),
                        user_name: "张三".into(),
                    })
                    .amount(100),
                )
                .await
                .map(|answer| answer.coupon_id);
            Outcome {
                operation,
                out_request_no: Some(out_request_no),
                result,
            }
        }
    }
}

#[derive(Default)]
struct Report {
    ok: usize,
    errors: usize,
    duplicates: usize,
    wrong_successes: usize,
    unexplained: usize,
    resent: usize,
    errors_by_kind: Vec<(FaultKind, usize)>,
}

/// The fault kinds that explain `error` (the fault of the last attempt, for a retried call).
fn explaining_kinds(error: &Error) -> &'static [FaultKind] {
    use FaultKind::*;
    match error {
        Error::Transport(e) => match e.kind {
            TransportErrorKind::Interrupted if e.request_sent() => {
                &[DropBeforeProcessing, DropAfterProcessing, Truncate]
            }
            TransportErrorKind::Timeout if e.request_sent() => &[Delay],
            TransportErrorKind::TooLarge { .. } => &[Oversized],
            _ => &[],
        },
        Error::Verification {
            kind: VerificationError::BadSignature { .. },
            ..
        } => &[Tamper],
        Error::Api(e) => match (e.status.as_u16(), e.code.as_str(), e.signature_verified) {
            (502, "", false) => &[Html],
            (500, "SYSTEM_ERROR", true) => &[ServerError],
            (503, "SYSTEM_ERROR", true) => &[Unavailable],
            (429, "FREQUENCY_LIMITED", true) => &[RateLimited],
            _ => &[],
        },
        _ => &[],
    }
}

/// Matches every error to an unclaimed injected fault on the same call (by `Request-ID`
/// when the error has one, else by method and `out_request_no`; stock queries all share one
/// key), and checks every success against the sandbox's state.
fn check(sandbox: &Sandbox, outcomes: &[Outcome], stock_id: &str) -> Report {
    let log = sandbox.fault_log();
    let mut claimed = vec![false; log.len()];
    let mut by_request_id: HashMap<&str, usize> = HashMap::new();
    let mut by_call: HashMap<(&str, Option<&str>), Vec<usize>> = HashMap::new();
    for (index, fault) in log.iter().enumerate() {
        if let Some(id) = &fault.request_id {
            by_request_id.insert(id, index);
        }
        by_call
            .entry((fault.method.as_str(), fault.out_request_no.as_deref()))
            .or_default()
            .push(index);
    }
    let issued = sandbox.coupons_issued_per_request_no();
    let arrivals = sandbox.requests_per_out_request_no();
    let mut report = Report::default();
    let mut sends: HashMap<&str, u64> = HashMap::new();
    let mut by_kind: HashMap<FaultKind, usize> = HashMap::new();
    for outcome in outcomes {
        let no = outcome.out_request_no.as_deref();
        if let Some(no) = no {
            *sends.entry(no).or_default() += 1;
        }
        let method = if outcome.operation == Operation::QueryStock {
            "GET"
        } else {
            "POST"
        };
        match &outcome.result {
            Ok(value) => {
                report.ok += 1;
                let right = match (outcome.operation, no) {
                    (Operation::QueryStock, _) => value == stock_id,
                    (_, Some(no)) => issued
                        .get(no)
                        .is_some_and(|ids| ids.as_slice() == std::slice::from_ref(value)),
                    (_, None) => false,
                };
                if !right {
                    report.wrong_successes += 1;
                    eprintln!(
                        "wrong success: {:?} {no:?} answered {value}",
                        outcome.operation
                    );
                }
            }
            Err(error) => {
                report.errors += 1;
                let kinds = explaining_kinds(error);
                let matches = |fault: &InjectedFault| {
                    fault.method == method
                        && fault.out_request_no.as_deref() == no
                        && kinds.contains(&fault.kind)
                };
                let found = match error.request_id().and_then(|id| by_request_id.get(id)) {
                    Some(&index) => (!claimed[index] && matches(&log[index])).then_some(index),
                    None => by_call.get(&(method, no)).and_then(|candidates| {
                        candidates
                            .iter()
                            .copied()
                            .find(|&index| !claimed[index] && matches(&log[index]))
                    }),
                };
                match found {
                    Some(index) => {
                        claimed[index] = true;
                        *by_kind.entry(log[index].kind).or_default() += 1;
                    }
                    None => {
                        report.unexplained += 1;
                        eprintln!("unexplained error: {:?} {no:?}: {error}", outcome.operation);
                    }
                }
            }
        }
    }
    report.duplicates = issued.values().filter(|ids| ids.len() > 1).count();
    for (no, arrived) in &arrivals {
        if *arrived > sends.get(no.as_str()).copied().unwrap_or(0) {
            report.resent += 1;
        }
    }
    let mut errors_by_kind: Vec<(FaultKind, usize)> = by_kind.into_iter().collect();
    errors_by_kind.sort();
    report.errors_by_kind = errors_by_kind;
    report
}
