//! The checked-in table `xtask/operations.tsv`: for each (method, path), the module of
//! `wxpay::apis` the operation lives in, its request type's name, and whether the declaration
//! is generated or written by hand. The generator fails on a missing row, on two rows with one
//! name in one module and on a numbered name; `--add-names` appends suggestions for missing
//! rows, to be reviewed.

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToSnakeCase, ToUpperCamelCase};

use crate::spec::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub method: String,
    pub path: String,
    /// `marketing::favor`
    pub module: String,
    pub name: String,
    /// Declared by hand (in the module's `manual.rs`); the generator lists it but emits nothing.
    pub manual: bool,
    /// Generated and compiled in the default build, without its group's feature (with the
    /// types it uses); the rest of its module stays behind the feature.
    pub default: bool,
}

pub const HEADER: &str = "# method\tpath\tmodule\tname\tsource (generated | default = generated and in the default build | manual)\n";

pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        let [method, path, module, name, source] = cells[..] else {
            return Err(format!("operations.tsv line {}: expected 5 columns", i + 1));
        };
        let (manual, default) = match source {
            "manual" => (true, false),
            "default" => (false, true),
            "generated" => (false, false),
            other => {
                return Err(format!(
                    "operations.tsv line {}: unknown source `{other}`",
                    i + 1
                ));
            }
        };
        entries.push(Entry {
            method: method.into(),
            path: path.into(),
            module: module.into(),
            name: name.into(),
            manual,
            default,
        });
    }
    Ok(entries)
}

pub fn render(entries: &[Entry]) -> String {
    let mut out = String::from(HEADER);
    for e in entries {
        let source = if e.manual {
            "manual"
        } else if e.default {
            "default"
        } else {
            "generated"
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{source}\n",
            e.method, e.path, e.module, e.name
        ));
    }
    out
}

/// Checks the table against the spec's rows: one entry per row, no strays, no two requests
/// of one name in one module, no numbered names.
pub fn check(entries: &[Entry], rows: &[Row]) -> Result<(), String> {
    let wanted: BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut names = BTreeMap::new();
    for e in entries {
        let key = (e.method.as_str(), e.path.as_str());
        if !wanted.contains(&key) {
            problems.push(format!("{} {}: not in endpoints.tsv", e.method, e.path));
        }
        if !seen.insert(key) {
            problems.push(format!("{} {}: listed twice", e.method, e.path));
        }
        if is_numbered(&e.name) {
            problems.push(format!(
                "{}::{} ({} {}): a numbered name; say how it differs from its namesake \
                 (`ById`, `Legacy`, …)",
                e.module, e.name, e.method, e.path
            ));
        }
        if let Some(other) = names.insert((e.module.as_str(), e.name.as_str()), key) {
            problems.push(format!(
                "{}::{} names both {} {} and {} {}",
                e.module, e.name, other.0, other.1, e.method, e.path
            ));
        }
    }
    for (method, path) in &wanted {
        if !seen.contains(&(*method, *path)) {
            problems.push(format!(
                "{method} {path}: no name (run `cargo xtask codegen --add-names` and review)"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("operations.tsv:\n  {}", problems.join("\n  ")))
    }
}

/// `ListOrders2`, the placeholder `--add-names` gives a name already taken; `V2` and `H5` are
/// words of their own.
fn is_numbered(name: &str) -> bool {
    let digits = name.trim_end_matches(|c: char| c.is_ascii_digit());
    digits.len() < name.len() && digits.ends_with(|c: char| c.is_ascii_lowercase())
}

/// Suggests a module and a name for an operation the table does not list yet.
pub fn suggest(row: &Row, counts: &BTreeMap<String, usize>) -> Entry {
    let segments = segments(&row.path);
    let statics: Vec<&str> = segments
        .iter()
        .filter(|s| !s.starts_with('{'))
        .map(String::as_str)
        .collect();
    let partner = statics.contains(&"partner");
    let product: Vec<&str> = statics
        .iter()
        .copied()
        .filter(|s| *s != "partner")
        .collect();
    let mut module: Vec<String> = Vec::new();
    if let Some(first) = product.first() {
        module.push(first.to_snake_case());
        let deep = counts.get(*first).copied().unwrap_or(0) >= 12
            || matches!(*first, "refund" | "merchant" | "hk" | "global");
        // The product sits in the second segment when that one is static.
        let second_static = segments
            .iter()
            .filter(|s| s.as_str() != "partner")
            .nth(1)
            .is_some_and(|s| !s.starts_with('{'));
        if deep && second_static && product.len() > 2 {
            module.push(product[1].to_snake_case());
        }
    }
    if partner {
        module.push("partner".into());
    }
    // The words after the module, without key segments (`id` in `/id/{transaction_id}`):
    // those become `By…` in the name.
    let after: Vec<&str> = segments
        .iter()
        .map(String::as_str)
        .filter(|s| *s != "partner")
        .skip(module.len() - usize::from(partner))
        .collect();
    let mut words: Vec<String> = Vec::new();
    let mut key = None;
    for (i, segment) in after.iter().enumerate() {
        if let Some(param) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            key = Some(param);
            continue;
        }
        let next_is_param = after.get(i + 1).is_some_and(|n| n.starts_with('{'));
        if next_is_param && is_key_segment(segment) {
            continue;
        }
        key = None;
        words.push(segment.to_upper_camel_case());
    }
    let ends_with_param = after.last().is_some_and(|s| s.starts_with('{'));
    let action = (row.method == "POST" && !words.is_empty())
        .then(|| after.last().copied().filter(|s| is_action(s)))
        .flatten();
    if action.is_some() {
        words.pop();
    }
    if words.is_empty()
        && let Some(last) = module.iter().rev().find(|m| *m != "partner")
    {
        words.push(last.to_upper_camel_case());
    }
    // At most the last three words: the module already says the product.
    let keep = words.len().saturating_sub(3);
    let mut words: Vec<String> = words.split_off(keep);
    let plural_list = row.method == "GET" && !ends_with_param;
    let n = words.len();
    for (i, word) in words.iter_mut().enumerate() {
        if !(plural_list && i + 1 == n) {
            *word = crate::naming::singular(word);
        }
    }
    let object = words.concat();
    let by = |name: String| match key {
        Some(param) if ends_with_param => format!("{name}By{}", param.to_upper_camel_case()),
        _ => name,
    };
    let name = match (row.method.as_str(), action) {
        (_, Some(verb)) => format!("{}{object}", verb.to_upper_camel_case()),
        ("GET", _) if ends_with_param => by(format!("Query{object}")),
        ("GET", _)
            if object.ends_with('s') && !object.ends_with("ss") && !object.ends_with("us") =>
        {
            format!("List{object}")
        }
        ("GET", _) => format!("Query{object}"),
        ("POST", _) => format!("Create{object}"),
        ("PATCH" | "PUT", _) => by(format!("Update{object}")),
        ("DELETE", _) => by(format!("Delete{object}")),
        _ => object,
    };
    Entry {
        method: row.method.clone(),
        path: row.path.clone(),
        module: module.join("::"),
        name,
        manual: false,
        default: false,
    }
}

/// The path's segments after the version prefix (`/v3/`, `/hk/v3/`, `/global/v3/`), with the
/// region kept as the first segment for the apihk families.
pub fn segments(path: &str) -> Vec<String> {
    let mut parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match parts.as_slice() {
        ["hk" | "global", "v3", ..] => {
            parts.remove(1);
        }
        ["v3", ..] => {
            parts.remove(0);
        }
        _ => {}
    }
    parts.into_iter().map(str::to_owned).collect()
}

/// A segment that names the key the next segment holds: `id`, `out-trade-no`, `batch-id`.
fn is_key_segment(segment: &str) -> bool {
    segment == "id"
        || segment.ends_with("-id")
        || segment.ends_with("_id")
        || segment.ends_with("-no")
        || segment.ends_with("_no")
        || segment.ends_with("-code")
        || segment.ends_with("_code")
}

fn is_action(segment: &str) -> bool {
    const ACTIONS: &[&str] = &[
        "pause",
        "start",
        "restart",
        "stop",
        "close",
        "cancel",
        "apply",
        "modify",
        "confirm",
        "complete",
        "reverse",
        "query",
        "return",
        "unfreeze",
        "finish",
        "withdraw",
        "lock",
        "unlock",
        "bind",
        "unbind",
        "use",
        "send",
        "deposit",
        "freeze",
        "terminate",
        "accept",
        "reject",
        "approve",
        "submit",
        "revoke",
        "refund",
        "sync",
        "upload",
        "delete",
        "notify",
        "activate",
        "deactivate",
        "release",
        "response",
        "feedback",
        "reopen",
        "resume",
        "suspend",
        "retry",
        "verify",
        "check",
        "settle",
        "associate",
        "disassociate",
        "pay",
        "expire",
    ];
    ACTIONS.contains(&segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(module: &str, name: &str, path: &str) -> Entry {
        Entry {
            method: "POST".into(),
            path: path.into(),
            module: module.into(),
            name: name.into(),
            manual: false,
            default: false,
        }
    }

    fn row(path: &str) -> Row {
        Row {
            method: "POST".into(),
            path: path.into(),
            title: String::new(),
            doc_link: String::new(),
            encrypted_request: Vec::new(),
            encrypted_response: Vec::new(),
            content: "json".into(),
            scope: String::new(),
            deprecated: false,
            tags: String::new(),
        }
    }

    #[test]
    fn a_numbered_name_is_refused_and_a_version_or_h5_is_not() {
        assert!(is_numbered("ListOrders2"));
        assert!(is_numbered("CloseTransaction12"));
        assert!(!is_numbered("ResponseComplaintsV2"));
        assert!(!is_numbered("CreateContractPreEntrustSignH5"));
        assert!(!is_numbered("ListOrders"));

        let rows = [row("/v3/a/{id}/close"), row("/v3/a/out-no/{no}/close")];
        let numbered = [
            entry("a", "Close", "/v3/a/{id}/close"),
            entry("a", "Close2", "/v3/a/out-no/{no}/close"),
        ];
        let problems = check(&numbered, &rows).unwrap_err();
        assert!(problems.contains("a::Close2"), "{problems}");
        assert!(!problems.contains("a::Close "), "{problems}");

        let named = [
            entry("a", "CloseById", "/v3/a/{id}/close"),
            entry("a", "CloseByOutNo", "/v3/a/out-no/{no}/close"),
        ];
        assert_eq!(check(&named, &rows), Ok(()));
    }
}
