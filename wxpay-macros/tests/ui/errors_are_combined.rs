//! Every mistake is reported at once, and the struct is still emitted: using it below adds
//! no error of its own.
use wxpay::endpoint;

#[endpoint(PUSH "/v3/stocks/<stock_id>/<batch>" -> ())]
pub struct RestartStock {
    #[serde(rename = "stock")]
    pub stock: String,
    #[wxpay(encrypt)]
    pub amount: u64,
    #[wxpay(header = "X Trace")]
    pub trace: String,
}

fn stock_of(request: &RestartStock) -> &str {
    &request.stock
}

fn main() {
    let request = RestartStock {
        stock: "1".into(),
        amount: 1,
        trace: String::new(),
    };
    let _ = (stock_of(&request), request.amount, &request.trace);
}
