//! Log records exported over OTLP beside the spans, each carrying the context of the span it
//! was written in (feature `otlp-logs`).
//!
//! The `tracing` events and `log` records go through the OpenTelemetry logs bridges
//! (`opentelemetry-appender-tracing`, `opentelemetry-appender-log`) into an SDK logger
//! provider; the SDK attaches the current span's `trace_id`, `span_id` and flags to each
//! record, and a batch processor sends them to the collector the spans go to, with the same
//! resource, protocol, headers, timeout, compression and TLS files, resolved from the same
//! `OTEL_*` variables by the same rules as [`init`](crate::init):
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

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_appender_log::OpenTelemetryLogBridge;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{
    BatchLogProcessor, LogBatch, LogExporter, SdkLogger, SdkLoggerProvider,
};
use opentelemetry_sdk::Resource;
use tokio::runtime::Handle;

use crate::config::{self, Config, OtlpConfig, Protocol, Settings};
use crate::env::{self, Env};
use crate::error::Error;
use crate::runtime::ExportRuntime;

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
    let resource = crate::resource::build(&config.resource);
    let mut builder = SdkLoggerProvider::builder().with_resource(resource);
    let exporter_off = env_value(env, OTEL_LOGS_EXPORTER).is_some_and(|v| v == "none");
    let mut own_runtime = None;
    let last_error = LastError::default();
    if let (Some(otlp), false, false) = (&config.otlp, exporter_off, config.disabled) {
        let logs_otlp = OtlpConfig {
            endpoint: logs_endpoint(
                otlp.protocol,
                env_value(env, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT).as_deref(),
                generic_endpoint,
            ),
            ..otlp.clone()
        };
        let handle = match runtime {
            Some(handle) => handle.clone(),
            None => own_runtime.insert(ExportRuntime::start()?).handle().clone(),
        };
        let exporter = OtlpLogExporter::new(&logs_otlp, &handle, last_error.clone())?;
        builder = builder.with_log_processor(BatchLogProcessor::builder(exporter).build());
    }
    Ok(LogsGuard {
        provider: builder.build(),
        runtime: own_runtime,
        last_error,
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

/// The OTLP log exporter: each batch is encoded where the processor calls it, then sent on
/// the export runtime within the OTLP timeout (tonic and hyper need a tokio reactor, which
/// the processor's thread does not have).
struct OtlpLogExporter {
    transport: Arc<transport::Transport>,
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
    fn new(config: &OtlpConfig, runtime: &Handle, last_error: LastError) -> Result<Self, Error> {
        Ok(OtlpLogExporter {
            last_error,
            transport: Arc::new(transport::Transport::new(config, runtime)?),
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
        let transport = Arc::clone(&self.transport);
        let timeout = self.timeout;
        let task = self.runtime.spawn(async move {
            match tokio::time::timeout(timeout, transport.export(request, timeout)).await {
                Ok(result) => result,
                Err(_) => Err(format!("no answer within {timeout:?}")),
            }
        });
        let result = task
            .await
            .unwrap_or_else(|error| Err(format!("the export was cancelled: {error}")));
        let result = result
            .map_err(|reason| format!("OTLP logs export to {} failed: {reason}", self.endpoint));
        self.last_error.set(result.as_ref().err().cloned());
        result.map_err(OTelSdkError::InternalFailure)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.into();
    }
}

mod transport {
    //! gRPC (tonic) and HTTP (hyper, protobuf or JSON) for `ExportLogsServiceRequest`s.

    use std::time::Duration;

    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use tokio::runtime::Handle;

    use crate::config::{OtlpConfig, Protocol};
    use crate::error::Error;

    #[allow(dead_code)] // unused when neither OTLP feature is on
    const USER_AGENT: &str = concat!("OTel-OTLP-Exporter-Rust/traced-", env!("CARGO_PKG_VERSION"));

    pub(super) enum Transport {
        #[cfg(feature = "otlp-grpc")]
        Grpc(Box<grpc::Grpc>),
        #[cfg(feature = "otlp-http")]
        Http(Box<http::Http>),
    }

    impl Transport {
        #[allow(unused_variables)]
        pub(super) fn new(config: &OtlpConfig, runtime: &Handle) -> Result<Transport, Error> {
            match config.protocol {
                #[cfg(feature = "otlp-grpc")]
                Protocol::Grpc => Ok(Transport::Grpc(Box::new(grpc::Grpc::new(config, runtime)?))),
                #[cfg(feature = "otlp-http")]
                Protocol::HttpProtobuf | Protocol::HttpJson => {
                    Ok(Transport::Http(Box::new(http::Http::new(config, runtime)?)))
                }
                #[allow(unreachable_patterns)]
                protocol => Err(Error::FeatureDisabled {
                    feature: if protocol == Protocol::Grpc {
                        "otlp-grpc"
                    } else {
                        "otlp-http"
                    },
                    what: format!("OTLP logs with protocol {}", protocol.as_str()),
                }),
            }
        }

        #[allow(unused_variables)]
        pub(super) async fn export(
            &self,
            request: ExportLogsServiceRequest,
            timeout: Duration,
        ) -> Result<(), String> {
            match self {
                #[cfg(feature = "otlp-grpc")]
                Transport::Grpc(grpc) => grpc.export(request, timeout).await,
                #[cfg(feature = "otlp-http")]
                Transport::Http(http) => http.export(request).await,
                #[allow(unreachable_patterns)]
                _ => Err("no OTLP transport".into()),
            }
        }
    }

    #[allow(dead_code)]
    fn read(what: &'static str, path: &std::path::Path) -> Result<Vec<u8>, Error> {
        std::fs::read(path).map_err(|source| Error::ReadFile {
            what,
            path: path.to_owned(),
            source,
        })
    }

    /// The PEM contents of the client certificate and key files, for mutual TLS.
    #[allow(dead_code)]
    struct Identity {
        cert: Vec<u8>,
        key: Vec<u8>,
    }

    #[allow(dead_code)]
    fn identity(config: &OtlpConfig) -> Result<Option<Identity>, Error> {
        match (&config.client_certificate, &config.client_key) {
            (Some(cert), Some(key)) => Ok(Some(Identity {
                cert: read("client certificate", cert)?,
                key: read("client key", key)?,
            })),
            (None, None) => Ok(None),
            _ => Err(Error::Tls(
                "a client certificate and a client key go together: set both \
                 OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY, \
                 or neither"
                    .into(),
            )),
        }
    }

    #[allow(dead_code)]
    fn is_https(config: &OtlpConfig) -> bool {
        config.endpoint.to_ascii_lowercase().starts_with("https://")
    }

    #[cfg(feature = "otlp-grpc")]
    mod grpc {
        use std::time::Duration;

        use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
        use tokio::runtime::Handle;
        use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
        use tonic::transport::Channel;

        use super::*;
        #[allow(unused_imports)]
        use crate::config::Compression;

        pub(crate) struct Grpc {
            client: LogsServiceClient<Channel>,
            metadata: MetadataMap,
        }

        impl Grpc {
            pub(super) fn new(config: &OtlpConfig, runtime: &Handle) -> Result<Grpc, Error> {
                let invalid = |reason: String| Error::InvalidEndpoint {
                    endpoint: config.endpoint.clone(),
                    source_name: "the OTLP logs configuration",
                    reason,
                };
                let endpoint = tonic::transport::Endpoint::from_shared(config.endpoint.clone())
                    .map_err(|error| invalid(error.to_string()))?
                    .timeout(config.timeout)
                    .connect_timeout(config.timeout)
                    .user_agent(USER_AGENT)
                    .map_err(|error| invalid(error.to_string()))?;
                #[cfg(feature = "tls")]
                let endpoint = if is_https(config) {
                    use tonic::transport::{Certificate, ClientTlsConfig, Identity};
                    let mut tls = ClientTlsConfig::new();
                    tls = match &config.certificate {
                        Some(path) => {
                            tls.ca_certificate(Certificate::from_pem(read("CA certificate", path)?))
                        }
                        None => tls.with_native_roots(),
                    };
                    if let Some(client) = identity(config)? {
                        tls = tls.identity(Identity::from_pem(client.cert, client.key));
                    }
                    endpoint
                        .tls_config(tls)
                        .map_err(|error| Error::Tls(error.to_string()))?
                } else {
                    endpoint
                };
                #[cfg(not(feature = "tls"))]
                if is_https(config) {
                    return Err(Error::FeatureDisabled {
                        feature: "tls",
                        what: format!("the https endpoint {}", config.endpoint),
                    });
                }
                let channel = {
                    let _runtime = runtime.enter();
                    endpoint.connect_lazy()
                };
                #[allow(unused_mut)]
                let mut client = LogsServiceClient::new(channel);
                #[cfg(feature = "gzip")]
                if config.compression == Compression::Gzip {
                    client = client.send_compressed(tonic::codec::CompressionEncoding::Gzip);
                }
                let mut metadata = MetadataMap::new();
                for (name, value) in &config.headers {
                    let header = || Error::InvalidHeader {
                        name: name.clone(),
                        reason: "not valid as gRPC metadata",
                    };
                    let key = MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes())
                        .map_err(|_| header())?;
                    let value = MetadataValue::try_from(value.as_str()).map_err(|_| header())?;
                    metadata.insert(key, value);
                }
                Ok(Grpc { client, metadata })
            }

            pub(super) async fn export(
                &self,
                request: ExportLogsServiceRequest,
                timeout: Duration,
            ) -> Result<(), String> {
                let mut client = self.client.clone();
                let mut request = tonic::Request::new(request);
                *request.metadata_mut() = self.metadata.clone();
                request.set_timeout(timeout);
                // The status message is not shown: a server may echo credentials in it.
                client
                    .export(request)
                    .await
                    .map(|_| ())
                    .map_err(|status| format!("gRPC status {:?}", status.code()))
            }
        }
    }

    #[cfg(feature = "otlp-http")]
    mod http {
        use ::http::header::{
            HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT as UA,
        };
        use ::http::{HeaderMap, Request, Uri};
        use bytes::Bytes;
        use http_body_util::{BodyExt, Full};
        use hyper_util::client::legacy::connect::HttpConnector;
        use hyper_util::client::legacy::Client;
        use hyper_util::rt::TokioExecutor;
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
        use prost::Message;
        use tokio::runtime::Handle;

        use super::*;
        use crate::config::Compression;

        #[cfg(feature = "tls")]
        type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
        #[cfg(not(feature = "tls"))]
        type Connector = HttpConnector;

        pub(crate) struct Http {
            client: Client<Connector, Full<Bytes>>,
            uri: Uri,
            headers: HeaderMap,
            json: bool,
            gzip: bool,
        }

        impl Http {
            pub(super) fn new(config: &OtlpConfig, runtime: &Handle) -> Result<Http, Error> {
                let uri: Uri =
                    config
                        .endpoint
                        .parse()
                        .map_err(|error: ::http::uri::InvalidUri| Error::InvalidEndpoint {
                            endpoint: config.endpoint.clone(),
                            source_name: "the OTLP logs configuration",
                            reason: error.to_string(),
                        })?;
                let mut headers = HeaderMap::new();
                for (name, value) in &config.headers {
                    let header = || Error::InvalidHeader {
                        name: name.clone(),
                        reason: "not valid as an HTTP header",
                    };
                    headers.insert(
                        HeaderName::from_bytes(name.as_bytes()).map_err(|_| header())?,
                        HeaderValue::from_str(value).map_err(|_| header())?,
                    );
                }
                let gzip = config.compression == Compression::Gzip;
                if gzip && !cfg!(feature = "gzip") {
                    return Err(Error::FeatureDisabled {
                        feature: "gzip",
                        what: "gzip compression of OTLP logs".into(),
                    });
                }
                let mut http = HttpConnector::new();
                http.set_connect_timeout(Some(config.timeout));
                http.enforce_http(false);
                #[cfg(feature = "tls")]
                let connector = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(tls_config(config)?)
                    .https_or_http()
                    .enable_http1()
                    .wrap_connector(http);
                #[cfg(not(feature = "tls"))]
                let connector = {
                    if is_https(config) {
                        return Err(Error::FeatureDisabled {
                            feature: "tls",
                            what: format!("the https endpoint {}", config.endpoint),
                        });
                    }
                    http
                };
                let _runtime = runtime.enter();
                Ok(Http {
                    client: Client::builder(TokioExecutor::new()).build(connector),
                    uri,
                    headers,
                    json: config.protocol == Protocol::HttpJson,
                    gzip,
                })
            }

            pub(super) async fn export(
                &self,
                request: ExportLogsServiceRequest,
            ) -> Result<(), String> {
                let body = if self.json {
                    serde_json::to_vec(&request).map_err(|error| error.to_string())?
                } else {
                    request.encode_to_vec()
                };
                let body = if self.gzip { gzip(body)? } else { body };
                let content_type = if self.json {
                    "application/json"
                } else {
                    "application/x-protobuf"
                };
                let mut builder = Request::post(self.uri.clone())
                    .header(CONTENT_TYPE, content_type)
                    .header(UA, USER_AGENT);
                if self.gzip {
                    builder = builder.header(CONTENT_ENCODING, "gzip");
                }
                if let Some(headers) = builder.headers_mut() {
                    headers.extend(self.headers.clone());
                }
                let request = builder
                    .body(Full::new(Bytes::from(body)))
                    .map_err(|error| error.to_string())?;
                let response = self
                    .client
                    .request(request)
                    .await
                    .map_err(|error| chain(&error))?;
                let status = response.status();
                // Read the body so that the connection can be reused.
                let _ = response.into_body().collect().await;
                if status.is_success() {
                    Ok(())
                } else {
                    Err(format!("HTTP status {status}"))
                }
            }
        }

        fn chain(error: &(dyn std::error::Error + 'static)) -> String {
            let mut out = error.to_string();
            let mut source = error.source();
            while let Some(error) = source {
                out.push_str(": ");
                out.push_str(&error.to_string());
                source = error.source();
            }
            out
        }

        #[cfg(feature = "gzip")]
        fn gzip(body: Vec<u8>) -> Result<Vec<u8>, String> {
            use std::io::Write as _;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder
                .write_all(&body)
                .map_err(|error| error.to_string())?;
            encoder.finish().map_err(|error| error.to_string())
        }

        #[cfg(not(feature = "gzip"))]
        fn gzip(_body: Vec<u8>) -> Result<Vec<u8>, String> {
            Err("gzip needs the `gzip` feature".into())
        }

        /// rustls with ring: the CA file when given, else the system's roots; the client
        /// certificate for mutual TLS.
        #[cfg(feature = "tls")]
        fn tls_config(config: &OtlpConfig) -> Result<rustls::ClientConfig, Error> {
            use rustls_pki_types::pem::PemObject;
            use rustls_pki_types::{CertificateDer, PrivateKeyDer};

            let tls = |what: &str| {
                let what = what.to_owned();
                move |error: rustls_pki_types::pem::Error| Error::Tls(format!("{what}: {error}"))
            };
            let mut roots = rustls::RootCertStore::empty();
            match &config.certificate {
                Some(path) => {
                    let pem = read("CA certificate", path)?;
                    for cert in CertificateDer::pem_slice_iter(&pem) {
                        roots
                            .add(cert.map_err(tls("the CA certificate file"))?)
                            .map_err(|error| Error::Tls(error.to_string()))?;
                    }
                }
                None if is_https(config) => {
                    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
                }
                None => {}
            }
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
            let builder = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|error| Error::Tls(error.to_string()))?
                .with_root_certificates(roots);
            match identity(config)? {
                Some(client) => {
                    let chain = CertificateDer::pem_slice_iter(&client.cert)
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(tls("the client certificate file"))?;
                    let key = PrivateKeyDer::from_pem_slice(&client.key)
                        .map_err(tls("the client key file"))?;
                    builder
                        .with_client_auth_cert(chain, key)
                        .map_err(|error| Error::Tls(error.to_string()))
                }
                None => Ok(builder.with_no_client_auth()),
            }
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
