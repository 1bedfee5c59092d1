//! `trace_id` and `span_id` in the lines of `tracing_subscriber::fmt` (feature `tracing`).
//!
//! One line, for the JSON or the human-readable format, as a subscriber or as a layer:
//!
//! ```
//! tracing_subscriber::fmt().json().map_event_format(traced_runtime::with_trace_ids).init();
//! ```
//!
//! Every event emitted while a recording span is current, in a `#[traced]` function or any span
//! made current through the opentelemetry API, then carries that span's ids:
//!
//! ```text
//! {"timestamp":"…","level":"INFO","fields":{"message":"charging"},"target":"shop","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}
//! 2026-01-01T00:00:00.000000Z  INFO shop: charging amount=12 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7
//! ```
//!
//! Outside any span, and in an unsampled one, the line is exactly what the wrapped format
//! writes: no ids, rather than zeros.
//!
//! Why a [`FormatEvent`] and not a [`Layer`](tracing_subscriber::Layer): `#[traced]` spans are
//! OpenTelemetry spans, not `tracing` spans, so there is no `tracing` span whose fields could
//! carry the ids, and a layer cannot add fields to an event. The ids are read when the line is
//! written, on the thread that emits the event, where the span is current.

use std::fmt;

use tracing_core::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Compact, Format, Full, Json, Pretty, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::logs::ids::{LogIds, SPAN_ID_FIELD, TRACE_ID_FIELD};

/// Wraps one of `tracing_subscriber`'s formats so that its lines carry `trace_id` and `span_id`:
/// for `map_event_format`. See [`TraceIdsFormat`].
pub fn with_trace_ids<F: LineKind, T: Clone>(format: Format<F, T>) -> TraceIdsFormat<F, T> {
    TraceIdsFormat::new(format)
}

/// An event format that adds the ids of the current span to the lines of the format it wraps:
/// as the last two members of the JSON object, as `trace_id=… span_id=…` after the fields of
/// the full and compact formats, and on a line of its own in the pretty one.
///
/// A line with ids is written to a buffer first, to put them in; when the wrapped format's
/// ANSI colors are set through the writer (`.with_ansi(..)` on the builder or layer, the
/// usual way), they are kept.
#[derive(Clone, Debug)]
pub struct TraceIdsFormat<F = Full, T = tracing_subscriber::fmt::time::SystemTime> {
    /// The format as given, for lines without ids.
    original: Format<F, T>,
    /// The format writing to a buffer, which has no ANSI flag of its own: with and without.
    plain: Format<F, T>,
    colored: Format<F, T>,
}

impl<F: LineKind, T: Clone> TraceIdsFormat<F, T> {
    /// Wraps `format`.
    pub fn new(format: Format<F, T>) -> Self {
        TraceIdsFormat {
            plain: format.clone().with_ansi(false),
            colored: format.clone().with_ansi(true),
            original: format,
        }
    }
}

impl<S, N, F, T> FormatEvent<S, N> for TraceIdsFormat<F, T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: LineKind,
    Format<F, T>: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some(ids) = LogIds::current() else {
            return self.original.format_event(ctx, writer, event);
        };
        let format = if F::TEXT && writer.has_ansi_escapes() {
            &self.colored
        } else if F::TEXT {
            &self.plain
        } else {
            &self.original
        };
        let mut line = String::with_capacity(256);
        format.format_event(ctx, Writer::new(&mut line), event)?;
        F::insert(&mut line, ids);
        writer.write_str(&line)
    }
}

/// The formats of `tracing_subscriber` that [`TraceIdsFormat`] knows where to put the ids in:
/// [`Full`] (the default), [`Compact`], [`Pretty`] and [`Json`].
pub trait LineKind: sealed::Sealed + Clone {
    /// Whether the lines are text (which may be colored) rather than JSON.
    #[doc(hidden)]
    const TEXT: bool;

    /// Puts `ids` into `line`, a line written by the format.
    #[doc(hidden)]
    fn insert(line: &mut String, ids: LogIds);
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Full {}
    impl Sealed for super::Compact {}
    impl Sealed for super::Pretty {}
    impl Sealed for super::Json {}
}

impl LineKind for Full {
    const TEXT: bool = true;

    fn insert(line: &mut String, ids: LogIds) {
        insert_before_newline(line, &format!(" {ids}"));
    }
}

impl LineKind for Compact {
    const TEXT: bool = true;

    fn insert(line: &mut String, ids: LogIds) {
        insert_before_newline(line, &format!(" {ids}"));
    }
}

impl LineKind for Pretty {
    const TEXT: bool = true;

    /// The pretty format ends an event with a blank line; the ids go on the line before it,
    /// beside `at file:line` and `in span`.
    fn insert(line: &mut String, ids: LogIds) {
        insert_before_newline(line, &format!("    {ids}\n"));
    }
}

impl LineKind for Json {
    const TEXT: bool = false;

    /// `{…}\n` becomes `{…,"trace_id":"…","span_id":"…"}\n`. Hex digits need no escaping.
    fn insert(line: &mut String, ids: LogIds) {
        let Some(end) = line.rfind('}') else {
            return;
        };
        let empty = line[..end].trim_end().ends_with('{');
        let members = format!(
            "{comma}\"{TRACE_ID_FIELD}\":\"{}\",\"{SPAN_ID_FIELD}\":\"{}\"",
            ids.trace_id(),
            ids.span_id(),
            comma = if empty { "" } else { "," },
        );
        line.insert_str(end, &members);
    }
}

fn insert_before_newline(line: &mut String, text: &str) {
    let at = line.strip_suffix('\n').map_or(line.len(), str::len);
    line.insert_str(at, text);
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceId};

    use super::*;

    fn ids() -> LogIds {
        LogIds::for_test(TraceId::from(0xab_u128), SpanId::from(0xcd_u64))
    }

    #[test]
    fn json_members_go_last() {
        let mut line = "{\"level\":\"INFO\",\"fields\":{\"message\":\"}\"}}\n".to_owned();
        Json::insert(&mut line, ids());
        assert_eq!(
            line,
            "{\"level\":\"INFO\",\"fields\":{\"message\":\"}\"},\
             \"trace_id\":\"000000000000000000000000000000ab\",\"span_id\":\"00000000000000cd\"}\n"
        );
    }

    #[test]
    fn json_empty_object_gets_no_comma() {
        let mut line = "{}\n".to_owned();
        Json::insert(&mut line, ids());
        assert!(line.starts_with("{\"trace_id\""), "{line}");
    }

    #[test]
    fn text_ids_go_before_the_newline() {
        let mut line = "INFO shop: charging amount=12\n".to_owned();
        Full::insert(&mut line, ids());
        assert_eq!(
            line,
            "INFO shop: charging amount=12 \
             trace_id=000000000000000000000000000000ab span_id=00000000000000cd\n"
        );
    }

    #[test]
    fn pretty_ids_go_on_their_own_line() {
        let mut line = "  INFO shop: charging\n    at src/main.rs:3\n\n".to_owned();
        Pretty::insert(&mut line, ids());
        assert_eq!(
            line,
            "  INFO shop: charging\n    at src/main.rs:3\n    \
             trace_id=000000000000000000000000000000ab span_id=00000000000000cd\n\n"
        );
    }
}
