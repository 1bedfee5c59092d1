//! The OTLP span exporter: spans grouped by resource and scope into one request.

use std::fmt;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::OtlpClient;

/// The OTLP span exporter.
pub(crate) struct OtlpExporter {
    pub(crate) client: OtlpClient<ExportTraceServiceRequest>,
    pub(crate) resource: ResourceAttributesWithSchema,
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

impl SpanExporter for OtlpExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(batch, &self.resource),
        };
        self.client
            .send(request)
            .await
            .map_err(OTelSdkError::InternalFailure)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = ResourceAttributesWithSchema::from(resource);
    }
}
