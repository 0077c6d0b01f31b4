//! The catalog's declarations produce exactly the requests of the known-answer vectors.

use http::HeaderValue;
use serde_json::Value;
use wxpay::apis::marketing::favor::{
    PauseStock, PauseStockRequired, QueryStock, QueryStockRequired,
};
use wxpay::protocol::{self, RequestContext, Signer};
use wxpay::{CryptoBackend, Endpoint, MerchantKey, PlatformKeys};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn request_vector(name: &str) -> Value {
    let vectors: Value = serde_json::from_str(&fixture("vectors.json")).expect("json");
    vectors["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .find(|v| v["name"] == name)
        .cloned()
        .expect("vector")
}

fn prepare<E: Endpoint>(
    endpoint: &E,
    vector: &Value,
    backend: CryptoBackend,
) -> http::Request<Vec<u8>> {
    let config: Value = serde_json::from_str(&fixture("keys/config.json")).expect("json");
    let key = MerchantKey::from_pem_with(
        config["merchant_serial"].as_str().expect("serial"),
        &fixture("keys/TEST_merchant_key.pem"),
        backend,
    )
    .expect("key");
    let ring = PlatformKeys::new();
    let user_agent = HeaderValue::from_static("wxpay-test");
    let context = RequestContext {
        base_url: "https://api.mch.weixin.qq.com",
        signer: Signer {
            mchid: config["mchid"].as_str().expect("mchid"),
            key: &key,
        },
        platform_keys: &ring,
        user_agent: &user_agent,
    };
    let timestamp = vector["timestamp"]
        .as_str()
        .expect("ts")
        .parse()
        .expect("ts");
    protocol::prepare(
        endpoint,
        &context,
        timestamp,
        vector["nonce"].as_str().expect("nonce"),
    )
    .expect("prepares")
}

#[test]
fn pause_stock_is_signed_exactly_as_the_vector() {
    let vector = request_vector("post_json");
    for &backend in CryptoBackend::all() {
        let pause = PauseStock::new(PauseStockRequired {
            stock_id: "9856888".into(),
            stock_creator_mchid: "1900009191".into(),
        });
        let request = prepare(&pause, &vector, backend);
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri().path(), vector["url"].as_str().expect("url"));
        assert_eq!(
            request.body().as_slice(),
            vector["body"].as_str().expect("body").as_bytes()
        );
        assert_eq!(request.headers()["content-type"], "application/json");
        assert_eq!(
            request.headers()["authorization"],
            vector["authorization"].as_str().expect("auth")
        );
    }
}

#[test]
fn a_get_sends_its_fields_in_the_query_and_an_empty_body() {
    let query = QueryStock::new(QueryStockRequired {
        stock_id: "98 56/888".into(),
        stock_creator_mchid: "1900009191".into(),
    });
    let request = prepare(
        &query,
        &request_vector("get_query"),
        CryptoBackend::default(),
    );
    assert_eq!(
        request.uri().path_and_query().expect("pq").as_str(),
        "/v3/marketing/favor/stocks/98%2056%2F888?stock_creator_mchid=1900009191"
    );
    assert!(request.body().is_empty());
    assert!(request.headers().get("content-type").is_none());
}

#[test]
fn endpoints_with_a_request_number_are_declared_idempotent_and_others_are_not() {
    use wxpay::apis::marketing::favor::{CreateStock, SendCoupon};
    use wxpay::apis::multiuse::SendMultiuseCoupon;
    const {
        assert!(<CreateStock as Endpoint>::IDEMPOTENT);
        assert!(<SendCoupon as Endpoint>::IDEMPOTENT);
        assert!(<SendMultiuseCoupon as Endpoint>::IDEMPOTENT);
        // Pausing twice is an error the second time: not safe to repeat blindly.
        assert!(!<PauseStock as Endpoint>::IDEMPOTENT);
    }
}

#[test]
fn payment_endpoints_with_a_merchant_number_are_idempotent() {
    use wxpay::apis::pay::transactions::{
        CloseOrder, CreateAppOrder, CreateH5Order, CreateJsapiOrder, CreateNativeOrder,
    };
    use wxpay::apis::refund::domestic::{ApplyAbnormalRefund, CreateRefund};
    const {
        assert!(<CreateJsapiOrder as Endpoint>::IDEMPOTENT);
        assert!(<CreateAppOrder as Endpoint>::IDEMPOTENT);
        assert!(<CreateH5Order as Endpoint>::IDEMPOTENT);
        assert!(<CreateNativeOrder as Endpoint>::IDEMPOTENT);
        assert!(<CloseOrder as Endpoint>::IDEMPOTENT);
        assert!(<CreateRefund as Endpoint>::IDEMPOTENT);
        assert!(<ApplyAbnormalRefund as Endpoint>::IDEMPOTENT);
    }
}

#[test]
fn encrypted_request_fields_never_reach_debug_output() {
    use wxpay::apis::refund::domestic::{
        ApplyAbnormalRefund, ApplyAbnormalRefundRequired,
        ApplyAbnormalRefundType as AbnormalRefundType, BankType,
    };
    let apply = ApplyAbnormalRefund::new(ApplyAbnormalRefundRequired {
        refund_id: "50000000382019052709732678859".into(),
        out_refund_no: "1217752501201407033233368018".into(),
        type_: AbnormalRefundType::UserBankCard,
    })
    .bank_type(BankType::IcbcDebit)
    .bank_account("6212263602012345678")
    .real_name("张三");
    let shown = format!("{apply:?}");
    assert!(
        !shown.contains("6212263602012345678") && !shown.contains("张三"),
        "{shown}"
    );
    // What is not encrypted still shows.
    assert!(
        shown.contains(&format!("{:?}", BankType::IcbcDebit)),
        "{shown}"
    );
}
