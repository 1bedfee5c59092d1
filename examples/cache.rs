//! A cache in front of a slow computation, on Redis: every command a span, under the spans of
//! the `#[traced]` functions that send it.
//!
//! ```sh
//! redis-server --port 6379 --daemonize yes     # or: docker run -d -p 6379:6379 redis:7
//! cargo run --example cache --features redis
//! ```
//!
//! Spans are printed on the console; they go to Jaeger, Tempo or a Collector over OTLP when the
//! environment says so (`OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318`,
//! `OTEL_TRACES_EXPORTER=otlp`). `REDIS_URL` picks another server.
//!
//! What it does, under one `handle_request` span:
//! 1. a cache-aside read: `GET` (a miss), the `#[traced]` computation, `SET` with an expiry;
//! 2. the same read again: `GET` (a hit), no computation;
//! 3. a pipeline (one `PIPELINE` span) counting the request;
//! 4. one failing command (`INCR` on a value that is not a number), handled: its span is an
//!    error with `error.type = ERR`, the request goes on.

use std::time::Duration;

use redis::AsyncCommands as _;
use traced_runtime::redis::TracedConnection;
use traced_runtime::{traced, Telemetry};

type Connection = TracedConnection<redis::aio::MultiplexedConnection>;

const TTL_SECONDS: u64 = 60;

#[traced(kind = server, attrs(report.id = id))]
async fn handle_request(con: &mut Connection, id: u64) -> redis::RedisResult<String> {
    let first = cached_report(con, id).await?;
    let second = cached_report(con, id).await?;
    assert_eq!(first, second);

    // Two counters in one round trip: one PIPELINE span.
    let (requests, _): (i64, i64) = redis::pipe()
        .incr("example:requests", 1)
        .expire("example:requests", 3600)
        .query_async(con)
        .await?;
    println!("request #{requests}");

    // A failing command, handled: the span records the error, the request goes on.
    let () = con.set("example:label", "not a number").await?;
    match con.incr::<_, _, i64>("example:label", 1).await {
        Ok(value) => println!("label is now {value}"),
        Err(error) => println!("incr failed as expected: {error}"),
    }
    let () = con.del(&["example:label", &report_key(id)]).await?;
    Ok(first)
}

/// Cache-aside: the cached report, else compute it and cache it for a minute.
#[traced(attrs(report.id = id))]
async fn cached_report(con: &mut Connection, id: u64) -> redis::RedisResult<String> {
    let key = report_key(id);
    if let Some(report) = con.get::<_, Option<String>>(&key).await? {
        println!("cache hit for {key}");
        return Ok(report);
    }
    println!("cache miss for {key}");
    let report = compute_report(id).await;
    let () = con.set_ex(&key, &report, TTL_SECONDS).await?;
    Ok(report)
}

/// The slow part the cache saves.
#[traced(attrs(report.id = id))]
async fn compute_report(id: u64) -> String {
    tokio::time::sleep(Duration::from_millis(20)).await;
    format!("report {id}: 42 orders")
}

fn report_key(id: u64) -> String {
    format!("example:report:{id}")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = Telemetry::builder()
        .service_name("cache-example")
        .console_by_default()
        .install()?;

    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let client = redis::Client::open(url.as_str())?;
    let connection = client.get_multiplexed_async_connection().await.map_err(|error| {
        format!("Redis is not reachable at {url} ({error}): start one with `redis-server --daemonize yes`")
    })?;
    // The one line of instrumentation.
    let mut con = TracedConnection::new(connection, client.get_connection_info());

    let report = handle_request(&mut con, 7).await?;
    println!("{report}");

    telemetry.shutdown()?;
    Ok(())
}
