//! Notifications as a merchant's server receives them, checked independently (aws-lc-rs, no
//! SDK): sealed and signed like the platform's, retried on failure, deliberately wrong when
//! asked, and the `/sandbox` control API.

use crate::common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{Merchant, aead_open, encrypt_field, send, unix_now};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use wxpay_sandbox::{
    Delivery, DeliveryMode, NOTIFY_ATTEMPTS, SANDBOX_APPID, SANDBOX_OPENID, Sandbox,
};

/// One request as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    fn envelope(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON envelope")
    }

    /// As `common::Reply::verify`, for a request.
    fn as_reply(&self) -> common::Reply {
        common::Reply {
            status: 200,
            headers: self.headers.clone(),
            body: self.body.clone(),
        }
    }
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer with, in order; 204 once they run out.
    script: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    receiver.received.lock().unwrap().push(Received {
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: body.to_vec(),
    });
    let status = receiver.script.lock().unwrap().pop_front().unwrap_or(204);
    StatusCode::from_u16(status).unwrap()
}

/// A receiver on 127.0.0.1 and its URL.
async fn receiver(script: &[u16]) -> (Receiver, String) {
    let receiver = Receiver::default();
    receiver.script.lock().unwrap().extend(script);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/notify", post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (receiver, url)
}

async fn issue_favor_coupon(merchant: &Merchant, stock_id: &str, out_request_no: &str) -> String {
    let body = json!({
        "stock_id": stock_id,
        "out_request_no": out_request_no,
        "appid": SANDBOX_APPID,
        "stock_creator_mchid": merchant.mchid,
    })
    .to_string();
    let url = format!("/v3/marketing/favor/users/{SANDBOX_OPENID}/coupons");
    let reply = merchant.call("POST", &url, &body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json());
    reply.json()["coupon_id"].as_str().unwrap().to_owned()
}

async fn send_multiuse_coupon(merchant: &Merchant, stock_id: &str, out_request_no: &str) -> u16 {
    let key = merchant.platform_key();
    let body = json!({
        "stock_id": stock_id,
        "out_request_no": out_request_no,
        "user_name": encrypt_field(&key, "张三"),
        "id_card_number": encrypt_field(&key, "110101199003070000"),
        "appid": SANDBOX_APPID,
        "card_type": "ID_CARD",
    })
    .to_string();
    let url = format!("/v3/multiuse/users/{SANDBOX_OPENID}/coupons");
    let serial = merchant.settings.platform_serial.clone();
    merchant
        .call_with("POST", &url, &body, &[("Wechatpay-Serial", &serial)])
        .await
        .status
}

/// The decrypted resource of a received notification, checking the seal on the way.
fn open(sandbox: &Sandbox, received: &Received) -> Value {
    let envelope = received.envelope();
    let resource = &envelope["resource"];
    assert_eq!(resource["algorithm"], "AEAD_AES_256_GCM");
    let nonce = resource["nonce"].as_str().unwrap();
    assert_eq!(nonce.len(), 12);
    assert!(nonce.bytes().all(|b| b.is_ascii_alphanumeric()));
    let plaintext = aead_open(
        sandbox.merchant().apiv3_key.expose(),
        nonce,
        resource["associated_data"].as_str().unwrap(),
        resource["ciphertext"].as_str().unwrap(),
    )
    .expect("the resource opens with the APIv3 key");
    serde_json::from_slice(&plaintext).unwrap()
}

async fn sandbox_to(url: &str) -> Sandbox {
    Sandbox::builder().notify_url(url).start().await.unwrap()
}

#[tokio::test]
async fn a_used_coupon_is_notified_sealed_and_signed_like_the_platform() {
    let (receiver, url) = receiver(&[]).await;
    let sandbox = sandbox_to(&url).await;
    let merchant = Merchant::of(&sandbox);
    let stock_id = sandbox.favor_stock_ids()[0].clone();
    let coupon_id = issue_favor_coupon(&merchant, &stock_id, "notify-1").await;
    let id = sandbox.use_favor_coupon(&coupon_id).await.unwrap().unwrap();
    let deliveries = sandbox.settled_deliveries().await;
    assert_eq!(deliveries.len(), 1);
    let delivery: &Delivery = &deliveries[0];
    assert_eq!(delivery.notification_id, id);
    assert_eq!(delivery.event_type, "COUPON.USE");
    assert_eq!(delivery.mode, DeliveryMode::Genuine);
    assert_eq!(delivery.attempts, [Some(204)]);
    assert!(delivery.acknowledged && delivery.finished);
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let notification = &received[0];
    notification
        .as_reply()
        .verify(&merchant.platform_key())
        .expect("signed with the platform key");
    assert_eq!(
        notification.header("Wechatpay-Serial"),
        merchant.settings.platform_serial
    );
    assert_eq!(
        notification.header("Wechatpay-Signature-Type"),
        "WECHATPAY2-SHA256-RSA2048"
    );
    let envelope = notification.envelope();
    assert_eq!(envelope["id"], id.as_str());
    assert_eq!(envelope["event_type"], "COUPON.USE");
    assert_eq!(envelope["resource_type"], "encrypt-resource");
    assert_eq!(envelope["resource"]["original_type"], "coupon");
    assert_eq!(envelope["resource"]["associated_data"], "coupon");
    assert!(
        envelope["create_time"]
            .as_str()
            .unwrap()
            .ends_with("+08:00")
    );
    let coupon = open(&sandbox, notification);
    assert_eq!(coupon["coupon_id"], coupon_id.as_str());
    assert_eq!(coupon["stock_id"], stock_id.as_str());
    assert_eq!(coupon["status"], "USED");
    assert_eq!(coupon["normal_coupon_information"]["coupon_amount"], 100);
    assert_eq!(
        coupon["consume_information"]["consume_mchid"],
        merchant.mchid.as_str()
    );

    let again = sandbox.use_favor_coupon(&coupon_id).await;
    assert!(again.is_err(), "a coupon is used once");
    assert!(sandbox.use_favor_coupon("404").await.is_err());
}

#[tokio::test]
async fn failures_are_retried_until_acknowledged_or_out_of_attempts() {
    let (receiver, url) = receiver(&[500, 503]).await;
    let sandbox = sandbox_to(&url).await;
    let merchant = Merchant::of(&sandbox);
    let stock_id = sandbox.favor_stock_ids()[0].clone();
    let first = issue_favor_coupon(&merchant, &stock_id, "retry-1").await;
    sandbox.use_favor_coupon(&first).await.unwrap();
    let deliveries = sandbox.settled_deliveries().await;
    assert_eq!(deliveries[0].attempts, [Some(500), Some(503), Some(204)]);
    assert!(deliveries[0].acknowledged);
    // Every attempt carries the same notification, signed afresh.
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 3);
    assert!(received.windows(2).all(|w| w[0].body == w[1].body));
    for attempt in &received {
        attempt.as_reply().verify(&merchant.platform_key()).unwrap();
    }

    let attempts = usize::try_from(NOTIFY_ATTEMPTS).unwrap();
    receiver
        .script
        .lock()
        .unwrap()
        .extend(std::iter::repeat_n(500, attempts));
    let second = issue_favor_coupon(&merchant, &stock_id, "retry-2").await;
    sandbox.use_favor_coupon(&second).await.unwrap();
    let deliveries = sandbox.settled_deliveries().await;
    assert_eq!(deliveries[1].attempts, vec![Some(500); attempts]);
    assert!(!deliveries[1].acknowledged && deliveries[1].finished);

    // Nobody listening: attempts without an answer.
    let closed = wxpay_sandbox::ClosedPort::reserve().unwrap();
    let closed_url = format!("{}/closed", closed.url());
    sandbox.set_notify_url(Some(&closed_url)).unwrap();
    let third = issue_favor_coupon(&merchant, &stock_id, "retry-3").await;
    sandbox.use_favor_coupon(&third).await.unwrap();
    let deliveries = sandbox.settled_deliveries().await;
    assert_eq!(deliveries[2].attempts, vec![None; attempts]);
}

#[tokio::test]
async fn each_fault_mode_is_what_it_says() {
    let (receiver, url) = receiver(&[]).await;
    let sandbox = sandbox_to(&url).await;
    let merchant = Merchant::of(&sandbox);
    let stock_id = sandbox.favor_stock_ids()[0].clone();
    let modes = [
        DeliveryMode::Probe,
        DeliveryMode::StaleTimestamp,
        DeliveryMode::TamperedBody,
        DeliveryMode::Duplicate,
    ];
    sandbox.queue_delivery_modes(modes);
    for n in 0..modes.len() {
        let coupon = issue_favor_coupon(&merchant, &stock_id, &format!("mode-{n}")).await;
        sandbox.use_favor_coupon(&coupon).await.unwrap();
        // One at a time, so the receiver's log lines up with the modes.
        sandbox.settled_deliveries().await;
    }
    let deliveries = sandbox.settled_deliveries().await;
    let modes_seen: Vec<DeliveryMode> = deliveries.iter().map(|d| d.mode).collect();
    assert_eq!(
        modes_seen,
        [
            DeliveryMode::Probe,
            DeliveryMode::StaleTimestamp,
            DeliveryMode::TamperedBody,
            DeliveryMode::Duplicate,
            DeliveryMode::Duplicate,
        ]
    );
    // This receiver acknowledges everything, so each delivery took one attempt.
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 5);
    let key = merchant.platform_key();

    assert!(
        received[0]
            .header("Wechatpay-Signature")
            .starts_with("WECHATPAY/SIGNTEST/")
    );

    let stale: i64 = received[1].header("Wechatpay-Timestamp").parse().unwrap();
    assert!(unix_now() - stale >= 600 - 5);
    // Genuinely signed, just old: only the clock check catches it.
    let mut message = format!("{stale}\n{}\n", received[1].header("Wechatpay-Nonce")).into_bytes();
    message.extend_from_slice(&received[1].body);
    message.push(b'\n');
    let signature = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        received[1].header("Wechatpay-Signature"),
    )
    .unwrap();
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        &key,
    )
    .verify(&message, &signature)
    .expect("the stale notification is otherwise genuine");

    assert!(received[2].as_reply().verify(&key).is_err(), "tampered");
    // The tampering is in the clear part only: the resource still opens.
    open(&sandbox, &received[2]);

    received[3].as_reply().verify(&key).unwrap();
    received[4].as_reply().verify(&key).unwrap();
    assert_eq!(
        received[3].body, received[4].body,
        "a duplicate is the same notification"
    );
    assert_ne!(
        received[3].header("Wechatpay-Nonce"),
        received[4].header("Wechatpay-Nonce")
    );
}

#[tokio::test]
async fn a_multiuse_coupon_is_notified_once_per_request() {
    let (receiver, url) = receiver(&[]).await;
    let sandbox = sandbox_to(&url).await;
    let merchant = Merchant::of(&sandbox);
    let stock_id = sandbox.multiuse_stock_ids()[0].clone();
    assert_eq!(send_multiuse_coupon(&merchant, &stock_id, "m-1").await, 200);
    assert_eq!(send_multiuse_coupon(&merchant, &stock_id, "m-1").await, 200);
    let deliveries = sandbox.settled_deliveries().await;
    assert_eq!(deliveries.len(), 1, "the repeat issues nothing new");
    assert_eq!(deliveries[0].event_type, "COUPON.SEND");
    let received = receiver.received.lock().unwrap().clone();
    let sent = open(&sandbox, &received[0]);
    assert_eq!(sent["stock_id"], stock_id.as_str());
    assert_eq!(sent["out_request_no"], "m-1");
    assert!(
        !String::from_utf8_lossy(&received[0].body).contains("张三"),
        "identity never travels in notifications"
    );
}

#[tokio::test]
async fn without_a_notify_url_nothing_is_sent() {
    let sandbox = Sandbox::start().await.unwrap();
    let merchant = Merchant::of(&sandbox);
    let stock_id = sandbox.favor_stock_ids()[0].clone();
    let coupon = issue_favor_coupon(&merchant, &stock_id, "quiet").await;
    assert_eq!(sandbox.use_favor_coupon(&coupon).await.unwrap(), None);
    assert!(sandbox.settled_deliveries().await.is_empty());
    assert!(
        sandbox
            .set_notify_url(Some("https://example.com/n"))
            .is_err()
    );
    assert!(
        Sandbox::builder()
            .notify_url("ftp://x")
            .start()
            .await
            .is_err()
    );
}

/// The control API over plain HTTP: unauthenticated, unsigned, under `/sandbox`.
#[tokio::test]
async fn the_control_api() {
    let (receiver, url) = receiver(&[]).await;
    let sandbox = Sandbox::start().await.unwrap();
    let merchant = Merchant::of(&sandbox);
    let addr = sandbox.local_addr();
    let json_headers = [("Content-Type".to_owned(), "application/json".to_owned())];
    let control = |method: &'static str, path: String, body: Value| {
        let headers = json_headers.clone();
        async move { send(addr, method, &path, &headers, body.to_string().as_bytes()).await }
    };

    let reply = control("GET", "/sandbox/notify-url".into(), json!(null)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["notify_url"], Value::Null);
    assert!(
        reply.header("Wechatpay-Signature").is_none(),
        "controls are not platform API"
    );

    let bad = control(
        "PUT",
        "/sandbox/notify-url".into(),
        json!({ "notify_url": "ftp://x" }),
    )
    .await;
    assert_eq!((bad.status, bad.code().as_str()), (400, "PARAM_ERROR"));
    let set = control(
        "PUT",
        "/sandbox/notify-url".into(),
        json!({ "notify_url": url }),
    )
    .await;
    assert_eq!(set.status, 200);

    let unknown = control(
        "POST",
        "/sandbox/notifications/modes".into(),
        json!({ "modes": ["loud"] }),
    )
    .await;
    assert_eq!(unknown.status, 400);
    let queued = control(
        "POST",
        "/sandbox/notifications/modes".into(),
        json!({ "modes": ["probe"] }),
    )
    .await;
    assert_eq!(queued.status, 200);

    let stock_id = sandbox.favor_stock_ids()[0].clone();
    let coupon = issue_favor_coupon(&merchant, &stock_id, "control").await;
    let used = control(
        "POST",
        format!("/sandbox/favor/coupons/{coupon}/use"),
        json!({}),
    )
    .await;
    assert_eq!(used.status, 200, "{:?}", used.json());
    let id = used.json()["notification_id"].as_str().unwrap().to_owned();
    let twice = control(
        "POST",
        format!("/sandbox/favor/coupons/{coupon}/use"),
        json!({}),
    )
    .await;
    assert_eq!(
        (twice.status, twice.code().as_str()),
        (400, "INVALID_REQUEST")
    );
    let missing = control("POST", "/sandbox/favor/coupons/1/use".into(), json!({})).await;
    assert_eq!(missing.status, 404);

    sandbox.settled_deliveries().await;
    let listed = control("GET", "/sandbox/notifications".into(), json!(null)).await;
    let deliveries = listed.json()["deliveries"].clone();
    assert_eq!(deliveries[0]["notification_id"], id.as_str());
    assert_eq!(deliveries[0]["mode"], "probe");
    assert_eq!(deliveries[0]["attempts"], json!([204]));
    assert_eq!(receiver.received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn payments_and_refunds_are_notified_as_the_platform_does() {
    let (receiver, url) = receiver(&[]).await;
    let sandbox = sandbox_to(&url).await;
    let merchant = Merchant::of(&sandbox);
    let order = json!({
        "appid": SANDBOX_APPID,
        "mchid": merchant.mchid,
        "description": "notified",
        "out_trade_no": "notify000001",
        "notify_url": "https://merchant.example.com/notify",
        "amount": { "total": 500 },
        "payer": { "openid": SANDBOX_OPENID },
    })
    .to_string();
    let prepay = merchant
        .verified("POST", "/v3/pay/transactions/jsapi", &order, &[])
        .await;
    assert_eq!(prepay.status, 200);
    let transaction_id = sandbox.pay_order("notify000001").unwrap();
    for (out_refund_no, amount) in [("notify000001r1", 100), ("notify000001r2", 200)] {
        let refund = json!({
            "out_trade_no": "notify000001",
            "out_refund_no": out_refund_no,
            "amount": { "refund": amount, "total": 500, "currency": "CNY" },
        })
        .to_string();
        let made = merchant
            .verified("POST", "/v3/refund/domestic/refunds", &refund, &[])
            .await;
        assert_eq!(made.status, 200, "{made:?}");
    }
    let path = "/v3/refund/domestic/refunds/notify000001r1";
    let queried = merchant.verified("GET", path, "", &[]).await;
    assert_eq!(queried.json()["status"], "SUCCESS");
    // Looked at again, it is not notified again.
    merchant.verified("GET", path, "", &[]).await;
    sandbox.make_refund_abnormal("notify000001r2").unwrap();

    let deliveries = sandbox.settled_deliveries().await;
    let kinds: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(
        kinds,
        ["TRANSACTION.SUCCESS", "REFUND.SUCCESS", "REFUND.ABNORMAL"]
    );
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 3);
    for notification in &received {
        notification
            .as_reply()
            .verify(&merchant.platform_key())
            .expect("signed with the platform key");
    }
    // Deliveries run concurrently: find each by its event type.
    let of = |event_type: &str| {
        received
            .iter()
            .find(|r| r.envelope()["event_type"] == event_type)
            .unwrap_or_else(|| panic!("{event_type} received"))
    };
    let transaction = open(&sandbox, of("TRANSACTION.SUCCESS"));
    assert_eq!(transaction["trade_state"], "SUCCESS");
    assert_eq!(transaction["transaction_id"], transaction_id.as_str());
    assert_eq!(transaction["payer"]["openid"], SANDBOX_OPENID);
    assert_eq!(transaction["amount"]["total"], 500);
    assert_eq!(
        of("TRANSACTION.SUCCESS").envelope()["resource"]["original_type"],
        "transaction"
    );
    let refund = open(&sandbox, of("REFUND.SUCCESS"));
    assert_eq!(refund["refund_status"], "SUCCESS");
    assert_eq!(refund["mchid"], merchant.mchid.as_str());
    assert_eq!(refund["out_refund_no"], "notify000001r1");
    assert_eq!(refund["amount"]["refund"], 100);
    assert_eq!(
        open(&sandbox, of("REFUND.ABNORMAL"))["refund_status"],
        "ABNORMAL"
    );
    assert_eq!(of("REFUND.ABNORMAL").envelope()["summary"], "退款异常");
}

/// `POST /sandbox/notifications`: any event type of the spec, with a resource or the catalog
/// example, sealed and signed like every notification; anything else refused.
#[tokio::test]
async fn any_event_type_is_notified_on_demand() {
    let (receiver, url) = receiver(&[]).await;
    let sandbox = sandbox_to(&url).await;
    let addr = sandbox.local_addr();
    let json_headers = [("Content-Type".to_owned(), "application/json".to_owned())];
    let control = |body: Value| {
        let headers = json_headers.clone();
        async move {
            send(
                addr,
                "POST",
                "/sandbox/notifications",
                &headers,
                body.to_string().as_bytes(),
            )
            .await
        }
    };

    // The catalog example of a typed event type, a service provider's shape, and a resource
    // of one's own for an event type the catalog does not type.
    let example = control(json!({ "event_type": "HIRE_POWER_BANK.RECEIVE_INSURANCE" })).await;
    assert_eq!(example.status, 200, "{:?}", example.json());
    let partner = control(json!({ "event_type": "TRANSACTION.SUCCESS", "shape": "partner" })).await;
    assert_eq!(partner.status, 200, "{:?}", partner.json());
    let complaint =
        json!({ "complaint_id": "200201820200101080076610000", "action_type": "CREATE_COMPLAINT" });
    let own = control(json!({ "event_type": "COMPLAINT.CREATE", "resource": complaint })).await;
    assert_eq!(own.status, 200, "{:?}", own.json());

    for refused in [
        json!({ "event_type": "NOT.AN_EVENT" }),
        // No catalog type, so no example.
        json!({ "event_type": "COMPLAINT.CREATE" }),
        json!({ "event_type": "COUPON.USE", "shape": "partner" }),
        json!({ "event_type": "COUPON.USE", "shape": "sideways" }),
        json!({ "event_type": "COUPON.USE", "resource": [1, 2] }),
        json!({ "event_type": "COUPON.USE", "resource": {}, "shape": "direct" }),
        json!({ "event_type": "COUPON.USE", "extra": 1 }),
    ] {
        let reply = control(refused.clone()).await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (400, "PARAM_ERROR"),
            "{refused}"
        );
    }

    let deliveries = sandbox.settled_deliveries().await;
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries.iter().all(|d| d.acknowledged));
    let received = receiver.received.lock().unwrap().clone();
    let by_type = |event_type: &str| {
        received
            .iter()
            .find(|r| r.envelope()["event_type"] == event_type)
            .unwrap_or_else(|| panic!("{event_type} not received"))
            .clone()
    };
    let insurance = by_type("HIRE_POWER_BANK.RECEIVE_INSURANCE");
    insurance
        .as_reply()
        .verify(&Merchant::of(&sandbox).platform_key())
        .unwrap();
    assert_eq!(
        insurance.envelope()["summary"],
        "隔夜归还保险订单状态变化通知"
    );
    assert!(open(&sandbox, &insurance)["out_order_no"].is_string());
    assert!(open(&sandbox, &by_type("TRANSACTION.SUCCESS"))["sp_mchid"].is_string());
    assert_eq!(
        open(&sandbox, &by_type("COMPLAINT.CREATE"))["action_type"],
        "CREATE_COMPLAINT"
    );
}
