//! What the generated APIv2 cases run: each declaration against the spec's facts, its signed
//! request element by element against the spec's examples, each example answer through the
//! runtime's decoding, and every operation through one client to the sandbox over the wire.
//! Every failure is collected and reported together, so one run shows every operation that is
//! off.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use wxpay::apiv2::{self, ApiV2Error, CallContext, Fields, SignType};
use wxpay::{
    ApiV2, ApiV2Answer, ApiV2Key, Client, ClientBuilder, ConfigError, CryptoBackend, Endpoint,
    Error, Host, Protocol, RetryPolicy, SignTypes, UploadFile,
};
use wxpay_sandbox::Sandbox;

use crate::common::{v2_fixture as fixture, v2_sandbox};

/// One operation: how to build its request (constructor and every setter), and what the spec
/// says of it.
pub struct Case {
    pub name: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub host: Host,
    pub protocol: ApiV2,
    pub idempotent: bool,
    pub request: fn() -> Box<dyn Declared>,
    /// The request's elements as built from the spec's examples, `(name, text)`.
    pub fields: &'static [(&'static str, &'static str)],
    /// The request sent over the wire, when it differs from `request`: the sandbox's merchant
    /// id in place of the example's, which the sandbox (as the platform) would refuse.
    pub wire: Option<fn() -> Box<dyn Declared>>,
}

/// What a declaration says of itself, the request it prepares and what sending it gives.
pub trait Declared {
    fn declaration(&self) -> (&'static str, &'static str, Host, Protocol, bool);
    fn prepare(&self, context: &CallContext<'_>) -> Result<http::Request<Vec<u8>>, Error>;
    /// Sends it with `client`: the typed answer, boxed.
    fn send(self: Box<Self>, client: &Client) -> Sending<'_>;
    /// The signed URL of a page for the user's browser, as `client` gives it.
    fn page_url(&self, client: &Client) -> Result<http::Uri, Error>;
}

pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<Box<dyn Any>, Error>> + 'a>>;

impl<E: Endpoint + Send + Sync + 'static> Declared for E
where
    E::Response: 'static,
{
    fn declaration(&self) -> (&'static str, &'static str, Host, Protocol, bool) {
        let method = match E::METHOD.as_str() {
            "GET" => "GET",
            "POST" => "POST",
            _ => "another method",
        };
        (
            method,
            E::PATH_TEMPLATE,
            E::HOST,
            E::PROTOCOL,
            E::IDEMPOTENT,
        )
    }

    fn prepare(&self, context: &CallContext<'_>) -> Result<http::Request<Vec<u8>>, Error> {
        apiv2::prepare(self, context, NONCE)
    }

    fn send(self: Box<Self>, client: &Client) -> Sending<'_> {
        Box::pin(async move {
            let answer = client.send(*self).await?;
            Ok(Box::new(answer) as Box<dyn Any>)
        })
    }

    fn page_url(&self, client: &Client) -> Result<http::Uri, Error> {
        client.page_url(self)
    }
}

/// The file every upload case sends; xtask's `CASE_FILE_MD5` is its MD5, as `md5sum` gives it.
pub fn file() -> UploadFile {
    UploadFile::new("TEST_media.jpg", "image/jpeg", FILE.to_vec()).expect("a valid file")
}

const FILE: &[u8] = b"TEST media";

/// The TEST APIv2 key (the merchant's and the sandbox's) and the nonce requests are prepared with.
const KEY: &str = "TEST0APIv2Key0catalog0123456789a";
const NONCE: &str = "TEST5K8264ILTKCH16CQ2502SI8ZNMTM";
const BASE_URL: &str = "https://api.mch.weixin.qq.com";

/// Each declaration against the spec's facts, and the request it signs against the examples.
pub fn declarations(cases: &[Case]) {
    let mut problems = Vec::new();
    for case in cases {
        let request = (case.request)();
        let declared = request.declaration();
        let spec = (
            case.method,
            case.path,
            case.host,
            Protocol::ApiV2(case.protocol),
            case.idempotent,
        );
        if declared != spec {
            problems.push(format!(
                "{}: declared {declared:?}, the spec says {spec:?}",
                case.name
            ));
        }
        if let Err(e) = exact_request(case, request.as_ref()) {
            problems.push(format!("{}: {e}", case.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The prepared request carries exactly the example's elements, then `nonce_str` (unless the
/// operation has none), `sign_type` (HMAC-SHA256 only: MD5 goes unnamed) and a `sign` that
/// verifies with the key (none for `unsigned_request`); in the `<xml>` body of a POST (the
/// text parts of an upload, beside its file), in the query of a GET. A POST's query
/// parameters (`action`) are in its URL, and the sign is checked over the body alone: a sign
/// that covered them would not verify.
fn exact_request(case: &Case, request: &dyn Declared) -> Result<(), String> {
    let backend = CryptoBackend::default();
    let key = ApiV2Key::new(KEY).map_err(|e| e.to_string())?;
    // HMAC-SHA256 where the operation lets the caller choose, as the client prefers.
    let context = CallContext::new(base_url(case.host), &key, backend);
    let prepared = request
        .prepare(&context)
        .map_err(|e| format!("not prepared: {e}"))?;
    let url = format!("{}{}", base_url(case.host), case.path);
    let uri = prepared.uri().to_string();
    let (at, query) = uri.split_once('?').unwrap_or((&uri, ""));
    let query = query_fields(query)?;
    let content_type = prepared
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (sent, beside) = match case.method {
        "GET" => (query, Fields::new()),
        _ if content_type.starts_with("multipart/form-data") => {
            (upload_parts(content_type, prepared.body())?, query)
        }
        _ => {
            let fields = apiv2::parse(prepared.body()).map_err(|e| format!("not <xml>: {e}"))?;
            (fields, query)
        }
    };
    if at != url {
        return Err(format!("sent to {at}, the spec says {url}"));
    }
    let signed = case.protocol.signed_request;
    let sign_type = match case.protocol.sign_types {
        SignTypes::Md5 => SignType::Md5,
        _ => SignType::HmacSha256,
    };
    let mut expected: Vec<(&str, &str)> = case.fields.to_vec();
    if case.protocol.nonce {
        expected.push(("nonce_str", NONCE));
    }
    if signed && sign_type == SignType::HmacSha256 {
        expected.push(("sign_type", "HMAC-SHA256"));
    }
    let mut unsigned: Vec<(&str, &str)> = sent
        .iter()
        .chain(beside.iter())
        .filter(|(name, _)| *name != "sign")
        .collect();
    unsigned.sort_unstable();
    expected.sort_unstable();
    if unsigned != expected {
        return Err(format!(
            "sent {unsigned:?}\n  the examples give {expected:?}"
        ));
    }
    let signs = sent
        .names()
        .chain(beside.names())
        .filter(|name| *name == "sign")
        .count();
    if !signed {
        return match signs {
            0 => Ok(()),
            _ => Err("a `sign` on an unsigned request".to_owned()),
        };
    }
    if signs != 1 || sent.get("sign").is_none() {
        return Err("no single `sign` in the body".to_owned());
    }
    apiv2::verify(&sent, &key, sign_type, backend).map_err(|e| format!("its sign: {e}"))
}

/// The platform's base URL of `host`, as the client maps it.
fn base_url(host: Host) -> &'static str {
    match host {
        Host::Api => BASE_URL,
        other => other.default_base_url(),
    }
}

/// The text parts of an upload, after checking that its one file part is [`file`]'s.
fn upload_parts(content_type: &str, body: &[u8]) -> Result<Fields, String> {
    let boundary = content_type
        .split_once("boundary=")
        .map(|(_, b)| b)
        .ok_or("multipart without a boundary")?;
    let delimiter = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    let ending = format!("\r\n{delimiter}--\r\n");
    if !text.ends_with(&ending) {
        return Err("the multipart body is not closed".to_owned());
    }
    let mut fields = Fields::new();
    let mut files = Vec::new();
    let expected = file();
    for part in text[..text.len() - ending.len() + 2]
        .split(delimiter.as_str())
        .skip(1)
    {
        let part = part.strip_prefix("\r\n").ok_or("a part without its line")?;
        let (head, value) = part
            .split_once("\r\n\r\n")
            .ok_or("a part without headers")?;
        let value = value.strip_suffix("\r\n").ok_or("a part not ended")?;
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or("a part without a name")?;
        if head.contains("filename=") {
            let wanted = format!(
                "filename=\"{}\"\r\nContent-Type: {}",
                expected.filename(),
                expected.content_type()
            );
            if !head.contains(&wanted) || value.as_bytes() != expected.content() {
                return Err(format!("file part `{name}` is not the case's file: {head}"));
            }
            files.push(name.to_owned());
        } else {
            fields.insert(name, value);
        }
    }
    if files.len() != 1 {
        return Err(format!("{} file parts", files.len()));
    }
    Ok(fields)
}

/// The fields of a query string, percent-decoded.
fn query_fields(query: &str) -> Result<Fields, String> {
    let mut fields = Fields::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8()
                .map(|text| text.into_owned())
                .map_err(|e| format!("query {pair}: {e}"))
        };
        fields.insert(decode(name)?, decode(value)?);
    }
    Ok(fields)
}

/// One example answer: the `<xml>` a successful call receives.
pub struct Answer {
    pub name: &'static str,
    pub decode: fn(&str) -> Result<(), String>,
    pub body: &'static str,
}

/// Decodes `body` as `E`'s answer, the way the client does after verifying it.
pub fn decodes<E: Endpoint>(body: &str) -> Result<(), String> {
    E::decode_response(body.as_bytes())
        .map(drop)
        .map_err(|e| e.to_string())
}

pub fn answers(cases: &[Answer]) {
    let problems: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            (case.decode)(case.body)
                .err()
                .map(|e| format!("{}: {e}\n  {}", case.name, case.body))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The verified business errors the sandbox gives for the spec's example values, as the
/// platform would: `(path, err_code, err_code_des)`, each for the reason beside it.
const BUSINESS: &[(&str, &str, &str)] = &[
    // The example `mch_billno` names a red packet no earlier operation sent.
    (
        "/mmpaymkttransfers/gethbinfo",
        "NOT_FOUND",
        "指定单号数据不存在",
    ),
    // The spec's examples share one `mch_billno` across the red-packet operations: the first
    // sent is stored, and these carry other values under it (the platform's duplicate-billno
    // error).
    (
        "/mmpaymkttransfers/sendminiprogramhb",
        "PARAM_ERROR",
        "商户订单号重复，且与原请求的参数不一致",
    ),
    (
        "/mmpaymkttransfers/sendredpack",
        "PARAM_ERROR",
        "商户订单号重复，且与原请求的参数不一致",
    ),
    // The example `enc_bank_no` is not RSA-OAEP ciphertext under the key `getpublickey` hands
    // out (the spec's value is hex), so the payout is refused.
    (
        "/mmpaysptrans/pay_bank",
        "PARAM_ERROR",
        "enc_bank_no 解密失败，请使用 getpublickey 获取的公钥以 RSA-OAEP 加密",
    ),
    // The example order / refund ids name records the sandbox has not got.
    ("/pay/closeorder", "ORDERNOTEXIST", "订单不存在"),
    ("/pay/orderquery", "ORDERNOTEXIST", "此交易订单号不存在"),
    ("/pay/refundquery", "REFUNDNOTEXIST", "退款订单查询失败"),
];

/// The sandbox the wire tests send to: the merchant's TEST certificate registered, the APIv2
/// key, the HTTPS listener with the TEST CA.
async fn start_sandbox() -> Sandbox {
    v2_sandbox(KEY).start().await.expect("sandbox starts")
}

/// A client of `sandbox`'s merchant aimed at its HTTPS listener, without the client
/// certificate (add it with `merchant_certificate`).
fn client_builder(sandbox: &Sandbox) -> ClientBuilder {
    let mut settings = sandbox.settings();
    settings.push((
        "WXPAY_MERCHANT_KEY".into(),
        fixture("TEST-apiclient-key.pem"),
    ));
    ClientBuilder::from_settings(settings)
        .expect("the sandbox's settings")
        .apiv2_key(ApiV2Key::new(KEY).expect("the TEST APIv2 key"))
        .root_certificate(fixture("TEST-ca-cert.pem"))
        .base_url(sandbox.https_url().expect("the HTTPS listener"))
        // Each operation once: what the sandbox answers first is what is checked.
        .retry_policy(RetryPolicy::never())
        .timeouts(Duration::from_secs(5), Duration::from_secs(20))
}

/// A bank-card payout through its declaration, as its doc example reads: the key from
/// `getpublickey`, the card number and the name encrypted with it, paid by the sandbox (which
/// refuses the spec's example values: [`BUSINESS`]).
#[tokio::test]
async fn a_bank_payout_encrypted_with_the_fetched_key_is_paid() {
    use wxpay::apis::v2::transfer::{TransferToBankCard, TransferToBankCardRequired};

    let sandbox = start_sandbox().await;
    let client = client_builder(&sandbox)
        .merchant_certificate(fixture("TEST-apiclient-cert.pem"))
        .build()
        .expect("client");
    let key = client.bank_payout_key().await.expect("getpublickey");
    let paid = client
        .send(TransferToBankCard::new(TransferToBankCardRequired {
            amount: 100_000,
            bank_code: "1002".into(),
            enc_bank_no: key.encrypt("6222020200000000000").expect("encrypted"),
            enc_true_name: key.encrypt("张三").expect("encrypted"),
            mch_id: client.mchid().into(),
            partner_trade_no: "TESTbank0001".into(),
        }))
        .await
        .expect("an encrypted payout is paid");
    assert_eq!(paid.partner_trade_no, "TESTbank0001");
    assert_eq!(paid.amount, 100_000);
    assert!(!paid.payment_no.is_empty());
    assert_eq!(sandbox.bank_payout_key_fetches(), 1);
}

/// Sends every case of the catalog, built from the spec's examples, through one client (APIv2
/// key, merchant certificate, the TEST CA as root) to the sandbox's HTTPS listener. Each must
/// be answered (verified and decoded; the bill's text; nothing where the operation declares no
/// answer) or be one of the verified business errors of [`BUSINESS`], exactly; a page for the
/// user's browser is opened by its signed URL, which the sandbox must accept. The `cert` ones
/// went over mTLS: the sandbox, as the platform, refuses them without the certificate, which
/// the end checks with one of them.
pub fn over_the_wire(cases: &[Case], spec_operations: usize, not_declared: &[(&str, &str)]) {
    // The catalog: the spec less what it lists as not declared, every entry a case.
    let catalog = wxpay::apis::v2::OPERATIONS;
    assert_eq!(
        catalog.len(),
        spec_operations - not_declared.len(),
        "the catalog declares every operation of the spec but {not_declared:?}"
    );
    let listed: BTreeSet<(&str, &str)> = catalog.iter().map(|op| (op.method, op.path)).collect();
    let sent: BTreeSet<(&str, &str)> = cases.iter().map(|case| (case.method, case.path)).collect();
    assert_eq!(listed, sent, "a case for every operation of the catalog");
    assert_eq!(cases.len(), catalog.len(), "each operation once");
    let cert_operations = catalog
        .iter()
        .filter(|op| op.protocol.client_certificate)
        .count();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let sandbox = start_sandbox().await;
        let https_url = sandbox.https_url().expect("the HTTPS listener");
        let builder = || client_builder(&sandbox);
        let client = builder()
            .merchant_certificate(fixture("TEST-apiclient-cert.pem"))
            .build()
            .expect("client");
        // The user's browser: trusts the TEST CA, has no client certificate.
        let browser = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(
                fixture("TEST-ca-cert.pem").as_bytes(),
            )
            .expect("the TEST CA")])
            .timeout(Duration::from_secs(20))
            // A redirect is what a browser page answers (`authindex`), checked as it is.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a browser");

        let mut failures = Vec::new();
        let (mut answered, mut mtls, mut pages) = (0, 0, 0);
        let mut business = BTreeMap::new();
        for case in cases {
            let request = case.wire.unwrap_or(case.request)();
            let outcome = if case.protocol.answer == ApiV2Answer::Page {
                pages += 1;
                let signed = case.protocol.signed_request;
                open_page(&browser, request.page_url(&client), signed).await
            } else {
                match request.send(&client).await {
                    Ok(answer) => check_answer(answer.as_ref()),
                    Err(Error::ApiV2(ApiV2Error::Business {
                        err_code,
                        err_code_des,
                    })) => {
                        // Verified: the sign is checked before `result_code` is read.
                        business.insert(case.path, (err_code, err_code_des));
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            };
            match outcome {
                Ok(()) => {
                    answered += 1;
                    if case.protocol.client_certificate {
                        mtls += 1;
                    }
                }
                Err(e) => failures.push(format!(
                    "{} ({} {}): {e}",
                    case.name, case.method, case.path
                )),
            }
        }
        let expected: BTreeMap<&str, (Option<String>, Option<String>)> = BUSINESS
            .iter()
            .map(|(path, code, description)| {
                (
                    *path,
                    (Some((*code).to_owned()), Some((*description).to_owned())),
                )
            })
            .collect();
        if business != expected {
            failures.push(format!(
                "business errors {business:?}, expected exactly {expected:?}"
            ));
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
        eprintln!(
            "{answered} APIv2 operations over the wire ({pages} pages by their signed URL), \
             {mtls} over mTLS, {} with a verified business error",
            business.len()
        );
        assert_eq!(answered, catalog.len(), "every operation of the catalog");
        assert_eq!(mtls, cert_operations, "every `cert` operation over mTLS");

        // Without the certificate a `cert` operation is not sent by the client, and refused
        // by the sandbox when sent anyway: so the ones above went over mTLS.
        let cert_case = cases
            .iter()
            .find(|case| case.protocol.client_certificate)
            .expect("a `cert` operation");
        let without = builder().build().expect("a client without the certificate");
        match cert_case.wire.unwrap_or(cert_case.request)()
            .send(&without)
            .await
        {
            Err(Error::Config(ConfigError::Missing { setting })) => {
                assert_eq!(setting, "merchant_certificate")
            }
            other => panic!(
                "{} without the certificate: {:?}",
                cert_case.path,
                other.map(|_| "an answer")
            ),
        }
        let key = ApiV2Key::new(KEY).expect("the TEST APIv2 key");
        let context = CallContext::new(https_url, &key, CryptoBackend::default());
        let signed = cert_case.wire.unwrap_or(cert_case.request)()
            .prepare(&context)
            .expect("prepared");
        let refused = browser
            .execute(reqwest::Request::try_from(signed).expect("a request"))
            .await
            .expect("answered");
        let refusal = apiv2::parse(&refused.bytes().await.expect("its body")).expect("<xml>");
        assert_eq!(refusal.get("return_code"), Some("FAIL"));
        assert_eq!(refusal.get("return_msg"), Some("请求未携带证书或证书无效"));
    });
}

/// Opens a page's signed URL as the user's browser would: the sandbox answers the page (HTML)
/// when the sign holds, its `<xml>` FAIL otherwise; with the sign altered it must refuse.
/// A page whose request no key signs (`authindex`) is the platform's redirect to where the
/// user authorises.
async fn open_page(
    browser: &reqwest::Client,
    url: Result<http::Uri, Error>,
    signed: bool,
) -> Result<(), String> {
    let url = url.map_err(|e| format!("no signed URL: {e}"))?.to_string();
    let open = |url: String| async move {
        let answer = browser.get(url).send().await.map_err(|e| e.to_string())?;
        let html = answer
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
        let status = answer.status();
        let body = answer.text().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((status, html, body))
    };
    if !signed {
        let answer = browser.get(&url).send().await.map_err(|e| e.to_string())?;
        let redirected =
            answer.status() == 302 && answer.headers().contains_key(http::header::LOCATION);
        return match (redirected, url.contains("sign=")) {
            (true, false) => Ok(()),
            (_, true) => Err(format!("an unsigned page carries a sign: {url}")),
            (false, _) => Err(format!("not redirected: {}", answer.status())),
        };
    }
    let (status, html, body) = open(url.clone()).await?;
    if status != 200 || !html {
        return Err(format!("the page was not served: {status} {body}"));
    }
    let (at, rest) = url.rsplit_once("&sign=").ok_or("no sign in the URL")?;
    let altered = match rest.chars().next() {
        Some('0') => format!("{at}&sign=1{}", &rest[1..]),
        _ => format!("{at}&sign=0{}", rest.get(1..).unwrap_or("")),
    };
    let (_, _, refusal) = open(altered).await?;
    let refusal = apiv2::parse(refusal.as_bytes()).map_err(|e| format!("{e}: {refusal}"))?;
    match refusal.get("return_msg") {
        Some("签名错误") => Ok(()),
        other => Err(format!("an altered sign was not refused: {other:?}")),
    }
}

/// What the client gave: a decoded answer is right as it is (`send` verified and decoded it);
/// a bill must be the sandbox's bill text.
fn check_answer(answer: &dyn Any) -> Result<(), String> {
    match answer.downcast_ref::<String>() {
        Some(bill) if !bill.starts_with("交易时间,") || !bill.contains("`1230000109") => {
            Err(format!("not the bill: {bill:?}"))
        }
        _ => Ok(()),
    }
}
