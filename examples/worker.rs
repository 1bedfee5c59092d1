//! The guide's Celery flow with a broker: a web endpoint `POST /orders` publishes an order job
//! to RabbitMQ and answers at once; a worker consumes the job and runs the order's steps. The
//! trace context travels in the message's headers, so the customer's request, the publish and
//! the processing are one trace:
//!
//! ```sh
//! cargo run --example worker --features worker   # RabbitMQ on 127.0.0.1:5672, or AMQP_URL
//! ```
//!
//! ```text
//! worker::place_order                                  the customer
//!   POST [client]
//!     POST /orders [server]                            the web service
//!       worker::enqueue_order                          order.id=1
//!         publish traced.example.orders [producer]
//!           process traced.example.orders [consumer]   the worker, acked
//!             worker::reserve_stock
//!             worker::charge_payment
//!             worker::send_confirmation
//! ```
//!
//! It places three orders with requests to itself, the third declined by the payment step (its
//! job is nacked, its CONSUMER span ERROR), then stops its server and its worker, deletes its
//! queue and exits 0; SIGTERM or Ctrl-C stops it earlier, as cleanly. A RabbitMQ it cannot reach
//! is said on stderr with how to start one, and it exits 1.
//!
//! The web service, the worker and the customer run in this one process, so that the console
//! exporter prints each order as one tree once the customer's span ends (the customer waits for
//! the worker to be done); in production the worker is another process, and the backend joins
//! the trace by its id. The spans go to an OTLP collector when the `OTEL_*` variables say so
//! (`OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318`).
//!
//! The messages go through the exchange `traced.example.orders` (direct, deleted with its last
//! queue) to a queue of this process alone, `traced-example.worker.<pid>`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use futures_util::StreamExt as _;
use lapin::options::{
    BasicCancelOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::{mpsc, oneshot};
use traced_runtime::http::client::TracingMiddleware;
use traced_runtime::http::server::HttpServerLayer;
use traced_runtime::messaging::rabbitmq;
use traced_runtime::{shutdown_signal, traced, Telemetry};

/// Where the orders are published; each run binds a queue of its own to it.
const EXCHANGE: &str = "traced.example.orders";
/// The worker's consumer tag.
const CONSUMER_TAG: &str = "worker";
/// The orders the customer places: the third is declined.
const ORDERS: [&str; 3] = ["book", "lamp", "chair"];
/// The broker when `AMQP_URL` is not set.
const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Why the example failed.
#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(
        "RabbitMQ at {url} is not reachable ({reason}): start it (`rabbitmq-server -detached`, \
         or `docker run -d -p 5672:5672 rabbitmq:4`), or set AMQP_URL to yours"
    )]
    Unreachable { url: String, reason: String },
    #[error("RabbitMQ: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("HTTP: {0}")]
    Http(#[from] reqwest_middleware::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the worker stopped before order {0} was processed")]
    WorkerGone(i64),
}

/// A step of the worker that failed: the job is nacked.
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error("not an order job: {0:?}")]
    Malformed(String),
    #[error("card declined for order {0}")]
    Declined(i64),
}

// -------------------------------------------------------------------------------------------
// The web service: `POST /orders` publishes the job and answers 202 with the order's id.

/// What the web service needs: the publishing channel and where its jobs go.
struct Shop {
    channel: Channel,
    routing_key: String,
    next_id: AtomicI64,
}

fn shop_app(shop: Arc<Shop>) -> Router {
    Router::new()
        .route("/orders", post(post_order))
        .with_state(shop)
        .layer(HttpServerLayer::new())
}

async fn post_order(
    State(shop): State<Arc<Shop>>,
    item: String,
) -> Result<(StatusCode, String), (StatusCode, String)> {
    let id = shop.next_id.fetch_add(1, Ordering::Relaxed);
    match enqueue_order(&shop, id, &item).await {
        Ok(()) => Ok((StatusCode::ACCEPTED, id.to_string())),
        Err(error) => Err((StatusCode::SERVICE_UNAVAILABLE, error.to_string())),
    }
}

/// Publishes the job `"{id} {item}"`: a PRODUCER span whose context goes in the headers. It
/// returns once the broker confirmed it (the channel is in confirm mode).
#[traced(attrs(order.id = id))]
async fn enqueue_order(shop: &Shop, id: i64, item: &str) -> Result<(), lapin::Error> {
    let properties = BasicProperties::default().with_message_id(id.to_string().into());
    rabbitmq::publish(
        &shop.channel,
        EXCHANGE,
        &shop.routing_key,
        BasicPublishOptions::default(),
        format!("{id} {item}").as_bytes(),
        properties,
    )
    .await?
    .await?;
    Ok(())
}

// -------------------------------------------------------------------------------------------
// The worker: each delivery in its CONSUMER span, child of the publish; acked after `Ok`,
// nacked after `Err`.

/// What the worker tells the customer: the order and how its job ended.
type Outcome = (i64, Result<(), String>);

async fn work(mut deliveries: lapin::Consumer, done: mpsc::UnboundedSender<Outcome>) {
    while let Some(delivery) = deliveries.next().await {
        let delivery = match delivery {
            Ok(delivery) => delivery,
            Err(error) => {
                eprintln!("worker: the consumer failed: {error}");
                break;
            }
        };
        let job = String::from_utf8_lossy(&delivery.data).into_owned();
        let result = rabbitmq::process(&delivery, || fulfil(job.clone())).await;
        let id = job
            .split_once(' ')
            .and_then(|(id, _)| id.parse().ok())
            .unwrap_or(-1);
        let _ = done.send((id, result.map_err(|error| error.to_string())));
    }
}

/// The job's steps, each a span under `process traced.example.orders`.
async fn fulfil(job: String) -> Result<(), JobError> {
    let (id, item) = job
        .split_once(' ')
        .and_then(|(id, item)| Some((id.parse::<i64>().ok()?, item.to_owned())))
        .ok_or_else(|| JobError::Malformed(job.clone()))?;
    reserve_stock(&item).await;
    charge_payment(id).await?;
    send_confirmation(id).await;
    Ok(())
}

#[traced(attrs(order.item = item))]
async fn reserve_stock(item: &str) {
    tokio::time::sleep(Duration::from_millis(2)).await;
}

#[traced(attrs(order.id = id))]
async fn charge_payment(id: i64) -> Result<(), JobError> {
    tokio::time::sleep(Duration::from_millis(3)).await;
    if id == 3 {
        return Err(JobError::Declined(id));
    }
    Ok(())
}

#[traced(attrs(order.id = id))]
async fn send_confirmation(id: i64) {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

// -------------------------------------------------------------------------------------------
// The customer: a root span around the request, ended once the worker is done with the order.

#[traced(attrs(order.item = item))]
async fn place_order(
    shop_url: &str,
    item: &str,
    done: &mut mpsc::UnboundedReceiver<Outcome>,
) -> Result<Result<(), String>, Error> {
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TracingMiddleware::new())
        .build();
    let response = client
        .post(format!("{shop_url}/orders"))
        .body(item.to_owned())
        .send()
        .await?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(reqwest_middleware::Error::from)?;
    let id: i64 = match body.parse() {
        Ok(id) if status == StatusCode::ACCEPTED => id,
        _ => return Ok(Err(format!("not accepted ({status}): {body}"))),
    };
    // Jobs are processed in the order they were published, one at a time.
    loop {
        match done.recv().await {
            Some((processed, outcome)) if processed == id => return Ok(outcome),
            Some(_) => {}
            None => return Err(Error::WorkerGone(id)),
        }
    }
}

async fn customer(shop_url: &str, mut done: mpsc::UnboundedReceiver<Outcome>) -> Result<(), Error> {
    for item in ORDERS {
        match place_order(shop_url, item, &mut done).await? {
            Ok(()) => println!("order of a {item}: processed"),
            Err(error) => println!("order of a {item}: failed ({error})"),
        }
    }
    Ok(())
}

// -------------------------------------------------------------------------------------------

/// `url` without its user and password, to print it.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

async fn connect(url: &str) -> Result<Connection, Error> {
    let properties = ConnectionProperties::default()
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio::current());
    let unreachable = |reason: String| Error::Unreachable {
        url: redacted(url),
        reason,
    };
    match tokio::time::timeout(
        Duration::from_secs(10),
        Connection::connect(url, properties),
    )
    .await
    {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(error)) => Err(unreachable(error.to_string())),
        Err(_) => Err(unreachable("no answer within 10 s".to_owned())),
    }
}

async fn run() -> Result<(), Error> {
    let url = std::env::var("AMQP_URL").unwrap_or_else(|_| DEFAULT_AMQP_URL.to_owned());
    let connection = connect(&url).await?;
    let queue = format!("traced-example.worker.{}", std::process::id());

    // The exchange, and a queue of this run bound to it (exclusive: gone with the connection
    // even if this process is killed).
    let consuming = connection.create_channel().await?;
    let auto_delete = ExchangeDeclareOptions {
        auto_delete: true,
        ..Default::default()
    };
    consuming
        .exchange_declare(
            EXCHANGE,
            ExchangeKind::Direct,
            auto_delete,
            FieldTable::default(),
        )
        .await?;
    let exclusive = QueueDeclareOptions {
        exclusive: true,
        ..Default::default()
    };
    consuming
        .queue_declare(&queue, exclusive, FieldTable::default())
        .await?;
    consuming
        .queue_bind(
            &queue,
            EXCHANGE,
            &queue,
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let deliveries = consuming
        .basic_consume(
            &queue,
            CONSUMER_TAG,
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let worker = tokio::spawn(work(deliveries, done_tx));

    let publishing = connection.create_channel().await?;
    publishing
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let shop = Arc::new(Shop {
        channel: publishing,
        routing_key: queue.clone(),
        next_id: AtomicI64::new(1),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let shop_url = format!("http://{}", listener.local_addr()?);
    let (stop_server, server_stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let app = shop_app(shop).into_make_service_with_connect_info::<SocketAddr>();
        let stopped = async {
            let _ = server_stopped.await;
        };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            eprintln!("worker: the web service stopped: {error}");
        }
    });
    println!("web service on {shop_url}, worker on queue {queue}");

    let result = tokio::select! {
        result = customer(&shop_url, done_rx) => result,
        () = shutdown_signal() => {
            println!("stopping: asked to");
            Ok(())
        }
    };

    // Stop taking requests and jobs, then leave nothing behind on the broker.
    let _ = stop_server.send(());
    let _ = server.await;
    consuming
        .basic_cancel(CONSUMER_TAG, BasicCancelOptions::default())
        .await?;
    let _ = worker.await;
    consuming
        .queue_delete(&queue, QueueDeleteOptions::default())
        .await?;
    connection.close(200, "done").await?;
    result
}

#[tokio::main]
async fn main() -> ExitCode {
    let telemetry = match Telemetry::builder()
        .service_name("worker")
        .console_by_default()
        .install()
    {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("worker: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = run().await;
    // Exports what is still queued, within the shutdown timeout; an unreachable collector is
    // said, and is not the example's failure.
    if let Err(error) = telemetry.shutdown() {
        eprintln!("worker: {error}");
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("worker: {error}");
            ExitCode::FAILURE
        }
    }
}
