//! What the builder offers beyond OTLP: the user's own exporter, the provider hook, span
//! limits, no exporter at all.
//!
//! Each test installs a global provider: run under `cargo nextest` (one process per test).
//! Spans are read after `force_flush()`: an `InMemorySpanExporter` forgets them on shutdown.

use std::time::Duration;

use traced_runtime::env::Env;
use traced_runtime::opentelemetry_sdk::error::OTelSdkResult;
use traced_runtime::opentelemetry_sdk::trace::{
    InMemorySpanExporter, SpanData, SpanExporter, SpanLimits,
};
use traced_runtime::{add_event, traced, Exporter, KeyValue, Telemetry};

#[traced(attrs(a = 1_i64, b = 2_i64, c = 3_i64))]
fn busy() {
    for i in 0..5_i64 {
        add_event("tick", [KeyValue::new("i", i)]);
    }
}

/// An exporter that needs a tokio reactor (as tonic and reqwest do), called from a plain
/// `fn main`: the SDK's batch processor would poll it without one and panic ("there is no
/// reactor running"); here it runs on the export runtime.
#[derive(Debug, Clone, Default)]
struct NeedsTokio(InMemorySpanExporter);

impl SpanExporter for NeedsTokio {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.0.export(batch).await
    }
}

#[test]
fn repro_no_reactor_running_with_a_custom_exporter_from_sync_main() {
    crate::own_process!(repro_no_reactor_running_with_a_custom_exporter_from_sync_main);
    let exporter = NeedsTokio::default();
    let telemetry = Telemetry::builder()
        .env(Env::default())
        .exporter(Exporter::custom(exporter.clone()))
        .install()
        .unwrap();
    busy();
    telemetry.force_flush().unwrap();
    let spans = exporter.0.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 1);
    assert!(spans[0].name.ends_with("busy"));
    telemetry.shutdown().unwrap();
}

#[test]
fn the_provider_hook_and_span_limits() {
    crate::own_process!(the_provider_hook_and_span_limits);
    let hooked = InMemorySpanExporter::default();
    let for_hook = hooked.clone();
    let telemetry = Telemetry::builder()
        .env(Env::default())
        .exporter(Exporter::none())
        .span_limits(SpanLimits {
            max_attributes_per_span: 2,
            max_events_per_span: 3,
            ..SpanLimits::default()
        })
        .configure_provider(move |builder| builder.with_simple_exporter(for_hook))
        .install()
        .unwrap();
    busy();
    telemetry.force_flush().unwrap();
    let spans = hooked.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].attributes.len(), 2, "{:?}", spans[0].attributes);
    assert_eq!(spans[0].events.len(), 3);
    telemetry.shutdown().unwrap();
}

#[test]
fn count_limits_from_the_environment() {
    crate::own_process!(count_limits_from_the_environment);
    let exporter = InMemorySpanExporter::default();
    let telemetry = Telemetry::builder()
        .env(Env::from_vars([
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "2"),
            ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "0"),
        ]))
        .exporter(Exporter::custom(exporter.clone()))
        .install()
        .unwrap();
    busy();
    telemetry.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans[0].events.len(), 2);
    assert!(spans[0]
        .events
        .iter()
        .all(|event| event.attributes.is_empty()));
}

#[test]
fn several_exporters_each_get_every_span() {
    crate::own_process!(several_exporters_each_get_every_span);
    let first = InMemorySpanExporter::default();
    let second = InMemorySpanExporter::default();
    let telemetry = Telemetry::builder()
        .env(Env::from_vars([("OTEL_TRACES_EXPORTER", "otlp")]))
        .exporter(Exporter::custom(first.clone()))
        .exporter(Exporter::custom(second.clone()))
        .install()
        .unwrap();
    busy();
    telemetry.force_flush().unwrap();
    assert_eq!(first.get_finished_spans().unwrap().len(), 1);
    assert_eq!(second.get_finished_spans().unwrap().len(), 1);
    telemetry.shutdown().unwrap();
}

#[test]
fn spans_after_shutdown_go_nowhere() {
    crate::own_process!(spans_after_shutdown_go_nowhere);
    // `NeedsTokio` does not pass shutdown on: its spans stay readable.
    let exporter = NeedsTokio::default();
    let telemetry = Telemetry::builder()
        .env(Env::default())
        .exporter(Exporter::custom(exporter.clone()))
        .install()
        .unwrap();
    assert!(telemetry.provider().is_some());
    busy();
    telemetry.shutdown().unwrap();
    busy();
    assert_eq!(exporter.0.get_finished_spans().unwrap().len(), 1);
}
