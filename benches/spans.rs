//! The cost of a span, side by side: a plain function, `#[traced]`, hand-written opentelemetry SDK
//! code, `#[tracing::instrument]` + tracing-opentelemetry, and fastrace, doing the same work (a
//! span with two attributes around a trivial function), every exporter discarding what it gets.
//!
//! Each case is measured twice: `calling_thread` (wall time of the loop on the calling thread)
//! and `process_cpu` (CPU time of the whole process over the loop and the flush that follows it,
//! so the export thread's work counts). After the criterion run, the bench prints the table of
//! BENCHMARKS.md: nanoseconds per span, ratios to `#[traced]`, and the spans each pipeline dropped.
//!
//! ```sh
//! cargo bench -p traced-benches --bench spans
//! ```

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use traced_runtime::{opentelemetry, opentelemetry_sdk, traced};

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/workloads.rs"]
mod workloads;
use cpu::process_cpu;

use workloads::{
    fastrace_work, sdk_in_span, sdk_start_end, traced_async_work, traced_nested_1, traced_work,
    tracing_work, work, Discard, DiscardEncoded, FastraceDiscard,
};

/// An SDK provider with the default batch processor and a discarding exporter.
fn sdk_provider(sampler: Sampler) -> (SdkTracerProvider, Arc<AtomicU64>) {
    let exported = Arc::new(AtomicU64::new(0));
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_batch_exporter(Discard(exported.clone()))
        .build();
    (provider, exported)
}

// ---------------------------------------------------------------------------------------------
// Measurement.

/// Spans produced and exported per case, for the drop report.
static COUNTS: Mutex<Vec<(String, u64, Arc<AtomicU64>)>> = Mutex::new(Vec::new());

/// Where a case's spans go: how to wait for them to be handled, and how many were exported.
struct Pipeline {
    flush: Box<dyn Fn()>,
    exported: Arc<AtomicU64>,
}

impl Pipeline {
    fn sdk(provider: &SdkTracerProvider, exported: Arc<AtomicU64>) -> Self {
        let provider = provider.clone();
        Pipeline {
            flush: Box::new(move || {
                let _ = provider.force_flush();
            }),
            exported,
        }
    }

    /// `#[traced]` on its own pipeline (the fast path), to a discarding exporter.
    fn traced(sampler: Sampler) -> Self {
        let exported = Arc::new(AtomicU64::new(0));
        let provider = traced_runtime::SpanPipeline::new(Discard(exported.clone()))
            .with_sampler(sampler)
            .install()
            .expect("the collector thread starts");
        Pipeline::sdk(&provider, exported)
    }

    /// `#[traced]` on its own pipeline, which encodes OTLP straight from the records, to a
    /// discarding exporter of encoded requests (the path of the OTLP exporter).
    fn traced_otlp() -> Self {
        let exported = Arc::new(AtomicU64::new(0));
        let provider = traced_runtime::SpanPipeline::encoded(DiscardEncoded(exported.clone()))
            .install()
            .expect("the collector thread starts");
        Pipeline::sdk(&provider, exported)
    }

    /// `#[traced]` on a plain SDK provider with its default batch processor (the span path
    /// before the fast path, and what `set_tracer_provider` still uses).
    fn traced_on_sdk(sampler: Sampler) -> Self {
        let (provider, exported) = sdk_provider(sampler);
        traced_runtime::set_tracer_provider(&provider);
        Pipeline::sdk(&provider, exported)
    }
}

/// Measures `run(iters)` (which makes `iters` spans) on the calling thread and for the process.
fn measure(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    run: &(dyn Fn(u64) + Sync),
    pipeline: Option<&Pipeline>,
) {
    let mut produced = 0;
    let flush = || {
        if let Some(pipeline) = pipeline {
            (pipeline.flush)();
        }
    };
    group.bench_function(format!("{name}/calling_thread"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            run(iters);
            let elapsed = start.elapsed();
            flush();
            produced += iters;
            elapsed
        });
    });
    group.bench_function(format!("{name}/process_cpu"), |b| {
        b.iter_custom(|iters| {
            let start = process_cpu();
            run(iters);
            flush();
            produced += iters;
            process_cpu() - start
        });
    });
    if let Some(pipeline) = pipeline {
        COUNTS
            .lock()
            .unwrap()
            .push((name.to_owned(), produced, pipeline.exported.clone()));
    }
}

fn sync_loop(f: impl Fn(u64, u64) -> u64 + Sync) -> impl Fn(u64) + Sync {
    move |iters| {
        for i in 0..iters {
            black_box(f(black_box(i), black_box(7)));
        }
    }
}

fn two_threads(run: impl Fn(u64) + Sync) -> impl Fn(u64) + Sync {
    move |iters| {
        std::thread::scope(|scope| {
            scope.spawn(|| run(iters / 2));
            run(iters - iters / 2);
        });
    }
}

fn poll_ready<F: std::future::Future>(future: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => unreachable!("the benchmarked futures never wait"),
    }
}

fn no_provider(c: &mut Criterion) {
    // Before anything is installed: `#[traced]` with the global no-op provider.
    let mut group = c.benchmark_group("no_provider");
    measure(&mut group, "plain", &sync_loop(work), None);
    measure(&mut group, "traced", &sync_loop(traced_work), None);
    group.finish();
}

fn sampled(c: &mut Criterion) {
    let mut group = c.benchmark_group("sampled");
    measure(&mut group, "plain", &sync_loop(work), None);

    let traced = Pipeline::traced(Sampler::AlwaysOn);
    measure(&mut group, "traced", &sync_loop(traced_work), Some(&traced));
    let traced = Pipeline::traced_otlp();
    measure(
        &mut group,
        "traced_otlp",
        &sync_loop(traced_work),
        Some(&traced),
    );
    let traced = Pipeline::traced(Sampler::AlwaysOn);
    let run = sync_loop(|a, b| poll_ready(traced_async_work(a, b)));
    measure(&mut group, "traced_async", &run, Some(&traced));
    let traced = Pipeline::traced(Sampler::AlwaysOn);
    let run = |iters: u64| {
        // Three spans a call: the figure is per span.
        for i in 0..iters.div_ceil(3) {
            black_box(traced_nested_1(black_box(i)));
        }
    };
    measure(&mut group, "traced_nested_3", &run, Some(&traced));
    let traced = Pipeline::traced(Sampler::AlwaysOn);
    let run = two_threads(sync_loop(traced_work));
    measure(&mut group, "traced_2_threads", &run, Some(&traced));
    let traced = Pipeline::traced_on_sdk(Sampler::AlwaysOn);
    measure(
        &mut group,
        "traced_on_sdk_provider",
        &sync_loop(traced_work),
        Some(&traced),
    );

    for (name, start_end, threads) in [
        ("sdk_in_span", false, 1),
        ("sdk_start_end", true, 1),
        ("sdk_in_span_2_threads", false, 2),
    ] {
        let (provider, exported) = sdk_provider(Sampler::AlwaysOn);
        let tracer = provider.tracer("bench");
        let one = sync_loop(|a, b| {
            if start_end {
                sdk_start_end(&tracer, a, b)
            } else {
                sdk_in_span(&tracer, a, b)
            }
        });
        let pipeline = Pipeline::sdk(&provider, exported);
        if threads == 2 {
            measure(&mut group, name, &two_threads(one), Some(&pipeline));
        } else {
            measure(&mut group, name, &one, Some(&pipeline));
        }
        let _ = provider.shutdown();
    }

    let (provider, exported) = sdk_provider(Sampler::AlwaysOn);
    let subscriber = {
        use tracing_subscriber::layer::SubscriberExt as _;
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")))
    };
    let pipeline = Pipeline::sdk(&provider, exported);
    tracing::subscriber::with_default(subscriber, || {
        measure(
            &mut group,
            "tracing_opentelemetry",
            &sync_loop(tracing_work),
            Some(&pipeline),
        );
    });
    let _ = provider.shutdown();

    let reported = Arc::new(AtomicU64::new(0));
    fastrace::set_reporter(
        FastraceDiscard(reported.clone()),
        fastrace::collector::Config::default(),
    );
    // fastrace records children only under a root: one root per 1024 calls, amortised.
    let run = |iters: u64| {
        let mut i = 0;
        while i < iters {
            let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
            let _guard = root.set_local_parent();
            for _ in 0..(iters - i).min(1024) {
                black_box(fastrace_work(black_box(i), black_box(7)));
                i += 1;
            }
        }
    };
    let pipeline = Pipeline {
        flush: Box::new(fastrace::flush),
        exported: reported,
    };
    measure(&mut group, "fastrace", &run, Some(&pipeline));
    group.finish();
}

fn unsampled(c: &mut Criterion) {
    let mut group = c.benchmark_group("unsampled");
    let sampler = || Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.0)));
    measure(&mut group, "plain", &sync_loop(work), None);
    let _traced = Pipeline::traced(sampler());
    measure(
        &mut group,
        "traced_ratio_0_root",
        &sync_loop(traced_work),
        None,
    );
    // Below an unsampled parent: the decision is the parent's.
    #[traced]
    fn unsampled_parent(run: &dyn Fn()) {
        run();
    }
    let below = |iters: u64| unsampled_parent(&|| sync_loop(traced_work)(iters));
    measure(&mut group, "traced_unsampled_parent", &below, None);
    let (provider, _) = sdk_provider(sampler());
    let tracer = provider.tracer("bench");
    let run = sync_loop(|a, b| sdk_in_span(&tracer, a, b));
    measure(&mut group, "sdk_in_span_ratio_0_root", &run, None);
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// The summary table.

fn estimate(group: &str, id: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned());
    let path = format!("{dir}/criterion/{group}/{id}/new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn summary() {
    println!("\n## Per span, nanoseconds (ratio to #[traced] in the same column)\n");
    for group in ["no_provider", "sampled", "unsampled"] {
        let dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned());
        let Ok(entries) = std::fs::read_dir(format!("{dir}/criterion/{group}")) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name != "report")
            .collect();
        names.sort();
        let reference = |column: &str| {
            estimate(group, &format!("traced_{column}"))
                .or_else(|| estimate(group, &format!("traced_ratio_0_root_{column}")))
        };
        println!("### {group}\n");
        println!("| case | calling thread | ratio | whole process CPU | ratio |");
        println!("|---|---:|---:|---:|---:|");
        let mut cases: Vec<String> = names
            .iter()
            .filter_map(|name| name.strip_suffix("_calling_thread").map(str::to_owned))
            .collect();
        cases.dedup();
        for case in cases {
            let calling = estimate(group, &format!("{case}_calling_thread"));
            let process = estimate(group, &format!("{case}_process_cpu"));
            let cell = |value: Option<f64>, reference: Option<f64>| match (value, reference) {
                (Some(value), Some(reference)) if reference > 0.0 => {
                    (format!("{value:.0}"), format!("{:.2}x", value / reference))
                }
                (Some(value), _) => (format!("{value:.0}"), String::new()),
                _ => (String::new(), String::new()),
            };
            let (calling, calling_ratio) = cell(calling, reference("calling_thread"));
            let (process, process_ratio) = cell(process, reference("process_cpu"));
            println!("| {case} | {calling} | {calling_ratio} | {process} | {process_ratio} |");
        }
        println!();
    }
    println!("## Spans dropped by the pipeline (counted at the exporter)\n");
    println!("| case | produced | exported | dropped |");
    println!("|---|---:|---:|---:|");
    for (name, produced, exported) in COUNTS.lock().unwrap().iter() {
        let exported = exported.load(Ordering::Relaxed).min(*produced);
        let dropped = produced - exported;
        println!(
            "| {name} | {produced} | {exported} | {dropped} ({:.1}%) |",
            dropped as f64 * 100.0 / *produced as f64
        );
    }
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    no_provider(&mut criterion);
    sampled(&mut criterion);
    unsampled(&mut criterion);
    criterion.final_summary();
    summary();
}
