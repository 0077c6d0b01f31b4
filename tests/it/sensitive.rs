//! Sensitive fields at any depth, both directions: a nested request encrypted with the TEST
//! platform key and decrypted field by field with its private key (every backend, every key
//! mode), `Wechatpay-Serial`, failures that name the field path, redacted `Debug` (of
//! plain-text personal data too), and an answer decrypted with the merchant key.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use wxpay::{
    CryptoBackend, Endpoint, MerchantKey, PlatformKey, PlatformKeys, RequestError, RequestWriter,
    Sensitive, SensitiveString, endpoint,
};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/keys/",
            $name
        ))
    };
}

const PLATFORM_KEY: &str = fixture!("TEST_platform_key.pem");
const PLATFORM_CERT: &str = fixture!("TEST_platform_cert.pem");
const PLATFORM_PUB: &str = fixture!("TEST_platform_pub.pem");
const MERCHANT_KEY: &str = fixture!("TEST_merchant_key.pem");
const MERCHANT_PUB: &str = fixture!("TEST_merchant_pub.pem");
const PLATFORM_SERIAL: &str = "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E";
const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0112300001092025110100000000";
const MERCHANT_SERIAL: &str = "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81";

/// An ID document inside an identity inside a receiver: three levels down.
#[derive(Clone, Serialize, Deserialize, wxpay::Sensitive)]
pub struct IdCard {
    #[wxpay(encrypt)]
    pub id_card_number: String,
    pub valid_until: String,
}

#[derive(Clone, Serialize, Deserialize, wxpay::Sensitive)]
pub struct Identity {
    #[wxpay(encrypt)]
    pub name: Option<String>,
    #[wxpay(encrypt)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_card_info: Option<IdCard>,
}

#[derive(Clone, Serialize, Deserialize, wxpay::Sensitive)]
pub struct Receiver {
    pub account: String,
    #[wxpay(encrypt)]
    pub name: String,
    #[wxpay(encrypt)]
    pub aliases: Vec<String>,
    #[wxpay(encrypt)]
    pub identity: Option<Identity>,
}

#[derive(Deserialize)]
pub struct Added {}

#[endpoint(POST "/v3/profitsharing/receivers/add" -> Added)]
pub struct AddReceivers {
    pub appid: String,
    #[wxpay(encrypt)]
    pub receivers: Vec<Receiver>,
    #[wxpay(encrypt)]
    pub contact_name: Option<String>,
}

/// An encrypted query parameter: percent-encoded ciphertext, signed as sent.
#[endpoint(GET "/v3/applyment4sub/applyment/search")]
pub struct SearchByPhone {
    #[wxpay(encrypt)]
    pub mobile: String,
    pub limit: u32,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The platform's private key in the type that decrypts: the test plays the platform.
fn platform(backend: CryptoBackend) -> MerchantKey {
    MerchantKey::from_pem_with(PLATFORM_SERIAL, PLATFORM_KEY, backend).expect("TEST key")
}

/// The ring in each key mode, and the id `Wechatpay-Serial` must name in it.
fn key_modes(backend: CryptoBackend) -> Vec<(&'static str, PlatformKeys, &'static str)> {
    let certificate = || PlatformKey::from_certificate_pem_with(PLATFORM_CERT, backend).unwrap();
    let public_key =
        || PlatformKey::from_public_key_pem_with(PUBLIC_KEY_ID, PLATFORM_PUB, backend).unwrap();
    let ring = |keys: Vec<PlatformKey>| {
        let mut ring = PlatformKeys::new();
        for key in keys {
            ring.insert(key);
        }
        ring
    };
    vec![
        ("certificate", ring(vec![certificate()]), PLATFORM_SERIAL),
        ("public key", ring(vec![public_key()]), PUBLIC_KEY_ID),
        // With both, the public key is the one encrypted with (the platform's current way).
        (
            "both",
            ring(vec![certificate(), public_key()]),
            PUBLIC_KEY_ID,
        ),
    ]
}

fn receivers() -> AddReceivers {
    AddReceivers::new(AddReceiversRequired {
        appid: "wxd678efh567hg6787".into(),
        receivers: vec![
            Receiver {
                account: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
                name: "张三".into(),
                aliases: vec!["小张".into(), "Zhang San".into()],
                identity: Some(Identity {
                    name: Some("张三丰".into()),
                    id_card_info: Some(IdCard {
                        id_card_number: "110101199003072316".into(),
                        valid_until: "2030-01-01".into(),
                    }),
                }),
            },
            Receiver {
                account: "1900000109".into(),
                name: "李四".into(),
                aliases: Vec::new(),
                identity: None,
            },
        ],
    })
    .contact_name("王五")
}

fn write<E: Endpoint>(endpoint: &E, keys: Option<&PlatformKeys>) -> wxpay::RequestParts {
    let mut writer = RequestWriter::new(E::METHOD, keys, now());
    endpoint.write_request(&mut writer).expect("writes");
    writer.finish()
}

fn decrypt(platform: &MerchantKey, value: &serde_json::Value) -> String {
    let ciphertext = value.as_str().expect("a ciphertext is a string");
    platform.decrypt(ciphertext).expect("decrypts").to_string()
}

#[test]
fn a_nested_request_is_encrypted_field_by_field_with_one_named_key() {
    for &backend in CryptoBackend::all() {
        let platform = platform(backend);
        for (mode, keys, serial) in key_modes(backend) {
            let parts = write(&receivers(), Some(&keys));
            let context = format!("{} / {mode}", backend.name());
            assert_eq!(parts.headers["wechatpay-serial"], serial, "{context}");
            let body: serde_json::Value = serde_json::from_slice(&parts.body).unwrap();
            // Not sensitive: sent as given.
            assert_eq!(body["appid"], "wxd678efh567hg6787", "{context}");
            let first = &body["receivers"][0];
            assert_eq!(first["account"], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
            assert_eq!(
                first["identity"]["id_card_info"]["valid_until"],
                "2030-01-01"
            );
            // Sensitive, at every depth: ciphertext that the platform's key opens.
            assert_ne!(first["name"], "张三", "{context}");
            assert_eq!(decrypt(&platform, &first["name"]), "张三", "{context}");
            assert_eq!(decrypt(&platform, &first["aliases"][0]), "小张");
            assert_eq!(decrypt(&platform, &first["aliases"][1]), "Zhang San");
            assert_eq!(decrypt(&platform, &first["identity"]["name"]), "张三丰");
            assert_eq!(
                decrypt(
                    &platform,
                    &first["identity"]["id_card_info"]["id_card_number"]
                ),
                "110101199003072316",
                "{context}"
            );
            let second = &body["receivers"][1];
            assert_eq!(decrypt(&platform, &second["name"]), "李四");
            assert_eq!(second["aliases"], serde_json::json!([]));
            assert_eq!(second["identity"], serde_json::Value::Null);
            assert_eq!(decrypt(&platform, &body["contact_name"]), "王五");
        }
    }
}

#[test]
fn an_encrypted_query_parameter_is_percent_encoded_ciphertext() {
    for &backend in CryptoBackend::all() {
        let platform = platform(backend);
        for (mode, keys, serial) in key_modes(backend) {
            let parts = write(
                &SearchByPhone::new(SearchByPhoneRequired {
                    mobile: "13800138000".into(),
                    limit: 10,
                }),
                Some(&keys),
            );
            assert_eq!(parts.headers["wechatpay-serial"], serial, "{mode}");
            let query = parts.path_and_query.split_once("?mobile=").unwrap().1;
            let (mobile, limit) = query.split_once('&').unwrap();
            assert_eq!(limit, "limit=10");
            // Base64's `+`, `/` and `=` do not survive a query unencoded.
            assert!(!mobile.contains(['+', '/', '=']), "{mobile}");
            let ciphertext = percent_decode(mobile);
            assert_eq!(
                *platform.decrypt(&ciphertext).unwrap(),
                "13800138000",
                "{}",
                backend.name()
            );
        }
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn nothing_to_encrypt_names_no_key() {
    let keys = &key_modes(CryptoBackend::default())[0].1;
    let mut request = AddReceivers::new(AddReceiversRequired {
        appid: "wx1".into(),
        receivers: Vec::new(),
    });
    let parts = write(&request, Some(keys));
    assert!(parts.headers.get("wechatpay-serial").is_none());
    assert_eq!(parts.body, br#"{"appid":"wx1","receivers":[]}"#);
    // Without a key, an encrypted field is refused, not sent in the clear.
    request = request.contact_name("王五");
    let mut writer = RequestWriter::new(http::Method::POST, None, now());
    assert!(matches!(
        request.write_request(&mut writer),
        Err(RequestError::NoEncryptionKey)
    ));
}

#[test]
fn a_failed_encryption_names_the_field_path_and_why() {
    let keys = &key_modes(CryptoBackend::default())[0].1;
    let mut request = receivers();
    request.receivers[1].identity = Some(Identity {
        name: Some("名".repeat(100)), // 300 bytes: more than RSA-OAEP takes
        id_card_info: None,
    });
    let mut writer = RequestWriter::new(http::Method::POST, Some(keys), now());
    match request.write_request(&mut writer) {
        Err(RequestError::Encrypt { field, reason }) => {
            assert_eq!(field, "receivers[1].identity.name");
            assert!(reason.contains("300 bytes"), "{reason}");
            assert!(!reason.contains('名'), "{reason}");
        }
        other => panic!("expected an encryption error, got {other:?}"),
    }
}

#[test]
fn debug_redacts_what_is_encrypted_at_every_depth() {
    let shown = format!("{:?}", receivers());
    for secret in ["张三", "小张", "110101199003072316", "李四", "王五"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"), "{shown}");
    assert!(shown.contains("2030-01-01"), "{shown}");
    assert!(shown.contains("name: <redacted>"), "{shown}");
    assert!(
        shown.contains("aliases: [<redacted>, <redacted>]"),
        "{shown}"
    );
    assert!(shown.contains("contact_name: Some(<redacted>)"), "{shown}");
}

/// An answer the platform encrypted with the merchant's public key.
#[derive(Deserialize, wxpay::Sensitive)]
pub struct Complaints {
    #[wxpay(encrypt)]
    pub data: Vec<Complaint>,
    pub total_count: u32,
}

#[derive(Deserialize, wxpay::Sensitive)]
pub struct Complaint {
    pub complaint_id: String,
    #[wxpay(encrypt)]
    pub payer_phone: Option<SensitiveString>,
}

#[endpoint(GET "/v3/merchant-service/complaints-v2" -> Complaints)]
pub struct ListComplaints {
    pub limit: u32,
}

fn answer(phones: [&str; 2]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "data": [
            {"complaint_id": "200201820200101080076610000", "payer_phone": phones[0]},
            {"complaint_id": "200201820200101080076610001", "payer_phone": phones[1]},
        ],
        "total_count": 2,
    }))
    .unwrap()
}

#[test]
fn an_answer_is_decrypted_with_the_merchant_key_field_by_field() {
    for &backend in CryptoBackend::all() {
        let merchant = MerchantKey::from_pem_with(MERCHANT_SERIAL, MERCHANT_KEY, backend).unwrap();
        let to_merchant = PlatformKey::from_public_key_pem_with("merchant", MERCHANT_PUB, backend)
            .expect("TEST merchant public key");
        let (first, second) = (
            to_merchant.encrypt("13800138000").unwrap(),
            to_merchant.encrypt("13900139000").unwrap(),
        );
        let body = answer([&first, &second]);
        let mut complaints = ListComplaints::decode_response(&body).unwrap();
        // Decoded alone, a sensitive value is not handed out: it is still ciphertext.
        assert_eq!(
            complaints.data[0].payer_phone.as_ref().unwrap().expose(),
            None
        );
        ListComplaints::decrypt_response(&mut complaints, &merchant).unwrap();
        let phone = |i: usize| complaints.data[i].payer_phone.as_ref().unwrap().expose();
        assert_eq!(phone(0), Some("13800138000"), "{}", backend.name());
        assert_eq!(phone(1), Some("13900139000"));
        let shown = format!("{complaints:?}");
        assert!(!shown.contains("138001"), "{shown}");
        assert!(shown.contains("payer_phone: Some(<redacted>)"), "{shown}");

        // A ciphertext that does not decrypt is an error naming where it is.
        let body = answer([&first, "bm90IGEgY2lwaGVydGV4dA=="]);
        let mut complaints = ListComplaints::decode_response(&body).unwrap();
        let error = ListComplaints::decrypt_response(&mut complaints, &merchant).unwrap_err();
        assert_eq!(error.field, "data[1].payer_phone");
        assert!(error.to_string().contains("data[1].payer_phone"), "{error}");
    }
}

/// Personal data the platform sends in plain text.
#[derive(Clone, Serialize, Deserialize, wxpay::Sensitive)]
pub struct Payee {
    #[wxpay(redact)]
    pub openid: String,
    #[wxpay(redact)]
    pub user_name: Option<String>,
    pub amount: i64,
}

#[endpoint(POST "/v3/transfer/payees" -> Added)]
pub struct AddPayee {
    pub payee: Payee,
}

#[test]
fn a_redacted_field_is_hidden_from_debug_and_neither_encrypted_nor_decrypted() {
    let json = r#"{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","user_name":"张三","amount":100}"#;
    let mut payee: Payee = serde_json::from_str(json).unwrap();
    let shown = format!("{payee:?}");
    for secret in ["oUpF8uMuAJO", "张三"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("openid: <redacted>"), "{shown}");
    assert!(shown.contains("user_name: Some(<redacted>)"), "{shown}");
    assert!(shown.contains("amount: 100"), "{shown}");

    // In an answer there is nothing to decrypt: the values stay as they came.
    payee
        .decrypt_fields(
            &platform(CryptoBackend::default()),
            wxpay::FieldPath::new("payee"),
        )
        .unwrap();
    assert_eq!(serde_json::to_string(&payee).unwrap(), json);

    // In a request they go as they are, and no platform key is named.
    let keys = &key_modes(CryptoBackend::default())[1].1;
    let parts = write(&AddPayee { payee }, Some(keys));
    assert!(parts.headers.get("wechatpay-serial").is_none());
    let body: serde_json::Value = serde_json::from_slice(&parts.body).unwrap();
    assert_eq!(body["payee"]["openid"], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    assert_eq!(body["payee"]["user_name"], "张三");
}

#[test]
fn the_trait_walks_options_and_lists_of_text() {
    let mut plain: Vec<Option<String>> = vec![None, Some("x".into())];
    let keys = &key_modes(CryptoBackend::default())[1].1;
    let mut writer = RequestWriter::new(http::Method::POST, Some(keys), now());
    plain
        .encrypt_fields(&mut writer, wxpay::FieldPath::new("list"))
        .unwrap();
    assert_eq!(plain[0], None);
    assert_ne!(plain[1].as_deref(), Some("x"));
    let platform = platform(CryptoBackend::default());
    plain
        .decrypt_fields(&platform, wxpay::FieldPath::new("list"))
        .unwrap();
    assert_eq!(plain[1].as_deref(), Some("x"));
}

use crate::common;

/// The sandbox encrypts each complainant's phone number with the merchant's public key; the
/// client verifies the answer, then decrypts every `data[].payer_phone` with the merchant key.
#[tokio::test]
async fn complaints_arrive_decrypted_from_the_sandbox() {
    use wxpay::apis::merchant_service::{ComplaintState, ListComplaints, ListComplaintsRequired};
    use wxpay_sandbox::{KeyMode, Sandbox};
    for mode in [KeyMode::Certificate, KeyMode::PublicKey] {
        for &backend in CryptoBackend::all() {
            let sandbox = Sandbox::builder().key_mode(mode).start().await.unwrap();
            let client = common::client_for(&sandbox, backend);
            let page = client
                .send(
                    ListComplaints::new(ListComplaintsRequired {
                        begin_date: "2026-01-01".into(),
                        end_date: "2026-01-31".into(),
                    })
                    .limit(2),
                )
                .await
                .unwrap_or_else(|e| panic!("{mode:?}/{}: {e}", backend.name()));
            assert_eq!((page.limit, page.offset, page.total_count), (2, 0, Some(3)));
            let phones: Vec<_> = page
                .complaints()
                .iter()
                .map(|complaint| complaint.payer_phone.as_ref().and_then(|p| p.expose()))
                .collect();
            assert_eq!(phones, [Some("13800138000"), Some("13900139000")]);
            assert_eq!(
                page.complaints()[0].complaint_state,
                ComplaintState::Pending
            );
            assert_eq!(page.complaints()[0].complainted_mchid, client.mchid());
            assert!(!format!("{:?}", page.data).contains("138001"));

            // The next page starts where this one ended.
            let rest = client
                .send(
                    ListComplaints::new(ListComplaintsRequired {
                        begin_date: "2026-01-01".into(),
                        end_date: "2026-01-31".into(),
                    })
                    .limit(2)
                    .offset(2),
                )
                .await
                .unwrap();
            let last = rest.complaints()[0]
                .payer_phone
                .as_ref()
                .and_then(|p| p.expose());
            assert_eq!(last, Some("13700137000"));
        }
    }
}
