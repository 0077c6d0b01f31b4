//! Known-answer vectors and TEST key material from `tests/fixtures/` at the repository root.
#![allow(dead_code)]

use serde_json::Value;

pub fn fixture(name: &str) -> String {
    let path = format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

pub fn vectors() -> Value {
    serde_json::from_str(&fixture("vectors.json")).expect("vectors.json is JSON")
}

pub fn config() -> Value {
    serde_json::from_str(&fixture("keys/config.json")).expect("config.json is JSON")
}

pub fn key(name: &str) -> String {
    fixture(&format!("keys/{name}"))
}

pub fn s<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {field} is not a string"))
}
