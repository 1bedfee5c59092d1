//! The instructions a traced SQL statement adds, for callgrind: `N` queries of `benches/db.rs`
//! (`fetch_one` by id, SQLite in memory) through the bare pool, the traced pool with no tracer,
//! or the traced pool with every span sampled and exported to a discarding sink. SQLite's own
//! work is the same in each case, so the difference of the totals over `N` is what the
//! instrumentation costs, for the whole process, whatever the load of the machine.
//!
//! ```sh
//! cargo build --release -p traced-benches --example profile_db
//! for case in bare untraced sampled; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/db.$case target/release/examples/profile_db $case 2000
//! done   # then (total(case) - total(bare)) / 2000, totals from `callgrind_annotate`
//! ```

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use traced_runtime::opentelemetry_sdk::trace::Sampler;

#[path = "support/workloads.rs"]
mod workloads;

#[path = "support/orders_db.rs"]
mod orders_db;

use orders_db::SELECT;

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "bare".into());
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(2000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let _provider = (case == "sampled").then(|| {
        traced_runtime::SpanPipeline::new(workloads::Discard(Arc::new(AtomicU64::new(0))))
            .with_sampler(Sampler::AlwaysOn)
            .install()
            .expect("the pipeline starts")
    });
    rt.block_on(async {
        let pool = orders_db::orders_pool().await;
        let mut sum = 0_i64;
        if case == "bare" {
            for _ in 0..n {
                let total: i64 = sqlx::query_scalar(SELECT)
                    .bind(1_i64)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                sum += total;
            }
        } else {
            let pool = traced_runtime::db::instrument(pool);
            for _ in 0..n {
                let total: i64 = sqlx::query_scalar(SELECT)
                    .bind(1_i64)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                sum += total;
            }
        }
        assert_eq!(sum, 4200 * n as i64);
    });
    if let Some(provider) = _provider {
        provider.shutdown().expect("the spans are exported");
    }
}
