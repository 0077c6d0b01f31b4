use wxpay::endpoint;

#[endpoint(GET "/v3/global/certificates", retries = 3)]
pub struct DownloadGlobalCertificates {}

fn main() {}
