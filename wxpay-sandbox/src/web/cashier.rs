//! The cashier: the page where the payer acts. One page serves every way a payment starts —
//! a Native order's QR code, an H5 order's `h5_url`, and the JSAPI bridge (inside a frame the
//! bridge opens) — with the order and three buttons: pay, cancel, or fail (insufficient
//! balance). Paying is the control API's `POST /sandbox/orders/{out_trade_no}/pay`: the order
//! becomes `SUCCESS` and `TRANSACTION.SUCCESS` is notified. Cancelling and failing leave the
//! order unpaid (the dashboard shows what the payer did).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{esc, html_page, query_value, yuan};
use crate::clock;
use crate::error::ApiError;
use crate::payments::{Order, PayError};
use crate::routes::PathParam;
use crate::state::Platform;

/// A Native order's `code_url`, made from its `prepay_id`.
pub(crate) fn code_url(prepay_id: &str) -> String {
    let code = prepay_id
        .get(prepay_id.len().saturating_sub(12)..)
        .unwrap_or_default();
    format!("weixin://wxpay/bizpayurl?pr={code}")
}

/// How the payer came to the cashier, which decides where the answer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// Opened directly (the dashboard, a Native QR code): the result is a page.
    Page,
    /// In the frame the bridge script opened: the result is also posted to the shop's page.
    Bridge,
    /// An H5 order's `h5_url`: the payer goes back to the merchant's `redirect_url`.
    H5,
}

impl Via {
    fn parse(value: Option<&str>) -> Via {
        match value {
            Some("bridge") => Via::Bridge,
            Some("h5") => Via::H5,
            _ => Via::Page,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Via::Page => "page",
            Via::Bridge => "bridge",
            Via::H5 => "h5",
        }
    }
}

#[derive(Deserialize)]
pub(super) struct CashierQuery {
    via: Option<String>,
}

/// `GET /sandbox/cashier/{out_trade_no}[?via=bridge]`: the order and the payer's buttons.
pub(super) async fn page(
    State(platform): State<Arc<Platform>>,
    PathParam(no): PathParam,
    Query(query): Query<CashierQuery>,
) -> Response {
    let payments = platform.payments();
    match payments.any_order(&no) {
        Some(order) => render(&platform, order, Via::parse(query.via.as_deref()), None),
        None => not_found(&no),
    }
}

#[derive(Deserialize)]
pub(super) struct H5Query {
    prepay_id: Option<String>,
    redirect_url: Option<String>,
}

/// `GET /sandbox/h5/checkmweb?prepay_id=…&package=…[&redirect_url=…]`: where an H5 order's
/// `h5_url` leads (the merchant appends `redirect_url`, as with the platform's).
pub(super) async fn h5(
    State(platform): State<Arc<Platform>>,
    Query(query): Query<H5Query>,
) -> Response {
    let prepay_id = query.prepay_id.unwrap_or_default();
    let payments = platform.payments();
    match payments.order_by_prepay_id(&prepay_id) {
        Some(order) if order.spec.trade_type == "MWEB" => {
            render(&platform, order, Via::H5, query.redirect_url.as_deref())
        }
        _ => not_found(&format!("prepay_id={prepay_id}")),
    }
}

/// A `redirect_url` the cashier may send the payer to: an absolute http(s) URL, nothing
/// a browser would run (`javascript:`) and no whitespace or control characters.
fn redirect_target(url: Option<&str>) -> Result<Option<&str>, String> {
    let Some(url) = url.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if !scheme_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "redirect_url {url:?} is not an http(s) URL; the payer stays here"
        ));
    }
    Ok(Some(url))
}

fn bar() -> String {
    "<strong>wxpay sandbox</strong> · <a href=\"/sandbox/\">Dashboard</a>".to_owned()
}

fn not_found(what: &str) -> Response {
    let body = format!(
        "<div class=\"card\"><h1>No such order</h1><p role=\"alert\">The sandbox has no order \
         <code>{}</code>.</p><p><a href=\"/sandbox/\">Back to the dashboard</a></p></div>",
        esc(what)
    );
    (
        StatusCode::NOT_FOUND,
        html_page("No such order", &bar(), &body),
    )
        .into_response()
}

/// The cashier page of `order`.
fn render(platform: &Platform, order: &Order, via: Via, redirect_url: Option<&str>) -> Response {
    let spec = &order.spec;
    let no = &spec.out_trade_no;
    let mut body = String::new();
    let _ = write!(
        body,
        "<div class=\"card\">\n<h1 id=\"cashier-title\">WeChat Pay <span lang=\"zh-CN\">微信支付</span></h1>\n\
         <p class=\"amount\" id=\"amount\" aria-label=\"Amount {amount}\">{amount}</p>\n\
         <dl class=\"facts\">\n<dt>Merchant</dt><dd>{mchid}</dd>\n<dt>Description</dt><dd lang=\"zh-CN\">{desc}</dd>\n\
         <dt>Order</dt><dd><code>{no}</code></dd>\n<dt>Type</dt><dd>{trade_type}</dd>\n\
         <dt>State</dt><dd id=\"state\" class=\"state-{state}\">{state} <span lang=\"zh-CN\">{state_desc}</span></dd>\n</dl>\n",
        amount = yuan(spec.total),
        mchid = esc(spec
            .sub_merchant
            .as_ref()
            .map_or(platform.mchid.as_str(), |s| s.sub_mchid.as_str())),
        desc = esc(&spec.description),
        no = esc(no),
        trade_type = match spec.trade_type {
            "MWEB" => "H5 (MWEB)",
            "NATIVE" => "Native",
            other => other,
        },
        state = order.state.as_str(),
        state_desc = order.state.desc(),
    );
    if spec.trade_type == "NATIVE" {
        let code_url = code_url(&order.prepay_id);
        let _ = write!(
            body,
            "<figure>\n<img class=\"qr\" src=\"/sandbox/cashier/{no_q}/qr.svg\" alt=\"QR code of {code}\" width=\"256\" height=\"256\">\n\
             <figcaption>The order's <code>code_url</code>, <code>{code}</code>: a payer scans it in WeChat; \
             here you choose below what the payer does.</figcaption>\n</figure>\n",
            no_q = esc(&query_value(no)),
            code = esc(&code_url),
        );
    }
    let redirect = redirect_target(redirect_url);
    if let Err(problem) = &redirect {
        let _ = writeln!(
            body,
            "<p class=\"notice\" role=\"alert\">{}</p>",
            esc(problem)
        );
    }
    match order.payable(clock::now()) {
        Ok(()) => {
            let _ = write!(
                body,
                "<form method=\"post\" action=\"/sandbox/cashier/{no_q}\">\n\
                 <input type=\"hidden\" name=\"via\" value=\"{via}\">\n",
                no_q = esc(&query_value(no)),
                via = via.as_str(),
            );
            if let Ok(Some(url)) = redirect {
                let _ = writeln!(
                    body,
                    "<input type=\"hidden\" name=\"redirect_url\" value=\"{}\">",
                    esc(url)
                );
            }
            let _ = write!(
                body,
                "<fieldset style=\"border:0;padding:0;margin:1rem 0 0\">\n\
                 <legend>What the payer does <span lang=\"zh-CN\">付款人的操作</span></legend>\n\
                 <div class=\"actions stack\">\n\
                 <button type=\"submit\" class=\"primary\" id=\"pay\" name=\"action\" value=\"pay\">Pay {amount} <span lang=\"zh-CN\">确认支付</span></button>\n\
                 <button type=\"submit\" id=\"cancel\" name=\"action\" value=\"cancel\">Cancel <span lang=\"zh-CN\">取消支付</span></button>\n\
                 <button type=\"submit\" id=\"fail\" name=\"action\" value=\"fail\">Fail: insufficient balance <span lang=\"zh-CN\">余额不足</span></button>\n\
                 </div>\n</fieldset>\n</form>\n",
                amount = yuan(spec.total),
            );
        }
        Err(error) => {
            let _ = writeln!(
                body,
                "<p class=\"notice\" role=\"status\" id=\"unpayable\">This order cannot be paid now: {}.</p>",
                esc(&ApiError::from(error).message)
            );
        }
    }
    body.push_str("</div>\n");
    html_page(
        &format!("Pay {} — wxpay sandbox", yuan(spec.total)),
        &bar(),
        &body,
    )
}

/// `GET /sandbox/cashier/{out_trade_no}/qr.svg`: a Native order's `code_url` as a QR code.
pub(super) async fn qr(
    State(platform): State<Arc<Platform>>,
    PathParam(no): PathParam,
) -> Response {
    let code_url = {
        let payments = platform.payments();
        match payments.any_order(&no) {
            Some(order) if order.spec.trade_type == "NATIVE" => code_url(&order.prepay_id),
            _ => return (StatusCode::NOT_FOUND, "no Native order of that number").into_response(),
        }
    };
    match qrcode::QrCode::new(code_url.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(256, 256)
                .quiet_zone(true)
                .build();
            (
                [(CONTENT_TYPE, "image/svg+xml"), (CACHE_CONTROL, "no-store")],
                svg,
            )
                .into_response()
        }
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the QR code cannot be made: {error}"),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct CashierForm {
    action: String,
    via: Option<String>,
    redirect_url: Option<String>,
}

/// What became of the payer's action, as the front end's callbacks name it.
struct Outcome {
    /// `ok`, `cancel` or `fail`.
    result: &'static str,
    heading: &'static str,
    detail: String,
}

/// `POST /sandbox/cashier/{out_trade_no}` with `action=pay|cancel|fail`: the payer acts.
pub(super) async fn act(
    State(platform): State<Arc<Platform>>,
    PathParam(no): PathParam,
    Form(form): Form<CashierForm>,
) -> Response {
    let via = Via::parse(form.via.as_deref());
    let outcome = match form.action.as_str() {
        "pay" => {
            match payable(&platform, &no).and_then(|()| crate::routes::pay_order(&platform, &no)) {
                Ok(paid) => Outcome {
                    result: "ok",
                    heading: "Payment succeeded 支付成功",
                    detail: format!(
                        "transaction_id {}; TRANSACTION.SUCCESS goes to the notify URL.",
                        paid["transaction_id"].as_str().unwrap_or_default()
                    ),
                },
                Err(error) => failed(error),
            }
        }
        "cancel" => match platform
            .payments()
            .note_payer(&no, "cancelled by the payer".into())
        {
            Ok(()) => Outcome {
                result: "cancel",
                heading: "Payment cancelled 已取消支付",
                detail: "The order stays unpaid (NOTPAY).".into(),
            },
            Err(error) => failed(error),
        },
        "fail" => {
            let reason = "余额不足 (insufficient balance)";
            match platform
                .payments()
                .note_payer(&no, format!("failed: {reason}"))
            {
                Ok(()) => Outcome {
                    result: "fail",
                    heading: "Payment failed 支付失败",
                    detail: format!("{reason}. The order stays unpaid (NOTPAY)."),
                },
                Err(error) => failed(error),
            }
        }
        other => {
            return (
                StatusCode::BAD_REQUEST,
                format!("action {other:?} is not pay, cancel or fail"),
            )
                .into_response();
        }
    };
    if via == Via::H5
        && let Ok(Some(url)) = redirect_target(form.redirect_url.as_deref())
    {
        // As the platform does: back to the merchant's page, which must query the order.
        return Redirect::to(url).into_response();
    }
    result_page(&no, via, &outcome)
}

/// The order can still be paid by a payer now (the control API pays an order regardless of
/// its `prepay_id`'s age; a payer cannot).
fn payable(platform: &Platform, no: &str) -> Result<(), PayError> {
    let payments = platform.payments();
    payments
        .any_order(no)
        .ok_or(PayError::OrderNotExist)?
        .payable(clock::now())
}

fn failed(error: PayError) -> Outcome {
    Outcome {
        result: "fail",
        heading: "Payment failed 支付失败",
        detail: ApiError::from(error).message,
    }
}

fn result_page(no: &str, via: Via, outcome: &Outcome) -> Response {
    let class = if outcome.result == "ok" { "ok" } else { "bad" };
    let mut body = format!(
        "<div class=\"card\" role=\"status\">\n<h1 id=\"result\" class=\"{class}\" data-result=\"{result}\">{heading}</h1>\n\
         <p>{detail}</p>\n<p><a href=\"/sandbox/cashier/{no_q}\">The order</a> · <a href=\"/sandbox/\">Dashboard</a></p>\n</div>\n",
        result = outcome.result,
        heading = esc(outcome.heading),
        detail = esc(&outcome.detail),
        no_q = esc(&query_value(no)),
    );
    if via == Via::Bridge {
        // The bridge script in the shop's page waits for this; `</` is escaped so the JSON
        // cannot end the script element.
        let message = json!({
            "wxpaySandbox": true,
            "result": outcome.result,
            "reason": outcome.detail,
        })
        .to_string()
        .replace("</", "<\\/");
        let _ = writeln!(
            body,
            "<script>window.parent.postMessage({message}, \"*\");</script>"
        );
    }
    html_page(outcome.heading, &bar(), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_only_to_web_pages() {
        assert_eq!(redirect_target(None), Ok(None));
        assert_eq!(redirect_target(Some("")), Ok(None));
        assert_eq!(
            redirect_target(Some("http://127.0.0.1:8080/done?o=1")),
            Ok(Some("http://127.0.0.1:8080/done?o=1"))
        );
        for bad in [
            "javascript:alert(1)",
            "//evil",
            "http://a b",
            "data:text/html,x",
        ] {
            assert!(redirect_target(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            code_url("wx123456789012345678"),
            "weixin://wxpay/bizpayurl?pr=789012345678"
        );
    }
}
