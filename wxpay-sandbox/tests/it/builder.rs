//! Starting the sandbox with keys and ids chosen by the caller, and refusing
//! contradictory settings.

use crate::common;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use common::{Merchant, aead_open, certificate_facts, pem_der};
use wxpay_sandbox::{KeyMode, Sandbox, SandboxError};
use x509_cert::der::pem::{LineEnding, encode_string};
use x509_cert::der::{Any, Decode};

/// A key made by the test, with its PEM forms.
struct TestKey {
    pkcs8_pem: String,
    pkcs1_pem: String,
    public_pem: String,
    spki: Vec<u8>,
}

fn test_key() -> TestKey {
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("generate");
    let pkcs8 = pair.as_der().expect("pkcs8").as_ref().to_vec();
    // PKCS#8 is SEQUENCE { version, algorithm, OCTET STRING { PKCS#1 } }.
    let parts = Vec::<Any>::from_der(&pkcs8).expect("PKCS#8 sequence");
    let pkcs1 = parts[2].value().to_vec();
    let spki = pair.public_key().as_der().expect("spki").as_ref().to_vec();
    TestKey {
        pkcs8_pem: encode_string("PRIVATE KEY", LineEnding::LF, &pkcs8).expect("pem"),
        pkcs1_pem: encode_string("RSA PRIVATE KEY", LineEnding::CRLF, &pkcs1).expect("pem"),
        public_pem: encode_string("PUBLIC KEY", LineEnding::LF, &spki).expect("pem"),
        spki,
    }
}

fn certificate(key: &TestKey, serial: &[u8], name: &str) -> String {
    let signer = rcgen::KeyPair::try_from(pem_der(&key.pkcs8_pem).as_slice()).expect("rcgen key");
    let mut params = rcgen::CertificateParams::default();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(serial));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.self_signed(&signer).expect("certificate").pem()
}

const MERCHANT_SERIAL: [u8; 20] = [
    0x05, 0x15, 0x7F, 0x09, 0xEF, 0xDC, 0x09, 0x6D, 0xE1, 0x5E, 0xBE, 0x81, 0xA4, 0x70, 0x57, 0xA7,
    0x23, 0x2F, 0x1B, 0x8E,
];
const PLATFORM_SERIAL: [u8; 20] = [
    0x0A, 0xDD, 0xE5, 0x5A, 0xD9, 0x8E, 0xD7, 0x1D, 0x6E, 0xDD, 0x4A, 0x4A, 0x16, 0x99, 0x6D, 0xE7,
    0xB4, 0x77, 0x73, 0xA8,
];
const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0112300001092024110100000000000000000001";
const APIV3_KEY: &str = "0123456789abcdefghijABCDEFGHIJ!?";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[tokio::test]
async fn supplied_keys_and_ids_are_used() {
    let merchant_key = test_key();
    let platform_key = test_key();
    let merchant_cert = certificate(&merchant_key, &MERCHANT_SERIAL, "1900000001");
    let platform_cert = certificate(&platform_key, &PLATFORM_SERIAL, "Tenpay.com Root CA");
    let sandbox = Sandbox::builder()
        .mchid("1900000001")
        .merchant_certificate_pem(merchant_cert.clone())
        .platform_key_pem(platform_key.pkcs1_pem.clone())
        .platform_certificate_pem(platform_cert.clone())
        .public_key_id(PUBLIC_KEY_ID)
        .apiv3_key(APIV3_KEY)
        .favor_stock("98065001")
        .multiuse_stock("98065002")
        .start()
        .await
        .expect("start");
    assert_eq!(sandbox.key_mode(), KeyMode::Both);
    let settings = sandbox.merchant();
    assert_eq!(settings.mchid, "1900000001");
    assert_eq!(settings.merchant_serial, hex(&MERCHANT_SERIAL));
    assert!(settings.merchant_private_key_pem.is_none());
    assert_eq!(settings.platform_serial, PUBLIC_KEY_ID);
    assert_eq!(settings.public_key_id.as_deref(), Some(PUBLIC_KEY_ID));
    assert_eq!(
        settings.platform_certificate_serial.as_deref(),
        Some(hex(&PLATFORM_SERIAL).as_str())
    );
    assert_eq!(
        pem_der(settings.platform_public_key_pem.as_deref().expect("pem")),
        platform_key.spki
    );
    assert_eq!(settings.apiv3_key.expose(), APIV3_KEY);
    assert_eq!(sandbox.favor_stock_ids(), ["98065001"]);
    assert_eq!(sandbox.multiuse_stock_ids(), ["98065002"]);

    let merchant = Merchant::with_key(&sandbox, &merchant_key.pkcs8_pem);
    let reply = merchant.verified("GET", "/v3/certificates", "", &[]).await;
    reply
        .verify(&platform_key.spki)
        .expect("signed with the supplied platform key");
    let entry = &reply.json()["data"][0];
    assert_eq!(entry["serial_no"], hex(&PLATFORM_SERIAL));
    let encrypted = &entry["encrypt_certificate"];
    let pem = aead_open(
        APIV3_KEY,
        encrypted["nonce"].as_str().expect("nonce"),
        "certificate",
        encrypted["ciphertext"].as_str().expect("ciphertext"),
    )
    .expect("opens with the supplied APIv3 key");
    let (spki, serial) = certificate_facts(&String::from_utf8(pem).expect("utf-8"));
    assert_eq!(
        (spki, serial),
        (platform_key.spki.clone(), hex(&PLATFORM_SERIAL))
    );

    let url = "/v3/marketing/favor/stocks/98065001?stock_creator_mchid=1900000001";
    assert_eq!(merchant.verified("GET", url, "", &[]).await.status, 200);
}

#[tokio::test]
async fn a_merchant_public_key_and_a_public_key_only_platform() {
    let merchant_key = test_key();
    let platform_key = test_key();
    let sandbox = Sandbox::builder()
        .merchant_public_key_pem(merchant_key.public_pem.clone())
        .merchant_serial(hex(&MERCHANT_SERIAL))
        .platform_key_pem(platform_key.pkcs8_pem.clone())
        .public_key_id(PUBLIC_KEY_ID)
        .start()
        .await
        .expect("start");
    assert_eq!(sandbox.key_mode(), KeyMode::PublicKey);
    assert!(sandbox.merchant().platform_certificate_pem.is_none());
    let merchant = Merchant::with_key(&sandbox, &merchant_key.pkcs8_pem);
    let reply = merchant.verified("GET", "/v3/certificates", "", &[]).await;
    assert_eq!(reply.status, 404);
    reply
        .verify(&platform_key.spki)
        .expect("signed with the supplied platform key");
}

#[tokio::test]
async fn generated_merchant_certificate_takes_a_chosen_serial() {
    let sandbox = Sandbox::builder()
        .merchant_serial("0123456789ABCDEF0123456789ABCDEF01234567")
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("start");
    let settings = sandbox.merchant();
    assert_eq!(
        settings.merchant_serial,
        "0123456789ABCDEF0123456789ABCDEF01234567"
    );
    let (_, serial) =
        certificate_facts(settings.merchant_certificate_pem.as_deref().expect("cert"));
    assert_eq!(serial, settings.merchant_serial);
    assert!(settings.public_key_id.is_none() && settings.platform_public_key_pem.is_none());
    let merchant = Merchant::of(&sandbox);
    assert_eq!(
        merchant
            .verified("GET", "/v3/certificates", "", &[])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn contradictory_or_broken_settings_are_refused() {
    let key = test_key();
    let other = test_key();
    let cert = certificate(&key, &PLATFORM_SERIAL, "platform");
    let merchant_cert = certificate(&other, &MERCHANT_SERIAL, "merchant");
    let config_errors = [
        ("apiv3 key too short", Sandbox::builder().apiv3_key("short")),
        (
            "bad public key id",
            Sandbox::builder().public_key_id("KEY_1"),
        ),
        (
            "cert without key",
            Sandbox::builder().platform_certificate_pem(cert.clone()),
        ),
        (
            "cert of another key",
            Sandbox::builder()
                .platform_key_pem(other.pkcs8_pem.clone())
                .platform_certificate_pem(cert.clone()),
        ),
        (
            "merchant public key without serial",
            Sandbox::builder().merchant_public_key_pem(key.public_pem.clone()),
        ),
        (
            "merchant cert and public key",
            Sandbox::builder()
                .merchant_certificate_pem(merchant_cert.clone())
                .merchant_public_key_pem(key.public_pem.clone())
                .merchant_serial("01"),
        ),
        (
            "serial not the certificate's",
            Sandbox::builder()
                .merchant_certificate_pem(merchant_cert.clone())
                .merchant_serial("0123"),
        ),
        (
            "certificate mode with a public key id",
            Sandbox::builder()
                .key_mode(KeyMode::Certificate)
                .public_key_id(PUBLIC_KEY_ID),
        ),
        (
            "public key mode with a certificate",
            Sandbox::builder()
                .key_mode(KeyMode::PublicKey)
                .platform_key_pem(key.pkcs8_pem.clone())
                .platform_certificate_pem(cert.clone()),
        ),
        ("serial not hex", Sandbox::builder().merchant_serial("XYZ")),
        (
            "duplicate stock",
            Sandbox::builder().favor_stock("1").multiuse_stock("1"),
        ),
        ("empty mchid", Sandbox::builder().mchid("")),
        (
            "merchant key as platform key",
            Sandbox::builder()
                .merchant_certificate_pem(cert.clone())
                .platform_key_pem(key.pkcs8_pem.clone())
                .platform_certificate_pem(cert.clone()),
        ),
    ];
    for (what, builder) in config_errors {
        match builder.start().await {
            Err(SandboxError::Config(message)) => assert!(!message.is_empty()),
            other => panic!("{what}: expected a configuration error, got {other:?}"),
        }
    }
    let key_errors = [
        Sandbox::builder().platform_key_pem("not a key"),
        Sandbox::builder().platform_key_pem(key.public_pem.clone()),
        Sandbox::builder().merchant_certificate_pem(key.pkcs8_pem.clone()),
        Sandbox::builder()
            .merchant_public_key_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
            .merchant_serial("01"),
    ];
    for builder in key_errors {
        assert!(
            matches!(builder.start().await, Err(SandboxError::Key(_))),
            "expected a key error"
        );
    }
    let taken = Sandbox::start().await.expect("start");
    let clash = Sandbox::builder().listen(taken.local_addr()).start().await;
    assert!(matches!(clash, Err(SandboxError::Io(_))), "{clash:?}");
}

#[tokio::test]
async fn settings_keep_secrets_out_of_debug_and_write_env_files() {
    let sandbox = Sandbox::start().await.expect("start");
    let settings = sandbox.merchant();
    let debug = format!("{sandbox:?}");
    assert!(debug.contains("<redacted>"));
    assert!(!debug.contains(settings.apiv3_key.expose()));
    assert!(!debug.contains("PRIVATE KEY"));

    let dir = std::env::temp_dir().join(format!("wxpay-sandbox-env-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let env = sandbox.to_env(&dir).expect("to_env");
    let get = |name: &str| {
        env.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} missing from {env:?}"))
    };
    assert_eq!(get("WXPAY_MCHID"), "1230000109");
    assert_eq!(get("WXPAY_MERCHANT_SERIAL"), settings.merchant_serial);
    assert_eq!(get("WXPAY_APIV3_KEY"), settings.apiv3_key.expose());
    assert_eq!(get("WXPAY_BASE_URL"), sandbox.base_url());
    assert_eq!(get("WXPAY_STOCK_ID"), sandbox.favor_stock_ids()[0]);
    assert_eq!(
        get("WXPAY_MULTIUSE_STOCK_ID"),
        sandbox.multiuse_stock_ids()[0]
    );
    assert_eq!(get("WXPAY_APPID"), wxpay_sandbox::SANDBOX_APPID);
    assert_eq!(get("WXPAY_OPENID"), wxpay_sandbox::SANDBOX_OPENID);
    assert_eq!(get("WXPAY_SUB_MCHID"), wxpay_sandbox::SANDBOX_SUB_MCHID);
    assert_eq!(
        get("WXPAY_PLATFORM_PUBLIC_KEY_ID"),
        settings.public_key_id.clone().expect("id")
    );
    let key_file = std::fs::read_to_string(get("WXPAY_MERCHANT_KEY")).expect("key file");
    assert_eq!(
        Some(key_file.as_str()),
        settings
            .merchant_private_key_pem
            .as_ref()
            .map(|k| k.expose())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(get("WXPAY_MERCHANT_KEY"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the private key is private");
    }
    let cert_file = std::fs::read_to_string(get("WXPAY_PLATFORM_CERT")).expect("cert file");
    assert_eq!(
        Some(cert_file.as_str()),
        settings.platform_certificate_pem.as_deref()
    );
    let public_file = std::fs::read_to_string(get("WXPAY_PLATFORM_PUBLIC_KEY")).expect("pk file");
    assert_eq!(
        Some(public_file.as_str()),
        settings.platform_public_key_pem.as_deref()
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
