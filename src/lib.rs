//! The examples of traced (`examples/`); this library is empty. The tests are the package
//! `traced-tests` (`tests/`), the benchmarks `traced-benches` (`benches/`).
