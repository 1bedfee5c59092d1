//! examples/worker.rs as a user runs it: the built binary against the RabbitMQ of this machine
//! (`TRACED_TEST_AMQP_URL`, default `amqp://guest:guest@127.0.0.1:5672/%2f`), exporting to the
//! test OTLP receiver. Each order is one trace from the customer's request through the publish
//! to the worker's steps; it exits 0 by itself; an unreachable broker is said, and exits 1.

use std::collections::BTreeMap;
use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::Span;

use crate::support::example::Example;
use crate::support::otlp_receiver::{attribute, string, ReceivedSpan, Receiver};

const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

fn amqp_url() -> String {
    std::env::var("TRACED_TEST_AMQP_URL").unwrap_or_else(|_| DEFAULT_AMQP_URL.to_owned())
}

/// The spans of one trace as an indented tree, children in start order:
/// `name [kind] STATUS` (kind when not internal, status when set).
fn tree(spans: &[&Span]) -> String {
    fn kind(span: &Span) -> &'static str {
        match span.kind {
            2 => " [server]",
            3 => " [client]",
            4 => " [producer]",
            5 => " [consumer]",
            _ => "",
        }
    }
    fn status(span: &Span) -> &'static str {
        match span.status.as_ref().map_or(0, |status| status.code) {
            1 => " OK",
            2 => " ERROR",
            _ => "",
        }
    }
    fn walk(spans: &[&Span], parent: &[u8], depth: usize, out: &mut String) {
        let mut children: Vec<&&Span> = spans
            .iter()
            .filter(|span| span.parent_span_id == parent)
            .collect();
        children.sort_by_key(|span| span.start_time_unix_nano);
        for child in children {
            out.push_str(&"  ".repeat(depth));
            out.push_str(&child.name);
            out.push_str(kind(child));
            out.push_str(status(child));
            out.push('\n');
            walk(spans, &child.span_id, depth + 1, out);
        }
    }
    let mut out = String::new();
    walk(spans, &[], 0, &mut out);
    out
}

fn str_attr<'a>(span: &'a ReceivedSpan, key: &str) -> &'a str {
    string(span.attribute(key)).unwrap_or_else(|| panic!("no string {key} on {}", span.name()))
}

fn int_attr(span: &ReceivedSpan, key: &str) -> i64 {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    match span.attribute(key) {
        Some(Value::IntValue(value)) => *value,
        other => panic!("{key} of {} is not an integer: {other:?}", span.name()),
    }
}

/// The `messaging.operation.name` of the `settle` events of a span.
fn settlements(span: &ReceivedSpan) -> Vec<String> {
    span.span
        .events
        .iter()
        .filter(|event| event.name == "settle")
        .map(|event| {
            let value = attribute(&event.attributes, "messaging.operation.name");
            string(value).unwrap_or_default().to_owned()
        })
        .collect()
}

const PROCESSED: &str = "\
worker::place_order OK
  POST [client]
    POST /orders [server]
      worker::enqueue_order OK
        publish traced.example.orders [producer]
          process traced.example.orders [consumer]
            worker::reserve_stock OK
            worker::charge_payment OK
            worker::send_confirmation OK
";

const DECLINED: &str = "\
worker::place_order OK
  POST [client]
    POST /orders [server]
      worker::enqueue_order OK
        publish traced.example.orders [producer]
          process traced.example.orders [consumer] ERROR
            worker::reserve_stock OK
            worker::charge_payment ERROR
";

#[test]
fn each_order_is_one_trace_from_the_request_to_the_last_step() {
    let receiver = Receiver::start();
    let endpoint = receiver.http_endpoint();
    let url = amqp_url();
    let example = Example::start(
        "worker",
        &[],
        &[
            ("OTEL_TRACES_EXPORTER", Some("otlp")),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", Some("http/protobuf")),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", Some(&endpoint)),
            ("AMQP_URL", Some(&url)),
        ],
    );
    let pid = example.id();
    let (status, stdout, stderr) = example.wait(Duration::from_secs(60));
    assert!(
        status.success(),
        "the worker example failed ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let queue = format!("traced-example.worker.{pid}");
    assert!(
        stdout.contains(&format!("worker on queue {queue}")),
        "{stdout}"
    );
    for line in [
        "order of a book: processed",
        "order of a lamp: processed",
        "order of a chair: failed (card declined for order 3)",
    ] {
        assert!(stdout.contains(line), "no {line:?} in\n{stdout}");
    }

    // 9 spans per processed order, 8 for the declined one (no confirmation): all exported
    // before the process exited.
    let spans = receiver.wait_for_spans(26, Duration::from_secs(1));
    assert_eq!(
        spans.len(),
        26,
        "{:#?}",
        spans.iter().map(ReceivedSpan::name).collect::<Vec<_>>()
    );
    let mut traces: BTreeMap<Vec<u8>, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in &spans {
        traces
            .entry(span.span.trace_id.clone())
            .or_default()
            .push(span);
    }
    assert_eq!(traces.len(), 3, "one trace per order");

    let mut by_order: BTreeMap<i64, Vec<&ReceivedSpan>> = BTreeMap::new();
    for trace in traces.values() {
        let enqueue = trace
            .iter()
            .find(|span| span.name() == "worker::enqueue_order")
            .expect("enqueue_order in every trace");
        by_order.insert(int_attr(enqueue, "order.id"), trace.clone());
    }
    assert_eq!(by_order.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);

    for (order, trace) in &by_order {
        let protos: Vec<&Span> = trace.iter().map(|span| &span.span).collect();
        let expected = if *order == 3 { DECLINED } else { PROCESSED };
        assert_eq!(tree(&protos), expected, "order {order}");

        let find = |name: &str| {
            *trace
                .iter()
                .find(|span| span.name() == name)
                .unwrap_or_else(|| panic!("no {name} in order {order}"))
        };
        let publish = find("publish traced.example.orders");
        let process = find("process traced.example.orders");
        for span in [publish, process] {
            assert_eq!(str_attr(span, "messaging.system"), "rabbitmq");
            assert_eq!(
                str_attr(span, "messaging.destination.name"),
                "traced.example.orders"
            );
            assert_eq!(
                str_attr(span, "messaging.rabbitmq.destination.routing_key"),
                queue
            );
            assert_eq!(str_attr(span, "messaging.message.id"), order.to_string());
        }
        assert_eq!(str_attr(publish, "messaging.operation.type"), "send");
        assert_eq!(str_attr(process, "messaging.operation.type"), "process");
        // The worker's span continues the publisher's, across the broker.
        assert_eq!(process.span.parent_span_id, publish.span.span_id);
        assert_eq!(
            process.span.flags & 0x200,
            0x200,
            "the CONSUMER span's parent is remote (came in the message's headers)"
        );
        let expected_settlement = if *order == 3 { "nack" } else { "ack" };
        assert_eq!(settlements(process), [expected_settlement]);
        if *order == 3 {
            // The handler's error marks the CONSUMER span, which explains the nack.
            let charge = find("worker::charge_payment");
            assert!(charge
                .span
                .events
                .iter()
                .any(|event| event.name == "exception"));
            assert_eq!(
                process.span.status.as_ref().unwrap().message,
                "card declined for order 3"
            );
            assert_eq!(str_attr(process, "error.type"), "worker::JobError");
        }
        let resource = string(process.resource_attribute("service.name"));
        assert_eq!(resource, Some("worker"));
    }
}

#[test]
fn an_unreachable_rabbitmq_says_how_to_start_one_and_exits_1() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("amqp://guest:s3cret@127.0.0.1:{port}/%2f");
    let example = Example::start(
        "worker",
        &[],
        &[
            ("OTEL_TRACES_EXPORTER", Some("none")),
            ("AMQP_URL", Some(&url)),
        ],
    );
    let (status, stdout, stderr) = example.wait(Duration::from_secs(30));
    assert_eq!(
        status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "RabbitMQ at amqp://127.0.0.1:{port}/%2f is not reachable"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("rabbitmq-server -detached"), "{stderr}");
    assert!(stderr.contains("AMQP_URL"), "{stderr}");
    assert!(
        !stderr.contains("s3cret"),
        "the password is printed: {stderr}"
    );
}
