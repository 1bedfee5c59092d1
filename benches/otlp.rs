//! Export over OTLP/gRPC to a real receiver on 127.0.0.1 (the one of the test suite): the rate of
//! spans each pipeline sustains without losing any, `#[traced]` with the pipeline `Telemetry`
//! installs beside the raw SDK with opentelemetry-otlp's tonic exporter and the SDK's batch
//! processor on the tokio runtime (its recommended set-up for tonic).
//!
//! Each pipeline is offered spans at increasing rates from one thread, 0.5 s per rate; after each
//! step it is flushed and the spans the receiver got are counted.
//!
//! ```sh
//! cargo bench -p traced-benches --bench otlp
//! ```

#[path = "../tests/it/support/otlp_receiver.rs"]
mod otlp_receiver;

use std::hint::black_box;
use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_receiver::Receiver;
use traced_runtime::{opentelemetry, opentelemetry_sdk, traced, Protocol, Telemetry};

const STEP: Duration = Duration::from_millis(500);
const RATES: [u64; 6] = [25_000, 50_000, 100_000, 200_000, 400_000, 800_000];

#[traced(attrs(a = a, b = b))]
#[inline(never)]
fn traced_work(a: u64, b: u64) -> u64 {
    black_box(a.wrapping_mul(31).wrapping_add(b))
}

/// Calls `span` at `rate` per second for one step; returns how many it made.
fn offer(rate: u64, mut span: impl FnMut(u64)) -> u64 {
    let start = Instant::now();
    let mut made = 0;
    while start.elapsed() < STEP {
        let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
        while made < due {
            span(made);
            made += 1;
        }
        std::thread::yield_now();
    }
    made
}

/// Waits until the receiver's count stops moving, at most 10 s.
fn settle(receiver: &Receiver) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = receiver.span_count();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let now = receiver.span_count();
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

fn run(name: &str, receiver: &Receiver, mut span: impl FnMut(u64), flush: impl Fn()) {
    let mut before = receiver.span_count();
    let mut sustained = 0;
    for rate in RATES {
        let made = offer(rate, &mut span);
        flush();
        let total = settle(receiver);
        let got = total - before;
        before = total;
        let lost = made.saturating_sub(got);
        if lost == 0 {
            sustained = rate;
        }
        println!(
            "| {name} | {rate} | {} | {got} | {lost} ({:.1}%) |",
            (made as f64 / STEP.as_secs_f64()) as u64,
            lost as f64 * 100.0 / made.max(1) as f64
        );
    }
    println!("| {name}: highest rate without loss | {sustained} | | | |");
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo bench -- --list` and test discovery
    }
    println!("| pipeline | offered spans/s | made spans/s | received | lost |");
    println!("|---|---:|---:|---:|---:|");

    let receiver = Receiver::start();
    let telemetry = Telemetry::builder()
        .service_name("bench")
        .otlp_endpoint(receiver.grpc_endpoint())
        .otlp_protocol(Protocol::Grpc)
        .install()
        .expect("the pipeline installs");
    run(
        "#[traced], Telemetry (OTLP/gRPC)",
        &receiver,
        |n| {
            traced_work(n, 7);
        },
        || {
            if let Err(error) = telemetry.force_flush() {
                eprintln!("flush: {error}");
            }
        },
    );
    let _ = telemetry.shutdown();
    drop(receiver);

    let receiver = Receiver::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let provider = {
        let _entered = runtime.enter();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(receiver.grpc_endpoint())
            .build()
            .expect("the exporter builds");
        let processor = opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(
            exporter,
            opentelemetry_sdk::runtime::Tokio,
        )
        .build();
        SdkTracerProvider::builder()
            .with_span_processor(processor)
            .build()
    };
    let tracer = provider.tracer("bench");
    run(
        "SDK + opentelemetry-otlp (tonic, batch on tokio)",
        &receiver,
        |n| {
            let mut span = tracer.start("work");
            span.set_attribute(KeyValue::new("a", n as i64));
            span.set_attribute(KeyValue::new("b", 7_i64));
            span.end();
        },
        || {
            let _ = provider.force_flush();
        },
    );
    let _ = provider.shutdown();
    drop(receiver);
}
