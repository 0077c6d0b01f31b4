//! The catalog's three APIv2 operations beyond a flat `<xml>`, each sent by a `wxpay::Client`
//! to the sandbox's independent APIv2 on its HTTPS listener (TEST CA, the merchant's TEST
//! client certificate for the `cert` ones), loopback only:
//! - `uploadmedia`: an upload, its fields signed text parts, its file unsigned, `media_hash`
//!   filled from the file;
//! - `submchmanage`: `action` in the URL beside the `<xml>`, outside the sign;
//! - `authindex`: a page the user's browser opens, unsigned, on the `payapp_mch` host that
//!   `WXPAY_BASE_URL_PAYAPP_MCH` maps.

use std::time::Duration;

use wxpay::apis::v2::{merchant, realname, risk};
use wxpay::{ClientBuilder, UploadFile};
use wxpay_sandbox::Sandbox;

use crate::common::{v2_fixture as fixture, v2_sandbox};

const KEY: &str = "TEST0APIv2Key0shapes0123456789ab";
const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";

async fn sandbox() -> Sandbox {
    v2_sandbox(KEY).start().await.expect("sandbox starts")
}

/// The merchant's client as `from_settings` reads it, with its key and API certificate,
/// trusting the TEST CA; `extra` settings on top.
fn merchant(sandbox: &Sandbox, extra: &[(&str, &str)]) -> ClientBuilder {
    let mut settings = sandbox.settings();
    settings.push((
        "WXPAY_MERCHANT_KEY".into(),
        fixture("TEST-apiclient-key.pem"),
    ));
    settings.push((
        "WXPAY_MERCHANT_CERT".into(),
        fixture("TEST-apiclient-cert.pem"),
    ));
    settings.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    ClientBuilder::from_settings(settings)
        .expect("the sandbox's settings")
        .root_certificate(fixture("TEST-ca-cert.pem"))
        .timeouts(Duration::from_secs(5), Duration::from_secs(20))
}

#[tokio::test]
async fn an_upload_goes_over_mtls_with_its_fields_signed_and_its_file_beside_them() {
    let sandbox = sandbox().await;
    let https = sandbox.https_url().expect("the HTTPS listener").to_owned();
    let client = merchant(&sandbox, &[])
        .base_url(&https)
        .build()
        .expect("client");
    let png = b"\x89PNG\r\n\x1a\nTEST media".to_vec();
    let upload = merchant::UploadMedia::new(merchant::UploadMediaRequired {
        mch_id: MCHID.into(),
        media: UploadFile::image("TEST.png", png.clone()).expect("an image"),
    });

    let prepared = client.prepare(&upload).expect("prepared");
    let content_type = prepared.headers()["content-type"].to_str().expect("text");
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    let body = String::from_utf8_lossy(prepared.body());
    // md5 of the PNG above, as `md5sum` gives it: what `media_hash` carries.
    assert!(
        body.contains("name=\"media_hash\"\r\n\r\n5c9e206fd8ce70dc51cd47b431626bde\r\n"),
        "{body}"
    );
    assert!(
        body.contains("name=\"sign_type\"\r\n\r\nHMAC-SHA256\r\n"),
        "{body}"
    );
    assert!(body.contains("name=\"media\"; filename=\"TEST.png\"\r\nContent-Type: image/png"));

    // The sandbox reads the text parts, verifies their sign and the certificate, and answers
    // signed (verified by the client).
    let answer = client.send(upload).await.expect("uploaded over mTLS");
    assert_eq!(answer.mch_id, MCHID);
    assert!(!answer.media_id.is_empty());

    // Signed with another key, the same upload is refused by the sandbox: it checked the sign.
    let other = merchant(
        &sandbox,
        &[("WXPAY_APIV2_KEY", "TESTotherkey0123456789ABCDEFGHIJ")],
    )
    .base_url(&https)
    .build()
    .expect("client");
    let refused = other
        .send(merchant::UploadMedia::new(merchant::UploadMediaRequired {
            mch_id: MCHID.into(),
            media: UploadFile::image("TEST.png", png).expect("an image"),
        }))
        .await;
    assert!(
        matches!(
            &refused,
            Err(wxpay::Error::ApiV2(wxpay::ApiV2Error::Platform { .. }))
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_query_parameter_rides_beside_the_xml_outside_the_sign() {
    let sandbox = sandbox().await;
    let https = sandbox.https_url().expect("the HTTPS listener").to_owned();
    let client = merchant(&sandbox, &[])
        .base_url(&https)
        .build()
        .expect("client");
    let manage = || {
        risk::ManageSubMerchant::new(risk::ManageSubMerchantRequired {
            action: risk::RiskAction::Query,
            appid: APPID.into(),
            mch_id: MCHID.into(),
            page_index: "1".into(),
        })
        .page_size("10")
    };
    let prepared = client.prepare(&manage()).expect("prepared");
    assert_eq!(
        prepared.uri().to_string(),
        format!("{https}/secapi/mch/submchmanage?action=query")
    );
    let sent = wxpay::apiv2::parse(prepared.body()).expect("our XML");
    assert_eq!(sent.get("action"), None, "the query is not an element");
    assert_eq!(sent.get("page_size"), Some("10"));

    // The sandbox finds `action` in the query, verifies the sign over the `<xml>` alone.
    let answer = client.send(manage()).await.expect("answered over mTLS");
    assert_eq!(answer.total, "1");
}

#[tokio::test]
async fn the_authorization_page_is_unsigned_on_its_own_host_and_redirects() {
    let sandbox = sandbox().await;
    let https = sandbox.https_url().expect("the HTTPS listener").to_owned();
    // Every other host stays on the sandbox's plain base URL (its settings say so).
    let client = merchant(&sandbox, &[("WXPAY_BASE_URL_PAYAPP_MCH", &https)])
        .build()
        .expect("client");
    let page = realname::AuthorizeRealname::new(realname::AuthorizeRealnameRequired {
        appid: APPID.into(),
        mch_id: MCHID.into(),
        redirect_uri: "https://weixin.qq.com/i-am-a-fake-uri?a=1&b=2".into(),
        response_type: realname::ResponseType::Code,
        scope: realname::Scope::PayRealName,
        state: "TEST STATE".into(),
    });
    let prepared = client.prepare(&page).expect("prepared");
    let url = prepared.uri().to_string();
    assert_eq!(
        url,
        format!(
            "{https}/appauth/authindex?appid={APPID}&mch_id={MCHID}&redirect_uri=https%3A%2F%2Fweixin.qq.com%2Fi-am-a-fake-uri%3Fa%3D1%26b%3D2&response_type=code&scope=pay_realname&state=TEST%20STATE"
        ),
        "the fields in order, percent-encoded; no nonce_str, sign_type or sign"
    );

    // The user's browser opens it: the sandbox checks the fields and redirects.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_only([
            reqwest::Certificate::from_pem(fixture("TEST-ca-cert.pem").as_bytes()).expect("CA"),
        ])
        .build()
        .expect("a browser");
    let opened = browser.get(&url).send().await.expect("opened");
    assert_eq!(opened.status(), 302);
    assert!(opened.headers().contains_key("location"));
    // Without a field the spec requires, it is refused: the sandbox did check ours.
    let short = url.replace("&state=TEST%20STATE", "");
    let refused = browser.get(&short).send().await.expect("opened");
    assert_eq!(refused.status(), 200);
    let text = refused.text().await.expect("text");
    assert!(text.contains("FAIL") && text.contains("state"), "{text}");
}
