use wxpay::endpoint;

#[endpoint(GET "/v3/certificates")]
pub union DownloadCertificates {
    pub limit: u32,
    pub offset: u64,
}

fn main() {}
