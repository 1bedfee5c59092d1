//! The span of one traced call: started with the callsite's static data, made current while
//! the body runs, ended exactly once with the outcome (success, error, panic or cancellation).
//!
//! With a [`SpanPipeline`](crate::SpanPipeline) installed, a sampled span is recorded on the fast
//! path: the sampler decides, ids come from a per-thread generator, the record lives in this
//! guard (attributes inline), and at the end it is handed to the collector thread through a
//! lock-free per-thread queue. The context made current holds the span's ids, so spans of the
//! opentelemetry API started inside are its children. Otherwise the span is the SDK's.

use std::any::Any;
use std::borrow::Cow;
use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe, Location};

use opentelemetry::trace::{
    Span, SpanBuilder, SpanContext, SpanKind, Status, TraceContextExt as _, Tracer as _,
};
use opentelemetry::{Context, Key, KeyValue, Value};
use opentelemetry_sdk::trace::SamplingDecision;

use crate::active::{self, FastSpan};
use crate::callsite::Callsite;
use crate::clock;
use crate::exception::{self, ErrorSink};
use crate::ids;
use crate::outcome::Outcome;
use crate::pipeline::FastTracer;
use crate::record::{Code, InlineAttributes, SpanRecord};
use crate::tracer::{self, Tracer};

/// Set on a span whose future was dropped before it completed.
pub const CANCELLED: &str = "traced.cancelled";
/// The return value recorded by `#[traced(ret)]`.
pub const RETURN_VALUE: &str = "return.value";

/// The attributes of a span being started; filled only when the span is recording.
pub struct Attributes(InlineAttributes);

impl Attributes {
    /// Adds one attribute.
    #[inline]
    pub fn push(&mut self, key: &'static str, value: Value) {
        self.0.push(KeyValue::new(Key::from_static_str(key), value));
    }
}

/// How the span is recorded.
// The fast record is kept inline: boxing it would cost every sampled span an allocation, while
// its size costs unsampled guards only when they are moved.
#[allow(clippy::large_enum_variant)]
enum Recording {
    /// Not at all: no tracer, or not sampled.
    No,
    /// By the SDK, through the span in the context.
    Sdk,
    /// On the fast path, in this record.
    Fast(FastRecord),
}

/// A fast-path record, kept in the guard (no allocation), and the pipeline it goes to.
struct FastRecord {
    record: SpanRecord,
    tracer: &'static FastTracer,
}

/// A started span; ends it when finished or dropped.
#[must_use = "the span ends when the guard is finished or dropped"]
pub struct SpanGuard {
    /// The span's context, to make current while the body runs. `None` when there is nothing to
    /// make current: no tracer, or an unsampled span whose parent already carries the decision.
    cx: Option<Context>,
    recording: Recording,
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
        Self::start_with(
            Cow::Borrowed(callsite.name),
            &callsite.kind,
            Code::Callsite(callsite),
            parent,
            callsite.unset_status,
            callsite.attr_count,
            attrs,
        )
    }

    /// Starts a span named at run time (`in_span`), with status Unset on success.
    pub(crate) fn start_named(
        name: Cow<'static, str>,
        location: &'static Location<'static>,
    ) -> Self {
        Self::start_with(
            name,
            &SpanKind::Internal,
            Code::Location(location),
            None,
            true,
            0,
            |_| {},
        )
    }

    fn start_with(
        name: Cow<'static, str>,
        kind: &SpanKind,
        code: Code,
        parent: Option<&Context>,
        unset_status: bool,
        attr_count: usize,
        attrs: impl FnOnce(&mut Attributes),
    ) -> Self {
        tracer::with_tracer(|tracer| match tracer {
            Tracer::Fast { tracer, .. } => {
                Self::start_fast(tracer, name, kind, code, parent, unset_status, attrs)
            }
            Tracer::Sdk(sdk) => {
                let builder = SpanBuilder::from_name(name).with_kind(kind.clone());
                let span = with_parent(parent, |parent| sdk.build_with_context(builder, parent));
                Self::from_sdk_span(span, code, parent, unset_status, attr_count, attrs)
            }
            Tracer::Global(global) => {
                let builder = SpanBuilder::from_name(name).with_kind(kind.clone());
                let span = with_parent(parent, |parent| global.build_with_context(builder, parent));
                if !span.span_context().is_valid()
                    && !with_parent(parent, Context::is_telemetry_suppressed)
                {
                    // The no-op provider: stop asking it on this thread.
                    tracer::disable_global();
                }
                Self::from_sdk_span(span, code, parent, unset_status, attr_count, attrs)
            }
            Tracer::Disabled => Self::not_recording(None, unset_status),
        })
    }

    fn not_recording(cx: Option<Context>, unset_status: bool) -> Self {
        SpanGuard {
            cx,
            recording: Recording::No,
            unset_status,
            finished: false,
        }
    }

    fn start_fast(
        tracer: &'static FastTracer,
        name: Cow<'static, str>,
        kind: &SpanKind,
        code: Code,
        parent: Option<&Context>,
        unset_status: bool,
        attrs: impl FnOnce(&mut Attributes),
    ) -> Self {
        if tracer.collector.is_shut_down() {
            return Self::not_recording(None, unset_status);
        }
        let decided = with_parent(parent, |parent_cx| {
            if parent_cx.is_telemetry_suppressed() {
                return None;
            }
            let parent_span = parent_cx.span();
            let parent = parent_span.span_context();
            let trace_id = if parent.is_valid() {
                parent.trace_id()
            } else {
                ids::trace_id()
            };
            let result =
                tracer
                    .sampler
                    .should_sample(Some(parent_cx), trace_id, &name, kind, &[], &[]);
            let flags = parent.trace_flags();
            let flags = match result.decision {
                SamplingDecision::RecordAndSample => flags.with_sampled(true),
                _ => flags.with_sampled(false),
            };
            let span_context =
                SpanContext::new(trace_id, ids::span_id(), flags, false, result.trace_state);
            Some((
                result.decision,
                result.attributes,
                span_context,
                parent.clone(),
            ))
        });
        let Some((decision, sampler_attributes, span_context, parent_span)) = decided else {
            return Self::not_recording(None, unset_status);
        };
        if decision == SamplingDecision::Drop {
            let cx = unsampled_context(parent, &parent_span, span_context);
            return Self::not_recording(cx, unset_status);
        }
        let mut attributes = Attributes(InlineAttributes::new());
        attrs(&mut attributes);
        attributes.0.extend(sampler_attributes);
        let now = clock::now();
        let record = SpanRecord {
            name,
            kind: kind.clone(),
            span_context: span_context.clone(),
            parent_span_id: parent_span.span_id(),
            parent_is_remote: parent_span.is_remote(),
            start: now,
            end: now,
            code,
            attributes: attributes.0,
            events: Vec::new(),
            status: Status::Unset,
        };
        let cx = with_parent(parent, |parent| parent.with_span(FastSpan { span_context }));
        SpanGuard {
            cx: Some(cx),
            recording: Recording::Fast(FastRecord { record, tracer }),
            unset_status,
            finished: false,
        }
    }

    fn from_sdk_span<S: Span + Send + Sync + 'static>(
        mut span: S,
        code: Code,
        parent: Option<&Context>,
        unset_status: bool,
        attr_count: usize,
        attrs: impl FnOnce(&mut Attributes),
    ) -> Self {
        if span.is_recording() {
            let mut attributes = Attributes(InlineAttributes::with_capacity(attr_count + 3));
            attributes.0.extend(code.attributes());
            attrs(&mut attributes);
            span.set_attributes(attributes.0);
            let cx = with_parent(parent, |parent| parent.with_span(span));
            return SpanGuard {
                cx: Some(cx),
                recording: Recording::Sdk,
                unset_status,
                finished: false,
            };
        }
        let span_context = span.span_context().clone();
        if !span_context.is_valid() {
            // A no-op tracer: nothing to record, nothing to propagate.
            return Self::not_recording(None, unset_status);
        }
        let parent_span = with_parent(parent, |parent| parent.span().span_context().clone());
        let cx = unsampled_context(parent, &parent_span, span_context);
        Self::not_recording(cx, unset_status)
    }

    /// Runs `f` with the span current: its context attached, its record reachable.
    #[inline]
    fn run_entered<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let _attached = self.cx.clone().map(Context::attach);
        match &mut self.recording {
            Recording::Fast(fast) => {
                let span_id = fast.record.span_context.span_id();
                active::enter(span_id, &mut fast.record, f)
            }
            _ => f(),
        }
    }

    /// Runs `f` with the span current. A panic in `f` is recorded, ends the span, and goes on.
    #[inline]
    pub fn in_scope<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let result = self.run_entered(|| panic::catch_unwind(AssertUnwindSafe(f)));
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
        let message = exception::panic_message(payload);
        self.end_with(|sink| exception::record_panic(sink, message));
    }

    /// `#[traced(ret)]`: records the returned value (the `Ok` value of a `Result`).
    pub fn record_return(&mut self, value: Option<&dyn Debug>) {
        let Some(value) = value else { return };
        let attribute = || KeyValue::new(RETURN_VALUE, format!("{value:?}"));
        match &mut self.recording {
            Recording::No => {}
            Recording::Sdk => {
                if let Some(cx) = &self.cx {
                    cx.span().set_attribute(attribute());
                }
            }
            Recording::Fast(fast) => fast.record.set_attribute(attribute()),
        }
    }

    /// Ends the span with the function's outcome.
    #[inline]
    pub fn finish(mut self, outcome: Outcome<'_>) {
        if matches!(self.recording, Recording::No) {
            self.finished = true;
            return;
        }
        let unset_status = self.unset_status;
        self.end_with(|sink| {
            let already_recorded = exception::take_recorded(sink.span_id());
            match outcome {
                Outcome::Success if !unset_status && !already_recorded => {
                    sink.set_status(Status::Ok);
                }
                Outcome::Error(error) if !already_recorded => exception::record(sink, &error),
                _ => {}
            }
        });
    }

    /// Lets `f` record the last things on the span, then ends it, once.
    fn end_with(&mut self, f: impl FnOnce(&mut dyn ErrorSink)) {
        self.finished = true;
        match std::mem::replace(&mut self.recording, Recording::No) {
            Recording::No => {}
            Recording::Sdk => {
                if let Some(cx) = &self.cx {
                    let mut span = cx.span();
                    f(&mut span);
                    span.end();
                }
            }
            Recording::Fast(FastRecord { mut record, tracer }) => {
                f(&mut record);
                record.end();
                tracer::push_record(tracer, record);
            }
        }
    }
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if self.finished || matches!(self.recording, Recording::No) {
            return;
        }
        if std::thread::panicking() {
            self.end_with(|sink| exception::record_panic(sink, "panicked"));
        } else {
            // The future was dropped before it completed: a timeout, a `select!`, an abort.
            self.end_with(|sink| sink.set_attribute(KeyValue::new(CANCELLED, true)));
        }
    }
}

/// The context for an unsampled span: none when the parent's context already carries the
/// decision (an unsampled parent of the same trace), so that nothing is allocated; else one with
/// the span's ids, so that children and propagators see the decision.
fn unsampled_context(
    parent: Option<&Context>,
    parent_span: &SpanContext,
    span_context: SpanContext,
) -> Option<Context> {
    if parent_span.is_valid()
        && !parent_span.is_sampled()
        && parent_span.trace_id() == span_context.trace_id()
    {
        parent.cloned()
    } else {
        Some(with_parent(parent, |parent| {
            parent.with_remote_span_context(span_context)
        }))
    }
}

#[inline]
fn with_parent<R>(parent: Option<&Context>, f: impl FnOnce(&Context) -> R) -> R {
    match parent {
        Some(parent) => f(parent),
        None => Context::map_current(f),
    }
}
