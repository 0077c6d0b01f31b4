//! Requests to endpoints nobody has declared yet, signed and verified like declared ones.

use http::{HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::endpoint::{RequestParts, RequestWriter};
use crate::error::{Error, RequestError};
use crate::host::Host;
use crate::keys::PlatformKeys;
use crate::protocol::Verified;
use crate::wire::encoding;

/// A request built at run time from a path template such as
/// `/v3/marketing/favor/stocks/{stock_id}/pause`.
///
/// The template is an APIv3 path (`/v3/…`, `/hk/…` or `/global/…`) of already-encoded
/// characters with whole-segment `{name}` placeholders; the query goes through
/// [`DynamicRequest::query`]. A template with a dot segment, `\`, `?`, `#`, a space,
/// non-ASCII or an invalid `%` escape is refused before signing: the URL layer would rewrite
/// it, so what arrives would not be what was signed.
///
/// Errors in the pieces (a bad header, a body that does not serialise) are kept and reported
/// by [`DynamicRequest::send`], so the chain reads straight through:
///
/// ```no_run
/// # async fn run(client: wxpay_core::Client) -> Result<(), wxpay_core::Error> {
/// let answer: serde_json::Value = client
///     .post("/v3/marketing/favor/stocks/{stock_id}/pause")
///     .path("stock_id", "9856888")
///     .json(&serde_json::json!({ "stock_creator_mchid": "1230000109" }))
///     .send()
///     .await?;
/// # let _ = answer; Ok(()) }
/// ```
///
/// Sensitive fields: encrypt them with [`Client::encryption_key`] and name that key with
/// `.header("Wechatpay-Serial", key.id())`.
#[must_use = "a request does nothing until it is sent"]
pub struct DynamicRequest<'c> {
    client: &'c Client,
    method: Method,
    template: String,
    host: Host,
    path_params: Vec<(String, String)>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Result<Vec<u8>, serde_json::Error>>,
}

impl std::fmt::Debug for DynamicRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be personal data; the shape is enough to debug.
        f.debug_struct("DynamicRequest")
            .field("method", &self.method)
            .field("template", &self.template)
            .field("host", &self.host)
            .field(
                "path_params",
                &self.path_params.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field(
                "query",
                &self.query.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Client {
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
}

impl<'c> DynamicRequest<'c> {
    pub(crate) fn new(client: &'c Client, method: Method, template: &str) -> Self {
        DynamicRequest {
            client,
            method,
            template: template.to_owned(),
            host: Host::Api,
            path_params: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Sends the request to `host` (default [`Host::Api`]): the cross-border `/v3/global/…`
    /// and `/global/v3/…` operations are served on [`Host::Apihk`].
    ///
    /// ```no_run
    /// # async fn run(client: wxpay_core::Client) -> Result<(), wxpay_core::Error> {
    /// use wxpay_core::Host;
    /// let order: serde_json::Value = client
    ///     .get("/v3/global/transactions/out-trade-no/{out_trade_no}")
    ///     .host(Host::Apihk)
    ///     .path("out_trade_no", "1217752501201407033233368018")
    ///     .query("mchid", "1230000109")
    ///     .send()
    ///     .await?;
    /// # let _ = order; Ok(()) }
    /// ```
    pub fn host(mut self, host: Host) -> Self {
        self.host = host;
        self
    }

    /// Fills the placeholder `{name}` with `value`, percent-encoded as one path segment.
    pub fn path(mut self, name: &str, value: impl ToString) -> Self {
        self.path_params.push((name.to_owned(), value.to_string()));
        self
    }

    /// Appends `name=value` to the query, percent-encoded.
    pub fn query(mut self, name: &str, value: impl ToString) -> Self {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }

    /// Sets a header. Headers that frame or route the request (`Content-Length`,
    /// `Transfer-Encoding`, `Host`, `Connection`, `TE`, `Trailer`, `Upgrade`, `Keep-Alive`,
    /// `Proxy-Connection`) and `Authorization` (the client signs) are refused when the
    /// request is sent: a user value there would change what arrives after it was signed.
    pub fn header(mut self, name: &str, value: impl ToString) -> Self {
        self.headers.push((name.to_owned(), value.to_string()));
        self
    }

    /// Sets the JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        self.body = Some(serde_json::to_vec(body));
        self
    }

    /// Sends the request and decodes the verified answer as `T` (an empty body reads as JSON
    /// `null`, so `()` and `Option<_>` accept a 204).
    pub async fn send<T: DeserializeOwned>(self) -> Result<T, Error> {
        Ok(self.send_verified().await?.value)
    }

    /// As [`DynamicRequest::send`], keeping status, `Request-ID` and headers. GET, PUT and
    /// DELETE are retried by the client's policy; POST and PATCH only when the connection was
    /// never made.
    pub async fn send_verified<T: DeserializeOwned>(mut self) -> Result<Verified<T>, Error> {
        let body = match self.body.take() {
            Some(Err(error)) => return Err(RequestError::Body(error).into()),
            Some(Ok(body)) => Some(body),
            None => None,
        };
        // A request that cannot be sent as signed is refused before anything goes out, even
        // the first certificate download.
        self.parts(body.as_deref(), 0)?;
        let idempotent = crate::client::is_idempotent_method(&self.method);
        let parts = |_: &PlatformKeys, now: i64| self.parts(body.as_deref(), now);
        let answer = self
            .client
            .call(&self.method, &self.template, self.host, idempotent, &parts)
            .await?;
        crate::client::decode_verified(answer, |body| {
            serde_json::from_slice(if body.is_empty() { b"null" } else { body })
        })
    }

    pub(crate) fn parts(&self, body: Option<&[u8]>, now: i64) -> Result<RequestParts, Error> {
        encoding::check_encoded_path(&self.template, true).map_err(template_error)?;
        let mut writer = RequestWriter::new(self.method.clone(), None, now);
        let mut used = vec![false; self.path_params.len()];
        let mut rest = self.template.as_str();
        while let Some(open) = rest.find('{') {
            writer.path_literal(&rest[..open]);
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| template_error("unclosed `{` in the path template".into()))?;
            let name = &rest[open + 1..open + close];
            let index = self
                .path_params
                .iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| {
                    template_error(format!(
                        "no value for `{{{name}}}`; call .path(\"{name}\", …)"
                    ))
                })?;
            used[index] = true;
            writer.path_segment(&self.path_params[index].1)?;
            rest = &rest[open + close + 1..];
        }
        writer.path_literal(rest);
        if let Some(unused) = used.iter().position(|u| !u) {
            let name = &self.path_params[unused].0;
            return Err(template_error(format!(
                "`{name}` is not a placeholder of the path template"
            )));
        }
        for (name, value) in &self.query {
            writer.query_pair(name, value);
        }
        for (name, value) in &self.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| template_error(format!("`{name}` is not a valid header name")))?;
            if FORBIDDEN_HEADERS.contains(&name) {
                return Err(template_error(format!(
                    "the `{name}` header cannot be set: the client frames and signs the request"
                )));
            }
            let value = HeaderValue::try_from(value.as_str()).map_err(|_| {
                template_error(format!("the value of `{name}` is not a valid header value"))
            })?;
            writer.insert_header(name, value);
        }
        if let Some(body) = body {
            writer.json_bytes(body.to_vec());
        }
        Ok(writer.finish())
    }

    /// The signed request as [`DynamicRequest::send`] would send it now (the full URL on the
    /// request's [host](DynamicRequest::host), every header with `Authorization`, the body's
    /// exact bytes), without sending it: to show or log what goes out. The body is what [`DynamicRequest::json`] was given, so encrypt
    /// sensitive fields first, as for `send`.
    pub fn prepare(&self) -> Result<http::Request<Vec<u8>>, Error> {
        let body = match &self.body {
            Some(Err(error)) => {
                return Err(RequestError::Body(serde::ser::Error::custom(error)).into());
            }
            Some(Ok(body)) => Some(body.as_slice()),
            None => None,
        };
        let now = crate::clock::unix_now();
        let parts = self.parts(body, now)?;
        let keys = self.client.platform_keys();
        let context = self.client.context(&keys, self.host);
        crate::protocol::sign_request(parts, &context, now, &crate::protocol::nonce()?)
    }
}

/// Headers a caller may not set; see [`DynamicRequest::header`].
const FORBIDDEN_HEADERS: [HeaderName; 10] = [
    http::header::CONTENT_LENGTH,
    http::header::TRANSFER_ENCODING,
    http::header::HOST,
    http::header::CONNECTION,
    http::header::TE,
    http::header::TRAILER,
    http::header::UPGRADE,
    http::header::AUTHORIZATION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
];

fn template_error(reason: String) -> Error {
    Error::Request(RequestError::Field {
        field: "path",
        reason,
    })
}
