use wxpay::{UploadFile, endpoint};

#[derive(serde::Deserialize)]
pub struct Uploaded {
    pub media_id: String,
}

// A GET cannot upload.
#[endpoint(GET "/v3/merchant/media/upload" -> Uploaded)]
pub struct UploadOnGet {
    #[wxpay(file)]
    pub file: UploadFile,
}

// One file per upload; a file is not encrypted.
#[endpoint(POST "/v3/merchant/media/upload" -> Uploaded)]
pub struct TwoFiles {
    #[wxpay(file)]
    pub file: UploadFile,
    #[wxpay(file(name = "file_name", sha256 = "file_digest"), encrypt)]
    pub other: UploadFile,
}

// A text part belongs to an upload.
#[endpoint(POST "/v3/merchant/media/upload" -> Uploaded)]
pub struct PartWithoutFile {
    #[wxpay(part)]
    pub item_id: i64,
}

// Keys of `file(...)` are the meta keys and the limit.
#[endpoint(POST "/v3/merchant/media/upload" -> Uploaded)]
pub struct UnknownFileKey {
    #[wxpay(file(digest = "sha256"))]
    pub file: UploadFile,
}

fn main() {}
