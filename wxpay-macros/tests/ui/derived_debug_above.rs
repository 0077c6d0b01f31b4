use wxpay::endpoint;

#[derive(Debug, Clone)]
#[endpoint(POST "/v3/multiuse/users/<openid>/coupons")]
pub struct SendMultiuseCoupon {
    pub openid: String,
    #[wxpay(encrypt)]
    pub user_name: String,
    #[wxpay(encrypt)]
    pub id_card_number: String,
}

fn main() {}
