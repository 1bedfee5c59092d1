//! [`Fanout`]: several exporters behind one.

use std::time::Duration;

use futures_util::future::BoxFuture;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::Resource;

use super::bounded::Exporting;
use crate::pipeline::exporter::{Batch, BatchExporter, BatchFormat};

/// Several exporters behind one: each gets every batch, in order.
#[derive(Debug)]
pub(crate) struct Fanout(pub(crate) Vec<Exporting>);

impl BatchExporter for Fanout {
    /// One exporter takes its own form (encoded OTLP requests); several share `SpanData`.
    fn format(&self) -> BatchFormat {
        match self.0.as_slice() {
            [one] => one.format(),
            _ => BatchFormat::Spans,
        }
    }

    fn export(&self, batch: Batch) -> BoxFuture<'_, OTelSdkResult> {
        Box::pin(async move {
            let Some((last, others)) = self.0.split_last() else {
                return Ok(());
            };
            let mut result = Ok(());
            // Several exporters share batches of spans (see `format`).
            #[allow(irrefutable_let_patterns)] // without OTLP, the only form
            if let Batch::Spans(spans) = &batch {
                for exporter in others {
                    let outcome = exporter.export(Batch::Spans(spans.clone())).await;
                    result = result.and(outcome);
                }
            }
            let outcome = last.export(batch).await;
            result.and(outcome)
        })
    }

    fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        self.0
            .iter()
            .map(|exporter| exporter.shutdown(timeout))
            .fold(Ok(()), OTelSdkResult::and)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0
            .iter()
            .map(BatchExporter::force_flush)
            .fold(Ok(()), OTelSdkResult::and)
    }

    fn set_resource(&mut self, resource: &Resource) {
        for exporter in &mut self.0 {
            exporter.set_resource(resource);
        }
    }
}
