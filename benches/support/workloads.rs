//! The work every span path of the benchmarks wraps, the same for all: a span with two
//! attributes around a trivial function, and exporters that discard what they get, counting it.
//! Shared by `benches/spans.rs` and `examples/profile_spans.rs`.

#![allow(dead_code)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use traced_runtime::opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _};
use traced_runtime::opentelemetry::KeyValue;
use traced_runtime::opentelemetry_sdk::error::OTelSdkResult;
use traced_runtime::opentelemetry_sdk::trace::{SdkTracer, SpanData, SpanExporter};
use traced_runtime::traced;

#[inline(never)]
pub fn work(a: u64, b: u64) -> u64 {
    black_box(a.wrapping_mul(31).wrapping_add(b))
}

#[traced(attrs(a = a, b = b))]
#[inline(never)]
pub fn traced_work(a: u64, b: u64) -> u64 {
    work(a, b)
}

#[traced(attrs(a = a, b = b))]
#[inline(never)]
pub async fn traced_async_work(a: u64, b: u64) -> u64 {
    work(a, b)
}

#[traced]
#[inline(never)]
pub fn traced_nested_1(a: u64) -> u64 {
    traced_nested_2(a)
}

#[traced]
#[inline(never)]
pub fn traced_nested_2(a: u64) -> u64 {
    traced_nested_3(a)
}

#[traced(attrs(a = a))]
#[inline(never)]
pub fn traced_nested_3(a: u64) -> u64 {
    work(a, 1)
}

#[inline(never)]
pub fn sdk_in_span(tracer: &SdkTracer, a: u64, b: u64) -> u64 {
    tracer.in_span("work", |cx| {
        let span = cx.span();
        span.set_attribute(KeyValue::new("a", a as i64));
        span.set_attribute(KeyValue::new("b", b as i64));
        work(a, b)
    })
}

#[inline(never)]
pub fn sdk_start_end(tracer: &SdkTracer, a: u64, b: u64) -> u64 {
    let mut span = tracer.start("work");
    span.set_attribute(KeyValue::new("a", a as i64));
    span.set_attribute(KeyValue::new("b", b as i64));
    let value = work(a, b);
    span.end();
    value
}

#[tracing::instrument(skip_all, fields(a = a, b = b))]
#[inline(never)]
pub fn tracing_work(a: u64, b: u64) -> u64 {
    work(a, b)
}

#[fastrace::trace(properties = { "a": "{a}", "b": "{b}" })]
#[inline(never)]
pub fn fastrace_work(a: u64, b: u64) -> u64 {
    work(a, b)
}

// ---------------------------------------------------------------------------------------------
// Exporters that discard, counting what reaches them.

#[derive(Debug, Clone, Default)]
pub struct Discard(pub Arc<AtomicU64>);

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// Discards encoded OTLP requests, counting their spans.
#[derive(Debug)]
pub struct DiscardEncoded(pub Arc<AtomicU64>);

impl traced_runtime::EncodedSpanExporter for DiscardEncoded {
    async fn export(&self, request: Vec<u8>, spans: usize) -> OTelSdkResult {
        black_box(request);
        self.0.fetch_add(spans as u64, Ordering::Relaxed);
        Ok(())
    }
}

pub struct FastraceDiscard(pub Arc<AtomicU64>);

impl fastrace::collector::Reporter for FastraceDiscard {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        self.0.fetch_add(spans.len() as u64, Ordering::Relaxed);
    }
}
