//! `Client::apiv2`: APIv2 requests whose path, fields and rules are data (what the command
//! line sends from the catalog's table), against the sandbox's independent APIv2 over HTTPS
//! with its TEST CA and client certificate, and a loopback server for what it will not do.

use http::Method;
use wxpay_core::apiv2::{self, SignType};
use wxpay_core::{
    ApiV2, ApiV2Answer, ApiV2Error, ApiV2Key, ApiV2SignError, ConfigError, CryptoBackend, Error,
    RequestError, SignTypes, TransportErrorKind,
};

use crate::common::{v2_client_builder, v2_sandbox};
use crate::loopback::{Loopback, answer, now};

const KEY: &str = "TEST0APIv2Key0dynamic3456789abcd";
const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";

/// The rules of `/mmpaymkttransfers/sendredpack`: MD5, the client certificate, unsigned.
const RED_PACKET: ApiV2 = ApiV2::new()
    .with_client_certificate(true)
    .with_signed_answer(false);
/// The rules of `/pay/orderquery` and `/pay/micropay`: either sign type.
const EITHER: ApiV2 = ApiV2::new().with_sign_types(SignTypes::Either);

#[tokio::test]
async fn a_red_packet_goes_over_mtls_and_its_unsigned_answer_is_read() {
    let sandbox = v2_sandbox(KEY).start().await.expect("sandbox starts");
    let client = v2_client_builder(&sandbox, true).build().expect("client");
    let sent = client
        .apiv2(Method::POST, "/mmpaymkttransfers/sendredpack")
        .rules(RED_PACKET)
        .idempotent(true)
        .field("mch_billno", "TESTdynamic1")
        .field("mch_id", MCHID)
        .field("wxappid", APPID)
        .field("send_name", "TEST 商户 & <co>")
        .field("re_openid", "oxTWIuGaIt6gTKsQRLau2M0yL16E")
        .field("total_amount", 100)
        .field("total_num", 1)
        .field("wishing", "TEST")
        .field("client_ip", "127.0.0.1")
        .field("act_name", "TEST")
        .field("remark", "TEST")
        .send_verified()
        .await
        .expect("sent over mTLS");
    assert_eq!(sent.status, 200);
    assert_eq!(sent.value.get("result_code"), Some("SUCCESS"));
    assert_eq!(sent.value.get("mch_billno"), Some("TESTdynamic1"));
    assert!(
        sent.value
            .get("send_listid")
            .is_some_and(|id| !id.is_empty())
    );

    // The same rules with the certificate left off: the platform refuses the request, so
    // the certificate went on the connection only because the rules asked for it.
    let refused = client
        .apiv2(Method::POST, "/mmpaymkttransfers/sendredpack")
        .rules(RED_PACKET.with_client_certificate(false))
        .field("mch_billno", "TESTdynamic2")
        .field("mch_id", MCHID)
        .field("wxappid", APPID)
        .field("send_name", "TEST")
        .field("re_openid", "oxTWIuGaIt6gTKsQRLau2M0yL16E")
        .field("total_amount", 100)
        .field("total_num", 1)
        .field("wishing", "TEST")
        .field("client_ip", "127.0.0.1")
        .field("act_name", "TEST")
        .field("remark", "TEST")
        .send()
        .await;
    assert!(
        matches!(refused, Err(Error::ApiV2(ApiV2Error::Platform { .. }))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn either_sign_type_is_the_clients_choice_and_the_answer_is_verified_in_it() {
    let sandbox = v2_sandbox(KEY).start().await.expect("sandbox starts");
    for sign_type in [SignType::Md5, SignType::HmacSha256] {
        let client = v2_client_builder(&sandbox, false)
            .apiv2_sign_type(sign_type)
            .build()
            .expect("client");
        let out_trade_no = format!("TESTdynamic{sign_type}");
        let micropay = client
            .apiv2(Method::POST, "/pay/micropay")
            .rules(EITHER)
            .field("appid", APPID)
            .field("mch_id", MCHID)
            .field("body", "TEST")
            .field("out_trade_no", &out_trade_no)
            .field("total_fee", 300)
            .field("spbill_create_ip", "127.0.0.1")
            .field("auth_code", "120061098828009406")
            .json_field(
                "detail",
                &serde_json::json!({ "goods_detail": [{ "goods_id": "1" }] }),
            );
        assert_eq!(micropay.sign_type().expect("a key"), sign_type);
        let prepared = micropay.prepare().expect("prepared");
        let sent = apiv2::parse(prepared.body()).expect("our XML");
        assert_eq!(
            sent.get("detail"),
            Some(r#"{"goods_detail":[{"goods_id":"1"}]}"#)
        );
        apiv2::verify(
            &sent,
            &ApiV2Key::new(KEY).unwrap(),
            sign_type,
            CryptoBackend::default(),
        )
        .expect("signed with the APIv2 key");
        let paid = micropay.send().await.expect("paid");
        assert_eq!(paid.get("out_trade_no"), Some(out_trade_no.as_str()));
        // The answer's own sign, in the request's type.
        let expected = if sign_type == SignType::Md5 { 32 } else { 64 };
        assert_eq!(paid.get("sign").map(str::len), Some(expected));
    }
    // A fixed type is the rules', whatever the client prefers.
    let client = v2_client_builder(&sandbox, false).build().expect("client");
    let md5 = client
        .apiv2(Method::POST, "/pay/orderquery")
        .rules(ApiV2::new())
        .field("appid", APPID)
        .field("mch_id", MCHID)
        .field("out_trade_no", "TESTdynamicMD5");
    assert_eq!(md5.sign_type().expect("a key"), SignType::Md5);
    let found = md5.send().await.expect("found");
    assert_eq!(found.get("trade_state"), Some("SUCCESS"));
    // An unknown order: the business error, with its code.
    match client
        .apiv2(Method::POST, "/pay/orderquery")
        .rules(EITHER)
        .field("appid", APPID)
        .field("mch_id", MCHID)
        .field("out_trade_no", "TESTnone")
        .send()
        .await
    {
        Err(Error::ApiV2(ApiV2Error::Business { err_code, .. })) => {
            assert_eq!(err_code.as_deref(), Some("ORDERNOTEXIST"));
        }
        other => panic!("expected ORDERNOTEXIST, got {other:?}"),
    }
}

#[tokio::test]
async fn what_cannot_be_sent_as_signed_is_refused_and_nothing_goes_out() {
    let server = Loopback::answering(answer(500, "", b"")).await;
    let client = crate::loopback::merchant(&server.url)
        .apiv2_key(ApiV2Key::new(KEY).unwrap())
        .build()
        .expect("client");
    let field_error = |result: Result<apiv2::Fields, Error>| match result {
        Err(Error::Request(RequestError::Field { field, reason })) => (field, reason),
        other => panic!("expected a refused request, got {other:?}"),
    };
    for name in ["sign", "nonce_str", "sign_type"] {
        let (field, reason) = field_error(
            client
                .apiv2(Method::POST, "/pay/orderquery")
                .field(name, "X")
                .send()
                .await,
        );
        assert_eq!(field, "fields");
        assert!(reason.contains(name), "{reason}");
    }
    for path in [
        "/pay/../v3/x",
        "/pay//orderquery",
        "/pay/orderquery?x=1",
        "pay/orderquery",
    ] {
        let (field, _) = field_error(client.apiv2(Method::POST, path).send().await);
        assert_eq!(field, "path", "{path}");
    }
    let (field, reason) = field_error(client.apiv2(Method::POST, "/v3/pay/x").send().await);
    assert_eq!(field, "path");
    assert!(reason.contains("Client::request"), "{reason}");
    let (field, _) = field_error(client.apiv2(Method::PUT, "/pay/orderquery").send().await);
    assert_eq!(field, "method");
    // A value that does not serialise as JSON.
    let map: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
    let (field, reason) = field_error(
        client
            .apiv2(Method::POST, "/pay/orderquery")
            .json_field("detail", &map)
            .send()
            .await,
    );
    assert_eq!(field, "fields");
    assert!(reason.contains("detail"), "{reason}");
    // The client certificate, when the rules ask for it and none is configured.
    match client
        .apiv2(Method::POST, "/mmpaymkttransfers/sendredpack")
        .rules(RED_PACKET)
        .field("mch_id", MCHID)
        .send()
        .await
    {
        Err(Error::Config(ConfigError::Missing { setting })) => {
            assert_eq!(setting, "merchant_certificate");
        }
        other => panic!("expected the missing certificate, got {other:?}"),
    }
    // No APIv2 key: nothing is signed.
    let without_key = crate::loopback::merchant(&server.url)
        .build()
        .expect("client");
    let request = without_key
        .apiv2(Method::POST, "/pay/orderquery")
        .field("mch_id", MCHID);
    assert!(matches!(
        request.prepare(),
        Err(Error::Config(ConfigError::Missing { .. }))
    ));
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn an_answer_not_signed_as_the_rules_say_is_never_data() {
    // The platform's answer as a man in the middle would make it: success, no sign.
    let body = b"<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code>\
                 <trade_state>SUCCESS</trade_state></xml>";
    let server = Loopback::start(move |_| now(answer(200, "", body))).await;
    let client = crate::loopback::merchant(&server.url)
        .apiv2_key(ApiV2Key::new(KEY).unwrap())
        .build()
        .expect("client");
    let query = || {
        client
            .apiv2(Method::POST, "/pay/orderquery")
            .field("mch_id", MCHID)
            .field("out_trade_no", "TEST1")
    };
    match query().send().await {
        Err(Error::ApiV2(ApiV2Error::Verification(ApiV2SignError::MissingSign))) => {}
        other => panic!("expected the missing sign, got {other:?}"),
    }
    // Read unsigned only when the rules say the platform answers unsigned.
    let fields = query()
        .rules(ApiV2::new().with_signed_answer(false))
        .send()
        .await
        .expect("an unsigned operation's answer");
    assert_eq!(fields.get("trade_state"), Some("SUCCESS"));
    // What arrived is the signed <xml>, a POST to the path.
    let arrival = &server.arrivals()[0];
    assert_eq!(
        (arrival.method.as_str(), arrival.target.as_str()),
        ("POST", "/pay/orderquery")
    );
    let sent = apiv2::parse(&arrival.body).expect("our XML");
    assert_eq!(sent.get("nonce_str").map(str::len), Some(32));
    assert_eq!(sent.get("sign").map(str::len), Some(32));
}

/// The rules of `/pay/downloadbill`: MD5, unsigned, its text answered.
const BILL: ApiV2 = ApiV2::new()
    .with_signed_answer(false)
    .with_answer(ApiV2Answer::Text);

#[tokio::test]
async fn a_gzip_bill_is_the_same_text_decompressed() {
    let sandbox = v2_sandbox(KEY).start().await.expect("sandbox starts");
    let client = v2_client_builder(&sandbox, false).build().expect("client");
    let bill = |tar_type: Option<&str>| {
        let mut request = client
            .apiv2(Method::POST, "/pay/downloadbill")
            .rules(BILL)
            .field("appid", APPID)
            .field("mch_id", MCHID)
            .field("bill_date", "20260102")
            .field("bill_type", "ALL");
        if let Some(tar_type) = tar_type {
            request = request.field("tar_type", tar_type);
        }
        request.send_text()
    };
    let plain = bill(None).await.expect("the bill").value;
    assert!(plain.starts_with("交易时间,"), "{plain}");
    let unpacked = bill(Some("GZIP")).await.expect("the GZIP bill").value;
    assert_eq!(unpacked, plain);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("to memory");
    encoder.finish().expect("to memory")
}

#[tokio::test]
async fn a_gzip_bill_past_the_limit_or_broken_is_an_error_not_text() {
    // 1 MiB of one byte compresses to about 1 KiB: a bomb for a 64 KiB limit.
    let bomb: &'static [u8] = Box::leak(gzip(&vec![b'a'; 1 << 20]).into_boxed_slice());
    let broken: &'static [u8] = &[0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3];
    for (body, expect_too_large) in [(bomb, true), (broken, false)] {
        let server = Loopback::start(move |_| now(answer(200, "", body))).await;
        let client = crate::loopback::merchant(&server.url)
            .apiv2_key(ApiV2Key::new(KEY).unwrap())
            .download_limits(64 * 1024, 100)
            .build()
            .expect("client");
        let result = client
            .apiv2(Method::POST, "/pay/downloadbill")
            .rules(BILL)
            .field("mch_id", MCHID)
            .field("bill_date", "20260102")
            .field("tar_type", "GZIP")
            .send_text()
            .await;
        match result {
            Err(Error::Transport(error)) if expect_too_large => assert!(
                matches!(error.kind, TransportErrorKind::TooLarge { limit: 65536 }),
                "{error:?}"
            ),
            Err(Error::Decode(_)) if !expect_too_large => {}
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
