//! APIv2 from the command line: `wxpay call POST /pay/micropay --field …` signs the fields
//! into `<xml>` with the APIv2 key (`--dry-run` prints it), sends it (with the merchant's
//! client certificate when `--cert` asks) and prints the verified answer; `wxpay verify
//! v2-notification` checks a captured payment or refund notification.
//!
//! Until the APIv2 catalog is compiled in, the operation's rules come from the flags: its
//! answers are verified unless `--unsigned-answer` says the platform leaves them unsigned,
//! and the client certificate goes on the connection only with `--cert`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use http::Method;
use serde_json::{Map, Value, json};
use wxpay::apiv2::{
    self, ApiV2Error, ApiV2NotificationError, Fields, MAX_ANSWER_LEN, MAX_NOTIFICATION_LEN,
    SignType,
};
use wxpay::{ApiV2Key, CryptoBackend};
use wxpay_sandbox::Sandbox;

use crate::cli::{CallArgs, Global, V2NotificationArgs};
use crate::exit::{Exit, Failure};
use crate::fields;
use crate::output::Output;

/// The platform's APIv2 host.
const PLATFORM: &str = "https://api.mch.weixin.qq.com";

/// How long a v2 call may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `path` is an APIv2 path: every APIv3 path starts with `/v3/`, no APIv2 one does.
pub fn is_v2_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("/v3/")
}

/// What an APIv2 command needs of the merchant: the key, where to send, and the client
/// certificate (PEM certificate and key) when one is configured.
struct Settings {
    key: ApiV2Key,
    base_url: String,
    client_certificate: Option<(String, String)>,
    /// Keeps an embedded sandbox (`--sandbox`) serving as long as the command runs.
    _sandbox: Option<Sandbox>,
}

fn key(setting: &str, text: &str) -> Result<ApiV2Key, Failure> {
    // The key's text never goes into the message.
    ApiV2Key::new(text.trim()).map_err(|error| Failure::config(format!("{setting}: {error}")))
}

fn read_file(setting: &str, path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::config(format!("{setting}: cannot read {}: {e}", path.display())))
}

/// The settings the global flags ask for: the embedded sandbox, a profile (`apiv2_key`,
/// `merchant_cert`, `merchant_key`, `base_url`), or `WXPAY_APIV2_KEY`, `WXPAY_BASE_URL`,
/// `WXPAY_MERCHANT_CERT` and `WXPAY_MERCHANT_KEY`. The certificate and its key are read only
/// when `with_certificate`.
async fn settings(global: &Global, with_certificate: bool) -> Result<Settings, Failure> {
    if global.sandbox {
        let sandbox = Sandbox::builder().start().await.map_err(|error| {
            Failure::other(format!(
                "cannot start the sandbox: {}",
                crate::exit::chain(&error)
            ))
        })?;
        if with_certificate {
            return Err(Failure::config(
                "the embedded sandbox serves no HTTPS listener, so it takes no client \
                 certificate; run `wxpay-sandbox --https-ca … --https-cert … --https-key …` \
                 and point WXPAY_BASE_URL at its https: address",
            ));
        }
        let merchant = sandbox.merchant();
        eprintln!(
            "wxpay: sandbox at {} (merchant {})",
            sandbox.base_url(),
            merchant.mchid
        );
        return Ok(Settings {
            key: key("the sandbox's APIv2 key", merchant.apiv2_key.expose())?,
            base_url: sandbox.base_url().to_owned(),
            client_certificate: None,
            _sandbox: Some(sandbox),
        });
    }
    if let Some(name) = &global.profile {
        let profile = crate::config::v2_profile(global, name)?;
        let text = profile.apiv2_key.ok_or_else(|| {
            Failure::config(format!(
                "profile {name:?} has no apiv2_key (APIv2 calls sign with it)"
            ))
        })?;
        let client_certificate = match (with_certificate, profile.merchant_cert) {
            (false, _) => None,
            (true, Some(cert)) => Some((
                read_file("merchant_cert", &cert)?,
                read_file("merchant_key", &profile.merchant_key)?,
            )),
            (true, None) => {
                return Err(Failure::config(format!(
                    "profile {name:?} has no merchant_cert (apiclient_cert.pem), which --cert \
                     puts on the connection"
                )));
            }
        };
        return Ok(Settings {
            key: key("apiv2_key", &text)?,
            base_url: profile.base_url.unwrap_or_else(|| PLATFORM.to_owned()),
            client_certificate,
            _sandbox: None,
        });
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let text = var("WXPAY_APIV2_KEY").ok_or_else(|| {
        let mut failure = Failure::config("WXPAY_APIV2_KEY is not set (APIv2 calls sign with it)");
        failure
            .notes
            .push("configure it, or --profile NAME with apiv2_key, or try --sandbox".into());
        failure
    })?;
    let client_certificate = if with_certificate {
        let cert = var("WXPAY_MERCHANT_CERT").ok_or_else(|| {
            Failure::config(
                "WXPAY_MERCHANT_CERT is not set: --cert needs the merchant's API client \
                 certificate (the path to apiclient_cert.pem) and WXPAY_MERCHANT_KEY",
            )
        })?;
        let merchant_key = var("WXPAY_MERCHANT_KEY")
            .ok_or_else(|| Failure::config("WXPAY_MERCHANT_KEY is not set"))?;
        Some((
            read_file("WXPAY_MERCHANT_CERT", Path::new(&cert))?,
            read_file("WXPAY_MERCHANT_KEY", Path::new(&merchant_key))?,
        ))
    } else {
        None
    };
    Ok(Settings {
        key: key("WXPAY_APIV2_KEY", &text)?,
        base_url: var("WXPAY_BASE_URL").unwrap_or_else(|| PLATFORM.to_owned()),
        client_certificate,
        _sandbox: None,
    })
}

/// The `--sign-type` value.
fn sign_type(name: Option<&str>) -> Result<SignType, Failure> {
    match name {
        None => Ok(SignType::Md5),
        Some(name) => SignType::from_name(&name.to_ascii_uppercase()).ok_or_else(|| {
            Failure::usage(format!("--sign-type {name:?} is not MD5 or HMAC-SHA256"))
        }),
    }
}

/// The request's fields from `--body` and `--field`: flat names, each value text (a JSON
/// value given with `:=` or in `--body` goes as its JSON text: the `detail`, `receivers`, …
/// fields the platform reads as JSON).
fn request_fields(body: Map<String, Value>, args: &CallArgs) -> Result<Fields, Failure> {
    let mut object = body;
    for field in &args.fields {
        let (path, value) = fields::parse_field(field).map_err(Failure::usage)?;
        match path.as_slice() {
            [name] => {
                object.insert(name.clone(), value);
            }
            _ => {
                return Err(Failure::usage(format!(
                    "invalid --field {field:?}: APIv2 fields are flat (no `.`); give a JSON \
                     field as name:='{{…}}'"
                )));
            }
        }
    }
    let mut fields = Fields::new();
    for (name, value) in object {
        if matches!(name.as_str(), "sign" | "nonce_str" | "sign_type") {
            return Err(Failure::usage(format!(
                "{name} is the signer's: give --sign-type for the sign type, never {name}"
            )));
        }
        let text = match value {
            Value::String(text) => text,
            Value::Null => continue,
            other => other.to_string(),
        };
        fields.insert(name, text);
    }
    Ok(fields)
}

/// `wxpay call METHOD /path` for an APIv2 path.
pub async fn call(
    global: &Global,
    out: &Output,
    args: &CallArgs,
    method: Method,
    path: &str,
    body: Map<String, Value>,
) -> Result<(), Failure> {
    if method != Method::POST {
        return Err(Failure::usage(format!(
            "{method} {path}: the command line sends APIv2 requests as POST <xml> (the GET \
             contract-signing pages open in a browser)"
        )));
    }
    if args.host.is_some() {
        return Err(Failure::usage(
            "--host names an APIv3 host; an APIv2 call goes to WXPAY_BASE_URL (or the profile's \
             base_url)",
        ));
    }
    let sign_type = sign_type(args.sign_type.as_deref())?;
    let fields = request_fields(body, args)?;
    if fields.is_empty() {
        return Err(Failure::usage(format!(
            "{path}: give the request's fields with --field name=value"
        )));
    }
    // A dry run needs no certificate: nothing goes on a connection.
    let settings = settings(global, args.cert && !args.dry_run).await?;
    let backend = CryptoBackend::default();
    let nonce = wxpay::protocol::nonce().map_err(|e| Failure::other(e.to_string()))?;
    let xml = apiv2::signed_request_xml(fields, Some(&nonce), &settings.key, sign_type, backend)
        .map_err(|error| Failure::usage(crate::exit::chain(&error)))?;
    let url = format!("{}{path}", settings.base_url.trim_end_matches('/'));
    if args.dry_run {
        let document = json!({
            "dry_run": true,
            "protocol": "APIv2",
            "method": "POST",
            "url": url,
            "sign_type": sign_type.as_str(),
            "client_certificate": args.cert,
            "headers": [["content-type", "text/xml; charset=utf-8"]],
            "body": xml,
        });
        out.print(&document, || {
            format!("POST {url}\ncontent-type: text/xml; charset=utf-8\n\n{xml}\n")
        });
        if !out.is_json() {
            eprintln!("dry run: signed ({sign_type}), not sent");
        }
        return Ok(());
    }

    let client = http_client(&settings, args.ca_cert.as_deref())?;
    let answer = client
        .post(&url)
        .header(http::header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .body(xml)
        .send()
        .await
        .map_err(|e| Failure::new(Exit::Transport, format!("POST {url}: {}", chain(&e))))?;
    let status = answer.status();
    let body = read_limited(answer, MAX_ANSWER_LEN)
        .await
        .map_err(|e| Failure::new(Exit::Transport, format!("POST {url}: {e}")))?;
    let verified = !args.unsigned_answer;
    let fields = apiv2::read_answer(&body, &settings.key, sign_type, verified, backend)
        .map_err(|error| answer_failure(&error, status))?;
    let document = json!({
        "protocol": "APIv2",
        "status": status.as_u16(),
        "verified": verified,
        "sign_type": sign_type.as_str(),
        "body": fields_object(&fields),
    });
    out.print(&document, || {
        let mut text = format!(
            "{} {} — {}\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            if verified {
                format!("sign verified ({sign_type})")
            } else {
                "unsigned answer (--unsigned-answer): not verified".to_owned()
            }
        );
        text.push_str(&fields_text(&fields));
        text
    });
    Ok(())
}

/// The HTTPS client for one call: no redirects (a redirect would re-send the signed body
/// elsewhere), the client certificate when configured, and `--ca-cert` trusted beside the
/// system's roots.
fn http_client(settings: &Settings, ca_cert: Option<&Path>) -> Result<reqwest::Client, Failure> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(concat!("wxpay-cli/", env!("CARGO_PKG_VERSION")));
    if let Some((cert, key)) = &settings.client_certificate {
        let identity =
            reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes()).map_err(|_| {
                Failure::config(
                    "the merchant certificate and key are not a PEM certificate and its \
                     private key",
                )
            })?;
        builder = builder.identity(identity);
    }
    if let Some(path) = ca_cert {
        let pem = read_file("--ca-cert", path)?;
        let certificate = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|_| {
            Failure::config(format!(
                "--ca-cert {}: not a PEM certificate",
                path.display()
            ))
        })?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build()
        .map_err(|e| Failure::config(format!("cannot set up HTTPS: {}", chain(&e))))
}

async fn read_limited(mut answer: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|e| format!("the answer did not come back whole: {}", chain(&e)))?
    {
        if body.len() + chunk.len() > limit {
            return Err(format!("the answer is over {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn chain(error: &dyn std::error::Error) -> String {
    crate::exit::chain(error)
}

/// An answer that is an error or not data, with its exit code.
fn answer_failure(error: &ApiV2Error, status: http::StatusCode) -> Failure {
    let exit = match error {
        ApiV2Error::Platform { .. } | ApiV2Error::Business { .. } => Exit::Api,
        _ => Exit::Verification,
    };
    let mut failure = Failure::new(exit, format!("APIv2 answer ({status}): {}", chain(error)));
    if let ApiV2Error::Business {
        err_code,
        err_code_des,
    } = error
    {
        failure.details = Some(json!({
            "status": status.as_u16(),
            "err_code": err_code,
            "err_code_des": err_code_des,
        }));
    } else if let ApiV2Error::Platform { return_msg } = error {
        failure.details = Some(json!({
            "status": status.as_u16(),
            "return_msg": return_msg,
        }));
    }
    failure
}

fn fields_object(fields: &Fields) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(name, value)| (name.to_owned(), Value::String(value.to_owned())))
            .collect(),
    )
}

fn fields_text(fields: &Fields) -> String {
    let width = fields.names().map(str::len).max().unwrap_or(0);
    fields
        .iter()
        .map(|(name, value)| format!("{name:width$}  {value}\n"))
        .collect()
}

/// `wxpay verify v2-notification`: a payment result (signed `<xml>`) or a refund result
/// (`req_info`), told apart by `req_info`.
pub async fn verify_notification(
    global: &Global,
    out: &Output,
    args: V2NotificationArgs,
) -> Result<(), Failure> {
    let body = read_body(&args.body)?;
    let sign_type = sign_type(args.sign_type.as_deref())?;
    let settings = settings(global, false).await?;
    let backend = CryptoBackend::default();
    let refund = apiv2::parse_with(&body, "xml", MAX_NOTIFICATION_LEN)
        .map(|fields| fields.get("req_info").is_some())
        .unwrap_or(false);
    let failure = |error: ApiV2NotificationError| {
        Failure::new(
            Exit::Verification,
            format!("the notification is not trusted: {}", chain(&error)),
        )
    };
    let (kind, check, shown) = if refund {
        let notification =
            apiv2::read_refund_notification(&body, &settings.key, backend).map_err(failure)?;
        (
            "refund",
            "req_info decrypted with the APIv2 key".to_owned(),
            notification.refund,
        )
    } else {
        let fields = apiv2::read_payment_notification(&body, &settings.key, sign_type, backend)
            .map_err(failure)?;
        ("payment", format!("sign verified ({sign_type})"), fields)
    };
    let document = json!({
        "verified": true,
        "protocol": "APIv2",
        "kind": kind,
        "fields": fields_object(&shown),
    });
    out.print(&document, || {
        format!(
            "{kind} notification verified: {check}\n{}",
            fields_text(&shown)
        )
    });
    Ok(())
}

fn read_body(path: &PathBuf) -> Result<Vec<u8>, Failure> {
    if path.as_os_str() == "-" {
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut body)
            .map_err(|e| Failure::usage(format!("cannot read --body from stdin: {e}")))?;
        return Ok(body);
    }
    std::fs::read(path)
        .map_err(|e| Failure::usage(format!("cannot read --body {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_paths_are_the_ones_outside_v3() {
        assert!(is_v2_path("/pay/micropay"));
        assert!(is_v2_path("/mmpaymkttransfers/sendredpack"));
        assert!(!is_v2_path("/v3/pay/transactions/native"));
        assert!(!is_v2_path("PauseStock"));
    }

    #[test]
    fn sign_types_by_name() {
        assert_eq!(sign_type(None).unwrap(), SignType::Md5);
        assert_eq!(
            sign_type(Some("hmac-sha256")).unwrap(),
            SignType::HmacSha256
        );
        assert!(sign_type(Some("SHA1")).is_err());
    }
}
