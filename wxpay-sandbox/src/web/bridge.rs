//! The front end's side of a payment, checked as WeChat checks it.
//!
//! `GET /sandbox/bridge.js` is a script for an ordinary browser that provides
//! `WeixinJSBridge.invoke('getBrandWCPayRequest', params, callback)` and
//! `wx.requestPayment({...})`. It sends the parameters to `POST /sandbox/bridge/check`, which
//! checks them like WeChat: `signType` is `RSA`; `package` is `prepay_id=…` naming a JSAPI order
//! that can still be paid (unpaid, not closed, within `time_expire` and the `prepay_id`'s two
//! hours) of that `appId`; `paySign` is SHA256withRSA over `appId\ntimeStamp\nnonceStr\npackage\n`
//! and verifies with the merchant's public key. A refusal comes back with the reason (the script
//! shows it in the page and calls back `…:fail`); a good request opens the cashier in a frame,
//! whose answer the callback gets: `ok`, `cancel` or `fail`.
//!
//! `POST /sandbox/app/check` checks an APP's `PayReq` the same way (`sign` over
//! `appid\ntimestamp\nnoncestr\nprepayid\n`, `partnerid` the merchant, `package` `Sign=WXPay`).
//!
//! Both answer `{"ok": true, "out_trade_no", "cashier_url"}` or `{"ok": false, "field",
//! "reason"}` (400), with `Access-Control-Allow-Origin: *` (the shop's page is elsewhere), and
//! both are noted in the dashboard's journal.

use std::sync::Arc;

use axum::Form;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    CACHE_CONTROL, CONTENT_TYPE,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use super::query_value;
use crate::clock;
use crate::error::ApiError;
use crate::journal::{Entry, Verdict};
use crate::state::Platform;

/// The script, served as it is.
const BRIDGE_JS: &str = include_str!("bridge.js");

/// `GET /sandbox/bridge.js`
pub(super) async fn script() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        BRIDGE_JS,
    )
        .into_response()
}

/// `OPTIONS` for the checks: a page elsewhere may send JSON.
pub(super) async fn preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (ACCESS_CONTROL_ALLOW_METHODS, "POST"),
            (ACCESS_CONTROL_ALLOW_HEADERS, "content-type"),
        ],
    )
        .into_response()
}

/// Which front-end call the parameters came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    /// `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` in WeChat's browser.
    Jsapi,
    /// `wx.requestPayment` in a mini program (whose `appId` is the mini program's own).
    MiniProgram,
    /// The app SDK's `PayReq`.
    App,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Jsapi => "getBrandWCPayRequest",
            Api::MiniProgram => "requestPayment",
            Api::App => "PayReq",
        }
    }
}

/// The signed parameters of any front end, under common names.
#[derive(Debug, Default)]
struct PayParams {
    appid: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    /// The signed fourth line: `prepay_id=…` (JSAPI) or the prepay id (APP).
    package_line: Option<String>,
    sign_type: Option<String>,
    sign: Option<String>,
    /// APP only: `partnerid` and `package` (`Sign=WXPay`).
    partnerid: Option<String>,
    app_package: Option<String>,
}

/// Why the parameters were refused.
#[derive(Debug, PartialEq)]
struct Refusal {
    field: &'static str,
    reason: String,
    /// For a signature that does not verify: the message that should have been signed.
    expected_message: Option<String>,
}

fn refuse(field: &'static str, reason: impl Into<String>) -> Refusal {
    Refusal {
        field,
        reason: reason.into(),
        expected_message: None,
    }
}

/// Checks the parameters of `api` against the platform's orders; answers the order's number.
fn check(platform: &Platform, api: Api, params: &PayParams) -> Result<String, Refusal> {
    let (appid_field, ts_field, nonce_field, package_field, sign_field) = match api {
        Api::App => ("appid", "timestamp", "noncestr", "prepayid", "sign"),
        _ => ("appId", "timeStamp", "nonceStr", "package", "paySign"),
    };
    fn given<'v>(value: &'v Option<String>, field: &'static str) -> Result<&'v str, Refusal> {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| refuse(field, format!("{field} is missing 缺少参数")))
    }
    if api == Api::App {
        let partnerid = given(&params.partnerid, "partnerid")?;
        if partnerid != platform.mchid {
            return Err(refuse(
                "partnerid",
                format!(
                    "partnerid {partnerid} is not the merchant {}",
                    platform.mchid
                ),
            ));
        }
        let package = given(&params.app_package, "package")?;
        if package != "Sign=WXPay" {
            return Err(refuse(
                "package",
                format!("package {package:?} is not \"Sign=WXPay\""),
            ));
        }
    } else {
        let sign_type = given(&params.sign_type, "signType")?;
        if sign_type != "RSA" {
            return Err(refuse(
                "signType",
                format!(
                    "signType {sign_type:?} is not \"RSA\" (APIv3 pay parameters are signed with RSA)"
                ),
            ));
        }
    }
    let package = given(&params.package_line, package_field)?;
    let prepay_id = if api == Api::App {
        package
    } else {
        package.strip_prefix("prepay_id=").ok_or_else(|| {
            refuse(
                package_field,
                format!("package {package:?} is not prepay_id=…"),
            )
        })?
    };
    let (out_trade_no, order_appids) = {
        let payments = platform.payments();
        let order = payments.order_by_prepay_id(prepay_id).ok_or_else(|| {
            refuse(
                package_field,
                format!("prepay_id {prepay_id} names no order 预支付交易单不存在"),
            )
        })?;
        let wanted = if api == Api::App { "APP" } else { "JSAPI" };
        if order.spec.trade_type != wanted {
            return Err(refuse(
                package_field,
                format!(
                    "prepay_id {prepay_id} is of a {} order, not {wanted}",
                    order.spec.trade_type
                ),
            ));
        }
        order.payable(clock::now()).map_err(|error| {
            refuse(
                package_field,
                format!(
                    "prepay_id {prepay_id} cannot be paid: {} (expired after two hours, or past time_expire, paid or closed)",
                    ApiError::from(error).message
                ),
            )
        })?;
        let mut appids = vec![order.spec.appid.clone()];
        if let Some(sub_appid) = order
            .spec
            .sub_merchant
            .as_ref()
            .and_then(|s| s.sub_appid.clone())
        {
            appids.push(sub_appid);
        }
        (order.spec.out_trade_no.clone(), appids)
    };
    // A mini program's `wx.requestPayment` has no appId: it is the mini program's own.
    let appid = match (&params.appid, api) {
        (None, Api::MiniProgram) => order_appids[0].clone(),
        _ => given(&params.appid, appid_field)?.to_owned(),
    };
    if !order_appids.contains(&appid) {
        return Err(refuse(
            appid_field,
            format!(
                "{appid_field} {appid} is not the order's app ({}) 商户号与appid不匹配",
                order_appids[0]
            ),
        ));
    }
    let timestamp = given(&params.timestamp, ts_field)?;
    if !(1..=10).contains(&timestamp.len()) || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(
            ts_field,
            format!("{ts_field} {timestamp:?} is not unix seconds"),
        ));
    }
    let nonce = given(&params.nonce, nonce_field)?;
    if nonce.chars().count() > 32 {
        return Err(refuse(
            nonce_field,
            format!("{nonce_field} is longer than 32 characters"),
        ));
    }
    let sign = given(&params.sign, sign_field)?;
    let message = format!("{appid}\n{timestamp}\n{nonce}\n{package}\n");
    let verified = STANDARD
        .decode(sign)
        .is_ok_and(|signature| platform.merchant.verify(message.as_bytes(), &signature));
    if !verified {
        return Err(Refusal {
            field: sign_field,
            reason: format!(
                "{sign_field} does not verify with the merchant's certificate 支付验证签名失败"
            ),
            expected_message: Some(message),
        });
    }
    Ok(out_trade_no)
}

/// Checks, notes the verdict in the journal, and answers.
fn answer(platform: &Platform, headers: &HeaderMap, api: Api, params: &PayParams) -> Response {
    let checked = check(platform, api, params);
    let shown = params.package_line.clone().unwrap_or_default();
    let (status, verdict, body) = match &checked {
        Ok(no) => {
            let via = if api == Api::App { "" } else { "?via=bridge" };
            let cashier_url = format!(
                "http://{}/sandbox/cashier/{}{via}",
                crate::routes::request_host(headers),
                query_value(no)
            );
            (
                StatusCode::OK,
                Verdict::Ok,
                json!({ "ok": true, "out_trade_no": no, "cashier_url": cashier_url }),
            )
        }
        Err(refusal) => {
            let verdict = match &refusal.expected_message {
                Some(expected) => Verdict::SignError {
                    issue: refusal.reason.clone(),
                    sign_information: json!({
                        "api": api.name(),
                        "signed": refusal.field,
                        "sign_type": params.sign_type,
                    }),
                    expected_message: expected.clone(),
                },
                None => Verdict::Error {
                    code: "PARAM_ERROR".into(),
                    message: refusal.reason.clone(),
                    field: Some(refusal.field.into()),
                },
            };
            (
                StatusCode::BAD_REQUEST,
                verdict,
                json!({ "ok": false, "field": refusal.field, "reason": refusal.reason }),
            )
        }
    };
    platform.journal.record(Entry {
        at: clock::now(),
        method: api.name().into(),
        url: shown,
        status: status.as_u16(),
        verdict,
    });
    (
        status,
        [
            (CONTENT_TYPE, "application/json"),
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// What the bridge script posts: the call and its parameters as given.
#[derive(Deserialize)]
pub(super) struct JsapiForm {
    api: String,
    #[serde(rename = "appId")]
    app_id: Option<String>,
    #[serde(rename = "timeStamp")]
    time_stamp: Option<String>,
    #[serde(rename = "nonceStr")]
    nonce_str: Option<String>,
    package: Option<String>,
    #[serde(rename = "signType")]
    sign_type: Option<String>,
    #[serde(rename = "paySign")]
    pay_sign: Option<String>,
}

/// `POST /sandbox/bridge/check` (form-encoded, as the bridge script sends it).
pub(super) async fn check_jsapi(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    Form(form): Form<JsapiForm>,
) -> Response {
    let api = match form.api.as_str() {
        "getBrandWCPayRequest" => Api::Jsapi,
        "requestPayment" => Api::MiniProgram,
        other => {
            return (
                StatusCode::BAD_REQUEST,
                [(ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
                format!("api {other:?} is not getBrandWCPayRequest or requestPayment"),
            )
                .into_response();
        }
    };
    let params = PayParams {
        appid: form.app_id,
        timestamp: form.time_stamp,
        nonce: form.nonce_str,
        package_line: form.package,
        sign_type: form.sign_type,
        sign: form.pay_sign,
        ..PayParams::default()
    };
    answer(&platform, &headers, api, &params)
}

/// An APP's `PayReq`, as the SDK's `AppPayParams` serialises it.
#[derive(Deserialize)]
struct AppForm {
    appid: Option<String>,
    partnerid: Option<String>,
    prepayid: Option<String>,
    package: Option<String>,
    noncestr: Option<String>,
    timestamp: Option<String>,
    sign: Option<String>,
}

/// `POST /sandbox/app/check` with the APP's pay parameters as JSON.
pub(super) async fn check_app(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: AppForm = match serde_json::from_slice(&body) {
        Ok(form) => form,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                [
                    (CONTENT_TYPE, "application/json"),
                    (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
                ],
                json!({ "ok": false, "field": null, "reason": format!("the body is not the pay parameters as JSON: {error}") })
                    .to_string(),
            )
                .into_response();
        }
    };
    let params = PayParams {
        appid: form.appid,
        timestamp: form.timestamp,
        nonce: form.noncestr,
        package_line: form.prepayid,
        sign: form.sign,
        partnerid: form.partnerid,
        app_package: form.package,
        ..PayParams::default()
    };
    answer(&platform, &headers, Api::App, &params)
}
