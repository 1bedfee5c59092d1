//! `#[traced]` spans reach a real OTLP receiver over gRPC, HTTP/protobuf and HTTP/JSON, with
//! the resource, the instrumentation scope, parent links and attribute types intact.
//!
//! Each test installs a global provider: run under `cargo nextest` (one process per test).

use crate::support::otlp_receiver;

use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use otlp_receiver::{string, ReceivedSpan, Receiver};
use traced_runtime::env::Env;
use traced_runtime::{traced, Compression, KeyValue, Protocol, Telemetry};

#[derive(Debug, thiserror::Error)]
#[error("card declined")]
struct Declined;

#[traced(attrs(order.id = order_id, order.total = 12.5_f64, order.express = true, order.skus = vec!["book", "lamp"], order.note = "gift"))]
fn process_order(order_id: i64) -> Result<(), Declined> {
    validate(order_id);
    charge(order_id)
}

#[traced]
fn validate(_order_id: i64) {}

#[traced(kind = client)]
fn charge(_order_id: i64) -> Result<(), Declined> {
    Err(Declined)
}

fn find<'a>(spans: &'a [ReceivedSpan], suffix: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|span| span.name().ends_with(suffix))
        .unwrap_or_else(|| panic!("no span named …{suffix} in {:#?}", names(spans)))
}

fn names(spans: &[ReceivedSpan]) -> Vec<&str> {
    spans.iter().map(ReceivedSpan::name).collect()
}

/// Installs an exporter to `receiver` over `protocol`, runs the traced functions, shuts down,
/// and checks everything the receiver got.
fn export_and_check(protocol: Protocol, compression: Compression) {
    let receiver = Receiver::start();
    let endpoint = match protocol {
        Protocol::Grpc => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    let telemetry = Telemetry::builder()
        // The process environment is not consulted: this test sees only what it sets.
        .env(Env::default())
        .service_name("checkout")
        .service_version("9.9.9")
        .deployment_environment("test")
        .resource_attribute(KeyValue::new("team", "payments"))
        .otlp_protocol(protocol)
        .otlp_endpoint(endpoint)
        .otlp_compression(compression)
        .otlp_header("x-api-key", "secret-value")
        .install()
        .expect("install");

    assert!(process_order(42).is_err());
    telemetry.shutdown().expect("shutdown");

    let spans = receiver.wait_for_spans(3, Duration::from_secs(10));
    assert_eq!(spans.len(), 3, "{:#?}", names(&spans));
    let transport = protocol.as_str();
    assert!(spans.iter().all(|span| span.transport == transport));
    let requests = receiver.requests();
    for request in &requests {
        assert_eq!(
            request.headers.get("x-api-key").map(String::as_str),
            Some("secret-value")
        );
        assert_eq!(request.gzip, compression == Compression::Gzip);
        let agent = request
            .headers
            .get("user-agent")
            .cloned()
            .unwrap_or_default();
        assert!(agent.contains("OTel-OTLP-Exporter-Rust"), "{agent}");
    }

    let root = find(&spans, "process_order");
    let validate = find(&spans, "validate");
    let charge = find(&spans, "charge");

    // Resource.
    for span in [root, validate, charge] {
        let get = |key| string(span.resource_attribute(key));
        assert_eq!(get("service.name"), Some("checkout"));
        assert_eq!(get("service.version"), Some("9.9.9"));
        assert_eq!(get("deployment.environment.name"), Some("test"));
        assert_eq!(get("team"), Some("payments"));
        assert_eq!(get("telemetry.sdk.language"), Some("rust"));
        assert_eq!(get("telemetry.sdk.name"), Some("opentelemetry"));
        assert_eq!(get("service.instance.id").map(str::len), Some(36));
        assert!(
            matches!(span.resource_attribute("process.pid"), Some(Value::IntValue(pid)) if *pid == i64::from(std::process::id()))
        );
        // Scope: the crate the traced functions are written in.
        assert_eq!(span.scope.name, env!("CARGO_PKG_NAME"));
        assert_eq!(span.scope.version, env!("CARGO_PKG_VERSION"));
    }

    // Parent links: one trace, the root has no parent, both children point at it.
    assert_eq!(root.span.trace_id.len(), 16);
    assert!(root.span.parent_span_id.is_empty());
    for child in [validate, charge] {
        assert_eq!(child.span.trace_id, root.span.trace_id);
        assert_eq!(child.span.parent_span_id, root.span.span_id);
    }

    // Attribute types.
    assert_eq!(root.attribute("order.id"), Some(&Value::IntValue(42)));
    assert_eq!(
        root.attribute("order.total"),
        Some(&Value::DoubleValue(12.5))
    );
    assert_eq!(
        root.attribute("order.express"),
        Some(&Value::BoolValue(true))
    );
    assert_eq!(string(root.attribute("order.note")), Some("gift"));
    match root.attribute("order.skus") {
        Some(Value::ArrayValue(array)) => {
            let skus: Vec<_> = array
                .values
                .iter()
                .map(|v| match &v.value {
                    Some(Value::StringValue(s)) => s.as_str(),
                    other => panic!("{other:?}"),
                })
                .collect();
            assert_eq!(skus, ["book", "lamp"]);
        }
        other => panic!("order.skus: {other:?}"),
    }

    // Kind, status and the exception event of the failing span.
    use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
    assert_eq!(charge.span.kind, SpanKind::Client as i32);
    let status = charge.span.status.clone().unwrap_or_default();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "card declined");
    let exception = charge
        .span
        .events
        .iter()
        .find(|event| event.name == "exception")
        .expect("an exception event");
    assert_eq!(
        string(otlp_receiver::attribute(
            &exception.attributes,
            "exception.message"
        )),
        Some("card declined")
    );
    assert!(root.span.end_time_unix_nano >= charge.span.end_time_unix_nano);
}

#[test]
fn grpc_exports_traced_spans() {
    crate::own_process!(grpc_exports_traced_spans);
    export_and_check(Protocol::Grpc, Compression::None);
}

#[test]
fn grpc_exports_gzip_compressed_spans() {
    crate::own_process!(grpc_exports_gzip_compressed_spans);
    export_and_check(Protocol::Grpc, Compression::Gzip);
}

#[test]
fn http_protobuf_exports_traced_spans() {
    crate::own_process!(http_protobuf_exports_traced_spans);
    export_and_check(Protocol::HttpProtobuf, Compression::None);
}

#[test]
fn http_json_exports_traced_spans() {
    crate::own_process!(http_json_exports_traced_spans);
    export_and_check(Protocol::HttpJson, Compression::None);
}

#[test]
fn http_exports_gzip_compressed_spans() {
    crate::own_process!(http_exports_gzip_compressed_spans);
    export_and_check(Protocol::HttpProtobuf, Compression::Gzip);
}

#[test]
fn attribute_values_are_truncated_to_the_length_limit() {
    crate::own_process!(attribute_values_are_truncated_to_the_length_limit);
    let receiver = Receiver::start();
    let telemetry = Telemetry::builder()
        .env(Env::from_vars([(
            "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "4",
        )]))
        .otlp_endpoint(receiver.http_endpoint())
        .install()
        .unwrap();
    long_values("abcdefgh");
    telemetry.shutdown().unwrap();
    let spans = receiver.wait_for_spans(1, Duration::from_secs(10));
    let span = find(&spans, "long_values");
    assert_eq!(string(span.attribute("text")), Some("abcd"));
    assert_eq!(span.attribute("count"), Some(&Value::IntValue(123_456_789)));
    // Without a service name anywhere: the specification's default.
    let service = string(span.resource_attribute("service.name")).unwrap();
    assert!(service.starts_with("unknown_service:it-"), "{service}");
}

#[traced(attrs(text = text, count = 123_456_789_i64))]
fn long_values(text: &str) {}

#[test]
fn the_global_propagator_and_the_opentelemetry_api_use_the_pipeline() {
    crate::own_process!(the_global_propagator_and_the_opentelemetry_api_use_the_pipeline);
    use std::collections::HashMap;
    use traced_runtime::opentelemetry::global;
    use traced_runtime::opentelemetry::trace::{TraceContextExt as _, Tracer as _};

    let receiver = Receiver::start();
    let telemetry = Telemetry::builder()
        .env(Env::from_vars([("OTEL_PROPAGATORS", "b3multi")]))
        .otlp_protocol(Protocol::Grpc)
        .otlp_endpoint(receiver.grpc_endpoint())
        .install()
        .unwrap();
    let mut headers = HashMap::new();
    global::tracer("api").in_span("from-the-api", |cx| {
        global::get_text_map_propagator(|propagator| propagator.inject_context(&cx, &mut headers));
        assert!(cx.span().span_context().is_sampled());
    });
    assert!(headers.contains_key("x-b3-traceid"), "{headers:?}");
    assert!(!headers.contains_key("traceparent"), "{headers:?}");
    telemetry.shutdown().unwrap();
    let spans = receiver.wait_for_spans(1, Duration::from_secs(10));
    assert_eq!(names(&spans), ["from-the-api"]);
    assert_eq!(spans[0].scope.name, "api");
}

/// A collector that is briefly unavailable (restarting, overloaded) loses no span: the
/// retryable failures of the specification are retried with backoff.
fn transient_failures_are_retried(protocol: Protocol) {
    let receiver = Receiver::start();
    receiver.fail_next(2);
    let endpoint = match protocol {
        Protocol::Grpc => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    let telemetry = Telemetry::builder()
        .env(Env::default())
        .otlp_protocol(protocol)
        .otlp_endpoint(endpoint)
        .install()
        .unwrap();
    validate(1);
    // Exported (and retried) now, not at shutdown, when retries stop.
    telemetry.force_flush().expect("delivered after retries");
    assert_eq!(receiver.refused(), 2);
    assert_eq!(names(&receiver.spans()).len(), 1);
    telemetry.shutdown().unwrap();
}

#[test]
fn grpc_unavailable_is_retried() {
    crate::own_process!(grpc_unavailable_is_retried);
    transient_failures_are_retried(Protocol::Grpc);
}

#[test]
fn http_503_is_retried() {
    crate::own_process!(http_503_is_retried);
    transient_failures_are_retried(Protocol::HttpProtobuf);
}

/// A collector that asks to wait (`Retry-After`) is given that time before the retry.
#[test]
fn http_retry_after_is_honoured() {
    crate::own_process!(http_retry_after_is_honoured);
    let receiver = Receiver::start();
    receiver.fail_next_with_retry_after(1, 1);
    let telemetry = Telemetry::builder()
        .env(Env::default())
        .otlp_endpoint(receiver.http_endpoint())
        .install()
        .unwrap();
    validate(1);
    let started = std::time::Instant::now();
    telemetry.force_flush().expect("delivered after the wait");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(receiver.refused(), 1);
    assert_eq!(receiver.spans().len(), 1);
    telemetry.shutdown().unwrap();
}
