use wxpay::endpoint;

#[endpoint(GET "/v3/marketing/favor/stocks")]
pub struct ListStocks {
    pub stock_creator_mchid: String,
    #[serde(rename = "stock_creator_mchid")]
    pub creator: String,
}

fn main() {}
