//! Runs one span path many times, for a profiler (`valgrind --tool=callgrind`, `perf`):
//! `cargo build --release --example profile_spans && valgrind --tool=callgrind target/release/examples/profile_spans sampled`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use traced_runtime::opentelemetry_sdk::error::OTelSdkResult;
use traced_runtime::opentelemetry_sdk::trace::{Sampler, SpanData, SpanExporter};
use traced_runtime::{traced, SpanPipeline};

#[derive(Debug, Default)]
struct Discard(Arc<AtomicU64>);

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

#[traced(attrs(a = a, b = b))]
#[inline(never)]
fn traced_work(a: u64, b: u64) -> u64 {
    black_box(a.wrapping_mul(31).wrapping_add(b))
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_else(|| "sampled".into());
    let iterations: u64 = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let sampler = match case.as_str() {
        "unsampled" => Sampler::TraceIdRatioBased(0.0),
        _ => Sampler::AlwaysOn,
    };
    let exported = Arc::new(AtomicU64::new(0));
    let provider = (case != "none").then(|| {
        SpanPipeline::new(Discard(exported.clone()))
            .with_sampler(sampler)
            .install()
            .expect("collector thread")
    });
    for i in 0..iterations {
        black_box(traced_work(black_box(i), 7));
    }
    if let Some(provider) = provider {
        provider.shutdown().expect("shutdown");
    }
    println!(
        "{case}: {iterations} spans, {} exported",
        exported.load(Ordering::Relaxed)
    );
}
