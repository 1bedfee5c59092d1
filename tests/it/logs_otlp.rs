//! Log records exported over OTLP (feature `otlp-logs`) carry the context of the span they
//! were written in: through the `tracing` and `log` bridges into an in-memory exporter, and
//! end to end to a real OTLP receiver on 127.0.0.1 (HTTP protobuf, HTTP JSON and gRPC),
//! checked against the captured spans.

use crate::support::logs as logs_support;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::otlp_receiver::{hex, ReceivedRecord, Receiver};
use traced_runtime::env::Env;
use traced_runtime::opentelemetry::logs::AnyValue;
use traced_runtime::opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use traced_runtime::opentelemetry_sdk::trace::Sampler;
use traced_runtime::otlp_logs;
use traced_runtime::testing::{capture, capture_async, capture_with_sampler};
use traced_runtime::traced;
use tracing_subscriber::layer::SubscriberExt as _;

use logs_support::{hex_ids, span};

// In memory: the bridges and the trace context the SDK attaches.

struct InMemory {
    exporter: InMemoryLogExporter,
}

/// The `tracing` and `log` bridges on one in-memory provider, for the whole binary.
fn in_memory() -> &'static InMemory {
    static IN_MEMORY: OnceLock<InMemory> = OnceLock::new();
    IN_MEMORY.get_or_init(|| {
        let exporter = InMemoryLogExporter::default();
        let provider = SdkLoggerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry().with(otlp_logs::tracing_layer(&provider));
        tracing::subscriber::set_global_default(subscriber).unwrap();
        log::set_boxed_logger(Box::new(otlp_logs::log_bridge(&provider))).unwrap();
        log::set_max_level(log::LevelFilter::Info);
        std::mem::forget(provider); // lives as long as the process
        InMemory { exporter }
    })
}

/// A record as the exporter received it: its body and `(trace_id, span_id, sampled)`.
#[derive(Debug, PartialEq)]
struct Exported {
    body: String,
    context: Option<(String, String, bool)>,
}

/// The records whose body starts with `test`, in emission order.
fn exported(test: &str) -> Vec<Exported> {
    in_memory()
        .exporter
        .get_emitted_logs()
        .unwrap()
        .into_iter()
        .filter_map(|log| {
            let body = match log.record.body() {
                Some(AnyValue::String(body)) => body.as_str().to_owned(),
                _ => return None,
            };
            body.starts_with(test).then(|| Exported {
                body,
                context: log.record.trace_context().map(|cx| {
                    (
                        cx.trace_id.to_string(),
                        cx.span_id.to_string(),
                        cx.trace_flags.is_some_and(|flags| flags.is_sampled()),
                    )
                }),
            })
        })
        .collect()
}

#[traced("checkout")]
fn checkout(test: &str) {
    tracing::info!("{test}: checking out");
    charge(test);
    log::info!("{test}: checked out");
}

#[traced("charge")]
fn charge(test: &str) {
    tracing::warn!(amount = 12, "{test}: charging");
}

#[test]
fn records_carry_the_context_of_the_current_span() {
    crate::own_process!(records_carry_the_context_of_the_current_span);
    in_memory();
    let test = "bridge_sync";
    let ((), spans) = capture(|| checkout(test));
    let context = |name: &str| {
        let (trace_id, span_id) = hex_ids(span(&spans, name));
        Some((trace_id, span_id, true))
    };
    assert_eq!(
        exported(test),
        [
            Exported {
                body: format!("{test}: checking out"),
                context: context("checkout"),
            },
            Exported {
                body: format!("{test}: charging"),
                context: context("charge"),
            },
            Exported {
                body: format!("{test}: checked out"),
                context: context("checkout"),
            },
        ]
    );
}

#[test]
fn no_context_outside_any_span() {
    crate::own_process!(no_context_outside_any_span);
    in_memory();
    let test = "bridge_no_span";
    tracing::info!("{test}: tracing");
    log::info!("{test}: log");
    let records = exported(test);
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(
        records.iter().all(|record| record.context.is_none()),
        "{records:?}"
    );
}

#[test]
fn unsampled_spans_give_their_ids_with_the_sampled_flag_off() {
    crate::own_process!(unsampled_spans_give_their_ids_with_the_sampled_flag_off);
    in_memory();
    let test = "bridge_unsampled";
    let ((), spans) = capture_with_sampler(Sampler::AlwaysOff, || checkout(test));
    assert!(spans.all().is_empty());
    let records = exported(test);
    assert_eq!(records.len(), 3, "{records:?}");
    for record in &records {
        let (_, _, sampled) = record.context.as_ref().expect("the span context");
        assert!(!sampled, "{record:?}");
    }
}

#[traced("handle_request")]
async fn handle_request(test: &'static str) {
    tracing::info!("{test}: received");
    tokio::time::sleep(Duration::from_millis(1)).await;
    let cx = traced_runtime::Context::current();
    tokio::task::spawn_blocking(move || {
        let _cx = cx.attach();
        charge(test);
    })
    .await
    .unwrap();
    log::info!("{test}: done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_follows_the_span_across_awaits_and_threads() {
    crate::own_process!(context_follows_the_span_across_awaits_and_threads);
    in_memory();
    let test = "bridge_async";
    let ((), spans) = capture_async(handle_request(test)).await;
    let request = hex_ids(span(&spans, "handle_request"));
    let charge = hex_ids(span(&spans, "charge"));
    let contexts: Vec<_> = exported(test)
        .into_iter()
        .map(|record| record.context.map(|(t, s, _)| (t, s)))
        .collect();
    assert_eq!(
        contexts,
        [Some(request.clone()), Some(charge), Some(request)]
    );
}

// End to end: the OTLP receiver of `support`, for logs.

/// Installs the OTLP logs pipeline for `protocol` against `receiver`, writes records in a
/// traced function through a thread-local subscriber, and checks what arrives.
fn end_to_end(protocol: &str, endpoint: String, transport: &'static str) {
    let receiver_test = format!("e2e_{}", protocol.replace('/', "_"));
    let test = receiver_test.as_str();
    let logs = otlp_logs::install_with_env(Env::from_vars([
        ("OTEL_SERVICE_NAME", "shop"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BLRP_SCHEDULE_DELAY", "10"),
    ]))
    .unwrap();
    let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
    let ((), spans) = tracing::subscriber::with_default(subscriber, || {
        tracing::info!("{test}: outside");
        capture(|| checkout(test))
    });
    logs.force_flush().unwrap();
    logs.shutdown().unwrap();

    RECEIVER.with(|receiver| {
        let records = receiver.wait_for_logs(test, 3);
        assert_eq!(records.len(), 3, "{records:#?}");
        let (trace_id, checkout_id) = hex_ids(span(&spans, "checkout"));
        let expected = [
            (format!("{test}: outside"), None),
            (
                format!("{test}: checking out"),
                Some((trace_id.clone(), checkout_id)),
            ),
            (
                format!("{test}: charging"),
                Some((trace_id, hex_ids(span(&spans, "charge")).1)),
            ),
        ];
        for (received, (message, ids)) in records.iter().zip(expected) {
            let ReceivedRecord {
                transport: via,
                resource,
                record,
            } = received;
            assert_eq!(*via, transport);
            assert_eq!(received.body(), message);
            assert!(
                resource.contains(&("service.name".to_owned(), "shop".to_owned())),
                "{resource:?}"
            );
            match ids {
                Some((trace_id, span_id)) => {
                    assert_eq!(hex(&record.trace_id), trace_id, "{message}");
                    assert_eq!(hex(&record.span_id), span_id, "{message}");
                    // The span's trace flags: sampled, and random (a trace traced started).
                    assert_eq!(record.flags & 0xff, 0x03, "sampled: {message}");
                }
                None => {
                    assert!(record.trace_id.is_empty(), "{record:?}");
                    assert!(record.span_id.is_empty(), "{record:?}");
                }
            }
        }
    });
}

thread_local! {
    static RECEIVER: Receiver = Receiver::start();
}

#[test]
fn end_to_end_http_protobuf() {
    crate::own_process!(end_to_end_http_protobuf);
    let endpoint = RECEIVER.with(|r| r.http_endpoint());
    end_to_end("http/protobuf", endpoint, "http/protobuf");
}

#[test]
fn end_to_end_http_json() {
    crate::own_process!(end_to_end_http_json);
    let endpoint = RECEIVER.with(|r| format!("{}/", r.http_endpoint()));
    end_to_end("http/json", endpoint, "http/json");
}

#[test]
fn end_to_end_grpc() {
    crate::own_process!(end_to_end_grpc);
    let endpoint = RECEIVER.with(|r| r.grpc_endpoint());
    end_to_end("grpc", endpoint, "grpc");
}

#[test]
fn the_logs_endpoint_variable_beats_the_generic_one() {
    crate::own_process!(the_logs_endpoint_variable_beats_the_generic_one);
    let (test, logs_endpoint) = (
        "e2e_logs_endpoint",
        RECEIVER.with(|r| format!("{}/v1/logs", r.http_endpoint())),
    );
    // Nothing listens on the generic endpoint: only the logs one can receive.
    let logs = otlp_logs::install_with_env(Env::from_vars([
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", logs_endpoint.as_str()),
    ]))
    .unwrap();
    let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
    tracing::subscriber::with_default(subscriber, || tracing::info!("{test}: sent"));
    logs.shutdown().unwrap();
    RECEIVER.with(|receiver| assert_eq!(receiver.wait_for_logs(test, 1).len(), 1));
}

#[test]
fn logs_exporter_none_sends_nothing() {
    crate::own_process!(logs_exporter_none_sends_nothing);
    let test = "e2e_none";
    let endpoint = RECEIVER.with(|r| r.http_endpoint());
    let logs = otlp_logs::install_with_env(Env::from_vars([
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_LOGS_EXPORTER", "none"),
    ]))
    .unwrap();
    let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
    tracing::subscriber::with_default(subscriber, || tracing::info!("{test}: dropped"));
    logs.shutdown().unwrap();
    RECEIVER.with(|receiver| {
        std::thread::sleep(Duration::from_millis(100));
        assert!(receiver
            .log_records()
            .iter()
            .all(|received| !received.body().starts_with(test)));
    });
}

#[test]
fn a_failed_export_is_reported_by_shutdown() {
    crate::own_process!(a_failed_export_is_reported_by_shutdown);
    let test = "e2e_refused";
    // A port that was just free: nothing listens there.
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let logs = otlp_logs::install_with_env(Env::from_vars([
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", refused.as_str()),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
    ]))
    .unwrap();
    let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
    tracing::subscriber::with_default(subscriber, || tracing::info!("{test}: lost"));
    let started = Instant::now();
    let error = logs.shutdown().unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        error.contains("log records were not exported") && error.contains(&refused),
        "{error}"
    );
}

#[test]
fn builder_values_reach_the_logs() {
    crate::own_process!(builder_values_reach_the_logs);
    let test = "e2e_builder";
    let endpoint = RECEIVER.with(|r| r.http_endpoint());
    // Only the builder names the service and the collector: the environment has neither.
    let telemetry = traced_runtime::Telemetry::builder()
        .env(Env::from_vars([("OTEL_BLRP_SCHEDULE_DELAY", "10")]))
        .service_name("builder-shop")
        .otlp_protocol(traced_runtime::Protocol::HttpProtobuf)
        .otlp_endpoint(endpoint)
        .otlp_logs()
        .install()
        .unwrap();
    let logs = telemetry.logs().expect("the logs pipeline");
    let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
    tracing::subscriber::with_default(subscriber, || tracing::info!("{test}: sent"));
    telemetry.shutdown().unwrap();
    RECEIVER.with(|receiver| {
        let records = receiver.wait_for_logs(test, 1);
        assert_eq!(records.len(), 1, "{records:#?}");
        assert_eq!(records[0].transport, "http/protobuf");
        assert!(
            records[0]
                .resource
                .contains(&("service.name".to_owned(), "builder-shop".to_owned())),
            "{:?}",
            records[0].resource
        );
    });
}

#[test]
fn without_otlp_logs_the_guard_has_no_logs() {
    crate::own_process!(without_otlp_logs_the_guard_has_no_logs);
    let telemetry = traced_runtime::Telemetry::builder()
        .env(Env::from_vars([("OTEL_TRACES_EXPORTER", "none")]))
        .install()
        .unwrap();
    assert!(telemetry.logs().is_none());
}
