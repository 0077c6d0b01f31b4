//! One exchange on the wire: a signed request goes to its host (or that host's backup when it
//! cannot be reached), a redirect is refused, and an answer read whole stays under the body
//! limit. What is sent was signed above; nothing here reads or writes a signature.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;

use crate::error::{Redirected, TransportError, TransportErrorKind};
use crate::host::HostUrls;
use crate::runtimes::Http;

/// How a client's requests travel: where each host is, what sends them, and their limits.
pub(crate) struct Transport {
    /// The base URL (and backup) of each platform host.
    hosts: HostUrls,
    http: Http,
    /// The time limit of one attempt, applied per request (the runtime's connection pool has
    /// none of its own); `None` with the caller's own reqwest client, whose settings apply.
    request_timeout: Option<Duration>,
    /// The largest answer body [`Transport::exchange_whole`] reads.
    max_body: usize,
    /// The connection that presents the merchant's API client certificate, when one is
    /// configured: this client's own, never a pool other merchants send through.
    client_certificate: Option<reqwest::Client>,
}

/// Which connection an exchange goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connection {
    /// The usual one, where no client certificate is offered.
    Plain,
    /// The one that presents the merchant's API client certificate (APIv2's `cert`
    /// operations, and only those).
    ClientCertificate,
}

impl Transport {
    pub(crate) fn new(
        hosts: HostUrls,
        http: Http,
        request_timeout: Option<Duration>,
        max_body: usize,
    ) -> Self {
        Transport {
            hosts,
            http,
            request_timeout,
            max_body,
            client_certificate: None,
        }
    }

    /// With a connection that presents the merchant's API client certificate.
    pub(crate) fn with_client_certificate(mut self, connection: Option<reqwest::Client>) -> Self {
        self.client_certificate = connection;
        self
    }

    /// Whether a client certificate is configured.
    pub(crate) fn has_client_certificate(&self) -> bool {
        self.client_certificate.is_some()
    }

    /// The base URL and backup of each host.
    pub(crate) fn hosts(&self) -> &HostUrls {
        &self.hosts
    }

    /// Sends one request and reads its whole answer, up to the body limit.
    pub(crate) async fn exchange_whole(
        &self,
        request: http::Request<Vec<u8>>,
        connection: Connection,
    ) -> Result<http::Response<Bytes>, TransportError> {
        self.exchange_whole_within(request, connection, self.max_body, None)
            .await
    }

    /// As [`Transport::exchange_whole`], up to `limit` bytes and within `timeout` instead of
    /// the client's per-call ones (an APIv2 bill, read whole under the download limits).
    pub(crate) async fn exchange_whole_within(
        &self,
        request: http::Request<Vec<u8>>,
        connection: Connection,
        limit: usize,
        timeout: Option<Duration>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let mut response = self.exchange_on(request, timeout, connection).await?;
        let too_large = || {
            TransportError::new(
                TransportErrorKind::TooLarge { limit },
                "the body is over the limit",
            )
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(too_large());
        }
        let mut builder = http::Response::builder()
            .status(response.status())
            .version(response.version());
        if let Some(headers) = builder.headers_mut() {
            *headers = std::mem::take(response.headers_mut());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        builder
            .body(Bytes::from(body))
            .map_err(|e| TransportError::new(TransportErrorKind::Interrupted, e))
    }

    /// Sends one request and gives the answer with its body unread: what every call and
    /// download goes through. `timeout` replaces the per-call one. A 3xx is refused. With
    /// failover on, a connection that cannot be made is tried on the backup of the request's
    /// host, where it has one (the signature does not cover the host).
    pub(crate) async fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, TransportError> {
        self.exchange_on(request, timeout, Connection::Plain).await
    }

    async fn exchange_on(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Option<Duration>,
        connection: Connection,
    ) -> Result<reqwest::Response, TransportError> {
        let backup = origin(request.uri())
            .and_then(|origin| self.hosts.backup_of(&origin))
            .and_then(|base| backup_request(&request, base));
        match (
            self.exchange_once(request, timeout, connection).await,
            backup,
        ) {
            (Err(error), Some(backup)) if error.kind == TransportErrorKind::Connect => {
                tracing::warn!(%error, "the official host is unreachable; trying the backup host");
                self.exchange_once(backup, timeout, connection).await
            }
            (outcome, _) => outcome,
        }
    }

    async fn exchange_once(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Option<Duration>,
        connection: Connection,
    ) -> Result<reqwest::Response, TransportError> {
        let mut request = reqwest::Request::try_from(request).map_err(classify)?;
        let timeout = timeout.or(self.request_timeout);
        if timeout.is_some() {
            *request.timeout_mut() = timeout;
        }
        let url = request.url().clone();
        let http = match (connection, &self.client_certificate) {
            (Connection::Plain, _) => self.http.current()?,
            (Connection::ClientCertificate, Some(http)) => http.clone(),
            // The client refuses such a call before signing it; this is the last guard.
            (Connection::ClientCertificate, None) => {
                return Err(TransportError::new(
                    TransportErrorKind::Connect,
                    "no API client certificate is configured",
                ));
            }
        };
        let response = http.execute(request).await.map_err(classify)?;
        refuse_redirect(&url, &response)?;
        Ok(response)
    }
}

/// `scheme://authority` of a request's URI, as base URLs are written.
fn origin(uri: &http::Uri) -> Option<String> {
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
}

/// The same request aimed at the backup host.
fn backup_request(
    request: &http::Request<Vec<u8>>,
    base_url: &str,
) -> Option<http::Request<Vec<u8>>> {
    let path = request.uri().path_and_query()?.as_str();
    let mut backup = http::Request::builder()
        .method(request.method().clone())
        .uri(format!("{base_url}{path}"))
        .body(request.body().clone())
        .ok()?;
    *backup.headers_mut() = request.headers().clone();
    Some(backup)
}

/// Every 3xx is an error: the platform never redirects. A caller's own reqwest client may
/// have followed one already; an answer from another URL than the request's says so.
fn refuse_redirect(
    requested: &reqwest::Url,
    response: &reqwest::Response,
) -> Result<(), TransportError> {
    let status = response.status();
    let followed = response.url() != requested;
    if !status.is_redirection() && !followed {
        return Ok(());
    }
    let location = if followed {
        HeaderValue::try_from(response.url().as_str()).ok()
    } else {
        response.headers().get(http::header::LOCATION).cloned()
    };
    Err(TransportError::new(
        TransportErrorKind::Redirect {
            status: if followed { 0 } else { status.as_u16() },
        },
        Redirected::new(location.as_ref()),
    ))
}

/// The URL leaves the error: its path and query may hold personal data (`openid`), and the
/// error ends up in logs (the "call failed" warning). The call's span names the method and
/// path template.
pub(crate) fn classify(error: reqwest::Error) -> TransportError {
    let error = error.without_url();
    let kind = if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Interrupted
    };
    // reqwest's message names the URL, query included (`?openid=…`, a download's token).
    TransportError::new(kind, error.without_url())
}
