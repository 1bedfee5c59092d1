//! Interoperability with the official OpenTelemetry Python SDK: a Python client calls the Rust
//! server (axum + `HttpServerLayer`), which calls a Python server (reqwest +
//! `TracingMiddleware`). One trace id across the three, the right parent on each side of each
//! language boundary, and the `user.id` baggage set in Python arriving in Rust and back in
//! Python.
//!
//! The test makes itself a virtualenv with `tests/python/requirements.txt` under the target
//! directory (`support::python`; it needs `python3` with `venv`, and PyPI once), or uses
//! `$PYTHON`. Every process runs on 127.0.0.1 and is killed when the test ends.

use crate::support::http as http_support;
use crate::support::python::{python, script};

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use http_support::{attr_str, find, install, spans, traced_fetch, Server};
use serde_json::Value;
use traced_runtime::http_server::HttpServerLayer;
use traced_runtime::opentelemetry::baggage::BaggageExt as _;
use traced_runtime::opentelemetry::trace::SpanKind;
use traced_runtime::{current_span, Context};

/// A child process, killed and reaped when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Starts `server.py`, and returns it with its port once it listens.
fn start_python_server(spans_file: &TempFile) -> (Process, u16) {
    let mut child = Command::new(python())
        .arg(script("server.py"))
        .arg(&spans_file.0)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", python().display()));
    let stdout = child.stdout.take().unwrap();
    let process = Process(child);
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = receiver
        .recv_timeout(Duration::from_secs(30))
        .expect("server.py did not start within 30 s");
    let port = line
        .strip_prefix("PORT ")
        .and_then(|port| port.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "server.py printed {line:?}; is the SDK installed? \
                 python3 -m pip install -r tests/python/requirements.txt"
            )
        });
    (process, port)
}

/// Runs `client.py URL` to completion (killed after 60 s) and returns its JSON output.
fn run_python_client(url: &str) -> Value {
    let mut child = Process(
        Command::new(python())
            .arg(script("client.py"))
            .arg(url)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut stdout = child.0.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "client.py did not finish in 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap();
    assert!(status.success(), "client.py failed ({status}): {out}");
    serde_json::from_str(&out).unwrap_or_else(|error| panic!("{error}: {out:?}"))
}

/// The spans `server.py` wrote, once there are `count` (it writes each as it ends).
fn python_server_spans(file: &TempFile, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&file.0).unwrap_or_default();
        let spans: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        if spans.len() >= count || Instant::now() > deadline {
            assert_eq!(spans.len(), count, "{text}");
            return spans;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The Rust service: `GET /relay` calls the Python server and answers with what it said.
fn relay_app(python_url: String) -> Router {
    Router::new()
        .route(
            "/relay",
            get(|State(python_url): State<String>| async move {
                let user_id = Context::current()
                    .baggage()
                    .get("user.id")
                    .map(ToString::to_string)
                    .unwrap_or_default();
                current_span().set_attribute("user.id", user_id);
                traced_fetch(format!("{python_url}/downstream"), &[]).await
            }),
        )
        .with_state(python_url)
        .layer(HttpServerLayer::new())
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_to_rust_server_to_python_server_is_one_trace() {
    crate::own_process!(python_client_to_rust_server_to_python_server_is_one_trace);
    let exporter = install();
    let spans_file = TempFile(std::env::temp_dir().join(format!(
        "traced-interop-python-{}.jsonl",
        std::process::id()
    )));
    let _ = std::fs::remove_file(&spans_file.0);
    let (_python_server, python_port) = start_python_server(&spans_file);
    let rust_server = Server::start(relay_app(format!("http://127.0.0.1:{python_port}"))).await;

    let url = rust_server.url("/relay");
    let output = tokio::task::spawn_blocking(move || run_python_client(&url))
        .await
        .unwrap();

    // Python client.
    let client_spans = output["spans"].as_array().unwrap();
    assert_eq!(client_spans.len(), 1, "{output}");
    let python_client = &client_spans[0];
    assert_eq!(str_of(python_client, "kind"), "CLIENT");
    assert!(python_client["parent_span_id"].is_null());
    let trace_id = str_of(python_client, "trace_id");

    // Rust server and client.
    let rust_spans = spans(&exporter, 2).await;
    let rust_server_span = find(&rust_spans, "GET /relay");
    let rust_client_span = find(&rust_spans, "GET");
    assert_eq!(rust_server_span.span_kind, SpanKind::Server);
    assert_eq!(rust_client_span.span_kind, SpanKind::Client);
    assert_eq!(
        rust_server_span.span_context.trace_id().to_string(),
        trace_id
    );
    assert_eq!(
        rust_client_span.span_context.trace_id().to_string(),
        trace_id
    );
    // Python → Rust: the Rust server's parent is the Python client span.
    assert_eq!(
        rust_server_span.parent_span_id.to_string(),
        str_of(python_client, "span_id")
    );
    assert!(rust_server_span.parent_span_is_remote);
    assert_eq!(
        rust_client_span.parent_span_id,
        rust_server_span.span_context.span_id()
    );
    assert_eq!(attr_str(rust_server_span, "user.id").unwrap(), "\"42\"");

    // Rust → Python: the Python server's parent is the Rust client span.
    let python_spans = python_server_spans(&spans_file, 1);
    let python_server = &python_spans[0];
    assert_eq!(str_of(python_server, "name"), "GET /downstream");
    assert_eq!(str_of(python_server, "kind"), "SERVER");
    assert_eq!(str_of(python_server, "trace_id"), trace_id);
    assert_eq!(
        str_of(python_server, "parent_span_id"),
        rust_client_span.span_context.span_id().to_string()
    );
    assert_eq!(python_server["parent_is_remote"], Value::Bool(true));
    // The baggage set in Python crossed Rust and arrived back in Python.
    assert_eq!(str_of(&python_server["attributes"], "user.id"), "42");

    // What the Python server answered went back through Rust to the Python client.
    let answer: Value = serde_json::from_str(str_of(&output, "response")).unwrap();
    assert_eq!(str_of(&answer, "user.id"), "42");
    assert_eq!(
        str_of(&answer, "traceparent"),
        format!(
            "00-{trace_id}-{}-01",
            rust_client_span.span_context.span_id()
        )
    );
}
