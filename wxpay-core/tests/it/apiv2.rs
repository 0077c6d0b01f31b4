//! APIv2: the known answers of `tests/fixtures/v2_vectors.json` (a copy of
//! `../shared/vectors/v2.json`, from the reference plugin's own code) with every backend, and
//! the hostile documents of `docs/threats.md`, each with its own error.

use proptest::prelude::*;
use serde::Deserialize;
use wxpay_core::apiv2::{self, Fields, SignType};
use wxpay_core::{
    ApiV2Error, ApiV2Key, ApiV2NotificationError, ApiV2SignError, CryptoBackend, KeyError, XmlError,
};

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/v2_vectors.json"
));

#[derive(Deserialize)]
struct Vectors {
    key: String,
    signatures: Vec<Signature>,
    xml: Vec<Document>,
    req_info: Vec<ReqInfo>,
}

#[derive(Deserialize)]
struct Signature {
    name: String,
    sign_type: String,
    params: serde_json::Map<String, serde_json::Value>,
    string_to_sign: String,
    sign: String,
}

#[derive(Deserialize)]
struct Document {
    name: String,
    fields: serde_json::Map<String, serde_json::Value>,
    xml: String,
    verifies_with: Option<String>,
}

#[derive(Deserialize)]
struct ReqInfo {
    name: String,
    aes_key: String,
    req_info: String,
    plaintext: String,
}

fn vectors() -> Vectors {
    serde_json::from_str(VECTORS).expect("v2_vectors.json")
}

/// The vector's fields in its own order (serde_json keeps order with `preserve_order`; without
/// it the order does not matter for signing, and documents are compared by their own order).
fn fields(map: &serde_json::Map<String, serde_json::Value>) -> Fields {
    map.iter()
        .map(|(name, value)| (name.clone(), value.as_str().expect("text").to_owned()))
        .collect()
}

/// The fields of a document vector in document order, read from its `xml` text.
fn ordered(document: &Document) -> Fields {
    let mut order: Vec<(usize, &String)> = document
        .fields
        .keys()
        .map(|name| {
            let at = [format!("<{name}>"), format!("<{name}/>")]
                .iter()
                .find_map(|tag| document.xml.find(tag.as_str()));
            (at.expect("named"), name)
        })
        .collect();
    order.sort();
    order
        .into_iter()
        .map(|(_, name)| {
            (
                name.clone(),
                document.fields[name].as_str().expect("text").to_owned(),
            )
        })
        .collect()
}

fn key() -> ApiV2Key {
    ApiV2Key::new(&vectors().key).expect("the vectors' key")
}

#[test]
fn every_signature_vector_with_every_backend() {
    let key = key();
    let vectors = vectors();
    assert_eq!(vectors.signatures.len(), 5);
    for vector in &vectors.signatures {
        let fields = fields(&vector.params);
        assert_eq!(
            apiv2::string_to_sign(&fields, &key).as_str(),
            vector.string_to_sign,
            "{}",
            vector.name
        );
        let sign_type = SignType::from_name(&vector.sign_type).expect("sign type");
        for &backend in CryptoBackend::all() {
            let sign = apiv2::sign(&fields, &key, sign_type, backend).expect("sign");
            assert_eq!(sign, vector.sign, "{} with {}", vector.name, backend.name());
            let mut signed = fields.clone();
            signed.insert("sign", sign.to_ascii_lowercase());
            assert_eq!(apiv2::verify(&signed, &key, sign_type, backend), Ok(()));
        }
    }
}

#[test]
fn every_document_vector_is_written_and_read_byte_for_byte() {
    let key = key();
    let vectors = vectors();
    assert_eq!(vectors.xml.len(), 6);
    for document in &vectors.xml {
        let fields = ordered(document);
        let parsed = apiv2::parse(document.xml.as_bytes()).expect(&document.name);
        assert_eq!(parsed, fields, "{}", document.name);
        if document.verifies_with.is_none() {
            // Requests: what the client writes.
            assert_eq!(
                apiv2::to_xml(&fields).unwrap(),
                document.xml,
                "{}",
                document.name
            );
        }
        for &backend in CryptoBackend::all() {
            let sign_type = match (&document.verifies_with, parsed.get("sign_type")) {
                (Some(name), _) => SignType::from_name(name).expect("type"),
                (None, Some(name)) => SignType::from_name(name).expect("type"),
                (None, None) => SignType::Md5,
            };
            assert_eq!(
                apiv2::verify(&parsed, &key, sign_type, backend),
                Ok(()),
                "{} with {}",
                document.name,
                backend.name()
            );
        }
    }
}

#[test]
fn a_request_is_built_as_the_client_will_build_it() {
    let key = key();
    let vectors = vectors();
    let document = vectors
        .xml
        .iter()
        .find(|d| d.name == "unifiedorder_hmac")
        .expect("vector");
    let mut fields = ordered(document);
    fields.remove("sign");
    let nonce = fields.remove("nonce_str").expect("nonce");
    fields.remove("sign_type");
    for &backend in CryptoBackend::all() {
        let xml = apiv2::signed_request_xml(
            fields.clone(),
            Some(&nonce),
            &key,
            SignType::HmacSha256,
            backend,
        )
        .expect("request");
        // Same fields and sign; nonce and sign_type come after the caller's fields.
        let sent = apiv2::parse(xml.as_bytes()).expect("parse");
        let expected = apiv2::parse(document.xml.as_bytes()).expect("parse");
        for (name, value) in expected.iter() {
            assert_eq!(sent.get(name), Some(value), "{name}");
        }
        assert_eq!(sent.len(), expected.len());
        assert_eq!(sent.names().last(), Some("sign"));
    }
}

#[test]
fn the_answer_vector_is_data_and_a_business_failure_is_its_own_error() {
    let key = key();
    let vectors = vectors();
    let answer = vectors
        .xml
        .iter()
        .find(|d| d.name == "response_cdata_md5")
        .expect("vector");
    for &backend in CryptoBackend::all() {
        let fields = apiv2::read_answer(answer.xml.as_bytes(), &key, SignType::Md5, true, backend)
            .expect("verified");
        assert_eq!(
            fields.get("prepay_id"),
            Some("wx201411101639507cbf6ffd8b0779950874")
        );

        let mut failed: Fields = [
            ("return_code", "SUCCESS"),
            ("result_code", "FAIL"),
            ("err_code", "ORDERPAID"),
            ("err_code_des", "该订单已支付"),
        ]
        .into_iter()
        .collect();
        let sign = apiv2::sign(&failed, &key, SignType::Md5, backend).unwrap();
        failed.insert("sign", sign);
        let body = apiv2::to_xml(&failed).unwrap();
        assert_eq!(
            apiv2::read_answer(body.as_bytes(), &key, SignType::Md5, true, backend),
            Err(ApiV2Error::Business {
                err_code: Some("ORDERPAID".into()),
                err_code_des: Some("该订单已支付".into()),
            })
        );
    }
}

#[test]
fn the_refund_notification_vector_decrypts_with_every_backend() {
    let key = key();
    let vector: ReqInfo = vectors().req_info.remove(0);
    assert_eq!(vector.name, "refund_notification");
    let expected = apiv2::parse_with(vector.plaintext.as_bytes(), "root", 1 << 16).unwrap();
    assert_eq!(expected.get("refund_fee"), Some("3960"));
    assert_eq!(
        vector.aes_key.len(),
        32,
        "the lower-case hex MD5 of the key"
    );
    let body = format!(
        "<xml><return_code>SUCCESS</return_code><appid><![CDATA[wx2421b1c4370ec43b]]></appid><req_info><![CDATA[{}]]></req_info></xml>",
        vector.req_info
    );
    for &backend in CryptoBackend::all() {
        let plaintext = key
            .decrypt_req_info(&vector.req_info, backend)
            .expect("decrypts");
        assert_eq!(
            &plaintext[..],
            vector.plaintext.as_bytes(),
            "{}",
            backend.name()
        );
        let notification =
            apiv2::read_refund_notification(body.as_bytes(), &key, backend).expect("reads");
        assert_eq!(notification.refund, expected);
        assert_eq!(
            notification.envelope.get("appid"),
            Some("wx2421b1c4370ec43b")
        );
        // Debug shows names, never the decrypted values.
        let debug = format!("{notification:?}");
        assert!(
            debug.contains("refund_fee") && !debug.contains("3960"),
            "{debug}"
        );
        // The platform side agrees with itself across backends.
        let again = key
            .encrypt_req_info(vector.plaintext.as_bytes(), backend)
            .unwrap();
        assert_eq!(again, vector.req_info, "ECB is deterministic");
    }
}

// Hostile input: each is refused with its own error.

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><return_code>SUCCESS</return_code><attach>&lol9;</attach></xml>"#;

#[test]
fn an_xml_bomb_an_external_entity_and_a_doctype_are_refused_before_any_expansion() {
    assert!(matches!(
        apiv2::parse(BILLION_LAUGHS.as_bytes()),
        Err(XmlError::Doctype { position: 22 })
    ));
    let external =
        br#"<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><a>&xxe;</a></xml>"#;
    assert_eq!(
        apiv2::parse(external),
        Err(XmlError::Doctype { position: 0 })
    );
    let public = br#"<!DOCTYPE xml PUBLIC "-//X//Y" "http://127.0.0.1/x.dtd"><xml/>"#;
    assert_eq!(apiv2::parse(public), Err(XmlError::Doctype { position: 0 }));
    // Without a DTD a reference to an undeclared entity is refused, never looked up.
    assert_eq!(
        apiv2::parse(b"<xml><a>x&xxe;</a></xml>"),
        Err(XmlError::Entity { position: 9 })
    );
    // The five predefined entities and character references are text.
    let fields =
        apiv2::parse(b"<xml><a>&lt;&gt;&amp;&apos;&quot;&#x4E2D;&#25991;</a></xml>").unwrap();
    assert_eq!(fields.get("a"), Some("<>&'\"中文"));
    // The same through an answer and a notification.
    let key = key();
    let backend = CryptoBackend::default();
    assert!(matches!(
        apiv2::read_answer(
            BILLION_LAUGHS.as_bytes(),
            &key,
            SignType::Md5,
            false,
            backend
        ),
        Err(ApiV2Error::Xml(XmlError::Doctype { .. }))
    ));
    assert!(matches!(
        apiv2::read_payment_notification(BILLION_LAUGHS.as_bytes(), &key, SignType::Md5, backend),
        Err(ApiV2NotificationError::Xml(XmlError::Doctype { .. }))
    ));
    assert!(matches!(
        apiv2::read_refund_notification(external, &key, backend),
        Err(ApiV2NotificationError::Xml(XmlError::Doctype { .. }))
    ));
}

#[test]
fn other_shapes_are_refused_each_with_its_kind() {
    let cases: [(&[u8], XmlError); 9] = [
        (
            b"<xml><total_fee>1</total_fee><total_fee>100</total_fee></xml>",
            XmlError::DuplicateField {
                field: "total_fee".into(),
            },
        ),
        (
            b"<xml><a/><a>1</a></xml>",
            XmlError::DuplicateField { field: "a".into() },
        ),
        (
            // Nesting where the protocol declares none (`hblist` is its one list).
            b"<xml><hbinfo><amount>1</amount></hbinfo></xml>",
            XmlError::Nested {
                field: "hbinfo".into(),
            },
        ),
        (b"<root><a>1</a></root>", XmlError::Root { expected: "xml" }),
        (b"", XmlError::Root { expected: "xml" }),
        (
            b"<xml>loose<a>1</a></xml>",
            XmlError::Malformed { position: 5 },
        ),
        (b"<xml><a>1</b></xml>", XmlError::Malformed { position: 9 }),
        (
            b"<xml><?php x?><a>1</a></xml>",
            XmlError::ProcessingInstruction { position: 5 },
        ),
        (b"<xml><a>\xff</a></xml>", XmlError::NotUtf8),
    ];
    for (document, error) in cases {
        assert_eq!(
            apiv2::parse(document),
            Err(error),
            "{}",
            String::from_utf8_lossy(document)
        );
    }
    // Comments, the declaration and whitespace between fields are fine.
    let fields = apiv2::parse(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml>\n <!-- c -->\n <a>1</a>\n</xml>\n",
    )
    .unwrap();
    assert_eq!(fields.get("a"), Some("1"));
    assert_eq!(fields.len(), 1);
}

#[test]
fn oversize_documents_are_refused_before_parsing() {
    let key = key();
    let backend = CryptoBackend::default();
    let big = format!("<xml><a>{}</a></xml>", "x".repeat(apiv2::MAX_ANSWER_LEN));
    assert_eq!(
        apiv2::read_answer(big.as_bytes(), &key, SignType::Md5, false, backend),
        Err(ApiV2Error::Xml(XmlError::TooLarge {
            length: big.len(),
            limit: apiv2::MAX_ANSWER_LEN
        }))
    );
    let notification = format!(
        "<xml><a>{}</a></xml>",
        "x".repeat(apiv2::MAX_NOTIFICATION_LEN)
    );
    assert!(matches!(
        apiv2::read_payment_notification(notification.as_bytes(), &key, SignType::Md5, backend),
        Err(ApiV2NotificationError::Xml(XmlError::TooLarge { .. }))
    ));
    // Exactly at the limit is read.
    let exact = format!(
        "<xml><a>{}</a></xml>",
        "x".repeat(apiv2::MAX_ANSWER_LEN - 18)
    );
    assert_eq!(exact.len(), apiv2::MAX_ANSWER_LEN);
    assert!(apiv2::parse(exact.as_bytes()).is_ok());
}

fn signed(pairs: &[(&str, &str)], sign_type: SignType, backend: CryptoBackend) -> Fields {
    let mut fields: Fields = pairs.iter().copied().collect();
    let sign = apiv2::sign(&fields, &key(), sign_type, backend).unwrap();
    fields.insert("sign", sign);
    fields
}

#[test]
fn a_stripped_a_wrong_and_an_other_type_sign_are_never_data() {
    let key = key();
    let pairs = [
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("total_fee", "1"),
    ];
    for &backend in CryptoBackend::all() {
        let read = |fields: &Fields, sign_type| {
            let body = apiv2::to_xml(fields).unwrap();
            apiv2::read_answer(body.as_bytes(), &key, sign_type, true, backend)
        };
        let good = signed(&pairs, SignType::Md5, backend);
        assert!(read(&good, SignType::Md5).is_ok());

        let mut stripped = good.clone();
        stripped.remove("sign");
        assert_eq!(
            read(&stripped, SignType::Md5),
            Err(ApiV2Error::Verification(ApiV2SignError::MissingSign))
        );
        let mut empty = good.clone();
        empty.insert("sign", "");
        assert_eq!(
            read(&empty, SignType::Md5),
            Err(ApiV2Error::Verification(ApiV2SignError::MissingSign))
        );

        let mut tampered = good.clone();
        tampered.insert("total_fee", "100");
        assert_eq!(
            read(&tampered, SignType::Md5),
            Err(ApiV2Error::Verification(ApiV2SignError::BadSign {
                sign_type: "MD5"
            }))
        );
        let mut wrong = good.clone();
        wrong.insert("sign", "0".repeat(64));
        assert_eq!(
            read(&wrong, SignType::HmacSha256),
            Err(ApiV2Error::Verification(ApiV2SignError::BadSign {
                sign_type: "HMAC-SHA256"
            }))
        );

        // Signed with MD5 where HMAC-SHA256 was asked for, and the other way round.
        assert_eq!(
            read(&good, SignType::HmacSha256),
            Err(ApiV2Error::Verification(ApiV2SignError::OtherSignType {
                expected: "HMAC-SHA256",
                found: "MD5"
            }))
        );
        let hmac = signed(&pairs, SignType::HmacSha256, backend);
        assert_eq!(
            read(&hmac, SignType::Md5),
            Err(ApiV2Error::Verification(ApiV2SignError::OtherSignType {
                expected: "MD5",
                found: "HMAC-SHA256"
            }))
        );
        // Another key is a bad sign too.
        let other = ApiV2Key::new("TESTotherkey0123456789ABCDEFGHIJ").unwrap();
        let body = apiv2::to_xml(&good).unwrap();
        assert_eq!(
            apiv2::read_answer(body.as_bytes(), &other, SignType::Md5, true, backend),
            Err(ApiV2Error::Verification(ApiV2SignError::BadSign {
                sign_type: "MD5"
            }))
        );
        // The same rules for a payment notification.
        assert_eq!(
            apiv2::read_payment_notification(
                apiv2::to_xml(&stripped).unwrap().as_bytes(),
                &key,
                SignType::Md5,
                backend
            ),
            Err(ApiV2NotificationError::Verification(
                ApiV2SignError::MissingSign
            ))
        );
        assert!(
            apiv2::read_payment_notification(
                apiv2::to_xml(&good).unwrap().as_bytes(),
                &key,
                SignType::Md5,
                backend
            )
            .is_ok()
        );
    }
}

#[test]
fn return_code_fail_is_the_platform_refusing_and_a_missing_one_is_refused() {
    let key = key();
    let backend = CryptoBackend::default();
    assert_eq!(
        apiv2::read_answer(
            "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名错误]]></return_msg></xml>".as_bytes(),
            &key,
            SignType::Md5,
            true,
            backend
        ),
        Err(ApiV2Error::Platform { return_msg: Some("签名错误".into()) })
    );
    assert_eq!(
        apiv2::read_answer(
            b"<xml><result_code>SUCCESS</result_code></xml>",
            &key,
            SignType::Md5,
            false,
            backend
        ),
        Err(ApiV2Error::MissingReturnCode)
    );
}

#[test]
fn a_req_info_that_does_not_decrypt_is_each_kind_of_error() {
    let key = key();
    let vector = vectors().req_info.remove(0);
    let envelope = |req_info: &str| {
        format!("<xml><return_code>SUCCESS</return_code><req_info>{req_info}</req_info></xml>")
    };
    let other = ApiV2Key::new("TESTotherkey0123456789ABCDEFGHIJ").unwrap();
    for &backend in CryptoBackend::all() {
        let read = |body: String, key: &ApiV2Key| {
            apiv2::read_refund_notification(body.as_bytes(), key, backend)
        };
        assert_eq!(
            read(envelope(&vector.req_info), &other),
            Err(ApiV2NotificationError::ReqInfoPadding),
            "a wrong key"
        );
        assert_eq!(
            read(envelope("not base64!"), &key),
            Err(ApiV2NotificationError::ReqInfoNotBase64)
        );
        assert_eq!(
            read(envelope("AAAA"), &key),
            Err(ApiV2NotificationError::ReqInfoDecrypt),
            "three bytes are not an AES block"
        );
        assert_eq!(
            read(envelope(""), &key),
            Err(ApiV2NotificationError::MissingReqInfo)
        );
        assert_eq!(
            read("<xml><return_code>FAIL</return_code></xml>".into(), &key),
            Err(ApiV2NotificationError::NotSuccess)
        );
        // Decrypts, but to a document that is not a flat <root>.
        let nested = key
            .encrypt_req_info(b"<root><a><b>1</b></a></root>", backend)
            .unwrap();
        assert_eq!(
            read(envelope(&nested), &key),
            Err(ApiV2NotificationError::ReqInfo(XmlError::Nested {
                field: "a".into()
            }))
        );
        let bomb = key
            .encrypt_req_info(BILLION_LAUGHS.as_bytes(), backend)
            .unwrap();
        assert!(matches!(
            read(envelope(&bomb), &key),
            Err(ApiV2NotificationError::ReqInfo(XmlError::Doctype { .. }))
        ));
    }
}

#[test]
fn the_key_is_checked_and_never_shown() {
    assert_eq!(ApiV2Key::new("").err(), Some(KeyError::ApiV2KeyLength(0)));
    assert_eq!(
        ApiV2Key::new(&"é".repeat(16)).err(),
        Some(KeyError::ApiV2KeyCharacters),
        "32 bytes, 16 characters"
    );
    assert_eq!(
        ApiV2Key::new("TESTapiv2key0123456789ABCDEFGH-_").err(),
        Some(KeyError::ApiV2KeyCharacters)
    );
    let key = key();
    assert_eq!(format!("{key:?}"), "ApiV2Key(<redacted>)");
}

#[test]
fn the_acknowledgements_are_what_the_platform_reads() {
    assert_eq!(
        apiv2::ACKNOWLEDGEMENT,
        "<xml><return_code>SUCCESS</return_code></xml>"
    );
    assert_eq!(
        apiv2::refusal("签名 <失败>"),
        "<xml><return_code>FAIL</return_code><return_msg><![CDATA[签名 <失败>]]></return_msg></xml>"
    );
    assert_eq!(
        apiv2::refusal("\u{1}"),
        "<xml><return_code>FAIL</return_code></xml>",
        "a message XML cannot carry is dropped"
    );
}

#[derive(Debug, Deserialize, PartialEq)]
struct Receiver {
    #[serde(rename = "type")]
    kind: String,
    account: String,
    amount: u64,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum TradeType {
    Jsapi,
    Native,
}

#[derive(Debug, Deserialize)]
struct Answer {
    return_code: String,
    total_fee: u32,
    cash_fee: Option<i64>,
    coupon_fee: Option<u64>,
    device_info: Option<String>,
    is_subscribe: Option<String>,
    trade_type: TradeType,
    receivers: Vec<Receiver>,
}

#[test]
fn verified_fields_decode_into_a_derived_struct() {
    let fields: Fields = [
        ("return_code", "SUCCESS"),
        ("total_fee", "888"),
        ("cash_fee", "-1"),
        ("device_info", ""),
        ("trade_type", "JSAPI"),
        ("coupon_id_0", "10000"), // a field the type does not declare is ignored
        (
            "receivers",
            r#"[{"type":"MERCHANT_ID","account":"190001001","amount":100}]"#,
        ),
    ]
    .into_iter()
    .collect();
    let answer: Answer = apiv2::from_fields(&fields).expect("decodes");
    assert_eq!(answer.return_code, "SUCCESS");
    assert_eq!(answer.total_fee, 888);
    assert_eq!(answer.cash_fee, Some(-1));
    assert_eq!(answer.coupon_fee, None, "missing");
    assert_eq!(answer.device_info, None, "empty");
    assert_eq!(answer.is_subscribe, None);
    assert_eq!(answer.trade_type, TradeType::Jsapi);
    assert_eq!(answer.receivers[0].account, "190001001");
    assert_ne!(TradeType::Native, answer.trade_type);

    let mut bad = fields.clone();
    bad.insert("total_fee", "八百");
    let error = apiv2::from_fields::<Answer>(&bad).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("total_fee"));
    assert!(!error.to_string().contains("八百"), "{error}");
    let mut missing = fields.clone();
    missing.remove("total_fee");
    let error = apiv2::from_fields::<Answer>(&missing).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("total_fee"));
    assert_eq!(error.problem, "a required field is missing");
    let mut json = fields.clone();
    json.insert("receivers", "[{\"secret\": \"张三\"");
    let error = apiv2::from_fields::<Answer>(&json).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("receivers"));
    assert!(!error.to_string().contains("张三"));
    let mut variant = fields;
    variant.insert("trade_type", "BARTER");
    assert_eq!(
        apiv2::from_fields::<Answer>(&variant).unwrap_err().problem,
        "not one of the declared values"
    );
}

fn name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,15}"
}

/// Text XML carries, carriage returns left out (XML turns a raw one into a line feed).
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,20}",
        "[^\u{0}-\u{8}\u{b}\u{c}\u{d}\u{e}-\u{1f}\u{fffe}\u{ffff}]{0,20}",
        Just("]]>".to_owned()),
        Just("a]]>b & <c>".to_owned()),
    ]
}

fn field_list() -> impl Strategy<Value = Fields> {
    proptest::collection::vec((name(), value()), 0..12)
        .prop_map(|pairs| pairs.into_iter().filter(|(n, _)| n != "sign").collect())
}

proptest! {
    #[test]
    fn parse_reads_back_what_to_xml_writes(fields in field_list()) {
        let xml = apiv2::to_xml(&fields).unwrap();
        prop_assert_eq!(apiv2::parse(xml.as_bytes()).unwrap(), fields);
    }

    #[test]
    fn what_sign_signs_verify_accepts_and_any_change_breaks(
        fields in field_list(),
        hmac in any::<bool>(),
        extra in "[a-z]{1,8}",
    ) {
        let sign_type = if hmac { SignType::HmacSha256 } else { SignType::Md5 };
        let key = key();
        for &backend in CryptoBackend::all() {
            let mut signed = fields.clone();
            signed.insert("sign", apiv2::sign(&fields, &key, sign_type, backend).unwrap());
            prop_assert_eq!(apiv2::verify(&signed, &key, sign_type, backend), Ok(()));
            let mut changed = signed.clone();
            let before = changed.get("zz_added").unwrap_or("").to_owned();
            changed.insert("zz_added", format!("{before}{extra}"));
            prop_assert!(apiv2::verify(&changed, &key, sign_type, backend).is_err());
        }
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = apiv2::parse(&bytes);
    }

    /// Documents made of the markup the parser has to judge, in any order: it answers with
    /// fields or an error, never a panic, and never with a field holding an undeclared entity.
    #[test]
    fn parse_judges_any_mix_of_markup(parts in proptest::collection::vec(prop_oneof![
        Just("<xml>"), Just("</xml>"), Just("<a>"), Just("</a>"), Just("<b/>"), Just("text"),
        Just("&lt;"), Just("&#x41;"), Just("&#0;"), Just("&e;"), Just("<![CDATA[<&]]>"),
        Just("<!-- c -->"), Just("<?pi x?>"), Just("<!DOCTYPE xml>"), Just("<?xml version=\"1.0\"?>"),
        Just(" "), Just("]]>"), Just("<"), Just("&"),
    ], 0..16)) {
        let document = parts.concat();
        if let Ok(fields) = apiv2::parse(document.as_bytes()) {
            prop_assert!(document.starts_with("<xml") || document.trim_start().starts_with('<'));
            for (_, value) in fields.iter() {
                prop_assert!(!value.contains("&e;"));
            }
            prop_assert!(!document.contains("<!DOCTYPE"));
        }
    }

    #[test]
    fn req_info_round_trips(text in "[^\u{0}]{0,80}") {
        let key = key();
        for &backend in CryptoBackend::all() {
            let req_info = key.encrypt_req_info(text.as_bytes(), backend).unwrap();
            prop_assert_eq!(&key.decrypt_req_info(&req_info, backend).unwrap()[..], text.as_bytes());
        }
    }
}
