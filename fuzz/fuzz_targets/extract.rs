//! `propagation::extract` over hostile headers; the body is `fuzz/src/extract.rs`, which the
//! test suite also runs.

#![no_main]

#[path = "../src/extract.rs"]
mod extract;

libfuzzer_sys::fuzz_target!(|data: &[u8]| extract::check(data));
