use wxpay::endpoint;

#[endpoint(GET "/v3/certificates")]
pub fn download_certificates() {}

fn main() {}
