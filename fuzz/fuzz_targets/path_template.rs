//! The macro's path-template parser (a proc-macro crate exports no functions, so the module
//! is compiled in here directly).
#![no_main]

#[allow(dead_code)]
#[path = "../../wxpay-macros/src/template.rs"]
mod template;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (pieces, errors) = template::parse(text);
    for error in &errors {
        assert!(error.range.end <= text.len());
    }
    if errors.is_empty() {
        let _ = template::documented(&pieces);
    }
});
