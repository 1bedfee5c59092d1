//! Two services, one trace: a customer calls the frontend, which calls the orders service.
//! Both are axum apps with `HttpServerLayer`; the calls go through reqwest with
//! `TracingMiddleware`; the customer's `user.id` baggage travels along.
//!
//! ```sh
//! cargo run --example two_services --features http            # one customer call, then exits
//! cargo run --example two_services --features http -- --serve # serves until Ctrl-C or SIGTERM
//! ```
//!
//! ```text
//! two_services::customer
//!   GET [client]
//!     GET /checkout/{item} [server]        the frontend
//!       two_services::checkout
//!         POST [client]
//!           POST /orders [server]          the orders service
//!             two_services::create_order   user.id="7", from the baggage
//! ```
//!
//! Both services run in this one process on 127.0.0.1, each on its own port, so the HTTP
//! between them is real; in production each would install telemetry itself, and the trace
//! would be joined in the backend by its trace id. Here the console exporter prints the whole
//! trace as the one tree above, once the customer's span ends.
//!
//! With `--serve` both services keep serving (the frontend's address is printed) until the
//! process is asked to stop: `traced_runtime::shutdown_signal()` resolves on SIGTERM (`docker
//! stop`, Kubernetes) or Ctrl-C, axum finishes the requests in flight, and the telemetry guard
//! exports the spans still queued before the process exits, so the last requests' traces are
//! not lost.

use std::net::SocketAddr;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use traced_runtime::http::client::TracingMiddleware;
use traced_runtime::http::server::HttpServerLayer;
use traced_runtime::opentelemetry::baggage::BaggageExt as _;
use traced_runtime::opentelemetry::context::FutureExt as _;
use traced_runtime::{current_span, shutdown_signal, traced, Context, KeyValue, Telemetry};

/// The reqwest client of both services and the customer, traced.
pub fn client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TracingMiddleware::new())
        .build()
}

/// The orders service: `POST /orders` creates an order for the user named in the baggage.
pub fn orders_app() -> Router {
    Router::new()
        .route("/orders", post(|body: String| create_order(body)))
        .layer(HttpServerLayer::new())
}

#[traced(attrs(order.item = item.as_str()))]
async fn create_order(item: String) -> (StatusCode, String) {
    // The customer's id came across two hops in the `baggage` header.
    let user_id = Context::current()
        .baggage()
        .get("user.id")
        .map(ToString::to_string)
        .unwrap_or_default();
    current_span().set_attribute("user.id", user_id.as_str());
    (
        StatusCode::CREATED,
        format!("order of {item} for user {user_id}"),
    )
}

/// The frontend: `GET /checkout/{item}` asks the orders service for an order.
pub fn frontend_app(orders_url: String) -> Router {
    Router::new()
        .route(
            "/checkout/{item}",
            get(
                |State(orders_url): State<String>, Path(item): Path<String>| async move {
                    checkout(&orders_url, item)
                        .await
                        .map_err(|error| (StatusCode::BAD_GATEWAY, error.to_string()))
                },
            ),
        )
        .with_state(orders_url)
        .layer(HttpServerLayer::new())
}

#[traced(attrs(order.item = item.as_str()))]
async fn checkout(orders_url: &str, item: String) -> Result<String, reqwest_middleware::Error> {
    let response = client()
        .post(format!("{orders_url}/orders"))
        .body(item)
        .send()
        .await?
        .error_for_status()?;
    Ok(response.text().await?)
}

/// The customer: a root span, with `user.id` in the baggage of everything below it.
#[traced]
pub async fn customer(frontend_url: String) -> Result<String, reqwest_middleware::Error> {
    let response = client()
        .get(format!("{frontend_url}/checkout/book"))
        .send()
        .await?;
    Ok(response.text().await?)
}

/// Runs `customer` with `user.id` baggage.
pub async fn customer_with_baggage(
    frontend_url: String,
    user_id: &str,
) -> Result<String, reqwest_middleware::Error> {
    let cx = Context::current().with_baggage([KeyValue::new("user.id", user_id.to_owned())]);
    customer(frontend_url).with_context(cx).await
}

/// Serves `app` on 127.0.0.1 with an ephemeral port until SIGTERM or Ctrl-C, then finishes the
/// requests in flight (or until the task is aborted).
pub async fn serve(app: Router) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    // Made here, not in the task: SIGTERM is handled from this call on, before the task runs.
    let stop = shutdown_signal();
    let task = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(listener, app).with_graceful_shutdown(stop);
        if let Err(error) = server.await {
            eprintln!("server stopped: {error}");
        }
    });
    Ok((url, task))
}

#[allow(dead_code)] // tests/two_services.rs includes this file without running `main`
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = Telemetry::builder()
        .service_name("two_services")
        .console_by_default()
        .install()?;

    let (orders_url, orders) = serve(orders_app()).await?;
    let (frontend_url, frontend) = serve(frontend_app(orders_url)).await?;

    if std::env::args().any(|arg| arg == "--serve") {
        println!("serving {frontend_url}/checkout/book until Ctrl-C or SIGTERM");
        // Both servers stop on the signal, once their requests in flight are answered.
        let _ = tokio::join!(frontend, orders);
        println!("stopped: exporting the last spans");
    } else {
        let answer = customer_with_baggage(frontend_url, "7").await?;
        println!("{answer}");
        frontend.abort();
        orders.abort();
    }
    // Exports what is still queued, within the shutdown timeout (5 s unless set).
    telemetry.shutdown()?;
    Ok(())
}
