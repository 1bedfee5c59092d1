//! The exporters: OTLP (gRPC, HTTP protobuf, HTTP JSON), console, none, or the user's own, and
//! the wrapper that runs every export on the export runtime within its time limit.
//!
//! The OTLP transport is built here on `opentelemetry-proto`'s messages and generated client
//! rather than with `opentelemetry-otlp`: that crate reads the `OTEL_EXPORTER_OTLP_*`
//! variables itself when the exporter is built and lets environment headers override the
//! programmatic ones, so the configuration would have two sources with different rules and
//! invalid values would be reported twice. Here `setup::config` alone decides, and this file only
//! builds what it decided.

mod bounded;
pub(crate) mod console;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) mod encoded;
mod fanout;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) mod otlp;
pub(crate) mod runtime;

pub(crate) use bounded::{ExportHealth, Exporting, Target};
pub(crate) use fanout::Fanout;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
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

/// Builds the OTLP exporter that `config` describes; its client lives on `runtime`.
/// `stopping` is set when shutdown starts: from then on failed exports are not retried, so
/// that shutdown is as quick as the collector lets it be.
#[allow(unused_variables)]
pub(crate) fn otlp(
    config: &OtlpConfig,
    runtime: &Handle,
    stopping: Arc<std::sync::atomic::AtomicBool>,
) -> Result<Target, Error> {
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    {
        Ok(Target::Otlp(Arc::new(otlp::OtlpExporter::new(
            OtlpClient::new(config, runtime, stopping)?,
        ))))
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

/// The last failure of an export the guard cannot see (the SDK's log processor does not report
/// them): set by the exporter, taken once by the guard's flush or shutdown.
#[cfg(feature = "otlp-logs")]
#[derive(Clone, Debug, Default)]
pub(crate) struct LastError(Arc<std::sync::Mutex<Option<String>>>);

#[cfg(feature = "otlp-logs")]
impl LastError {
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub(crate) fn set(&self, reason: Option<String>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = reason;
    }

    pub(crate) fn take(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}
