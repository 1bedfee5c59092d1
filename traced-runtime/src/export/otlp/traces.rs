//! The OTLP span exporter. It sends requests the collector thread encoded from the records
//! ([`encode`](super::encode)); given `SpanData` instead (beside other exporters, which need
//! that form), it encodes them the same way.

use std::fmt;

use bytes::Bytes;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanLimits};
use opentelemetry_sdk::Resource;

use super::encode::TracesEncoder;
use super::{OtlpClient, OtlpRequest};

/// An encoded `ExportTraceServiceRequest`: cloned for a retry without copying.
#[derive(Clone, Debug)]
pub(crate) struct EncodedTraces(pub(crate) Bytes);

#[cfg(feature = "otlp-grpc")]
const TRACE_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

impl OtlpRequest for EncodedTraces {
    const SIGNAL: &'static str = "OTLP";
    const CONFIGURATION: &'static str = "the OTLP configuration";

    #[cfg(feature = "otlp-grpc")]
    #[cfg_attr(not(feature = "gzip"), allow(unused_variables))]
    fn grpc_export(
        channel: tonic::transport::Channel,
        gzip: bool,
        request: tonic::Request<Self>,
    ) -> crate::export::BoxFuture<'static, Result<(), tonic::Status>> {
        let client = tonic::client::Grpc::new(channel);
        #[cfg(feature = "gzip")]
        let client = if gzip {
            client.send_compressed(tonic::codec::CompressionEncoding::Gzip)
        } else {
            client
        };
        Box::pin(async move {
            let mut client = client;
            client.ready().await.map_err(|error| {
                tonic::Status::unknown(format!("the gRPC channel was not ready: {error}"))
            })?;
            let path = tonic::codegen::http::uri::PathAndQuery::from_static(TRACE_EXPORT);
            client
                .unary(
                    request.map(|EncodedTraces(bytes)| bytes),
                    path,
                    super::grpc::RawCodec,
                )
                .await
                .map(|_| ())
        })
    }

    #[cfg(feature = "otlp-http")]
    fn http_body(&self, json: bool) -> Result<Bytes, String> {
        if json {
            use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
            let request = <ExportTraceServiceRequest as prost::Message>::decode(self.0.clone())
                .map_err(|error| error.to_string())?;
            serde_json::to_vec(&request)
                .map(Bytes::from)
                .map_err(|error| error.to_string())
        } else {
            // Shared, not copied: a retry sends the same bytes.
            Ok(self.0.clone())
        }
    }
}

/// The OTLP span exporter.
pub(crate) struct OtlpExporter {
    pub(crate) client: OtlpClient<EncodedTraces>,
    resource: Resource,
}

impl fmt::Debug for OtlpExporter {
    // Headers are left out: they may hold secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("protocol", &self.client.protocol())
            .field("endpoint", &self.client.endpoint)
            .field("timeout", &self.client.timeout)
            .finish_non_exhaustive()
    }
}

impl OtlpExporter {
    pub(crate) fn new(client: OtlpClient<EncodedTraces>) -> Self {
        OtlpExporter {
            client,
            resource: Resource::builder_empty().build(),
        }
    }

    /// Sends one encoded request.
    pub(crate) async fn send(&self, request: Bytes) -> OTelSdkResult {
        self.client
            .send(EncodedTraces(request))
            .await
            .map_err(OTelSdkError::InternalFailure)
    }

    /// Encodes `spans` (already within the span limits) and sends them.
    pub(crate) async fn export_spans(
        &self,
        spans: Vec<SpanData>,
        value_length_limit: Option<usize>,
    ) -> OTelSdkResult {
        if spans.is_empty() {
            return Ok(());
        }
        let mut encoder = TracesEncoder::new(SpanLimits::default(), value_length_limit);
        encoder.set_resource(&self.resource);
        for span in &spans {
            encoder.add_span_data(span);
        }
        self.send(encoder.finish().into()).await
    }

    /// The resource of the spans [`export_spans`](Self::export_spans) is given.
    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.clone();
    }
}
