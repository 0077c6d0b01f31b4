//! Downloads: files the platform serves unsigned (bills), streamed to any
//! [`AsyncWrite`] while their digest is computed and checked.
//!
//! The request is signed like any other; the answer's body is not (the platform does not
//! sign files), so the digest promised by the signed answer that handed out the URL
//! (`hash_type`, `hash_value`) is what vouches for it. Memory stays flat whatever the size:
//! the body moves through in pieces of at most [`MAX_WRITE`] bytes, and GZIP is decompressed
//! through a fixed-size window.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::{fmt, io};

use std::cell::Cell;
use std::time::Duration;

use async_compression::tokio::bufread::GzipDecoder;
use bytes::Bytes;
use http::Method;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::Instant;
use url::{Position, Url};

use crate::client::Client;
use crate::crypto::Sha1;
use crate::endpoint::{Endpoint, RequestParts, RequestWriter, Streamed, write_apiv3};
use crate::error::{DownloadError, Error, TransportError, TransportErrorKind};
use crate::host::Host;
use crate::keys::PlatformKeys;
use crate::policy::DownloadLimits;
use crate::protocol;
use crate::transport::classify;
use crate::wire::{REQUEST_ID, encoding};

/// The most bytes handed to the writer in one `write` call.
pub const MAX_WRITE: usize = 16 * 1024;

/// Error answers of a download are JSON; more than this is not read.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Hosts a signed download request may go to besides the client's own base URLs: every
/// platform host and backup.
fn platform_hosts() -> impl Iterator<Item = &'static str> {
    Host::ALL
        .into_iter()
        .flat_map(|host| [Some(host.default_base_url()), host.default_backup_url()])
        .flatten()
}

/// The platform's file host, which the e-invoice links name, and the one path it serves
/// files under (not an APIv3 path).
const FILE_HOST: (&str, &str) = ("https://pay.wechatpay.cn", "/invoicing/");

/// The ratio is judged once this much is written: a small file's header and first block
/// can expand far more than a whole file does.
const RATIO_FLOOR: u64 = 1 << 20;

/// "No limit" for the HTTP client's own timer (a year).
const NO_LIMIT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// How the file is compressed on the wire (`tar_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compression {
    /// Plain bytes.
    #[default]
    None,
    /// GZIP (`tar_type=GZIP`): decompressed on the fly; the digest covers the decompressed file.
    Gzip,
}

/// A file a signed answer handed out: its `download_url`, and what vouches for it (the digest
/// the answer promised, or nothing but TLS to the platform's host when it promised none).
///
/// ```
/// use wxpay_core::{Compression, Download, FileCheck};
/// let bill = Download::new(
///     "https://api.mch.weixin.qq.com/v3/billdownload/file?token=TEST",
///     FileCheck::digest("SHA1", "79bb0f45fc4c42234a918000b2668d689e2bde04")
///         .compression(Compression::Gzip),
/// );
/// let fapiao = Download::new(
///     "https://pay.wechatpay.cn/invoicing/fapiao/fapiao-file?token=TEST",
///     FileCheck::unsigned(),
/// );
/// # let _ = (bill, fapiao);
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Download {
    /// The `download_url`.
    pub url: String,
    /// The digest the file must have, and how it is compressed.
    pub check: FileCheck,
}

/// The URL without its query, which holds the one-time download token (as refusals show it).
impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = match self.url.split_once(['?', '#']) {
            Some((before, _)) => format!("{before}?<redacted>"),
            None => self.url.clone(),
        };
        f.debug_struct("Download")
            .field("url", &shown)
            .field("check", &self.check)
            .finish()
    }
}

impl Download {
    /// A download of `url`, checked as `check` says.
    pub fn new(url: impl Into<String>, check: FileCheck) -> Self {
        Download {
            url: url.into(),
            check,
        }
    }
}

/// A finished, checked download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// Bytes written (after decompression).
    pub bytes: u64,
    /// The digest computed (SHA1), lower-case hex; equal to the promised one, if any.
    pub digest: String,
    /// The download's `Request-ID`.
    pub request_id: Option<String>,
}

/// What vouches for a file that a download endpoint answers, and how it is compressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    digest: Option<(String, String)>,
    compression: Compression,
}

impl FileCheck {
    /// The file must hash to `hash_value` under `hash_type` (`SHA1`), as a signed answer
    /// promised (a bill's `hash_value`, a receipt's digest).
    pub fn digest(hash_type: impl Into<String>, hash_value: impl Into<String>) -> Self {
        FileCheck {
            digest: Some((hash_type.into(), hash_value.into())),
            compression: Compression::None,
        }
    }

    /// Nothing vouches for the file but TLS to the platform's host: the platform signs
    /// neither it nor its digest (the complaint images, `/v3/merchant-service/images/…`; the
    /// e-invoice files).
    /// The caller says so by choosing this; the digest is still computed and returned.
    pub fn unsigned() -> Self {
        FileCheck {
            digest: None,
            compression: Compression::None,
        }
    }

    /// The body is compressed so (`tartype=GZIP`); the digest covers the decompressed file.
    #[must_use]
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }
}

impl Client {
    /// Downloads a file the platform serves unsigned (a bill, an e-invoice) from the link a
    /// signed answer handed out, streaming it into `writer` while its digest is computed;
    /// fails with [`DownloadError::DigestMismatch`] if it is not the promised one. GZIP is
    /// decompressed on the fly. `writer` is flushed, not shut down. Memory use does not
    /// depend on the file's size.
    ///
    /// ```no_run
    /// # async fn run(client: wxpay_core::Client, download: wxpay_core::Download) -> Result<(), wxpay_core::Error> {
    /// let mut file = tokio::io::sink(); // e.g. a tokio::fs::File
    /// let done = client.download(&download, &mut file).await?;
    /// println!("{} bytes, sha1 {}", done.bytes, done.digest);
    /// # Ok(()) }
    /// ```
    pub async fn download<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        download: &Download,
        writer: &mut W,
    ) -> Result<Downloaded, Error> {
        let (origin, path_and_query) = split_url(
            &download.url,
            &self.inner.caller.hosts().bases().collect::<Vec<_>>(),
        )?;
        let parts = |_: &PlatformKeys, _| {
            Ok(RequestParts {
                method: Method::GET,
                path_and_query: path_and_query.to_owned(),
                headers: http::HeaderMap::new(),
                body: Vec::new(),
                signed_body: None,
            })
        };
        self.fetch(origin, &parts, &download.check, writer).await
    }

    /// Streams the file a download endpoint answers into `writer`, as
    /// [`Client::download`] does, checked as `check` says. The request is written and signed
    /// like any other and goes to the client's base URL (with failover).
    ///
    /// ```no_run
    /// # async fn run<E>(client: wxpay_core::Client, image: E) -> Result<(), wxpay_core::Error>
    /// # where E: wxpay_core::Endpoint<Response = wxpay_core::Streamed> + Sync {
    /// use wxpay_core::FileCheck;
    /// let mut file = tokio::io::sink(); // e.g. a tokio::fs::File
    /// let done = client.download_file(&image, FileCheck::unsigned(), &mut file).await?;
    /// println!("{} bytes", done.bytes);
    /// # Ok(()) }
    /// ```
    pub async fn download_file<E, W>(
        &self,
        endpoint: &E,
        check: FileCheck,
        writer: &mut W,
    ) -> Result<Downloaded, Error>
    where
        E: Endpoint<Response = Streamed> + Sync,
        W: AsyncWrite + Unpin + ?Sized,
    {
        let parts = |keys: &PlatformKeys, now| {
            let mut request = RequestWriter::new(E::METHOD, Some(keys), now);
            write_apiv3(endpoint, &mut request)?;
            Ok(request.finish())
        };
        self.fetch(
            self.inner.caller.hosts().base(E::HOST),
            &parts,
            &check,
            writer,
        )
        .await
    }

    async fn fetch<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        origin: &str,
        parts: &(dyn Fn(&PlatformKeys, i64) -> Result<RequestParts, Error> + Sync),
        check: &FileCheck,
        writer: &mut W,
    ) -> Result<Downloaded, Error> {
        if let Some((hash_type, _)) = &check.digest
            && !hash_type.eq_ignore_ascii_case("SHA1")
        {
            return Err(Error::Download(DownloadError::UnsupportedHashType(
                hash_type.clone(),
            )));
        }
        let hasher = self.crypto_backend().sha1();
        self.ready().await?;
        let limits = self.inner.downloads;
        let clock = Clock::start(&limits);
        // Not the per-call limit: a bill takes what its size and the link need, and `clock`
        // ends a stalled or overlong one with its own error.
        let timeout = limits.overall.map_or(NO_LIMIT, |limit| {
            limit.saturating_add(Duration::from_secs(1))
        });
        // A GET: the platform acts once however often it is asked.
        let caller = &self.inner.caller;
        let (mut response, _) = caller
            .attempts(
                self.inner.keys.keyring(),
                origin,
                true,
                parts,
                |request| clock.network(caller.transport().exchange(request, Some(timeout))),
                |response| (response.status(), response.headers()),
            )
            .await?;
        let request_id = response
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);

        if !response.status().is_success() {
            // An error answer is the platform's signed JSON: read a bounded amount and let
            // the ordinary reader verify it and turn it into an `ApiError`.
            let mut body = Vec::new();
            while let Some(chunk) = clock.network(chunk(&mut response)).await? {
                let room = MAX_ERROR_BODY.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if room <= chunk.len() {
                    break;
                }
            }
            let mut builder = http::Response::builder().status(response.status());
            if let Some(headers) = builder.headers_mut() {
                *headers = response.headers().clone();
            }
            let answer = builder.body(Bytes::from(body)).map_err(|e| {
                Error::Transport(TransportError::new(TransportErrorKind::Interrupted, e))
            })?;
            let verification = self.verify_signature(answer.headers(), answer.body()).await;
            return protocol::interpret_response(answer, verification, |_| Ok(())).map(|_| {
                Downloaded {
                    bytes: 0,
                    digest: String::new(),
                    request_id: None,
                }
            });
        }

        let compressed = Cell::new(0u64);
        let mut sink = Hashing {
            inner: writer,
            hasher,
            bytes: 0,
            limits,
            compressed: None,
        };
        match check.compression {
            Compression::None => {
                while let Some(chunk) = clock.network(chunk(&mut response)).await? {
                    for piece in chunk.chunks(MAX_WRITE) {
                        sink.write_all(piece).await.map_err(sink_error)?;
                    }
                }
                sink.flush().await.map_err(sink_error)?;
            }
            Compression::Gzip => {
                sink.compressed = Some(&compressed);
                // The body goes through a small pipe into a reading decoder: only that one
                // reads several GZIP members, and its errors are the stream's, never the
                // writer's.
                let (wire, decoded) = tokio::io::duplex(4 * MAX_WRITE);
                let receive = async {
                    let mut wire = wire;
                    while let Some(chunk) = clock.network(chunk(&mut response)).await? {
                        compressed.set(compressed.get().saturating_add(chunk.len() as u64));
                        if wire.write_all(&chunk).await.is_err() {
                            // The decoder stopped: its error is the one reported.
                            break;
                        }
                    }
                    // The end of the body is the end of the decoder's input.
                    let _ = wire.shutdown().await;
                    Ok::<(), Error>(())
                };
                let decode = async {
                    let mut decoder =
                        GzipDecoder::new(BufReader::with_capacity(MAX_WRITE, decoded));
                    decoder.multiple_members(true);
                    let mut buffer = vec![0u8; MAX_WRITE];
                    loop {
                        let read = decoder.read(&mut buffer).await.map_err(malformed)?;
                        let Some(piece) = buffer.get(..read).filter(|p| !p.is_empty()) else {
                            break;
                        };
                        sink.write_all(piece).await.map_err(sink_error)?;
                    }
                    sink.flush().await.map_err(sink_error)?;
                    Ok::<(), Error>(())
                };
                tokio::try_join!(receive, decode)?;
            }
        }
        let bytes = sink.bytes;
        let digest = sink.hasher.finish();
        if let Some((hash_type, hash_value)) = &check.digest
            && !digest.eq_ignore_ascii_case(hash_value.trim())
        {
            return Err(Error::Download(DownloadError::DigestMismatch {
                hash_type: hash_type.clone(),
                expected: hash_value.clone(),
                actual: digest,
            }));
        }
        Ok(Downloaded {
            bytes,
            digest,
            request_id,
        })
    }
}

/// The next piece of the body.
async fn chunk(response: &mut reqwest::Response) -> Result<Option<Bytes>, TransportError> {
    response.chunk().await.map_err(classify)
}

/// An error of the caller's writer, or one of the limits [`Hashing`] enforces.
fn sink_error(e: io::Error) -> Error {
    Error::Download(
        match e.get_ref().and_then(|e| e.downcast_ref::<Refused>()) {
            Some(Refused::Bytes(limit)) => DownloadError::TooLarge { limit: *limit },
            Some(Refused::Ratio(limit)) => DownloadError::CompressionRatio { limit: *limit },
            None => DownloadError::Write(e),
        },
    )
}

/// Anything the decoder reports is about the stream: corrupt, cut short, trailing bytes.
fn malformed(e: io::Error) -> Error {
    Error::Download(DownloadError::Decompress(e))
}

/// A limit [`Hashing`] stopped the file at.
#[derive(Debug)]
enum Refused {
    Bytes(u64),
    Ratio(u64),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Bytes(limit) => write!(f, "the download is over {limit} bytes"),
            Refused::Ratio(limit) => write!(f, "the download decompresses over {limit}:1"),
        }
    }
}

impl std::error::Error for Refused {}

/// The idle and overall limits of one download's network waits.
struct Clock {
    idle: Duration,
    /// The deadline and the limit it came from.
    overall: Option<(Instant, Duration)>,
}

impl Clock {
    fn start(limits: &DownloadLimits) -> Self {
        let overall = limits
            .overall
            .and_then(|limit| Some((Instant::now().checked_add(limit)?, limit)));
        Clock {
            idle: limits.idle,
            overall,
        }
    }

    /// Waits for one network step (the answer's head, a piece of body): at most the idle
    /// limit, and never past the overall deadline.
    async fn network<T>(
        &self,
        step: impl Future<Output = Result<T, TransportError>>,
    ) -> Result<T, Error> {
        let idle_end = Instant::now().checked_add(self.idle);
        let (end, overall) = match (idle_end, self.overall) {
            (Some(idle_end), Some((deadline, limit))) if deadline <= idle_end => {
                (deadline, Some(limit))
            }
            (None, Some((deadline, limit))) => (deadline, Some(limit)),
            (Some(idle_end), _) => (idle_end, None),
            (None, None) => return Ok(step.await?),
        };
        match tokio::time::timeout_at(end, step).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(Error::Download(match overall {
                Some(limit) => DownloadError::TimedOut { limit },
                None => DownloadError::Stalled { idle: self.idle },
            })),
        }
    }
}

/// `(origin, path_and_query)` of an absolute URL, if its origin is one of the client's base
/// URLs (`base_urls`) or a platform host (a signed request goes nowhere else) and its path and query are what
/// will be sent and signed, unchanged by the URL layer (the rule of dynamic templates).
/// Refusals name the origin and path, never the query: it holds the download token.
pub(crate) fn split_url<'u>(url: &'u str, base_urls: &[&str]) -> Result<(&'u str, &'u str), Error> {
    let shown: String = url
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .chars()
        .take(128)
        .collect();
    let refuse = |why: &str| Error::Download(DownloadError::Url(format!("{shown:?}: {why}")));
    let parsed = Url::parse(url).map_err(|_| refuse("not an absolute http(s) URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(refuse("not an absolute http(s) URL"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse("a URL with user information"));
    }
    if parsed.fragment().is_some() {
        return Err(refuse("a URL with a fragment"));
    }
    let is = |host: &str| Url::parse(host).is_ok_and(|host| host.origin() == parsed.origin());
    let file_host = is(FILE_HOST.0);
    if !file_host && !base_urls.iter().any(|base| is(base)) && !platform_hosts().any(is) {
        return Err(refuse("not the client's host or a WeChat Pay host"));
    }
    // What the URL layer sends must be the text itself, so the signature covers it: a
    // normalised dot segment, an encoded space or a default port shows as a difference.
    let path_and_query = &parsed[Position::BeforePath..Position::AfterQuery];
    let origin = url
        .strip_suffix(path_and_query)
        .filter(|origin| origin.eq_ignore_ascii_case(&parsed[..Position::BeforePath]))
        .ok_or_else(|| refuse("the URL layer would rewrite it before sending"))?;
    if file_host {
        if !parsed.path().starts_with(FILE_HOST.1) {
            return Err(refuse("not a file of the platform's file host"));
        }
        encoding::check_encoded_segments(parsed.path(), false)
    } else {
        encoding::check_encoded_path(parsed.path(), false)
    }
    .map_err(|why| refuse(&why))?;
    if let Some(query) = parsed.query() {
        encoding::check_encoded_query(query).map_err(|why| refuse(&why))?;
    }
    Ok((origin, &url[origin.len()..]))
}

/// Passes writes through to `inner`, hashing and counting what `inner` accepted. Shutting
/// it down only flushes `inner`: the caller's writer stays the caller's.
struct Hashing<'w, W: ?Sized> {
    inner: &'w mut W,
    hasher: Sha1,
    bytes: u64,
    limits: DownloadLimits,
    /// Bytes received so far, for a compressed download's ratio.
    compressed: Option<&'w Cell<u64>>,
}

impl<W: AsyncWrite + Unpin + ?Sized> AsyncWrite for Hashing<'_, W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let total = this.bytes.saturating_add(buf.len() as u64);
        if total > this.limits.max_bytes {
            let refused = Refused::Bytes(this.limits.max_bytes);
            return Poll::Ready(Err(io::Error::other(refused)));
        }
        if let Some(compressed) = this.compressed
            && total > RATIO_FLOOR
            && total > compressed.get().saturating_mul(this.limits.max_ratio)
        {
            let refused = Refused::Ratio(this.limits.max_ratio);
            return Poll::Ready(Err(io::Error::other(refused)));
        }
        let poll = Pin::new(&mut *this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = &poll {
            let accepted = buf.get(..*written).unwrap_or(buf);
            this.hasher.update(accepted);
            this.bytes += accepted.len() as u64;
        }
        poll
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().inner).poll_flush(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_downloads_debug_leaves_the_token_out() {
        let download = Download::new(
            "https://api.mch.weixin.qq.com/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO",
            FileCheck::unsigned(),
        );
        let shown = format!("{download:?}");
        assert!(!shown.contains("6XIv5TUP"), "{shown}");
        assert!(
            shown.contains(r#""https://api.mch.weixin.qq.com/v3/billdownload/file?<redacted>""#),
            "{shown}"
        );
    }

    #[test]
    fn only_the_clients_host_or_a_platform_host_is_signed_for() {
        let base = "http://127.0.0.1:8080";
        let ok = split_url(
            "http://127.0.0.1:8080/v3/billdownload/file?token=x",
            &[base],
        )
        .unwrap();
        assert_eq!(
            ok,
            ("http://127.0.0.1:8080", "/v3/billdownload/file?token=x")
        );
        for platform in [
            "https://api.mch.weixin.qq.com/v3/billdownload/file?token=x",
            "https://pay.wechatpay.cn/invoicing/fapiao/fapiao-file?token=x",
            "https://apihk.mch.weixin.qq.com/v3/global/statements?token=x",
            "https://api2.wechatpay.cn/v3/billdownload/file?token=x",
        ] {
            assert!(split_url(platform, &[base]).is_ok(), "{platform}");
        }
        for bad in [
            "https://evil.example.com/v3/billdownload/file",
            "http://pay.wechatpay.cn/invoicing/fapiao/fapiao-file?token=x",
            "https://pay.wechatpay.cn.example.com/invoicing/fapiao/fapiao-file",
            "https://pay.wechatpay.cn/v3/billdownload/file?token=x",
            "ftp://127.0.0.1:8080/x",
            "/v3/billdownload/file",
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/a b",
        ] {
            assert!(split_url(bad, &[base]).is_err(), "{bad}");
        }
    }
}
