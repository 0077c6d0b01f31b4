use wxpay::endpoint;

#[endpoint(GET "/v3/marketing/favor/stocks?limit=10")]
pub struct ListStocks {
    pub offset: u32,
}

fn main() {}
