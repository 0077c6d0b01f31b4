//! Every configuration input, good and bad: a wrong setting is an error naming it, never a
//! panic and never a late surprise.

mod common;

use common::{config, key, s};
use wxpay_core::{Client, ConfigError, KeyError};

fn good() -> wxpay_core::ClientBuilder {
    let config = config();
    Client::builder()
        .mchid(s(&config, "mchid"))
        .merchant_key(s(&config, "merchant_serial"), key("TEST_merchant_key.pem"))
        .platform_certificate(key("TEST_platform_cert.pem"))
        .platform_public_key(
            s(&config, "platform_public_key_id"),
            key("TEST_platform_pub.pem"),
        )
        .apiv3_key(s(&config, "apiv3_key"))
}

fn error(builder: wxpay_core::ClientBuilder) -> ConfigError {
    builder.build().expect_err("configuration must be rejected")
}

#[test]
fn a_complete_configuration_builds_in_every_key_mode() {
    let config = config();
    assert!(good().build().is_ok());
    let pkcs1 = good().merchant_key(
        s(&config, "merchant_serial"),
        key("TEST_merchant_key.pkcs1.pem"),
    );
    assert!(pkcs1.build().is_ok());
    let certificate_only = Client::builder()
        .mchid(s(&config, "mchid"))
        .merchant_key(s(&config, "merchant_serial"), key("TEST_merchant_key.pem"))
        .platform_certificate(key("TEST_platform_cert.pem"));
    let client = certificate_only.build().expect("certificate mode");
    assert_eq!(client.platform_keys().len(), 1);
    assert_eq!(client.mchid(), s(&config, "mchid"));
}

#[test]
fn garbage_pem_names_the_setting() {
    let config = config();
    for garbage in [
        "",
        "hello",
        "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
    ] {
        match error(good().merchant_key(s(&config, "merchant_serial"), garbage)) {
            ConfigError::Key { setting, .. } => assert_eq!(setting, "merchant_key"),
            other => panic!("{other:?}"),
        }
    }
    match error(good().platform_certificate("not a certificate")) {
        ConfigError::Key { setting, .. } => assert_eq!(setting, "platform_certificate"),
        other => panic!("{other:?}"),
    }
    match error(good().platform_public_key(s(&config, "platform_public_key_id"), "garbage")) {
        ConfigError::Key { setting, .. } => assert_eq!(setting, "platform_public_key"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_wrong_kind_of_key_is_rejected() {
    let config = config();
    // The merchant certificate where the private key belongs: a classic mix-up.
    match error(good().merchant_key(s(&config, "merchant_serial"), key("TEST_merchant_cert.pem"))) {
        ConfigError::Key {
            source: KeyError::WrongKind { .. },
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    // A private key where the platform public key belongs.
    match error(good().platform_public_key(
        s(&config, "platform_public_key_id"),
        key("TEST_platform_key.pem"),
    )) {
        ConfigError::Key {
            source: KeyError::WrongKind { .. },
            ..
        } => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn apiv3_keys_of_the_wrong_length_are_rejected() {
    for (text, len) in [
        ("TESTapiv3key0123456789ABCDEFGHI", 31),
        ("TESTapiv3key0123456789ABCDEFGHIJK", 33),
    ] {
        match error(good().apiv3_key(text)) {
            ConfigError::Key {
                setting,
                source: KeyError::ApiV3KeyLength(n),
            } => {
                assert_eq!(setting, "apiv3_key");
                assert_eq!(n, len);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn the_merchant_certificate_configured_as_a_platform_certificate_is_a_configuration_error() {
    let err = error(good().platform_certificate(key("TEST_merchant_cert.pem")));
    match &err {
        ConfigError::Invalid { setting, reason } => {
            assert_eq!(setting, "platform_certificate");
            assert!(reason.contains("merchant"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_and_malformed_settings_are_named() {
    let config = config();
    let no_mchid = Client::builder()
        .merchant_key(s(&config, "merchant_serial"), key("TEST_merchant_key.pem"))
        .platform_certificate(key("TEST_platform_cert.pem"));
    assert!(matches!(error(no_mchid), ConfigError::Missing { setting } if setting == "mchid"));

    let no_platform = Client::builder()
        .mchid("1230000109")
        .merchant_key(s(&config, "merchant_serial"), key("TEST_merchant_key.pem"));
    assert!(matches!(error(no_platform), ConfigError::Missing { .. }));

    assert!(
        matches!(error(good().mchid("12a")), ConfigError::Invalid { setting, .. } if setting == "mchid")
    );
    assert!(matches!(
        error(good().merchant_key("not-hex", key("TEST_merchant_key.pem"))),
        ConfigError::Key { setting, source: KeyError::Malformed { .. } } if setting == "merchant_key"
    ));
    assert!(matches!(
        error(good().platform_public_key("1234", key("TEST_platform_pub.pem"))),
        ConfigError::Invalid { setting, .. } if setting == "platform_public_key"
    ));
    for url in [
        "api.mch.weixin.qq.com",
        "ftp://x",
        "https://x/v3",
        "https://x?y=1",
        "::",
    ] {
        assert!(
            matches!(error(good().base_url(url)), ConfigError::Invalid { ref setting, .. } if setting == "base_url"),
            "{url}"
        );
    }
    assert!(good().base_url("http://127.0.0.1:8080/").build().is_ok());
}

#[test]
fn no_debug_output_shows_a_secret() {
    let config = config();
    let builder = good();
    let client = good().build().expect("builds");
    let private_body: String = key("TEST_merchant_key.pem")
        .lines()
        .nth(1)
        .expect("body line")
        .to_owned();
    for text in [format!("{builder:?}"), format!("{client:?}")] {
        assert!(!text.contains(&private_body), "{text}");
        assert!(!text.contains(s(&config, "apiv3_key")), "{text}");
        assert!(text.contains("1230000109"), "{text}");
    }
}
