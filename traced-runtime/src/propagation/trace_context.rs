//! The W3C Trace Context (Level 2) propagator of the setup: `traceparent` and `tracestate`
//! checked by the rules of this crate (`valid_traceparent`, `tracestate`), with the SDK's
//! `SpanContext` and `TraceState` only at the boundary.
//!
//! Unlike opentelemetry 0.33's `TraceContextPropagator`, every trace-flags bit the caller sent is
//! kept and sent on (Level 2's `random` flag 0x02 included; the SDK masks all but `sampled`), and
//! no `tracestate` header is written when there is no trace state (the SDK writes an empty one).

use std::sync::OnceLock;

use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::Context;

use crate::propagation::{joined, single, tracestate, valid_traceparent, TRACEPARENT, TRACESTATE};

/// W3C `traceparent` / `tracestate` (Trace Context Level 2), by the rules of
/// [`propagation`](crate::propagation): what `OTEL_PROPAGATORS=tracecontext` (the default)
/// installs. Use it in place of opentelemetry-sdk's when you compose propagators yourself.
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceContextPropagator;

impl TextMapPropagator for TraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let span_context = span.span_context();
        if !span_context.is_valid() {
            return;
        }
        injector.set(TRACEPARENT, traceparent(span_context));
        let state = span_context.trace_state().header();
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match extract(extractor) {
            Some(span_context) => cx.with_remote_span_context(span_context),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        static FIELDS: OnceLock<[String; 2]> = OnceLock::new();
        FieldIter::new(FIELDS.get_or_init(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]))
    }
}

/// `00-{trace id}-{span id}-{every flag bit}`.
pub(crate) fn traceparent(span_context: &SpanContext) -> String {
    format!(
        "00-{}-{}-{:02x}",
        span_context.trace_id(),
        span_context.span_id(),
        span_context.trace_flags().to_u8()
    )
}

/// The remote span context of a valid `traceparent`, with its `tracestate` when that is valid
/// too, or `None`.
pub(crate) fn extract(extractor: &dyn Extractor) -> Option<SpanContext> {
    let traceparent = single(extractor, TRACEPARENT).and_then(valid_traceparent)?;
    let trace_id = TraceId::from_hex(&traceparent[3..35]).ok()?;
    let span_id = SpanId::from_hex(&traceparent[36..52]).ok()?;
    let flags = u8::from_str_radix(&traceparent[53..55], 16).ok()?;
    let state = joined(extractor, TRACESTATE, tracestate::MAX_BYTES)
        .filter(|value| tracestate::is_valid(value))
        .map(|value| trace_state(&value))
        .unwrap_or_default();
    let span_context = SpanContext::new(trace_id, span_id, TraceFlags::new(flags), true, state);
    span_context.is_valid().then_some(span_context)
}

/// The SDK's `TraceState` for a `tracestate` valid by the W3C rules.
///
/// Built from the members rather than with `TraceState::from_str`, which counts empty members
/// towards its limit of 32 and drops the members after them. opentelemetry 0.33 also refuses
/// some valid keys (a `tenant@system` key whose system has 14 characters), and its `TraceState`
/// cannot be built without its check: such members alone are left out, rather than the list.
fn trace_state(value: &str) -> TraceState {
    let members = || {
        value
            .split(',')
            .map(|member| member.trim_matches([' ', '\t']))
            .filter_map(|member| member.split_once('='))
    };
    TraceState::from_key_value(members()).unwrap_or_else(|_| {
        TraceState::from_key_value(
            members().filter(|pair| TraceState::from_key_value([*pair]).is_ok()),
        )
        .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    #[test]
    fn every_flag_bit_is_kept_both_ways() {
        for flags in ["00", "01", "02", "03", "ff", "09"] {
            let carrier = headers(&[("traceparent", &format!("00-{TRACE}-{SPAN}-{flags}"))]);
            let cx = TraceContextPropagator.extract(&carrier);
            assert_eq!(
                format!("{:02x}", cx.span().span_context().trace_flags().to_u8()),
                flags
            );
            let mut out = HashMap::new();
            TraceContextPropagator.inject_context(&cx, &mut out);
            assert_eq!(
                out.get("traceparent").map(String::as_str),
                Some(format!("00-{TRACE}-{SPAN}-{flags}").as_str())
            );
            assert!(!out.contains_key("tracestate"), "no trace state, no header");
        }
    }

    #[test]
    fn tracestate_goes_on_when_valid() {
        let traceparent = format!("00-{TRACE}-{SPAN}-01");
        let cases: &[(&str, Option<&str>)] = &[
            (
                "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE",
                Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
            ),
            ("foo=", None),
            ("foo=1,foo=2", None),
            // Valid, but refused by opentelemetry 0.33: that member alone is left out.
            ("t@abcdefghijklmn=v,rojo=1", Some("rojo=1")),
        ];
        for (state, expected) in cases {
            let carrier = headers(&[("traceparent", &traceparent), ("tracestate", state)]);
            let cx = TraceContextPropagator.extract(&carrier);
            assert!(cx.span().span_context().is_valid());
            let mut out = HashMap::new();
            TraceContextPropagator.inject_context(&cx, &mut out);
            assert_eq!(
                out.get("tracestate").map(String::as_str),
                *expected,
                "{state:?}"
            );
        }
    }

    #[test]
    fn thirty_two_members_with_empty_ones_between_are_all_kept() {
        // opentelemetry 0.33's `TraceState::from_str` counts the empty members and drops the
        // last members.
        let state = (0..32)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",,");
        let carrier = headers(&[
            ("traceparent", &format!("00-{TRACE}-{SPAN}-01")),
            ("tracestate", &state),
        ]);
        let cx = TraceContextPropagator.extract(&carrier);
        let header = cx.span().span_context().trace_state().header();
        assert_eq!(header, state.replace(",,", ","));
    }

    #[test]
    fn an_invalid_traceparent_gives_no_remote_span() {
        let carrier = headers(&[
            (
                "traceparent",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            ),
            ("tracestate", "rojo=1"),
        ]);
        let cx = TraceContextPropagator.extract(&carrier);
        assert!(!cx.span().span_context().is_valid());
        let mut out = HashMap::new();
        TraceContextPropagator.inject_context(&cx, &mut out);
        assert!(out.is_empty());
    }
}
