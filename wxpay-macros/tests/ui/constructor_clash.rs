use wxpay::endpoint;

#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/pause")]
pub struct PauseStock {
    pub stock_id: String,
    pub stock_creator_mchid: String,
}

impl PauseStock {
    pub fn new(stock_id: &str) -> Self {
        PauseStock {
            stock_id: stock_id.into(),
            stock_creator_mchid: String::new(),
        }
    }
}

fn main() {}
