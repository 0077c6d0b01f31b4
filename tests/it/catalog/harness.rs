//! What the generated cases run: write a request as the client would (public-key mode, the
//! TEST keys), then compare it with what the spec says it must be. Every failure of a module
//! is collected and reported together, so one run shows every operation that is off.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use serde_json::Value;
use wxpay::{
    Client, CryptoBackend, Endpoint, Error, FileCheck, Host, MerchantKey, PlatformKey,
    PlatformKeys, RequestError, RequestParts, RequestWriter, Streamed, UploadFile,
};
use wxpay_sandbox::{KeyMode, Sandbox};

const PLATFORM_KEY: &str = include_str!("../../fixtures/keys/TEST_platform_key.pem");
const PLATFORM_PUB: &str = include_str!("../../fixtures/keys/TEST_platform_pub.pem");
const MERCHANT_KEY: &str = include_str!("../../fixtures/keys/TEST_merchant_key.pem");
const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0112300001092025110100000000";
/// The serial the platform's private key is loaded under (any valid one: it only decrypts).
const PLATFORM_SERIAL: &str = "05D1C2B3A4958677685A4B3C2D1E0F9A8B7C6D5E";
/// A fixed time: the ring's key selection depends on it, nothing else does.
const NOW: i64 = 1_767_225_600;

/// One operation: how to write its request, and what must come out.
pub struct Case {
    pub name: &'static str,
    pub method: &'static str,
    /// The path with the example values in place.
    pub path: &'static str,
    /// The spec's `scope` of the operation, which says the host that serves it.
    pub scope: &'static str,
    /// (name, value, encrypted) in the order the fields are declared.
    pub query: &'static [(&'static str, &'static str, bool)],
    pub headers: &'static [(&'static str, &'static str)],
    /// The JSON body with every encrypted field in plaintext; empty for no body.
    pub body: &'static str,
    /// The dotted paths (`a.b`, `list[].name`) that must travel encrypted.
    pub encrypted: &'static [&'static str],
    pub request: fn() -> Box<dyn Request>,
}

/// One upload: how to write it, and what its parts must be.
pub struct Upload {
    pub name: &'static str,
    /// The path with the example values in place.
    pub path: &'static str,
    /// The spec's `scope` of the operation, which says the host that serves it.
    pub scope: &'static str,
    /// The `meta` JSON with every encrypted field in plaintext, and what the runtime fills in
    /// from the file (its name, its SHA-256).
    pub meta: &'static str,
    /// The dotted paths in `meta` that must travel encrypted.
    pub encrypted: &'static [&'static str],
    /// The text parts, in order.
    pub parts: &'static [(&'static str, &'static str)],
    /// The name of the file part.
    pub file_part: &'static str,
    pub request: fn() -> Box<dyn Request>,
}

/// A request of the catalog: written in memory, or sent to the sandbox.
pub trait Request {
    /// The method and documented path template.
    fn operation(&self) -> (http::Method, &'static str);
    /// The signed request as `client` would send it now.
    fn prepare(&self, client: &Client) -> Result<http::Request<Vec<u8>>, Error>;
    fn write(&self, writer: &mut RequestWriter<'_>) -> Result<(), RequestError>;
    fn send<'a>(
        &'a self,
        client: &'a Client,
    ) -> Pin<Box<dyn Future<Output = Result<(), Error>> + 'a>>;
}

impl<E: Endpoint + Clone + Sync> Request for E {
    fn operation(&self) -> (http::Method, &'static str) {
        (E::METHOD, E::PATH_TEMPLATE)
    }
    fn prepare(&self, client: &Client) -> Result<http::Request<Vec<u8>>, Error> {
        client.prepare(self)
    }
    fn write(&self, writer: &mut RequestWriter<'_>) -> Result<(), RequestError> {
        self.write_request(writer)
    }
    fn send<'a>(
        &'a self,
        client: &'a Client,
    ) -> Pin<Box<dyn Future<Output = Result<(), Error>> + 'a>> {
        Box::pin(async move { client.send(self.clone()).await.map(drop) })
    }
}

/// A download endpoint: its file is streamed, not decoded.
pub struct File<E>(pub E);

impl<E: Endpoint<Response = Streamed> + Sync> Request for File<E> {
    fn operation(&self) -> (http::Method, &'static str) {
        (E::METHOD, E::PATH_TEMPLATE)
    }
    fn prepare(&self, client: &Client) -> Result<http::Request<Vec<u8>>, Error> {
        client.prepare(&self.0)
    }
    fn write(&self, writer: &mut RequestWriter<'_>) -> Result<(), RequestError> {
        self.0.write_request(writer)
    }
    fn send<'a>(
        &'a self,
        client: &'a Client,
    ) -> Pin<Box<dyn Future<Output = Result<(), Error>> + 'a>> {
        Box::pin(async move {
            let mut file = Vec::new();
            // The sandbox, like the platform, signs no file: nothing but TLS vouches for it.
            client
                .download_file(&self.0, FileCheck::unsigned(), &mut file)
                .await?;
            if file.is_empty() {
                return Err(Error::Download(wxpay::DownloadError::Url(
                    "an empty file".into(),
                )));
            }
            Ok(())
        })
    }
}

/// The file every upload case sends (its SHA-256 is in the generated cases).
pub fn file() -> UploadFile {
    UploadFile::new("TEST_file.png", "image/png", FILE.to_vec()).expect("a valid file")
}

const FILE: &[u8] = b"\x89PNG\r\n\x1a\nTEST upload file";

pub fn requests(cases: &[Case]) {
    run(cases, |case| case.name, check);
    on_their_hosts(
        cases
            .iter()
            .map(|c| (c.name, c.scope, c.path, (c.request)())),
    );
    over_the_wire(cases.iter().map(|case| (case.name, (case.request)())));
}

pub fn uploads(cases: &[Upload]) {
    run(cases, |case| case.name, check_upload);
    on_their_hosts(
        cases
            .iter()
            .map(|c| (c.name, c.scope, c.path, (c.request)())),
    );
    over_the_wire(cases.iter().map(|case| (case.name, (case.request)())));
}

/// The host the spec's `scope` column says serves an operation: the cross-border ones
/// (`v3-global(apihk)`, and the Hong Kong wallet's older `hk-legacy` paths) live on apihk.
fn host_in_spec(scope: &str) -> Option<Host> {
    match scope {
        "v3" => Some(Host::Api),
        "v3-global(apihk)" | "hk-legacy" => Some(Host::Apihk),
        _ => None,
    }
}

/// Each request prepared by a client with the platform's default hosts goes to the host the
/// spec names, at the spec's path; prepared by a sandbox client (one base URL for every host),
/// to the sandbox.
fn on_their_hosts(
    requests: impl Iterator<Item = (&'static str, &'static str, &'static str, Box<dyn Request>)>,
) {
    let platform = Client::builder()
        .mchid("1230000109")
        .merchant_key(PLATFORM_SERIAL, MERCHANT_KEY)
        .platform_public_key(PUBLIC_KEY_ID, PLATFORM_PUB)
        .build()
        .expect("a client with the TEST keys");
    let sandbox = crate::common::client_for(&sandboxes().0[0].1, CryptoBackend::default());
    let sandbox_base = sandboxes().0[0].1.base_url();
    let mut failures = Vec::new();
    let mut counted = 0;
    for (name, scope, path, request) in requests {
        let Some(host) = host_in_spec(scope) else {
            failures.push(format!("{name}: scope {scope:?} names no known host"));
            continue;
        };
        for (client, base) in [
            (&platform, host.default_base_url()),
            (&sandbox, sandbox_base),
        ] {
            match request.prepare(client) {
                Ok(prepared) => {
                    let url = prepared.uri().to_string();
                    if !url.starts_with(&format!("{base}{path}")) {
                        failures.push(format!("{name}: sent to {url}, the spec says {base}{path}"));
                    }
                }
                Err(e) => failures.push(format!("{name}: not prepared: {e}")),
            }
        }
        counted += 1;
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(counted > 0);
}

/// The sandboxes, and the (method, template) of each operation served with state.
type Sandboxes = (Vec<(KeyMode, Sandbox)>, Vec<(String, String)>);

/// One sandbox in each key mode, shared by every module's test, served from a runtime of
/// its own so that it outlives each test's; and the operations it serves with state.
fn sandboxes() -> &'static Sandboxes {
    static SANDBOXES: OnceLock<Sandboxes> = OnceLock::new();
    SANDBOXES.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("a runtime");
            runtime.block_on(async {
                let mut started = Vec::new();
                for mode in [KeyMode::PublicKey, KeyMode::Certificate] {
                    let sandbox = Sandbox::builder().key_mode(mode).start().await;
                    started.push((mode, sandbox.expect("sandbox")));
                }
                let listed = crate::common::control_get(&started[0].1, "/sandbox/operations").await;
                let listed: Value = serde_json::from_slice(&listed).expect("JSON");
                let stateful = listed["operations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|op| op["served"] == "stateful")
                    .filter_map(|op| {
                        Some((
                            op["method"].as_str()?.to_owned(),
                            op["path"].as_str()?.to_owned(),
                        ))
                    })
                    .collect();
                let _ = tx.send((started, stateful));
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("the sandboxes started")
    })
}

/// Sends every request to the sandbox in each key mode: each must get a verified answer. A
/// spec-driven operation must succeed (decoded, decrypted, or its file); a stateful one may
/// also answer with the platform's signed error, since the spec's example ids name no order,
/// stock or bill the sandbox has.
fn over_the_wire(requests: impl Iterator<Item = (&'static str, Box<dyn Request>)>) {
    let requests: Vec<_> = requests.collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (sandboxes, stateful) = sandboxes();
    let mut failures = Vec::new();
    // Every request with the default backend; with the `rsa` feature the first of each
    // module also with the pure-Rust one (about 190 in all).
    let runs = CryptoBackend::all()
        .iter()
        .enumerate()
        .flat_map(|(i, &backend)| {
            let take = if i == 0 { requests.len() } else { 1 };
            sandboxes
                .iter()
                .map(move |(mode, sandbox)| (mode, sandbox, backend, take))
        });
    for (mode, sandbox, backend, take) in runs {
        let client = crate::common::client_for(sandbox, backend);
        for (name, request) in requests.iter().take(take) {
            let (method, template) = request.operation();
            let with_state = stateful
                .iter()
                .any(|(m, p)| *m == method.as_str() && p == template);
            match runtime.block_on(request.send(&client)) {
                Ok(()) => {}
                Err(Error::Api(e)) if with_state && e.signature_verified => {}
                Err(e) => failures.push(format!("{name} ({mode:?}, {backend:?}): {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    eprintln!(
        "{} operations answered over the wire in {} key modes",
        requests.len(),
        sandboxes.len()
    );
}

/// Checks every case with the TEST keys and reports every failure at once.
fn run<C>(
    cases: &[C],
    name: fn(&C) -> &str,
    check: fn(&C, &PlatformKeys, &MerchantKey) -> Result<(), String>,
) {
    let backend = CryptoBackend::default();
    let mut ring = PlatformKeys::new();
    ring.insert(
        PlatformKey::from_public_key_pem_with(PUBLIC_KEY_ID, PLATFORM_PUB, backend)
            .expect("TEST platform public key"),
    );
    // The test plays the platform: its private key decrypts what the request encrypted.
    let platform =
        MerchantKey::from_pem_with(PLATFORM_SERIAL, PLATFORM_KEY, backend).expect("TEST key");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            check(case, &ring, &platform)
                .err()
                .map(|e| format!("{}: {e}", name(case)))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn check_upload(case: &Upload, ring: &PlatformKeys, platform: &MerchantKey) -> Result<(), String> {
    let mut writer = RequestWriter::new(http::Method::POST, Some(ring), NOW);
    (case.request)()
        .write(&mut writer)
        .map_err(|e| format!("does not write: {e}"))?;
    let parts = writer.finish();
    if parts.path_and_query != case.path {
        return Err(format!(
            "path {}, the spec says {}",
            parts.path_and_query, case.path
        ));
    }
    let meta = parts
        .signed_body
        .as_deref()
        .ok_or("not an upload: the signature covers the body")?;
    let mut encrypted_anything = false;
    let got = decrypted_json(meta, case.encrypted, platform, &mut encrypted_anything)?;
    let want: Value = serde_json::from_str(case.meta).map_err(|e| e.to_string())?;
    if got != want {
        return Err(format!("meta (decrypted)\n  {got}\nexpected\n  {want}"));
    }
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .ok_or_else(|| format!("Content-Type {content_type:?}"))?;
    // Every part in order: meta (exactly the signed bytes), the text parts, the file.
    let mut want_body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\n\
         Content-Type: application/json\r\n\r\n"
    )
    .into_bytes();
    want_body.extend_from_slice(meta);
    want_body.extend_from_slice(b"\r\n");
    for (name, text) in case.parts {
        want_body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n\
                 {text}\r\n"
            )
            .as_bytes(),
        );
    }
    want_body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; \
             filename=\"TEST_file.png\"\r\nContent-Type: image/png\r\n\r\n",
            case.file_part
        )
        .as_bytes(),
    );
    want_body.extend_from_slice(FILE);
    want_body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    if parts.body != want_body {
        return Err(format!(
            "body\n  {}\nexpected\n  {}",
            String::from_utf8_lossy(&parts.body),
            String::from_utf8_lossy(&want_body)
        ));
    }
    serial_matches(&parts, encrypted_anything)
}

/// The JSON `bytes` with the ciphertext at each of `encrypted` replaced by its plaintext.
fn decrypted_json(
    bytes: &[u8],
    encrypted: &[&str],
    platform: &MerchantKey,
    found: &mut bool,
) -> Result<Value, String> {
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the body is not JSON: {e}"))?;
    for path in encrypted {
        let steps: Vec<&str> = path.split('.').collect();
        decrypt_at(&mut value, &steps, platform, found).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(value)
}

/// `Wechatpay-Serial` names the TEST key exactly when something was encrypted.
fn serial_matches(parts: &RequestParts, encrypted_anything: bool) -> Result<(), String> {
    let serial = parts
        .headers
        .get("wechatpay-serial")
        .and_then(|v| v.to_str().ok());
    match (encrypted_anything, serial) {
        (true, Some(PUBLIC_KEY_ID)) | (false, None) => Ok(()),
        (true, other) => Err(format!("encrypted, but Wechatpay-Serial is {other:?}")),
        (false, Some(other)) => Err(format!("nothing encrypted, yet Wechatpay-Serial {other}")),
    }
}

fn check(case: &Case, ring: &PlatformKeys, platform: &MerchantKey) -> Result<(), String> {
    let method = case.method.parse().map_err(|_| "bad method")?;
    let mut writer = RequestWriter::new(method, Some(ring), NOW);
    (case.request)()
        .write(&mut writer)
        .map_err(|e| format!("does not write: {e}"))?;
    let parts = writer.finish();
    let (path, query) = parts
        .path_and_query
        .split_once('?')
        .unwrap_or((&parts.path_and_query, ""));
    if path != case.path {
        return Err(format!("path {path}, the spec says {}", case.path));
    }
    let mut encrypted_anything = false;
    let pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    if pairs.len() != case.query.len() {
        return Err(format!("query {query:?}, the spec says {:?}", case.query));
    }
    for ((name, value), (want_name, want, encrypted)) in pairs.iter().zip(case.query) {
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8_lossy()
            .into_owned();
        let value = if *encrypted {
            encrypted_anything = true;
            platform
                .decrypt(&value)
                .map_err(|e| format!("query {name} is not ciphertext: {e}"))?
                .to_string()
        } else {
            value
        };
        if name != want_name || value != *want {
            return Err(format!(
                "query {name}={value}, the spec says {want_name}={want}"
            ));
        }
    }
    for (name, want) in case.headers {
        let got = parts.headers.get(*name).and_then(|v| v.to_str().ok());
        if got != Some(*want) {
            return Err(format!("header {name}: {got:?}, expected {want:?}"));
        }
    }
    if case.body.is_empty() {
        if !parts.body.is_empty() {
            return Err("a body the spec does not have".into());
        }
    } else {
        let body = decrypted_json(
            &parts.body,
            case.encrypted,
            platform,
            &mut encrypted_anything,
        )?;
        let want: Value = serde_json::from_str(case.body).map_err(|e| e.to_string())?;
        if body != want {
            return Err(format!(
                "body (decrypted)\n  {body}\nthe spec's example\n  {want}"
            ));
        }
    }
    serial_matches(&parts, encrypted_anything)
}

/// Replaces the ciphertext at `steps` (where present) by its plaintext.
fn decrypt_at(
    value: &mut Value,
    steps: &[&str],
    platform: &MerchantKey,
    found: &mut bool,
) -> Result<(), String> {
    let Some((first, rest)) = steps.split_first() else {
        return match value {
            Value::String(text) => {
                let plain = platform
                    .decrypt(text)
                    .map_err(|e| format!("not ciphertext ({e})"))?;
                *text = plain.to_string();
                *found = true;
                Ok(())
            }
            Value::Array(items) => items
                .iter_mut()
                .try_for_each(|item| decrypt_at(item, &[], platform, found)),
            Value::Null => Ok(()),
            other => Err(format!("not a string: {other}")),
        };
    };
    let (key, each) = match first.strip_suffix("[]") {
        Some(key) => (key, true),
        None => (*first, false),
    };
    let Some(child) = value.get_mut(key) else {
        return Ok(()); // an optional field the example leaves out
    };
    match child {
        Value::Array(items) if each || !rest.is_empty() => items
            .iter_mut()
            .try_for_each(|item| decrypt_at(item, rest, platform, found)),
        other => decrypt_at(other, rest, platform, found),
    }
}

/// Decodes an example answer the way the client does.
pub fn decodes<E: wxpay::Endpoint>(body: &str) -> Result<(), String> {
    E::decode_response(body.as_bytes())
        .map(drop)
        .map_err(|e| e.to_string())
}

/// An example answer and the decoder of its operation.
pub struct Answer {
    pub name: &'static str,
    pub decode: fn(&str) -> Result<(), String>,
    pub body: &'static str,
}

pub fn answers(cases: &[Answer]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            (case.decode)(case.body)
                .err()
                .map(|e| format!("{}: {e}", case.name))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Every value the spec lists for an enum decodes to a variant of its own.
pub fn known<E: for<'a> From<&'a str>>(
    values: &[&str],
    unknown: fn(&E) -> bool,
    text: fn(&E) -> &str,
) {
    for value in values {
        let decoded = E::from(value);
        assert!(
            !unknown(&decoded),
            "{}: {value} is not a variant",
            std::any::type_name::<E>()
        );
        assert_eq!(text(&decoded), *value);
    }
}
