use wxpay::endpoint;

#[endpoint(GET "/v3/users/<openid>/friends/<openid>")]
pub struct QueryFriend {
    pub openid: String,
}

fn main() {}
