//! The checked-in catalog read back: `src/apis/**/mod.rs` as `cargo xtask codegen` writes
//! them, parsed by a few line rules (the files are rustfmt's output of a fixed shape) into
//! modules, their items and the types of their fields. Used by the catalog's name test
//! (`xtask/tests/catalog_names.rs`) and by `cargo xtask renames`, which lists what a change
//! of the generator renamed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// What an item of a module is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An `#[endpoint]` request.
    Operation,
    /// A struct that is not a request: an answer or a nested type.
    Struct,
    /// A `platform_enum!`.
    Enum,
}

#[derive(Debug)]
pub struct Field {
    pub name: String,
    /// The type as written: `Option<Vec<Amount>>`.
    pub ty: String,
}

#[derive(Debug)]
pub struct Item {
    pub name: String,
    pub kind: Kind,
    pub fields: Vec<Field>,
    /// An enum's variants: (variant, wire value).
    pub variants: Vec<(String, String)>,
    /// An operation's answer type (`-> Transaction`).
    pub answer: Option<String>,
    /// The item's text, from its doc comment to its closing brace.
    #[allow(dead_code)] // read by the name test
    pub text: String,
}

#[derive(Debug)]
pub struct Module {
    /// `pay::transactions`
    pub path: String,
    #[allow(dead_code)] // read by the name test
    pub file: PathBuf,
    pub items: Vec<Item>,
    /// Types declared by the parent module and re-exported here (`pub use super::{…}`).
    pub reexports: BTreeSet<String>,
}

impl Module {
    pub fn operations(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.kind == Kind::Operation)
    }

    /// The names of the module's types (declared or re-exported), which fields may name.
    pub fn type_names(&self) -> BTreeSet<&str> {
        self.items
            .iter()
            .filter(|i| i.kind != Kind::Operation)
            .map(|i| i.name.as_str())
            .chain(self.reexports.iter().map(String::as_str))
            .collect()
    }

    /// The operation a name starts with (the longest, on a word boundary): `QueryOrderById`
    /// for `QueryOrderByIdPayer`.
    #[allow(dead_code)] // used by the name test
    pub fn operation_prefix(&self, name: &str) -> Option<&str> {
        self.operations()
            .map(|op| op.name.as_str())
            .filter(|op| {
                name.strip_prefix(op)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_uppercase))
            })
            .max_by_key(|op| op.len())
    }
}

/// Every generated module under `apis` (a `src/apis`), parsed.
pub fn read(apis: &Path) -> Vec<Module> {
    let mut files = Vec::new();
    collect(apis, &mut files);
    files.sort();
    let modules: Vec<Module> = files
        .into_iter()
        .filter_map(|file| {
            let text = fs::read_to_string(&file).ok()?;
            if !text.starts_with("// @generated") {
                return None;
            }
            let dir = file.parent()?.strip_prefix(apis).ok()?;
            let path = dir
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("::");
            Some(parse(path, file.clone(), &text))
        })
        .collect();
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

pub fn parse(path: String, file: PathBuf, text: &str) -> Module {
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
            let mut variants = Vec::new();
            let mut end = i + 1;
            if trimmed.ends_with("{}") {
                // `pub struct ListComplaintNotifications {}`: no fields.
                end = i;
            }
            while end > i && end < lines.len() {
                let l = lines[end];
                let t = l.trim_start();
                if l.len() - t.len() == indent && t.starts_with('}') {
                    break;
                }
                if kind != Kind::Enum
                    && let Some(rest) = t.strip_prefix("pub ")
                {
                    // rustfmt puts a long type on the next line: `pub field:` then the type.
                    let split = rest.split_once(": ").or_else(|| {
                        let name = rest.strip_suffix(':')?;
                        Some((name, lines.get(end + 1)?.trim()))
                    });
                    if let Some((name, ty)) = split {
                        fields.push(Field {
                            name: name.to_owned(),
                            ty: ty.trim_end_matches(',').to_owned(),
                        });
                    }
                }
                if kind == Kind::Enum
                    && let Some((variant, wire)) = t.split_once(" = \"")
                {
                    variants.push((
                        variant.to_owned(),
                        wire.trim_end_matches(',').trim_end_matches('"').to_owned(),
                    ));
                }
                end += 1;
            }
            module.items.push(Item {
                name: name.to_owned(),
                kind,
                fields,
                variants,
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
pub fn named_types(ty: &str) -> impl Iterator<Item = &str> {
    ty.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| t.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// What changed names between two readings of the catalog, module by module: types paired by
/// where they are used (the same field of the same request, answer or paired type), and the
/// variants of paired enums by their wire value.
#[derive(Debug, Default)]
pub struct Renames {
    /// (module, old name, new name)
    pub types: BTreeSet<(String, String, String)>,
    /// (module, new enum name, old variant, new variant)
    pub variants: BTreeSet<(String, String, String, String)>,
    /// (module, old name): types of the old catalog no field of the new one pairs with.
    pub unpaired: BTreeSet<(String, String)>,
}

pub fn renames(old: &[Module], new: &[Module]) -> Renames {
    let mut out = Renames::default();
    // (module, old) → new names, for a child's re-exports of its parent's types.
    let mut pairs_of: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut reexported: Vec<(String, String)> = Vec::new();
    for n in new {
        let Some(o) = old.iter().find(|o| o.path == n.path) else {
            continue;
        };
        let (old_types, new_types) = (o.type_names(), n.type_names());
        let item = |m: &'_ Module, name: &str| -> Option<usize> {
            m.items.iter().position(|i| i.name == name)
        };
        // Pairs (old, new) of items, starting from the requests, whose names do not change.
        let mut todo: Vec<(String, String)> = n
            .operations()
            .filter(|op| item(o, &op.name).is_some())
            .map(|op| (op.name.clone(), op.name.clone()))
            .collect();
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        while let Some((a, b)) = todo.pop() {
            if !seen.insert((a.clone(), b.clone())) {
                continue;
            }
            let (Some(ia), Some(ib)) = (item(o, &a), item(n, &b)) else {
                // A type re-exported from the parent: paired there.
                continue;
            };
            let (ia, ib) = (&o.items[ia], &n.items[ib]);
            let pairs = ia
                .fields
                .iter()
                .filter_map(|fa| {
                    let fb = ib.fields.iter().find(|fb| fb.name == fa.name)?;
                    Some((fa.ty.as_str(), fb.ty.as_str()))
                })
                .chain(ia.answer.as_deref().zip(ib.answer.as_deref()));
            for (ta, tb) in pairs {
                let xs = named_types(ta).filter(|t| old_types.contains(t));
                let ys: Vec<&str> = named_types(tb).filter(|t| new_types.contains(t)).collect();
                for (x, y) in xs.zip(ys) {
                    todo.push((x.to_owned(), y.to_owned()));
                }
            }
            if ia.kind == Kind::Enum && ib.kind == Kind::Enum {
                for (va, wa) in &ia.variants {
                    if let Some((vb, _)) = ib.variants.iter().find(|(_, wb)| wb == wa)
                        && va != vb
                    {
                        out.variants
                            .insert((n.path.clone(), b.clone(), va.clone(), vb.clone()));
                    }
                }
            }
        }
        let mut paired: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (a, b) in &seen {
            paired.entry(a).or_default().insert(b);
        }
        for (a, b) in &seen {
            pairs_of
                .entry((n.path.clone(), a.clone()))
                .or_default()
                .insert(b.clone());
        }
        for t in &old_types {
            if o.reexports.contains(*t) {
                reexported.push((n.path.clone(), (*t).to_owned()));
                continue;
            }
            match paired.get(t) {
                Some(to) => {
                    for b in to {
                        if t != b {
                            out.types
                                .insert((n.path.clone(), (*t).to_owned(), (*b).to_owned()));
                        }
                    }
                }
                None => {
                    out.unpaired.insert((n.path.clone(), (*t).to_owned()));
                }
            }
        }
    }
    // A re-exported type is renamed where its parent declares it, and so is its path here.
    for (path, t) in reexported {
        let parent = path.rsplit_once("::").map_or("", |(p, _)| p).to_owned();
        let to = pairs_of
            .get(&(path.clone(), t.clone()))
            .or_else(|| pairs_of.get(&(parent, t.clone())));
        match to {
            Some(to) => {
                for b in to.iter().filter(|b| **b != t) {
                    out.types.insert((path.clone(), t.clone(), b.clone()));
                }
            }
            None => {
                out.unpaired.insert((path, t));
            }
        }
    }
    out
}
