//! APIv2 from the command line: `wxpay call SendRedpack --field …` (a name of the APIv2
//! catalog, `wxpay::apis::v2::OPERATIONS`) or `wxpay call POST /pay/micropay --field …` signs
//! the fields into `<xml>` with the APIv2 key (`--dry-run` prints it), sends it through the
//! library's client (`Client::apiv2`: its retries, its connection with the merchant's client
//! certificate, its answer checks) and prints the verified answer; `wxpay verify
//! v2-notification` checks a captured payment or refund notification.
//!
//! An operation's rules (sign types, client certificate, signed or unsigned answer, nonce,
//! host) come from the catalog. The flags `--sign-type`, `--cert`, `--unsigned-answer` and
//! `--host` give them for a path the catalog does not know; on a catalog operation they may
//! only choose what the catalog leaves open (the sign type of an operation that takes either)
//! or repeat it: a flag that contradicts the catalog is a usage error, never an override (an
//! override could turn off the verification of a signed answer).

use std::path::PathBuf;

use http::Method;
use serde_json::{Map, Value, json};
use wxpay::apis::v2::Operation;
use wxpay::apiv2::{
    self, ApiV2Error, ApiV2NotificationError, Fields, MAX_NOTIFICATION_LEN, SignType,
};
use wxpay::{ApiV2, ApiV2Answer, ApiV2Key, ConfigError, CryptoBackend, Error, Host, SignTypes};
use wxpay_sandbox::Sandbox;

use crate::cli::{CallArgs, Global, V2NotificationArgs};
use crate::exit::{Exit, Failure};
use crate::fields;
use crate::output::Output;

/// Whether `path` is an APIv2 path: every APIv3 path starts with `/v3/`, `/hk/` or
/// `/global/`, no APIv2 one does.
pub fn is_v2_path(path: &str) -> bool {
    path.starts_with('/')
        && !["/v3/", "/hk/", "/global/"]
            .iter()
            .any(|p| path.starts_with(p))
}

/// The `--sign-type` value.
fn sign_type(name: Option<&str>) -> Result<Option<SignType>, Failure> {
    name.map(|name| {
        SignType::from_name(&name.to_ascii_uppercase()).ok_or_else(|| {
            Failure::usage(format!("--sign-type {name:?} is not MD5 or HMAC-SHA256"))
        })
    })
    .transpose()
}

fn only(sign_type: SignType) -> SignTypes {
    match sign_type {
        SignType::HmacSha256 => SignTypes::HmacSha256,
        _ => SignTypes::Md5,
    }
}

/// The rules of the call: the catalog's, narrowed by `--sign-type` where it takes either; for
/// a path it does not know, the flags'.
fn rules(operation: Option<&Operation>, args: &CallArgs) -> Result<ApiV2, Failure> {
    let chosen = sign_type(args.sign_type.as_deref())?;
    let Some(op) = operation else {
        return Ok(ApiV2::new()
            .with_sign_types(chosen.map_or(SignTypes::Md5, only))
            .with_client_certificate(args.cert)
            .with_signed_answer(!args.unsigned_answer));
    };
    let name = format!("v2::{}::{}", op.module, op.name);
    let mut rules = op.protocol;
    if let Some(chosen) = chosen {
        let wanted = only(chosen);
        match rules.sign_types {
            SignTypes::Either => rules = rules.with_sign_types(wanted),
            fixed if fixed == wanted => {}
            _ => {
                return Err(Failure::usage(format!(
                    "{name} is signed {} only (the catalog); drop --sign-type {chosen}",
                    if chosen == SignType::Md5 {
                        "HMAC-SHA256"
                    } else {
                        "MD5"
                    }
                )));
            }
        }
    }
    if args.cert && !rules.client_certificate {
        return Err(Failure::usage(format!(
            "{name} takes no client certificate (the catalog); drop --cert"
        )));
    }
    if args.unsigned_answer && rules.signed_answer {
        return Err(Failure::usage(format!(
            "the platform signs the answers of {name} (the catalog), and they are verified; \
             drop --unsigned-answer"
        )));
    }
    Ok(rules)
}

/// The host: the catalog's, or `--host` for a path it does not know.
fn host(operation: Option<&Operation>, key: Option<&str>) -> Result<Host, Failure> {
    let flag = key
        .map(|key| {
            Host::from_key(key).ok_or_else(|| {
                let keys: Vec<&str> = Host::ALL.iter().map(|host| host.key()).collect();
                Failure::usage(format!(
                    "--host {key:?} is not a host key ({})",
                    keys.join(", ")
                ))
            })
        })
        .transpose()?;
    match (operation, flag) {
        (Some(op), Some(flag)) if flag != op.host => Err(Failure::usage(format!(
            "v2::{}::{} is served on {} (the catalog); drop --host {flag}",
            op.module, op.name, op.host
        ))),
        (Some(op), _) => Ok(op.host),
        (None, flag) => Ok(flag.unwrap_or(Host::Api)),
    }
}

/// `wxpay call` of an APIv2 operation: `operation` when the catalog knows it, else `method`
/// and `path` as given.
pub async fn call(
    global: &Global,
    out: &Output,
    args: &CallArgs,
    operation: Option<&'static Operation>,
    method: Method,
    path: &str,
    body: Map<String, Value>,
) -> Result<(), Failure> {
    let name = operation.map(|op| format!("v2::{}::{}", op.module, op.name));
    let shown = name.clone().unwrap_or_else(|| path.to_owned());
    if method != Method::POST && method != Method::GET {
        return Err(Failure::usage(format!(
            "{method} {path}: an APIv2 request is a POST <xml> (or a GET for the \
             contract-signing pages)"
        )));
    }
    if method == Method::GET && !args.dry_run {
        return Err(Failure::usage(format!(
            "{shown} is a page the user opens in a browser (GET): --dry-run prints its signed \
             URL"
        )));
    }
    let rules = rules(operation, args)?;
    let host = host(operation, args.host.as_deref())?;
    let fields = request_fields(body, args)?;
    if fields.is_empty() {
        return Err(Failure::usage(format!(
            "{shown}: give the request's fields with --field name=value"
        )));
    }
    let session = crate::config::connect_trusting(global, None, args.ca_cert.as_deref()).await?;
    let client = &session.client;
    let mut request = client
        .apiv2(method.clone(), path)
        .rules(rules)
        .host(host)
        .idempotent(operation.is_some_and(|op| op.idempotent));
    for (field, value) in fields {
        request = match value {
            Value::String(text) => request.field(&field, text),
            // The fields the platform reads as JSON (`detail`, `receivers`) go as JSON text.
            other => request.json_field(&field, &other),
        };
    }
    let sign_type = request.sign_type().map_err(|e| failure(e, global))?;
    if args.dry_run {
        // A dry run needs no certificate: nothing goes on a connection.
        let signed = request.prepare().map_err(|e| failure(e, global))?;
        let url = signed.uri().to_string();
        let body = String::from_utf8_lossy(signed.body()).into_owned();
        let headers: Vec<(String, String)> = signed
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let document = json!({
            "dry_run": true,
            "protocol": "APIv2",
            "operation": name,
            "host": host.key(),
            "method": method.as_str(),
            "url": url,
            "sign_type": sign_type.as_str(),
            "client_certificate": rules.client_certificate,
            "signed_answer": rules.signed_answer,
            "headers": headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "body": body,
        });
        out.print(&document, || {
            let mut text = format!("{method} {url}\n");
            for (name, value) in &headers {
                text.push_str(&format!("{name}: {value}\n"));
            }
            if !body.is_empty() {
                text.push('\n');
                text.push_str(&body);
                text.push('\n');
            }
            text
        });
        if !out.is_json() {
            eprintln!("dry run: signed ({sign_type}), not sent");
        }
        return Ok(());
    }

    if matches!(rules.answer, ApiV2Answer::Text | ApiV2Answer::Json) {
        // A bill or a JSON answer: the text as it came (its `<xml>` failure is an error).
        let answer = request.send_text().await.map_err(|e| failure(e, global))?;
        let body = match rules.answer {
            ApiV2Answer::Json => serde_json::from_str(&answer.value)
                .unwrap_or_else(|_| Value::String(answer.value.clone())),
            _ => Value::String(answer.value.clone()),
        };
        let document = json!({
            "protocol": "APIv2",
            "operation": name,
            "status": answer.status.as_u16(),
            "verified": false,
            "body": body,
        });
        out.print(&document, || answer.value.clone());
        return Ok(());
    }
    let answer = request
        .send_verified()
        .await
        .map_err(|e| failure(e, global))?;
    let verified = rules.signed_answer;
    let document = json!({
        "protocol": "APIv2",
        "operation": name,
        "status": answer.status.as_u16(),
        "verified": verified,
        "sign_type": sign_type.as_str(),
        "body": fields_object(&answer.value),
    });
    out.print(&document, || {
        let mut text = format!(
            "{} {} — {}\n",
            answer.status.as_u16(),
            answer.status.canonical_reason().unwrap_or(""),
            if verified {
                format!("sign verified ({sign_type})")
            } else {
                "the platform answers this operation unsigned: not verified".to_owned()
            }
        );
        text.push_str(&fields_text(&answer.value));
        text
    });
    Ok(())
}

/// The request's fields from `--body` and `--field`: flat names, each value text or, given
/// with `:=` or in `--body`, JSON (the `detail`, `receivers`, … fields the platform reads as
/// JSON text). `null` leaves the field out.
fn request_fields(
    body: Map<String, Value>,
    args: &CallArgs,
) -> Result<Map<String, Value>, Failure> {
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
    object.retain(|_, value| !value.is_null());
    Ok(object)
}

/// A failed APIv2 call, with its exit code: the platform's refusals and business errors are
/// the platform's (5) with their codes, an answer that is not trusted is 6, a missing setting
/// names where to set it.
fn failure(error: Error, global: &Global) -> Failure {
    match error {
        Error::ApiV2(error) => answer_failure(&error),
        Error::Config(ConfigError::Missing { setting }) if setting == "apiv2_key" => {
            Failure::config(if global.profile.is_some() {
                "the profile has no apiv2_key (APIv2 calls sign with it)"
            } else {
                "WXPAY_APIV2_KEY is not set (APIv2 calls sign with it)"
            })
        }
        Error::Config(ConfigError::Missing { setting }) if setting == "merchant_certificate" => {
            Failure::config(if global.sandbox {
                "the operation needs the merchant's API client certificate, and the embedded \
                 sandbox serves no HTTPS listener; run `wxpay-sandbox --https-ca … --https-cert \
                 … --https-key …` and point WXPAY_BASE_URL at its https: address"
            } else if global.profile.is_some() {
                "the operation needs the merchant's API client certificate: the profile has no \
                 merchant_cert (apiclient_cert.pem)"
            } else {
                "the operation needs the merchant's API client certificate: WXPAY_MERCHANT_CERT \
                 is not set (apiclient_cert.pem; its key is WXPAY_MERCHANT_KEY)"
            })
        }
        other => Failure::from(other),
    }
}

/// An answer that is an error or not data, with its exit code.
fn answer_failure(error: &ApiV2Error) -> Failure {
    let exit = match error {
        ApiV2Error::Platform { .. } | ApiV2Error::Business { .. } => Exit::Api,
        ApiV2Error::Status { .. } => Exit::Transport,
        _ => Exit::Verification,
    };
    let mut failure = Failure::new(exit, format!("APIv2 answer: {}", chain(error)));
    match error {
        ApiV2Error::Business {
            err_code,
            err_code_des,
        } => {
            failure.details = Some(json!({
                "err_code": err_code,
                "err_code_des": err_code_des,
            }));
        }
        ApiV2Error::Platform { return_msg } => {
            failure.details = Some(json!({ "return_msg": return_msg }));
        }
        ApiV2Error::Status { status } => {
            failure.details = Some(json!({ "status": status }));
        }
        _ => {}
    }
    failure
}

fn chain(error: &dyn std::error::Error) -> String {
    crate::exit::chain(error)
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

/// The APIv2 key to check notifications with: the embedded sandbox's (kept serving as long as
/// the command runs), the profile's `apiv2_key`, or `WXPAY_APIV2_KEY`. Checking a notification
/// takes no client, so no other setting is asked for.
async fn notification_key(global: &Global) -> Result<(ApiV2Key, Option<Sandbox>), Failure> {
    let key = |setting: &str, text: &str| {
        // The key's text never goes into the message.
        ApiV2Key::new(text.trim()).map_err(|error| Failure::config(format!("{setting}: {error}")))
    };
    if global.sandbox {
        let sandbox = Sandbox::builder().start().await.map_err(|error| {
            Failure::other(format!(
                "cannot start the sandbox: {}",
                crate::exit::chain(&error)
            ))
        })?;
        let key = key(
            "the sandbox's APIv2 key",
            sandbox.merchant().apiv2_key.expose(),
        )?;
        return Ok((key, Some(sandbox)));
    }
    if let Some(name) = &global.profile {
        let text = crate::config::v2_profile_key(global, name)?.ok_or_else(|| {
            Failure::config(format!(
                "profile {name:?} has no apiv2_key (APIv2 notifications are checked with it)"
            ))
        })?;
        return Ok((key("apiv2_key", &text)?, None));
    }
    let text = std::env::var("WXPAY_APIV2_KEY")
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            let mut failure = Failure::config(
                "WXPAY_APIV2_KEY is not set (APIv2 notifications are checked with it)",
            );
            failure
                .notes
                .push("configure it, or --profile NAME with apiv2_key, or try --sandbox".into());
            failure
        })?;
    Ok((key("WXPAY_APIV2_KEY", &text)?, None))
}

/// `wxpay verify v2-notification`: a payment result (signed `<xml>`) or a refund result
/// (`req_info`), told apart by `req_info`.
pub async fn verify_notification(
    global: &Global,
    out: &Output,
    args: V2NotificationArgs,
) -> Result<(), Failure> {
    let body = read_body(&args.body)?;
    let asked = sign_type(args.sign_type.as_deref())?;
    let (key, _sandbox) = notification_key(global).await?;
    let backend = CryptoBackend::default();
    let envelope = apiv2::parse_with(&body, "xml", MAX_NOTIFICATION_LEN).ok();
    let refund = envelope
        .as_ref()
        .is_some_and(|fields| fields.get("req_info").is_some());
    // The type the notification names (MD5 when it names none), as the library reads it:
    // `sign_type` is covered by the sign, and both types are keyed by the APIv2 key.
    let sign_type = asked.unwrap_or_else(|| {
        envelope
            .as_ref()
            .and_then(|fields| fields.get("sign_type"))
            .and_then(SignType::from_name)
            .unwrap_or_default()
    });
    let failure = |error: ApiV2NotificationError| {
        Failure::new(
            Exit::Verification,
            format!("the notification is not trusted: {}", chain(&error)),
        )
    };
    let (kind, check, shown) = if refund {
        let notification =
            apiv2::read_refund_notification(&body, &key, backend).map_err(failure)?;
        (
            "refund",
            "req_info decrypted with the APIv2 key".to_owned(),
            notification.refund,
        )
    } else {
        let fields =
            apiv2::read_payment_notification(&body, &key, sign_type, backend).map_err(failure)?;
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
        assert!(!is_v2_path("/global/v3/transactions/native"));
        assert!(!is_v2_path("/hk/v3/transactions"));
        assert!(!is_v2_path("PauseStock"));
    }

    #[test]
    fn sign_types_by_name() {
        assert_eq!(sign_type(None).unwrap(), None);
        assert_eq!(
            sign_type(Some("hmac-sha256")).unwrap(),
            Some(SignType::HmacSha256)
        );
        assert!(sign_type(Some("SHA1")).is_err());
    }
}
