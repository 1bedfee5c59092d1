//! [`Exporting`]: one exporter run on the export runtime, each export bounded by the export
//! timeout, its last failure kept for the guard ([`ExportHealth`]), and string values truncated
//! to the configured length.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::Either;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tokio::runtime::Handle;

use super::DynExporter;

/// Wraps an exporter: truncates attribute values to the length limit (which the SDK does not
/// do), and, given the export runtime, runs each export there within `export_timeout`
/// (`OTEL_BSP_EXPORT_TIMEOUT`, which the SDK's thread-based processor ignores).
#[derive(Debug)]
pub(crate) struct Exporting {
    inner: Arc<dyn DynExporter>,
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

impl Exporting {
    pub(crate) fn new(
        inner: Box<dyn DynExporter>,
        runtime: Option<Handle>,
        export_timeout: Duration,
        value_length_limit: Option<usize>,
    ) -> Exporting {
        Exporting {
            inner: Arc::from(inner),
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

impl SpanExporter for Exporting {
    fn export(&self, mut batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        if let Some(limit) = self.value_length_limit {
            truncate_values(&mut batch, limit);
        }
        let inner = Arc::clone(&self.inner);
        let health = Arc::clone(&self.health);
        let export = async move {
            let result = inner.dyn_export(batch).await;
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
                Either::Left(async move {
                    task.await.unwrap_or_else(|error| {
                        Err(OTelSdkError::InternalFailure(format!(
                            "the export was cancelled by shutdown: {error}"
                        )))
                    })
                })
            }
            // Console: synchronous and quick, exported where the span ended.
            None => Either::Right(export),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let _runtime = self.runtime.as_ref().map(Handle::enter);
        self.inner.dyn_shutdown(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        let _runtime = self.runtime.as_ref().map(Handle::enter);
        self.inner.dyn_force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        // Called while the provider is built, before any export holds a clone.
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.dyn_set_resource(resource);
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
