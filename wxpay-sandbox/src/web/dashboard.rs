//! `GET /sandbox/`: what the platform holds and what it saw. The merchant and its keys'
//! serials (public material only), orders and refunds with their states and what can be done
//! to them, every notification with each delivery attempt and the receiver's answer, and the
//! last requests with the verdict on each — `SIGN_ERROR` with the platform's
//! `sign_information` beside the message the sandbox expected, `PARAM_ERROR` with the field.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{esc, query_value, yuan};
use crate::clock::{self, BEIJING};
use crate::error::ApiError;
use crate::journal::{Entry, Verdict};
use crate::payments::TradeState;
use crate::state::Platform;
use crate::{KeyMode, notify};

#[derive(Deserialize)]
pub(super) struct DashboardQuery {
    done: Option<String>,
}

/// `GET /sandbox/[?done=…]`
pub(super) async fn page(
    State(platform): State<Arc<Platform>>,
    Query(query): Query<DashboardQuery>,
) -> Response {
    let mut body = String::new();
    body.push_str(
        "<h1>Dashboard</h1>\n<nav aria-label=\"Sections\"><p class=\"actions\">\
         <a class=\"button\" href=\"#merchant\">Merchant</a> <a class=\"button\" href=\"#orders\">Orders</a> \
         <a class=\"button\" href=\"#refunds\">Refunds</a> <a class=\"button\" href=\"#notifications\">Notifications</a> \
         <a class=\"button\" href=\"#requests\">Requests</a> <a class=\"button\" href=\"/sandbox/\">Refresh</a></p></nav>\n",
    );
    if let Some(done) = query.done.filter(|d| !d.is_empty()) {
        let _ = writeln!(
            body,
            "<p class=\"notice\" role=\"status\" id=\"done\">{}</p>",
            esc(&done)
        );
    }
    merchant(&platform, &mut body);
    orders(&platform, &mut body);
    refunds(&platform, &mut body);
    notifications(&platform, &mut body);
    requests(&platform, &mut body);
    super::html_page(
        "Dashboard — wxpay sandbox",
        "<strong>wxpay sandbox</strong> · a local WeChat Pay APIv3 platform",
        &body,
    )
}

fn fact(body: &mut String, name: &str, value: &str) {
    let _ = writeln!(body, "<dt>{}</dt><dd>{value}</dd>", esc(name));
}

fn merchant(platform: &Platform, body: &mut String) {
    let now = clock::monotonic();
    body.push_str("<section aria-labelledby=\"merchant\">\n<h2 id=\"merchant\">Merchant</h2>\n<dl class=\"facts\">\n");
    fact(
        body,
        "mchid",
        &format!("<code>{}</code>", esc(&platform.mchid)),
    );
    fact(
        body,
        "Merchant certificate serial",
        &format!(
            "<code id=\"merchant-serial\">{}</code>",
            esc(&platform.merchant.serial)
        ),
    );
    let mode = match platform.key_mode() {
        KeyMode::Certificate => "platform certificates",
        KeyMode::PublicKey => "WeChat Pay public key",
        KeyMode::Both => "public key and certificates (migration)",
    };
    fact(body, "How clients know the platform", mode);
    let certificates = platform.keys.certificates(now);
    let listed = if certificates.is_empty() {
        "none".to_owned()
    } else {
        certificates
            .iter()
            .map(|c| format!("<code>{}</code>", esc(&c.serial)))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    fact(body, "Platform certificates listed", &listed);
    if let Some(id) = platform.keys.public_key_id() {
        fact(body, "Public key id", &format!("<code>{}</code>", esc(id)));
    }
    fact(
        body,
        "Responses signed under",
        &format!("<code>{}</code>", esc(&platform.keys.response_serial(now))),
    );
    let notify_url = match platform.notifier.url() {
        Some(url) => format!("<code>{}</code>", esc(&url)),
        None => "none: notifications are not sent (<code>PUT /sandbox/notify-url</code> sets one)"
            .to_owned(),
    };
    fact(body, "Notify URL", &notify_url);
    fact(
        body,
        "Keys not shown",
        "the merchant private key (the platform never has it) and the APIv3 key",
    );
    body.push_str("</dl>\n</section>\n");
}

fn action_button(id: &str, action: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/sandbox/actions\"><input type=\"hidden\" name=\"id\" value=\"{id}\">\
         <button type=\"submit\" name=\"action\" value=\"{action}\" aria-label=\"{label} {id}\">{label}</button></form>",
        id = esc(id),
    )
}

fn orders(platform: &Platform, body: &mut String) {
    let payments = platform.payments();
    body.push_str("<section aria-labelledby=\"orders\">\n<h2 id=\"orders\">Orders</h2>\n");
    let mut rows = String::new();
    for order in payments.orders() {
        let spec = &order.spec;
        let no = &spec.out_trade_no;
        let mut actions = format!(
            "<a class=\"button\" href=\"/sandbox/cashier/{}\" aria-label=\"Cashier of {no_e}\">Cashier</a>",
            esc(&query_value(no)),
            no_e = esc(no)
        );
        if order.state == TradeState::NotPay {
            actions.push_str(&action_button(no, "pay", "Pay"));
            actions.push_str(&action_button(no, "expire", "Expire"));
        }
        let note = order
            .payer_note
            .as_deref()
            .filter(|_| order.state == TradeState::NotPay)
            .map(|n| format!("<br><span class=\"note\">payer {}</span>", esc(n)))
            .unwrap_or_default();
        let _ = writeln!(
            rows,
            "<tr id=\"order-{no_e}\"><td><code>{no_e}</code></td><td>{kind}</td><td lang=\"zh-CN\">{desc}</td>\
             <td>{amount}</td><td><span class=\"state-{state}\" data-state=\"{state}\">{state}</span>{note}</td>\
             <td>{created}</td><td><div class=\"actions\">{actions}</div></td></tr>",
            no_e = esc(no),
            kind = spec.trade_type,
            desc = esc(&spec.description),
            amount = yuan(spec.total),
            state = order.state.as_str(),
            created = time_of(order.created),
        );
    }
    table(
        body,
        "orders-table",
        "Orders, newest first",
        &[
            "out_trade_no",
            "Type",
            "Description",
            "Amount",
            "State",
            "Placed",
            "Actions",
        ],
        &rows,
        "No orders yet: place one with the API (JSAPI, APP, H5 or Native).",
    );
    body.push_str("</section>\n");
}

fn refunds(platform: &Platform, body: &mut String) {
    let payments = platform.payments();
    body.push_str("<section aria-labelledby=\"refunds\">\n<h2 id=\"refunds\">Refunds</h2>\n");
    let mut rows = String::new();
    for refund in payments.refunds() {
        let actions = if refund.status == crate::payments::RefundStatus::Abnormal {
            String::new()
        } else {
            action_button(&refund.spec.out_refund_no, "abnormal", "Make abnormal")
        };
        let _ = writeln!(
            rows,
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{} of {}</td><td>{}</td><td>{}</td></tr>",
            esc(&refund.spec.out_refund_no),
            esc(&refund.out_trade_no),
            yuan(refund.spec.refund),
            yuan(refund.spec.total),
            refund.status.as_str(),
            actions,
        );
    }
    table(
        body,
        "refunds-table",
        "Refunds, newest first",
        &[
            "out_refund_no",
            "out_trade_no",
            "Refund",
            "Status",
            "Actions",
        ],
        &rows,
        "No refunds yet.",
    );
    body.push_str("</section>\n");
}

fn notifications(platform: &Platform, body: &mut String) {
    body.push_str(
        "<section aria-labelledby=\"notifications\">\n<h2 id=\"notifications\">Notifications</h2>\n",
    );
    let mut rows = String::new();
    for delivery in platform.notifier.deliveries().iter().rev() {
        let attempts = delivery
            .attempts
            .iter()
            .enumerate()
            .map(|(i, status)| match status {
                Some(status) => format!("{}: HTTP {status}", i + 1),
                None => format!("{}: no answer", i + 1),
            })
            .collect::<Vec<_>>()
            .join("<br>");
        let outcome = match (delivery.acknowledged, delivery.finished) {
            (true, _) => "<span class=\"ok\">acknowledged</span>",
            (false, true) => "<span class=\"bad\">given up</span>",
            (false, false) => "retrying",
        };
        let _ = writeln!(
            rows,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{outcome}</td></tr>",
            esc(&delivery.notification_id),
            esc(&delivery.event_type),
            delivery.mode.as_str(),
            if attempts.is_empty() {
                "pending".to_owned()
            } else {
                attempts
            },
        );
    }
    table(
        body,
        "notifications-table",
        &format!(
            "Each delivery, newest first: up to {} attempts, each with the receiver's answer",
            notify::NOTIFY_ATTEMPTS
        ),
        &[
            "Notification",
            "Event",
            "Mode",
            "Attempts: receiver's answer",
            "Outcome",
        ],
        &rows,
        "No notifications yet.",
    );
    body.push_str("</section>\n");
}

fn requests(platform: &Platform, body: &mut String) {
    body.push_str(
        "<section aria-labelledby=\"requests\">\n<h2 id=\"requests\">Last requests</h2>\n",
    );
    let mut rows = String::new();
    for entry in platform.journal.newest_first() {
        let _ = writeln!(
            rows,
            "<tr class=\"request\"><td>{}</td><td><code>{}</code> <code>{}</code></td><td>{}</td><td>{}</td></tr>",
            time_of(entry.at),
            esc(&entry.method),
            esc(&entry.url),
            entry.status,
            verdict(&entry),
        );
    }
    table(
        body,
        "requests-table",
        &format!(
            "The last {} requests to the platform API and front-end checks, newest first",
            crate::journal::JOURNAL_LEN
        ),
        &["Time", "Request", "Status", "Verdict"],
        &rows,
        "No requests yet.",
    );
    body.push_str("</section>\n");
}

/// A message with its line ends shown, so a missing or extra `\n` is visible.
fn lines(message: &str) -> String {
    esc(message).replace('\n', "\\n\n")
}

fn verdict(entry: &Entry) -> String {
    match &entry.verdict {
        Verdict::Ok => "<span class=\"ok\">signature verified, answered</span>".to_owned(),
        Verdict::SignError {
            issue,
            sign_information,
            expected_message,
        } => {
            let info = serde_json::to_string_pretty(sign_information).unwrap_or_default();
            format!(
                "<span class=\"bad\">SIGN_ERROR</span>: {}\n<details><summary>What was signed, and what was expected</summary>\
                 <p>What the platform reports (<code>sign_information</code>):</p><pre>{}</pre>\
                 <p>The message the sandbox expected to be signed:</p><pre class=\"expected\">{}</pre></details>",
                esc(issue),
                esc(&info),
                lines(expected_message),
            )
        }
        Verdict::Error {
            code,
            message,
            field,
        } => {
            let field = field
                .as_deref()
                .map(|f| format!(" field <code class=\"field\">{}</code>:", esc(f)))
                .unwrap_or_default();
            format!(
                "<span class=\"bad\">{}</span>{field} {}",
                esc(code),
                esc(message)
            )
        }
    }
}

fn table(body: &mut String, id: &str, caption: &str, headers: &[&str], rows: &str, empty: &str) {
    if rows.is_empty() {
        let _ = writeln!(body, "<p class=\"note\" id=\"{id}\">{}</p>", esc(empty));
        return;
    }
    let _ = write!(
        body,
        "<div class=\"table\" role=\"region\" aria-label=\"{caption}\" tabindex=\"0\">\n<table id=\"{id}\">\n<caption>{caption}</caption>\n<thead><tr>",
        caption = esc(caption),
    );
    for header in headers {
        let _ = write!(body, "<th scope=\"col\">{}</th>", esc(header));
    }
    let _ = write!(
        body,
        "</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</div>\n"
    );
}

/// `HH:MM:SS` in Beijing time.
fn time_of(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(BEIJING);
    format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second())
}

#[derive(Deserialize)]
pub(super) struct ActionForm {
    action: String,
    id: String,
}

/// `POST /sandbox/actions` with `action=pay|expire` and an order's number, or
/// `action=abnormal` and a refund's; back to the dashboard with what happened.
pub(super) async fn act(
    State(platform): State<Arc<Platform>>,
    Form(form): Form<ActionForm>,
) -> Response {
    let id = &form.id;
    let (done, section) = match form.action.as_str() {
        "pay" => match crate::routes::pay_order(&platform, id) {
            Ok(_) => (
                format!("Order {id} paid; TRANSACTION.SUCCESS notified."),
                "orders",
            ),
            Err(error) => (
                format!("Order {id} not paid: {}", ApiError::from(error).message),
                "orders",
            ),
        },
        "expire" => match platform.payments().expire(id) {
            Ok(_) => (format!("Order {id} expired unpaid (CLOSED)."), "orders"),
            Err(error) => (
                format!("Order {id} not expired: {}", ApiError::from(error).message),
                "orders",
            ),
        },
        "abnormal" => match crate::routes::make_refund_abnormal(&platform, id) {
            Ok(_) => (
                format!("Refund {id} is ABNORMAL; REFUND.ABNORMAL notified."),
                "refunds",
            ),
            Err(error) => (
                format!("Refund {id} unchanged: {}", ApiError::from(error).message),
                "refunds",
            ),
        },
        other => (format!("No such action: {other}"), "orders"),
    };
    Redirect::to(&format!("/sandbox/?done={}#{section}", query_value(&done))).into_response()
}
