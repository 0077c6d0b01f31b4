use wxpay::endpoint;

#[endpoint(POST "/v3/marketing/favor/stocks/{stock_id}/pause")]
pub struct PauseStock {
    pub stock_id: String,
}

fn main() {}
