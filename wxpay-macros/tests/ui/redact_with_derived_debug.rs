use wxpay::endpoint;

#[endpoint(GET "/v3/marketing/favor/users/<openid>/coupons")]
#[derive(Debug)]
pub struct ListUserCoupons {
    #[wxpay(redact)]
    pub openid: String,
    pub appid: String,
}

fn main() {}
