//! The sandbox for people, over plain HTTP (the browser tests drive the same pages in
//! Chromium): the cashier pays like the control API, the bridge's check refuses what WeChat
//! refuses, the dashboard shows orders, deliveries and verdicts, and no page holds a secret.

use crate::common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Merchant, Reply, USER_AGENT, send, unix_now};
use serde_json::{Value, json};
use wxpay_sandbox::{SANDBOX_APPID, SANDBOX_OPENID, Sandbox};

/// Places an order of `kind` (`jsapi`, `native`, `h5`, `app`) and answers the platform's reply.
async fn place(merchant: &Merchant, kind: &str, no: &str, total: u64) -> Value {
    let mut order = json!({
        "appid": SANDBOX_APPID,
        "mchid": merchant.mchid,
        "description": "QQ公仔 <b>doll</b>",
        "out_trade_no": no,
        "notify_url": "https://merchant.example.com/notify",
        "amount": { "total": total },
    });
    match kind {
        "jsapi" => order["payer"] = json!({ "openid": SANDBOX_OPENID }),
        "h5" => {
            order["scene_info"] =
                json!({ "payer_client_ip": "127.0.0.1", "h5_info": { "type": "Wap" } })
        }
        _ => {}
    }
    let reply = merchant
        .call(
            "POST",
            &format!("/v3/pay/transactions/{kind}"),
            &order.to_string(),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()
}

/// An unsigned request to the sandbox's own pages.
async fn get(merchant: &Merchant, url: &str) -> Reply {
    let ua = [("User-Agent".to_owned(), USER_AGENT.to_owned())];
    send(merchant.addr, "GET", url, &ua, b"").await
}

async fn post_form(merchant: &Merchant, url: &str, form: &[(&str, &str)]) -> Reply {
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", percent(v)))
        .collect::<Vec<_>>()
        .join("&");
    let headers = [
        ("User-Agent".to_owned(), USER_AGENT.to_owned()),
        (
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ),
    ];
    send(merchant.addr, "POST", url, &headers, body.as_bytes()).await
}

fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

async fn trade_state(merchant: &Merchant, no: &str) -> String {
    let url = format!(
        "/v3/pay/transactions/out-trade-no/{no}?mchid={}",
        merchant.mchid
    );
    merchant.call("GET", &url, "").await.json()["trade_state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `getBrandWCPayRequest` parameters for `prepay_id`, signed by the merchant.
fn jsapi_params(merchant: &Merchant, prepay_id: &str) -> Vec<(&'static str, String)> {
    let ts = unix_now().to_string();
    let nonce = common::nonce();
    let package = format!("prepay_id={prepay_id}");
    let sign = merchant.sign(format!("{SANDBOX_APPID}\n{ts}\n{nonce}\n{package}\n").as_bytes());
    vec![
        ("api", "getBrandWCPayRequest".into()),
        ("appId", SANDBOX_APPID.into()),
        ("timeStamp", ts),
        ("nonceStr", nonce),
        ("package", package),
        ("signType", "RSA".into()),
        ("paySign", sign),
    ]
}

async fn check(merchant: &Merchant, params: &[(&'static str, String)]) -> Reply {
    let form: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_form(merchant, "/sandbox/bridge/check", &form).await
}

fn with(params: &[(&'static str, String)], key: &str, value: &str) -> Vec<(&'static str, String)> {
    params
        .iter()
        .map(|(k, v)| {
            (
                *k,
                if *k == key {
                    value.to_owned()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

#[tokio::test]
async fn the_bridge_checks_pay_params_like_wechat() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let merchant = Merchant::of(&sandbox);
    let prepay_id = place(&merchant, "jsapi", "bridge000001", 1).await["prepay_id"]
        .as_str()
        .expect("prepay_id")
        .to_owned();
    let good = jsapi_params(&merchant, &prepay_id);

    let ok = check(&merchant, &good).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.json()["ok"], true);
    assert_eq!(ok.header("access-control-allow-origin"), Some("*"));
    let cashier = ok.json()["cashier_url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        cashier.ends_with("/sandbox/cashier/bridge000001?via=bridge"),
        "{cashier}"
    );

    // Each refusal names the field and says why; the order stays unpaid.
    let mut tampered = STANDARD
        .decode(
            &good
                .iter()
                .find(|(k, _)| *k == "paySign")
                .expect("paySign")
                .1,
        )
        .expect("base64");
    tampered[10] ^= 1;
    let cases = [
        (
            with(&good, "paySign", &STANDARD.encode(&tampered)),
            "paySign",
            "支付验证签名失败",
        ),
        (with(&good, "signType", "MD5"), "signType", "RSA"),
        (
            with(&good, "package", "prepay_id=wx000"),
            "package",
            "names no order",
        ),
        (with(&good, "package", &prepay_id), "package", "prepay_id="),
        (
            with(&good, "appId", "wx0000000000000000"),
            "appId",
            "not the order's app",
        ),
        (
            with(&good, "timeStamp", "soon"),
            "timeStamp",
            "unix seconds",
        ),
        (with(&good, "nonceStr", ""), "nonceStr", "missing"),
    ];
    for (params, field, reason) in cases {
        let refused = check(&merchant, &params).await;
        assert_eq!(refused.status, 400, "{field}: {refused:?}");
        let answer = refused.json();
        assert_eq!(answer["ok"], false);
        assert_eq!(answer["field"], field, "{answer}");
        assert!(
            answer["reason"]
                .as_str()
                .is_some_and(|r| r.contains(reason)),
            "{field}: {answer}"
        );
    }
    assert_eq!(trade_state(&merchant, "bridge000001").await, "NOTPAY");

    // A mini program's wx.requestPayment carries no appId: it is the order's.
    let mini: Vec<_> = with(&good, "api", "requestPayment")
        .into_iter()
        .filter(|(k, _)| *k != "appId")
        .collect();
    assert_eq!(check(&merchant, &mini).await.status, 200);

    // Not for a Native order's prepay id, nor once paid.
    let native = place(&merchant, "app", "bridge000002", 1).await;
    let app_prepay = native["prepay_id"].as_str().expect("prepay_id").to_owned();
    let wrong_kind = check(&merchant, &jsapi_params(&merchant, &app_prepay)).await;
    assert!(text(&wrong_kind).contains("not JSAPI"), "{wrong_kind:?}");
    sandbox.pay_order("bridge000001").expect("paid");
    let paid = check(&merchant, &good).await;
    assert!(text(&paid).contains("该订单已支付"), "{paid:?}");

    // The APP's PayReq: `sign` over appid, timestamp, noncestr, prepayid.
    let ts = unix_now().to_string();
    let nonce = common::nonce();
    let sign = merchant.sign(format!("{SANDBOX_APPID}\n{ts}\n{nonce}\n{app_prepay}\n").as_bytes());
    let mut app = json!({
        "appid": SANDBOX_APPID, "partnerid": merchant.mchid, "prepayid": app_prepay,
        "package": "Sign=WXPay", "noncestr": nonce, "timestamp": ts, "sign": sign,
    });
    let headers = [
        ("User-Agent".to_owned(), USER_AGENT.to_owned()),
        ("Content-Type".to_owned(), "application/json".to_owned()),
    ];
    let ok = send(
        merchant.addr,
        "POST",
        "/sandbox/app/check",
        &headers,
        app.to_string().as_bytes(),
    )
    .await;
    assert_eq!(ok.json()["ok"], true, "{ok:?}");
    app["partnerid"] = json!("1900000000");
    let refused = send(
        merchant.addr,
        "POST",
        "/sandbox/app/check",
        &headers,
        app.to_string().as_bytes(),
    )
    .await;
    assert_eq!(refused.json()["field"], "partnerid", "{refused:?}");
    let garbage = send(merchant.addr, "POST", "/sandbox/app/check", &headers, b"[1").await;
    assert_eq!(garbage.status, 400);
}

#[tokio::test]
async fn the_cashier_pays_cancels_and_fails_like_the_payer() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let merchant = Merchant::of(&sandbox);
    let native = place(&merchant, "native", "cashier00001", 123).await;
    let code_url = native["code_url"].as_str().expect("code_url");

    let page = get(&merchant, "/sandbox/cashier/cashier00001").await;
    assert_eq!(page.status, 200);
    let html = text(&page);
    assert!(
        html.contains("¥1.23") && html.contains(&code_url.replace('&', "&amp;")),
        "{html}"
    );
    assert!(
        html.contains("QQ公仔 &lt;b&gt;doll&lt;/b&gt;"),
        "escaped: {html}"
    );
    let qr = get(&merchant, "/sandbox/cashier/cashier00001/qr.svg").await;
    assert_eq!(qr.header("content-type"), Some("image/svg+xml"));
    assert!(text(&qr).contains("<svg"));

    // Cancelling and failing leave the order unpaid, and say so.
    let cancelled = post_form(
        &merchant,
        "/sandbox/cashier/cashier00001",
        &[("action", "cancel")],
    )
    .await;
    assert!(
        text(&cancelled).contains("data-result=\"cancel\""),
        "{cancelled:?}"
    );
    let failed = post_form(
        &merchant,
        "/sandbox/cashier/cashier00001",
        &[("action", "fail"), ("via", "bridge")],
    )
    .await;
    assert!(
        text(&failed).contains("\"result\":\"fail\""),
        "the frame tells the bridge"
    );
    assert_eq!(trade_state(&merchant, "cashier00001").await, "NOTPAY");

    let paid = post_form(
        &merchant,
        "/sandbox/cashier/cashier00001",
        &[("action", "pay")],
    )
    .await;
    assert!(text(&paid).contains("data-result=\"ok\""), "{paid:?}");
    assert_eq!(trade_state(&merchant, "cashier00001").await, "SUCCESS");
    let again = post_form(
        &merchant,
        "/sandbox/cashier/cashier00001",
        &[("action", "pay")],
    )
    .await;
    assert!(text(&again).contains("该订单已支付"), "{again:?}");

    // H5: h5_url is the sandbox's own cashier; acting returns to redirect_url.
    let h5 = place(&merchant, "h5", "cashier00002", 5).await;
    let h5_url = h5["h5_url"].as_str().expect("h5_url");
    let path = h5_url
        .strip_prefix(&format!("http://{}", merchant.addr))
        .expect("h5_url points at the sandbox");
    let page = get(
        &merchant,
        &format!("{path}&redirect_url=http%3A%2F%2F127.0.0.1%3A9%2Fdone"),
    )
    .await;
    assert!(text(&page).contains("name=\"redirect_url\" value=\"http://127.0.0.1:9/done\""));
    let back = post_form(
        &merchant,
        "/sandbox/cashier/cashier00002",
        &[
            ("action", "pay"),
            ("via", "h5"),
            ("redirect_url", "http://127.0.0.1:9/done"),
        ],
    )
    .await;
    assert_eq!(back.status, 303);
    assert_eq!(back.header("location"), Some("http://127.0.0.1:9/done"));
    assert_eq!(trade_state(&merchant, "cashier00002").await, "SUCCESS");
    let script = get(
        &merchant,
        &format!("{path}&redirect_url=javascript:alert(1)"),
    )
    .await;
    assert!(
        !text(&script).contains("value=\"javascript:"),
        "never a script URL"
    );

    assert_eq!(
        get(&merchant, "/sandbox/cashier/nothing0001").await.status,
        404
    );
}

#[tokio::test]
async fn the_dashboard_shows_orders_deliveries_and_verdicts_and_no_secret() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let receiver = listener.local_addr().expect("addr");
    // A receiver that refuses everything: each attempt shows with its answer.
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = vec![0u8; 64 * 1024];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
        }
    });
    let sandbox = Sandbox::builder()
        .notify_url(format!("http://{receiver}/notify"))
        .start()
        .await
        .expect("sandbox");
    let merchant = Merchant::of(&sandbox);
    place(&merchant, "native", "dash0000001", 1).await;
    place(&merchant, "jsapi", "dash0000002", 2).await;
    sandbox.pay_order("dash0000002").expect("paid");
    sandbox.settled_deliveries().await;

    // A bad signature and a missing field.
    let mut headers = merchant.headers("GET", "/v3/certificates", "");
    headers[0].1 = headers[0].1.replace("signature=\"", "signature=\"AAAA");
    let refused = send(merchant.addr, "GET", "/v3/certificates", &headers, b"").await;
    assert_eq!(refused.status, 401);
    let no_amount = json!({
        "appid": SANDBOX_APPID, "mchid": merchant.mchid, "description": "x",
        "out_trade_no": "dash0000003", "notify_url": "https://m.example.com/n",
        "amount": { "total": 0 },
    });
    let param = merchant
        .call(
            "POST",
            "/v3/pay/transactions/native",
            &no_amount.to_string(),
        )
        .await;
    assert_eq!(param.json()["detail"]["field"], "amount.total", "{param:?}");

    let dashboard = get(&merchant, "/sandbox/").await;
    assert_eq!(dashboard.status, 200);
    let html = text(&dashboard);
    for shown in [
        merchant.serial.as_str(),
        "/sandbox/cashier/dash0000001",
        "data-state=\"SUCCESS\"",
        "data-state=\"NOTPAY\"",
        "TRANSACTION.SUCCESS",
        "4: HTTP 500",
        "given up",
        "SIGN_ERROR",
        "truncated_sign_message",
        "GET\\n\n/v3/certificates\\n",
        "PARAM_ERROR",
        "<code class=\"field\">amount.total</code>",
    ] {
        assert!(html.contains(shown), "the dashboard lacks {shown:?}");
    }

    // Its buttons: pay from the dashboard, back with what happened.
    let acted = post_form(
        &merchant,
        "/sandbox/actions",
        &[("action", "pay"), ("id", "dash0000001")],
    )
    .await;
    assert_eq!(acted.status, 303);
    assert!(
        acted
            .header("location")
            .is_some_and(|l| l.starts_with("/sandbox/?done="))
    );
    assert_eq!(trade_state(&merchant, "dash0000001").await, "SUCCESS");

    // No page holds the merchant private key or the APIv3 key.
    let settings = sandbox.merchant();
    let apiv3 = settings.apiv3_key.expose();
    let private = settings
        .merchant_private_key_pem
        .as_ref()
        .expect("generated key")
        .expose()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_owned)
        .collect::<Vec<_>>();
    for url in [
        "/sandbox/",
        "/sandbox/cashier/dash0000001",
        "/sandbox/cashier/dash0000002",
        "/sandbox/bridge.js",
    ] {
        let page = text(&get(&merchant, url).await);
        assert!(!page.contains(apiv3), "{url} shows the APIv3 key");
        assert!(
            private.iter().all(|line| !page.contains(line.as_str())),
            "{url} shows the private key"
        );
    }
}
