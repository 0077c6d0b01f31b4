//! APIv2 requests built at run time: a path, its fields and the operation's rules given as
//! data (for tools that read them from `wxpay::apis::v2::OPERATIONS`), sent like a declared
//! `#[endpoint(v2 …)]`.

use bytes::Bytes;
use http::Method;
use serde::Serialize;

use crate::apiv2::{self, CallContext, Fields, SignType};
use crate::client::Client;
use crate::endpoint::{ApiV2, ApiV2Answer};
use crate::error::{DecodeError, Error, RequestError};
use crate::host::Host;
use crate::protocol::{self, Verified};
use crate::wire::encoding;

/// An APIv2 request built at run time, such as
/// `client.apiv2(Method::POST, "/pay/orderquery")`: flat fields signed into `<xml>` with the
/// APIv2 key, sent and answered by the same rules as a declared APIv2 endpoint.
///
/// The operation's [rules](ApiV2) are data: [`ApiV2Request::rules`] sets them all at once (the
/// catalog's `wxpay::apis::v2::Operation::protocol`), the defaults being the common case (MD5,
/// no client certificate, a signed answer, a `nonce_str`). So are its
/// [host](ApiV2Request::host) and whether a retry is [safe](ApiV2Request::idempotent).
///
/// - Each attempt is signed afresh: a new `nonce_str` (unless the rules have none),
///   `sign_type` for HMAC-SHA256, then `sign` (an operation that takes either type is signed
///   with the client's [`apiv2_sign_type`](crate::ClientBuilder::apiv2_sign_type)).
/// - An operation that needs the client certificate goes on the connection that presents the
///   merchant's ([`merchant_certificate`](crate::ClientBuilder::merchant_certificate)); no
///   other does.
/// - The answer is read as [`apiv2::read_answer`] reads it: `return_code`, then the `sign` in
///   the request's type (unless the rules say the platform answers unsigned), then
///   `result_code`. What comes back is the verified fields.
///
/// Mistakes in the pieces (a path that cannot be sent as signed, a field the signer owns, a
/// JSON value that does not serialise) are reported by [`ApiV2Request::send`] and
/// [`ApiV2Request::prepare`], before anything goes out.
///
/// ```no_run
/// # async fn run(client: wxpay_core::Client) -> Result<(), wxpay_core::Error> {
/// use wxpay_core::{ApiV2, SignTypes};
/// let order = client
///     .apiv2(http::Method::POST, "/pay/orderquery")
///     .rules(ApiV2::new().with_sign_types(SignTypes::Either))
///     .idempotent(true)
///     .field("appid", "wxd678efh567hg6787")
///     .field("mch_id", "1230000109")
///     .field("out_trade_no", "1217752501201407033233368018")
///     .send()
///     .await?;
/// println!("{:?}", order.get("trade_state"));
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is sent"]
pub struct ApiV2Request<'c> {
    client: &'c Client,
    method: Method,
    path: String,
    host: Host,
    rules: ApiV2,
    idempotent: bool,
    fields: Fields,
    /// The first JSON field that did not serialise, reported when the request is sent.
    unwritten: Option<(String, serde_json::Error)>,
}

impl std::fmt::Debug for ApiV2Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `Fields` shows names only: values may be personal data.
        f.debug_struct("ApiV2Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("host", &self.host)
            .field("rules", &self.rules)
            .field("idempotent", &self.idempotent)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// An APIv2 request to `path` (`/pay/orderquery`, `/mmpaymkttransfers/sendredpack`), for
    /// an operation with no declaration in this build: see [`ApiV2Request`]. `method` is POST
    /// (an `<xml>` body) or GET (the signed fields as the query: the contract-signing pages).
    pub fn apiv2(&self, method: Method, path: &str) -> ApiV2Request<'_> {
        ApiV2Request {
            client: self,
            method,
            path: path.to_owned(),
            host: Host::Api,
            rules: ApiV2::new(),
            idempotent: false,
            fields: Fields::new(),
            unwritten: None,
        }
    }
}

impl<'c> ApiV2Request<'c> {
    /// The operation's rules: sign types, client certificate, signed answer, nonce (by
    /// default [`ApiV2::new`]: MD5, none, signed, a nonce).
    pub fn rules(mut self, rules: ApiV2) -> Self {
        self.rules = rules;
        self
    }

    /// The host that serves the operation (default [`Host::Api`]).
    pub fn host(mut self, host: Host) -> Self {
        self.host = host;
        self
    }

    /// Whether sending the request twice acts once, so an attempt that may have reached the
    /// platform can be repeated (default: only for GET). Otherwise a failed attempt is retried
    /// only when the request never left.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Sets the field `name` to `value` (text, as the `<xml>` carries it), in its place if it
    /// is already set. `nonce_str`, `sign_type` and `sign` are the signer's and are refused.
    pub fn field(mut self, name: &str, value: impl ToString) -> Self {
        self.fields.insert(name, value.to_string());
        self
    }

    /// Sets the field `name` to `value` written as JSON text: the fields the platform reads as
    /// JSON (`detail`, `receivers`, `scene_info`, …).
    pub fn json_field<T: Serialize + ?Sized>(mut self, name: &str, value: &T) -> Self {
        match serde_json::to_string(value) {
            Ok(text) => self.fields.insert(name, text),
            Err(error) => {
                self.unwritten.get_or_insert((name.to_owned(), error));
            }
        }
        self
    }

    /// The sign type the request is signed with, and its answer checked with: the rules',
    /// or the client's choice where they take either.
    ///
    /// # Errors
    /// [`ConfigError::Missing`](crate::ConfigError::Missing) `apiv2_key` when the client has
    /// no APIv2 key.
    pub fn sign_type(&self) -> Result<SignType, Error> {
        Ok(self.context()?.1)
    }

    /// The signed request as [`ApiV2Request::send`] would send it now (a fresh `nonce_str`),
    /// without sending it: to show or log what goes out. It needs the APIv2 key, not the
    /// client certificate.
    pub fn prepare(&self) -> Result<http::Request<Vec<u8>>, Error> {
        self.check()?;
        let (context, _) = self.context()?;
        apiv2::signed_request(
            &self.method,
            &self.path,
            self.fields.clone(),
            None,
            self.rules,
            &context,
            &protocol::nonce()?,
        )
    }

    /// Sends the request and gives the verified fields of the answer.
    ///
    /// # Errors
    /// [`ConfigError::Missing`](crate::ConfigError::Missing) (nothing sent) without an APIv2
    /// key, or for an operation that needs the client certificate without one;
    /// [`Error::Request`] for a request that cannot be sent as signed, or for an operation
    /// that answers text (send it with [`ApiV2Request::send_text`]); [`Error::ApiV2`] for an
    /// answer that is refused, untrusted or a business error; transport errors as for any
    /// call.
    pub async fn send(self) -> Result<Fields, Error> {
        Ok(self.send_verified().await?.value)
    }

    /// As [`ApiV2Request::send`], keeping the status and headers.
    pub async fn send_verified(self) -> Result<Verified<Fields>, Error> {
        if self.rules.answer != ApiV2Answer::Xml {
            return Err(RequestError::Field {
                field: "rules",
                reason: "the operation does not answer `<xml>` fields: send it with send_text"
                    .into(),
            }
            .into());
        }
        let (head, _, fields) = self.exchange().await?;
        let value = fields.ok_or(RequestError::Field {
            field: "rules",
            reason: "the operation does not answer `<xml>` fields: send it with send_text".into(),
        })?;
        Ok(Verified {
            value,
            status: head.status,
            request_id: None,
            headers: head.headers,
        })
    }

    /// Sends a request whose operation answers text or JSON (rules with
    /// [`ApiV2Answer::Text`]: the bills, read whole under the client's download limits;
    /// [`ApiV2Answer::Json`]: `getaccesstoken`) and gives that text. The platform's failure is
    /// still the `<xml>` envelope, and is the error it says (as [`ApiV2Request::send`]); a
    /// JSON `retcode` other than 0 is [`ApiV2Error::Business`](crate::ApiV2Error::Business).
    ///
    /// # Errors
    /// As [`ApiV2Request::send`]; [`Error::Request`] for an operation that answers `<xml>`
    /// fields (send it with [`ApiV2Request::send`]); [`Error::Decode`] for an answer that is
    /// not UTF-8 (a `tar_type=GZIP` bill).
    pub async fn send_text(self) -> Result<Verified<String>, Error> {
        if !matches!(self.rules.answer, ApiV2Answer::Text | ApiV2Answer::Json) {
            return Err(RequestError::Field {
                field: "rules",
                reason: "the operation answers `<xml>` fields: send it with send".into(),
            }
            .into());
        }
        let (head, body, _) = self.exchange().await?;
        let value = String::from_utf8(body.to_vec()).map_err(|_| {
            use serde::de::Error as _;
            let error = serde_json::Error::custom("the answer is not UTF-8 text");
            Error::Decode(Box::new(DecodeError::new(head.status, None, body, &error)))
        })?;
        Ok(Verified {
            value,
            status: head.status,
            request_id: None,
            headers: head.headers,
        })
    }

    /// Signs and sends the request (each attempt afresh) and checks the answer by the rules:
    /// the verified fields of an `<xml>` answer, the body of a text or JSON one.
    async fn exchange(self) -> Result<(http::response::Parts, Bytes, Option<Fields>), Error> {
        self.check()?;
        let (context, _) = self.context()?;
        let route = self.client.apiv2_route(self.rules)?;
        let request = || {
            let signed = apiv2::signed_request(
                &self.method,
                &self.path,
                self.fields.clone(),
                None,
                self.rules,
                &context,
                &protocol::nonce()?,
            )?;
            Ok((signed, ()))
        };
        let idempotent = self.idempotent || crate::client::is_idempotent_method(&self.method);
        let answer = self
            .client
            .call_apiv2(
                &self.method,
                &self.path,
                self.host,
                idempotent,
                route,
                &request,
            )
            .await?;
        let (head, body) = answer.into_parts();
        let fields = apiv2::check_answer(head.status, &body, self.rules, &context, "APIv2 page")?;
        Ok((head, body, fields))
    }

    /// What signing takes, and the sign type it signs with.
    fn context(&self) -> Result<(CallContext<'c>, SignType), Error> {
        let context = self.client.inner.caller.apiv2_context(self.host)?;
        let sign_type = apiv2::sign_type(self.rules, context.preferred);
        Ok((context, sign_type))
    }

    /// Refuses what cannot be sent as signed, before any key is used.
    fn check(&self) -> Result<(), Error> {
        let refuse = |field: &'static str, reason: String| {
            Err(Error::Request(RequestError::Field { field, reason }))
        };
        if self.method != Method::POST && self.method != Method::GET {
            return refuse(
                "method",
                format!(
                    "an APIv2 request is a POST (or a GET for the contract-signing pages), not {}",
                    self.method
                ),
            );
        }
        if self.rules.answer == ApiV2Answer::Page {
            return refuse(
                "rules",
                "a page for the user's browser is never sent: send the browser to the URL of \
                 prepare"
                    .to_owned(),
            );
        }
        if self.path.starts_with("/v3/") {
            return refuse(
                "path",
                "an APIv3 path: send it with Client::request".to_owned(),
            );
        }
        if self.path.contains(['?', '#']) {
            return refuse(
                "path",
                "an APIv2 request carries its fields in the body (or, for a GET, the signed \
                 query), never in the path"
                    .to_owned(),
            );
        }
        encoding::check_encoded_segments(&self.path, false)
            .or_else(|reason| refuse("path", reason))?;
        if let Some(name) = ["sign", "nonce_str", "sign_type"]
            .into_iter()
            .find(|name| self.fields.get(name).is_some())
        {
            return refuse(
                "fields",
                format!("`{name}` is the signer's: it is added when the request is signed"),
            );
        }
        if let Some((name, error)) = &self.unwritten {
            return refuse(
                "fields",
                format!("`{name}` cannot be written as JSON: {error}"),
            );
        }
        Ok(())
    }
}
