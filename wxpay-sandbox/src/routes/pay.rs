//! Direct-merchant payments (`/v3/pay/transactions/…`): prepay (JSAPI, APP, H5, Native),
//! query by either number, close. Paying and expiring are sandbox controls (`control`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{PathParam, QueryParams, json_body, json_ok};
use crate::clock::rfc3339_beijing;
use crate::error::ApiError;
use crate::payments::{NewOrder, Order, PayError, TradeState};
use crate::state::Platform;

impl From<PayError> for ApiError {
    fn from(error: PayError) -> Self {
        match error {
            PayError::OrderNotExist => {
                ApiError::new(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在")
            }
            PayError::OutTradeNoUsed => ApiError::new(
                StatusCode::FORBIDDEN,
                "OUT_TRADE_NO_USED",
                "商户订单号重复: out_trade_no was used for a different order",
            ),
            PayError::OrderPaid => {
                ApiError::new(StatusCode::FORBIDDEN, "ORDERPAID", "该订单已支付")
            }
            PayError::OrderClosed => {
                ApiError::new(StatusCode::BAD_REQUEST, "ORDER_CLOSED", "订单已关闭")
            }
            PayError::NotPaid => {
                ApiError::invalid_request("订单未支付: only a paid order can be refunded")
            }
            PayError::TotalMismatch { paid, given } => ApiError::param(format!(
                "amount.total {given} is not the order's total {paid}"
            )),
            PayError::NotEnough { refundable, asked } => ApiError::invalid_request(format!(
                "申请退款金额超过订单可退金额: asked {asked}, refundable {refundable} (fen)"
            )),
            PayError::OutRefundNoUsed => ApiError::invalid_request(
                "商户退款单号重复: out_refund_no was used for a different refund",
            ),
            PayError::RefundNotExist => ApiError::resource_not_exists("退款单不存在"),
            PayError::RefundNotAbnormal(status) => ApiError::invalid_request(format!(
                "退款状态不是异常: the refund is {status}, not ABNORMAL"
            )),
        }
    }
}

#[derive(Deserialize)]
struct AmountBody {
    total: u64,
    #[serde(default)]
    currency: Option<String>,
}

/// APP, H5 and Native payers carry no `openid` in the spec (an H5 payer may carry only the
/// encrypted `identity`); JSAPI requires it, checked below.
#[derive(Deserialize)]
struct PayerBody {
    #[serde(default)]
    openid: Option<String>,
}

#[derive(Deserialize)]
struct SceneBody {
    payer_client_ip: String,
    #[serde(default)]
    h5_info: Option<Value>,
}

#[derive(Deserialize)]
struct PrepayBody {
    appid: String,
    mchid: String,
    description: String,
    out_trade_no: String,
    #[serde(default)]
    time_expire: Option<String>,
    #[serde(default)]
    attach: Option<String>,
    notify_url: String,
    amount: AmountBody,
    #[serde(default)]
    payer: Option<PayerBody>,
    #[serde(default)]
    scene_info: Option<SceneBody>,
}

/// Checks a prepay body the way the platform does and turns it into an order.
fn new_order(
    platform: &Platform,
    trade_type: &'static str,
    body: &Bytes,
) -> Result<NewOrder, ApiError> {
    let body: PrepayBody = json_body(body)?;
    if body.mchid != platform.mchid {
        return Err(ApiError::param(format!(
            "mchid {} is not the calling merchant",
            body.mchid
        )));
    }
    for (field, value) in [
        ("appid", &body.appid),
        ("description", &body.description),
        ("notify_url", &body.notify_url),
    ] {
        if value.trim().is_empty() {
            return Err(ApiError::param(format!("{field} must not be empty")));
        }
    }
    let no = &body.out_trade_no;
    if !(6..=32).contains(&no.len())
        || !no
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*".contains(&b))
    {
        return Err(ApiError::param(
            "out_trade_no must be 6-32 characters of 0-9, a-z, A-Z, _-|*",
        ));
    }
    if !body.notify_url.starts_with("https://") || body.notify_url.contains('?') {
        return Err(ApiError::param(
            "notify_url must be an https URL without a query",
        ));
    }
    if body.amount.total == 0 {
        return Err(ApiError::param("amount.total must be at least 1 fen"));
    }
    let currency = body.amount.currency.unwrap_or_else(|| "CNY".into());
    if currency != "CNY" {
        return Err(ApiError::param(format!("currency {currency} is not CNY")));
    }
    let time_expire = body
        .time_expire
        .as_deref()
        .map(|t| {
            OffsetDateTime::parse(t, &Rfc3339)
                .map_err(|_| ApiError::param(format!("time_expire {t:?} is not an RFC 3339 time")))
        })
        .transpose()?;
    let openid = body.payer.and_then(|p| p.openid);
    if trade_type == "JSAPI" && openid.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::param("payer.openid is required for JSAPI"));
    }
    if trade_type == "MWEB" {
        match &body.scene_info {
            Some(scene) if scene.h5_info.is_some() && !scene.payer_client_ip.is_empty() => {}
            _ => {
                return Err(ApiError::param(
                    "scene_info.payer_client_ip and scene_info.h5_info are required for H5",
                ));
            }
        }
    }
    Ok(NewOrder {
        trade_type,
        appid: body.appid,
        description: body.description,
        out_trade_no: body.out_trade_no,
        attach: body.attach,
        total: body.amount.total,
        currency,
        openid,
        time_expire,
    })
}

fn prepay(platform: &Platform, trade_type: &'static str, body: &Bytes) -> Result<String, ApiError> {
    let order = new_order(platform, trade_type, body)?;
    Ok(platform.payments().prepay(order)?)
}

/// `POST /v3/pay/transactions/jsapi`
pub(super) async fn jsapi(
    State(platform): State<Arc<Platform>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let prepay_id = prepay(&platform, "JSAPI", &body)?;
    Ok(json_ok(json!({ "prepay_id": prepay_id })))
}

/// `POST /v3/pay/transactions/app`
pub(super) async fn app(
    State(platform): State<Arc<Platform>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let prepay_id = prepay(&platform, "APP", &body)?;
    Ok(json_ok(json!({ "prepay_id": prepay_id })))
}

/// `POST /v3/pay/transactions/h5`
pub(super) async fn h5(
    State(platform): State<Arc<Platform>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let prepay_id = prepay(&platform, "MWEB", &body)?;
    Ok(json_ok(json!({
        "h5_url": format!("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay_id}&package=2731554261")
    })))
}

/// `POST /v3/pay/transactions/native`
pub(super) async fn native(
    State(platform): State<Arc<Platform>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let prepay_id = prepay(&platform, "NATIVE", &body)?;
    let code = prepay_id
        .get(prepay_id.len().saturating_sub(12)..)
        .unwrap_or_default();
    Ok(json_ok(
        json!({ "code_url": format!("weixin://wxpay/bizpayurl?pr={code}") }),
    ))
}

/// An order as the query APIs write it.
pub(crate) fn order_json(platform: &Platform, order: &Order) -> Value {
    let mut value = json!({
        "appid": order.spec.appid,
        "mchid": platform.mchid,
        "out_trade_no": order.spec.out_trade_no,
        "trade_state": order.state.as_str(),
        "trade_state_desc": order.state.desc(),
        "amount": { "total": order.spec.total, "currency": order.spec.currency },
    });
    if let Some(attach) = &order.spec.attach {
        value["attach"] = json!(attach);
    }
    if let Some(openid) = &order.spec.openid {
        value["payer"] = json!({ "openid": openid });
    }
    if matches!(order.state, TradeState::Success | TradeState::Refund) {
        value["transaction_id"] = json!(order.transaction_id);
        value["trade_type"] = json!(order.spec.trade_type);
        value["bank_type"] = json!("OTHERS");
        value["success_time"] = json!(order.success_time.map(rfc3339_beijing));
        value["amount"]["payer_total"] = json!(order.spec.total);
        value["amount"]["payer_currency"] = json!(order.spec.currency);
    }
    value
}

fn check_mchid(platform: &Platform, query: &QueryParams) -> Result<(), ApiError> {
    match query.0.get("mchid") {
        Some(mchid) if *mchid == platform.mchid => Ok(()),
        Some(mchid) => Err(ApiError::param(format!(
            "mchid {mchid} is not the calling merchant"
        ))),
        None => Err(ApiError::param("mchid is required in the query")),
    }
}

/// `GET /v3/pay/transactions/id/{transaction_id}`
pub(super) async fn query_by_id(
    State(platform): State<Arc<Platform>>,
    PathParam(transaction_id): PathParam,
    query: QueryParams,
) -> Result<Response, ApiError> {
    check_mchid(&platform, &query)?;
    let payments = platform.payments();
    let order = payments.order_by_transaction_id(&transaction_id)?;
    Ok(json_ok(order_json(&platform, order)))
}

/// `GET /v3/pay/transactions/out-trade-no/{out_trade_no}`
pub(super) async fn query_by_out_trade_no(
    State(platform): State<Arc<Platform>>,
    PathParam(out_trade_no): PathParam,
    query: QueryParams,
) -> Result<Response, ApiError> {
    check_mchid(&platform, &query)?;
    let payments = platform.payments();
    let order = payments.order(&out_trade_no)?;
    Ok(json_ok(order_json(&platform, order)))
}

#[derive(Deserialize)]
struct CloseBody {
    mchid: String,
}

/// `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close`: 204.
pub(super) async fn close(
    State(platform): State<Arc<Platform>>,
    PathParam(out_trade_no): PathParam,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: CloseBody = json_body(&body)?;
    if body.mchid != platform.mchid {
        return Err(ApiError::param(format!(
            "mchid {} is not the calling merchant",
            body.mchid
        )));
    }
    platform.payments().close(&out_trade_no)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
