//! 代金券: stock creation, the stock state machine, queries and coupon issuance.

use crate::common;

use common::Merchant;
use serde_json::{Value, json};
use wxpay_sandbox::{KeyMode, SANDBOX_APPID, SANDBOX_OPENID, Sandbox};

fn new_stock_body(out_request_no: &str) -> Value {
    json!({
        "stock_name": "微信支付代金券批次",
        "comment": "零售批次",
        "belong_merchant": "1230000109",
        "available_begin_time": "2026-01-01T00:00:00+08:00",
        "available_end_time": "2026-12-31T23:59:59+08:00",
        "stock_use_rule": {
            "max_coupons": 3,
            "max_amount": 300,
            "max_coupons_per_user": 2,
            "natural_person_limit": false,
            "prevent_api_abuse": false
        },
        "pattern_info": { "description": "微信支付营销" },
        "coupon_use_rule": {
            "fixed_normal_coupon": { "coupon_amount": 100, "transaction_minimum": 100 },
            "available_merchants": ["1230000109"]
        },
        "no_cash": false,
        "stock_type": "NORMAL",
        "out_request_no": out_request_no
    })
}

fn creator(merchant: &Merchant) -> String {
    json!({ "stock_creator_mchid": merchant.mchid }).to_string()
}

async fn create_stock(merchant: &Merchant, out_request_no: &str) -> (String, Value) {
    let reply = merchant
        .verified(
            "POST",
            "/v3/marketing/favor/coupon-stocks",
            &new_stock_body(out_request_no).to_string(),
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = reply.json();
    (
        body["stock_id"].as_str().expect("stock_id").to_owned(),
        body,
    )
}

async fn query(merchant: &Merchant, stock_id: &str) -> common::Reply {
    let url = format!(
        "/v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid={}",
        merchant.mchid
    );
    merchant.verified("GET", &url, "", &[]).await
}

async fn change(merchant: &Merchant, stock_id: &str, action: &str) -> common::Reply {
    let url = format!("/v3/marketing/favor/stocks/{stock_id}/{action}");
    merchant
        .verified("POST", &url, &creator(merchant), &[])
        .await
}

async fn issue(
    merchant: &Merchant,
    stock_id: &str,
    openid: &str,
    out_request_no: &str,
) -> common::Reply {
    let url = format!("/v3/marketing/favor/users/{openid}/coupons");
    let body = json!({
        "stock_id": stock_id,
        "out_request_no": out_request_no,
        "appid": SANDBOX_APPID,
        "stock_creator_mchid": merchant.mchid,
    });
    merchant
        .verified("POST", &url, &body.to_string(), &[])
        .await
}

fn assert_time(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"));
    assert!(text.ends_with("+08:00"), "{text}");
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{text}: {e}"));
}

fn assert_error(reply: &common::Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(reply.code(), code, "{reply:?}");
    assert!(
        reply.json()["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

#[tokio::test]
async fn a_stock_lives_through_its_state_machine() {
    for mode in [KeyMode::Certificate, KeyMode::PublicKey] {
        let sandbox = Sandbox::builder()
            .key_mode(mode)
            .start()
            .await
            .expect("start");
        let merchant = Merchant::of(&sandbox);

        let (stock_id, created) = create_stock(&merchant, "create-1").await;
        assert_time(&created["create_time"]);
        // Same out_request_no: same stock.
        let (again, _) = create_stock(&merchant, "create-1").await;
        assert_eq!(again, stock_id);
        let (other, _) = create_stock(&merchant, "create-2").await;
        assert_ne!(other, stock_id);

        let stock = query(&merchant, &stock_id).await.json();
        assert_eq!(stock["stock_id"], stock_id.as_str());
        assert_eq!(stock["status"], "unactivated");
        assert_eq!(stock["stock_creator_mchid"], "1230000109");
        assert_eq!(stock["stock_name"], "微信支付代金券批次");
        assert_eq!(stock["description"], "微信支付营销");
        assert_eq!(stock["stock_type"], "NORMAL");
        assert_eq!(stock["no_cash"], false);
        assert_eq!(stock["distributed_coupons"], 0);
        assert_eq!(stock["stock_use_rule"]["max_coupons"], 3);
        assert_eq!(stock["stock_use_rule"]["max_coupons_per_user"], 2);
        assert_eq!(stock["available_begin_time"], "2026-01-01T00:00:00+08:00");
        assert_time(&stock["create_time"]);
        assert!(stock.get("start_time").is_none());

        // Nothing but start works on an unactivated stock.
        assert_error(
            &change(&merchant, &stock_id, "pause").await,
            400,
            "INVALID_REQUEST",
        );
        assert_error(
            &change(&merchant, &stock_id, "restart").await,
            400,
            "INVALID_REQUEST",
        );
        assert_error(
            &issue(&merchant, &stock_id, SANDBOX_OPENID, "r0").await,
            400,
            "INVALID_REQUEST",
        );

        let started = change(&merchant, &stock_id, "start").await;
        assert_eq!(started.status, 200, "{started:?}");
        assert_eq!(started.json()["stock_id"], stock_id.as_str());
        assert_time(&started.json()["start_time"]);
        assert_error(
            &change(&merchant, &stock_id, "start").await,
            400,
            "INVALID_REQUEST",
        );
        assert_error(
            &change(&merchant, &stock_id, "restart").await,
            400,
            "INVALID_REQUEST",
        );
        let stock = query(&merchant, &stock_id).await.json();
        assert_eq!(stock["status"], "running");
        assert_time(&stock["start_time"]);

        let paused = change(&merchant, &stock_id, "pause").await;
        assert_eq!(paused.status, 200, "{paused:?}");
        assert_time(&paused.json()["pause_time"]);
        assert_eq!(query(&merchant, &stock_id).await.json()["status"], "paused");
        assert_error(
            &change(&merchant, &stock_id, "pause").await,
            400,
            "INVALID_REQUEST",
        );
        assert_error(
            &change(&merchant, &stock_id, "start").await,
            400,
            "INVALID_REQUEST",
        );
        assert_error(
            &issue(&merchant, &stock_id, SANDBOX_OPENID, "r0").await,
            400,
            "INVALID_REQUEST",
        );

        let restarted = change(&merchant, &stock_id, "restart").await;
        assert_eq!(restarted.status, 200, "{restarted:?}");
        assert_time(&restarted.json()["restart_time"]);
        assert_eq!(
            query(&merchant, &stock_id).await.json()["status"],
            "running"
        );
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn unknown_stocks_and_foreign_creators() {
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("start");
    let merchant = Merchant::of(&sandbox);
    assert_error(
        &query(&merchant, "404404404").await,
        404,
        "RESOURCE_NOT_EXISTS",
    );
    for action in ["start", "pause", "restart"] {
        assert_error(
            &change(&merchant, "404404404", action).await,
            404,
            "RESOURCE_NOT_EXISTS",
        );
    }
    assert_error(
        &issue(&merchant, "404404404", SANDBOX_OPENID, "r").await,
        404,
        "RESOURCE_NOT_EXISTS",
    );

    let stock = &sandbox.favor_stock_ids()[0];
    let foreign = json!({ "stock_creator_mchid": "1900000001" }).to_string();
    let reply = merchant
        .verified(
            "POST",
            &format!("/v3/marketing/favor/stocks/{stock}/pause"),
            &foreign,
            &[],
        )
        .await;
    assert_error(&reply, 403, "NO_AUTH");
    let reply = merchant
        .verified(
            "POST",
            &format!("/v3/marketing/favor/stocks/{stock}/pause"),
            "{}",
            &[],
        )
        .await;
    assert_error(&reply, 400, "PARAM_ERROR");
    let reply = merchant
        .verified(
            "GET",
            &format!("/v3/marketing/favor/stocks/{stock}"),
            "",
            &[],
        )
        .await;
    assert_error(&reply, 400, "PARAM_ERROR");
    let reply = merchant
        .verified(
            "GET",
            &format!("/v3/marketing/favor/stocks/{stock}?stock_creator_mchid=1900000001"),
            "",
            &[],
        )
        .await;
    assert_error(&reply, 403, "NO_AUTH");
}

#[tokio::test]
async fn stock_creation_is_validated() {
    let sandbox = Sandbox::start().await.expect("start");
    let merchant = Merchant::of(&sandbox);
    let url = "/v3/marketing/favor/coupon-stocks";
    let mut cases: Vec<Value> = Vec::new();
    for field in [
        "stock_name",
        "out_request_no",
        "stock_use_rule",
        "coupon_use_rule",
        "no_cash",
    ] {
        let mut body = new_stock_body("v");
        body.as_object_mut().expect("object").remove(field);
        cases.push(body);
    }
    let mut body = new_stock_body("v");
    body["stock_use_rule"]["max_amount"] = json!(301);
    cases.push(body);
    let mut body = new_stock_body("v");
    body["available_end_time"] = json!("2025-01-01T00:00:00+08:00");
    cases.push(body);
    let mut body = new_stock_body("v");
    body["available_begin_time"] = json!("yesterday");
    cases.push(body);
    let mut body = new_stock_body("v");
    body["stock_type"] = json!("FREE_MONEY");
    cases.push(body);
    let mut body = new_stock_body("v");
    body["coupon_use_rule"] = json!({});
    cases.push(body);
    for body in cases {
        let reply = merchant.verified("POST", url, &body.to_string(), &[]).await;
        assert_error(&reply, 400, "PARAM_ERROR");
    }
}

#[tokio::test]
async fn coupons_are_issued_once_per_out_request_no() {
    for mode in [KeyMode::Certificate, KeyMode::PublicKey] {
        let sandbox = Sandbox::builder()
            .key_mode(mode)
            .start()
            .await
            .expect("start");
        let merchant = Merchant::of(&sandbox);
        let (stock_id, _) = create_stock(&merchant, "c").await;
        assert_eq!(change(&merchant, &stock_id, "start").await.status, 200);

        let first = issue(&merchant, &stock_id, "alice", "req-1").await;
        assert_eq!(first.status, 200, "{first:?}");
        let coupon = first.json()["coupon_id"]
            .as_str()
            .expect("coupon_id")
            .to_owned();
        let again = issue(&merchant, &stock_id, "alice", "req-1").await;
        assert_eq!(again.json()["coupon_id"], coupon.as_str());
        assert_eq!(
            query(&merchant, &stock_id).await.json()["distributed_coupons"],
            1
        );

        // The same out_request_no for someone else is not a repeat.
        assert_error(
            &issue(&merchant, &stock_id, "bob", "req-1").await,
            400,
            "INVALID_REQUEST",
        );

        let second = issue(&merchant, &stock_id, "alice", "req-2").await;
        assert_ne!(second.json()["coupon_id"], coupon.as_str());
        assert_eq!(
            query(&merchant, &stock_id).await.json()["distributed_coupons"],
            2
        );
        // max_coupons_per_user = 2, max_coupons = 3.
        assert_error(
            &issue(&merchant, &stock_id, "alice", "req-3").await,
            403,
            "RULE_LIMIT",
        );
        assert_eq!(
            issue(&merchant, &stock_id, "bob", "req-4").await.status,
            200
        );
        assert_error(
            &issue(&merchant, &stock_id, "carol", "req-5").await,
            403,
            "NOT_ENOUGH",
        );
        // A repeat still answers after the budget ran out.
        assert_eq!(
            issue(&merchant, &stock_id, "alice", "req-1").await.json()["coupon_id"],
            coupon.as_str()
        );

        // Missing fields and a foreign creator.
        let url = "/v3/marketing/favor/users/alice/coupons";
        let reply = merchant
            .verified(
                "POST",
                url,
                &json!({ "stock_id": stock_id }).to_string(),
                &[],
            )
            .await;
        assert_error(&reply, 400, "PARAM_ERROR");
        let body = json!({
            "stock_id": stock_id, "out_request_no": "x", "appid": SANDBOX_APPID,
            "stock_creator_mchid": "1900000001",
        });
        assert_error(
            &merchant.verified("POST", url, &body.to_string(), &[]).await,
            403,
            "NO_AUTH",
        );
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn builder_stocks_are_running_and_path_parameters_are_percent_decoded() {
    let sandbox = Sandbox::builder()
        .favor_stock("98065001")
        .favor_stock("98065002")
        .start()
        .await
        .expect("start");
    let merchant = Merchant::of(&sandbox);
    assert_eq!(sandbox.favor_stock_ids(), ["98065001", "98065002"]);
    for stock in sandbox.favor_stock_ids() {
        assert_eq!(query(&merchant, stock).await.json()["status"], "running");
    }
    // %39%38… is 98065001: the signature covers the encoded form, the stock is the decoded one.
    let reply = query(&merchant, "%39%38%30%36%35%30%30%31").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json()["stock_id"], "98065001");
    // An openid with a reserved character arrives decoded, and the same coupon comes back.
    let a = issue(&merchant, "98065001", "o%2Fx", "p-1").await;
    assert_eq!(a.status, 200, "{a:?}");
    let b = issue(&merchant, "98065001", "o%2fx", "p-1").await;
    assert_eq!(a.json()["coupon_id"], b.json()["coupon_id"]);
}
