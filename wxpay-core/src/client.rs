//! The HTTP client: the transport at the edge of the pure protocol.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

use crate::config::ClientBuilder;
use crate::crypto::CryptoBackend;
use crate::dynamic::DynamicRequest;
use crate::endpoint::{Endpoint, RequestParts};
use crate::error::{Error, VerificationError};
use crate::keys::{ApiV3Key, MerchantKey, PlatformKey, PlatformKeys};
use crate::protocol::{self, RequestContext, Signer, Verified};

/// A WeChat Pay APIv3 client for one merchant.
///
/// Cheap to clone (an `Arc` inside) and safe to share across tasks. Every call is signed with
/// the merchant key and every answer verified against the platform key ring before it reaches
/// the caller.
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
    pub(crate) platform_keys: PlatformKeys,
    pub(crate) apiv3_key: Option<ApiV3Key>,
    pub(crate) base_url: String,
    pub(crate) user_agent: HeaderValue,
    pub(crate) timestamp_tolerance: u64,
    pub(crate) http: reqwest::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("mchid", &self.inner.mchid)
            .field("merchant_serial", &self.inner.merchant_key.serial())
            .field("platform_keys", &self.inner.platform_keys.len())
            .field(
                "apiv3_key",
                &self.inner.apiv3_key.as_ref().map(|_| "<redacted>"),
            )
            .field("base_url", &self.inner.base_url)
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

    pub(crate) fn from_inner(inner: Inner) -> Client {
        Client {
            inner: Arc::new(inner),
        }
    }

    /// The merchant number this client signs for.
    pub fn mchid(&self) -> &str {
        &self.inner.mchid
    }

    /// The platform key ring answers are verified with.
    pub fn platform_keys(&self) -> &PlatformKeys {
        &self.inner.platform_keys
    }

    /// The platform key sensitive fields are encrypted with now (what `#[wxpay(encrypt)]`
    /// fields use); `None` when no valid key is configured.
    pub fn encryption_key(&self) -> Option<&PlatformKey> {
        self.inner.platform_keys.encryption_key(unix_now())
    }

    /// The APIv3 key, when one was configured.
    pub fn apiv3_key(&self) -> Option<&ApiV3Key> {
        self.inner.apiv3_key.as_ref()
    }

    /// The crypto backend this client's keys live in.
    pub fn crypto_backend(&self) -> CryptoBackend {
        self.inner.merchant_key.backend()
    }

    /// Checks a platform signature (of a notification, say) over the raw `body` with this
    /// client's key ring and timestamp tolerance.
    pub async fn verify_signature(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), VerificationError> {
        protocol::verify_signature(
            headers,
            body,
            &self.inner.platform_keys,
            unix_now(),
            self.inner.timestamp_tolerance,
        )
        .map(|_| ())
    }

    /// Sends a declared endpoint and returns its verified, typed answer.
    ///
    /// ```no_run
    /// # use wxpay_core::{Client, Endpoint};
    /// # async fn run<E: Endpoint>(client: Client, pause: E) -> Result<(), wxpay_core::Error> {
    /// let answer = client.send(pause).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub async fn send<E: Endpoint>(&self, endpoint: E) -> Result<E::Response, Error> {
        Ok(self.send_verified(endpoint).await?.value)
    }

    /// As [`Client::send`], keeping the status, `Request-ID` and headers beside the value.
    pub async fn send_verified<E: Endpoint>(
        &self,
        endpoint: E,
    ) -> Result<Verified<E::Response>, Error> {
        let request = self.prepare(&endpoint)?;
        self.execute(request, E::decode_response).await
    }

    /// The signed request for an endpoint, as [`Client::send`] would send it now.
    pub fn prepare<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        protocol::prepare(endpoint, &self.context(), unix_now(), &protocol::nonce()?)
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

    pub(crate) fn sign_parts(&self, parts: RequestParts) -> Result<http::Request<Vec<u8>>, Error> {
        protocol::sign_request(parts, &self.context(), unix_now(), &protocol::nonce()?)
    }

    pub(crate) fn context(&self) -> RequestContext<'_> {
        RequestContext {
            base_url: &self.inner.base_url,
            signer: Signer {
                mchid: &self.inner.mchid,
                key: &self.inner.merchant_key,
            },
            platform_keys: &self.inner.platform_keys,
            user_agent: &self.inner.user_agent,
        }
    }

    /// Sends a signed request and verifies and decodes its answer.
    pub(crate) async fn execute<T>(
        &self,
        request: http::Request<Vec<u8>>,
        decode: impl FnOnce(&[u8]) -> Result<T, serde_json::Error>,
    ) -> Result<Verified<T>, Error> {
        let response = self.transport(request).await?;
        protocol::read_response(
            response,
            &self.inner.platform_keys,
            unix_now(),
            self.inner.timestamp_tolerance,
            decode,
        )
    }

    async fn transport(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Bytes>, Error> {
        let request = reqwest::Request::try_from(request).map_err(transport_error)?;
        let response = self
            .inner
            .http
            .execute(request)
            .await
            .map_err(transport_error)?;
        let mut builder = http::Response::builder()
            .status(response.status())
            .version(response.version());
        if let Some(headers) = builder.headers_mut() {
            *headers = response.headers().clone();
        }
        let body = response.bytes().await.map_err(transport_error)?;
        builder.body(body).map_err(transport_error)
    }
}

fn transport_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Transport(Box::new(e))
}

/// Seconds since the Unix epoch; a clock set before 1970 reads as 0 (and then fails the
/// timestamp check loudly rather than panicking).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
