//! The PRODUCER span of a message sent: `{operation} {destination}`, its context injected into
//! the message's headers.

use std::any::type_name;
use std::borrow::Cow;
use std::error::Error;
use std::fmt;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue};

use super::MessageInfo;
use crate::pipeline::scope;
use crate::propagation::{self, InjectCarrier};
use crate::semconv::{MESSAGING_OPERATION_NAME, MESSAGING_OPERATION_TYPE};
use crate::span::OperationSpan;

/// `messaging.operation.type` of a span that sends a message.
pub(crate) const SEND: &str = "send";

/// The PRODUCER span of one message sent (or of one batch): started before the message is
/// built, [injected](Self::inject) into its headers, ended when the broker accepted it (or
/// refused it).
///
/// Dropped without being ended (a cancelled publish), it ends marked `traced.cancelled`.
#[must_use = "the span ends when `end` is called or when it is dropped"]
pub struct ProducerSpan {
    span: OperationSpan,
}

impl fmt::Debug for ProducerSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProducerSpan")
            .field("context", self.span.context())
            .finish()
    }
}

impl ProducerSpan {
    /// Starts the span `{operation_name} {destination}` (`publish orders`, `send orders`) as a
    /// child of the current span, with `messaging.operation.type = "send"` and
    /// `messaging.operation.name = operation_name`, and the attributes of `info`.
    pub fn start(operation_name: impl Into<Cow<'static, str>>, info: &MessageInfo) -> Self {
        Context::map_current(|cx| Self::start_with_parent(operation_name, info, cx))
    }

    /// [`start`](Self::start) under `parent` instead of the current context.
    pub fn start_with_parent(
        operation_name: impl Into<Cow<'static, str>>,
        info: &MessageInfo,
        parent: &Context,
    ) -> Self {
        let operation_name = operation_name.into();
        let name = format!("{operation_name} {}", info.span_destination());
        let mut attributes = info.attributes();
        attributes.push(KeyValue::new(MESSAGING_OPERATION_TYPE, SEND));
        attributes.push(KeyValue::new(MESSAGING_OPERATION_NAME, operation_name));
        ProducerSpan {
            span: OperationSpan::start(
                scope::integration(scope::MESSAGING_SCOPE_NAME),
                name.into(),
                SpanKind::Producer,
                attributes,
                parent,
            ),
        }
    }

    /// The context holding this span (with the parent's baggage).
    pub fn context(&self) -> &Context {
        self.span.context()
    }

    /// Writes this span's context (`traceparent`, `tracestate`) and the baggage into the
    /// message's headers, through the global propagator: any
    /// [`Injector`](opentelemetry::propagation::Injector) (`&mut carrier as &mut dyn Injector`),
    /// a `HashMap<String, String>`, or an `http::HeaderMap`.
    pub fn inject<C: InjectCarrier + ?Sized>(&self, carrier: &mut C) {
        propagation::inject_context(self.span.context(), carrier);
    }

    /// Sets an attribute (a message id known only once the broker answered, ...).
    pub fn set_attribute(&self, attribute: KeyValue) {
        self.span.set_attribute(attribute);
    }

    /// Ends the span: the message was sent.
    pub fn end(mut self) {
        self.span.end();
    }

    /// Ends the span with status ERROR, `error.type` (the error's Rust type) and an
    /// `exception` event with the `source()` chain: the message was not sent.
    pub fn end_with_error<E: Error + 'static>(mut self, error: &E) {
        self.span
            .record_error(type_name::<E>(), type_name::<E>(), error);
        self.span.end();
    }

    /// [`end_with_error`](Self::end_with_error) with an `error.type` of your choosing (the
    /// class of failure: `timeout`, `no_responders`, a broker's error code).
    pub fn end_with_error_as<E: Error + 'static>(
        mut self,
        error_type: impl Into<Cow<'static, str>>,
        error: &E,
    ) {
        self.span.record_error(error_type, type_name::<E>(), error);
        self.span.end();
    }

    /// Ends the span with status ERROR, `error.type = error_type` and the message as the
    /// status description, for failures that are not a `std::error::Error`.
    pub fn end_with_failure(
        mut self,
        error_type: impl Into<Cow<'static, str>>,
        message: impl fmt::Display,
    ) {
        self.span.set_error(error_type, message.to_string());
        self.span.end();
    }

    /// Ends the span after `result`: [`end`](Self::end) for `Ok`,
    /// [`end_with_error`](Self::end_with_error) for `Err`.
    pub fn end_with<T, E: Error + 'static>(self, result: &Result<T, E>) {
        match result {
            Ok(_) => self.end(),
            Err(error) => self.end_with_error(error),
        }
    }
}
