use wxpay::endpoint;

pub struct Filter {
    pub status: String,
}

#[endpoint(GET "/v3/marketing/favor/stocks")]
pub struct ListStocks {
    #[wxpay(body)]
    pub offset: u32,
}

#[endpoint(DELETE "/v3/marketing/favor/stocks")]
pub struct DeleteStocks {
    #[serde(flatten)]
    pub filter: Filter,
}

fn main() {}
