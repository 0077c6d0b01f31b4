//! Domestic refunds (`/v3/refund/domestic/…`): create, query, abnormal-refund handling.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{PathParam, QueryParams, json_body, json_ok};
use crate::clock::{self, rfc3339_beijing};
use crate::error::ApiError;
use crate::payments::{NewRefund, Payments, Refund};
use crate::signing::WECHATPAY_SERIAL;
use crate::state::Platform;

#[derive(Deserialize)]
struct RefundAmountBody {
    refund: u64,
    total: u64,
    currency: String,
}

#[derive(Deserialize)]
struct CreateRefundBody {
    #[serde(default)]
    transaction_id: Option<String>,
    #[serde(default)]
    out_trade_no: Option<String>,
    out_refund_no: String,
    #[serde(default)]
    reason: Option<String>,
    amount: RefundAmountBody,
    /// A service provider refunding a sub-merchant's order.
    #[serde(default)]
    sub_mchid: Option<String>,
}

/// A refund as the refund APIs write it.
pub(crate) fn refund_json(payments: &Payments, refund: &Refund) -> Value {
    let total = payments
        .order_of(refund)
        .map_or(refund.spec.total, |o| o.spec.total);
    let mut value = json!({
        "refund_id": refund.refund_id,
        "out_refund_no": refund.spec.out_refund_no,
        "transaction_id": refund.transaction_id,
        "out_trade_no": refund.out_trade_no,
        "channel": refund.channel,
        "user_received_account": "支付用户零钱",
        "create_time": rfc3339_beijing(refund.create_time),
        "status": refund.status.as_str(),
        "funds_account": "AVAILABLE",
        "amount": {
            "total": total,
            "refund": refund.spec.refund,
            "payer_total": total,
            "payer_refund": refund.spec.refund,
            "settlement_refund": refund.spec.refund,
            "settlement_total": total,
            "discount_refund": 0,
            "currency": refund.spec.currency,
        },
    });
    if let Some(success_time) = refund.success_time {
        value["success_time"] = json!(rfc3339_beijing(success_time));
    }
    value
}

/// `POST /v3/refund/domestic/refunds`
pub(super) async fn create(
    State(platform): State<Arc<Platform>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: CreateRefundBody = json_body(&body)?;
    let no = &body.out_refund_no;
    if !(1..=64).contains(&no.len())
        || !no
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*@".contains(&b))
    {
        return Err(ApiError::param(
            "out_refund_no must be 1-64 characters of 0-9, a-z, A-Z, _-|*@",
        ));
    }
    if body.amount.currency != "CNY" {
        return Err(ApiError::param(format!(
            "currency {} is not CNY",
            body.amount.currency
        )));
    }
    let sub_mchid = super::pay::sub_merchant(&platform, body.sub_mchid.as_deref())?;
    let sub_mchid = sub_mchid.as_deref();
    let mut payments = platform.payments();
    let out_trade_no = match (&body.transaction_id, &body.out_trade_no) {
        (Some(id), _) => payments
            .order_by_transaction_id(sub_mchid, id)?
            .spec
            .out_trade_no
            .clone(),
        (None, Some(no)) => no.clone(),
        (None, None) => {
            return Err(ApiError::param(
                "transaction_id or out_trade_no is required",
            ));
        }
    };
    let spec = NewRefund {
        out_refund_no: body.out_refund_no,
        reason: body.reason,
        refund: body.amount.refund,
        total: body.amount.total,
        currency: body.amount.currency,
    };
    let refund = payments
        .refund(sub_mchid, &out_trade_no, spec, clock::now())?
        .clone();
    Ok(json_ok(refund_json(&payments, &refund)))
}

/// `GET /v3/refund/domestic/refunds/{out_refund_no}` (`?sub_mchid=` for a sub-merchant's)
pub(super) async fn query(
    State(platform): State<Arc<Platform>>,
    PathParam(out_refund_no): PathParam,
    QueryParams(query): QueryParams,
) -> Result<Response, ApiError> {
    let sub_mchid =
        super::pay::sub_merchant(&platform, query.get("sub_mchid").map(String::as_str))?;
    let (refund, finished) = {
        let mut payments = platform.payments();
        let sub_mchid = sub_mchid.as_deref();
        let was = payments
            .refund_by_out_refund_no(sub_mchid, &out_refund_no)?
            .status;
        let refund = payments
            .query_refund(sub_mchid, &out_refund_no, clock::now())?
            .clone();
        let finished = was != refund.status;
        (refund_json(&payments, &refund), finished.then_some(refund))
    };
    if let Some(finished) = finished {
        crate::notify::refund_finished(&platform, &finished, refund.clone());
    }
    Ok(json_ok(refund))
}

#[derive(Deserialize)]
struct AbnormalBody {
    out_refund_no: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    bank_type: Option<String>,
    #[serde(default)]
    bank_account: Option<String>,
    #[serde(default)]
    real_name: Option<String>,
    #[serde(default)]
    sub_mchid: Option<String>,
}

/// `POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund`
pub(super) async fn apply_abnormal(
    State(platform): State<Arc<Platform>>,
    PathParam(refund_id): PathParam,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: AbnormalBody = json_body(&body)?;
    let channel = match body.kind.as_str() {
        "USER_BANK_CARD" => {
            let (Some(_), Some(account), Some(name)) =
                (&body.bank_type, &body.bank_account, &body.real_name)
            else {
                return Err(ApiError::param(
                    "bank_type, bank_account and real_name are required for USER_BANK_CARD",
                ));
            };
            let Some(serial) = headers.get(WECHATPAY_SERIAL).and_then(|v| v.to_str().ok()) else {
                return Err(ApiError::param(
                    "Wechatpay-Serial header is required: bank_account and real_name are encrypted",
                ));
            };
            // The sandbox only checks that they decrypt; it keeps neither.
            for (field, ciphertext) in [("bank_account", account), ("real_name", name)] {
                let plaintext = STANDARD.decode(ciphertext).ok().and_then(|bytes| {
                    platform
                        .keys
                        .decrypt_for(serial, &bytes, clock::monotonic())
                        .ok()
                });
                if plaintext.is_none_or(|p| p.is_empty()) {
                    return Err(ApiError::param(format!(
                        "{field} is not RSA-OAEP ciphertext for the platform key named by Wechatpay-Serial"
                    )));
                }
            }
            "OTHER_BANKCARD"
        }
        "MERCHANT_BANK_CARD" => "OTHER_BALANCE",
        other => {
            return Err(ApiError::param(format!(
                "type {other:?} is not USER_BANK_CARD or MERCHANT_BANK_CARD"
            )));
        }
    };
    let sub_mchid = super::pay::sub_merchant(&platform, body.sub_mchid.as_deref())?;
    let mut payments = platform.payments();
    let refund = payments
        .apply_abnormal(
            sub_mchid.as_deref(),
            &refund_id,
            &body.out_refund_no,
            channel,
        )?
        .clone();
    Ok(json_ok(refund_json(&payments, &refund)))
}
