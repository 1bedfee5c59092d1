//! examples/logs.rs: its JSON lines carry the ids of the spans of its trace.

use crate::support::logs as logs_support;

#[allow(dead_code)]
#[path = "../../examples/logs.rs"]
mod example;

use serde_json::Value;
use traced_runtime::testing::capture_async;
use traced_runtime::with_trace_ids;

use logs_support::{hex_ids, span, Buffer};

#[tokio::test]
async fn json_lines_match_the_trace() {
    let buffer = Buffer::default();
    // The subscriber of the example's `main`, writing to a buffer.
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(buffer.clone())
        .map_event_format(with_trace_ids)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let (result, spans) = capture_async(example::checkout(13)).await;
    assert!(result.is_err(), "order 13 is declined");

    let lines: Vec<Value> = buffer
        .contents()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let ids = |line: &Value| {
        (
            line["trace_id"].as_str().unwrap().to_owned(),
            line["span_id"].as_str().unwrap().to_owned(),
        )
    };
    let messages: Vec<_> = lines
        .iter()
        .map(|line| line["fields"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["checking out", "reserved", "card declined"]);
    let expected = [
        "it::logs_example::example::checkout",
        "it::logs_example::example::reserve",
        "it::logs_example::example::charge",
    ];
    for (line, name) in lines.iter().zip(expected) {
        assert_eq!(ids(line), hex_ids(span(&spans, name)), "{line}");
    }
}
