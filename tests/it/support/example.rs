//! The examples as users run them: real processes of the built example binaries.
//!
//! The examples are targets of the root package, which this test package cannot depend on, so
//! the first test that needs one builds them with cargo, into this test binary's target
//! directory and profile, once per test process: `cargo build --workspace --all-features
//! --examples`, the features `cargo nextest run --workspace --all-features` (CI, the README)
//! builds them with, so that after such a run this is a no-op instead of a second build of
//! traced-runtime and the crates whose features differ. Cargo's own lock serialises test
//! processes building at once.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The examples the tests run.
const EXAMPLES: [&str; 2] = ["two_services", "worker"];

/// The variables cargo sets for a test process (besides `CARGO_PKG_*`, `CARGO_BIN_EXE_*`).
const CARGO_SETS: [&str; 9] = [
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// `<target>/<profile>/examples/<name>`, built if needed.
pub fn binary(name: &str) -> PathBuf {
    assert!(EXAMPLES.contains(&name), "add {name} to EXAMPLES");
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build).join(name)
}

/// Builds the examples; returns `<target>/<profile>/examples`.
fn build() -> PathBuf {
    // This test binary is `<target>/<profile dir>/deps/it-<hash>`.
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe.ancestors().nth(2).expect("<target>/<profile>");
    let target = profile_dir.parent().expect("<target>");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace");
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .args(["--workspace", "--all-features", "--examples"])
        .arg("--target-dir")
        .arg(target);
    // What cargo set for this test process describes this package, not the build: ring's build
    // script, for one, reruns when `CARGO_MANIFEST_DIR` differs, which would rebuild ring and
    // what depends on it here and again in the next outer build.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if CARGO_SETS.contains(&key.as_ref())
            || key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_BIN_EXE_")
        {
            command.env_remove(key.as_ref());
        }
    }
    match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(profile) => {
            command.args(["--profile", profile]);
        }
        None => panic!("no profile directory in {}", exe.display()),
    }
    let output = command.stdin(Stdio::null()).output().expect("cargo runs");
    assert!(
        output.status.success(),
        "building the examples failed: {command:?}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    profile_dir.join("examples")
}

/// A running example: its output collected as it comes; killed and reaped when dropped.
pub struct Example {
    child: Child,
    stdout: Arc<(Mutex<String>, Condvar)>,
    stderr: Arc<(Mutex<String>, Condvar)>,
    readers: Vec<JoinHandle<()>>,
}

impl Example {
    /// Starts the example `name` with `args` and `env` added to this process's environment
    /// (`(key, None)` removes `key`).
    pub fn start(name: &str, args: &[&str], env: &[(&str, Option<&str>)]) -> Example {
        let mut command = Command::new(binary(name));
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The tests choose the exporters; a developer's own variables do not leak in.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("OTEL_") {
                command.env_remove(key);
            }
        }
        for (key, value) in env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run the example {name}: {error}"));
        let (stdout, out_reader) = collect(child.stdout.take().expect("piped stdout"));
        let (stderr, err_reader) = collect(child.stderr.take().expect("piped stderr"));
        Example {
            child,
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits (at most `timeout`) for a line of stdout that starts with `prefix`, and returns it.
    pub fn wait_for_line(&self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let (text, changed) = &*self.stdout;
        let mut text = text.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(line) = text.lines().find(|line| line.starts_with(prefix)) {
                return line.to_owned();
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "no line starting with {prefix:?} within {timeout:?}\nstdout:\n{text}\nstderr:\n{}",
                self.stderr()
            );
            text = changed
                .wait_timeout(text, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Sends it `SIGTERM` (with `kill`, the command).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM {} failed", self.id());
    }

    /// Waits (at most `timeout`) for it to exit; returns its status, stdout and stderr.
    pub fn wait(mut self, timeout: Duration) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the example's status") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the example did not exit within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // The pipes end with the process: the readers have read everything.
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        (status, self.stdout(), self.stderr())
    }

    /// What it printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `pipe` on a thread of its own into a shared string, line by line.
fn collect(
    pipe: impl std::io::Read + Send + 'static,
) -> (Arc<(Mutex<String>, Condvar)>, JoinHandle<()>) {
    let shared = Arc::new((Mutex::new(String::new()), Condvar::new()));
    let writer = Arc::clone(&shared);
    let reader = std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let (text, changed) = &*writer;
                    text.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push_str(&line);
                    changed.notify_all();
                }
            }
        }
        // Whatever is left that is not UTF-8 lines.
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
    });
    (shared, reader)
}
