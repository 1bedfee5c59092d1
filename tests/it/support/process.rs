//! Tests that own something process-wide (the global tracer provider or propagator, the `log`
//! logger, the `tracing` dispatcher) run in a process of their own, so that `cargo test` (every
//! test of this binary in one process, on several threads) passes as `cargo nextest run` (one
//! process per test) does.
//!
//! Under nextest the test already has its process and runs in place; under `cargo test` it runs
//! this binary again for itself alone, with [`CHILD`] set, and passes when the child passes.

use std::process::{Command, Output};

/// Set in a child process started by [`run_test`].
pub const CHILD: &str = "TRACED_TESTS_CHILD";

/// Whether this process was started by [`run_test`].
pub fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Whether this process runs one test only: a child of [`run_test`], or nextest's default
/// process-per-test mode.
pub fn is_alone() -> bool {
    is_child()
        || std::env::var("NEXTEST_EXECUTION_MODE").is_ok_and(|mode| mode == "process-per-test")
}

/// Runs the test `name` of this binary (its path below the crate: `setup_env::child_console`),
/// ignored or not, in a child process with `env` added to this process's environment
/// (`(key, None)` removes `key`), and asserts that it ran and passed.
pub fn run_test(name: &str, env: &[(&str, Option<&str>)]) -> Output {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.args([
        name,
        "--exact",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    command.env(CHILD, "1");
    for (key, value) in env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let output = command.output().expect("the child test process runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child test {name} failed (or is not a test of this binary)\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// For a test that owns something process-wide: whether to run here (this process is the
/// test's alone). Otherwise the test has just been run in a child process and the caller
/// returns.
pub fn alone(test_path: &str) -> bool {
    if is_alone() {
        return true;
    }
    let name = test_path.strip_prefix("it::").unwrap_or(test_path);
    run_test(name, &[]);
    false
}

/// `own_process!(test_fn_name);` first in a test that sets the global provider, propagator,
/// logger or subscriber: under `cargo test` the test runs in a child process of its own.
#[macro_export]
macro_rules! own_process {
    ($test:ident) => {
        if !$crate::support::process::alone(::core::concat!(
            ::core::module_path!(),
            "::",
            ::core::stringify!($test)
        )) {
            return;
        }
    };
}
