//! Declared APIv2 endpoints (`#[endpoint(v2 …)]`) and the wire: the signed request an
//! endpoint makes and its verified, typed answer. Pure, like the rest of the protocol: the
//! client adds the connection (with the client certificate where the endpoint asks for it).

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, StatusCode};

use super::{Fields, SignType, read_answer, signed_fields, to_xml};
use crate::crypto::CryptoBackend;
use crate::endpoint::{
    ApiV2, ApiV2Answer, Endpoint, Protocol, RequestWriter, SignTypes, UploadFile, apiv2_form,
};
use crate::error::{ApiV2Error, DecodeError, Error, RequestError};
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

/// The signed URL of an APIv2 page for the user's browser (`answer = page`: the
/// contract-signing pages `entrustweb`): the page's fields and `sign` as its query, for the
/// merchant to send the user's browser to. The server never fetches it.
///
/// # Errors
/// [`RequestError::NotAPage`] for an operation that is not such a page (send it instead).
pub fn page_url<E: Endpoint + ?Sized>(
    endpoint: &E,
    context: &CallContext<'_>,
    nonce_str: &str,
) -> Result<http::Uri, Error> {
    if rules::<E>()?.answer != ApiV2Answer::Page {
        return Err(RequestError::NotAPage {
            operation: E::PATH_TEMPLATE,
        }
        .into());
    }
    Ok(prepare(endpoint, context, nonce_str)?.uri().clone())
}

/// The verified, typed answer of a declared APIv2 endpoint, by what it declares it answers
/// ([`ApiV2Answer`]):
///
/// - `<xml>`: `return_code`, then the `sign` (with the sign type the request was signed with,
///   unless the platform answers the operation unsigned), then `result_code`, then the
///   endpoint's response type decoded from the fields;
/// - text (a bill) or JSON: the platform's failure is still the `<xml>` envelope, read as
///   above (`return_code` FAIL is [`ApiV2Error::Platform`]); anything else is the answer,
///   and a JSON `retcode` other than 0 is [`ApiV2Error::Business`] with `retmsg`;
/// - a page for the user's browser is never an answer ([`RequestError::BrowserPage`]).
///
/// # Errors
/// [`Error::ApiV2`] for an answer that is refused, untrusted or a business error;
/// [`Error::Decode`] when the verified answer does not fit the response type.
///
/// ```
/// use wxpay_core::apiv2::{self, ApiV2Error, CallContext};
/// use wxpay_core::{ApiV2, ApiV2Answer, ApiV2Key, CryptoBackend, Endpoint, Error, RequestError, RequestWriter};
///
/// struct DownloadBill;
/// impl Endpoint for DownloadBill {
///     type Response = String;
///     const METHOD: http::Method = http::Method::POST;
///     const PATH_TEMPLATE: &'static str = "/pay/downloadbill";
///     const PROTOCOL: wxpay_core::Protocol = wxpay_core::Protocol::ApiV2(
///         ApiV2::new().with_signed_answer(false).with_answer(ApiV2Answer::Text),
///     );
///     fn write_request(&self, request: &mut RequestWriter<'_>) -> Result<(), RequestError> {
///         request.path_literal(Self::PATH_TEMPLATE);
///         Ok(())
///     }
///     fn decode_response(body: &[u8]) -> Result<String, serde_json::Error> {
///         wxpay_core::__private::decode_text(body)
///     }
/// }
///
/// let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
/// let context = CallContext::new("https://api.mch.weixin.qq.com", &key, CryptoBackend::default());
/// let bill = "交易时间,公众账号ID\n`2026-01-02 03:04:05,`wxTEST\n";
/// let ok = http::StatusCode::OK;
/// let read = apiv2::read_endpoint_answer::<DownloadBill>(ok, bill.into(), &context).unwrap();
/// assert_eq!(read, bill);
/// let none = "<xml><return_code>FAIL</return_code><return_msg>No Bill Exist</return_msg></xml>";
/// assert!(matches!(
///     apiv2::read_endpoint_answer::<DownloadBill>(ok, none.into(), &context),
///     Err(Error::ApiV2(ApiV2Error::Platform { return_msg: Some(m) })) if m == "No Bill Exist"
/// ));
/// ```
pub fn read_endpoint_answer<E: Endpoint + ?Sized>(
    status: StatusCode,
    body: Bytes,
    context: &CallContext<'_>,
) -> Result<E::Response, Error> {
    check_answer(status, &body, rules::<E>()?, context, E::PATH_TEMPLATE)?;
    E::decode_response(&body)
        .map_err(|error| Error::Decode(Box::new(DecodeError::new(status, None, body, &error))))
}

/// What [`read_endpoint_answer`] checks before decoding, for an operation of `rules` (not
/// generic: the client's dynamic APIv2 requests share it): a page is refused, a text or JSON
/// answer's `<xml>` failure read as the error it is, an `<xml>` answer verified. Gives the
/// verified fields of an `<xml>` answer.
pub(crate) fn check_answer(
    status: StatusCode,
    body: &Bytes,
    rules: ApiV2,
    context: &CallContext<'_>,
    operation: &'static str,
) -> Result<Option<Fields>, Error> {
    let read = |body: &[u8]| {
        read_answer(
            body,
            context.key,
            sign_type(rules, context.preferred),
            rules.signed_answer,
            context.backend,
        )
    };
    match rules.answer {
        ApiV2Answer::Page => Err(RequestError::BrowserPage { operation }.into()),
        ApiV2Answer::Text | ApiV2Answer::Json if is_xml_document(body) => {
            // Text or JSON on success; the failure is the `<xml>` envelope.
            read(body)?;
            use serde::de::Error as _;
            let error = serde_json::Error::custom(
                "an `<xml>` answer of return_code SUCCESS where the operation answers text or JSON",
            );
            Err(Error::Decode(Box::new(DecodeError::new(
                status,
                None,
                body.clone(),
                &error,
            ))))
        }
        ApiV2Answer::Json => match json_failure(body) {
            Some(failure) => Err(failure.into()),
            None => Ok(None),
        },
        ApiV2Answer::Text => Ok(None),
        ApiV2Answer::Xml => Ok(Some(read(body)?)),
    }
}

/// Whether an answer is an `<xml>` document rather than text or JSON (after any whitespace
/// or byte order mark): a bill's CSV and a JSON object never start so.
fn is_xml_document(body: &[u8]) -> bool {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    body.trim_ascii_start().starts_with(b"<xml")
}

/// The business error of a JSON answer: `retcode` other than 0, with `retmsg`.
fn json_failure(body: &[u8]) -> Option<ApiV2Error> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        retcode: Option<serde_json::Value>,
        retmsg: Option<String>,
    }
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    let code = match envelope.retcode? {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s,
        _ => return None,
    };
    if code.trim() == "0" {
        return None;
    }
    Some(ApiV2Error::Business {
        err_code: Some(code),
        err_code_des: envelope.retmsg,
    })
}
