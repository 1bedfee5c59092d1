//! Every kind of program exports every span and shuts down within the bound: a plain sync
//! `main`, `#[tokio::main]` of both flavours, code running after its runtime stopped, and a
//! dead or hanging collector.
//!
//! Each test installs a global provider: run under `cargo nextest` (one process per test).

use crate::support::otlp_receiver;

use std::time::{Duration, Instant};

use otlp_receiver::{black_hole, refused_endpoint, Receiver};
use traced_runtime::env::Env;
use traced_runtime::{traced, Error, Protocol, Telemetry, TelemetryBuilder};

const SPANS: usize = 300;

#[traced(attrs(index = index as i64))]
fn work(index: usize) {}

#[traced]
async fn async_work(index: usize) {
    tokio::task::yield_now().await;
    work(index);
}

fn builder(protocol: Protocol, receiver: &Receiver) -> TelemetryBuilder {
    let endpoint = match protocol {
        Protocol::Grpc => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    Telemetry::builder()
        .env(Env::default())
        .otlp_protocol(protocol)
        .otlp_endpoint(endpoint)
        // Small batches: several exports, some of them still queued at shutdown.
        .batch_max_export_batch_size(64)
}

/// Asserts the receiver got exactly `expected` spans, each once.
fn assert_all_received(receiver: &Receiver, expected: usize) {
    let spans = receiver.wait_for_spans(expected, Duration::from_secs(10));
    let mut ids: Vec<_> = spans.iter().map(|span| span.span.span_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(spans.len(), expected, "spans lost or duplicated");
    assert_eq!(ids.len(), expected, "spans duplicated");
}

fn sync_main(protocol: Protocol) {
    let receiver = Receiver::start();
    let telemetry = builder(protocol, &receiver).install().unwrap();
    for index in 0..SPANS {
        work(index);
    }
    let started = Instant::now();
    drop(telemetry);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_all_received(&receiver, SPANS);
}

/// opentelemetry-rust's thread-based batch processor drives tonic without a reactor: "there
/// is no reactor running", the export thread dies and every span is dropped.
#[test]
fn repro_no_reactor_running_grpc_from_sync_main() {
    crate::own_process!(repro_no_reactor_running_grpc_from_sync_main);
    sync_main(Protocol::Grpc);
}

#[test]
fn repro_no_reactor_running_http_from_sync_main() {
    crate::own_process!(repro_no_reactor_running_http_from_sync_main);
    sync_main(Protocol::HttpProtobuf);
}

async fn in_runtime(protocol: Protocol) {
    let receiver = Receiver::start();
    let telemetry = builder(protocol, &receiver).install().unwrap();
    let tasks: Vec<_> = (0..SPANS)
        .map(|index| tokio::spawn(async_work(index)))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let started = Instant::now();
    // Dropped inside the runtime, as at the end of an async main.
    drop(telemetry);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Two spans per task: async_work and work.
    assert_all_received(&receiver, 2 * SPANS);
}

/// opentelemetry-rust's shutdown hangs on a current-thread runtime.
#[tokio::test(flavor = "current_thread")]
async fn repro_shutdown_hangs_on_current_thread_runtime_grpc() {
    crate::own_process!(repro_shutdown_hangs_on_current_thread_runtime_grpc);
    in_runtime(Protocol::Grpc).await;
}

#[tokio::test(flavor = "current_thread")]
async fn repro_shutdown_hangs_on_current_thread_runtime_http() {
    crate::own_process!(repro_shutdown_hangs_on_current_thread_runtime_http);
    in_runtime(Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_runtime_grpc() {
    crate::own_process!(multi_thread_runtime_grpc);
    in_runtime(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_runtime_http() {
    crate::own_process!(multi_thread_runtime_http);
    in_runtime(Protocol::HttpJson).await;
}

/// Installed inside a runtime that then stops; spans created afterwards still go out.
#[test]
fn after_the_tokio_runtime_stopped() {
    crate::own_process!(after_the_tokio_runtime_stopped);
    let receiver = Receiver::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let telemetry = runtime.block_on(async {
        let telemetry = builder(Protocol::Grpc, &receiver).install().unwrap();
        for index in 0..10 {
            async_work(index).await;
        }
        telemetry
    });
    drop(runtime);
    for index in 0..10 {
        work(index);
    }
    let started = Instant::now();
    telemetry.shutdown().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_all_received(&receiver, 30);
}

/// Flush exports what ended so far, without shutting down.
#[test]
fn force_flush_exports_without_shutting_down() {
    crate::own_process!(force_flush_exports_without_shutting_down);
    let receiver = Receiver::start();
    let telemetry = builder(Protocol::HttpProtobuf, &receiver)
        .batch_scheduled_delay(Duration::from_secs(60))
        .install()
        .unwrap();
    work(1);
    telemetry.force_flush().unwrap();
    assert_eq!(receiver.spans().len(), 1);
    work(2);
    telemetry.shutdown().unwrap();
    assert_all_received(&receiver, 2);
}

const BOUND: Duration = Duration::from_millis(800);
/// The bound plus what a loaded machine may add to thread wake-ups.
const SLACK: Duration = Duration::from_millis(1200);

fn dead(protocol: Protocol, endpoint: String) -> Result<(), Error> {
    let telemetry = Telemetry::builder()
        .env(Env::default())
        .otlp_protocol(protocol)
        .otlp_endpoint(endpoint)
        .shutdown_timeout(BOUND)
        .install()
        .unwrap();
    for index in 0..SPANS {
        work(index);
    }
    let started = Instant::now();
    let result = telemetry.shutdown();
    let elapsed = started.elapsed();
    assert!(elapsed < BOUND + SLACK, "shutdown took {elapsed:?}");
    result
}

/// `shutdown()`'s report of lost spans: their figures, and the error that came with the loss.
fn lost(result: Result<(), Error>) -> (traced_runtime::PipelineStats, Error) {
    match result {
        Err(Error::SpansLost {
            stats,
            cause: Some(cause),
        }) => (stats, *cause),
        other => panic!("expected lost spans with a cause: {other:?}"),
    }
}

/// Nothing listens: exports fail at once, and `shutdown()` says spans were lost, how many,
/// and why.
#[test]
fn refused_collector_grpc_shuts_down_within_the_bound() {
    crate::own_process!(refused_collector_grpc_shuts_down_within_the_bound);
    let (stats, cause) = lost(dead(Protocol::Grpc, refused_endpoint()));
    assert!(matches!(cause, Error::Export { .. }), "{cause:?}");
    assert_eq!(stats.spans_ended, SPANS as u64);
    assert_eq!(stats.dropped_export_failed, SPANS as u64, "{stats:?}");
}

#[test]
fn refused_collector_http_shuts_down_within_the_bound() {
    crate::own_process!(refused_collector_http_shuts_down_within_the_bound);
    let result = dead(Protocol::HttpProtobuf, refused_endpoint());
    let message = result.as_ref().unwrap_err().to_string();
    assert!(
        message.starts_with("300 spans lost of 300 (queue full: 0, export failed: 300, given up at shutdown: 0): spans were not exported: "),
        "counts, then why: {message}"
    );
    let (_, cause) = lost(result);
    assert!(matches!(cause, Error::Export { .. }), "{cause:?}");
    assert!(
        message.contains("/v1/traces"),
        "names the endpoint: {message}"
    );
}

/// A collector that accepts connections and never answers: the export would wait for the
/// OTLP timeout (10 s); shutdown gives up at its bound and says so.
#[test]
fn hanging_collector_grpc_shuts_down_within_the_bound() {
    crate::own_process!(hanging_collector_grpc_shuts_down_within_the_bound);
    let (_listener, endpoint) = black_hole();
    let (stats, cause) = lost(dead(Protocol::Grpc, endpoint));
    assert!(matches!(cause, Error::ShutdownTimeout(BOUND)), "{cause:?}");
    assert_eq!(stats.dropped_at_shutdown, SPANS as u64, "{stats:?}");
}

#[test]
fn hanging_collector_http_shuts_down_within_the_bound() {
    crate::own_process!(hanging_collector_http_shuts_down_within_the_bound);
    let (_listener, endpoint) = black_hole();
    let (stats, cause) = lost(dead(Protocol::HttpProtobuf, endpoint));
    assert!(matches!(cause, Error::ShutdownTimeout(BOUND)), "{cause:?}");
    assert_eq!(stats.dropped_at_shutdown, SPANS as u64, "{stats:?}");
}

/// The same when the guard is dropped at the end of a current-thread `#[tokio::main]`.
#[tokio::test(flavor = "current_thread")]
async fn hanging_collector_dropped_in_current_thread_runtime() {
    crate::own_process!(hanging_collector_dropped_in_current_thread_runtime);
    let (_listener, endpoint) = black_hole();
    let telemetry = Telemetry::builder()
        .env(Env::default())
        .otlp_protocol(Protocol::Grpc)
        .otlp_endpoint(endpoint)
        .shutdown_timeout(BOUND)
        .install()
        .unwrap();
    async_work(1).await;
    let started = Instant::now();
    drop(telemetry);
    assert!(started.elapsed() < BOUND + SLACK, "{:?}", started.elapsed());
}

/// `OTEL_SDK_DISABLED=true`: nothing installed, the guard does nothing.
#[test]
fn sdk_disabled_installs_nothing() {
    crate::own_process!(sdk_disabled_installs_nothing);
    let receiver = Receiver::start();
    let telemetry = Telemetry::builder()
        .env(Env::from_vars([("OTEL_SDK_DISABLED", "true")]))
        .otlp_endpoint(receiver.http_endpoint())
        .install()
        .unwrap();
    assert!(!telemetry.is_enabled());
    work(1);
    telemetry.shutdown().unwrap();
    assert!(receiver.spans().is_empty());
}

/// `OTEL_BSP_EXPORT_TIMEOUT` (here the builder's `batch_export_timeout`) bounds each export,
/// retries included, even when the OTLP request timeout is longer: the SDK's thread-based
/// processor ignores it.
#[test]
fn the_export_timeout_bounds_each_export() {
    crate::own_process!(the_export_timeout_bounds_each_export);
    let (_listener, endpoint) = black_hole();
    let telemetry = Telemetry::builder()
        .env(Env::default())
        .otlp_endpoint(endpoint)
        .otlp_timeout(Duration::from_secs(30))
        .batch_export_timeout(Duration::from_millis(300))
        .install()
        .unwrap();
    work(1);
    let started = Instant::now();
    let result = telemetry.force_flush();
    assert!(
        started.elapsed() < Duration::from_millis(300) + SLACK,
        "{:?}",
        started.elapsed()
    );
    match result {
        Err(Error::Export { reason }) => assert!(reason.contains("300ms"), "{reason}"),
        other => panic!("{other:?}"),
    }
    drop(telemetry);
}
