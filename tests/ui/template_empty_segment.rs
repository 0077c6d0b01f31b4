use wxpay::endpoint;

#[endpoint(GET "/v3//certificates")]
pub struct DoubleSlash {}

#[endpoint(GET "/v3/certificates/")]
pub struct TrailingSlash {}

fn main() {}
