//! The APIv2 shapes beyond a flat `<xml>`: an upload (the file unsigned beside its signed
//! text parts, its MD5 in the element `md5` names), a query parameter beside a POST's
//! `<xml>` (outside the sign), and a page opened with plain parameters (`unsigned_request`)
//! on the `payapp_mch` host. Each is prepared as the client sends it.
use wxpay::apiv2::{self, CallContext, SignType};
use wxpay::{ApiV2, ApiV2Key, CryptoBackend, Endpoint, Host, Protocol, UploadFile, endpoint};

#[derive(serde::Deserialize)]
pub struct Answer {
    pub media_id: String,
}

#[endpoint(v2 POST "/secapi/mch/uploadmedia" -> Answer, cert, sign_type = either, no_nonce)]
pub struct UploadMedia {
    pub mch_id: String,
    #[wxpay(file(md5 = "media_hash", max_bytes = 2097152))]
    pub media: UploadFile,
}

#[endpoint(v2 POST "/secapi/mch/submchmanage", cert, unsigned_answer)]
pub struct ManageSubMerchants {
    #[wxpay(query)]
    pub action: String,
    pub mch_id: String,
}

#[endpoint(v2 GET "/appauth/authindex", unsigned_request, no_nonce, unsigned_answer, host = payapp_mch)]
pub struct AuthIndex {
    pub mch_id: String,
    pub state: String,
}

fn main() {
    let key = ApiV2Key::new("TESTapiv2key0123456789ABCDEFGHIJ").unwrap();
    let context = CallContext::new("https://api.mch.weixin.qq.com", &key, CryptoBackend::default())
        .preferring(SignType::Md5);

    let upload = UploadMedia::new(UploadMediaRequired {
        mch_id: "1230000109".into(),
        media: UploadFile::new("TEST.jpg", "image/jpeg", b"TEST".to_vec()).unwrap(),
    });
    let request = apiv2::prepare(&upload, &context, "unused").unwrap();
    let body = String::from_utf8(request.body().clone()).unwrap();
    // md5("TEST"), lower-case: the element the sign covers.
    assert!(body.contains("name=\"media_hash\"\r\n\r\n033bd94b1168d7e4f0d644c3c95e35bf\r\n"), "{body}");
    assert!(body.contains("name=\"media\"; filename=\"TEST.jpg\""), "{body}");
    assert!(!body.contains("nonce_str"), "{body}");

    let manage = ManageSubMerchants::new(ManageSubMerchantsRequired {
        action: "query".into(),
        mch_id: "1230000109".into(),
    });
    let request = apiv2::prepare(&manage, &context, "TESTnonce").unwrap();
    assert_eq!(request.uri(), "https://api.mch.weixin.qq.com/secapi/mch/submchmanage?action=query");
    let body = String::from_utf8(request.body().clone()).unwrap();
    assert!(!body.contains("action"), "{body}");

    let Protocol::ApiV2(rules) = AuthIndex::PROTOCOL else {
        panic!("AuthIndex is APIv2");
    };
    assert_eq!(
        rules,
        ApiV2::new()
            .with_signed_answer(false)
            .with_nonce(false)
            .with_signed_request(false)
    );
    assert_eq!(AuthIndex::HOST, Host::PayappMch);
    let page = AuthIndex::new(AuthIndexRequired {
        mch_id: "1230000109".into(),
        state: "TEST STATE".into(),
    });
    let context = CallContext::new(Host::PayappMch.default_base_url(), &key, CryptoBackend::default());
    let request = apiv2::prepare(&page, &context, "unused").unwrap();
    assert_eq!(
        request.uri(),
        "https://payapp.mch.weixin.qq.com/appauth/authindex?mch_id=1230000109&state=TEST%20STATE"
    );
}
