//! The `wxpay-sandbox` binary: its first lines, its exports, and a real call with them.

use crate::common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{USER_AGENT, nonce, pem_der, send, unix_now};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_wxpay-sandbox");

/// `export NAME='value'` → (NAME, value), undoing the single-quote shell quoting.
fn parse_export(line: &str) -> (String, String) {
    let rest = line.strip_prefix("export ").expect("export line");
    let (name, quoted) = rest.split_once('=').expect("NAME=value");
    let inner = quoted
        .strip_prefix('\'')
        .and_then(|q| q.strip_suffix('\''))
        .unwrap_or_else(|| panic!("value not single-quoted: {line}"));
    (name.to_owned(), inner.replace(r"'\''", "'"))
}

#[tokio::test]
async fn with_no_flags_it_prints_where_it_listens_and_the_exports() {
    let mut child = Command::new(BIN)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let read_all = async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            let done = line.starts_with("dashboard: ");
            seen.push(line);
            if done {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), read_all)
        .await
        .expect("the banner arrives");

    let base_url = seen[0]
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {:?}", seen[0]))
        .to_owned();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    let stock = seen[1]
        .strip_prefix("stock: ")
        .expect("stock line")
        .to_owned();
    let multiuse = seen[2]
        .strip_prefix("multiuse-stock: ")
        .expect("multiuse-stock line")
        .to_owned();
    assert_eq!(
        seen.last().map(String::as_str),
        Some(format!("dashboard: {base_url}/sandbox/").as_str()),
        "the banner ends with where a person looks"
    );
    let env: HashMap<String, String> = seen[3..seen.len() - 1]
        .iter()
        .map(|l| parse_export(l))
        .collect();
    for name in [
        "WXPAY_MCHID",
        "WXPAY_MERCHANT_SERIAL",
        "WXPAY_MERCHANT_KEY",
        "WXPAY_PLATFORM_CERT",
        "WXPAY_PLATFORM_PUBLIC_KEY",
        "WXPAY_PLATFORM_PUBLIC_KEY_ID",
        "WXPAY_APIV3_KEY",
        "WXPAY_BASE_URL",
        "WXPAY_STOCK_ID",
        "WXPAY_MULTIUSE_STOCK_ID",
        "WXPAY_APPID",
        "WXPAY_OPENID",
        "WXPAY_SUB_MCHID",
    ] {
        assert!(env.contains_key(name), "{name} missing from {seen:?}");
    }
    assert_eq!(env["WXPAY_BASE_URL"], base_url);
    assert_eq!(env["WXPAY_STOCK_ID"], stock);
    assert_eq!(env["WXPAY_MULTIUSE_STOCK_ID"], multiuse);
    assert_eq!(env["WXPAY_MCHID"], "1230000109");
    assert_eq!(env["WXPAY_APIV3_KEY"].len(), 32);
    assert_eq!(env["WXPAY_MERCHANT_SERIAL"].len(), 40);

    // The exports are enough to make a verified call.
    let key_pem = std::fs::read_to_string(&env["WXPAY_MERCHANT_KEY"]).expect("merchant key file");
    let key = KeyPair::from_pkcs8(&pem_der(&key_pem)).expect("merchant key");
    let url = format!(
        "/v3/marketing/favor/stocks/{stock}?stock_creator_mchid={}",
        env["WXPAY_MCHID"]
    );
    let (ts, n) = (unix_now(), nonce());
    let mut signature = vec![0u8; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        format!("GET\n{url}\n{ts}\n{n}\n\n").as_bytes(),
        &mut signature,
    )
    .expect("sign");
    let auth = format!(
        "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{n}\",timestamp=\"{ts}\",serial_no=\"{}\",signature=\"{}\"",
        env["WXPAY_MCHID"],
        env["WXPAY_MERCHANT_SERIAL"],
        STANDARD.encode(signature)
    );
    let addr = base_url
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .expect("socket address");
    let headers = vec![
        ("Authorization".to_owned(), auth),
        ("Accept".to_owned(), "application/json".to_owned()),
        ("User-Agent".to_owned(), USER_AGENT.to_owned()),
    ];
    let reply = send(addr, "GET", &url, &headers, b"").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let public_key =
        std::fs::read_to_string(&env["WXPAY_PLATFORM_PUBLIC_KEY"]).expect("public key file");
    reply
        .verify(&pem_der(&public_key))
        .expect("signed by the platform key");
    assert_eq!(
        reply.header("Wechatpay-Serial"),
        Some(env["WXPAY_PLATFORM_PUBLIC_KEY_ID"].as_str())
    );

    // SIGTERM (to the process this test started, by its id) stops it cleanly and
    // removes the key directory.
    let key_dir = Path::new(&env["WXPAY_MERCHANT_KEY"])
        .parent()
        .expect("key dir")
        .to_owned();
    let pid = child.id().expect("running").to_string();
    let termed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .is_ok_and(|s| s.success());
    if termed {
        let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .expect("exits after SIGTERM")
            .expect("wait");
        assert!(status.success(), "{status:?}");
        assert!(!key_dir.exists(), "key directory removed on shutdown");
    } else {
        child.kill().await.expect("kill");
        let _ = std::fs::remove_dir_all(&key_dir);
    }
}

#[tokio::test]
async fn bad_flags_exit_2_and_help_exits_0() {
    for args in [
        &["--bogus"][..],
        &["--listen", "nowhere"],
        &["--apiv3-key", "short"],
        &["--apiv2-key", "short"],
        &["--https-ca", "/nonexistent/TEST-ca-cert.pem"],
        &[
            "--https-ca",
            "/nonexistent/a.pem",
            "--https-cert",
            "/nonexistent/b.pem",
            "--https-key",
            "/nonexistent/c.pem",
        ],
    ] {
        let output = Command::new(BIN).args(args).output().await.expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?}");
    }
    let output = Command::new(BIN).arg("--help").output().await.expect("run");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: wxpay-sandbox"));
}

#[tokio::test]
async fn apiv2_key_and_https_identity_from_the_command_line() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v2");
    let key = "TESTapiv2key0123456789ABCDEFGHIJ";
    let mut child = Command::new(BIN)
        .arg("--apiv2-key")
        .arg(key)
        .arg("--https-ca")
        .arg(fixtures.join("TEST-ca-cert.pem"))
        .arg("--https-cert")
        .arg(fixtures.join("TEST-server-cert.pem"))
        .arg("--https-key")
        .arg(fixtures.join("TEST-server-key.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let read_all = async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            let done = line.starts_with("dashboard: ");
            seen.push(line);
            if done {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), read_all)
        .await
        .expect("the banner arrives");
    let http = seen[0].strip_prefix("listening on ").expect("first line");
    let https = seen[1]
        .strip_prefix("https: ")
        .unwrap_or_else(|| panic!("second line: {:?}", seen[1]));
    assert!(https.starts_with("https://127.0.0.1:"), "{https}");
    assert_ne!(
        http.rsplit(':').next(),
        https.rsplit(':').next(),
        "another port"
    );
    let exported: HashMap<String, String> = seen
        .iter()
        .filter(|l| l.starts_with("export "))
        .map(|l| parse_export(l))
        .collect();
    assert_eq!(exported["WXPAY_APIV2_KEY"], key);
    // The listener speaks TLS with the TEST server certificate (the handshake and the
    // certificate operations are the APIv2 tests' and tests/interop's).
    let ca = reqwest::Certificate::from_pem(
        &std::fs::read(fixtures.join("TEST-ca-cert.pem")).expect("CA"),
    )
    .expect("PEM");
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .expect("client");
    let answer = client
        .get(format!("{https}/sandbox/operations"))
        .send()
        .await
        .expect("HTTPS answers");
    assert!(answer.status().is_success(), "{answer:?}");
    child.kill().await.expect("stop");
}
