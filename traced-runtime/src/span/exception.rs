//! Recording an error or a panic on a span: the `exception` event of the OpenTelemetry
//! semantic conventions, `error.type`, and status ERROR. Once per span and error.
//!
//! # Recorded once
//!
//! `record_error(&e)` in a traced function that then returns `Err(e)` gives one `exception`
//! event. The mark that says "this error is on the span already" is kept with the span, not
//! with the thread: in the fast path's record ([`ErrorMark`] in `SpanRecord`), and for a span of
//! the SDK or of another provider in the [`Marked`] wrapper the guard puts around it. So a traced
//! callee failing in between, or a task resuming on another thread, changes nothing, and
//! returning another error than the one recorded records that one too (its message becomes the
//! status message).
//!
//! The guard speaks to the span only through the opentelemetry `Span` API (the span lives in
//! the context, behind `dyn`): when the function ends it adds an event named
//! [`RETURNED_EXCEPTION_EVENT`] ("record this exception unless it is the last one recorded") or
//! [`SUCCEEDED_EVENT`] ("status OK unless an error was recorded"). Both are read by the mark and
//! never exported; only spans the guard made itself receive them.

use std::any::Any;
use std::borrow::Cow;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanRef, Status};
use opentelemetry::{KeyValue, Value};

use crate::span::outcome::{ErrorView, Message};

pub(crate) use crate::semconv::{
    ERROR_TYPE, EXCEPTION_EVENT, EXCEPTION_MESSAGE, EXCEPTION_STACKTRACE, EXCEPTION_TYPE,
};
/// `exception.type` and `error.type` of a panic.
pub(crate) const PANIC_TYPE: &str = "panic";

/// The guard's "record this returned error as an `exception` event, unless the same error (type
/// and message) is the last one recorded on the span". Never exported.
pub(crate) const RETURNED_EXCEPTION_EVENT: &str = "traced.internal.returned_exception";
/// The guard's "the function succeeded: status OK, unless an error was recorded on the span".
/// Never exported.
pub(crate) const SUCCEEDED_EVENT: &str = "traced.internal.succeeded";

/// A span an exception can be recorded on: the SDK's (through the context) or a fast-path record.
pub(crate) trait ErrorSink {
    fn add_event(&mut self, name: &'static str, attributes: Vec<KeyValue>);
    /// Adds an event of the guard to the span ([`SUCCEEDED_EVENT`]): it is never exported, so
    /// it carries no timestamp (no clock is read).
    fn add_mark(&mut self, name: &'static str);
    fn set_attribute(&mut self, attribute: KeyValue);
    fn set_status(&mut self, status: Status);
}

impl ErrorSink for SpanRef<'_> {
    fn add_event(&mut self, name: &'static str, attributes: Vec<KeyValue>) {
        SpanRef::add_event(self, name, attributes);
    }
    fn add_mark(&mut self, name: &'static str) {
        SpanRef::add_event_with_timestamp(self, name, SystemTime::UNIX_EPOCH, Vec::new());
    }
    fn set_attribute(&mut self, attribute: KeyValue) {
        SpanRef::set_attribute(self, attribute);
    }
    fn set_status(&mut self, status: Status) {
        SpanRef::set_status(self, status);
    }
}

/// What a span remembers of the errors recorded on it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ErrorMark {
    /// The type and message of the last `exception` event, hashed.
    last: Option<u64>,
    /// Whether an exception or status ERROR was recorded.
    errored: bool,
}

/// What a span does with an event it is given, as [`ErrorMark::on_event`] says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EventAction {
    /// Add it, under this name.
    Add(Cow<'static, str>),
    /// Drop it: the returned error is recorded already, or the event was the success mark with
    /// an error recorded.
    Skip,
    /// Set status OK, add nothing.
    SetOk,
}

impl ErrorMark {
    /// Reads the event `name` about to be added to the span.
    pub(crate) fn on_event(
        &mut self,
        name: Cow<'static, str>,
        attributes: &[KeyValue],
    ) -> EventAction {
        if name == SUCCEEDED_EVENT {
            return if self.success_sets_ok() {
                EventAction::SetOk
            } else {
                EventAction::Skip
            };
        }
        let returned = name == RETURNED_EXCEPTION_EVENT;
        if !returned && name != EXCEPTION_EVENT {
            return EventAction::Add(name);
        }
        let key = exception_key(attributes);
        if returned && self.last == Some(key) {
            return EventAction::Skip;
        }
        self.last = Some(key);
        self.errored = true;
        EventAction::Add(if returned {
            Cow::Borrowed(EXCEPTION_EVENT)
        } else {
            name
        })
    }

    /// Whether a success sets status OK: no error was recorded.
    pub(crate) fn success_sets_ok(&self) -> bool {
        !self.errored
    }

    /// Reads a status about to be set.
    pub(crate) fn on_status(&mut self, status: &Status) {
        if matches!(status, Status::Error { .. }) {
            self.errored = true;
        }
    }
}

/// The new status of a span whose status is `current`, given `status`: Ok is final, a later
/// error replaces an earlier one (its message is the one kept), Unset changes nothing.
///
/// The SDK orders statuses with a derived `PartialOrd`, under which `Error("b")` does not
/// replace `Error("a")`'s message: the later error is lost.
pub(crate) fn merge_status(current: &mut Status, status: Status) {
    if *current != Status::Ok && status != Status::Unset {
        *current = status;
    }
}

/// The hash of an `exception` event's type and message.
fn exception_key(attributes: &[KeyValue]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for key in [EXCEPTION_TYPE, EXCEPTION_MESSAGE] {
        match attributes.iter().find(|kv| kv.key.as_str() == key) {
            Some(KeyValue {
                value: Value::String(value),
                ..
            }) => value.as_str().hash(&mut hasher),
            Some(other) => other.value.to_string().hash(&mut hasher),
            None => 0u8.hash(&mut hasher),
        }
    }
    hasher.finish()
}

/// A span of the SDK (or of another provider) as the guard holds it in the context: the span,
/// the [`ErrorMark`], and the status, set on the span when it ends (so that a later error's
/// message replaces an earlier one's, which the SDK's own `set_status` does not do).
#[derive(Debug)]
pub(crate) struct Marked<S: opentelemetry::trace::Span> {
    inner: S,
    mark: ErrorMark,
    status: Status,
}

impl<S: opentelemetry::trace::Span> Marked<S> {
    pub(crate) fn new(inner: S) -> Self {
        Marked {
            inner,
            mark: ErrorMark::default(),
            status: Status::Unset,
        }
    }

    fn flush_status(&mut self) {
        let status = std::mem::take(&mut self.status);
        if status != Status::Unset {
            self.inner.set_status(status);
        }
    }
}

impl<S: opentelemetry::trace::Span> opentelemetry::trace::Span for Marked<S> {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        match self.mark.on_event(name.into(), &attributes) {
            EventAction::Add(name) => {
                self.inner
                    .add_event_with_timestamp(name, timestamp, attributes);
            }
            EventAction::Skip => {}
            EventAction::SetOk => merge_status(&mut self.status, Status::Ok),
        }
    }

    fn span_context(&self) -> &SpanContext {
        self.inner.span_context()
    }

    fn is_recording(&self) -> bool {
        self.inner.is_recording()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        self.inner.set_attribute(attribute);
    }

    fn set_status(&mut self, status: Status) {
        self.mark.on_status(&status);
        merge_status(&mut self.status, status);
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        self.inner.update_name(new_name);
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        self.inner.add_link(span_context, attributes);
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.flush_status();
        self.inner.end_with_timestamp(timestamp);
    }
}

impl<S: opentelemetry::trace::Span> Drop for Marked<S> {
    fn drop(&mut self) {
        // The inner span ends when it is dropped, right after: with the status.
        self.flush_status();
    }
}

/// Adds the exception event, `error.type` and status ERROR to `span` (`record_error`).
pub(crate) fn record(span: &mut (impl ErrorSink + ?Sized), error: &ErrorView<'_>) {
    record_error_view(span, EXCEPTION_EVENT, error);
}

/// The error a traced function returned: recorded unless it is the one recorded last on the
/// span (`record_error(&e)` then `Err(e)`).
pub(crate) fn record_returned(span: &mut (impl ErrorSink + ?Sized), error: &ErrorView<'_>) {
    record_error_view(span, RETURNED_EXCEPTION_EVENT, error);
}

/// The traced function succeeded: status OK, unless an error was recorded on the span.
pub(crate) fn record_success(span: &mut (impl ErrorSink + ?Sized)) {
    span.add_mark(SUCCEEDED_EVENT);
}

fn record_error_view(
    span: &mut (impl ErrorSink + ?Sized),
    event: &'static str,
    error: &ErrorView<'_>,
) {
    record_event(
        span,
        event,
        Cow::Borrowed(error.type_name),
        error.type_name,
        error.message.to_string(),
        error.stacktrace(),
    );
}

/// An exception from its parts, for the integrations' spans: the `exception` event
/// (`exception.type`, `.message`, `.stacktrace`), `error.type` (the semantic conventions' short
/// class of failure: the error's type for a traced function, `timeout` or a status code for an
/// HTTP request) and status ERROR with the message.
#[cfg_attr(not(traced_integrations), allow(dead_code))]
pub(crate) fn record_parts(
    span: &mut (impl ErrorSink + ?Sized),
    error_type: Cow<'static, str>,
    exception_type: &'static str,
    message: String,
    stacktrace: String,
) {
    record_event(
        span,
        EXCEPTION_EVENT,
        error_type,
        exception_type,
        message,
        stacktrace,
    );
}

/// The one exception recorder, under `event`: `exception`, or the guard's
/// [`RETURNED_EXCEPTION_EVENT`] that the span turns into one unless it is recorded already.
fn record_event(
    span: &mut (impl ErrorSink + ?Sized),
    event: &'static str,
    error_type: Cow<'static, str>,
    exception_type: &'static str,
    message: String,
    stacktrace: String,
) {
    span.add_event(
        event,
        vec![
            KeyValue::new(EXCEPTION_TYPE, exception_type),
            KeyValue::new(EXCEPTION_MESSAGE, message.clone()),
            KeyValue::new(EXCEPTION_STACKTRACE, stacktrace),
        ],
    );
    span.set_attribute(KeyValue::new(ERROR_TYPE, error_type));
    span.set_status(Status::error(message));
}

/// The message of a panic, from its payload (`panic!("..")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "panicked with a non-string payload"
    }
}

/// Records a panic as an exception.
pub(crate) fn record_panic(span: &mut (impl ErrorSink + ?Sized), message: &str) {
    record(
        span,
        &ErrorView {
            type_name: PANIC_TYPE,
            message: Message::Display(&message),
            source: None,
            report: None,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_is_final_a_later_error_replaces_an_earlier_one_unset_changes_nothing() {
        let table = [
            (Status::Unset, Status::error("b"), Status::error("b")),
            (Status::error("b"), Status::error("a"), Status::error("a")),
            (Status::error("a"), Status::Unset, Status::error("a")),
            (Status::error("a"), Status::Ok, Status::Ok),
            (Status::Ok, Status::error("a"), Status::Ok),
        ];
        for (mut current, status, expected) in table {
            merge_status(&mut current, status);
            assert_eq!(current, expected);
        }
    }

    fn exception(kind: &'static str, message: &'static str) -> Vec<KeyValue> {
        vec![
            KeyValue::new(EXCEPTION_TYPE, kind),
            KeyValue::new(EXCEPTION_MESSAGE, message),
        ]
    }

    #[test]
    fn the_mark_skips_only_the_returned_error_recorded_last() {
        let mut mark = ErrorMark::default();
        assert_eq!(
            mark.on_event(Cow::Borrowed(SUCCEEDED_EVENT), &[]),
            EventAction::SetOk
        );
        assert_eq!(
            mark.on_event(Cow::Borrowed("retry"), &[]),
            EventAction::Add(Cow::Borrowed("retry"))
        );
        let first = exception("io::Error", "timeout");
        let returned = Cow::Borrowed(RETURNED_EXCEPTION_EVENT);
        let recorded = EventAction::Add(Cow::Borrowed(EXCEPTION_EVENT));
        assert_eq!(
            mark.on_event(Cow::Borrowed(EXCEPTION_EVENT), &first),
            recorded
        );
        assert_eq!(mark.on_event(returned.clone(), &first), EventAction::Skip);
        let other = exception("io::Error", "refused");
        assert_eq!(mark.on_event(returned.clone(), &other), recorded);
        let other_type = exception("fmt::Error", "refused");
        assert_eq!(mark.on_event(returned, &other_type), recorded);
        assert_eq!(
            mark.on_event(Cow::Borrowed(SUCCEEDED_EVENT), &[]),
            EventAction::Skip
        );
        let mut mark = ErrorMark::default();
        mark.on_status(&Status::error("set by hand"));
        assert_eq!(
            mark.on_event(Cow::Borrowed(SUCCEEDED_EVENT), &[]),
            EventAction::Skip
        );
    }
}
