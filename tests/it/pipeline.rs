//! The span pipeline installed as the application's: `#[traced]` spans (fast path) and spans of
//! the opentelemetry API share one exporter, nest both ways, flush completely, and shut down
//! within the bound even when the exporter hangs. One process per test (nextest), so each test
//! installs its own global pipeline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use traced_runtime::opentelemetry::trace::{Status, TraceContextExt as _, Tracer as _};
use traced_runtime::opentelemetry::{global, KeyValue, Value};
use traced_runtime::opentelemetry_sdk::error::OTelSdkResult;
use traced_runtime::opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracerProvider, SpanData, SpanExporter,
};
use traced_runtime::testing::attribute;
use traced_runtime::{traced, BatchConfig, SpanPipeline};

fn install() -> (SdkTracerProvider, InMemorySpanExporter) {
    let exporter = InMemorySpanExporter::default();
    let provider = SpanPipeline::new(exporter.clone())
        .install()
        .expect("collector thread");
    (provider, exporter)
}

fn find<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|span| span.name.ends_with(name))
        .unwrap_or_else(|| panic!("no span {name} in {:?}", names(spans)))
}

fn names(spans: &[SpanData]) -> Vec<&str> {
    spans.iter().map(|span| span.name.as_ref()).collect()
}

#[traced(attrs(order.id = 7))]
fn traced_outer() {
    // The opentelemetry API sees the traced span as current and recording.
    let cx = traced_runtime::Context::current();
    assert!(cx.span().is_recording());
    cx.span()
        .set_attribute(KeyValue::new("set.through.api", true));
    cx.span().add_event("api.event", vec![]);
    global::tracer("manual").in_span("api.child", |_| traced_inner());
}

#[traced]
fn traced_inner() {}

#[test]
fn traced_and_api_spans_share_the_pipeline_and_nest_both_ways() {
    crate::own_process!(traced_and_api_spans_share_the_pipeline_and_nest_both_ways);
    let (provider, exporter) = install();
    traced_outer();
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 3, "{:?}", names(&spans));
    let outer = find(&spans, "::traced_outer");
    let api = find(&spans, "api.child");
    let inner = find(&spans, "::traced_inner");
    assert_eq!(api.parent_span_id, outer.span_context.span_id());
    assert_eq!(inner.parent_span_id, api.span_context.span_id());
    assert_eq!(inner.span_context.trace_id(), outer.span_context.trace_id());
    assert_eq!(outer.status, Status::Ok);
    assert_eq!(attribute(outer, "order.id"), Some(&Value::I64(7)));
    assert_eq!(
        attribute(outer, "set.through.api"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        attribute(outer, "code.function.name"),
        Some(&Value::from("it::pipeline::traced_outer"))
    );
    assert_eq!(outer.events.len(), 1);
    assert_eq!(outer.instrumentation_scope.name(), env!("CARGO_PKG_NAME"));
    assert!(outer.start_time <= inner.start_time && inner.end_time <= outer.end_time);
    provider.shutdown().unwrap();
}

#[traced]
fn leaf(n: u64) -> u64 {
    n + 1
}

/// Bursts that fit the default queue (2048 spans a thread) lose nothing, whatever the scheduling.
#[test]
fn every_span_ended_before_a_flush_is_exported() {
    crate::own_process!(every_span_ended_before_a_flush_is_exported);
    let (provider, exporter) = install();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                for n in 0..2_000 {
                    leaf(n);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    provider.force_flush().unwrap();
    assert_eq!(exporter.get_finished_spans().unwrap().len(), 8_000);
    provider.shutdown().unwrap();
}

#[test]
fn a_full_queue_drops_spans_but_memory_stays_bounded() {
    crate::own_process!(a_full_queue_drops_spans_but_memory_stays_bounded);
    let exporter = InMemorySpanExporter::default();
    let provider = SpanPipeline::new(exporter.clone())
        .with_batch_config(
            BatchConfig::default()
                .with_max_queue_size(8)
                .with_scheduled_delay(Duration::from_secs(3600)),
        )
        .install()
        .unwrap();
    for n in 0..10_000 {
        leaf(n);
    }
    provider.force_flush().unwrap();
    let exported = exporter.get_finished_spans().unwrap().len();
    assert!(exported < 10_000, "some spans are dropped: {exported}");
    assert!(exported >= 8, "a queue's worth is kept: {exported}");
    provider.shutdown().unwrap();
}

/// An exporter that never completes, as with a collector that accepts connections and never answers.
#[derive(Debug)]
struct Hanging(Arc<AtomicU64>);

impl SpanExporter for Hanging {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(1, Ordering::SeqCst);
        std::future::pending().await
    }
}

#[test]
fn shutdown_returns_within_its_bound_when_the_exporter_hangs() {
    crate::own_process!(shutdown_returns_within_its_bound_when_the_exporter_hangs);
    let calls = Arc::new(AtomicU64::new(0));
    let provider = SpanPipeline::new(Hanging(calls.clone()))
        .with_batch_config(
            BatchConfig::default().with_max_export_timeout(Duration::from_millis(300)),
        )
        .install()
        .unwrap();
    leaf(1);
    let start = Instant::now();
    let result = provider.shutdown_with_timeout(Duration::from_secs(2));
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert!(result.is_err(), "the export timed out: {result:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // After shutdown, spans are cheap no-ops and nothing hangs.
    leaf(2);
}

#[test]
fn spans_after_shutdown_are_not_recorded() {
    crate::own_process!(spans_after_shutdown_are_not_recorded);
    let (provider, exporter) = install();
    provider.shutdown().unwrap();
    leaf(3);
    assert!(exporter.get_finished_spans().unwrap_or_default().is_empty());
}
