//! Declared APIv2 endpoints (`#[endpoint(v2 …)]`) on the wire: the request a declaration
//! makes carries the known-answer vectors' fields and `sign`, over the wire the sandbox's
//! independent APIv2 accepts it (with the client certificate where the operation asks for it)
//! and the typed answer is verified and decoded; an endpoint never goes out as the other
//! protocol.

use http::StatusCode;
use wxpay_core::apiv2::{self, CallContext, Fields, SignType};
use wxpay_core::{ApiV2Key, CryptoBackend, Endpoint, Error, RequestError};
use wxpay_macros::endpoint;
use wxpay_sandbox::Sandbox;

use crate::common::{v2_https_identity, v2_tls};

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/v2_vectors.json"
));
const KEY: &str = "TEST0APIv2Key0core0123456789abcd";
const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";

#[endpoint(v2 POST "/pay/micropay" -> MicropayAnswer, idempotent, sign_type = either, crate = "wxpay_core")]
pub struct Micropay {
    pub appid: String,
    pub mch_id: String,
    pub body: String,
    pub out_trade_no: String,
    pub total_fee: u64,
    pub spbill_create_ip: String,
    pub auth_code: String,
    pub attach: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
pub struct MicropayAnswer {
    pub transaction_id: String,
    pub out_trade_no: String,
    pub total_fee: u64,
}

#[derive(Clone, serde::Serialize)]
pub struct Receiver {
    #[serde(rename = "type")]
    pub kind: String,
    pub account: String,
    pub amount: u64,
    pub description: String,
}

#[endpoint(v2 POST "/secapi/pay/profitsharing" -> (), cert, sign_type = hmac_sha256, crate = "wxpay_core")]
pub struct ProfitSharing {
    pub mch_id: String,
    pub appid: String,
    pub transaction_id: String,
    pub out_order_no: String,
    #[wxpay(json)]
    pub receivers: Vec<Receiver>,
}

#[endpoint(v2 POST "/mmpaymkttransfers/sendredpack" -> RedpackAnswer, cert, unsigned_answer, idempotent, crate = "wxpay_core")]
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
    pub scene_id: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
pub struct RedpackAnswer {
    pub mch_billno: String,
    pub total_amount: u64,
    pub send_listid: String,
}

#[endpoint(POST "/v3/refund/domestic/refunds", crate = "wxpay_core")]
pub struct ApiV3Refund {
    pub out_refund_no: String,
}

#[derive(serde::Deserialize)]
struct Vectors {
    key: String,
    signatures: Vec<Signature>,
}

#[derive(serde::Deserialize)]
struct Signature {
    name: String,
    params: std::collections::BTreeMap<String, String>,
    sign: String,
}

fn vector(name: &str) -> (ApiV2Key, Signature) {
    let vectors: Vectors = serde_json::from_str(VECTORS).expect("v2_vectors.json");
    let key = ApiV2Key::new(&vectors.key).expect("the vectors' key");
    let signature = vectors
        .signatures
        .into_iter()
        .find(|signature| signature.name == name)
        .expect("the vector");
    (key, signature)
}

/// The fields of a prepared request, by name (the order of elements is not signed).
fn sent_fields(request: &http::Request<Vec<u8>>) -> std::collections::BTreeMap<String, String> {
    apiv2::parse(request.body())
        .expect("our own XML")
        .iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn param<'v>(signature: &'v Signature, name: &str) -> &'v str {
    signature.params.get(name).map_or("", String::as_str)
}

#[test]
fn declared_requests_carry_the_vectors_fields_and_sign_with_every_backend() {
    for &backend in CryptoBackend::all() {
        // MD5: an operation that takes either sign type, signed as the caller prefers.
        let (key, micropay) = vector("micropay_md5");
        let request = Micropay::new(MicropayRequired {
            appid: param(&micropay, "appid").into(),
            mch_id: param(&micropay, "mch_id").into(),
            body: param(&micropay, "body").into(),
            out_trade_no: param(&micropay, "out_trade_no").into(),
            total_fee: param(&micropay, "total_fee").parse().unwrap(),
            spbill_create_ip: param(&micropay, "spbill_create_ip").into(),
            auth_code: param(&micropay, "auth_code").into(),
        });
        let context = CallContext::new("https://api.mch.weixin.qq.com", &key, backend)
            .preferring(SignType::Md5);
        let prepared = apiv2::prepare(&request, &context, param(&micropay, "nonce_str")).unwrap();
        assert_eq!(prepared.uri(), "https://api.mch.weixin.qq.com/pay/micropay");
        assert_eq!(
            prepared.headers()["content-type"],
            "text/xml; charset=utf-8"
        );
        let mut expected = micropay.params.clone();
        expected.insert("sign".into(), micropay.sign.clone());
        assert_eq!(sent_fields(&prepared), expected, "{backend:?}");

        // HMAC-SHA256 only, with a JSON-text element holding `&` and `<`.
        let (key, sharing) = vector("json_field_and_specials");
        let receivers: Vec<serde_json::Value> =
            serde_json::from_str(param(&sharing, "receivers")).unwrap();
        let receivers = receivers
            .iter()
            .map(|receiver| Receiver {
                kind: receiver["type"].as_str().unwrap().into(),
                account: receiver["account"].as_str().unwrap().into(),
                amount: receiver["amount"].as_u64().unwrap(),
                description: receiver["description"].as_str().unwrap().into(),
            })
            .collect();
        let request = ProfitSharing::new(ProfitSharingRequired {
            mch_id: param(&sharing, "mch_id").into(),
            appid: param(&sharing, "appid").into(),
            transaction_id: param(&sharing, "transaction_id").into(),
            out_order_no: param(&sharing, "out_order_no").into(),
            receivers,
        });
        // The operation's own sign type wins over the caller's preference.
        let context = CallContext::new("https://api.mch.weixin.qq.com", &key, backend)
            .preferring(SignType::Md5);
        let prepared = apiv2::prepare(&request, &context, param(&sharing, "nonce_str")).unwrap();
        let mut expected = sharing.params.clone();
        expected.insert("sign".into(), sharing.sign.clone());
        assert_eq!(sent_fields(&prepared), expected, "{backend:?}");
    }
}

#[test]
fn the_nonce_and_sign_type_elements_follow_the_declaration() {
    let (key, redpack) = vector("sendredpack_md5");
    let request = send_redpack(param(&redpack, "mch_billno"), param(&redpack, "mch_id"));
    let context = CallContext::new(
        "https://api.mch.weixin.qq.com",
        &key,
        CryptoBackend::default(),
    );
    let prepared = apiv2::prepare(&request, &context, "TESTnonce").unwrap();
    let fields = sent_fields(&prepared);
    // MD5 by declaration: no `sign_type` element, whatever the caller prefers.
    assert!(!fields.contains_key("sign_type"), "{fields:?}");
    assert_eq!(fields["nonce_str"], "TESTnonce");
    assert_eq!(fields["sign"].len(), 32);
}

#[test]
fn an_endpoint_never_goes_out_as_the_other_protocol() {
    let key = ApiV2Key::new(KEY).unwrap();
    let context = CallContext::new(
        "https://api.mch.weixin.qq.com",
        &key,
        CryptoBackend::default(),
    );
    let refund = ApiV3Refund::new(ApiV3RefundRequired {
        out_refund_no: "TEST1".into(),
    });
    match apiv2::prepare(&refund, &context, "TESTnonce") {
        Err(Error::Request(RequestError::WrongProtocol {
            protocol: "APIv3",
            other: "APIv2",
            ..
        })) => {}
        other => panic!("an APIv3 endpoint signed as APIv2: {other:?}"),
    }
    // And an APIv2 endpoint never goes out RSA-signed with an empty APIv3 body.
    let merchant = wxpay_core::MerchantKey::from_pem_with(
        "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/keys/TEST_merchant_key.pem"
        ))
        .expect("TEST merchant key"),
        CryptoBackend::default(),
    )
    .expect("merchant key");
    let ring = wxpay_core::PlatformKeys::new();
    let user_agent = http::HeaderValue::from_static("wxpay-test");
    let v3 = wxpay_core::protocol::RequestContext {
        base_url: "https://api.mch.weixin.qq.com",
        signer: wxpay_core::protocol::Signer {
            mchid: MCHID,
            key: &merchant,
        },
        platform_keys: &ring,
        user_agent: &user_agent,
    };
    let redpack = send_redpack("TEST1", MCHID);
    match wxpay_core::protocol::prepare(&redpack, &v3, 1_800_000_000, "TESTnonce") {
        Err(Error::Request(RequestError::WrongProtocol {
            protocol: "APIv2",
            other: "APIv3",
            ..
        })) => {}
        other => panic!("an APIv2 endpoint signed as APIv3: {other:?}"),
    }

    let answer = bytes::Bytes::from_static(b"<xml><return_code>SUCCESS</return_code></xml>");
    assert!(matches!(
        apiv2::read_endpoint_answer::<ApiV3Refund>(StatusCode::OK, answer, &context),
        Err(Error::Request(RequestError::WrongProtocol { .. }))
    ));
}

#[test]
fn an_answer_that_lacks_a_declared_field_is_a_decode_error_naming_it() {
    let key = ApiV2Key::new(KEY).unwrap();
    let backend = CryptoBackend::default();
    let context =
        CallContext::new("https://api.mch.weixin.qq.com", &key, backend).preferring(SignType::Md5);
    let fields: Fields = [
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("out_trade_no", "TEST1"),
        ("total_fee", "1"),
    ]
    .into_iter()
    .collect();
    let body =
        apiv2::signed_request_xml(fields, Some("TESTnonce"), &key, SignType::Md5, backend).unwrap();
    match apiv2::read_endpoint_answer::<Micropay>(StatusCode::OK, body.into(), &context) {
        Err(Error::Decode(error)) => {
            assert_eq!(error.field.as_deref(), Some("transaction_id"));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

fn send_redpack(mch_billno: &str, mch_id: &str) -> SendRedpack {
    SendRedpack::new(SendRedpackRequired {
        mch_billno: mch_billno.into(),
        mch_id: mch_id.into(),
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
    .scene_id("PRODUCT_8")
}

async fn send<E: Endpoint>(
    http: &reqwest::Client,
    endpoint: &E,
    context: &CallContext<'_>,
) -> Result<E::Response, Error> {
    let request = apiv2::prepare(endpoint, context, "TESTnonce0123456789").unwrap();
    let request = reqwest::Request::try_from(request.map(reqwest::Body::from)).unwrap();
    let answer = http.execute(request).await.expect("answered");
    let status = answer.status();
    let body = answer.bytes().await.expect("body");
    apiv2::read_endpoint_answer::<E>(status, body, context)
}

#[tokio::test]
async fn declared_calls_go_over_the_wire_to_an_independent_apiv2() {
    let sandbox = Sandbox::builder()
        .mchid(MCHID)
        .apiv2_key(KEY)
        .https(v2_https_identity())
        .start()
        .await
        .expect("sandbox starts");
    let key = ApiV2Key::new(KEY).unwrap();
    let base_url = sandbox.https_url().expect("the HTTPS listener");
    for &backend in CryptoBackend::all() {
        for preferred in [SignType::Md5, SignType::HmacSha256] {
            let context = CallContext::new(base_url, &key, backend).preferring(preferred);
            // A signed answer, in the sign type the request chose, typed.
            let out_trade_no = format!("TEST{backend:?}{preferred}");
            let request = Micropay::new(MicropayRequired {
                appid: APPID.into(),
                mch_id: MCHID.into(),
                body: "TEST image形象店 & <co>".into(),
                out_trade_no: out_trade_no.clone(),
                total_fee: 300,
                spbill_create_ip: "127.0.0.1".into(),
                auth_code: "120061098828009406".into(),
            })
            .attach("TEST attach");
            let paid = send(&v2_tls(false), &request, &context)
                .await
                .expect("paid");
            assert_eq!(paid.out_trade_no, out_trade_no);
            assert_eq!(paid.total_fee, 300);
            assert!(!paid.transaction_id.is_empty());
        }
    }

    // Red packets: the client certificate on the connection, an unsigned answer.
    let context = CallContext::new(base_url, &key, CryptoBackend::default());
    let redpack = send_redpack("TEST10000098201411111234567890", MCHID);
    let sent = send(&v2_tls(true), &redpack, &context).await.expect("sent");
    assert_eq!(sent.mch_billno, "TEST10000098201411111234567890");
    assert_eq!(sent.total_amount, 1000);
    assert!(!sent.send_listid.is_empty());
    // Without the certificate the platform refuses the request itself.
    let refused = send(&v2_tls(false), &send_redpack("TEST2", MCHID), &context).await;
    assert!(
        matches!(
            refused,
            Err(Error::ApiV2(wxpay_core::ApiV2Error::Platform { .. }))
        ),
        "{refused:?}"
    );

    // Signed with another key: refused by the platform, never read as data.
    let other = ApiV2Key::new("TESTotherkey0123456789ABCDEFGHIJ").unwrap();
    let context = CallContext::new(base_url, &other, CryptoBackend::default());
    let request = Micropay::new(MicropayRequired {
        appid: APPID.into(),
        mch_id: MCHID.into(),
        body: "TEST".into(),
        out_trade_no: "TESTother".into(),
        total_fee: 1,
        spbill_create_ip: "127.0.0.1".into(),
        auth_code: "120061098828009406".into(),
    });
    assert!(matches!(
        send(&v2_tls(false), &request, &context).await,
        Err(Error::ApiV2(wxpay_core::ApiV2Error::Platform { .. }))
    ));
}
