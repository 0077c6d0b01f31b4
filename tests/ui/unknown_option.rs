use wxpay::endpoint;

#[endpoint(GET "/v3/global/certificates", host = "apihk.mch.weixin.qq.com")]
pub struct DownloadGlobalCertificates {}

fn main() {}
