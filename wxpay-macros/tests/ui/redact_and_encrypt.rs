use wxpay::endpoint;

#[endpoint(POST "/v3/multiuse/users/<openid>/coupons")]
pub struct SendMultiuseCoupon {
    pub openid: String,
    #[wxpay(redact, encrypt)]
    pub user_name: String,
}

fn main() {}
