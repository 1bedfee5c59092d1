//! `parent = expr` continues a remote trace; sampling decisions carry to children.

use std::collections::HashMap;

use traced_runtime::opentelemetry::propagation::TextMapPropagator as _;
use traced_runtime::opentelemetry::trace::{SpanKind, TraceContextExt as _};
use traced_runtime::opentelemetry::Context;
use traced_runtime::opentelemetry_sdk::propagation::TraceContextPropagator;
use traced_runtime::opentelemetry_sdk::trace::Sampler;
use traced_runtime::testing::{capture, capture_with_sampler};
use traced_runtime::traced;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

fn extract(sampled: bool) -> Context {
    let flags = if sampled { "01" } else { "00" };
    let headers = HashMap::from([(
        "traceparent".to_owned(),
        format!("00-{TRACE_ID}-{PARENT_ID}-{flags}"),
    )]);
    TraceContextPropagator::new().extract(&headers)
}

#[traced(kind = server, parent = extract(true))]
fn handle_request() {
    child();
}

#[traced(kind = server, parent = headers_cx)]
fn handle_with(headers_cx: &Context) -> String {
    child();
    current_traceparent()
}

#[traced]
fn child() {}

/// What a client would send downstream from here.
fn current_traceparent() -> String {
    let mut headers = HashMap::new();
    TraceContextPropagator::new().inject_context(&Context::current(), &mut headers);
    headers.remove("traceparent").unwrap_or_default()
}

#[traced]
fn root_with_children() -> String {
    child();
    current_traceparent()
}

#[test]
fn parent_continues_the_remote_trace() {
    let (_, spans) = capture(handle_request);
    let server = spans.find("it::parent::handle_request").unwrap();
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.span_context.trace_id().to_string(), TRACE_ID);
    assert_eq!(server.parent_span_id.to_string(), PARENT_ID);
    assert!(server.parent_span_is_remote);
    let child = spans.find("it::parent::child").unwrap();
    assert_eq!(child.parent_span_id, server.span_context.span_id());
    assert_eq!(child.span_context.trace_id().to_string(), TRACE_ID);
}

#[test]
fn parent_accepts_a_reference() {
    let cx = extract(true);
    let (traceparent, spans) = capture(|| handle_with(&cx));
    let server = spans.find("it::parent::handle_with").unwrap();
    assert_eq!(server.span_context.trace_id().to_string(), TRACE_ID);
    assert_eq!(
        traceparent,
        format!("00-{TRACE_ID}-{}-01", server.span_context.span_id())
    );
}

#[test]
fn an_unsampled_remote_parent_is_respected_by_the_whole_subtree() {
    let cx = extract(false);
    let (traceparent, spans) =
        capture_with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)), || {
            handle_with(&cx)
        });
    assert!(spans.all().is_empty(), "{:?}", spans.names());
    // Downstream still learns the trace id and the decision.
    assert!(
        traceparent.starts_with(&format!("00-{TRACE_ID}-")) && traceparent.ends_with("-00"),
        "{traceparent}"
    );
}

#[test]
fn an_unsampled_root_keeps_its_children_unsampled() {
    let (traceparent, spans) = capture_with_sampler(
        Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.0))),
        root_with_children,
    );
    assert!(spans.all().is_empty(), "{:?}", spans.names());
    assert!(traceparent.ends_with("-00"), "{traceparent}");
    // The context seen inside is a valid, unsampled one: logs and propagation stay coherent.
    let (valid, _) = capture_with_sampler(Sampler::AlwaysOff, || {
        #[traced]
        fn inside() -> bool {
            let cx = Context::current();
            let span = cx.span();
            span.span_context().is_valid() && !span.span_context().is_sampled()
        }
        inside()
    });
    assert!(valid);
}
