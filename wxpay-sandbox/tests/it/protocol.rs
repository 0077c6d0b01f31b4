//! The protocol rules every endpoint shares: request authorization, response
//! signatures, `Wechatpay-Serial`, error shapes, concurrency.

use crate::common;

use common::{Merchant, USER_AGENT, nonce, send, unix_now};
use wxpay_sandbox::{KeyMode, Sandbox};

async fn sandbox(mode: KeyMode) -> Sandbox {
    Sandbox::builder()
        .key_mode(mode)
        .start()
        .await
        .expect("sandbox starts")
}

fn stock_url(merchant: &Merchant, stock_id: &str) -> String {
    format!(
        "/v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid={}",
        merchant.mchid
    )
}

/// Asserts a 401 SIGN_ERROR, unsigned, with the platform's view of the message.
fn assert_sign_error(reply: &common::Reply, method: &str, url: &str) -> serde_json::Value {
    assert_eq!(reply.status, 401, "{reply:?}");
    reply.assert_unsigned();
    let body = reply.json();
    assert_eq!(body["code"], "SIGN_ERROR");
    assert_eq!(body["message"], "签名错误");
    assert_eq!(body["detail"]["field"], "signature");
    assert!(
        body["detail"]["issue"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    let info = &body["detail"]["sign_information"];
    assert_eq!(info["method"], method);
    assert_eq!(info["url"], url);
    assert!(info["sign_message_length"].as_u64().is_some());
    assert!(
        info["truncated_sign_message"]
            .as_str()
            .is_some_and(|m| m.starts_with(&format!("{method}\n{url}\n")))
    );
    body
}

#[tokio::test]
async fn signed_requests_get_signed_answers_in_every_key_mode() {
    for mode in [KeyMode::Certificate, KeyMode::PublicKey, KeyMode::Both] {
        let sandbox = sandbox(mode).await;
        assert_eq!(sandbox.key_mode(), mode);
        let merchant = Merchant::of(&sandbox);
        let settings = sandbox.merchant();
        let expected_serial = match mode {
            KeyMode::Certificate => settings.platform_certificate_serial.clone(),
            _ => settings.public_key_id.clone(),
        };
        assert_eq!(Some(settings.platform_serial.clone()), expected_serial);
        let stock = &sandbox.favor_stock_ids()[0];
        let reply = merchant
            .verified("GET", &stock_url(&merchant, stock), "", &[])
            .await;
        assert_eq!(reply.status, 200, "{mode:?}: {reply:?}");
        assert_eq!(reply.json()["status"], "running");
        assert_eq!(
            reply.header("Wechatpay-Signature-Type"),
            Some("WECHATPAY2-SHA256-RSA2048"),
            "{mode:?}: the platform names its scheme on every signed answer"
        );
        assert_eq!(
            reply.header("Content-Type"),
            Some("application/json"),
            "{mode:?}"
        );
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn bad_signatures_are_refused_unsigned() {
    let sandbox = sandbox(KeyMode::Certificate).await;
    let merchant = Merchant::of(&sandbox);
    let url = "/v3/marketing/favor/stocks/1/pause";
    let body = r#"{"stock_creator_mchid":"1230000109"}"#;
    let addr = merchant.addr;
    let with_auth = |auth: String| {
        vec![
            ("Authorization".to_owned(), auth),
            ("Accept".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), USER_AGENT.to_owned()),
        ]
    };

    // Tampered body: signed one thing, sent another.
    let auth = merchant.authorization("POST", url, body, unix_now(), &nonce());
    let reply = send(
        addr,
        "POST",
        url,
        &with_auth(auth.clone()),
        br#"{"stock_creator_mchid":"1"}"#,
    )
    .await;
    let detail = assert_sign_error(&reply, "POST", url);
    assert_eq!(
        detail["detail"]["sign_information"]["truncated_sign_message"]
            .as_str()
            .map(|m| m.ends_with("\n{\"stock_cr\n")),
        Some(true),
        "{detail}"
    );

    // Signed for another path, or without the query string.
    let reply = send(
        addr,
        "POST",
        "/v3/marketing/favor/stocks/2/pause",
        &with_auth(auth),
        body.as_bytes(),
    )
    .await;
    assert_sign_error(&reply, "POST", "/v3/marketing/favor/stocks/2/pause");
    let stock = &sandbox.favor_stock_ids()[0];
    let full = stock_url(&merchant, stock);
    let path_only = format!("/v3/marketing/favor/stocks/{stock}");
    let reply = send(
        addr,
        "GET",
        &full,
        &with_auth(merchant.authorization("GET", &path_only, "", unix_now(), &nonce())),
        b"",
    )
    .await;
    assert_sign_error(&reply, "GET", &full);

    // Stale and future timestamps.
    for skew in [-301, 301] {
        let auth = merchant.authorization("POST", url, body, unix_now() + skew, &nonce());
        let reply = send(addr, "POST", url, &with_auth(auth), body.as_bytes()).await;
        assert_sign_error(&reply, "POST", url);
    }
    // A little skew is fine.
    let auth = merchant.authorization("GET", &full, "", unix_now() - 200, &nonce());
    let reply = send(addr, "GET", &full, &with_auth(auth), b"").await;
    assert_eq!(reply.status, 200, "{reply:?}");

    // Wrong mchid, wrong serial, garbage signature, missing or foreign header.
    let good = merchant.authorization("POST", url, body, unix_now(), &nonce());
    for auth in [
        good.replace("mchid=\"1230000109\"", "mchid=\"1230000110\""),
        good.replace(&merchant.serial, "0123456789ABCDEF0123456789ABCDEF01234567"),
        good.replacen("signature=\"", "signature=\"AAAA", 1),
        good.replacen("signature=\"", "signature=\"!!", 1),
        good.replace("WECHATPAY2-SHA256-RSA2048", "WECHATPAY2-SHA256-RSA4096"),
        good.replace("timestamp=\"", "timestamp=\"x"),
        "Bearer abc".to_owned(),
    ] {
        let reply = send(addr, "POST", url, &with_auth(auth.clone()), body.as_bytes()).await;
        assert_sign_error(&reply, "POST", url);
    }
    let reply = send(
        addr,
        "POST",
        url,
        &[("User-Agent".to_owned(), USER_AGENT.to_owned())],
        body.as_bytes(),
    )
    .await;
    assert_sign_error(&reply, "POST", url);

    // Signed by another merchant key altogether.
    let other = Sandbox::start().await.expect("other sandbox");
    let stranger = Merchant::of(&other);
    let auth = stranger
        .authorization("POST", url, body, unix_now(), &nonce())
        .replace(&stranger.serial, &merchant.serial);
    let reply = send(addr, "POST", url, &with_auth(auth), body.as_bytes()).await;
    assert_sign_error(&reply, "POST", url);
}

#[tokio::test]
async fn authorization_fields_may_come_in_any_order() {
    let sandbox = sandbox(KeyMode::PublicKey).await;
    let merchant = Merchant::of(&sandbox);
    let url = stock_url(&merchant, &sandbox.favor_stock_ids()[0]);
    let ts = unix_now();
    let n = nonce();
    let signature = merchant.sign(format!("GET\n{url}\n{ts}\n{n}\n\n").as_bytes());
    let auth = format!(
        "WECHATPAY2-SHA256-RSA2048 signature=\"{signature}\", serial_no=\"{}\", timestamp=\"{ts}\", mchid=\"{}\", nonce_str=\"{n}\"",
        merchant.serial, merchant.mchid
    );
    let headers = vec![
        ("Authorization".to_owned(), auth),
        ("User-Agent".to_owned(), USER_AGENT.to_owned()),
    ];
    let reply = send(merchant.addr, "GET", &url, &headers, b"").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.verify(&merchant.platform_key()).expect("signed");
}

#[tokio::test]
async fn a_request_without_user_agent_is_a_param_error() {
    let sandbox = sandbox(KeyMode::Both).await;
    let merchant = Merchant::of(&sandbox);
    let url = "/v3/certificates";
    let mut headers = merchant.headers("GET", url, "");
    headers.retain(|(name, _)| name != "User-Agent");
    let reply = send(merchant.addr, "GET", url, &headers, b"").await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.code(), "PARAM_ERROR");
    reply.verify(&merchant.platform_key()).expect("signed");
}

#[tokio::test]
async fn unknown_paths_and_methods_are_signed_404s() {
    let sandbox = sandbox(KeyMode::Certificate).await;
    let merchant = Merchant::of(&sandbox);
    for (method, url) in [
        ("GET", "/v3/nothing/here"),
        // Not in the catalog (codepay is, and is answered from the spec).
        ("POST", "/v3/pay/transactions/nowhere"),
        ("DELETE", "/v3/certificates"),
        ("GET", "/v3/marketing/favor/coupon-stocks"),
    ] {
        let body = if method == "GET" || method == "DELETE" {
            ""
        } else {
            "{}"
        };
        let reply = merchant.verified(method, url, body, &[]).await;
        assert_eq!(reply.status, 404, "{method} {url}: {reply:?}");
        assert_eq!(reply.code(), "NOT_FOUND");
        assert_eq!(
            reply.header("Wechatpay-Signature-Type"),
            Some("WECHATPAY2-SHA256-RSA2048")
        );
        assert!(reply.json()["message"].is_string());
    }
}

#[tokio::test]
async fn malformed_json_is_a_param_error() {
    let sandbox = sandbox(KeyMode::Certificate).await;
    let merchant = Merchant::of(&sandbox);
    let stock = &sandbox.favor_stock_ids()[0];
    for body in ["{", "[]", "", r#"{"stock_creator_mchid": 1230000109}"#] {
        let url = format!("/v3/marketing/favor/stocks/{stock}/pause");
        let reply = merchant.verified("POST", &url, body, &[]).await;
        assert_eq!(reply.status, 400, "{body:?}: {reply:?}");
        assert_eq!(reply.code(), "PARAM_ERROR");
    }
}

#[tokio::test]
async fn unknown_wechatpay_serial_is_refused() {
    for mode in [KeyMode::Certificate, KeyMode::PublicKey, KeyMode::Both] {
        let sandbox = sandbox(mode).await;
        let merchant = Merchant::of(&sandbox);
        let url = stock_url(&merchant, &sandbox.favor_stock_ids()[0]);
        let settings = sandbox.merchant();
        let foreign = [
            "0123456789ABCDEF0123456789ABCDEF01234567".to_owned(),
            "PUB_KEY_ID_0100000000000000000000000000000000000000".to_owned(),
            // The merchant's own serial is not a platform key.
            settings.merchant_serial.clone(),
        ];
        for serial in &foreign {
            let reply = merchant
                .verified("GET", &url, "", &[("Wechatpay-Serial", serial)])
                .await;
            assert_eq!(reply.status, 400, "{mode:?} {serial}: {reply:?}");
            assert_eq!(reply.code(), "PARAM_ERROR");
            let message = reply.json()["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(
                message.contains("Wechatpay-Serial") && message.contains("unknown"),
                "{message}"
            );
        }
        let known: Vec<String> = [
            settings.platform_certificate_serial.clone(),
            settings.public_key_id.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert_eq!(known.len(), if mode == KeyMode::Both { 2 } else { 1 });
        for serial in &known {
            let reply = merchant
                .verified("GET", &url, "", &[("Wechatpay-Serial", serial)])
                .await;
            assert_eq!(reply.status, 200, "{mode:?} {serial}: {reply:?}");
        }
    }
}

#[tokio::test]
async fn every_response_has_its_own_request_id_and_nonce() {
    let sandbox = sandbox(KeyMode::Both).await;
    let merchant = Merchant::of(&sandbox);
    let a = merchant.verified("GET", "/v3/certificates", "", &[]).await;
    let b = merchant.verified("GET", "/v3/certificates", "", &[]).await;
    assert_ne!(a.header("Request-ID"), b.header("Request-ID"));
    assert_ne!(a.header("Wechatpay-Nonce"), b.header("Wechatpay-Nonce"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_64_concurrent_clients() {
    let sandbox = sandbox(KeyMode::Certificate).await;
    let merchant = std::sync::Arc::new(Merchant::of(&sandbox));
    let stock = sandbox.favor_stock_ids()[0].clone();
    let mut tasks = Vec::new();
    for client in 0..64 {
        let merchant = merchant.clone();
        let stock = stock.clone();
        tasks.push(tokio::spawn(async move {
            let mut coupons = Vec::new();
            for round in 0..3 {
                let url = format!("/v3/marketing/favor/users/openid-{client}/coupons");
                let body = serde_json::json!({
                    "stock_id": stock,
                    "out_request_no": format!("req-{client}-{round}"),
                    "appid": wxpay_sandbox::SANDBOX_APPID,
                    "stock_creator_mchid": merchant.mchid,
                })
                .to_string();
                let reply = merchant.verified("POST", &url, &body, &[]).await;
                assert_eq!(reply.status, 200, "{reply:?}");
                coupons.push(
                    reply.json()["coupon_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
            coupons
        }));
    }
    let mut all = std::collections::HashSet::new();
    for task in tasks {
        for coupon in task.await.expect("client task") {
            assert!(all.insert(coupon), "coupon ids are unique");
        }
    }
    assert_eq!(all.len(), 64 * 3);
    let reply = merchant
        .verified("GET", &stock_url(&merchant, &stock), "", &[])
        .await;
    assert_eq!(reply.json()["distributed_coupons"], 64 * 3);
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let sandbox = sandbox(KeyMode::Certificate).await;
    let addr = sandbox.local_addr();
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    sandbox.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    let sandbox = Sandbox::start().await.expect("start");
    let addr = sandbox.local_addr();
    drop(sandbox);
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refused, "dropping the sandbox closes its port");
}
