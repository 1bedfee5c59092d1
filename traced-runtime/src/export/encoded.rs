//! [`EncodedSpanExporter`]: spans delivered as OTLP protobuf, for a transport of your own.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use futures_util::future::BoxFuture;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::Resource;

use crate::pipeline::exporter::{wrong_format, Batch, BatchExporter, BatchFormat};

/// Receives each batch of spans as one encoded OTLP `ExportTraceServiceRequest` (protobuf, the
/// body of an OTLP/HTTP request), for a transport of your own: a file, a message queue, a
/// socket. Give it to [`SpanPipeline::encoded`](crate::SpanPipeline::encoded).
///
/// The pipeline encodes the request straight from its span records, resource and scopes once
/// per batch, without building the SDK's `SpanData`: this is the cheapest way out of the
/// process.
///
/// ```
/// use traced_runtime::opentelemetry_sdk::error::OTelSdkResult;
/// use traced_runtime::{EncodedSpanExporter, SpanPipeline};
///
/// #[derive(Debug)]
/// struct Append(std::sync::Mutex<Vec<u8>>);
///
/// impl EncodedSpanExporter for Append {
///     async fn export(&self, request: Vec<u8>, _spans: usize) -> OTelSdkResult {
///         self.0.lock().unwrap().extend_from_slice(&request);
///         Ok(())
///     }
/// }
///
/// let provider = SpanPipeline::encoded(Append(Default::default())).install()?;
/// # provider.shutdown().unwrap();
/// # Ok::<(), traced_runtime::Error>(())
/// ```
pub trait EncodedSpanExporter: Send + Sync + fmt::Debug + 'static {
    /// Exports one request, of `spans` spans. It runs on the pipeline's export thread, one at
    /// a time; the pipeline abandons it after the export timeout and counts its spans lost
    /// when it fails.
    fn export(&self, request: Vec<u8>, spans: usize) -> impl Future<Output = OTelSdkResult> + Send;

    /// Everything exported so far is delivered.
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    /// Called once, after the last export.
    fn shutdown(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// An [`EncodedSpanExporter`] in the pipeline.
#[derive(Debug)]
pub(crate) struct Encoded<E>(pub(crate) E);

impl<E: EncodedSpanExporter> BatchExporter for Encoded<E> {
    fn format(&self) -> BatchFormat {
        BatchFormat::Otlp {
            value_length_limit: None,
        }
    }

    fn export(&self, batch: Batch) -> BoxFuture<'_, OTelSdkResult> {
        match batch {
            Batch::Otlp { request, spans } => Box::pin(self.0.export(request.into(), spans)),
            Batch::Spans(_) => Box::pin(async { Err(wrong_format()) }),
        }
    }

    fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    // The collector's encoder writes the resource.
    fn set_resource(&mut self, _resource: &Resource) {}
}
