//! The end-to-end tests (`tests/`) and examples (`examples/`) of traced live in this package.
