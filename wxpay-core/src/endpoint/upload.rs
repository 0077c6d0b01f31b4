//! What the platform's `multipart/form-data` uploads carry: the file ([`UploadFile`]), what
//! the runtime adds to the upload's `meta` JSON about it ([`FileMeta`]), and the body itself.
//!
//! Every upload API takes a `meta` part (JSON, the part the signature covers), optionally
//! some text parts, and one file part. What `meta` must say about the file differs by API
//! (`filename` + `sha256`, `file_name` + `file_digest`, only `sha256`, …): the declaration
//! says which keys, the runtime fills them from the file.

use std::fmt;

use serde_json::Value;

use crate::error::RequestError;

/// The image formats the platform's image uploads take (JPG, PNG, BMP).
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

    /// The MIME type of the file part.
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

/// A file to upload: its name, its media type and its bytes. `Debug` shows the name, the
/// type and the size, never the bytes.
///
/// ```
/// use wxpay_core::UploadFile;
/// let png = b"\x89PNG\r\n\x1a\n....".to_vec();
/// let image = UploadFile::image("logo.png", png)?;
/// assert_eq!(image.content_type(), "image/png");
/// let csv = UploadFile::new("users.csv", "text/csv", b"openid\n".to_vec())?;
/// assert_eq!(csv.content().len(), 7);
/// # Ok::<(), wxpay_core::RequestError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct UploadFile {
    filename: String,
    content_type: String,
    content: Vec<u8>,
}

impl fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadFile")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("bytes", &self.content.len())
            .finish()
    }
}

impl UploadFile {
    /// A file from its name, media type (`text/csv`, `application/pdf`, `video/mp4`, …) and
    /// bytes. Refused when the name is empty or holds quotes or control characters, or the
    /// type is not a plain `type/subtype`: both are written into the part's headers.
    pub fn new(
        filename: impl Into<String>,
        content_type: impl Into<String>,
        content: impl Into<Vec<u8>>,
    ) -> Result<Self, RequestError> {
        let filename = filename.into();
        let content_type = content_type.into();
        if filename.is_empty() || filename.chars().any(|c| c.is_control() || c == '"') {
            return Err(refuse(
                "filename",
                "a file name must be non-empty, without quotes or control characters".into(),
            ));
        }
        let plain = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
        };
        if !content_type
            .split_once('/')
            .is_some_and(|(kind, sub)| plain(kind) && plain(sub))
        {
            return Err(refuse(
                "content_type",
                format!("{content_type:?} is not a media type such as `image/png`"),
            ));
        }
        Ok(UploadFile {
            filename,
            content_type,
            content: content.into(),
        })
    }

    /// An image (JPG, PNG or BMP, told by its bytes) whose name's extension says what it is;
    /// refused otherwise, as the image upload APIs would refuse it after the upload.
    pub fn image(
        filename: impl Into<String>,
        content: impl Into<Vec<u8>>,
    ) -> Result<Self, RequestError> {
        let filename = filename.into();
        let content = content.into();
        let format = ImageFormat::sniff(&content)
            .ok_or_else(|| refuse("file", "the content is not a JPG, PNG or BMP image".into()))?;
        let extension = filename
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default();
        if !format.extensions().contains(&extension.as_str()) {
            return Err(refuse(
                "file",
                format!(
                    "the file name {filename:?} does not end in .{} although the content is \
                     {format:?}",
                    format.extensions()[0]
                ),
            ));
        }
        UploadFile::new(filename, format.mime(), content)
    }

    /// The file name.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The media type of the file part.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The bytes.
    pub fn content(&self) -> &[u8] {
        &self.content
    }
}

/// What the runtime writes into an upload's `meta` about the file, by key, and the largest
/// file the API takes. `#[wxpay(file)]` means `filename` and `sha256`; `#[wxpay(file(name =
/// "file_name", sha256 = "file_digest", max_bytes = 2097152))]` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    filename: Option<&'static str>,
    sha256: Option<&'static str>,
    max_bytes: Option<usize>,
}

impl FileMeta {
    /// The keys for the file's name and its SHA-256 (lower-case hex), either left out with
    /// `None`, and the size limit, if any.
    pub const fn new(
        filename: Option<&'static str>,
        sha256: Option<&'static str>,
        max_bytes: Option<usize>,
    ) -> Self {
        FileMeta {
            filename,
            sha256,
            max_bytes,
        }
    }
}

/// The bytes of a finished upload.
pub(crate) struct Multipart {
    pub content_type: String,
    pub body: Vec<u8>,
    /// The `meta` JSON: what the signature covers.
    pub meta: Vec<u8>,
}

/// Builds the body: `meta` (the declaration's fields and what [`FileMeta`] adds), the text
/// parts in order, then the file. The boundary comes from the file's digest, so the same
/// request gives the same bytes.
pub(crate) fn multipart(
    meta: Value,
    parts: &[(&'static str, String)],
    part: &'static str,
    file: &UploadFile,
    keys: FileMeta,
) -> Result<Multipart, RequestError> {
    check_size(part, file, keys.max_bytes)?;
    let Value::Object(mut meta) = meta else {
        return Err(refuse(
            "meta",
            "the upload's meta is not a JSON object".into(),
        ));
    };
    let sha256 = crate::crypto::sha256_hex(&file.content);
    for (key, value) in [(keys.filename, &file.filename), (keys.sha256, &sha256)] {
        let Some(key) = key else { continue };
        if meta
            .insert(key.to_owned(), Value::String(value.clone()))
            .is_some()
        {
            return Err(refuse(
                key,
                "filled from the file; it is not a field of its own".into(),
            ));
        }
    }
    let meta = serde_json::to_vec(&meta).map_err(RequestError::Body)?;
    let texts = std::iter::once((
        "meta",
        "Content-Type: application/json\r\n",
        meta.as_slice(),
    ))
    .chain(
        parts
            .iter()
            .map(|(name, text)| (*name, "", text.as_bytes())),
    );
    let (content_type, body) = form("meta", texts, part, file)?;
    Ok(Multipart {
        content_type,
        body,
        meta,
    })
}

/// The body of an APIv2 upload (`uploadmedia`): the signed elements as text parts in order,
/// then the file, which no sign covers. Gives the `Content-Type` and the body.
pub(crate) fn apiv2_form<'f>(
    fields: impl Iterator<Item = (&'f str, &'f str)>,
    part: &str,
    file: &UploadFile,
) -> Result<(String, Vec<u8>), RequestError> {
    form(
        "form",
        fields.map(|(name, text)| (name, "", text.as_bytes())),
        part,
        file,
    )
}

/// Refuses a file over the API's size limit, naming its part.
pub(crate) fn check_size(
    part: &'static str,
    file: &UploadFile,
    max_bytes: Option<usize>,
) -> Result<(), RequestError> {
    match max_bytes {
        Some(max) if file.content.len() > max => Err(refuse(
            part,
            format!(
                "{} bytes is over this API's limit of {}",
                file.content.len(),
                size(max)
            ),
        )),
        _ => Ok(()),
    }
}

/// `multipart/form-data` of text parts `(name, extra headers, text)` in order, then the file
/// as part `part`. The boundary comes from the file's digest, so the same request gives the
/// same bytes; a text part that holds it is refused (as field `refused_as`).
fn form<'t>(
    refused_as: &'static str,
    texts: impl Iterator<Item = (&'t str, &'t str, &'t [u8])>,
    part: &str,
    file: &UploadFile,
) -> Result<(String, Vec<u8>), RequestError> {
    let sha256 = crate::crypto::sha256_hex(&file.content);
    let boundary = format!("wxpay-{}", &sha256[..32]);
    let mut body = Vec::with_capacity(file.content.len() + 400);
    for (name, headers, text) in texts {
        if contains(text, boundary.as_bytes()) {
            return Err(refuse(
                refused_as,
                format!("the `{name}` part holds the multipart boundary"),
            ));
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n{headers}\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(text);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; \
             filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            file.filename, file.content_type
        )
        .as_bytes(),
    );
    body.extend_from_slice(&file.content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Ok((format!("multipart/form-data; boundary={boundary}"), body))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// `5 MiB`, `200 KiB`, `1000 bytes`.
fn size(bytes: usize) -> String {
    const KIB: usize = 1024;
    if bytes.is_multiple_of(KIB * KIB) {
        format!("{} MiB", bytes / (KIB * KIB))
    } else if bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn refuse(field: &'static str, reason: String) -> RequestError {
    RequestError::Field { field, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend(0u8..32);
        bytes
    }

    #[test]
    fn meta_gets_the_declared_keys_and_refuses_a_field_of_the_same_name() {
        let file = UploadFile::image("a.png", png()).expect("image");
        let keys = FileMeta::new(Some("file_name"), Some("file_digest"), None);
        let done =
            multipart(serde_json::json!({"item_id": 5}), &[], "f", &file, keys).expect("upload");
        let meta: Value = serde_json::from_slice(&done.meta).expect("json");
        assert_eq!(meta["file_name"], "a.png");
        assert_eq!(meta["file_digest"], crate::crypto::sha256_hex(&png()));
        assert_eq!(meta["item_id"], 5);
        let clash = multipart(serde_json::json!({"file_name": "x"}), &[], "f", &file, keys);
        assert!(matches!(
            clash,
            Err(RequestError::Field {
                field: "file_name",
                ..
            })
        ));
    }

    #[test]
    fn text_parts_come_between_meta_and_the_file_and_may_not_hold_the_boundary() {
        let file = UploadFile::new("a.csv", "text/csv", b"x".to_vec()).expect("file");
        let keys = FileMeta::new(None, Some("sha256"), None);
        let parts = [("item_id", "56".to_owned())];
        let done = multipart(serde_json::json!({}), &parts, "f", &file, keys).expect("upload");
        let body = String::from_utf8(done.body).expect("utf-8");
        let (meta, item, file_at) = (
            body.find("name=\"meta\"").expect("meta"),
            body.find("name=\"item_id\"\r\n\r\n56\r\n")
                .expect("text part"),
            body.find("name=\"f\"; filename=\"a.csv\"").expect("file"),
        );
        assert!(meta < item && item < file_at, "{body}");
        let boundary = &done.content_type["multipart/form-data; boundary=".len()..];
        let hostile = [("item_id", format!("\r\n--{boundary}"))];
        assert!(multipart(serde_json::json!({}), &hostile, "f", &file, keys).is_err());
    }

    #[test]
    fn limits_and_names_are_checked() {
        let file = UploadFile::image("a.png", png()).expect("image");
        let keys = FileMeta::new(None, None, Some(8));
        let refused = multipart(serde_json::json!({}), &[], "file", &file, keys);
        match refused {
            Err(RequestError::Field { field, reason }) => {
                assert_eq!(field, "file");
                assert!(reason.contains("limit of 8 bytes"), "{reason}");
            }
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
        assert_eq!(size(2 * 1024 * 1024), "2 MiB");
        assert_eq!(size(200 * 1024), "200 KiB");
        assert!(UploadFile::new("a\"b", "text/csv", vec![]).is_err());
        assert!(UploadFile::new("", "text/csv", vec![]).is_err());
        assert!(UploadFile::new("a.csv", "text/csv\r\nX: y", vec![]).is_err());
        assert!(UploadFile::new("a.csv", "csv", vec![]).is_err());
        assert!(UploadFile::image("a.gif", b"GIF89a".to_vec()).is_err());
        assert!(UploadFile::image("a.jpg", png()).is_err());
        assert!(
            UploadFile::image("A.PNG", png()).is_ok(),
            "extensions in any case"
        );
    }
}
