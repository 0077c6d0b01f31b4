//! The sandbox for people: a dashboard of what the platform holds and saw, cashier pages for
//! each way a payment starts (Native QR code, H5), and a script that stands in for WeChat's
//! JSAPI bridge and mini-program API in an ordinary browser. Like the control API these live
//! under `/sandbox/…`, apart from the platform API: not authenticated, not signed.
//!
//! - `GET /sandbox/`: the dashboard ([`dashboard`]); `POST /sandbox/actions` its buttons.
//! - `GET|POST /sandbox/cashier/{out_trade_no}`: the cashier ([`cashier`]);
//!   `GET /sandbox/cashier/{out_trade_no}/qr.svg` a Native order's `code_url` as a QR code;
//!   `GET /sandbox/h5/checkmweb?prepay_id=…` where an H5 order's `h5_url` leads.
//! - `GET /sandbox/bridge.js`, `POST /sandbox/bridge/check`, `POST /sandbox/app/check`: the
//!   front-end bridge and the checks of pay parameters ([`bridge`]).
//!
//! Pages are rendered on the server, need no JavaScript but the bridge's, and show serials and
//! public material only: the platform holds no merchant private key, and the APIv3 key is never
//! written into a page.

mod bridge;
mod cashier;
mod dashboard;

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::state::Platform;

pub(crate) use cashier::code_url;

/// The pages and the bridge as routes of the sandbox's own (unsigned) API.
pub(crate) fn routes() -> Router<Arc<Platform>> {
    Router::new()
        .route(
            "/sandbox",
            get(|| async { Redirect::permanent("/sandbox/") }),
        )
        .route("/sandbox/", get(dashboard::page))
        .route("/sandbox/actions", post(dashboard::act))
        .route(
            "/sandbox/cashier/{out_trade_no}",
            get(cashier::page).post(cashier::act),
        )
        .route("/sandbox/cashier/{out_trade_no}/qr.svg", get(cashier::qr))
        .route("/sandbox/h5/checkmweb", get(cashier::h5))
        .route("/sandbox/bridge.js", get(bridge::script))
        .route(
            "/sandbox/bridge/check",
            post(bridge::check_jsapi).options(bridge::preflight),
        )
        .route(
            "/sandbox/app/check",
            post(bridge::check_app).options(bridge::preflight),
        )
}

/// Text made safe to place in HTML, in element content and in quoted attributes.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A query-string value, percent-encoded.
pub(crate) fn query_value(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Fen as yuan: `¥1.00`.
pub(crate) fn yuan(fen: u64) -> String {
    format!("¥{}.{:02}", fen / 100, fen % 100)
}

/// The style every page shares: readable at phone width, visible focus, no web fonts.
const STYLE: &str = r#"
:root { color-scheme: light; --green: #07c160; --ink: #1a1a1a; --muted: #555; --line: #d9d9d9; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Noto Sans CJK SC", "PingFang SC", sans-serif; color: var(--ink); background: #f4f5f7; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
header.bar { background: #2e2e2e; color: #fff; padding: .75rem 1rem; }
header.bar a { color: #fff; }
h1 { font-size: 1.5rem; margin: .25rem 0; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
section > h2:first-child { margin-top: 0; }
section, .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: 1rem 0; }
.card { max-width: 28rem; margin: 1rem auto; }
dl.facts { display: grid; grid-template-columns: minmax(6rem, max-content) 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
caption { text-align: left; color: var(--muted); padding-bottom: .25rem; }
th, td { text-align: left; vertical-align: top; padding: .4rem .5rem; border-bottom: 1px solid var(--line); }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; overflow-wrap: anywhere; }
pre { white-space: pre-wrap; background: #f6f6f6; border: 1px solid var(--line); padding: .5rem; margin: .25rem 0; }
.amount { font-size: 2rem; font-weight: 600; text-align: center; margin: .5rem 0; }
.qr { display: block; width: min(16rem, 80vw); height: auto; margin: .5rem auto; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; }
.actions.stack { flex-direction: column; }
button, .button { font: inherit; min-height: 2.75rem; padding: .5rem 1rem; border-radius: 6px; border: 1px solid #999; background: #fff; color: var(--ink); cursor: pointer; text-decoration: none; display: inline-flex; flex-wrap: wrap; gap: .4em; align-items: center; justify-content: center; }
button.primary { background: var(--green); border-color: var(--green); color: #fff; font-weight: 600; }
td .actions button, td .actions .button { min-height: 2.25rem; padding: .25rem .6rem; }
:focus-visible { outline: 3px solid #1f6feb; outline-offset: 2px; }
.state-SUCCESS, .ok { color: #0a7a3c; font-weight: 600; }
.state-CLOSED, .bad { color: #b42318; font-weight: 600; }
.note { color: var(--muted); }
.notice { border-left: 4px solid #1f6feb; background: #eef4ff; padding: .5rem .75rem; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 1; }
@media (max-width: 40rem) { main { padding: .5rem; } }
@media (max-width: 20rem) { dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: .5rem; } }
"#;

/// A whole HTML page: `title` in `<title>`, `body` inside `<main id="main">`. Never cached:
/// every page shows the platform's state now.
pub(crate) fn html_page(title: &str, heading_bar: &str, body: &str) -> Response {
    let mut html = String::with_capacity(body.len() + STYLE.len() + 512);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">Skip to content</a>\n\
         <header class=\"bar\">{heading_bar}</header>\n<main id=\"main\">\n{body}\n</main>\n</body>\n</html>\n",
        title = esc(title),
    );
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(yuan(1), "¥0.01");
        assert_eq!(yuan(12345), "¥123.45");
        assert_eq!(
            query_value("http://a/b?c=d&e"),
            "http%3A%2F%2Fa%2Fb%3Fc%3Dd%26e"
        );
    }
}
