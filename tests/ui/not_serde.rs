//! Types without serde impls are named where they are written, not only at the attribute.
use wxpay::endpoint;

pub struct PauseStockResponse {
    pub stock_id: String,
}

pub struct Creator(u64);

#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/pause" -> PauseStockResponse)]
pub struct PauseStock {
    pub stock_id: String,
    #[wxpay(query)]
    pub stock_creator_mchid: Creator,
}

fn main() {}
