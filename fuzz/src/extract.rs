//! The body of the `extract` fuzz target, shared with the test suite
//! (`tests/it/propagation.rs` runs it on its seeds and on random bytes, so it compiles in CI):
//! the bytes are split into `traceparent`, `tracestate`, `baggage` and B3 header values, read
//! through traced's W3C and B3 propagators, and what is extracted is injected again. Nothing
//! may panic, and what comes out must satisfy the limits whatever went in.

use std::sync::Once;

use http::{HeaderMap, HeaderName, HeaderValue};
use traced_runtime::opentelemetry::baggage::BaggageExt as _;
use traced_runtime::opentelemetry::global;
use traced_runtime::opentelemetry::propagation::TextMapCompositePropagator;
use traced_runtime::opentelemetry::trace::TraceContextExt as _;
use traced_runtime::opentelemetry::Context;
use traced_runtime::propagation::{self, BaggagePropagator, TraceContextPropagator};
use traced_runtime::B3Propagator;

const NAMES: [&str; 5] = ["traceparent", "tracestate", "baggage", "b3", "x-b3-traceid"];

/// Installs the propagators (once), extracts from the headers `data` encodes, injects again,
/// and checks the limits. Each `0xff` byte starts a header; the byte after it picks its name.
pub fn check(data: &[u8]) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator),
            Box::new(BaggagePropagator),
            Box::new(B3Propagator::single()),
        ]));
    });
    let mut headers = HeaderMap::new();
    for chunk in data.split(|&byte| byte == 0xff) {
        let Some((&pick, value)) = chunk.split_first() else {
            continue;
        };
        let name = HeaderName::from_static(NAMES[usize::from(pick) % NAMES.len()]);
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(name, value);
        }
    }
    let cx = propagation::extract_with_context(&Context::new(), &headers);
    assert!(cx.baggage().len() <= 64);
    let state = cx.span().span_context().trace_state().header();
    assert!(state.split(',').count() <= 32);

    let mut out = HeaderMap::new();
    propagation::inject_context(&cx, &mut out);
    if let Some(baggage) = out.get("baggage") {
        assert!(baggage.len() <= propagation::BAGGAGE_MAX_BYTES);
    }
    assert_eq!(
        out.contains_key("traceparent"),
        cx.span().span_context().is_valid()
    );
    if let Some(state) = out.get("tracestate") {
        assert!(!state.is_empty(), "no empty tracestate header");
    }
}
