//! No secret in any message: a secret planted in the endpoint's userinfo and query and in the
//! headers never appears in what traced prints or returns (warnings on stderr, export failures
//! over gRPC and HTTP for traces and logs, the errors' `Display` and `Debug`, the `Debug` of
//! the builder and the guards), while the host still does.

use std::net::TcpListener;
use std::process::Output;
use std::time::Duration;

use traced_runtime::env::Env;
use traced_runtime::{otlp_logs, traced, Error, Protocol, Telemetry};
use tracing_subscriber::layer::SubscriberExt as _;

use crate::support::process::is_child;

const SECRET: &str = "SECRET";

/// A port on 127.0.0.1 nothing listens on.
fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `text` holds no secret and names the host.
#[track_caller]
fn assert_clean(text: &str, host: &str) {
    assert!(!text.contains(SECRET), "a secret is shown: {text}");
    assert!(text.contains(host), "the host {host} is not shown: {text}");
}

#[traced]
fn work() {}

/// Builder, guard, and the error of the failed export: no secret.
fn secrets_stay_out_of_the_builder_guard_and_export_error(protocol: Protocol) {
    let port = dead_port();
    let host = format!("127.0.0.1:{port}");
    let endpoint = match protocol {
        Protocol::Grpc => format!("http://user:{SECRET}@{host}?api_key={SECRET}"),
        _ => format!("http://user:{SECRET}@{host}/v1/traces?api_key={SECRET}"),
    };
    let builder = Telemetry::builder()
        .env(Env::default())
        .otlp_protocol(protocol)
        .otlp_traces_endpoint(&endpoint)
        .otlp_header("x-api-key", SECRET)
        .otlp_timeout(Duration::from_millis(500))
        .shutdown_timeout(Duration::from_secs(3));
    assert_clean(&format!("{builder:?}"), &host);
    let telemetry = builder.install().expect("install");
    // The guard's Debug need not name the collector; it must not show a secret.
    let debug = format!("{telemetry:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    work();
    let error = telemetry.shutdown().expect_err("nothing listens there");
    match &error {
        Error::SpansLost { stats, cause } => {
            assert_eq!(stats.dropped_export_failed, 1, "{error:?}");
            assert!(
                matches!(cause.as_deref(), Some(Error::Export { .. })),
                "{error:?}"
            );
        }
        other => panic!("expected the lost span reported, got {other:?}"),
    }
    assert_clean(&error.to_string(), &host);
    assert_clean(&format!("{error:?}"), &host);
}

#[test]
fn grpc_traces_export_failure_shows_no_secret() {
    crate::own_process!(grpc_traces_export_failure_shows_no_secret);
    secrets_stay_out_of_the_builder_guard_and_export_error(Protocol::Grpc);
}

#[test]
fn http_traces_export_failure_shows_no_secret() {
    crate::own_process!(http_traces_export_failure_shows_no_secret);
    secrets_stay_out_of_the_builder_guard_and_export_error(Protocol::HttpProtobuf);
}

fn logs_export_failure_shows_no_secret(protocol: &str) {
    let port = dead_port();
    let host = format!("127.0.0.1:{port}");
    let logs = otlp_logs::install_with_env(Env::from_vars([
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
        (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            format!("http://user:{SECRET}@{host}/v1/logs?api_key={SECRET}"),
        ),
        ("OTEL_EXPORTER_OTLP_HEADERS", format!("x-api-key={SECRET}")),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "500".to_owned()),
    ]))
    .expect("install");
    let debug = format!("{logs:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
    tracing::subscriber::with_default(subscriber, || tracing::info!("lost"));
    let error = logs.shutdown().expect_err("nothing listens there");
    assert_clean(&error.to_string(), &host);
    assert_clean(&format!("{error:?}"), &host);
}

#[test]
fn grpc_logs_export_failure_shows_no_secret() {
    crate::own_process!(grpc_logs_export_failure_shows_no_secret);
    logs_export_failure_shows_no_secret("grpc");
}

#[test]
fn http_logs_export_failure_shows_no_secret() {
    crate::own_process!(http_logs_export_failure_shows_no_secret);
    logs_export_failure_shows_no_secret("http/protobuf");
}

/// Every error a builder value can give: no secret, the host shown.
#[test]
fn errors_show_no_secret() {
    crate::own_process!(errors_show_no_secret);
    let builder = || Telemetry::builder().env(Env::default());
    let endpoints = [
        format!("ftp://user:{SECRET}@collector.example/?api_key={SECRET}"),
        format!("user:{SECRET}@collector.example:4318"),
        format!("http://user:{SECRET}@collector.example:4318/ x?{SECRET}"),
    ];
    for endpoint in &endpoints {
        let error = builder().otlp_endpoint(endpoint).install().unwrap_err();
        assert!(matches!(error, Error::InvalidEndpoint { .. }), "{error:?}");
        assert_clean(&error.to_string(), "collector.example");
        assert_clean(&format!("{error:?}"), "collector.example");
    }
    let error = builder()
        .otlp_endpoint("http://collector.example:4318")
        .otlp_header("authorization", format!("Bearer {SECRET}\n"))
        .install()
        .unwrap_err();
    assert!(matches!(error, Error::InvalidHeader { .. }), "{error:?}");
    assert!(!error.to_string().contains(SECRET), "{error}");
    assert!(!format!("{error:?}").contains(SECRET), "{error:?}");
}

/// Which pipeline [`child_export_and_drop`] installs: `traces` (spans and logs, whose guard
/// reports the spans' failure) or `logs` (the logs alone, so that theirs is printed).
const SIGNAL: &str = "TRACED_TEST_SIGNAL";

/// Run in a child process by the tests below: installs from the environment alone, exports,
/// and drops the guard, which prints what failed.
#[test]
#[ignore = "run by a parent test in a child process"]
fn child_export_and_drop() {
    if !is_child() {
        return;
    }
    if std::env::var(SIGNAL).as_deref() == Ok("logs") {
        let logs = otlp_logs::install().expect("a variable never makes install() fail");
        let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
        tracing::subscriber::with_default(subscriber, || tracing::info!("lost"));
        drop(logs);
    } else {
        let telemetry = Telemetry::builder()
            .otlp_logs()
            .shutdown_timeout(Duration::from_secs(3))
            .install()
            .expect("a variable never makes install() fail");
        work();
        drop(telemetry);
    }
}

/// Warnings about invalid values and the export failures printed on drop: no secret on stderr.
fn stderr_shows_no_secret(protocol: &str, signal: &str) {
    let port = dead_port();
    let host = format!("127.0.0.1:{port}");
    let valid = format!("http://user:{SECRET}@{host}/v1/{signal}?api_key={SECRET}");
    let invalid = format!("ftp://user:{SECRET}@invalid.example?api_key={SECRET}");
    // The endpoint of the signal exported is valid (and dead); the other signal's is invalid,
    // and reported.
    let (exported, reported) = match signal {
        "traces" => (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        ),
        _ => (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ),
    };
    let headers = format!("authorization=Bearer%20{SECRET},{SECRET},x={SECRET}%zz");
    let output: Output = crate::setup_env::run_with_only(
        "secrets::child_export_and_drop",
        &[
            (SIGNAL, signal),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            (exported, &valid),
            (reported, &invalid),
            ("OTEL_EXPORTER_OTLP_HEADERS", &headers),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "500"),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains(SECRET),
        "{protocol} {signal}: a secret is shown:\n{stderr}"
    );
    let reports = crate::setup_env::reports(&output);
    let line = |start: &str| {
        let lines: Vec<&String> = reports.iter().filter(|l| l.starts_with(start)).collect();
        assert_eq!(lines.len(), 1, "{start}: {reports:#?}");
        lines[0].clone()
    };
    let endpoint = line(&format!("traced: {reported}="));
    assert!(
        endpoint.contains("\"ftp://REDACTED@invalid.example?REDACTED\""),
        "{endpoint}"
    );
    line("traced: OTEL_EXPORTER_OTLP_HEADERS has invalid entries");
    let failed = format!("export to http://REDACTED@{host}/v1/{signal}?REDACTED failed");
    assert!(
        reports.iter().any(|l| l.contains(&failed)),
        "{protocol}: no {failed:?} in {reports:#?}"
    );
}

#[test]
fn grpc_traces_stderr_shows_no_secret() {
    stderr_shows_no_secret("grpc", "traces");
}

#[test]
fn http_traces_stderr_shows_no_secret() {
    stderr_shows_no_secret("http/protobuf", "traces");
}

#[test]
fn grpc_logs_stderr_shows_no_secret() {
    stderr_shows_no_secret("grpc", "logs");
}

#[test]
fn http_logs_stderr_shows_no_secret() {
    stderr_shows_no_secret("http/protobuf", "logs");
}
