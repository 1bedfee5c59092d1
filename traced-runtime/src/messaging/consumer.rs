//! The CONSUMER span of a message processed: `process {destination}`, child of (or linked to)
//! the context extracted from the message's headers, current while the handler runs.

use std::any::type_name;
use std::borrow::Cow;
use std::fmt;
use std::future::Future;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{Link, SpanContext, SpanKind, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};

use super::MessageInfo;
use crate::pipeline::scope;
use crate::propagation::{self, ExtractCarrier};
use crate::semconv::{
    ERROR_TYPE, MESSAGING_BATCH_MESSAGE_COUNT, MESSAGING_OPERATION_NAME, MESSAGING_OPERATION_TYPE,
    MESSAGING_REQUEUE, MESSAGING_SETTLE_EVENT,
};
use crate::span::outcome;
use crate::span::OperationSpan;

/// `messaging.operation.type` of a span that processes a message.
pub(crate) const PROCESS: &str = "process";
/// `messaging.operation.type` of a settlement.
pub(crate) const SETTLE: &str = "settle";

/// What the consumer told the broker about a message: recorded on the consumer span as a
/// `settle` event by [`ConsumerScope::settled`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Settlement {
    /// Processed: the broker forgets the message.
    Ack,
    /// Not processed; `requeue` asks the broker to deliver it again.
    Nack {
        /// Whether the message goes back to the queue.
        requeue: bool,
    },
    /// Refused; `requeue` asks the broker to deliver it again.
    Reject {
        /// Whether the message goes back to the queue.
        requeue: bool,
    },
}

impl Settlement {
    /// `messaging.operation.name` of the settlement: `ack`, `nack`, `reject`.
    pub fn operation_name(self) -> &'static str {
        match self {
            Settlement::Ack => "ack",
            Settlement::Nack { .. } => "nack",
            Settlement::Reject { .. } => "reject",
        }
    }

    fn requeue(self) -> Option<bool> {
        match self {
            Settlement::Ack => None,
            Settlement::Nack { requeue } | Settlement::Reject { requeue } => Some(requeue),
        }
    }
}

/// The CONSUMER span of one message (or one batch) processed; see the
/// [module documentation](super).
///
/// Dropped without being ended (a cancelled handler), it ends marked `traced.cancelled`.
#[must_use = "the span ends when `end` is called or when it is dropped"]
pub struct ConsumerScope {
    span: OperationSpan,
}

impl fmt::Debug for ConsumerScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsumerScope")
            .field("context", self.span.context())
            .finish()
    }
}

impl ConsumerScope {
    /// Starts `process {destination}` as a child of the producer's span read from `headers`
    /// (any [`Extractor`](opentelemetry::propagation::Extractor), passed as
    /// `&carrier as &dyn Extractor`, a `HashMap<String, String>`, an `http::HeaderMap`), with
    /// the message's baggage: producer and consumer are one trace.
    ///
    /// Without a valid `traceparent` (missing, malformed, hostile), the span starts a new
    /// trace: never a child of whatever span is current in the consumer loop.
    pub fn start<C: ExtractCarrier + ?Sized>(info: &MessageInfo, headers: &C) -> Self {
        let parent = extract(headers);
        Self::start_with(info, Vec::new(), &parent)
    }

    /// Starts `process {destination}` in a trace of its own, with a link to the producer's
    /// span read from `headers` (none when it is missing or invalid), and the message's baggage:
    /// for consumers whose work should not be counted in the producer's trace.
    pub fn start_linked<C: ExtractCarrier + ?Sized>(info: &MessageInfo, headers: &C) -> Self {
        let extracted = extract(headers);
        let links = link_to(&extracted).into_iter().collect();
        let parent = extracted.with_remote_span_context(SpanContext::empty_context());
        Self::start_with(info, links, &parent)
    }

    /// Starts `process {destination}` for a batch, as a child of the current span, linked to
    /// the producer's span of each message that has one (`headers` of each message), with
    /// `messaging.batch.message_count`.
    pub fn start_batch<'a, C, I>(info: &MessageInfo, headers: I) -> Self
    where
        C: ExtractCarrier + ?Sized + 'a,
        I: IntoIterator<Item = &'a C>,
    {
        let mut count = 0_i64;
        let links = headers
            .into_iter()
            .filter_map(|headers| {
                count += 1;
                link_to(&propagation::extract_with_context(&Context::new(), headers))
            })
            .collect();
        let scope = Context::map_current(|parent| Self::start_with(info, links, parent));
        scope
            .span
            .set_attribute(KeyValue::new(MESSAGING_BATCH_MESSAGE_COUNT, count));
        scope
    }

    fn start_with(info: &MessageInfo, links: Vec<Link>, parent: &Context) -> Self {
        let name = format!("{PROCESS} {}", info.span_destination());
        let mut attributes = info.attributes();
        attributes.push(KeyValue::new(MESSAGING_OPERATION_TYPE, PROCESS));
        attributes.push(KeyValue::new(MESSAGING_OPERATION_NAME, PROCESS));
        ConsumerScope {
            span: OperationSpan::start_with_links(
                scope::integration(scope::MESSAGING_SCOPE_NAME),
                name.into(),
                SpanKind::Consumer,
                attributes,
                links,
                parent,
            ),
        }
    }

    /// The context holding this span and the message's baggage: make it current while the
    /// message is handled ([`handle`](Self::handle), [`in_scope`](Self::in_scope) do).
    pub fn context(&self) -> &Context {
        self.span.context()
    }

    /// Sets an attribute.
    pub fn set_attribute(&self, attribute: KeyValue) {
        self.span.set_attribute(attribute);
    }

    /// Runs the handler with this span current (across its `.await`s): the spans it makes are
    /// children of the consumer span. An `Err` sets status ERROR, `error.type` (the error's
    /// Rust type) and an `exception` event. The span stays open, to record the settlement; see
    /// [`run`](Self::run) to end it too.
    pub async fn handle<F, Fut, T, E>(&self, handler: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: fmt::Display + 'static,
    {
        let future = {
            let _cx = self.span.context().clone().attach();
            handler()
        };
        let result = future.with_context(self.span.context().clone()).await;
        if let Err(error) = &result {
            self.fail(error);
        }
        result
    }

    /// [`handle`](Self::handle), then [`end`](Self::end).
    pub async fn run<F, Fut, T, E>(mut self, handler: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: fmt::Display + 'static,
    {
        let result = self.handle(handler).await;
        self.span.end();
        result
    }

    /// Runs `f` with this span current: for synchronous handlers.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _cx = self.span.context().clone().attach();
        f()
    }

    /// Records an error of the handler that it did not return: status ERROR, `error.type` (the
    /// error's Rust type), an `exception` event.
    pub fn fail<E: fmt::Display + 'static>(&self, error: &E) {
        let error_type = type_name::<E>();
        let message = error.to_string();
        let stacktrace = outcome::render_chain(error_type, &message, None);
        self.span
            .record_exception(error_type, error_type, message, stacktrace);
    }

    /// Records the settlement of the message: a `settle` event with
    /// `messaging.operation.type = "settle"`, `messaging.operation.name` (`ack`, `nack`,
    /// `reject`) and, for a nack or a reject, `traced.messaging.requeue`.
    pub fn settled(&self, settlement: Settlement) {
        self.span
            .add_event(MESSAGING_SETTLE_EVENT, settle_attributes(settlement));
    }

    /// Records a settlement the broker did not take (the ack was not delivered): the `settle`
    /// event with `error.type` (the error's Rust type) and the message as `exception.message`.
    pub fn settle_failed<E: fmt::Display + 'static>(&self, settlement: Settlement, error: &E) {
        let mut attributes = settle_attributes(settlement);
        attributes.push(KeyValue::new(ERROR_TYPE, type_name::<E>()));
        attributes.push(KeyValue::new(
            crate::semconv::EXCEPTION_MESSAGE,
            error.to_string(),
        ));
        self.span.add_event(MESSAGING_SETTLE_EVENT, attributes);
    }

    /// Ends the span.
    pub fn end(mut self) {
        self.span.end();
    }

    /// Status ERROR with `error.type` and a description, without an exception event.
    pub fn set_error(&self, error_type: impl Into<Cow<'static, str>>, message: impl fmt::Display) {
        self.span.set_error(error_type, message.to_string());
    }
}

fn settle_attributes(settlement: Settlement) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new(MESSAGING_OPERATION_TYPE, SETTLE),
        KeyValue::new(MESSAGING_OPERATION_NAME, settlement.operation_name()),
    ];
    if let Some(requeue) = settlement.requeue() {
        attributes.push(KeyValue::new(MESSAGING_REQUEUE, requeue));
    }
    attributes
}

/// The current context, without its span, with the producer's span and baggage read from
/// `headers`: a message without a valid `traceparent` starts a new trace, whatever span the
/// consumer loop runs in. The current baggage stays unless the message carries its own.
fn extract<C: ExtractCarrier + ?Sized>(headers: &C) -> Context {
    let base = Context::map_current(|cx| cx.with_remote_span_context(SpanContext::empty_context()));
    propagation::extract_with_context(&base, headers)
}

/// A link to the remote span of `cx`, if it has a valid one.
fn link_to(cx: &Context) -> Option<Link> {
    let span = cx.span();
    let span_context = span.span_context();
    span_context
        .is_valid()
        .then(|| Link::with_context(span_context.clone()))
}
