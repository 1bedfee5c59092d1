//! The integration tests of traced are its test targets: `it/main.rs` and `allocations.rs`.
