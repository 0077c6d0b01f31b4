//! Downloads against a hostile or slow download host: a slow but steady bill completes past
//! the per-call timeout, a stalled or endless one ends with its own error, a GZIP bomb or an
//! oversized file stops at its limit, trailing bytes are a malformed download, and a valid
//! multi-member GZIP is accepted.

use crate::loopback;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_compression::tokio::write::GzipEncoder;
use loopback::Loopback;
use sha1::Digest as _;
use tokio::io::AsyncWriteExt;
use wxpay_core::{
    Client, ClientBuilder, Compression, Download, DownloadError, Error, FileCheck, RetryPolicy,
};

fn builder(base_url: &str) -> ClientBuilder {
    // The per-call limit is short; downloads have their own.
    loopback::merchant(base_url)
        .retry_policy(RetryPolicy::never())
        .timeouts(Duration::from_secs(2), Duration::from_millis(400))
}

fn sha1_hex(bytes: &[u8]) -> String {
    sha1::Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzipEncoder::new(Vec::new());
    encoder.write_all(bytes).await.expect("gzip");
    encoder.shutdown().await.expect("gzip");
    encoder.into_inner()
}

fn head(length: Option<usize>) -> Vec<u8> {
    let length = length.map_or(String::new(), |l| format!("Content-Length: {l}\r\n"));
    format!("HTTP/1.1 200 OK\r\n{length}Connection: close\r\n\r\n").into_bytes()
}

/// A server sending `body` in `pieces` parts, `gap` apart.
async fn trickle(body: Vec<u8>, pieces: usize, gap: Duration) -> Loopback {
    Loopback::start(move |_| {
        let mut answer = vec![(Duration::ZERO, head(Some(body.len())))];
        let size = body.len().div_ceil(pieces).max(1);
        answer.extend(body.chunks(size).map(|c| (gap, c.to_vec())));
        answer
    })
    .await
}

fn bill(server: &Loopback, digest: &str, compression: Compression) -> Download {
    Download::new(
        format!("{}/v3/billdownload/file?token=T", server.url),
        FileCheck::digest("SHA1", digest).compression(compression),
    )
}

/// A server answering `body` whole.
async fn served(body: Vec<u8>) -> Loopback {
    Loopback::answering([head(Some(body.len())), body].concat()).await
}

/// Downloads from `server`, expecting exactly `file`, checked by its digest.
async fn delivered(client: &Client, server: &Loopback, file: &[u8], compression: Compression) {
    let mut written = Vec::new();
    let done = client
        .download(&bill(server, &sha1_hex(file), compression), &mut written)
        .await
        .expect("the whole file");
    assert_eq!(written, file);
    assert_eq!(done.bytes, file.len() as u64);
}

/// Downloads from `server` with a client of `builder` into `writer`, expecting it to fail.
async fn refused(
    builder: ClientBuilder,
    server: &Loopback,
    digest: &str,
    compression: Compression,
    writer: &mut (impl tokio::io::AsyncWrite + Unpin),
) -> DownloadError {
    let client = builder.build().expect("client");
    match client
        .download(&bill(server, digest, compression), writer)
        .await
    {
        Err(Error::Download(e)) => e,
        other => panic!("expected a download error, got {other:?}"),
    }
}

/// A file whose answer promised no digest (an e-invoice): any bytes are the file, and the
/// digest is still computed for the caller.
#[tokio::test]
async fn a_download_without_a_promised_digest_is_taken_as_served() {
    let pdf = b"%PDF-1.4\n% TEST e-invoice\n%%EOF\n".to_vec();
    let server = served(pdf.clone()).await;
    let client = builder(&server.url).build().expect("client");
    let download = Download::new(
        format!("{}/v3/new-tax-control-fapiao/download?token=T", server.url),
        FileCheck::unsigned(),
    );
    let mut written = Vec::new();
    let done = client
        .download(&download, &mut written)
        .await
        .expect("the file");
    assert_eq!(written, pdf);
    assert_eq!(done.digest, sha1_hex(&pdf));
}

#[tokio::test]
async fn a_slow_but_steady_bill_outlasts_the_per_call_timeout() {
    let csv: Vec<u8> = (0..2000)
        .flat_map(|i| format!("`row {i},`1.00\r\n").into_bytes())
        .collect();
    // Eight pieces 150 ms apart: 1.2 s in all, three times the 400 ms per-call limit.
    let server = trickle(csv.clone(), 8, Duration::from_millis(150)).await;
    let client = builder(&server.url)
        .download_timeouts(Duration::from_secs(2), None)
        .build()
        .expect("client");
    delivered(&client, &server, &csv, Compression::None).await;
}

#[tokio::test]
async fn a_stalled_download_ends_with_its_own_error() {
    let server = Loopback::start(|_| {
        vec![
            (Duration::ZERO, head(Some(100))),
            (Duration::ZERO, b"partial".to_vec()),
            (Duration::from_secs(30), b"never".to_vec()),
        ]
    })
    .await;
    let builder = builder(&server.url)
        .timeouts(Duration::from_secs(2), Duration::from_secs(30))
        .download_timeouts(Duration::from_millis(300), None);
    let error = refused(builder, &server, "00", Compression::None, &mut Vec::new()).await;
    assert!(
        matches!(error, DownloadError::Stalled { idle } if idle == Duration::from_millis(300)),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_endless_trickle_ends_at_the_overall_limit() {
    let server = trickle(vec![b'x'; 100], 100, Duration::from_millis(50)).await;
    let builder = builder(&server.url)
        .download_timeouts(Duration::from_secs(5), Some(Duration::from_millis(600)));
    let error = refused(builder, &server, "00", Compression::None, &mut Vec::new()).await;
    assert!(
        matches!(error, DownloadError::TimedOut { limit } if limit == Duration::from_millis(600)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_the_compression_ratio_limit() {
    // 32 MiB of zeros: about 32 KiB compressed, a ratio near gzip's ceiling of ~1030.
    let zeros = vec![0u8; 32 << 20];
    let bomb = gzip(&zeros).await;
    let server = served(bomb).await;
    let builder = builder(&server.url).timeouts(Duration::from_secs(2), Duration::from_secs(30));
    let mut written = Counting(0);
    let error = refused(builder, &server, "00", Compression::Gzip, &mut written).await;
    assert!(
        matches!(error, DownloadError::CompressionRatio { limit: 100 }),
        "{error:?}"
    );
    assert!(written.0 < 16 << 20, "stopped early: {} bytes", written.0);
}

#[tokio::test]
async fn a_file_over_the_size_limit_stops_there() {
    let body = vec![b'a'; 3 << 20];
    let server = served(body).await;
    let builder = builder(&server.url)
        .timeouts(Duration::from_secs(2), Duration::from_secs(30))
        .download_limits(1 << 20, 100);
    let mut written = Counting(0);
    let error = refused(builder, &server, "00", Compression::None, &mut written).await;
    assert!(
        matches!(error, DownloadError::TooLarge { limit } if limit == 1 << 20),
        "{error:?}"
    );
    assert!(written.0 <= 1 << 20);
}

#[tokio::test]
async fn gzip_with_trailing_bytes_empty_or_cut_short_is_malformed_not_a_write_failure() {
    let csv = b"`a,`b\r\n".repeat(100);
    let whole = gzip(&csv).await;
    let digest = sha1_hex(&csv);
    for body in [
        [whole.clone(), b"trailing garbage".to_vec()].concat(),
        Vec::new(),
        whole[..whole.len() / 2].to_vec(),
    ] {
        let server = served(body).await;
        let builder = builder(&server.url);
        let error = refused(
            builder,
            &server,
            &digest,
            Compression::Gzip,
            &mut Vec::new(),
        )
        .await;
        assert!(matches!(error, DownloadError::Decompress(_)), "{error:?}");
        assert!(error.to_string().contains("malformed"), "{error}");
    }
}

#[tokio::test]
async fn a_multi_member_gzip_is_one_file() {
    let (first, second) = (b"`a,`1\r\n".repeat(50), b"`b,`2\r\n".repeat(70));
    let body = [gzip(&first).await, gzip(&second).await].concat();
    let whole = [first, second].concat();
    let server = served(body).await;
    let client = builder(&server.url).build().expect("client");
    delivered(&client, &server, &whole, Compression::Gzip).await;
}

#[tokio::test]
async fn the_callers_failing_writer_is_still_a_write_error() {
    let csv = b"`a,`b\r\n".repeat(100);
    let body = gzip(&csv).await;
    let server = served(body).await;
    let mut full = [0u8; 10];
    let mut writer = std::io::Cursor::new(&mut full[..]);
    let digest = sha1_hex(&csv);
    let error = refused(
        builder(&server.url),
        &server,
        &digest,
        Compression::Gzip,
        &mut writer,
    )
    .await;
    assert!(matches!(error, DownloadError::Write(_)), "{error:?}");
}

/// A writer that only counts.
struct Counting(u64);

impl tokio::io::AsyncWrite for Counting {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0 += buf.len() as u64;
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_download_fails_over_to_the_backup_host_like_a_call() {
    let file = b"`row 1,`1.00\r\n".to_vec();
    let backup = served(file.clone()).await;
    let official = loopback::closed_port();
    let client = builder(&official.url())
        .backup_base_url(&backup.url)
        .build()
        .expect("client");
    let download = Download::new(
        format!("{}/v3/billdownload/file?token=T", official.url()),
        FileCheck::digest("SHA1", sha1_hex(&file)),
    );
    let mut written = Vec::new();
    client
        .download(&download, &mut written)
        .await
        .expect("the file, from the backup host");
    assert_eq!(written, file);
    assert_eq!(backup.count(), 1);
}

#[tokio::test]
async fn a_download_is_retried_like_a_get() {
    let file = b"`row 1,`1.00\r\n".to_vec();
    let served_file = [head(Some(file.len())), file.clone()].concat();
    let seen = AtomicUsize::new(0);
    let server = Loopback::start(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
        0 => loopback::now(loopback::answer(503, "", b"")),
        _ => loopback::now(served_file.clone()),
    })
    .await;
    let client = builder(&server.url)
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(1)))
        .build()
        .expect("client");
    delivered(&client, &server, &file, Compression::None).await;
    assert_eq!(
        server.count(),
        2,
        "the 503 was answered by a second attempt"
    );
}
