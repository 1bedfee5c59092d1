//! Manual instrumentation without boilerplate: the current span, events, errors, ad-hoc spans.
//!
//! ```
//! use traced_runtime::{add_event, current_span, in_span, KeyValue};
//!
//! #[traced_runtime::traced]
//! fn process(items: &[u32]) {
//!     current_span().set_attribute("order.items", items.len());
//!     add_event("processing_started", [KeyValue::new("items", 10_i64)]);
//!     let total: u32 = in_span("sum", || items.iter().sum());
//!     current_span().set_attribute("order.total", total);
//! }
//! # process(&[1, 2]);
//! ```

use std::borrow::Cow;
use std::error::Error;
use std::future::Future;
use std::panic::Location;

use opentelemetry::trace::{SpanContext, Status, TraceContextExt as _};
use opentelemetry::{Context, Key, KeyValue};

use crate::span::exception;
use crate::span::guard::SpanGuard;
use crate::span::instrument::Instrumented;
use crate::span::outcome::{ErrorView, Outcome};
use crate::span::value::AttrValue;

/// The span that is current on this thread: the innermost `#[traced]` function, `in_span`, or a
/// span made current through the opentelemetry API.
///
/// Every method does nothing when there is no current span or it is not recording.
pub fn current_span() -> CurrentSpan {
    CurrentSpan {
        cx: Context::current(),
    }
}

/// A handle on the span that was current when [`current_span`] was called.
#[derive(Clone, Debug)]
pub struct CurrentSpan {
    cx: Context,
}

impl CurrentSpan {
    /// Sets an attribute; values map as in `#[traced(attrs(..))]` (integers, floats, bools,
    /// strings and slices of these).
    pub fn set_attribute(&self, key: impl Into<Key>, value: impl AttrValue) {
        let span = self.cx.span();
        if span.is_recording() {
            span.set_attribute(KeyValue::new(key, value.to_value()));
        }
    }

    /// Adds an event: a point in time with attributes.
    pub fn add_event(
        &self,
        name: impl Into<Cow<'static, str>>,
        attributes: impl IntoIterator<Item = KeyValue>,
    ) {
        let span = self.cx.span();
        if span.is_recording() {
            span.add_event(name, attributes.into_iter().collect());
        }
    }

    /// Records `error` as the `#[traced]` macro does: an `exception` event, `error.type`, status
    /// ERROR. When the traced function then returns the same error (same type and message), it
    /// is not recorded twice: the span keeps the mark, whatever thread the function ends on and
    /// whatever traced functions fail in between. Another error returned is recorded too, and
    /// its message becomes the status message.
    pub fn record_error<E: Error + 'static>(&self, error: &E) {
        let mut span = self.cx.span();
        if span.is_recording() {
            exception::record(&mut span, &ErrorView::of(error));
        }
    }

    /// Sets the status (`Status::Ok` is final, as the specification says).
    pub fn set_status(&self, status: Status) {
        self.cx.span().set_status(status);
    }

    /// Whether the span records what is set on it (it is sampled, or recording only).
    pub fn is_recording(&self) -> bool {
        self.cx.span().is_recording()
    }

    /// The span's ids and flags.
    pub fn span_context(&self) -> SpanContext {
        self.cx.span().span_context().clone()
    }

    /// The context holding the span, e.g. to pass as `parent` or to a spawned task.
    pub fn context(&self) -> &Context {
        &self.cx
    }
}

/// Adds an event to the current span. See [`CurrentSpan::add_event`].
pub fn add_event(
    name: impl Into<Cow<'static, str>>,
    attributes: impl IntoIterator<Item = KeyValue>,
) {
    current_span().add_event(name, attributes);
}

/// Records an error on the current span. See [`CurrentSpan::record_error`].
pub fn record_error<E: Error + 'static>(error: &E) {
    current_span().record_error(error);
}

/// Runs `f` in a new child span named `name`, current while `f` runs. The status stays Unset
/// (set it with `current_span().set_status(..)`), except for a panic, recorded as an error.
///
/// Inside a `#[traced]` function, the span carries that function's instrumentation scope (its
/// crate's name and version) and its `code.function.name`; `code.file.path` and
/// `code.line.number` are where `in_span` is called.
#[track_caller]
pub fn in_span<R>(name: impl Into<Cow<'static, str>>, f: impl FnOnce() -> R) -> R {
    let mut span = SpanGuard::start_named(name.into(), Location::caller());
    let result = span.in_scope(f);
    span.finish(Outcome::Success);
    result
}

/// Runs `future` in a new child span named `name`, current during every poll. See [`in_span`].
///
/// The span starts when this is called and ends when the future completes or is dropped.
#[track_caller]
pub fn in_span_async<F: Future>(
    name: impl Into<Cow<'static, str>>,
    future: F,
) -> impl Future<Output = F::Output> {
    let mut span = SpanGuard::start_named(name.into(), Location::caller());
    async move {
        let result = Instrumented::new(&mut span, future).await;
        span.finish(Outcome::Success);
        result
    }
}
