use wxpay::endpoint;

#[endpoint(POST "/v3/refund/domestic/refunds")]
pub struct CreateRefund {
    #[wxpay(querry)]
    pub sub_mchid: String,
    #[wxpay(sensitive, encrypt)]
    pub user_name: String,
}

fn main() {}
