//! A clean exit on SIGTERM: `examples/two_services.rs --serve` (axum with
//! `with_graceful_shutdown(traced_runtime::shutdown_signal())`) as a real process, exporting to
//! the test OTLP receiver with a batch delay longer than the test, so that its spans can only
//! arrive by the flush on the way out. Served requests, then `kill -TERM`: it exits 0, and the
//! receiver has every span of every request, exactly once. Then the signals themselves, in child
//! processes of this test binary.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt as _;
use std::process::Command;
use std::time::Duration;

use crate::support::example::Example;
use crate::support::otlp_receiver::Receiver;

/// Starts `two_services --serve` exporting to `receiver`; returns it and the frontend's URL.
fn start_serving(receiver: &Receiver) -> (Example, String) {
    let endpoint = receiver.http_endpoint();
    let example = Example::start(
        "two_services",
        &["--serve"],
        &[
            ("OTEL_TRACES_EXPORTER", Some("otlp")),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", Some("http/protobuf")),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", Some(&endpoint)),
            // No export before the end: only the shutdown's flush can deliver the spans.
            ("OTEL_BSP_SCHEDULE_DELAY", Some("600000")),
        ],
    );
    let line = example.wait_for_line("serving ", Duration::from_secs(30));
    let url = line
        .strip_prefix("serving ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    (example, url)
}

#[tokio::test]
async fn sigterm_exports_every_span_of_the_requests_served_then_exits_0() {
    let receiver = Receiver::start();
    let (example, url) = start_serving(&receiver);

    let client = reqwest::Client::new();
    for _ in 0..3 {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "order of book for user ");
    }
    assert_eq!(
        receiver.spans().len(),
        0,
        "nothing is exported before the end (OTEL_BSP_SCHEDULE_DELAY)"
    );

    example.terminate();
    let (status, stdout, stderr) = example.wait(Duration::from_secs(20));
    assert!(
        status.success(),
        "two_services did not exit cleanly on SIGTERM ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("stopped: exporting the last spans"),
        "{stdout}"
    );

    // Five spans per request (two servers, the checkout step, the client between them, the
    // order), each exactly once, arrived before the process ended.
    let spans = receiver.spans();
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for span in &spans {
        *names.entry(span.name()).or_default() += 1;
    }
    assert_eq!(
        names,
        BTreeMap::from([
            ("GET /checkout/{item}", 3),
            ("POST", 3),
            ("POST /orders", 3),
            ("two_services::checkout", 3),
            ("two_services::create_order", 3),
        ]),
    );
    let traces: std::collections::BTreeSet<_> = spans
        .iter()
        .map(|span| span.span.trace_id.clone())
        .collect();
    assert_eq!(traces.len(), 3, "one trace per request");
}

#[tokio::test]
async fn sigterm_with_nothing_served_exits_0_and_exports_nothing() {
    let receiver = Receiver::start();
    let (example, _url) = start_serving(&receiver);
    example.terminate();
    let (status, stdout, stderr) = example.wait(Duration::from_secs(20));
    assert!(
        status.success(),
        "({status})\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(receiver.spans().len(), 0);
    assert!(!stderr.contains("error"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// The signals themselves, in a child process of this test binary (a signal reaches the whole
// process): the first resolves what waits, a second one, or one while nothing waits, ends the
// process by that signal, as it would without traced.

/// Sends SIGTERM to this process.
fn terminate_myself() {
    let status = Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Runs the ignored test `name` of this module in a child process; returns how it ended.
fn run_child(name: &str) -> (std::process::ExitStatus, String, String) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            &format!("shutdown_signal::{name}"),
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(crate::support::process::CHILD, "1")
        .output()
        .unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
#[ignore = "run in a child process by first_signal_resolves_and_a_second_ends_the_process"]
fn child_two_signals() {
    if !crate::support::process::is_child() {
        return;
    }
    let first = traced_runtime::shutdown_signal();
    terminate_myself();
    first.wait();
    println!("first signal: resolved");
    let _still_waiting = traced_runtime::shutdown_signal();
    terminate_myself();
    std::thread::sleep(Duration::from_secs(20));
    println!("second signal: survived");
}

#[test]
fn first_signal_resolves_and_a_second_ends_the_process() {
    let (status, stdout, stderr) = run_child("child_two_signals");
    assert!(
        stdout.contains("first signal: resolved"),
        "{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("survived"), "{stdout}");
    assert_eq!(
        status.signal(),
        Some(15),
        "ended by SIGTERM: {status}\n{stderr}"
    );
    assert!(
        stderr.contains(
            "traced: SIGTERM again: exiting now, without waiting for the shutdown to finish"
        ),
        "{stderr}"
    );
}

#[test]
#[ignore = "run in a child process by a_signal_while_nothing_waits_ends_the_process"]
fn child_signal_while_nothing_waits() {
    if !crate::support::process::is_child() {
        return;
    }
    drop(traced_runtime::shutdown_signal());
    terminate_myself();
    std::thread::sleep(Duration::from_secs(20));
    println!("survived");
}

#[test]
fn a_signal_while_nothing_waits_ends_the_process() {
    let (status, stdout, stderr) = run_child("child_signal_while_nothing_waits");
    assert!(!stdout.contains("survived"), "{stdout}");
    assert_eq!(
        status.signal(),
        Some(15),
        "ended by SIGTERM: {status}\n{stderr}"
    );
    assert!(!stderr.contains("again"), "{stderr}");
}
