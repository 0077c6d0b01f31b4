//! APIv3 never redirects. A followed redirect re-sends the signed request (body and
//! `Authorization` included) wherever `Location` points, and a retried one may act twice, so
//! every 3xx is refused as its own error on every path: declared and dynamic calls,
//! downloads and certificate downloads. The servers count what reached them.

use crate::common;
use crate::loopback;

use std::time::Duration;

use common::{config, s};
use loopback::{Loopback, answer, closed_port};
use wxpay_core::{Client, ClientBuilder, Download, Error, FileCheck, RetryPolicy};
use wxpay_core::{TransportError, TransportErrorKind};

fn builder(base_url: &str) -> ClientBuilder {
    loopback::merchant(base_url)
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(1)),
        )
        .timeouts(Duration::from_secs(2), Duration::from_secs(2))
}

fn redirected(result: Result<impl std::fmt::Debug, Error>) -> TransportError {
    match result {
        Err(Error::Transport(e)) if matches!(e.kind, TransportErrorKind::Redirect { .. }) => e,
        other => panic!("expected a refused redirect, got {other:?}"),
    }
}

async fn pause_stock(client: &Client) -> Result<serde_json::Value, Error> {
    client
        .post("/v3/marketing/favor/stocks/{stock_id}/pause")
        .path("stock_id", "9856888")
        .json(&serde_json::json!({"stock_creator_mchid": "1230000109"}))
        .send()
        .await
}

#[tokio::test]
async fn a_post_answered_302_to_a_closed_port_is_refused_once_not_retried() {
    let closed = closed_port();
    let elsewhere = closed.url();
    let elsewhere = elsewhere.as_str();
    let platform = Loopback::answering(answer(
        302,
        &format!("Location: {elsewhere}/v3/marketing/favor/stocks/9856888/pause\r\n"),
        b"",
    ))
    .await;
    let client = builder(&platform.url).build().expect("client");
    let error = redirected(pause_stock(&client).await);
    assert_eq!(error.kind, TransportErrorKind::Redirect { status: 302 });
    assert!(error.request_sent(), "the request reached a server");
    assert_eq!(
        error.redirect_location(),
        Some(format!("{elsewhere}/v3/marketing/favor/stocks/9856888/pause").as_str())
    );
    // The message says what happened; where it pointed is the cause, printed once.
    let cause = std::error::Error::source(&error).map(ToString::to_string);
    assert!(
        cause.is_some_and(|cause| cause.contains(elsewhere)),
        "{error:?}"
    );
    assert!(!error.to_string().contains(elsewhere), "{error}");
    assert_eq!(platform.count(), 1, "the POST arrived once and only once");
}

#[tokio::test]
async fn a_307_never_makes_the_backup_host_receive_the_post() {
    let backup = Loopback::answering(answer(200, "", b"{}")).await;
    let platform = Loopback::answering(answer(
        307,
        &format!(
            "Location: {}/v3/marketing/favor/stocks/9856888/pause\r\n",
            backup.url
        ),
        b"",
    ))
    .await;
    let client = builder(&platform.url)
        .backup_base_url(&backup.url)
        .build()
        .expect("client");
    redirected(pause_stock(&client).await);
    assert_eq!(platform.count(), 1);
    assert_eq!(backup.count(), 0, "neither followed nor failed over");
}

#[tokio::test]
async fn a_307_does_not_resend_the_body_or_authorization_anywhere() {
    let thief = Loopback::answering(answer(200, "", b"{}")).await;
    // A same-host redirect first (reqwest keeps `Authorization` on those), then elsewhere.
    let platform = Loopback::start({
        let thief = thief.url.clone();
        move |arrival| {
            let location = if arrival.target.contains("again") {
                format!("{thief}/steal")
            } else {
                "/v3/again".to_owned()
            };
            loopback::now(answer(307, &format!("Location: {location}\r\n"), b""))
        }
    })
    .await;
    let client = builder(&platform.url).build().expect("client");
    let error = redirected(pause_stock(&client).await);
    assert_eq!(error.redirect_location(), Some("/v3/again"));
    let arrivals = platform.arrivals();
    assert_eq!(arrivals.len(), 1, "{arrivals:?}");
    assert!(arrivals[0].header("authorization").is_some());
    assert_eq!(thief.count(), 0);
}

#[tokio::test]
async fn a_get_answered_301_is_not_retried_either() {
    let platform = Loopback::answering(answer(301, "Location: http://127.0.0.1:9/\r\n", b"")).await;
    let client = builder(&platform.url).build().expect("client");
    let result: Result<serde_json::Value, Error> = client
        .get("/v3/marketing/favor/stocks/{id}")
        .path("id", "1")
        .send()
        .await;
    assert_eq!(
        redirected(result).kind,
        TransportErrorKind::Redirect { status: 301 }
    );
    assert_eq!(
        platform.count(),
        1,
        "a redirect is an answer, not a failure"
    );
}

#[tokio::test]
async fn a_redirect_does_not_take_a_bill_download_past_the_host_allow_list() {
    let outside = Loopback::answering(answer(200, "", b"a,b\n")).await;
    let platform = Loopback::answering(answer(
        302,
        &format!("Location: {}/bill.csv\r\n", outside.url),
        b"",
    ))
    .await;
    let client = builder(&platform.url).build().expect("client");
    let download = Download::new(
        format!("{}/v3/billdownload/file?token=T", platform.url),
        FileCheck::digest("SHA1", "0000000000000000000000000000000000000000"),
    );
    let mut sink = Vec::new();
    redirected(client.download(&download, &mut sink).await);
    assert_eq!(platform.count(), 1);
    assert_eq!(outside.count(), 0);
    assert!(sink.is_empty());
}

#[tokio::test]
async fn a_redirected_certificate_download_is_refused() {
    let outside = Loopback::answering(answer(200, "", b"{\"data\":[]}")).await;
    let platform = Loopback::answering(answer(
        302,
        &format!("Location: {}/v3/certificates\r\n", outside.url),
        b"",
    ))
    .await;
    let client = builder(&platform.url)
        .apiv3_key(s(&config(), "apiv3_key"))
        .build()
        .expect("client");
    redirected(client.refresh_platform_certificates().await);
    assert_eq!(platform.count(), 1);
    assert_eq!(outside.count(), 0);
}

#[tokio::test]
async fn a_redirect_followed_by_a_callers_own_http_client_is_still_refused() {
    let elsewhere = Loopback::answering(answer(200, "", b"{}")).await;
    let platform = Loopback::answering(answer(
        302,
        &format!("Location: {}/v3/elsewhere\r\n", elsewhere.url),
        b"",
    ))
    .await;
    // reqwest's default policy follows up to 10 redirects.
    let client = builder(&platform.url)
        .http_client(reqwest::Client::new())
        .build()
        .expect("client");
    let error = redirected(pause_stock(&client).await);
    assert_eq!(error.kind, TransportErrorKind::Redirect { status: 0 });
    assert_eq!(
        error.redirect_location(),
        Some(format!("{}/v3/elsewhere", elsewhere.url).as_str())
    );
    assert_eq!(platform.count(), 1, "and not retried");
}
