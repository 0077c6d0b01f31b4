//! The sandbox's own control API under `/sandbox/…`, apart from the platform API: no
//! `Authorization`, no response signature. It sets where notifications go, queues
//! deliberately bad deliveries, uses coupons (which the platform API cannot do: a user does
//! that at a till) and lists what was delivered.
//!
//! - `GET|PUT /sandbox/notify-url` `{"notify_url": "http://127.0.0.1:8080/notify"}`
//!   (`null` stops notifications)
//! - `POST /sandbox/notifications/modes` `{"modes": ["probe", "stale_timestamp",
//!   "tampered_body", "duplicate", "genuine"]}`: one mode for each next notification
//! - `POST /sandbox/favor/coupons/{coupon_id}/use`: uses a favor coupon and notifies
//!   `COUPON.USE`
//! - `GET /sandbox/notifications`: every delivery so far and its attempts
//! - `POST /sandbox/notifications` `{"event_type": "PAYSCORE.USER_SIGN_PLAN", "resource": {…}}`:
//!   sends a notification of any of the spec's event types with that resource, or without
//!   `resource` the catalog example of the event type's resource (`"shape": "partner"`: a
//!   service provider's); answers `{"event_type": …, "notification_id": …}` (`null` without a
//!   notify URL)
//! - `POST /sandbox/platform/rotate` `{"overlap_ms": N}`: rotates the platform certificate
//!   and answers `{"serial": "…"}`
//! - `POST /sandbox/orders/{out_trade_no}/pay`: the user pays an unpaid order.
//! - `POST /sandbox/orders/{out_trade_no}/expire`: the payment window passes unpaid.
//! - `POST /sandbox/refunds/{out_refund_no}/abnormal`: the refund cannot reach the user.
//! - `POST /sandbox/bills/{bill_date}/synthetic-trades?rows=N`: N generated trades in that
//!   day's trade bill (for large-bill tests; generated while served, never stored).
//!
//! Each is also a method of [`Sandbox`](crate::Sandbox) for in-process tests.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::pay::order_json;
use super::{PathParam, QueryParams, json_body, json_ok};
use crate::SandboxError;
use crate::clock::{self, rfc3339_beijing};
use crate::crypto::random_digits;
use crate::error::ApiError;
use crate::notify::{self, DeliveryMode, NewNotification};
use crate::state::Platform;

pub(super) fn routes() -> Router<Arc<Platform>> {
    Router::new()
        .route("/sandbox/operations", get(operations))
        .route("/sandbox/notify-url", get(notify_url).put(set_notify_url))
        .route("/sandbox/notifications", get(deliveries).post(notify_event))
        .route("/sandbox/notifications/modes", post(queue_modes))
        .route("/sandbox/favor/coupons/{coupon_id}/use", post(use_coupon))
        .route("/sandbox/platform/rotate", post(rotate))
        .route("/sandbox/orders/{out_trade_no}/pay", post(pay))
        .route("/sandbox/orders/{out_trade_no}/expire", post(expire))
        .route("/sandbox/refunds/{out_refund_no}/abnormal", post(abnormal))
        .route(
            "/sandbox/bills/{bill_date}/synthetic-trades",
            post(synthetic_trades),
        )
}

/// Every operation the sandbox serves, and how: `stateful` (with state of its own) or `spec`
/// (checked and answered from the spec's table).
async fn operations() -> Response {
    let stateful: Vec<(&str, String)> = super::stateful_routes()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let is_stateful = |method: &str, path: &str| {
        stateful
            .iter()
            .any(|(m, p)| *m == method && p.as_str() == path)
    };
    let mut listed: Vec<Value> = crate::spec::OPERATIONS
        .iter()
        .map(|op| {
            let served = if is_stateful(op.method, op.template) {
                "stateful"
            } else {
                "spec"
            };
            json!({ "method": op.method, "path": op.template, "served": served })
        })
        .collect();
    for (method, path) in &stateful {
        if !crate::spec::OPERATIONS
            .iter()
            .any(|op| op.method == *method && op.template == *path)
        {
            listed.push(json!({ "method": method, "path": path, "served": "stateful" }));
        }
    }
    json_ok(json!({ "operations": listed }))
}

async fn notify_url(State(platform): State<Arc<Platform>>) -> Response {
    json_ok(json!({ "notify_url": platform.notifier.url() }))
}

#[derive(Deserialize)]
struct NotifyUrlBody {
    notify_url: Option<String>,
}

async fn set_notify_url(
    State(platform): State<Arc<Platform>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: NotifyUrlBody = json_body(&body)?;
    if let Some(url) = &body.notify_url {
        notify::check_url(url).map_err(ApiError::param)?;
    }
    platform.notifier.set_url(body.notify_url.clone());
    Ok(json_ok(json!({ "notify_url": body.notify_url })))
}

#[derive(Deserialize)]
struct ModesBody {
    modes: Vec<String>,
}

async fn queue_modes(
    State(platform): State<Arc<Platform>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: ModesBody = json_body(&body)?;
    let modes = body
        .modes
        .iter()
        .map(|name| {
            DeliveryMode::parse(name).ok_or_else(|| {
                ApiError::param(format!(
                    "mode {name:?} is not genuine, duplicate, probe, stale_timestamp or tampered_body"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    platform.notifier.queue_modes(modes);
    Ok(json_ok(json!({ "queued": body.modes })))
}

async fn deliveries(State(platform): State<Arc<Platform>>) -> Response {
    let deliveries: Vec<Value> = platform
        .notifier
        .deliveries()
        .iter()
        .map(notify::Delivery::to_json)
        .collect();
    json_ok(json!({ "deliveries": deliveries }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyBody {
    event_type: String,
    #[serde(default)]
    resource: Option<Value>,
    #[serde(default)]
    shape: Option<String>,
}

/// `POST /sandbox/notifications`: one notification of any event type of the spec.
async fn notify_event(
    State(platform): State<Arc<Platform>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: NotifyBody = json_body(&body)?;
    let resource = match (body.resource, body.shape.as_deref()) {
        (Some(resource), None) => notify::EventResource::Json(resource),
        (None, None | Some("direct")) => notify::EventResource::Example,
        (None, Some("partner")) => notify::EventResource::PartnerExample,
        (Some(_), Some(_)) => {
            return Err(ApiError::param("give a resource or a shape, not both"));
        }
        (None, Some(other)) => {
            return Err(ApiError::param(format!(
                "shape {other:?} is not direct or partner"
            )));
        }
    };
    let notification_id =
        notify::send_event(&platform, &body.event_type, resource).map_err(ApiError::param)?;
    Ok(json_ok(
        json!({ "event_type": body.event_type, "notification_id": notification_id }),
    ))
}

async fn use_coupon(
    State(platform): State<Arc<Platform>>,
    PathParam(coupon_id): PathParam,
) -> Result<Response, ApiError> {
    let notification_id = use_favor_coupon(&platform, &coupon_id)?;
    Ok(json_ok(
        json!({ "coupon_id": coupon_id, "notification_id": notification_id }),
    ))
}

/// Uses a favor coupon at the sandbox merchant and notifies `COUPON.USE` with the coupon as
/// the platform describes it. Returns the notification id (`None` without a notify URL).
pub(crate) fn use_favor_coupon(
    platform: &Arc<Platform>,
    coupon_id: &str,
) -> Result<Option<String>, ApiError> {
    let now = clock::now();
    let resource = {
        let mut store = platform.store();
        let (stock, openid) = store
            .favor_coupon(coupon_id)
            .ok_or_else(|| ApiError::resource_not_exists(format!("no coupon {coupon_id}")))?;
        let spec = &stock.spec;
        let resource = json!({
            "stock_creator_mchid": spec.stock_creator_mchid,
            "stock_id": stock.stock_id,
            "coupon_id": coupon_id,
            "coupon_name": spec.stock_name,
            "status": "USED",
            "description": spec.comment.clone().unwrap_or_default(),
            "create_time": rfc3339_beijing(now),
            "coupon_type": "NORMAL",
            "no_cash": spec.no_cash,
            "singleitem": false,
            "available_begin_time": spec.available_begin_time,
            "available_end_time": spec.available_end_time,
            "normal_coupon_information": spec.coupon_use_rule.get("fixed_normal_coupon"),
            "consume_information": {
                "consume_time": rfc3339_beijing(now),
                "consume_mchid": platform.mchid,
                "transaction_id": format!("42{}", random_digits(26)),
                "goods_detail": [],
            },
        });
        // Who used it is not part of a COUPON.USE resource; looked up only to know it exists.
        let _ = openid;
        if !store.mark_favor_coupon_used(coupon_id) {
            return Err(ApiError::invalid_request(format!(
                "coupon {coupon_id} is already used"
            )));
        }
        resource
    };
    Ok(notify::send(
        platform,
        NewNotification {
            event_type: "COUPON.USE",
            summary: "代金券核销",
            original_type: "coupon",
            resource,
        },
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    overlap_ms: u64,
}

/// `POST /sandbox/platform/rotate` with `{"overlap_ms": N}`: rotates the platform
/// certificate and answers `{"serial": "…"}`.
async fn rotate(State(platform): State<Arc<Platform>>, body: Bytes) -> Result<Response, ApiError> {
    let RotateBody { overlap_ms } = json_body(&body)?;
    let overlap = Duration::from_millis(overlap_ms);
    // Key generation is slow: off the async workers.
    let serial = tokio::task::spawn_blocking(move || {
        platform.keys.rotate(overlap, &platform.merchant.serial)
    })
    .await
    .map_err(|_| ApiError::system("the rotation did not finish"))?
    .map_err(|error| match error {
        SandboxError::Config(message) => ApiError::invalid_request(message),
        other => ApiError::system(other.to_string()),
    })?;
    Ok(json_ok(json!({ "serial": serial })))
}

async fn pay(State(platform): State<Arc<Platform>>, PathParam(no): PathParam) -> Response {
    match super::pay_order(&platform, &no) {
        Ok(order) => json_ok(order),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn expire(State(platform): State<Arc<Platform>>, PathParam(no): PathParam) -> Response {
    let mut payments = platform.payments();
    match payments.expire(&no) {
        Ok(order) => json_ok(order_json(&platform, order)),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn abnormal(State(platform): State<Arc<Platform>>, PathParam(no): PathParam) -> Response {
    match super::make_refund_abnormal(&platform, &no) {
        Ok(refund) => json_ok(refund),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn synthetic_trades(
    State(platform): State<Arc<Platform>>,
    PathParam(date): PathParam,
    QueryParams(query): QueryParams,
) -> Response {
    let date = time::Date::parse(
        &date,
        time::macros::format_description!("[year]-[month]-[day]"),
    );
    let rows = query.get("rows").and_then(|r| r.parse::<u64>().ok());
    match (date, rows) {
        (Ok(date), Some(rows)) => {
            *platform.payments().synthetic_rows.entry(date).or_default() += rows;
            json_ok(serde_json::json!({ "bill_date": date.to_string(), "added": rows }))
        }
        _ => ApiError::param("expected /sandbox/bills/YYYY-MM-DD/synthetic-trades?rows=N")
            .into_response(),
    }
}
