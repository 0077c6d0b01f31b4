use wxpay::endpoint;

fn is_zero(value: &u32) -> bool {
    *value == 0
}

#[endpoint(POST "/v3/refund/domestic/refunds")]
pub struct CreateRefund {
    #[wxpay(query)]
    #[serde(skip_serializing_if = "is_zero")]
    pub limit: u32,
    #[wxpay(header = "X-Offset")]
    #[serde(serialize_with = "serialize_offset")]
    pub offset: u32,
    pub out_refund_no: String,
}

fn main() {}
