//! Copies the README's "The DSL in 20 lines" snippet, unchanged, to where `src/lib.rs`
//! includes it: a README edit that stops compiling fails the build.

use std::path::Path;

const SECTION: &str = "## The DSL in 20 lines";

fn main() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    println!("cargo::rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme).expect("README.md is readable");
    let snippet: Vec<&str> = text
        .lines()
        .skip_while(|line| *line != SECTION)
        .skip_while(|line| *line != "```rust")
        .skip(1)
        .take_while(|line| *line != "```")
        .collect();
    assert!(
        !snippet.is_empty(),
        "README.md has no rust block under {SECTION:?}"
    );
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("dsl.rs");
    std::fs::write(out, snippet.join("\n") + "\n").expect("OUT_DIR is writable");
}
