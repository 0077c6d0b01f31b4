//! Sensitive fields of a dynamic request: named by path, encrypted by the request writer on
//! each attempt with the one platform key it names in `Wechatpay-Serial` (as declared
//! endpoints do), and refused with a typed error when a named field is not text.

use std::time::Duration;

use serde_json::{Value, json};
use wxpay_core::{Client, Error, Host, MerchantKey, RequestError, RetryPolicy};
use wxpay_sandbox::{Fault, FaultPlan, KeyMode, Sandbox};

use crate::common::{self, key};
use crate::loopback::{self, Loopback, answer};

fn client(base_url: &str) -> Client {
    loopback::merchant(base_url)
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client")
}

/// The TEST platform's private key, to read what was encrypted for it.
fn platform_private_key() -> MerchantKey {
    MerchantKey::from_pem(platform_serial(), &key("TEST_platform_key.pem")).expect("TEST key")
}

fn platform_serial() -> String {
    common::s(&common::config(), "platform_serial").to_owned()
}

fn decrypted(ciphertext: &Value) -> String {
    let text = ciphertext.as_str().expect("ciphertext is text");
    platform_private_key()
        .decrypt(text)
        .expect("decrypts with the platform key")
        .to_string()
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("escape");
            out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

fn body() -> Value {
    json!({
        "out_request_no": "DYN-1",
        "user_name": "张三",
        "payer": { "identity": { "name": "李四", "number": "110101199003072316" } },
        "receivers": [{ "name": "王五", "account": "o-1" }, { "name": "赵六" }],
        "insured_name_list": ["钱七", "孙八"],
    })
}

fn refusal(result: Result<Value, Error>) -> (String, String) {
    match result {
        Err(Error::Request(RequestError::Encrypt { field, reason })) => (field, reason),
        other => panic!("expected a refused sensitive field, got {other:?}"),
    }
}

#[tokio::test]
async fn named_fields_arrive_encrypted_for_the_one_key_the_header_names() {
    let platform = Loopback::answering(answer(204, "", b"")).await;
    let client = client(&platform.url);
    // The loopback does not sign its answer; what arrived is the point.
    let _ = client
        .post("/v3/dynamic/sensitive")
        .query("limit", 10)
        .query_encrypted("mobile", "13800138000")
        .json(&body())
        .encrypt("user_name")
        .encrypt("payer.identity.name")
        .encrypt("receivers.name")
        .encrypt("insured_name_list")
        .encrypt_if_present("payer.identity.address")
        .send::<Value>()
        .await;

    let arrivals = platform.arrivals();
    assert_eq!(arrivals.len(), 1);
    let arrival = &arrivals[0];
    assert_eq!(
        arrival.header("wechatpay-serial"),
        Some(platform_serial().as_str())
    );
    let sent: Value = serde_json::from_slice(&arrival.body).expect("JSON body");
    let text = String::from_utf8_lossy(&arrival.body);
    for plain in [
        "张三",
        "李四",
        "王五",
        "赵六",
        "钱七",
        "孙八",
        "13800138000",
    ] {
        assert!(!text.contains(plain), "{plain} in the clear: {text}");
    }
    assert_eq!(decrypted(&sent["user_name"]), "张三");
    assert_eq!(decrypted(&sent["payer"]["identity"]["name"]), "李四");
    assert_eq!(decrypted(&sent["receivers"][0]["name"]), "王五");
    assert_eq!(decrypted(&sent["receivers"][1]["name"]), "赵六");
    assert_eq!(decrypted(&sent["insured_name_list"][0]), "钱七");
    assert_eq!(decrypted(&sent["insured_name_list"][1]), "孙八");
    // Fields that were not named go as they were.
    assert_eq!(sent["payer"]["identity"]["number"], "110101199003072316");
    assert_eq!(sent["receivers"][0]["account"], "o-1");
    assert_eq!(sent["out_request_no"], "DYN-1");
    assert!(sent["payer"]["identity"].get("address").is_none());

    let query = arrival.target.split_once('?').expect("a query").1;
    let pairs: Vec<(&str, &str)> = query
        .split('&')
        .map(|pair| pair.split_once('=').expect("name=value"))
        .collect();
    assert_eq!(pairs[0], ("limit", "10"));
    assert_eq!(pairs[1].0, "mobile");
    assert_eq!(
        decrypted(&Value::String(percent_decoded(pairs[1].1))),
        "13800138000"
    );
}

#[tokio::test]
async fn prepare_shows_the_request_encrypted_as_send_would_send_it() {
    let client = client("http://127.0.0.1:9");
    let request = client
        .post("/v3/dynamic/sensitive")
        .json(&json!({ "user_name": "张三", "amount": 100 }))
        .encrypt("user_name");
    let signed = request.prepare().expect("prepared");
    assert_eq!(
        signed.headers()["wechatpay-serial"].to_str().ok(),
        Some(platform_serial().as_str())
    );
    let sent: Value = serde_json::from_slice(signed.body()).expect("JSON");
    assert_eq!(decrypted(&sent["user_name"]), "张三");
    assert_eq!(sent["amount"], 100);
    // Each preparation encrypts afresh (RSA-OAEP is randomised): nothing is cached.
    let again: Value = serde_json::from_slice(request.prepare().expect("again").body()).unwrap();
    assert_ne!(again["user_name"], sent["user_name"]);
    assert_eq!(decrypted(&again["user_name"]), "张三");
}

#[tokio::test]
async fn an_absent_optional_field_encrypts_nothing_and_names_no_key() {
    let platform = Loopback::answering(answer(204, "", b"")).await;
    let client = client(&platform.url);
    let _ = client
        .post("/v3/dynamic/sensitive")
        .json(&json!({ "payer": { "openid": "o-1" }, "receivers": [], "note": null }))
        .encrypt_if_present("payer.identity.name")
        .encrypt_if_present("receivers.name")
        .encrypt_if_present("note")
        .encrypt_if_present("absent.deeper")
        .send::<Value>()
        .await;
    let arrivals = platform.arrivals();
    assert_eq!(arrivals.len(), 1);
    assert_eq!(arrivals[0].header("wechatpay-serial"), None);
    let sent: Value = serde_json::from_slice(&arrivals[0].body).expect("JSON");
    assert_eq!(
        sent,
        json!({ "payer": { "openid": "o-1" }, "receivers": [], "note": null })
    );
}

#[tokio::test]
async fn a_named_field_that_is_not_text_is_refused_before_anything_is_sent() {
    let platform = Loopback::answering(answer(204, "", b"")).await;
    let client = client(&platform.url);
    let send = |body: Value, path: &'static str, required: bool| {
        let request = client.post("/v3/dynamic/sensitive").json(&body);
        let request = if required {
            request.encrypt(path)
        } else {
            request.encrypt_if_present(path)
        };
        request.send::<Value>()
    };

    let (field, reason) = refusal(send(json!({ "user_nam": "张三" }), "user_name", true).await);
    assert_eq!(field, "user_name");
    assert!(reason.contains("not in the body"), "{reason}");

    let (field, reason) = refusal(send(json!({ "user_name": 42 }), "user_name", true).await);
    assert_eq!(field, "user_name");
    assert!(reason.contains("a number"), "{reason}");
    // Optional or not, what is there must be text.
    let (field, reason) = refusal(send(json!({ "user_name": 42 }), "user_name", false).await);
    assert_eq!(field, "user_name");
    assert!(reason.contains("a number"), "{reason}");

    let list = json!({ "receivers": [{ "name": "王五" }, { "account": "o-2" }] });
    let (field, reason) = refusal(send(list, "receivers.name", true).await);
    assert_eq!(field, "receivers[1].name");
    assert!(reason.contains("not in the body"), "{reason}");

    let nested = json!({ "payer": { "identity": "李四" } });
    let (field, reason) = refusal(send(nested.clone(), "payer.identity.name", false).await);
    assert_eq!(field, "payer.identity");
    assert!(
        reason.contains("text, so it has no field `name`"),
        "{reason}"
    );

    let (field, reason) = refusal(send(json!({ "note": null }), "note", true).await);
    assert_eq!(field, "note");
    assert!(reason.contains("null"), "{reason}");

    let (field, reason) = refusal(send(json!({ "receivers": [] }), "receivers[].name", true).await);
    assert_eq!(field, "receivers[].name");
    assert!(reason.contains("write `receivers.name`"), "{reason}");
    let (field, _) = refusal(send(json!({}), "payer..name", false).await);
    assert_eq!(field, "payer..name");

    let no_body = client
        .get("/v3/dynamic/sensitive")
        .encrypt("user_name")
        .send::<Value>()
        .await;
    let (field, reason) = refusal(no_body);
    assert_eq!(field, "user_name");
    assert!(reason.contains("no body"), "{reason}");

    // The request names the key its fields are encrypted with; a caller's serial would not be
    // that key.
    let with_serial = client
        .post("/v3/dynamic/sensitive")
        .header("Wechatpay-Serial", "PUB_KEY_ID_OTHER")
        .json(&json!({ "user_name": "张三" }))
        .encrypt("user_name")
        .send::<Value>()
        .await;
    assert!(
        matches!(&with_serial, Err(Error::Request(RequestError::Field { reason, .. }))
            if reason.contains("encrypted fields")),
        "{with_serial:?}"
    );

    // The plaintext never reaches the error.
    let result = send(
        json!({ "user_name": { "given": "张三" } }),
        "user_name",
        true,
    )
    .await;
    let shown = format!("{result:?}");
    assert!(shown.contains("an object"), "{shown}");
    assert!(!shown.contains("张三"), "{shown}");
    assert_eq!(
        platform.count(),
        0,
        "a refused request reached the platform"
    );
}

#[tokio::test]
async fn without_a_platform_key_prepare_says_so() {
    let config = common::config();
    let client = Client::builder()
        .mchid(common::s(&config, "mchid"))
        .merchant_key(
            common::s(&config, "merchant_serial"),
            key("TEST_merchant_key.pem"),
        )
        .apiv3_key(common::s(&config, "apiv3_key"))
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("client");
    let result = client
        .post("/v3/dynamic/sensitive")
        .json(&json!({ "user_name": "张三" }))
        .encrypt("user_name")
        .prepare();
    assert!(
        matches!(result, Err(Error::Request(RequestError::NoEncryptionKey))),
        "{result:?}"
    );
}

/// `PUT /hk/v3/merchants`: a retried method (PUT) whose `contact` the sandbox decrypts with
/// the key `Wechatpay-Serial` names, refusing a serial it no longer lists.
fn merchant_update(sandbox: &Sandbox) -> Value {
    let mchid = &sandbox.merchant().mchid;
    json!({
        "sp_appid": "wxd678efh567hg6787",
        "sp_mchid": mchid,
        "sub_mchid": "1900000109",
        "name": "Test Merchant Ltd",
        "shortname": "Test",
        "office_phone": "85200000000",
        "merchant_country_code": "344",
        "merchant_type": "ENTERPRISE",
        "business_category": 343,
        "business": { "business_type": "ONLINE" },
        "contact": { "name": "张三", "phone": "85212345678", "email": "test@example.com" },
    })
}

// Paused time: the overlap and the retry's wait pass on tokio's clock, which the sandbox times
// rotations by. The first attempt is written with the old certificate and answered 500; while
// the client waits to retry, it learns the new certificate; the retry comes after the old
// serial expired at the platform, so it only succeeds if it was encrypted afresh for the new
// key.
#[tokio::test(start_paused = true)]
async fn a_retry_after_a_rotation_encrypts_for_the_new_key() {
    let sandbox = Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("sandbox");
    let merchant = sandbox.merchant();
    let client = Client::builder()
        .mchid(&merchant.mchid)
        .merchant_key(
            &merchant.merchant_serial,
            merchant
                .merchant_private_key_pem
                .as_ref()
                .expect("generated key")
                .expose(),
        )
        .platform_certificate(
            merchant
                .platform_certificate_pem
                .as_deref()
                .expect("certificate mode"),
        )
        .apiv3_key(merchant.apiv3_key.expose())
        .base_url(sandbox.base_url())
        // One retry, a minute later (30 to 60 s with jitter).
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(2)
                .base_delay(Duration::from_secs(60))
                .max_delay(Duration::from_secs(60)),
        )
        .build()
        .expect("client");
    let old_serial = sandbox.response_serial();

    // The old certificate is listed (and signs downloads) for 2 × 10 s more.
    let overlap = Duration::from_secs(10);
    let new_serial = sandbox
        .rotate_platform_certificate(overlap)
        .expect("rotate");
    sandbox.inject_faults(FaultPlan::next(1, Fault::ServerError).path_prefix("/hk/"));

    let body = merchant_update(&sandbox);
    let call = client
        .put("/hk/v3/merchants")
        .host(Host::Apihk)
        .json(&body)
        .encrypt("contact.name")
        .encrypt("contact.phone")
        .encrypt("contact.email")
        .send_verified::<Value>();
    let learn = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = client.encryption_key().map(|key| key.id().to_owned());
        client
            .refresh_platform_certificates()
            .await
            .expect("download within the overlap");
        (
            before,
            client.encryption_key().map(|key| key.id().to_owned()),
        )
    };
    let (answer, (before, after)) = tokio::join!(call, learn);

    assert_eq!(before.as_deref(), Some(old_serial.as_str()));
    assert_eq!(after.as_deref(), Some(new_serial.as_str()));
    assert_eq!(
        sandbox.fault_counts().total(),
        1,
        "the first attempt failed"
    );
    // By the retry the old serial has expired at the platform: only the new one is listed.
    assert_eq!(sandbox.platform_certificates(), [new_serial]);
    let answer = answer.expect("the retry, encrypted for the new key, is accepted");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.value["sub_mchid"], "1900000109");
}
