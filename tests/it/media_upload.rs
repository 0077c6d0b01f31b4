//! Image uploads: the multipart body, the signature over the `meta` JSON (golden, checked
//! against OpenSSL), the limits checked before sending, and both upload APIs end to end
//! against the sandbox with each crypto backend.
//!
//! The expected signature was made once with
//! `openssl dgst -sha256 -sign tests/fixtures/keys/TEST_merchant_key.pem msg | base64 -w0`
//! where `msg` is `POST\n/v3/merchant/media/upload\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB240\n<META>\n`
//! and `<META>` is the `META` constant below (the SHA-256 from Python's `hashlib`).

use crate::common;

use common::client_for;
use http::HeaderValue;
use wxpay::apis::merchant::media::{
    UploadImage, UploadImageRequired, UploadMarketingImage, UploadMarketingImageRequired,
};
use wxpay::protocol::{self, RequestContext, Signer};
use wxpay::{
    CryptoBackend, Error, FileMeta, ImageFormat, MerchantKey, PlatformKeys, RequestError,
    UploadFile,
};
use wxpay_sandbox::Sandbox;

const SHA256: &str = "d07c347a02c1baa886a23bccdff73539288a787a3e3c9d3b66c591a1f5c7bbe9";
const META: &str = r#"{"filename":"商户 logo.png","sha256":"d07c347a02c1baa886a23bccdff73539288a787a3e3c9d3b66c591a1f5c7bbe9"}"#;
const SIGNATURE: &str = "Z3xIoi3mVVmtb3v9YUzUE6NkSBuLq7rpBZbIHG/Q5NYT7ZeooPF8EWkkR6SiY5O3jUZcq5SSqkc3xChQKmONEQA2V7RY1hGNCPZu2iYEcxxKqng3ClSFuntuC2Y3ed6NedYbUrtjwYoKn6w5t3wKeNgji1ifAmoeq7A4jnoSjAVWVekCswck7ra8aCiWS4nW41ddHrPHNYTGOj60e1IkwvmCDY96jlQqt5K37dj86JQO8whzYlprBesd6+PBXHsCbDg5TBboHHuvMSkMHx/fsDiR9e0DtVoZeUaeKhhM72zkdXfHu1Bn3i/f6sIBkbHGcjQHxsvAvLbrs0DxlK2F2A==";

/// A PNG signature and 32 bytes: enough for the platform's format check.
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(0u8..32);
    bytes
}

fn field_reason(result: Result<impl std::fmt::Debug, impl Into<Error>>) -> String {
    match result.map_err(Into::into) {
        Err(Error::Request(RequestError::Field { field, reason })) => {
            assert_eq!(field, "file");
            reason
        }
        other => panic!("expected a refused file, got {other:?}"),
    }
}

#[test]
fn the_signature_covers_the_meta_json_and_matches_openssl() {
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keys/TEST_merchant_key.pem"
    ))
    .expect("fixture");
    for &backend in CryptoBackend::all() {
        let key =
            MerchantKey::from_pem_with("0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81", &pem, backend)
                .expect("key");
        let ring = PlatformKeys::new();
        let user_agent = HeaderValue::from_static("wxpay-test");
        let context = RequestContext {
            base_url: "https://api.mch.weixin.qq.com",
            signer: Signer {
                mchid: "1230000109",
                key: &key,
            },
            platform_keys: &ring,
            user_agent: &user_agent,
        };
        let upload = UploadImage::new(UploadImageRequired {
            file: UploadFile::image("商户 logo.png", png()).expect("image"),
        });
        let request = protocol::prepare(
            &upload,
            &context,
            1554208460,
            "593BEC0C930BF1AFEB40B4A08C8FB240",
        )
        .expect("prepare");
        let authorization = request.headers()["authorization"].to_str().expect("ascii");
        assert!(
            authorization.ends_with(&format!("signature=\"{SIGNATURE}\"")),
            "{backend:?}: {authorization}"
        );
        let content_type = request.headers()["content-type"].to_str().expect("ascii");
        let boundary = format!("wxpay-{}", &SHA256[..32]);
        assert_eq!(
            content_type,
            format!("multipart/form-data; boundary={boundary}")
        );
        let mut expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{META}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"商户 logo.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        expected.extend(png());
        expected.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        assert_eq!(request.body(), &expected);
    }
}

#[test]
fn meta_is_json_escaped() {
    let mut writer = wxpay::RequestWriter::new(http::Method::POST, None, 0);
    let file = UploadFile::new(r"a\b.png", "image/png", png()).expect("file");
    let keys = FileMeta::new(Some("filename"), Some("sha256"), None);
    writer
        .upload(&serde_json::json!({}), "file", &file, keys)
        .expect("upload");
    let parts = writer.finish();
    let meta = String::from_utf8(parts.signed_body.expect("meta")).expect("utf-8");
    assert_eq!(
        meta,
        format!(r#"{{"filename":"a\\b.png","sha256":"{SHA256}"}}"#)
    );
    assert!(UploadFile::new("a\"b.png", "image/png", png()).is_err());
    assert!(UploadFile::new("", "image/png", png()).is_err());
}

#[test]
fn images_are_checked_before_sending() {
    assert_eq!(ImageFormat::sniff(&png()), Some(ImageFormat::Png));
    assert_eq!(
        ImageFormat::sniff(b"\xFF\xD8\xFF\xE0"),
        Some(ImageFormat::Jpeg)
    );
    assert_eq!(ImageFormat::sniff(b"BM...."), Some(ImageFormat::Bmp));
    assert!(
        field_reason(UploadFile::image("a.gif", b"GIF89a".to_vec())).contains("JPG, PNG or BMP")
    );
    assert!(field_reason(UploadFile::image("a.jpg", png())).contains(".png"));
    assert!(
        UploadFile::image("A.PNG", png()).is_ok(),
        "extensions in any case"
    );

    // 2 MiB + 1 byte: fine for the merchant media API (5 MiB), too large for marketing.
    let mut big = png();
    big.resize(2 * 1024 * 1024 + 1, 0);
    let image = UploadFile::image("big.png", big).expect("image");
    let mut writer = wxpay::RequestWriter::new(http::Method::POST, None, 0);
    let marketing = UploadMarketingImage::new(UploadMarketingImageRequired {
        file: image.clone(),
    });
    let refused = wxpay::Endpoint::write_request(&marketing, &mut writer);
    assert!(field_reason(refused).contains("2 MiB"));
    let mut writer = wxpay::RequestWriter::new(http::Method::POST, None, 0);
    wxpay::Endpoint::write_request(
        &UploadImage::new(UploadImageRequired { file: image }),
        &mut writer,
    )
    .expect("within 5 MiB");
}

#[tokio::test]
async fn both_upload_apis_end_to_end_with_each_backend() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    for &backend in CryptoBackend::all() {
        let client = client_for(&sandbox, backend);
        let image = UploadFile::image("商户 logo.png", png()).expect("image");
        let uploaded = client
            .send(UploadImage::new(UploadImageRequired {
                file: image.clone(),
            }))
            .await
            .expect("merchant media upload");
        assert!(!uploaded.media_id.is_empty());
        let uploaded = client
            .send(UploadMarketingImage::new(UploadMarketingImageRequired {
                file: image,
            }))
            .await
            .expect("marketing image upload");
        assert!(
            uploaded.media_url.starts_with("https://"),
            "{}",
            uploaded.media_url
        );

        // A 4 MiB image: over the old 1 MiB body limit, within the platform's 5 MiB.
        let mut big = png();
        big.resize(4 * 1024 * 1024, 7);
        let image = UploadFile::image("big.png", big).expect("image");
        client
            .send(UploadImage::new(UploadImageRequired { file: image }))
            .await
            .expect("a 4 MiB upload");
    }
    sandbox.shutdown().await;
}
