//! Merchants that hold only an APIv2 key: a client built from the merchant number and the
//! APIv2 key (from code and from `WXPAY_*` settings), with or without the client certificate,
//! sends APIv2 to the sandbox; every APIv3 entry point is a typed configuration error before
//! anything is sent. Loopback only.

use std::time::Duration;

use wxpay_core::{ApiV2Key, Client, ClientBuilder, ConfigError, Error};
use wxpay_core::{Download, FileCheck};
use wxpay_macros::endpoint;
use wxpay_sandbox::Sandbox;

use crate::common::{v2_fixture as fixture, v2_sandbox};
use crate::loopback::{Loopback, answer};

const KEY: &str = "TEST0APIv2Key0merchant3456789abc";
const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";
/// The serial of `TEST-apiclient-cert.pem`.
const MERCHANT_SERIAL: &str = "16412D2BC33DC85094A8A7B1B2FD7D9303DA7B49";
const VERIFYING_KEY: &str = "platform_public_key, platform_certificate or apiv3_key";

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
    pub out_trade_no: String,
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
}

/// An APIv3 endpoint, to be refused by an APIv2-only client.
#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/pause", crate = "wxpay_core")]
pub struct PauseStock {
    pub stock_id: String,
    pub stock_creator_mchid: String,
}

#[endpoint(v2 POST "/mmpaymkttransfers/sendgroupredpack", cert, unsigned_answer, idempotent, crate = "wxpay_core")]
pub struct SendGroupRedpack {
    pub mch_billno: String,
    pub mch_id: String,
    pub wxappid: String,
    pub send_name: String,
    pub re_openid: String,
    pub total_amount: u64,
    pub total_num: u32,
    pub amt_type: String,
    pub wishing: String,
    pub act_name: String,
    pub remark: String,
}

/// `gethbinfo`, its answer with the nested list typed as the catalog types it.
#[endpoint(v2 POST "/mmpaymkttransfers/gethbinfo" -> RedpackInfo, cert, unsigned_answer, idempotent, crate = "wxpay_core")]
pub struct QueryRedpack {
    pub mch_billno: String,
    pub mch_id: String,
    pub appid: String,
    pub bill_type: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct RedpackInfo {
    pub status: String,
    pub total_amount: u64,
    #[serde(default)]
    pub hblist: Vec<ReceivedRedpack>,
}

#[derive(Debug, serde::Deserialize)]
pub struct ReceivedRedpack {
    pub openid: String,
    pub amount: u64,
    pub rcv_time: String,
}

fn micropay(out_trade_no: &str) -> Micropay {
    Micropay::new(MicropayRequired {
        appid: APPID.into(),
        mch_id: MCHID.into(),
        body: "TEST".into(),
        out_trade_no: out_trade_no.into(),
        total_fee: 300,
        spbill_create_ip: "127.0.0.1".into(),
        auth_code: "120061098828009406".into(),
    })
}

fn send_redpack(mch_billno: &str) -> SendRedpack {
    SendRedpack::new(SendRedpackRequired {
        mch_billno: mch_billno.into(),
        mch_id: MCHID.into(),
        wxappid: APPID.into(),
        send_name: "TEST".into(),
        re_openid: "oxTWIuGaIt6gTKsQRLau2M0yL16E".into(),
        total_amount: 1000,
        total_num: 1,
        wishing: "TEST".into(),
        client_ip: "127.0.0.1".into(),
        act_name: "TEST".into(),
        remark: "TEST".into(),
    })
}

fn pause() -> PauseStock {
    PauseStock::new(PauseStockRequired {
        stock_id: "TEST9856000".into(),
        stock_creator_mchid: MCHID.into(),
    })
}

/// What an APIv2-only merchant sets: the merchant number and the APIv2 key, plus `extra`.
fn settings(extra: &[(&str, String)]) -> Vec<(String, String)> {
    let mut settings = vec![
        ("WXPAY_MCHID".to_owned(), MCHID.to_owned()),
        ("WXPAY_APIV2_KEY".to_owned(), KEY.to_owned()),
    ];
    settings.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    settings
}

fn aimed_at(builder: ClientBuilder, sandbox: &Sandbox) -> ClientBuilder {
    builder
        .base_url(sandbox.https_url().expect("the HTTPS listener"))
        .root_certificate(fixture("TEST-ca-cert.pem"))
        .timeouts(Duration::from_secs(5), Duration::from_secs(20))
}

/// Every APIv3 entry point of `client` is [`ConfigError::ApiV3NotConfigured`] naming
/// `missing`; what reaches the network is checked by the caller.
async fn apiv3_is_refused(client: &Client, missing: &str) {
    let expect = |what: &str, result: Result<(), Error>| match result {
        Err(Error::Config(ConfigError::ApiV3NotConfigured { missing: named })) => {
            assert_eq!(named, missing, "{what}")
        }
        other => panic!("{what}: expected ApiV3NotConfigured, got {other:?}"),
    };
    expect("send", client.send(pause()).await.map(drop));
    expect("prepare", client.prepare(&pause()).map(drop));
    expect(
        "dynamic send",
        client
            .get("/v3/certificates")
            .send::<serde_json::Value>()
            .await
            .map(drop),
    );
    expect(
        "dynamic prepare",
        client
            .post("/v3/refund/domestic/refunds")
            .prepare()
            .map(drop),
    );
    expect(
        "refresh",
        client.refresh_platform_certificates().await.map(drop),
    );
    let url = format!(
        "{}/v3/billdownload/file?token=TEST",
        client.base_url(wxpay_core::Host::Api)
    );
    expect(
        "download",
        client
            .download(&Download::new(url, FileCheck::unsigned()), &mut Vec::new())
            .await
            .map(drop),
    );
    expect(
        "notification",
        client
            .read_notification(&http::HeaderMap::new(), b"{}")
            .await
            .map(drop),
    );
    let message = client.send(pause()).await.expect_err("refused").to_string();
    assert!(
        message.contains("APIv2 only") && message.contains(missing),
        "{message}"
    );
}

#[tokio::test]
async fn an_apiv2_key_alone_builds_a_client_that_speaks_apiv2_and_refuses_apiv3() {
    let sandbox = v2_sandbox(KEY).start().await.expect("sandbox starts");
    // From settings: the merchant number and the APIv2 key, nothing else.
    let client = aimed_at(
        ClientBuilder::from_settings(settings(&[])).expect("settings"),
        &sandbox,
    )
    .build()
    .expect("an APIv2-only client");
    let paid = client
        .send(micropay("TESTv2only"))
        .await
        .expect("APIv2 call");
    assert_eq!(paid.out_trade_no, "TESTv2only");
    assert!(matches!(
        client.merchant_key(),
        Err(ConfigError::ApiV3NotConfigured { missing }) if missing == "merchant_key"
    ));
    // A cert operation needs the certificate (and its key), and says so before sending.
    match client.send(send_redpack("TESTnocert")).await {
        Err(Error::Config(ConfigError::Missing { setting })) => {
            assert_eq!(setting, "merchant_certificate")
        }
        other => panic!("expected the missing certificate, got {other:?}"),
    }
    let debug = format!("{client:?}");
    assert!(debug.contains("merchant_serial: None"), "{debug}");
    assert!(!debug.contains(KEY), "{debug}");

    // From code, against a server that would answer anything: APIv3 reaches nothing.
    let server = Loopback::answering(answer(500, "", b"")).await;
    let client = Client::builder()
        .mchid(MCHID)
        .apiv2_key(ApiV2Key::new(KEY).expect("key"))
        .base_url(&server.url)
        .build()
        .expect("an APIv2-only client from code");
    apiv3_is_refused(&client, "merchant_key").await;
    assert_eq!(server.count(), 0, "nothing was sent");
}

#[tokio::test]
async fn an_apiv2_merchant_with_its_certificate_sends_cert_operations_over_mtls() {
    let sandbox = v2_sandbox(KEY).start().await.expect("sandbox starts");
    // The certificate and its key (apiclient_key.pem); the serial is read from the certificate.
    let client = aimed_at(
        ClientBuilder::from_settings(settings(&[
            ("WXPAY_MERCHANT_CERT", fixture("TEST-apiclient-cert.pem")),
            ("WXPAY_MERCHANT_KEY", fixture("TEST-apiclient-key.pem")),
        ]))
        .expect("settings"),
        &sandbox,
    )
    .build()
    .expect("an APIv2 client with the certificate");
    let sent = client
        .send(send_redpack("TESTv2onlycert"))
        .await
        .expect("red packet over mTLS");
    assert_eq!(sent.mch_billno, "TESTv2onlycert");
    assert_eq!(
        client
            .merchant_key()
            .expect("the certificate's key")
            .serial(),
        MERCHANT_SERIAL
    );
    // The key alone signs nothing in APIv3 without a way to verify the answers.
    let server = Loopback::answering(answer(500, "", b"")).await;
    let on_server = ClientBuilder::from_settings(settings(&[
        ("WXPAY_MERCHANT_CERT", fixture("TEST-apiclient-cert.pem")),
        ("WXPAY_MERCHANT_KEY", fixture("TEST-apiclient-key.pem")),
        ("WXPAY_BASE_URL", server.url.clone()),
    ]))
    .and_then(ClientBuilder::build)
    .expect("client");
    apiv3_is_refused(&on_server, VERIFYING_KEY).await;
    assert_eq!(server.count(), 0, "nothing was sent");
}

#[test]
fn what_an_apiv2_merchant_leaves_out_is_named_when_it_is_needed() {
    let err = |result: Result<Client, ConfigError>| result.expect_err("refused");
    // Without the APIv2 key the merchant key is required, as before.
    let no_key = err(Client::builder().mchid(MCHID).build());
    assert!(
        matches!(&no_key, ConfigError::Missing { setting } if setting == "merchant_key"),
        "{no_key}"
    );
    let no_key =
        err(ClientBuilder::from_settings([("WXPAY_MCHID", MCHID)]).and_then(ClientBuilder::build));
    assert!(
        matches!(&no_key, ConfigError::Missing { setting } if setting == "WXPAY_MERCHANT_KEY"),
        "{no_key}"
    );
    // The certificate's private key is the merchant key.
    let no_tls_key = err(Client::builder()
        .mchid(MCHID)
        .apiv2_key(ApiV2Key::new(KEY).expect("key"))
        .merchant_certificate(fixture("TEST-apiclient-cert.pem"))
        .build());
    assert!(
        matches!(&no_tls_key, ConfigError::Missing { setting } if setting == "merchant_key"),
        "{no_tls_key}"
    );
    let no_tls_key = err(ClientBuilder::from_settings(settings(&[(
        "WXPAY_MERCHANT_CERT",
        fixture("TEST-apiclient-cert.pem"),
    )]))
    .and_then(ClientBuilder::build));
    assert!(
        matches!(&no_tls_key, ConfigError::Missing { setting } if setting == "WXPAY_MERCHANT_KEY"),
        "{no_tls_key}"
    );
    // A serial without its key is half a merchant key.
    let half = err(ClientBuilder::from_settings(settings(&[(
        "WXPAY_MERCHANT_SERIAL",
        MERCHANT_SERIAL.to_owned(),
    )]))
    .and_then(ClientBuilder::build));
    assert!(
        matches!(&half, ConfigError::Missing { setting } if setting == "WXPAY_MERCHANT_KEY"),
        "{half}"
    );
    // A certificate of another key than WXPAY_MERCHANT_KEY is refused at start-up.
    let other = err(ClientBuilder::from_settings(settings(&[
        (
            "WXPAY_MERCHANT_CERT",
            fixture("TEST-other-apiclient-cert.pem"),
        ),
        ("WXPAY_MERCHANT_KEY", fixture("TEST-apiclient-key.pem")),
    ]))
    .and_then(ClientBuilder::build));
    assert!(
        matches!(&other, ConfigError::Invalid { setting, .. } if setting == "WXPAY_MERCHANT_CERT"),
        "{other}"
    );
}

#[test]
fn a_p12_client_certificate_is_refused_with_the_way_to_its_pem() {
    let p12 = format!(
        "{}/../wxpay-sandbox/tests/fixtures/v2/TEST-apiclient-cert.p12",
        env!("CARGO_MANIFEST_DIR")
    );
    let err = ClientBuilder::from_settings(settings(&[
        ("WXPAY_MERCHANT_CERT", p12.clone()),
        ("WXPAY_MERCHANT_KEY", fixture("TEST-apiclient-key.pem")),
    ]))
    .expect_err("a .p12 is not read");
    assert!(
        matches!(&err, ConfigError::Invalid { setting, .. } if setting == "WXPAY_MERCHANT_CERT"),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("apiclient_cert.pem") && message.contains("openssl pkcs12"),
        "{message}"
    );
    assert!(!message.contains(&p12), "the path is not echoed: {message}");
}

#[tokio::test]
async fn the_red_packet_query_answers_who_received_it_as_a_typed_list() {
    let sandbox = v2_sandbox(KEY).start().await.expect("sandbox starts");
    let client = aimed_at(
        ClientBuilder::from_settings(settings(&[
            ("WXPAY_MERCHANT_CERT", fixture("TEST-apiclient-cert.pem")),
            ("WXPAY_MERCHANT_KEY", fixture("TEST-apiclient-key.pem")),
        ]))
        .expect("settings"),
        &sandbox,
    )
    .build()
    .expect("client");
    let query = |billno: &str| {
        QueryRedpack::new(QueryRedpackRequired {
            mch_billno: billno.into(),
            mch_id: MCHID.into(),
            appid: APPID.into(),
            bill_type: "MCHT".into(),
        })
    };
    client
        .send(send_redpack("TESTreceived1"))
        .await
        .expect("sent");
    let one = client.send(query("TESTreceived1")).await.expect("queried");
    assert_eq!(one.status, "RECEIVED");
    assert_eq!(one.hblist.len(), 1);
    assert_eq!(one.hblist[0].openid, "oxTWIuGaIt6gTKsQRLau2M0yL16E");
    assert_eq!(one.hblist[0].amount, one.total_amount);
    assert_eq!(one.hblist[0].rcv_time.len(), "2015-04-21 20:00:00".len());

    // A group red packet, shared by three.
    client
        .send(SendGroupRedpack::new(SendGroupRedpackRequired {
            mch_billno: "TESTreceived3".into(),
            mch_id: MCHID.into(),
            wxappid: APPID.into(),
            send_name: "TEST".into(),
            re_openid: "oxTWIuGaIt6gTKsQRLau2M0yL16E".into(),
            total_amount: 1000,
            total_num: 3,
            amt_type: "ALL_RAND".into(),
            wishing: "TEST".into(),
            act_name: "TEST".into(),
            remark: "TEST".into(),
        }))
        .await
        .expect("group sent");
    let three = client.send(query("TESTreceived3")).await.expect("queried");
    assert_eq!(three.hblist.len(), 3);
    assert_eq!(three.hblist.iter().map(|r| r.amount).sum::<u64>(), 1000);
}

#[test]
fn decrypted_refund_fields_never_reach_debug_or_errors_and_are_wiped() {
    use wxpay_core::CryptoBackend;
    use wxpay_core::apiv2::{Fields, Notification};
    use zeroize::Zeroize as _;

    let client = Client::builder()
        .mchid(MCHID)
        .apiv2_key(ApiV2Key::new(KEY).expect("key"))
        .build()
        .expect("an APIv2-only client");
    let key = ApiV2Key::new(KEY).expect("key");
    let backend = CryptoBackend::default();
    let envelope = |plaintext: &str| {
        let req_info = key
            .encrypt_req_info(plaintext.as_bytes(), backend)
            .expect("encrypted");
        format!(
            "<xml><return_code>SUCCESS</return_code><appid>{APPID}</appid>\
             <mch_id>{MCHID}</mch_id><req_info>{req_info}</req_info></xml>"
        )
    };
    let refund = "<root><out_refund_no><![CDATA[TESTsecretRefundNo42]]></out_refund_no>\
                  <refund_id>50000408TESTsecret77</refund_id><refund_fee>987654</refund_fee>\
                  <settlement_refund_fee>987653</settlement_refund_fee></root>";
    let notification = client
        .read_apiv2_notification(envelope(refund).as_bytes())
        .expect("read");
    let Notification::Refund(read) = &notification else {
        panic!("a refund notification");
    };
    assert_eq!(read.refund.get("refund_fee"), Some("987654"));
    let debug = format!("{notification:?}");
    for secret in [
        "TESTsecretRefundNo42",
        "50000408TESTsecret77",
        "987654",
        "987653",
    ] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    assert!(debug.contains("refund_fee"), "the names are shown: {debug}");

    // A plaintext that is not a flat document: the error names a field at most, never a value.
    for refused in [
        "<root><refund_fee>987654</refund_fee><refund_fee>987654</refund_fee></root>",
        "<root><out_refund_no>TESTsecretRefundNo42<x/></out_refund_no></root>",
        "<root><refund_fee>987654</refund_fee>TESTsecretRefundNo42</root>",
    ] {
        let error = client
            .read_apiv2_notification(envelope(refused).as_bytes())
            .expect_err("refused");
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains("987654") && !shown.contains("TESTsecretRefundNo42"),
            "{shown}"
        );
    }

    // Zeroized on demand as on drop: nothing is left to read.
    let mut refund = match notification {
        Notification::Refund(read) => read.refund,
        other => panic!("{other:?}"),
    };
    refund.zeroize();
    assert!(refund.is_empty());
    assert_eq!(refund.get("refund_fee"), None);
    let mut replaced: Fields = [("refund_fee", "987654")].into_iter().collect();
    replaced.insert("refund_fee", "1");
    assert_eq!(replaced.get("refund_fee"), Some("1"));
}
