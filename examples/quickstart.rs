//! A first trace in one minute, printed on the console: no collector needed.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! The same program ships its spans to Jaeger, Tempo or an OpenTelemetry Collector when the
//! environment says so (`docker compose -f docker-compose.jaeger.yml up` starts Jaeger):
//!
//! ```sh
//! OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \
//!     cargo run --example quickstart
//! ```

use std::time::Duration;

use traced_runtime::{add_event, traced, KeyValue, Telemetry};

#[derive(Debug, thiserror::Error)]
#[error("{item} is out of stock")]
struct OutOfStock {
    item: &'static str,
}

/// The request: a server span, parent of everything below.
#[traced(kind = server, attrs(http.route = "/checkout", user.id = user_id, cart.items = items.len()))]
async fn checkout(user_id: u64, items: &[&'static str]) -> Result<f64, OutOfStock> {
    let mut total = price(items).await;
    for item in items {
        if let Err(error) = reserve(item).await {
            // Handled here: the reserve span records the error, the checkout goes on.
            println!("skipping: {error}");
            total -= 5.0;
        }
    }
    charge(user_id, total).await;
    Ok(total)
}

#[traced(attrs(items = items.to_vec()))]
async fn price(items: &[&'static str]) -> f64 {
    tokio::time::sleep(Duration::from_millis(4)).await;
    add_event(
        "discount_applied",
        [
            KeyValue::new("code", "WELCOME10"),
            KeyValue::new("percent", 10_i64),
        ],
    );
    items.len() as f64 * 5.0 * 0.9
}

#[traced(attrs(item = *item))]
async fn reserve(item: &'static str) -> Result<(), OutOfStock> {
    tokio::time::sleep(Duration::from_millis(2)).await;
    if item == "lamp" {
        return Err(OutOfStock { item });
    }
    Ok(())
}

#[traced(kind = client, attrs(payment.amount = amount))]
async fn charge(_user_id: u64, amount: f64) {
    tokio::time::sleep(Duration::from_millis(6)).await;
}

#[tokio::main]
async fn main() -> Result<(), traced_runtime::Error> {
    let telemetry = Telemetry::builder()
        .service_name("quickstart")
        .service_version(env!("CARGO_PKG_VERSION"))
        .console_by_default()
        .install()?;

    let total = checkout(7, &["book", "lamp", "pen"]).await;
    println!("charged {total:?}");

    // Flushes what is left and shuts down (bounded, even without a collector).
    telemetry.shutdown()
}
