//! Fault injection, seen from the wire by the independent raw client: each fault kind does
//! what it says, acts (or not) on the platform's state, and is counted.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Merchant, send};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wxpay_sandbox::{Fault, FaultKind, FaultPlan, OVERSIZED_BODY_BYTES, SANDBOX_APPID, Sandbox};

const COUPONS: &str = "/v3/marketing/favor/users/oFault/coupons";

fn coupon_body(sandbox: &Sandbox, out_request_no: &str) -> String {
    json!({
        "stock_id": sandbox.favor_stock_ids()[0],
        "out_request_no": out_request_no,
        "appid": SANDBOX_APPID,
        "stock_creator_mchid": sandbox.merchant().mchid,
    })
    .to_string()
}

/// One signed request on a fresh connection; everything the server sent before it closed
/// the connection (a reset counts as a close).
async fn raw_exchange(merchant: &Merchant, method: &str, url: &str, body: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(merchant.addr).await.expect("connect");
    let mut head = format!(
        "{method} {url} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        merchant.addr,
        body.len()
    );
    for (name, value) in merchant.headers(method, url, body) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body.as_bytes()).await.expect("write body");
    let mut raw = Vec::new();
    let mut buffer = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
        }
    }
    raw
}

fn head_and_body(raw: &[u8]) -> (String, &[u8]) {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    (
        String::from_utf8_lossy(&raw[..split]).into_owned(),
        &raw[split + 4..],
    )
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .expect("Content-Length")
}

fn issued(sandbox: &Sandbox, out_request_no: &str) -> usize {
    sandbox
        .coupons_issued_per_request_no()
        .get(out_request_no)
        .map_or(0, Vec::len)
}

async fn started() -> (Sandbox, Merchant) {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let merchant = Merchant::of(&sandbox);
    (sandbox, merchant)
}

#[tokio::test]
async fn drop_before_processing_sends_nothing_and_issues_nothing() {
    let (sandbox, merchant) = started().await;
    sandbox.inject_faults(FaultPlan::next(1, Fault::DropBeforeProcessing));
    let raw = raw_exchange(&merchant, "POST", COUPONS, &coupon_body(&sandbox, "drop-1")).await;
    assert!(
        raw.is_empty(),
        "no byte of an answer: {:?}",
        String::from_utf8_lossy(&raw)
    );
    assert_eq!(issued(&sandbox, "drop-1"), 0, "the platform never acted");
    assert_eq!(
        sandbox.fault_counts().of(FaultKind::DropBeforeProcessing),
        1
    );
    // The plan was for one request: the same request now goes through.
    let reply = merchant
        .verified("POST", COUPONS, &coupon_body(&sandbox, "drop-1"), &[])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(issued(&sandbox, "drop-1"), 1);
}

#[tokio::test]
async fn drop_after_processing_issues_the_coupon_but_sends_nothing() {
    let (sandbox, merchant) = started().await;
    sandbox.inject_faults(FaultPlan::next(1, Fault::DropAfterProcessing));
    let raw = raw_exchange(&merchant, "POST", COUPONS, &coupon_body(&sandbox, "drop-2")).await;
    assert!(raw.is_empty(), "{:?}", String::from_utf8_lossy(&raw));
    assert_eq!(issued(&sandbox, "drop-2"), 1, "the platform acted");
    // A repeat with the same out_request_no gets the same coupon, not a second one.
    let first = sandbox.coupons_issued_per_request_no()["drop-2"][0].clone();
    let reply = merchant
        .verified("POST", COUPONS, &coupon_body(&sandbox, "drop-2"), &[])
        .await;
    assert_eq!(reply.json()["coupon_id"], first.as_str());
    assert_eq!(issued(&sandbox, "drop-2"), 1);
    assert_eq!(sandbox.fault_counts().of(FaultKind::DropAfterProcessing), 1);
    assert_eq!(sandbox.requests_per_out_request_no()["drop-2"], 2);
}

#[tokio::test]
async fn server_errors_and_429_are_signed_platform_errors_and_act_on_nothing() {
    let (sandbox, merchant) = started().await;
    for (fault, status, code) in [
        (Fault::ServerError, 500, "SYSTEM_ERROR"),
        (Fault::Unavailable, 503, "SYSTEM_ERROR"),
        (Fault::RateLimited, 429, "FREQUENCY_LIMITED"),
    ] {
        sandbox.inject_faults(FaultPlan::next(1, fault));
        let no = format!("status-{status}");
        let reply = merchant
            .verified("POST", COUPONS, &coupon_body(&sandbox, &no), &[])
            .await;
        assert_eq!(reply.status, status);
        assert_eq!(reply.code(), code);
        assert!(reply.json()["message"].is_string());
        assert_eq!(
            reply.header("Retry-After"),
            (status == 429).then_some("1"),
            "{status}"
        );
        assert_eq!(issued(&sandbox, &no), 0, "{status}");
        assert_eq!(sandbox.fault_counts().of(fault.kind()), 1);
    }
}

#[tokio::test]
async fn a_delayed_answer_comes_late_after_the_platform_acted() {
    let (sandbox, merchant) = started().await;
    sandbox.inject_faults(FaultPlan::next(1, Fault::Delay(Duration::from_secs(600))));
    let body = coupon_body(&sandbox, "slow-1");
    let late = {
        let merchant = Merchant::of(&sandbox);
        let body = body.clone();
        tokio::spawn(async move { merchant.call("POST", COUPONS, &body).await })
    };
    // Processing happens before the delay: the coupon appears while the answer is held.
    // Bounded: the request is on loopback, so 10 s without the coupon is a failure.
    for _ in 0..2_000 {
        if issued(&sandbox, "slow-1") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        issued(&sandbox, "slow-1"),
        1,
        "the coupon was issued before the delay"
    );
    assert!(!late.is_finished(), "answered before its delay");
    late.abort();
    assert_eq!(sandbox.fault_counts().of(FaultKind::Delay), 1);
    // A short configured delay ends in the normal signed answer.
    sandbox.inject_faults(FaultPlan::next(1, Fault::Delay(Duration::from_millis(10))));
    let reply = merchant.verified("POST", COUPONS, &body, &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(issued(&sandbox, "slow-1"), 1);
}

#[tokio::test]
async fn a_truncated_answer_promises_more_than_it_sends() {
    let (sandbox, merchant) = started().await;
    sandbox.inject_faults(FaultPlan::next(1, Fault::Truncate));
    let raw = raw_exchange(&merchant, "POST", COUPONS, &coupon_body(&sandbox, "cut-1")).await;
    let (head, body) = head_and_body(&raw);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        body.len() < content_length(&head),
        "{} of {} bytes",
        body.len(),
        content_length(&head)
    );
    assert_eq!(issued(&sandbox, "cut-1"), 1);
    assert_eq!(sandbox.fault_counts().of(FaultKind::Truncate), 1);
}

#[tokio::test]
async fn a_tampered_answer_fails_its_signature_but_stays_json() {
    let (sandbox, merchant) = started().await;
    sandbox.inject_faults(FaultPlan::next(1, Fault::Tamper));
    let reply = merchant
        .call("POST", COUPONS, &coupon_body(&sandbox, "tamper-1"))
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("Wechatpay-Signature").is_some());
    assert!(reply.verify(&merchant.platform_key()).is_err());
    let issued_id = sandbox.coupons_issued_per_request_no()["tamper-1"][0].clone();
    let shown = reply.json()["coupon_id"]
        .as_str()
        .expect("coupon_id")
        .to_owned();
    assert_ne!(shown, issued_id, "the body was changed");
    assert_eq!(shown.len(), issued_id.len());
}

#[tokio::test]
async fn an_oversized_answer_is_8_mib() {
    let (sandbox, merchant) = started().await;
    let url = format!(
        "/v3/marketing/favor/stocks/{}?stock_creator_mchid={}",
        sandbox.favor_stock_ids()[0],
        merchant.mchid
    );
    sandbox.inject_faults(FaultPlan::next(1, Fault::Oversized));
    let reply = merchant.call("GET", &url, "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), OVERSIZED_BODY_BYTES);
    assert_eq!(sandbox.fault_counts().of(FaultKind::Oversized), 1);
}

#[tokio::test]
async fn html_is_an_unsigned_502_and_the_platform_never_acts() {
    let (sandbox, merchant) = started().await;
    sandbox.inject_faults(FaultPlan::next(1, Fault::Html));
    let reply = merchant
        .call("POST", COUPONS, &coupon_body(&sandbox, "html-1"))
        .await;
    assert_eq!(reply.status, 502);
    assert_eq!(reply.body, b"<html>502 Bad Gateway</html>");
    assert!(reply.header("Wechatpay-Signature").is_none());
    assert!(
        reply
            .header("Content-Type")
            .is_some_and(|v| v.starts_with("text/html"))
    );
    assert_eq!(issued(&sandbox, "html-1"), 0);
}

#[tokio::test]
async fn a_path_prefix_limits_the_plan_and_the_log_names_each_fault() {
    let (sandbox, merchant) = started().await;
    sandbox.inject_faults(FaultPlan::next(1, Fault::ServerError).path_prefix(COUPONS));
    let url = format!(
        "/v3/marketing/favor/stocks/{}?stock_creator_mchid={}",
        sandbox.favor_stock_ids()[0],
        merchant.mchid
    );
    assert_eq!(merchant.verified("GET", &url, "", &[]).await.status, 200);
    let reply = merchant
        .verified("POST", COUPONS, &coupon_body(&sandbox, "prefix-1"), &[])
        .await;
    assert_eq!(reply.status, 500);
    let log = sandbox.fault_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].kind, FaultKind::ServerError);
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].path, COUPONS);
    assert_eq!(log[0].out_request_no.as_deref(), Some("prefix-1"));
    assert_eq!(log[0].request_id.as_deref(), reply.header("Request-ID"));
    let counts = sandbox.fault_counts();
    assert_eq!((counts.requests, counts.total()), (2, 1));
}

#[tokio::test]
async fn a_seeded_random_plan_injects_the_same_faults_each_run() {
    async fn run() -> (Vec<FaultKind>, u64) {
        let (sandbox, merchant) = started().await;
        let faults = vec![Fault::ServerError, Fault::Html, Fault::Tamper];
        sandbox.inject_faults(FaultPlan::random(0.5, faults, 11));
        let url = format!(
            "/v3/marketing/favor/stocks/{}?stock_creator_mchid={}",
            sandbox.favor_stock_ids()[0],
            merchant.mchid
        );
        for _ in 0..20 {
            merchant.call("GET", &url, "").await;
        }
        sandbox.clear_faults();
        assert_eq!(merchant.verified("GET", &url, "", &[]).await.status, 200);
        let kinds = sandbox.fault_log().iter().map(|f| f.kind).collect();
        (kinds, sandbox.fault_counts().requests)
    }
    let (first, requests) = run().await;
    assert_eq!(requests, 21);
    assert!(!first.is_empty() && first.len() < 20, "{first:?}");
    assert_eq!(run().await.0, first);
}

#[tokio::test]
async fn the_control_endpoint_needs_no_signature_and_is_never_faulted() {
    let (sandbox, merchant) = started().await;
    let addr: SocketAddr = sandbox.local_addr();
    let json_headers = [("Content-Type".to_owned(), "application/json".to_owned())];
    let plan = json!({"next": 5, "fault": "html"}).to_string();
    let reply = send(
        addr,
        "POST",
        "/sandbox/faults",
        &json_headers,
        plan.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // The control endpoint itself is not faulted, however many calls.
    let reply = send(
        addr,
        "POST",
        "/sandbox/faults",
        &json_headers,
        plan.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["injected"]["html"], 0);
    let reply = merchant
        .call("POST", COUPONS, &coupon_body(&sandbox, "ctl-1"))
        .await;
    assert_eq!(reply.status, 502);
    let clear = json!({"clear": true}).to_string();
    let reply = send(
        addr,
        "POST",
        "/sandbox/faults",
        &json_headers,
        clear.as_bytes(),
    )
    .await;
    assert_eq!(reply.json()["injected"]["html"], 1);
    assert_eq!(reply.json()["requests"], 1);
    let reply = merchant
        .verified("POST", COUPONS, &coupon_body(&sandbox, "ctl-1"), &[])
        .await;
    assert_eq!(reply.status, 200);
    let bad = send(
        addr,
        "POST",
        "/sandbox/faults",
        &json_headers,
        b"{\"next\": 1}",
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.code(), "PARAM_ERROR");
    let _ = merchant;
}
