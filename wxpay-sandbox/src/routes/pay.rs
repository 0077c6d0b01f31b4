//! Payments: a direct merchant's (`/v3/pay/transactions/…`: prepay by JSAPI, APP, H5 and
//! Native, query by either number, close) and a service provider's for its sub-merchants
//! (`/v3/pay/partner/transactions/…`: JSAPI and Native, the queries, close). Paying and
//! expiring are sandbox controls (`control`).

use std::collections::HashMap;
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
use crate::SANDBOX_SUB_MCHID;
use crate::clock::rfc3339_beijing;
use crate::error::ApiError;
use crate::payments::{NewOrder, Order, PayError, SubMerchant, TradeState};
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
/// encrypted `identity`); JSAPI requires it, checked below. A sub-merchant's payer is known
/// under the provider's app (`sp_openid`) or the sub-merchant's (`sub_openid`).
#[derive(Deserialize)]
struct PayerBody {
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    sp_openid: Option<String>,
    #[serde(default)]
    sub_openid: Option<String>,
}

#[derive(Deserialize)]
struct SceneBody {
    payer_client_ip: String,
    #[serde(default)]
    h5_info: Option<Value>,
}

/// A prepay body of either mode; which merchant fields it must have depends on the mode.
#[derive(Deserialize)]
struct PrepayBody {
    #[serde(default)]
    appid: Option<String>,
    #[serde(default)]
    mchid: Option<String>,
    #[serde(default)]
    sp_appid: Option<String>,
    #[serde(default)]
    sp_mchid: Option<String>,
    #[serde(default)]
    sub_appid: Option<String>,
    #[serde(default)]
    sub_mchid: Option<String>,
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

/// Whose payment APIs are called: a merchant's for itself (`mchid`), or a service
/// provider's for one of its sub-merchants (`sp_mchid` and `sub_mchid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Direct,
    Partner,
}

/// A field the mode requires: present and not blank.
fn required(value: Option<String>, field: &str) -> Result<String, ApiError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::param_field(field, format!("{field} is required")))
}

/// `mchid` (or `sp_mchid`) must be the authenticated merchant.
fn check_caller(platform: &Platform, field: &str, mchid: &str) -> Result<(), ApiError> {
    if mchid == platform.mchid {
        Ok(())
    } else {
        Err(ApiError::param_field(
            field,
            format!("{field} {mchid} is not the calling merchant"),
        ))
    }
}

/// The sandbox's merchant is the service provider of one sub-merchant, [`SANDBOX_SUB_MCHID`].
fn check_sub_merchant(platform: &Platform, sub_mchid: &str) -> Result<(), ApiError> {
    if sub_mchid == SANDBOX_SUB_MCHID {
        Ok(())
    } else {
        Err(ApiError::param(format!(
            "受理关系不存在: sub_mchid {sub_mchid} is not a sub-merchant of sp_mchid {}",
            platform.mchid
        )))
    }
}

/// The sub-merchant a refund API names (its `sub_mchid`, if any), checked.
pub(super) fn sub_merchant(
    platform: &Platform,
    sub_mchid: Option<&str>,
) -> Result<Option<String>, ApiError> {
    sub_mchid
        .map(|sub_mchid| {
            check_sub_merchant(platform, sub_mchid)?;
            Ok(sub_mchid.to_owned())
        })
        .transpose()
}

/// Checks a prepay body the way the platform does and turns it into an order.
fn new_order(
    platform: &Platform,
    mode: Mode,
    trade_type: &'static str,
    body: &Bytes,
) -> Result<NewOrder, ApiError> {
    let body: PrepayBody = json_body(body)?;
    let payer = body.payer.unwrap_or(PayerBody {
        openid: None,
        sp_openid: None,
        sub_openid: None,
    });
    let (appid, openid, sub_merchant) = match mode {
        Mode::Direct => {
            check_caller(platform, "mchid", &required(body.mchid, "mchid")?)?;
            (required(body.appid, "appid")?, payer.openid, None)
        }
        Mode::Partner => {
            check_caller(platform, "sp_mchid", &required(body.sp_mchid, "sp_mchid")?)?;
            let sub_mchid = required(body.sub_mchid, "sub_mchid")?;
            check_sub_merchant(platform, &sub_mchid)?;
            if payer.sub_openid.is_some() && body.sub_appid.is_none() {
                return Err(ApiError::param_field(
                    "sub_appid",
                    "payer.sub_openid needs sub_appid",
                ));
            }
            let sub_merchant = SubMerchant {
                sub_mchid,
                sub_appid: body.sub_appid,
                sub_openid: payer.sub_openid,
            };
            (
                required(body.sp_appid, "sp_appid")?,
                payer.sp_openid,
                Some(sub_merchant),
            )
        }
    };
    for (field, value) in [
        ("description", &body.description),
        ("notify_url", &body.notify_url),
    ] {
        if value.trim().is_empty() {
            return Err(ApiError::param_field(
                field,
                format!("{field} must not be empty"),
            ));
        }
    }
    let no = &body.out_trade_no;
    if !(6..=32).contains(&no.len())
        || !no
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*".contains(&b))
    {
        return Err(ApiError::param_field(
            "out_trade_no",
            "out_trade_no must be 6-32 characters of 0-9, a-z, A-Z, _-|*",
        ));
    }
    if !body.notify_url.starts_with("https://") || body.notify_url.contains('?') {
        return Err(ApiError::param_field(
            "notify_url",
            "notify_url must be an https URL without a query",
        ));
    }
    if body.amount.total == 0 {
        return Err(ApiError::param_field(
            "amount.total",
            "amount.total must be at least 1 fen",
        ));
    }
    let currency = body.amount.currency.unwrap_or_else(|| "CNY".into());
    if currency != "CNY" {
        return Err(ApiError::param_field(
            "amount.currency",
            format!("currency {currency} is not CNY"),
        ));
    }
    let time_expire = body
        .time_expire
        .as_deref()
        .map(|t| {
            OffsetDateTime::parse(t, &Rfc3339).map_err(|_| {
                ApiError::param_field(
                    "time_expire",
                    format!("time_expire {t:?} is not an RFC 3339 time"),
                )
            })
        })
        .transpose()?;
    if trade_type == "JSAPI" {
        let known = |id: &Option<String>| id.as_deref().is_some_and(|id| !id.is_empty());
        let sub_openid = sub_merchant.as_ref().map(|s| &s.sub_openid);
        match mode {
            Mode::Direct if !known(&openid) => {
                return Err(ApiError::param_field(
                    "payer.openid",
                    "payer.openid is required for JSAPI",
                ));
            }
            Mode::Partner if !known(&openid) && !sub_openid.is_some_and(known) => {
                return Err(ApiError::param_field(
                    "payer.sp_openid",
                    "payer.sp_openid or payer.sub_openid is required for JSAPI",
                ));
            }
            _ => {}
        }
    }
    if trade_type == "MWEB" {
        match &body.scene_info {
            Some(scene) if scene.h5_info.is_some() && !scene.payer_client_ip.is_empty() => {}
            _ => {
                return Err(ApiError::param_field(
                    "scene_info",
                    "scene_info.payer_client_ip and scene_info.h5_info are required for H5",
                ));
            }
        }
    }
    Ok(NewOrder {
        trade_type,
        appid,
        description: body.description,
        out_trade_no: body.out_trade_no,
        attach: body.attach,
        total: body.amount.total,
        currency,
        openid,
        time_expire,
        notify_url: body.notify_url,
        sub_merchant,
    })
}

fn prepay(
    platform: &Platform,
    mode: Mode,
    trade_type: &'static str,
    body: &Bytes,
) -> Result<String, ApiError> {
    let order = new_order(platform, mode, trade_type, body)?;
    Ok(platform.payments().prepay(order)?)
}

/// `POST /v3/pay/transactions/jsapi`, `POST /v3/pay/partner/transactions/jsapi`
pub(super) async fn jsapi(
    mode: Mode,
    platform: Arc<Platform>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let prepay_id = prepay(&platform, mode, "JSAPI", &body)?;
    Ok(json_ok(json!({ "prepay_id": prepay_id })))
}

/// `POST /v3/pay/transactions/app`
pub(super) async fn app(
    State(platform): State<Arc<Platform>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let prepay_id = prepay(&platform, Mode::Direct, "APP", &body)?;
    Ok(json_ok(json!({ "prepay_id": prepay_id })))
}

/// `POST /v3/pay/transactions/h5`
///
/// `h5_url` leads to the sandbox's own H5 cashier (the platform's is on its own host); the
/// merchant appends `&redirect_url=…` as with the platform's.
pub(super) async fn h5(
    State(platform): State<Arc<Platform>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let prepay_id = prepay(&platform, Mode::Direct, "MWEB", &body)?;
    let host = super::request_host(&headers);
    Ok(json_ok(json!({
        "h5_url": format!("http://{host}/sandbox/h5/checkmweb?prepay_id={prepay_id}&package=2731554261")
    })))
}

/// `POST /v3/pay/transactions/native`, `POST /v3/pay/partner/transactions/native`
pub(super) async fn native(
    mode: Mode,
    platform: Arc<Platform>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let prepay_id = prepay(&platform, mode, "NATIVE", &body)?;
    Ok(json_ok(
        json!({ "code_url": crate::web::code_url(&prepay_id) }),
    ))
}

/// An order as the query APIs (and `TRANSACTION.SUCCESS`) write it: a sub-merchant's with the
/// provider's and the sub-merchant's numbers and apps in place of `appid` and `mchid`.
pub(crate) fn order_json(platform: &Platform, order: &Order) -> Value {
    let mut value = json!({
        "out_trade_no": order.spec.out_trade_no,
        "trade_state": order.state.as_str(),
        "trade_state_desc": order.state.desc(),
        "amount": { "total": order.spec.total, "currency": order.spec.currency },
    });
    match &order.spec.sub_merchant {
        None => {
            value["appid"] = json!(order.spec.appid);
            value["mchid"] = json!(platform.mchid);
            if let Some(openid) = &order.spec.openid {
                value["payer"] = json!({ "openid": openid });
            }
        }
        Some(sub) => {
            value["sp_appid"] = json!(order.spec.appid);
            value["sp_mchid"] = json!(platform.mchid);
            value["sub_mchid"] = json!(sub.sub_mchid);
            if let Some(sub_appid) = &sub.sub_appid {
                value["sub_appid"] = json!(sub_appid);
            }
            let mut payer = serde_json::Map::new();
            if let Some(openid) = &order.spec.openid {
                payer.insert("sp_openid".into(), json!(openid));
            }
            if let Some(openid) = &sub.sub_openid {
                payer.insert("sub_openid".into(), json!(openid));
            }
            if !payer.is_empty() {
                value["payer"] = Value::Object(payer);
            }
        }
    }
    if let Some(attach) = &order.spec.attach {
        value["attach"] = json!(attach);
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

/// Whose orders a query or close may see: checks the merchant fields of its query string or
/// body (`mchid`; or `sp_mchid` and `sub_mchid`) and answers the sub-merchant, if any.
fn scope(
    platform: &Platform,
    mode: Mode,
    fields: &HashMap<String, String>,
) -> Result<Option<String>, ApiError> {
    let field = |name: &str| required(fields.get(name).cloned(), name);
    match mode {
        Mode::Direct => {
            check_caller(platform, "mchid", &field("mchid")?)?;
            Ok(None)
        }
        Mode::Partner => {
            check_caller(platform, "sp_mchid", &field("sp_mchid")?)?;
            let sub_mchid = field("sub_mchid")?;
            check_sub_merchant(platform, &sub_mchid)?;
            Ok(Some(sub_mchid))
        }
    }
}

/// `GET /v3/pay/transactions/id/{transaction_id}`, and its partner twin
pub(super) async fn query_by_id(
    mode: Mode,
    platform: Arc<Platform>,
    PathParam(transaction_id): PathParam,
    QueryParams(query): QueryParams,
) -> Result<Response, ApiError> {
    let sub_mchid = scope(&platform, mode, &query)?;
    let payments = platform.payments();
    let order = payments.order_by_transaction_id(sub_mchid.as_deref(), &transaction_id)?;
    Ok(json_ok(order_json(&platform, order)))
}

/// `GET /v3/pay/transactions/out-trade-no/{out_trade_no}`, and its partner twin
pub(super) async fn query_by_out_trade_no(
    mode: Mode,
    platform: Arc<Platform>,
    PathParam(out_trade_no): PathParam,
    QueryParams(query): QueryParams,
) -> Result<Response, ApiError> {
    let sub_mchid = scope(&platform, mode, &query)?;
    let payments = platform.payments();
    let order = payments.order(sub_mchid.as_deref(), &out_trade_no)?;
    Ok(json_ok(order_json(&platform, order)))
}

/// `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close`, and its partner twin: 204.
pub(super) async fn close(
    mode: Mode,
    platform: Arc<Platform>,
    PathParam(out_trade_no): PathParam,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: HashMap<String, String> = json_body(&body)?;
    let sub_mchid = scope(&platform, mode, &body)?;
    platform
        .payments()
        .close(sub_mchid.as_deref(), &out_trade_no)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
