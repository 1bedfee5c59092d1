//! The exporters: OTLP (gRPC, HTTP protobuf, HTTP JSON), console, none, or the user's own, and
//! the wrapper that runs every export on the export runtime within its time limit.
//!
//! The OTLP transport is built here on `opentelemetry-proto`'s messages and generated client
//! rather than with `opentelemetry-otlp`: that crate reads the `OTEL_EXPORTER_OTLP_*`
//! variables itself when the exporter is built and lets environment headers override the
//! programmatic ones, so the configuration would have two sources with different rules and
//! invalid values would be reported twice. Here `config.rs` alone decides, and this file only
//! builds what it decided.

pub(crate) mod console;
pub(crate) mod runtime;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::Either;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tokio::runtime::Handle;

use crate::error::Error;
use crate::setup::config::OtlpConfig;

/// Where spans go: pass to [`TelemetryBuilder::exporter`](crate::TelemetryBuilder::exporter).
///
/// Without one, `OTEL_TRACES_EXPORTER` decides (default `otlp`).
pub struct Exporter(pub(crate) ExporterKind);

pub(crate) enum ExporterKind {
    Otlp,
    Console,
    None,
    Custom(Box<dyn DynExporter>),
}

impl Exporter {
    /// OTLP to a collector, configured by the `otlp_*` builder methods and the
    /// `OTEL_EXPORTER_OTLP_*` variables.
    pub fn otlp() -> Exporter {
        Exporter(ExporterKind::Otlp)
    }

    /// Each finished trace printed on stdout as a tree with a waterfall of durations.
    pub fn console() -> Exporter {
        Exporter(ExporterKind::Console)
    }

    /// No exporter: spans are created (and sampled) but go nowhere.
    pub fn none() -> Exporter {
        Exporter(ExporterKind::None)
    }

    /// Any `SpanExporter`, run by a batch processor on the export runtime (so an exporter that
    /// needs tokio works from any program).
    pub fn custom(exporter: impl SpanExporter + 'static) -> Exporter {
        Exporter(ExporterKind::Custom(Box::new(exporter)))
    }
}

impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match &self.0 {
            ExporterKind::Otlp => "otlp",
            ExporterKind::Console => "console",
            ExporterKind::None => "none",
            ExporterKind::Custom(_) => "custom",
        };
        f.debug_tuple("Exporter").field(&name).finish()
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// `SpanExporter`, object-safe.
pub(crate) trait DynExporter: Send + Sync + fmt::Debug {
    fn dyn_export(&self, batch: Vec<SpanData>) -> BoxFuture<'_, OTelSdkResult>;
    fn dyn_shutdown(&self, timeout: Duration) -> OTelSdkResult;
    fn dyn_force_flush(&self) -> OTelSdkResult;
    fn dyn_set_resource(&mut self, resource: &Resource);
}

impl<E: SpanExporter> DynExporter for E {
    fn dyn_export(&self, batch: Vec<SpanData>) -> BoxFuture<'_, OTelSdkResult> {
        Box::pin(self.export(batch))
    }
    fn dyn_shutdown(&self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }
    fn dyn_force_flush(&self) -> OTelSdkResult {
        self.force_flush()
    }
    fn dyn_set_resource(&mut self, resource: &Resource) {
        self.set_resource(resource);
    }
}

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
        use super::otlp::port_hint;
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

/// Builds the OTLP exporter that `config` describes; its client lives on `runtime`.
/// `stopping` is set when shutdown starts: from then on failed exports are not retried, so
/// that shutdown is as quick as the collector lets it be.
#[allow(unused_variables)]
pub(crate) fn otlp(
    config: &OtlpConfig,
    runtime: &Handle,
    stopping: Arc<std::sync::atomic::AtomicBool>,
) -> Result<Box<dyn DynExporter>, Error> {
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    {
        Ok(Box::new(otlp::OtlpExporter {
            client: OtlpClient::new(config, runtime, stopping)?,
            resource: Default::default(),
        }))
    }
    #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
    Err(otlp_disabled(config.protocol, "OTLP"))
}

/// The error when neither OTLP transport is compiled in, or not the one `protocol` needs.
#[cfg_attr(all(feature = "otlp-grpc", feature = "otlp-http"), allow(dead_code))]
pub(crate) fn otlp_disabled(protocol: crate::setup::config::Protocol, signal: &str) -> Error {
    Error::FeatureDisabled {
        feature: if protocol == crate::setup::config::Protocol::Grpc {
            "otlp-grpc"
        } else {
            "otlp-http"
        },
        what: format!("{signal} with protocol {}", protocol.as_str()),
    }
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) use otlp::OtlpClient;

/// The OTLP transport, shared by the signals: gRPC (tonic) and HTTP (hyper, protobuf or JSON),
/// TLS, gzip, headers, the request timeout and the retries. What differs between signals is
/// the request message and its gRPC service ([`OtlpRequest`]); the HTTP path (`/v1/traces`,
/// `/v1/logs`) is part of the endpoint each signal resolves before building its client.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
mod otlp {
    use std::fmt;
    use std::marker::PhantomData;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
    use opentelemetry_sdk::trace::{SpanData, SpanExporter};
    use opentelemetry_sdk::Resource;
    use tokio::runtime::Handle;

    use crate::error::Error;
    use crate::setup::config::{Compression, OtlpConfig, Protocol};

    const USER_AGENT: &str = concat!("OTel-OTLP-Exporter-Rust/traced-", env!("CARGO_PKG_VERSION"));

    /// The export request of one signal, as the transport sends it.
    pub(crate) trait OtlpRequest: Clone + Send + Sync + 'static {
        /// What is exported, at the start of error messages: `OTLP`, `OTLP logs`.
        const SIGNAL: &'static str;
        /// Where the configuration comes from, in errors about the endpoint.
        const CONFIGURATION: &'static str;

        /// Sends `request` to the signal's gRPC service (`…TraceService/Export`,
        /// `…LogsService/Export`) over `channel`.
        #[cfg(feature = "otlp-grpc")]
        fn grpc_export(
            channel: tonic::transport::Channel,
            gzip: bool,
            request: tonic::Request<Self>,
        ) -> super::BoxFuture<'static, Result<(), tonic::Status>>;

        /// The HTTP request body: JSON or protobuf.
        #[cfg(feature = "otlp-http")]
        fn http_body(&self, json: bool) -> Result<Vec<u8>, String>;
    }

    macro_rules! otlp_request {
        ($request:ty, $client:ty, $signal:expr, $configuration:expr) => {
            impl OtlpRequest for $request {
                const SIGNAL: &'static str = $signal;
                const CONFIGURATION: &'static str = $configuration;

                #[cfg(feature = "otlp-grpc")]
                #[cfg_attr(not(feature = "gzip"), allow(unused_variables))]
                fn grpc_export(
                    channel: tonic::transport::Channel,
                    gzip: bool,
                    request: tonic::Request<Self>,
                ) -> super::BoxFuture<'static, Result<(), tonic::Status>> {
                    let client = <$client>::new(channel);
                    #[cfg(feature = "gzip")]
                    let client = if gzip {
                        client.send_compressed(tonic::codec::CompressionEncoding::Gzip)
                    } else {
                        client
                    };
                    Box::pin(async move {
                        let mut client = client;
                        client.export(request).await.map(|_| ())
                    })
                }

                #[cfg(feature = "otlp-http")]
                fn http_body(&self, json: bool) -> Result<Vec<u8>, String> {
                    if json {
                        serde_json::to_vec(self).map_err(|error| error.to_string())
                    } else {
                        Ok(prost::Message::encode_to_vec(self))
                    }
                }
            }
        };
    }

    otlp_request!(
        ExportTraceServiceRequest,
        opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient<
            tonic::transport::Channel,
        >,
        "OTLP",
        "the OTLP configuration"
    );

    #[cfg(feature = "otlp-logs")]
    otlp_request!(
        opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest,
        opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient<
            tonic::transport::Channel,
        >,
        "OTLP logs",
        "the OTLP logs configuration"
    );

    /// Sends the export requests of one signal to the collector, retrying transient failures.
    pub(crate) struct OtlpClient<R> {
        transport: Transport,
        endpoint: String,
        timeout: Duration,
        /// Set when shutdown starts: failed exports are no longer retried.
        stopping: Arc<AtomicBool>,
        request: PhantomData<fn(R)>,
    }

    impl<R> fmt::Debug for OtlpClient<R> {
        // Headers are left out: they may hold secrets.
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("OtlpClient")
                .field("protocol", &self.protocol())
                .field("endpoint", &self.endpoint)
                .field("timeout", &self.timeout)
                .finish_non_exhaustive()
        }
    }

    impl<R: OtlpRequest> OtlpClient<R> {
        /// The client for the collector `config` describes, on `runtime`. `stopping` is set
        /// when shutdown starts: from then on failed exports are not retried, so that
        /// shutdown is as quick as the collector lets it be.
        #[allow(unused_variables)]
        pub(crate) fn new(
            config: &OtlpConfig,
            runtime: &Handle,
            stopping: Arc<AtomicBool>,
        ) -> Result<Self, Error> {
            if config.compression == Compression::Gzip && !cfg!(feature = "gzip") {
                return Err(Error::FeatureDisabled {
                    feature: "gzip",
                    what: "gzip compression (OTEL_EXPORTER_OTLP_COMPRESSION=gzip)".into(),
                });
            }
            let https = config.endpoint.to_ascii_lowercase().starts_with("https://");
            if https && !cfg!(feature = "tls") {
                return Err(Error::FeatureDisabled {
                    feature: "tls",
                    what: format!("the https endpoint {}", config.endpoint),
                });
            }
            if config.client_key.is_some() != config.client_certificate.is_some() {
                return Err(Error::Tls(
                    "a client certificate and a client key go together: set both \
                     OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY \
                     (or give both to otlp_client_identity), or neither"
                        .into(),
                ));
            }
            let transport = match config.protocol {
                #[cfg(feature = "otlp-grpc")]
                Protocol::Grpc => Transport::Grpc(Box::new(grpc_transport::Grpc::new(
                    config,
                    runtime,
                    R::CONFIGURATION,
                )?)),
                #[cfg(feature = "otlp-http")]
                Protocol::HttpProtobuf | Protocol::HttpJson => Transport::Http(Box::new(
                    http_transport::Http::new(config, runtime, R::CONFIGURATION)?,
                )),
                #[allow(unreachable_patterns)]
                protocol => return Err(super::otlp_disabled(protocol, R::SIGNAL)),
            };
            Ok(OtlpClient {
                transport,
                endpoint: config.endpoint.clone(),
                timeout: config.timeout,
                stopping,
                request: PhantomData,
            })
        }

        /// Sends `request`, retrying transient failures (unless shutting down); the error
        /// names the endpoint and, when its port is the other transport's, says so.
        pub(crate) async fn send(&self, request: R) -> Result<(), String> {
            let mut delays = RETRY_DELAYS.iter();
            loop {
                let result = match &self.transport {
                    #[cfg(feature = "otlp-grpc")]
                    Transport::Grpc(grpc) => grpc.export(&request, self.timeout).await,
                    #[cfg(feature = "otlp-http")]
                    Transport::Http(http) => http.export(&request, self.timeout).await,
                };
                let failure = match result {
                    Ok(()) => return Ok(()),
                    Err(failure) => failure,
                };
                let retry = failure.retryable && !self.stopping.load(Ordering::Relaxed);
                match delays.next().filter(|_| retry) {
                    // The caller's export timeout bounds the waits too.
                    Some(delay) => tokio::time::sleep(backoff(*delay, failure.retry_after)).await,
                    None => {
                        return Err(format!(
                            "{} export to {} failed: {}{}",
                            R::SIGNAL,
                            self.endpoint,
                            failure.reason,
                            port_hint(&self.endpoint, self.is_grpc())
                        ))
                    }
                }
            }
        }
    }

    impl<R> OtlpClient<R> {
        fn is_grpc(&self) -> bool {
            match &self.transport {
                #[cfg(feature = "otlp-grpc")]
                Transport::Grpc(_) => true,
                #[cfg(feature = "otlp-http")]
                Transport::Http(_) => false,
            }
        }

        fn protocol(&self) -> &'static str {
            match &self.transport {
                #[cfg(feature = "otlp-grpc")]
                Transport::Grpc(_) => "grpc",
                #[cfg(feature = "otlp-http")]
                Transport::Http(http) if http.json => "http/json",
                #[cfg(feature = "otlp-http")]
                Transport::Http(_) => "http/protobuf",
            }
        }
    }

    /// The OTLP span exporter.
    pub(super) struct OtlpExporter {
        pub(super) client: OtlpClient<ExportTraceServiceRequest>,
        pub(super) resource: ResourceAttributesWithSchema,
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

    /// Waits before each retry of a transient failure (the specification's exponential
    /// backoff, kept short: the batch export timeout bounds the whole anyway).
    const RETRY_DELAYS: [Duration; 3] = [
        Duration::from_millis(100),
        Duration::from_millis(400),
        Duration::from_millis(1600),
    ];

    /// Why one request failed, and whether trying again may help.
    pub(super) struct Failure {
        reason: String,
        retryable: bool,
        /// How long the collector asked to wait (HTTP `Retry-After` in seconds).
        retry_after: Option<Duration>,
    }

    impl Failure {
        fn new(reason: String, retryable: bool) -> Failure {
            Failure {
                reason,
                retryable,
                retry_after: None,
            }
        }
    }

    /// `delay` with ±50 % jitter, so that many processes do not retry in step; at least what
    /// the collector asked for.
    fn backoff(delay: Duration, retry_after: Option<Duration>) -> Duration {
        use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator};
        let random = u64::from_be_bytes(RandomIdGenerator::default().new_span_id().to_bytes());
        let jittered = delay.mul_f64(0.5 + (random % 1000) as f64 / 1000.0);
        jittered.max(retry_after.unwrap_or_default())
    }

    // Boxed: the two clients differ much in size, and one exists per pipeline.
    enum Transport {
        #[cfg(feature = "otlp-grpc")]
        Grpc(Box<grpc_transport::Grpc>),
        #[cfg(feature = "otlp-http")]
        Http(Box<http_transport::Http>),
    }

    /// A hint when the endpoint's port is the usual one of the other transport (the protocol
    /// is never guessed from the port; the user is told).
    pub(super) fn port_hint(endpoint: &str, grpc: bool) -> &'static str {
        let authority = endpoint
            .split_once("://")
            .map_or(endpoint, |(_, rest)| rest)
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        match (authority.rsplit_once(':').map(|(_, port)| port), grpc) {
            (Some("4317"), false) => {
                " (4317 is the usual OTLP/gRPC port: use port 4318 for OTLP/HTTP, or set \
                 OTEL_EXPORTER_OTLP_PROTOCOL=grpc)"
            }
            (Some("4318"), true) => {
                " (4318 is the usual OTLP/HTTP port: use port 4317 for gRPC, or set \
                 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)"
            }
            _ => "",
        }
    }

    #[cfg(feature = "tls")]
    fn read(what: &'static str, path: &std::path::Path) -> Result<Vec<u8>, Error> {
        std::fs::read(path).map_err(|source| Error::ReadFile {
            what,
            path: path.to_owned(),
            source,
        })
    }

    /// The PEM contents of the CA, client certificate and client key files.
    #[cfg(feature = "tls")]
    pub(super) struct TlsFiles {
        pub(super) ca: Option<Vec<u8>>,
        pub(super) identity: Option<(Vec<u8>, Vec<u8>)>,
    }

    #[cfg(feature = "tls")]
    fn tls_files(config: &OtlpConfig) -> Result<TlsFiles, Error> {
        let ca = config
            .certificate
            .as_deref()
            .map(|path| read("CA certificate", path))
            .transpose()?;
        let identity = match (&config.client_certificate, &config.client_key) {
            (Some(cert), Some(key)) => {
                Some((read("client certificate", cert)?, read("client key", key)?))
            }
            _ => None,
        };
        Ok(TlsFiles { ca, identity })
    }

    #[cfg(feature = "otlp-grpc")]
    mod grpc_transport {
        use std::time::Duration;

        use tokio::runtime::Handle;
        use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
        use tonic::transport::Channel;

        use super::*;

        pub(crate) struct Grpc {
            channel: Channel,
            metadata: MetadataMap,
            gzip: bool,
        }

        impl Grpc {
            pub(super) fn new(
                config: &OtlpConfig,
                runtime: &Handle,
                source_name: &'static str,
            ) -> Result<Grpc, Error> {
                let invalid = |reason: String| Error::InvalidEndpoint {
                    endpoint: config.endpoint.clone(),
                    source_name,
                    reason,
                };
                let endpoint = tonic::transport::Endpoint::from_shared(config.endpoint.clone())
                    .map_err(|error| invalid(error.to_string()))?
                    .timeout(config.timeout)
                    .connect_timeout(config.timeout)
                    .user_agent(USER_AGENT)
                    .map_err(|error| invalid(error.to_string()))?;
                #[cfg(feature = "tls")]
                let endpoint = if config.endpoint.to_ascii_lowercase().starts_with("https://") {
                    use tonic::transport::{Certificate, ClientTlsConfig, Identity};
                    let files = tls_files(config)?;
                    let mut tls = ClientTlsConfig::new();
                    tls = match files.ca {
                        Some(ca) => tls.ca_certificate(Certificate::from_pem(ca)),
                        None => tls.with_native_roots(),
                    };
                    if let Some((cert, key)) = files.identity {
                        tls = tls.identity(Identity::from_pem(cert, key));
                    }
                    endpoint
                        .tls_config(tls)
                        .map_err(|error| Error::Tls(error.to_string()))?
                } else {
                    endpoint
                };
                // `connect_lazy` spawns the connection's worker: on the export runtime.
                let channel = {
                    let _runtime = runtime.enter();
                    endpoint.connect_lazy()
                };
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
                Ok(Grpc {
                    channel,
                    metadata,
                    gzip: config.compression == Compression::Gzip,
                })
            }

            pub(super) async fn export<R: OtlpRequest>(
                &self,
                request: &R,
                timeout: Duration,
            ) -> Result<(), Failure> {
                use tonic::Code;
                let mut request = tonic::Request::new(request.clone());
                *request.metadata_mut() = self.metadata.clone();
                request.set_timeout(timeout);
                match R::grpc_export(self.channel.clone(), self.gzip, request).await {
                    // A partial success (some spans rejected by the collector) is still a
                    // delivered request: retrying would not change the verdict.
                    Ok(_) => Ok(()),
                    // The status message is not shown: a server may echo credentials in it.
                    Err(status) => {
                        let mut reason = format!("gRPC status {:?}", status.code());
                        let mut source = std::error::Error::source(&status);
                        while let Some(error) = source {
                            reason.push_str(&format!(": {error}"));
                            source = error.source();
                        }
                        // The codes the OTLP specification calls retryable.
                        let retryable = matches!(
                            status.code(),
                            Code::Cancelled
                                | Code::DeadlineExceeded
                                | Code::Aborted
                                | Code::OutOfRange
                                | Code::Unavailable
                                | Code::DataLoss
                        );
                        Err(Failure::new(reason, retryable))
                    }
                }
            }
        }
    }

    #[cfg(feature = "otlp-http")]
    mod http_transport {
        use std::time::Duration;

        use ::http::header::{
            HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT as UA,
        };
        use ::http::{HeaderMap, Request, Uri};
        use bytes::Bytes;
        use http_body_util::{BodyExt, Full};
        use hyper_util::client::legacy::connect::HttpConnector;
        use hyper_util::client::legacy::Client;
        use hyper_util::rt::TokioExecutor;
        use tokio::runtime::Handle;

        use super::*;

        #[cfg(feature = "tls")]
        type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
        #[cfg(not(feature = "tls"))]
        type Connector = HttpConnector;

        pub(crate) struct Http {
            client: Client<Connector, Full<Bytes>>,
            uri: Uri,
            headers: HeaderMap,
            pub(super) json: bool,
            gzip: bool,
        }

        impl Http {
            pub(super) fn new(
                config: &OtlpConfig,
                runtime: &Handle,
                source_name: &'static str,
            ) -> Result<Http, Error> {
                let uri: Uri =
                    config
                        .endpoint
                        .parse()
                        .map_err(|error: ::http::uri::InvalidUri| Error::InvalidEndpoint {
                            endpoint: config.endpoint.clone(),
                            source_name,
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
                let connector = http;
                let _runtime = runtime.enter();
                let client = Client::builder(TokioExecutor::new()).build(connector);
                Ok(Http {
                    client,
                    uri,
                    headers,
                    json: config.protocol == crate::setup::config::Protocol::HttpJson,
                    gzip: config.compression == Compression::Gzip,
                })
            }

            pub(super) async fn export<R: OtlpRequest>(
                &self,
                request: &R,
                timeout: Duration,
            ) -> Result<(), Failure> {
                let fatal = |reason: String| Failure::new(reason, false);
                let body = request.http_body(self.json).map_err(fatal)?;
                let body = if self.gzip {
                    gzip(body).map_err(fatal)?
                } else {
                    body
                };
                let mut builder = Request::post(self.uri.clone())
                    .header(
                        CONTENT_TYPE,
                        if self.json {
                            "application/json"
                        } else {
                            "application/x-protobuf"
                        },
                    )
                    .header(UA, super::USER_AGENT);
                if self.gzip {
                    builder = builder.header(CONTENT_ENCODING, "gzip");
                }
                if let Some(headers) = builder.headers_mut() {
                    headers.extend(self.headers.clone());
                }
                let request = builder
                    .body(Full::new(Bytes::from(body)))
                    .map_err(|error| fatal(error.to_string()))?;
                let exchange = async {
                    let response = self.client.request(request).await.map_err(|error| {
                        // Connection failures are transient as far as the client can tell.
                        Failure::new(render_chain(&error), error.is_connect())
                    })?;
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(::http::header::RETRY_AFTER)
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| value.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    // Read the body so the connection can be reused.
                    let _ = response.into_body().collect().await;
                    if status.is_success() {
                        Ok(())
                    } else {
                        Err(Failure {
                            reason: format!("HTTP status {status}"),
                            // The statuses the OTLP specification calls retryable.
                            retryable: matches!(status.as_u16(), 429 | 502 | 503 | 504),
                            retry_after,
                        })
                    }
                };
                match tokio::time::timeout(timeout, exchange).await {
                    Ok(result) => result,
                    Err(_) => Err(Failure::new(
                        format!("no response within {timeout:?}"),
                        true,
                    )),
                }
            }
        }

        fn render_chain(error: &(dyn std::error::Error + 'static)) -> String {
            let mut out = error.to_string();
            let mut source = error.source();
            while let Some(error) = source {
                out.push_str(&format!(": {error}"));
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

        /// rustls with ring: the system's roots (or only the CA file when given), and the
        /// client certificate for mutual TLS.
        #[cfg(feature = "tls")]
        fn tls_config(config: &OtlpConfig) -> Result<rustls::ClientConfig, Error> {
            use rustls_pki_types::pem::PemObject;
            use rustls_pki_types::{CertificateDer, PrivateKeyDer};

            let files = tls_files(config)?;
            let mut roots = rustls::RootCertStore::empty();
            let https = config.endpoint.to_ascii_lowercase().starts_with("https://");
            match &files.ca {
                Some(ca) => {
                    for cert in CertificateDer::pem_slice_iter(ca) {
                        let cert = cert.map_err(|error| {
                            Error::Tls(format!("the CA certificate file: {error}"))
                        })?;
                        roots.add(cert).map_err(|error| {
                            Error::Tls(format!("the CA certificate file: {error}"))
                        })?;
                    }
                    if roots.is_empty() {
                        return Err(Error::Tls(
                            "the CA certificate file holds no PEM certificate".into(),
                        ));
                    }
                }
                // The system's roots are only loaded when they can be needed.
                None if https => {
                    let native = rustls_native_certs::load_native_certs();
                    roots.add_parsable_certificates(native.certs);
                }
                None => {}
            }
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
            let builder = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|error| Error::Tls(error.to_string()))?
                .with_root_certificates(roots);
            match files.identity {
                Some((cert, key)) => {
                    let chain = CertificateDer::pem_slice_iter(&cert)
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|error| {
                            Error::Tls(format!("the client certificate file: {error}"))
                        })?;
                    let key = PrivateKeyDer::from_pem_slice(&key)
                        .map_err(|error| Error::Tls(format!("the client key file: {error}")))?;
                    builder
                        .with_client_auth_cert(chain, key)
                        .map_err(|error| Error::Tls(error.to_string()))
                }
                None => Ok(builder.with_no_client_auth()),
            }
        }
    }
}
