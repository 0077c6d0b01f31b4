//! The `<xml>` body of an APIv2 request is flat: a nested struct is an error at its type, and
//! so is a list or an object the platform takes as JSON text but that is not marked
//! `#[wxpay(json)]`.
use wxpay::endpoint;

#[derive(serde::Serialize)]
pub struct Receiver {
    pub account: String,
    pub amount: u64,
}

#[endpoint(v2 POST "/secapi/pay/profitsharing" -> Answer, cert, sign_type = hmac_sha256)]
pub struct ProfitSharing {
    pub transaction_id: String,
    pub receiver: Receiver,
    pub receivers: Vec<Receiver>,
}

#[derive(serde::Deserialize)]
pub struct Answer {}

fn main() {}
