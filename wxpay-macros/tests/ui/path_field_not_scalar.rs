use wxpay::endpoint;

#[derive(serde::Serialize)]
pub struct StockRef {
    pub id: String,
}

#[endpoint(GET "/v3/marketing/favor/stocks/<stock_ids>")]
pub struct QueryStocks {
    pub stock_ids: Vec<String>,
}

#[endpoint(GET "/v3/marketing/favor/stocks/<stock>")]
pub struct QueryStock {
    pub stock: StockRef,
}

fn main() {}
