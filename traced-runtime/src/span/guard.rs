//! The span of one traced call: started with the callsite's static data, made current while
//! the body runs, ended exactly once with the outcome (success, error, panic or cancellation).
//!
//! With a [`SpanPipeline`](crate::SpanPipeline) installed, a sampled span is recorded on the fast
//! path: the sampler decides, ids come from a per-thread generator, timestamps from the span
//! clock, and the record (attributes inline) lives in a `FastSpan` in the span's context, which
//! hands it to the collector thread through a lock-free per-thread queue when it ends. Through
//! that context the opentelemetry API sees the span as any other: current, recording, parent of
//! the spans started inside. Without a pipeline the span is the SDK's.

use std::any::Any;
use std::borrow::Cow;
use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe, Location};

use opentelemetry::trace::{
    Span, SpanBuilder, SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId,
    Tracer as _,
};
use opentelemetry::{Context, Key, KeyValue, Value};
use opentelemetry_sdk::trace::SamplingDecision;

use crate::pipeline::clock;
use crate::pipeline::dispatch::{self, Tracer};
use crate::pipeline::fast_span::{end_succeeded, FastSpan, END_NOW};
use crate::pipeline::fast_tracer::TracerRef;
use crate::pipeline::ids;
use crate::pipeline::record::{Code, InlineAttributes};
use crate::semconv::{CANCELLED, RETURN_VALUE};
use crate::span::callsite::{self, Callsite};
use crate::span::exception::{self, ErrorSink, Marked};
use crate::span::outcome::Outcome;

/// The attributes of a span being started; filled only when the span is recording, in place
/// (in the span's record, on the fast path).
#[derive(Debug)]
pub struct Attributes<'a>(&'a mut InlineAttributes);

impl Attributes<'_> {
    /// Adds one attribute.
    #[inline]
    pub fn push(&mut self, key: &'static str, value: Value) {
        self.0.push(KeyValue::new(Key::from_static_str(key), value));
    }
}

/// A started span; ends it when finished or dropped.
#[must_use = "the span ends when the guard is finished or dropped"]
#[derive(Debug)]
pub struct SpanGuard {
    /// The span's context, to make current while the body runs. `None` when there is nothing to
    /// make current: no tracer, or an unsampled span whose parent already carries the decision.
    cx: Option<Context>,
    /// Whether the span in `cx` records (and so must be ended).
    recording: bool,
    /// Whether that span is a `FastSpan`, which ends at the span clock's time.
    fast: bool,
    unset_status: bool,
    finished: bool,
    /// The `#[traced]` function, made the running one on this thread while its body runs (for
    /// the scope and `code.function.name` of `in_span` spans inside); `None` for `in_span`.
    callsite: Option<&'static Callsite>,
}

impl SpanGuard {
    /// Starts the span of a `#[traced]` function. `attrs` runs only if the span is recording.
    #[inline]
    pub fn start(
        callsite: &'static Callsite,
        parent: Option<&Context>,
        attrs: impl FnOnce(&mut Attributes<'_>),
    ) -> Self {
        // Nothing installed: one check, no call.
        if dispatch::disabled() {
            return Self::not_recording(None, true);
        }
        let mut guard = Self::start_with(
            Cow::Borrowed(callsite.name),
            &callsite.kind,
            Code::Callsite(callsite),
            parent,
            callsite.unset_status,
            callsite.attr_count,
            attrs,
        );
        guard.callsite = Some(callsite);
        guard
    }

    /// Starts a span named at run time (`in_span`), with status Unset on success.
    pub(crate) fn start_named(
        name: Cow<'static, str>,
        location: &'static Location<'static>,
    ) -> Self {
        Self::start_with(
            name,
            &SpanKind::Internal,
            Code::Location {
                location,
                within: callsite::current(),
            },
            None,
            true,
            0,
            |_| {},
        )
    }

    /// Starts a span on the tracer of this thread.
    #[inline(never)]
    fn start_with(
        name: Cow<'static, str>,
        kind: &SpanKind,
        code: Code,
        parent: Option<&Context>,
        unset_status: bool,
        attr_count: usize,
        attrs: impl FnOnce(&mut Attributes<'_>),
    ) -> Self {
        if let Some(fast) = dispatch::installed_fast() {
            let tracer = TracerRef::Installed(fast);
            return Self::start_fast(&tracer, name, kind, code, parent, unset_status, attrs);
        }
        dispatch::with_tracer(|tracer| match tracer {
            Tracer::Fast(tracer) => {
                Self::start_fast(tracer, name, kind, code, parent, unset_status, attrs)
            }
            Tracer::Disabled => Self::not_recording(None, unset_status),
            Tracer::Sdk(_) | Tracer::Global(_) => {
                // The SDK tracer of the crate's scope, resolved once per thread.
                dispatch::with_scoped_tracer(tracer, code.scope(), |tracer| {
                    Self::start_sdk(
                        tracer,
                        name,
                        kind,
                        code,
                        parent,
                        unset_status,
                        attr_count,
                        attrs,
                    )
                })
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn start_sdk(
        tracer: &Tracer,
        name: Cow<'static, str>,
        kind: &SpanKind,
        code: Code,
        parent: Option<&Context>,
        unset_status: bool,
        attr_count: usize,
        attrs: impl FnOnce(&mut Attributes<'_>),
    ) -> Self {
        let builder = SpanBuilder::from_name(name).with_kind(kind.clone());
        match tracer {
            Tracer::Sdk(sdk) => {
                let span = with_parent(parent, |parent| sdk.build_with_context(builder, parent));
                Self::from_sdk_span(span, code, parent, unset_status, attr_count, attrs)
            }
            Tracer::Global(global) => {
                let span = with_parent(parent, |parent| global.build_with_context(builder, parent));
                if !span.span_context().is_valid()
                    && !with_parent(parent, Context::is_telemetry_suppressed)
                {
                    // The no-op provider: stop asking it on this thread.
                    dispatch::disable_global();
                }
                Self::from_sdk_span(span, code, parent, unset_status, attr_count, attrs)
            }
            Tracer::Fast(_) | Tracer::Disabled => Self::not_recording(None, unset_status),
        }
    }

    fn not_recording(cx: Option<Context>, unset_status: bool) -> Self {
        SpanGuard {
            cx,
            recording: false,
            fast: false,
            unset_status,
            finished: false,
            callsite: None,
        }
    }

    fn start_fast(
        tracer: &TracerRef,
        name: Cow<'static, str>,
        kind: &SpanKind,
        code: Code,
        parent: Option<&Context>,
        unset_status: bool,
        attrs: impl FnOnce(&mut Attributes<'_>),
    ) -> Self {
        if tracer.collector.is_shut_down() {
            return Self::not_recording(None, unset_status);
        }
        let decided = with_parent(parent, |parent_cx| {
            if parent_cx.is_telemetry_suppressed() {
                return None;
            }
            let parent_span = parent_cx.span();
            let parent = ParentIds::of(parent_span.span_context());
            if tracer.parent_based.is_some() && parent.valid {
                // A parent-based sampler follows the parent, without being asked.
                if !parent.sampled {
                    // The parent's context carries the decision to children and propagators:
                    // no ids, no context, no allocation.
                    return Some(Decided::FollowParent);
                }
                let span_context = SpanContext::new(
                    parent.trace_id,
                    ids::span_id(),
                    parent.flags,
                    false,
                    parent_span.span_context().trace_state().clone(),
                );
                return Some(Decided::New {
                    decision: SamplingDecision::RecordAndSample,
                    sampler_attributes: Vec::new(),
                    span_context,
                    parent,
                });
            }
            let trace_id = if parent.valid {
                parent.trace_id
            } else {
                ids::trace_id()
            };
            // A parent-based sampler asks its root sampler for a root: asked directly.
            let sampler = match &tracer.parent_based {
                Some(root) if !parent_cx.has_active_span() => root,
                _ => &tracer.sampler,
            };
            let result = sampler.should_sample(Some(parent_cx), trace_id, &name, kind, &[], &[]);
            if result.decision == SamplingDecision::Drop && parent.valid && !parent.sampled {
                // Unsampled below an unsampled parent: as above.
                return Some(Decided::FollowParent);
            }
            // Every bit of the parent's flags goes on (Level 2's `random` included); a new
            // trace has random ids, and says so.
            let flags = if parent.valid {
                parent.flags
            } else {
                ids::RANDOM_TRACE_ID
            };
            let flags = match result.decision {
                SamplingDecision::RecordAndSample => flags.with_sampled(true),
                _ => flags.with_sampled(false),
            };
            let span_context =
                SpanContext::new(trace_id, ids::span_id(), flags, false, result.trace_state);
            Some(Decided::New {
                decision: result.decision,
                sampler_attributes: result.attributes,
                span_context,
                parent,
            })
        });
        let (decision, sampler_attributes, span_context, parent_ids) = match decided {
            None => return Self::not_recording(None, unset_status),
            Some(Decided::FollowParent) => {
                return Self::not_recording(parent.cloned(), unset_status)
            }
            Some(Decided::New {
                decision,
                sampler_attributes,
                span_context,
                parent,
            }) => (decision, sampler_attributes, span_context, parent),
        };
        if decision == SamplingDecision::Drop {
            let cx = unsampled_context(parent, &parent_ids, span_context);
            return Self::not_recording(cx, unset_status);
        }
        // Filled in place: in a record given back by the collector, when there is one.
        let mut record = tracer.record();
        attrs(&mut Attributes(&mut record.attributes));
        if !sampler_attributes.is_empty() {
            record.attributes.extend(sampler_attributes);
        }
        let now = clock::now();
        record.name = name;
        record.kind = kind.clone();
        record.span_context = span_context;
        record.parent_span_id = parent_ids.span_id;
        record.parent_is_remote = parent_ids.remote;
        record.start = now;
        record.end = now;
        record.end_time = None;
        record.code = code;
        let span = FastSpan::new(record, tracer.clone());
        let cx = with_parent(parent, |parent| parent.with_span(span));
        SpanGuard {
            cx: Some(cx),
            recording: true,
            fast: true,
            unset_status,
            finished: false,
            callsite: None,
        }
    }

    fn from_sdk_span<S: Span + Send + Sync + 'static>(
        mut span: S,
        code: Code,
        parent: Option<&Context>,
        unset_status: bool,
        attr_count: usize,
        attrs: impl FnOnce(&mut Attributes<'_>),
    ) -> Self {
        if span.is_recording() {
            let mut attributes = InlineAttributes::with_capacity(attr_count + 3);
            code.add_attributes(&mut attributes);
            attrs(&mut Attributes(&mut attributes));
            span.set_attributes(attributes);
            // The error mark and the status live with the span (see `span::exception`).
            let span = Marked::new(span);
            let cx = with_parent(parent, |parent| parent.with_span(span));
            return SpanGuard {
                cx: Some(cx),
                recording: true,
                fast: false,
                unset_status,
                finished: false,
                callsite: None,
            };
        }
        let span_context = span.span_context().clone();
        if !span_context.is_valid() {
            // A no-op tracer: nothing to record, nothing to propagate.
            return Self::not_recording(None, unset_status);
        }
        let parent_ids = with_parent(parent, |parent| ParentIds::of(parent.span().span_context()));
        let cx = unsampled_context(parent, &parent_ids, span_context);
        Self::not_recording(cx, unset_status)
    }

    /// Runs `f` with the span current. A panic in `f` is recorded, ends the span, and goes on.
    #[inline]
    pub fn in_scope<R>(&mut self, f: impl FnOnce() -> R) -> R {
        if self.cx.is_none() && !self.recording {
            // Nothing to make current, nothing to record a panic on.
            return f();
        }
        let attached = self.cx.clone().map(Context::attach);
        let running = self.callsite.map(callsite::enter);
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        if let Some(previous) = running {
            callsite::leave(previous);
        }
        drop(attached);
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
        if let (Some(cx), true, Some(value)) = (&self.cx, self.recording, value) {
            cx.span()
                .set_attribute(KeyValue::new(RETURN_VALUE, format!("{value:?}")));
        }
    }

    /// Ends the span with the function's outcome.
    #[inline]
    pub fn finish(mut self, outcome: Outcome<'_>) {
        if !self.recording {
            self.finished = true;
            return;
        }
        let unset_status = self.unset_status;
        if self.fast && matches!(outcome, Outcome::Success) {
            // One call ends the span and says it succeeded (see `fast_span::end_succeeded`).
            self.finished = true;
            self.recording = false;
            if let Some(cx) = &self.cx {
                let end = if unset_status {
                    END_NOW
                } else {
                    end_succeeded()
                };
                cx.span().end_with_timestamp(end);
            }
            return;
        }
        // The span itself knows whether the error is recorded already (see `span::exception`).
        self.end_with(|sink| match outcome {
            Outcome::Success if !unset_status => exception::record_success(sink),
            Outcome::Error(error) => exception::record_returned(sink, &error),
            Outcome::Success => {}
        });
    }

    /// Lets `f` record the last things on the span, then ends it, once.
    fn end_with(&mut self, f: impl FnOnce(&mut dyn ErrorSink)) {
        self.finished = true;
        if !std::mem::take(&mut self.recording) {
            return;
        }
        if let Some(cx) = &self.cx {
            let mut span = cx.span();
            f(&mut span);
            if self.fast {
                span.end_with_timestamp(END_NOW);
            } else {
                span.end();
            }
        }
    }
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if self.finished || !self.recording {
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
    parent_span: &ParentIds,
    span_context: SpanContext,
) -> Option<Context> {
    if parent_span.valid && !parent_span.sampled && parent_span.trace_id == span_context.trace_id()
    {
        parent.cloned()
    } else {
        Some(with_parent(parent, |parent| {
            parent.with_remote_span_context(span_context)
        }))
    }
}

/// The sampling decision for a new fast-path span.
enum Decided {
    /// A new span, recorded or not.
    New {
        decision: SamplingDecision,
        sampler_attributes: Vec<KeyValue>,
        span_context: SpanContext,
        parent: ParentIds,
    },
    /// Not sampled, below an unsampled parent whose context already says so.
    FollowParent,
}

/// What a new span needs of its parent's context: ids and flags, not its trace state.
#[derive(Clone, Copy)]
struct ParentIds {
    trace_id: TraceId,
    span_id: SpanId,
    flags: TraceFlags,
    valid: bool,
    sampled: bool,
    remote: bool,
}

impl ParentIds {
    #[inline]
    fn of(parent: &SpanContext) -> Self {
        ParentIds {
            trace_id: parent.trace_id(),
            span_id: parent.span_id(),
            flags: parent.trace_flags(),
            valid: parent.is_valid(),
            sampled: parent.is_sampled(),
            remote: parent.is_remote(),
        }
    }
}

#[inline]
fn with_parent<R>(parent: Option<&Context>, f: impl FnOnce(&Context) -> R) -> R {
    match parent {
        Some(parent) => f(parent),
        None => Context::map_current(f),
    }
}
