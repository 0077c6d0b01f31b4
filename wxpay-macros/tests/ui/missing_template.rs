use wxpay::endpoint;

#[endpoint(GET -> Certificates)]
pub struct DownloadCertificates {}

#[endpoint(POST)]
pub struct CreateOrder {}

pub struct Certificates;

fn main() {}
