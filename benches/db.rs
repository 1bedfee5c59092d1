//! The cost `traced_runtime::db` adds to a query, on the calling thread: the same `SELECT … WHERE
//! id = $1` with `fetch_one` on SQLite in memory, through the bare sqlx pool and through
//! `db::instrument`'s pool (no tracer installed; then sampled, on `SpanPipeline` with an exporter
//! that discards). The difference is the instrumentation: statement cache look-up, attributes,
//! the span's start and end.
//!
//! After the criterion run it prints the table of BENCHMARKS.md (median of 7 runs of 20 000
//! queries each, per case): wall time, and the CPU time of the calling thread, which is what
//! the instrumentation adds to (SQLite itself runs on sqlx's worker thread).
//!
//! ```sh
//! cargo bench -p traced-benches --bench db
//! ```

use std::hint::black_box;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use sqlx::sqlite::SqlitePool;
use traced_runtime::db::{self, TracedPool};
use traced_runtime::opentelemetry_sdk::trace::Sampler;

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/workloads.rs"]
mod workloads;
use cpu::thread_cpu;

use workloads::Discard;

#[path = "support/orders_db.rs"]
mod orders_db;

use orders_db::SELECT;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn sqlite(rt: &tokio::runtime::Runtime) -> SqlitePool {
    rt.block_on(orders_db::orders_pool())
}

async fn bare(pool: &SqlitePool) -> i64 {
    sqlx::query_scalar(SELECT)
        .bind(1_i64)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn traced(pool: &TracedPool<sqlx::Sqlite>) -> i64 {
    sqlx::query_scalar(SELECT)
        .bind(1_i64)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Nanoseconds per query of `iters` queries (wall time, and CPU time of the calling thread),
/// the medians of 7 runs.
fn per_query(mut run: impl FnMut(u64) -> Duration) -> (f64, f64) {
    let iters = 20_000;
    run(2_000); // warm the caches
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..7 {
        // SQLite runs on sqlx's worker thread, so the calling thread's CPU time is the caller's
        // share: the future, the channel to the worker, and the instrumentation.
        let cpu_start = thread_cpu();
        let elapsed = run(iters);
        cpu.push((thread_cpu() - cpu_start).as_nanos() as f64 / iters as f64);
        wall.push(elapsed.as_nanos() as f64 / iters as f64);
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    (wall[3], cpu[3])
}

fn main() {
    let rt = runtime();
    let raw = sqlite(&rt);
    let pool = db::instrument(raw.clone());

    let loop_bare = |iters: u64| {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(rt.block_on(bare(&raw)));
        }
        start.elapsed()
    };
    let loop_traced = |iters: u64| {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(rt.block_on(traced(&pool)));
        }
        start.elapsed()
    };

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("db_sqlite_fetch_one");
    group.bench_function("bare_pool", |b| b.iter_custom(loop_bare));
    group.bench_function("traced_pool_no_tracer", |b| b.iter_custom(loop_traced));
    let bare_ns = per_query(loop_bare);
    let no_tracer_ns = per_query(loop_traced);

    let exported = Arc::new(AtomicU64::new(0));
    let _provider = traced_runtime::SpanPipeline::new(Discard(exported.clone()))
        .with_sampler(Sampler::AlwaysOn)
        .install()
        .expect("the collector thread starts");
    group.bench_function("traced_pool_sampled", |b| b.iter_custom(loop_traced));
    group.finish();
    let sampled_ns = per_query(loop_traced);
    criterion.final_summary();

    println!();
    println!("| SQLite in memory, `fetch_one` by id | wall ns/query | calling-thread CPU ns/query | added CPU |");
    println!("|---|---:|---:|---:|");
    println!("| bare sqlx pool | {:.0} | {:.0} | |", bare_ns.0, bare_ns.1);
    println!(
        "| `db::instrument` pool, no tracer installed | {:.0} | {:.0} | {:+.0} |",
        no_tracer_ns.0,
        no_tracer_ns.1,
        no_tracer_ns.1 - bare_ns.1
    );
    println!(
        "| `db::instrument` pool, sampled span (SpanPipeline, discarding exporter) | {:.0} | {:.0} | {:+.0} |",
        sampled_ns.0,
        sampled_ns.1,
        sampled_ns.1 - bare_ns.1
    );
}
