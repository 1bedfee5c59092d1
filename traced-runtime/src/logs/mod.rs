//! Logs that point at their trace: the ids of the current span, the `tracing_subscriber`
//! formatter and the `log` logger that write them into every line, and log records exported
//! over OTLP.

#[cfg(feature = "tracing")]
#[cfg_attr(all(docsrs, traced_nightly), doc(cfg(feature = "tracing")))]
pub mod format;
pub(crate) mod ids;
#[cfg(feature = "log")]
#[cfg_attr(all(docsrs, traced_nightly), doc(cfg(feature = "log")))]
pub mod logger;
#[cfg(feature = "otlp-logs")]
pub(crate) mod otlp;
