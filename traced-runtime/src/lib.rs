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
//!   variables, and return a guard that flushes within a bound.
//! - [`SpanPipeline`]: what `Telemetry` installs: `#[traced]` spans on a fast path and the
//!   opentelemetry API's spans through one collector thread to one exporter. Without it, spans go to
//!   the provider given to [`set_tracer_provider`], else to the global one.
//! - [`propagation`], `http_server` and `http_client` (features `http-server`, `axum`,
//!   `http-client`): one trace across services.
//! - [`log_ids`], `with_trace_ids` (feature `tracing`), `TraceIdsLogger` (feature `log`),
//!   `otlp_logs` (feature `otlp-logs`): logs that carry the ids of their trace.
//! - [`current_span`], [`add_event`], [`record_error`], [`in_span`]: manual instrumentation;
//!   `testing` (feature `testing`): spans of your own tests.

mod callsite;
mod clock;
mod collector;
mod exception;
mod fast_span;
mod ids;
mod instrument;
mod manual;
mod outcome;
mod pipeline;
mod record;
mod ret;
mod semconv;
mod span;
mod span_guard;
mod tracer;
mod value;

#[cfg(feature = "testing")]
pub mod testing;

// logs (issue 6)
#[cfg(feature = "log")]
#[cfg_attr(docsrs, doc(cfg(feature = "log")))]
pub mod log_bridge;
mod log_ids;
#[cfg(feature = "otlp-logs")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp-logs")))]
pub mod otlp_logs;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod tracing_layer;
#[cfg(feature = "log")]
pub use log_bridge::TraceIdsLogger;
pub use log_ids::{log_ids, LogIds, SPAN_ID_FIELD, TRACE_ID_FIELD};
#[cfg(feature = "tracing")]
pub use tracing_layer::{with_trace_ids, TraceIdsFormat};

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use collector::BatchConfig;
pub use manual::{add_event, current_span, in_span, in_span_async, record_error, CurrentSpan};
pub use pipeline::{SpanPipeline, TracedSpanProcessor};
pub use semconv::{CANCELLED, RETURN_VALUE};
pub use traced_macros::traced;
pub use tracer::{set_tracer_provider, SCOPE_NAME, SCOPE_VERSION};
pub use value::{ArrayElement, AttrValue};

pub use opentelemetry;
pub use opentelemetry::{Context, KeyValue};
pub use opentelemetry_sdk;

// propagation and HTTP (issue 5)
#[cfg(feature = "http-client")]
#[cfg_attr(docsrs, doc(cfg(feature = "http-client")))]
pub mod http_client;
#[cfg(feature = "http-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "http-server")))]
pub mod http_server;
#[cfg(any(feature = "http-server", feature = "http-client"))]
mod http_span;

// databases
#[cfg(any(feature = "db-postgres", feature = "db-mysql", feature = "db-sqlite"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "db-postgres", feature = "db-mysql", feature = "db-sqlite")))
)]
pub mod db;
pub mod propagation;

// setup (issue 3)
mod config;
mod console;
pub mod env;
mod error;
mod exporter;
mod guard;
mod propagator;
mod resource;
mod runtime;
mod telemetry;
pub use config::{Compression, Protocol};
pub use error::Error;
pub use exporter::Exporter;
pub use guard::{TelemetryGuard, DEFAULT_SHUTDOWN_TIMEOUT};
pub use opentelemetry_sdk::trace::{Sampler, SpanLimits};
pub use propagator::{B3Propagator, Propagator};
pub use telemetry::{init, Telemetry, TelemetryBuilder};
