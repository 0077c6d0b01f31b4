//! A raw HTTP/1.1 stand-in for the platform on 127.0.0.1 that records every request exactly
//! as it arrived (request line, headers, body bytes) and answers with scripted bytes, so tests
//! can count arrivals and compare what was received with what was signed.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub method: String,
    /// The request target exactly as sent: path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Arrival {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to send back: pieces written one after another, each after its delay, then the
/// connection is closed.
pub type Answer = Vec<(Duration, Vec<u8>)>;

/// A whole answer sent at once.
pub fn now(bytes: impl Into<Vec<u8>>) -> Answer {
    vec![(Duration::ZERO, bytes.into())]
}

/// `HTTP/1.1 {status}` with `extra` header lines (each ending `\r\n`) and `body`.
pub fn answer(status: u16, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status} X\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

pub struct Loopback {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
}

impl Loopback {
    /// Serves `respond` for every request until the test ends.
    pub async fn start(respond: impl Fn(&Arrival) -> Answer + Send + Sync + 'static) -> Loopback {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let recorded = arrivals.clone();
        let respond = Arc::new(respond);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let recorded = recorded.clone();
                let respond = respond.clone();
                tokio::spawn(async move {
                    let Some(arrival) = read_request(&mut stream).await else {
                        return;
                    };
                    let pieces = respond(&arrival);
                    recorded.lock().expect("lock").push(arrival);
                    for (delay, bytes) in pieces {
                        tokio::time::sleep(delay).await;
                        if stream.write_all(&bytes).await.is_err() {
                            return;
                        }
                        let _ = stream.flush().await;
                    }
                    let _ = stream.shutdown().await;
                });
            }
        });
        Loopback {
            url: format!("http://{address}"),
            arrivals,
        }
    }

    /// A server answering every request with the same bytes.
    pub async fn answering(bytes: Vec<u8>) -> Loopback {
        Loopback::start(move |_| now(bytes.clone())).await
    }

    pub fn count(&self) -> usize {
        self.arrivals.lock().expect("lock").len()
    }

    pub fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals.lock().expect("lock").clone()
    }
}

/// A client builder for the TEST merchant, trusting the TEST platform certificate, aimed at
/// `base_url`.
pub fn merchant(base_url: &str) -> wxpay_core::ClientBuilder {
    let config = crate::common::config();
    let s = |field| crate::common::s(&config, field).to_owned();
    wxpay_core::Client::builder()
        .mchid(s("mchid"))
        .merchant_key(
            s("merchant_serial"),
            crate::common::key("TEST_merchant_key.pem"),
        )
        .platform_certificate(crate::common::key("TEST_platform_cert.pem"))
        .base_url(base_url)
}

/// A URL on a port nothing listens on, for as long as the [`ClosedPort`] lives (the sandbox's
/// helper, shared by every test crate of the workspace).
///
/// [`ClosedPort`]: wxpay_sandbox::ClosedPort
pub fn closed_port() -> wxpay_sandbox::ClosedPort {
    wxpay_sandbox::ClosedPort::reserve().expect("reserve a loopback port")
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Arrival> {
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Arrival {
        method,
        target,
        headers,
        body,
    })
}
