//! The benchmarks of traced are its bench targets and the `profile_spans` example.
