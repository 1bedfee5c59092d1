//! [`Exporting`]: one exporter run on the export runtime, each export bounded by the export
//! timeout, its last failure kept for the guard ([`ExportHealth`]), and string values truncated
//! to the configured length.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;
use tokio::runtime::Handle;

use super::DynExporter;
use crate::pipeline::exporter::{Batch, BatchExporter, BatchFormat};

/// Wraps an exporter: truncates attribute values to the length limit (which the SDK does not
/// do), and, given the export runtime, runs each export there within `export_timeout`
/// (`OTEL_BSP_EXPORT_TIMEOUT`, which the SDK's thread-based processor ignores).
#[derive(Debug)]
pub(crate) struct Exporting {
    inner: Target,
    runtime: Option<Handle>,
    export_timeout: Duration,
    value_length_limit: Option<usize>,
    health: Arc<ExportHealth>,
}

/// Whether exports fail. The SDK only logs export errors through its internal log (silent
/// unless enabled), so a dead collector would lose every span without a word: the first
/// failure of a run of failures is printed on stderr, and the guard's `shutdown()` returns
/// the last one if no export succeeded since.
#[derive(Debug, Default)]
pub(crate) struct ExportHealth {
    last_error: std::sync::Mutex<Option<String>>,
    reported: std::sync::atomic::AtomicBool,
}

impl ExportHealth {
    fn record(&self, result: &OTelSdkResult) {
        use std::sync::atomic::Ordering;
        let mut last = self
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match result {
            Ok(()) => {
                *last = None;
                self.reported.store(false, Ordering::Relaxed);
            }
            Err(error) => {
                let message = match error {
                    OTelSdkError::Timeout(timeout) => {
                        format!("the export did not finish within {timeout:?}")
                    }
                    OTelSdkError::InternalFailure(message) => message.clone(),
                    other => other.to_string(),
                };
                if !self.reported.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "traced: {message} (spans are being dropped; further failures are not \
                         printed until an export succeeds)"
                    );
                }
                *last = Some(message);
            }
        }
    }

    /// The error of the last export, if it failed.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The exporter an [`Exporting`] runs.
#[derive(Debug)]
pub(crate) enum Target {
    /// A `SpanExporter` (the console, a user's own): given `SpanData`.
    Spans(Arc<dyn DynExporter>),
    /// The OTLP exporter: given requests the collector encoded (or `SpanData` it encodes
    /// itself, beside other exporters).
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    Otlp(Arc<super::otlp::OtlpExporter>),
}

impl Target {
    pub(crate) fn spans(exporter: Box<dyn DynExporter>) -> Target {
        Target::Spans(Arc::from(exporter))
    }
}

impl Exporting {
    pub(crate) fn new(
        inner: Target,
        runtime: Option<Handle>,
        export_timeout: Duration,
        value_length_limit: Option<usize>,
    ) -> Exporting {
        Exporting {
            inner,
            runtime,
            export_timeout,
            value_length_limit,
            health: Arc::default(),
        }
    }

    pub(crate) fn health(&self) -> Arc<ExportHealth> {
        Arc::clone(&self.health)
    }
}

impl BatchExporter for Exporting {
    fn format(&self) -> BatchFormat {
        match &self.inner {
            Target::Spans(_) => BatchFormat::Spans,
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Target::Otlp(_) => BatchFormat::Otlp {
                value_length_limit: self.value_length_limit,
            },
        }
    }

    fn export(&self, batch: Batch) -> BoxFuture<'_, OTelSdkResult> {
        let work: BoxFuture<'static, OTelSdkResult> = match (&self.inner, batch) {
            (Target::Spans(inner), Batch::Spans(mut batch)) => {
                if let Some(limit) = self.value_length_limit {
                    truncate_values(&mut batch, limit);
                }
                let inner = Arc::clone(inner);
                Box::pin(async move { inner.dyn_export(batch).await })
            }
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            (Target::Otlp(otlp), Batch::Spans(batch)) => {
                let otlp = Arc::clone(otlp);
                let limit = self.value_length_limit;
                Box::pin(async move { otlp.export_spans(batch, limit).await })
            }
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            (Target::Otlp(otlp), Batch::Otlp { request, .. }) => {
                let otlp = Arc::clone(otlp);
                Box::pin(async move { otlp.send(request).await })
            }
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            (Target::Spans(_), Batch::Otlp { .. }) => {
                return Box::pin(async { Err(crate::pipeline::exporter::wrong_format()) })
            }
        };
        let health = Arc::clone(&self.health);
        let export = async move {
            let result = work.await;
            health.record(&result);
            result
        };
        match &self.runtime {
            Some(runtime) => {
                let timeout = self.export_timeout;
                let health = Arc::clone(&self.health);
                let task = runtime.spawn(async move {
                    match tokio::time::timeout(timeout, export).await {
                        Ok(result) => result,
                        Err(_) => {
                            let result = Err(OTelSdkError::Timeout(timeout));
                            health.record(&result);
                            result
                        }
                    }
                });
                Box::pin(async move {
                    task.await.unwrap_or_else(|error| {
                        Err(OTelSdkError::InternalFailure(format!(
                            "the export was cancelled by shutdown: {error}"
                        )))
                    })
                })
            }
            // Console: synchronous and quick, exported on the export thread.
            None => Box::pin(export),
        }
    }

    fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        let _runtime = self.runtime.as_ref().map(Handle::enter);
        match &self.inner {
            Target::Spans(inner) => inner.dyn_shutdown(timeout),
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Target::Otlp(_) => Ok(()),
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        let _runtime = self.runtime.as_ref().map(Handle::enter);
        match &self.inner {
            Target::Spans(inner) => inner.dyn_force_flush(),
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Target::Otlp(_) => Ok(()),
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        // Called while the provider is built, before any export holds a clone.
        match &mut self.inner {
            Target::Spans(inner) => {
                if let Some(inner) = Arc::get_mut(inner) {
                    inner.dyn_set_resource(resource);
                }
            }
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Target::Otlp(otlp) => {
                if let Some(otlp) = Arc::get_mut(otlp) {
                    otlp.set_resource(resource);
                }
            }
        }
    }
}

/// Truncates string attribute values (and each string of a string array) of spans, events and
/// links to `limit` characters, as `OTEL_*ATTRIBUTE_VALUE_LENGTH_LIMIT` ask.
pub(crate) fn truncate_values(batch: &mut [SpanData], limit: usize) {
    fn truncate(attributes: &mut [KeyValue], limit: usize) {
        for attribute in attributes {
            match &mut attribute.value {
                Value::String(s) => {
                    if let Some(short) = truncated(s.as_str(), limit) {
                        *s = short;
                    }
                }
                Value::Array(Array::String(strings)) => {
                    for s in strings {
                        if let Some(short) = truncated(s.as_str(), limit) {
                            *s = short;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for span in batch {
        truncate(&mut span.attributes, limit);
        for event in &mut span.events.events {
            truncate(&mut event.attributes, limit);
        }
        for link in &mut span.links.links {
            truncate(&mut link.attributes, limit);
        }
    }
}

#[cfg(all(test, any(feature = "otlp-grpc", feature = "otlp-http")))]
mod tests {
    #[test]
    fn a_port_of_the_other_transport_gets_a_hint() {
        use crate::export::otlp::port_hint;
        assert!(port_hint("http://localhost:4317/v1/traces", false).contains("4318"));
        assert!(port_hint("http://collector:4318", true).contains("4317"));
        assert_eq!(port_hint("http://localhost:4317", true), "");
        assert_eq!(port_hint("https://collector/otlp/v1/traces", false), "");
    }

    #[test]
    fn values_are_truncated_on_char_boundaries() {
        assert_eq!(super::truncated("héllo", 2).unwrap().as_str(), "hé");
        assert!(super::truncated("hé", 2).is_none());
    }
}

fn truncated(s: &str, limit: usize) -> Option<StringValue> {
    let (end, _) = s.char_indices().nth(limit)?;
    Some(StringValue::from(s[..end].to_owned()))
}
