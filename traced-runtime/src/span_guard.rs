//! The span of one traced call: started with the callsite's static data, made current while
//! the body runs, ended exactly once with the outcome (success, error, panic or cancellation).

use std::any::Any;
use std::borrow::Cow;
use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};

use opentelemetry::trace::{Span, SpanBuilder, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, ContextGuard, Key, KeyValue, Value};

use crate::callsite::Callsite;
use crate::exception;
use crate::outcome::Outcome;
use crate::tracer::{self, Tracer};

pub(crate) const CODE_FUNCTION_NAME: &str = "code.function.name";
pub(crate) const CODE_FILE_PATH: &str = "code.file.path";
pub(crate) const CODE_LINE_NUMBER: &str = "code.line.number";
/// Set on a span whose future was dropped before it completed.
pub const CANCELLED: &str = "traced.cancelled";
/// The return value recorded by `#[traced(ret)]`.
pub const RETURN_VALUE: &str = "return.value";

/// The attributes of a span being started; filled only when the span is recording.
pub struct Attributes(Vec<KeyValue>);

impl Attributes {
    /// Adds one attribute.
    #[inline]
    pub fn push(&mut self, key: &'static str, value: Value) {
        self.0.push(KeyValue::new(Key::from_static_str(key), value));
    }
}

/// A started span; ends it when finished or dropped.
#[must_use = "the span ends when the guard is finished or dropped"]
pub struct SpanGuard {
    /// The span's context, to make current while the body runs. `None` when there is nothing to
    /// make current: no tracer, or an unsampled span whose parent already carries the decision.
    cx: Option<Context>,
    recording: bool,
    unset_status: bool,
    finished: bool,
}

impl SpanGuard {
    /// Starts the span of a `#[traced]` function. `attrs` runs only if the span is recording.
    #[inline]
    pub fn start(
        callsite: &'static Callsite,
        parent: Option<&Context>,
        attrs: impl FnOnce(&mut Attributes),
    ) -> Self {
        let builder = SpanBuilder::from_name(callsite.name).with_kind(callsite.kind.clone());
        Self::start_with(
            builder,
            parent,
            callsite.unset_status,
            3 + callsite.attr_count,
            |attributes| {
                attributes.push(CODE_FUNCTION_NAME, Value::from(callsite.function));
                attributes.push(CODE_FILE_PATH, Value::from(callsite.file));
                attributes.push(CODE_LINE_NUMBER, Value::I64(i64::from(callsite.line)));
                attrs(attributes);
            },
        )
    }

    /// Starts a span named at run time (`in_span`), with status Unset on success.
    pub(crate) fn start_named(
        name: Cow<'static, str>,
        location: &'static panic::Location<'static>,
    ) -> Self {
        Self::start_with(SpanBuilder::from_name(name), None, true, 2, |attributes| {
            attributes.push(CODE_FILE_PATH, Value::from(location.file()));
            attributes.push(CODE_LINE_NUMBER, Value::I64(i64::from(location.line())));
        })
    }

    fn start_with(
        builder: SpanBuilder,
        parent: Option<&Context>,
        unset_status: bool,
        capacity: usize,
        attrs: impl FnOnce(&mut Attributes),
    ) -> Self {
        tracer::with_tracer(|tracer| match tracer {
            Tracer::Sdk(tracer) => {
                let span = with_parent(parent, |parent| tracer.build_with_context(builder, parent));
                Self::from_span(span, parent, unset_status, capacity, attrs)
            }
            Tracer::Global(tracer) => {
                let span = with_parent(parent, |parent| tracer.build_with_context(builder, parent));
                Self::from_span(span, parent, unset_status, capacity, attrs)
            }
        })
    }

    fn from_span<S: Span + Send + Sync + 'static>(
        mut span: S,
        parent: Option<&Context>,
        unset_status: bool,
        capacity: usize,
        attrs: impl FnOnce(&mut Attributes),
    ) -> Self {
        let recording = span.is_recording();
        let cx = if recording {
            let mut attributes = Attributes(Vec::with_capacity(capacity));
            attrs(&mut attributes);
            span.set_attributes(attributes.0);
            Some(with_parent(parent, |parent| parent.with_span(span)))
        } else {
            let span_context = span.span_context();
            if !span_context.is_valid() {
                // A no-op tracer: nothing to record, nothing to propagate.
                None
            } else if with_parent(parent, |parent| {
                let parent = parent.span();
                let parent = parent.span_context();
                parent.is_valid()
                    && !parent.is_sampled()
                    && parent.trace_id() == span_context.trace_id()
            }) {
                // Unsampled below an unsampled parent of the same trace: the parent's context
                // already carries the decision to children and propagators, so none is built.
                parent.cloned()
            } else {
                let span_context = span_context.clone();
                Some(with_parent(parent, |parent| {
                    parent.with_remote_span_context(span_context)
                }))
            }
        };
        SpanGuard {
            cx,
            recording,
            unset_status,
            finished: false,
        }
    }

    /// Makes the span current until the returned guard is dropped.
    #[inline]
    pub fn enter(&self) -> Option<ContextGuard> {
        self.cx.clone().map(Context::attach)
    }

    /// Runs `f` with the span current. A panic in `f` is recorded, ends the span, and goes on.
    #[inline]
    pub fn in_scope<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let entered = self.enter();
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        drop(entered);
        match result {
            Ok(value) => value,
            Err(payload) => {
                self.record_panic(&*payload);
                panic::resume_unwind(payload)
            }
        }
    }

    /// Records a panic that is unwinding through the span, and ends it.
    pub fn record_panic(&mut self, payload: &(dyn Any + Send)) {
        if self.finished {
            return;
        }
        self.finished = true;
        if let Some(span) = self.recording_span() {
            let span = span.span();
            exception::record_panic(&span, exception::panic_message(payload));
            span.end();
        }
    }

    /// `#[traced(ret)]`: records the returned value (the `Ok` value of a `Result`).
    pub fn record_return(&self, value: Option<&dyn Debug>) {
        if let (Some(cx), Some(value)) = (self.recording_span(), value) {
            cx.span()
                .set_attribute(KeyValue::new(RETURN_VALUE, format!("{value:?}")));
        }
    }

    /// Ends the span with the function's outcome.
    #[inline]
    pub fn finish(mut self, outcome: Outcome<'_>) {
        self.finished = true;
        let Some(cx) = self.recording_span() else {
            return;
        };
        let span = cx.span();
        let already_recorded = exception::take_recorded(span.span_context().span_id());
        match outcome {
            Outcome::Success if !self.unset_status && !already_recorded => {
                span.set_status(Status::Ok);
            }
            Outcome::Error(error) if !already_recorded => exception::record(&span, &error),
            _ => {}
        }
        span.end();
    }

    fn recording_span(&self) -> Option<&Context> {
        self.cx.as_ref().filter(|_| self.recording)
    }
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let Some(cx) = self.recording_span() else {
            return;
        };
        let span = cx.span();
        if std::thread::panicking() {
            exception::record_panic(&span, "panicked");
        } else {
            // The future was dropped before it completed: a timeout, a `select!`, an abort.
            span.set_attribute(KeyValue::new(CANCELLED, true));
        }
        span.end();
    }
}

#[inline]
fn with_parent<R>(parent: Option<&Context>, f: impl FnOnce(&Context) -> R) -> R {
    match parent {
        Some(parent) => f(parent),
        None => Context::map_current(f),
    }
}
