use wxpay::endpoint;

#[endpoint(FETCH "/v3/certificates")]
pub struct DownloadCertificates {}

#[endpoint(get "/v3/certificates")]
pub struct LowerCase {}

fn main() {}
