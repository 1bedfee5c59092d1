//! The span pipeline: one exporter, one sampler, one collector thread, shared by `#[traced]` spans
//! (recorded on the fast path, see `span_guard`) and by spans of the opentelemetry API (recorded
//! by the SDK, handed over by [`TracedSpanProcessor`]).
//!
//! `Telemetry::install` sets one up; build one yourself to bring your own exporter:
//!
//! ```
//! use traced_runtime::opentelemetry_sdk::error::OTelSdkResult;
//! use traced_runtime::opentelemetry_sdk::trace::{Sampler, SpanData, SpanExporter};
//! use traced_runtime::SpanPipeline;
//!
//! #[derive(Debug)]
//! struct Stdout;
//!
//! impl SpanExporter for Stdout {
//!     async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
//!         for span in batch {
//!             println!("{} {:?}", span.name, span.end_time.duration_since(span.start_time));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let provider = SpanPipeline::new(Stdout)
//!     .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.5))))
//!     .install()
//!     .expect("a thread can be spawned");
//! # provider.shutdown().unwrap();
//! ```

pub(crate) mod clock;
pub(crate) mod collector;
pub(crate) mod dispatch;
pub(crate) mod fast_span;
pub(crate) mod ids;
pub(crate) mod record;

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    Sampler, SdkTracer, SdkTracerProvider, ShouldSample, Span, SpanData, SpanExporter, SpanLimits,
    SpanProcessor, TracerProviderBuilder,
};
use opentelemetry_sdk::Resource;

use crate::pipeline::collector::{BatchConfig, Collector};

/// What the fast path needs to start a span: the sampler and where ended spans go.
#[derive(Debug)]
pub(crate) struct FastTracer {
    pub(crate) sampler: Box<dyn ShouldSample>,
    pub(crate) collector: Collector,
    /// The pipeline's SDK tracer, for spans that outlive a body and are written from many
    /// places (the HTTP layers' spans): they reach the same collector through the processor.
    #[cfg_attr(
        not(any(feature = "http-server", feature = "http-client")),
        allow(dead_code)
    )]
    pub(crate) sdk: SdkTracer,
}

/// Builds the tracer provider of an application: spans of `#[traced]` and of the opentelemetry
/// API go to `exporter` through one batching thread.
pub struct SpanPipeline<E> {
    exporter: E,
    sampler: Box<dyn ShouldSample>,
    limits: SpanLimits,
    resource: Option<Resource>,
    batch: BatchConfig,
    customize: Option<Box<dyn FnOnce(TracerProviderBuilder) -> TracerProviderBuilder>>,
}

impl<E: SpanExporter + 'static> SpanPipeline<E> {
    /// A pipeline to `exporter`, sampling every span, with the default batch settings.
    pub fn new(exporter: E) -> Self {
        SpanPipeline {
            exporter,
            sampler: Box::new(Sampler::ParentBased(Box::new(Sampler::AlwaysOn))),
            limits: SpanLimits::default(),
            resource: None,
            batch: BatchConfig::default(),
            customize: None,
        }
    }

    /// The sampler that decides for both kinds of spans (default: parent-based, always on).
    #[must_use]
    pub fn with_sampler(mut self, sampler: impl ShouldSample + 'static) -> Self {
        self.sampler = Box::new(sampler);
        self
    }

    /// Span limits (attribute and event counts).
    #[must_use]
    pub fn with_span_limits(mut self, limits: SpanLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The resource of every exported span.
    #[must_use]
    pub fn with_resource(mut self, resource: Resource) -> Self {
        self.resource = Some(resource);
        self
    }

    /// Queue, batch and delay settings.
    #[must_use]
    pub fn with_batch_config(mut self, batch: BatchConfig) -> Self {
        self.batch = batch;
        self
    }

    /// Adjusts the SDK provider builder for what this one does not cover (more processors, an
    /// id generator for API spans, ...).
    #[must_use]
    pub fn with_provider_builder(
        mut self,
        customize: impl FnOnce(TracerProviderBuilder) -> TracerProviderBuilder + 'static,
    ) -> Self {
        self.customize = Some(Box::new(customize));
        self
    }

    /// Builds the provider and makes it the global one and the one of `#[traced]`.
    ///
    /// # Errors
    /// When the collector thread cannot be spawned.
    pub fn install(self) -> Result<SdkTracerProvider, std::io::Error> {
        let (provider, fast) = self.build()?;
        opentelemetry::global::set_tracer_provider(provider.clone());
        dispatch::install_fast(fast);
        Ok(provider)
    }

    /// Builds the provider, and the fast path to install beside it.
    pub(crate) fn build(self) -> Result<(SdkTracerProvider, FastTracer), std::io::Error> {
        let processor = TracedSpanProcessor::start(self.exporter, self.batch, self.limits)?;
        let collector = processor.collector.clone();
        let mut builder = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(self.sampler.box_clone())
            .with_span_limits(self.limits);
        if let Some(resource) = self.resource {
            builder = builder.with_resource(resource);
        }
        if let Some(customize) = self.customize {
            builder = customize(builder);
        }
        let provider = builder.build();
        let fast = FastTracer::new(self.sampler, collector, &provider);
        Ok((provider, fast))
    }
}

impl FastTracer {
    /// The fast path of a provider whose processor is the one `collector` belongs to.
    pub(crate) fn new(
        sampler: Box<dyn ShouldSample>,
        collector: Collector,
        provider: &SdkTracerProvider,
    ) -> Self {
        FastTracer {
            sampler,
            collector,
            sdk: provider.tracer_with_scope(dispatch::scope()),
        }
    }
}

/// Hands the spans the SDK ends (those of the opentelemetry API) to the collector, so that
/// they share its batches, its exporter, and its flush and shutdown.
#[derive(Debug)]
pub struct TracedSpanProcessor {
    collector: Collector,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl TracedSpanProcessor {
    /// Starts the collector thread that owns `exporter`.
    pub(crate) fn start<E: SpanExporter + 'static>(
        exporter: E,
        batch: BatchConfig,
        limits: SpanLimits,
    ) -> Result<Self, std::io::Error> {
        let collector = Collector::start(exporter, batch, dispatch::scope(), limits)?;
        Ok(TracedSpanProcessor { collector })
    }

    pub(crate) fn collector(&self) -> &Collector {
        &self.collector
    }
}

/// How long a flush asked through the provider may wait.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

impl SpanProcessor for TracedSpanProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.collector.push_span_data(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.collector.flush(FLUSH_TIMEOUT)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        dispatch::uninstall_fast(&self.collector);
        self.collector.shutdown(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.collector.set_resource(resource);
    }
}
