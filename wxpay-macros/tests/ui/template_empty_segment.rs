use wxpay::endpoint;

#[endpoint(GET "/v3//certificates")]
pub struct DoubleSlash {}

#[endpoint(GET "/")]
pub struct SlashAlone {}

fn main() {}
