//! The client on a bad day: refused connections, dropped connections, 5xx, 429, slow and
//! oversized answers — each a typed error, retried only when a retry cannot act twice.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{config, key, s};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wxpay_core::{Client, Error, RetryPolicy, TransportErrorKind};

/// How the fake platform treats every connection.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Read the request, then close without answering.
    Drop,
    /// Answer with this status and body.
    Status(u16, &'static str),
    /// Never answer.
    Hang,
    /// Claim a body of this many bytes.
    Huge(usize),
}

/// Serves `behaviour` on 127.0.0.1 and counts the requests it read.
async fn fake_platform(behaviour: Behaviour) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 * 1024];
                let mut read = 0;
                // Read until the end of the headers (bodies here are small and come along).
                while !buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read += n,
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let answer = match behaviour {
                    Behaviour::Drop => return,
                    Behaviour::Hang => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                    Behaviour::Status(status, extra) => {
                        format!(
                            "HTTP/1.1 {status} X\r\n{extra}Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
                        )
                    }
                    Behaviour::Huge(length) => {
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
                        )
                    }
                };
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (format!("http://{address}"), count)
}

fn client(base_url: &str, retry: RetryPolicy) -> Client {
    let config = config();
    Client::builder()
        .mchid(s(&config, "mchid"))
        .merchant_key(s(&config, "merchant_serial"), key("TEST_merchant_key.pem"))
        .platform_certificate(key("TEST_platform_cert.pem"))
        .base_url(base_url)
        .retry_policy(retry.base_delay(Duration::from_millis(1)))
        .timeouts(Duration::from_secs(2), Duration::from_millis(500))
        .max_response_body(1 << 20)
        .build()
        .expect("client")
}

fn transport_kind(result: Result<serde_json::Value, Error>) -> TransportErrorKind {
    match result {
        Err(Error::Transport(e)) => e.kind,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

async fn get(client: &Client) -> Result<serde_json::Value, Error> {
    client
        .get("/v3/marketing/favor/stocks/{id}")
        .path("id", "1")
        .send()
        .await
}

async fn post(client: &Client) -> Result<serde_json::Value, Error> {
    client
        .post("/v3/marketing/favor/coupon-stocks")
        .json(&serde_json::json!({"a": 1}))
        .send()
        .await
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error_for_any_method() {
    let closed = crate::loopback::closed_port();
    let client = client(&closed.url(), RetryPolicy::default());
    let err = post(&client).await.expect_err("refused");
    match &err {
        Error::Transport(e) => {
            assert_eq!(e.kind, TransportErrorKind::Connect);
            assert!(!e.request_sent());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_dropped_connection_is_retried_for_get_but_never_for_post() {
    let (url, count) = fake_platform(Behaviour::Drop).await;
    let client = client(&url, RetryPolicy::default().max_attempts(3));
    assert_eq!(
        transport_kind(post(&client).await),
        TransportErrorKind::Interrupted
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "a POST that may have arrived is not repeated"
    );

    count.store(0, Ordering::SeqCst);
    assert_eq!(
        transport_kind(get(&client).await),
        TransportErrorKind::Interrupted
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn server_errors_are_retried_for_get_only_and_end_as_the_platforms_error() {
    let (url, count) = fake_platform(Behaviour::Status(503, "")).await;
    let client = client(&url, RetryPolicy::default().max_attempts(3));
    assert!(matches!(post(&client).await, Err(Error::Api(ref e)) if e.status == 503));
    assert_eq!(count.load(Ordering::SeqCst), 1);
    count.store(0, Ordering::SeqCst);
    let result = get(&client).await;
    assert!(
        matches!(&result, Err(Error::Api(e)) if e.status == 503 && !e.signature_verified),
        "{result:?}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_ends_the_retries() {
    let (url, count) = fake_platform(Behaviour::Status(429, "Retry-After: 3600\r\n")).await;
    let client = client(&url, RetryPolicy::default().max_attempts(3));
    assert!(matches!(get(&client).await, Err(Error::Api(ref e)) if e.status == 429));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_retry_after_within_the_limit_is_waited_for() {
    let (url, count) = fake_platform(Behaviour::Status(429, "Retry-After: 1\r\n")).await;
    let client = client(&url, RetryPolicy::default().max_attempts(2));
    assert!(matches!(get(&client).await, Err(Error::Api(ref e)) if e.status == 429));
    // How long is the pure policy's business (retry.rs); here: the second attempt happened.
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let (url, count) = fake_platform(Behaviour::Hang).await;
    let client = client(&url, RetryPolicy::never());
    assert_eq!(
        transport_kind(post(&client).await),
        TransportErrorKind::Timeout
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_oversized_answer_is_an_error_not_an_allocation() {
    let (url, _) = fake_platform(Behaviour::Huge(64 << 20)).await;
    let client = client(&url, RetryPolicy::default());
    assert_eq!(
        transport_kind(get(&client).await),
        TransportErrorKind::TooLarge { limit: 1 << 20 }
    );
}

#[tokio::test]
async fn an_unsigned_success_from_an_impostor_is_forged() {
    let (url, _) = fake_platform(Behaviour::Status(200, "")).await;
    let client = client(&url, RetryPolicy::default());
    assert!(matches!(
        get(&client).await,
        Err(Error::Verification { .. })
    ));
}
