//! The HTTP face of the platform: the router, the gate every request passes through
//! (User-Agent, `Authorization`, `Wechatpay-Serial`, then response signing) and the
//! small extractors the endpoint modules share.

mod bill;
mod certificates;
mod complaints;
pub(crate) mod control;
mod fapiao;
mod favor;
mod media;
mod multiuse;
mod pay;
mod refund;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, Request, State};
use axum::http::header::{CONTENT_TYPE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth;
use crate::clock;
use crate::error::ApiError;
use crate::journal;
use crate::signing::{
    REQUEST_ID, WECHATPAY_SERIAL, new_request_id, sign_response, sign_response_as,
};
use crate::spec;
use crate::state::Platform;
use pay::Mode;

/// The path of the certificate download, whose answers are signed by the oldest
/// listed certificate.
const CERTIFICATES_PATH: &str = "/v3/certificates";

/// Request bodies larger than this are refused: room for the largest image upload (5 MiB)
/// and its multipart framing.
pub(crate) const MAX_BODY_BYTES: usize = 6 << 20;

/// The whole platform as an axum router.
pub(crate) fn router(platform: Arc<Platform>) -> Router {
    let mut router = Router::new();
    for (_, path, handler) in stateful_routes() {
        router = router.route(&path, handler);
    }
    router
        .fallback(spec_driven)
        .method_not_allowed_fallback(spec_driven)
        .layer(middleware::from_fn_with_state(platform.clone(), gate))
        // Merged after the gate: the sandbox's own controls and pages are not platform API and
        // are neither authenticated nor signed.
        .merge(control::routes())
        // APIv2 verifies its own `sign` and certificates, and answers unsigned by HTTP headers.
        .merge(crate::v2::routes())
        .merge(crate::web::routes())
        .with_state(platform)
}

/// The operations served with state of their own (orders, refunds, stocks, bills, e-invoice
/// files, uploads, certificates), as `(method, path template, handler)`; every other catalog
/// operation is answered from the spec. One list for the router and for
/// `GET /sandbox/operations`, so the two cannot disagree.
pub(crate) fn stateful_routes() -> Vec<(&'static str, String, MethodRouter<Arc<Platform>>)> {
    let upload = DefaultBodyLimit::max(MAX_BODY_BYTES);
    let mut routes = vec![
        ("GET", CERTIFICATES_PATH, get(certificates::list)),
        (
            "POST",
            "/v3/marketing/favor/coupon-stocks",
            post(favor::create_stock),
        ),
        (
            "GET",
            "/v3/marketing/favor/stocks/{stock_id}",
            get(favor::query_stock),
        ),
        (
            "POST",
            "/v3/marketing/favor/stocks/{stock_id}/start",
            post(favor::start_stock),
        ),
        (
            "POST",
            "/v3/marketing/favor/stocks/{stock_id}/pause",
            post(favor::pause_stock),
        ),
        (
            "POST",
            "/v3/marketing/favor/stocks/{stock_id}/restart",
            post(favor::restart_stock),
        ),
        (
            "POST",
            "/v3/marketing/favor/users/{openid}/coupons",
            post(favor::send_coupon),
        ),
        (
            "POST",
            "/v3/multiuse/users/{openid}/coupons",
            post(multiuse::send_coupon),
        ),
        ("POST", "/v3/pay/transactions/app", post(pay::app)),
        ("POST", "/v3/pay/transactions/h5", post(pay::h5)),
        ("POST", "/v3/refund/domestic/refunds", post(refund::create)),
        (
            "GET",
            "/v3/refund/domestic/refunds/{out_refund_no}",
            get(refund::query),
        ),
        (
            "POST",
            "/v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
            post(refund::apply_abnormal),
        ),
        (
            "GET",
            "/v3/merchant-service/complaints-v2",
            get(complaints::list),
        ),
        ("GET", "/v3/bill/tradebill", get(bill::trade_bill)),
        ("GET", "/v3/bill/fundflowbill", get(bill::fund_flow_bill)),
        ("GET", "/v3/billdownload/file", get(bill::download)),
        (
            "GET",
            "/v3/new-tax-control-fapiao/fapiao-applications/{fapiao_apply_id}/fapiao-files",
            get(fapiao::files),
        ),
        (
            "GET",
            "/v3/new-tax-control-fapiao/download",
            get(fapiao::download),
        ),
        (
            "POST",
            "/v3/merchant/media/upload",
            post(media::merchant_upload).layer(upload),
        ),
        (
            "POST",
            "/v3/marketing/favor/media/image-upload",
            post(media::marketing_upload).layer(upload),
        ),
    ]
    .into_iter()
    .map(|(method, path, handler)| (method, path.to_owned(), handler))
    .collect::<Vec<_>>();
    // A direct merchant's payment APIs and a service provider's share their handlers, told
    // apart by `Mode`.
    for (prefix, mode) in [
        ("/v3/pay/transactions", Mode::Direct),
        ("/v3/pay/partner/transactions", Mode::Partner),
    ] {
        routes.extend([
            (
                "POST",
                format!("{prefix}/jsapi"),
                post(move |State(p): State<Arc<Platform>>, body| pay::jsapi(mode, p, body)),
            ),
            (
                "POST",
                format!("{prefix}/native"),
                post(move |State(p): State<Arc<Platform>>, body| pay::native(mode, p, body)),
            ),
            (
                "GET",
                format!("{prefix}/id/{{transaction_id}}"),
                get(move |State(p): State<Arc<Platform>>, id, query| {
                    pay::query_by_id(mode, p, id, query)
                }),
            ),
            (
                "GET",
                format!("{prefix}/out-trade-no/{{out_trade_no}}"),
                get(move |State(p): State<Arc<Platform>>, no, query| {
                    pay::query_by_out_trade_no(mode, p, no, query)
                }),
            ),
            (
                "POST",
                format!("{prefix}/out-trade-no/{{out_trade_no}}/close"),
                post(move |State(p): State<Arc<Platform>>, no, body| pay::close(mode, p, no, body)),
            ),
        ]);
    }
    routes
}

pub(crate) use bill::UnsignedFile;

/// The host the request named, for the download links the sandbox hands out (they must point
/// back at it, whatever address the client used).
pub(crate) fn request_host(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
}

/// The user pays the order: it becomes `SUCCESS` and `TRANSACTION.SUCCESS` is notified.
/// Answers the order as a query does.
pub(crate) fn pay_order(
    platform: &Arc<Platform>,
    out_trade_no: &str,
) -> Result<Value, crate::payments::PayError> {
    let order = {
        let mut payments = platform.payments();
        pay::order_json(platform, payments.pay(out_trade_no, clock::now())?)
    };
    crate::notify::transaction_succeeded(platform, order.clone());
    Ok(order)
}

/// The refund cannot reach the user: it becomes `ABNORMAL` and `REFUND.ABNORMAL` is
/// notified. Answers the refund as a query does.
pub(crate) fn make_refund_abnormal(
    platform: &Arc<Platform>,
    out_refund_no: &str,
) -> Result<Value, crate::payments::PayError> {
    let (refund, answer) = {
        let mut payments = platform.payments();
        let refund = payments.make_abnormal(out_refund_no)?.clone();
        let answer = refund::refund_json(&payments, &refund);
        (refund, answer)
    };
    crate::notify::refund_finished(platform, &refund, answer.clone());
    Ok(answer)
}

/// Any other catalog operation, answered from the spec (see [`crate::spec`]); an unknown
/// path or method is 404 `NOT_FOUND`, as the platform answers.
async fn spec_driven(
    State(platform): State<Arc<Platform>>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let Some(op) = spec::find(&parts.method, parts.uri.path()) else {
        return Err(ApiError::not_found(format!(
            "no such API: {} {}",
            parts.method,
            parts.uri.path()
        )));
    };
    // The gate has read the body already, within the limit.
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::param("request body is unreadable"))?;
    let Query(query) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map_err(|e| ApiError::param(format!("query string: {e}")))?;
    let fields = match op.content {
        spec::Content::Upload => Some(
            media::signed_part(&parts.headers, &body)
                .ok_or_else(|| ApiError::param("an upload needs a `meta` part"))?,
        ),
        _ => Some(body.to_vec()),
    };
    spec::answer(&platform, op, &parts.headers, &query, fields.as_deref())
}

/// What every request goes through. The body is read once here, so the signature is
/// checked over exactly the bytes received, then handed on to the endpoint.
async fn gate(State(platform): State<Arc<Platform>>, request: Request, next: Next) -> Response {
    let request_id = new_request_id();
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let url = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |pq| pq.as_str().to_owned(),
    );
    let (parts, body) = request.into_parts();
    let seen = Seen {
        method: &method,
        url: &url,
        path: &path,
    };
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            let error = ApiError::param(format!(
                "request body is unreadable or larger than {MAX_BODY_BYTES} bytes"
            ));
            return finish(&platform, error.into_response(), request_id, &seen).await;
        }
    };
    if !parts.headers.contains_key(USER_AGENT) {
        let error = ApiError::param("User-Agent header is required");
        return finish(&platform, error.into_response(), request_id, &seen).await;
    }
    let now = clock::unix_seconds(clock::now());
    // A multipart upload is signed over its `meta` JSON, everything else over the body.
    let meta = media::signed_part(&parts.headers, &body);
    let signed = meta.as_deref().unwrap_or(&body);
    if let Err(rejection) =
        auth::verify_request(&platform, &method, &url, &parts.headers, signed, now)
    {
        tracing::info!(%method, %url, issue = %rejection.issue, "401 SIGN_ERROR");
        platform.journal.record(journal::Entry {
            at: clock::now(),
            method: method.to_string(),
            url: url.clone(),
            status: StatusCode::UNAUTHORIZED.as_u16(),
            verdict: journal::Verdict::SignError {
                issue: rejection.issue.clone(),
                sign_information: rejection.sign_information(),
                expected_message: rejection.expected_message.clone(),
            },
        });
        let mut response = (*rejection).into_response();
        response.headers_mut().insert(REQUEST_ID, request_id);
        return response;
    }
    if let Some(serial) = parts.headers.get(WECHATPAY_SERIAL) {
        let known = serial
            .to_str()
            .is_ok_and(|serial| platform.keys.knows_serial(serial, clock::monotonic()));
        if !known {
            let error = ApiError::param(format!(
                "Wechatpay-Serial {} unknown: it names no platform certificate or public key of this merchant",
                String::from_utf8_lossy(serial.as_bytes())
            ));
            return finish(&platform, error.into_response(), request_id, &seen).await;
        }
    }
    let mut response = next.run(Request::from_parts(parts, Body::from(body))).await;
    tracing::debug!(%method, %url, status = %response.status(), "answered");
    if response.extensions().get::<bill::UnsignedFile>().is_some() {
        // Files go out as they are generated: unsigned and never buffered whole.
        platform.journal.record(journal::Entry {
            at: clock::now(),
            method: method.to_string(),
            url: url.clone(),
            status: response.status().as_u16(),
            verdict: journal::Verdict::Ok,
        });
        response.headers_mut().insert(REQUEST_ID, request_id);
        return response;
    }
    finish(&platform, response, request_id, &seen).await
}

/// What the gate saw of a request: for signing its answer and noting it in the journal.
struct Seen<'a> {
    method: &'a axum::http::Method,
    /// The path and query, as signed.
    url: &'a str,
    path: &'a str,
}

/// Signs the response to a request and adds its `Request-ID`; notes the request and the
/// verdict in the journal.
async fn finish(
    platform: &Platform,
    response: Response,
    request_id: HeaderValue,
    seen: &Seen<'_>,
) -> Response {
    let Seen { method, url, path } = *seen;
    let (mut parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(_) => {
            parts.status = StatusCode::INTERNAL_SERVER_ERROR;
            parts
                .headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Bytes::from(ApiError::system("response body failed").body().to_string())
        }
    };
    platform.journal.record(journal::Entry {
        at: clock::now(),
        method: method.to_string(),
        url: url.to_owned(),
        status: parts.status.as_u16(),
        verdict: journal::verdict_of(parts.status.as_u16(), &body),
    });
    let now = clock::unix_seconds(clock::now());
    let signed = if path == CERTIFICATES_PATH {
        let signer = platform.keys.download_signer(clock::monotonic());
        sign_response_as(&signer, &mut parts.headers, &body, now)
    } else {
        sign_response(platform, &mut parts.headers, &body, now)
    };
    if signed.is_err() {
        tracing::error!("signing a response failed");
        let mut response = ApiError::system("signing the response failed").into_response();
        response.headers_mut().insert(REQUEST_ID, request_id);
        return response;
    }
    parts.headers.insert(REQUEST_ID, request_id);
    Response::from_parts(parts, Body::from(body))
}

/// A 200 answer with a JSON body.
pub(crate) fn json_ok(value: Value) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// Parses a JSON request body; anything malformed is 400 `PARAM_ERROR`.
pub(crate) fn json_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::param(format!("request body is not valid JSON for this API: {e}")))
}

/// One percent-decoded path parameter.
pub(crate) struct PathParam(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(value) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::param(format!("path parameter: {e}")))?;
        if value.is_empty() {
            return Err(ApiError::param("path parameter is empty"));
        }
        Ok(PathParam(value))
    }
}

/// The decoded query string.
pub(crate) struct QueryParams(pub(crate) HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::param(format!("query string: {e}")))?;
        Ok(QueryParams(map))
    }
}

/// The caller may only act on stocks it created: `stock_creator_mchid` must be present
/// and be the authenticated merchant.
pub(crate) fn check_creator(
    platform: &Platform,
    stock_creator_mchid: Option<&str>,
) -> Result<(), ApiError> {
    match stock_creator_mchid {
        None | Some("") => Err(ApiError::param("stock_creator_mchid is required")),
        Some(mchid) if mchid != platform.mchid => Err(ApiError::no_auth(format!(
            "无权限: stock_creator_mchid {mchid} is not the calling merchant"
        ))),
        Some(_) => Ok(()),
    }
}
