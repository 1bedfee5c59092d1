//! Log records exported over OTLP beside the spans, each carrying the context of the span it
//! was written in (feature `otlp-logs`).
//!
//! The `tracing` events and `log` records go through the OpenTelemetry logs bridges
//! (`opentelemetry-appender-tracing`, `opentelemetry-appender-log`) into an SDK logger
//! provider; the SDK attaches the current span's `trace_id`, `span_id` and flags to each
//! record, and a batch processor sends them to the collector the spans go to, through the
//! spans' OTLP transport (retries of transient failures included), with the same resource,
//! protocol, headers, timeout, compression and TLS files, resolved from the same `OTEL_*`
//! variables by the same rules as [`init`](crate::init):
//!
//! ```no_run
//! use tracing_subscriber::layer::SubscriberExt as _;
//! use tracing_subscriber::util::SubscriberInitExt as _;
//!
//! # fn main() -> Result<(), traced_runtime::Error> {
//! let _telemetry = traced_runtime::init()?;
//! let logs = traced_runtime::otlp_logs::install()?;
//! tracing_subscriber::registry()
//!     .with(logs.tracing_layer())
//!     .with(tracing_subscriber::fmt::layer().map_event_format(traced_runtime::with_trace_ids))
//!     .init();
//! # Ok(())
//! # }
//! ```
//!
//! The endpoint is `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` when set, else the generic
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (with `/v1/logs` appended for HTTP), else the default
//! collector; `OTEL_LOGS_EXPORTER=none` turns the export off. The batch processor honours
//! `OTEL_BLRP_*`.
//!
//! [`install`] sees the environment only. To share the values given to
//! `Telemetry::builder()` (service name, endpoint, headers, TLS files, …) and its export
//! runtime, call [`otlp_logs`](crate::TelemetryBuilder::otlp_logs) on the builder instead;
//! the guard's [`logs`](crate::TelemetryGuard::logs) then gives the bridges:
//!
//! ```no_run
//! use tracing_subscriber::layer::SubscriberExt as _;
//! use tracing_subscriber::util::SubscriberInitExt as _;
//!
//! # fn main() -> Result<(), traced_runtime::Error> {
//! let telemetry = traced_runtime::Telemetry::builder()
//!     .service_name("shop")
//!     .otlp_endpoint("http://collector:4318")
//!     .otlp_logs()
//!     .install()?;
//! let registry = tracing_subscriber::registry();
//! match telemetry.logs() {
//!     Some(logs) => registry.with(logs.tracing_layer()).init(),
//!     None => registry.init(),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Unlike the ids in log lines, which follow the guide's `is_recording` rule, an OTLP record
//! carries the context of any current span, its sampled flag included: that is the
//! OpenTelemetry logs data model, and it lets a backend keep logs of unsampled traces apart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_appender_log::OpenTelemetryLogBridge;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::OTelSdkError;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use opentelemetry_sdk::logs::BatchLogProcessor;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use tokio::runtime::Handle;

use crate::error::Error;
use crate::export::runtime::ExportRuntime;
use crate::setup::config::{self, Config, OtlpConfig, Protocol, Settings};
use crate::setup::env::{self, Env};

/// The variable naming the logs endpoint, a full URL for HTTP.
pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// The generic endpoint, shared by every signal; `/v1/logs` is appended for HTTP.
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// `otlp` (default) or `none`.
pub const OTEL_LOGS_EXPORTER: &str = "OTEL_LOGS_EXPORTER";
/// The collector's HTTP endpoint for logs when nothing is configured.
pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT_HTTP_DEFAULT: &str = "http://localhost:4318/v1/logs";
/// The collector's gRPC endpoint when nothing is configured.
pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT_GRPC_DEFAULT: &str = "http://localhost:4317";

/// Sets up the OTLP export of log records from the environment, as [`init`](crate::init) does
/// for spans. See the [module](self) documentation.
///
/// # Errors
///
/// As [`Telemetry::install`](crate::TelemetryBuilder::install): an invalid endpoint or
/// header, a TLS file that cannot be read, a protocol whose feature is off.
pub fn install() -> Result<LogsGuard, Error> {
    install_with_env(env::read())
}

/// [`install`] reading the `OTEL_*` settings from `env` instead of the process environment.
///
/// # Errors
///
/// See [`install`].
pub fn install_with_env(env: Env) -> Result<LogsGuard, Error> {
    let config::Resolved { config, warnings } = config::resolve(&Settings::default(), &env)?;
    for warning in &warnings {
        eprintln!("traced: {warning}");
    }
    let generic = env_value(&env, OTEL_EXPORTER_OTLP_ENDPOINT);
    build(&config, &env, generic.as_deref(), None)
}

/// Builds the logs pipeline that `config` (the tracing setup's resolved configuration)
/// describes: the same resource and OTLP settings, the logs endpoint chosen by
/// [`logs_endpoint`]. `generic_endpoint` is the builder's `otlp_endpoint`, else the
/// environment's `OTEL_EXPORTER_OTLP_ENDPOINT`. Exports run on `runtime`, the tracing setup's
/// export runtime, when given; else on one of the guard's own.
///
/// This is the hook for `Telemetry::install`, which can keep the returned guard beside its own.
/// Without an OTLP exporter for spans (console, none) there is none for logs either.
pub(crate) fn build(
    config: &Config,
    env: &Env,
    generic_endpoint: Option<&str>,
    runtime: Option<&Handle>,
) -> Result<LogsGuard, Error> {
    let resource = crate::setup::resource::build(&config.resource);
    #[allow(unused_mut)] // unused without an OTLP transport
    let mut builder = SdkLoggerProvider::builder().with_resource(resource);
    let exporter_off = env_value(env, OTEL_LOGS_EXPORTER).is_some_and(|v| v == "none");
    #[allow(unused_mut)] // unused without an OTLP transport
    let mut own_runtime = None;
    let last_error = LastError::default();
    let stopping = Arc::new(AtomicBool::new(false));
    if let (Some(otlp), false, false) = (&config.otlp, exporter_off, config.disabled) {
        let logs_otlp = OtlpConfig {
            endpoint: logs_endpoint(
                otlp.protocol,
                env_value(env, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT).as_deref(),
                generic_endpoint,
            ),
            ..otlp.clone()
        };
        #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
        {
            let handle = match runtime {
                Some(handle) => handle.clone(),
                None => own_runtime.insert(ExportRuntime::start()?).handle().clone(),
            };
            let exporter = OtlpLogExporter::new(
                &logs_otlp,
                &handle,
                last_error.clone(),
                Arc::clone(&stopping),
            )?;
            builder = builder.with_log_processor(BatchLogProcessor::builder(exporter).build());
        }
        #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
        {
            let _ = runtime;
            return Err(crate::export::otlp_disabled(
                logs_otlp.protocol,
                "OTLP logs",
            ));
        }
    }
    Ok(LogsGuard {
        provider: builder.build(),
        runtime: own_runtime,
        last_error,
        stopping,
        timeout: config
            .shutdown_timeout
            .unwrap_or(crate::DEFAULT_SHUTDOWN_TIMEOUT),
    })
}

pub(crate) fn env_value(env: &Env, name: &str) -> Option<String> {
    match env.get(name) {
        Some(Ok(value)) if !value.trim().is_empty() => Some(value.trim().to_owned()),
        _ => None,
    }
}

/// Where log records go: `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` as it is; else the generic
/// endpoint, with `/v1/logs` appended for HTTP (whatever its path, as for traces); else the
/// default collector.
pub fn logs_endpoint(protocol: Protocol, logs: Option<&str>, generic: Option<&str>) -> String {
    if let Some(logs) = logs {
        return logs.to_owned();
    }
    match (protocol, generic) {
        (Protocol::Grpc, Some(generic)) => generic.to_owned(),
        (Protocol::Grpc, None) => OTEL_EXPORTER_OTLP_LOGS_ENDPOINT_GRPC_DEFAULT.to_owned(),
        (_, Some(generic)) => format!("{}/v1/logs", generic.trim_end_matches('/')),
        (_, None) => OTEL_EXPORTER_OTLP_LOGS_ENDPOINT_HTTP_DEFAULT.to_owned(),
    }
}

/// Keeps the logs pipeline running; dropping it exports the records still queued and shuts
/// down, waiting at most the shutdown timeout.
#[must_use = "dropping the guard shuts the logs export down at once"]
#[derive(Debug)]
pub struct LogsGuard {
    provider: SdkLoggerProvider,
    /// Dropped after the provider's shutdown.
    runtime: Option<ExportRuntime>,
    timeout: Duration,
    /// The last export failure, which the SDK's flush and shutdown do not report.
    last_error: LastError,
    /// Set when shutdown starts: failed exports are no longer retried.
    stopping: Arc<AtomicBool>,
}

impl LogsGuard {
    /// The logger provider, for other bridges or to build loggers.
    pub fn provider(&self) -> &SdkLoggerProvider {
        &self.provider
    }

    /// A `tracing_subscriber` layer sending every `tracing` event to the provider.
    pub fn tracing_layer(&self) -> OpenTelemetryTracingBridge<SdkLoggerProvider, SdkLogger> {
        tracing_layer(&self.provider)
    }

    /// A `log::Log` sending every `log` record to the provider: install it with
    /// `log::set_boxed_logger`, or call it from your own logger.
    pub fn log_bridge(&self) -> OpenTelemetryLogBridge<SdkLoggerProvider, SdkLogger> {
        log_bridge(&self.provider)
    }

    /// Exports the records written so far.
    ///
    /// # Errors
    ///
    /// When the export fails or does not finish within the shutdown timeout.
    pub fn force_flush(&self) -> Result<(), Error> {
        self.provider
            .force_flush()
            .map_err(sdk_error("logs flush"))?;
        self.last_error.take("logs flush")
    }

    /// Exports what is queued and shuts down, returning what went wrong instead of printing it.
    ///
    /// # Errors
    ///
    /// When the last export fails or does not finish within the shutdown timeout.
    pub fn shutdown(mut self) -> Result<(), Error> {
        let result = self.shutdown_inner();
        self.runtime.take();
        result
    }

    fn shutdown_inner(&self) -> Result<(), Error> {
        self.stopping.store(true, Ordering::Relaxed);
        match self.provider.shutdown_with_timeout(self.timeout) {
            Ok(()) | Err(OTelSdkError::AlreadyShutdown) => self.last_error.take("logs shutdown"),
            Err(error) => Err(sdk_error("logs shutdown")(error)),
        }
    }
}

impl Drop for LogsGuard {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown_inner() {
            eprintln!("traced: {error}");
        }
    }
}

fn sdk_error(operation: &'static str) -> impl Fn(OTelSdkError) -> Error {
    move |source| Error::Sdk { operation, source }
}

/// The last export failure, shared by the exporter (which sets it) and the guard (which
/// reports it once).
#[derive(Clone, Debug, Default)]
struct LastError(Arc<std::sync::Mutex<Option<String>>>);

impl LastError {
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    fn set(&self, reason: Option<String>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = reason;
    }

    fn take(&self, operation: &'static str) -> Result<(), Error> {
        let reason = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match reason {
            Some(reason) => Err(Error::Sdk {
                operation,
                source: OTelSdkError::InternalFailure(format!(
                    "log records were not exported: {reason}"
                )),
            }),
            None => Ok(()),
        }
    }
}

/// A `tracing_subscriber` layer sending every `tracing` event to `provider` as a log record.
pub fn tracing_layer(
    provider: &SdkLoggerProvider,
) -> OpenTelemetryTracingBridge<SdkLoggerProvider, SdkLogger> {
    OpenTelemetryTracingBridge::new(provider)
}

/// A `log::Log` sending every `log` record to `provider`.
pub fn log_bridge(
    provider: &SdkLoggerProvider,
) -> OpenTelemetryLogBridge<SdkLoggerProvider, SdkLogger> {
    OpenTelemetryLogBridge::new(provider)
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use otlp_exporter::OtlpLogExporter;

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
mod otlp_exporter {
    use std::fmt;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::time::Duration;

    use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
    use opentelemetry_sdk::logs::{LogBatch, LogExporter};
    use opentelemetry_sdk::Resource;
    use tokio::runtime::Handle;

    use super::LastError;
    use crate::error::Error;
    use crate::setup::config::OtlpConfig;

    /// The OTLP log exporter: each batch is encoded where the processor calls it, then sent on
    /// the export runtime within the OTLP timeout (tonic and hyper need a tokio reactor, which
    /// the processor's thread does not have) by the transport the spans use.
    pub(super) struct OtlpLogExporter {
        client: Arc<
            crate::export::OtlpClient<
                opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest,
            >,
        >,
        resource: opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema,
        runtime: Handle,
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
        pub(super) fn new(
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
                endpoint: config.endpoint.clone(),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_endpoint_rules() {
        let table: [(Protocol, Option<&str>, Option<&str>, &str); 8] = [
            (
                Protocol::HttpProtobuf,
                None,
                None,
                "http://localhost:4318/v1/logs",
            ),
            (
                Protocol::HttpJson,
                None,
                None,
                "http://localhost:4318/v1/logs",
            ),
            (Protocol::Grpc, None, None, "http://localhost:4317"),
            (
                Protocol::HttpProtobuf,
                None,
                Some("http://collector:4318"),
                "http://collector:4318/v1/logs",
            ),
            (
                Protocol::HttpProtobuf,
                None,
                Some("https://collector/otlp/"),
                "https://collector/otlp/v1/logs",
            ),
            (
                Protocol::Grpc,
                None,
                Some("http://collector:4317"),
                "http://collector:4317",
            ),
            // The signal's own variable is used as it is.
            (
                Protocol::HttpProtobuf,
                Some("http://logs:9000/ingest"),
                Some("http://collector:4318"),
                "http://logs:9000/ingest",
            ),
            (
                Protocol::Grpc,
                Some("http://logs:4317"),
                None,
                "http://logs:4317",
            ),
        ];
        for (protocol, logs, generic, expected) in table {
            assert_eq!(
                logs_endpoint(protocol, logs, generic),
                expected,
                "{protocol:?} {logs:?} {generic:?}"
            );
        }
    }
}
