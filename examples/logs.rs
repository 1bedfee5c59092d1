//! Logs that point at their trace: JSON log lines carrying the `trace_id` and `span_id` of the
//! `#[traced]` function they are written in, beside the trace the console exporter prints.
//!
//! ```sh
//! cargo run --example logs --features logs
//! ```
//!
//! ```text
//! {"timestamp":"…","level":"INFO","fields":{"message":"shop starting"},"target":"logs"}
//! {"timestamp":"…","level":"INFO","fields":{"message":"checking out","order_id":13},"target":"logs","trace_id":"7a5019e289fb806b67edea63d5aa5cca","span_id":"9f757816c0bd3863"}
//! {"timestamp":"…","level":"DEBUG","fields":{"message":"reserved","order_id":13},"target":"logs","trace_id":"7a5019e289fb806b67edea63d5aa5cca","span_id":"21d84ad338d2240c"}
//! {"timestamp":"…","level":"WARN","fields":{"message":"card declined","amount":999.0},"target":"logs","trace_id":"7a5019e289fb806b67edea63d5aa5cca","span_id":"a1a1b1c19837c0fc"}
//! ── trace 7a5019e289fb806b67edea63d5aa5cca · shop · 3 spans · 8.11 ms
//! ✗ logs::checkout   ██████████████████████████████    8.11 ms  card declined
//! …
//! {"timestamp":"…","level":"ERROR","fields":{"message":"checkout failed","order_id":13,"error":"card declined"},"target":"logs"}
//! ```
//!
//! Lines written outside any span have no ids; every other line's `trace_id` is the one in the
//! header of the trace printed when the request ends, and its `span_id` that of the function
//! that wrote it (`checkout`, `reserve`, `charge`).

use std::time::Duration;

use traced_runtime::{log_ids, traced, with_trace_ids, Exporter, Telemetry};

#[derive(Debug, thiserror::Error)]
#[error("card declined")]
pub struct Declined;

#[traced(attrs(order.id = order_id))]
pub async fn checkout(order_id: u64) -> Result<(), Declined> {
    tracing::info!(order_id, "checking out");
    reserve(order_id).await;
    let amount = if order_id == 13 { 999.0 } else { 42.5 };
    charge(amount).await?;
    tracing::info!(order_id, "checked out");
    Ok(())
}

#[traced]
async fn reserve(order_id: u64) {
    tokio::time::sleep(Duration::from_millis(2)).await;
    tracing::debug!(order_id, "reserved");
}

#[traced(attrs(payment.amount = amount))]
async fn charge(amount: f64) -> Result<(), Declined> {
    tokio::time::sleep(Duration::from_millis(3)).await;
    if amount > 500.0 {
        tracing::warn!(amount, "card declined");
        return Err(Declined);
    }
    // For a logger of your own: the same ids, from `log_ids()`.
    if let Some(ids) = log_ids() {
        println!("plain println with {ids}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), traced_runtime::Error> {
    let telemetry = Telemetry::builder()
        .service_name("shop")
        .exporter(Exporter::console())
        .install()?;
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .map_event_format(with_trace_ids)
        .init();

    tracing::info!("shop starting");
    for order_id in [7, 13] {
        if let Err(error) = checkout(order_id).await {
            tracing::error!(order_id, %error, "checkout failed");
        }
    }
    telemetry.shutdown()
}
