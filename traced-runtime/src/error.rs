//! What can go wrong setting up or shutting down telemetry, each message saying what to fix.
//!
//! Invalid *environment variables* are not errors: as the specification asks, each is reported
//! once on stderr and its default used. Invalid *builder* values are errors, since they are
//! mistakes in code.

use std::fmt::{Display, Write as _};
use std::path::PathBuf;
use std::time::Duration;

/// An error of [`Telemetry::install`](crate::Telemetry) or of [`TelemetryGuard`](crate::TelemetryGuard).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The OTLP endpoint is not a URL the exporter can use.
    #[error("invalid OTLP endpoint {endpoint:?} (from {source_name}): {reason}; expected a URL such as `http://localhost:4318` (http/protobuf, http/json) or `http://localhost:4317` (grpc)")]
    InvalidEndpoint {
        /// The endpoint as given, its userinfo, query and fragment redacted (they may hold
        /// credentials).
        endpoint: String,
        /// Where it came from: a builder method or an environment variable.
        source_name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A header name or value cannot be sent. The value is never shown: it may be a secret.
    #[error("invalid OTLP header {name:?}: {reason} (the value is not shown)")]
    InvalidHeader {
        /// The header name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A builder value is out of range.
    #[error("invalid `{setting}`: {reason}")]
    InvalidSetting {
        /// The builder method.
        setting: &'static str,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// A certificate or key file given to the builder could not be read. (One named by a
    /// variable is reported on stderr and left out instead.)
    #[error("cannot read the {what} file {path:?}: {source}")]
    ReadFile {
        /// Which file: `CA certificate`, `client certificate`, `client key`.
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS files given to the builder cannot be used: a file holds no PEM certificate or
    /// key, or the client certificate and key do not go together. (Files named by variables
    /// are reported on stderr and left out instead.)
    #[error("invalid TLS settings: {0}")]
    Tls(String),
    /// What was asked needs a cargo feature of `traced-runtime` that is not enabled.
    #[error("{what} needs the `{feature}` feature of traced-runtime: enable it in Cargo.toml")]
    FeatureDisabled {
        /// The feature to enable.
        feature: &'static str,
        /// What needed it.
        what: String,
    },
    /// The exporter's background thread could not be started.
    #[error("cannot start the telemetry export thread: {0}")]
    Runtime(#[source] std::io::Error),
    /// Building the exporter failed.
    #[error("cannot build the {exporter} exporter: {reason}")]
    Exporter {
        /// Which exporter.
        exporter: &'static str,
        /// Why.
        reason: String,
    },
    /// Flushing or shutting down did not finish in time; spans not yet exported may be lost.
    /// Raise the bound with `Telemetry::builder().shutdown_timeout(..)` if the collector is
    /// slow, or check that it is reachable.
    #[error("telemetry shutdown did not finish within {0:?}; spans not yet exported may be lost (is the collector reachable? raise `shutdown_timeout` if it is slow)")]
    ShutdownTimeout(Duration),
    /// The last export failed: the spans it carried, and any still queued, were not delivered.
    #[error("spans were not exported: {reason}; check that the collector is reachable and the endpoint, protocol and headers are right")]
    Export {
        /// What the exporter reported (never a header value).
        reason: String,
    },
    /// Spans were lost: `shutdown()` returns this when any sampled span was dropped, with the
    /// count of each reason ([`PipelineStats`](crate::PipelineStats)); `cause` is what else went
    /// wrong, if anything (a failed export, a shutdown that ran out of time). While the program
    /// runs, [`TelemetryGuard::stats`](crate::TelemetryGuard::stats) gives the same figures.
    #[error("{stats}{}", lost_detail(.stats, .cause.as_deref()))]
    SpansLost {
        /// The figures of the pipeline when it shut down.
        stats: crate::PipelineStats,
        /// The error that came with the loss, if any (in the message already, so not the
        /// error's `source()`).
        cause: Option<Box<Error>>,
    },
    /// The SDK reported an export or shutdown failure.
    #[error("telemetry {operation} failed: {source}")]
    Sdk {
        /// `flush` or `shutdown`.
        operation: &'static str,
        /// The SDK's error.
        source: opentelemetry_sdk::error::OTelSdkError,
    },
}

/// After the counts of lost spans: the error that came with the loss (which says what to do),
/// or else what to do about the drops `stats` counts.
fn lost_detail(stats: &crate::PipelineStats, cause: Option<&Error>) -> String {
    if let Some(cause) = cause {
        return format!(": {cause}");
    }
    let hint = if stats.dropped_export_failed > 0 {
        "check that the collector is reachable and the endpoint, protocol and headers are right"
    } else if stats.dropped_queue_full > 0 {
        "spans ended faster than they were exported: raise OTEL_BSP_MAX_QUEUE_SIZE (or \
         `batch_max_queue_size`), or check that the collector keeps up"
    } else {
        "raise `shutdown_timeout` if the collector is slow, and end spans before shutting down"
    };
    format!("; {hint}")
}

/// The one rendering of an error chain: `head`, then each `source()` after `separator`. An
/// exception's stack trace uses `"\nCaused by: "`, a one-line export failure `": "`.
pub(crate) fn render_chain(
    head: &dyn Display,
    mut source: Option<&(dyn std::error::Error + 'static)>,
    separator: &str,
) -> String {
    let mut out = head.to_string();
    while let Some(cause) = source {
        let _ = write!(out, "{separator}{cause}");
        source = cause.source();
    }
    out
}
