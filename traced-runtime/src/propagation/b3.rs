//! Zipkin's B3 propagation (<https://github.com/openzipkin/b3-propagation>): the single header
//! `b3` and the multiple `X-B3-*` headers. Both propagators extract from either format, the
//! single header first, as the specification recommends; `b3` injects the single header,
//! `b3multi` the multiple ones.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::Context;

const B3_SINGLE: &str = "b3";
const B3_TRACE_ID: &str = "x-b3-traceid";
const B3_SPAN_ID: &str = "x-b3-spanid";
const B3_SAMPLED: &str = "x-b3-sampled";
const B3_FLAGS: &str = "x-b3-flags";
const B3_PARENT_SPAN_ID: &str = "x-b3-parentspanid";

/// Zipkin B3 propagation.
#[derive(Debug)]
pub struct B3Propagator {
    single: bool,
    fields: Vec<String>,
}

impl B3Propagator {
    /// Injects the single `b3` header.
    pub fn single() -> B3Propagator {
        B3Propagator {
            single: true,
            fields: vec![B3_SINGLE.to_owned()],
        }
    }

    /// Injects `X-B3-TraceId`, `X-B3-SpanId` and `X-B3-Sampled`.
    pub fn multiple() -> B3Propagator {
        B3Propagator {
            single: false,
            fields: [
                B3_TRACE_ID,
                B3_SPAN_ID,
                B3_SAMPLED,
                B3_FLAGS,
                B3_PARENT_SPAN_ID,
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}

/// A B3 trace id: 16 or 32 lower-case hex digits (16 are left-padded with zeros).
fn trace_id(value: &str) -> Option<TraceId> {
    let value = value.trim();
    if (value.len() != 16 && value.len() != 32) || !is_hex(value) {
        return None;
    }
    TraceId::from_hex(value)
        .ok()
        .filter(|id| *id != TraceId::INVALID)
}

fn span_id(value: &str) -> Option<SpanId> {
    let value = value.trim();
    if value.len() != 16 || !is_hex(value) {
        return None;
    }
    SpanId::from_hex(value)
        .ok()
        .filter(|id| *id != SpanId::INVALID)
}

fn is_hex(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `Some(sampled)` for a valid sampling state; debug (`d`) means sampled.
fn sampled(value: &str) -> Option<bool> {
    match value.trim() {
        "1" | "d" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

fn remote_context(trace_id: TraceId, span_id: SpanId, sampled: bool) -> SpanContext {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    SpanContext::new(trace_id, span_id, flags, true, TraceState::default())
}

impl B3Propagator {
    fn extract_single(value: &str) -> Option<SpanContext> {
        let mut parts = value.trim().split('-');
        let first = parts.next()?;
        // A lone sampling state ("0") carries no ids: nothing to continue.
        let trace_id = trace_id(first)?;
        let span_id = span_id(parts.next()?)?;
        let sampled = match parts.next() {
            Some(state) => sampled(state)?,
            // Deferred: sample as this side decides; a remote context needs a flag, take sampled.
            None => true,
        };
        if let Some(parent) = parts.next() {
            span_id_or_none(parent)?;
        }
        if parts.next().is_some() {
            return None;
        }
        Some(remote_context(trace_id, span_id, sampled))
    }

    fn extract_multiple(extractor: &dyn Extractor) -> Option<SpanContext> {
        let trace_id = trace_id(extractor.get(B3_TRACE_ID)?)?;
        let span_id = span_id(extractor.get(B3_SPAN_ID)?)?;
        let debug = extractor.get(B3_FLAGS).map(str::trim) == Some("1");
        let sampled = match extractor.get(B3_SAMPLED) {
            _ if debug => true,
            Some(state) => sampled(state)?,
            None => true,
        };
        Some(remote_context(trace_id, span_id, sampled))
    }
}

fn span_id_or_none(value: &str) -> Option<()> {
    span_id(value).map(|_| ())
}

impl TextMapPropagator for B3Propagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return;
        }
        let sampled = if context.is_sampled() { "1" } else { "0" };
        if self.single {
            injector.set(
                B3_SINGLE,
                format!("{}-{}-{sampled}", context.trace_id(), context.span_id()),
            );
        } else {
            injector.set(B3_TRACE_ID, context.trace_id().to_string());
            injector.set(B3_SPAN_ID, context.span_id().to_string());
            injector.set(B3_SAMPLED, sampled.to_owned());
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let context = extractor
            .get(B3_SINGLE)
            .and_then(B3Propagator::extract_single)
            .or_else(|| B3Propagator::extract_multiple(extractor));
        match context {
            Some(context) => cx.with_remote_span_context(context),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        opentelemetry::propagation::text_map_propagator::FieldIter::new(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const SPAN: &str = "e457b5a2e4d86bd1";

    fn extract(propagator: &B3Propagator, headers: &[(&str, &str)]) -> Option<SpanContext> {
        let map: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
            .collect();
        let cx = propagator.extract_with_context(&Context::new(), &map);
        let span = cx.span();
        let context = span.span_context().clone();
        context.is_valid().then_some(context)
    }

    #[test]
    fn b3_single_header_round_trips() {
        let propagator = B3Propagator::single();
        let context = extract(&propagator, &[("b3", &format!("{TRACE}-{SPAN}-1"))]).unwrap();
        assert_eq!(context.trace_id().to_string(), TRACE);
        assert_eq!(context.span_id().to_string(), SPAN);
        assert!(context.is_sampled() && context.is_remote());

        let mut out = HashMap::new();
        propagator.inject_context(&Context::new().with_remote_span_context(context), &mut out);
        assert_eq!(
            out.get("b3").map(String::as_str),
            Some(&*format!("{TRACE}-{SPAN}-1"))
        );
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn b3_multi_headers_round_trip() {
        let propagator = B3Propagator::multiple();
        let context = extract(
            &propagator,
            &[
                ("X-B3-TraceId", TRACE),
                ("X-B3-SpanId", SPAN),
                ("X-B3-Sampled", "0"),
            ],
        )
        .unwrap();
        assert!(!context.is_sampled());
        let mut out = HashMap::new();
        propagator.inject_context(&Context::new().with_remote_span_context(context), &mut out);
        assert_eq!(out.get("x-b3-traceid").map(String::as_str), Some(TRACE));
        assert_eq!(out.get("x-b3-spanid").map(String::as_str), Some(SPAN));
        assert_eq!(out.get("x-b3-sampled").map(String::as_str), Some("0"));
    }

    #[test]
    fn b3_extracts_either_format_and_pads_64_bit_trace_ids() {
        let single = B3Propagator::single();
        let context = extract(
            &single,
            &[
                ("X-B3-TraceId", "64fe8b2a57d3eff7"),
                ("X-B3-SpanId", SPAN),
                ("X-B3-Flags", "1"),
            ],
        )
        .unwrap();
        assert_eq!(
            context.trace_id().to_string(),
            "000000000000000064fe8b2a57d3eff7"
        );
        assert!(context.is_sampled(), "debug means sampled");
        let multi = B3Propagator::multiple();
        let context = extract(&multi, &[("b3", &format!("{TRACE}-{SPAN}-d-{SPAN}"))]).unwrap();
        assert!(context.is_sampled());
    }

    #[test]
    fn b3_rejects_malformed_headers() {
        let propagator = B3Propagator::single();
        for bad in [
            "0",
            "",
            "xyz-e457b5a2e4d86bd1-1",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-7",
            "80f198ee56343ba864fe8b2a57d3eff7-00000000000000000-1",
            "00000000000000000000000000000000-e457b5a2e4d86bd1-1",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-bad",
        ] {
            assert_eq!(extract(&propagator, &[("b3", bad)]), None, "{bad:?}");
        }
    }
}
