//! Sandbox controls: what the platform's users and banks do, at the test's command. Not
//! part of the platform API: served under `/sandbox/…`, outside the signature gate, with
//! unsigned JSON answers.
//!
//! - `POST /sandbox/orders/{out_trade_no}/pay`: the user pays an unpaid order.
//! - `POST /sandbox/orders/{out_trade_no}/expire`: the payment window passes unpaid.
//! - `POST /sandbox/refunds/{out_refund_no}/abnormal`: the refund cannot reach the user.
//! - `POST /sandbox/bills/{bill_date}/synthetic-trades?rows=N`: N generated trades in that
//!   day's trade bill (for large-bill tests; generated while served, never stored).
//!
//! Each is also a method of [`Sandbox`](crate::Sandbox) for in-process tests.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::pay::order_json;
use super::refund::refund_json;
use super::{PathParam, QueryParams, json_ok};
use crate::clock;
use crate::error::ApiError;
use crate::state::Platform;

/// The control routes, to be merged beside (not behind) the platform's gate.
pub(super) fn router() -> Router<Arc<Platform>> {
    Router::new()
        .route("/sandbox/orders/{out_trade_no}/pay", post(pay))
        .route("/sandbox/orders/{out_trade_no}/expire", post(expire))
        .route("/sandbox/refunds/{out_refund_no}/abnormal", post(abnormal))
        .route(
            "/sandbox/bills/{bill_date}/synthetic-trades",
            post(synthetic_trades),
        )
}

async fn pay(State(platform): State<Arc<Platform>>, PathParam(no): PathParam) -> Response {
    let mut payments = platform.payments();
    match payments.pay(&no, clock::now()) {
        Ok(order) => json_ok(order_json(&platform, order)),
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
    let mut payments = platform.payments();
    match payments.make_abnormal(&no).cloned() {
        Ok(refund) => json_ok(refund_json(&payments, &refund)),
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
