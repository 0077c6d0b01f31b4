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
//! use wxpay::apis::merchant::media::{Image, UploadImage};
//! # async fn run(client: wxpay::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let image = Image::new("logo.png", std::fs::read("logo.png")?)?;
//! let uploaded = client.send(UploadImage { image }).await?;
//! println!("media_id {}", uploaded.media_id);
//! # Ok(()) }
//! ```

use std::fmt;

use serde::Deserialize;

use crate::__private::{Method, serde_json};
use crate::{Endpoint, Error, RequestError, RequestWriter};

/// The image formats the upload APIs take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// JPEG (`.jpg`, `.jpeg`).
    Jpeg,
    /// PNG (`.png`).
    Png,
    /// BMP (`.bmp`).
    Bmp,
}

impl ImageFormat {
    /// The format the bytes are in, by their signature.
    pub fn sniff(content: &[u8]) -> Option<Self> {
        if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if content.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if content.starts_with(b"BM") {
            Some(ImageFormat::Bmp)
        } else {
            None
        }
    }

    /// The MIME type of the `file` part.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::Bmp => "image/bmp",
        }
    }

    fn extensions(self) -> &'static [&'static str] {
        match self {
            ImageFormat::Jpeg => &["jpg", "jpeg"],
            ImageFormat::Png => &["png"],
            ImageFormat::Bmp => &["bmp"],
        }
    }
}

/// An image to upload: a file name whose extension matches its content (JPG, PNG or BMP).
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    filename: String,
    content: Vec<u8>,
    format: ImageFormat,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("filename", &self.filename)
            .field("format", &self.format)
            .field("bytes", &self.content.len())
            .finish()
    }
}

impl Image {
    /// An image from its file name and bytes; refused when the bytes are not JPG, PNG or BMP,
    /// or the name's extension does not say what they are.
    pub fn new(filename: impl Into<String>, content: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let filename = filename.into();
        let content = content.into();
        let refuse = |reason: String| {
            Error::Request(RequestError::Field {
                field: "file",
                reason,
            })
        };
        let format = ImageFormat::sniff(&content)
            .ok_or_else(|| refuse("the content is not a JPG, PNG or BMP image".into()))?;
        let extension = filename
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default();
        if !format.extensions().contains(&extension.as_str()) {
            return Err(refuse(format!(
                "the file name {filename:?} does not end in .{} although the content is {format:?}",
                format.extensions()[0]
            )));
        }
        Ok(Image {
            filename,
            content,
            format,
        })
    }

    /// The file name.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The bytes.
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    /// The format.
    pub fn format(&self) -> ImageFormat {
        self.format
    }

    fn write(
        &self,
        request: &mut RequestWriter<'_>,
        path: &str,
        max: usize,
    ) -> Result<(), RequestError> {
        if self.content.len() > max {
            return Err(RequestError::Field {
                field: "file",
                reason: format!(
                    "{} bytes is over this API's limit of {} MiB",
                    self.content.len(),
                    max / (1024 * 1024)
                ),
            });
        }
        request.path_literal(path);
        request.upload(&self.filename, self.format.mime(), &self.content)
    }
}

/// 文件上传 — uploads an image (JPG, PNG or BMP, at most [`UploadImage::MAX_BYTES`]) and
/// answers its `media_id`, for the APIs that take one.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/partner/4012760432)
#[derive(Debug, Clone, crate::Constructor)]
pub struct UploadImage {
    /// The image.
    pub image: Image,
}

impl UploadImage {
    /// The largest image the platform takes: 5 MiB (媒体图片…文件大小不能超过5M).
    pub const MAX_BYTES: usize = 5 * 1024 * 1024;
}

/// The answer to [`UploadImage`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct UploadImageResponse {
    /// The media id to pass to other APIs (媒体文件标识Id).
    pub media_id: String,
}

impl Endpoint for UploadImage {
    type Response = UploadImageResponse;
    const METHOD: Method = Method::POST;
    const PATH_TEMPLATE: &'static str = "/v3/merchant/media/upload";

    fn write_request(&self, request: &mut RequestWriter<'_>) -> Result<(), RequestError> {
        self.image
            .write(request, Self::PATH_TEMPLATE, Self::MAX_BYTES)
    }

    fn decode_response(body: &[u8]) -> Result<Self::Response, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

/// （营销）图片上传API — uploads an image (JPG, PNG or BMP, at most
/// [`UploadMarketingImage::MAX_BYTES`]) and answers its URL, for coupon and activity pages.
/// [Official documentation](https://pay.weixin.qq.com/doc/v3/merchant/4012557233)
#[derive(Debug, Clone, crate::Constructor)]
pub struct UploadMarketingImage {
    /// The image.
    pub image: Image,
}

impl UploadMarketingImage {
    /// The largest image the platform takes: 2 MiB.
    pub const MAX_BYTES: usize = 2 * 1024 * 1024;
}

/// The answer to [`UploadMarketingImage`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct UploadMarketingImageResponse {
    /// Where the image is served (媒体文件URL地址).
    pub media_url: String,
}

impl Endpoint for UploadMarketingImage {
    type Response = UploadMarketingImageResponse;
    const METHOD: Method = Method::POST;
    const PATH_TEMPLATE: &'static str = "/v3/marketing/favor/media/image-upload";

    fn write_request(&self, request: &mut RequestWriter<'_>) -> Result<(), RequestError> {
        self.image
            .write(request, Self::PATH_TEMPLATE, Self::MAX_BYTES)
    }

    fn decode_response(body: &[u8]) -> Result<Self::Response, serde_json::Error> {
        serde_json::from_slice(body)
    }
}
