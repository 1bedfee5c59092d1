//! The span of one operation made by an integration: an HTTP request served or sent, a SQL
//! query, a Redis command, a message published or processed.
//!
//! It is started through the same tracer as `#[traced]` spans (so a test's capture, the fast
//! pipeline and the SDK all see it), holds the context the operation runs in, and ends exactly
//! once: dropped before [`OperationSpan::end`] (a cancelled future), it is marked
//! `traced.cancelled`, as a cancelled `#[traced]` future is.

use std::borrow::Cow;
use std::error::Error;

use opentelemetry::trace::{
    Link, SpanBuilder, SpanKind, Status, TraceContextExt as _, Tracer as _,
};
use opentelemetry::{Context, KeyValue};

use crate::pipeline::dispatch::{self, Tracer};
use crate::semconv::{CANCELLED, ERROR_TYPE};
use crate::span::callsite::CrateScope;
use crate::span::{exception, outcome};

/// The span of one operation; see the module documentation.
pub(crate) struct OperationSpan {
    /// The span's context; the parent's when no span was made (no tracer installed), so that
    /// the caller's trace still propagates.
    cx: Context,
    /// Whether `cx` holds a span made here that is recording.
    recording: bool,
    ended: bool,
}

impl OperationSpan {
    /// Starts a span of the integration whose scope is `scope` under `parent`.
    pub(crate) fn start(
        scope: CrateScope,
        name: Cow<'static, str>,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
        parent: &Context,
    ) -> Self {
        Self::start_with_links(scope, name, kind, attributes, Vec::new(), parent)
    }

    /// Starts a span under `parent`, linked to `links` (a consumer's batch, a trace of its own).
    pub(crate) fn start_with_links(
        scope: CrateScope,
        name: Cow<'static, str>,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
        links: Vec<Link>,
        parent: &Context,
    ) -> Self {
        let mut builder = SpanBuilder::from_name(name)
            .with_kind(kind)
            .with_attributes(attributes);
        if !links.is_empty() {
            builder = builder.with_links(links);
        }
        dispatch::with_tracer(|tracer| {
            dispatch::with_scoped_tracer(tracer, Some(scope), |tracer| {
                Self::start_on(tracer, builder, parent)
            })
        })
    }

    fn start_on(tracer: &Tracer, builder: SpanBuilder, parent: &Context) -> Self {
        match tracer {
            Tracer::Fast(tracer) => {
                Self::new(tracer.sdk.build_with_context(builder, parent), parent)
            }
            Tracer::Sdk(tracer) => Self::new(tracer.build_with_context(builder, parent), parent),
            Tracer::Global(tracer) => Self::new(tracer.build_with_context(builder, parent), parent),
            Tracer::Disabled => OperationSpan {
                cx: parent.clone(),
                recording: false,
                ended: false,
            },
        }
    }

    fn new<S: opentelemetry::trace::Span + Send + Sync + 'static>(
        span: S,
        parent: &Context,
    ) -> Self {
        let recording = span.is_recording();
        let cx = if span.span_context().is_valid() {
            parent.with_span(span)
        } else {
            // A no-op tracer: nothing to record, but the remote parent still propagates.
            parent.clone()
        };
        OperationSpan {
            cx,
            recording,
            ended: false,
        }
    }

    /// The context holding the span: current while the operation runs, and what is injected
    /// into outgoing headers.
    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }

    /// Whether attributes set now are kept: the span is sampled and not ended.
    pub(crate) fn is_recording(&self) -> bool {
        self.recording && !self.ended
    }

    pub(crate) fn set_attribute(&self, attribute: KeyValue) {
        if self.is_recording() {
            self.cx.span().set_attribute(attribute);
        }
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // the integrations that use it
    pub(crate) fn set_attributes(&self, attributes: impl IntoIterator<Item = KeyValue>) {
        if self.is_recording() {
            self.cx.span().set_attributes(attributes);
        }
    }

    #[cfg_attr(not(feature = "http-server"), allow(dead_code))] // the integrations that use it
    pub(crate) fn update_name(&self, name: impl Into<Cow<'static, str>>) {
        if self.is_recording() {
            self.cx.span().update_name(name);
        }
    }

    /// An event on the span (a message settled, a retry).
    #[cfg_attr(not(feature = "messaging"), allow(dead_code))] // the integrations that use it
    pub(crate) fn add_event(&self, name: impl Into<Cow<'static, str>>, attributes: Vec<KeyValue>) {
        if self.is_recording() {
            self.cx.span().add_event(name, attributes);
        }
    }

    /// Status ERROR with `error.type`, and no exception event: a failure that is an outcome
    /// of the operation (an HTTP 500, a rejected message), not an error raised here.
    #[cfg_attr(
        not(any(feature = "http-server", feature = "http-client")),
        allow(dead_code)
    )]
    pub(crate) fn set_error(&self, error_type: impl Into<Cow<'static, str>>, message: String) {
        if self.is_recording() {
            let span = self.cx.span();
            span.set_attribute(KeyValue::new(ERROR_TYPE, error_type.into()));
            span.set_status(Status::error(message));
        }
    }

    /// An `exception` event for `error` (of type `exception_type`) and its `source()` chain,
    /// `error.type`, status ERROR.
    #[cfg_attr(not(feature = "http-client"), allow(dead_code))] // the integrations that use it
    pub(crate) fn record_error(
        &self,
        error_type: impl Into<Cow<'static, str>>,
        exception_type: &'static str,
        error: &dyn Error,
    ) {
        if !self.is_recording() {
            return;
        }
        let message = error.to_string();
        let stacktrace = outcome::render_chain(exception_type, &message, error.source());
        self.record_exception(error_type, exception_type, message, stacktrace);
    }

    /// An `exception` event, `error.type` (the semantic conventions' short class of failure)
    /// and status ERROR from their parts.
    pub(crate) fn record_exception(
        &self,
        error_type: impl Into<Cow<'static, str>>,
        exception_type: &'static str,
        message: String,
        stacktrace: String,
    ) {
        if !self.is_recording() {
            return;
        }
        exception::record_parts(
            &mut self.cx.span(),
            error_type.into(),
            exception_type,
            message,
            stacktrace,
        );
    }

    /// Ends the span (once).
    pub(crate) fn end(&mut self) {
        if !self.ended {
            self.ended = true;
            if self.recording {
                self.cx.span().end();
            }
        }
    }
}

impl Drop for OperationSpan {
    fn drop(&mut self) {
        if !self.ended {
            self.set_attribute(KeyValue::new(CANCELLED, true));
            self.end();
        }
    }
}
