use wxpay::endpoint;

#[endpoint(POST "/v3/applyment4sub/applyment/business_code/<business_code>")]
pub struct QueryApplyment {
    #[wxpay(encrypt)]
    pub business_code: String,
    #[wxpay(header = "X-Contact", encrypt)]
    pub contact: String,
}

fn main() {}
