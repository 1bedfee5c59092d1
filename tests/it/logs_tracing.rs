//! `tracing` events carry the ids of the current OpenTelemetry span, in the lines that
//! `tracing_subscriber::fmt` really writes: JSON (parsed with serde_json) and the full, compact
//! and pretty text formats (read with a regex), checked against the captured spans.
//!
//! One subscriber for the whole binary (spans cross threads, so a thread-local default would
//! not do), writing every event in each format; each test finds its own lines by a `test`
//! field, so that the tests may run in one process or in one each.

use crate::support::logs as logs_support;

use std::sync::{Arc, OnceLock};

use regex::Regex;
use serde_json::Value;
use traced_runtime::opentelemetry::context::FutureExt as _;
use traced_runtime::opentelemetry_sdk::trace::Sampler;
use traced_runtime::testing::{capture, capture_async, capture_with_sampler};
use traced_runtime::{in_span, traced, with_trace_ids};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use logs_support::{assert_well_formed, hex_ids, journey, journey_ids, span, span_with_id, Buffer};

struct Outputs {
    json: Buffer,
    full: Buffer,
    compact: Buffer,
    pretty: Buffer,
    colored: Buffer,
}

/// Installs the subscriber once: one `fmt` layer per format, each wrapped in `with_trace_ids`.
fn outputs() -> &'static Outputs {
    static OUTPUTS: OnceLock<Outputs> = OnceLock::new();
    OUTPUTS.get_or_init(|| {
        let outputs = Outputs {
            json: Buffer::default(),
            full: Buffer::default(),
            compact: Buffer::default(),
            pretty: Buffer::default(),
            colored: Buffer::default(),
        };
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_thread_ids(true)
                    .with_writer(outputs.json.clone())
                    .map_event_format(with_trace_ids),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(outputs.full.clone())
                    .map_event_format(with_trace_ids),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .compact()
                    .with_ansi(false)
                    .with_writer(outputs.compact.clone())
                    .map_event_format(with_trace_ids),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .pretty()
                    .with_ansi(false)
                    .with_writer(outputs.pretty.clone())
                    .map_event_format(with_trace_ids),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(true)
                    .with_writer(outputs.colored.clone())
                    .map_event_format(with_trace_ids),
            )
            .init();
        outputs
    })
}

/// One JSON line as written.
#[derive(Debug)]
struct JsonLine {
    message: String,
    trace_id: Option<String>,
    span_id: Option<String>,
    thread: String,
}

/// The JSON lines of test `test`, in the order they were written.
fn json_lines(test: &str) -> Vec<JsonLine> {
    outputs()
        .json
        .contents()
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
        })
        .filter(|line| line["fields"]["test"] == test)
        .map(|line| JsonLine {
            message: line["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            trace_id: line.get("trace_id").map(|v| v.as_str().unwrap().to_owned()),
            span_id: line.get("span_id").map(|v| v.as_str().unwrap().to_owned()),
            thread: line["threadId"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// `(trace_id, span_id)` of a text line, if it has them.
fn text_ids(line: &str) -> Option<(String, String)> {
    static IDS: OnceLock<Regex> = OnceLock::new();
    let ids = IDS
        .get_or_init(|| Regex::new(r"\btrace_id=([0-9a-f]{32}) span_id=([0-9a-f]{16})\b").unwrap());
    let found = ids.captures(line)?;
    Some((found[1].to_owned(), found[2].to_owned()))
}

/// The full-format lines of test `test`, with the message each starts its fields with.
fn full_lines(test: &str) -> Vec<String> {
    outputs().full.lines_with(&format!("test=\"{test}\""))
}

fn message_is(line: &str, message: &str) -> bool {
    line.contains(&format!(": {message} test="))
}

#[traced("checkout")]
fn checkout(test: &str) {
    tracing::info!(test, "checking out");
    charge(test, 12);
    tracing::info!(test, "checked out");
}

#[traced("charge")]
fn charge(test: &str, amount: u64) {
    tracing::warn!(test, amount, "charging");
}

#[test]
fn json_lines_carry_the_ids_of_the_current_span() {
    crate::own_process!(json_lines_carry_the_ids_of_the_current_span);
    outputs();
    let test = "json_sync";
    let ((), spans) = capture(|| checkout(test));

    let lines = json_lines(test);
    let messages: Vec<_> = lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages, ["checking out", "charging", "checked out"]);
    let expected = [
        hex_ids(span(&spans, "checkout")),
        hex_ids(span(&spans, "charge")),
        hex_ids(span(&spans, "checkout")),
    ];
    for (line, (trace_id, span_id)) in lines.iter().zip(expected) {
        assert_eq!(
            line.trace_id.as_deref(),
            Some(trace_id.as_str()),
            "{line:?}"
        );
        assert_eq!(line.span_id.as_deref(), Some(span_id.as_str()), "{line:?}");
        assert_well_formed(&trace_id, &span_id);
    }
}

#[test]
fn text_lines_carry_the_ids_after_the_fields() {
    crate::own_process!(text_lines_carry_the_ids_after_the_fields);
    outputs();
    let test = "text_sync";
    let ((), spans) = capture(|| checkout(test));

    let lines = full_lines(test);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let (checkout_ids, charge_ids) = (
        hex_ids(span(&spans, "checkout")),
        hex_ids(span(&spans, "charge")),
    );
    assert!(message_is(&lines[0], "checking out"), "{}", lines[0]);
    assert_eq!(
        text_ids(&lines[0]),
        Some(checkout_ids.clone()),
        "{}",
        lines[0]
    );
    assert!(message_is(&lines[1], "charging"), "{}", lines[1]);
    assert!(
        lines[1].ends_with(&format!(
            "amount=12 trace_id={} span_id={}",
            charge_ids.0, charge_ids.1
        )),
        "{}",
        lines[1]
    );
    assert_eq!(text_ids(&lines[2]), Some(checkout_ids), "{}", lines[2]);
}

#[test]
fn compact_and_pretty_lines_carry_the_ids() {
    crate::own_process!(compact_and_pretty_lines_carry_the_ids);
    outputs();
    let test = "compact_pretty";
    let ((), spans) = capture(|| charge(test, 3));
    let ids = hex_ids(span(&spans, "charge"));

    let compact = outputs().compact.lines_with(&format!("test=\"{test}\""));
    assert_eq!(compact.len(), 1, "{compact:#?}");
    assert_eq!(text_ids(&compact[0]), Some(ids.clone()), "{}", compact[0]);

    // The pretty format writes an event over several lines, ended by a blank one.
    let pretty = outputs().pretty.contents();
    let event = pretty
        .split("\n\n")
        .find(|event| event.contains(&format!("test: \"{test}\"")))
        .unwrap_or_else(|| panic!("no pretty event for {test}:\n{pretty}"));
    assert_eq!(text_ids(event), Some(ids), "{event}");
}

#[test]
fn no_ids_outside_any_span() {
    crate::own_process!(no_ids_outside_any_span);
    outputs();
    let test = "no_span";
    tracing::info!(test, "not in a span");
    // Inside a capture too, as long as no span is open.
    let ((), spans) = capture(|| tracing::info!(test, "captured but not in a span"));
    assert!(spans.all().is_empty());

    let lines = json_lines(test);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in &lines {
        assert_eq!((&line.trace_id, &line.span_id), (&None, &None), "{line:?}");
    }
    let raw = outputs().json.lines_with("\"test\":\"no_span\"");
    assert!(
        raw.iter().all(|line| !line.contains("trace_id")),
        "{raw:#?}"
    );

    let text = full_lines(test);
    assert_eq!(text.len(), 2, "{text:#?}");
    for line in &text {
        assert!(
            !line.contains("trace_id") && !line.contains("span_id"),
            "{line}"
        );
        assert!(line.ends_with(&format!("test=\"{test}\"")), "{line}");
    }
}

#[test]
fn no_ids_in_an_unsampled_span() {
    crate::own_process!(no_ids_in_an_unsampled_span);
    outputs();
    let test = "unsampled";
    let ((), spans) = capture_with_sampler(Sampler::AlwaysOff, || checkout(test));
    assert!(spans.all().is_empty());

    let lines = json_lines(test);
    assert_eq!(lines.len(), 3, "{lines:?}");
    for line in &lines {
        assert_eq!((&line.trace_id, &line.span_id), (&None, &None), "{line:?}");
    }
    let text = full_lines(test);
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(
        text.iter().all(|line| text_ids(line).is_none()),
        "{text:#?}"
    );
}

#[test]
fn manual_spans_count_too() {
    crate::own_process!(manual_spans_count_too);
    outputs();
    let test = "in_span";
    let ((), spans) = capture(|| {
        in_span("manual", || tracing::info!(test, "in a manual span"));
    });
    let lines = json_lines(test);
    assert_eq!(lines.len(), 1);
    let (trace_id, span_id) = hex_ids(span(&spans, "manual"));
    assert_eq!(lines[0].trace_id.as_deref(), Some(trace_id.as_str()));
    assert_eq!(lines[0].span_id.as_deref(), Some(span_id.as_str()));
}

/// The shared journey, logging each step through `tracing` with the test's name.
fn handle_request(test: &'static str) -> impl std::future::Future<Output = ()> {
    journey(Arc::new(move |step| tracing::info!(test, "{step}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_follow_the_span_across_awaits_and_threads() {
    crate::own_process!(ids_follow_the_span_across_awaits_and_threads);
    outputs();
    let test = "async_threads";
    let ((), spans) = capture_async(handle_request(test)).await;

    let lines = json_lines(test);
    let expected = journey_ids(&spans);
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for (line, (message, (trace_id, span_id))) in lines.iter().zip(&expected) {
        assert_eq!(line.message, *message);
        assert_eq!(line.trace_id.as_ref(), Some(trace_id), "{line:?}");
        assert_eq!(line.span_id.as_ref(), Some(span_id), "{line:?}");
        // Every id in a line is that of a span that was exported.
        span_with_id(&spans, span_id);
    }
    let mut threads: Vec<_> = lines.iter().map(|line| line.thread.as_str()).collect();
    threads.sort_unstable();
    threads.dedup();
    assert!(threads.len() >= 3, "lines from threads {threads:?}");

    // The text lines agree with the JSON ones.
    let text = full_lines(test);
    assert_eq!(text.len(), expected.len(), "{text:#?}");
    for (line, (message, ids)) in text.iter().zip(&expected) {
        assert!(message_is(line, message), "{line}");
        assert_eq!(text_ids(line).as_ref(), Some(ids), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_keep_their_own_ids() {
    crate::own_process!(concurrent_requests_keep_their_own_ids);
    outputs();
    let ((), spans) = capture_async(async {
        let tasks: Vec<_> = ["concurrent_0", "concurrent_1", "concurrent_2"]
            .into_iter()
            .map(|test| tokio::spawn(handle_request(test).with_current_context()))
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    })
    .await;

    let mut traces = Vec::new();
    for test in ["concurrent_0", "concurrent_1", "concurrent_2"] {
        let lines = json_lines(test);
        assert_eq!(lines.len(), 8, "{lines:#?}");
        let trace_id = lines[0].trace_id.clone().unwrap();
        for line in &lines {
            assert_eq!(line.trace_id.as_ref(), Some(&trace_id), "{line:?}");
            let span = span_with_id(&spans, line.span_id.as_deref().unwrap());
            assert_eq!(span.span_context.trace_id().to_string(), trace_id);
        }
        traces.push(trace_id);
    }
    traces.sort_unstable();
    traces.dedup();
    assert_eq!(traces.len(), 3, "each request is its own trace");
}

#[test]
fn colors_are_kept_on_lines_with_ids() {
    crate::own_process!(colors_are_kept_on_lines_with_ids);
    outputs();
    let test = "colored";
    let ((), spans) = capture(|| charge(test, 5));
    tracing::info!(test, "outside");

    let lines = outputs().colored.lines_with(test);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let ids = hex_ids(span(&spans, "charge"));
    assert!(
        lines[0].contains("\x1b["),
        "no ANSI escapes: {:?}",
        lines[0]
    );
    assert_eq!(text_ids(&lines[0]), Some(ids), "{:?}", lines[0]);
    assert!(
        lines[1].contains("\x1b["),
        "no ANSI escapes: {:?}",
        lines[1]
    );
    assert_eq!(text_ids(&lines[1]), None, "{:?}", lines[1]);
}
