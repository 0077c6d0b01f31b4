//! What is sent is what is signed. A request the URL layer would rewrite after signing (dot
//! segments, `%2E%2E`, `\`, `#`, `?`, non-ASCII, `@host:port` templates) is refused before
//! anything is sent; everything else reaches a loopback server whose bytes — request line and
//! body — verify against the merchant's signature as the platform would check it.

use crate::common;
use crate::loopback;

use std::time::Duration;

use common::key;
use loopback::{Arrival, Loopback, answer, closed_port};
use proptest::prelude::*;
use wxpay_core::{
    Client, Download, DownloadError, Endpoint, Error, FileCheck, PlatformKey, RequestError,
    RequestWriter, RetryPolicy,
};

fn client(base_url: &str) -> Client {
    loopback::merchant(base_url)
        .retry_policy(RetryPolicy::never())
        .timeouts(Duration::from_secs(2), Duration::from_secs(2))
        .build()
        .expect("client")
}

/// Checks `Authorization` over the bytes that arrived, as the platform does: method, request
/// target, timestamp, nonce and body, with the merchant's public key.
fn signed_as_received(arrival: &Arrival) -> bool {
    let merchant =
        PlatformKey::from_public_key_pem("PUB_KEY_ID_TEST_MERCHANT", &key("TEST_merchant_pub.pem"))
            .expect("merchant public key");
    let Some(fields) = arrival
        .header("authorization")
        .and_then(|v| v.strip_prefix("WECHATPAY2-SHA256-RSA2048 "))
    else {
        return false;
    };
    let field = |name: &str| {
        fields.split(',').find_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            (n == name).then(|| v.trim_matches('"').to_owned())
        })
    };
    let (Some(timestamp), Some(nonce), Some(signature)) =
        (field("timestamp"), field("nonce_str"), field("signature"))
    else {
        return false;
    };
    let mut message = format!(
        "{}\n{}\n{timestamp}\n{nonce}\n",
        arrival.method, arrival.target
    )
    .into_bytes();
    message.extend_from_slice(&arrival.body);
    message.push(b'\n');
    merchant.verify(&message, &signature)
}

fn refused(result: &Result<serde_json::Value, Error>) -> bool {
    matches!(result, Err(Error::Request(_)))
}

fn reason(result: Result<serde_json::Value, Error>) -> String {
    match result {
        Err(Error::Request(RequestError::Field { reason, .. })) => reason,
        other => panic!("expected a refused request, got {other:?}"),
    }
}

async fn platform() -> Loopback {
    Loopback::answering(answer(204, "", b"")).await
}

#[tokio::test]
async fn dot_segment_values_are_refused_before_sending() {
    let platform = platform().await;
    let client = client(&platform.url);
    for value in [".", ".."] {
        let result = client
            .get("/v3/marketing/favor/stocks/{id}")
            .path("id", value)
            .send()
            .await;
        assert!(reason(result).contains("dot segment"), "{value:?}");
    }
    // Encoded `%` keeps these from ever being dot segments: sent as signed.
    for value in ["%2E%2E", "%2e", "...", ".a"] {
        let result: Result<serde_json::Value, Error> = client
            .get("/v3/marketing/favor/stocks/{id}")
            .path("id", value)
            .send()
            .await;
        assert!(!refused(&result), "{value:?}: {result:?}");
    }
    let arrivals = platform.arrivals();
    assert_eq!(arrivals.len(), 4);
    assert!(arrivals.iter().all(signed_as_received), "{arrivals:?}");
    assert_eq!(arrivals[0].target, "/v3/marketing/favor/stocks/%252E%252E");
}

/// A hand-written declared endpoint with one path field.
struct QueryStock {
    stock_id: String,
}

impl Endpoint for QueryStock {
    type Response = serde_json::Value;
    const METHOD: http::Method = http::Method::GET;
    const PATH_TEMPLATE: &'static str = "/v3/marketing/favor/stocks/{stock_id}";

    fn write_request(&self, request: &mut RequestWriter<'_>) -> Result<(), RequestError> {
        request.path_literal("/v3/marketing/favor/stocks/");
        request.path_param("stock_id", &self.stock_id)
    }

    fn decode_response(body: &[u8]) -> Result<Self::Response, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

#[tokio::test]
async fn dot_segment_values_of_declared_endpoints_are_refused() {
    let platform = platform().await;
    let client = client(&platform.url);
    for value in [".", ".."] {
        let result = client
            .send(QueryStock {
                stock_id: value.into(),
            })
            .await;
        assert!(reason(result).contains("dot segment"), "{value:?}");
    }
    assert_eq!(platform.count(), 0);
}

#[tokio::test]
async fn templates_the_url_layer_would_rewrite_are_refused_before_signing() {
    let platform = platform().await;
    let thief = Loopback::answering(answer(200, "", b"{}")).await;
    let thief_authority = thief.url.trim_start_matches("http://").to_owned();
    let client = client(&platform.url);
    let bad = [
        "/v3/marketing/../favor".to_owned(),
        "/v3/./favor".to_owned(),
        "/v3/%2E%2E/favor".to_owned(),
        "/v3/.%2e/favor".to_owned(),
        "/v3/favor/%2e".to_owned(),
        "/v3/favor\\stocks".to_owned(),
        "/v3/favor#fragment".to_owned(),
        "/v3/favor?limit=1".to_owned(),
        "/v3/favor/stocks'".to_owned() + "?a='b'",
        "/v3/favor/券".to_owned(),
        "/v3/favor stocks".to_owned(),
        "/v3/favor/%zz".to_owned(),
        "/v3//favor".to_owned(),
        format!("@{thief_authority}/v3/favor"),
        format!("//{thief_authority}/v3/favor"),
        "v3/favor".to_owned(),
        "/v2/favor".to_owned(),
        "/v3/favor/{id}x".to_owned(),
        "/v3/favor/{}".to_owned(),
        String::new(),
    ];
    for template in &bad {
        let result = client.get(template).path("id", "1").send().await;
        assert!(refused(&result), "{template:?}: {result:?}");
    }
    assert_eq!(platform.count(), 0);
    assert_eq!(thief.count(), 0);
    // The documented prefixes, a trailing slash and encoded characters pass.
    for template in [
        "/v3/applyment4sub/applyment/",
        "/hk/v3/transactions/id/{id}",
        "/global/v3/transactions/id/{id}",
        "/v3/merchant-service/complaints-v2/{id}",
        "/v3/a%20b/{id}",
    ] {
        let mut request = client.get(template);
        if template.contains("{id}") {
            request = request.path("id", "1");
        }
        let result = request.send().await;
        assert!(!refused(&result), "{template:?}: {result:?}");
    }
    let arrivals = platform.arrivals();
    assert_eq!(arrivals.len(), 5);
    assert!(arrivals.iter().all(signed_as_received));
}

#[tokio::test]
async fn framing_and_signing_headers_are_refused_on_the_dynamic_client() {
    let platform = platform().await;
    let client = client(&platform.url);
    for name in [
        "Content-Length",
        "transfer-encoding",
        "Host",
        "Connection",
        "Authorization",
        "Upgrade",
        "TE",
    ] {
        let result = client
            .post("/v3/marketing/favor/coupon-stocks")
            .header(name, "0")
            .json(&serde_json::json!({"stock_name": "a"}))
            .send()
            .await;
        assert!(
            reason(result).contains("cannot be set"),
            "{name} must be refused"
        );
    }
    assert_eq!(platform.count(), 0);
    // An ordinary header goes through, and the body with it.
    let result: Result<serde_json::Value, Error> = client
        .post("/v3/marketing/favor/coupon-stocks")
        .header("Idempotency-Key", "k1")
        .json(&serde_json::json!({"stock_name": "a"}))
        .send()
        .await;
    assert!(!refused(&result));
    let arrivals = platform.arrivals();
    assert_eq!(arrivals[0].body, br#"{"stock_name":"a"}"#);
    assert!(signed_as_received(&arrivals[0]));
}

#[tokio::test]
async fn download_urls_follow_the_same_rule_and_errors_keep_the_token_out() {
    let platform = platform().await;
    let client = client(&platform.url);
    let base = &platform.url;
    for url in [
        format!("{base}/v3/billdownload/../file?token=SECRET_TOKEN"),
        format!("{base}/v3/billdownload/%2E%2E/file?token=SECRET_TOKEN"),
        format!("{base}/v3/billdownload\\file?token=SECRET_TOKEN"),
        format!("{base}/v3/billdownload/file?token='SECRET_TOKEN'"),
        format!("{base}/v3/billdownload/文件?token=SECRET_TOKEN"),
        format!("{base}/v3/billdownload/file?token=SECRET_TOKEN#x"),
        format!("{base}/x/billdownload/file?token=SECRET_TOKEN"),
        format!("{base}@127.0.0.1:9/v3/billdownload/file?token=SECRET_TOKEN"),
        "http://127.0.0.2:9/v3/billdownload/file?token=SECRET_TOKEN".to_owned(),
    ] {
        let download = Download::new(&url, FileCheck::digest("SHA1", "00"));
        match client.download(&download, &mut Vec::new()).await {
            Err(Error::Download(error @ DownloadError::Url(_))) => {
                assert!(
                    !error.to_string().contains("SECRET_TOKEN"),
                    "the token leaked: {error}"
                );
            }
            other => panic!("{url}: expected a refused URL, got {other:?}"),
        }
    }
    assert_eq!(platform.count(), 0);
}

/// Characters to draw from: every code point U+0000–U+00FF (all bytes a Latin-1 mind might
/// send), some multi-byte ones, and the pieces URL layers treat specially.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => (0u32..=0xFF).prop_map(|c| char::from_u32(c).map(String::from).unwrap_or_default()),
        1 => prop::sample::select(vec!["券", "中", "😀", "\u{2028}", "\u{FEFF}", "\u{FFFD}"])
            .prop_map(str::to_owned),
        1 => prop::sample::select(vec![".", "..", "%2E", "%2e", "/", "\\", "?", "#", "%", "@", "'", "{", "}"])
            .prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

struct Bench {
    runtime: tokio::runtime::Runtime,
    platform: Loopback,
    thief: Loopback,
    client: Client,
}

fn bench() -> Bench {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (platform, thief) = runtime.block_on(async { (platform().await, platform().await) });
    let client = client(&platform.url);
    Bench {
        runtime,
        platform,
        thief,
        client,
    }
}

impl Bench {
    /// Sends one request and checks the invariant: refused with nothing sent, or the bytes
    /// that arrived are the bytes that were signed.
    fn check(
        &self,
        send: impl std::future::Future<Output = Result<serde_json::Value, Error>>,
    ) -> Result<(), TestCaseError> {
        let before = self.platform.count();
        let result = self.runtime.block_on(send);
        let after = self.platform.arrivals();
        prop_assert_eq!(self.thief.count(), 0);
        if refused(&result) {
            prop_assert_eq!(after.len(), before, "refused, yet sent: {:?}", result);
        } else {
            prop_assert_eq!(after.len(), before + 1, "{:?}", result);
            let arrival = &after[before];
            prop_assert!(signed_as_received(arrival), "rewritten: {:?}", arrival);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn path_values_query_names_and_values_are_sent_as_signed(
        segment in prop_oneof![3 => text(), 1 => prop::sample::select(vec![".", ".."]).prop_map(str::to_owned)],
        name in text(), value in text(), body in text()
    ) {
        let bench = bench();
        bench.check(bench.client
            .post("/v3/marketing/favor/stocks/{id}/pause")
            .path("id", &segment)
            .query(&name, &value)
            .json(&serde_json::json!({ "memo": body }))
            .send())?;
        bench.check(bench.client.send(QueryStock { stock_id: segment.clone() }))?;
    }

    #[test]
    fn templates_are_sent_as_signed_or_refused(
        prefix in prop::sample::select(vec!["/v3/", "/hk/v3/", "/global/v3/", "", "/", "@", "//"]),
        first in text(), second in text(), value in text()
    ) {
        let bench = bench();
        let thief = bench.thief.url.trim_start_matches("http://");
        let prefix = if prefix == "@" || prefix == "//" { format!("{prefix}{thief}/v3/") } else { prefix.to_owned() };
        let template = format!("{prefix}{first}/{{id}}/{second}");
        bench.check(bench.client.get(&template).path("id", &value).send())?;
    }
}

#[tokio::test]
async fn the_property_bench_sees_an_unreachable_platform_as_sent_not_refused() {
    // Guards the property's classification: a transport failure is not mistaken for a refusal.
    let closed = closed_port();
    let client = client(&closed.url());
    let result: Result<serde_json::Value, Error> =
        client.get("/v3/x/{id}").path("id", "1").send().await;
    assert!(!refused(&result));
}

#[tokio::test]
async fn a_refused_template_sends_nothing_not_even_the_first_certificate_download() {
    let platform = platform().await;
    let config = common::config();
    let client = Client::builder()
        .mchid(common::s(&config, "mchid"))
        .merchant_key(
            common::s(&config, "merchant_serial"),
            key("TEST_merchant_key.pem"),
        )
        .apiv3_key(common::s(&config, "apiv3_key"))
        .base_url(&platform.url)
        .build()
        .expect("client");
    let result: Result<serde_json::Value, Error> = client.get("/v3/a/../certificates").send().await;
    assert!(refused(&result), "{result:?}");
    assert_eq!(platform.count(), 0);
}
