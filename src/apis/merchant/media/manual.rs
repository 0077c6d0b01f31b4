//! Image uploads (图片上传): the merchant media upload (`/v3/merchant/media/upload`, for
//! applications and complaints) and the marketing image upload
//! (`/v3/marketing/favor/media/image-upload`, for coupon and activity pages).
//!
//! Both are `multipart/form-data` with a `meta` part (`filename` and the file's `sha256`)
//! and a `file` part; the request signature covers the `meta` JSON. The runtime builds all
//! of it ([`RequestWriter::upload`](crate::RequestWriter::upload)); format and size limits
//! are checked before anything is sent.
//!
//! ```no_run
//! use wxpay::UploadFile;
//! use wxpay::apis::merchant::media::UploadImage;
//! # async fn run(client: wxpay::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let image = UploadFile::image("logo.png", std::fs::read("logo.png")?)?;
//! let uploaded = client.send(UploadImage::new(image)).await?;
//! println!("media_id {}", uploaded.media_id);
//! # Ok(()) }
//! ```

use serde::Deserialize;

use crate::{UploadFile, endpoint};

/// 文件上传 — uploads an image (JPG, PNG or BMP, at most 5 MiB) and answers its `media_id`,
/// for the APIs that take one.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/partner/4012760432)
#[endpoint(POST "/v3/merchant/media/upload" -> UploadImageResponse)]
#[derive(Debug, Clone)]
pub struct UploadImage {
    /// The image (图片文件).
    #[wxpay(file(name = "filename", sha256 = "sha256", max_bytes = 5242880))]
    pub file: UploadFile,
}

/// The answer to [`UploadImage`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct UploadImageResponse {
    /// The media id to pass to other APIs (媒体文件标识Id).
    pub media_id: String,
}

/// （营销）图片上传API — uploads an image (JPG, PNG or BMP, at most 2 MiB) and answers its
/// URL, for coupon and activity pages.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/merchant/4012557233)
#[endpoint(POST "/v3/marketing/favor/media/image-upload" -> UploadMarketingImageResponse)]
#[derive(Debug, Clone)]
pub struct UploadMarketingImage {
    /// The image (图片文件).
    #[wxpay(file(name = "filename", sha256 = "sha256", max_bytes = 2097152))]
    pub file: UploadFile,
}

/// The answer to [`UploadMarketingImage`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct UploadMarketingImageResponse {
    /// Where the image is served (媒体文件URL地址).
    pub media_url: String,
}
