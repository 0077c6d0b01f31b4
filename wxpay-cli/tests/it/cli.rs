//! The `wxpay` binary against the sandbox: `--sandbox` (started inside the binary), or a
//! sandbox started here and handed to the binary as `WXPAY_*` variables or a profile. Only
//! loopback is used.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use wxpay_sandbox::Sandbox;

const PAUSE: &[&str] = &[
    "call",
    "PauseStock",
    "--field",
    "stock_id=9856888",
    "--field",
    "stock_creator_mchid=1230000109",
];

/// The binary with an empty environment: nothing configured unless a test says so.
pub(crate) fn wxpay() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wxpay"));
    command.env_clear();
    command
}

pub(crate) fn stdout_json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The fields of a multiuse coupon for the sandbox's user, as `--field` flags: its name and ID
/// number are sensitive.
pub(crate) fn coupon_fields(stock_id: &str, out_request_no: &str) -> Vec<String> {
    [
        "openid=oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".to_owned(),
        format!("stock_id={stock_id}"),
        format!("out_request_no={out_request_no}"),
        "user_name=张三".to_owned(),
        "id_card_number=110101199003072316".to_owned(),
        "amount:=100".to_owned(),
        "appid=wxd678efh567hg6787".to_owned(),
        "card_type=ID_CARD".to_owned(),
    ]
    .into_iter()
    .flat_map(|field| ["--field".to_owned(), field])
    .collect()
}

/// A sandbox served by its own runtime (alive as long as the value), its `WXPAY_*`
/// settings written into a temporary directory.
pub(crate) struct External {
    pub(crate) sandbox: Sandbox,
    env: Vec<(String, String)>,
    pub(crate) dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl External {
    pub(crate) fn start(notify_url: Option<&str>) -> External {
        External::start_with(Sandbox::builder(), notify_url)
    }

    pub(crate) fn start_with(
        builder: wxpay_sandbox::SandboxBuilder,
        notify_url: Option<&str>,
    ) -> External {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut builder = builder;
        if let Some(url) = notify_url {
            builder = builder.notify_url(url);
        }
        let sandbox = runtime.block_on(builder.start()).expect("sandbox");
        let dir = tempfile::tempdir().expect("temp dir");
        let env = sandbox.to_env(dir.path()).expect("env");
        External {
            sandbox,
            env,
            dir,
            _runtime: runtime,
        }
    }

    /// The sandbox's runtime, for its calls that start a task (a notification).
    pub(crate) fn runtime(&self) -> &tokio::runtime::Runtime {
        &self._runtime
    }

    pub(crate) fn var(&self, name: &str) -> String {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} in the sandbox's env"))
    }

    /// The binary configured through `WXPAY_*`, as `Client::from_env` reads them.
    pub(crate) fn wxpay(&self) -> Command {
        let mut command = wxpay();
        command.envs(self.env.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        command
    }

    fn stock(&self) -> String {
        self.sandbox.favor_stock_ids()[0].clone()
    }
}

#[test]
fn sandbox_call_by_name_prints_the_verified_answer_and_its_request_id() {
    wxpay()
        .arg("--sandbox")
        .args(PAUSE)
        .assert()
        .success()
        .stdout(predicate::str::contains("signature verified, Request-ID "))
        .stdout(predicate::str::contains("\"stock_id\": \"9856888\""))
        .stdout(predicate::str::contains("pause_time"));

    let output = wxpay()
        .args(["--sandbox", "--json"])
        .args(PAUSE)
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let answer = stdout_json(&output);
    assert_eq!(answer["operation"], "PauseStock");
    assert_eq!(answer["verified"], true);
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["body"]["stock_id"], "9856888");
    assert!(
        answer["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{answer}"
    );
}

#[test]
fn call_by_method_and_path_fills_the_template_and_reaches_any_path() {
    let output = wxpay()
        .args(["--sandbox", "--json", "call", "POST"])
        .arg("/v3/marketing/favor/stocks/9856888/pause")
        .args(["--field", "stock_creator_mchid=1230000109"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let answer = stdout_json(&output);
    assert_eq!(answer["operation"], "PauseStock", "matched to its template");
    assert_eq!(answer["body"]["stock_id"], "9856888");

    // A GET: the remaining fields go in the query.
    let output = wxpay()
        .args([
            "--sandbox",
            "--json",
            "call",
            "GET /v3/marketing/favor/stocks/9856888",
        ])
        .args(["-f", "stock_creator_mchid=1230000109"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout_json(&output)["body"]["stock_id"], "9856888");

    // A path the catalog does not know still goes out signed; the platform's error is exit 5.
    wxpay()
        .args(["--sandbox", "call", "GET", "/v3/not/declared/anywhere"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("WeChat Pay answered 404"));
}

#[test]
fn sensitive_fields_are_encrypted_for_the_platform_key() {
    // The sandbox decrypts user_name and id_card_number with its platform key and refuses
    // the call if they arrive in the clear or under another serial.
    let output = wxpay()
        .args(["--sandbox", "--json", "call", "SendMultiuseCoupon"])
        .args(coupon_fields("9856889", "cli-test-1"))
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let answer = stdout_json(&output);
    assert!(answer["body"]["coupon_id"].is_string(), "{answer}");

    // Through METHOD PATH too: the path is the catalog's, so its sensitive fields are known.
    let output = wxpay()
        .args(["--sandbox", "--json", "call", "POST"])
        .arg("/v3/multiuse/users/oUpF8uMuAJO_M2pxb1Q9zNjWeS6o/coupons")
        .arg("--body")
        .arg(
            r#"{"stock_id":"9856889","out_request_no":"cli-test-2","user_name":"张三",
               "id_card_number":"110101199003072316","amount":100,
               "appid":"wxd678efh567hg6787","card_type":"ID_CARD"}"#,
        )
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");

    // A sensitive field that is not a string is refused before anything is sent.
    wxpay()
        .args(["--sandbox", "call", "SendMultiuseCoupon", "-f", "openid=o"])
        .args(["-f", "user_name:=42"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "field `user_name` cannot be encrypted: it is a number",
        ));
}

#[test]
fn sensitive_query_parameters_are_encrypted_and_absent_optional_fields_are_not_asked_for() {
    // The sandbox decrypts `mobile` with the key Wechatpay-Serial names, or refuses the call.
    let output = wxpay()
        .args(["--sandbox", "--json", "call", "smartguide::ListGuides"])
        .args(["-f", "store_id:=1234", "-f", "mobile=13800138000"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");

    // `payer.identity` is sensitive but optional: without it nothing is encrypted, and the
    // request names no key.
    let output = wxpay()
        .args([
            "--sandbox",
            "--json",
            "call",
            "pay::transactions::CreateJsapiOrder",
        ])
        .arg("--dry-run")
        .args(["-f", "appid=wxd678efh567hg6787", "-f", "mchid=1230000109"])
        .args(["-f", "description=test", "-f", "out_trade_no=cli-jsapi-1"])
        .args([
            "-f",
            "notify_url=https://example.com/notify",
            "-f",
            "amount.total:=1",
        ])
        .args(["-f", "payer.openid=oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let printed = stdout_json(&output);
    let headers = printed["headers"].as_array().expect("headers");
    assert!(
        !headers.iter().any(|h| h[0] == "wechatpay-serial"),
        "{printed}"
    );
    assert!(
        printed["body"]
            .as_str()
            .is_some_and(|body| body.contains("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")),
        "{printed}"
    );
}

#[test]
fn a_merchant_with_only_the_apiv3_key_downloads_a_certificate_to_encrypt_with() {
    let external = External::start_with(
        Sandbox::builder().key_mode(wxpay_sandbox::KeyMode::Certificate),
        None,
    );
    external
        .wxpay()
        .env_remove("WXPAY_PLATFORM_CERT")
        .args(["--json", "call", "SendMultiuseCoupon", "-f"])
        .arg(format!("openid={}", external.var("WXPAY_OPENID")))
        .arg("-f")
        .arg(format!(
            "stock_id={}",
            external.var("WXPAY_MULTIUSE_STOCK_ID")
        ))
        .args(["-f", "out_request_no=cli-tofu-1", "-f", "user_name=张三"])
        .args([
            "-f",
            "id_card_number=110101199003072316",
            "-f",
            "amount:=100",
        ])
        .arg("-f")
        .arg(format!("appid={}", external.var("WXPAY_APPID")))
        .args(["-f", "card_type=ID_CARD"])
        .assert()
        .success()
        .stdout(predicate::str::contains("coupon_id"));

    // A dry run sends nothing, that download included: it says what is missing.
    external
        .wxpay()
        .env_remove("WXPAY_PLATFORM_CERT")
        .args(["call", "SendMultiuseCoupon", "--dry-run"])
        .args(coupon_fields("9856889", "cli-tofu-2"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("a dry run does not download one"));
    assert_eq!(external.sandbox.certificate_downloads(), 1);
}

#[test]
fn an_unknown_operation_suggests_the_nearest_name() {
    wxpay()
        .args(["call", "PauseStok"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown operation \"PauseStok\""))
        .stderr(predicate::str::contains("did you mean PauseStock?"));
    let output = wxpay()
        .args(["--json", "call", "SendMultiuseCupon"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let error = stdout_json(&output);
    assert_eq!(error["error"]["kind"], "usage");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean SendMultiuseCoupon?")),
        "{error}"
    );
}

#[test]
fn invalid_fields_are_usage_errors() {
    for (field, why) in [
        ("stock_id", "expected key=value or key:=json"),
        ("amount:=ten", "is not JSON"),
        ("a..b=1", "a key is"),
    ] {
        wxpay()
            .args(["--sandbox", "call", "PauseStock", "--field", field])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("invalid --field"))
            .stderr(predicate::str::contains(why));
    }
    wxpay()
        .args([
            "--sandbox",
            "call",
            "PauseStock",
            "--field",
            "stock_creator_mchid=1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--field stock_id="));
    wxpay()
        .args(["--sandbox", "call", "POST", "/v3/a b/pause"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be sent as written"));
    wxpay()
        .args(["--sandbox", "call", "merchant::media::UploadImage"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("multipart upload"));
}

#[test]
fn a_missing_variable_is_a_configuration_error_naming_it() {
    wxpay()
        .args(PAUSE)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("WXPAY_MCHID is not set"))
        .stderr(predicate::str::contains("--sandbox"));
    let external = External::start(None);
    external
        .wxpay()
        .env_remove("WXPAY_MERCHANT_SERIAL")
        .args(PAUSE)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("WXPAY_MERCHANT_SERIAL is not set"));
}

#[test]
fn a_malformed_key_is_a_configuration_error_naming_the_variable() {
    let external = External::start(None);
    let garbage = external.dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n",
    )
    .expect("write");
    external
        .wxpay()
        .env("WXPAY_MERCHANT_KEY", &garbage)
        .args(PAUSE)
        .assert()
        .code(3)
        .stderr(predicate::str::starts_with("wxpay: WXPAY_MERCHANT_KEY:"));
    let ec_key = fixture("TEST_ec_key.pem");
    external
        .wxpay()
        .env("WXPAY_MERCHANT_KEY", &ec_key)
        .args(PAUSE)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("WXPAY_MERCHANT_KEY"));
}

#[test]
fn the_environment_configures_a_real_merchant_and_transport_failures_are_exit_4() {
    let external = External::start(None);
    let stock = external.stock();
    let output = external
        .wxpay()
        .args(["--json", "call", "QueryStock", "-f"])
        .arg(format!("stock_id={stock}"))
        .args(["-f", "stock_creator_mchid=1230000109"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout_json(&output)["body"]["stock_id"], stock.as_str());

    // Nothing listens on this port: the call never leaves.
    let closed = wxpay_sandbox::ClosedPort::reserve().expect("reserve a port");
    external
        .wxpay()
        .env("WXPAY_BASE_URL", closed.url())
        .args(PAUSE)
        .assert()
        .code(4)
        .stderr(predicate::str::contains("cannot connect"));
}

#[test]
fn profiles_name_key_files_and_refuse_inline_keys() {
    let external = External::start(None);
    let profiles = external.dir.path().join("profiles.toml");
    std::fs::write(
        &profiles,
        format!(
            "[test]\nmchid = {:?}\nmerchant_serial = {:?}\nmerchant_key = {:?}\n\
             platform_public_key = {:?}\nplatform_public_key_id = {:?}\n\
             apiv3_key = {:?}\nbase_url = {:?}\n\n\
             [inline]\nmchid = \"1230000109\"\nmerchant_serial = \"AB\"\n\
             merchant_key = \"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\"\n",
            external.var("WXPAY_MCHID"),
            external.var("WXPAY_MERCHANT_SERIAL"),
            external.var("WXPAY_MERCHANT_KEY"),
            external.var("WXPAY_PLATFORM_PUBLIC_KEY"),
            external.var("WXPAY_PLATFORM_PUBLIC_KEY_ID"),
            external.var("WXPAY_APIV3_KEY"),
            external.var("WXPAY_BASE_URL"),
        ),
    )
    .expect("write profiles");
    let stock = external.stock();
    wxpay()
        .arg("--profiles")
        .arg(&profiles)
        .args(["--profile", "test", "call", "PauseStock", "-f"])
        .arg(format!("stock_id={stock}"))
        .args(["-f", "stock_creator_mchid=1230000109"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "\"stock_id\": \"{stock}\""
        )));
    // The file can come from WXPAY_PROFILES too.
    wxpay()
        .env("WXPAY_PROFILES", &profiles)
        .args(["--profile", "inline"])
        .args(PAUSE)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not the key itself"))
        .stderr(predicate::str::contains("MIIE").not());
    wxpay()
        .arg("--profiles")
        .arg(&profiles)
        .args(["--profile", "prod"])
        .args(PAUSE)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no profile \"prod\""))
        .stderr(predicate::str::contains("inline, test"));
}

/// Accepts one notification on loopback and hands back its raw header block and body.
pub(crate) fn notification_receiver() -> (String, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/notify", listener.local_addr().expect("addr"));
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
            let end = line == "\r\n";
            head.push_str(&line);
            if end {
                break;
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let _ = reader
            .get_mut()
            .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        let _ = sender.send((head, body));
    });
    (url, receiver)
}

#[test]
fn a_delivered_notification_verifies_and_a_tampered_one_fails_with_exit_6() {
    let (url, received) = notification_receiver();
    let external = External::start(Some(&url));
    let openid = external.var("WXPAY_OPENID");
    // Sending a multiuse coupon makes the sandbox notify COUPON.SEND.
    external
        .wxpay()
        .args(["call", "SendMultiuseCoupon", "-f"])
        .arg(format!("openid={openid}"))
        .arg("-f")
        .arg(format!(
            "stock_id={}",
            external.var("WXPAY_MULTIUSE_STOCK_ID")
        ))
        .args(["-f", "out_request_no=cli-notify-1", "-f", "user_name=张三"])
        .args([
            "-f",
            "id_card_number=110101199003072316",
            "-f",
            "amount:=100",
        ])
        .arg("-f")
        .arg(format!("appid={}", external.var("WXPAY_APPID")))
        .args(["-f", "card_type=ID_CARD"])
        .assert()
        .success();
    let (head, body) = received
        .recv_timeout(Duration::from_secs(30))
        .expect("the sandbox delivers a notification");
    let dir = external.dir.path();
    let headers_file = dir.join("headers.txt");
    let body_file = dir.join("body.json");
    std::fs::write(&headers_file, &head).expect("write headers");
    std::fs::write(&body_file, &body).expect("write body");
    let verify = |body: &Path| {
        let mut command = external.wxpay();
        command
            .args(["verify", "notification", "--headers"])
            .arg(&headers_file)
            .arg("--body")
            .arg(body);
        command
    };

    verify(&body_file)
        .assert()
        .success()
        .stdout(predicate::str::contains("notification verified"))
        .stdout(predicate::str::contains("COUPON.SEND"))
        .stdout(predicate::str::contains("<redacted>"))
        .stdout(predicate::str::contains(openid.as_str()).not());
    let output = verify(&body_file)
        .args(["--json", "--reveal"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let event = stdout_json(&output);
    assert_eq!(event["event_type"], "COUPON.SEND");
    assert!(
        event.to_string().contains(&openid),
        "--reveal shows it: {event}"
    );

    // One byte more in the body: the signature no longer covers it.
    let mut tampered = body.clone();
    tampered.insert(1, b' ');
    let tampered_file = dir.join("tampered.json");
    std::fs::write(&tampered_file, &tampered).expect("write");
    verify(&tampered_file)
        .assert()
        .code(6)
        .stderr(predicate::str::contains("verification failed"))
        .stdout(predicate::str::is_empty());

    verify(&dir.join("missing.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read --body"));
}

#[test]
fn a_typed_event_prints_as_its_catalog_type_reads_it() {
    let (url, received) = notification_receiver();
    let external = External::start(Some(&url));
    // The sandbox's catalog example of a paid order, notified as the platform does.
    external
        ._runtime
        .block_on(
            external
                .sandbox
                .notify("TRANSACTION.SUCCESS", wxpay_sandbox::EventResource::Example),
        )
        .expect("an event type of the spec")
        .expect("a notify URL is set");
    let (head, body) = received
        .recv_timeout(Duration::from_secs(30))
        .expect("the sandbox delivers the notification");
    let dir = external.dir.path();
    std::fs::write(dir.join("headers.txt"), &head).expect("write headers");
    std::fs::write(dir.join("body.json"), &body).expect("write body");
    let verify = |reveal: bool| {
        let mut command = external.wxpay();
        command
            .args(["verify", "notification", "--json", "--headers"])
            .arg(dir.join("headers.txt"))
            .arg("--body")
            .arg(dir.join("body.json"));
        if reveal {
            command.arg("--reveal");
        }
        command.output().expect("run")
    };
    let output = verify(true);
    assert!(output.status.success(), "{output:?}");
    let event = stdout_json(&output);
    assert_eq!(event["event_type"], "TRANSACTION.SUCCESS");
    assert_eq!(event["typed"], true, "{event}");
    // The catalog type's fields: the payer's OpenID among them, shown with --reveal only.
    assert!(event["resource"]["out_trade_no"].is_string(), "{event}");
    let openid = event["resource"]["payer"]["openid"]
        .as_str()
        .expect("the typed payer")
        .to_owned();
    let redacted = stdout_json(&verify(false));
    assert_eq!(redacted["resource"]["payer"]["openid"], "<redacted>");
    assert!(!redacted.to_string().contains(&openid), "{redacted}");
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/keys")
        .join(name)
}

#[test]
fn a_sign_error_is_diagnosed_part_by_part() {
    let external = External::start(None);
    // A key the sandbox does not know for this serial: the platform answers SIGN_ERROR.
    let call = || {
        let mut command = external.wxpay();
        command
            .env("WXPAY_MERCHANT_KEY", fixture("TEST_merchant_key.pem"))
            .args(PAUSE);
        command
    };
    call()
        .assert()
        .code(5)
        .stderr(predicate::str::contains("SIGN_ERROR"))
        .stderr(predicate::str::contains("= timestamp"))
        .stderr(predicate::str::contains(
            "the platform saw exactly what was signed",
        ));
    let output = call().arg("--json").output().expect("run");
    assert_eq!(output.status.code(), Some(5));
    let error = stdout_json(&output);
    assert_eq!(error["error"]["code"], "SIGN_ERROR");
    let signed = &error["error"]["signed_request"];
    assert_eq!(signed["url"], "/v3/marketing/favor/stocks/9856888/pause");

    // The answer wxpay printed, fed back: what was signed comes with it.
    let answer = external.dir.path().join("answer.json");
    std::fs::write(&answer, &output.stdout).expect("write");
    wxpay()
        .args(["debug", "sign-error"])
        .arg(&answer)
        .assert()
        .success()
        .stdout(predicate::str::contains("= path and query"))
        .stdout(predicate::str::contains("private key"));

    // The exact message, with a timestamp other than the one the platform saw.
    let message = format!(
        "POST\n{}\n{}\n{}\n{{\"stock_creator_mchid\":\"1230000109\"}}\n",
        signed["url"].as_str().expect("url"),
        signed["timestamp"].as_i64().expect("timestamp") + 1,
        signed["nonce"].as_str().expect("nonce"),
    );
    let request = external.dir.path().join("signed.txt");
    std::fs::write(&request, message).expect("write");
    let platform_only = serde_json::json!({
        "code": "SIGN_ERROR",
        "message": "签名错误",
        "detail": error["error"]["detail"],
    });
    let output = wxpay()
        .args(["--json", "debug", "sign-error", "--request"])
        .arg(&request)
        .write_stdin(platform_only.to_string())
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let diagnosis = stdout_json(&output);
    assert_eq!(diagnosis["differs"], serde_json::json!(["timestamp"]));

    wxpay()
        .args(["debug", "sign-error"])
        .write_stdin("{\"code\": \"PARAM_ERROR\"}")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sign_information"));
}

#[test]
fn certificates_are_downloaded_into_the_directory_store_layout_and_shown() {
    let dir = tempfile::tempdir().expect("temp dir");
    wxpay()
        .args(["--sandbox", "certs", "download", "--dir"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("valid"));
    let files: Vec<_> = std::fs::read_dir(dir.path().join("1230000109"))
        .expect("the merchant's directory")
        .map(|e| e.expect("entry").file_name().into_string().expect("name"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let output = wxpay()
        .args(["--json", "certs", "show", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let shown = stdout_json(&output);
    let serial = shown[0]["serial"].as_str().expect("serial");
    assert_eq!(files[0], format!("{serial}.pem"));
    assert_eq!(serial.len(), 40);
    assert_eq!(shown[0]["valid_now"], true);
    assert!(
        shown[0]["not_after"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    wxpay()
        .args(["certs", "show", "--dir"])
        .arg(dir.path().join("nowhere"))
        .assert()
        .code(2);
}

#[test]
fn bills_are_downloaded_checked_and_written_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("trade.csv");
    let output = wxpay()
        .args([
            "--sandbox",
            "--json",
            "bill",
            "trade",
            "--date",
            "2026-11-20",
            "-o",
        ])
        .arg(&file)
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let summary = stdout_json(&output);
    let bill = std::fs::read_to_string(&file).expect("the bill");
    assert!(bill.starts_with("交易时间,"), "{bill}");
    assert_eq!(summary["bytes"], bill.len());
    assert_eq!(summary["sha1"].as_str().map(str::len), Some(40));
    assert!(!dir.path().join("trade.csv.part").exists());

    // To stdout: the bill itself.
    wxpay()
        .args(["--sandbox", "bill", "fundflow", "--date", "2026-11-20"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("记账时间,"));

    wxpay()
        .args(["--sandbox", "bill", "trade", "--date", "2026-02-30"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("YYYY-MM-DD"));
}

#[test]
fn list_searches_names_paths_and_titles() {
    wxpay()
        .args(["list", "代金券"])
        .assert()
        .success()
        .stdout(predicate::str::contains("PauseStock"))
        .stdout(predicate::str::contains("SendMultiuseCoupon").not());
    let output = wxpay()
        .args(["--json", "list", "/v3/pay/"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let listed = stdout_json(&output);
    let names: Vec<&str> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|op| op["name"].as_str().expect("name"))
        .collect();
    assert!(
        names.contains(&"CreateJsapiOrder") && names.contains(&"CloseOrder"),
        "{names:?}"
    );
    assert!(names.iter().all(|n| !n.contains("Refund")), "{names:?}");
    let jsapi = listed
        .as_array()
        .and_then(|ops| ops.iter().find(|op| op["name"] == "CreateJsapiOrder"))
        .expect("jsapi");
    assert_eq!(
        jsapi["encrypted"],
        serde_json::json!(["payer.identity.number", "payer.identity.name"])
    );
    wxpay().args(["list", "nothing-like-this"]).assert().code(2);
}

#[test]
fn every_subcommand_has_help_and_completions_are_generated() {
    wxpay()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("6  verification"));
    for path in [
        &["call"][..],
        &["list"],
        &["certs"],
        &["certs", "download"],
        &["certs", "show"],
        &["debug"],
        &["debug", "sign-error"],
        &["verify"],
        &["verify", "notification"],
        &["bill"],
        &["completions"],
    ] {
        wxpay()
            .args(path)
            .arg("--help")
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: wxpay"));
    }
    for (shell, marker) in [
        ("bash", "_wxpay()"),
        ("zsh", "#compdef wxpay"),
        ("fish", "complete -c wxpay"),
    ] {
        wxpay()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains(marker))
            .stdout(predicate::str::contains("sign-error"));
    }
    wxpay().args(["completions", "tcsh"]).assert().code(2);
    wxpay().arg("frobnicate").assert().code(2);
}

#[test]
fn the_sandbox_subcommand_takes_the_sandbox_binarys_flags() {
    wxpay()
        .args(["sandbox", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: wxpay sandbox [OPTIONS]"))
        .stdout(predicate::str::contains("--rotate-every"));
    wxpay()
        .args(["sandbox", "--nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown option --nope"));

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wxpay"))
        .args(["sandbox", "--listen", "127.0.0.1:0", "--stock", "4242"])
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let second = lines.next().and_then(Result::ok).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.starts_with("listening on http://127.0.0.1:"),
        "{first}"
    );
    assert_eq!(second, "stock: 4242");
}
