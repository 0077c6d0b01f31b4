//! Every configuration input, good and bad: a wrong setting is an error naming it, never a
//! panic and never a late surprise.

use crate::common;

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

/// Settings an attacker (or a slip of the clipboard) would get past a looser check: each is
/// an error naming the setting, and none echoes what was refused.
#[test]
fn settings_an_attacker_would_try_are_refused() {
    for url in [
        "https://user:pass@api.mch.weixin.qq.com",
        "https://user@api.mch.weixin.qq.com",
        "https://api.mch.weixin.qq.com:99999",
        "https://api.mch.weixin.qq.com:0",
        "https://api.mch.weixin.qq.com#x",
    ] {
        let refused = error(good().base_url(url));
        assert!(
            matches!(&refused, ConfigError::Invalid { setting, .. } if setting == "base_url"),
            "{url}: {refused}"
        );
        assert!(!refused.to_string().contains("pass@"), "{refused}");
        let refused = error(good().host_base_url(wxpay_core::Host::Apihk, url));
        assert!(
            matches!(&refused, ConfigError::Invalid { setting, .. } if setting == "host_base_url(apihk)"),
            "{url}: {refused}"
        );
    }
    assert!(
        error(good().base_url("https://api.mch.weixin.qq.com:99999"))
            .to_string()
            .contains("65535")
    );
    assert!(matches!(
        error(good().backup_base_url("https://u:p@api2.wechatpay.cn")),
        ConfigError::Invalid { setting, .. } if setting == "backup_base_url"
    ));

    // 32 bytes, but 16 two-byte characters: the platform issues 32 ASCII characters.
    let two_byte = "密".repeat(11) + "é";
    assert_eq!(two_byte.len(), 35);
    let sixteen = "é".repeat(16);
    assert_eq!(sixteen.len(), 32);
    let refused = error(good().apiv3_key(sixteen.clone()));
    assert!(
        matches!(&refused, ConfigError::Key { setting, source: KeyError::ApiV3KeyCharacters } if setting == "apiv3_key"),
        "{refused}"
    );
    assert!(!refused.to_string().contains(&sixteen), "{refused}");
    let with_control = format!("{}\n", "A".repeat(31));
    assert!(matches!(
        error(good().apiv3_key(with_control)),
        ConfigError::Key {
            source: KeyError::ApiV3KeyCharacters,
            ..
        }
    ));

    for id in [
        "PUB_KEY_ID_",
        "PUB_KEY_ID_ 1",
        "PUB_KEY_ID_0114-2",
        "pub_key_id_0114",
    ] {
        assert!(
            matches!(
                error(good().platform_public_key(id, key("TEST_platform_pub.pem"))),
                ConfigError::Invalid { setting, .. } if setting == "platform_public_key"
            ),
            "{id}"
        );
    }
}

/// One client reaches every host: the platform's own base URLs by default, one base URL for
/// all (a sandbox), or one host moved on its own; backups only where the platform has one.
#[test]
fn each_host_has_a_base_url_and_one_setting_moves_them_all() {
    use wxpay_core::Host;
    let client = good().build().expect("builds");
    for host in Host::ALL {
        assert_eq!(client.base_url(host), host.default_base_url());
    }
    assert_eq!(
        client.base_url(Host::Apihk),
        "https://apihk.mch.weixin.qq.com"
    );

    let sandbox = good()
        .base_url("http://127.0.0.1:8080/")
        .build()
        .expect("builds");
    for host in Host::ALL {
        assert_eq!(sandbox.base_url(host), "http://127.0.0.1:8080");
    }

    let moved = good()
        .base_url("http://127.0.0.1:8080")
        .host_base_url(Host::Apihk, "http://127.0.0.2:9090")
        .build()
        .expect("builds");
    assert_eq!(moved.base_url(Host::Api), "http://127.0.0.1:8080");
    assert_eq!(moved.base_url(Host::Apihk), "http://127.0.0.2:9090");
    // The later setting of a host wins.
    let twice = good()
        .host_base_url(Host::Apihk, "http://127.0.0.2:1")
        .host_base_url(Host::Apihk, "http://127.0.0.2:2")
        .build()
        .expect("builds");
    assert_eq!(twice.base_url(Host::Apihk), "http://127.0.0.2:2");
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

#[test]
fn a_platform_certificate_past_its_not_after_is_refused_at_build() {
    let config = config();
    let expired = Client::builder()
        .mchid(s(&config, "mchid"))
        .merchant_key(s(&config, "merchant_serial"), key("TEST_merchant_key.pem"))
        .platform_certificate(key("TEST_expired_platform_cert.pem"))
        .apiv3_key(s(&config, "apiv3_key"));
    match error(expired) {
        ConfigError::Invalid { setting, reason } => {
            assert_eq!(setting, "platform_certificate");
            assert!(reason.contains("expired"), "{reason}");
            assert!(
                reason.contains("7E57E8A11ED0000000000000000000000000000F"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The fixtures every other test uses are valid for years.
    assert!(good().build().is_ok());
}

// `from_env` reads the process environment, which tests in one process share: each case runs
// in a child process (this test binary again, running only `from_env_child`) with its own
// variables.

const CHILD: &str = "WXPAY_TEST_FROM_ENV_CHILD";

#[test]
#[ignore = "run by from_env_in_child with its own environment"]
fn from_env_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    match wxpay_core::ClientBuilder::from_env().and_then(wxpay_core::ClientBuilder::build) {
        Ok(client) => println!("<<OK {}>>", client.platform_keys().len()),
        Err(error) => println!("<<ERR {error}\n{error:?}>>"),
    }
}

/// What `from_env().build()` says with exactly `vars` as the `WXPAY_*` environment.
fn from_env_in_child(vars: &[(&str, String)]) -> String {
    let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
    command.args([
        "config::from_env_child",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (name, _) in std::env::vars() {
        if name.starts_with("WXPAY_") {
            command.env_remove(name);
        }
    }
    command.env(CHILD, "1");
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let start = stdout.find("<<").expect("the child reports");
    let end = stdout.rfind(">>").expect("the child reports");
    stdout[start + 2..end].to_owned()
}

fn fixture_path(name: &str) -> String {
    format!(
        "{}/../tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn env_with(
    merchant_key: String,
    platform: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    let config = config();
    let mut vars = vec![
        ("WXPAY_MCHID", s(&config, "mchid").to_owned()),
        (
            "WXPAY_MERCHANT_SERIAL",
            s(&config, "merchant_serial").to_owned(),
        ),
        ("WXPAY_MERCHANT_KEY", merchant_key),
    ];
    vars.extend_from_slice(platform);
    vars
}

#[test]
fn key_variables_take_inline_pem_as_well_as_paths() {
    let config = config();
    let public_key = [
        (
            "WXPAY_PLATFORM_PUBLIC_KEY_ID",
            s(&config, "platform_public_key_id").to_owned(),
        ),
        ("WXPAY_PLATFORM_PUBLIC_KEY", key("TEST_platform_pub.pem")),
    ];
    assert_eq!(
        from_env_in_child(&env_with(key("TEST_merchant_key.pem"), &public_key)),
        "OK 1"
    );
    let paths = [
        (
            "WXPAY_PLATFORM_PUBLIC_KEY_ID",
            s(&config, "platform_public_key_id").to_owned(),
        ),
        (
            "WXPAY_PLATFORM_PUBLIC_KEY",
            fixture_path("TEST_platform_pub.pem"),
        ),
    ];
    assert_eq!(
        from_env_in_child(&env_with(fixture_path("TEST_merchant_key.pem"), &paths)),
        "OK 1"
    );
    // Inline certificates: one, or several blocks in one value.
    let two_certificates = format!(
        "{}{}",
        key("TEST_platform_cert.pem"),
        key("TEST_expired_platform_cert.pem")
    );
    let certificate = [("WXPAY_PLATFORM_CERT", key("TEST_platform_cert.pem"))];
    assert_eq!(
        from_env_in_child(&env_with(key("TEST_merchant_key.pem"), &certificate)),
        "OK 1"
    );
    let certificates = [("WXPAY_PLATFORM_CERT", two_certificates)];
    // Both blocks are read: the second is the expired fixture, which the build names.
    let report = from_env_in_child(&env_with(key("TEST_merchant_key.pem"), &certificates));
    assert!(report.starts_with("ERR WXPAY_PLATFORM_CERT"), "{report}");
    assert!(
        report.contains("7E57E8A11ED0000000000000000000000000000F"),
        "{report}"
    );
    // Secret managers and env files often write newlines as `\n`.
    let escaped = key("TEST_merchant_key.pem").trim_end().replace('\n', "\\n");
    assert_eq!(from_env_in_child(&env_with(escaped, &certificate)), "OK 1");
}

#[test]
fn a_key_variable_is_never_echoed_in_an_error() {
    let certificate = [(
        "WXPAY_PLATFORM_CERT",
        fixture_path("TEST_platform_cert.pem"),
    )];
    let pem = key("TEST_merchant_key.pem");
    let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let cases = [
        // The key's base64 without its armour: not PEM, so taken for a path.
        body.join("\n"),
        // PEM with something in front of it, as a copy and paste may leave.
        format!("key: {pem}"),
        // A PEM that is cut off.
        pem[..pem.len() / 2].to_owned(),
        // PEM of the wrong kind.
        key("TEST_platform_cert.pem"),
    ];
    for value in cases {
        let report = from_env_in_child(&env_with(value.clone(), &certificate));
        assert!(report.starts_with("ERR WXPAY_MERCHANT_KEY"), "{report}");
        for line in value.lines().filter(|l| l.len() >= 16) {
            assert!(!report.contains(line), "the value leaked: {report}");
            assert!(!report.contains(&line[..16]), "the value leaked: {report}");
        }
    }
    // Platform key variables follow the same rule.
    let public = key("TEST_platform_pub.pem");
    let broken = [
        (
            "WXPAY_PLATFORM_PUBLIC_KEY_ID",
            "PUB_KEY_ID_0112300001092025110100000000".to_owned(),
        ),
        (
            "WXPAY_PLATFORM_PUBLIC_KEY",
            public.lines().nth(1).expect("body").to_owned(),
        ),
    ];
    let report = from_env_in_child(&env_with(fixture_path("TEST_merchant_key.pem"), &broken));
    assert!(
        report.starts_with("ERR WXPAY_PLATFORM_PUBLIC_KEY"),
        "{report}"
    );
    assert!(
        !report.contains(&public.lines().nth(1).expect("body")[..16]),
        "{report}"
    );
}
