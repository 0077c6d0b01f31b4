//! `v2` declares an APIv2 operation: its rules are constants of the endpoint, its fields the
//! elements of the `<xml>` body, `#[wxpay(json)]` ones as JSON text; it is constructed like
//! any endpoint.
use wxpay::{ApiV2, Endpoint, Host, Protocol, SignTypes, endpoint};

#[derive(Clone, serde::Serialize)]
pub struct Receiver {
    pub account: String,
    pub amount: u64,
}

#[derive(serde::Deserialize)]
pub struct Answer {
    pub return_code: String,
}

#[endpoint(v2 POST "/mmpaymkttransfers/sendredpack" -> Answer, cert, unsigned_answer, idempotent)]
pub struct SendRedpack {
    pub mch_billno: String,
    pub total_amount: u64,
    pub scene_id: Option<String>,
}

#[endpoint(v2 POST "/secapi/pay/profitsharing" -> Answer, cert, sign_type = hmac_sha256)]
pub struct ProfitSharing {
    pub transaction_id: String,
    #[wxpay(json)]
    pub receivers: Vec<Receiver>,
}

#[endpoint(v2 POST "/pay/orderquery" -> Answer, sign_type = either)]
pub struct OrderQuery {
    pub out_trade_no: String,
}

#[endpoint(v2 POST "/risk/getpublickey" -> Answer, host = fraud, cert, no_nonce)]
pub struct GetPublicKey {
    pub mch_id: String,
}

// The contract-signing page: a GET whose fields are the signed query string.
#[endpoint(v2 GET "/papay/entrustweb")]
pub struct EntrustWeb {
    pub plan_id: String,
}

#[endpoint(POST "/v3/refund/domestic/refunds")]
pub struct ApiV3 {
    pub out_refund_no: String,
}

fn main() {
    let Protocol::ApiV2(redpack) = SendRedpack::PROTOCOL else {
        panic!("SendRedpack is APIv2");
    };
    assert_eq!(
        redpack,
        ApiV2::new()
            .with_client_certificate(true)
            .with_signed_answer(false)
    );
    assert!(SendRedpack::IDEMPOTENT);
    assert_eq!(SendRedpack::PATH_TEMPLATE, "/mmpaymkttransfers/sendredpack");
    assert_eq!(SendRedpack::METHOD, http::Method::POST);

    let Protocol::ApiV2(sharing) = ProfitSharing::PROTOCOL else {
        panic!("ProfitSharing is APIv2");
    };
    assert_eq!(sharing.sign_types, SignTypes::HmacSha256);
    assert!(sharing.client_certificate && sharing.signed_answer && sharing.nonce);

    let Protocol::ApiV2(query) = OrderQuery::PROTOCOL else {
        panic!("OrderQuery is APIv2");
    };
    assert_eq!(query, ApiV2::new().with_sign_types(SignTypes::Either));

    let Protocol::ApiV2(key) = GetPublicKey::PROTOCOL else {
        panic!("GetPublicKey is APIv2");
    };
    assert!(!key.nonce && key.client_certificate);
    assert_eq!(GetPublicKey::HOST, Host::Fraud);
    assert_eq!(ApiV3::PROTOCOL, Protocol::ApiV3);
    assert_eq!(EntrustWeb::METHOD, http::Method::GET);
    assert_eq!(EntrustWeb::PROTOCOL, Protocol::ApiV2(ApiV2::new()));

    // Constructed like any endpoint: required fields named, options set by name.
    let request = SendRedpack::new(SendRedpackRequired {
        mch_billno: "10000098201411111234567890".into(),
        total_amount: 1000,
    })
    .scene_id("PRODUCT_8");
    assert_eq!(request.scene_id.as_deref(), Some("PRODUCT_8"));
    let sharing = ProfitSharing::new(ProfitSharingRequired {
        transaction_id: "4208450740201411110007820472".into(),
        receivers: vec![Receiver { account: "86693852".into(), amount: 888 }],
    });
    assert_eq!(sharing.receivers.len(), 1);
}
