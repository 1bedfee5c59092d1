//! OpenTelemetry tracing in one line.
//!
//! ```
//! use traced_runtime::traced;
//!
//! #[traced(attrs(order.id = order_id))]
//! async fn process_order(order_id: u64) -> Result<(), std::io::Error> {
//!     validate(order_id)?;
//!     Ok(())
//! }
//!
//! #[traced]
//! fn validate(order_id: u64) -> std::io::Result<()> {
//!     Ok(())
//! }
//! ```
//!
//! # `#[traced]`
//!
//! On a function (sync or `async`, free or a method) or an impl block, `#[traced]` makes each
//! call a span, current while the body runs (across `.await`s), so spans created inside, by
//! other traced functions or by the opentelemetry API, are its children.
//!
//! | option | meaning |
//! |---|---|
//! | `"name"` or `name = "name"` | the span name; default: the function's path, `my_crate::orders::process_order` (`my_crate::orders::Type::method` in a traced impl block) |
//! | `attrs(key = value, ..)` | attributes set when the span starts. Keys are dotted identifiers (`order.id`) or string literals. Values are any expression over the arguments, evaluated only when the span is recording: booleans, integers, floats, strings and slices/`Vec`s of these map to OpenTelemetry types; `%expr` records `Display`, `?expr` records `Debug` |
//! | `kind = server` | `internal` (default), `server`, `client`, `producer`, `consumer` |
//! | `parent = expr` | start the span under this `opentelemetry::Context` (e.g. extracted from request headers) instead of the current one |
//! | `ret` | record the returned value's `Debug` (of the `Ok` value for a `Result`) as `return.value` |
//! | `unset_status` | leave the status Unset on success instead of OK (the specification's advice for library code) |
//! | `expected_err` | a returned `Err` is an expected outcome: not recorded as an error |
//! | `skip` | on a method of a traced impl block: do not trace it |
//! | `crate = path` | where `traced_runtime` is, for crates that re-export it |
//!
//! Function arguments are never recorded unless named in `attrs`.
//!
//! What every span records: `code.function.name`, `code.file.path`, `code.line.number`; status
//! OK on success. A returned `Err(e)` (any `Result`, through any alias) sets status ERROR with
//! `e.to_string()`, `error.type`, and an `exception` event with `exception.type`,
//! `exception.message` and `exception.stacktrace` (the `source()` chain, or the report of an
//! `anyhow`/`eyre` error with its backtrace). A panic is recorded the same way and goes on
//! unchanged. A future dropped before completion ends its span with `traced.cancelled = true`.
//!
//! # The rest of the crate
//!
//! - Setup: [`Telemetry::builder`] / [`init`] install resource, exporters (OTLP gRPC or HTTP,
//!   console, your own), sampler, propagators and batch settings from the builder and the `OTEL_*`
//!   variables, and return a guard that flushes within a bound; [`shutdown_signal`] resolves
//!   on SIGTERM or Ctrl-C, so that the guard flushes then too.
//! - [`SpanPipeline`]: what `Telemetry` installs: `#[traced]` spans on a fast path and the
//!   opentelemetry API's spans through one collector thread to one exporter. Without it, spans go to
//!   the provider given to [`set_tracer_provider`], else to the global one.
//! - [`propagation`], `http_server` and `http_client` (features `http-server`, `axum`,
//!   `http-client`): one trace across services.
//! - [`log_ids`], `with_trace_ids` (feature `tracing`), `TraceIdsLogger` (feature `log`),
//!   `otlp_logs` (feature `otlp-logs`): logs that carry the ids of their trace.
//! - `messaging` (features `messaging`, `nats`, `rabbitmq`): one trace from the code that sends
//!   a message to the worker that processes it, for any broker, NATS and RabbitMQ.
//! - [`current_span`], [`add_event`], [`record_error`], [`in_span`]: manual instrumentation;
//!   `testing` (feature `testing`): spans of your own tests.

#![cfg_attr(all(docsrs, traced_nightly), feature(doc_cfg))]

// The layers, from what the expansion calls down to the wire: `span` (one traced call),
// `pipeline` (sampling, records, queues, the collector thread), `export` (exporters and the OTLP
// transport). `setup` assembles them from the builder and the environment; `propagation`,
// `http`, `logs` and the integrations sit beside the span layer and use it.
#[cfg(any(feature = "db-postgres", feature = "db-mysql", feature = "db-sqlite"))]
#[cfg_attr(
    all(docsrs, traced_nightly),
    doc(cfg(any(feature = "db-postgres", feature = "db-mysql", feature = "db-sqlite")))
)]
pub mod db;
mod error;
mod export;
#[cfg(any(feature = "http-server", feature = "http-client"))]
pub mod http;
pub mod logs;
#[cfg(feature = "messaging")]
#[cfg_attr(all(docsrs, traced_nightly), doc(cfg(feature = "messaging")))]
pub mod messaging;
mod pipeline;
pub mod propagation;
mod redact;
#[cfg(feature = "redis")]
#[cfg_attr(all(docsrs, traced_nightly), doc(cfg(feature = "redis")))]
pub mod redis;
mod semconv;
mod setup;
mod span;
pub mod task;
#[cfg(feature = "testing")]
#[cfg_attr(all(docsrs, traced_nightly), doc(cfg(feature = "testing")))]
pub mod testing;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use traced_macros::traced;

// The span of a traced call and the manual API.
pub use semconv::{CANCELLED, RETURN_VALUE};
pub use span::manual::{
    add_event, current_span, in_span, in_span_async, record_error, CurrentSpan,
};
pub use span::value::{ArrayElement, AttrValue};

// Background work.
pub use task::{spawn, spawn_blocking, spawn_thread, InCurrentTrace};

// The pipeline.
pub use pipeline::batch::BatchConfig;
pub use pipeline::dispatch::set_tracer_provider;
pub use pipeline::scope::{
    DB_SCOPE_NAME, HTTP_SCOPE_NAME, MESSAGING_SCOPE_NAME, REDIS_SCOPE_NAME, SCOPE_NAME,
    SCOPE_VERSION,
};
pub use pipeline::stats::PipelineStats;
pub use pipeline::SpanPipeline;

// Setup and export.
pub use error::Error;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub use export::encoded::EncodedSpanExporter;
pub use export::Exporter;
pub use propagation::b3::B3Propagator;
pub use propagation::composite::Propagator;
pub use setup::config::{Compression, Protocol};
pub use setup::env;
pub use setup::guard::{TelemetryGuard, DEFAULT_SHUTDOWN_TIMEOUT};
pub use setup::signal::{shutdown_signal, ShutdownSignal};
pub use setup::telemetry::{init, Telemetry, TelemetryBuilder};

// Logs.
#[cfg(feature = "tracing")]
pub use logs::format::{with_trace_ids, TraceIdsFormat};
pub use logs::ids::{log_ids, LogIds, SPAN_ID_FIELD, TRACE_ID_FIELD};
#[cfg(feature = "log")]
pub use logs::logger::TraceIdsLogger;

// The paths of 0.1.0, kept working (see CHANGELOG.md).
#[cfg(feature = "http-client")]
#[doc(hidden)]
pub use http::client as http_client;
#[cfg(feature = "http-server")]
#[doc(hidden)]
pub use http::server as http_server;
#[cfg(feature = "tracing")]
#[doc(hidden)]
pub use logs::format as tracing_layer;
#[cfg(feature = "log")]
#[doc(hidden)]
pub use logs::logger as log_bridge;

#[cfg(feature = "otlp-logs")]
#[cfg_attr(all(docsrs, traced_nightly), doc(cfg(feature = "otlp-logs")))]
pub mod otlp_logs {
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

    pub use crate::logs::otlp::{log_bridge, tracing_layer, LogsGuard};
    pub use crate::setup::env::{OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_LOGS_EXPORTER};
    pub use crate::setup::logs::{install, install_with_env};
}

pub use opentelemetry;
pub use opentelemetry::{Context, KeyValue};
pub use opentelemetry_sdk;
pub use opentelemetry_sdk::trace::{Sampler, SpanLimits};
