//! wxpay-core's APIv2 functions against the sandbox's own, independently written APIv2
//! (loopback only): our requests accepted as signed, its answers verified by `read_answer`,
//! its payment and refund notifications read by ours, in both sign types.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use wxpay_core::apiv2::{self, Fields, SignType};
use wxpay_core::{ApiV2Error, ApiV2Key, CryptoBackend};
use wxpay_sandbox::Sandbox;

use crate::common::{v2_https_identity, v2_tls};

const KEY: &str = "TEST0APIv2Key0core0123456789abcd";
const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .mchid(MCHID)
        .apiv2_key(KEY)
        .https(v2_https_identity())
        .start()
        .await
        .expect("sandbox starts")
}

/// Sends `fields` as the client will (nonce, sign type, sign, XML) and reads the answer.
async fn call(
    http: &reqwest::Client,
    url: String,
    fields: Fields,
    key: &ApiV2Key,
    sign_type: SignType,
) -> Result<Fields, ApiV2Error> {
    let backend = CryptoBackend::default();
    let nonce = format!("TESTnonce{}", fields.len());
    let body =
        apiv2::signed_request_xml(fields, Some(&nonce), key, sign_type, backend).expect("request");
    let answer = http.post(url).body(body).send().await.expect("answered");
    assert_eq!(answer.status(), 200);
    let answer = answer.bytes().await.expect("body");
    // Verified with the sandbox's key, whatever key signed the request.
    let sandbox_key = ApiV2Key::new(KEY).unwrap();
    apiv2::read_answer(&answer, &sandbox_key, sign_type, true, backend)
}

fn micropay(out_trade_no: &str) -> Fields {
    [
        ("appid", APPID),
        ("mch_id", MCHID),
        ("body", "TEST image形象店-深圳腾大- QQ公仔 & <co>"),
        ("out_trade_no", out_trade_no),
        ("total_fee", "300"),
        ("spbill_create_ip", "127.0.0.1"),
        ("auth_code", "120061098828009406"),
    ]
    .into_iter()
    .collect()
}

/// The body of the next notification sent to `listener`, answered with our acknowledgement.
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

#[tokio::test]
async fn our_requests_are_accepted_and_its_answers_verify_in_both_sign_types() {
    let sandbox = sandbox().await;
    let key = ApiV2Key::new(KEY).unwrap();
    let http = reqwest::Client::new();
    for (n, sign_type) in [SignType::Md5, SignType::HmacSha256]
        .into_iter()
        .enumerate()
    {
        let url = format!("{}/pay/micropay", sandbox.base_url());
        let paid = call(
            &http,
            url,
            micropay(&format!("TESTorder{n}")),
            &key,
            sign_type,
        )
        .await
        .expect("paid");
        assert_eq!(paid.get("result_code"), Some("SUCCESS"), "{sign_type}");
        assert!(paid.get("transaction_id").is_some_and(|id| !id.is_empty()));
        assert_eq!(paid.get("total_fee"), Some("300"));
    }
    // Signed with another key: the platform refuses the request itself.
    let other = ApiV2Key::new("TESTotherkey0123456789ABCDEFGHIJ").unwrap();
    let url = format!("{}/pay/micropay", sandbox.base_url());
    match call(&http, url, micropay("TESTorder9"), &other, SignType::Md5).await {
        Err(ApiV2Error::Platform { return_msg }) => assert!(return_msg.is_some()),
        other => panic!("expected return_code FAIL, got {other:?}"),
    }
}

#[tokio::test]
async fn its_payment_notification_verifies_with_ours() {
    let sandbox = sandbox().await;
    let key = ApiV2Key::new(KEY).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let notify_url = format!("http://{}/notify", listener.local_addr().unwrap());
    for (n, sign_type) in [SignType::Md5, SignType::HmacSha256]
        .into_iter()
        .enumerate()
    {
        let out_trade_no = format!("TESTunified{n}");
        let order: Fields = [
            ("appid", APPID),
            ("mch_id", MCHID),
            ("body", "TEST"),
            ("out_trade_no", &out_trade_no),
            ("total_fee", "1"),
            ("spbill_create_ip", "127.0.0.1"),
            ("notify_url", &notify_url),
            ("trade_type", "NATIVE"),
        ]
        .into_iter()
        .collect();
        let url = format!("{}/pay/unifiedorder", sandbox.base_url());
        let ordered = call(&reqwest::Client::new(), url, order, &key, sign_type)
            .await
            .expect("ordered");
        assert!(ordered.get("code_url").is_some() || ordered.get("prepay_id").is_some());
        assert!(sandbox.pay_v2_order(&out_trade_no));
        let body = notification(&listener).await;
        let fields =
            apiv2::read_payment_notification(&body, &key, sign_type, CryptoBackend::default())
                .expect("verified");
        assert_eq!(fields.get("out_trade_no"), Some(out_trade_no.as_str()));
        // The other sign type is refused.
        let other = match sign_type {
            SignType::Md5 => SignType::HmacSha256,
            _ => SignType::Md5,
        };
        assert!(
            apiv2::read_payment_notification(&body, &key, other, CryptoBackend::default()).is_err()
        );
    }
}

#[tokio::test]
async fn its_refund_notification_decrypts_with_every_backend() {
    let sandbox = sandbox().await;
    let key = ApiV2Key::new(KEY).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let notify_url = format!("http://{}/notify", listener.local_addr().unwrap());
    let url = format!("{}/pay/micropay", sandbox.base_url());
    call(
        &reqwest::Client::new(),
        url,
        micropay("TESTorder1"),
        &key,
        SignType::Md5,
    )
    .await
    .expect("paid");
    let refund: Fields = [
        ("appid", APPID),
        ("mch_id", MCHID),
        ("out_trade_no", "TESTorder1"),
        ("out_refund_no", "TESTrefund1"),
        ("total_fee", "300"),
        ("refund_fee", "100"),
        ("notify_url", &notify_url),
    ]
    .into_iter()
    .collect();
    let https = sandbox.https_url().expect("HTTPS listener").to_owned();
    let refunded = call(
        &v2_tls(true),
        format!("{https}/secapi/pay/refund"),
        refund,
        &key,
        SignType::HmacSha256,
    )
    .await
    .expect("refunded over mTLS");
    assert_eq!(refunded.get("refund_fee"), Some("100"));
    let body = notification(&listener).await;
    for &backend in CryptoBackend::all() {
        let notification = apiv2::read_refund_notification(&body, &key, backend).expect("decrypts");
        assert_eq!(
            notification.refund.get("out_refund_no"),
            Some("TESTrefund1")
        );
        assert_eq!(notification.refund.get("refund_fee"), Some("100"));
    }
}
