//! The SDK against every fault the sandbox injects: the typed error the caller gets, and —
//! counted by the sandbox — whether the call was repeated. A POST that may have reached the
//! platform is sent once; one the platform refused or never saw may be sent again only when
//! repeating cannot act twice (here: GETs).

use std::time::Duration;

use wxpay::apis::marketing::favor::{
    QueryStock, QueryStockRequired, SendCoupon, SendCouponRequired, SendCouponResponse, Stock,
};
use wxpay::endpoint;
use wxpay::{Client, Error, RetryPolicy, TransportErrorKind, VerificationError};
use wxpay_sandbox::{Fault, FaultKind, FaultPlan, SANDBOX_APPID, Sandbox};

/// The catalog's `SendCoupon` without `idempotent`: what an endpoint declared without a
/// request number gets, so these tests see the rule for POSTs that must not be repeated.
#[endpoint(POST "/v3/marketing/favor/users/<openid>/coupons" -> SendCouponResponse)]
struct SendCouponOnce {
    openid: String,
    stock_id: String,
    out_request_no: String,
    appid: String,
    stock_creator_mchid: String,
}

const BODY_LIMIT: usize = 1 << 20;
/// Longer than any answer of an idle sandbox; the delay fault holds its answer far longer.
const TIMEOUT: Duration = Duration::from_secs(3);
const LONG_DELAY: Duration = Duration::from_secs(600);

fn client(sandbox: &Sandbox) -> Client {
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
        .timeouts(Duration::from_secs(5), TIMEOUT)
        .max_response_body(BODY_LIMIT)
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(1)),
        );
    if let Some(certificate) = &merchant.platform_certificate_pem {
        builder = builder.platform_certificate(certificate);
    }
    if let (Some(id), Some(key)) = (&merchant.public_key_id, &merchant.platform_public_key_pem) {
        builder = builder.platform_public_key(id, key);
    }
    builder.build().expect("client")
}

struct Setup {
    sandbox: Sandbox,
    client: Client,
}

async fn setup() -> Setup {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let client = client(&sandbox);
    Setup { sandbox, client }
}

impl Setup {
    async fn send_coupon(&self, out_request_no: &str) -> Result<SendCouponResponse, Error> {
        self.client
            .send(SendCouponOnce {
                openid: "oFaultUser".into(),
                stock_id: self.sandbox.favor_stock_ids()[0].clone(),
                out_request_no: out_request_no.into(),
                appid: SANDBOX_APPID.into(),
                stock_creator_mchid: self.client.mchid().into(),
            })
            .await
    }

    /// The catalog's idempotent declaration of the same call.
    async fn send_coupon_idempotent(
        &self,
        out_request_no: &str,
    ) -> Result<SendCouponResponse, Error> {
        self.client
            .send(SendCoupon::new(SendCouponRequired {
                openid: "oFaultUser".into(),
                appid: SANDBOX_APPID.into(),
                out_request_no: out_request_no.into(),
                stock_creator_mchid: self.client.mchid().into(),
                stock_id: self.sandbox.favor_stock_ids()[0].clone(),
            }))
            .await
    }

    async fn query_stock(&self) -> Result<Stock, Error> {
        self.client
            .send(QueryStock::new(QueryStockRequired {
                stock_id: self.sandbox.favor_stock_ids()[0].clone(),
                stock_creator_mchid: self.client.mchid().into(),
            }))
            .await
    }

    /// Requests that reached the sandbox so far.
    fn requests(&self) -> u64 {
        self.sandbox.fault_counts().requests
    }

    /// How many requests carrying `out_request_no` arrived.
    fn arrivals(&self, out_request_no: &str) -> u64 {
        self.sandbox
            .requests_per_out_request_no()
            .get(out_request_no)
            .copied()
            .unwrap_or(0)
    }

    /// Coupons the platform issued for `out_request_no`.
    fn issued(&self, out_request_no: &str) -> Vec<String> {
        self.sandbox
            .coupons_issued_per_request_no()
            .remove(out_request_no)
            .unwrap_or_default()
    }

    /// After a POST failed: it was sent once, and the platform acted iff `acted`. The app's
    /// own retry with the same `out_request_no` then gets one coupon, never two.
    async fn post_was_sent_once(&self, out_request_no: &str, acted: bool) {
        assert_eq!(self.arrivals(out_request_no), 1, "{out_request_no}");
        assert_eq!(self.issued(out_request_no).len(), usize::from(acted));
        let again = self.send_coupon(out_request_no).await.expect("app retry");
        assert_eq!(self.issued(out_request_no), vec![again.coupon_id]);
    }

    /// A GET with `count` faults of `fault` ahead of it succeeds after `count` retries.
    async fn get_absorbs(&self, fault: Fault, count: u64) {
        let before = self.requests();
        let injected = self.sandbox.fault_counts().of(fault.kind());
        self.sandbox.inject_faults(FaultPlan::next(count, fault));
        let stock = self.query_stock().await.expect("retried to success");
        assert_eq!(
            stock.stock_id.as_ref(),
            Some(&self.sandbox.favor_stock_ids()[0])
        );
        assert_eq!(self.requests() - before, count + 1, "{fault:?}");
        assert_eq!(
            self.sandbox.fault_counts().of(fault.kind()) - injected,
            count
        );
    }
}

fn transport(result: Result<impl std::fmt::Debug, Error>) -> (TransportErrorKind, bool) {
    match result {
        Err(Error::Transport(e)) => (e.kind, e.request_sent()),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

fn api(result: Result<impl std::fmt::Debug, Error>) -> Box<wxpay::ApiError> {
    match result {
        Err(Error::Api(e)) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_connection_dropped_before_processing() {
    let s = setup().await;
    s.sandbox
        .inject_faults(FaultPlan::next(1, Fault::DropBeforeProcessing));
    let (kind, sent) = transport(s.send_coupon("before-1").await);
    assert_eq!(kind, TransportErrorKind::Interrupted);
    assert!(sent, "the client cannot know the platform did not act");
    s.post_was_sent_once("before-1", false).await;
    s.get_absorbs(Fault::DropBeforeProcessing, 2).await;
}

#[tokio::test]
async fn a_connection_dropped_after_processing() {
    let s = setup().await;
    s.sandbox
        .inject_faults(FaultPlan::next(1, Fault::DropAfterProcessing));
    let (kind, sent) = transport(s.send_coupon("after-1").await);
    assert_eq!((kind, sent), (TransportErrorKind::Interrupted, true));
    s.post_was_sent_once("after-1", true).await;
    s.get_absorbs(Fault::DropAfterProcessing, 2).await;
}

#[tokio::test]
async fn server_errors_end_a_post_and_are_retried_for_a_get() {
    let s = setup().await;
    for (fault, status) in [(Fault::ServerError, 500), (Fault::Unavailable, 503)] {
        s.sandbox.inject_faults(FaultPlan::next(1, fault));
        let no = format!("status-{status}");
        let error = api(s.send_coupon(&no).await);
        assert_eq!(error.status.as_u16(), status);
        assert_eq!(error.code, "SYSTEM_ERROR");
        assert!(error.signature_verified);
        assert!(error.request_id.is_some());
        s.post_was_sent_once(&no, false).await;
        s.get_absorbs(fault, 2).await;
    }
}

#[tokio::test]
async fn a_429_ends_a_post_and_a_get_waits_and_retries() {
    let s = setup().await;
    s.sandbox
        .inject_faults(FaultPlan::next(1, Fault::RateLimited));
    let error = api(s.send_coupon("busy-1").await);
    assert_eq!(
        (error.status.as_u16(), error.code.as_str()),
        (429, "FREQUENCY_LIMITED")
    );
    assert!(error.signature_verified);
    s.post_was_sent_once("busy-1", false).await;
    s.get_absorbs(Fault::RateLimited, 1).await;
}

#[tokio::test]
async fn an_answer_held_past_the_timeout() {
    let s = setup().await;
    s.sandbox
        .inject_faults(FaultPlan::next(1, Fault::Delay(LONG_DELAY)));
    let (kind, sent) = transport(s.send_coupon("slow-1").await);
    assert_eq!((kind, sent), (TransportErrorKind::Timeout, true));
    s.post_was_sent_once("slow-1", true).await;
    s.get_absorbs(Fault::Delay(LONG_DELAY), 1).await;
}

#[tokio::test]
async fn a_truncated_answer() {
    let s = setup().await;
    s.sandbox.inject_faults(FaultPlan::next(1, Fault::Truncate));
    let (kind, sent) = transport(s.send_coupon("cut-1").await);
    assert_eq!((kind, sent), (TransportErrorKind::Interrupted, true));
    s.post_was_sent_once("cut-1", true).await;
    s.get_absorbs(Fault::Truncate, 2).await;
}

#[tokio::test]
async fn a_tampered_answer_is_never_data_and_never_retried() {
    let s = setup().await;
    s.sandbox.inject_faults(FaultPlan::next(1, Fault::Tamper));
    let result = s.send_coupon("tamper-1").await;
    assert!(
        matches!(
            &result,
            Err(Error::Verification {
                kind: VerificationError::BadSignature { .. },
                request_id: Some(_),
            })
        ),
        "{result:?}"
    );
    s.post_was_sent_once("tamper-1", true).await;
    s.sandbox.inject_faults(FaultPlan::next(1, Fault::Tamper));
    let before = s.requests();
    let result = s.query_stock().await;
    assert!(
        matches!(
            &result,
            Err(Error::Verification {
                kind: VerificationError::BadSignature { .. },
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(s.requests() - before, 1);
    assert_eq!(s.sandbox.fault_counts().of(FaultKind::Tamper), 2);
}

#[tokio::test]
async fn an_oversized_answer_is_too_large_and_never_retried() {
    let s = setup().await;
    s.sandbox
        .inject_faults(FaultPlan::next(1, Fault::Oversized));
    let (kind, sent) = transport(s.send_coupon("big-1").await);
    assert_eq!(
        (kind, sent),
        (TransportErrorKind::TooLarge { limit: BODY_LIMIT }, true)
    );
    s.post_was_sent_once("big-1", true).await;
    s.sandbox
        .inject_faults(FaultPlan::next(1, Fault::Oversized));
    let before = s.requests();
    let (kind, _) = transport(s.query_stock().await);
    assert_eq!(kind, TransportErrorKind::TooLarge { limit: BODY_LIMIT });
    assert_eq!(s.requests() - before, 1);
}

#[tokio::test]
async fn an_html_gateway_page_is_an_unverified_502() {
    let s = setup().await;
    s.sandbox.inject_faults(FaultPlan::next(1, Fault::Html));
    let error = api(s.send_coupon("html-1").await);
    assert_eq!(error.status.as_u16(), 502);
    assert_eq!(error.code, "");
    assert!(!error.signature_verified);
    assert!(
        error.message.contains("502 Bad Gateway"),
        "{}",
        error.message
    );
    s.post_was_sent_once("html-1", false).await;
    s.get_absorbs(Fault::Html, 2).await;
}

#[tokio::test]
async fn a_get_that_faults_on_every_attempt_ends_in_the_last_faults_error() {
    let s = setup().await;
    s.sandbox
        .inject_faults(FaultPlan::next(3, Fault::Unavailable));
    let error = api(s.query_stock().await);
    assert_eq!(error.status.as_u16(), 503);
    assert_eq!(s.requests(), 3);
}

#[tokio::test]
async fn an_idempotent_post_is_retried_after_the_platform_acted_and_issues_one_coupon() {
    let setup = setup().await;
    setup
        .sandbox
        .inject_faults(FaultPlan::next(1, Fault::DropAfterProcessing));
    let coupon = setup
        .send_coupon_idempotent("idem-1")
        .await
        .expect("the retry gets the answer");
    // Sent twice, acted on once: the platform's answer to the repeat is the first coupon.
    assert_eq!(setup.arrivals("idem-1"), 2);
    assert_eq!(setup.issued("idem-1"), vec![coupon.coupon_id]);
}
