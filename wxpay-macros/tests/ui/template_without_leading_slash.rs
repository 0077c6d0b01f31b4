use wxpay::endpoint;

#[endpoint(GET "v3/certificates")]
pub struct DownloadCertificates {}

fn main() {}
