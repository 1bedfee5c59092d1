//! The guide's `process_order` flow with `#[traced]`: validate, check inventory, charge the
//! payment (failing for one order), send the confirmation, with attributes and events.
//!
//! ```sh
//! cargo run --example orders                      # prints the traces
//! OTEL_TRACES_EXPORTER=otlp cargo run --example orders   # ships them to a collector
//! ```

use std::time::Duration;

use traced_runtime::{add_event, current_span, traced, KeyValue};

#[derive(Debug)]
struct Order {
    id: u64,
    items: Vec<&'static str>,
    total: f64,
    customer_email: &'static str,
}

#[derive(Debug, thiserror::Error)]
enum PaymentError {
    #[error("card declined for order {0}")]
    Declined(u64),
}

#[traced(attrs(order.id = order_id, order.type = "standard"))]
async fn process_order(order_id: u64) -> Result<Order, PaymentError> {
    let order = validate_order(order_id).await;
    current_span().set_attribute("order.items", order.items.len());

    check_inventory(&order.items).await;
    process_payment(&order).await?;
    send_confirmation(order.customer_email).await;
    Ok(order)
}

#[traced]
async fn validate_order(order_id: u64) -> Order {
    tokio::time::sleep(Duration::from_millis(3)).await;
    Order {
        id: order_id,
        items: vec!["book", "lamp"],
        total: if order_id == 13 { 999.0 } else { 42.5 },
        customer_email: "ann@example.com",
    }
}

#[traced(attrs(items = items))]
async fn check_inventory(items: &[&str]) {
    add_event(
        "processing_started",
        [KeyValue::new("items", items.len() as i64)],
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    add_event(
        "processing_completed",
        [KeyValue::new("result_count", 2_i64)],
    );
}

#[traced(kind = client, attrs(payment.amount = order.total))]
async fn process_payment(order: &Order) -> Result<(), PaymentError> {
    tokio::time::sleep(Duration::from_millis(8)).await;
    if order.total > 500.0 {
        return Err(PaymentError::Declined(order.id));
    }
    Ok(())
}

#[traced(attrs(email = email))]
async fn send_confirmation(email: &str) {
    tokio::time::sleep(Duration::from_millis(2)).await;
}

#[tokio::main]
async fn main() -> Result<(), traced_runtime::Error> {
    let telemetry = traced_runtime::Telemetry::builder()
        .service_name("orders")
        .service_version(env!("CARGO_PKG_VERSION"))
        .console_by_default()
        .install()?;

    for order_id in [7, 13] {
        match process_order(order_id).await {
            Ok(order) => println!("order {} processed", order.id),
            Err(error) => println!("order {order_id} failed: {error}"),
        }
    }
    telemetry.shutdown()
}
