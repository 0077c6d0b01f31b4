use wxpay::endpoint;

#[endpoint(POST "/v3/refund/domestic/refunds")]
pub struct CreateRefund {
    #[wxpay(query, header = "Sub-Mchid")]
    pub sub_mchid: String,
    #[wxpay(body)]
    #[wxpay(query)]
    pub out_refund_no: String,
}

fn main() {}
