//! The sandbox's table of APIv2 operations (`wxpay-sandbox/src/spec/v2.rs`), read from the
//! spec's `openapi/v2/` files: for each operation its host, whether it needs the merchant's
//! client certificate, whether its request and its answer are signed, the fields a request
//! must carry, and the example answer the sandbox gives when it keeps no state for it. Plain
//! data, like the APIv3 table, so the sandbox shares no code with the client.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value};

/// The host of every operation without `x-base-uri`.
const API_HOST: &str = "api.mch.weixin.qq.com";

/// Fields only a failed answer carries: the example answer is a success.
const FAILURE_ONLY: &[&str] = &["err_code", "err_code_des", "error_code", "error_code_des"];

/// Fields put first in an example answer, as the platform writes them; the rest follow sorted.
const LEADING: &[&str] = &["return_code", "return_msg", "result_code"];

pub struct Table {
    pub text: String,
    pub operations: usize,
    pub cert: usize,
    pub unsigned_answers: usize,
}

pub fn table(spec_dir: &Path, version: &str) -> Result<Table, String> {
    let operations = crate::spec::load_folder(spec_dir, "v2")?;
    let mut out = crate::emit::header(version);
    out.push_str(
        "//! Every APIv2 operation of the spec as the sandbox serves it (see `crate::v2`).\n\n\
         use crate::v2::{Answer, Body, V2Operation};\n\n\
         pub(crate) static V2_OPERATIONS: &[V2Operation] = &[\n",
    );
    let (mut cert_count, mut unsigned) = (0, 0);
    for (path, method, op) in &operations {
        let where_ = format!("{method} {path}");
        let host = match op.get("x-base-uri").and_then(Value::as_str) {
            Some(uri) => uri
                .trim_start_matches("https://")
                .trim_end_matches('/')
                .to_owned(),
            None => API_HOST.to_owned(),
        };
        let cert = op.get("x-api-cert-required").and_then(Value::as_bool) == Some(true);
        cert_count += usize::from(cert);
        // The request's fields: an XML body's properties, or the query's / form's parameters.
        let mut body = "Xml";
        let mut fields = Map::new();
        let mut required: Vec<String> = Vec::new();
        for parameter in op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match parameter.get("in").and_then(Value::as_str) {
                Some("body") => {
                    let schema = parameter.get("schema").unwrap_or(&Value::Null);
                    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                        fields.extend(properties.clone());
                    }
                    required.extend(strings(schema.get("required")));
                }
                Some(place @ ("query" | "formData")) => {
                    // A POST's query parameter (`submchmanage`'s `action`) rides beside the XML.
                    if place == "formData" {
                        body = "Multipart";
                    } else if method == "GET" {
                        body = "Query";
                    }
                    let name = parameter.get("name").and_then(Value::as_str).unwrap_or("");
                    fields.insert(name.to_owned(), parameter.clone());
                    if parameter.get("required").and_then(Value::as_bool) == Some(true) {
                        required.push(name.to_owned());
                    }
                }
                _ => {}
            }
        }
        let signed_request = fields.contains_key("sign");
        // `sign` is checked on its own; the rest must be present and non-empty.
        required.retain(|name| name != "sign");
        required.dedup();

        let ok = op.pointer("/responses/200");
        let schema = ok.and_then(|r| r.get("schema"));
        let properties = schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let signed_answer = properties.contains_key("sign");
        let produces_json = op
            .get("produces")
            .and_then(Value::as_array)
            .is_some_and(|p| p.iter().any(|v| v == "application/json"));
        let only_fails = properties
            .get("return_code")
            .and_then(|c| c.get("enum"))
            .is_some_and(|e| e.as_array().is_some_and(|e| e.len() == 1 && e[0] == "FAIL"));
        let file_name = path.rsplit('/').next().unwrap_or_default();
        let answer = if op.pointer("/responses/302").is_some() {
            "Answer::Redirect".to_owned()
        } else if only_fails || file_name.starts_with("download") {
            // The spec describes only the failure: success is the file itself.
            "Answer::File".to_owned()
        } else if produces_json {
            format!(
                "Answer::Json({:?})",
                Value::Object(example_json(&properties)).to_string()
            )
        } else if properties.is_empty() {
            // A page the user's browser is sent to (papay's entrustweb).
            "Answer::Page".to_owned()
        } else {
            let fields = example_fields(&properties, schema, &where_)?;
            format!(
                "Answer::Xml(&[{}])",
                fields
                    .iter()
                    .map(|(k, v)| format!("({k:?}, {v:?})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let answer_signed = signed_answer && answer.starts_with("Answer::Xml");
        unsigned += usize::from(!answer_signed);
        let _ = writeln!(
            out,
            "V2Operation {{ method: {method:?}, path: {path:?}, host: {host:?}, cert: {cert}, \
             body: Body::{body}, signed_request: {signed_request}, signed_answer: {answer_signed}, \
             required: &[{}], answer: {answer} }},",
            required
                .iter()
                .map(|r| format!("{r:?}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    out.push_str("];\n");
    Ok(Table {
        text: out,
        operations: operations.len(),
        cert: cert_count,
        unsigned_answers: unsigned,
    })
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// A success answer's fields as text: each field's example, `$n` fields numbered 0, the codes
/// SUCCESS, failure-only fields and `sign` left out (the sandbox signs the answer itself).
fn example_fields(
    properties: &Map<String, Value>,
    schema: Option<&Value>,
    where_: &str,
) -> Result<Vec<(String, String)>, String> {
    let required = strings(schema.and_then(|s| s.get("required")));
    let mut out: Vec<(String, String)> = Vec::new();
    let mut names: Vec<&String> = properties.keys().collect();
    names.sort_by_key(|name| {
        (
            LEADING
                .iter()
                .position(|l| l == name)
                .unwrap_or(LEADING.len()),
            name.as_str(),
        )
    });
    for name in names {
        if name == "sign" || FAILURE_ONLY.contains(&name.as_str()) {
            continue;
        }
        let field = &properties[name];
        let text = match name.as_str() {
            "return_code" | "result_code" => "SUCCESS".to_owned(),
            "return_msg" => "OK".to_owned(),
            _ => match field.get("example").and_then(crate::spec::scalar_text) {
                Some(text) => text,
                None if required.contains(name) => {
                    match field.get("type").and_then(Value::as_str) {
                        Some("integer" | "number") => "1".to_owned(),
                        _ => "TEST".to_owned(),
                    }
                }
                None => continue,
            },
        };
        out.push((name.replace("$n", "0"), text));
    }
    if !out.iter().any(|(k, _)| k == "return_code") {
        return Err(format!(
            "{where_}: an XML answer without return_code in the spec"
        ));
    }
    Ok(out)
}

/// A JSON answer built from the examples (`getaccesstoken`); fields without one get a value of
/// their type.
fn example_json(properties: &Map<String, Value>) -> Map<String, Value> {
    properties
        .iter()
        .map(|(name, field)| {
            let value = match (
                field.get("example"),
                field.get("type").and_then(Value::as_str),
            ) {
                (Some(example), _) => example.clone(),
                (None, Some("integer" | "number")) => Value::from(7200),
                (None, _) => Value::from(format!("TEST_{}", name.to_ascii_uppercase())),
            };
            (name.clone(), value)
        })
        .collect()
}
