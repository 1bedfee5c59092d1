//! What the fast path needs to start and end a span: the sampler, the collector ended spans go
//! to, and the SDK tracer of the same provider for spans written from many places. Ending a
//! span hands its record to this thread's queue of the collector.

use std::cell::RefCell;
use std::ops::Deref;
use std::sync::Arc;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, ShouldSample};

use crate::pipeline::builder::Sampling;
use crate::pipeline::collector::{Collector, ThreadQueue};
use crate::pipeline::record::SpanRecord;
use crate::pipeline::scope;

thread_local! {
    /// This thread's queue to the collector of the installed pipeline, found on its first span.
    static QUEUE: RefCell<Option<Arc<ThreadQueue>>> = const { RefCell::new(None) };
}

/// What the fast path needs to start a span: the sampler and where ended spans go.
#[derive(Debug)]
pub(crate) struct FastTracer {
    pub(crate) sampler: Box<dyn ShouldSample>,
    /// The root sampler, when the sampler is the SDK's parent-based one: below a parent, the
    /// parent's decision is taken without asking the sampler, and a root asks the root sampler.
    pub(crate) parent_based: Option<Box<dyn ShouldSample>>,
    pub(crate) collector: Collector,
    /// The pipeline's SDK tracer, for spans that outlive a body and are written from many
    /// places (the HTTP layers' spans): they reach the same collector through the processor.
    #[cfg_attr(
        not(any(feature = "http-server", feature = "http-client")),
        allow(dead_code)
    )]
    pub(crate) sdk: SdkTracer,
    /// The pipeline's provider, for the SDK tracers of other scopes (the integrations', the
    /// crates' of `#[traced]` functions, for spans not on the fast path).
    pub(crate) provider: SdkTracerProvider,
    /// Whether threads keep a queue of their own to this collector (the installed pipeline),
    /// or go through its shared queue (a test's capture, short-lived).
    pub(crate) per_thread_queues: bool,
}

impl FastTracer {
    /// The fast path of a provider whose processor is the one `collector` belongs to.
    pub(crate) fn new(
        sampling: Sampling,
        collector: Collector,
        provider: &SdkTracerProvider,
    ) -> Self {
        FastTracer {
            sampler: sampling.sampler,
            parent_based: sampling.parent_based,
            collector,
            sdk: provider.tracer_with_scope(scope::scope()),
            provider: provider.clone(),
            per_thread_queues: false,
        }
    }

    /// An empty record to fill: one the collector gave back to this thread when there is one,
    /// so that a thread in its steady state allocates no record.
    #[inline]
    pub(crate) fn record(&self) -> Box<SpanRecord> {
        if self.per_thread_queues {
            let recycled = QUEUE.try_with(|slot| {
                slot.borrow()
                    .as_ref()
                    .filter(|queue| queue.belongs_to(&self.collector))
                    .and_then(|queue| queue.recycled())
            });
            if let Ok(Some(record)) = recycled {
                return record;
            }
        }
        Box::new(SpanRecord::empty())
    }

    /// Hands an ended span to the collector: through this thread's own queue for the installed
    /// pipeline, else through the collector's shared queue.
    #[inline]
    pub(crate) fn push(&self, record: Box<SpanRecord>) {
        if !self.per_thread_queues {
            return self.collector.push_record(record);
        }
        let mut record = Some(record);
        let _ = QUEUE.try_with(|slot| {
            let mut slot = slot.borrow_mut();
            if !slot
                .as_ref()
                .is_some_and(|mine| mine.belongs_to(&self.collector))
            {
                *slot = Some(self.collector.thread_queue());
            }
            if let (Some(queue), Some(record)) = (&*slot, record.take()) {
                queue.push(record);
            }
        });
        // The thread is exiting and its locals are gone: through the shared queue.
        if let Some(record) = record {
            self.collector.push_record(record);
        }
    }
}

/// A fast tracer as a span holds it: the installed pipeline's, which lives as long as the
/// process (installs are rare: it is leaked so that spans hold a plain reference), or a test
/// capture's, freed with the last span or context that refers to it.
#[derive(Clone, Debug)]
pub(crate) enum TracerRef {
    Installed(&'static FastTracer),
    #[cfg(feature = "testing")]
    Captured(Arc<FastTracer>),
}

impl Deref for TracerRef {
    type Target = FastTracer;

    #[inline]
    fn deref(&self) -> &FastTracer {
        match self {
            TracerRef::Installed(tracer) => tracer,
            #[cfg(feature = "testing")]
            TracerRef::Captured(tracer) => tracer,
        }
    }
}
