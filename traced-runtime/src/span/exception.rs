//! Recording an error or a panic on a span: the `exception` event of the OpenTelemetry
//! semantic conventions, `error.type`, and status ERROR. Once per span and error.

use std::any::Any;
use std::borrow::Cow;
use std::cell::Cell;

use opentelemetry::trace::{SpanId, SpanRef, Status};
use opentelemetry::KeyValue;

use crate::span::outcome::{ErrorView, Message};

pub(crate) use crate::semconv::{
    ERROR_TYPE, EXCEPTION_EVENT, EXCEPTION_MESSAGE, EXCEPTION_STACKTRACE, EXCEPTION_TYPE,
};
/// `exception.type` and `error.type` of a panic.
pub(crate) const PANIC_TYPE: &str = "panic";

thread_local! {
    /// The span on which `record_error` was last called on this thread. When the traced
    /// function then returns the error, its span already has the event: it is not added twice.
    static RECORDED: Cell<Option<SpanId>> = const { Cell::new(None) };
}

/// A span an exception can be recorded on: the SDK's (through the context) or a fast-path record.
pub(crate) trait ErrorSink {
    fn span_id(&self) -> SpanId;
    fn add_event(&mut self, name: &'static str, attributes: Vec<KeyValue>);
    fn set_attribute(&mut self, attribute: KeyValue);
    fn set_status(&mut self, status: Status);
}

impl ErrorSink for SpanRef<'_> {
    fn span_id(&self) -> SpanId {
        self.span_context().span_id()
    }
    fn add_event(&mut self, name: &'static str, attributes: Vec<KeyValue>) {
        SpanRef::add_event(self, name, attributes);
    }
    fn set_attribute(&mut self, attribute: KeyValue) {
        SpanRef::set_attribute(self, attribute);
    }
    fn set_status(&mut self, status: Status) {
        SpanRef::set_status(self, status);
    }
}

/// Adds the exception event, `error.type` and status ERROR to `span`.
pub(crate) fn record(span: &mut (impl ErrorSink + ?Sized), error: &ErrorView<'_>) {
    record_parts(
        span,
        Cow::Borrowed(error.type_name),
        error.type_name,
        error.message.to_string(),
        error.stacktrace(),
    );
    RECORDED.with(|recorded| recorded.set(Some(span.span_id())));
}

/// The one exception recorder: the `exception` event (`exception.type`, `.message`,
/// `.stacktrace`), `error.type` (the semantic conventions' short class of failure: the error's
/// type for a traced function, `timeout` or a status code for an HTTP request) and status
/// ERROR with the message.
pub(crate) fn record_parts(
    span: &mut (impl ErrorSink + ?Sized),
    error_type: Cow<'static, str>,
    exception_type: &'static str,
    message: String,
    stacktrace: String,
) {
    span.add_event(
        EXCEPTION_EVENT,
        vec![
            KeyValue::new(EXCEPTION_TYPE, exception_type),
            KeyValue::new(EXCEPTION_MESSAGE, message.clone()),
            KeyValue::new(EXCEPTION_STACKTRACE, stacktrace),
        ],
    );
    span.set_attribute(KeyValue::new(ERROR_TYPE, error_type));
    span.set_status(Status::error(message));
}

/// Whether `record` already ran for this span since it started; forgets it either way.
pub(crate) fn take_recorded(span: SpanId) -> bool {
    RECORDED
        .try_with(|recorded| {
            if recorded.get() == Some(span) {
                recorded.set(None);
                true
            } else {
                false
            }
        })
        .unwrap_or(false)
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
