use wxpay::endpoint;

#[derive(serde::Deserialize)]
pub struct UploadImageResponse {
    pub media_id: String,
}

#[endpoint(POST "/v3/merchant/media/upload" -> UploadImageResponse, multipart)]
pub struct UploadImage {
    pub file: Vec<u8>,
}

fn main() {}
