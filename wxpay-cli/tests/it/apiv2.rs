//! `wxpay call` of APIv2 operations (by their catalog names and by paths) and `wxpay verify
//! v2-notification`, against the sandbox's independent APIv2 on loopback (HTTP, and HTTPS with
//! its TEST CA and client certificate). Calls go through the library's `Client::apiv2`.

use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use wxpay::apiv2::{self, SignType};
use wxpay::{ApiV2Key, CryptoBackend};
use wxpay_sandbox::{HttpsIdentity, Sandbox, Secret};

use crate::cli::{External, notification_receiver, stdout_json, wxpay};

const KEY: &str = "TESTapiv2key0123456789ABCDEFGHIJ";
const OTHER_KEY: &str = "TESTotherkey0123456789ABCDEFGHIJ";
const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";

fn v2_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../wxpay-sandbox/tests/fixtures/v2")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(v2_fixture(name)).expect("fixture")
}

/// A sandbox with the TEST APIv2 key and, with `https`, its HTTPS listener for client
/// certificates issued by the TEST CA.
fn sandbox(https: bool, notify_url: Option<&str>) -> External {
    let mut builder = Sandbox::builder().apiv2_key(KEY);
    if https {
        builder = builder.https(HttpsIdentity {
            ca_certificate_pem: read("TEST-ca-cert.pem"),
            server_certificate_pem: read("TEST-server-cert.pem"),
            server_key_pem: Secret::new(read("TEST-server-key.pem")),
        });
    }
    External::start_with(builder, notify_url)
}

fn fields(pairs: &[(&str, &str)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(name, value)| ["--field".to_owned(), format!("{name}={value}")])
        .collect()
}

fn micropay(out_trade_no: &str, total_fee: &str) -> Vec<String> {
    let mut args = vec![
        "--json".to_owned(),
        "call".into(),
        "POST".into(),
        "/pay/micropay".into(),
    ];
    args.extend(fields(&[
        ("appid", APPID),
        ("mch_id", MCHID),
        ("body", "TEST <公仔> & co"),
        ("out_trade_no", out_trade_no),
        ("total_fee", total_fee),
        ("spbill_create_ip", "127.0.0.1"),
        ("auth_code", "120061098828009406"),
    ]));
    args
}

/// The binary configured for APIv2 through the sandbox's `WXPAY_*` (its key is KEY).
fn configured(external: &External) -> Command {
    external.wxpay()
}

fn key(text: &str) -> ApiV2Key {
    ApiV2Key::new(text).expect("TEST key")
}

#[test]
fn dry_run_prints_the_signed_xml_and_sends_nothing() {
    let external = sandbox(false, None);
    // Micropay takes either sign type: the client's choice (HMAC-SHA256) unless --sign-type.
    for (flags, sign_type) in [
        (&[][..], SignType::HmacSha256),
        (&["--sign-type", "md5"][..], SignType::Md5),
        (&["--sign-type", "HMAC-SHA256"][..], SignType::HmacSha256),
    ] {
        let output = configured(&external)
            // A closed port: a dry run must not try it.
            .env("WXPAY_BASE_URL", "http://127.0.0.1:9")
            .args(micropay("TESTdry", "1"))
            .args(["--field", r#"detail:={"goods_detail":[{"goods_id":"1"}]}"#])
            .arg("--dry-run")
            .args(flags)
            .output()
            .expect("run");
        assert!(output.status.success(), "{output:?}");
        let document = stdout_json(&output);
        assert_eq!(document["url"], "http://127.0.0.1:9/pay/micropay");
        assert_eq!(document["operation"], "v2::pay::Micropay");
        assert_eq!(document["sign_type"], sign_type.as_str());
        let body = document["body"].as_str().expect("body");
        let sent = apiv2::parse(body.as_bytes()).expect("our XML parses");
        assert_eq!(sent.get("body"), Some("TEST <公仔> & co"));
        // A JSON value goes as its JSON text.
        assert_eq!(
            sent.get("detail"),
            Some(r#"{"goods_detail":[{"goods_id":"1"}]}"#)
        );
        assert_eq!(sent.get("nonce_str").map(str::len), Some(32));
        assert_eq!(
            sent.get("sign_type"),
            (sign_type == SignType::HmacSha256).then_some("HMAC-SHA256")
        );
        apiv2::verify(&sent, &key(KEY), sign_type, CryptoBackend::default())
            .expect("the sign verifies with the key");
        assert!(
            apiv2::verify(&sent, &key(OTHER_KEY), sign_type, CryptoBackend::default()).is_err()
        );
        assert!(!String::from_utf8_lossy(&output.stdout).contains(KEY));
        assert!(!String::from_utf8_lossy(&output.stderr).contains(KEY));
    }
}

#[test]
fn the_signer_owns_sign_nonce_and_sign_type_and_fields_are_flat() {
    let external = sandbox(false, None);
    for bad in [
        &["--field", "sign=ABC"][..],
        &["--field", "nonce_str=x"],
        &["--field", "sign_type=MD5"],
        &["--field", "scene_info.id=1"],
        &["--sign-type", "SHA1"],
    ] {
        configured(&external)
            .args([
                "call",
                "/pay/orderquery",
                "--field",
                "mch_id=1",
                "--dry-run",
            ])
            .args(bad)
            .assert()
            .code(2);
    }
    // APIv2 flags on an APIv3 call are a usage error, not silently ignored.
    wxpay()
        .args(["--sandbox", "call", "PauseStock", "--cert", "--dry-run"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("APIv2 operations"));
    // No key: a configuration error naming the variable, never a panic.
    configured(&external)
        .env_remove("WXPAY_APIV2_KEY")
        .args([
            "call",
            "/pay/orderquery",
            "--field",
            "mch_id=1",
            "--dry-run",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("WXPAY_APIV2_KEY"));
    configured(&external)
        .env("WXPAY_APIV2_KEY", "short")
        .args([
            "call",
            "/pay/orderquery",
            "--field",
            "mch_id=1",
            "--dry-run",
        ])
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("WXPAY_APIV2_KEY")
                .and(predicate::str::contains("short").not()),
        );
}

#[test]
fn calls_are_accepted_by_the_sandbox_in_both_sign_types_and_answers_verified() {
    let external = sandbox(false, None);
    for (n, sign_type) in ["MD5", "HMAC-SHA256"].into_iter().enumerate() {
        let no = format!("TESTclipay{n}");
        let output = configured(&external)
            .args(micropay(&no, "1"))
            .args(["--sign-type", sign_type])
            .output()
            .expect("run");
        assert!(output.status.success(), "{output:?}");
        let document = stdout_json(&output);
        assert_eq!(document["verified"], true);
        assert_eq!(document["sign_type"], sign_type);
        assert_eq!(document["body"]["result_code"], "SUCCESS");
        assert_eq!(document["body"]["out_trade_no"], no.as_str());
        assert_eq!(document["body"]["total_fee"], "1");
        // The answer's own sign, in the request's type, is printed with it.
        let expected_len = if sign_type == "MD5" { 32 } else { 64 };
        assert_eq!(
            document["body"]["sign"].as_str().map(str::len),
            Some(expected_len)
        );
    }
    // The order exists: orderquery (by path alone: APIv2 requests are POSTs) finds it.
    let output = configured(&external)
        .args(["--json", "call", "/pay/orderquery"])
        .args(fields(&[
            ("appid", APPID),
            ("mch_id", MCHID),
            ("out_trade_no", "TESTclipay0"),
        ]))
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout_json(&output)["body"]["trade_state"], "SUCCESS");
    // A business error (an unknown order) is the platform's: exit 5 with err_code.
    let output = configured(&external)
        .args(["--json", "call", "/pay/orderquery"])
        .args(fields(&[
            ("appid", APPID),
            ("mch_id", MCHID),
            ("out_trade_no", "TESTnone"),
        ]))
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(5), "{output:?}");
    let error = &stdout_json(&output)["error"];
    assert_eq!(error["err_code"], "ORDERNOTEXIST", "{error}");
}

#[test]
fn a_request_signed_with_another_key_is_refused_by_the_platform() {
    let external = sandbox(false, None);
    configured(&external)
        .env("WXPAY_APIV2_KEY", OTHER_KEY)
        .args(micropay("TESTwrongkey", "1"))
        .assert()
        .code(5)
        .stdout(predicate::str::contains("签名错误"))
        .stdout(predicate::str::contains(OTHER_KEY).not());
}

/// The binary aimed at the sandbox's HTTPS listener, trusting its TEST CA, with the TEST client
/// certificate configured.
fn over_tls(external: &External) -> Command {
    let mut command = configured(external);
    command
        .env(
            "WXPAY_BASE_URL",
            external.sandbox.https_url().expect("https"),
        )
        .env("WXPAY_MERCHANT_CERT", v2_fixture("TEST-apiclient-cert.pem"))
        .env("WXPAY_MERCHANT_KEY", v2_fixture("TEST-apiclient-key.pem"))
        .arg("--json");
    command
}

/// The fields of a red packet, after `operation` (a name or a path).
fn red_packet(operation: &str, billno: &str) -> Vec<String> {
    let mut args = vec![
        "call".to_owned(),
        operation.to_owned(),
        "--ca-cert".into(),
        v2_fixture("TEST-ca-cert.pem")
            .to_string_lossy()
            .into_owned(),
    ];
    args.extend(fields(&[
        ("mch_billno", billno),
        ("mch_id", MCHID),
        ("wxappid", APPID),
        ("send_name", "TEST 商户"),
        ("re_openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        ("total_amount", "100"),
        ("total_num", "1"),
        ("wishing", "恭喜发财"),
        ("client_ip", "127.0.0.1"),
        ("act_name", "TEST"),
        ("remark", "TEST"),
    ]));
    args
}

const SEND_RED_PACKET: &str = "v2::redpack::SendRedpack";

#[test]
fn a_red_packet_by_name_goes_over_mtls_with_the_catalogs_rules() {
    let external = sandbox(true, None);
    // The catalog knows the operation needs the client certificate and is answered unsigned:
    // no flag needed.
    let output = over_tls(&external)
        .args(red_packet(SEND_RED_PACKET, "TESTclihb1"))
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let document = stdout_json(&output);
    assert_eq!(document["operation"], SEND_RED_PACKET);
    assert_eq!(document["verified"], false);
    assert_eq!(document["body"]["result_code"], "SUCCESS");
    assert_eq!(document["body"]["mch_billno"], "TESTclihb1");
    assert!(document["body"]["send_listid"].is_string(), "{document}");
    // The red packet exists: gethbinfo (by the path alone, MD5, also mTLS and unsigned) finds
    // it. Flags that repeat the catalog's rules are accepted.
    let mut query = vec![
        "call".to_owned(),
        "/mmpaymkttransfers/gethbinfo".into(),
        "--cert".into(),
        "--unsigned-answer".into(),
        "--sign-type".into(),
        "MD5".into(),
        "--ca-cert".into(),
        v2_fixture("TEST-ca-cert.pem")
            .to_string_lossy()
            .into_owned(),
    ];
    query.extend(fields(&[
        ("mch_billno", "TESTclihb1"),
        ("mch_id", MCHID),
        ("appid", APPID),
        ("bill_type", "MCHT"),
    ]));
    let output = over_tls(&external).args(query).output().expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout_json(&output)["operation"],
        "v2::redpack::QueryRedpack"
    );

    // The certificate is the client's: without one configured, a configuration error naming
    // the variable, and nothing sent.
    configured(&external)
        .args(red_packet(SEND_RED_PACKET, "TESTclihb4"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("WXPAY_MERCHANT_CERT"));
    // The server's TEST certificate is not trusted without --ca-cert.
    let mut untrusted = red_packet(SEND_RED_PACKET, "TESTclihb5");
    untrusted.drain(2..4);
    over_tls(&external).args(untrusted).assert().code(4);
}

#[test]
fn flags_that_contradict_the_catalog_are_refused_before_anything_is_sent() {
    let external = sandbox(false, None);
    for (operation, flags, says) in [
        (
            SEND_RED_PACKET,
            &["--sign-type", "HMAC-SHA256"][..],
            "signed MD5 only",
        ),
        (
            "v2::pay::QueryOrder",
            &["--cert"],
            "takes no client certificate",
        ),
        (
            "POST /pay/orderquery",
            &["--unsigned-answer"],
            "signs the answers",
        ),
        ("v2::pay::QueryOrder", &["--host", "apihk"], "served on api"),
        (
            "v2::pay::QueryOrder",
            &["--host", "nowhere"],
            "not a host key",
        ),
        ("v2::papay::SignInH5", &[], "opens in a browser"),
    ] {
        configured(&external)
            // A closed port: nothing may be sent.
            .env("WXPAY_BASE_URL", "http://127.0.0.1:9")
            .args(["call", operation, "--field", "mch_id=1"])
            .args(flags)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
    // A page's signed URL is what a dry run gives.
    let output = configured(&external)
        .env("WXPAY_BASE_URL", "http://127.0.0.1:9")
        .args(["--json", "call", "v2::papay::SignInH5", "--dry-run"])
        .args(fields(&[
            ("appid", APPID),
            ("mch_id", MCHID),
            ("plan_id", "12535"),
        ]))
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let document = stdout_json(&output);
    assert_eq!(document["method"], "GET");
    let url = document["url"].as_str().expect("url");
    assert!(
        url.starts_with("http://127.0.0.1:9/papay/h5entrustweb?"),
        "{url}"
    );
    assert!(url.contains("&sign="), "{url}");
}

#[test]
fn operations_by_name_are_signed_in_the_catalogs_type_and_their_answers_read_by_its_rules() {
    let external = sandbox(false, None);
    // MD5 only, a signed answer.
    let output = configured(&external)
        .args(["--json", "call", "QueryOpenidByAuthCode"])
        .args(fields(&[
            ("appid", APPID),
            ("mch_id", MCHID),
            ("auth_code", "120061098828009406"),
        ]))
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let document = stdout_json(&output);
    assert_eq!(document["operation"], "v2::tools::QueryOpenidByAuthCode");
    assert_eq!(document["sign_type"], "MD5");
    assert_eq!(document["verified"], true);
    assert_eq!(document["body"]["sign"].as_str().map(str::len), Some(32));
    // HMAC-SHA256 only, a signed answer.
    let output = configured(&external)
        .args(["--json", "call", "v2::profitsharing::QueryMaxRatio"])
        .args(fields(&[("mch_id", MCHID)]))
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let document = stdout_json(&output);
    assert_eq!(document["sign_type"], "HMAC-SHA256");
    assert_eq!(document["verified"], true);
    assert_eq!(document["body"]["sign"].as_str().map(str::len), Some(64));
    // Answered unsigned: read without a sign, and said so.
    configured(&external)
        .args(["call", "v2::sandbox::GetSignKey"])
        .args(fields(&[("mch_id", MCHID)]))
        .assert()
        .success()
        .stdout(predicate::str::contains("answers this operation unsigned"))
        .stdout(predicate::str::contains("sandbox_signkey"));
    // A bill: its text as it came (no `<xml>` to verify), by the catalog's `answer = text`.
    let output = configured(&external)
        .args(["--json", "call", "v2::bill::DownloadTradeBill"])
        .args(fields(&[
            ("appid", APPID),
            ("mch_id", MCHID),
            ("bill_date", "20260102"),
            ("bill_type", "ALL"),
        ]))
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let document = stdout_json(&output);
    assert_eq!(document["operation"], "v2::bill::DownloadTradeBill");
    let bill = document["body"].as_str().expect("the bill's text");
    assert!(bill.starts_with("交易时间,公众账号ID"), "{bill}");
    assert!(bill.contains("`1230000109"), "{bill}");
    // A name two APIv2 modules share is refused with both; a typo gets a suggestion.
    wxpay()
        .args(["call", "SendRedpack"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("v2::redpack::SendRedpack"))
        .stderr(predicate::str::contains("v2::workwx::SendRedpack"));
    wxpay()
        .args(["call", "v2::redpack::SendRedpak"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean SendRedpack?"));
}

fn received(receiver: &std::sync::mpsc::Receiver<(String, Vec<u8>)>) -> Vec<u8> {
    receiver
        .recv_timeout(Duration::from_secs(20))
        .expect("a notification within 20 s")
        .1
}

#[test]
fn refund_notifications_decrypt_and_foreign_ones_fail() {
    let (url, receiver) = notification_receiver();
    let external = sandbox(true, Some(&url));
    configured(&external)
        .args(micropay("TESTclirefund", "300"))
        .assert()
        .success();
    let mut refund = vec![
        "call".to_owned(),
        "POST".into(),
        "/secapi/pay/refund".into(),
        "--cert".into(),
        "--sign-type".into(),
        "HMAC-SHA256".into(),
        "--ca-cert".into(),
        v2_fixture("TEST-ca-cert.pem")
            .to_string_lossy()
            .into_owned(),
    ];
    refund.extend(fields(&[
        ("appid", APPID),
        ("mch_id", MCHID),
        ("out_trade_no", "TESTclirefund"),
        ("out_refund_no", "TESTclirefund-1"),
        ("total_fee", "300"),
        ("refund_fee", "100"),
        ("notify_url", &url),
    ]));
    let output = over_tls(&external).args(refund).output().expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout_json(&output)["body"]["refund_fee"], "100");

    let body = received(&receiver);
    let file = external.dir.path().join("refund.xml");
    std::fs::write(&file, &body).expect("write");
    let output = configured(&external)
        .args(["--json", "verify", "v2-notification", "--body"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let document = stdout_json(&output);
    assert_eq!(document["kind"], "refund");
    assert_eq!(document["fields"]["out_refund_no"], "TESTclirefund-1");
    assert_eq!(document["fields"]["refund_fee"], "100");
    assert!(!String::from_utf8_lossy(&output.stdout).contains(KEY));
    // Under another key the req_info does not decrypt: exit 6, the key not printed.
    configured(&external)
        .env("WXPAY_APIV2_KEY", OTHER_KEY)
        .args(["verify", "v2-notification", "--body"])
        .arg(&file)
        .assert()
        .code(6)
        .stderr(predicate::str::contains(OTHER_KEY).not());
}

#[test]
fn payment_notifications_verify_and_tampered_ones_fail() {
    let (url, receiver) = notification_receiver();
    let external = sandbox(false, None);
    configured(&external)
        .args(["call", "/pay/unifiedorder"])
        .args(fields(&[
            ("appid", APPID),
            ("mch_id", MCHID),
            ("body", "TEST"),
            ("out_trade_no", "TESTclipaid"),
            ("total_fee", "88"),
            ("spbill_create_ip", "127.0.0.1"),
            ("notify_url", &url),
            ("trade_type", "NATIVE"),
        ]))
        .assert()
        .success();
    {
        // The notification goes out from a task of the sandbox's runtime.
        let _runtime = external.runtime().enter();
        assert!(external.sandbox.pay_v2_order("TESTclipaid"));
    }
    let body = received(&receiver);
    let file = external.dir.path().join("paid.xml");
    std::fs::write(&file, &body).expect("write");
    let output = configured(&external)
        .args(["--json", "verify", "v2-notification", "--body"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let document = stdout_json(&output);
    assert_eq!(document["kind"], "payment");
    assert_eq!(document["fields"]["out_trade_no"], "TESTclipaid");
    assert_eq!(document["fields"]["total_fee"], "88");
    // Read from stdin too, as text for people.
    configured(&external)
        .args(["verify", "v2-notification", "--body", "-"])
        .write_stdin(body.clone())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            // Ordered in the client's choice for an operation that takes either.
            "payment notification verified: sign verified (HMAC-SHA256)",
        ));

    // A changed amount, or the other sign type asked for: exit 6.
    let text = String::from_utf8(body).expect("UTF-8");
    // The sandbox writes every value as CDATA, as the platform does.
    let tampered = text.replace(
        "<total_fee><![CDATA[88]]></total_fee>",
        "<total_fee><![CDATA[1]]></total_fee>",
    );
    assert_ne!(
        tampered, text,
        "the notification carries total_fee as written"
    );
    std::fs::write(&file, tampered).expect("write");
    configured(&external)
        .args(["verify", "v2-notification", "--body"])
        .arg(&file)
        .assert()
        .code(6);
    std::fs::write(&file, &text).expect("write");
    configured(&external)
        .args(["verify", "v2-notification", "--sign-type", "MD5", "--body"])
        .arg(&file)
        .assert()
        .code(6);
}
