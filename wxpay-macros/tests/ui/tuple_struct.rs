use wxpay::endpoint;

#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/pause")]
pub struct PauseStock(pub String, pub String);

fn main() {}
