//! Readable text for people, one JSON document for scripts (`--json`).

use serde_json::Value;

/// Where a command's result goes: stdout, as text or as JSON.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    pub fn is_json(self) -> bool {
        self.json
    }

    /// Prints `document` with `--json`, else the text `human` makes.
    pub fn print(self, document: &Value, human: impl FnOnce() -> String) {
        if self.json {
            println!("{document}");
        } else {
            let text = human();
            if text.ends_with('\n') {
                print!("{text}");
            } else {
                println!("{text}");
            }
        }
    }
}

/// A JSON value as people read it: strings bare, the rest pretty-printed JSON.
pub fn pretty(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}
