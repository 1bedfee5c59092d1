//! Carrying the trace across process boundaries: inject the current context into outgoing
//! headers, extract the caller's context from incoming ones.
//!
//! Both go through the global propagator that the setup of this crate installs (W3C
//! `traceparent`/`tracestate` and W3C `baggage` by default, B3 when `OTEL_PROPAGATORS` asks),
//! or whatever `opentelemetry::global::set_text_map_propagator` was given.
//!
//! Calling another service with any HTTP client:
//!
//! ```
//! use traced_runtime::propagation;
//!
//! #[traced_runtime::traced(kind = client)]
//! fn call_orders_service() -> http::HeaderMap {
//!     let mut headers = http::HeaderMap::new();
//!     propagation::inject(&mut headers); // adds `traceparent`, `tracestate`, `baggage`
//!     // client.post(url).headers(headers).send() ..
//!     headers
//! }
//! # call_orders_service();
//! ```
//!
//! Continuing the caller's trace in a handler, as the guide's middleware does:
//!
//! ```
//! use traced_runtime::{propagation, traced};
//!
//! #[traced(parent = propagation::extract(headers), kind = server)]
//! async fn handle(headers: &http::HeaderMap) -> &'static str {
//!     "ok"
//! }
//! ```
//!
//! Other carriers: a `HashMap<String, String>` (message metadata), an `http::Request`, and any
//! [`Injector`]/[`Extractor`] of your own, passed as `&mut carrier as &mut dyn Injector` or
//! `&carrier as &dyn Extractor`.
//!
//! # Hostile input
//!
//! Incoming values are checked against the W3C Trace Context (Level 2) and Baggage
//! specifications, by the propagators of the setup and, for any other propagator, before it
//! sees them:
//!
//! - a `traceparent` that is not exactly `version-traceid-parentid-flags` in lowercase hex (with
//!   the version-00 length, no all-zero ids, version `ff` refused) is ignored, and then so is
//!   `tracestate`, so the request starts a new trace; every trace-flags bit is kept and sent on
//!   (Level 2's `random` flag included);
//! - `tracestate` (several headers are one list, in order) is dropped whole when it has more than
//!   32 list-members, a duplicate key, a key that is neither `simple-key` nor `tenant@system`
//!   of the right lengths, or a value that is empty, longer than 256 characters, not printable
//!   ASCII or ends in a space; empty members and optional whitespace are skipped; no
//!   `tracestate` header is sent when there is no trace state;
//! - `baggage`: 64 list-members and 8192 bytes are kept whole; beyond that the trailing members
//!   are dropped, invalid members are dropped one by one, values are percent-decoded and
//!   encoded, properties are kept;
//! - work is bounded: a 1 MB header is refused, or cut, after reading at most 20 KB.
//!
//! Nothing here panics on input.

pub(crate) mod b3;
pub(crate) mod baggage;
pub(crate) mod composite;
pub(crate) mod trace_context;
mod tracestate;

pub use baggage::BaggagePropagator;
pub use trace_context::TraceContextPropagator;

use std::collections::HashMap;
use std::hash::BuildHasher;

use opentelemetry::global;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::Context;
#[cfg(feature = "http")]
use opentelemetry_http::{HeaderExtractor, HeaderInjector};

/// The W3C Trace Context header with the trace id, the parent span id and the sampled flag.
pub const TRACEPARENT: &str = "traceparent";
/// The W3C Trace Context header with vendor-specific trace state.
pub const TRACESTATE: &str = "tracestate";
/// The W3C Baggage header.
pub const BAGGAGE: &str = "baggage";
/// The W3C Baggage size of a `baggage` value that is kept whole, in bytes: the members that end
/// beyond it are dropped.
pub const BAGGAGE_MAX_BYTES: usize = baggage::MAX_BYTES;

/// Length of a version-00 `traceparent`: `00-` 32 hex `-` 16 hex `-` 2 hex.
const TRACEPARENT_LEN: usize = 55;

/// Something the context can be written into: `http::HeaderMap`, `http::Request`,
/// `HashMap<String, String>`, or any `dyn Injector`.
pub trait InjectCarrier {
    /// Runs `f` with an injector writing into `self`.
    fn with_injector<R>(&mut self, f: impl FnOnce(&mut dyn Injector) -> R) -> R;
}

/// Something a context can be read from: `http::HeaderMap`, `http::Request`,
/// `http::request::Parts`, `HashMap<String, String>`, or any `dyn Extractor`.
pub trait ExtractCarrier {
    /// Runs `f` with an extractor reading from `self`.
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R;
}

#[cfg(feature = "http")]
impl InjectCarrier for http::HeaderMap {
    fn with_injector<R>(&mut self, f: impl FnOnce(&mut dyn Injector) -> R) -> R {
        f(&mut HeaderInjector(self))
    }
}

#[cfg(feature = "http")]
impl<B> InjectCarrier for http::Request<B> {
    fn with_injector<R>(&mut self, f: impl FnOnce(&mut dyn Injector) -> R) -> R {
        f(&mut HeaderInjector(self.headers_mut()))
    }
}

impl<S: BuildHasher> InjectCarrier for HashMap<String, String, S> {
    fn with_injector<R>(&mut self, f: impl FnOnce(&mut dyn Injector) -> R) -> R {
        f(self)
    }
}

impl InjectCarrier for dyn Injector + '_ {
    fn with_injector<R>(&mut self, f: impl FnOnce(&mut dyn Injector) -> R) -> R {
        f(self)
    }
}

#[cfg(feature = "http")]
impl ExtractCarrier for http::HeaderMap {
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R {
        f(&HeaderExtractor(self))
    }
}

#[cfg(feature = "http")]
impl<B> ExtractCarrier for http::Request<B> {
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R {
        f(&HeaderExtractor(self.headers()))
    }
}

#[cfg(feature = "http")]
impl ExtractCarrier for http::request::Parts {
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R {
        f(&HeaderExtractor(&self.headers))
    }
}

impl<S: BuildHasher> ExtractCarrier for HashMap<String, String, S> {
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R {
        f(self)
    }
}

impl ExtractCarrier for dyn Extractor + '_ {
    fn with_extractor<R>(&self, f: impl FnOnce(&dyn Extractor) -> R) -> R {
        f(self)
    }
}

/// Writes the current context (span and baggage) into `carrier`.
pub fn inject<C: InjectCarrier + ?Sized>(carrier: &mut C) {
    Context::map_current(|cx| inject_context(cx, carrier));
}

/// Writes `cx` (its span and baggage) into `carrier`.
pub fn inject_context<C: InjectCarrier + ?Sized>(cx: &Context, carrier: &mut C) {
    carrier.with_injector(|injector| {
        global::get_text_map_propagator(|propagator| propagator.inject_context(cx, injector));
    });
}

/// The current context with the remote span and baggage read from `carrier`: the parent of a
/// span that continues the caller's trace. Without a valid `traceparent` (or B3 headers, when
/// configured) the context has no remote span, and a span started under it is a new root.
pub fn extract<C: ExtractCarrier + ?Sized>(carrier: &C) -> Context {
    Context::map_current(|cx| extract_with_context(cx, carrier))
}

/// `cx` with the remote span and baggage read from `carrier`. See [`extract`].
pub fn extract_with_context<C: ExtractCarrier + ?Sized>(cx: &Context, carrier: &C) -> Context {
    carrier.with_extractor(|extractor| {
        let checked = Checked::new(extractor);
        global::get_text_map_propagator(|propagator| propagator.extract_with_context(cx, &checked))
    })
}

/// An extractor that shows the propagator only W3C values that are well-formed, several
/// `tracestate` or `baggage` headers joined as one (RFC 9110 list semantics), and passes every
/// other key (B3, Jaeger, ..) through unchanged.
struct Checked<'a> {
    inner: &'a dyn Extractor,
    traceparent: Option<String>,
    tracestate: Option<String>,
    baggage: Option<String>,
}

impl<'a> Checked<'a> {
    fn new(inner: &'a dyn Extractor) -> Self {
        let traceparent = single(inner, TRACEPARENT).and_then(valid_traceparent);
        // W3C Trace Context: a vendor that cannot parse `traceparent` must not parse
        // `tracestate`.
        let tracestate = traceparent
            .as_ref()
            .and_then(|_| joined(inner, TRACESTATE, tracestate::MAX_BYTES))
            .filter(|value| tracestate::is_valid(value));
        let baggage = inner
            .get_all(BAGGAGE)
            .or_else(|| inner.get(BAGGAGE).map(|value| vec![value]))
            .map(baggage::bounded_join);
        Checked {
            inner,
            traceparent,
            tracestate,
            baggage,
        }
    }
}

impl Extractor for Checked<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        if key.eq_ignore_ascii_case(TRACEPARENT) {
            self.traceparent.as_deref()
        } else if key.eq_ignore_ascii_case(TRACESTATE) {
            self.tracestate.as_deref()
        } else if key.eq_ignore_ascii_case(BAGGAGE) {
            self.baggage.as_deref()
        } else {
            self.inner.get(key)
        }
    }

    fn keys(&self) -> Vec<&str> {
        self.inner.keys()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        if [TRACEPARENT, TRACESTATE, BAGGAGE]
            .iter()
            .any(|name| key.eq_ignore_ascii_case(name))
        {
            self.get(key).map(|value| vec![value])
        } else {
            self.inner.get_all(key)
        }
    }
}

/// The one value of `key`; several `traceparent` headers are as invalid as their comma-joined
/// value would be.
pub(crate) fn single<'a>(extractor: &'a dyn Extractor, key: &str) -> Option<&'a str> {
    match extractor.get_all(key) {
        Some(values) if values.len() == 1 => values.first().copied(),
        Some(_) => None,
        None => extractor.get(key),
    }
}

/// Every value of `key` joined with commas, or `None` when there is none or it is longer than
/// `limit` bytes.
pub(crate) fn joined(extractor: &dyn Extractor, key: &str, limit: usize) -> Option<String> {
    let values = extractor
        .get_all(key)
        .or_else(|| extractor.get(key).map(|value| vec![value]))?;
    let len = values.iter().map(|value| value.len() + 1).sum::<usize>();
    if len > limit.saturating_add(1) {
        return None;
    }
    Some(values.join(","))
}

/// The version-`traceparent` prefix of a well-formed `traceparent` (W3C Trace Context, level 1
/// and its versioning rules), or `None`.
///
/// `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01` is valid. Refused: uppercase or
/// non-hex digits, wrong field lengths, an all-zero trace or span id, version `ff`, anything
/// after the flags in version 00, and a later version whose 56th character is not `-`.
pub(crate) fn valid_traceparent(value: &str) -> Option<String> {
    let value = value.trim_matches([' ', '\t']);
    let bytes = value.as_bytes();
    if bytes.len() < TRACEPARENT_LEN {
        return None;
    }
    let field = |start: usize, len: usize| &bytes[start..start + len];
    let version = field(0, 2);
    let trace_id = field(3, 32);
    let span_id = field(36, 16);
    let flags = field(53, 2);
    let well_formed = [version, trace_id, span_id, flags]
        .iter()
        .all(|field| field.iter().all(u8::is_ascii_hexdigit))
        && [version, trace_id, span_id, flags]
            .iter()
            .all(|field| !field.iter().any(u8::is_ascii_uppercase))
        && bytes[2] == b'-'
        && bytes[35] == b'-'
        && bytes[52] == b'-'
        && version != b"ff"
        && trace_id.iter().any(|&digit| digit != b'0')
        && span_id.iter().any(|&digit| digit != b'0');
    if !well_formed {
        return None;
    }
    let rest_ok = if version == b"00" {
        bytes.len() == TRACEPARENT_LEN
    } else {
        bytes.len() == TRACEPARENT_LEN || bytes[TRACEPARENT_LEN] == b'-'
    };
    // Only the fields of version 00 are understood; a later version is read as version 00, as
    // the specification says.
    rest_ok.then(|| value[..TRACEPARENT_LEN].to_owned())
}

#[cfg(test)]
mod tests {
    use super::valid_traceparent;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn traceparent_table() {
        let cases: &[(&str, Option<&str>)] = &[
            (VALID, Some(VALID)),
            (
                " \t00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\t ",
                Some(VALID),
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
                Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
            ),
            (
                "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds",
                Some("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            ),
            (
                "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                Some("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            ),
            (
                "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.",
                None,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
                None,
            ),
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                None,
            ),
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                None,
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                None,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                None,
            ),
            (
                "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                None,
            ),
            ("00-ab-cd-01", None),
            (
                "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                None,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
                None,
            ),
            ("", None),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01é",
                None,
            ),
            (
                "é0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                None,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(valid_traceparent(input).as_deref(), *expected, "{input:?}");
        }
    }
}
