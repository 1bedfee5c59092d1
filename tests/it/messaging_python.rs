//! A message published by the official OpenTelemetry Python SDK joins the Python trace when
//! traced's consumers process it: `tests/python/message_headers.py` makes a PRODUCER span with
//! `user.id` baggage and injects its context with the SDK's global propagator into a dict of
//! headers; the test publishes a message with exactly those headers to RabbitMQ and to NATS
//! (as a Python publisher's broker client would), and traced's `rabbitmq::process` and
//! `nats::process` handle it: the CONSUMER span is in the Python trace, child of the Python span
//! (a remote parent), and the baggage reaches the handler.
//!
//! Python comes from `support::python` (a venv under the target directory, or `$PYTHON`); the
//! brokers are this machine's (`TRACED_TEST_AMQP_URL`, `TRACED_TEST_NATS_URL`).

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt as _;
use serde_json::Value;
use traced_runtime::opentelemetry::baggage::BaggageExt as _;
use traced_runtime::opentelemetry::global;
use traced_runtime::opentelemetry::propagation::TextMapCompositePropagator;
use traced_runtime::opentelemetry::trace::SpanKind;
use traced_runtime::opentelemetry::Context;
use traced_runtime::opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use traced_runtime::opentelemetry_sdk::trace::SpanData;
use traced_runtime::testing::{capture_async, Spans};
use traced_runtime::traced;

use crate::support::python::{python, script};

/// The propagators `init` installs by default (as tests/it/messaging.rs sets them).
fn w3c() {
    global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]));
}

/// A name no other test (or earlier run) uses.
fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("traced-test.{prefix}.{}.{nanos}", std::process::id())
}

/// What Python published: the headers as the SDK injected them, and its PRODUCER span.
struct PythonMessage {
    headers: BTreeMap<String, String>,
    trace_id: String,
    span_id: String,
}

fn python_publish() -> PythonMessage {
    let output = Command::new(python())
        .arg(script("message_headers.py"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", python().display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "message_headers.py failed ({}): {stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"));
    let headers: BTreeMap<String, String> =
        serde_json::from_value(json["headers"].clone()).unwrap();
    let spans = json["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 1, "{json}");
    let span = &spans[0];
    assert_eq!(span["kind"], "PRODUCER");
    assert!(span["parent_span_id"].is_null(), "{span}");
    // What the SDK wrote: W3C trace context and baggage, nothing else.
    assert_eq!(
        headers.keys().map(String::as_str).collect::<Vec<_>>(),
        ["baggage", "traceparent"],
        "{headers:?}"
    );
    assert_eq!(headers["baggage"], "user.id=42");
    PythonMessage {
        headers,
        trace_id: span["trace_id"].as_str().unwrap().to_owned(),
        span_id: span["span_id"].as_str().unwrap().to_owned(),
    }
}

/// The handler: a `#[traced]` step that reads the baggage it runs with.
#[traced("handle order")]
async fn handle_order() -> Result<Option<String>, std::io::Error> {
    Ok(Context::current()
        .baggage()
        .get("user.id")
        .map(ToString::to_string))
}

/// The consumer's spans continue the Python trace: the CONSUMER span is a child of the Python
/// PRODUCER span (remote), and the handler's span a child of it.
fn assert_joins_python_trace(spans: &Spans, consumer_name: &str, python: &PythonMessage) {
    assert_eq!(spans.names().len(), 2, "{:?}", spans.names());
    let find = |name: &str| -> &SpanData {
        spans
            .find(name)
            .unwrap_or_else(|| panic!("no span {name:?} in {:?}", spans.names()))
    };
    let process = find(consumer_name);
    let handler = find("handle order");
    assert_eq!(process.span_kind, SpanKind::Consumer);
    assert_eq!(process.span_context.trace_id().to_string(), python.trace_id);
    assert_eq!(process.parent_span_id.to_string(), python.span_id);
    assert!(process.parent_span_is_remote);
    assert!(
        process.span_context.is_sampled(),
        "the Python span was sampled"
    );
    assert_eq!(handler.span_context.trace_id().to_string(), python.trace_id);
    assert_eq!(handler.parent_span_id, process.span_context.span_id());
}

async fn amqp() -> lapin::Connection {
    let url = std::env::var("TRACED_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned());
    let properties = lapin::ConnectionProperties::default()
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio::current());
    match tokio::time::timeout(
        Duration::from_secs(10),
        lapin::Connection::connect(&url, properties),
    )
    .await
    {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) => panic!(
            "RabbitMQ at {url} is not reachable ({error}); start it with \
             `rabbitmq-server -detached` or set TRACED_TEST_AMQP_URL"
        ),
        Err(_) => panic!(
            "RabbitMQ at {url} did not answer within 10 s; start it with \
             `rabbitmq-server -detached` or set TRACED_TEST_AMQP_URL"
        ),
    }
}

#[tokio::test]
async fn rabbitmq_message_with_python_sdk_headers_joins_the_python_trace() {
    w3c();
    let python = python_publish();
    let connection = amqp().await;
    let channel = connection.create_channel().await.unwrap();
    // Exclusive: the broker deletes it with the connection even if the test fails first.
    let queue = unique("python");
    channel
        .queue_declare(
            &queue,
            lapin::options::QueueDeclareOptions {
                exclusive: true,
                ..Default::default()
            },
            lapin::types::FieldTable::default(),
        )
        .await
        .unwrap();
    let mut consumer = channel
        .basic_consume(
            &queue,
            "traced-test-python",
            lapin::options::BasicConsumeOptions::default(),
            lapin::types::FieldTable::default(),
        )
        .await
        .unwrap();

    // The headers exactly as Python gave them, as AMQP strings.
    let mut headers = lapin::types::FieldTable::default();
    for (key, value) in &python.headers {
        headers.insert(
            key.as_str().into(),
            lapin::types::AMQPValue::LongString(value.as_str().into()),
        );
    }
    channel
        .basic_publish(
            "",
            &queue,
            lapin::options::BasicPublishOptions::default(),
            b"order 7",
            lapin::BasicProperties::default().with_headers(headers),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    let (user, spans) = capture_async(async {
        let delivery = consumer.next().await.unwrap().unwrap();
        traced_runtime::messaging::rabbitmq::process(&delivery, handle_order)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(
        user.as_deref(),
        Some("42"),
        "the Python baggage reaches the handler"
    );
    assert_joins_python_trace(&spans, &format!("process {queue}"), &python);

    channel
        .queue_delete(&queue, lapin::options::QueueDeleteOptions::default())
        .await
        .unwrap();
    let _ = connection.close(200, "done").await;
}

#[tokio::test]
async fn nats_message_with_python_sdk_headers_joins_the_python_trace() {
    w3c();
    let python = python_publish();
    let url = std::env::var("TRACED_TEST_NATS_URL")
        .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let client = match tokio::time::timeout(Duration::from_secs(5), async_nats::connect(&url)).await
    {
        Ok(Ok(client)) => client,
        _ => panic!(
            "the NATS server at {url} is not reachable; start it (`.ci/run` shows how) or set \
             TRACED_TEST_NATS_URL"
        ),
    };
    let subject = unique("python");
    let mut subscriber = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();

    let mut headers = async_nats::HeaderMap::new();
    for (key, value) in &python.headers {
        headers.insert(key.as_str(), value.as_str());
    }
    client
        .publish_with_headers(subject.clone(), headers, "order 7".into())
        .await
        .unwrap();
    client.flush().await.unwrap();

    let (user, spans) = capture_async(async {
        let message = subscriber.next().await.unwrap();
        traced_runtime::messaging::nats::process(&message, handle_order)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(
        user.as_deref(),
        Some("42"),
        "the Python baggage reaches the handler"
    );
    assert_joins_python_trace(&spans, &format!("process {subject}"), &python);
}
