use wxpay::endpoint;

#[endpoint(GET "/v3/pay/transactions/id/<transaction_id>")]
pub struct QueryOrder {
    #[wxpay(query)]
    pub transaction_id: String,
    pub mchid: String,
}

fn main() {}
