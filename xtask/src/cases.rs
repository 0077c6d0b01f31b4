//! The table-driven tests of the catalog (`tests/it/catalog/`): for each operation, a request
//! built with its constructor and every setter from the spec's examples (synthetic where it
//! has none), and what the wire must then carry: path, query, headers and JSON body, with the
//! plaintext of every field that must travel encrypted; an example answer to decode; every
//! enum value.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::model::{Answer, Field, Module, Op, Role, Ty};

/// A fixed time for every date-time field, and how it is written on the wire.
const TIME_EXPR: &str = "wxpay::time::macros::datetime!(2026-01-02 03:04:05 +08:00)";
const TIME_WIRE: &str = "2026-01-02T03:04:05+08:00";

/// The file every upload case sends (`harness::file()`: `b"\x89PNG\r\n\x1a\nTEST upload
/// file"`), and its SHA-256 as Python's `hashlib` computes it.
const FILE_NAME: &str = "TEST_file.png";
const FILE_SHA256: &str = "e1b805929feba141938d8785d05b436dc544055b1fdb807a94dba97ceae16013";

pub fn module_cases(m: &Module) -> String {
    let mut out = String::new();
    let name = m.path.replace("::", "_");
    let (uploads, requests): (Vec<&Op>, Vec<&Op>) = m.ops.iter().partition(|op| is_upload(op));
    if !requests.is_empty() {
        let _ = write!(
            out,
            "#[test]\nfn {name}_requests() {{\nuse wxpay::apis::{} as api;\n\nsuper::harness::requests(&[\n",
            m.path
        );
        for op in requests {
            out.push_str(&request_case(op, m));
        }
        out.push_str("]);\n}\n\n");
    }
    if !uploads.is_empty() {
        let _ = write!(
            out,
            "#[test]\nfn {name}_uploads() {{\nuse wxpay::apis::{} as api;\n\nsuper::harness::uploads(&[\n",
            m.path
        );
        for op in uploads {
            out.push_str(&upload_case(op, m));
        }
        out.push_str("]);\n}\n\n");
    }
    if !m.ops.is_empty() {
        let answers: Vec<&Op> = m
            .ops
            .iter()
            .filter(|op| matches!(op.answer, Answer::Named(_)))
            .collect();
        if !answers.is_empty() {
            let _ = write!(
                out,
                "#[test]\nfn {name}_answers() {{\nsuper::harness::answers(&[\n"
            );
            for op in answers {
                let Answer::Named(answer) = &op.answer else {
                    continue;
                };
                let body = answer_json(answer, m, 0);
                let _ = writeln!(
                    out,
                    "super::harness::Answer {{ name: \"{}\", decode: super::harness::decodes::<wxpay::apis::{}::{}>, body: {:?} }},",
                    op.entry.name,
                    m.path,
                    op.entry.name,
                    body.to_string()
                );
            }
            out.push_str("]);\n}\n\n");
        }
    }
    // A shared enum is checked where it is declared.
    let enums: Vec<_> = m.declared_enums().collect();
    if !enums.is_empty() {
        let _ = writeln!(out, "#[test]\nfn {name}_enum_values_are_known() {{");
        for e in enums {
            let values: Vec<String> = e
                .variants
                .iter()
                .map(|(_, v, _)| format!("{v:?}"))
                .collect();
            let _ = writeln!(
                out,
                "super::harness::known::<wxpay::apis::{path}::{name}>(&[{}], |e| matches!(e, wxpay::apis::{path}::{name}::Unknown(_)), wxpay::apis::{path}::{name}::as_str);",
                values.join(", "),
                path = m.path,
                name = e.name,
            );
        }
        out.push_str("}\n\n");
    }
    out
}

fn request_case(op: &Op, m: &Module) -> String {
    let method = op.entry.method.as_str();
    let mut required = Vec::new();
    let mut setters = String::new();
    let mut path = op.entry.path.clone();
    let mut query: Vec<(String, String, bool)> = Vec::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut body = Map::new();
    let query_default = matches!(method, "GET" | "DELETE");
    for f in &op.fields {
        let simple = matches!(f.role, Role::Path | Role::Query | Role::Header(_));
        let (expr, wire) = ty_value(&f.ty, f, m, simple);
        if f.required {
            required.push(required_member(f, expr));
        } else {
            let _ = write!(setters, ".{}({expr})", f.ident);
        }
        match &f.role {
            Role::Path => {
                path = path.replace(&format!("{{{}}}", f.wire), &text_of(&wire));
            }
            Role::Header(name) => headers.push((name.clone(), text_of(&wire))),
            Role::Query => query.push((f.wire.clone(), text_of(&wire), f.encrypt)),
            Role::Body if query_default && method == "GET" => {
                query.push((f.wire.clone(), text_of(&wire), f.encrypt));
            }
            Role::Body => {
                body.insert(f.wire.clone(), wire);
            }
            Role::File(_) | Role::Part => unreachable!("uploads have cases of their own"),
        }
    }
    // A request without body fields sends no body at all.
    let body_text = if body.is_empty() {
        String::new()
    } else {
        Value::Object(body).to_string()
    };
    let encrypted: Vec<String> = op
        .row
        .encrypted_request
        .iter()
        .filter(|p| !p.starts_with("query:"))
        .map(|p| format!("{p:?}"))
        .collect();
    let query_text: Vec<String> = query
        .iter()
        .map(|(k, v, enc)| format!("({k:?}, {v:?}, {enc})"))
        .collect();
    let header_text: Vec<String> = headers
        .iter()
        .map(|(k, v)| format!("({k:?}, {v:?})"))
        .collect();
    let built = construct(&op.entry.name, &required, &setters);
    let request = if matches!(op.answer, Answer::File) {
        format!("super::harness::File({built})")
    } else {
        built
    };
    format!(
        "super::harness::Case {{ name: \"{name}\", method: \"{method}\", path: {path:?}, \
         scope: {scope:?}, query: &[{query}], headers: &[{headers}], body: {body:?}, \
         encrypted: &[{encrypted}], request: || Box::new({request}) }},\n",
        name = op.entry.name,
        scope = op.row.scope,
        query = query_text.join(", "),
        headers = header_text.join(", "),
        body = body_text,
        encrypted = encrypted.join(", "),
    )
}

fn is_upload(op: &Op) -> bool {
    op.fields.iter().any(|f| matches!(f.role, Role::File(_)))
}

/// An upload: the `meta` JSON it must sign (with what the runtime fills from the file), its
/// text parts and its file part.
fn upload_case(op: &Op, m: &Module) -> String {
    let mut required = Vec::new();
    let mut setters = String::new();
    let mut path = op.entry.path.clone();
    let mut meta = Map::new();
    let mut parts = Vec::new();
    let mut file_part = String::new();
    for f in &op.fields {
        let simple = matches!(f.role, Role::Path | Role::Part);
        let (expr, wire) = ty_value(&f.ty, f, m, simple);
        if f.required {
            required.push(required_member(f, expr));
        } else {
            let _ = write!(setters, ".{}({expr})", f.ident);
        }
        match &f.role {
            Role::Path => path = path.replace(&format!("{{{}}}", f.wire), &text_of(&wire)),
            Role::Body => {
                meta.insert(f.wire.clone(), wire);
            }
            Role::Part => parts.push(format!("({:?}, {:?})", f.wire, text_of(&wire))),
            Role::File(keys) => {
                file_part = f.wire.clone();
                if let Some(key) = &keys.name {
                    meta.insert(key.clone(), json!(FILE_NAME));
                }
                if let Some(key) = &keys.sha256 {
                    meta.insert(key.clone(), json!(FILE_SHA256));
                }
            }
            Role::Query | Role::Header(_) => {}
        }
    }
    let encrypted: Vec<String> = op
        .row
        .encrypted_request
        .iter()
        .map(|p| format!("{p:?}"))
        .collect();
    format!(
        "super::harness::Upload {{ name: \"{name}\", path: {path:?}, scope: {scope:?}, \
         meta: {meta:?}, encrypted: &[{encrypted}], parts: &[{parts}], \
         file_part: {file_part:?}, request: || Box::new({built}) }},\n",
        name = op.entry.name,
        scope = op.row.scope,
        meta = Value::Object(meta).to_string(),
        encrypted = encrypted.join(", "),
        parts = parts.join(", "),
        built = construct(&op.entry.name, &required, &setters),
    )
}

/// `field: value` in a `…Required` literal: a string literal becomes the field's `String`.
fn required_member(f: &Field, expr: String) -> String {
    if f.ty == Ty::Str {
        format!("{}: {expr}.into()", f.ident)
    } else {
        format!("{}: {expr}", f.ident)
    }
}

/// `Name::new(NameRequired { field: value, .. })` and the setters after it, as an application
/// builds a request: every required field named. `api` is the module, imported by the test.
fn construct(name: &str, required: &[String], setters: &str) -> String {
    if required.is_empty() {
        format!("api::{name}::new(){setters}")
    } else {
        format!(
            "api::{name}::new(api::{name}Required {{ {} }}){setters}",
            required.join(", ")
        )
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value for a field: the Rust expression that builds it and its JSON on the wire.
/// `simple`: it goes into a path or query, so it keeps to unreserved characters.
fn ty_value(ty: &Ty, f: &Field, m: &Module, simple: bool) -> (String, Value) {
    match ty {
        Ty::Str => {
            let text = example_text(f, simple);
            (format!("{text:?}"), Value::String(text))
        }
        Ty::Int => {
            let n = f
                .example
                .as_ref()
                .and_then(|e| {
                    e.as_i64()
                        .or_else(|| e.as_str().and_then(|s| s.parse().ok()))
                })
                .unwrap_or(1);
            (n.to_string(), json!(n))
        }
        Ty::Float => ("1.5".into(), json!(1.5)),
        Ty::Bool => ("true".into(), json!(true)),
        Ty::Time => (TIME_EXPR.into(), json!(TIME_WIRE)),
        Ty::Json => ("serde_json::json!({})".into(), json!({})),
        Ty::Secret => ("unreachable!()".into(), Value::Null),
        Ty::File => ("super::harness::file()".into(), Value::Null),
        Ty::Vec(inner) => {
            let (expr, wire) = ty_value(inner, f, m, simple);
            let expr = if **inner == Ty::Str {
                format!("String::from({expr})")
            } else {
                expr
            };
            (format!("vec![{expr}]"), Value::Array(vec![wire]))
        }
        Ty::Named(name) => {
            if let Some(e) = m.enums.iter().find(|e| e.name == *name) {
                let (variant, wire, _) = &e.variants[0];
                return (
                    format!("api::{name}::{variant}"),
                    Value::String(wire.clone()),
                );
            }
            let Some(s) = m.structs.iter().find(|s| s.name == *name) else {
                return ("todo!()".into(), Value::Null);
            };
            let mut args = Vec::new();
            let mut setters = String::new();
            let mut object = Map::new();
            for field in &s.fields {
                let (expr, wire) = ty_value(&field.ty, field, m, false);
                if field.required {
                    args.push(required_member(field, expr));
                } else {
                    let _ = write!(setters, ".{}({expr})", field.ident);
                }
                object.insert(field.wire.clone(), wire);
            }
            (construct(name, &args, &setters), Value::Object(object))
        }
    }
}

fn example_text(f: &Field, simple: bool) -> String {
    let example = f.example.as_ref().and_then(crate::spec::scalar_text);
    match example {
        Some(text)
            if !text.is_empty()
                && (!simple
                    || text
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))) =>
        {
            text
        }
        _ => format!("TEST_{}", f.wire.to_ascii_uppercase()),
    }
}

/// An example answer with every field the type declares.
pub fn answer_json(name: &str, m: &Module, depth: usize) -> Value {
    let Some(s) = m.structs.iter().find(|s| s.name == name) else {
        return Value::Null;
    };
    let mut object = Map::new();
    for f in &s.fields {
        object.insert(f.wire.clone(), answer_value(&f.ty, f, m, depth));
    }
    Value::Object(object)
}

fn answer_value(ty: &Ty, f: &Field, m: &Module, depth: usize) -> Value {
    match ty {
        Ty::Str | Ty::Secret => Value::String(example_text(f, false)),
        Ty::Int => json!(1),
        Ty::Float => json!(1.5),
        Ty::Bool => json!(true),
        Ty::Time => json!(TIME_WIRE),
        Ty::Json => json!({}),
        Ty::File => Value::Null,
        Ty::Vec(inner) => Value::Array(vec![answer_value(inner, f, m, depth)]),
        Ty::Named(name) => match m.enums.iter().find(|e| e.name == *name) {
            Some(e) => Value::String(e.variants[0].1.clone()),
            None if depth < 40 => answer_json(name, m, depth + 1),
            None => Value::Null,
        },
    }
}
