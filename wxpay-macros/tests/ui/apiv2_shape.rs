//! An APIv2 operation is a POST of a flat `<xml>` document to a literal path, signed by the
//! runtime: placeholders, APIv3 roles (but `query` on a POST, a parameter beside its `<xml>`),
//! fields the runtime writes and APIv3-only options are each an error at the token that is
//! wrong.
use wxpay::endpoint;

#[endpoint(v2 POST "/pay/orderquery/<out_trade_no>" -> Answer)]
pub struct Placeholder {
    pub out_trade_no: String,
}

#[endpoint(v2 PUT "/pay/orderquery" -> Answer)]
pub struct NotAPost {
    pub out_trade_no: String,
}

#[endpoint(v2 POST "/pay/orderquery" -> Answer)]
pub struct RuntimeFields {
    pub out_trade_no: String,
    pub sign: String,
    pub nonce_str: String,
    #[serde(rename = "sign_type")]
    pub kind: Option<String>,
}

#[endpoint(v2 POST "/pay/orderquery" -> Answer)]
pub struct ApiV3Roles {
    #[wxpay(body)]
    pub out_trade_no: String,
    #[wxpay(header = "Wechatpay-Serial")]
    pub serial: String,
    #[wxpay(encrypt)]
    pub enc_true_name: String,
}

#[endpoint(v2 POST "/pay/orderquery" -> Answer, sign_type = sha1, cert, cert)]
pub struct Options {
    pub out_trade_no: String,
}

#[endpoint(POST "/v3/pay/transactions/native" -> Answer, cert, unsigned_answer)]
pub struct ApiV2OptionsOnApiV3 {
    pub out_trade_no: String,
    #[wxpay(json)]
    pub detail: String,
}

#[endpoint(v2 POST "/pay/orderquery" -> Answer)]
pub struct SameElementTwice {
    pub out_trade_no: String,
    #[serde(rename = "out_trade_no")]
    pub trade_no: String,
}

#[derive(serde::Deserialize)]
pub struct Answer {}

fn main() {}
