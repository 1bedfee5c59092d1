//! Configured by the environment alone, as a deployed service is: `traced_runtime::init()`.
//!
//! ```sh
//! docker compose -f docker-compose.jaeger.yml up -d      # Jaeger, UI on http://localhost:16686
//! OTEL_SERVICE_NAME=otlp-example \
//! OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=dev \
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \
//!     cargo run --example otlp
//! ```
//!
//! Every `OTEL_*` variable of the specification applies: `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`
//! with `OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317` for gRPC,
//! `OTEL_EXPORTER_OTLP_HEADERS=x-api-key=...` for a hosted backend, `OTEL_TRACES_SAMPLER`,
//! `OTEL_TRACES_EXPORTER=console` to print instead, `OTEL_SDK_DISABLED=true` to turn it off.

use std::time::Duration;

use traced_runtime::traced;

#[traced(kind = server, attrs(job.id = job_id))]
async fn run_job(job_id: u64) -> Result<usize, std::io::Error> {
    let rows = fetch(job_id).await?;
    store(rows).await;
    Ok(rows)
}

#[traced(kind = client)]
async fn fetch(job_id: u64) -> Result<usize, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    if job_id == 3 {
        return Err(std::io::Error::other("upstream timed out"));
    }
    Ok(job_id as usize * 10)
}

#[traced(attrs(rows = rows))]
async fn store(rows: usize) {
    tokio::time::sleep(Duration::from_millis(3)).await;
}

#[tokio::main]
async fn main() -> Result<(), traced_runtime::Error> {
    let telemetry = traced_runtime::init()?;
    if !telemetry.is_enabled() {
        println!("OTEL_SDK_DISABLED is set: running without telemetry");
    }
    for job_id in 1..=3 {
        match run_job(job_id).await {
            Ok(rows) => println!("job {job_id}: {rows} rows"),
            Err(error) => println!("job {job_id} failed: {error}"),
        }
    }
    // The spans were made; only their export can fail (no collector, a wrong endpoint). That
    // is reported, and the program's own outcome stands.
    if let Err(error) = telemetry.shutdown() {
        eprintln!("the trace was not exported: {error}");
    }
    Ok(())
}
