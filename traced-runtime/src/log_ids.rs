//! The ids that link a log line to its trace: `trace_id` and `span_id` of the current span.
//!
//! ```
//! #[traced_runtime::traced]
//! fn charge(amount: u64) {
//!     match traced_runtime::log_ids() {
//!         // trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 charging 12
//!         Some(ids) => eprintln!("{ids} charging {amount}"),
//!         None => eprintln!("charging {amount}"),
//!     }
//! }
//! # charge(12);
//! ```
//!
//! The ids are those of the span that is current on this thread, when it is recording, as the
//! guide's `add_trace_context` does: outside any span, and in an unsampled one, there are none,
//! so a log line carries either both ids or neither, never zeros.

use std::fmt;

use opentelemetry::trace::{SpanId, TraceContextExt as _, TraceId};
use opentelemetry::Context;

/// The name of the log field that holds the trace id.
pub const TRACE_ID_FIELD: &str = "trace_id";
/// The name of the log field that holds the span id.
pub const SPAN_ID_FIELD: &str = "span_id";

/// The ids of the current span when it is recording, `None` otherwise. See [`LogIds`].
pub fn log_ids() -> Option<LogIds> {
    LogIds::current()
}

/// The trace and span ids of a recording span, to put in a log line.
///
/// `Display` writes `trace_id=<32 hex digits> span_id=<16 hex digits>`, lowercase as in W3C
/// `traceparent`; [`trace_id`](Self::trace_id) and [`span_id`](Self::span_id) display as the
/// bare hex. With the `serde` feature it serializes as `{"trace_id": "…", "span_id": "…"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LogIds {
    trace_id: TraceId,
    span_id: SpanId,
}

impl LogIds {
    /// The ids of the span current on this thread, if it is recording.
    pub fn current() -> Option<Self> {
        Context::map_current(Self::of)
    }

    /// The ids of the span in `cx`, if it is recording.
    pub fn of(cx: &Context) -> Option<Self> {
        if !cx.has_active_span() {
            return None;
        }
        let span = cx.span();
        if !span.is_recording() {
            return None;
        }
        let span_context = span.span_context();
        span_context.is_valid().then(|| LogIds {
            trace_id: span_context.trace_id(),
            span_id: span_context.span_id(),
        })
    }

    // Used by the tests of `tracing_layer` (feature `tracing`).
    #[cfg(all(test, feature = "tracing"))]
    pub(crate) fn for_test(trace_id: TraceId, span_id: SpanId) -> Self {
        LogIds { trace_id, span_id }
    }

    /// The trace id; `Display` writes 32 lowercase hex digits.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id; `Display` writes 16 lowercase hex digits.
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }
}

impl fmt::Display for LogIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{TRACE_ID_FIELD}={} {SPAN_ID_FIELD}={}",
            self.trace_id, self.span_id
        )
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for LogIds {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;

        let mut ids = serializer.serialize_struct("LogIds", 2)?;
        ids.serialize_field(TRACE_ID_FIELD, &Hex(self.trace_id))?;
        ids.serialize_field(SPAN_ID_FIELD, &Hex(self.span_id))?;
        ids.end()
    }
}

/// Serializes a value as the string its `Display` writes.
#[cfg(feature = "serde")]
struct Hex<T>(T);

#[cfg(feature = "serde")]
impl<T: fmt::Display> serde::Serialize for Hex<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, TraceFlags, TraceState};

    use super::*;

    #[test]
    fn display_is_lowercase_hex_of_fixed_width() {
        let ids = LogIds {
            trace_id: TraceId::from(0xAB_u128),
            span_id: SpanId::from(0xCD_u64),
        };
        assert_eq!(
            ids.to_string(),
            "trace_id=000000000000000000000000000000ab span_id=00000000000000cd"
        );
    }

    #[test]
    fn none_outside_any_span() {
        assert_eq!(LogIds::of(&Context::new()), None);
    }

    #[test]
    fn none_for_a_span_that_is_not_recording() {
        let remote = SpanContext::new(
            TraceId::from(1_u128),
            SpanId::from(2_u64),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let cx = Context::new().with_remote_span_context(remote);
        assert_eq!(LogIds::of(&cx), None);
    }
}
