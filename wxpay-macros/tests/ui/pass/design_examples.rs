//! The examples of the design notes compile as written, and the struct stays a plain struct.
use serde::Deserialize;
use wxpay::{Endpoint, RequestWriter, endpoint};

#[derive(Debug, Deserialize)]
pub struct PauseStockResponse {
    pub stock_id: String,
    pub pause_time: String,
}

/// 暂停代金券批次
#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/pause" -> PauseStockResponse)]
#[derive(Debug, Clone)]
pub struct PauseStock {
    pub stock_id: String,
    pub stock_creator_mchid: String,
}

/// 发放指定批次的消费金
#[endpoint(POST "/v3/multiuse/users/<openid>/coupons" -> ())]
pub struct SendMultiuseCoupon {
    pub openid: String,
    pub stock_id: String,
    pub out_request_no: String,
    #[wxpay(encrypt)]
    pub user_name: String,
    #[wxpay(encrypt)]
    pub id_card_number: String,
    pub amount: u64,
    pub appid: String,
    pub card_type: String,
}

/// Everything at once: header, query, body, encrypted optional field, serde attributes.
#[endpoint(GET "/v3/refund/domestic/refunds/<out_refund_no>" -> wxpay::__private::serde_json::Value)]
#[serde(rename_all = "camelCase")]
pub struct QueryRefund {
    pub out_refund_no: String,
    #[wxpay(header = "Idempotency-Key")]
    pub idempotency_key: Option<String>,
    #[serde(rename = "sub_mchid")]
    pub sub_merchant: Option<String>,
    #[wxpay(encrypt)]
    pub contact: Option<String>,
}

fn main() {
    let pause = PauseStock {
        stock_id: "9856000".into(),
        stock_creator_mchid: "1900000001".into(),
    };
    let mut writer = RequestWriter::new(PauseStock::METHOD, None, 0);
    pause.clone().write_request(&mut writer).unwrap();
    assert_eq!(
        writer.finish().path_and_query,
        "/v3/marketing/favor/stocks/9856000/pause"
    );
    let _: fn(&SendMultiuseCoupon, &mut RequestWriter<'_>) -> Result<(), wxpay::RequestError> =
        Endpoint::write_request;
    assert_eq!(
        QueryRefund::PATH_TEMPLATE,
        "/v3/refund/domestic/refunds/{out_refund_no}"
    );
    println!("{pause:?}");
}
