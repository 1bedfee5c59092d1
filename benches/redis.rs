//! What `redis::TracedConnection` adds to a command, against the bare connection.
//!
//! - `redis_cpu`: a connection that answers `+OK` at once (no I/O), so the figure is the CPU the
//!   wrapper and its span add: `bare`, `traced_sampled` (spans exported to a discarding
//!   exporter by the pipeline `Telemetry` installs), `traced_unsampled` (under an unsampled
//!   parent). Each is measured on the calling thread and as process CPU (with the collector
//!   thread's export).
//! - `redis_server`: the local Redis (`TRACED_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`),
//!   64 `GET`s in flight at a time on one multiplexed connection, so round trips overlap and
//!   the process CPU per command shows what tracing adds to a real client.
//!
//! After the criterion run, the bench prints the table of BENCHMARKS.md (process CPU per
//! command and what tracing adds) and the allocations per command.
//!
//! ```sh
//! redis-server --port 6379 --daemonize yes
//! cargo bench -p traced-benches --bench redis
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use futures_util::stream::{FuturesUnordered, StreamExt as _};
use opentelemetry::trace::{SpanContext, TraceContextExt as _, TraceFlags, TraceState};
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use redis::{Cmd, ConnectionLike, RedisResult, Value};
use traced_runtime::redis::TracedConnection;
use traced_runtime::{opentelemetry, opentelemetry_sdk};

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/workloads.rs"]
mod workloads;
use cpu::{process_cpu, thread_cpu};

use workloads::Discard;

/// Counts allocations, to show what a command allocates.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A connection that answers every command with `+OK`, without I/O.
struct Instant;

impl ConnectionLike for Instant {
    fn req_packed_command(&mut self, _: &[u8]) -> RedisResult<Value> {
        Ok(Value::Okay)
    }

    fn req_packed_commands(&mut self, _: &[u8], _: usize, count: usize) -> RedisResult<Vec<Value>> {
        Ok(vec![Value::Okay; count])
    }

    fn req_command(&mut self, _: &Cmd) -> RedisResult<Value> {
        Ok(Value::Okay)
    }

    fn get_db(&self) -> i64 {
        0
    }

    fn check_connection(&mut self) -> bool {
        true
    }

    fn is_open(&self) -> bool {
        true
    }
}

/// The pipeline `Telemetry` installs, parent-based so that an unsampled parent turns spans off,
/// exporting to a discarding exporter.
fn install() -> SdkTracerProvider {
    traced_runtime::SpanPipeline::new(Discard(Arc::new(AtomicU64::new(0))))
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .install()
        .expect("the collector thread starts")
}

/// A remote parent whose trace is not sampled.
fn unsampled_parent() -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x4bf9_u128),
        SpanId::from(0x00f0_u64),
        TraceFlags::default(),
        true,
        TraceState::default(),
    ))
}

#[derive(Clone, Copy, PartialEq)]
enum Case {
    Bare,
    TracedSampled,
    TracedUnsampled,
}

impl Case {
    const ALL: [Case; 3] = [Case::Bare, Case::TracedSampled, Case::TracedUnsampled];

    fn name(self) -> &'static str {
        match self {
            Case::Bare => "bare",
            Case::TracedSampled => "traced_sampled",
            Case::TracedUnsampled => "traced_unsampled",
        }
    }

    /// The context the commands run in.
    fn context(self) -> Context {
        match self {
            Case::TracedUnsampled => unsampled_parent(),
            _ => Context::new(),
        }
    }
}

fn info() -> redis::ConnectionInfo {
    redis::IntoConnectionInfo::into_connection_info(url().as_str()).unwrap()
}

fn url() -> String {
    std::env::var("TRACED_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// `iters` `GET`s on the instant connection.
fn cpu_loop(case: Case, iters: u64) {
    let mut cmd = redis::cmd("GET");
    cmd.arg("user:42");
    let _cx = case.context().attach();
    if case == Case::Bare {
        let mut con = Instant;
        for _ in 0..iters {
            black_box(con.req_command(black_box(&cmd)).unwrap());
        }
    } else {
        let mut con = TracedConnection::new(Instant, &info());
        for _ in 0..iters {
            black_box(con.req_command(black_box(&cmd)).unwrap());
        }
    }
}

/// The local server, 64 `GET`s in flight at a time.
struct Server {
    runtime: tokio::runtime::Runtime,
    bare: redis::aio::MultiplexedConnection,
    traced: TracedConnection<redis::aio::MultiplexedConnection>,
}

const IN_FLIGHT: u64 = 64;

impl Server {
    fn connect() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = redis::Client::open(url()).unwrap();
        let bare = runtime
            .block_on(client.get_multiplexed_async_connection())
            .unwrap_or_else(|error| {
                panic!(
                    "Redis is not reachable at {}: {error}. Start one with \
                     `redis-server --port 6379 --daemonize yes`.",
                    url()
                )
            });
        let traced = TracedConnection::new(bare.clone(), client.get_connection_info());
        Server {
            runtime,
            bare,
            traced,
        }
    }

    fn run(&self, case: Case, iters: u64) {
        let cx = case.context();
        self.runtime.block_on(async {
            let mut done = 0;
            while done < iters {
                let batch = IN_FLIGHT.min(iters - done);
                let _cx = cx.clone().attach();
                if case == Case::Bare {
                    let mut in_flight: FuturesUnordered<_> = (0..batch)
                        .map(|_| {
                            let mut con = self.bare.clone();
                            async move {
                                redis::cmd("GET")
                                    .arg("traced-bench:missing")
                                    .query_async::<Option<String>>(&mut con)
                                    .await
                            }
                        })
                        .collect();
                    while let Some(reply) = in_flight.next().await {
                        black_box(reply.unwrap());
                    }
                } else {
                    let mut in_flight: FuturesUnordered<_> = (0..batch)
                        .map(|_| {
                            let mut con = self.traced.clone();
                            async move {
                                redis::cmd("GET")
                                    .arg("traced-bench:missing")
                                    .query_async::<Option<String>>(&mut con)
                                    .await
                            }
                        })
                        .collect();
                    while let Some(reply) = in_flight.next().await {
                        black_box(reply.unwrap());
                    }
                }
                done += batch;
            }
        });
    }
}

/// Per command over `iters` commands, after a warm-up: process CPU, calling-thread CPU and
/// allocations.
fn per_command(iters: u64, run: impl Fn(u64), flush: impl Fn()) -> (f64, f64, f64) {
    run(iters / 10);
    flush();
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    let (process, thread) = (process_cpu(), thread_cpu());
    run(iters);
    let thread = thread_cpu() - thread;
    flush();
    let process = process_cpu() - process;
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations;
    let per = |total: f64| total / iters as f64;
    (
        per(process.as_nanos() as f64),
        per(thread.as_nanos() as f64),
        per(allocations as f64),
    )
}

/// `TRACED_REDIS_BENCH_ONLY=case:count` runs `count` commands of one instant case and exits:
/// for callgrind, whose instruction counts do not depend on the machine's load (see
/// notes/redis.md).
const ONLY: &str = "TRACED_REDIS_BENCH_ONLY";

fn main() {
    let provider = install();
    let flush = || {
        let _ = provider.force_flush();
    };
    if let Ok(only) = std::env::var(ONLY) {
        let (name, count) = only.split_once(':').expect("case:count");
        let case = Case::ALL
            .into_iter()
            .find(|case| case.name() == name)
            .expect("bare, traced_sampled or traced_unsampled");
        cpu_loop(case, count.parse().expect("a count"));
        flush();
        return;
    }
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();

    let mut group = criterion.benchmark_group("redis_cpu");
    for case in Case::ALL {
        group.bench_function(case.name(), |b| {
            b.iter_custom(|iters| {
                let start = process_cpu();
                cpu_loop(case, iters);
                flush();
                process_cpu() - start
            });
        });
    }
    group.finish();

    let server = Server::connect();
    let mut group = criterion.benchmark_group("redis_server");
    group.throughput(criterion::Throughput::Elements(1));
    for case in Case::ALL {
        group.bench_function(case.name(), |b| {
            b.iter_custom(|iters| {
                let start = process_cpu();
                server.run(case, iters);
                flush();
                process_cpu() - start
            });
        });
    }
    group.finish();
    criterion.final_summary();

    // The table of BENCHMARKS.md.
    println!(
        "\n| connection | case | process CPU per command | added | calling thread CPU | added | allocations per command |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (connection, iters) in [
        ("instant (no I/O)", 200_000),
        ("local Redis, 64 in flight", 50_000),
    ] {
        let mut bare = (0.0, 0.0);
        for case in Case::ALL {
            let (process, thread, allocations) = if connection.starts_with("instant") {
                per_command(iters, |n| cpu_loop(case, n), flush)
            } else {
                per_command(iters, |n| server.run(case, n), flush)
            };
            if case == Case::Bare {
                bare = (process, thread);
            }
            let added = |value: f64, bare: f64| {
                if case == Case::Bare {
                    "-".to_owned()
                } else {
                    format!("{:+.0} ns", value - bare)
                }
            };
            println!(
                "| {connection} | {} | {process:.0} ns | {} | {thread:.0} ns | {} | {allocations:.1} |",
                case.name(),
                added(process, bare.0),
                added(thread, bare.1),
            );
        }
    }
}
