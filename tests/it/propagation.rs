//! `propagation::{inject, extract}` over every carrier, through the global propagator, and
//! property tests: hostile `traceparent`, `tracestate` and `baggage` values never panic, and a
//! malformed `traceparent` gives a new root with the `tracestate` dropped, as W3C says.

use std::collections::HashMap;

use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use traced_runtime::opentelemetry::baggage::BaggageExt as _;
use traced_runtime::opentelemetry::global;
use traced_runtime::opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use traced_runtime::opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use traced_runtime::opentelemetry::{Context, KeyValue};
use traced_runtime::opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use traced_runtime::propagation::{self, extract, extract_with_context, inject, inject_context};
use traced_runtime::testing::capture;
use traced_runtime::{traced, B3Propagator};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn w3c() {
    global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]));
}

/// A context with a sampled remote span, its trace state, and `user.id` baggage.
fn remote_cx() -> Context {
    let span_context = SpanContext::new(
        TraceId::from_hex(TRACE_ID).unwrap(),
        SpanId::from_hex(SPAN_ID).unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("vendor", "value")]).unwrap(),
    );
    Context::new()
        .with_remote_span_context(span_context)
        .with_baggage([KeyValue::new("user.id", "42")])
}

fn assert_remote(cx: &Context) {
    let span = cx.span();
    let span_context = span.span_context();
    assert!(span_context.is_valid());
    assert!(span_context.is_remote());
    assert!(span_context.is_sampled());
    assert_eq!(span_context.trace_id().to_string(), TRACE_ID);
    assert_eq!(span_context.span_id().to_string(), SPAN_ID);
    assert_eq!(span_context.trace_state().header(), "vendor=value");
    assert_eq!(
        cx.baggage().get("user.id").map(ToString::to_string),
        Some("42".to_owned())
    );
}

#[test]
fn a_header_map_round_trips_the_span_and_the_baggage() {
    w3c();
    let mut headers = HeaderMap::new();
    inject_context(&remote_cx(), &mut headers);
    assert_eq!(headers["traceparent"], TRACEPARENT);
    assert_eq!(headers["tracestate"], "vendor=value");
    assert_eq!(headers["baggage"], "user.id=42");
    assert_remote(&extract_with_context(&Context::new(), &headers));
}

#[test]
fn a_hash_map_a_request_and_any_injector_or_extractor_are_carriers() {
    w3c();
    let mut map = HashMap::new();
    inject_context(&remote_cx(), &mut map);
    assert_eq!(map["traceparent"], TRACEPARENT);
    assert_remote(&extract_with_context(&Context::new(), &map));

    let mut request = http::Request::new(());
    inject_context(&remote_cx(), &mut request);
    assert_remote(&extract_with_context(&Context::new(), &request));
    let (parts, ()) = request.into_parts();
    assert_remote(&extract_with_context(&Context::new(), &parts));

    /// A carrier of another library: message metadata as a list of pairs.
    #[derive(Default)]
    struct Metadata(Vec<(String, String)>);
    impl Injector for Metadata {
        fn set(&mut self, key: &str, value: String) {
            self.0.push((key.to_owned(), value));
        }
    }
    impl Extractor for Metadata {
        fn get(&self, key: &str) -> Option<&str> {
            self.0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.iter().map(|(k, _)| k.as_str()).collect()
        }
    }
    let mut metadata = Metadata::default();
    inject_context(&remote_cx(), &mut metadata as &mut dyn Injector);
    assert_eq!(metadata.0.len(), 3);
    assert_remote(&extract_with_context(
        &Context::new(),
        &metadata as &dyn Extractor,
    ));
}

#[test]
fn inject_writes_the_current_context_and_extract_builds_on_it() {
    w3c();
    let _cx = remote_cx().attach();
    let mut headers = HeaderMap::new();
    inject(&mut headers);
    assert_eq!(headers["traceparent"], TRACEPARENT);
    // Nothing in the carrier: the current context comes back unchanged.
    assert_remote(&extract(&HeaderMap::new()));
}

#[test]
fn nothing_is_injected_without_a_span_and_nothing_extracted_from_nothing() {
    w3c();
    let mut headers = HeaderMap::new();
    inject_context(&Context::new(), &mut headers);
    assert!(headers.is_empty());
    let cx = extract_with_context(&Context::new(), &HeaderMap::new());
    assert!(!cx.span().span_context().is_valid());
    assert_eq!(cx.baggage().len(), 0);
}

#[traced(parent = propagation::extract(headers), kind = server)]
fn handle(headers: &HeaderMap) {
    child();
}

#[traced]
fn child() {}

#[test]
fn a_traced_function_continues_the_remote_trace_from_headers() {
    w3c();
    let mut headers = HeaderMap::new();
    headers.insert("traceparent", HeaderValue::from_static(TRACEPARENT));
    let (_, spans) = capture(|| handle(&headers));
    let server = spans.find("it::propagation::handle").unwrap();
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.span_context.trace_id().to_string(), TRACE_ID);
    assert_eq!(server.parent_span_id.to_string(), SPAN_ID);
    assert!(server.parent_span_is_remote);
    let child = spans.find("it::propagation::child").unwrap();
    assert_eq!(child.parent_span_id, server.span_context.span_id());
}

#[test]
fn several_tracestate_and_baggage_headers_are_one_list_and_several_traceparents_none() {
    w3c();
    let mut headers = HeaderMap::new();
    headers.append("traceparent", HeaderValue::from_static(TRACEPARENT));
    headers.append("tracestate", HeaderValue::from_static("a=1"));
    headers.append("tracestate", HeaderValue::from_static("b=2"));
    headers.append("baggage", HeaderValue::from_static("user.id=42"));
    headers.append("baggage", HeaderValue::from_static("tenant=acme"));
    let cx = extract_with_context(&Context::new(), &headers);
    assert_eq!(cx.span().span_context().trace_state().header(), "a=1,b=2");
    assert_eq!(cx.baggage().len(), 2);

    headers.append(
        "traceparent",
        HeaderValue::from_static("00-11111111111111111111111111111111-2222222222222222-01"),
    );
    let cx = extract_with_context(&Context::new(), &headers);
    assert!(!cx.span().span_context().is_valid());
    assert_eq!(cx.baggage().len(), 2, "baggage is independent of the trace");
}

#[test]
fn an_oversized_baggage_is_dropped_whole() {
    w3c();
    let mut headers = HeaderMap::new();
    let big = format!("user.id=42,padding={}", "x".repeat(9000));
    headers.insert("baggage", HeaderValue::from_str(&big).unwrap());
    let cx = extract_with_context(&Context::new(), &headers);
    assert_eq!(cx.baggage().len(), 0);
}

#[test]
fn b3_headers_pass_through_to_a_b3_propagator() {
    crate::own_process!(b3_headers_pass_through_to_a_b3_propagator);
    global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(B3Propagator::multiple()),
    ]));
    let mut headers = HeaderMap::new();
    inject_context(&remote_cx(), &mut headers);
    assert_eq!(headers["x-b3-traceid"], TRACE_ID);
    assert_eq!(headers["x-b3-spanid"], SPAN_ID);

    let mut b3_only = HeaderMap::new();
    b3_only.insert("X-B3-TraceId", HeaderValue::from_static(TRACE_ID));
    b3_only.insert("X-B3-SpanId", HeaderValue::from_static(SPAN_ID));
    b3_only.insert("X-B3-Sampled", HeaderValue::from_static("1"));
    let cx = extract_with_context(&Context::new(), &b3_only);
    let span = cx.span();
    assert_eq!(span.span_context().trace_id().to_string(), TRACE_ID);
    assert_eq!(span.span_context().span_id().to_string(), SPAN_ID);
    assert!(span.span_context().is_sampled());
}

// Property tests.

/// W3C Trace Context's rules for `traceparent`, written independently of the library: four
/// dash-separated lowercase-hex fields of 2, 32, 16 and 2 digits, version not `ff`, ids not all
/// zero; version 00 has nothing after the flags, a later version anything after a dash.
fn w3c_valid(value: &str) -> bool {
    let value = value.trim_matches([' ', '\t']);
    let parts: Vec<&str> = value.splitn(5, '-').collect();
    let hex = |part: &str, len: usize| {
        part.len() == len && part.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    };
    parts.len() >= 4
        && hex(parts[0], 2)
        && parts[0] != "ff"
        && hex(parts[1], 32)
        && parts[1].chars().any(|c| c != '0')
        && hex(parts[2], 16)
        && parts[2].chars().any(|c| c != '0')
        && hex(parts[3], 2)
        && (parts.len() == 4 || parts[0] != "00")
}

/// Strings near a valid `traceparent`: one edit away, other versions, other lengths.
fn near_traceparent() -> impl Strategy<Value = String> {
    let edit = (0..60usize, any::<char>(), 0..3u8).prop_map(|(at, c, how)| {
        let mut chars: Vec<char> = TRACEPARENT.chars().collect();
        let at = at.min(chars.len());
        match how {
            0 if at < chars.len() => chars[at] = c,
            1 => chars.insert(at, c),
            _ if at < chars.len() => {
                chars.remove(at);
            }
            _ => chars.push(c),
        }
        chars.into_iter().collect()
    });
    prop_oneof![
        edit,
        "[0-9a-f]{2}-[0-9a-fA-F]{30,34}-[0-9a-f]{15,17}-[0-9a-f]{1,3}(-[ -~]{0,8})?",
        "[0-9a-f]{2}-0{32}-[0-9a-f]{16}-01",
        any::<String>(),
        "[ -~]{0,80}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_traceparent_is_a_parent_exactly_when_w3c_says_it_is_valid(traceparent in near_traceparent()) {
        w3c();
        let carrier = HashMap::from([
            ("traceparent".to_owned(), traceparent.clone()),
            ("tracestate".to_owned(), "vendor=value".to_owned()),
            ("baggage".to_owned(), "user.id=42".to_owned()),
        ]);
        let cx = extract_with_context(&Context::new(), &carrier);
        let span = cx.span();
        let span_context = span.span_context();
        if w3c_valid(&traceparent) {
            let trimmed = traceparent.trim_matches([' ', '\t']);
            prop_assert!(span_context.is_valid());
            prop_assert_eq!(span_context.trace_id().to_string(), &trimmed[3..35]);
            prop_assert_eq!(span_context.span_id().to_string(), &trimmed[36..52]);
            prop_assert_eq!(span_context.trace_state().header(), "vendor=value");
        } else {
            // A new root: no remote parent, and the tracestate goes with the traceparent.
            prop_assert!(!span_context.is_valid());
            prop_assert_eq!(span_context.trace_state().header(), "");
        }
        // Baggage is a separate specification: it arrives either way.
        prop_assert_eq!(cx.baggage().len(), 1);
    }

    #[test]
    fn hostile_header_bytes_never_panic(
        traceparent in proptest::collection::vec(any::<u8>(), 0..80),
        tracestate in proptest::collection::vec(any::<u8>(), 0..300),
        baggage in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        w3c();
        let mut headers = HeaderMap::new();
        for (name, value) in [("traceparent", &traceparent), ("tracestate", &tracestate), ("baggage", &baggage)] {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                headers.append(name, value);
            }
        }
        let cx = extract_with_context(&Context::new(), &headers);
        let valid = headers
            .get("traceparent")
            .and_then(|value| value.to_str().ok())
            .is_some_and(w3c_valid);
        prop_assert_eq!(cx.span().span_context().is_valid(), valid);
        prop_assert!(cx.baggage().len() <= 64);
    }

    #[test]
    fn injecting_any_baggage_never_panics(
        entries in proptest::collection::vec((any::<String>(), any::<String>()), 0..10),
    ) {
        w3c();
        let cx = remote_cx().with_baggage(
            entries.into_iter().map(|(key, value)| KeyValue::new(key, value)),
        );
        let mut headers = HeaderMap::new();
        inject_context(&cx, &mut headers);
        prop_assert_eq!(&headers["traceparent"], TRACEPARENT);
        // What was injected extracts again.
        let back = extract_with_context(&Context::new(), &headers);
        prop_assert!(back.span().span_context().is_valid());
    }
}

proptest! {
    // Long generated lists are slow to generate in debug builds: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_hostile_tracestate_never_breaks_a_valid_traceparent(
        members in proptest::collection::vec(
            prop_oneof![
                "[ -~]{0,20}",
                "[a-z0-9_*/@-]{1,12}=[!-+--<>-~]{0,12}",
                "[a-z]{257}=v",
                "k=[!-+--<>-~]{257}",
            ],
            0..48,
        ),
    ) {
        w3c();
        let tracestate = members.join(",");
        let carrier = HashMap::from([
            ("traceparent".to_owned(), TRACEPARENT.to_owned()),
            ("tracestate".to_owned(), tracestate),
        ]);
        let cx = extract_with_context(&Context::new(), &carrier);
        let span = cx.span();
        let span_context = span.span_context();
        prop_assert!(span_context.is_valid());
        prop_assert_eq!(span_context.trace_id().to_string(), TRACE_ID);
        // Kept whole when valid, else dropped; never more than 32 members.
        let header = span_context.trace_state().header();
        prop_assert!(header.is_empty() || header.split(',').count() <= 32);
        for member in header.split(',').filter(|member| !member.is_empty()) {
            let (key, value) = member.split_once('=').unwrap();
            prop_assert!(!key.is_empty() && key.len() <= 256 && value.len() <= 256);
        }
    }

    #[test]
    fn a_hostile_baggage_never_panics_and_stays_within_the_w3c_limits(
        members in proptest::collection::vec(
            prop_oneof!["[ -~]{0,16}", "[a-z.]{1,8}=[ -~]{0,8}(;[ -~]{0,8})?", "x=[a-z]{400,600}"],
            0..80,
        ),
    ) {
        w3c();
        let baggage = members.join(",");
        let carrier = HashMap::from([("baggage".to_owned(), baggage.clone())]);
        let cx = extract_with_context(&Context::new(), &carrier);
        prop_assert!(cx.baggage().len() <= 64);
        if baggage.len() > 8192 {
            prop_assert_eq!(cx.baggage().len(), 0);
        }
        prop_assert!(!cx.span().span_context().is_valid());
    }
}

#[test]
fn the_sdk_alone_accepts_what_w3c_refuses() {
    // Why `propagation::extract` checks `traceparent` itself: the SDK's parser reads short
    // ids and trailing data as valid.
    let carrier = HashMap::from([("traceparent".to_owned(), "00-ab-cd-01".to_owned())]);
    let sdk = TraceContextPropagator::new().extract(&carrier);
    assert!(sdk.span().span_context().is_valid());
    w3c();
    let ours = extract_with_context(&Context::new(), &carrier);
    assert!(!ours.span().span_context().is_valid());
}
