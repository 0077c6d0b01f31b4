use wxpay::endpoint;

#[derive(serde::Deserialize)]
pub struct Uploaded {
    pub media_id: String,
}

// The file is an `UploadFile` (name, media type, bytes), not raw bytes.
#[endpoint(POST "/v3/merchant/media/upload" -> Uploaded)]
pub struct UploadBytes {
    #[wxpay(file)]
    pub file: Vec<u8>,
}

fn main() {}
