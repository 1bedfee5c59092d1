//! The sqlcommenter comment: the span's `traceparent` appended to the statement,
//! `SELECT 1 /*traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/`
//! (<https://google.github.io/sqlcommenter/spec/>; the value has no character to escape).

use std::fmt::Write as _;

use opentelemetry::trace::SpanContext;

/// `sql` with the comment of `span` appended, before a final `;`; `None` for an invalid span
/// context (nothing to point to).
pub(crate) fn commented(sql: &str, span: &SpanContext) -> Option<String> {
    if !span.is_valid() {
        return None;
    }
    let body = sql.trim_end();
    let body = body.strip_suffix(';').unwrap_or(body).trim_end();
    let mut out = String::with_capacity(body.len() + 72);
    out.push_str(body);
    let _ = write!(
        out,
        " /*traceparent='00-{}-{}-{:02x}'*/",
        span.trace_id(),
        span.span_id(),
        span.trace_flags().to_u8()
    );
    Some(out)
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

    use super::*;

    #[test]
    fn the_traceparent_goes_before_the_final_semicolon() {
        let span = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        assert_eq!(
            commented("SELECT 1 ;\n", &span).unwrap(),
            "SELECT 1 /*traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/"
        );
        assert_eq!(commented("SELECT 1", &SpanContext::empty_context()), None);
    }
}
