use wxpay::endpoint;

#[endpoint(GET "/v3/certificates")]
pub enum DownloadCertificates {
    All,
    Some { algorithm_type: String },
}

fn main() {}
