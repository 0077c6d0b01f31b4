//! `answer = text | json | page`: what an APIv2 operation answers is a constant of its rules,
//! and text and JSON answers decode into the declared response.
use wxpay::{ApiV2, ApiV2Answer, Endpoint, Protocol, endpoint};

#[endpoint(v2 POST "/pay/downloadbill" -> String, unsigned_answer, answer = text)]
pub struct DownloadBill {
    pub bill_date: String,
}

#[derive(serde::Deserialize)]
pub struct AccessToken {
    pub access_token_expire_in: i64,
}

#[endpoint(v2 GET "/appauth/getaccesstoken" -> AccessToken, unsigned_answer, answer = json)]
pub struct GetAccessToken {
    pub code: String,
}

// The contract-signing page: the user's browser opens its signed URL.
#[endpoint(v2 GET "/papay/entrustweb", unsigned_answer, answer = page)]
pub struct EntrustWeb {
    pub plan_id: String,
}

#[endpoint(v2 POST "/pay/orderquery", answer = xml)]
pub struct OrderQuery {
    pub out_trade_no: String,
}

fn main() {
    let rules = |protocol| match protocol {
        Protocol::ApiV2(rules) => rules,
        _ => panic!("APIv2"),
    };
    assert_eq!(rules(DownloadBill::PROTOCOL).answer, ApiV2Answer::Text);
    assert_eq!(rules(GetAccessToken::PROTOCOL).answer, ApiV2Answer::Json);
    assert_eq!(rules(EntrustWeb::PROTOCOL).answer, ApiV2Answer::Page);
    assert_eq!(rules(OrderQuery::PROTOCOL), ApiV2::new());

    let bill = "交易时间,公众账号ID\n`2026-01-02 03:04:05,`wxTEST\n";
    assert_eq!(DownloadBill::decode_response(bill.as_bytes()).unwrap(), bill);
    let token = br#"{"retcode":0,"retmsg":"OK","access_token_expire_in":7200}"#;
    let token = GetAccessToken::decode_response(token).unwrap();
    assert_eq!(token.access_token_expire_in, 7200);
}
