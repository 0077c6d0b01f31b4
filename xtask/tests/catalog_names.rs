//! Walks the checked-in catalog (`src/apis/**/mod.rs`, as `cargo xtask codegen` writes it) and
//! fails on names a careful author would not choose: a type called `Data`, or a field typed
//! after another operation of its module (`Transaction.payer: QueryOrderByIdPayer`).
//!
//! The files are read as text: they are rustfmt's output of a fixed shape, so a few line rules
//! find every item. [`catalog`] gives the modules with their items and fields; each check is
//! one `#[test]` over it, reporting every offender at once.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// What an item of a module is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An `#[endpoint]` request.
    Operation,
    /// A struct that is not a request: an answer or a nested type.
    Struct,
    /// A `platform_enum!`.
    Enum,
}

#[derive(Debug)]
struct Field {
    name: String,
    /// The type as written: `Option<Vec<Amount>>`.
    ty: String,
}

#[derive(Debug)]
struct Item {
    name: String,
    kind: Kind,
    fields: Vec<Field>,
    /// An operation's answer type (`-> Transaction`).
    answer: Option<String>,
    /// The item's text, from its doc comment to its closing brace.
    text: String,
}

#[derive(Debug)]
struct Module {
    /// `pay::transactions`
    path: String,
    file: PathBuf,
    items: Vec<Item>,
    /// Types declared by the parent module and re-exported here (`pub use super::{…}`).
    reexports: BTreeSet<String>,
}

impl Module {
    fn operations(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.kind == Kind::Operation)
    }

    /// The names of the module's types (declared or re-exported), which fields may name.
    fn type_names(&self) -> BTreeSet<&str> {
        self.items
            .iter()
            .filter(|i| i.kind != Kind::Operation)
            .map(|i| i.name.as_str())
            .chain(self.reexports.iter().map(String::as_str))
            .collect()
    }

    /// The operation a name starts with (the longest, on a word boundary): `QueryOrderById`
    /// for `QueryOrderByIdPayer`.
    fn operation_prefix(&self, name: &str) -> Option<&str> {
        self.operations()
            .map(|op| op.name.as_str())
            .filter(|op| {
                name.strip_prefix(op)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_uppercase))
            })
            .max_by_key(|op| op.len())
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every generated module of `src/apis`, parsed.
fn catalog() -> Vec<Module> {
    let apis = root().join("src/apis");
    let mut files = Vec::new();
    collect(&apis, &mut files);
    files.sort();
    let modules: Vec<Module> = files
        .into_iter()
        .filter_map(|file| {
            let text = fs::read_to_string(&file).ok()?;
            if !text.starts_with("// @generated") {
                return None;
            }
            let dir = file.parent()?.strip_prefix(&apis).ok()?;
            let path = dir
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("::");
            Some(parse(path, file.clone(), &text))
        })
        .collect();
    assert!(
        modules.len() > 100,
        "found only {} generated modules under {}",
        modules.len(),
        apis.display()
    );
    modules
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.file_name().is_some_and(|n| n == "mod.rs") {
            out.push(path);
        }
    }
}

/// The name after `keyword` on a line (`pub struct Amount {` → `Amount`).
fn name_after<'a>(line: &'a str, keyword: &str) -> Option<&'a str> {
    let rest = line.trim_start().strip_prefix(keyword)?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

fn parse(path: String, file: PathBuf, text: &str) -> Module {
    let mut module = Module {
        path,
        file,
        items: Vec::new(),
        reexports: BTreeSet::new(),
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0; // the first line of the current item (its doc comment)
    let mut endpoint: Option<Option<String>> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            start = i + 1;
        } else if trimmed.starts_with("pub use super::") {
            let mut text = String::new();
            while i < lines.len() {
                text.push_str(lines[i]);
                if lines[i].trim_end().ends_with(';') {
                    break;
                }
                i += 1;
            }
            let inner = text
                .split_once("super::")
                .map_or("", |(_, rest)| rest)
                .trim_end_matches(';')
                .trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace());
            module.reexports.extend(
                inner
                    .split(',')
                    .map(|n| n.trim().trim_end_matches('}').trim().to_owned())
                    .filter(|n| !n.is_empty()),
            );
        } else if trimmed.starts_with("#[endpoint(") {
            endpoint = Some(
                trimmed
                    .split_once(" -> ")
                    .map(|(_, rest)| {
                        rest.chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                            .collect()
                    })
                    .filter(|answer: &String| !answer.is_empty()),
            );
        } else if let Some(name) =
            name_after(line, "pub struct ").or_else(|| name_after(line, "pub enum "))
        {
            let declared = endpoint.take();
            let kind = match (trimmed.starts_with("pub enum "), &declared) {
                (true, _) => Kind::Enum,
                (false, Some(_)) => Kind::Operation,
                (false, None) => Kind::Struct,
            };
            let answer = declared.flatten();
            let indent = line.len() - trimmed.len();
            let mut fields = Vec::new();
            let mut end = i + 1;
            while end < lines.len() {
                let l = lines[end];
                let t = l.trim_start();
                if l.len() - t.len() == indent && t.starts_with('}') {
                    break;
                }
                if kind != Kind::Enum
                    && let Some(rest) = t.strip_prefix("pub ")
                    && let Some((name, ty)) = rest.split_once(": ")
                {
                    fields.push(Field {
                        name: name.to_owned(),
                        ty: ty.trim_end_matches(',').to_owned(),
                    });
                }
                end += 1;
            }
            module.items.push(Item {
                name: name.to_owned(),
                kind,
                fields,
                answer,
                text: lines[start..=end.min(lines.len() - 1)].join("\n"),
            });
            i = end;
            start = end + 1;
        }
        i += 1;
    }
    module
}

/// The identifiers a type names: `Option<Vec<Amount>>` → `Option`, `Vec`, `Amount`.
fn named_types(ty: &str) -> impl Iterator<Item = &str> {
    ty.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| t.starts_with(|c: char| c.is_ascii_uppercase()))
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
    assert!(m.items[4].text.starts_with("platform_enum! {"), "{}", m.items[4].text);
}
