//! Error values never carry what they should not: a decode error names the position and the
//! kind of problem, not the answer's values; transport and download errors do not repeat a
//! query (an `openid`, a download token).
//!
//! Apart from `secrets.rs` because that test captures every `tracing` event of its thread, and
//! the calls here, on other threads, would race it for the callsites' interest cache.

use wxpay::{Client, MerchantKey, PlatformKey};

const NAME: &str = "王秘密";
const ID_NUMBER: &str = "110101199003079999";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A genuinely signed 200 answer with `body`, and the ring that verifies it.
fn signed_answer(body: &str, now: i64) -> (http::Response<bytes::Bytes>, wxpay::PlatformKeys) {
    let platform = MerchantKey::from_pem("01", &fixture("TEST_platform_key.pem")).expect("key");
    let certificate =
        PlatformKey::from_certificate_pem(&fixture("TEST_platform_cert.pem")).expect("certificate");
    let (timestamp, nonce) = (now.to_string(), "593BEC0C930BF1AF");
    let message = wxpay::protocol::response_message(&timestamp, nonce, body.as_bytes());
    let response = http::Response::builder()
        .status(200)
        .header("Wechatpay-Serial", certificate.id())
        .header("Wechatpay-Timestamp", &timestamp)
        .header("Wechatpay-Nonce", nonce)
        .header(
            "Wechatpay-Signature",
            platform.sign(&message).expect("sign"),
        )
        .header("Request-ID", "08F78BB5AF0610D302A0F3BF0F1234")
        .body(bytes::Bytes::from(body.to_owned()))
        .expect("response");
    let mut ring = wxpay::PlatformKeys::new();
    ring.insert(certificate);
    (response, ring)
}

#[test]
fn a_decode_error_names_position_and_kind_never_the_values() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Payer {
        user_name: u32,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Card {
        id_card_number: String,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    enum State {
        Paid,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Order {
        state: State,
    }
    let now = 1_800_000_000;
    type Decode = fn(&[u8]) -> Result<(), serde_json::Error>;
    let cases: [(String, Decode); 4] = [
        // `invalid type: string "王秘密", expected u32`
        (format!(r#"{{"user_name":"{NAME}"}}"#), |b| {
            serde_json::from_slice::<Payer>(b).map(drop)
        }),
        // `invalid type: integer `110101199003079999`, expected a string`
        (format!(r#"{{"id_card_number":{ID_NUMBER}}}"#), |b| {
            serde_json::from_slice::<Card>(b).map(drop)
        }),
        // `unknown variant `王秘密`, expected `Paid``
        (format!(r#"{{"state":"{NAME}"}}"#), |b| {
            serde_json::from_slice::<Order>(b).map(drop)
        }),
        // `trailing characters`, after the values
        (
            format!(r#"{{"id_card_number":"{ID_NUMBER}"}} {NAME}"#),
            |b| serde_json::from_slice::<Card>(b).map(drop),
        ),
    ];
    for (body, decode) in cases {
        let (response, ring) = signed_answer(&body, now);
        let result = wxpay::protocol::read_response(response, &ring, now, 300, decode);
        let Err(wxpay::Error::Decode(error)) = &result else {
            panic!("{result:?}");
        };
        for text in [
            error.to_string(),
            format!("{error:?}"),
            format!("{result:?}"),
        ] {
            assert!(!text.contains(NAME), "{text}");
            assert!(!text.contains(ID_NUMBER), "{text}");
        }
        assert!(
            error.to_string().contains("at line 1 column"),
            "the position stays: {error}"
        );
        assert!(error.line == 1 && error.column > 0, "{error:?}");
        assert_eq!(error.raw_body(), body.as_bytes(), "kept, explicitly");
        assert_eq!(
            error.request_id.as_deref(),
            Some("08F78BB5AF0610D302A0F3BF0F1234")
        );
    }
    // A field missing from the answer is named: the name is the declared type's.
    let (response, ring) = signed_answer(r#"{"other":"王秘密"}"#, now);
    let result = wxpay::protocol::read_response(response, &ring, now, 300, |b| {
        serde_json::from_slice::<Card>(b)
    });
    let Err(wxpay::Error::Decode(error)) = result else {
        panic!("a decode error");
    };
    assert_eq!(error.field.as_deref(), Some("id_card_number"));
    assert_eq!(error.category, serde_json::error::Category::Data);
    assert!(error.to_string().contains("`id_card_number`"), "{error}");
}

#[tokio::test]
async fn transport_and_download_errors_do_not_repeat_the_query() {
    let client = Client::builder()
        .mchid("1230000109")
        .merchant_key(
            "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81",
            fixture("TEST_merchant_key.pem"),
        )
        .platform_certificate(fixture("TEST_platform_cert.pem"))
        // Port 1 on loopback: nothing listens, the connection is refused.
        .base_url("http://127.0.0.1:1")
        .retry_policy(wxpay::RetryPolicy::never())
        .build()
        .expect("client");
    let openid = "oUpF8uMuAJO_SECRET_openid";
    let error = client
        .get("/v3/marketing/favor/users/{openid}/coupons")
        .path("openid", "x")
        .query("openid", openid)
        .send::<serde_json::Value>()
        .await
        .expect_err("nothing listens");
    assert!(matches!(error, wxpay::Error::Transport(_)), "{error:?}");
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(openid), "{text}");
    }

    let token = "SECRETdownloadTOKEN0123";
    let download = wxpay::Download::new(
        format!("https://bills.example.com/v3/billdownload/file?token={token}"),
        wxpay::FileCheck::digest("SHA1", "0000000000000000000000000000000000000000"),
    );
    let error = client
        .download(&download, &mut tokio::io::sink())
        .await
        .expect_err("another host is refused");
    assert!(matches!(error, wxpay::Error::Download(_)), "{error:?}");
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(token), "{text}");
        assert!(
            text.contains("bills.example.com"),
            "still says which URL: {text}"
        );
    }
}
