//! APIv2 through `Client`: declared v2 endpoints sent by `Client::send` to the sandbox's
//! independent APIv2 (both sign types, both backends), the merchant's client certificate on
//! the connection of `cert` operations only, APIv3 on the same client, answers that are not
//! data refused, the "never twice" rule for retries, and v2 notifications read through the
//! client (and axum). Loopback only: the sandbox over HTTPS with its TEST CA and certificates,
//! and small loopback servers for what the sandbox will not do.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use wxpay_core::apiv2::{self, Fields, Notification, SignType};
use wxpay_core::{
    ApiV2Error, ApiV2Key, ApiV2NotificationError, ApiV2SignError, Client, ConfigError,
    CryptoBackend, Error, RequestError, RetryPolicy, TransportErrorKind,
};
use wxpay_macros::endpoint;
use wxpay_sandbox::Sandbox;

use crate::common::{v2_client_builder, v2_fixture as fixture, v2_sandbox};
use crate::loopback::{Loopback, answer, now};

const KEY: &str = "TEST0APIv2Key0client123456789abc";
const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";
/// The serial of `TEST-apiclient-cert.pem`: the merchant's API certificate, whose key signs
/// APIv3 requests and holds the TLS connection of `cert` operations.
const MERCHANT_SERIAL: &str = "16412D2BC33DC85094A8A7B1B2FD7D9303DA7B49";

#[endpoint(v2 POST "/pay/micropay" -> Paid, idempotent, sign_type = either, crate = "wxpay_core")]
pub struct Micropay {
    pub appid: String,
    pub mch_id: String,
    pub body: String,
    pub out_trade_no: String,
    pub total_fee: u64,
    pub spbill_create_ip: String,
    pub auth_code: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct Paid {
    pub transaction_id: String,
    pub out_trade_no: String,
    pub total_fee: u64,
}

#[endpoint(v2 POST "/pay/unifiedorder" -> Ordered, sign_type = either, crate = "wxpay_core")]
pub struct UnifiedOrder {
    pub appid: String,
    pub mch_id: String,
    pub body: String,
    pub out_trade_no: String,
    pub total_fee: u64,
    pub spbill_create_ip: String,
    pub notify_url: String,
    pub trade_type: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct Ordered {
    pub prepay_id: Option<String>,
    pub code_url: Option<String>,
}

#[endpoint(v2 POST "/secapi/pay/refund" -> Refunded, cert, idempotent, sign_type = either, crate = "wxpay_core")]
pub struct Refund {
    pub appid: String,
    pub mch_id: String,
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub total_fee: u64,
    pub refund_fee: u64,
    pub notify_url: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct Refunded {
    pub out_refund_no: String,
    pub refund_fee: u64,
}

#[endpoint(v2 POST "/mmpaymkttransfers/sendredpack" -> RedpackSent, cert, unsigned_answer, idempotent, crate = "wxpay_core")]
pub struct SendRedpack {
    pub mch_billno: String,
    pub mch_id: String,
    pub wxappid: String,
    pub send_name: String,
    pub re_openid: String,
    pub total_amount: u64,
    pub total_num: u32,
    pub wishing: String,
    pub client_ip: String,
    pub act_name: String,
    pub remark: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct RedpackSent {
    pub mch_billno: String,
    pub total_amount: u64,
    pub send_listid: String,
}

/// A sandbox that knows the merchant by its API certificate (so one key signs APIv3 and holds
/// the TLS connection), with its HTTPS listener.
async fn sandbox(notify_url: Option<&str>) -> Sandbox {
    let mut builder = v2_sandbox(KEY);
    if let Some(url) = notify_url {
        builder = builder.notify_url(url);
    }
    builder.start().await.expect("sandbox starts")
}

fn micropay(out_trade_no: &str) -> Micropay {
    Micropay::new(MicropayRequired {
        appid: APPID.into(),
        mch_id: MCHID.into(),
        body: "TEST image形象店 & <co>".into(),
        out_trade_no: out_trade_no.into(),
        total_fee: 300,
        spbill_create_ip: "127.0.0.1".into(),
        auth_code: "120061098828009406".into(),
    })
}

fn unified_order(out_trade_no: &str, notify_url: &str) -> UnifiedOrder {
    UnifiedOrder::new(UnifiedOrderRequired {
        appid: APPID.into(),
        mch_id: MCHID.into(),
        body: "TEST".into(),
        out_trade_no: out_trade_no.into(),
        total_fee: 1,
        spbill_create_ip: "127.0.0.1".into(),
        notify_url: notify_url.into(),
        trade_type: "NATIVE".into(),
    })
}

fn send_redpack(mch_billno: &str) -> SendRedpack {
    SendRedpack::new(SendRedpackRequired {
        mch_billno: mch_billno.into(),
        mch_id: MCHID.into(),
        wxappid: APPID.into(),
        send_name: "TEST 天虹百货".into(),
        re_openid: "oxTWIuGaIt6gTKsQRLau2M0yL16E".into(),
        total_amount: 1000,
        total_num: 1,
        wishing: "TEST 感谢您参加猜灯谜活动".into(),
        client_ip: "127.0.0.1".into(),
        act_name: "TEST 猜灯谜抢红包活动".into(),
        remark: "TEST & <remark>".into(),
    })
}

#[tokio::test]
async fn declared_v2_endpoints_go_through_send_in_both_sign_types_and_backends() {
    let sandbox = sandbox(None).await;
    for &backend in CryptoBackend::all() {
        for sign_type in [SignType::Md5, SignType::HmacSha256] {
            let client = v2_client_builder(&sandbox, false)
                .crypto_backend(backend)
                .apiv2_sign_type(sign_type)
                .build()
                .expect("client");
            // What goes out names the preferred sign type (MD5 is the unnamed default).
            let prepared = client.prepare(&micropay("TESTprepared")).expect("prepared");
            let sent = apiv2::parse(prepared.body()).expect("our XML");
            let expected = (sign_type == SignType::HmacSha256).then_some("HMAC-SHA256");
            assert_eq!(sent.get("sign_type"), expected, "{backend:?} {sign_type}");
            assert_eq!(
                sent.get("sign").map(str::len),
                Some(sign_type_len(sign_type))
            );

            let out_trade_no = format!("TEST{backend:?}{sign_type}");
            let paid = client
                .send_verified(micropay(&out_trade_no))
                .await
                .unwrap_or_else(|e| panic!("{backend:?} {sign_type}: {e}"));
            assert_eq!(paid.status, 200);
            assert_eq!(paid.value.out_trade_no, out_trade_no);
            assert_eq!(paid.value.total_fee, 300);
            assert!(!paid.value.transaction_id.is_empty());
        }
    }
}

fn sign_type_len(sign_type: SignType) -> usize {
    match sign_type {
        SignType::Md5 => 32,
        _ => 64,
    }
}

#[tokio::test]
async fn a_cert_operation_goes_over_mtls_and_apiv3_still_works_on_the_same_client() {
    let sandbox = sandbox(None).await;
    let client = v2_client_builder(&sandbox, true).build().expect("client");
    let sent = client
        .send(send_redpack("TEST10000098201411111234567890"))
        .await
        .expect("red packet sent over mTLS");
    assert_eq!(sent.mch_billno, "TEST10000098201411111234567890");
    assert_eq!(sent.total_amount, 1000);
    assert!(!sent.send_listid.is_empty());

    // An ordinary v2 call goes on the plain connection, and still succeeds.
    client
        .send(micropay("TESTplain"))
        .await
        .expect("a call without the certificate");

    // APIv3 on the same client, same HTTPS host: signed with the same merchant key, verified.
    client
        .refresh_platform_certificates()
        .await
        .expect("an APIv3 call");
    let stock_id = sandbox.favor_stock_ids()[0].clone();
    let stock: serde_json::Value = client
        .get("/v3/marketing/favor/stocks/{stock_id}")
        .path("stock_id", &stock_id)
        .query("stock_creator_mchid", MCHID)
        .send()
        .await
        .expect("an APIv3 query");
    assert_eq!(stock["stock_id"], stock_id.as_str());
}

#[tokio::test]
async fn without_the_certificate_a_cert_operation_is_a_config_error_and_nothing_is_sent() {
    // A loopback server that would answer anything: nothing must reach it.
    let server = Loopback::answering(answer(500, "", b"")).await;
    let client = crate::loopback::merchant(&server.url)
        .apiv2_key(ApiV2Key::new(KEY).unwrap())
        .build()
        .expect("client");
    match client.send(send_redpack("TEST1")).await {
        Err(Error::Config(ConfigError::Missing { setting })) => {
            assert_eq!(setting, "merchant_certificate");
        }
        other => panic!("expected the missing certificate, got {other:?}"),
    }
    // Without an APIv2 key, any v2 call.
    let without_key = crate::loopback::merchant(&server.url)
        .build()
        .expect("client");
    match without_key.send(micropay("TEST1")).await {
        Err(Error::Config(ConfigError::Missing { setting })) => assert_eq!(setting, "apiv2_key"),
        other => panic!("expected the missing APIv2 key, got {other:?}"),
    }
    assert!(matches!(
        without_key.prepare(&micropay("TEST1")),
        Err(Error::Config(ConfigError::Missing { .. }))
    ));
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn the_sandbox_refuses_a_cert_operation_on_a_plain_connection() {
    // The endpoint declared without `cert` (as a mistaken declaration would be): the client
    // sends it on the connection without the certificate, and the platform refuses it.
    #[endpoint(v2 POST "/mmpaymkttransfers/sendredpack" -> RedpackSent, unsigned_answer, crate = "wxpay_core")]
    pub struct UndeclaredCert {
        pub mch_billno: String,
        pub mch_id: String,
        pub wxappid: String,
        pub send_name: String,
        pub re_openid: String,
        pub total_amount: u64,
        pub total_num: u32,
        pub wishing: String,
        pub client_ip: String,
        pub act_name: String,
        pub remark: String,
    }
    let sandbox = sandbox(None).await;
    let client = v2_client_builder(&sandbox, true).build().expect("client");
    let request = UndeclaredCert::new(UndeclaredCertRequired {
        mch_billno: "TEST2".into(),
        mch_id: MCHID.into(),
        wxappid: APPID.into(),
        send_name: "TEST".into(),
        re_openid: "oxTWIuGaIt6gTKsQRLau2M0yL16E".into(),
        total_amount: 100,
        total_num: 1,
        wishing: "TEST".into(),
        client_ip: "127.0.0.1".into(),
        act_name: "TEST".into(),
        remark: "TEST".into(),
    });
    let refused = client.send(request).await;
    assert!(
        matches!(refused, Err(Error::ApiV2(ApiV2Error::Platform { .. }))),
        "the certificate is offered only where declared: {refused:?}"
    );
}

#[test]
fn a_certificate_of_another_key_is_refused_when_the_client_is_built() {
    let err = crate::loopback::merchant("http://127.0.0.1:1")
        .merchant_certificate(fixture("TEST-apiclient-cert.pem"))
        .build()
        .expect_err("not the merchant key's certificate");
    assert!(
        matches!(&err, ConfigError::Invalid { setting, .. } if setting == "merchant_certificate"),
        "{err}"
    );
    let err = crate::loopback::merchant("http://127.0.0.1:1")
        .merchant_certificate("not a PEM")
        .build()
        .expect_err("not a certificate");
    assert!(
        matches!(&err, ConfigError::Key { setting, .. } if setting == "merchant_certificate"),
        "{err}"
    );
    let debug = format!(
        "{:?}",
        crate::loopback::merchant("http://127.0.0.1:1").apiv2_key(ApiV2Key::new(KEY).unwrap())
    );
    assert!(!debug.contains(KEY), "{debug}");
}

/// A loopback platform answering every v2 call with `body` (200).
async fn answering_v2(body: String) -> (Loopback, Client) {
    let server = Loopback::answering(answer(200, "", body.as_bytes())).await;
    let client = crate::loopback::merchant(&server.url)
        .apiv2_key(ApiV2Key::new(KEY).unwrap())
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client");
    (server, client)
}

fn signed(fields: &[(&str, &str)], key: &str, sign_type: SignType) -> String {
    let fields: Fields = fields.iter().copied().collect();
    apiv2::signed_request_xml(
        fields,
        Some("TESTanswer"),
        &ApiV2Key::new(key).unwrap(),
        sign_type,
        CryptoBackend::default(),
    )
    .expect("signed")
}

const PAID: &[(&str, &str)] = &[
    ("return_code", "SUCCESS"),
    ("result_code", "SUCCESS"),
    ("transaction_id", "TEST4200000001"),
    ("out_trade_no", "TEST1"),
    ("total_fee", "300"),
];

#[tokio::test]
async fn answers_that_are_not_data_are_refused_with_typed_errors() {
    // The client prefers HMAC-SHA256 by default, so a signed answer must be too.
    let (_, client) = answering_v2(signed(PAID, KEY, SignType::HmacSha256)).await;
    let paid = client.send(micropay("TEST1")).await.expect("verified");
    assert_eq!(paid.transaction_id, "TEST4200000001");

    // Signed with another key.
    let other = "TESTotherkey0123456789ABCDEFGHIJ";
    let (_, client) = answering_v2(signed(PAID, other, SignType::HmacSha256)).await;
    match client.send(micropay("TEST1")).await {
        Err(Error::ApiV2(ApiV2Error::Verification(ApiV2SignError::BadSign { .. }))) => {}
        other => panic!("a wrong sign must be refused, got {other:?}"),
    }
    // Signed right, with the other sign type.
    let (_, client) = answering_v2(signed(PAID, KEY, SignType::Md5)).await;
    match client.send(micropay("TEST1")).await {
        Err(Error::ApiV2(ApiV2Error::Verification(ApiV2SignError::OtherSignType { .. }))) => {}
        other => panic!("the other sign type must be refused, got {other:?}"),
    }
    // Not signed at all.
    let unsigned = apiv2::to_xml(&PAID.iter().copied().collect()).expect("xml");
    let (_, client) = answering_v2(unsigned).await;
    match client.send(micropay("TEST1")).await {
        Err(Error::ApiV2(ApiV2Error::Verification(ApiV2SignError::MissingSign))) => {}
        other => panic!("an unsigned answer must be refused, got {other:?}"),
    }
    // return_code FAIL: the platform refused the request.
    let (_, client) = answering_v2(
        "<xml><return_code>FAIL</return_code><return_msg>签名错误</return_msg></xml>".into(),
    )
    .await;
    match client.send(micropay("TEST1")).await {
        Err(Error::ApiV2(ApiV2Error::Platform { return_msg })) => {
            assert_eq!(return_msg.as_deref(), Some("签名错误"));
        }
        other => panic!("expected the platform's refusal, got {other:?}"),
    }
    // result_code FAIL, signed: the business error.
    let failed = signed(
        &[
            ("return_code", "SUCCESS"),
            ("result_code", "FAIL"),
            ("err_code", "USERPAYING"),
            ("err_code_des", "需要用户输入支付密码"),
        ],
        KEY,
        SignType::HmacSha256,
    );
    let (_, client) = answering_v2(failed).await;
    match client.send(micropay("TEST1")).await {
        Err(Error::ApiV2(ApiV2Error::Business { err_code, .. })) => {
            assert_eq!(err_code.as_deref(), Some("USERPAYING"));
        }
        other => panic!("expected the business error, got {other:?}"),
    }
    // A 502 from a gateway, not an APIv2 document.
    let server = Loopback::answering(answer(502, "", b"<html>bad gateway</html>")).await;
    let client = crate::loopback::merchant(&server.url)
        .apiv2_key(ApiV2Key::new(KEY).unwrap())
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client");
    match client.send(micropay("TEST1")).await {
        Err(Error::ApiV2(ApiV2Error::Status { status: 502 })) => {}
        other => panic!("expected the status, got {other:?}"),
    }
}

#[tokio::test]
async fn an_idempotent_v2_post_is_retried_after_a_dropped_connection_and_another_is_not() {
    // Reads each request, then closes the connection without an answer.
    let server = Loopback::start(|_| now(Vec::new())).await;
    let client = crate::loopback::merchant(&server.url)
        .apiv2_key(ApiV2Key::new(KEY).unwrap())
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(1)),
        )
        .build()
        .expect("client");

    let err = client
        .send(unified_order("TESTonce", "http://127.0.0.1:1/notify"))
        .await
        .expect_err("dropped");
    assert!(
        matches!(&err, Error::Transport(e) if e.kind == TransportErrorKind::Interrupted),
        "{err:?}"
    );
    assert_eq!(
        server.count(),
        1,
        "a POST that may have acted is not repeated"
    );

    let err = client
        .send(micropay("TESTtwice"))
        .await
        .expect_err("dropped");
    assert!(
        matches!(&err, Error::Transport(e) if e.kind == TransportErrorKind::Interrupted),
        "{err:?}"
    );
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 4, "the idempotent call is tried 3 times");
    // Each attempt is signed afresh: its own nonce_str, the same order.
    let nonces: std::collections::BTreeSet<String> = arrivals[1..]
        .iter()
        .map(|arrival| {
            let fields = apiv2::parse(&arrival.body).expect("an <xml> body");
            assert_eq!(fields.get("out_trade_no"), Some("TESTtwice"));
            fields.get("nonce_str").expect("nonce").to_owned()
        })
        .collect();
    assert_eq!(nonces.len(), 3);
}

/// The body of the next notification sent to `listener`, answered with `reply`.
async fn notification(listener: &TcpListener) -> Vec<u8> {
    let (mut stream, _) = tokio::time::timeout(Duration::from_secs(20), listener.accept())
        .await
        .expect("notified")
        .expect("accepted");
    let mut request = Vec::new();
    let mut chunk = [0; 4096];
    while !request.ends_with(b"</xml>") {
        let n = stream.read(&mut chunk).await.expect("read");
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}",
        apiv2::ACKNOWLEDGEMENT.len(),
        apiv2::ACKNOWLEDGEMENT
    );
    stream.write_all(reply.as_bytes()).await.expect("reply");
    let start = request
        .windows(5)
        .position(|w| w == b"<xml>")
        .expect("an <xml> body");
    request.split_off(start)
}

/// A payment notification and a refund notification from the sandbox, and the client that
/// reads them.
async fn notifications(sign_type: SignType) -> (Client, Vec<u8>, Vec<u8>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let notify_url = format!("http://{}/notify", listener.local_addr().unwrap());
    let sandbox = sandbox(None).await;
    let client = v2_client_builder(&sandbox, true)
        .apiv2_sign_type(sign_type)
        .build()
        .expect("client");
    let ordered = client
        .send(unified_order("TESTnotified", &notify_url))
        .await
        .expect("ordered");
    assert!(ordered.code_url.is_some() || ordered.prepay_id.is_some());
    assert!(sandbox.pay_v2_order("TESTnotified"));
    let paid = notification(&listener).await;

    client.send(micropay("TESTrefunded")).await.expect("paid");
    let refund = Refund::new(RefundRequired {
        appid: APPID.into(),
        mch_id: MCHID.into(),
        out_trade_no: "TESTrefunded".into(),
        out_refund_no: "TESTrefund1".into(),
        total_fee: 300,
        refund_fee: 100,
        notify_url,
    });
    let refunded = client.send(refund).await.expect("refunded over mTLS");
    assert_eq!(refunded.out_refund_no, "TESTrefund1");
    assert_eq!(refunded.refund_fee, 100);
    let refunded = notification(&listener).await;
    (client, paid, refunded)
}

/// A payment notification whose amount was changed after it was signed.
fn altered(paid: &[u8]) -> String {
    let text = String::from_utf8(paid.to_vec()).expect("UTF-8");
    let forged = text.replacen("<![CDATA[1]]></total_fee>", "<![CDATA[9]]></total_fee>", 1);
    assert_ne!(forged, text, "the amount is where the sandbox writes it");
    forged
}

#[tokio::test]
async fn payment_and_refund_notifications_are_read_through_the_client() {
    for sign_type in [SignType::Md5, SignType::HmacSha256] {
        let (client, paid, refunded) = notifications(sign_type).await;
        match client.read_apiv2_notification(&paid).expect("verified") {
            Notification::Payment(fields) => {
                assert_eq!(fields.get("out_trade_no"), Some("TESTnotified"));
                assert_eq!(fields.get("total_fee"), Some("1"));
            }
            other => panic!("a payment notification, got {other:?}"),
        }
        match client
            .read_apiv2_notification(&refunded)
            .expect("decrypted")
        {
            Notification::Refund(refund) => {
                assert_eq!(refund.refund.get("out_refund_no"), Some("TESTrefund1"));
                assert_eq!(refund.refund.get("refund_fee"), Some("100"));
            }
            other => panic!("a refund notification, got {other:?}"),
        }

        // Altered after signing: refused.
        let forged = altered(&paid);
        assert!(matches!(
            client.read_apiv2_notification(forged.as_bytes()),
            Err(Error::ApiV2Notification(
                ApiV2NotificationError::Verification(_)
            ))
        ));
        // Read by another merchant's key: neither verifies nor decrypts.
        let other = Client::builder()
            .mchid(MCHID)
            .merchant_key(MERCHANT_SERIAL, fixture("TEST-apiclient-key.pem"))
            .platform_certificate(crate::common::key("TEST_platform_cert.pem"))
            .apiv2_key(ApiV2Key::new("TESTotherkey0123456789ABCDEFGHIJ").unwrap())
            .apiv2_sign_type(sign_type)
            .build()
            .expect("client");
        assert!(other.read_apiv2_notification(&paid).is_err());
        assert!(matches!(
            other.read_apiv2_notification(&refunded),
            Err(Error::ApiV2Notification(
                ApiV2NotificationError::ReqInfoPadding
            ))
        ));
    }
}

#[test]
fn a_payment_notification_is_verified_in_the_sign_type_it_names() {
    let client = crate::loopback::merchant("http://127.0.0.1:1")
        .apiv2_key(ApiV2Key::new(KEY).unwrap())
        .build()
        .expect("client");
    let paid = [
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("out_trade_no", "TEST1"),
        ("total_fee", "1"),
    ];
    // Either type, whatever the client signs its own requests with.
    for sign_type in [SignType::Md5, SignType::HmacSha256] {
        let body = signed(&paid, KEY, sign_type);
        assert!(
            matches!(
                client.read_apiv2_notification(body.as_bytes()),
                Ok(Notification::Payment(fields)) if fields.get("out_trade_no") == Some("TEST1")
            ),
            "{sign_type}"
        );
    }
    // Names HMAC-SHA256, signed MD5 (with the name in what was signed): refused.
    let mut fields: Fields = paid.into_iter().collect();
    fields.insert("sign_type", "HMAC-SHA256");
    let md5 = apiv2::sign(
        &fields,
        &ApiV2Key::new(KEY).unwrap(),
        SignType::Md5,
        CryptoBackend::default(),
    )
    .unwrap();
    fields.insert("sign", md5);
    let body = apiv2::to_xml(&fields).unwrap();
    assert!(matches!(
        client.read_apiv2_notification(body.as_bytes()),
        Err(Error::ApiV2Notification(
            ApiV2NotificationError::Verification(ApiV2SignError::OtherSignType { .. })
        ))
    ));
    // The name changed after signing breaks the sign.
    let genuine = signed(&paid, KEY, SignType::HmacSha256);
    let renamed = genuine.replacen("HMAC-SHA256", "MD5", 1);
    assert_ne!(renamed, genuine);
    assert!(client.read_apiv2_notification(renamed.as_bytes()).is_err());
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn payment_and_refund_notifications_are_read_through_axum() {
    use axum::extract::FromRequest;
    use axum::response::IntoResponse;
    use wxpay_core::apiv2::Reply;

    async fn extract(client: &Client, body: Vec<u8>) -> axum::response::Response {
        let request = axum::extract::Request::builder()
            .method("POST")
            .uri("/wxpay/v2/notify")
            .body(axum::body::Body::from(body))
            .unwrap();
        match Notification::from_request(request, client).await {
            Ok(Notification::Payment(fields)) => {
                assert_eq!(fields.get("out_trade_no"), Some("TESTnotified"));
                Reply::acknowledge().into_response()
            }
            Ok(Notification::Refund(refund)) => {
                assert_eq!(refund.refund.get("out_refund_no"), Some("TESTrefund1"));
                Reply::acknowledge().into_response()
            }
            Ok(other) => panic!("{other:?}"),
            Err(rejection) => rejection.into_response(),
        }
    }
    async fn text(response: axum::response::Response) -> (u16, String) {
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    let (client, paid, refunded) = notifications(SignType::HmacSha256).await;
    for body in [paid.clone(), refunded] {
        let (status, reply) = text(extract(&client, body).await).await;
        assert_eq!((status, reply.as_str()), (200, apiv2::ACKNOWLEDGEMENT));
    }
    let forged = altered(&paid);
    let (status, reply) = text(extract(&client, forged.into_bytes()).await).await;
    assert_eq!(status, 500);
    let reply = apiv2::parse(reply.as_bytes()).expect("an XML refusal");
    assert_eq!(reply.get("return_code"), Some("FAIL"));
}

#[endpoint(v2 POST "/pay/downloadbill" -> String, unsigned_answer, answer = text, crate = "wxpay_core")]
pub struct DownloadBill {
    pub appid: String,
    pub mch_id: String,
    pub bill_date: String,
    pub bill_type: String,
}

#[endpoint(v2 GET "/appauth/getaccesstoken" -> AccessToken, unsigned_answer, sign_type = hmac_sha256, no_nonce, answer = json, crate = "wxpay_core")]
#[derive(Clone)]
pub struct GetAccessToken {
    pub mch_id: String,
    pub code: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct AccessToken {
    pub access_token_expire_in: i64,
}

#[endpoint(v2 GET "/papay/entrustweb", unsigned_answer, no_nonce, answer = page, crate = "wxpay_core")]
#[derive(Clone)]
pub struct EntrustWeb {
    pub appid: String,
    pub mch_id: String,
    pub plan_id: String,
    pub contract_code: String,
}

fn download_bill() -> DownloadBill {
    DownloadBill::new(DownloadBillRequired {
        appid: APPID.into(),
        mch_id: MCHID.into(),
        bill_date: "20260102".into(),
        bill_type: "ALL".into(),
    })
}

const BILL: &str =
    "交易时间,公众账号ID,商户号\n`2026-01-02 03:04:05,`wxd678efh567hg6787,`1230000109\n";

#[tokio::test]
async fn a_bill_is_its_text_under_the_download_limit_and_its_failure_the_platforms_xml() {
    let server = Loopback::answering(answer(200, "", BILL.as_bytes())).await;
    let builder = || {
        crate::loopback::merchant(&server.url)
            .apiv2_key(ApiV2Key::new(KEY).unwrap())
            .retry_policy(RetryPolicy::never())
    };
    // The bill is larger than an answer may be, but within the download limit.
    let client = builder().max_response_body(16).build().expect("client");
    assert_eq!(client.send(download_bill()).await.expect("the bill"), BILL);
    let client = builder().download_limits(16, 100).build().expect("client");
    match client.send(download_bill()).await {
        Err(Error::Transport(e)) if e.kind == (TransportErrorKind::TooLarge { limit: 16 }) => {}
        other => panic!("a bill over the download limit must be refused, got {other:?}"),
    }
    let (_, client) = answering_v2(
        "<xml><return_code>FAIL</return_code><return_msg>No Bill Exist</return_msg></xml>".into(),
    )
    .await;
    match client.send(download_bill()).await {
        Err(Error::ApiV2(ApiV2Error::Platform { return_msg })) => {
            assert_eq!(return_msg.as_deref(), Some("No Bill Exist"));
        }
        other => panic!("expected the platform's refusal, got {other:?}"),
    }
    // An `<xml>` SUCCESS is no bill.
    let (_, client) = answering_v2("<xml><return_code>SUCCESS</return_code></xml>".into()).await;
    match client.send(download_bill()).await {
        Err(Error::Decode(_)) => {}
        other => panic!("an <xml> SUCCESS is not a bill, got {other:?}"),
    }
}

#[tokio::test]
async fn a_json_answer_is_decoded_and_its_retcode_is_the_business_error() {
    let token = GetAccessToken::new(GetAccessTokenRequired {
        mch_id: MCHID.into(),
        code: "TESTcode".into(),
    });
    let (_, client) = answering_v2(
        r#"{"retcode":0,"retmsg":"OK","access_token":"TESTtoken","access_token_expire_in":7200}"#
            .into(),
    )
    .await;
    let answer = client.send(token.clone()).await.expect("decoded");
    assert_eq!(answer.access_token_expire_in, 7200);
    let (_, client) = answering_v2(r#"{"retcode":-1,"retmsg":"code invalid"}"#.into()).await;
    match client.send(token).await {
        Err(Error::ApiV2(ApiV2Error::Business {
            err_code,
            err_code_des,
        })) => {
            assert_eq!(err_code.as_deref(), Some("-1"));
            assert_eq!(err_code_des.as_deref(), Some("code invalid"));
        }
        other => panic!("expected the business error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_page_for_the_browser_is_its_signed_url_and_is_never_sent() {
    let (server, client) = answering_v2(String::new()).await;
    let page = EntrustWeb::new(EntrustWebRequired {
        appid: APPID.into(),
        mch_id: MCHID.into(),
        plan_id: "12535".into(),
        contract_code: "TEST100000".into(),
    });
    match client.send(page.clone()).await {
        Err(Error::Request(RequestError::BrowserPage { operation })) => {
            assert_eq!(operation, "/papay/entrustweb");
        }
        other => panic!("a page must not be fetched, got {other:?}"),
    }
    assert_eq!(server.count(), 0, "nothing sent");
    let url = client.page_url(&page).expect("signed URL");
    assert_eq!(url.path(), "/papay/entrustweb");
    let query: Fields = url
        .query()
        .unwrap_or("")
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect();
    assert_eq!(query.get("plan_id"), Some("12535"));
    apiv2::verify(
        &query,
        &ApiV2Key::new(KEY).unwrap(),
        SignType::Md5,
        CryptoBackend::default(),
    )
    .expect("the sign holds");
    match client.page_url(&download_bill()) {
        Err(Error::Request(RequestError::NotAPage { operation })) => {
            assert_eq!(operation, "/pay/downloadbill");
        }
        other => panic!("only a page has a page URL, got {other:?}"),
    }
}
