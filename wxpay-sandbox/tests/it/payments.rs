//! Orders and refunds through an independent raw-HTTP merchant, and the sandbox controls
//! over HTTP: served beside the platform API, without its signature gate.

use crate::common;

use common::{Merchant, USER_AGENT, send};
use serde_json::json;
use wxpay_sandbox::{SANDBOX_APPID, SANDBOX_OPENID, Sandbox};

#[tokio::test]
async fn orders_refunds_and_http_controls() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let merchant = Merchant::of(&sandbox);
    let order = json!({
        "appid": SANDBOX_APPID,
        "mchid": merchant.mchid,
        "description": "raw",
        "out_trade_no": "raw000001",
        "notify_url": "https://merchant.example.com/notify",
        "amount": { "total": 300, "currency": "CNY" },
        "payer": { "openid": SANDBOX_OPENID },
    })
    .to_string();
    let prepay = merchant
        .verified("POST", "/v3/pay/transactions/jsapi", &order, &[])
        .await;
    assert_eq!(prepay.status, 200);
    assert!(
        prepay.json()["prepay_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("wx"))
    );

    // An H5 payer carries no `openid` in the spec (only, at most, the encrypted identity).
    let h5 = json!({
        "appid": SANDBOX_APPID,
        "mchid": merchant.mchid,
        "description": "raw h5",
        "out_trade_no": "raw000002",
        "notify_url": "https://merchant.example.com/notify",
        "amount": { "total": 300 },
        "payer": {},
        "scene_info": { "payer_client_ip": "127.0.0.1", "h5_info": { "type": "Wap" } },
    })
    .to_string();
    let answer = merchant
        .verified("POST", "/v3/pay/transactions/h5", &h5, &[])
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.json()["h5_url"].is_string(), "{answer:?}");

    // Controls need no signature and answer unsigned.
    let ua = [("User-Agent".to_owned(), USER_AGENT.to_owned())];
    let paid = send(
        merchant.addr,
        "POST",
        "/sandbox/orders/raw000001/pay",
        &ua,
        b"",
    )
    .await;
    assert_eq!(paid.status, 200, "{paid:?}");
    assert_eq!(paid.json()["trade_state"], "SUCCESS");
    assert!(paid.header("Wechatpay-Signature").is_none());
    let again = send(
        merchant.addr,
        "POST",
        "/sandbox/orders/raw000001/pay",
        &ua,
        b"",
    )
    .await;
    assert_eq!((again.status, again.code().as_str()), (403, "ORDERPAID"));
    let missing = send(
        merchant.addr,
        "POST",
        "/sandbox/orders/nope/expire",
        &ua,
        b"",
    )
    .await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (404, "ORDER_NOT_EXIST")
    );

    // The platform API still requires a signature.
    let unsigned = send(
        merchant.addr,
        "GET",
        "/v3/pay/transactions/out-trade-no/raw000001?mchid=1230000109",
        &ua,
        b"",
    )
    .await;
    assert_eq!(unsigned.status, 401);

    let query = merchant
        .verified(
            "GET",
            &format!(
                "/v3/pay/transactions/out-trade-no/raw000001?mchid={}",
                merchant.mchid
            ),
            "",
            &[],
        )
        .await;
    assert_eq!(query.json()["amount"]["payer_total"], 300);

    let refund = |no: &str, amount: u64| {
        json!({
            "out_trade_no": "raw000001",
            "out_refund_no": no,
            "amount": { "refund": amount, "total": 300, "currency": "CNY" },
        })
        .to_string()
    };
    let first = merchant
        .verified(
            "POST",
            "/v3/refund/domestic/refunds",
            &refund("rr1", 200),
            &[],
        )
        .await;
    assert_eq!(first.json()["status"], "PROCESSING");
    let over = merchant
        .verified(
            "POST",
            "/v3/refund/domestic/refunds",
            &refund("rr2", 101),
            &[],
        )
        .await;
    assert_eq!(
        (over.status, over.code().as_str()),
        (400, "INVALID_REQUEST")
    );
    let abnormal = send(
        merchant.addr,
        "POST",
        "/sandbox/refunds/rr1/abnormal",
        &ua,
        b"",
    )
    .await;
    assert_eq!(abnormal.json()["status"], "ABNORMAL");

    let synthetic = send(
        merchant.addr,
        "POST",
        "/sandbox/bills/2026-01-02/synthetic-trades?rows=10",
        &ua,
        b"",
    )
    .await;
    assert_eq!(synthetic.json()["added"], 10);
    let bill = merchant
        .verified(
            "GET",
            "/v3/bill/tradebill?bill_date=2026-01-02&bill_type=ALL",
            "",
            &[],
        )
        .await;
    assert_eq!(bill.json()["hash_type"], "SHA1");
    assert!(
        bill.json()["download_url"]
            .as_str()
            .is_some_and(|u| u.contains("/v3/billdownload/file?token="))
    );
    sandbox.shutdown().await;
}
