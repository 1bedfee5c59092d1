//! The OTLP transport, shared by the signals: gRPC (tonic) and HTTP (hyper, protobuf or JSON),
//! TLS, gzip, headers, the request timeout and the retries. What differs between signals is
//! the request message and its gRPC service ([`OtlpRequest`]); the HTTP path (`/v1/traces`,
//! `/v1/logs`) is part of the endpoint each signal resolves before building its client.

pub(crate) mod encode;
#[cfg(feature = "otlp-grpc")]
mod grpc;
#[cfg(feature = "otlp-http")]
mod http;
#[cfg(feature = "otlp-logs")]
mod logs;
mod retry;
mod traces;

#[cfg(feature = "otlp-logs")]
pub(crate) use logs::OtlpLogExporter;
pub(crate) use traces::OtlpExporter;

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

use crate::error::Error;
use crate::redact;
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
    fn http_body(&self, json: bool) -> Result<bytes::Bytes, String>;
}

#[cfg(feature = "otlp-logs")]
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
            fn http_body(&self, json: bool) -> Result<bytes::Bytes, String> {
                if json {
                    serde_json::to_vec(self)
                        .map(bytes::Bytes::from)
                        .map_err(|error| error.to_string())
                } else {
                    Ok(prost::Message::encode_to_vec(self).into())
                }
            }
        }
    };
}

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
    /// The endpoint as printed: its userinfo and query redacted.
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
                what: format!("the https endpoint {}", redact::url(&config.endpoint)),
            });
        }
        let transport = match config.protocol {
            #[cfg(feature = "otlp-grpc")]
            Protocol::Grpc => Transport::Grpc(Box::new(grpc::Grpc::new(
                config,
                runtime,
                R::CONFIGURATION,
            )?)),
            #[cfg(feature = "otlp-http")]
            Protocol::HttpProtobuf | Protocol::HttpJson => Transport::Http(Box::new(
                http::Http::new(config, runtime, R::CONFIGURATION)?,
            )),
            #[allow(unreachable_patterns)]
            protocol => return Err(super::otlp_disabled(protocol, R::SIGNAL)),
        };
        Ok(OtlpClient {
            transport,
            endpoint: redact::url(&config.endpoint),
            timeout: config.timeout,
            stopping,
            request: PhantomData,
        })
    }

    /// Sends `request`, retrying transient failures (unless shutting down) with backoff until
    /// the export deadline, the OTLP timeout (see [`retry`]); the error names the endpoint
    /// and, when its port is the other transport's, says so.
    pub(crate) async fn send(&self, request: R) -> Result<(), String> {
        let deadline = Instant::now() + self.timeout;
        let mut backoff = retry::Backoff::new(deadline);
        loop {
            // Each attempt has what is left of the deadline.
            let timeout = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            let result = match &self.transport {
                #[cfg(feature = "otlp-grpc")]
                Transport::Grpc(grpc) => grpc.export(&request, timeout).await,
                #[cfg(feature = "otlp-http")]
                Transport::Http(http) => http.export(&request, timeout).await,
            };
            let failure = match result {
                Ok(()) => return Ok(()),
                Err(failure) => failure,
            };
            let retry = failure.retryable && !self.stopping.load(Ordering::Relaxed);
            // The caller's export timeout (`OTEL_BSP_EXPORT_TIMEOUT`) bounds the waits too.
            match retry
                .then(|| backoff.next_wait(failure.retry_after))
                .flatten()
            {
                Some(wait) => self.sleep(wait).await,
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
    /// Waits `wait`, or less when shutdown starts meanwhile: then one last attempt is made
    /// at once, so that shutdown is not held up by a backoff.
    async fn sleep(&self, wait: Duration) {
        const SLICE: Duration = Duration::from_millis(25);
        let until = tokio::time::Instant::now() + wait;
        while !self.stopping.load(Ordering::Relaxed) {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(left.min(SLICE)).await;
        }
    }

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

/// Why one request failed, and whether trying again may help.
pub(super) struct Failure {
    reason: String,
    retryable: bool,
    /// How long the collector asked to wait (HTTP `Retry-After` in seconds, gRPC
    /// `RetryInfo`).
    retry_after: Option<Duration>,
}

impl Failure {
    #[cfg_attr(not(feature = "otlp-http"), allow(dead_code))] // gRPC builds its own
    fn new(reason: String, retryable: bool) -> Failure {
        Failure {
            reason,
            retryable,
            retry_after: None,
        }
    }
}

// Boxed: the two clients differ much in size, and one exists per pipeline.
enum Transport {
    #[cfg(feature = "otlp-grpc")]
    Grpc(Box<grpc::Grpc>),
    #[cfg(feature = "otlp-http")]
    Http(Box<http::Http>),
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
