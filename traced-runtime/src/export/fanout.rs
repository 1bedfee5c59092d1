//! [`Fanout`]: several exporters behind one.

use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::bounded::Exporting;

/// Several exporters behind one: each gets every batch, in order.
#[derive(Debug)]
pub(crate) struct Fanout(pub(crate) Vec<Exporting>);

impl SpanExporter for Fanout {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let Some((last, others)) = self.0.split_last() else {
            return Ok(());
        };
        let mut result = Ok(());
        for exporter in others {
            let outcome = exporter.export(batch.clone()).await;
            result = result.and(outcome);
        }
        let outcome = last.export(batch).await;
        result.and(outcome)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0
            .iter()
            .map(|exporter| exporter.shutdown_with_timeout(timeout))
            .fold(Ok(()), OTelSdkResult::and)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0
            .iter()
            .map(SpanExporter::force_flush)
            .fold(Ok(()), OTelSdkResult::and)
    }

    fn set_resource(&mut self, resource: &Resource) {
        for exporter in &mut self.0 {
            exporter.set_resource(resource);
        }
    }
}
