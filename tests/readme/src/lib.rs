//! The README's DSL snippet as written (`build.rs` copies it out of README.md).

include!(concat!(env!("OUT_DIR"), "/dsl.rs"));
