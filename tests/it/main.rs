//! The integration tests of traced, in one binary (one link of tonic, axum and reqwest rather
//! than one per file). Each module is an area; `support` is what they share.
//!
//! Tests that own something process-wide (the global provider, propagator, logger) start with
//! `own_process!(name)`: under `cargo test` they run again in a child process of their own.
//! `tests/allocations.rs` is a binary of its own: its counting global allocator is per binary.

mod support;

mod async_context;
mod attributes;
mod db;
mod errors;
mod faults;
mod http_client;
mod http_server;
mod impl_blocks;
mod interop_python;
mod lints;
mod log_ids;
mod logs_example;
mod logs_log;
mod logs_otlp;
mod logs_tracing;
mod manual;
mod messaging;
mod messaging_python;
mod otlp_export;
mod parent;
mod pipeline;
mod propagation;
mod redis_tests;
mod scopes;
mod secrets;
mod setup_custom;
mod setup_env;
mod setup_errors;
mod setup_tls;
mod shutdown;
mod shutdown_signal;
mod signatures;
mod tasks;
mod two_services;
mod worker_example;
