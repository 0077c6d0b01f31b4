//! The sandbox answers operations without a stateful route from the spec: checked with the
//! dynamic client, which sends what it is given, so plaintext where the platform wants
//! ciphertext reaches the sandbox and must be refused there.

use crate::common;

use serde_json::{Value, json};
use wxpay::{CryptoBackend, Error};
use wxpay_sandbox::Sandbox;

fn order(receiver_name: &str) -> Value {
    json!({
        "transaction_id": "4208450740201411110007820472",
        "out_order_no": "P20150806125346",
        "unfreeze_unsplit": true,
        "receivers": [{
            "type": "MERCHANT_ID",
            "account": "86693852",
            "name": receiver_name,
            "amount": 888,
            "description": "分给商户A",
        }],
    })
}

fn param_error(result: Result<Value, Error>) -> String {
    match result {
        Err(Error::Api(e)) => {
            assert_eq!(e.code, "PARAM_ERROR", "{e}");
            assert!(e.signature_verified);
            e.message
        }
        other => panic!("expected PARAM_ERROR, got {other:?}"),
    }
}

#[tokio::test]
async fn nested_plaintext_missing_fields_and_wrong_serials_are_refused() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let client = common::client_for(&sandbox, CryptoBackend::default());
    let key = client.encryption_key().expect("a platform key");
    let ciphertext = key.encrypt("TEST 名称").expect("encrypt");

    // Encrypted and named in Wechatpay-Serial: the spec's example comes back, signed.
    let answer: Value = client
        .post("/v3/profitsharing/orders")
        .header("Wechatpay-Serial", key.id())
        .json(&order(&ciphertext))
        .send()
        .await
        .expect("a spec-driven answer");
    assert_eq!(answer["state"], "PROCESSING");

    // `receivers[].name` in plaintext is refused, naming the field.
    let message = param_error(
        client
            .post("/v3/profitsharing/orders")
            .header("Wechatpay-Serial", key.id())
            .json(&order("张三"))
            .send()
            .await,
    );
    assert!(message.contains("receivers[].name"), "{message}");
    // Ciphertext without saying which key made it, too.
    let message = param_error(
        client
            .post("/v3/profitsharing/orders")
            .json(&order(&ciphertext))
            .send()
            .await,
    );
    assert!(message.contains("Wechatpay-Serial"), "{message}");
    // A serial the merchant has no key under.
    let message = param_error(
        client
            .post("/v3/profitsharing/orders")
            .header(
                "Wechatpay-Serial",
                "PUB_KEY_ID_0000000000000000000000000000000000",
            )
            .json(&order(&ciphertext))
            .send()
            .await,
    );
    assert!(message.contains("unknown"), "{message}");
    // The first missing required field, and a field of the wrong kind.
    let mut missing = order(&ciphertext);
    missing.as_object_mut().map(|o| o.remove("out_order_no"));
    let message = param_error(
        client
            .post("/v3/profitsharing/orders")
            .header("Wechatpay-Serial", key.id())
            .json(&missing)
            .send()
            .await,
    );
    assert!(message.contains("`out_order_no`"), "{message}");
    // Inside a list too: each receiver must name its account.
    let mut nested = order(&ciphertext);
    nested["receivers"][0]
        .as_object_mut()
        .map(|o| o.remove("account"));
    let message = param_error(
        client
            .post("/v3/profitsharing/orders")
            .header("Wechatpay-Serial", key.id())
            .json(&nested)
            .send()
            .await,
    );
    assert!(message.contains("`receivers[0].account`"), "{message}");
    let mut mistyped = order(&ciphertext);
    mistyped["unfreeze_unsplit"] = json!("yes");
    let message = param_error(
        client
            .post("/v3/profitsharing/orders")
            .header("Wechatpay-Serial", key.id())
            .json(&mistyped)
            .send()
            .await,
    );
    assert!(
        message.contains("`unfreeze_unsplit` must be true or false"),
        "{message}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_lists_what_it_serves_and_how() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let body: Value =
        serde_json::from_slice(&common::control_get(&sandbox, "/sandbox/operations").await)
            .expect("JSON");
    let listed = body["operations"].as_array().expect("a list");
    let served = |how: &str| listed.iter().filter(|op| op["served"] == how).count();
    // Every row of the spec's endpoints.tsv (1,018), the e-invoice file included.
    assert!(listed.len() >= 1_018, "{}", listed.len());
    assert!(served("stateful") >= 26, "{}", served("stateful"));
    assert_eq!(served("stateful") + served("spec"), listed.len());
    eprintln!(
        "the sandbox serves {} operations: {} stateful, {} from the spec",
        listed.len(),
        served("stateful"),
        served("spec")
    );
    let fapiao_file = listed
        .iter()
        .find(|op| op["path"] == "/v3/new-tax-control-fapiao/download")
        .expect("listed");
    assert_eq!(fapiao_file["served"], "stateful");
    let pause = listed
        .iter()
        .find(|op| op["path"] == "/v3/marketing/favor/stocks/{stock_id}/pause")
        .expect("listed");
    assert_eq!(pause["served"], "stateful");
    sandbox.shutdown().await;
}

/// 下载发票文件 is the link the file list hands out: downloaded from it (the sandbox's own
/// host stands in for the platform's file host), and a link the sandbox never gave is refused.
#[cfg(feature = "fapiao")]
#[tokio::test]
async fn an_e_invoice_file_is_downloaded_from_the_link_its_list_hands_out() {
    use wxpay::apis::new_tax_control_fapiao::fapiao_applications::{
        FapiaoDownloadInfoListStatus, ListFapiaoFiles, ListFapiaoFilesRequired,
    };
    use wxpay::{Download, FileCheck};

    let sandbox = Sandbox::start().await.expect("sandbox");
    let client = common::client_for(&sandbox, CryptoBackend::default());
    let files = client
        .send(ListFapiaoFiles::new(ListFapiaoFilesRequired {
            fapiao_apply_id: "4200000444201910177461284488".into(),
            sub_mchid: wxpay_sandbox::SANDBOX_SUB_MCHID.into(),
            fapiao_id: "TEST_FAPIAO_1".into(),
        }))
        .await
        .expect("the file list");
    let infos = files.fapiao_download_info_list.expect("a list");
    let [info] = infos.as_slice() else {
        panic!("one file, got {infos:?}");
    };
    assert_eq!(info.fapiao_id.as_deref(), Some("TEST_FAPIAO_1"));
    assert_eq!(info.status, Some(FapiaoDownloadInfoListStatus::Issued));
    let download = info.download().expect("a download_url");
    assert!(
        download.url.starts_with(&format!(
            "{}/v3/new-tax-control-fapiao/download?token=",
            sandbox.base_url()
        )),
        "{}",
        download.url
    );

    let mut pdf = Vec::new();
    let done = client
        .download(&download, &mut pdf)
        .await
        .expect("the file");
    let text = String::from_utf8(pdf).expect("the sandbox's file is text");
    assert!(text.starts_with("%PDF-"), "{text}");
    assert!(text.contains("TEST_FAPIAO_1") && text.contains("4200000444201910177461284488"));
    assert_eq!(done.bytes, text.len() as u64);

    let forged = Download::new(
        format!(
            "{}/v3/new-tax-control-fapiao/download?token=TEST_FORGED",
            sandbox.base_url()
        ),
        FileCheck::unsigned(),
    );
    match client.download(&forged, &mut Vec::new()).await {
        Err(Error::Api(e)) => {
            assert_eq!(e.code, "RESOURCE_NOT_EXISTS", "{e}");
            assert!(e.signature_verified);
        }
        other => panic!("expected RESOURCE_NOT_EXISTS, got {other:?}"),
    }
    sandbox.shutdown().await;
}
