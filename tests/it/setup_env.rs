//! `traced_runtime::init()` configured by the process environment alone.
//!
//! Each parent test runs this test binary again as a child process, with exactly the `OTEL_*`
//! variables it means (the child's own `#[ignore]`d test calls `init()`): the environment of
//! the parent, and of any test running beside it, is never changed.

use crate::support::otlp_receiver;

use std::process::Output;
use std::time::Duration;

use otlp_receiver::{string, Receiver};
use traced_runtime::traced;

use crate::support::process::{self, is_child};

/// Runs the ignored test `name` of this module in a child process with `vars` as its only
/// `OTEL_*` variables.
fn run_child(name: &str, vars: &[(&str, &str)]) -> Output {
    run_with_only(&format!("setup_env::{name}"), vars)
}

/// Runs the test `path` (`module::name`) of this binary in a child process with `vars` as its
/// only `OTEL_*` variables.
pub(crate) fn run_with_only(path: &str, vars: &[(&str, &str)]) -> Output {
    let cleared: Vec<String> = std::env::vars_os()
        .map(|(key, _)| key.to_string_lossy().into_owned())
        .filter(|key| key.starts_with("OTEL_") || key == "NO_COLOR")
        .collect();
    let env: Vec<(&str, Option<&str>)> = cleared
        .iter()
        .map(|key| (key.as_str(), None))
        .chain(vars.iter().map(|&(key, value)| (key, Some(value))))
        .collect();
    process::run_test(path, &env)
}

#[traced(attrs(order.id = order_id))]
fn checkout(order_id: i64) {
    reserve(order_id);
}

#[traced]
fn reserve(_order_id: i64) {}

#[test]
#[ignore = "run by a parent test in a child process"]
fn child_init_and_trace() {
    if !is_child() {
        return;
    }
    let telemetry = traced_runtime::init().expect("init");
    assert!(telemetry.is_enabled());
    checkout(7);
    telemetry.shutdown().expect("shutdown");
}

#[test]
fn init_honours_the_otlp_service_and_resource_variables() {
    let receiver = Receiver::start();
    let endpoint = receiver.grpc_endpoint();
    let output = run_child(
        "child_init_and_trace",
        &[
            ("OTEL_SERVICE_NAME", "from-env"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=staging,team=core%20platform",
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20hunter2",
            ),
            ("OTEL_TRACES_SAMPLER", "always_on"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "lots"),
        ],
    );
    let spans = receiver.wait_for_spans(2, Duration::from_secs(10));
    assert_eq!(spans.len(), 2);
    let span = &spans[0];
    assert_eq!(
        string(span.resource_attribute("service.name")),
        Some("from-env")
    );
    assert_eq!(
        string(span.resource_attribute("deployment.environment.name")),
        Some("staging")
    );
    assert_eq!(
        string(span.resource_attribute("team")),
        Some("core platform")
    );
    let request = &receiver.requests()[0];
    assert_eq!(request.transport, "grpc");
    assert_eq!(
        request.headers.get("authorization").map(String::as_str),
        Some("Bearer hunter2")
    );

    // The invalid variable is reported once, with its value and the default used; the
    // secret header never appears.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let reports: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("OTEL_BSP_MAX_QUEUE_SIZE"))
        .collect();
    assert_eq!(reports.len(), 1, "{stderr}");
    assert!(
        reports[0].contains("\"lots\"") && reports[0].contains("2048"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

/// The `traced:` lines of a child's stderr.
pub(crate) fn reports(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.starts_with("traced: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_invalid_variable_is_reported_exactly_once_and_the_application_runs() {
    let receiver = Receiver::start();
    let endpoint = receiver.grpc_endpoint();
    // (variable, value, what its one line must also say)
    let invalid: &[(&str, &str, &[&str])] = &[
        // Parsed from an unknown value: it names the default.
        ("OTEL_SDK_DISABLED", "yes", &["using false instead"]),
        // Two unknown names: still one line.
        (
            "OTEL_TRACES_EXPORTER",
            "bogus,zipkin",
            &[
                "\"bogus\", \"zipkin\" are not supported",
                "the default (otlp)",
            ],
        ),
        (
            "OTEL_PROPAGATORS",
            "xray",
            &["the default (tracecontext,baggage)"],
        ),
        (
            "OTEL_TRACES_SAMPLER",
            "sometimes",
            &["the default (parentbased_always_on)"],
        ),
        // Read for three limits (span, event, link attributes): reported once.
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "many", &["using 128 instead"]),
        ("OTEL_BSP_SCHEDULE_DELAY", "soon", &["using 5000 instead"]),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "team=core,oops,region=eu",
            &[
                "an entry without `=`",
                "using the valid ones (team, region)",
            ],
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer%20hunter2,hunter2",
            &["entry 2: no `=`", "sending the valid ones (authorization)"],
        ),
    ];
    let mut vars: Vec<(&str, &str)> = invalid
        .iter()
        .map(|(name, value, _)| (*name, *value))
        .collect();
    vars.extend([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ]);
    let output = run_child("child_init_and_trace", &vars);

    let reports = reports(&output);
    assert_eq!(reports.len(), invalid.len(), "{reports:#?}");
    for (name, value, parts) in invalid {
        let lines: Vec<&String> = reports
            .iter()
            .filter(|line| line.starts_with(&format!("traced: {name}")))
            .collect();
        assert_eq!(lines.len(), 1, "{name}: {reports:#?}");
        if *name != "OTEL_EXPORTER_OTLP_HEADERS" {
            assert!(lines[0].contains(&format!("{value:?}")), "{lines:?}");
        }
        for part in *parts {
            assert!(lines[0].contains(part), "{part:?} not in {lines:?}");
        }
    }
    assert!(
        !reports.iter().any(|line| line.contains("hunter2")),
        "{reports:#?}"
    );

    // The valid entries were used: the resource and the header reached the collector.
    let spans = receiver.wait_for_spans(2, Duration::from_secs(10));
    assert_eq!(spans.len(), 2);
    assert_eq!(string(spans[0].resource_attribute("team")), Some("core"));
    assert_eq!(string(spans[0].resource_attribute("region")), Some("eu"));
    let request = &receiver.requests()[0];
    assert_eq!(
        request.headers.get("authorization").map(String::as_str),
        Some("Bearer hunter2")
    );
}

#[test]
fn init_sends_to_the_signal_specific_http_endpoint_as_it_is() {
    let receiver = Receiver::start();
    let endpoint = format!("{}/v1/traces", receiver.http_endpoint());
    run_child(
        "child_init_and_trace",
        &[
            // The generic endpoint is wrong on purpose: the traces one wins and is used as is.
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ],
    );
    let spans = receiver.wait_for_spans(2, Duration::from_secs(10));
    assert_eq!(spans.len(), 2);
    let request = &receiver.requests()[0];
    assert_eq!(request.transport, "http/json");
    assert!(request.gzip);
    let service = string(spans[0].resource_attribute("service.name")).unwrap_or_default();
    assert!(service.starts_with("unknown_service:it-"), "{service}");
}

#[test]
#[ignore = "run by a parent test in a child process"]
fn child_disabled() {
    if !is_child() {
        return;
    }
    let telemetry = traced_runtime::init().expect("init");
    assert!(
        !telemetry.is_enabled(),
        "OTEL_SDK_DISABLED=true installs nothing"
    );
    checkout(1);
    telemetry
        .shutdown()
        .expect("a disabled guard shuts down at once");
}

#[test]
fn init_installs_nothing_when_the_sdk_is_disabled() {
    let receiver = Receiver::start();
    let endpoint = receiver.http_endpoint();
    run_child(
        "child_disabled",
        &[
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(receiver.requests().is_empty());
}

#[test]
#[ignore = "run by a parent test in a child process"]
fn child_propagators() {
    use std::collections::HashMap;
    use traced_runtime::opentelemetry::global;

    if !is_child() {
        return;
    }
    let telemetry = traced_runtime::init().expect("init");
    let mut headers = HashMap::new();
    traced_runtime::in_span("outgoing", || {
        global::get_text_map_propagator(|propagator| propagator.inject(&mut headers));
    });
    let b3 = headers.get("b3").expect("a b3 header");
    assert_eq!(b3.len(), 32 + 1 + 16 + 2, "{b3}");
    assert!(headers.contains_key("traceparent"), "{headers:?}");
    assert!(!headers.contains_key("baggage"));
    drop(telemetry);
}

#[test]
fn init_sets_the_propagators_of_otel_propagators() {
    run_child(
        "child_propagators",
        &[
            ("OTEL_PROPAGATORS", "b3,tracecontext"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ],
    );
}

#[test]
#[ignore = "run by a parent test in a child process"]
fn child_console() {
    if !is_child() {
        return;
    }
    let telemetry = traced_runtime::init().expect("init");
    checkout(7);
    drop(telemetry);
}

#[test]
fn the_console_exporter_prints_the_trace_as_a_tree() {
    let output = run_child("child_console", &[("OTEL_TRACES_EXPORTER", "console")]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let tree: Vec<&str> = stdout
        .lines()
        // libtest's "test child_console ... " may precede the first line.
        .skip_while(|line| !line.contains("── trace "))
        .take(4)
        .collect();
    assert_eq!(tree.len(), 4, "{stdout}");
    assert!(
        tree[0].contains("unknown_service:it-") && tree[0].contains("2 spans"),
        "{stdout}"
    );
    assert!(
        tree[1].starts_with("✓ it::setup_env::checkout "),
        "{stdout}"
    );
    assert!(tree[1].contains('█'), "a duration bar: {stdout}");
    assert_eq!(tree[2].trim(), "order.id=7", "{stdout}");
    assert!(
        tree[3].starts_with("  ✓ it::setup_env::reserve "),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\x1b'),
        "no colour when stdout is not a terminal: {stdout}"
    );
}
