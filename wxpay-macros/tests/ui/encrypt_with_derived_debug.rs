use wxpay::endpoint;

#[derive(serde::Deserialize)]
pub struct SendResponse {
    pub coupon_id: String,
}

#[endpoint(POST "/v3/multiuse/users/<openid>/coupons" -> SendResponse)]
#[derive(Debug, Clone)]
pub struct SendMultiuseCoupon {
    pub openid: String,
    #[wxpay(encrypt)]
    pub user_name: String,
    #[wxpay(encrypt)]
    pub id_card_number: String,
}

fn main() {}
