//! Every mistake in `#[traced(...)]` is one compile error, spanned on the offending token.
//! One file per mistake in `tests/ui/cases/`, with the expected `.stderr` committed beside it.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("cases/*.rs");
}
