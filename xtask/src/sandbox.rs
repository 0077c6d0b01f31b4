//! The sandbox's table of operations (`wxpay-sandbox/src/spec/table.rs`): for each generated
//! operation, what a request must carry (required fields and their JSON kinds, encrypted
//! fields) and the example it is answered with. The sandbox serves from it every operation
//! it has no stateful implementation of; it is plain data, so the sandbox shares no code with
//! the client.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{Answer, Module, Role, Ty};

pub fn table(version: &str, modules: &BTreeMap<String, Module>) -> String {
    let mut out = crate::emit::header(version);
    out.push_str(
        "//! Every catalog operation as the sandbox serves it when no stateful route does \
         (see `super`).\n\n\
         use super::{Content, Kind, Operation, Place};\n\n\
         pub(crate) static OPERATIONS: &[Operation] = &[\n",
    );
    for m in modules.values() {
        for op in &m.ops {
            let method = op.entry.method.as_str();
            let mut required = Vec::new();
            for f in &op.fields {
                // A GET's body-less fields go to the query, as the DSL sends them.
                let place = match &f.role {
                    Role::Body if method == "GET" => "Query",
                    Role::Body => "Body",
                    Role::Query => "Query",
                    Role::Path | Role::Header(_) | Role::File(_) | Role::Part => continue,
                };
                if f.required {
                    required.push(format!(
                        "(\"{}\", Kind::{}, Place::{place})",
                        f.wire,
                        kind(&f.ty, m)
                    ));
                }
                if place == "Body" {
                    nested_required(&f.wire, &f.ty, m, 0, &mut required);
                }
            }
            let (content, status, answer) = match &op.answer {
                Answer::File => ("Download", 200, String::new()),
                Answer::Empty => ("Json", 204, String::new()),
                Answer::Json => ("Json", 200, "{}".to_owned()),
                Answer::Named(name) => (
                    "Json",
                    200,
                    crate::cases::answer_json(name, m, 0).to_string(),
                ),
            };
            let content = if op.fields.iter().any(|f| matches!(f.role, Role::File(_))) {
                "Upload"
            } else {
                content
            };
            let list = |paths: &[String]| {
                paths
                    .iter()
                    .map(|p| format!("{p:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "Operation {{ method: {method:?}, template: {:?}, content: Content::{content}, \
                 required: &[{}], encrypted: &[{}], encrypted_answer: &[{}], status: {status}, \
                 answer: {answer:?} }},",
                op.entry.path,
                required.join(", "),
                list(&op.row.encrypted_request),
                list(&op.row.encrypted_response),
            );
        }
    }
    out.push_str("];\n");
    out
}

/// The required fields inside a body field's objects, as dotted paths (`amount.total`,
/// `receivers[].account`): the sandbox checks each where its parent is present, as the
/// platform does.
fn nested_required(path: &str, ty: &Ty, m: &Module, depth: usize, out: &mut Vec<String>) {
    // The spec's nesting is shallow; the bound only guards against a self-referring shape.
    const MAX_DEPTH: usize = 8;
    let (path, name) = match ty {
        Ty::Vec(inner) => match inner.as_ref() {
            Ty::Named(name) => (format!("{path}[]"), name),
            _ => return,
        },
        Ty::Named(name) => (path.to_owned(), name),
        _ => return,
    };
    let Some(inner) = m.structs.iter().find(|s| s.name == *name) else {
        return; // an enum
    };
    if depth >= MAX_DEPTH {
        return;
    }
    for f in &inner.fields {
        let field = format!("{path}.{}", f.wire);
        if f.required {
            out.push(format!(
                "(\"{field}\", Kind::{}, Place::Body)",
                kind(&f.ty, m)
            ));
        }
        nested_required(&field, &f.ty, m, depth + 1, out);
    }
}

/// The JSON kind a field's value has on the wire.
fn kind(ty: &Ty, m: &Module) -> &'static str {
    match ty {
        Ty::Str | Ty::Time | Ty::Secret => "String",
        Ty::Int => "Integer",
        Ty::Float => "Number",
        Ty::Bool => "Boolean",
        Ty::Json | Ty::File => "Any",
        Ty::Vec(_) => "Array",
        Ty::Named(name) if m.enums.iter().any(|e| e.name == *name) => "String",
        Ty::Named(_) => "Object",
    }
}
