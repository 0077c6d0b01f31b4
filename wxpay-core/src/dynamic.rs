//! Requests to endpoints nobody has declared yet, signed and verified like declared ones.

use http::{HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::Client;
use crate::endpoint::sensitive::FieldPath;
use crate::endpoint::{RequestParts, RequestWriter};
use crate::error::{Error, RequestError};
use crate::host::Host;
use crate::keys::PlatformKeys;
use crate::protocol::Verified;
use crate::wire::{WECHATPAY_SERIAL, encoding};

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
/// Sensitive fields are named, not encrypted by hand: [`DynamicRequest::encrypt`] (body
/// fields) and [`DynamicRequest::query_encrypted`] (query parameters). Each attempt encrypts
/// them with the one platform key chosen for it and names that key in `Wechatpay-Serial`, as
/// declared endpoints do, so a retry after a platform key rotation uses the new key.
#[must_use = "a request does nothing until it is sent"]
pub struct DynamicRequest<'c> {
    client: &'c Client,
    method: Method,
    template: String,
    host: Host,
    path_params: Vec<(String, String)>,
    query: Vec<QueryPair>,
    headers: Vec<(String, String)>,
    body: Option<Result<Vec<u8>, serde_json::Error>>,
    /// Body paths whose text is encrypted on each attempt.
    encrypted: Vec<EncryptedPath>,
}

struct QueryPair {
    name: String,
    value: String,
    /// Sent as ciphertext for the attempt's platform key.
    encrypted: bool,
}

struct EncryptedPath {
    /// Dotted, as the catalog writes it: `payer.identity.name`, `receivers.name`.
    path: String,
    /// Whether the body must have the field (an absent one is an error, not a skip).
    required: bool,
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
                &self.query.iter().map(|q| &q.name).collect::<Vec<_>>(),
            )
            .field(
                "encrypted",
                &self.encrypted.iter().map(|e| &e.path).collect::<Vec<_>>(),
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
            encrypted: Vec::new(),
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
        self.query.push(QueryPair {
            name: name.to_owned(),
            value: value.to_string(),
            encrypted: false,
        });
        self
    }

    /// Appends `name=value` to the query with `value` encrypted: a sensitive query parameter
    /// (a phone number to search by). Each attempt encrypts it with the platform key it names
    /// in `Wechatpay-Serial`, as [`DynamicRequest::encrypt`] does for body fields.
    ///
    /// ```no_run
    /// # async fn run(client: wxpay_core::Client) -> Result<(), wxpay_core::Error> {
    /// let guides: serde_json::Value = client
    ///     .get("/v3/smartguide/guides")
    ///     .query("store_id", 1234)
    ///     .query_encrypted("mobile", "13800138000")
    ///     .send()
    ///     .await?;
    /// # let _ = guides; Ok(()) }
    /// ```
    pub fn query_encrypted(mut self, name: &str, value: impl ToString) -> Self {
        self.query.push(QueryPair {
            name: name.to_owned(),
            value: value.to_string(),
            encrypted: true,
        });
        self
    }

    /// Encrypts the body's text at `path` with the platform key, on each attempt, and names
    /// that key in `Wechatpay-Serial`: what `#[wxpay(encrypt)]` does for a declared endpoint's
    /// field, through the same writer (one key per attempt, chosen when it is written).
    ///
    /// `path` is dotted as the catalog writes it (`wxpay::apis::Operation::encrypted`):
    /// `user_name`, `payer.identity.name`. A list on the way is walked element by element, so
    /// `receivers.name` is the `name` of every receiver and `insured_name_list` every string
    /// of that list. The field must be there: an absent field, `null`, or a value that is not
    /// text is a [`RequestError::Encrypt`] naming it (`receivers[1].name`), returned before
    /// anything is sent, never plaintext on the wire. For a field the body may leave out, see
    /// [`DynamicRequest::encrypt_if_present`].
    ///
    /// With encrypted paths the body is written from its JSON value, so its object members go
    /// out in name order (what is sent is what is signed either way).
    ///
    /// ```no_run
    /// # async fn run(client: wxpay_core::Client) -> Result<(), wxpay_core::Error> {
    /// let coupon: serde_json::Value = client
    ///     .post("/v3/marketing/busifavor/users/{openid}/coupons")
    ///     .path("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
    ///     .json(&serde_json::json!({
    ///         "stock_id": "9856889",
    ///         "out_request_no": "89560002019101000121",
    ///         "user_name": "张三",
    ///         "receivers": [{ "name": "李四" }, { "name": "王五" }],
    ///     }))
    ///     .encrypt("user_name")
    ///     .encrypt("receivers.name")
    ///     .send()
    ///     .await?;
    /// # let _ = coupon; Ok(()) }
    /// ```
    pub fn encrypt(mut self, path: &str) -> Self {
        self.encrypted.push(EncryptedPath {
            path: path.to_owned(),
            required: true,
        });
        self
    }

    /// As [`DynamicRequest::encrypt`] for an optional field: a body without it (or with
    /// `null` there, or an empty list on the way) has nothing to encrypt at `path`. What is
    /// there must still be text. For callers that name every sensitive field an operation
    /// has (the catalog's `wxpay::apis::Operation::encrypted`) whatever the body holds.
    ///
    /// ```no_run
    /// # async fn run(client: wxpay_core::Client) -> Result<(), wxpay_core::Error> {
    /// // `payer.identity` is only sent for real-name payments.
    /// let order: serde_json::Value = client
    ///     .post("/v3/pay/transactions/jsapi")
    ///     .json(&serde_json::json!({ "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" } }))
    ///     .encrypt_if_present("payer.identity.number")
    ///     .encrypt_if_present("payer.identity.name")
    ///     .send()
    ///     .await?;
    /// # let _ = order; Ok(()) }
    /// ```
    pub fn encrypt_if_present(mut self, path: &str) -> Self {
        self.encrypted.push(EncryptedPath {
            path: path.to_owned(),
            required: false,
        });
        self
    }

    /// Sets a header. Headers that frame or route the request (`Content-Length`,
    /// `Transfer-Encoding`, `Host`, `Connection`, `TE`, `Trailer`, `Upgrade`, `Keep-Alive`,
    /// `Proxy-Connection`) and `Authorization` (the client signs) are refused when the
    /// request is sent: a user value there would change what arrives after it was signed. So
    /// is `Wechatpay-Serial` on a request with [encrypted](DynamicRequest::encrypt) fields:
    /// the request names the key it encrypted them with.
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
        // the first certificate download: written once without keys, nothing encrypted.
        self.parts(body.as_deref(), None, 0)?;
        let idempotent = crate::client::is_idempotent_method(&self.method);
        // Each attempt is written afresh with the keys of its moment, so its sensitive fields
        // are encrypted for the key it names.
        let parts = |keys: &PlatformKeys, now: i64| self.parts(body.as_deref(), Some(keys), now);
        let answer = self
            .client
            .call(&self.method, &self.template, self.host, idempotent, &parts)
            .await?;
        crate::client::decode_verified(answer, |body| {
            serde_json::from_slice(if body.is_empty() { b"null" } else { body })
        })
    }

    /// Whether anything is encrypted: then the writer sets `Wechatpay-Serial`.
    fn encrypts(&self) -> bool {
        !self.encrypted.is_empty() || self.query.iter().any(|pair| pair.encrypted)
    }

    /// Writes the request for one attempt: sensitive fields encrypted with the key `keys`
    /// gives for `now`. Without keys it is only checked: every encrypted path is walked, and
    /// nothing is encrypted.
    pub(crate) fn parts(
        &self,
        body: Option<&[u8]>,
        keys: Option<&PlatformKeys>,
        now: i64,
    ) -> Result<RequestParts, Error> {
        encoding::check_encoded_path(&self.template, true).map_err(template_error)?;
        let mut writer = RequestWriter::new(self.method.clone(), keys, now);
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
        for QueryPair {
            name,
            value,
            encrypted,
        } in &self.query
        {
            if *encrypted && keys.is_some() {
                let ciphertext = writer.encrypt_field(FieldPath::ROOT.field(name), value)?;
                writer.query_pair(name, &ciphertext);
            } else {
                writer.query_pair(name, value);
            }
        }
        for (name, value) in &self.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| template_error(format!("`{name}` is not a valid header name")))?;
            if FORBIDDEN_HEADERS.contains(&name) {
                return Err(template_error(format!(
                    "the `{name}` header cannot be set: the client frames and signs the request"
                )));
            }
            if name == WECHATPAY_SERIAL && self.encrypts() {
                return Err(template_error(format!(
                    "the `{name}` header cannot be set on a request with encrypted fields: it \
                     names the key each attempt encrypts them with"
                )));
            }
            let value = HeaderValue::try_from(value.as_str()).map_err(|_| {
                template_error(format!("the value of `{name}` is not a valid header value"))
            })?;
            writer.insert_header(name, value);
        }
        let encrypted = self
            .encrypted
            .iter()
            .map(|named| Ok((steps(&named.path)?, named)))
            .collect::<Result<Vec<_>, RequestError>>()?;
        match body {
            Some(body) if !encrypted.is_empty() => {
                let mut value: Value = serde_json::from_slice(body).map_err(RequestError::Body)?;
                for (steps, named) in &encrypted {
                    let mut encrypt = |at: FieldPath<'_>, text: &mut String| {
                        if keys.is_some() {
                            *text = writer.encrypt_field(at, text)?;
                        }
                        Ok(())
                    };
                    walk(
                        &mut value,
                        steps,
                        FieldPath::ROOT,
                        named.required,
                        &mut encrypt,
                    )?;
                }
                writer.json_bytes(serde_json::to_vec(&value).map_err(RequestError::Body)?);
            }
            Some(body) => writer.json_bytes(body.to_vec()),
            None => {
                if let Some((_, named)) = encrypted.iter().find(|(_, named)| named.required) {
                    return Err(encrypt_error(named.path.clone(), "the request has no body").into());
                }
            }
        }
        Ok(writer.finish())
    }

    /// The signed request as [`DynamicRequest::send`] would send it now (the full URL on the
    /// request's [host](DynamicRequest::host), every header with `Authorization`, the body's
    /// exact bytes, sensitive fields encrypted with the platform key the client would choose
    /// now), without sending it: to show or log what goes out. It downloads nothing: without a
    /// platform key, a request with fields to encrypt is
    /// [`RequestError::NoEncryptionKey`].
    pub fn prepare(&self) -> Result<http::Request<Vec<u8>>, Error> {
        let body = match &self.body {
            Some(Err(error)) => {
                return Err(RequestError::Body(serde::ser::Error::custom(error)).into());
            }
            Some(Ok(body)) => Some(body.as_slice()),
            None => None,
        };
        let now = crate::clock::unix_now();
        let keys = self.client.platform_keys();
        let parts = self.parts(body, Some(&keys), now)?;
        let context = self.client.context(&keys, self.host)?;
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

/// The steps of a dotted path, checked: no empty step, no `[]` (lists are walked as they come).
fn steps(path: &str) -> Result<Vec<&str>, RequestError> {
    let steps: Vec<&str> = path.split('.').collect();
    if steps.iter().any(|step| step.is_empty()) {
        return Err(encrypt_error(
            path.to_owned(),
            "not a field path: write names joined by `.`, e.g. `payer.identity.name`",
        ));
    }
    if path.contains('[') || path.contains(']') {
        return Err(encrypt_error(
            path.to_owned(),
            "not a field path: a list is walked element by element, so write `receivers.name` \
             for `receivers[].name`",
        ));
    }
    Ok(steps)
}

/// Hands every text at `steps` under `value` to `each`, with where it sits; lists on the way
/// are walked element by element. What is not there, or not text where text is due, is an
/// error naming the place: a sensitive field is never sent as it was given. With `required`
/// false, an absent member or `null` has nothing to encrypt.
fn walk(
    value: &mut Value,
    steps: &[&str],
    at: FieldPath<'_>,
    required: bool,
    each: &mut dyn FnMut(FieldPath<'_>, &mut String) -> Result<(), RequestError>,
) -> Result<(), RequestError> {
    match (value, steps.split_first()) {
        (Value::Array(items), _) => {
            for (index, item) in items.iter_mut().enumerate() {
                walk(item, steps, at.index(index), required, each)?;
            }
            Ok(())
        }
        (Value::String(text), None) => each(at, text),
        (Value::Null, _) if !required => Ok(()),
        (Value::Object(object), Some((name, rest))) => match object.get_mut(*name) {
            Some(member) => walk(member, rest, at.field(name), required, each),
            None if required => Err(encrypt_error(
                at.field(name).to_string(),
                "it is not in the body",
            )),
            None => Ok(()),
        },
        (other, None) => Err(encrypt_error(
            place(at),
            &format!(
                "it is {}, and a sensitive field is text (sent encrypted)",
                kind(other)
            ),
        )),
        (other, Some(_)) => Err(encrypt_error(
            place(at),
            &format!(
                "it is {}, so it has no field `{}`",
                kind(other),
                steps.join(".")
            ),
        )),
    }
}

/// `at` for an error: the body itself has no path.
fn place(at: FieldPath<'_>) -> String {
    match at.to_string() {
        root if root.is_empty() => "body".to_owned(),
        path => path,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn encrypt_error(field: String, reason: &str) -> RequestError {
    RequestError::Encrypt {
        field,
        reason: reason.to_owned(),
    }
}
