//! A tiny shop that takes WeChat Pay in an ordinary browser, against the sandbox.
//!
//! ```text
//! cargo run --example checkout
//! ```
//!
//! It starts a sandbox and a shop (axum) on 127.0.0.1 and prints both addresses. The shop sells
//! one item. Buying it places a JSAPI, Native or H5 order with the SDK and shows the order page:
//!
//! - **JSAPI**: the page loads the sandbox's `bridge.js`, which provides
//!   `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` and `wx.requestPayment` outside WeChat;
//!   the parameters the SDK signed are checked by the sandbox as WeChat checks them, and its
//!   cashier opens over the page.
//! - **Native**: the order's `code_url` and a link to the sandbox's cashier, which shows it as a
//!   QR code; the page waits for the payment.
//! - **H5**: a link to the order's `h5_url` (the sandbox's H5 cashier) with a `redirect_url`
//!   back to the order page.
//!
//! The shop receives `TRANSACTION.SUCCESS`, verified and decrypted by the SDK, and the order page
//! shows the order paid. The sandbox's dashboard shows the same from the platform's side.
//!
//! The browser tests (`tests/browser`) drive this very shop in headless Chromium.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use wxpay::apis::pay::transactions::{
    Amount, CreateH5Order, CreateH5OrderRequired, CreateH5OrderSceneInfo, CreateJsapiOrder,
    CreateJsapiOrderPayer, CreateJsapiOrderRequired, CreateNativeOrder, CreateNativeOrderRequired,
    QueryOrderByOutTradeNo, QueryOrderByOutTradeNoRequired,
};
use wxpay::notification::{Event, Reply};
use wxpay::{Client, ClientBuilder};
use wxpay_sandbox::{SANDBOX_APPID, SANDBOX_OPENID, Sandbox};

/// The one item the shop sells.
const ITEM: &str = "QQ公仔 (QQ doll)";
/// Its price in fen.
const PRICE: i64 = 1;
/// The notify URL orders name: the platform needs https. The sandbox delivers to the shop's
/// own receiver instead, which [`Shop::open`] tells it about.
const ORDER_NOTIFY_URL: &str = "https://shop.example.com/wxpay/notify";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let sandbox = Sandbox::start().await?;
    let shop = Shop::open(&sandbox, "127.0.0.1:0".parse()?).await?;
    println!("shop:      {}/", shop.url);
    println!("dashboard: {}/sandbox/", sandbox.base_url());
    println!("Open the shop in a browser and buy the item; Ctrl-C stops both.");
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}

/// How the buyer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkout {
    /// In WeChat's browser (or a mini program): the JSAPI bridge.
    Jsapi,
    /// A QR code on a computer's screen.
    Native,
    /// A phone's browser outside WeChat.
    H5,
}

impl Checkout {
    fn parse(name: &str) -> Option<Checkout> {
        match name {
            "jsapi" => Some(Checkout::Jsapi),
            "native" => Some(Checkout::Native),
            "h5" => Some(Checkout::H5),
            _ => None,
        }
    }
}

/// What the front end needs for an order, by checkout.
#[derive(Debug, Clone)]
enum FrontEnd {
    /// The signed `getBrandWCPayRequest` / `wx.requestPayment` parameters, as JSON.
    Jsapi(String),
    Native {
        code_url: String,
    },
    H5 {
        h5_url: String,
    },
}

#[derive(Debug, Clone)]
struct ShopOrder {
    front_end: FrontEnd,
    /// The transaction id of the `TRANSACTION.SUCCESS` received for it.
    paid: Option<String>,
}

struct ShopState {
    client: Client,
    sandbox_url: String,
    url: String,
    orders: Mutex<BTreeMap<String, ShopOrder>>,
}

impl ShopState {
    fn orders(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ShopOrder>> {
        self.orders.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running shop.
pub struct Shop {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    state: Arc<ShopState>,
    task: JoinHandle<()>,
}

impl Shop {
    /// Opens the shop on `addr` as the sandbox's merchant, and has the sandbox deliver
    /// notifications to it.
    pub async fn open(sandbox: &Sandbox, addr: SocketAddr) -> Result<Shop, BoxError> {
        // The sandbox hands out the WXPAY_* settings a real merchant would have.
        let client = ClientBuilder::from_settings(sandbox.settings())?.build()?;
        let listener = TcpListener::bind(addr).await?;
        let url = format!("http://{}", listener.local_addr()?);
        sandbox.set_notify_url(Some(&format!("{url}/wxpay/notify")))?;
        let state = Arc::new(ShopState {
            client,
            sandbox_url: sandbox.base_url().to_owned(),
            url: url.clone(),
            orders: Mutex::default(),
        });
        let app = Router::new()
            .route("/", get(home))
            .route("/orders", post(buy))
            .route("/orders/{no}", get(order_page))
            .route("/orders/{no}/state", get(order_state))
            .route("/wxpay/notify", post(notify))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("the shop stopped: {error}");
            }
        });
        Ok(Shop { url, state, task })
    }

    /// The transaction id of the `TRANSACTION.SUCCESS` the shop received for an order.
    pub fn notified(&self, out_trade_no: &str) -> Option<String> {
        self.state
            .orders()
            .get(out_trade_no)
            .and_then(|o| o.paid.clone())
    }

    /// The order's `trade_state` as the platform answers a query (`NOTPAY`, `SUCCESS`, …).
    pub async fn trade_state(&self, out_trade_no: &str) -> Result<String, BoxError> {
        query_trade_state(&self.state.client, out_trade_no).await
    }

    /// Places an order as the shop's buy button does; answers its `out_trade_no`.
    pub async fn place(&self, checkout: Checkout) -> Result<String, BoxError> {
        place_order(&self.state, checkout).await
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn query_trade_state(client: &Client, out_trade_no: &str) -> Result<String, BoxError> {
    let order = client
        .send(QueryOrderByOutTradeNo::new(
            QueryOrderByOutTradeNoRequired {
                out_trade_no: out_trade_no.into(),
                mchid: client.mchid().into(),
            },
        ))
        .await?;
    Ok(order.trade_state.as_str().to_owned())
}

/// The one place the shop builds its payment requests.
async fn place_order(state: &ShopState, checkout: Checkout) -> Result<String, BoxError> {
    let client = &state.client;
    let no = format!("shop{}", &fresh_order_number());
    let (amount, appid, mchid) = (Amount::cny(PRICE), SANDBOX_APPID, client.mchid());
    let front_end = match checkout {
        Checkout::Jsapi => {
            let prepay = client
                .send(CreateJsapiOrder::new(CreateJsapiOrderRequired {
                    amount,
                    appid: appid.into(),
                    description: ITEM.into(),
                    mchid: mchid.into(),
                    notify_url: ORDER_NOTIFY_URL.into(),
                    out_trade_no: no.clone(),
                    payer: CreateJsapiOrderPayer::openid(SANDBOX_OPENID),
                }))
                .await?;
            let params = prepay.pay_params(appid, client.merchant_key()?)?;
            FrontEnd::Jsapi(serde_json::to_string(&params)?)
        }
        Checkout::Native => {
            let order = client
                .send(CreateNativeOrder::new(CreateNativeOrderRequired {
                    amount,
                    appid: appid.into(),
                    description: ITEM.into(),
                    mchid: mchid.into(),
                    notify_url: ORDER_NOTIFY_URL.into(),
                    out_trade_no: no.clone(),
                }))
                .await?;
            FrontEnd::Native {
                code_url: order.code_url,
            }
        }
        Checkout::H5 => {
            let order = client
                .send(CreateH5Order::new(CreateH5OrderRequired {
                    amount,
                    appid: appid.into(),
                    description: ITEM.into(),
                    mchid: mchid.into(),
                    notify_url: ORDER_NOTIFY_URL.into(),
                    out_trade_no: no.clone(),
                    scene_info: CreateH5OrderSceneInfo::h5("127.0.0.1", "Wap"),
                }))
                .await?;
            FrontEnd::H5 {
                h5_url: order.h5_url,
            }
        }
    };
    state.orders().insert(
        no.clone(),
        ShopOrder {
            front_end,
            paid: None,
        },
    );
    Ok(no)
}

/// A fresh order number: the time in microseconds (unique enough for one shop).
fn fresh_order_number() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    format!("{micros}")
}

/// Text made safe for HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, head: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title>{head}<style>\
         body{{font:16px/1.5 system-ui,\"Noto Sans CJK SC\",sans-serif;margin:0;background:#fafafa;color:#1a1a1a}}\
         main{{max-width:36rem;margin:0 auto;padding:1rem}}\
         .card{{background:#fff;border:1px solid #ddd;border-radius:8px;padding:1rem;margin:1rem 0}}\
         button,.button{{font:inherit;min-height:2.75rem;padding:.5rem 1rem;border-radius:6px;border:1px solid #999;\
         background:#fff;color:#1a1a1a;cursor:pointer;text-decoration:none;display:inline-flex;align-items:center;margin:.25rem 0}}\
         button.primary,.button.primary{{background:#07c160;border-color:#07c160;color:#fff;font-weight:600}}\
         :focus-visible{{outline:3px solid #1f6feb;outline-offset:2px}}\
         code{{overflow-wrap:anywhere}} pre{{white-space:pre-wrap;overflow-wrap:anywhere;background:#f3f3f3;padding:.5rem}}\
         .paid{{color:#0a7a3c;font-weight:600}}</style></head>\
         <body><main>{body}</main></body></html>\n",
        title = esc(title)
    ))
}

/// `GET /`: the item and a button for each way to pay.
async fn home(State(state): State<Arc<ShopState>>) -> Html<String> {
    let mut body = format!(
        "<h1>The sandbox shop</h1>\n<div class=\"card\"><h2 lang=\"zh-CN\">{}</h2><p>¥{}.{:02}</p>\n\
         <form method=\"post\" action=\"/orders\"><fieldset style=\"border:0;padding:0\">\
         <legend>Pay with WeChat Pay</legend>\n\
         <button class=\"primary\" name=\"checkout\" value=\"jsapi\" id=\"buy-jsapi\">In WeChat (JSAPI)</button>\n\
         <button name=\"checkout\" value=\"native\" id=\"buy-native\">QR code (Native)</button>\n\
         <button name=\"checkout\" value=\"h5\" id=\"buy-h5\">Phone browser (H5)</button>\n\
         </fieldset></form></div>\n",
        esc(ITEM),
        PRICE / 100,
        PRICE % 100
    );
    let orders = state.orders();
    if !orders.is_empty() {
        body.push_str("<h2>Orders</h2><ul>");
        for (no, order) in orders.iter().rev() {
            let status = if order.paid.is_some() {
                "paid"
            } else {
                "unpaid"
            };
            let _ = write!(
                body,
                "<li><a href=\"/orders/{no}\">{no}</a>: {status}</li>",
                no = esc(no)
            );
        }
        body.push_str("</ul>");
    }
    let _ = write!(
        body,
        "<p>The platform's side: <a href=\"{}/sandbox/\">the sandbox dashboard</a>.</p>",
        esc(&state.sandbox_url)
    );
    page("The sandbox shop", "", &body)
}

/// `POST /orders` with `checkout=jsapi|native|h5`: places the order, then shows it.
async fn buy(State(state): State<Arc<ShopState>>, form: Bytes) -> Response {
    let chosen = form_value(&form, "checkout");
    let Some(checkout) = chosen.as_deref().and_then(Checkout::parse) else {
        return (StatusCode::BAD_REQUEST, "no such checkout").into_response();
    };
    match place_order(&state, checkout).await {
        Ok(no) => Redirect::to(&format!("/orders/{no}")).into_response(),
        Err(error) => (
            StatusCode::BAD_GATEWAY,
            format!("WeChat Pay refused the order: {error}"),
        )
            .into_response(),
    }
}

/// The value of `name` in a form body or query string of plain words (all the shop sends).
fn form_value(pairs: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(pairs)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// `GET /orders/{no}`: the order and how to pay it.
async fn order_page(
    State(state): State<Arc<ShopState>>,
    Path(no): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let from = form_value(query.unwrap_or_default().as_bytes(), "from");
    let Some(order) = state.orders().get(&no).cloned() else {
        return (StatusCode::NOT_FOUND, "no such order").into_response();
    };
    let status = match &order.paid {
        Some(id) => format!("<span class=\"paid\">Paid</span> (transaction {})", esc(id)),
        None => "Waiting for payment".to_owned(),
    };
    let mut body = format!(
        "<h1>Order <code>{no_e}</code></h1>\n<div class=\"card\"><p lang=\"zh-CN\">{item}, ¥{}.{:02}</p>\n\
         <p>Status: <strong id=\"order-state\" role=\"status\" data-paid=\"{paid}\">{status}</strong></p>\n",
        PRICE / 100,
        PRICE % 100,
        no_e = esc(&no),
        item = esc(ITEM),
        paid = order.paid.is_some(),
    );
    let sandbox = esc(&state.sandbox_url);
    let mut head = String::new();
    // Wait for the notification once the payer acted; bounded, as every poll should be.
    let wait = format!(
        "<script>function waitPaid(){{var n=0;(function poll(){{fetch('/orders/{no}/state').then(function(r){{return r.json()}})\
         .then(function(s){{if(s.paid){{var e=document.getElementById('order-state');e.textContent='Paid (transaction '+s.transaction_id+')';\
         e.className='paid';e.dataset.paid='true';}}else if(++n<300){{setTimeout(poll,500)}}}})}})()}}</script>",
        no = esc(&no)
    );
    head.push_str(&wait);
    match &order.front_end {
        FrontEnd::Jsapi(params) => {
            let _ = write!(
                head,
                "<script src=\"{sandbox}/sandbox/bridge.js\"></script>\n<script>\
                 window.payParams = {params};\n\
                 function show(text){{document.getElementById('pay-result').textContent=text;}}\n\
                 function payJsapi(){{WeixinJSBridge.invoke('getBrandWCPayRequest', window.payParams, function(res){{\
                 show(res.err_msg + (res.err_desc ? ' (' + res.err_desc + ')' : ''));\
                 if(res.err_msg==='get_brand_wcpay_request:ok'){{waitPaid();}}}});}}\n\
                 function payMini(){{var p=Object.assign({{}}, window.payParams);delete p.appId;\
                 p.success=function(res){{show(res.errMsg);waitPaid();}};p.fail=function(res){{show(res.errMsg);}};wx.requestPayment(p);}}\n\
                 </script>",
                params = params.replace("</", "<\\/"),
            );
            let _ = write!(
                body,
                "<button class=\"primary\" id=\"pay-jsapi\" onclick=\"payJsapi()\">Pay with WeChat \
                 (<code>getBrandWCPayRequest</code>)</button>\n\
                 <button id=\"pay-mini\" onclick=\"payMini()\">Pay as a mini program (<code>wx.requestPayment</code>)</button>\n\
                 <p>Result: <output id=\"pay-result\" aria-live=\"polite\">none yet</output></p>\n\
                 <details><summary>The parameters the SDK signed</summary><pre>{}</pre></details>\n",
                esc(params)
            );
        }
        FrontEnd::Native { code_url } => {
            let _ = write!(
                body,
                "<p>Scan <code id=\"code-url\">{code}</code> with WeChat. In the sandbox: \
                 <a class=\"button primary\" id=\"open-cashier\" href=\"{sandbox}/sandbox/cashier/{no}\">open the cashier (QR code)</a></p>\n\
                 <script>waitPaid()</script>\n",
                code = esc(code_url),
                no = esc(&no),
            );
        }
        FrontEnd::H5 { h5_url } => {
            let back = format!("{}/orders/{no}?from=h5", state.url);
            let target = format!("{h5_url}&redirect_url={}", url_encode(&back));
            let _ = writeln!(
                body,
                "<p><a class=\"button primary\" id=\"pay-h5\" href=\"{}\">Pay with WeChat (H5)</a></p>",
                esc(&target)
            );
            if from.as_deref() == Some("h5") {
                body.push_str("<p>Back from WeChat Pay; checking the payment…</p><script>waitPaid()</script>\n");
            }
        }
    }
    body.push_str("<p><a href=\"/\">Back to the shop</a></p></div>");
    page(&format!("Order {no}"), &head, &body).into_response()
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /orders/{no}/state`: whether the shop was notified of the payment.
async fn order_state(State(state): State<Arc<ShopState>>, Path(no): Path<String>) -> Response {
    let paid = state.orders().get(&no).and_then(|o| o.paid.clone());
    let body = serde_json::json!({ "paid": paid.is_some(), "transaction_id": paid });
    ([(CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// `POST /wxpay/notify`: the SDK verifies and decrypts; a paid order is marked paid.
async fn notify(State(state): State<Arc<ShopState>>, headers: HeaderMap, body: Bytes) -> Response {
    let event = state
        .client
        .read_notification(&headers, &body)
        .await
        .and_then(|notification| Ok(Event::of(&notification)?));
    let reply = match event {
        Ok(Event::TransactionSuccess(paid)) => {
            if let Some(order) = state.orders().get_mut(&paid.out_trade_no) {
                order.paid = Some(paid.transaction_id.clone().unwrap_or_default());
            }
            Reply::success()
        }
        Ok(_) => Reply::success(),
        Err(error) => {
            eprintln!("notification refused: {error}");
            Reply::rejecting(&error)
        }
    };
    reply.into_http_response().map(Body::from)
}
