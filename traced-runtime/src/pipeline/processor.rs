//! [`TracedSpanProcessor`]: the SDK's spans (those of the opentelemetry API) join the fast
//! path's at the collector.

use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanLimits, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::pipeline::collector::{BatchConfig, Collector};
use crate::pipeline::exporter::BatchExporter;
use crate::pipeline::{dispatch, scope};

/// Hands the spans the SDK ends (those of the opentelemetry API) to the collector, so that
/// they share its batches, its exporter, and its flush and shutdown.
#[derive(Debug)]
pub(crate) struct TracedSpanProcessor {
    collector: Collector,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl TracedSpanProcessor {
    /// Starts the collector thread that owns `exporter`.
    pub(crate) fn start(
        exporter: Box<dyn BatchExporter>,
        batch: BatchConfig,
        limits: SpanLimits,
    ) -> Result<Self, std::io::Error> {
        let collector = Collector::start(exporter, batch, scope::scope(), limits)?;
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
