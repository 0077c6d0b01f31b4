use wxpay::endpoint;

#[endpoint(GET "/v3/billdownload/file", download)]
pub struct DownloadBill {
    pub token: String,
}

fn main() {}
