//! Walks the checked-in catalog (`src/apis/**/mod.rs`, as `cargo xtask codegen` writes it) and
//! fails on what a careful author would not write: a type called `Data`, a field typed after
//! another operation of its module (`Transaction.payer: QueryOrderByIdPayer`), or a request
//! built from values side by side (a constructor taking more than two, generated or in a
//! `manual.rs`, or a doc example that does not name its fields).
//!
//! The files are read as text: they are rustfmt's output of a fixed shape, so a few line rules
//! find every item. [`catalog`] gives the modules with their items and fields; each check is
//! one `#[test]` over it, reporting every offender at once.

use std::path::{Path, PathBuf};

#[path = "../src/catalog.rs"]
#[allow(dead_code)] // `cargo xtask renames` uses the rest
mod catalog;

use catalog::{Kind, Module, named_types, parse};

fn catalog() -> Vec<Module> {
    let apis = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src/apis");
    let modules = catalog::read(&apis);
    assert!(
        modules.len() > 100,
        "found only {} generated modules under {}",
        modules.len(),
        apis.display()
    );
    modules
}

/// Fails with every offender, one a line.
fn assert_none(what: &str, offenders: Vec<String>) {
    assert!(
        offenders.is_empty(),
        "{} {what}:\n  {}",
        offenders.len(),
        offenders.join("\n  ")
    );
}

#[test]
fn the_catalog_is_read_whole() {
    let modules = catalog();
    let ops: usize = modules.iter().map(|m| m.operations().count()).sum();
    let types: usize = modules
        .iter()
        .map(|m| m.items.len() - m.operations().count())
        .sum();
    // The catalog declares about a thousand operations and twice as many types: a parser that
    // lost its way would find far fewer.
    assert!(ops > 900, "only {ops} operations found");
    assert!(types > 1500, "only {types} types found");
    let transactions = modules
        .iter()
        .find(|m| m.path == "pay::transactions")
        .expect("pay::transactions");
    let jsapi = transactions
        .items
        .iter()
        .find(|i| i.name == "CreateJsapiOrder")
        .expect("CreateJsapiOrder");
    assert_eq!(jsapi.kind, Kind::Operation);
    assert_eq!(
        jsapi.answer.as_deref(),
        Some("CreateJsapiOrderResponse"),
        "{}",
        jsapi.text
    );
    assert!(jsapi.fields.iter().any(|f| f.name == "amount"));
}

#[test]
fn no_type_is_named_data() {
    let offenders = catalog()
        .iter()
        .flat_map(|m| {
            m.items
                .iter()
                .filter(|i| i.kind != Kind::Operation && i.name == "Data")
                .map(move |i| format!("{}::{} ({})", m.path, i.name, m.file.display()))
        })
        .collect();
    assert_none("types named `Data`", offenders);
}

#[test]
fn no_two_items_of_a_module_share_a_name() {
    let mut offenders = Vec::new();
    for m in catalog() {
        let mut seen = std::collections::BTreeSet::new();
        for item in &m.items {
            if !seen.insert(item.name.as_str()) || m.reexports.contains(&item.name) {
                offenders.push(format!("{}::{}", m.path, item.name));
            }
        }
    }
    assert_none("names declared twice", offenders);
}

#[test]
fn no_field_is_typed_after_another_operation() {
    let mut offenders = Vec::new();
    for m in catalog() {
        let types = m.type_names();
        for item in &m.items {
            // The operation an item belongs to: itself, or the one its name starts with
            // (`CreateOrderResponse`, `CreateOrderSceneInfo`); none for a shared type.
            let own = match item.kind {
                Kind::Operation => Some(item.name.as_str()),
                _ => m.operation_prefix(&item.name),
            };
            let uses = item
                .fields
                .iter()
                .map(|f| (f.name.as_str(), f.ty.as_str()))
                .chain(item.answer.as_deref().map(|a| ("-> (answer)", a)));
            for (field, ty) in uses {
                for named in named_types(ty).filter(|t| types.contains(t)) {
                    if let Some(op) = m.operation_prefix(named)
                        && Some(op) != own
                    {
                        offenders.push(format!(
                            "{}::{}.{field}: {named} (named after `{op}`)",
                            m.path, item.name
                        ));
                    }
                }
            }
        }
    }
    assert_none("fields typed after another operation", offenders);
}

/// The check's own rules, on a module written for it.
#[test]
fn the_rules_catch_what_they_should() {
    let text = "\
#[endpoint(GET \"/v3/a/{id}\" -> Order)]
#[derive(Debug, Clone)]
pub struct QueryOrderById {
    pub id: String,
}

#[endpoint(GET \"/v3/a/out/{no}\" -> QueryOrderByIdResponse)]
#[derive(Debug, Clone)]
pub struct QueryOrderByOutNo {
    pub no: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub payer: Option<QueryOrderByIdPayer>,
    pub amount: Vec<Amount>,
}

pub struct QueryOrderByIdPayer {
    pub openid: String,
}

platform_enum! {
    /// 状态.
    pub enum Data {
        /// 成功 (`SUCCESS`).
        Success = \"SUCCESS\",
    }
}
";
    let m = parse("a".into(), PathBuf::from("a/mod.rs"), text);
    let names: Vec<(&str, Kind)> = m.items.iter().map(|i| (i.name.as_str(), i.kind)).collect();
    assert_eq!(
        names,
        [
            ("QueryOrderById", Kind::Operation),
            ("QueryOrderByOutNo", Kind::Operation),
            ("Order", Kind::Struct),
            ("QueryOrderByIdPayer", Kind::Struct),
            ("Data", Kind::Enum),
        ]
    );
    assert_eq!(m.items[2].fields.len(), 2);
    assert_eq!(m.items[2].fields[0].ty, "Option<QueryOrderByIdPayer>");
    assert_eq!(
        m.operation_prefix("QueryOrderByIdPayer"),
        Some("QueryOrderById")
    );
    assert_eq!(m.operation_prefix("QueryOrderByIdle"), None);
    assert_eq!(m.items[1].answer.as_deref(), Some("QueryOrderByIdResponse"));
    let found: Vec<&str> = named_types(&m.items[2].fields[0].ty).collect();
    assert_eq!(found, ["Option", "QueryOrderByIdPayer"]);
    assert!(
        m.items[4].text.starts_with("platform_enum! {"),
        "{}",
        m.items[4].text
    );
}

/// Every `.rs` file under `src/apis`, generated (`mod.rs`) and hand-written (`manual.rs`).
fn catalog_sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for path in entries.flatten().map(|entry| entry.path()) {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../src/apis"),
        &mut files,
    );
    files.sort();
    assert!(
        files.len() > 100,
        "only {} catalog files found",
        files.len()
    );
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).expect("a catalog file is text");
            (file, text)
        })
        .collect()
}

/// The functions of `text` that build a value (`-> Self`) from more than two values:
/// `(name, how many)`. `self` is not a value given.
fn positional_constructors(text: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("pub fn ") {
        rest = &rest[at + "pub fn ".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let (Some(open), Some(body)) = (rest.find('('), rest.find('{')) else {
            break;
        };
        let signature = &rest[open.min(body)..body];
        if !signature.contains("-> Self") {
            continue;
        }
        let close = signature.rfind(')').unwrap_or(signature.len());
        let values = signature[1..close]
            .split(',')
            .map(str::trim)
            .filter(|parameter| !parameter.is_empty() && !parameter.ends_with("self"))
            .count();
        if values > 2 {
            found.push((name, values));
        }
    }
    found
}

#[test]
fn no_constructor_takes_more_than_two_values_side_by_side() {
    let mut offenders = Vec::new();
    for (file, text) in catalog_sources() {
        for (name, values) in positional_constructors(&text) {
            offenders.push(format!("{}: {name} takes {values}", file.display()));
        }
    }
    assert_none("constructors taking more than two values", offenders);
}

/// Each operation's doc example builds the request as an application should: every required
/// field named in its `…Required` literal (or `new()` when none is required).
#[test]
fn every_example_names_the_required_fields() {
    let mut examples = 0;
    let mut offenders = Vec::new();
    for m in catalog() {
        for item in m.operations() {
            for line in item.text.lines() {
                let Some(call) = line.strip_prefix("/// let request = ") else {
                    continue;
                };
                examples += 1;
                if !(call.ends_with("::new();") || call.contains("Required {")) {
                    offenders.push(format!("{}::{}: {call}", m.path, item.name));
                }
            }
        }
    }
    assert!(examples > 900, "only {examples} examples found");
    assert_none("examples passing values side by side", offenders);
}

#[test]
fn the_constructor_rule_catches_what_it_should() {
    let text = "impl A {\n    pub fn by(a: String, b: String, c: u8) -> Self {\n        todo!()\n    }\n\
                \x20   pub fn cny(total: i64) -> Self { todo!() }\n\
                \x20   pub fn gzip(self) -> Self { self }\n\
                \x20   pub fn sign(&self, a: &str, b: &str, c: &Key) -> Params { todo!() }\n}";
    assert_eq!(positional_constructors(text), vec![("by".to_owned(), 3)]);
}
