//! Compile-time checks of `#[endpoint]`: each `tests/ui/*.rs` must fail with exactly the
//! `.stderr` beside it; each `tests/ui/pass/*.rs` must compile and run.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
