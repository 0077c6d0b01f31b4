//! Declared APIv2 endpoints (`#[endpoint(v2 …)]`) and the wire: the signed request an
//! endpoint makes and its verified, typed answer. Pure, like the rest of the protocol: the
//! client adds the connection (with the client certificate where the endpoint asks for it).

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, StatusCode};

use super::{Fields, SignType, read_answer, signed_fields, to_xml};
use crate::crypto::CryptoBackend;
use crate::endpoint::{
    ApiV2, Endpoint, Protocol, RequestWriter, SignTypes, UploadFile, apiv2_form,
};
use crate::error::{DecodeError, Error, RequestError};
use crate::keys::ApiV2Key;
use crate::wire::encoding::{QUERY_COMPONENT, percent_encode_into};

/// What signing an APIv2 request and checking its answer take.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct CallContext<'a> {
    /// The base URL of the endpoint's host, without a trailing `/`.
    pub base_url: &'a str,
    /// The APIv2 key.
    pub key: &'a ApiV2Key,
    /// The sign type for operations that take either (`sign_type = either`).
    pub preferred: SignType,
    /// The crypto backend for HMAC-SHA256.
    pub backend: CryptoBackend,
}

impl<'a> CallContext<'a> {
    /// A context that prefers HMAC-SHA256 where an operation lets the caller choose.
    pub fn new(base_url: &'a str, key: &'a ApiV2Key, backend: CryptoBackend) -> Self {
        CallContext {
            base_url,
            key,
            preferred: SignType::HmacSha256,
            backend,
        }
    }

    /// The sign type for operations that take either.
    pub fn preferring(mut self, sign_type: SignType) -> Self {
        self.preferred = sign_type;
        self
    }
}

/// The endpoint's APIv2 rules, or the refusal of an APIv3 endpoint.
fn rules<E: Endpoint + ?Sized>() -> Result<ApiV2, RequestError> {
    match E::PROTOCOL {
        Protocol::ApiV2(rules) => Ok(rules),
        _ => Err(RequestError::WrongProtocol {
            operation: E::PATH_TEMPLATE,
            protocol: "APIv3",
            other: "APIv2",
        }),
    }
}

/// The sign type a request of these rules is signed with (and its answer checked with).
pub(crate) fn sign_type(rules: ApiV2, preferred: SignType) -> SignType {
    match rules.sign_types {
        SignTypes::Md5 => SignType::Md5,
        SignTypes::HmacSha256 => SignType::HmacSha256,
        _ => preferred,
    }
}

/// The signed request of a declared APIv2 endpoint: its fields with `nonce_str` (unless the
/// operation has none), `sign_type` (for HMAC-SHA256) and `sign`, as the `<xml>` body of a
/// POST, the text parts of an upload's `multipart/form-data` (with its file, unsigned) or,
/// for the pages the user's browser opens, the query of a GET (unsigned for
/// `unsigned_request`). Query parameters a POST declares (`#[wxpay(query)]`) go in its URL,
/// outside the sign.
///
/// ```
/// use wxpay_core::apiv2::{self, CallContext};
/// use wxpay_core::{ApiV2Key, CryptoBackend, Endpoint, RequestError, RequestWriter};
///
/// struct CloseOrder { mch_id: &'static str, out_trade_no: &'static str }
/// impl Endpoint for CloseOrder {
///     type Response = ();
///     const METHOD: http::Method = http::Method::POST;
///     const PATH_TEMPLATE: &'static str = "/pay/closeorder";
///     const PROTOCOL: wxpay_core::Protocol = wxpay_core::Protocol::ApiV2(wxpay_core::ApiV2::new());
///     fn write_request(&self, request: &mut RequestWriter<'_>) -> Result<(), RequestError> {
///         request.path_literal(Self::PATH_TEMPLATE);
///         request.xml_field("mch_id", self.mch_id)?;
///         request.xml_field("out_trade_no", self.out_trade_no)
///     }
///     fn decode_response(_: &[u8]) -> Result<(), serde_json::Error> { Ok(()) }
/// }
///
/// let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
/// let context = CallContext::new("https://api.mch.weixin.qq.com", &key, CryptoBackend::default());
/// let close = CloseOrder { mch_id: "10000100", out_trade_no: "1415983244" };
/// let request = apiv2::prepare(&close, &context, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS").unwrap();
/// assert_eq!(request.uri(), "https://api.mch.weixin.qq.com/pay/closeorder");
/// let body = String::from_utf8(request.into_body()).unwrap();
/// assert!(body.starts_with("<xml><mch_id>10000100</mch_id><out_trade_no>1415983244</out_trade_no><nonce_str>"));
/// ```
pub fn prepare<E: Endpoint + ?Sized>(
    endpoint: &E,
    context: &CallContext<'_>,
    nonce_str: &str,
) -> Result<http::Request<Vec<u8>>, Error> {
    let rules = rules::<E>()?;
    let mut writer = RequestWriter::new(E::METHOD, None, 0);
    endpoint.write_request(&mut writer)?;
    let written = writer.finish_xml();
    let fields: Fields = written.fields.into_iter().collect();
    if let (Some((part, _)), &Method::GET) = (&written.file, &E::METHOD) {
        return Err(RequestError::Field {
            field: part,
            reason: "an upload is a POST: a GET has no body for the file".into(),
        }
        .into());
    }
    let file = written.file.as_ref().map(|(part, file)| (*part, file));
    signed_request(
        &E::METHOD,
        &written.parts.path_and_query,
        fields,
        file,
        rules,
        context,
        nonce_str,
    )
}

/// The request of an APIv2 call of `rules` to `path_and_query` (encoded; on a POST the query
/// parameters the endpoint wrote beside its body, `submchmanage`'s `action`, which the sign
/// does not cover): `fields` with `nonce_str`, `sign_type` and `sign` (unless the rules say
/// the request is unsigned) as the `<xml>` body of a POST, the text parts of an upload beside
/// its `file`, or the query of a GET. What [`prepare`] and the client's dynamic APIv2 requests
/// share.
pub(crate) fn signed_request(
    method: &Method,
    path_and_query: &str,
    fields: Fields,
    file: Option<(&str, &UploadFile)>,
    rules: ApiV2,
    context: &CallContext<'_>,
    nonce_str: &str,
) -> Result<http::Request<Vec<u8>>, Error> {
    let nonce = rules.nonce.then_some(nonce_str);
    let fields = if rules.signed_request {
        let sign_type = sign_type(rules, context.preferred);
        signed_fields(fields, nonce, context.key, sign_type, context.backend)?
    } else {
        // A page opened with plain parameters (`authindex`): nothing is signed.
        let mut fields = fields;
        if let Some(nonce) = nonce {
            fields.insert("nonce_str", nonce);
        }
        fields
    };
    let mut url = String::with_capacity(context.base_url.len() + path_and_query.len() + 64);
    url.push_str(context.base_url);
    url.push_str(path_and_query);
    let builder = http::Request::builder().method(method.clone());
    let request = if *method == Method::GET {
        for (index, (name, value)) in fields.iter().enumerate() {
            url.push(if index == 0 && !path_and_query.contains('?') {
                '?'
            } else {
                '&'
            });
            percent_encode_into(&mut url, name, QUERY_COMPONENT);
            url.push('=');
            percent_encode_into(&mut url, value, QUERY_COMPONENT);
        }
        builder.uri(url).body(Vec::new())
    } else if let Some((part, file)) = file {
        // An upload: the signed elements as text parts, then the file, which no sign covers.
        let (content_type, body) = apiv2_form(fields.iter(), part, file)?;
        let content_type =
            HeaderValue::try_from(content_type).map_err(|_| RequestError::Field {
                field: "Content-Type",
                reason: "not a valid header value".into(),
            })?;
        builder
            .uri(url)
            .header(CONTENT_TYPE, content_type)
            .body(body)
    } else {
        let body = to_xml(&fields).map_err(RequestError::Xml)?;
        builder
            .uri(url)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            )
            .body(body.into_bytes())
    };
    request.map_err(|_| {
        Error::Request(RequestError::Field {
            field: "base_url",
            reason: "not a URL the request can be sent to".into(),
        })
    })
}

/// The verified, typed answer of a declared APIv2 endpoint: `return_code`, then the `sign`
/// (with the sign type the request was signed with, unless the platform answers the operation
/// unsigned), then `result_code`, then the endpoint's response type decoded from the fields.
///
/// # Errors
/// [`Error::ApiV2`] for an answer that is refused, untrusted or a business error;
/// [`Error::Decode`] when the verified fields do not fit the response type.
pub fn read_endpoint_answer<E: Endpoint + ?Sized>(
    status: StatusCode,
    body: Bytes,
    context: &CallContext<'_>,
) -> Result<E::Response, Error> {
    let rules = rules::<E>()?;
    let sign_type = sign_type(rules, context.preferred);
    read_answer(
        &body,
        context.key,
        sign_type,
        rules.signed_answer,
        context.backend,
    )?;
    E::decode_response(&body)
        .map_err(|error| Error::Decode(Box::new(DecodeError::new(status, None, body, &error))))
}
