use wxpay::endpoint;

// The body is written field by field: a container shape such as `tag` cannot be followed, and
// neither can a field item serde does not know.
#[endpoint(POST "/v3/refund/domestic/refunds")]
#[serde(tag = "kind", rename_all = "Title Case")]
pub struct CreateRefund {
    #[serde(sorted)]
    pub out_refund_no: String,
}

fn main() {}
