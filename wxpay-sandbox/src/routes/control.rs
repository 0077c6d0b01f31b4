//! Sandbox controls: what the platform's users and banks do, at the test's command. Not
//! part of the platform API: served under `/sandbox/…`, outside the signature gate, with
//! unsigned JSON answers.
//!
//! - `POST /sandbox/orders/{out_trade_no}/pay`: the user pays an unpaid order.
//! - `POST /sandbox/orders/{out_trade_no}/expire`: the payment window passes unpaid.
//! - `POST /sandbox/refunds/{out_refund_no}/abnormal`: the refund cannot reach the user.
//!
//! Each is also a method of [`Sandbox`](crate::Sandbox) for in-process tests.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::pay::order_json;
use super::refund::refund_json;
use super::{PathParam, json_ok};
use crate::clock;
use crate::error::ApiError;
use crate::state::Platform;

/// The control routes, to be merged beside (not behind) the platform's gate.
pub(super) fn router() -> Router<Arc<Platform>> {
    Router::new()
        .route("/sandbox/orders/{out_trade_no}/pay", post(pay))
        .route("/sandbox/orders/{out_trade_no}/expire", post(expire))
        .route("/sandbox/refunds/{out_refund_no}/abnormal", post(abnormal))
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
