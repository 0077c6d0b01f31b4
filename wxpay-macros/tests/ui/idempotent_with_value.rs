use wxpay::endpoint;

#[endpoint(POST "/v3/marketing/favor/users/<openid>/coupons", idempotent = true)]
pub struct SendCoupon {
    pub openid: String,
    pub out_request_no: String,
}

fn main() {}
