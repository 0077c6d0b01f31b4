use wxpay::endpoint;

// A URL, not a key: the client maps keys to base URLs.
#[endpoint(GET "/v3/global/certificates", host = "https://apihk.mch.weixin.qq.com")]
pub struct ByUrl {}

#[endpoint(GET "/v3/global/certificates", host = apihkk)]
pub struct Misspelt {}

#[endpoint(GET "/v3/global/certificates", host)]
pub struct WithoutKey {}

#[endpoint(GET "/v3/global/certificates", host = apihk, host = api)]
pub struct Twice {}

fn main() {}
