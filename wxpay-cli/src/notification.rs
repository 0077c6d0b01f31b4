//! `wxpay verify notification`: a captured notification through the library's
//! `read_notification` (signature, timestamp, probe, decryption), then its event typed by the
//! library's event table (`wxpay::notification::Event`) and printed through `Serialize`, with
//! personal data redacted unless `--reveal`.

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};
use wxpay::notification::Event;
use wxpay::time::format_description::well_known::Rfc3339;

use crate::cli::{Global, NotificationArgs};
use crate::config;
use crate::exit::Failure;
use crate::output::{Output, pretty};

/// Keys whose values are personal data (OpenIDs, names, accounts, contact details).
const PERSONAL: &[&str] = &[
    "openid", "unionid", "account", "name", "id_card", "identity", "phone", "mobile", "email",
    "address",
];

pub async fn verify(global: &Global, out: &Output, args: NotificationArgs) -> Result<(), Failure> {
    let headers_text = std::fs::read_to_string(&args.headers).map_err(|e| {
        Failure::usage(format!(
            "cannot read --headers {}: {e}",
            args.headers.display()
        ))
    })?;
    let headers = parse_headers(&headers_text).map_err(Failure::usage)?;
    let body = std::fs::read(&args.body)
        .map_err(|e| Failure::usage(format!("cannot read --body {}: {e}", args.body.display())))?;

    let session = config::connect(global, None).await?;
    let client = &session.client;
    let notification = client.read_notification(&headers, &body).await?;

    // Typed by the library's event table; printed through `Serialize`, so the resource is
    // decrypted once. A typed resource prints as its catalog type reads it; another event
    // type's as decrypted.
    let event = Event::of(&notification).map_err(wxpay::Error::from)?;
    let typed = !matches!(event, Event::Other(_));
    let printed = serde_json::to_value(&event)
        .map_err(|_| Failure::other("the notification's event cannot be printed"))?;
    let resource = printed.get("resource").cloned().unwrap_or(Value::Null);
    let resource = if args.reveal {
        resource
    } else {
        redact(resource)
    };
    let document = json!({
        "verified": true,
        "id": notification.id,
        "create_time": notification.create_time.format(&Rfc3339).ok(),
        "event_type": notification.event_type.as_str(),
        "summary": notification.summary,
        "original_type": notification.original_type,
        "typed": typed,
        "resource": resource,
    });
    out.print(&document, || {
        format!(
            "notification verified: signature, timestamp and decryption\n\
             id:          {}\nevent_type:  {}\ncreate_time: {}\nsummary:     {}\nresource ({}, {}{}):\n{}",
            notification.id,
            notification.event_type.as_str(),
            document["create_time"].as_str().unwrap_or("?"),
            notification.summary,
            notification.original_type,
            if typed { "typed by the catalog" } else { "JSON: no catalog type" },
            if args.reveal { "" } else { ", personal data redacted; --reveal shows it" },
            pretty(&document["resource"]),
        )
    });
    Ok(())
}

/// `Name: value` lines (a request or status line and blank lines are skipped), or a JSON
/// object of names to values.
fn parse_headers(text: &str) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    let mut add = |name: &str, value: &str| -> Result<(), String> {
        let name = HeaderName::try_from(name.trim())
            .map_err(|_| format!("--headers: {name:?} is not a header name"))?;
        let value = HeaderValue::try_from(value.trim())
            .map_err(|_| format!("--headers: the value of {name} is not a header value"))?;
        headers.append(name, value);
        Ok(())
    };
    if text.trim_start().starts_with('{') {
        let object: Map<String, Value> = serde_json::from_str(text)
            .map_err(|e| format!("--headers is not a JSON object of strings: {e}"))?;
        for (name, value) in &object {
            let value = value
                .as_str()
                .ok_or_else(|| format!("--headers: the value of {name} is not a string"))?;
            add(name, value)?;
        }
    } else {
        for line in text.lines().map(|l| l.trim_end_matches('\r')) {
            if line.trim().is_empty() || line.starts_with("HTTP/") || line.contains(" HTTP/") {
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("--headers: {line:?} is not `Name: value`"))?;
            add(name, value)?;
        }
    }
    if headers.is_empty() {
        return Err("--headers holds no header".into());
    }
    Ok(headers)
}

/// The value with every personal field replaced by `<redacted>`, at any depth.
fn redact(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .map(|(key, value)| {
                    let lower = key.to_ascii_lowercase();
                    if PERSONAL.iter().any(|p| lower.contains(p)) && !value.is_null() {
                        (key, Value::String("<redacted>".into()))
                    } else {
                        (key, redact(value))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_come_as_captured_lines_or_json() {
        let lines = "POST /notify HTTP/1.1\r\nWechatpay-Serial: PUB_KEY_ID_1\r\nwechatpay-nonce:  abc \r\n\r\n";
        let headers = parse_headers(lines).unwrap();
        assert_eq!(headers["wechatpay-serial"], "PUB_KEY_ID_1");
        assert_eq!(headers["wechatpay-nonce"], "abc");
        let json = parse_headers(r#"{"Wechatpay-Timestamp": "1700000000"}"#).unwrap();
        assert_eq!(json["wechatpay-timestamp"], "1700000000");
        for bad in ["no colon here", "", "{\"a\": 1}", "Bad Name: x"] {
            assert!(parse_headers(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn personal_data_is_redacted_at_any_depth() {
        let redacted = redact(json!({
            "coupon_id": "9800",
            "openid": "oUpF8",
            "payer": {"sp_openid": "o2", "amount": 1},
            "list": [{"user_name": "张三"}],
            "absent_name": null,
        }));
        assert_eq!(
            redacted,
            json!({
                "coupon_id": "9800",
                "openid": "<redacted>",
                "payer": {"sp_openid": "<redacted>", "amount": 1},
                "list": [{"user_name": "<redacted>"}],
                "absent_name": null,
            })
        );
    }
}
