use wxpay::endpoint;

#[endpoint(GET "/v3/bill/trade-<bill_date>")]
pub struct TradeBill {
    pub bill_date: String,
}

fn main() {}
