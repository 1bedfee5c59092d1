//! `propagation::{inject, extract}` over every carrier, through the global propagator (traced's
//! W3C propagators, as the setup installs them), and property tests: hostile `traceparent`,
//! `tracestate` and `baggage` values never panic; a `traceparent`, a `tracestate` and each
//! baggage member are kept exactly when models of the W3C rules, written here independently of
//! the library, say they are valid.

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
use traced_runtime::opentelemetry_sdk::propagation::TraceContextPropagator as SdkTraceContext;
use traced_runtime::propagation::{
    self, extract, extract_with_context, inject, inject_context, BaggagePropagator,
    TraceContextPropagator,
};
use traced_runtime::testing::capture;
use traced_runtime::{traced, B3Propagator};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn w3c() {
    global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator),
        Box::new(BaggagePropagator),
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
fn an_oversized_baggage_keeps_the_members_within_the_limit() {
    w3c();
    let mut headers = HeaderMap::new();
    let big = format!("user.id=42,padding={},after=1", "x".repeat(9000));
    headers.insert("baggage", HeaderValue::from_str(&big).unwrap());
    let cx = extract_with_context(&Context::new(), &headers);
    assert_eq!(cx.baggage().len(), 1);
    assert_eq!(
        cx.baggage().get("user.id").map(ToString::to_string),
        Some("42".to_owned())
    );
}

#[test]
fn b3_headers_pass_through_to_a_b3_propagator() {
    crate::own_process!(b3_headers_pass_through_to_a_b3_propagator);
    global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator),
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
        prop_assert!(!cx.span().span_context().is_valid());
        // Exactly the valid members that end within the first 8192 bytes, the first 64 of them
        // (the last value of a repeated key).
        let mut expected = HashMap::new();
        let mut count = 0;
        let mut end = 0;
        for member in baggage.split(',') {
            end += member.len();
            if end > 8192 || count == 64 {
                break;
            }
            end += 1;
            if let Some((key, value, _)) = baggage_model(member) {
                expected.insert(key, value);
                count += 1;
            }
        }
        let got: HashMap<String, String> = cx
            .baggage()
            .iter()
            .map(|(key, (value, _))| (key.to_string(), value.to_string()))
            .collect();
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn the_sdk_alone_accepts_what_w3c_refuses() {
    // Why `propagation::extract` checks `traceparent` itself: the SDK's parser reads short
    // ids and trailing data as valid.
    let carrier = HashMap::from([("traceparent".to_owned(), "00-ab-cd-01".to_owned())]);
    let sdk = SdkTraceContext::new().extract(&carrier);
    assert!(sdk.span().span_context().is_valid());
    w3c();
    let ours = extract_with_context(&Context::new(), &carrier);
    assert!(!ours.span().span_context().is_valid());
}

// Models of the W3C rules, written from the specification texts independently of the library.

/// W3C Trace Context Level 2, `tracestate`: the list-members without optional whitespace and
/// empty members, or `None` when the list is invalid (and dropped whole).
fn tracestate_model(value: &str) -> Option<Vec<(String, String)>> {
    let lc_tail = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-*/".contains(c))
    };
    let key_ok = |key: &str| match key.split('@').collect::<Vec<_>>()[..] {
        [simple] => {
            (1..=256).contains(&simple.len())
                && simple.starts_with(|c: char| c.is_ascii_lowercase())
                && lc_tail(simple)
        }
        [tenant, system] => {
            (1..=241).contains(&tenant.len())
                && tenant.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && lc_tail(tenant)
                && (1..=14).contains(&system.len())
                && system.starts_with(|c: char| c.is_ascii_lowercase())
                && lc_tail(system)
        }
        _ => false,
    };
    let value_ok = |value: &str| {
        (1..=256).contains(&value.len())
            && value
                .chars()
                .all(|c| (' '..='~').contains(&c) && c != ',' && c != '=')
            && !value.ends_with(' ')
    };
    let mut members: Vec<(String, String)> = Vec::new();
    for member in value.split(',') {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        let (key, value) = member.split_once('=')?;
        if !key_ok(key) || !value_ok(value) || members.iter().any(|(k, _)| k == key) {
            return None;
        }
        members.push((key.to_owned(), value.to_owned()));
    }
    (members.len() <= 32).then_some(members)
}

/// W3C Baggage, one list-member: its key, its percent-decoded value and its properties, or
/// `None` when it is invalid (and dropped alone).
fn baggage_model(member: &str) -> Option<(String, String, Vec<String>)> {
    let ows = |s: &str| s.trim_matches([' ', '\t']).to_owned();
    let token = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
    };
    let octets = |s: &str| {
        s.bytes().all(|b| {
            b == 0x21
                || (0x23..=0x2b).contains(&b)
                || (0x2d..=0x3a).contains(&b)
                || (0x3c..=0x5b).contains(&b)
                || (0x5d..=0x7e).contains(&b)
        })
    };
    let mut parts = member.split(';');
    let (key, value) = parts.next()?.split_once('=')?;
    let (key, value) = (ows(key), ows(value));
    if !token(&key) || !octets(&value) {
        return None;
    }
    let mut decoded = Vec::new();
    let mut rest = value.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            decoded.push(
                u8::from_str_radix(hex, 16)
                    .ok()
                    .filter(|_| hex.chars().all(|c| c.is_ascii_hexdigit()))?,
            );
            rest = &tail[2..];
        } else {
            decoded.push(first);
            rest = tail;
        }
    }
    let mut properties = Vec::new();
    for property in parts {
        let property = ows(property);
        match property.split_once('=') {
            Some((k, v)) if token(&ows(k)) && octets(&ows(v)) => {
                properties.push(format!("{}={}", ows(k), ows(v)));
            }
            None if token(&property) => properties.push(property),
            _ => return None,
        }
    }
    Some((
        key,
        String::from_utf8_lossy(&decoded).into_owned(),
        properties,
    ))
}

#[test]
fn the_models_agree_with_the_specification_examples() {
    assert_eq!(
        tracestate_model("rojo=00f067aa0ba902b7, ,congo=t61rcWkgMzE"),
        Some(vec![
            ("rojo".into(), "00f067aa0ba902b7".into()),
            ("congo".into(), "t61rcWkgMzE".into())
        ])
    );
    assert_eq!(tracestate_model("foo="), None);
    assert_eq!(
        baggage_model(" key3=value3; propertyKey=propertyValue"),
        Some((
            "key3".into(),
            "value3".into(),
            vec!["propertyKey=propertyValue".into()]
        ))
    );
    assert_eq!(
        baggage_model("serverNode=DF%2028"),
        Some(("serverNode".into(), "DF 28".into(), vec![]))
    );
    assert_eq!(baggage_model("novalue"), None);
}

/// A tracestate list-member near the rules: valid, one rule off, or anything.
fn tracestate_member() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_*/-]{0,10}=[!-+--<>-~]{1,10}",
        "[a-z0-9][a-z0-9_*/-]{0,6}@[a-z][a-z0-9_*/-]{0,12}=[!-+--<>-~]{1,6}",
        "[ \t]{0,2}[a-z]{1,4}=[ -+--<>-~]{0,6}[ \t]{0,2}",
        "[A-Z0-9@.]{1,4}=v",
        "[a-z]{1,3}",
        "",
        "[ -~]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_tracestate_is_kept_exactly_when_the_w3c_rules_say_it_is_valid(
        headers in proptest::collection::vec(
            proptest::collection::vec(tracestate_member(), 0..12).prop_map(|m| m.join(",")),
            1..4,
        ),
    ) {
        w3c();
        let mut carrier = HeaderMap::new();
        carrier.insert("traceparent", HeaderValue::from_static(TRACEPARENT));
        for header in &headers {
            if let Ok(value) = HeaderValue::from_str(header) {
                carrier.append("tracestate", value);
            }
        }
        let joined: Vec<&str> = carrier
            .get_all("tracestate")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        let cx = extract_with_context(&Context::new(), &carrier);
        let span = cx.span();
        let state = span.span_context().trace_state();
        match tracestate_model(&joined.join(",")) {
            Some(members) => {
                let expected: Vec<String> =
                    members.iter().map(|(k, v)| format!("{k}={v}")).collect();
                prop_assert_eq!(state.header(), expected.join(","));
            }
            None => prop_assert_eq!(state.header(), ""),
        }
        // On the way out: the same list, and no header at all for an empty one.
        let mut out = HashMap::new();
        inject_context(&cx, &mut out);
        prop_assert_eq!(out.get("tracestate").cloned(), Some(state.header()).filter(|h| !h.is_empty()));
    }

    #[test]
    fn every_trace_flag_bit_goes_on(flags in any::<u8>()) {
        w3c();
        let traceparent = format!("00-{TRACE_ID}-{SPAN_ID}-{flags:02x}");
        let carrier = HashMap::from([("traceparent".to_owned(), traceparent.clone())]);
        let cx = extract_with_context(&Context::new(), &carrier);
        prop_assert_eq!(cx.span().span_context().trace_flags().to_u8(), flags);
        let mut out = HashMap::new();
        inject_context(&cx, &mut out);
        prop_assert_eq!(&out["traceparent"], &traceparent);
        prop_assert!(!out.contains_key("tracestate"));
    }

    #[test]
    fn any_baggage_value_round_trips_through_percent_encoding(
        entries in proptest::collection::hash_map("[A-Za-z0-9!#$&'*+.^_`|~-]{1,8}", any::<String>(), 0..10),
        properties in "(;[a-z]{1,4}(=[a-z0-9%]{0,4})?){0,2}",
    ) {
        w3c();
        let cx = Context::new().with_baggage(entries.iter().map(|(key, value)| {
            traced_runtime::opentelemetry::baggage::KeyValueMetadata::new(
                key.clone(),
                value.clone(),
                properties.trim_start_matches(';'),
            )
        }));
        let mut out = HashMap::new();
        inject_context(&cx, &mut out);
        let back = extract_with_context(&Context::new(), &out);
        let got: HashMap<String, (String, String)> = back
            .baggage()
            .iter()
            .map(|(k, (v, m))| (k.to_string(), (v.to_string(), m.as_str().to_owned())))
            .collect();
        let sent: HashMap<String, (String, String)> = cx
            .baggage()
            .iter()
            .map(|(k, (v, m))| (k.to_string(), (v.to_string(), m.as_str().to_owned())))
            .collect();
        prop_assert_eq!(got, sent);
    }
}

#[test]
fn a_huge_header_is_refused_or_cut_without_reading_it_all() {
    w3c();
    let huge = "k=v,".repeat(256 * 1024); // 1 MB
    let carrier = HashMap::from([
        ("traceparent".to_owned(), TRACEPARENT.to_owned()),
        ("tracestate".to_owned(), huge.clone()),
        (
            "baggage".to_owned(),
            format!("first=1,{}", "x".repeat(1 << 20)),
        ),
    ]);
    let started = std::time::Instant::now();
    for _ in 0..100 {
        let cx = extract_with_context(&Context::new(), &carrier);
        assert!(cx.span().span_context().is_valid());
        assert_eq!(cx.span().span_context().trace_state().header(), "");
        assert_eq!(cx.baggage().len(), 1);
    }
    // A scan of 2 MB a call would take far longer than this in a debug build.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn no_tracestate_header_without_a_trace_state() {
    w3c();
    let carrier = HashMap::from([("traceparent".to_owned(), TRACEPARENT.to_owned())]);
    let cx = extract_with_context(&Context::new(), &carrier);
    let mut out = HashMap::new();
    inject_context(&cx, &mut out);
    assert_eq!(out.keys().collect::<Vec<_>>(), ["traceparent"]);
}

#[test]
fn a_trace_started_here_has_the_random_flag() {
    w3c();
    let (headers, spans) = capture(|| {
        #[traced]
        fn root() -> HashMap<String, String> {
            let mut headers = HashMap::new();
            inject(&mut headers);
            headers
        }
        root()
    });
    let root = &spans.all()[0];
    // Sampled (0x01) and random (0x02), exported and sent on.
    assert_eq!(root.span_context.trace_flags().to_u8(), 0x03);
    assert!(headers["traceparent"].ends_with("-03"), "{headers:?}");
    // Below a remote parent, the parent's flags go on.
    let remote = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let carrier = HashMap::from([("traceparent".to_owned(), remote.to_owned())]);
    let (_, spans) = capture(|| {
        #[traced]
        fn child_of_remote() {}
        let _cx = extract_with_context(&Context::current(), &carrier).attach();
        child_of_remote();
    });
    assert_eq!(spans.all()[0].span_context.trace_flags().to_u8(), 0x01);
}

/// `Telemetry::install` puts traced's propagators in the global one: by default and for
/// `OTEL_PROPAGATORS=baggage` (checked by what the SDK's would do differently).
#[test]
fn the_setup_installs_traced_s_w3c_propagators() {
    crate::own_process!(the_setup_installs_traced_s_w3c_propagators);
    use traced_runtime::env::Env;
    use traced_runtime::Telemetry;

    let receiver = crate::support::otlp_receiver::Receiver::start();
    let install = |propagators: Option<&str>| {
        Telemetry::builder()
            .env(Env::from_vars(
                propagators.map(|value| ("OTEL_PROPAGATORS", value)),
            ))
            .otlp_endpoint(receiver.http_endpoint())
            .install()
            .unwrap()
    };
    let oversized = format!("user.id=42,padding={}", "x".repeat(9000));
    let carrier = HashMap::from([
        (
            "traceparent".to_owned(),
            format!("00-{TRACE_ID}-{SPAN_ID}-03"),
        ),
        ("baggage".to_owned(), oversized),
    ]);

    let telemetry = install(None);
    let cx = extract_with_context(&Context::new(), &carrier);
    let mut out = HashMap::new();
    inject_context(&cx, &mut out);
    // The SDK's would send `-01` and an empty `tracestate`, and drop the whole baggage.
    assert_eq!(out["traceparent"], format!("00-{TRACE_ID}-{SPAN_ID}-03"));
    assert!(!out.contains_key("tracestate"), "{out:?}");
    assert_eq!(out["baggage"], "user.id=42");
    telemetry.shutdown().unwrap();

    let telemetry = install(Some("baggage"));
    let cx = extract_with_context(&Context::new(), &carrier);
    let mut out = HashMap::new();
    inject_context(&cx, &mut out);
    assert_eq!(out.keys().collect::<Vec<_>>(), ["baggage"]);
    assert_eq!(out["baggage"], "user.id=42");
    telemetry.shutdown().unwrap();
}

/// The body of the cargo-fuzz target (`fuzz/`, nightly, run by `fuzz/run.sh`), compiled here so
/// that it stays in step with the library.
#[path = "../../fuzz/src/extract.rs"]
mod fuzz_extract;

#[test]
fn the_fuzz_target_holds_on_its_seeds_and_random_bytes() {
    crate::own_process!(the_fuzz_target_holds_on_its_seeds_and_random_bytes);
    let seed = [
        &[0u8][..],
        TRACEPARENT.as_bytes(),
        &[0xff, 1],
        b"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
        &[0xff, 2],
        b"userId=alice,serverNode=DF%2028;p=q",
    ]
    .concat();
    fuzz_extract::check(&seed);
    fuzz_extract::check(&[]);
    // Random bytes, header separators and near-valid fragments, from a fixed seed.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let fragments: [&[u8]; 6] = [
        TRACEPARENT.as_bytes(),
        b"k=v,",
        b"%C3%",
        b"@",
        b";p",
        b"-03",
    ];
    for _ in 0..2000 {
        let mut data = Vec::new();
        for _ in 0..next() % 40 {
            match next() % 4 {
                0 => data.push(0xff),
                1 => data.extend_from_slice(fragments[(next() % 6) as usize]),
                _ => data.push(next() as u8),
            }
        }
        fuzz_extract::check(&data);
    }
}
