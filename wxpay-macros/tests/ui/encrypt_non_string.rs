use wxpay::endpoint;

#[endpoint(POST "/v3/multiuse/users/<openid>/coupons")]
pub struct SendMultiuseCoupon {
    pub openid: String,
    #[wxpay(encrypt)]
    pub amount: u64,
    #[wxpay(encrypt)]
    pub id_card_number: Option<Vec<u8>>,
}

fn main() {}
