//! 代金券 (favor) stocks and coupons: create, query, start/pause/restart, issue.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{PathParam, QueryParams, check_creator, json_body, json_ok};
use crate::clock::{self, rfc3339_beijing};
use crate::error::ApiError;
use crate::state::{FavorStock, NewFavorStock, Platform, StockAction, StockUseRule};

/// `FavorStockType` values the API documents.
const STOCK_TYPES: &[&str] = &["NORMAL", "DISCOUNT", "EXCHAHGE", "RANDOM", "DISCOUNT_CUT"];

#[derive(Deserialize)]
struct CreateStockBody {
    stock_name: String,
    #[serde(default)]
    comment: Option<String>,
    belong_merchant: String,
    available_begin_time: String,
    available_end_time: String,
    stock_use_rule: StockUseRule,
    #[serde(default)]
    pattern_info: Option<Value>,
    coupon_use_rule: Map<String, Value>,
    no_cash: bool,
    stock_type: String,
    out_request_no: String,
    #[serde(default)]
    #[allow(dead_code)]
    ext_info: Option<String>,
}

fn parse_time(field: &str, value: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map_err(|_| ApiError::param(format!("{field} {value:?} is not an RFC 3339 time")))
}

fn require_non_empty(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::param(format!("{field} must not be empty")));
    }
    Ok(())
}

/// `POST /v3/marketing/favor/coupon-stocks`: a new `unactivated` stock.
pub(super) async fn create_stock(
    State(platform): State<Arc<Platform>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: CreateStockBody = json_body(&body)?;
    require_non_empty("stock_name", &body.stock_name)?;
    require_non_empty("belong_merchant", &body.belong_merchant)?;
    require_non_empty("out_request_no", &body.out_request_no)?;
    let begin = parse_time("available_begin_time", &body.available_begin_time)?;
    let end = parse_time("available_end_time", &body.available_end_time)?;
    if begin >= end {
        return Err(ApiError::param(
            "available_end_time must be later than available_begin_time",
        ));
    }
    if !STOCK_TYPES.contains(&body.stock_type.as_str()) {
        return Err(ApiError::param(format!(
            "stock_type {:?} is not one of {STOCK_TYPES:?}",
            body.stock_type
        )));
    }
    let rule = &body.stock_use_rule;
    if rule.max_coupons == 0 || rule.max_coupons_per_user == 0 {
        return Err(ApiError::param(
            "max_coupons and max_coupons_per_user must be positive",
        ));
    }
    if body.stock_type == "NORMAL" {
        let coupon_amount = body
            .coupon_use_rule
            .get("fixed_normal_coupon")
            .and_then(|c| Some((c.get("coupon_amount")?.as_u64()?, c.get("transaction_minimum")?.as_u64()?)))
            .map(|(amount, _minimum)| amount)
            .ok_or_else(|| {
                ApiError::param(
                    "a NORMAL stock needs coupon_use_rule.fixed_normal_coupon with integer coupon_amount and transaction_minimum",
                )
            })?;
        if coupon_amount == 0
            || rule.max_coupons.checked_mul(coupon_amount) != Some(rule.max_amount)
        {
            return Err(ApiError::param(format!(
                "max_amount ({}) must equal coupon_amount ({coupon_amount}) × max_coupons ({})",
                rule.max_amount, rule.max_coupons
            )));
        }
    }
    let spec = NewFavorStock {
        stock_creator_mchid: platform.mchid.clone(),
        stock_name: body.stock_name,
        comment: body.comment,
        available_begin_time: body.available_begin_time,
        available_end_time: body.available_end_time,
        stock_use_rule: body.stock_use_rule,
        pattern_info: body.pattern_info,
        coupon_use_rule: Value::Object(body.coupon_use_rule),
        no_cash: body.no_cash,
        stock_type: body.stock_type,
        out_request_no: Some(body.out_request_no),
    };
    let (stock_id, create_time) = platform.store().create_favor_stock(spec, clock::now());
    Ok(json_ok(json!({
        "stock_id": stock_id,
        "create_time": rfc3339_beijing(create_time),
    })))
}

/// The stock as `GET /v3/marketing/favor/stocks/{stock_id}` shows it.
fn stock_json(stock: &FavorStock) -> Value {
    let spec = &stock.spec;
    let description = spec
        .pattern_info
        .as_ref()
        .and_then(|p| p.get("description"))
        .and_then(Value::as_str)
        .or(spec.comment.as_deref())
        .unwrap_or_default();
    // The platform shows the face value inside stock_use_rule.
    let mut stock_use_rule = json!(spec.stock_use_rule);
    if let (Some(rule), Some(fixed)) = (
        stock_use_rule.as_object_mut(),
        spec.coupon_use_rule.get("fixed_normal_coupon"),
    ) {
        rule.insert("fixed_normal_coupon".into(), fixed.clone());
    }
    let mut value = json!({
        "stock_id": stock.stock_id,
        "stock_creator_mchid": spec.stock_creator_mchid,
        "stock_name": spec.stock_name,
        "status": stock.status.as_str(),
        "create_time": rfc3339_beijing(stock.create_time),
        "description": description,
        "available_begin_time": spec.available_begin_time,
        "available_end_time": spec.available_end_time,
        "stock_use_rule": stock_use_rule,
        "distributed_coupons": stock.distributed_coupons,
        "no_cash": spec.no_cash,
        "stock_type": spec.stock_type,
        "singleitem": false,
    });
    if let (Some(start), Some(map)) = (stock.start_time, value.as_object_mut()) {
        map.insert("start_time".into(), Value::String(rfc3339_beijing(start)));
    }
    value
}

/// `GET /v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid=…`
pub(super) async fn query_stock(
    State(platform): State<Arc<Platform>>,
    PathParam(stock_id): PathParam,
    QueryParams(query): QueryParams,
) -> Result<Response, ApiError> {
    check_creator(
        &platform,
        query.get("stock_creator_mchid").map(String::as_str),
    )?;
    let store = platform.store();
    let stock = store.favor_stock(&stock_id)?;
    Ok(json_ok(stock_json(stock)))
}

#[derive(Deserialize)]
struct StockCreatorBody {
    #[serde(default)]
    stock_creator_mchid: Option<String>,
}

async fn change_stock(
    platform: &Platform,
    stock_id: String,
    body: &Bytes,
    action: StockAction,
    time_field: &str,
) -> Result<Response, ApiError> {
    let body: StockCreatorBody = json_body(body)?;
    check_creator(platform, body.stock_creator_mchid.as_deref())?;
    let at = platform
        .store()
        .change_favor_stock(&stock_id, action, clock::now())?;
    let mut answer = Map::new();
    answer.insert("stock_id".into(), Value::String(stock_id));
    answer.insert(time_field.into(), Value::String(rfc3339_beijing(at)));
    Ok(json_ok(Value::Object(answer)))
}

/// `POST /v3/marketing/favor/stocks/{stock_id}/start`: unactivated → running.
pub(super) async fn start_stock(
    State(platform): State<Arc<Platform>>,
    PathParam(stock_id): PathParam,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_stock(&platform, stock_id, &body, StockAction::Start, "start_time").await
}

/// `POST /v3/marketing/favor/stocks/{stock_id}/pause`: running → paused.
pub(super) async fn pause_stock(
    State(platform): State<Arc<Platform>>,
    PathParam(stock_id): PathParam,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_stock(&platform, stock_id, &body, StockAction::Pause, "pause_time").await
}

/// `POST /v3/marketing/favor/stocks/{stock_id}/restart`: paused → running.
pub(super) async fn restart_stock(
    State(platform): State<Arc<Platform>>,
    PathParam(stock_id): PathParam,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_stock(
        &platform,
        stock_id,
        &body,
        StockAction::Restart,
        "restart_time",
    )
    .await
}

#[derive(Deserialize)]
struct SendCouponBody {
    stock_id: String,
    out_request_no: String,
    appid: String,
    stock_creator_mchid: String,
    // Accepted (and type-checked) but not used: the sandbox issues the stock's face value.
    #[serde(default)]
    #[allow(dead_code)]
    coupon_value: Option<u64>,
    #[serde(default)]
    #[allow(dead_code)]
    coupon_minimum: Option<u64>,
}

/// `POST /v3/marketing/favor/users/{openid}/coupons`: one coupon of a running stock,
/// once per `(stock_id, out_request_no)`.
pub(super) async fn send_coupon(
    State(platform): State<Arc<Platform>>,
    PathParam(openid): PathParam,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: SendCouponBody = json_body(&body)?;
    require_non_empty("stock_id", &body.stock_id)?;
    require_non_empty("out_request_no", &body.out_request_no)?;
    require_non_empty("appid", &body.appid)?;
    check_creator(&platform, Some(&body.stock_creator_mchid))?;
    let coupon_id =
        platform
            .store()
            .send_favor_coupon(&body.stock_id, &openid, &body.out_request_no)?;
    Ok(json_ok(json!({ "coupon_id": coupon_id })))
}
