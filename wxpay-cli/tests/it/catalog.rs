//! The whole catalog from the command line: listed, named unambiguously, and shown signed
//! without being sent (`--dry-run`).

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};

use predicates::prelude::*;
use serde_json::Value;
use wxpay::apis::OPERATIONS;
use wxpay::apis::v2::OPERATIONS as V2_OPERATIONS;
use wxpay_sandbox::SANDBOX_APPID;

use crate::cli::{External, coupon_fields, stdout_json, wxpay};

fn listed(args: &[&str]) -> Vec<String> {
    let output = wxpay().arg("list").args(args).output().expect("run");
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    text.lines().map(str::to_owned).collect()
}

/// The module of each line's qualified name.
fn modules(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .map(|line| {
            let name = line.split_whitespace().next().expect("a name");
            name.rsplit_once("::").map_or("", |(module, _)| module)
        })
        .collect()
}

#[test]
fn list_shows_every_operation_of_the_catalog_one_line_each_grouped_by_product() {
    // The default build declares a few dozen; the command line carries them all.
    assert!(OPERATIONS.len() > 1000, "{}", OPERATIONS.len());
    let v3 = listed(&["--protocol", "v3"]);
    assert_eq!(
        v3.len(),
        OPERATIONS.len(),
        "`wxpay list --protocol v3 | wc -l`"
    );
    let v2 = listed(&["--protocol", "v2"]);
    assert_eq!(
        v2.len(),
        V2_OPERATIONS.len(),
        "`wxpay list --protocol v2 | wc -l`"
    );
    // Each line starts with the qualified name, in the order of the modules: a product's
    // operations stand together.
    assert!(modules(&v3).is_sorted(), "grouped by module");
    assert!(modules(&v2).is_sorted(), "grouped by module");
    assert!(
        v3.iter()
            .any(|l| l.starts_with("pay::transactions::partner::CreateNativeOrder ")),
        "{v3:?}"
    );
    assert!(v3.iter().any(|l| l.starts_with("global::")));
    assert!(v2.iter().all(|l| l.starts_with("v2::")), "{v2:?}");
    let red_packet = v2
        .iter()
        .find(|l| l.starts_with("v2::redpack::SendRedpack "))
        .expect("listed");
    assert_eq!(
        red_packet.split_whitespace().take(4).collect::<Vec<_>>(),
        [
            "v2::redpack::SendRedpack",
            "api",
            "POST",
            "/mmpaymkttransfers/sendredpack"
        ]
    );
    // Both, APIv3 first (the columns are as wide as the longest of what is listed).
    let names = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .map(|line| line.split_whitespace().next().unwrap_or("").to_owned())
            .collect()
    };
    let all = names(&listed(&[]));
    assert_eq!(all, [names(&v3), names(&v2)].concat());
}

#[test]
fn a_name_several_operations_share_is_refused_with_the_candidates() {
    // No merchant is configured: the name is refused before anything else.
    let assert = wxpay()
        .args(["call", "CreateNativeOrder"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "\"CreateNativeOrder\" names 5 operations",
        ));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    // Each candidate by its shortest name, with its method and path.
    for (candidate, path) in [
        (
            "pay::transactions::CreateNativeOrder",
            "/v3/pay/transactions/native",
        ),
        (
            "partner::CreateNativeOrder",
            "/v3/pay/partner/transactions/native",
        ),
        (
            "global::transactions::CreateNativeOrder",
            "/v3/global/transactions/native",
        ),
        (
            "hk::transactions::CreateNativeOrder",
            "/hk/v3/transactions/native",
        ),
        (
            "combine_transactions::CreateNativeOrder",
            "/v3/combine-transactions/native",
        ),
    ] {
        let line = stderr
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{candidate} ")))
            .unwrap_or_else(|| panic!("{candidate} in {stderr}"));
        assert!(line.ends_with(&format!(" POST {path}")), "{line}");
    }
    // A qualifier that is the tail of several modules is as ambiguous.
    wxpay()
        .args(["call", "transactions::CreateNativeOrder"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("names 3 operations"));
    // Every name `list --json` gives as the one to call designates its operation alone.
    let output = wxpay().args(["--json", "list"]).output().expect("run");
    let listed = stdout_json(&output);
    let calls: Vec<&str> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|op| op["call"].as_str().expect("call"))
        .collect();
    let mut unique = calls.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), calls.len(), "one call name per operation");
    assert!(calls.contains(&"partner::CreateNativeOrder"), "{calls:?}");
    assert!(calls.contains(&"PauseStock"), "a unique name stays bare");
}

/// The fields of a Native order for the sandbox's merchant.
fn native_order(out_trade_no: &str) -> Vec<String> {
    [
        format!("appid={SANDBOX_APPID}"),
        "mchid=1230000109".to_owned(),
        "description=cli".to_owned(),
        format!("out_trade_no={out_trade_no}"),
        "notify_url=https://merchant.example.com/wxpay/notify".to_owned(),
        "amount.total:=1".to_owned(),
    ]
    .into_iter()
    .flat_map(|field| ["--field".to_owned(), field])
    .collect()
}

#[test]
fn a_qualified_name_sends_that_operation() {
    let output = wxpay()
        .args([
            "--sandbox",
            "--json",
            "call",
            "pay::transactions::CreateNativeOrder",
        ])
        .args(native_order("cliqualified0001"))
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let answer = stdout_json(&output);
    assert_eq!(answer["operation"], "CreateNativeOrder");
    assert!(
        answer["body"]["code_url"]
            .as_str()
            .is_some_and(|url| url.starts_with("weixin://wxpay/bizpayurl?pr=")),
        "{answer}"
    );
    // The partner twin, named by the shorter form, is the other operation: the sandbox wants
    // the provider's fields.
    wxpay()
        .args(["--sandbox", "call", "partner::createnativeorder"])
        .args(native_order("cliqualified0002"))
        .assert()
        .code(5)
        .stderr(predicate::str::contains("sp_mchid"));
}

#[test]
fn a_dry_run_prints_the_signed_request_and_sends_nothing() {
    let external = External::start(None);
    // Where the merchant's requests would go: a socket that is never read from.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("addr"));
    let assert = external
        .wxpay()
        .env("WXPAY_BASE_URL", &base_url)
        .args(["call", "PauseStock", "--dry-run"])
        .args([
            "-f",
            "stock_id=9856888",
            "-f",
            "stock_creator_mchid=1230000109",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("not sent"));
    let text = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(format!("POST {base_url}/v3/marketing/favor/stocks/9856888/pause").as_str()),
        "{text}"
    );
    let mchid = external.var("WXPAY_MCHID");
    let authorization = text
        .lines()
        .find_map(|line| line.strip_prefix("authorization: "))
        .unwrap_or_else(|| panic!("no Authorization in {text}"));
    assert!(
        authorization.starts_with(&format!("WECHATPAY2-SHA256-RSA2048 mchid=\"{mchid}\","))
            && authorization.contains(",signature=\""),
        "{authorization}"
    );
    assert!(
        text.ends_with("\n{\"stock_creator_mchid\":\"1230000109\"}\n"),
        "{text}"
    );
    listener.set_nonblocking(true).expect("non-blocking");
    match listener.accept() {
        Err(error) if error.kind() == ErrorKind::WouldBlock => {}
        other => panic!("a dry run connected: {other:?}"),
    }
}

/// Sends a request printed by `--json call --dry-run` to `addr` as is, over HTTP/1.1, and
/// returns the answer's status line and body.
fn replay(addr: std::net::SocketAddr, printed: &Value) -> (String, String) {
    let url = printed["url"].as_str().expect("url");
    let path = &url[url.find("/v3/").expect("a /v3/ path")..];
    let body = printed["body"].as_str().expect("body");
    let mut request = format!(
        "{} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n",
        printed["method"].as_str().expect("method")
    );
    for header in printed["headers"].as_array().expect("headers") {
        request.push_str(&format!(
            "{}: {}\r\n",
            header[0].as_str().expect("name"),
            header[1].as_str().expect("value")
        ));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

#[test]
fn a_dry_run_encrypts_sensitive_fields_and_prints_exactly_what_would_be_signed() {
    let external = External::start(None);
    let output = external
        .wxpay()
        .args(["--json", "call", "SendMultiuseCoupon", "--dry-run"])
        .args(coupon_fields(
            &external.var("WXPAY_MULTIUSE_STOCK_ID"),
            "cli-dry-run-1",
        ))
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.contains("张三") && !stdout.contains("110101199003072316"),
        "plaintext in {stdout}"
    );
    let printed = stdout_json(&output);
    assert_eq!(printed["dry_run"], true);
    assert_eq!(printed["method"], "POST");
    let serial = printed["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .find(|h| h[0] == "wechatpay-serial")
        .and_then(|h| h[1].as_str());
    assert!(serial.is_some_and(|s| !s.is_empty()), "{printed}");
    // The platform takes the printed request as it is: signed over these bytes, with the
    // fields encrypted for its key (it decrypts them and issues the coupon).
    let (status, body) = replay(external.sandbox.local_addr(), &printed);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}\n{body}");
    assert!(body.contains("coupon_id"), "{body}");
}

#[test]
fn a_dry_run_shows_the_host_each_operation_lives_on() {
    // The sandbox's merchant with the platform's own base URLs: nothing is sent, so nothing
    // leaves the machine.
    let external = External::start(None);
    let dry_run = |operation: &str| {
        let output = external
            .wxpay()
            .env_remove("WXPAY_BASE_URL")
            .args(["--json", "call", operation, "--dry-run"])
            .args(native_order("clihost0001"))
            .output()
            .expect("run");
        assert!(output.status.success(), "{output:?}");
        stdout_json(&output)
    };
    let global = dry_run("global::transactions::CreateNativeOrder");
    assert_eq!(global["host"], "apihk");
    assert_eq!(
        global["url"],
        "https://apihk.mch.weixin.qq.com/v3/global/transactions/native"
    );
    let direct = dry_run("pay::transactions::CreateNativeOrder");
    assert_eq!(direct["host"], "api");
    assert_eq!(
        direct["url"],
        "https://api.mch.weixin.qq.com/v3/pay/transactions/native"
    );
    // A path the catalog does not know goes to the main host, or where --host says.
    let unknown = |host: &[&str]| {
        external
            .wxpay()
            .env_remove("WXPAY_BASE_URL")
            .args([
                "--json",
                "call",
                "GET",
                "/v3/global/not-declared",
                "--dry-run",
            ])
            .args(host)
            .output()
            .expect("run")
    };
    assert_eq!(
        stdout_json(&unknown(&[]))["url"],
        "https://api.mch.weixin.qq.com/v3/global/not-declared"
    );
    assert_eq!(
        stdout_json(&unknown(&["--host", "apihk"]))["url"],
        "https://apihk.mch.weixin.qq.com/v3/global/not-declared"
    );
    let refused = unknown(&["--host", "apihk.mch.weixin.qq.com"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stdout_json(&refused)["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("api, apihk")),
        "{refused:?}"
    );
    // The listing says the same.
    let output = wxpay()
        .args(["list", "/v3/global/transactions/native"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&output.stdout);
    let columns: Vec<&str> = text.split_whitespace().take(4).collect();
    assert_eq!(
        columns,
        [
            "global::transactions::CreateNativeOrder",
            "apihk",
            "POST",
            "/v3/global/transactions/native"
        ],
        "{text}"
    );
}

#[test]
fn a_profile_sets_one_hosts_base_url() {
    let external = External::start(None);
    let profiles = external.dir.path().join("hosts.toml");
    let merchant = format!(
        "mchid = {:?}\nmerchant_serial = {:?}\nmerchant_key = {:?}\n\
         platform_public_key = {:?}\nplatform_public_key_id = {:?}\n",
        external.var("WXPAY_MCHID"),
        external.var("WXPAY_MERCHANT_SERIAL"),
        external.var("WXPAY_MERCHANT_KEY"),
        external.var("WXPAY_PLATFORM_PUBLIC_KEY"),
        external.var("WXPAY_PLATFORM_PUBLIC_KEY_ID"),
    );
    std::fs::write(
        &profiles,
        format!(
            "[hk]\n{merchant}base_urls = {{ apihk = \"http://127.0.0.2:9\" }}\n\n\
             [typo]\n{merchant}base_urls = {{ hk = \"http://127.0.0.2:9\" }}\n"
        ),
    )
    .expect("write profiles");
    let dry_run = |profile: &str, operation: &str| {
        wxpay()
            .arg("--profiles")
            .arg(&profiles)
            .args([
                "--profile",
                profile,
                "--json",
                "call",
                operation,
                "--dry-run",
            ])
            .args(native_order("cliprofile0001"))
            .output()
            .expect("run")
    };
    let global = dry_run("hk", "global::transactions::CreateNativeOrder");
    assert!(global.status.success(), "{global:?}");
    assert_eq!(
        stdout_json(&global)["url"],
        "http://127.0.0.2:9/v3/global/transactions/native"
    );
    let direct = dry_run("hk", "pay::transactions::CreateNativeOrder");
    assert_eq!(
        stdout_json(&direct)["url"],
        "https://api.mch.weixin.qq.com/v3/pay/transactions/native"
    );
    let typo = dry_run("typo", "pay::transactions::CreateNativeOrder");
    assert_eq!(typo.status.code(), Some(3), "{typo:?}");
    assert!(
        stdout_json(&typo)["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"hk\" is not a host key (api, apihk")),
        "{typo:?}"
    );
}
