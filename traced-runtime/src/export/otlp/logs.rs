//! The OTLP log exporter: log batches over the spans' transport.

use std::fmt;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::Resource;
use tokio::runtime::Handle;

use crate::error::Error;
use crate::export::LastError;
use crate::setup::config::OtlpConfig;

/// The OTLP log exporter: each batch is encoded where the processor calls it, then sent on
/// the export runtime within the OTLP timeout (tonic and hyper need a tokio reactor, which
/// the processor's thread does not have) by the transport the spans use.
pub(crate) struct OtlpLogExporter {
    client: Arc<
        crate::export::OtlpClient<
            opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest,
        >,
    >,
    resource: opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema,
    runtime: Handle,
    /// The endpoint as printed: its userinfo and query redacted.
    endpoint: String,
    timeout: Duration,
    last_error: LastError,
}

impl fmt::Debug for OtlpLogExporter {
    // Headers are left out: they may hold secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpLogExporter")
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl OtlpLogExporter {
    pub(crate) fn new(
        config: &OtlpConfig,
        runtime: &Handle,
        last_error: LastError,
        stopping: Arc<AtomicBool>,
    ) -> Result<Self, Error> {
        Ok(OtlpLogExporter {
            last_error,
            client: Arc::new(crate::export::OtlpClient::new(config, runtime, stopping)?),
            resource: Default::default(),
            runtime: runtime.clone(),
            endpoint: crate::redact::url(&config.endpoint),
            timeout: config.timeout,
        })
    }
}

impl LogExporter for OtlpLogExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
        use opentelemetry_proto::transform::logs::tonic::group_logs_by_resource_and_scope;

        let request = ExportLogsServiceRequest {
            resource_logs: group_logs_by_resource_and_scope(&batch, &self.resource),
        };
        let client = Arc::clone(&self.client);
        let timeout = self.timeout;
        let endpoint = self.endpoint.clone();
        let task = self.runtime.spawn(async move {
            match tokio::time::timeout(timeout, client.send(request)).await {
                Ok(result) => result,
                Err(_) => Err(format!(
                    "OTLP logs export to {endpoint} failed: no answer within {timeout:?}"
                )),
            }
        });
        let result = task.await.unwrap_or_else(|error| {
            Err(format!(
                "OTLP logs export to {} failed: the export was cancelled: {error}",
                self.endpoint
            ))
        });
        self.last_error.set(result.as_ref().err().cloned());
        result.map_err(OTelSdkError::InternalFailure)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.into();
    }
}
