//! Platform certificate rotation: the list, who signs what and when, expiry, the test
//! hooks on `/v3/certificates`, and the control endpoint.
//!
//! Timing: the sandbox times rotations on tokio's clock, so the tests that wait for an
//! overlap to end run with paused time and jump there: no wall-clock sleep, no margin a
//! slow machine can eat. Every assertion about "after the overlap" or "after it expired"
//! is made just past that point, measured from when `rotate_platform_certificate`
//! returned (the rotation happened before). Assertions about "still within the overlap"
//! use overlaps of minutes. No test measures how long anything takes.

use crate::common;

use std::time::Duration;

use common::{Merchant, Reply, aead_open, certificate_facts, encrypt_field, send};
use serde_json::json;
use tokio::time::{Instant, sleep_until};
use wxpay_sandbox::{KeyMode, SANDBOX_APPID, Sandbox, SandboxError};

const LONG: Duration = Duration::from_secs(600);
const SHORT: Duration = Duration::from_millis(300);
/// Just past a deadline, on the paused clock.
const PAST: Duration = Duration::from_millis(1);
const MULTIUSE_URL: &str = "/v3/multiuse/users/oUpF8uMuAJO_M2pxb1Q9zNjWeS6o/coupons";

async fn certificate_sandbox() -> Sandbox {
    Sandbox::builder()
        .key_mode(KeyMode::Certificate)
        .start()
        .await
        .expect("start")
}

/// A certificate as a client learns it from a download.
#[derive(Debug, Clone)]
struct Learned {
    serial: String,
    spki: Vec<u8>,
}

/// `GET /v3/certificates`, every entry decrypted with the APIv3 key and checked
/// against its `serial_no`.
async fn download(sandbox: &Sandbox, merchant: &Merchant) -> (Reply, Vec<Learned>) {
    let reply = merchant.call("GET", "/v3/certificates", "").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = reply.json();
    let apiv3_key = sandbox.merchant().apiv3_key.expose().to_owned();
    let learned = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|entry| {
            let encrypted = &entry["encrypt_certificate"];
            let pem = aead_open(
                &apiv3_key,
                encrypted["nonce"].as_str().expect("nonce"),
                encrypted["associated_data"].as_str().expect("aad"),
                encrypted["ciphertext"].as_str().expect("ciphertext"),
            )
            .expect("decrypts with the APIv3 key");
            let pem = String::from_utf8(pem).expect("PEM");
            let (spki, serial) = certificate_facts(&pem);
            assert_eq!(
                entry["serial_no"],
                serial.as_str(),
                "serial_no is the certificate's"
            );
            assert_eq!(serial.len(), 40, "{serial}");
            assert!(serial.starts_with('0'), "{serial}");
            Learned { serial, spki }
        })
        .collect();
    (reply, learned)
}

fn serials(learned: &[Learned]) -> Vec<String> {
    learned.iter().map(|l| l.serial.clone()).collect()
}

/// Asserts `reply` is signed by `signer`, named in `Wechatpay-Serial`.
fn assert_signed_by(reply: &Reply, signer: &Learned) {
    assert_eq!(
        reply.header("Wechatpay-Serial"),
        Some(signer.serial.as_str()),
        "{reply:?}"
    );
    reply
        .verify(&signer.spki)
        .unwrap_or_else(|e| panic!("not signed by {}: {e}", signer.serial));
}

/// A signed call to an ordinary API (the favor stock query).
async fn ordinary_call(sandbox: &Sandbox, merchant: &Merchant) -> Reply {
    let url = format!(
        "/v3/marketing/favor/stocks/{}?stock_creator_mchid={}",
        sandbox.favor_stock_ids()[0],
        merchant.mchid
    );
    let reply = merchant.call("GET", &url, "").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply
}

/// Issues a multiuse coupon with the identity encrypted for `key`, naming `serial`.
async fn encrypted_call(
    sandbox: &Sandbox,
    merchant: &Merchant,
    serial: &str,
    key: &[u8],
    out_request_no: &str,
) -> Reply {
    let body = json!({
        "stock_id": sandbox.multiuse_stock_ids()[0],
        "out_request_no": out_request_no,
        "user_name": encrypt_field(key, "张三"),
        "id_card_number": encrypt_field(key, "110101199003070000"),
        "amount": 10000,
        "appid": SANDBOX_APPID,
        "card_type": "ID_CARD",
    })
    .to_string();
    merchant
        .call_with("POST", MULTIUSE_URL, &body, &[("Wechatpay-Serial", serial)])
        .await
}

#[tokio::test]
async fn a_new_certificate_is_listed_at_once_and_signs_only_after_the_overlap() {
    let sandbox = certificate_sandbox().await;
    let merchant = Merchant::of(&sandbox);
    let (_, before) = download(&sandbox, &merchant).await;
    assert_eq!(before.len(), 1);
    let old = before[0].clone();
    assert_eq!(sandbox.platform_certificates(), [old.serial.as_str()]);
    assert_eq!(sandbox.response_serial(), old.serial);

    let new_serial = sandbox.rotate_platform_certificate(LONG).expect("rotate");
    assert_ne!(new_serial, old.serial);
    assert_eq!(new_serial.len(), 40);
    assert!(new_serial.starts_with('0'), "{new_serial}");
    assert_eq!(
        sandbox.platform_certificates(),
        [old.serial.clone(), new_serial.clone()]
    );

    // Both listed, both decrypt to certificates with the listed serials; the
    // download is signed with the oldest.
    let (reply, learned) = download(&sandbox, &merchant).await;
    assert_eq!(serials(&learned), [old.serial.clone(), new_serial.clone()]);
    assert_eq!(learned[0].spki, old.spki);
    assert_ne!(
        learned[1].spki, old.spki,
        "a new key, not a new serial only"
    );
    assert_signed_by(&reply, &old);
    let new = learned[1].clone();

    // Within the overlap, responses stay with the old key.
    assert_eq!(sandbox.response_serial(), old.serial);
    assert_signed_by(&ordinary_call(&sandbox, &merchant).await, &old);

    // Both serials are accepted for encrypted fields, each with its own key only.
    let reply = encrypted_call(&sandbox, &merchant, &new.serial, &new.spki, "r-new").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_signed_by(&reply, &old);
    let reply = encrypted_call(&sandbox, &merchant, &old.serial, &old.spki, "r-old").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = encrypted_call(&sandbox, &merchant, &old.serial, &new.spki, "r-mixed").await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.code(), "PARAM_ERROR");
    sandbox.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn after_the_overlap_the_new_key_signs_and_after_twice_it_the_old_one_expires() {
    let sandbox = certificate_sandbox().await;
    let merchant = Merchant::of(&sandbox);
    let (_, before) = download(&sandbox, &merchant).await;
    let old = before[0].clone();

    let new_serial = sandbox.rotate_platform_certificate(SHORT).expect("rotate");
    let rotated = Instant::now();
    let (_, learned) = download(&sandbox, &merchant).await;
    let new = learned
        .iter()
        .find(|l| l.serial == new_serial)
        .expect("the new certificate is listed")
        .clone();

    sleep_until(rotated + SHORT + PAST).await;
    assert_eq!(sandbox.response_serial(), new.serial);
    assert_signed_by(&ordinary_call(&sandbox, &merchant).await, &new);

    sleep_until(rotated + 2 * SHORT + PAST).await;
    assert_eq!(sandbox.platform_certificates(), [new.serial.as_str()]);
    let (reply, learned) = download(&sandbox, &merchant).await;
    assert_eq!(serials(&learned), [new.serial.as_str()]);
    // The oldest listed certificate is now the new one.
    assert_signed_by(&reply, &new);
    // The expired serial is refused, even with a ciphertext its key could open.
    let reply = encrypted_call(&sandbox, &merchant, &old.serial, &old.spki, "r-1").await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.code(), "PARAM_ERROR");
    assert_signed_by(&reply, &new);
    let reply = encrypted_call(&sandbox, &merchant, &new.serial, &new.spki, "r-2").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_signed_by(&reply, &new);
    sandbox.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn overlapping_rotations_keep_the_same_rules() {
    let sandbox = certificate_sandbox().await;
    let merchant = Merchant::of(&sandbox);
    let (_, before) = download(&sandbox, &merchant).await;
    let first = before[0].clone();

    // A slow rotation, then a fast one before the first is over.
    let second_serial = sandbox.rotate_platform_certificate(LONG).expect("rotate");
    let third_serial = sandbox.rotate_platform_certificate(SHORT).expect("rotate");
    let rotated = Instant::now();
    assert_eq!(
        sandbox.platform_certificates(),
        [
            first.serial.clone(),
            second_serial.clone(),
            third_serial.clone()
        ]
    );
    let (reply, learned) = download(&sandbox, &merchant).await;
    assert_eq!(
        serials(&learned),
        [
            first.serial.clone(),
            second_serial.clone(),
            third_serial.clone()
        ]
    );
    assert_signed_by(&reply, &first);
    let third = learned[2].clone();

    // The third signs once its own overlap is over; the download is still signed
    // with the first, the oldest listed. The second (replaced by the third) expires
    // after twice the third's overlap.
    sleep_until(rotated + 2 * SHORT + PAST).await;
    assert_eq!(sandbox.response_serial(), third.serial);
    assert_signed_by(&ordinary_call(&sandbox, &merchant).await, &third);
    assert_eq!(
        sandbox.platform_certificates(),
        [first.serial.clone(), third.serial.clone()]
    );
    let (reply, learned) = download(&sandbox, &merchant).await;
    assert_eq!(serials(&learned), [first.serial.clone(), third.serial]);
    assert_signed_by(&reply, &first);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn failing_downloads_answer_a_signed_system_error() {
    let sandbox = certificate_sandbox().await;
    let merchant = Merchant::of(&sandbox);
    let (_, learned) = download(&sandbox, &merchant).await;
    let platform = learned[0].clone();
    assert_eq!(sandbox.certificate_downloads(), 1);

    sandbox.fail_certificate_downloads(true);
    let reply = merchant.call("GET", "/v3/certificates", "").await;
    assert_eq!(reply.status, 500, "{reply:?}");
    assert_eq!(reply.code(), "SYSTEM_ERROR");
    assert_signed_by(&reply, &platform);
    assert_eq!(sandbox.certificate_downloads(), 2);
    // Other APIs are unaffected.
    assert_signed_by(&ordinary_call(&sandbox, &merchant).await, &platform);

    sandbox.fail_certificate_downloads(false);
    let (reply, _) = download(&sandbox, &merchant).await;
    assert_signed_by(&reply, &platform);
    assert_eq!(sandbox.certificate_downloads(), 3);

    // Only requests that pass authentication count.
    let unsigned = send(
        merchant.addr,
        "GET",
        "/v3/certificates",
        &[("User-Agent".to_owned(), common::USER_AGENT.to_owned())],
        b"",
    )
    .await;
    assert_eq!(unsigned.status, 401, "{unsigned:?}");
    assert_eq!(sandbox.certificate_downloads(), 3);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn forged_downloads_carry_the_newest_serial_and_verify_with_no_known_key() {
    let sandbox = certificate_sandbox().await;
    let merchant = Merchant::of(&sandbox);
    let new_serial = sandbox.rotate_platform_certificate(LONG).expect("rotate");
    let (reply, known) = download(&sandbox, &merchant).await;
    assert_signed_by(&reply, &known[0]);

    sandbox.sign_certificate_downloads_with_unknown_key(true);
    let reply = merchant.call("GET", "/v3/certificates", "").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("Wechatpay-Serial"), Some(new_serial.as_str()));
    for key in &known {
        assert!(
            reply.verify(&key.spki).is_err(),
            "a forged download verified with {}",
            key.serial
        );
    }
    // The body itself is the genuine list: only the signature is forged.
    assert_eq!(reply.json()["data"].as_array().map(Vec::len), Some(2));
    // Other answers are still genuine.
    assert_signed_by(&ordinary_call(&sandbox, &merchant).await, &known[0]);

    sandbox.sign_certificate_downloads_with_unknown_key(false);
    let (reply, _) = download(&sandbox, &merchant).await;
    assert_signed_by(&reply, &known[0]);
    assert_eq!(sandbox.certificate_downloads(), 3);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn only_the_certificate_mode_rotates() {
    for mode in [KeyMode::PublicKey, KeyMode::Both] {
        let sandbox = Sandbox::builder()
            .key_mode(mode)
            .start()
            .await
            .expect("start");
        let listed = sandbox.platform_certificates();
        let error = sandbox
            .rotate_platform_certificate(SHORT)
            .expect_err("rotation outside Certificate mode");
        assert!(
            matches!(&error, SandboxError::Config(message) if message.contains("KeyMode::Certificate")),
            "{mode:?}: {error}"
        );
        assert_eq!(sandbox.platform_certificates(), listed, "{mode:?}");
        assert_eq!(
            Some(sandbox.response_serial()),
            sandbox.merchant().public_key_id,
            "{mode:?}"
        );
        match mode {
            KeyMode::PublicKey => assert!(listed.is_empty()),
            _ => assert_eq!(
                listed,
                [sandbox
                    .merchant()
                    .platform_certificate_serial
                    .clone()
                    .expect("serial")]
            ),
        }
        sandbox.shutdown().await;
    }
}

/// `POST /sandbox/platform/rotate` with a raw body and no merchant signature.
async fn control_rotate(sandbox: &Sandbox, body: &str) -> Reply {
    send(
        sandbox.local_addr(),
        "POST",
        "/sandbox/platform/rotate",
        &[("Content-Type".to_owned(), "application/json".to_owned())],
        body.as_bytes(),
    )
    .await
}

fn assert_not_signed(reply: &Reply) {
    for name in [
        "Wechatpay-Signature",
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Serial",
    ] {
        assert!(reply.header(name).is_none(), "{name} on {reply:?}");
    }
}

#[tokio::test]
async fn the_control_endpoint_rotates_without_a_signature() {
    let sandbox = certificate_sandbox().await;
    let old = sandbox.response_serial();
    let reply = control_rotate(&sandbox, r#"{"overlap_ms": 600000}"#).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_not_signed(&reply);
    let serial = reply.json()["serial"].as_str().expect("serial").to_owned();
    assert_eq!(serial.len(), 40);
    assert_eq!(sandbox.platform_certificates(), [old.clone(), serial]);
    assert_eq!(sandbox.response_serial(), old);

    for bad in ["", "{}", r#"{"overlap_ms": -1}"#, r#"{"overlap_ms": "1"}"#] {
        let reply = control_rotate(&sandbox, bad).await;
        assert_eq!(reply.status, 400, "{bad:?}: {reply:?}");
        assert_eq!(reply.code(), "PARAM_ERROR", "{bad:?}");
        assert_not_signed(&reply);
    }
    assert_eq!(sandbox.platform_certificates().len(), 2);
    sandbox.shutdown().await;

    let sandbox = Sandbox::start().await.expect("start in Both mode");
    let reply = control_rotate(&sandbox, r#"{"overlap_ms": 1000}"#).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.code(), "INVALID_REQUEST");
    assert_not_signed(&reply);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_binary_rotates_periodically_and_says_so() {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, BufReader};

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_wxpay-sandbox"))
        .args(["--rotate-every", "0.2", "--rotation-overlap", "0.05"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut exports = Vec::new();
    let mut rotated = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(serial) = line.strip_prefix("rotated: ") {
                rotated.push(serial.to_owned());
                if rotated.len() == 2 {
                    break;
                }
            } else if line.starts_with("export ") {
                exports.push(line);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), read)
        .await
        .expect("two rotations are reported");
    // Rotation implies the certificate mode: no public key is exported.
    assert!(
        exports
            .iter()
            .any(|l| l.starts_with("export WXPAY_PLATFORM_CERT="))
    );
    assert!(
        !exports
            .iter()
            .any(|l| l.starts_with("export WXPAY_PLATFORM_PUBLIC_KEY"))
    );
    assert_ne!(rotated[0], rotated[1]);
    for serial in &rotated {
        assert_eq!(serial.len(), 40, "{serial}");
        assert!(serial.starts_with('0'), "{serial}");
        assert!(serial.bytes().all(|b| b.is_ascii_hexdigit()), "{serial}");
    }
    child.kill().await.expect("stop the binary");
}
