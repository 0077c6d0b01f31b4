use wxpay::endpoint;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Identity {
    pub name: String,
    pub number: String,
}

#[endpoint(POST "/v3/profitsharing/receivers/add")]
pub struct AddReceiver {
    pub account: String,
    #[wxpay(encrypt)]
    pub identity: Identity,
}

fn main() {}
