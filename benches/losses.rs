//! What becomes of every span under load, at the default settings: made, exported, reported
//! lost. Each row holds "exported + reported lost == made" or says so.
//!
//! - `burst`: 20,000 spans from one thread in a tight loop, `Telemetry` over OTLP/gRPC and
//!   OTLP/HTTP to the test suite's receiver on 127.0.0.1 (in this process, on the same cores).
//! - `two threads`: two threads each making 1,000,000 spans in a tight loop, the pipeline
//!   encoding OTLP to a discarding exporter; then to the receiver over OTLP/gRPC.
//!
//! ```sh
//! cargo bench -p traced-benches --bench losses
//! ```

#[path = "../tests/it/support/otlp_receiver.rs"]
mod otlp_receiver;
#[path = "support/workloads.rs"]
mod workloads;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use otlp_receiver::Receiver;
use traced_runtime::{traced, Protocol, SpanPipeline, Telemetry, TelemetryGuard};
use workloads::DiscardEncoded;

#[traced(attrs(a = a, b = b))]
#[inline(never)]
fn traced_work(a: u64, b: u64) -> u64 {
    black_box(a.wrapping_mul(31).wrapping_add(b))
}

/// Makes `per_thread` spans on each of `threads` threads at once; returns the spans per second
/// offered (made / wall time of the slowest thread).
fn produce(threads: u64, per_thread: u64) -> f64 {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(move || {
                for n in 0..per_thread {
                    traced_work(n, 7);
                }
            });
        }
    });
    (threads * per_thread) as f64 / start.elapsed().as_secs_f64()
}

fn telemetry(receiver: &Receiver, protocol: Protocol) -> TelemetryGuard {
    let endpoint = match protocol {
        Protocol::Grpc => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    Telemetry::builder()
        .service_name("bench")
        .otlp_endpoint(endpoint)
        .otlp_protocol(protocol)
        .install()
        .expect("the pipeline installs")
}

/// Runs `threads` × `per_thread` spans through `Telemetry` to a fresh receiver, shuts down, and
/// prints a row.
fn over_otlp(name: &str, protocol: Protocol, threads: u64, per_thread: u64) {
    let receiver = Receiver::start();
    let guard = telemetry(&receiver, protocol);
    let rate = produce(threads, per_thread);
    // `shutdown` reports the spans lost (and nothing when none was).
    let lost = match guard.shutdown() {
        Ok(()) => 0,
        Err(traced_runtime::Error::SpansLost { stats, .. }) => stats.dropped(),
        Err(error) => {
            println!("  shutdown: {error}");
            0
        }
    };
    row(
        name,
        threads * per_thread,
        rate,
        receiver.span_count(),
        lost,
    );
}

fn row(name: &str, made: u64, rate: f64, exported: u64, lost: u64) {
    let holds = if exported + lost == made {
        "holds"
    } else {
        "DOES NOT HOLD"
    };
    println!(
        "| {name} | {made} | {:.2} M/s | {exported} | {lost} ({:.1}%) | {holds} |",
        rate / 1e6,
        lost as f64 * 100.0 / made as f64
    );
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo bench -- --list` and test discovery
    }
    println!("| case | made | offered | exported | reported lost | exported + lost == made |");
    println!("|---|---:|---:|---:|---:|---|");
    over_otlp("burst, 1 thread, OTLP/gRPC", Protocol::Grpc, 1, 20_000);
    over_otlp(
        "burst, 1 thread, OTLP/HTTP",
        Protocol::HttpProtobuf,
        1,
        20_000,
    );

    // Encoded, then discarded: the pipeline alone.
    let exported = Arc::new(AtomicU64::new(0));
    let provider = SpanPipeline::encoded(DiscardEncoded(exported.clone()))
        .install()
        .expect("the pipeline installs");
    let rate = produce(2, 1_000_000);
    provider
        .shutdown_with_timeout(Duration::from_secs(60))
        .expect("shutdown");
    let exported = exported.load(Ordering::Relaxed);
    // Without a guard, the losses are what did not arrive (the pipeline printed them).
    row(
        "2 threads, encoded OTLP discarded",
        2_000_000,
        rate,
        exported,
        2_000_000 - exported,
    );

    over_otlp("2 threads, OTLP/gRPC", Protocol::Grpc, 2, 1_000_000);
}
