//! Who calls the platform and how each call's attempts go: the merchant that signs, the
//! User-Agent, the transport, and the retry loop every call and download shares.

use http::{HeaderMap, HeaderValue, StatusCode};

use crate::apiv2::{self, CallContext, SignType};
use crate::clock::{jitter, unix_now};
use crate::crypto::CryptoBackend;
use crate::endpoint::{Endpoint, Protocol, RequestParts};
use crate::error::{ConfigError, Error, SignedRequest};
use crate::host::{Host, HostUrls};
use crate::keyring::KeyRing;
use crate::keys::{ApiV2Key, MerchantKey, PlatformKeys};
use crate::protocol::{self, RequestContext, Signer};
use crate::retry::{self, Attempt, RetryPolicy};
use crate::transport::Transport;

/// The merchant's side of every exchange.
pub(crate) struct Caller {
    mchid: String,
    /// `None` for a merchant that holds only an APIv2 key.
    merchant_key: Option<MerchantKey>,
    /// Why this client cannot speak APIv3 (built for APIv2 only): the setting it lacks.
    apiv3_missing: Option<&'static str>,
    backend: CryptoBackend,
    user_agent: HeaderValue,
    transport: Transport,
    retry: RetryPolicy,
    apiv2: Option<ApiV2Signer>,
}

/// The merchant's keys as the builder checked them.
pub(crate) struct Merchant {
    /// The merchant key (`apiclient_key.pem` and its certificate serial), if configured.
    pub(crate) key: Option<MerchantKey>,
    /// `Some(setting)` when APIv3 lacks that setting (a client built for APIv2 only).
    pub(crate) apiv3_missing: Option<&'static str>,
    pub(crate) backend: CryptoBackend,
}

/// How APIv2 requests are signed: the APIv2 key, and the sign type chosen for the operations
/// that take either.
pub(crate) struct ApiV2Signer {
    pub(crate) key: ApiV2Key,
    pub(crate) preferred: SignType,
}

impl Caller {
    pub(crate) fn new(
        mchid: String,
        merchant: Merchant,
        transport: Transport,
        retry: RetryPolicy,
    ) -> Self {
        Caller {
            mchid,
            merchant_key: merchant.key,
            apiv3_missing: merchant.apiv3_missing,
            backend: merchant.backend,
            user_agent: user_agent(transport.hosts().any_backup()),
            transport,
            retry,
            apiv2: None,
        }
    }

    /// With the APIv2 key and sign type preference.
    pub(crate) fn with_apiv2(mut self, apiv2: Option<ApiV2Signer>) -> Self {
        self.apiv2 = apiv2;
        self
    }

    /// The APIv2 key, when one was configured.
    pub(crate) fn apiv2_key(&self) -> Option<&ApiV2Key> {
        self.apiv2.as_ref().map(|apiv2| &apiv2.key)
    }

    /// What signing an APIv2 request to `host` takes; without an APIv2 key, the configuration
    /// error naming it.
    pub(crate) fn apiv2_context(&self, host: Host) -> Result<CallContext<'_>, ConfigError> {
        let apiv2 = self.apiv2.as_ref().ok_or(ConfigError::Missing {
            setting: "apiv2_key".into(),
        })?;
        Ok(
            CallContext::new(self.hosts().base(host), &apiv2.key, self.backend)
                .preferring(apiv2.preferred),
        )
    }

    /// The merchant number requests are signed for.
    pub(crate) fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The merchant key, when one was configured (an APIv2-only merchant may have none).
    pub(crate) fn merchant_key(&self) -> Result<&MerchantKey, ConfigError> {
        self.merchant_key
            .as_ref()
            .ok_or(ConfigError::ApiV3NotConfigured {
                missing: "merchant_key".into(),
            })
    }

    /// The key APIv3 requests are signed with; for a client built for APIv2 only, the
    /// configuration error naming what APIv3 lacks (checked before anything is sent).
    pub(crate) fn apiv3_signer(&self) -> Result<&MerchantKey, ConfigError> {
        match self.apiv3_missing {
            Some(missing) => Err(ConfigError::ApiV3NotConfigured {
                missing: missing.into(),
            }),
            None => self.merchant_key(),
        }
    }

    /// The backend the client's keys live in.
    pub(crate) fn backend(&self) -> CryptoBackend {
        self.backend
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The base URL and backup of each host.
    pub(crate) fn hosts(&self) -> &HostUrls {
        self.transport.hosts()
    }

    /// What signing an APIv3 request to `host` takes, encrypting with `keys`.
    pub(crate) fn context<'a>(
        &'a self,
        keys: &'a PlatformKeys,
        host: Host,
    ) -> Result<RequestContext<'a>, ConfigError> {
        Ok(RequestContext {
            base_url: self.hosts().base(host),
            signer: Signer {
                mchid: &self.mchid,
                key: self.apiv3_signer()?,
            },
            platform_keys: keys,
            user_agent: &self.user_agent,
        })
    }

    /// The signed request for an endpoint, as it would be sent now.
    pub(crate) fn prepare<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
        keys: &PlatformKeys,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        match E::PROTOCOL {
            Protocol::ApiV2(_) => {
                let context = self.apiv2_context(E::HOST)?;
                apiv2::prepare(endpoint, &context, &protocol::nonce()?)
            }
            _ => protocol::prepare(
                endpoint,
                &self.context(keys, E::HOST)?,
                unix_now(),
                &protocol::nonce()?,
            ),
        }
    }

    /// The attempts of one APIv3 request to `base_url`: each is written by `parts` and signed
    /// afresh (new timestamp and nonce, the ring's keys as they are then) and handed to `send`
    /// by [`Caller::retrying`]. Gives the last answer and what its signature covered.
    pub(crate) async fn attempts<R, F>(
        &self,
        keyring: &KeyRing,
        base_url: &str,
        idempotent: bool,
        parts: &(dyn Fn(&PlatformKeys, i64) -> Result<RequestParts, Error> + Sync),
        send: impl Fn(http::Request<Vec<u8>>) -> F,
        head: impl Fn(&R) -> (StatusCode, &HeaderMap),
    ) -> Result<(R, SignedRequest), Error>
    where
        F: Future<Output = Result<R, Error>>,
    {
        let signed_attempt = || {
            let keys = keyring.snapshot();
            let now = unix_now();
            let (parts, nonce) = (parts(&keys, now)?, protocol::nonce()?);
            let signed = signed_request(&parts, now, &nonce);
            let context = RequestContext {
                base_url,
                ..self.context(&keys, Host::Api)?
            };
            Ok((
                protocol::sign_request(parts, &context, now, &nonce)?,
                signed,
            ))
        };
        self.retrying(idempotent, &signed_attempt, send, head).await
    }

    /// The attempts of one request, whatever its protocol: each is made afresh by `request`
    /// (with what its signature covered, `S`) and handed to `send`; a failed one is retried by
    /// the policy, judged by the transport error or by the status and headers `head` reads,
    /// and one that may have reached the platform only when `idempotent`. Calls and downloads
    /// of both protocols share it, so the retry rules (like the failover inside
    /// [`Transport::exchange`]) live in one place.
    pub(crate) async fn retrying<R, S, F>(
        &self,
        idempotent: bool,
        request: &(dyn Fn() -> Result<(http::Request<Vec<u8>>, S), Error> + Sync),
        send: impl Fn(http::Request<Vec<u8>>) -> F,
        head: impl Fn(&R) -> (StatusCode, &HeaderMap),
    ) -> Result<(R, S), Error>
    where
        F: Future<Output = Result<R, Error>>,
    {
        let policy = &self.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            tracing::Span::current().record("attempt", attempt);
            let (request, signed) = request()?;
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

/// `wxpay-rust/<version> (<os>; <arch>)`: the platform asks every caller for a User-Agent.
/// With failover on it says so, so the platform's logs show which clients may switch hosts.
fn user_agent(failover: bool) -> HeaderValue {
    let text = format!(
        "wxpay-rust/{} ({}; {}{})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        if failover { "; failover" } else { "" }
    );
    HeaderValue::try_from(text).unwrap_or(HeaderValue::from_static("wxpay-rust"))
}
