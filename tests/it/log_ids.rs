//! `log_ids()`, for any logger: the ids of the current span when it is recording, checked
//! against the captured spans; `None` outside any span, in an unsampled one, and under a remote
//! parent alone.

use crate::support::logs as logs_support;

use std::sync::{Arc, Mutex};

use regex::Regex;
use traced_runtime::opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use traced_runtime::opentelemetry_sdk::trace::Sampler;
use traced_runtime::testing::{capture, capture_async, capture_with_sampler};
use traced_runtime::{in_span, log_ids, traced, Context, LogIds};

use logs_support::{assert_well_formed, hex_ids, journey, journey_ids, span};

#[traced("work")]
fn work() -> Option<LogIds> {
    log_ids()
}

#[test]
fn ids_of_the_traced_function() {
    let (ids, spans) = capture(work);
    let ids = ids.expect("a recording span is current");
    let (trace_id, span_id) = hex_ids(span(&spans, "work"));
    assert_eq!(ids.trace_id().to_string(), trace_id);
    assert_eq!(ids.span_id().to_string(), span_id);
    assert_well_formed(&trace_id, &span_id);
}

#[test]
fn display_and_serde_write_lowercase_hex() {
    let (ids, spans) = capture(work);
    let ids = ids.unwrap();
    let (trace_id, span_id) = hex_ids(span(&spans, "work"));

    let shown = ids.to_string();
    let re = Regex::new(r"^trace_id=([0-9a-f]{32}) span_id=([0-9a-f]{16})$").unwrap();
    let found = re.captures(&shown).unwrap_or_else(|| panic!("{shown}"));
    assert_eq!(
        (&found[1], &found[2]),
        (trace_id.as_str(), span_id.as_str())
    );

    let json = serde_json::to_value(ids).unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "trace_id": trace_id, "span_id": span_id })
    );
}

#[test]
fn none_outside_any_span() {
    assert_eq!(log_ids(), None);
    let (ids, _) = capture(log_ids);
    assert_eq!(ids, None);
}

#[test]
fn none_in_an_unsampled_span() {
    let (ids, spans) = capture_with_sampler(Sampler::AlwaysOff, work);
    assert!(spans.all().is_empty());
    assert_eq!(ids, None);
}

#[test]
fn none_under_a_remote_parent_alone_then_the_child_span() {
    let remote = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let cx = Context::new().with_remote_span_context(remote.clone());
    // Nothing of ours records under a bare remote parent: no ids, as the guide's is_recording.
    assert_eq!(LogIds::of(&cx), None);

    let (ids, spans) = capture(|| {
        // On top of the capture's context, which routes spans to its exporter.
        let _cx = Context::current().with_remote_span_context(remote).attach();
        assert_eq!(log_ids(), None);
        work()
    });
    let ids = ids.unwrap();
    assert_eq!(
        ids.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(ids.span_id().to_string(), hex_ids(span(&spans, "work")).1);
}

#[test]
fn manual_spans_and_their_parent() {
    let ((outer, inner, after), spans) = capture(|| {
        in_span("outer", || {
            let outer = log_ids();
            let inner = in_span("inner", log_ids);
            (outer, inner, log_ids())
        })
    });
    let outer_ids = hex_ids(span(&spans, "outer"));
    let inner_ids = hex_ids(span(&spans, "inner"));
    let ids = |ids: Option<LogIds>| {
        let ids = ids.unwrap();
        (ids.trace_id().to_string(), ids.span_id().to_string())
    };
    assert_eq!(ids(outer), outer_ids);
    assert_eq!(ids(inner), inner_ids);
    assert_eq!(
        ids(after),
        outer_ids,
        "back to the parent once the child ends"
    );
    assert_eq!(outer_ids.0, inner_ids.0, "one trace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_follow_the_span_across_awaits_and_threads() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let probe = Arc::clone(&seen);
    let ((), spans) = capture_async(journey(Arc::new(move |step| {
        probe.lock().unwrap().push((step, log_ids()));
    })))
    .await;
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let expected = journey_ids(&spans);
    assert_eq!(seen.len(), expected.len());
    for ((at, ids), (expected_at, (trace_id, span_id))) in seen.into_iter().zip(&expected) {
        assert_eq!(at, *expected_at);
        let ids = ids.unwrap_or_else(|| panic!("no ids at {at}"));
        assert_eq!(&ids.trace_id().to_string(), trace_id, "at {at}");
        assert_eq!(&ids.span_id().to_string(), span_id, "at {at}");
    }
    assert_eq!(log_ids(), None, "nothing left current after the request");
}
