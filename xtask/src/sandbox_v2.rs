//! The sandbox's table of APIv2 operations (`wxpay-sandbox/src/spec/v2.rs`), read from the
//! spec's `openapi/v2/` files: for each operation its host, whether it needs the merchant's
//! client certificate, whether its request and its answer are signed, the fields a request
//! must carry, and the example answer the sandbox gives when it keeps no state for it. Plain
//! data, like the APIv3 table, so the sandbox shares no code with the client; the facts are
//! `apiv2::facts`, the catalog's too, so both read the spec by one rule.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value};

use crate::apiv2::{AnswerKind, strings};

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
        let facts = crate::apiv2::facts(path, method, op);
        cert_count += usize::from(facts.cert);
        let answer = match facts.answer {
            AnswerKind::Redirect => "Answer::Redirect".to_owned(),
            AnswerKind::File => "Answer::File".to_owned(),
            AnswerKind::Json => format!(
                "Answer::Json({:?})",
                Value::Object(example_json(&facts.answer_properties)).to_string()
            ),
            AnswerKind::Page => "Answer::Page".to_owned(),
            AnswerKind::Xml => {
                let fields = example_fields(
                    &facts.answer_properties,
                    facts.answer_schema.as_ref(),
                    &where_,
                )?;
                format!(
                    "Answer::Xml(&[{}])",
                    fields
                        .iter()
                        .map(|(k, v)| format!("({k:?}, {v:?})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        };
        let (host, cert, body, signed_request, required) = (
            &facts.host,
            facts.cert,
            facts.body,
            facts.signed_request,
            &facts.required,
        );
        let answer_signed = facts.signed_answer;
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

/// A success answer's fields as text: each field's example, `$n` fields numbered 0, the codes
/// SUCCESS, failure-only fields and `sign` left out (the sandbox signs the answer itself).
pub fn example_fields(
    properties: &Map<String, Value>,
    schema: Option<&Value>,
    where_: &str,
) -> Result<Vec<(String, String)>, String> {
    if properties.is_empty() {
        // The spec describes no element (`signcontract`): the envelope every answer has.
        return Ok(vec![
            ("return_code".to_owned(), "SUCCESS".to_owned()),
            ("return_msg".to_owned(), "OK".to_owned()),
        ]);
    }
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
                // A number's example that is prose (`1或者0`) would not decode: a number.
                Some(text) if numeric(field) && text.trim().parse::<f64>().is_err() => {
                    "1".to_owned()
                }
                Some(text) => text,
                None if required.contains(name) => {
                    if numeric(field) { "1" } else { "TEST" }.to_owned()
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

fn numeric(field: &Value) -> bool {
    matches!(
        field.get("type").and_then(Value::as_str),
        Some("integer" | "number")
    )
}

/// A JSON answer built from the examples (`getaccesstoken`); fields without one get a value of
/// their type.
pub fn example_json(properties: &Map<String, Value>) -> Map<String, Value> {
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
