//! The client: declared calls signed, sent, retried and verified; signatures checked and
//! notifications read with the client's key ring. The transport, the ring's refresh and the
//! builder are layers of their own (see the crate docs).

use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};

use bytes::Bytes;
use http::{HeaderMap, Method};
use tracing::Instrument;

use crate::apiv2;
use crate::caller::Caller;
use crate::clock::{unix_now, with_jitter};
use crate::crypto::CryptoBackend;
use crate::endpoint::{
    ApiV2, ApiV2Answer, Endpoint, Protocol, RequestParts, RequestWriter, write_apiv3,
};
use crate::error::{
    ApiV2Error, ConfigError, DecodeError, Error, RequestError, TransportError, TransportErrorKind,
    VerificationError,
};
use crate::host::Host;
use crate::keyring::PlatformKeyStatus;
use crate::keys::{ApiV3Key, MerchantKey, PlatformKey, PlatformKeys};
use crate::notification::{self, Notification};
use crate::policy::DownloadLimits;
use crate::protocol::{self, RequestContext, Verified};
use crate::refresh::Refresher;
use crate::scheduler::{self, Periodic};
use crate::transport::Connection;

/// A bill asked for as `tar_type=GZIP` comes compressed: its text, decompressed under the
/// same limit as a whole body (so a small bomb never expands past it). Any other answer is
/// left as it came.
async fn unpacked_bill(
    response: http::Response<Bytes>,
    limit: usize,
) -> Result<http::Response<Bytes>, Error> {
    use tokio::io::AsyncReadExt as _;
    if !response.body().starts_with(&[0x1f, 0x8b]) {
        return Ok(response);
    }
    let (head, body) = response.into_parts();
    let mut text = Vec::new();
    let read = async_compression::tokio::bufread::GzipDecoder::new(&body[..])
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut text)
        .await;
    if read.is_err() {
        use serde::de::Error as _;
        let error = serde_json::Error::custom("a GZIP bill that does not decompress");
        return Err(Error::Decode(Box::new(DecodeError::new(
            head.status,
            None,
            body,
            &error,
        ))));
    }
    if text.len() > limit {
        return Err(TransportError::new(
            TransportErrorKind::TooLarge { limit },
            "the bill decompresses to more than the limit",
        )
        .into());
    }
    Ok(http::Response::from_parts(head, Bytes::from(text)))
}

/// How an APIv2 call goes out: its connection, and for a bill the size and time limits of a
/// download.
pub(crate) type ApiV2Route = (Connection, Option<usize>, Option<std::time::Duration>);
/// A WeChat Pay client for one merchant: APIv3, and APIv2 with an APIv2 key.
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
/// APIv2 operations declared `cert` go on a connection of the client's own that presents the
/// merchant's API client certificate ([`ClientBuilder::merchant_certificate`]); no other call
/// does, and no other client shares it.
///
/// [`ClientBuilder::merchant_certificate`]: crate::ClientBuilder::merchant_certificate
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
    /// Who signs, and how requests travel.
    pub(crate) caller: Caller,
    /// The platform key ring and its refresh.
    pub(crate) keys: Refresher,
    /// What [`Client::download`] may take.
    pub(crate) downloads: DownloadLimits,
    /// Set once the client is on the refresh scheduler.
    scheduled: OnceLock<()>,
    /// The bank-card payout key, once fetched (`Client::bank_payout_key`).
    pub(crate) bank_payout_key: std::sync::Mutex<Option<apiv2::BankPayoutKey>>,
}

/// The scheduler's turn of a client: its periodic refresh.
impl Periodic for Inner {
    fn period(&self) -> Option<std::time::Duration> {
        self.keys.interval()
    }

    fn turn(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move { self.keys.scheduled_refresh(&self.caller).await })
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("mchid", &self.mchid())
            .field(
                "merchant_serial",
                &self
                    .inner
                    .caller
                    .merchant_key()
                    .ok()
                    .map(MerchantKey::serial),
            )
            .field("platform_keys", &self.platform_key_status().key_ids)
            .field("apiv3_key", &self.apiv3_key().map(|_| "<redacted>"))
            .field(
                "apiv2_key",
                &self.inner.caller.apiv2_key().map(|_| "<redacted>"),
            )
            .field(
                "merchant_certificate",
                &self.inner.caller.transport().has_client_certificate(),
            )
            .field(
                "hosts",
                &self.inner.caller.hosts().bases().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of these parts, put together by the builder.
    pub(crate) fn new(caller: Caller, keys: Refresher, downloads: DownloadLimits) -> Client {
        Client {
            inner: Arc::new(Inner {
                caller,
                keys,
                downloads,
                scheduled: OnceLock::new(),
                bank_payout_key: std::sync::Mutex::new(None),
            }),
        }
    }

    /// The merchant number this client signs for.
    pub fn mchid(&self) -> &str {
        self.inner.caller.mchid()
    }

    /// The platform key ring as it is now (answers are verified against it).
    pub fn platform_keys(&self) -> Arc<PlatformKeys> {
        self.inner.keys.platform_keys()
    }

    /// The refresh state of the platform keys: last success, last error, downloads, key ids,
    /// and warnings (ignored store entries, expired certificates).
    pub fn platform_key_status(&self) -> PlatformKeyStatus {
        self.inner.keys.keyring().status(unix_now())
    }

    /// The platform key sensitive fields are encrypted with now (what `#[wxpay(encrypt)]`
    /// fields use): the public key if configured, else the newest valid certificate.
    pub fn encryption_key(&self) -> Option<PlatformKey> {
        self.platform_keys().encryption_key(unix_now()).cloned()
    }

    /// The APIv3 key, when one was configured.
    pub fn apiv3_key(&self) -> Option<&ApiV3Key> {
        self.inner.keys.apiv3_key()
    }

    /// The crypto backend this client's keys live in.
    pub fn crypto_backend(&self) -> CryptoBackend {
        self.inner.caller.backend()
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
    /// APIv3 key, [`ConfigError::ApiV3NotConfigured`] when it was built for APIv2 only.
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
        self.inner.caller.apiv3_signer()?;
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
    /// Either protocol: an APIv3 endpoint is signed with the merchant key and its answer
    /// verified with the platform key ring; an APIv2 one (`#[endpoint(v2 …)]`) is signed with
    /// the APIv2 key ([`ClientBuilder::apiv2_key`](crate::ClientBuilder::apiv2_key)), sent on
    /// the connection that presents the merchant's API client certificate when it is declared
    /// `cert` ([`ClientBuilder::merchant_certificate`](crate::ClientBuilder::merchant_certificate)),
    /// and its answer checked: `return_code` `FAIL` is [`ApiV2Error::Platform`], a missing or
    /// wrong `sign` [`ApiV2Error::Verification`], `result_code` `FAIL`
    /// [`ApiV2Error::Business`] (all as [`Error::ApiV2`]). An APIv2 operation that answers
    /// text (a bill, `answer = text`) is read whole under the download limits; one that
    /// answers JSON (`answer = json`) is decoded from it; a page for the user's browser
    /// (`answer = page`) is never sent ([`RequestError::BrowserPage`]): see
    /// [`Client::page_url`].
    ///
    /// ```no_run
    /// # use wxpay_core::{Client, Endpoint};
    /// # async fn run<E: Endpoint + Sync>(client: Client, pause: E) -> Result<(), wxpay_core::Error> {
    /// let answer = client.send(pause).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    ///
    /// [`ApiV2Error::Platform`]: crate::ApiV2Error::Platform
    /// [`ApiV2Error::Verification`]: crate::ApiV2Error::Verification
    /// [`ApiV2Error::Business`]: crate::ApiV2Error::Business
    pub async fn send<E: Endpoint + Sync>(&self, endpoint: E) -> Result<E::Response, Error> {
        Ok(self.send_verified(endpoint).await?.value)
    }

    /// As [`Client::send`], keeping the status, `Request-ID` and headers beside the value.
    ///
    /// Failed attempts are retried by the client's [`RetryPolicy`](crate::RetryPolicy); a call
    /// that may have reached the platform is repeated only when that cannot act twice (see
    /// [`Endpoint::IDEMPOTENT`]). APIv2 calls follow the same rule, each attempt with a fresh
    /// `nonce_str` and `sign`.
    ///
    /// # Errors
    /// For an APIv3 endpoint on a client built for APIv2 only,
    /// [`ConfigError::ApiV3NotConfigured`] (nothing sent).
    /// For an APIv2 endpoint, [`ConfigError::Missing`] (nothing sent) without an APIv2 key
    /// (`apiv2_key`), or for a `cert` operation without the merchant's API client certificate
    /// (`merchant_certificate`).
    pub async fn send_verified<E: Endpoint + Sync>(
        &self,
        endpoint: E,
    ) -> Result<Verified<E::Response>, Error> {
        let idempotent = E::IDEMPOTENT || is_idempotent_method(&E::METHOD);
        if let Protocol::ApiV2(rules) = E::PROTOCOL {
            return self.send_apiv2(&endpoint, rules, idempotent).await;
        }
        let parts = |keys: &PlatformKeys, now: i64| {
            let mut writer = RequestWriter::new(E::METHOD, Some(keys), now);
            write_apiv3(&endpoint, &mut writer)?;
            Ok(writer.finish())
        };
        let answer = self
            .call(&E::METHOD, E::PATH_TEMPLATE, E::HOST, idempotent, &parts)
            .await?;
        let mut answer = decode_verified(answer, E::decode_response)?;
        if let Err(mut error) =
            E::decrypt_response(&mut answer.value, self.inner.caller.apiv3_signer()?)
        {
            error.request_id = answer.request_id;
            return Err(Error::Decrypt(Box::new(error)));
        }
        Ok(answer)
    }

    /// An APIv2 call: checked against the configuration before anything is signed, each
    /// attempt signed with a fresh nonce, the answer read by the endpoint's rules.
    async fn send_apiv2<E: Endpoint + Sync>(
        &self,
        endpoint: &E,
        rules: ApiV2,
        idempotent: bool,
    ) -> Result<Verified<E::Response>, Error> {
        if rules.answer == ApiV2Answer::Page {
            return Err(RequestError::BrowserPage {
                operation: E::PATH_TEMPLATE,
            }
            .into());
        }
        let context = self.inner.caller.apiv2_context(E::HOST)?;
        let route = self.apiv2_route(rules)?;
        let request = || Ok((apiv2::prepare(endpoint, &context, &protocol::nonce()?)?, ()));
        let answer = self
            .call_apiv2(
                &E::METHOD,
                E::PATH_TEMPLATE,
                E::HOST,
                idempotent,
                route,
                &request,
            )
            .await?;
        let (head, body) = answer.into_parts();
        let value = apiv2::read_endpoint_answer::<E>(head.status, body, &context)?;
        Ok(Verified {
            value,
            status: head.status,
            request_id: None,
            headers: head.headers,
        })
    }

    /// How a call of an APIv2 operation of `rules` goes out: on the connection that presents
    /// the client certificate when the operation needs it (without one, refused before
    /// anything is signed), and a bill read whole under the download limits rather than an
    /// answer's.
    pub(crate) fn apiv2_route(&self, rules: ApiV2) -> Result<ApiV2Route, Error> {
        let connection = if rules.client_certificate {
            if !self.inner.caller.transport().has_client_certificate() {
                return Err(ConfigError::Missing {
                    setting: "merchant_certificate".into(),
                }
                .into());
            }
            Connection::ClientCertificate
        } else {
            Connection::Plain
        };
        let (limit, timeout) = match rules.answer {
            ApiV2Answer::Text => {
                let downloads = &self.inner.downloads;
                let limit = usize::try_from(downloads.max_bytes).unwrap_or(usize::MAX);
                (Some(limit), downloads.overall)
            }
            _ => (None, None),
        };
        Ok((connection, limit, timeout))
    }

    /// The attempts of one APIv2 call (not generic, so every endpoint shares one copy). A
    /// non-2xx answer that is no APIv2 document (a gateway's page) is [`ApiV2Error::Status`].
    pub(crate) async fn call_apiv2(
        &self,
        method: &Method,
        path_template: &str,
        host: Host,
        idempotent: bool,
        (connection, limit, timeout): ApiV2Route,
        request: &(dyn Fn() -> Result<(http::Request<Vec<u8>>, ()), Error> + Sync),
    ) -> Result<http::Response<Bytes>, Error> {
        let span = tracing::info_span!(
            "wxpay.call",
            %method,
            path = path_template,
            %host,
            protocol = "APIv2",
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        async {
            let transport = self.inner.caller.transport();
            let (response, ()) = self
                .inner
                .caller
                .retrying(
                    idempotent,
                    request,
                    |request| async move {
                        Ok(match limit {
                            Some(limit) => {
                                transport
                                    .exchange_whole_within(request, connection, limit, timeout)
                                    .await?
                            }
                            None => transport.exchange_whole(request, connection).await?,
                        })
                    },
                    |response: &http::Response<Bytes>| (response.status(), response.headers()),
                )
                .await?;
            tracing::Span::current().record("status", response.status().as_u16());
            if !response.status().is_success() && apiv2::parse(response.body()).is_err() {
                return Err(ApiV2Error::Status {
                    status: response.status().as_u16(),
                }
                .into());
            }
            match limit {
                Some(limit) => unpacked_bill(response, limit).await,
                None => Ok(response),
            }
        }
        .instrument(span)
        .await
    }

    /// The signed request for an endpoint, as [`Client::send`] would send it now (an APIv2
    /// endpoint signed with the APIv2 key, its `nonce_str` fresh).
    pub fn prepare<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        self.inner.caller.prepare(endpoint, &self.platform_keys())
    }

    /// The signed URL of an APIv2 page for the user's browser (the contract-signing pages
    /// `entrustweb`, declared `answer = page`): send the user's browser there (an HTTP
    /// redirect, a link); the server never fetches it. Signed with the APIv2 key as
    /// [`Client::send`] would sign the request, with a fresh `nonce_str` where it has one.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] without an APIv2 key; [`RequestError::NotAPage`] for an
    /// operation that is not such a page (send it instead).
    ///
    /// ```no_run
    /// # fn run<E: wxpay_core::Endpoint>(client: wxpay_core::Client, sign_contract: E) -> Result<(), wxpay_core::Error> {
    /// let url = client.page_url(&sign_contract)?;
    /// println!("302 Location: {url}");
    /// # Ok(()) }
    /// ```
    pub fn page_url<E: Endpoint + ?Sized>(&self, page: &E) -> Result<http::Uri, Error> {
        let context = self.inner.caller.apiv2_context(E::HOST)?;
        apiv2::page_url(page, &context, &protocol::nonce()?)
    }

    /// Reads an APIv2 notification POSTed to the merchant's `notify_url`: a payment result
    /// (a signed `<xml>`, verified with the APIv2 key in the sign type it names, see
    /// [`apiv2::read_notification`]) or a refund result (`req_info` decrypted with the APIv2
    /// key). Answer the platform with
    /// [`apiv2::ACKNOWLEDGEMENT`] once it is taken, [`apiv2::refusal`] otherwise (see
    /// [`apiv2::Reply`]). Deliveries repeat: handle duplicates.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] without an APIv2 key; [`Error::ApiV2Notification`] when the
    /// body is not a notification, not trusted, or does not decrypt.
    ///
    /// ```no_run
    /// # fn run(client: wxpay_core::Client, body: bytes::Bytes) -> Result<(), wxpay_core::Error> {
    /// use wxpay_core::apiv2::Notification;
    /// match client.read_apiv2_notification(&body)? {
    ///     Notification::Payment(fields) => println!("paid: {:?}", fields.get("out_trade_no")),
    ///     Notification::Refund(refund) => println!("refunded: {:?}", refund.refund.get("out_refund_no")),
    ///     _ => {}
    /// }
    /// # Ok(()) }
    /// ```
    pub fn read_apiv2_notification(&self, body: &[u8]) -> Result<apiv2::Notification, Error> {
        let caller = &self.inner.caller;
        let key = caller.apiv2_key().ok_or(ConfigError::Missing {
            setting: "apiv2_key".into(),
        })?;
        Ok(apiv2::read_notification(body, key, self.crypto_backend())?)
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
        self.inner
            .keys
            .verify_signature(&self.inner.caller, headers, body)
            .await
    }

    /// Downloads the platform certificates now and installs them (waiting for a download
    /// already under way instead of starting a second one). A public-key merchant whose
    /// platform has no certificates (404) gets `Ok`.
    pub async fn refresh_platform_certificates(&self) -> Result<(), Error> {
        self.inner.caller.apiv3_signer()?;
        self.inner.keys.refresh_now(&self.inner.caller).await
    }

    /// The base URL of `host` for this client.
    pub fn base_url(&self, host: Host) -> &str {
        self.inner.caller.hosts().base(host)
    }

    pub(crate) fn context<'a>(
        &'a self,
        keys: &'a PlatformKeys,
        host: Host,
    ) -> Result<RequestContext<'a>, ConfigError> {
        self.inner.caller.context(keys, host)
    }

    /// Before an APIv3 call: the client must speak APIv3 (checked before anything is sent or
    /// downloaded), the background refresher runs, and a ring that has no key yet gets its
    /// first download (see [`Refresher::ready`]).
    pub(crate) async fn ready(&self) -> Result<(), Error> {
        self.inner.caller.apiv3_signer()?;
        self.schedule_refresh();
        self.inner.keys.ready(&self.inner.caller).await
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
            let caller = &self.inner.caller;
            let (response, signed) = caller
                .attempts(
                    self.inner.keys.keyring(),
                    caller.hosts().base(host),
                    idempotent,
                    parts,
                    |request| async move {
                        Ok(caller
                            .transport()
                            .exchange_whole(request, Connection::Plain)
                            .await?)
                    },
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

    /// Puts the client on the process's refresh scheduler once (only merchants that can
    /// download certificates, with the refresh on): one task serves every client.
    fn schedule_refresh(&self) {
        let Some(interval) = self.inner.keys.interval() else {
            return;
        };
        if self.inner.keys.apiv3_key().is_none() {
            return;
        }
        if self.inner.scheduled.get().is_some() {
            scheduler::keep_running();
            return;
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        self.inner.scheduled.get_or_init(|| {
            let job: Weak<Inner> = Arc::downgrade(&self.inner);
            scheduler::schedule(job, with_jitter(interval));
        });
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

/// GET, PUT and DELETE act once however often they are sent.
pub(crate) fn is_idempotent_method(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::PUT | Method::DELETE | Method::HEAD
    )
}
