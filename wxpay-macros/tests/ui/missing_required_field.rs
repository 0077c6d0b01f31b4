use wxpay::endpoint;

#[endpoint(POST "/v3/marketing/favor/stocks/<stock_id>/pause")]
pub struct PauseStock {
    pub stock_id: String,
    pub stock_creator_mchid: String,
    pub note: Option<String>,
}

fn main() {
    // Every required field is named; the one left out is named in the error.
    let _ = PauseStock::new(PauseStockRequired {
        stock_id: "9856000".into(),
    });
}
