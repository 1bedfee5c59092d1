//! The logs pipeline's guard, and the bridges that send `tracing` events and `log` records to
//! it (feature `otlp-logs`); [`otlp_logs`](crate::otlp_logs) sets it up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_appender_log::OpenTelemetryLogBridge;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};

use crate::error::Error;
use crate::export::runtime::ExportRuntime;
use crate::export::LastError;

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
    /// Set when shutdown starts: failed exports are no longer retried.
    stopping: Arc<AtomicBool>,
}

impl LogsGuard {
    pub(crate) fn new(
        provider: SdkLoggerProvider,
        runtime: Option<ExportRuntime>,
        last_error: LastError,
        stopping: Arc<AtomicBool>,
        timeout: Duration,
    ) -> Self {
        LogsGuard {
            provider,
            runtime,
            timeout,
            last_error,
            stopping,
        }
    }

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
        take(&self.last_error, "logs flush")
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
        self.stopping.store(true, Ordering::Relaxed);
        match self.provider.shutdown_with_timeout(self.timeout) {
            Ok(()) | Err(OTelSdkError::AlreadyShutdown) => take(&self.last_error, "logs shutdown"),
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

/// The last export failure as the error of `operation`, once.
fn take(last_error: &LastError, operation: &'static str) -> Result<(), Error> {
    match last_error.take() {
        Some(reason) => Err(Error::Sdk {
            operation,
            source: OTelSdkError::InternalFailure(format!(
                "log records were not exported: {reason}"
            )),
        }),
        None => Ok(()),
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
