//! The HTTP client: the transport at the edge of the pure protocol, and the platform key
//! ring's refreshes, which need the transport.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::certificates::{self, CertificateError, CertificateList, DownloadCertificates};
use tracing::Instrument;

use crate::clock::unix_now;
use crate::config::ClientBuilder;
use crate::crypto::CryptoBackend;
use crate::dynamic::DynamicRequest;
use crate::endpoint::{Endpoint, RequestParts, RequestWriter};
use crate::error::{
    ConfigError, DecodeError, Error, Redirected, SignedRequest, TransportError, TransportErrorKind,
    VerificationError,
};
use crate::host::{Host, HostUrls};
use crate::keyring::{CertificateStore, KeyRing, PlatformKeyStatus, StoreKind};
use crate::keys::{ApiV3Key, MerchantKey, PlatformKey, PlatformKeyKind, PlatformKeys};
use crate::notification::{self, Notification};
use crate::protocol::{self, RequestContext, Signer, Verified};
use crate::retry::{self, Attempt, RetryPolicy};

/// A WeChat Pay APIv3 client for one merchant.
///
/// Cheap to clone (an `Arc` inside) and safe to share across tasks. Every call is signed with
/// the merchant key and every answer verified against the platform key ring before it reaches
/// the caller. Each client has its own key ring: several merchants in one process never share
/// keys.
///
/// With an APIv3 key configured, platform certificates take care of themselves: they are
/// downloaded when the ring has none, refreshed in the background (every 12 hours by default,
/// with jitter), and downloaded at once when an answer names a serial the ring does not know
/// (at most once per cooldown, however many answers do). See [`crate::certificates`] for the
/// trust rule and [`Client::platform_key_status`] for monitoring.
///
/// Connections: a call takes the connection pool of the tokio runtime it runs in, one per
/// runtime for every client of the process (unless built with
/// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client)), so thousands of
/// merchants in one server cost a few KiB each and share warm connections. No runtime uses
/// another's connections: a runtime that ends (one per `#[tokio::test]`) takes only its own.
/// The background refresh of every client runs on one task, in a runtime still alive.
///
/// ```no_run
/// # async fn run() -> Result<(), wxpay_core::Error> {
/// let client = wxpay_core::Client::from_env()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) mchid: String,
    pub(crate) merchant_key: MerchantKey,
    pub(crate) keyring: KeyRing,
    pub(crate) apiv3_key: Option<ApiV3Key>,
    /// The base URL (and backup) of each platform host.
    pub(crate) hosts: HostUrls,
    pub(crate) user_agent: HeaderValue,
    pub(crate) timestamp_tolerance: u64,
    pub(crate) refresh: RefreshPolicy,
    pub(crate) store: Option<Arc<dyn CertificateStore>>,
    pub(crate) transport: TransportPolicy,
    pub(crate) http: crate::runtimes::Http,
    /// The Redis a fleet of instances shares certificates through.
    #[cfg(feature = "redis")]
    pub(crate) fleet: Option<crate::fleet::RedisFleet>,
    /// Set once the client is on the refresh scheduler.
    pub(crate) scheduled: OnceLock<()>,
}

/// How calls travel: retries, the body limit, the time limits.
#[derive(Debug, Clone)]
pub(crate) struct TransportPolicy {
    pub(crate) retry: RetryPolicy,
    pub(crate) max_body: usize,
    pub(crate) downloads: crate::download::DownloadLimits,
    /// The time limit of one attempt, applied per request (the runtime's connection pool has
    /// none of its own); `None` with the caller's own reqwest client, whose settings apply.
    pub(crate) request_timeout: Option<Duration>,
}

/// When certificates are downloaded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefreshPolicy {
    /// Background refresh period; `None` turns it off.
    pub(crate) interval: Option<Duration>,
    /// Least time between two downloads triggered by unknown serials.
    pub(crate) unknown_serial_cooldown: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("mchid", &self.inner.mchid)
            .field("merchant_serial", &self.inner.merchant_key.serial())
            .field(
                "platform_keys",
                &self.inner.keyring.status(unix_now()).key_ids,
            )
            .field(
                "apiv3_key",
                &self.inner.apiv3_key.as_ref().map(|_| "<redacted>"),
            )
            .field("hosts", &self.inner.hosts.bases().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder: set the merchant number, keys and options, then [`ClientBuilder::build`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `WXPAY_*` environment variables; see
    /// [`ClientBuilder::from_env`] for the list.
    pub fn from_env() -> Result<Client, Error> {
        Ok(ClientBuilder::from_env()?.build()?)
    }

    /// The merchant number this client signs for.
    pub fn mchid(&self) -> &str {
        &self.inner.mchid
    }

    /// The platform key ring as it is now (answers are verified against it).
    pub fn platform_keys(&self) -> Arc<PlatformKeys> {
        self.inner.keyring.snapshot()
    }

    /// The refresh state of the platform keys: last success, last error, downloads, key ids,
    /// and warnings (ignored store entries, expired certificates).
    pub fn platform_key_status(&self) -> PlatformKeyStatus {
        self.inner.keyring.status(unix_now())
    }

    /// The platform key sensitive fields are encrypted with now (what `#[wxpay(encrypt)]`
    /// fields use): the public key if configured, else the newest valid certificate.
    pub fn encryption_key(&self) -> Option<PlatformKey> {
        self.platform_keys().encryption_key(unix_now()).cloned()
    }

    /// The APIv3 key, when one was configured.
    pub fn apiv3_key(&self) -> Option<&ApiV3Key> {
        self.inner.apiv3_key.as_ref()
    }

    /// The crypto backend this client's keys live in.
    pub fn crypto_backend(&self) -> CryptoBackend {
        self.inner.merchant_key.backend()
    }

    /// Reads a notification POSTed to the merchant's URL: verifies its signature over the raw
    /// `body` with [`Client::verify_signature`] (this client's key ring and timestamp
    /// tolerance; `WECHATPAY/SIGNTEST/` probes fail as
    /// [`VerificationError::SignatureProbe`]), then decrypts the resource with the APIv3 key
    /// into a [`Resource`](crate::notification::Resource) (which `wxpay::notification::Event`
    /// types with the catalog's types). See [`notification`](crate::notification) for
    /// replying and duplicates.
    ///
    /// # Errors
    /// [`Error::Verification`] when the signature does not hold, [`Error::Notification`] when
    /// the notification cannot be read, [`ConfigError::Missing`] when the client has no
    /// APIv3 key.
    ///
    /// ```no_run
    /// # async fn run(client: wxpay_core::Client, headers: http::HeaderMap, body: bytes::Bytes) -> Result<(), wxpay_core::Error> {
    /// let notification = client.read_notification(&headers, &body).await?;
    /// println!("{} {}", notification.id, notification.event_type.as_str());
    /// # Ok(()) }
    /// ```
    pub async fn read_notification(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, Error> {
        notification::check_size(body)?;
        // Checked before the signature so a misconfigured receiver fails the same way for
        // every delivery, not only for genuine ones.
        let apiv3_key = self.apiv3_key().ok_or(ConfigError::Missing {
            setting: "apiv3_key".into(),
        })?;
        self.verify_signature(headers, body)
            .await
            .map_err(|kind| Error::Verification {
                kind,
                request_id: None,
            })?;
        Ok(notification::decrypt_verified(
            body,
            apiv3_key,
            self.crypto_backend(),
        )?)
    }

    /// Sends a declared endpoint and returns its verified, typed answer.
    ///
    /// ```no_run
    /// # use wxpay_core::{Client, Endpoint};
    /// # async fn run<E: Endpoint + Sync>(client: Client, pause: E) -> Result<(), wxpay_core::Error> {
    /// let answer = client.send(pause).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub async fn send<E: Endpoint + Sync>(&self, endpoint: E) -> Result<E::Response, Error> {
        Ok(self.send_verified(endpoint).await?.value)
    }

    /// As [`Client::send`], keeping the status, `Request-ID` and headers beside the value.
    ///
    /// Failed attempts are retried by the client's [`RetryPolicy`]; a call that may have
    /// reached the platform is repeated only when that cannot act twice (see
    /// [`Endpoint::IDEMPOTENT`]).
    pub async fn send_verified<E: Endpoint + Sync>(
        &self,
        endpoint: E,
    ) -> Result<Verified<E::Response>, Error> {
        let idempotent = E::IDEMPOTENT || is_idempotent_method(&E::METHOD);
        let parts = |keys: &PlatformKeys, now: i64| {
            let mut writer = RequestWriter::new(E::METHOD, Some(keys), now);
            endpoint.write_request(&mut writer)?;
            Ok(writer.finish())
        };
        let answer = self
            .call(&E::METHOD, E::PATH_TEMPLATE, E::HOST, idempotent, &parts)
            .await?;
        let mut answer = decode_verified(answer, E::decode_response)?;
        if let Err(mut error) = E::decrypt_response(&mut answer.value, &self.inner.merchant_key) {
            error.request_id = answer.request_id;
            return Err(Error::Decrypt(Box::new(error)));
        }
        Ok(answer)
    }

    /// The signed request for an endpoint, as [`Client::send`] would send it now.
    pub fn prepare<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let keys = self.platform_keys();
        protocol::prepare(
            endpoint,
            &self.context(&keys, E::HOST),
            unix_now(),
            &protocol::nonce()?,
        )
    }

    /// A request to an endpoint nobody declared yet, e.g.
    /// `client.request(Method::POST, "/v3/marketing/favor/stocks/{stock_id}/pause")`.
    /// Signed and verified like a declared one.
    pub fn request(&self, method: Method, path_template: &str) -> DynamicRequest<'_> {
        DynamicRequest::new(self, method, path_template)
    }

    /// [`Client::request`] with GET.
    pub fn get(&self, path_template: &str) -> DynamicRequest<'_> {
        self.request(Method::GET, path_template)
    }

    /// [`Client::request`] with POST.
    pub fn post(&self, path_template: &str) -> DynamicRequest<'_> {
        self.request(Method::POST, path_template)
    }

    /// [`Client::request`] with PUT.
    pub fn put(&self, path_template: &str) -> DynamicRequest<'_> {
        self.request(Method::PUT, path_template)
    }

    /// [`Client::request`] with PATCH.
    pub fn patch(&self, path_template: &str) -> DynamicRequest<'_> {
        self.request(Method::PATCH, path_template)
    }

    /// [`Client::request`] with DELETE.
    pub fn delete(&self, path_template: &str) -> DynamicRequest<'_> {
        self.request(Method::DELETE, path_template)
    }

    /// Checks a platform signature (of a notification, say) over the raw `body` with this
    /// client's key ring and timestamp tolerance. An unknown serial triggers one certificate
    /// download (shared with every concurrent caller, and not repeated within the cooldown)
    /// before it is reported.
    pub async fn verify_signature(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), VerificationError> {
        let verify = |keys: &PlatformKeys| {
            protocol::verify_signature(
                headers,
                body,
                keys,
                unix_now(),
                self.inner.timestamp_tolerance,
            )
            .map(|_| ())
        };
        match verify(&self.platform_keys()) {
            Err(VerificationError::UnknownSerial(serial)) if self.inner.apiv3_key.is_some() => {
                self.refresh_for_unknown_serial(&serial).await;
                verify(&self.platform_keys())
            }
            other => other,
        }
    }

    /// Downloads the platform certificates now and installs them (waiting for a download
    /// already under way instead of starting a second one). A public-key merchant whose
    /// platform has no certificates (404) gets `Ok`.
    pub async fn refresh_platform_certificates(&self) -> Result<(), Error> {
        let _download = self.inner.keyring.download.lock().await;
        self.download_certificates().await
    }

    /// The base URL of `host` for this client.
    pub fn base_url(&self, host: Host) -> &str {
        self.inner.hosts.base(host)
    }

    pub(crate) fn context<'a>(&'a self, keys: &'a PlatformKeys, host: Host) -> RequestContext<'a> {
        RequestContext {
            base_url: self.inner.hosts.base(host),
            signer: Signer {
                mchid: &self.inner.mchid,
                key: &self.inner.merchant_key,
            },
            platform_keys: keys,
            user_agent: &self.inner.user_agent,
        }
    }

    /// Before a call: the background refresher runs, and a ring that has no key yet gets its
    /// first download — at most once per cooldown, so a platform that keeps failing is not
    /// asked again by every call.
    pub(crate) async fn ready(&self) -> Result<(), Error> {
        self.schedule_refresh();
        if self.platform_keys().is_empty() {
            let _download = self.inner.keyring.download.lock().await;
            if self.platform_keys().is_empty() {
                let cooldown = self.inner.refresh.unknown_serial_cooldown;
                if !self.inner.keyring.may_download(cooldown) {
                    // No download now; what another instance stored may still be read.
                    #[cfg(feature = "redis")]
                    if self.fleet_adopt().await && !self.platform_keys().is_empty() {
                        return Ok(());
                    }
                    return Err(CertificateError::Cooldown { cooldown }.into());
                }
                #[cfg(feature = "redis")]
                let lock = match self.fleet_turn(&|keys| !keys.is_empty()).await {
                    crate::fleet::Turn::Satisfied => return Ok(()),
                    crate::fleet::Turn::Download(lock) => lock,
                };
                let result = self.download_certificates().await;
                #[cfg(feature = "redis")]
                self.fleet_turn_done(lock).await;
                result?;
            }
        }
        Ok(())
    }

    /// One call: each attempt is written by `parts` and signed afresh (new timestamp and
    /// nonce), failed attempts are retried by the policy, and the final answer is verified
    /// (refreshing the key ring for an unknown serial). Not generic, so every endpoint shares
    /// one copy of the loop; the caller decodes the verified body.
    pub(crate) async fn call(
        &self,
        method: &Method,
        path_template: &str,
        host: Host,
        idempotent: bool,
        parts: &(dyn Fn(&PlatformKeys, i64) -> Result<RequestParts, Error> + Sync),
    ) -> Result<Verified<Bytes>, Error> {
        let span = tracing::info_span!(
            "wxpay.call",
            %method,
            path = path_template,
            %host,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        async {
            self.ready().await?;
            let started = std::time::Instant::now();
            let (response, signed) = self
                .attempts(
                    self.inner.hosts.base(host),
                    idempotent,
                    parts,
                    |request| async move { Ok(self.transport(request).await?) },
                    |response| (response.status(), response.headers()),
                )
                .await?;
            let span = tracing::Span::current();
            span.record("status", response.status().as_u16());
            if let Some(id) = response
                .headers()
                .get(&protocol::REQUEST_ID)
                .and_then(|v| v.to_str().ok())
            {
                span.record("request_id", id);
            }
            let verification = self
                .verify_signature(response.headers(), response.body())
                .await;
            let body = response.body().clone();
            let mut result =
                protocol::interpret_response(response, verification, |_| Ok(())).map(|answer| {
                    Verified {
                        value: body,
                        status: answer.status,
                        request_id: answer.request_id,
                        headers: answer.headers,
                    }
                });
            if let Err(Error::Api(error)) = &mut result
                && error.code == "SIGN_ERROR"
            {
                error.signed_request = Some(signed);
            }
            tracing::debug!(
                ok = result.is_ok(),
                latency_ms = started.elapsed().as_millis() as u64,
                "call finished"
            );
            result
        }
        .instrument(span)
        .await
    }

    /// The attempts of one request to `base_url`: each is written by `parts` and signed afresh
    /// (new timestamp and nonce) and handed to `send`; a failed one is retried by the policy,
    /// judged by the transport error or by the status and headers `head` reads. Gives the last
    /// answer and what its signature covered. Calls and downloads share it, so the retry rules
    /// (like the failover inside [`Client::exchange`]) live in one place.
    pub(crate) async fn attempts<R, F>(
        &self,
        base_url: &str,
        idempotent: bool,
        parts: &(dyn Fn(&PlatformKeys, i64) -> Result<RequestParts, Error> + Sync),
        send: impl Fn(http::Request<Vec<u8>>) -> F,
        head: impl Fn(&R) -> (StatusCode, &HeaderMap),
    ) -> Result<(R, SignedRequest), Error>
    where
        F: Future<Output = Result<R, Error>>,
    {
        let policy = &self.inner.transport.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            tracing::Span::current().record("attempt", attempt);
            let keys = self.platform_keys();
            let now = unix_now();
            let (parts, nonce) = (parts(&keys, now)?, protocol::nonce()?);
            let signed = signed_request(&parts, now, &nonce);
            let context = RequestContext {
                base_url,
                ..self.context(&keys, Host::Api)
            };
            let request = protocol::sign_request(parts, &context, now, &nonce)?;
            let outcome = send(request).await;
            let judged = match &outcome {
                Ok(answer) => {
                    let (status, headers) = head(answer);
                    Attempt::Answered {
                        status,
                        retry_after: retry::parse_retry_after(
                            headers.get(http::header::RETRY_AFTER),
                            std::time::SystemTime::now(),
                        ),
                    }
                }
                Err(Error::Transport(error)) => Attempt::Failed(error),
                // Not the wire's failure (a download's own limits): never retried.
                Err(_) => return outcome.map(|answer| (answer, signed)),
            };
            let Some(delay) =
                retry::delay_before_retry(policy, attempt, &judged, idempotent, jitter())
            else {
                return match outcome {
                    Ok(answer) => Ok((answer, signed)),
                    Err(error) => {
                        tracing::warn!(%error, "call failed");
                        Err(error)
                    }
                };
            };
            let reason = match judged {
                Attempt::Answered { status, .. } => status.to_string(),
                Attempt::Failed(error) => error.kind.to_string(),
            };
            tracing::debug!(%reason, delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    async fn refresh_for_unknown_serial(&self, serial: &str) {
        let keyring = &self.inner.keyring;
        let _download = keyring.download.lock().await;
        // Whoever held the lock before may have brought the key already.
        if self.platform_keys().get(serial).is_some() {
            return;
        }
        if !keyring.may_download(self.inner.refresh.unknown_serial_cooldown) {
            // No download (nor a wait for the fleet's) now, so a flood of made-up serials costs
            // nothing; what another instance stored may still be read.
            #[cfg(feature = "redis")]
            self.fleet_adopt().await;
            tracing::debug!(%serial, "unknown platform serial within the download cooldown");
            return;
        }
        #[cfg(feature = "redis")]
        let lock = match self.fleet_turn(&|keys| keys.get(serial).is_some()).await {
            crate::fleet::Turn::Satisfied => return,
            crate::fleet::Turn::Download(lock) => lock,
        };
        // Failures are recorded in the status; the caller reports the unknown serial.
        let _ = self.download_certificates().await;
        #[cfg(feature = "redis")]
        self.fleet_turn_done(lock).await;
    }

    /// One download: the caller holds the keyring's download lock.
    async fn download_certificates(&self) -> Result<(), Error> {
        let keyring = &self.inner.keyring;
        let result = self.download_certificates_unrecorded().await;
        match &result {
            Ok(()) => keyring.record_success(),
            Err(error) => keyring.record_failure(error),
        }
        result
    }

    async fn download_certificates_unrecorded(&self) -> Result<(), Error> {
        let keyring = &self.inner.keyring;
        let apiv3_key = self
            .inner
            .apiv3_key
            .as_ref()
            .ok_or(Error::Certificates(CertificateError::NoApiV3Key))?;
        keyring.record_attempt();
        let request = self.prepare(&DownloadCertificates::default())?;
        let response = self.transport(request).await?;
        let trusted = self.platform_keys();
        let now = unix_now();
        let has_public_key = trusted
            .iter()
            .any(|key| key.kind() == PlatformKeyKind::PublicKey);
        if response.status() == StatusCode::NOT_FOUND && has_public_key {
            // A public-key merchant: the platform has no certificates for it.
            return Ok(());
        }
        if !response.status().is_success() {
            let verification = protocol::verify_signature(
                response.headers(),
                response.body(),
                &trusted,
                now,
                self.inner.timestamp_tolerance,
            )
            .map(|_| ());
            return protocol::interpret_response(response, verification, |_| Ok(())).map(|_| ());
        }
        let list: CertificateList = serde_json::from_slice(response.body()).map_err(|source| {
            Error::Decode(Box::new(DecodeError::new(
                response.status(),
                None,
                response.body().clone(),
                &source,
            )))
        })?;
        let downloaded =
            certificates::decrypt_certificates(&list, apiv3_key, self.crypto_backend(), now)?;
        certificates::verify_download(
            response.headers(),
            response.body(),
            &trusted,
            &downloaded,
            now,
            self.inner.timestamp_tolerance,
        )?;
        let stored = keyring.install(downloaded, now)?;
        if let Some(store) = &self.inner.store {
            keyring.record_store_result(StoreKind::Local, store.save(&self.inner.mchid, &stored));
        }
        #[cfg(feature = "redis")]
        self.fleet_save(&stored).await;
        Ok(())
    }

    /// Puts the client on the process's refresh scheduler once (only merchants that can
    /// download certificates, with the refresh on): one task serves every client.
    fn schedule_refresh(&self) {
        let Some(interval) = self.inner.refresh.interval else {
            return;
        };
        if self.inner.apiv3_key.is_none() {
            return;
        }
        if self.inner.scheduled.get().is_some() {
            crate::scheduler::keep_running();
            return;
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        self.inner.scheduled.get_or_init(|| {
            crate::scheduler::schedule(Arc::downgrade(&self.inner), with_jitter(interval));
        });
    }

    /// The periodic refresh the scheduler runs: certificate merchants only. In a fleet one
    /// instance per period downloads; the others read what it stored.
    pub(crate) async fn scheduled_refresh(&self) {
        let uses_certificates = self
            .platform_keys()
            .iter()
            .any(|key| matches!(key.kind(), PlatformKeyKind::Certificate { .. }));
        if !uses_certificates {
            return;
        }
        // The turn lasts a little less than the shortest jittered interval, so each instance's
        // next timer finds it over and one instance per interval downloads.
        #[cfg(feature = "redis")]
        if let Some(interval) = self.inner.refresh.interval
            && !self
                .fleet_takes_refresh(
                    Duration::try_from_secs_f64(interval.as_secs_f64() * 0.8).unwrap_or(interval),
                )
                .await
        {
            return;
        }
        // Failures are recorded in the status and logged.
        let _ = self.refresh_platform_certificates().await;
    }

    /// Sends one request and reads its whole answer, up to the body limit.
    async fn transport(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let mut response = self.exchange(request, None).await?;
        let limit = self.inner.transport.max_body;
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
        let backup = origin(request.uri())
            .and_then(|origin| self.inner.hosts.backup_of(&origin))
            .and_then(|base| backup_request(&request, base));
        match (self.exchange_once(request, timeout).await, backup) {
            (Err(error), Some(backup)) if error.kind == TransportErrorKind::Connect => {
                tracing::warn!(%error, "the official host is unreachable; trying the backup host");
                self.exchange_once(backup, timeout).await
            }
            (outcome, _) => outcome,
        }
    }

    async fn exchange_once(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, TransportError> {
        let mut request = reqwest::Request::try_from(request).map_err(classify)?;
        let timeout = timeout.or(self.inner.transport.request_timeout);
        if timeout.is_some() {
            *request.timeout_mut() = timeout;
        }
        let url = request.url().clone();
        let http = self.inner.http.current()?;
        let response = http.execute(request).await.map_err(classify)?;
        refuse_redirect(&url, &response)?;
        Ok(response)
    }
}

/// Decodes the body of a verified answer; a body that is not what the endpoint declares is a
/// [`DecodeError`] that keeps the bytes.
pub(crate) fn decode_verified<T>(
    answer: Verified<Bytes>,
    decode: impl FnOnce(&[u8]) -> Result<T, serde_json::Error>,
) -> Result<Verified<T>, Error> {
    match decode(&answer.value) {
        Ok(value) => Ok(Verified {
            value,
            status: answer.status,
            request_id: answer.request_id,
            headers: answer.headers,
        }),
        Err(error) => Err(Error::Decode(Box::new(DecodeError::new(
            answer.status,
            answer.request_id,
            answer.value,
            &error,
        )))),
    }
}

/// What the signature of `parts` covers, for a `SIGN_ERROR` to set beside the platform's view.
fn signed_request(parts: &RequestParts, timestamp: i64, nonce: &str) -> SignedRequest {
    let method = parts.method.as_str();
    let body = parts.signed_body.as_deref().unwrap_or(&parts.body);
    let message = protocol::request_message(method, &parts.path_and_query, timestamp, nonce, body);
    SignedRequest {
        method: method.to_owned(),
        url: parts.path_and_query.clone(),
        timestamp,
        nonce: nonce.to_owned(),
        sign_message_length: message.len(),
    }
}

/// GET, PUT and DELETE act once however often they are sent.
pub(crate) fn is_idempotent_method(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::PUT | Method::DELETE | Method::HEAD
    )
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

/// A uniform number in `[0, 1]` from the system RNG (0.5 if it fails: jitter is not security).
fn jitter() -> f64 {
    let mut byte = [0u8; 1];
    if getrandom::fill(&mut byte).is_ok() {
        f64::from(byte[0]) / 255.0
    } else {
        0.5
    }
}

/// `interval` ± 10 %, so a fleet started together does not download together. Saturates at
/// `Duration::MAX` (an interval meant as "never" must not panic the refresher).
pub(crate) fn with_jitter(interval: Duration) -> Duration {
    Duration::try_from_secs_f64(interval.as_secs_f64() * (0.9 + 0.2 * jitter()))
        .unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_saturates_instead_of_panicking() {
        // The old `mul_f64` panicked whenever the jitter came out above 1.0.
        for _ in 0..64 {
            assert!(with_jitter(Duration::MAX) >= Duration::MAX.mul_f64(0.89));
        }
        let jittered = with_jitter(Duration::from_secs(100));
        assert!((90..=110).contains(&jittered.as_secs()), "{jittered:?}");
    }
}
