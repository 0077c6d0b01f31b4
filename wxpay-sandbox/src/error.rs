//! The platform's error answers: an HTTP status and `{"code","message"}`.
//! (`401 SIGN_ERROR`, which carries a `detail`, is built in `auth`.)

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::state::StoreError;

/// An error the platform answers with. Codes are the platform's own words.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// The request field at fault, answered as `detail.field` (as the platform does for many
    /// `PARAM_ERROR`s).
    pub(crate) field: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// 400 `PARAM_ERROR` about one field of the request (`amount.total`), named in
    /// `detail.field`.
    pub(crate) fn param_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field.into()),
            ..Self::param(message)
        }
    }

    /// 400 `PARAM_ERROR`: the request is malformed (bad JSON, a missing field, an
    /// undecryptable field, an unknown `Wechatpay-Serial`).
    pub(crate) fn param(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "PARAM_ERROR", message)
    }

    /// 400 `INVALID_REQUEST`: well-formed, but against the business rules (a stock in
    /// the wrong state, an `out_request_no` reused for something else).
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    /// 403 `NO_AUTH`: the caller may not act on this resource.
    pub(crate) fn no_auth(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "NO_AUTH", message)
    }

    /// 404 `RESOURCE_NOT_EXISTS`: a stock the platform does not have.
    pub(crate) fn resource_not_exists(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", message)
    }

    /// 404 `NOT_FOUND`: no such API, or nothing to serve (certificates of a
    /// public-key-only merchant).
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    /// 500 `SYSTEM_ERROR`.
    pub(crate) fn system(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR", message)
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        let mut body = json!({ "code": self.code, "message": self.message });
        if let Some(field) = &self.field {
            body["detail"] = json!({ "field": field });
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        (self.status, [(CONTENT_TYPE, "application/json")], body).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::StockNotFound(id) => {
                ApiError::resource_not_exists(format!("批次不存在: stock {id} does not exist"))
            }
            StoreError::WrongState {
                stock_id,
                status,
                action,
            } => ApiError::invalid_request(format!(
                "批次状态不正确: stock {stock_id} is {status}, it cannot be {action}"
            )),
            StoreError::NotRunning { stock_id, status } => ApiError::invalid_request(format!(
                "批次不在发放中: stock {stock_id} is {status}, coupons are only issued from a running stock"
            )),
            StoreError::BudgetExhausted(id) => ApiError::new(
                StatusCode::FORBIDDEN,
                "NOT_ENOUGH",
                format!("批次预算不足: stock {id} has issued its max_coupons"),
            ),
            StoreError::UserLimit(id) => ApiError::new(
                StatusCode::FORBIDDEN,
                "RULE_LIMIT",
                format!("用户领券已达上限: max_coupons_per_user of stock {id} reached"),
            ),
            StoreError::OutRequestNoReused(no) => ApiError::invalid_request(format!(
                "out_request_no {no} was already used for a different request"
            )),
        }
    }
}
