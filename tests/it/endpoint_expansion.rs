//! What `#[endpoint]` generates, checked through the runtime contract: build each request with
//! a `RequestWriter` and compare the exact path and query, headers and body bytes.

use http::Method;
use serde::{Deserialize, Serialize};
use wxpay::{Endpoint, RequestError, RequestParts, RequestWriter, endpoint};

fn request<E: Endpoint>(endpoint: &E) -> RequestParts {
    let mut writer = RequestWriter::new(E::METHOD, None, 0);
    endpoint.write_request(&mut writer).expect("write_request");
    writer.finish()
}

fn body(parts: &RequestParts) -> &str {
    std::str::from_utf8(&parts.body).unwrap()
}

fn header<'p>(parts: &'p RequestParts, name: &str) -> Option<&'p str> {
    parts.headers.get(name).map(|value| value.to_str().unwrap())
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct PauseStockResponse {
    pub stock_id: String,
    pub pause_time: String,
}

/// The design's first example.
#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/pause" -> PauseStockResponse)]
pub struct PauseStock {
    pub stock_id: String,
    pub stock_creator_mchid: String,
}

#[test]
fn path_fields_fill_segments_and_the_rest_is_the_body() {
    let parts = request(&PauseStock {
        stock_id: "9856000".into(),
        stock_creator_mchid: "1900000001".into(),
    });
    assert_eq!(parts.method, Method::POST);
    assert_eq!(
        parts.path_and_query,
        "/v3/marketing/favor/stocks/9856000/pause"
    );
    assert_eq!(body(&parts), r#"{"stock_creator_mchid":"1900000001"}"#);
    assert_eq!(header(&parts, "content-type"), Some("application/json"));
    assert_eq!(parts.headers.len(), 1);

    assert_eq!(PauseStock::METHOD, Method::POST);
    assert_eq!(
        PauseStock::PATH_TEMPLATE,
        "/v3/marketing/favor/stocks/{stock_id}/pause"
    );
}

#[test]
fn responses_decode_into_the_declared_type() {
    let answer = br#"{"stock_id":"9856000","pause_time":"2015-05-20T13:29:35+08:00"}"#;
    let decoded = PauseStock::decode_response(answer).unwrap();
    assert_eq!(
        decoded,
        PauseStockResponse {
            stock_id: "9856000".into(),
            pause_time: "2015-05-20T13:29:35+08:00".into(),
        }
    );
    assert!(PauseStock::decode_response(b"{}").is_err());
}

#[test]
fn path_segments_are_percent_encoded() {
    let path = |stock_id: &str| {
        request(&PauseStock {
            stock_id: stock_id.into(),
            stock_creator_mchid: "1".into(),
        })
        .path_and_query
    };
    assert_eq!(path("a/b"), "/v3/marketing/favor/stocks/a%2Fb/pause");
    assert_eq!(path("100%"), "/v3/marketing/favor/stocks/100%25/pause");
    assert_eq!(path("a b"), "/v3/marketing/favor/stocks/a%20b/pause");
    assert_eq!(path("券"), "/v3/marketing/favor/stocks/%E5%88%B8/pause");
    assert_eq!(path("a?b#c"), "/v3/marketing/favor/stocks/a%3Fb%23c/pause");
    assert_eq!(path("MiXeD"), "/v3/marketing/favor/stocks/MiXeD/pause");
}

#[test]
fn an_empty_path_segment_is_a_request_error() {
    let mut writer = RequestWriter::new(Method::POST, None, 0);
    let error = PauseStock {
        stock_id: String::new(),
        stock_creator_mchid: "1".into(),
    }
    .write_request(&mut writer)
    .unwrap_err();
    assert!(
        matches!(
            error,
            RequestError::Field {
                field: "stock_id",
                ..
            }
        ),
        "{error:?}"
    );
}

#[derive(Debug, Deserialize)]
pub struct Stocks {
    pub total_count: u64,
}

#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StockStatus {
    Running,
    Paused,
}

/// GET: every field that is not in the path is a query parameter.
#[endpoint(GET "/v3/marketing/favor/<mchid>/stocks" -> Stocks)]
pub struct ListStocks {
    pub mchid: u64,
    pub offset: u32,
    pub limit: Option<u32>,
    #[serde(rename = "create_start_time")]
    pub since: Option<String>,
    pub status: Option<StockStatus>,
    pub r#type: &'static str,
    #[serde(skip)]
    pub local_note: String,
}

#[test]
fn get_fields_are_the_query_and_none_is_left_out() {
    let parts = request(&ListStocks {
        mchid: 1900000001,
        offset: 0,
        limit: Some(10),
        since: Some("2015-05-20T13:29:35+08:00".into()),
        status: Some(StockStatus::Paused),
        r#type: "a&b=c d/中",
        local_note: "not sent".into(),
    });
    assert_eq!(parts.method, Method::GET);
    assert_eq!(
        parts.path_and_query,
        "/v3/marketing/favor/1900000001/stocks?offset=0&limit=10\
         &create_start_time=2015-05-20T13%3A29%3A35%2B08%3A00&status=PAUSED\
         &type=a%26b%3Dc%20d%2F%E4%B8%AD"
    );
    assert!(parts.body.is_empty());
    assert!(parts.headers.is_empty());

    let parts = request(&ListStocks {
        mchid: 1,
        offset: 5,
        limit: None,
        since: None,
        status: None,
        r#type: "x",
        local_note: String::new(),
    });
    assert_eq!(
        parts.path_and_query,
        "/v3/marketing/favor/1/stocks?offset=5&type=x"
    );
    assert_eq!(
        ListStocks::PATH_TEMPLATE,
        "/v3/marketing/favor/{mchid}/stocks"
    );
}

/// DELETE: like GET, a query and no body; no arrow: an empty answer.
#[endpoint(DELETE "/v3/merchant-service/complaint-notifications")]
pub struct DeleteComplaintNotifications {
    #[serde(rename(serialize = "why"))]
    pub reason: Option<String>,
}

/// `-> ()` is the same as no arrow.
#[endpoint(PUT "/v3/stocks/<stock_id>/restart" -> ())]
pub struct RestartStock {
    pub stock_id: String,
}

#[test]
fn endpoints_without_a_response_type_accept_an_empty_answer() {
    let parts = request(&DeleteComplaintNotifications {
        reason: Some("done".into()),
    });
    assert_eq!(parts.method, Method::DELETE);
    assert_eq!(
        parts.path_and_query,
        "/v3/merchant-service/complaint-notifications?why=done"
    );
    assert!(parts.body.is_empty());
    let parts = request(&DeleteComplaintNotifications { reason: None });
    assert_eq!(
        parts.path_and_query,
        "/v3/merchant-service/complaint-notifications"
    );

    let () = DeleteComplaintNotifications::decode_response(b"").unwrap();
    let () = RestartStock::decode_response(b"").unwrap();
}

#[test]
fn a_body_method_without_body_fields_sends_no_body() {
    let parts = request(&RestartStock {
        stock_id: "1".into(),
    });
    assert_eq!(parts.method, Method::PUT);
    assert_eq!(parts.path_and_query, "/v3/stocks/1/restart");
    assert!(parts.body.is_empty());
    assert!(parts.headers.get("content-type").is_none());
}

#[derive(Serialize)]
pub struct Amount {
    pub total: u64,
    pub currency: &'static str,
}

#[derive(Serialize)]
pub struct Scene {
    pub device_id: String,
    pub store_id: Option<String>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn yuan<S: serde::Serializer>(fen: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format!("{}.{:02}", fen / 100, fen % 100))
}

mod upper {
    pub fn serialize<S: serde::Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&text.to_uppercase())
    }
}

/// The body keeps the struct's serde attributes.
#[endpoint(PATCH "/v3/orders/<out_trade_no>" -> ())]
#[serde(rename_all = "camelCase")]
pub struct UpdateOrder {
    pub out_trade_no: String,
    pub app_id: String,
    #[serde(rename = "mchid")]
    pub merchant_id: String,
    pub description: Option<String>,
    pub amount: Amount,
    #[serde(flatten)]
    pub scene: Scene,
    #[serde(skip_serializing_if = "is_zero")]
    pub discount: u64,
    #[serde(serialize_with = "yuan")]
    pub price: u64,
    #[serde(with = "upper")]
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none", rename = "attach")]
    pub attachment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip)]
    pub local_only: u8,
    #[serde(default, alias = "legacyName")]
    pub settle: bool,
    pub note: Option<Option<String>>,
}

fn update_order() -> UpdateOrder {
    UpdateOrder {
        out_trade_no: "1217752501201407033233368018".into(),
        app_id: "wxd678efh567hg6787".into(),
        merchant_id: "1230000109".into(),
        description: None,
        amount: Amount {
            total: 100,
            currency: "CNY",
        },
        scene: Scene {
            device_id: "013467007045764".into(),
            store_id: None,
        },
        discount: 0,
        price: 1234,
        code: "abc".into(),
        attachment: None,
        tags: Vec::new(),
        local_only: 7,
        settle: false,
        note: Some(None),
    }
}

#[test]
fn serde_attributes_work_on_the_body() {
    let parts = request(&update_order());
    assert_eq!(parts.method, Method::PATCH);
    assert_eq!(
        parts.path_and_query,
        "/v3/orders/1217752501201407033233368018"
    );
    assert_eq!(
        body(&parts),
        r#"{"appId":"wxd678efh567hg6787","mchid":"1230000109","amount":{"total":100,"currency":"CNY"},"device_id":"013467007045764","store_id":null,"price":"12.34","code":"ABC","settle":false,"note":null}"#
    );

    let parts = request(&UpdateOrder {
        description: Some("Image形象店".into()),
        discount: 5,
        attachment: Some("a".into()),
        tags: vec!["x".into()],
        note: None,
        ..update_order()
    });
    assert_eq!(
        body(&parts),
        r#"{"appId":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店","amount":{"total":100,"currency":"CNY"},"device_id":"013467007045764","store_id":null,"discount":5,"price":"12.34","code":"ABC","attach":"a","tags":["x"],"settle":false}"#
    );
}

/// Headers, forced query fields and forced body fields.
#[endpoint(POST "/v3/refund/domestic/refunds" -> ())]
pub struct CreateRefund {
    #[wxpay(header = "Idempotency-Key")]
    pub idempotency_key: Option<String>,
    #[wxpay(header = "X-Retry")]
    pub retry: u32,
    #[wxpay(query)]
    #[serde(rename = "sub-mchid")]
    pub sub_mchid: Option<String>,
    #[wxpay(query)]
    pub dry_run: bool,
    #[wxpay(body)]
    pub out_refund_no: String,
}

#[test]
fn header_and_query_fields_on_a_post() {
    let parts = request(&CreateRefund {
        idempotency_key: Some("k-1".into()),
        retry: 2,
        sub_mchid: Some("1900000109".into()),
        dry_run: true,
        out_refund_no: "R1".into(),
    });
    assert_eq!(
        parts.path_and_query,
        "/v3/refund/domestic/refunds?sub-mchid=1900000109&dry_run=true"
    );
    assert_eq!(header(&parts, "idempotency-key"), Some("k-1"));
    assert_eq!(header(&parts, "x-retry"), Some("2"));
    assert_eq!(header(&parts, "content-type"), Some("application/json"));
    assert_eq!(body(&parts), r#"{"out_refund_no":"R1"}"#);

    let parts = request(&CreateRefund {
        idempotency_key: None,
        retry: 0,
        sub_mchid: None,
        dry_run: false,
        out_refund_no: "R2".into(),
    });
    assert_eq!(
        parts.path_and_query,
        "/v3/refund/domestic/refunds?dry_run=false"
    );
    assert_eq!(header(&parts, "idempotency-key"), None);
    assert_eq!(parts.headers.len(), 2);
}

/// The user's own derives see the serde attributes, and the body still gets them too.
#[endpoint(POST "/v3/multiuse/users/<openid>/coupons" -> ())]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "UPPERCASE", deny_unknown_fields)]
pub struct SendCoupon {
    #[serde(skip_serializing)]
    pub openid: String,
    #[serde(rename = "stock")]
    pub stock_id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    #[wxpay(query)]
    #[serde(default)]
    pub appid: String,
}

#[test]
fn user_derives_keep_their_serde_attributes() {
    let coupon = SendCoupon {
        openid: "o/1".into(),
        stock_id: "9".into(),
        note: None,
        appid: "wx1".into(),
    };
    // The user's own Serialize: `openid` is skip_serializing.
    assert_eq!(
        serde_json::to_string(&coupon).unwrap(),
        r#"{"stock":"9","APPID":"wx1"}"#
    );
    let back: SendCoupon =
        serde_json::from_str(r#"{"OPENID":"o/1","stock":"9","APPID":"wx1"}"#).unwrap();
    assert_eq!(back, coupon);
    // The endpoint's body: the path field and the query field are not in it.
    let parts = request(&coupon);
    assert_eq!(
        parts.path_and_query,
        "/v3/multiuse/users/o%2F1/coupons?appid=wx1"
    );
    assert_eq!(body(&parts), r#"{"stock":"9"}"#);
    assert!(format!("{coupon:?}").starts_with("SendCoupon {"));
}

pub mod alias {
    pub use wxpay as inner;
}

/// `crate = "..."` reaches the runtime by another path.
#[endpoint(GET "/v3/certificates" -> Certificates, crate = "crate::endpoint_expansion::alias::inner")]
pub struct DownloadCertificates {
    pub algorithm_type: Option<String>,
}

#[endpoint(POST "/v3/x/<id>", crate = "crate::endpoint_expansion::alias::inner")]
pub struct AliasedBody {
    pub id: u8,
    pub value: Option<u8>,
    #[serde(skip_serializing_if = "is_zero")]
    pub count: u64,
    pub r#type: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub r#ref: &'static str,
}

#[derive(Debug, Deserialize)]
pub struct Certificates {
    pub data: Vec<serde_json::Value>,
}

#[test]
fn the_crate_option_replaces_the_runtime_path() {
    let parts = request(&DownloadCertificates {
        algorithm_type: Some("RSA".into()),
    });
    assert_eq!(parts.path_and_query, "/v3/certificates?algorithm_type=RSA");
    let certificates = DownloadCertificates::decode_response(br#"{"data":[]}"#).unwrap();
    assert!(certificates.data.is_empty());

    let parts = request(&AliasedBody {
        id: 1,
        value: None,
        count: 0,
        r#type: "t",
        r#ref: "",
    });
    assert_eq!(parts.path_and_query, "/v3/x/1");
    assert_eq!(body(&parts), r#"{"type":"t"}"#);
    let parts = request(&AliasedBody {
        id: 1,
        value: Some(2),
        count: 3,
        r#type: "t",
        r#ref: "r",
    });
    assert_eq!(
        body(&parts),
        r#"{"value":2,"count":3,"type":"t","ref":"r"}"#
    );
}

/// Sensitive fields: encrypted with the platform key, so without keys the request fails.
#[endpoint(POST "/v3/multiuse/users/<openid>/coupons" -> ())]
pub struct SendMultiuseCoupon {
    pub openid: String,
    pub stock_id: String,
    #[wxpay(encrypt)]
    pub user_name: String,
    #[wxpay(encrypt)]
    pub id_card_number: Option<String>,
    pub amount: u64,
}

#[endpoint(GET "/v3/applyment/<id>")]
pub struct QueryApplyment {
    pub id: String,
    #[wxpay(encrypt)]
    pub contact_name: Option<std::string::String>,
    pub limit: u8,
}

/// Every body field encrypted: the generated body borrows nothing.
#[endpoint(POST "/v3/encrypted")]
pub struct OnlySecrets {
    #[wxpay(encrypt)]
    #[serde(rename = "name")]
    pub secret: String,
}

fn no_key<E: Endpoint>(endpoint: &E) -> bool {
    let mut writer = RequestWriter::new(E::METHOD, None, 0);
    matches!(
        endpoint.write_request(&mut writer),
        Err(RequestError::NoEncryptionKey)
    )
}

#[test]
fn encrypted_fields_need_a_platform_key() {
    assert!(no_key(&SendMultiuseCoupon {
        openid: "o".into(),
        stock_id: "1".into(),
        user_name: "张三".into(),
        id_card_number: None,
        amount: 100,
    }));
    assert!(no_key(&QueryApplyment {
        id: "1".into(),
        contact_name: Some("李四".into()),
        limit: 1,
    }));
    assert!(no_key(&OnlySecrets { secret: "x".into() }));
}

#[test]
fn an_encrypted_option_that_is_none_needs_no_key() {
    let parts = request(&QueryApplyment {
        id: "1".into(),
        contact_name: None,
        limit: 1,
    });
    assert_eq!(parts.path_and_query, "/v3/applyment/1?limit=1");
    assert!(parts.headers.is_empty());
}
