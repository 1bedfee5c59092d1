//! The environment variables of the OpenTelemetry SDK specification that configure tracing, each
//! with its default beside it, and the one function that reads the process environment.
//!
//! Everything else takes the environment as a map ([`Env`]), so that the rules deciding what a
//! value means (`setup::config`) are tested on tables and never on the real, shared environment.
//!
//! Names and defaults: <https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/>
//! and <https://opentelemetry.io/docs/specs/otel/protocol/exporter/>.

use crate::pipeline::batch;
use std::collections::HashMap;
use std::time::Duration;

// General SDK configuration.

/// `true` disables the SDK: nothing is installed.
pub const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// Default of [`OTEL_SDK_DISABLED`].
pub const OTEL_SDK_DISABLED_DEFAULT: bool = false;
/// The `service.name` resource attribute; beats a `service.name` in [`OTEL_RESOURCE_ATTRIBUTES`].
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// Prefix of the default service name, followed by the executable's name.
pub const OTEL_SERVICE_NAME_DEFAULT_PREFIX: &str = "unknown_service";
/// `key1=value1,key2=value2` resource attributes, values percent-encoded.
pub const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// Comma-separated list of span exporters: `otlp`, `console`, `none`.
pub const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// Default of [`OTEL_TRACES_EXPORTER`].
pub const OTEL_TRACES_EXPORTER_DEFAULT: &str = "otlp";
/// Comma-separated list of propagators: `tracecontext`, `baggage`, `b3`, `b3multi`, `none`.
pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
/// Default of [`OTEL_PROPAGATORS`].
pub const OTEL_PROPAGATORS_DEFAULT: &str = "tracecontext,baggage";
/// The sampler: `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`,
/// `parentbased_always_off`, `parentbased_traceidratio`.
pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// Default of [`OTEL_TRACES_SAMPLER`].
pub const OTEL_TRACES_SAMPLER_DEFAULT: &str = "parentbased_always_on";
/// The sampler's argument: the ratio of the `traceidratio` samplers, in `[0, 1]`.
pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// Default of [`OTEL_TRACES_SAMPLER_ARG`] for the ratio samplers.
pub const OTEL_TRACES_SAMPLER_ARG_DEFAULT: f64 = 1.0;

// Batch span processor.

/// Delay between two exports, in milliseconds.
pub const OTEL_BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
/// Default of [`OTEL_BSP_SCHEDULE_DELAY`].
pub const OTEL_BSP_SCHEDULE_DELAY_DEFAULT: Duration = batch::DEFAULT_SCHEDULED_DELAY;
/// Longest time one export may take, in milliseconds.
pub const OTEL_BSP_EXPORT_TIMEOUT: &str = "OTEL_BSP_EXPORT_TIMEOUT";
/// Default of [`OTEL_BSP_EXPORT_TIMEOUT`].
pub const OTEL_BSP_EXPORT_TIMEOUT_DEFAULT: Duration = batch::DEFAULT_EXPORT_TIMEOUT;
/// Spans kept waiting for export; more are dropped.
pub const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
/// Default of [`OTEL_BSP_MAX_QUEUE_SIZE`].
pub const OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT: usize = batch::DEFAULT_MAX_QUEUE_SIZE;
/// Most spans in one export; at most [`OTEL_BSP_MAX_QUEUE_SIZE`].
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
/// Default of [`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`].
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT: usize = batch::DEFAULT_MAX_EXPORT_BATCH_SIZE;

// Limits.

/// Longest string attribute value (each element of a string array too), for all signals.
pub const OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str = "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// Most attributes on a span, for all signals.
pub const OTEL_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_ATTRIBUTE_COUNT_LIMIT";
/// Default of [`OTEL_ATTRIBUTE_COUNT_LIMIT`] and of every count limit below.
pub const OTEL_ATTRIBUTE_COUNT_LIMIT_DEFAULT: u32 = 128;
/// Longest string attribute value on spans, events and links; beats
/// [`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`]. Default: no limit.
pub const OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str = "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// Most attributes on a span; beats [`OTEL_ATTRIBUTE_COUNT_LIMIT`].
pub const OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT";
/// Default of [`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`].
pub const OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT_DEFAULT: u32 = 128;
/// Most events on a span.
pub const OTEL_SPAN_EVENT_COUNT_LIMIT: &str = "OTEL_SPAN_EVENT_COUNT_LIMIT";
/// Default of [`OTEL_SPAN_EVENT_COUNT_LIMIT`].
pub const OTEL_SPAN_EVENT_COUNT_LIMIT_DEFAULT: u32 = 128;
/// Most links on a span.
pub const OTEL_SPAN_LINK_COUNT_LIMIT: &str = "OTEL_SPAN_LINK_COUNT_LIMIT";
/// Default of [`OTEL_SPAN_LINK_COUNT_LIMIT`].
pub const OTEL_SPAN_LINK_COUNT_LIMIT_DEFAULT: u32 = 128;
/// Most attributes on an event.
pub const OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT";
/// Default of [`OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`].
pub const OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT_DEFAULT: u32 = 128;
/// Most attributes on a link.
pub const OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT";
/// Default of [`OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`].
pub const OTEL_LINK_ATTRIBUTE_COUNT_LIMIT_DEFAULT: u32 = 128;

// OTLP exporter: each generic variable has a `_TRACES_` twin that beats it.

/// The collector's base URL; for HTTP, `/v1/traces` is appended to it.
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The URL spans are sent to, used as it is.
pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// Default endpoint for `grpc`.
pub const OTEL_EXPORTER_OTLP_ENDPOINT_GRPC_DEFAULT: &str = "http://localhost:4317";
/// Default endpoint for `http/protobuf` and `http/json` (before `/v1/traces` is appended).
pub const OTEL_EXPORTER_OTLP_ENDPOINT_HTTP_DEFAULT: &str = "http://localhost:4318";
/// The path appended to the generic HTTP endpoint.
pub const OTEL_EXPORTER_OTLP_TRACES_PATH: &str = "/v1/traces";
/// The logs endpoint, used as it is (`/` added when it has no path).
pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// The path appended to the generic endpoint for logs over HTTP.
pub const OTEL_EXPORTER_OTLP_LOGS_PATH: &str = "/v1/logs";
/// `otlp` (default) or `none`: whether log records are exported (feature `otlp-logs`).
pub const OTEL_LOGS_EXPORTER: &str = "OTEL_LOGS_EXPORTER";
/// `grpc`, `http/protobuf` or `http/json`.
pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// Signal-specific [`OTEL_EXPORTER_OTLP_PROTOCOL`].
pub const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// Default of [`OTEL_EXPORTER_OTLP_PROTOCOL`], as the specification recommends.
pub const OTEL_EXPORTER_OTLP_PROTOCOL_DEFAULT: &str = "http/protobuf";
/// `key1=value1,key2=value2` request headers (gRPC metadata), values percent-encoded. Secret:
/// never printed.
pub const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// Signal-specific [`OTEL_EXPORTER_OTLP_HEADERS`].
pub const OTEL_EXPORTER_OTLP_TRACES_HEADERS: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";
/// Longest time one export request may take, in milliseconds.
pub const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// Signal-specific [`OTEL_EXPORTER_OTLP_TIMEOUT`].
pub const OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
/// Default of [`OTEL_EXPORTER_OTLP_TIMEOUT`].
pub const OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT: Duration = Duration::from_millis(10_000);
/// `gzip` or `none`.
pub const OTEL_EXPORTER_OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
/// Signal-specific [`OTEL_EXPORTER_OTLP_COMPRESSION`].
pub const OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION";
/// Default of [`OTEL_EXPORTER_OTLP_COMPRESSION`].
pub const OTEL_EXPORTER_OTLP_COMPRESSION_DEFAULT: &str = "none";
/// For a gRPC endpoint without a scheme: `true` connects without TLS.
pub const OTEL_EXPORTER_OTLP_INSECURE: &str = "OTEL_EXPORTER_OTLP_INSECURE";
/// Signal-specific [`OTEL_EXPORTER_OTLP_INSECURE`].
pub const OTEL_EXPORTER_OTLP_TRACES_INSECURE: &str = "OTEL_EXPORTER_OTLP_TRACES_INSECURE";
/// Default of [`OTEL_EXPORTER_OTLP_INSECURE`].
pub const OTEL_EXPORTER_OTLP_INSECURE_DEFAULT: bool = false;
/// PEM file of the certificate authorities trusted for the collector, instead of the system's.
pub const OTEL_EXPORTER_OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
/// Signal-specific [`OTEL_EXPORTER_OTLP_CERTIFICATE`].
pub const OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE";
/// PEM file of the client's private key, for mutual TLS.
pub const OTEL_EXPORTER_OTLP_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
/// Signal-specific [`OTEL_EXPORTER_OTLP_CLIENT_KEY`].
pub const OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY";
/// PEM file of the client's certificate chain, for mutual TLS.
pub const OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
/// Signal-specific [`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`].
pub const OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE";
/// [`OTEL_EXPORTER_OTLP_CERTIFICATE`] of the logs endpoint (feature `otlp-logs`).
pub const OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE";
/// [`OTEL_EXPORTER_OTLP_CLIENT_KEY`] of the logs endpoint (feature `otlp-logs`).
pub const OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY";
/// [`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`] of the logs endpoint (feature `otlp-logs`).
pub const OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE";

/// Set to anything, turns the console exporter's colours off (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";

/// A snapshot of environment variables, by name. Values that are not valid UTF-8 are kept
/// as `None` so that they can be reported as invalid rather than silently skipped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Env {
    vars: HashMap<String, Option<String>>,
}

impl Env {
    /// An environment holding exactly `vars`: for tests, or to configure from a file.
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Env
    where
        K: Into<String>,
        V: Into<String>,
    {
        Env {
            vars: vars
                .into_iter()
                .map(|(key, value)| (key.into(), Some(value.into())))
                .collect(),
        }
    }

    /// The value of `name`, trimmed: `None` when unset or empty (the specification treats an
    /// empty value as unset), `Some(Err(()))` when not UTF-8.
    pub(crate) fn get(&self, name: &str) -> Option<Result<&str, ()>> {
        match self.vars.get(name)? {
            None => Some(Err(())),
            Some(value) if value.trim().is_empty() => None,
            Some(value) => Some(Ok(value.trim())),
        }
    }

    /// `self` with `name` set to a value that is not UTF-8.
    #[cfg(test)]
    pub(crate) fn with_non_utf8(mut self, name: &str) -> Env {
        self.vars.insert(name.to_owned(), None);
        self
    }
}

/// Reads the `OTEL_*` variables (and `NO_COLOR`) of this process: the only place the crate
/// reads the environment.
pub fn read() -> Env {
    let vars = std::env::vars_os()
        .filter_map(|(key, value)| {
            let key = key.into_string().ok()?;
            (key.starts_with("OTEL_") || key == NO_COLOR).then(|| (key, value.into_string().ok()))
        })
        .collect();
    Env { vars }
}
