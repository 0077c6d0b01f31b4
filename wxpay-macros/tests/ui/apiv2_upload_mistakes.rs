//! An APIv2 upload (`uploadmedia`) is a POST of one file beside its signed text parts: no
//! `meta` JSON, so no `meta` keys; the file's MD5 goes in the element `md5` names, which no
//! field may send too. `md5` is APIv2's: an APIv3 upload's `meta` takes `sha256`.
use wxpay::{UploadFile, endpoint};

#[derive(serde::Deserialize)]
pub struct Uploaded {
    pub media_id: String,
}

// A GET cannot upload.
#[endpoint(v2 GET "/secapi/mch/uploadmedia" -> Uploaded)]
pub struct UploadOnGet {
    #[wxpay(file)]
    pub media: UploadFile,
}

// No `meta` for `name` and `sha256` to go in; one file.
#[endpoint(v2 POST "/secapi/mch/uploadmedia" -> Uploaded, cert)]
pub struct MetaKeys {
    #[wxpay(file(name = "file_name", md5 = "media_hash"))]
    pub media: UploadFile,
    #[wxpay(file)]
    pub other: UploadFile,
}

// The MD5's element is the runtime's; every field is a text part already.
#[endpoint(v2 POST "/secapi/mch/uploadmedia" -> Uploaded, cert)]
pub struct HashTwice {
    pub mch_id: String,
    pub media_hash: String,
    #[wxpay(file(md5 = "media_hash"))]
    pub media: UploadFile,
    #[wxpay(part)]
    pub note: String,
}

// `md5` on an APIv3 upload.
#[endpoint(POST "/v3/merchant/media/upload" -> Uploaded)]
pub struct Md5OnApiV3 {
    #[wxpay(file(md5 = "media_hash"))]
    pub file: UploadFile,
}

fn main() {}
