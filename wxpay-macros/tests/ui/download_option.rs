use wxpay::endpoint;

#[derive(serde::Deserialize)]
pub struct Bill {
    pub rows: String,
}

// A download answers a file: no response type.
#[endpoint(GET "/v3/billdownload/file" -> Bill, download)]
pub struct DownloadBillTyped {
    pub token: String,
}

// Files are served to GET requests.
#[endpoint(POST "/v3/billdownload/file", download)]
pub struct DownloadBillPost {
    pub token: String,
}

fn main() {}
