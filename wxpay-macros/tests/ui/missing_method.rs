use wxpay::endpoint;

#[endpoint("/v3/certificates")]
pub struct DownloadCertificates {}

fn main() {}
