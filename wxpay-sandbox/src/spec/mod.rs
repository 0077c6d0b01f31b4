//! Every catalog operation without a stateful route, served from the spec: the request's
//! required fields and their kinds are checked, every field the platform wants encrypted must
//! decrypt with the platform key `Wechatpay-Serial` names, and the answer is the spec's example
//! with its sensitive fields encrypted for the merchant, so the client's decryption runs for real.
//!
//! The table (`table.rs`) is generated from the spec by `cargo xtask codegen`; it is data, not
//! the client's code. So are the notification event types (`events.rs`, from
//! `xtask/events.tsv`) with the example resources `POST /sandbox/notifications` sends.

mod events;
mod table;
mod v2;

use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::clock;
use crate::error::ApiError;
use crate::signing::WECHATPAY_SERIAL;
use crate::state::Platform;

pub(crate) use events::EVENTS;
pub(crate) use table::OPERATIONS;
pub(crate) use v2::V2_OPERATIONS;

/// A notification event type of the spec as the sandbox sends it on demand.
#[derive(Debug)]
pub(crate) struct EventExample {
    pub(crate) event_type: &'static str,
    /// The spec's label, sent as the notification's `summary`.
    pub(crate) summary: &'static str,
    /// `original_type` and the associated data: the event type's first segment, lowercase.
    pub(crate) original_type: &'static str,
    /// The catalog example of a direct merchant's resource, where the catalog types it.
    pub(crate) direct: Option<&'static str>,
    /// The catalog example of a service provider's resource, where it has a type of its own.
    pub(crate) partner: Option<&'static str>,
}

/// The spec's event type `name`.
pub(crate) fn event(name: &str) -> Option<&'static EventExample> {
    EVENTS.iter().find(|event| event.event_type == name)
}

/// What a request's body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Content {
    Json,
    /// `multipart/form-data`: the fields are in the `meta` JSON.
    Upload,
    /// The answer is a file, sent unsigned.
    Download,
}

/// The JSON kind a required field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Each kind the generator can write; not every one is required somewhere today.
#[allow(dead_code)]
pub(crate) enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
    Any,
}

/// Where a required field is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Body,
    Query,
}

/// One operation of the table.
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) method: &'static str,
    /// The documented template, `{name}` for a segment.
    pub(crate) template: &'static str,
    pub(crate) content: Content,
    /// Required fields: top-level names, and dotted paths into the body's objects and lists
    /// (`amount.total`, `receivers[].account`), required where their parent is present.
    pub(crate) required: &'static [(&'static str, Kind, Place)],
    /// Dotted paths (`a.b`, `list[].name`, `query:name`) that travel encrypted.
    pub(crate) encrypted: &'static [&'static str],
    /// Dotted paths of the answer encrypted for the merchant.
    pub(crate) encrypted_answer: &'static [&'static str],
    pub(crate) status: u16,
    /// The example answer (JSON; empty for none).
    pub(crate) answer: &'static str,
}

impl Operation {
    /// Whether `path` fits the template; more literal segments is a better fit.
    fn fits(&self, path: &str) -> Option<usize> {
        let mut literal = 0;
        let mut template = self.template.split('/');
        let mut given = path.split('/');
        loop {
            match (template.next(), given.next()) {
                (None, None) => return Some(literal),
                (Some(t), Some(g)) if t.starts_with('{') && !g.is_empty() => {}
                (Some(t), Some(g)) if t == g => literal += 1,
                _ => return None,
            }
        }
    }
}

/// The operation a request is for, if the table has it.
pub(crate) fn find(method: &Method, path: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .filter(|op| op.method == method.as_str())
        .filter_map(|op| op.fits(path).map(|score| (score, op)))
        .max_by_key(|(score, _)| *score)
        .map(|(_, op)| op)
}

/// The platform's answer to a request for `op`. `fields` is the JSON body, or an upload's
/// `meta`; `query` the decoded query string.
pub(crate) fn answer(
    platform: &Platform,
    op: &Operation,
    headers: &HeaderMap,
    query: &[(String, String)],
    fields: Option<&[u8]>,
) -> Result<Response, ApiError> {
    let body: Value = match fields.filter(|f| !f.is_empty()) {
        Some(bytes) => serde_json::from_slice(bytes)
            .map_err(|e| ApiError::param(format!("request body is not valid JSON: {e}")))?,
        None => Value::Object(Default::default()),
    };
    for (name, kind, place) in op.required {
        match place {
            Place::Query => {
                if !query.iter().any(|(key, _)| key == name) {
                    return Err(ApiError::param_field(
                        *name,
                        format!("missing query parameter `{name}`"),
                    ));
                }
            }
            Place::Body => check_required(&body, name, *kind, String::new())?,
        }
    }
    check_encrypted(platform, op, headers, query, &body)?;
    if op.content == Content::Download {
        // A file is sent as it is: unsigned, as the platform sends bills and images.
        let mut response = (
            StatusCode::OK,
            b"TEST file served by the sandbox\n".to_vec(),
        )
            .into_response();
        response
            .extensions_mut()
            .insert(crate::routes::UnsignedFile);
        return Ok(response);
    }
    let status = StatusCode::from_u16(op.status).unwrap_or(StatusCode::OK);
    if op.answer.is_empty() {
        return Ok(status.into_response());
    }
    let mut answer: Value = serde_json::from_str(op.answer)
        .map_err(|_| ApiError::system("the sandbox's example answer is not JSON"))?;
    if !op.encrypted_answer.is_empty() {
        let cannot = || ApiError::system("the merchant's public key cannot encrypt");
        let key = PublicEncryptingKey::from_der(platform.merchant.public_key_der())
            .map_err(|_| cannot())
            .and_then(|key| OaepPublicEncryptingKey::new(key).map_err(|_| cannot()))?;
        for path in op.encrypted_answer {
            let steps: Vec<&str> = path.split('.').collect();
            visit(&mut answer, &steps, &mut |text| {
                let mut ciphertext = vec![0u8; key.ciphertext_size()];
                let written = key
                    .encrypt(&OAEP_SHA1_MGF1SHA1, text.as_bytes(), &mut ciphertext, None)
                    .map_err(|_| ApiError::system("encryption failed"))?;
                *text = STANDARD.encode(&*written);
                Ok(())
            })?;
        }
    }
    Ok((
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
        .into_response())
}

/// Every field at the operation's encrypted paths must be ciphertext for the platform key
/// that `Wechatpay-Serial` names.
fn check_encrypted(
    platform: &Platform,
    op: &Operation,
    headers: &HeaderMap,
    query: &[(String, String)],
    body: &Value,
) -> Result<(), ApiError> {
    let serial = headers
        .get(WECHATPAY_SERIAL)
        .and_then(|serial| serial.to_str().ok());
    let decrypts = |path: &str, ciphertext: &str| -> Result<(), ApiError> {
        let Some(serial) = serial else {
            return Err(ApiError::param(format!(
                "Wechatpay-Serial header is required: `{path}` is encrypted"
            )));
        };
        let bad = || {
            ApiError::param(format!(
                "`{path}` is not RSA-OAEP ciphertext for the platform key named by Wechatpay-Serial"
            ))
        };
        let bytes = STANDARD.decode(ciphertext).map_err(|_| bad())?;
        platform
            .keys
            .decrypt_for(serial, &bytes, clock::monotonic())
            .map_err(|_| bad())
            .map(drop)
    };
    for path in op.encrypted {
        if let Some(name) = path.strip_prefix("query:") {
            for (_, value) in query.iter().filter(|(key, _)| key == name) {
                decrypts(path, value)?;
            }
            continue;
        }
        let steps: Vec<&str> = path.split('.').collect();
        let mut copy = body.clone();
        visit(&mut copy, &steps, &mut |text| decrypts(path, text))?;
    }
    Ok(())
}

/// Calls `each` on every string at `steps` (`a`, `list[]`, …) under `value`; absent optional
/// fields are skipped.
fn visit(
    value: &mut Value,
    steps: &[&str],
    each: &mut dyn FnMut(&mut String) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let Some((first, rest)) = steps.split_first() else {
        return match value {
            Value::String(text) => each(text),
            Value::Array(items) => items.iter_mut().try_for_each(|item| visit(item, &[], each)),
            _ => Ok(()),
        };
    };
    let key = first.strip_suffix("[]").unwrap_or(first);
    match value.get_mut(key) {
        Some(Value::Array(items)) if !rest.is_empty() => items
            .iter_mut()
            .try_for_each(|item| visit(item, rest, each)),
        Some(child) => visit(child, rest, each),
        None => Ok(()),
    }
}

/// Checks the required field at `path` (`a`, `a.b`, `list[].b`) of `value`. Inside an object or
/// a list it is checked only where that parent is present: whether the parent must be there is
/// its own entry's question. `at` is the path walked so far, with list indexes, for the message.
fn check_required(value: &Value, path: &str, kind: Kind, at: String) -> Result<(), ApiError> {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let (name, list) = match head.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (head, false),
    };
    let shown = if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    };
    let field = value.get(name).filter(|v| !v.is_null());
    let Some(rest) = rest else {
        return match field {
            None => Err(ApiError::param_field(
                shown.clone(),
                format!("missing field `{shown}`"),
            )),
            Some(field) if !kind_of(field, kind) => Err(ApiError::param_field(
                shown.clone(),
                format!("field `{shown}` must be {}", kind_name(kind)),
            )),
            Some(_) => Ok(()),
        };
    };
    match field {
        Some(Value::Array(items)) if list => {
            for (i, item) in items.iter().enumerate() {
                check_required(item, rest, kind, format!("{shown}[{i}]"))?;
            }
        }
        Some(object @ Value::Object(_)) if !list => check_required(object, rest, kind, shown)?,
        // Absent, or of another kind (which the parent's own entry reports).
        _ => {}
    }
    Ok(())
}

fn kind_of(value: &Value, kind: Kind) -> bool {
    match kind {
        Kind::String => value.is_string(),
        Kind::Integer => value.is_i64() || value.is_u64(),
        Kind::Number => value.is_number(),
        Kind::Boolean => value.is_boolean(),
        Kind::Array => value.is_array(),
        Kind::Object => value.is_object(),
        Kind::Any => true,
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::String => "a string",
        Kind::Integer => "an integer",
        Kind::Number => "a number",
        Kind::Boolean => "true or false",
        Kind::Array => "an array",
        Kind::Object => "an object",
        Kind::Any => "a value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_once_with_examples_that_are_json_objects() {
        assert_eq!(EVENTS.len(), 58, "the spec's webhooks.yaml lists 58");
        let mut names: Vec<&str> = EVENTS.iter().map(|e| e.event_type).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EVENTS.len());
        for event in EVENTS {
            assert!(!event.original_type.is_empty(), "{}", event.event_type);
            for example in [event.direct, event.partner].into_iter().flatten() {
                let value: Value = serde_json::from_str(example).unwrap();
                assert!(value.is_object(), "{}", event.event_type);
            }
        }
        assert!(event("TRANSACTION.SUCCESS").is_some_and(|e| e.partner.is_some()));
        assert!(event("COMPLAINT.CREATE").is_some_and(|e| e.direct.is_none()));
        assert!(event("NOT.AN_EVENT").is_none());
    }

    #[test]
    fn the_table_has_every_generated_operation_and_templates_fit() {
        assert!(OPERATIONS.len() > 990, "{}", OPERATIONS.len());
        let op = find(&Method::POST, "/v3/marketing/favor/stocks/123/pause").expect("pause");
        assert_eq!(op.template, "/v3/marketing/favor/stocks/{stock_id}/pause");
        assert!(find(&Method::POST, "/v3/marketing/favor/stocks//pause").is_none());
        assert!(find(&Method::GET, "/v3/no/such/api").is_none());
    }

    #[test]
    fn visit_reaches_nested_and_listed_strings_only() {
        let mut value = serde_json::json!({"a": {"b": "x"}, "list": [{"name": "y"}, {}]});
        let mut seen = Vec::new();
        for path in ["a.b", "list[].name", "missing.c"] {
            let steps: Vec<&str> = path.split('.').collect();
            visit(&mut value, &steps, &mut |text| {
                seen.push(text.clone());
                Ok(())
            })
            .expect("visit");
        }
        assert_eq!(seen, ["x", "y"]);
    }
}
