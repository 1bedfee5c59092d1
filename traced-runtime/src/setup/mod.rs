//! Setting the SDK up in one call: the [`Telemetry`](crate::Telemetry) builder and
//! [`init`](crate::init), the configuration they resolve from the builder and the `OTEL_*`
//! variables, the resource, the guard that flushes on exit, and the signal that asks for it.

pub(crate) mod config;
pub mod env;
pub(crate) mod guard;
#[cfg(feature = "otlp-logs")]
pub(crate) mod logs;
pub(crate) mod resource;
pub(crate) mod signal;
pub(crate) mod telemetry;
