use wxpay::endpoint;

pub struct PauseStockResponse {}

#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/pause" -> PauseStockResponse)]
pub struct PauseStock {
    pub stock: String,
    pub stock_creator_mchid: String,
}

fn main() {}
