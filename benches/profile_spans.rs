//! One span path run many times, for an instruction count that does not depend on the machine's
//! load: `benches/instructions.sh` runs each case under `valgrind --tool=callgrind` and prints
//! instructions per span, on the calling thread and for the whole process (export side included).
//!
//! ```sh
//! cargo build --release -p traced-benches --example profile_spans
//! valgrind --tool=callgrind target/release/examples/profile_spans traced 100000
//! ```
//!
//! Every pipeline gets a queue large enough that no span is dropped, so that all of them do the
//! whole work for every span; every exporter discards what it receives.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use traced_runtime::opentelemetry::trace::TracerProvider as _;
use traced_runtime::opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use traced_runtime::{traced, BatchConfig, SpanPipeline};

#[path = "support/workloads.rs"]
mod workloads;

use workloads::{
    fastrace_work, sdk_in_span, sdk_start_end, traced_work, tracing_work, work, Discard,
    DiscardEncoded, FastraceDiscard,
};

const QUEUE: usize = 1 << 21;

#[traced]
fn unsampled_parent(run: &dyn Fn()) {
    run();
}

/// Spans made before the measured loop, so that it shows the steady state: the clock
/// calibrated, the thread's tracer resolved, its queue made, records given back for reuse.
const WARM_UP: u64 = 1_000;

/// The measured loop: callgrind counts what runs inside it (`--toggle-collect=*hot_loop*`).
#[inline(never)]
fn hot_loop(iterations: u64, span: &dyn Fn(u64)) {
    for i in 0..iterations {
        span(black_box(i));
    }
}

/// Spans measured between two flushes.
const CHUNK: u64 = 512;

/// [`WARM_UP`] spans, then the measured loop in chunks of [`CHUNK`] spans, each followed by a
/// `flush` of the pipeline (not counted on the calling thread): the steady state of a pipeline
/// whose other threads keep pace with the calling thread, which callgrind, running one thread at
/// a time for long stretches, would not reach by itself.
fn measure(iterations: u64, span: &dyn Fn(u64), flush: &dyn Fn()) {
    for i in 0..WARM_UP {
        span(black_box(i));
    }
    flush();
    let mut done = 0;
    while done < iterations {
        let n = (iterations - done).min(CHUNK);
        hot_loop(n, span);
        flush();
        done += n;
    }
}

/// For the cases without a pipeline.
fn nothing() {}

fn sdk_provider(exported: &Arc<AtomicU64>, sampler: Sampler) -> SdkTracerProvider {
    let processor = BatchSpanProcessor::builder(Discard(exported.clone()))
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(QUEUE)
                .build(),
        )
        .build();
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(processor)
        .build()
}

fn pipeline(exported: &Arc<AtomicU64>, sampler: Sampler) -> SdkTracerProvider {
    SpanPipeline::new(Discard(exported.clone()))
        .with_sampler(sampler)
        .with_batch_config(BatchConfig::default().with_max_queue_size(QUEUE))
        .install()
        .expect("collector thread")
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_else(|| "traced".into());
    let iterations: u64 = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let exported = Arc::new(AtomicU64::new(0));
    match case.as_str() {
        "plain" => measure(
            iterations,
            &|i| {
                work(i, 7);
            },
            &nothing,
        ),
        "traced_no_provider" => measure(
            iterations,
            &|i| {
                traced_work(i, 7);
            },
            &nothing,
        ),
        "traced" => {
            let provider = pipeline(&exported, Sampler::AlwaysOn);
            measure(
                iterations,
                &|i| {
                    traced_work(i, 7);
                },
                &|| {
                    let _ = provider.force_flush();
                },
            );
            provider
                .shutdown_with_timeout(std::time::Duration::from_secs(300))
                .expect("shutdown");
        }
        "traced_otlp" => {
            // The OTLP encoder in the path: requests encoded from the records, then discarded.
            let provider = SpanPipeline::encoded(DiscardEncoded(exported.clone()))
                .with_batch_config(BatchConfig::default().with_max_queue_size(QUEUE))
                .install()
                .expect("collector thread");
            measure(
                iterations,
                &|i| {
                    traced_work(i, 7);
                },
                &|| {
                    let _ = provider.force_flush();
                },
            );
            provider
                .shutdown_with_timeout(std::time::Duration::from_secs(300))
                .expect("shutdown");
        }
        "traced_unsampled_parent" => {
            let provider = pipeline(
                &exported,
                Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.0))),
            );
            unsampled_parent(&|| {
                measure(
                    iterations,
                    &|i| {
                        traced_work(i, 7);
                    },
                    &|| {
                        let _ = provider.force_flush();
                    },
                );
            });
            provider
                .shutdown_with_timeout(std::time::Duration::from_secs(300))
                .expect("shutdown");
        }
        "traced_on_sdk_provider" => {
            let provider = sdk_provider(&exported, Sampler::AlwaysOn);
            traced_runtime::set_tracer_provider(&provider);
            measure(
                iterations,
                &|i| {
                    traced_work(i, 7);
                },
                &|| {
                    let _ = provider.force_flush();
                },
            );
            provider
                .shutdown_with_timeout(std::time::Duration::from_secs(300))
                .expect("shutdown");
        }
        "sdk_in_span" | "sdk_start_end" => {
            let provider = sdk_provider(&exported, Sampler::AlwaysOn);
            let tracer = provider.tracer("bench");
            if case == "sdk_in_span" {
                measure(
                    iterations,
                    &|i| {
                        sdk_in_span(&tracer, i, 7);
                    },
                    &|| {
                        let _ = provider.force_flush();
                    },
                );
            } else {
                measure(
                    iterations,
                    &|i| {
                        sdk_start_end(&tracer, i, 7);
                    },
                    &|| {
                        let _ = provider.force_flush();
                    },
                );
            }
            provider
                .shutdown_with_timeout(std::time::Duration::from_secs(300))
                .expect("shutdown");
        }
        "tracing_opentelemetry" => {
            use tracing_subscriber::layer::SubscriberExt as _;
            let provider = sdk_provider(&exported, Sampler::AlwaysOn);
            let subscriber = tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
            tracing::subscriber::with_default(subscriber, || {
                measure(
                    iterations,
                    &|i| {
                        tracing_work(i, 7);
                    },
                    &|| {
                        let _ = provider.force_flush();
                    },
                );
            });
            provider
                .shutdown_with_timeout(std::time::Duration::from_secs(300))
                .expect("shutdown");
        }
        "fastrace" => {
            fastrace::set_reporter(
                FastraceDiscard(exported.clone()),
                fastrace::collector::Config::default(),
            );
            {
                let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
                let _guard = root.set_local_parent();
                for i in 0..WARM_UP {
                    fastrace_work(black_box(i), 7);
                }
            }
            fastrace::flush();
            let mut i = 0;
            while i < iterations {
                {
                    let root =
                        fastrace::Span::root("root", fastrace::collector::SpanContext::random());
                    let _guard = root.set_local_parent();
                    let n = (iterations - i).min(CHUNK);
                    hot_loop(n, &|i| {
                        fastrace_work(i, 7);
                    });
                    i += n;
                }
                fastrace::flush();
            }
        }
        other => {
            eprintln!("unknown case {other}");
            std::process::exit(2);
        }
    }
    println!(
        "{case}: {iterations} spans, {} exported",
        exported.load(Ordering::Relaxed)
    );
}
