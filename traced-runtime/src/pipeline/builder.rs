//! [`SpanPipeline`]: the builder of the provider that `Telemetry` installs, for users who bring
//! their own exporter.

use std::any::Any;

use opentelemetry_sdk::trace::{
    Sampler, SdkTracerProvider, ShouldSample, SpanExporter, SpanLimits, TracerProviderBuilder,
};
use opentelemetry_sdk::Resource;

use crate::error::Error;
use crate::pipeline::batch::BatchConfig;
use crate::pipeline::dispatch;
use crate::pipeline::exporter::{BatchExporter, SpanDataExporter};
use crate::pipeline::fast_tracer::FastTracer;
use crate::pipeline::processor::TracedSpanProcessor;

/// Builds the tracer provider of an application: spans of `#[traced]` and of the opentelemetry
/// API go to `exporter` through one batching thread.
///
/// This is the one place where the provider and the fast path beside it are put together:
/// `Telemetry::install` builds its pipeline here too.
pub struct SpanPipeline {
    /// `None`: nothing is exported (the setup found no exporter), spans are still made so that
    /// ids propagate.
    exporter: Option<Box<dyn BatchExporter>>,
    sampling: Sampling,
    limits: SpanLimits,
    resource: Option<Resource>,
    batch: BatchConfig,
    customize: Vec<Box<dyn FnOnce(TracerProviderBuilder) -> TracerProviderBuilder>>,
}

impl std::fmt::Debug for SpanPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanPipeline")
            .field("exporter", &self.exporter.is_some())
            .field("sampler", &self.sampling.sampler)
            .field("limits", &self.limits)
            .field("resource", &self.resource)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl SpanPipeline {
    /// A pipeline to `exporter`, sampling every span, with the default batch settings.
    pub fn new(exporter: impl SpanExporter + 'static) -> Self {
        Self::with_exporter(Some(Box::new(SpanDataExporter(exporter))))
    }

    /// A pipeline that hands `exporter` each batch encoded as an OTLP request (protobuf), for a
    /// transport of your own: see [`EncodedSpanExporter`](crate::EncodedSpanExporter).
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    pub fn encoded(exporter: impl crate::EncodedSpanExporter) -> Self {
        Self::with_exporter(Some(Box::new(crate::export::encoded::Encoded(exporter))))
    }

    /// A pipeline to `exporter`, or to nothing.
    pub(crate) fn with_exporter(exporter: Option<Box<dyn BatchExporter>>) -> Self {
        SpanPipeline {
            exporter,
            sampling: Sampling::default(),
            limits: SpanLimits::default(),
            resource: None,
            batch: BatchConfig::default(),
            customize: Vec::new(),
        }
    }

    /// The sampler that decides for both kinds of spans (default: parent-based, always on).
    #[must_use]
    pub fn with_sampler(self, sampler: impl ShouldSample + 'static) -> Self {
        self.with_sampling(Sampling::new(sampler))
    }

    pub(crate) fn with_sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
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

    /// Queue, batch and delay settings, checked when the pipeline is built.
    #[must_use]
    pub fn with_batch_config(mut self, batch: BatchConfig) -> Self {
        self.batch = batch;
        self
    }

    /// Adjusts the SDK provider builder for what this one does not cover (more processors, an
    /// id generator for API spans, ...). Called in order, when given several times.
    #[must_use]
    pub fn with_provider_builder(
        mut self,
        customize: impl FnOnce(TracerProviderBuilder) -> TracerProviderBuilder + 'static,
    ) -> Self {
        self.customize.push(Box::new(customize));
        self
    }

    /// Builds the provider and makes it the global one and the one of `#[traced]`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for an invalid [`BatchConfig`]; [`Error::Runtime`] when the
    /// collector thread cannot be spawned.
    pub fn install(self) -> Result<SdkTracerProvider, Error> {
        let (provider, fast) = self.build()?;
        install(&provider, fast);
        Ok(provider)
    }

    /// Builds the provider, and the fast path to install beside it (none without an exporter).
    pub(crate) fn build(self) -> Result<(SdkTracerProvider, Option<FastTracer>), Error> {
        self.batch.validate()?;
        let processor = match self.exporter {
            Some(exporter) => Some(
                TracedSpanProcessor::start(exporter, self.batch, self.limits)
                    .map_err(Error::Runtime)?,
            ),
            None => None,
        };
        let collector = processor.as_ref().map(|p| p.collector().clone());
        let mut builder = SdkTracerProvider::builder()
            .with_sampler(self.sampling.sampler.box_clone())
            .with_span_limits(self.limits);
        if let Some(processor) = processor {
            builder = builder.with_span_processor(processor);
        }
        if let Some(resource) = self.resource {
            builder = builder.with_resource(resource);
        }
        for customize in self.customize {
            builder = customize(builder);
        }
        let provider = builder.build();
        let fast = collector.map(|collector| FastTracer::new(self.sampling, collector, &provider));
        Ok((provider, fast))
    }
}

/// The sampler of a pipeline, and what the fast path knows of it.
#[derive(Debug)]
pub(crate) struct Sampling {
    pub(crate) sampler: Box<dyn ShouldSample>,
    /// The root sampler, when `sampler` is the SDK's parent-based one: below a valid parent it
    /// follows the parent's sampled flag, which the fast path then reads itself; for a root it
    /// asks the root sampler, which the fast path then asks directly.
    pub(crate) parent_based: Option<Box<dyn ShouldSample>>,
}

impl Sampling {
    pub(crate) fn new(sampler: impl ShouldSample + 'static) -> Self {
        let parent_based = match (&sampler as &dyn Any).downcast_ref::<Sampler>() {
            Some(Sampler::ParentBased(root)) => Some(root.box_clone()),
            _ => None,
        };
        Sampling {
            sampler: Box::new(sampler),
            parent_based,
        }
    }
}

impl Default for Sampling {
    /// Parent-based, always on.
    fn default() -> Self {
        Sampling::new(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
    }
}

/// Makes `provider` the global one, and its fast path (when it has one) the one of `#[traced]`.
pub(crate) fn install(provider: &SdkTracerProvider, fast: Option<FastTracer>) {
    match fast {
        Some(fast) => {
            opentelemetry::global::set_tracer_provider(provider.clone());
            dispatch::install_fast(fast);
        }
        None => dispatch::set_tracer_provider(provider),
    }
}
