//! Messages in one trace: the broker-neutral `ProducerSpan`/`ConsumerScope` over a map of
//! headers, then NATS (async-nats) and RabbitMQ (lapin) against real brokers on 127.0.0.1
//! (`TRACED_TEST_NATS_URL`, `TRACED_TEST_AMQP_URL`). Every test names its own subjects and
//! queues, and deletes its queues.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt as _;
use traced_runtime::messaging::{ConsumerScope, MessageInfo, ProducerSpan, Settlement};
use traced_runtime::opentelemetry::baggage::BaggageExt as _;
use traced_runtime::opentelemetry::context::FutureExt as _;
use traced_runtime::opentelemetry::global;
use traced_runtime::opentelemetry::propagation::{Extractor, Injector, TextMapCompositePropagator};
use traced_runtime::opentelemetry::trace::{SpanId, SpanKind, Status};
use traced_runtime::opentelemetry::{Context, KeyValue, Value};
use traced_runtime::opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use traced_runtime::opentelemetry_sdk::trace::SpanData;
use traced_runtime::testing::{attribute, capture_async, Spans};
use traced_runtime::traced;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The propagators `init` installs by default; every test sets the same ones.
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

fn span<'a>(spans: &'a Spans, name: &str) -> &'a SpanData {
    spans
        .find(name)
        .unwrap_or_else(|| panic!("no span {name:?} in {:?}", spans.names()))
}

fn assert_child(parent: &SpanData, child: &SpanData) {
    assert_eq!(
        child.parent_span_id,
        parent.span_context.span_id(),
        "{} is not a child of {}",
        child.name,
        parent.name
    );
    assert_eq!(
        child.span_context.trace_id(),
        parent.span_context.trace_id()
    );
}

fn assert_root(span: &SpanData) {
    assert_eq!(
        span.parent_span_id,
        SpanId::INVALID,
        "{} has a parent",
        span.name
    );
}

fn str_attr<'a>(span: &'a SpanData, key: &str) -> &'a str {
    match attribute(span, key) {
        Some(Value::String(value)) => value.as_str(),
        other => panic!("{key} of {} is not a string: {other:?}", span.name),
    }
}

fn int_attr(span: &SpanData, key: &str) -> i64 {
    match attribute(span, key) {
        Some(Value::I64(value)) => *value,
        other => panic!("{key} of {} is not an integer: {other:?}", span.name),
    }
}

fn error_type(span: &SpanData) -> &str {
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{} is not ERROR: {:?}",
        span.name,
        span.status
    );
    str_attr(span, "error.type")
}

/// The `settle` events of a span: (operation name, requeue, error.type).
fn settlements(span: &SpanData) -> Vec<(String, Option<bool>, Option<String>)> {
    span.events
        .iter()
        .filter(|event| event.name == "settle")
        .map(|event| {
            let get = |key: &str| {
                event
                    .attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == key)
                    .map(|kv| kv.value.clone())
            };
            assert_eq!(get("messaging.operation.type"), Some(Value::from("settle")));
            (
                get("messaging.operation.name").unwrap().to_string(),
                get("traced.messaging.requeue").map(|value| value == Value::Bool(true)),
                get("error.type").map(|value| value.to_string()),
            )
        })
        .collect()
}

/// The work a handler does: a `#[traced]` step that also reads the baggage it runs with.
#[traced("handle order")]
async fn handle_order() -> Result<Option<String>, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    Ok(Context::current()
        .baggage()
        .get("user.id")
        .map(ToString::to_string))
}

#[traced("failing handler")]
async fn failing_handler() -> Result<(), std::io::Error> {
    Err(std::io::Error::other("payment declined"))
}

fn with_user_baggage() -> Context {
    Context::current().with_baggage([KeyValue::new("user.id", "42")])
}

// ---------------------------------------------------------------------------------------------
// The broker-neutral API, over a map of headers.

#[traced("checkout")]
async fn send_to_map(headers: &mut HashMap<String, String>) {
    let info = MessageInfo::new("kafka", "orders")
        .message_id("m-1")
        .conversation_id("c-1")
        .body_size(11)
        .server("broker.local", 9092);
    let span = ProducerSpan::start("send", &info);
    span.inject(headers);
    span.end();
}

#[tokio::test]
async fn neutral_producer_and_consumer_are_one_trace() {
    w3c();
    let (user, spans) = capture_async(async {
        let mut headers = HashMap::new();
        send_to_map(&mut headers)
            .with_context(with_user_baggage())
            .await;
        assert!(headers.contains_key("traceparent"), "{headers:?}");
        assert_eq!(
            headers.get("baggage").map(String::as_str),
            Some("user.id=42")
        );
        // The worker: the capture has no span and no baggage of its own.
        let info = MessageInfo::new("kafka", "orders").message_id("m-1");
        ConsumerScope::start(&info, &headers)
            .run(handle_order)
            .await
    })
    .await;
    assert_eq!(
        user.unwrap().as_deref(),
        Some("42"),
        "baggage reaches the handler"
    );

    let checkout = span(&spans, "checkout");
    let send = span(&spans, "send orders");
    let process = span(&spans, "process orders");
    let work = span(&spans, "handle order");
    assert_root(checkout);
    assert_child(checkout, send);
    assert_child(send, process);
    assert_child(process, work);
    assert_eq!(send.span_kind, SpanKind::Producer);
    assert_eq!(process.span_kind, SpanKind::Consumer);
    assert!(process.parent_span_is_remote);

    assert_eq!(str_attr(send, "messaging.system"), "kafka");
    assert_eq!(str_attr(send, "messaging.operation.type"), "send");
    assert_eq!(str_attr(send, "messaging.operation.name"), "send");
    assert_eq!(str_attr(send, "messaging.destination.name"), "orders");
    assert_eq!(str_attr(send, "messaging.message.id"), "m-1");
    assert_eq!(str_attr(send, "messaging.message.conversation_id"), "c-1");
    assert_eq!(int_attr(send, "messaging.message.body.size"), 11);
    assert_eq!(str_attr(send, "server.address"), "broker.local");
    assert_eq!(int_attr(send, "server.port"), 9092);
    assert_eq!(str_attr(process, "messaging.operation.type"), "process");
    assert_eq!(str_attr(process, "messaging.destination.name"), "orders");
    assert_eq!(process.status, Status::Unset);
}

#[tokio::test]
async fn neutral_linked_consumer_starts_its_own_trace() {
    w3c();
    let (user, spans) = capture_async(async {
        let mut headers = HashMap::new();
        send_to_map(&mut headers)
            .with_context(with_user_baggage())
            .await;
        let info = MessageInfo::new("kafka", "orders");
        ConsumerScope::start_linked(&info, &headers)
            .run(handle_order)
            .await
    })
    .await;
    assert_eq!(
        user.unwrap().as_deref(),
        Some("42"),
        "the baggage still arrives"
    );
    let send = span(&spans, "send orders");
    let process = span(&spans, "process orders");
    assert_root(process);
    assert_ne!(
        process.span_context.trace_id(),
        send.span_context.trace_id()
    );
    let links: Vec<_> = process.links.iter().collect();
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0].span_context.trace_id(),
        send.span_context.trace_id()
    );
    assert_eq!(links[0].span_context.span_id(), send.span_context.span_id());
    assert_child(process, span(&spans, "handle order"));
}

#[tokio::test]
async fn neutral_batch_links_every_message_with_a_context() {
    w3c();
    let ((), spans) = capture_async(async {
        let mut batch = vec![HashMap::new(), HashMap::new(), HashMap::new()];
        for headers in &mut batch {
            send_to_map(headers).await;
        }
        batch.push(HashMap::from([(
            "traceparent".to_owned(),
            "garbage".to_owned(),
        )]));
        let info = MessageInfo::new("kafka", "orders");
        ConsumerScope::start_batch(&info, &batch).end();
    })
    .await;
    let sends: Vec<_> = spans
        .all()
        .iter()
        .filter(|span| span.name == "send orders")
        .collect();
    assert_eq!(sends.len(), 3);
    let process = span(&spans, "process orders");
    assert_eq!(int_attr(process, "messaging.batch.message_count"), 4);
    let linked: Vec<_> = process
        .links
        .iter()
        .map(|link| link.span_context.span_id())
        .collect();
    let sent: Vec<_> = sends
        .iter()
        .map(|span| span.span_context.span_id())
        .collect();
    assert_eq!(linked, sent, "one link per message with a valid context");
}

/// Headers of a client of your own: a list of pairs.
#[derive(Default)]
struct Pairs(Vec<(String, String)>);

impl Injector for Pairs {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value));
    }
}

impl Extractor for Pairs {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_str()).collect()
    }
}

#[tokio::test]
async fn neutral_api_takes_any_injector_and_extractor() {
    w3c();
    let ((), spans) = capture_async(async {
        let mut pairs = Pairs::default();
        let span = ProducerSpan::start("publish", &MessageInfo::new("my_queue", "jobs"));
        span.inject(&mut pairs as &mut dyn Injector);
        span.end();
        assert_eq!(pairs.0[0].0, "traceparent");
        ConsumerScope::start(
            &MessageInfo::new("my_queue", "jobs"),
            &pairs as &dyn Extractor,
        )
        .run(handle_order)
        .await
        .unwrap();
    })
    .await;
    let publish = span(&spans, "publish jobs");
    let process = span(&spans, "process jobs");
    assert_child(publish, process);
    assert_eq!(str_attr(process, "messaging.system"), "my_queue");
}

#[traced("consumer loop")]
async fn consume_in_a_loop_span(headers: HashMap<String, String>) {
    let info = MessageInfo::new("kafka", "orders");
    ConsumerScope::start(&info, &headers)
        .run(handle_order)
        .await
        .unwrap();
}

#[tokio::test]
async fn neutral_hostile_or_missing_headers_start_a_new_trace() {
    w3c();
    let hostile = [
        HashMap::new(),
        HashMap::from([("traceparent".to_owned(), "garbage".to_owned())]),
        HashMap::from([
            ("traceparent".to_owned(), format!("{TRACEPARENT}-extra")),
            ("tracestate".to_owned(), "=,=,\u{0}".to_owned()),
            ("baggage".to_owned(), "%%%;;;=".repeat(5000)),
        ]),
        HashMap::from([("traceparent".to_owned(), "\u{1F600}".repeat(55))]),
    ];
    for headers in hostile {
        let ((), spans) = capture_async(consume_in_a_loop_span(headers.clone())).await;
        let process = span(&spans, "process orders");
        assert_root(process);
        assert_ne!(
            process.span_context.trace_id(),
            span(&spans, "consumer loop").span_context.trace_id(),
            "{headers:?}: not a child of the span the loop runs in"
        );
        assert_child(process, span(&spans, "handle order"));
        assert!(process.links.is_empty());
    }
}

#[tokio::test]
async fn neutral_handler_error_marks_the_consumer_span() {
    w3c();
    let (result, spans) = capture_async(async {
        let headers = HashMap::from([("traceparent".to_owned(), TRACEPARENT.to_owned())]);
        let info = MessageInfo::new("aws_sqs", "orders");
        let scope = ConsumerScope::start(&info, &headers);
        let result = scope.handle(failing_handler).await;
        scope.settled(Settlement::Reject { requeue: true });
        scope.end();
        result
    })
    .await;
    assert!(result.is_err());
    let process = span(&spans, "process orders");
    assert_eq!(
        process.span_context.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(process.parent_span_id.to_string(), "00f067aa0ba902b7");
    assert_eq!(error_type(process), "std::io::error::Error");
    assert!(process.events.iter().any(|event| event.name == "exception"));
    assert_eq!(
        settlements(process),
        [("reject".to_owned(), Some(true), None)]
    );
    assert_child(process, span(&spans, "failing handler"));
}

#[tokio::test]
async fn neutral_failed_send_marks_the_producer_span() {
    w3c();
    let ((), spans) = capture_async(async {
        let span = ProducerSpan::start("send", &MessageInfo::new("kafka", "orders"));
        span.end_with_error(&std::io::Error::other("broker down"));
        let span = ProducerSpan::start("send", &MessageInfo::new("kafka", "invoices"));
        span.end_with_failure("QUEUE_FULL", "the queue is full");
    })
    .await;
    assert_eq!(
        error_type(span(&spans, "send orders")),
        "std::io::error::Error"
    );
    assert_eq!(error_type(span(&spans, "send invoices")), "QUEUE_FULL");
}

// ---------------------------------------------------------------------------------------------
// NATS.

const NATS_START: &str = "start-stop-daemon --start --oknodo --background --exec \
    /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server \
    -l /var/log/nats-server.log";

async fn nats() -> async_nats::Client {
    let url = std::env::var("TRACED_TEST_NATS_URL")
        .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    match tokio::time::timeout(Duration::from_secs(5), async_nats::connect(&url)).await {
        Ok(Ok(client)) => client,
        Ok(Err(error)) => panic!(
            "the NATS server at {url} is not reachable ({error}); start it with `{NATS_START}` \
             or set TRACED_TEST_NATS_URL"
        ),
        Err(_) => panic!(
            "the NATS server at {url} did not answer within 5 s; start it with `{NATS_START}` \
             or set TRACED_TEST_NATS_URL"
        ),
    }
}

#[traced("checkout")]
async fn publish_order(client: &async_nats::Client, subject: String) {
    traced_runtime::messaging::nats::publish(client, subject, "order 7".into())
        .await
        .unwrap();
}

#[tokio::test]
async fn nats_publish_and_process_are_one_trace() {
    w3c();
    let client = nats().await;
    let subject = unique("orders");
    let mut subscriber = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();

    let ((headers, user), spans) = capture_async(async {
        let consumer = async {
            let message = subscriber.next().await.unwrap();
            let user = traced_runtime::messaging::nats::process(&message, handle_order)
                .await
                .unwrap();
            (message.headers.unwrap(), user)
        };
        let producer = publish_order(&client, subject.clone()).with_context(with_user_baggage());
        let (received, ()) = tokio::join!(consumer, producer);
        received
    })
    .await;
    assert!(headers.get("traceparent").is_some());
    assert_eq!(user.as_deref(), Some("42"), "baggage reaches the handler");

    let checkout = span(&spans, "checkout");
    let publish = span(&spans, &format!("publish {subject}"));
    let process = span(&spans, &format!("process {subject}"));
    assert_child(checkout, publish);
    assert_child(publish, process);
    assert_child(process, span(&spans, "handle order"));
    assert_eq!(publish.span_kind, SpanKind::Producer);
    assert_eq!(process.span_kind, SpanKind::Consumer);
    assert_eq!(
        headers.get("traceparent").unwrap().as_str(),
        format!(
            "00-{}-{}-01",
            publish.span_context.trace_id(),
            publish.span_context.span_id()
        )
    );
    for span in [publish, process] {
        assert_eq!(str_attr(span, "messaging.system"), "nats");
        assert_eq!(str_attr(span, "messaging.destination.name"), subject);
        assert_eq!(int_attr(span, "messaging.message.body.size"), 7);
    }
    assert_eq!(str_attr(publish, "messaging.operation.type"), "send");
    assert_eq!(str_attr(publish, "messaging.operation.name"), "publish");
    assert_eq!(str_attr(process, "messaging.operation.type"), "process");
    assert!(!str_attr(publish, "server.address").is_empty());
    assert_eq!(int_attr(publish, "server.port"), 4222);
}

#[tokio::test]
async fn nats_linked_process_starts_its_own_trace() {
    w3c();
    let client = nats().await;
    let subject = unique("linked");
    let mut subscriber = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();

    let (user, spans) = capture_async(async {
        let consumer = async {
            let message = subscriber.next().await.unwrap();
            traced_runtime::messaging::nats::process_linked(&message, handle_order)
                .await
                .unwrap()
        };
        let producer = publish_order(&client, subject.clone()).with_context(with_user_baggage());
        let (user, ()) = tokio::join!(consumer, producer);
        user
    })
    .await;
    assert_eq!(user.as_deref(), Some("42"));
    let publish = span(&spans, &format!("publish {subject}"));
    let process = span(&spans, &format!("process {subject}"));
    assert_root(process);
    assert_ne!(
        process.span_context.trace_id(),
        publish.span_context.trace_id()
    );
    let links: Vec<_> = process
        .links
        .iter()
        .map(|link| {
            (
                link.span_context.trace_id(),
                link.span_context.span_id(),
                link.span_context.is_remote(),
            )
        })
        .collect();
    assert_eq!(
        links,
        [(
            publish.span_context.trace_id(),
            publish.span_context.span_id(),
            true
        )]
    );
    assert_child(process, span(&spans, "handle order"));
}

#[traced("ask price")]
async fn ask_price(client: &async_nats::Client, subject: String) -> String {
    let reply = traced_runtime::messaging::nats::request(client, subject, "sku-1".into())
        .await
        .unwrap();
    handle_order().await.unwrap();
    String::from_utf8(reply.payload.to_vec()).unwrap()
}

#[tokio::test]
async fn nats_request_and_reply_are_one_trace() {
    w3c();
    let client = nats().await;
    let subject = unique("prices");
    let mut responder = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();

    let (answer, spans) = capture_async(async {
        let responder = async {
            let request = responder.next().await.unwrap();
            traced_runtime::messaging::nats::process(&request, || async {
                traced_runtime::messaging::nats::reply(&client, &request, "9.99".into()).await
            })
            .await
            .unwrap();
        };
        let ((), answer) = tokio::join!(responder, ask_price(&client, subject.clone()));
        answer
    })
    .await;
    assert_eq!(answer, "9.99");

    let ask = span(&spans, "ask price");
    let request = span(&spans, &format!("request {subject}"));
    let process = span(&spans, &format!("process {subject}"));
    let reply = span(&spans, "publish (temporary)");
    assert_child(ask, request);
    assert_child(request, process);
    assert_child(process, reply);
    assert_eq!(str_attr(request, "messaging.operation.name"), "request");
    assert_eq!(request.span_kind, SpanKind::Producer);
    assert_eq!(reply.span_kind, SpanKind::Producer);
    assert_eq!(
        attribute(reply, "messaging.destination.temporary"),
        Some(&Value::Bool(true))
    );
    assert!(str_attr(reply, "messaging.destination.name").starts_with("_INBOX."));
    // The requester's work after the reply is its own, beside the request.
    assert_child(ask, span(&spans, "handle order"));
    assert!(
        request.end_time >= process.end_time,
        "the request lasts until the reply"
    );
}

#[tokio::test]
async fn nats_request_without_responders_is_an_error() {
    w3c();
    let client = nats().await;
    let subject = unique("nobody");
    let (result, spans) = capture_async(traced_runtime::messaging::nats::request(
        &client,
        subject.clone(),
        "?".into(),
    ))
    .await;
    assert!(result.is_err());
    let request = span(&spans, &format!("request {subject}"));
    assert_eq!(error_type(request), "no_responders");
}

#[tokio::test]
async fn nats_failed_publish_marks_the_producer_span() {
    w3c();
    let client = nats().await;
    let subject = unique("too-big");
    let too_big = vec![0_u8; client.server_info().max_payload + 1];
    let (result, spans) = capture_async(traced_runtime::messaging::nats::publish(
        &client,
        subject.clone(),
        too_big.into(),
    ))
    .await;
    assert!(
        result.is_err(),
        "the payload is over the server's max_payload"
    );
    let publish = span(&spans, &format!("publish {subject}"));
    assert_eq!(error_type(publish), "max_payload_exceeded");
    assert!(publish.events.iter().any(|event| event.name == "exception"));
}

#[tokio::test]
async fn nats_hostile_header_starts_a_new_trace_and_handler_errors_are_recorded() {
    w3c();
    let client = nats().await;
    let subject = unique("hostile");
    let mut subscriber = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("traceparent", "garbage");
    headers.insert("tracestate", "\u{7f}\u{7f}=");
    client
        .publish_with_headers(subject.clone(), headers, "x".into())
        .await
        .unwrap();
    client.publish(subject.clone(), "y".into()).await.unwrap();

    let ((), spans) = capture_async(async {
        for _ in 0..2 {
            let message = subscriber.next().await.unwrap();
            let result = traced_runtime::messaging::nats::process(&message, failing_handler).await;
            assert!(result.is_err());
        }
    })
    .await;
    let processes: Vec<_> = spans
        .all()
        .iter()
        .filter(|span| span.name == format!("process {subject}"))
        .collect();
    assert_eq!(processes.len(), 2);
    assert_ne!(
        processes[0].span_context.trace_id(),
        processes[1].span_context.trace_id()
    );
    for process in processes {
        assert_root(process);
        assert_eq!(error_type(process), "std::io::error::Error");
    }
}

// ---------------------------------------------------------------------------------------------
// RabbitMQ.

async fn amqp() -> lapin::Channel {
    amqp_connection().await.create_channel().await.unwrap()
}

async fn amqp_connection() -> lapin::Connection {
    let url = std::env::var("TRACED_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned());
    let properties = lapin::ConnectionProperties::default()
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio::current());
    let connect = lapin::Connection::connect(&url, properties);
    let connection = match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) => panic!(
            "RabbitMQ at {url} is not reachable ({error}); start it with \
             `rabbitmq-server -detached` or set TRACED_TEST_AMQP_URL"
        ),
        Err(_) => panic!(
            "RabbitMQ at {url} did not answer within 10 s; start it with \
             `rabbitmq-server -detached` or set TRACED_TEST_AMQP_URL"
        ),
    };
    connection
}

/// A queue of its own: deleted at the end of the test, and exclusive to the test's connection, so
/// that the broker deletes it with the connection when the test fails before.
struct Queue {
    channel: lapin::Channel,
    name: String,
}

impl Queue {
    async fn declare(channel: &lapin::Channel, prefix: &str) -> Self {
        let name = unique(prefix);
        channel
            .queue_declare(
                &name,
                lapin::options::QueueDeclareOptions {
                    exclusive: true,
                    ..Default::default()
                },
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap();
        Queue {
            channel: channel.clone(),
            name,
        }
    }

    async fn consumer(&self) -> lapin::Consumer {
        self.channel
            .basic_consume(
                &self.name,
                "traced-test",
                lapin::options::BasicConsumeOptions::default(),
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap()
    }

    /// Messages ready in the queue (not delivered, not unacked).
    async fn ready(&self) -> u32 {
        let channel = self.channel.clone();
        let queue = channel
            .queue_declare(
                &self.name,
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    exclusive: true,
                    ..Default::default()
                },
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap();
        queue.message_count()
    }

    async fn delete(self) {
        self.channel
            .queue_delete(&self.name, lapin::options::QueueDeleteOptions::default())
            .await
            .unwrap();
    }
}

#[traced("checkout")]
async fn publish_to_queue(channel: &lapin::Channel, queue: &str) {
    let properties = lapin::BasicProperties::default()
        .with_message_id("m-7".into())
        .with_correlation_id("c-7".into());
    traced_runtime::messaging::rabbitmq::publish(
        channel,
        "",
        queue,
        lapin::options::BasicPublishOptions::default(),
        b"order 7",
        properties,
    )
    .await
    .unwrap()
    .await
    .unwrap();
}

#[tokio::test]
async fn rabbitmq_publish_process_and_ack_are_one_trace() {
    w3c();
    let channel = amqp().await;
    let queue = Queue::declare(&channel, "orders").await;
    let mut consumer = queue.consumer().await;

    let ((headers, user), spans) = capture_async(async {
        let worker = async {
            let delivery = consumer.next().await.unwrap().unwrap();
            let user = traced_runtime::messaging::rabbitmq::process(&delivery, handle_order)
                .await
                .unwrap();
            (delivery.properties.headers().clone().unwrap(), user)
        };
        let (received, ()) = tokio::join!(
            worker,
            publish_to_queue(&channel, &queue.name).with_context(with_user_baggage())
        );
        received
    })
    .await;
    assert!(headers.inner().contains_key("traceparent"));
    assert_eq!(user.as_deref(), Some("42"), "baggage reaches the handler");

    let checkout = span(&spans, "checkout");
    let publish = span(&spans, &format!("publish {}", queue.name));
    let process = span(&spans, &format!("process {}", queue.name));
    assert_child(checkout, publish);
    assert_child(publish, process);
    assert_child(process, span(&spans, "handle order"));
    assert_eq!(publish.span_kind, SpanKind::Producer);
    assert_eq!(process.span_kind, SpanKind::Consumer);
    for span in [publish, process] {
        assert_eq!(str_attr(span, "messaging.system"), "rabbitmq");
        assert_eq!(str_attr(span, "messaging.destination.name"), "");
        assert_eq!(
            str_attr(span, "messaging.rabbitmq.destination.routing_key"),
            queue.name
        );
        assert_eq!(str_attr(span, "messaging.message.id"), "m-7");
        assert_eq!(str_attr(span, "messaging.message.conversation_id"), "c-7");
        assert_eq!(int_attr(span, "messaging.message.body.size"), 7);
    }
    assert_eq!(str_attr(publish, "messaging.operation.type"), "send");
    assert!(int_attr(process, "messaging.rabbitmq.message.delivery_tag") >= 1);
    assert_eq!(settlements(process), [("ack".to_owned(), None, None)]);
    assert_eq!(process.status, Status::Unset);

    drop(consumer);
    channel
        .basic_cancel("traced-test", lapin::options::BasicCancelOptions::default())
        .await
        .unwrap();
    assert_eq!(
        queue.ready().await,
        0,
        "the ack was taken: nothing to redeliver"
    );
    queue.delete().await;
}

#[tokio::test]
async fn rabbitmq_handler_error_nacks_and_hostile_headers_start_a_new_trace() {
    w3c();
    let channel = amqp().await;
    let queue = Queue::declare(&channel, "hostile").await;
    let mut headers = lapin::types::FieldTable::default();
    headers.insert(
        "traceparent".into(),
        lapin::types::AMQPValue::LongString("garbage".into()),
    );
    headers.insert("tracestate".into(), lapin::types::AMQPValue::LongLongInt(7));
    headers.insert(
        "baggage".into(),
        lapin::types::AMQPValue::LongString(vec![0xff, 0x00, 0xfe].into()),
    );
    channel
        .basic_publish(
            "",
            &queue.name,
            lapin::options::BasicPublishOptions::default(),
            b"x",
            lapin::BasicProperties::default().with_headers(headers),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let mut consumer = queue.consumer().await;

    let (result, spans) = capture_async(async {
        let delivery = consumer.next().await.unwrap().unwrap();
        traced_runtime::messaging::rabbitmq::process(&delivery, failing_handler).await
    })
    .await;
    assert!(result.is_err());
    let process = span(&spans, &format!("process {}", queue.name));
    assert_root(process);
    assert_eq!(error_type(process), "std::io::error::Error");
    assert_eq!(
        settlements(process),
        [("nack".to_owned(), Some(false), None)]
    );
    assert_child(process, span(&spans, "failing handler"));

    drop(consumer);
    channel
        .basic_cancel("traced-test", lapin::options::BasicCancelOptions::default())
        .await
        .unwrap();
    assert_eq!(
        queue.ready().await,
        0,
        "nacked without requeue: not redelivered"
    );
    queue.delete().await;
}

#[tokio::test]
async fn rabbitmq_options_link_and_reject() {
    w3c();
    let channel = amqp().await;
    let queue = Queue::declare(&channel, "options").await;
    let mut consumer = queue.consumer().await;

    let (result, spans) = capture_async(async {
        let worker = async {
            let delivery = consumer.next().await.unwrap().unwrap();
            let options = traced_runtime::messaging::rabbitmq::ProcessOptions::new()
                .linked()
                .on_error(Settlement::Reject { requeue: false });
            traced_runtime::messaging::rabbitmq::process_with(&delivery, options, failing_handler)
                .await
        };
        let (result, ()) = tokio::join!(worker, publish_to_queue(&channel, &queue.name));
        result
    })
    .await;
    assert!(result.is_err());
    let publish = span(&spans, &format!("publish {}", queue.name));
    let process = span(&spans, &format!("process {}", queue.name));
    assert_root(process);
    let links: Vec<_> = process
        .links
        .iter()
        .map(|link| link.span_context.span_id())
        .collect();
    assert_eq!(links, [publish.span_context.span_id()]);
    assert_eq!(error_type(process), "std::io::error::Error");
    assert_eq!(
        settlements(process),
        [("reject".to_owned(), Some(false), None)]
    );

    drop(consumer);
    channel
        .basic_cancel("traced-test", lapin::options::BasicCancelOptions::default())
        .await
        .unwrap();
    assert_eq!(
        queue.ready().await,
        0,
        "rejected without requeue: not redelivered"
    );
    queue.delete().await;
}

#[tokio::test]
async fn rabbitmq_an_ack_the_broker_did_not_take_is_recorded() {
    w3c();
    let connection = amqp_connection().await;
    let channel = connection.create_channel().await.unwrap();
    let queue = Queue::declare(&channel, "settle").await;
    publish_to_queue(&channel, &queue.name).await;
    let worker_channel = connection.create_channel().await.unwrap();
    let mut consumer = worker_channel
        .basic_consume(
            &queue.name,
            "traced-test",
            lapin::options::BasicConsumeOptions::default(),
            lapin::types::FieldTable::default(),
        )
        .await
        .unwrap();

    let (result, spans) = capture_async(async {
        let delivery = consumer.next().await.unwrap().unwrap();
        traced_runtime::messaging::rabbitmq::process(&delivery, || async {
            // The channel goes away before the ack.
            worker_channel.close(200, "closed by the test").await
        })
        .await
    })
    .await;
    result.unwrap();
    let process = span(&spans, &format!("process {}", queue.name));
    let settled = settlements(process);
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].0, "ack");
    assert_eq!(settled[0].2.as_deref(), Some("lapin::error::Error"));
    assert_eq!(process.status, Status::Unset, "the handler succeeded");

    assert_eq!(queue.ready().await, 1, "not acked: the broker requeued it");
    queue.delete().await;
}
