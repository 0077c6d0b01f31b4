use wxpay::endpoint;

#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/pause")]
pub struct PauseStock<T> {
    pub stock_id: T,
}

#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/restart")]
pub struct RestartStock<'a> {
    pub stock_id: &'a str,
}

fn main() {}
