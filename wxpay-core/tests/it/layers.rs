//! The module layers of wxpay-core, as the crate docs draw them: every `crate::` path in
//! `src/` must go to a line strictly below its module's (never up, never sideways), so no two
//! modules use each other. The picture is read from `src/lib.rs`, so the docs and this check
//! cannot disagree.

use std::collections::BTreeMap;
use std::path::Path;

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// Module name → its line in the picture of `src/lib.rs`, 0 for the bottom.
fn layers() -> BTreeMap<String, usize> {
    let lib = std::fs::read_to_string(format!("{SRC}/lib.rs")).expect("lib.rs");
    layers_of(&lib)
}

/// The layers drawn in the `## Layers` picture of a crate root's docs.
fn layers_of(lib: &str) -> BTreeMap<String, usize> {
    let picture: Vec<&str> = lib
        .lines()
        .skip_while(|line| *line != "//! ## Layers")
        .skip_while(|line| *line != "//! ```text")
        .skip(1)
        .take_while(|line| *line != "//! ```")
        .collect();
    assert!(!picture.is_empty(), "src/lib.rs has no `## Layers` picture");
    let mut layers = BTreeMap::new();
    for (index, line) in picture.iter().rev().enumerate() {
        let line = line.trim_start_matches("//!").trim();
        // Names, then two spaces or more, then what the line is about.
        let names = line.split("  ").next().unwrap_or_default();
        for name in names.split_whitespace() {
            assert!(
                layers.insert(name.to_owned(), index).is_none(),
                "{name} is drawn twice"
            );
        }
    }
    layers
}

/// `src/a/b.rs` → `a::b`; `mod.rs` names its directory.
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix(SRC).expect("under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The layer of a module or of its closest drawn ancestor.
fn layer_of<'m>(layers: &BTreeMap<String, usize>, module: &'m str) -> Option<(&'m str, usize)> {
    let mut name = module;
    loop {
        if let Some(&layer) = layers.get(name) {
            return Some((name, layer));
        }
        name = &name[..name.rfind("::")?];
    }
}

/// The module paths `code` names after `crate::`, comments left out: `crate::a::b::C` gives
/// `a::b::C` (resolved by [`layer_of`]), `crate::{a, b::c}` gives `a` and `b::c`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or_default();
        for (at, _) in line.match_indices("crate::") {
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let rest = &line[at + "crate::".len()..];
            let path_chars = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
            if let Some(group) = rest.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or_default();
                for item in group.split(',') {
                    let item: String = item.trim().chars().take_while(|&c| path_chars(c)).collect();
                    paths.push(item);
                }
            } else {
                paths.push(rest.chars().take_while(|&c| path_chars(c)).collect());
            }
        }
    }
    paths
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// What is wrong with `sources` (module name, code) against `layers`: a `crate::` path to a
/// module on the same line or above, or to a module the picture does not draw.
fn problems(layers: &BTreeMap<String, usize>, sources: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (module, code) in sources {
        let Some((drawn, layer)) = layer_of(layers, module) else {
            problems.push(format!("{module} is not in the picture in src/lib.rs"));
            continue;
        };
        for path in crate_paths(code) {
            if path.starts_with("__") {
                continue; // the root's hidden macros
            }
            let Some((used, used_layer)) = layer_of(layers, path.trim_end_matches(':')) else {
                problems.push(format!(
                    "{module} uses crate::{path}: name the module that defines it"
                ));
                continue;
            };
            // Strictly below, or the module itself: a module beside it is as wrong as one
            // above, since two modules on a line could otherwise use each other.
            if used_layer >= layer && used != drawn {
                problems.push(format!(
                    "{module} (line {layer}) uses crate::{path} (line {used_layer})"
                ));
            }
        }
    }
    problems
}

#[test]
fn every_module_uses_only_lower_lines() {
    let layers = layers();
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|file| {
            (
                module_of(file),
                std::fs::read_to_string(file).expect("source"),
            )
        })
        // The crate root re-exports every layer.
        .filter(|(module, _)| module != "lib")
        .collect();
    let mut problems = problems(&layers, &sources);
    for name in layers.keys() {
        let exists = sources
            .iter()
            .any(|(module, _)| module == name || module.starts_with(&format!("{name}::")));
        if !exists {
            problems.push(format!("{name} is drawn but has no source file"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_use_sideways_or_up_is_refused() {
    let picture = "//! ## Layers\n//!\n//! ```text\n//! edge  the top\n//! client config  beside each other\n//! keys  the bottom\n//! ```\n";
    let layers = layers_of(picture);
    let check = |module: &str, code: &str| problems(&layers, &[(module.into(), code.into())]);
    assert!(check("client", "use crate::keys::Key;").is_empty(), "down");
    assert!(
        check("edge", "use crate::{client, config};").is_empty(),
        "down"
    );
    assert!(
        check("client", "use crate::client::Inner;").is_empty(),
        "itself"
    );
    assert_eq!(
        check("client", "use crate::config::Builder;"),
        ["client (line 1) uses crate::config::Builder (line 1)"],
        "sideways, even on the top lines"
    );
    assert_eq!(
        check("config", "let c = crate::client::Client::new();"),
        ["config (line 1) uses crate::client::Client::new (line 1)"],
        "the other way round: a cycle is refused at both ends"
    );
    assert_eq!(
        check("keys", "use crate::edge::Thing;"),
        ["keys (line 0) uses crate::edge::Thing (line 2)"],
        "up"
    );
    assert_eq!(
        check("client", "use crate::Client;").len(),
        1,
        "a root re-export"
    );
    assert_eq!(
        check("other", "").len(),
        1,
        "a module left out of the picture"
    );
}

#[test]
fn the_scanner_sees_plain_grouped_and_nested_paths() {
    let code = "use crate::error::Error;\nuse crate::{hex, pem};\n// crate::client in a comment\nlet _ = $crate::x; pub(crate) fn f() {}\nx(crate::keys::MerchantKey::new())";
    assert_eq!(
        crate_paths(code),
        ["error::Error", "hex", "pem", "keys::MerchantKey::new"]
    );
}
