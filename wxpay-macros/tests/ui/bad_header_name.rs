use wxpay::endpoint;

#[endpoint(POST "/v3/refund/domestic/refunds")]
pub struct CreateRefund {
    #[wxpay(header = "Idempotency Key")]
    pub idempotency_key: String,
    #[wxpay(header = "")]
    pub empty: String,
    #[wxpay(header = "wechatpay-serial")]
    pub serial: String,
}

fn main() {}
