//! No library: this package is its test binary, `main.rs` (the compile errors of `#[traced]`).
