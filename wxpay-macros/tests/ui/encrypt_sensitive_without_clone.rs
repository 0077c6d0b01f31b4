use wxpay::endpoint;

#[derive(serde::Serialize, wxpay::Sensitive)]
pub struct Receiver {
    pub account: String,
    #[wxpay(encrypt)]
    pub name: String,
}

#[endpoint(POST "/v3/profitsharing/receivers/add")]
pub struct AddReceiver {
    pub appid: String,
    #[wxpay(encrypt)]
    pub receiver: Receiver,
}

fn main() {}
