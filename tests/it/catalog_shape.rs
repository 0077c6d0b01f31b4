//! The checked-in catalog (`src/apis`) read as source text, for what the compiler does not
//! refuse but a careful author would: a request built from values side by side.

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/apis`, generated (`mod.rs`) and hand-written (`manual.rs`).
fn catalog_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .expect("src/apis is readable")
            .map(|entry| entry.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/apis"),
        &mut files,
    );
    assert!(files.len() > 100, "the catalog has its modules");
    files
}

/// The functions of `text` that build a value (`-> Self`) and take more than two values:
/// `(name, parameters)`.
fn positional_constructors(text: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("pub fn ") {
        rest = &rest[at + "pub fn ".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some(open) = rest.find('(') else { break };
        let Some(body) = rest.find('{') else { break };
        let signature = &rest[open..body];
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
fn the_checker_finds_a_positional_constructor() {
    let text = "impl A {\n    pub fn by(a: String, b: String, c: u8) -> Self {\n        todo!()\n    }\n    \
                pub fn cny(total: i64) -> Self { todo!() }\n    pub fn sign(&self, a: &str, b: &str, \
                c: &Key) -> Params { todo!() }\n}";
    assert_eq!(positional_constructors(text), vec![("by".to_owned(), 3)]);
}

#[test]
fn no_catalog_constructor_takes_more_than_two_values_side_by_side() {
    let mut found = Vec::new();
    for file in catalog_files() {
        let text = fs::read_to_string(&file).expect("a catalog file is text");
        for (name, values) in positional_constructors(&text) {
            found.push(format!("{}: {name} takes {values}", file.display()));
        }
    }
    assert!(
        found.is_empty(),
        "name the fields instead:\n{}",
        found.join("\n")
    );
}

/// Each generated request's doc example builds it as an application should: every required
/// field named in its `…Required` literal.
#[test]
fn every_generated_example_names_the_required_fields() {
    let mut examples = 0;
    let mut positional = Vec::new();
    for file in catalog_files() {
        let text = fs::read_to_string(&file).expect("a catalog file is text");
        for line in text
            .lines()
            .filter(|line| line.starts_with("/// let request = "))
        {
            examples += 1;
            let call = line.trim_start_matches("/// let request = ");
            let named = call.ends_with("::new();") || call.contains("Required {");
            if !named {
                positional.push(format!("{}: {call}", file.display()));
            }
        }
    }
    assert!(
        examples > 1_000,
        "every operation has an example ({examples})"
    );
    assert!(positional.is_empty(), "{}", positional.join("\n"));
}
