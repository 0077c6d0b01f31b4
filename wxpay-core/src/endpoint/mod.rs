//! The [`Endpoint`] trait that `#[endpoint]` implements, the [`RequestWriter`] its generated
//! code fills, and [`Sensitive`], which encrypts fields at any depth.

mod apiv2;
mod json;
pub(crate) mod sensitive;
mod upload;

use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use serde::Serialize;

use crate::error::{CryptoError, DecryptError, RequestError};
use crate::host::Host;
use crate::keys::{MerchantKey, PlatformKey, PlatformKeys};
use crate::wire::encoding::{self, PATH_SEGMENT, QUERY_COMPONENT, percent_encode_into};
use crate::wire::{WECHATPAY_SERIAL, scalar};

pub use apiv2::{ApiV2, ApiV2Answer, Protocol, SignTypes, XmlText};
pub use json::{JsonObject, JsonSerializer};
use sensitive::{FieldPath, Sensitive};
pub(crate) use upload::apiv2_form;
pub use upload::{FileMeta, ImageFormat, UploadFile};

/// One APIv3 operation: how its fields become a request and how its answer is decoded.
///
/// Implemented by `#[endpoint(...)]`; implement it by hand only for shapes the attribute does
/// not cover. Both methods are pure, so a request can be built and checked without a network.
pub trait Endpoint {
    /// The typed answer; `()` for operations that answer 204 with no body.
    type Response;
    /// The HTTP method.
    const METHOD: Method;
    /// The path template as documented, e.g. `/v3/marketing/favor/stocks/{stock_id}/pause`
    /// (for logs and tracing; the request path is written by [`Endpoint::write_request`]).
    const PATH_TEMPLATE: &'static str;
    /// Whether sending the same request twice acts once, so a POST or PATCH may be retried
    /// after a failure that left it unknown whether the platform received it. True for
    /// endpoints that carry a caller-chosen request number (`out_trade_no`, `out_request_no`,
    /// `out_refund_no`, …). GET, PUT and DELETE are retried regardless.
    const IDEMPOTENT: bool = false;
    /// The platform host that serves the operation (`#[endpoint(…, host = apihk)]`); the
    /// client sends it to that host's base URL.
    const HOST: Host = Host::Api;
    /// APIv3, or APIv2 with its rules (`#[endpoint(v2 POST …)]`): an APIv2 endpoint writes
    /// its fields with [`RequestWriter::xml_field`] and the runtime signs them into `<xml>`.
    const PROTOCOL: Protocol = Protocol::ApiV3;

    /// Writes the path, query, headers and body of this request.
    fn write_request(&self, request: &mut RequestWriter<'_>) -> Result<(), RequestError>;

    /// Decodes a verified 2xx body.
    fn decode_response(body: &[u8]) -> Result<Self::Response, serde_json::Error>;

    /// Decrypts the sensitive fields of a decoded answer with the merchant key; nothing to do
    /// unless the response type derives [`Sensitive`](crate::Sensitive).
    fn decrypt_response(
        response: &mut Self::Response,
        key: &MerchantKey,
    ) -> Result<(), DecryptError> {
        let _ = (response, key);
        Ok(())
    }
}

/// The answer type of a download endpoint (`#[endpoint(GET "…", download)]`): it has no
/// values, because such an answer is streamed with
/// [`Client::download_file`](crate::Client::download_file), never decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streamed {}

/// Writes an APIv3 endpoint's request; an APIv2 endpoint is refused, so it never goes out
/// as an empty, RSA-signed APIv3 request.
pub(crate) fn write_apiv3<E: Endpoint + ?Sized>(
    endpoint: &E,
    writer: &mut RequestWriter<'_>,
) -> Result<(), RequestError> {
    if let Protocol::ApiV2(_) = E::PROTOCOL {
        return Err(RequestError::WrongProtocol {
            operation: E::PATH_TEMPLATE,
            protocol: "APIv2",
            other: "APIv3",
        });
    }
    endpoint.write_request(writer)
}

/// A value that can fill one path segment: text, a number or a platform enum — never a list
/// or a struct, which have no single text form.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot fill a path segment: a segment is one value",
    label = "a path field of this type",
    note = "a path field is a `String`, an integer or a platform enum; send lists and objects in the body or the query"
)]
pub trait PathSegment: Serialize {}

// The trait's note says what it takes; a list of every platform enum would not help.
#[diagnostic::do_not_recommend]
impl PathSegment for str {}
#[diagnostic::do_not_recommend]
impl PathSegment for String {}
#[diagnostic::do_not_recommend]
impl PathSegment for std::borrow::Cow<'_, str> {}
#[diagnostic::do_not_recommend]
impl<T: PathSegment + ?Sized> PathSegment for &T {}
macro_rules! path_segments {
    ($($ty:ty),*) => { $(#[diagnostic::do_not_recommend] impl PathSegment for $ty {})* };
}
path_segments!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

/// A request before signing: exactly the bytes that will be sent and signed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestParts {
    /// The method.
    pub method: Method,
    /// Path and query exactly as sent (and signed), e.g. `/v3/x?limit=10`.
    pub path_and_query: String,
    /// Headers the endpoint adds (`Content-Type`, `Wechatpay-Serial`, declared headers).
    pub headers: HeaderMap,
    /// The body (empty for GET and DELETE).
    pub body: Vec<u8>,
    /// What the signature covers when it is not the body: the `meta` JSON of a multipart
    /// upload ([`RequestWriter::upload`]). `None`: the body is signed.
    pub signed_body: Option<Vec<u8>>,
}

/// Collects one request from an endpoint's fields: path segments, query pairs, headers, the
/// JSON body, and the encryption of sensitive fields with one platform key.
pub struct RequestWriter<'a> {
    parts: RequestParts,
    has_query: bool,
    platform_keys: Option<&'a PlatformKeys>,
    encryption_key: Option<&'a PlatformKey>,
    now: i64,
    /// Text parts of a multipart upload, written by [`RequestWriter::upload`].
    form_parts: Vec<(&'static str, String)>,
    /// The elements of an APIv2 request, in the order written; the protocol layer adds
    /// `nonce_str`, `sign_type` and `sign` and writes the `<xml>`.
    xml_fields: Vec<(&'static str, String)>,
    /// The file of an APIv2 upload and its part's name ([`RequestWriter::xml_file`]).
    xml_file: Option<(&'static str, UploadFile)>,
}

/// What an APIv2 endpoint wrote: the parts (path, and the query a POST carries beside its
/// body), its elements in order, and the file of an upload.
pub(crate) struct WrittenApiV2 {
    pub(crate) parts: RequestParts,
    pub(crate) fields: Vec<(&'static str, String)>,
    pub(crate) file: Option<(&'static str, UploadFile)>,
}

impl<'a> RequestWriter<'a> {
    /// A writer for one request. `platform_keys` and `now` (unix seconds) choose the key for
    /// encrypted fields; without keys, encrypting fails with [`RequestError::NoEncryptionKey`].
    pub fn new(method: Method, platform_keys: Option<&'a PlatformKeys>, now: i64) -> Self {
        RequestWriter {
            parts: RequestParts {
                method,
                path_and_query: String::with_capacity(96),
                headers: HeaderMap::new(),
                body: Vec::new(),
                signed_body: None,
            },
            has_query: false,
            platform_keys,
            encryption_key: None,
            now,
            form_parts: Vec::new(),
            xml_fields: Vec::new(),
            xml_file: None,
        }
    }

    /// Appends literal path text (already valid: it comes from a checked template).
    pub fn path_literal(&mut self, text: &str) {
        debug_assert!(!self.has_query, "path written after the query");
        self.parts.path_and_query.push_str(text);
    }

    /// Appends one percent-encoded path segment from a field's value.
    pub fn path_param<T: PathSegment + ?Sized>(
        &mut self,
        field: &'static str,
        value: &T,
    ) -> Result<(), RequestError> {
        match scalar::to_text(value).map_err(|reason| field_error(field, reason))? {
            Some(text) if !text.is_empty() => {
                encoding::check_segment_value(&text).map_err(|r| field_error(field, r))?;
                percent_encode_into(&mut self.parts.path_and_query, &text, PATH_SEGMENT);
                Ok(())
            }
            _ => Err(field_error(
                field,
                "a path segment cannot be empty or None".into(),
            )),
        }
    }

    /// Appends one percent-encoded path segment of text.
    pub(crate) fn path_segment(&mut self, text: &str) -> Result<(), RequestError> {
        if text.is_empty() {
            return Err(field_error("path", "a path segment cannot be empty".into()));
        }
        encoding::check_segment_value(text).map_err(|r| field_error("path", r))?;
        percent_encode_into(&mut self.parts.path_and_query, text, PATH_SEGMENT);
        Ok(())
    }

    /// Appends `name=value` to the query; `None` values are left out.
    pub fn query<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), RequestError> {
        let Some(text) = scalar::to_text(value).map_err(|reason| field_error(name, reason))? else {
            return Ok(());
        };
        self.query_pair(name, &text);
        Ok(())
    }

    pub(crate) fn query_pair(&mut self, name: &str, text: &str) {
        let out = &mut self.parts.path_and_query;
        out.push(if self.has_query { '&' } else { '?' });
        self.has_query = true;
        percent_encode_into(out, name, QUERY_COMPONENT);
        out.push('=');
        percent_encode_into(out, text, QUERY_COMPONENT);
    }

    /// Sets a header from a field's value; `None` values are left out.
    pub fn header<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), RequestError> {
        let Some(text) = scalar::to_text(value).map_err(|reason| field_error(name, reason))? else {
            return Ok(());
        };
        let value = HeaderValue::try_from(text)
            .map_err(|_| field_error(name, "not a valid header value".into()))?;
        // Not `HeaderName::from_static`: it panics, and a hand-written endpoint may pass anything.
        let name = HeaderName::try_from(name)
            .map_err(|_| field_error(name, "not a valid header name".into()))?;
        self.insert_header(name, value);
        Ok(())
    }

    pub(crate) fn insert_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.parts.headers.insert(name, value);
    }

    /// Encrypts a sensitive value with the platform key chosen for this request (RSA-OAEP,
    /// base64) and names that key in `Wechatpay-Serial`. Every encrypted field of one request
    /// uses the same key.
    pub fn encrypt(&mut self, plaintext: &str) -> Result<String, RequestError> {
        let key = match self.encryption_key {
            Some(key) => key,
            None => {
                let key = self
                    .platform_keys
                    .and_then(|keys| keys.encryption_key(self.now))
                    .ok_or(RequestError::NoEncryptionKey)?;
                let serial = HeaderValue::try_from(key.id()).map_err(|_| {
                    field_error(
                        "Wechatpay-Serial",
                        "platform key id is not a header value".into(),
                    )
                })?;
                self.parts.headers.insert(WECHATPAY_SERIAL, serial);
                self.encryption_key = Some(key);
                key
            }
        };
        key.encrypt(plaintext)
            .map_err(|error| RequestError::Encrypt {
                field: "value".into(),
                reason: match error {
                    CryptoError::Encrypt => too_long(plaintext),
                    other => other.to_string(),
                },
            })
    }

    /// As [`RequestWriter::encrypt`], naming the field at `path` when it fails.
    pub fn encrypt_field(
        &mut self,
        path: FieldPath<'_>,
        plaintext: &str,
    ) -> Result<String, RequestError> {
        self.encrypt(plaintext).map_err(|error| match error {
            RequestError::Encrypt { reason, .. } => RequestError::Encrypt {
                field: path.to_string(),
                reason,
            },
            other => other,
        })
    }

    /// A copy of `value` with every sensitive value inside it encrypted (what a body field
    /// marked `#[wxpay(encrypt)]` sends). `name` is the field's name in errors.
    pub fn encrypted<T: Sensitive + Clone>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<T, RequestError> {
        let mut copy = value.clone();
        copy.encrypt_fields(self, FieldPath::new(name))?;
        Ok(copy)
    }

    /// Sets the JSON body.
    pub fn json<T: Serialize + ?Sized>(&mut self, body: &T) -> Result<(), RequestError> {
        self.json_bytes(serde_json::to_vec(body).map_err(RequestError::Body)?);
        Ok(())
    }

    /// Sets the JSON body to an object written member by member (what `#[endpoint]` does).
    #[doc(hidden)]
    pub fn json_object(&mut self, body: JsonObject) -> Result<(), RequestError> {
        self.json_bytes(body.finish()?);
        Ok(())
    }

    pub(crate) fn json_bytes(&mut self, body: Vec<u8>) {
        self.parts.body = body;
        self.parts
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }

    /// Adds a text part to a `multipart/form-data` upload (before [`RequestWriter::upload`],
    /// which writes the parts in the order given); `None` values are left out.
    pub fn form_part<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), RequestError> {
        if let Some(text) = scalar::to_text(value).map_err(|reason| field_error(name, reason))? {
            self.form_parts.push((name, text));
        }
        Ok(())
    }

    /// Makes the body a `multipart/form-data` upload, as the platform's upload APIs take it:
    /// a `meta` part with the JSON of `meta` and what `keys` add about the file (its name,
    /// its SHA-256 in lower-case hex), the text parts added with
    /// [`RequestWriter::form_part`], and the file as part `part`. The signature covers the
    /// `meta` JSON, not the body. The boundary is derived from the file's digest, so the same
    /// request gives the same bytes.
    pub fn upload<T: Serialize + ?Sized>(
        &mut self,
        meta: &T,
        part: &'static str,
        file: &UploadFile,
        keys: FileMeta,
    ) -> Result<(), RequestError> {
        let meta = serde_json::to_value(meta).map_err(RequestError::Body)?;
        let done = upload::multipart(meta, &self.form_parts, part, file, keys)?;
        let header = HeaderValue::try_from(done.content_type)
            .map_err(|_| field_error("Content-Type", "not a valid header value".into()))?;
        self.parts.headers.insert(CONTENT_TYPE, header);
        self.parts.body = done.body;
        self.parts.signed_body = Some(done.meta);
        Ok(())
    }

    /// Adds one element of an APIv2 request (of its `<xml>` body, or of the signed query of
    /// a GET); `None` values are left out.
    pub fn xml_field<T: XmlText + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), RequestError> {
        if let Some(text) = scalar::to_text(value).map_err(|reason| field_error(name, reason))? {
            self.xml_fields.push((name, text));
        }
        Ok(())
    }

    /// Adds one element of an APIv2 request that the platform takes as JSON text (`detail`,
    /// `receivers`, …: the spec's `x-json`); `None` values are left out.
    pub fn xml_json_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), RequestError> {
        // Written straight to text, so members keep the order the type declares them in
        // (through a `serde_json::Value` they would be sorted).
        let json = serde_json::to_string(value).map_err(RequestError::Body)?;
        if json != "null" {
            self.xml_fields.push((name, json));
        }
        Ok(())
    }

    /// Adds the file of an APIv2 upload (`uploadmedia`'s `media`): the request then goes as
    /// `multipart/form-data`, its elements as text parts that the `sign` covers, the file as
    /// part `part`, which it does not. `md5` names the element that carries the file's MD5
    /// (lower-case hex, as `media_hash` wants it), written here so the sign covers it;
    /// `max_bytes` is the API's size limit.
    pub fn xml_file(
        &mut self,
        part: &'static str,
        file: &UploadFile,
        md5: Option<&'static str>,
        max_bytes: Option<usize>,
    ) -> Result<(), RequestError> {
        if self.xml_file.is_some() {
            return Err(field_error(part, "an APIv2 upload sends one file".into()));
        }
        upload::check_size(part, file, max_bytes)?;
        if let Some(md5) = md5 {
            if self.xml_fields.iter().any(|(name, _)| *name == md5) {
                return Err(field_error(
                    md5,
                    "filled from the file; it is not a field of its own".into(),
                ));
            }
            let digest = crate::hex::lower(&crate::crypto::md5(file.content()));
            self.xml_fields.push((md5, digest));
        }
        self.xml_file = Some((part, file.clone()));
        Ok(())
    }

    /// The finished request parts.
    pub fn finish(self) -> RequestParts {
        self.parts
    }

    /// What an APIv2 endpoint wrote.
    pub(crate) fn finish_xml(self) -> WrittenApiV2 {
        WrittenApiV2 {
            parts: self.parts,
            fields: self.xml_fields,
            file: self.xml_file,
        }
    }
}

fn field_error(field: &'static str, reason: String) -> RequestError {
    RequestError::Field { field, reason }
}

/// Why RSA-OAEP refused a value: with SHA-1 it takes at most the modulus length less 42 bytes.
fn too_long(plaintext: &str) -> String {
    format!(
        "RSA-OAEP cannot encrypt it: the value is {} bytes, more than the key takes (214 bytes \
         with RSA-2048)",
        plaintext.len()
    )
}
