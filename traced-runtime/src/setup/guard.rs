//! The guard `install()` returns: keeps telemetry running, and flushes and shuts it down
//! within a bound when dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::error::Error;
use crate::export::runtime::ExportRuntime;
use crate::export::ExportHealth;
use crate::pipeline::collector::Collector;
use crate::pipeline::stats::PipelineStats;

/// How long shutting down may take unless `shutdown_timeout` says otherwise.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Keeps telemetry installed; dropping it exports the spans still queued and shuts down.
///
/// Keep it alive until the end of `main` (`let _telemetry = …;`, not `let _ = …;`, which
/// drops it at once). Dropping it waits at most the shutdown timeout (default
/// [`DEFAULT_SHUTDOWN_TIMEOUT`]), even when the collector is unreachable, from any thread, in
/// or out of a tokio runtime of either flavour; an error is then printed on stderr. Call
/// [`shutdown`](TelemetryGuard::shutdown) to get the error instead.
#[must_use = "dropping the guard shuts telemetry down at once: bind it with `let _telemetry = …;` until the end of main"]
#[derive(Debug)]
pub struct TelemetryGuard {
    installed: Option<Installed>,
}

#[derive(Debug)]
struct Installed {
    provider: SdkTracerProvider,
    /// Dropped after the provider's shutdown: cancels what is still being exported.
    runtime: Option<ExportRuntime>,
    timeout: Duration,
    /// Which installation this is, to uninstall only our own.
    id: u64,
    /// The health of each exporter.
    health: Vec<Arc<ExportHealth>>,
    /// Set when shutdown starts: failed exports are no longer retried.
    stopping: Arc<AtomicBool>,
    /// The span pipeline's collector, for its figures (none without an exporter).
    collector: Option<Collector>,
    /// The logs pipeline of `TelemetryBuilder::otlp_logs`, shut down before the runtime.
    #[cfg(feature = "otlp-logs")]
    logs: Option<crate::logs::otlp::LogsGuard>,
}

impl TelemetryGuard {
    pub(crate) fn new(
        provider: SdkTracerProvider,
        runtime: Option<ExportRuntime>,
        timeout: Duration,
        id: u64,
        health: Vec<Arc<ExportHealth>>,
        stopping: Arc<AtomicBool>,
        collector: Option<Collector>,
    ) -> TelemetryGuard {
        TelemetryGuard {
            installed: Some(Installed {
                provider,
                runtime,
                timeout,
                id,
                health,
                stopping,
                collector,
                #[cfg(feature = "otlp-logs")]
                logs: None,
            }),
        }
    }

    /// Keeps the logs pipeline built beside the spans' one.
    #[cfg(feature = "otlp-logs")]
    pub(crate) fn with_logs(mut self, logs: Option<crate::logs::otlp::LogsGuard>) -> Self {
        if let Some(installed) = &mut self.installed {
            installed.logs = logs;
        }
        self
    }

    /// The logs pipeline set up by [`TelemetryBuilder::otlp_logs`](crate::TelemetryBuilder::otlp_logs),
    /// for its bridges (`tracing_layer()`, `log_bridge()`); `None` without it or when the SDK
    /// is disabled. It is shut down with this guard.
    #[cfg(feature = "otlp-logs")]
    pub fn logs(&self) -> Option<&crate::logs::otlp::LogsGuard> {
        self.installed.as_ref()?.logs.as_ref()
    }

    /// The guard of a disabled SDK (`OTEL_SDK_DISABLED=true`): does nothing.
    pub(crate) fn disabled() -> TelemetryGuard {
        TelemetryGuard { installed: None }
    }

    /// Whether telemetry was installed (false when the SDK is disabled).
    pub fn is_enabled(&self) -> bool {
        self.installed.is_some()
    }

    /// The installed tracer provider, to build other tracers from it.
    pub fn provider(&self) -> Option<&SdkTracerProvider> {
        self.installed.as_ref().map(|installed| &installed.provider)
    }

    /// What became of the spans so far: how many ended, were exported, and were dropped, by
    /// reason (see [`PipelineStats`]). All zero when the SDK is disabled or there is no
    /// exporter.
    ///
    /// ```
    /// let telemetry = traced_runtime::Telemetry::builder()
    ///     .exporter(traced_runtime::Exporter::none())
    ///     .install()
    ///     .unwrap();
    /// let stats = telemetry.stats();
    /// assert_eq!(stats.dropped(), 0);
    /// ```
    pub fn stats(&self) -> PipelineStats {
        self.installed
            .as_ref()
            .and_then(|installed| installed.collector.as_ref())
            .map(Collector::stats)
            .unwrap_or_default()
    }

    /// Exports the spans that ended so far, waiting at most the shutdown timeout.
    pub fn force_flush(&self) -> Result<(), Error> {
        let Some(installed) = &self.installed else {
            return Ok(());
        };
        let provider = installed.provider.clone();
        let result = bounded(installed.timeout, "flush", move || provider.force_flush());
        explain(result, &installed.health)
    }

    /// Exports the spans still queued and shuts down, waiting at most the shutdown timeout;
    /// returns what went wrong. Spans ended afterwards are dropped.
    ///
    /// # Errors
    ///
    /// [`Error::SpansLost`] when any span was lost, with the count of each reason and the
    /// error that came with it (a failed export, a shutdown that ran out of time); otherwise
    /// that error alone ([`Error::Export`], [`Error::ShutdownTimeout`], ...).
    pub fn shutdown(mut self) -> Result<(), Error> {
        match self.installed.take() {
            Some(installed) => installed.shutdown(),
            None => Ok(()),
        }
    }
}

impl Installed {
    fn shutdown(self) -> Result<(), Error> {
        let Installed {
            provider,
            runtime,
            timeout,
            id,
            health,
            stopping,
            collector,
            #[cfg(feature = "otlp-logs")]
            logs,
        } = self;
        stopping.store(true, Ordering::Relaxed);
        // The logs are shut down beside the spans, within the same bound (the SDK's logs
        // processor bounds its own shutdown by the timeout).
        #[cfg(feature = "otlp-logs")]
        let logs = logs.map(|logs| {
            let (sender, receiver) = mpsc::sync_channel(1);
            let spawned = thread::Builder::new()
                .name("traced-logs-shutdown".into())
                .spawn(move || {
                    let _ = sender.send(logs.shutdown());
                });
            (spawned.is_ok(), receiver)
        });
        let result = {
            let provider = provider.clone();
            bounded(timeout, "shutdown", move || {
                provider.shutdown_with_timeout(timeout)
            })
        };
        crate::setup::telemetry::uninstall(id);
        #[cfg(feature = "otlp-logs")]
        let logs_result = match logs {
            Some((true, receiver)) => receiver
                .recv_timeout(timeout + Duration::from_millis(200))
                .unwrap_or(Err(Error::ShutdownTimeout(timeout))),
            Some((false, _)) => Err(Error::Runtime(std::io::Error::other(
                "cannot start a thread to shut the logs down",
            ))),
            None => Ok(()),
        };
        // Stops the export runtime: an export still waiting on a dead collector is cancelled,
        // which lets the processor's thread finish.
        drop(runtime);
        let result = explain(result, &health);
        #[cfg(feature = "otlp-logs")]
        let result = result.and(logs_result);
        // Read once the export runtime stopped: nothing is on its way any more.
        let stats = collector.as_ref().map(Collector::stats).unwrap_or_default();
        if stats.dropped() > 0 {
            return Err(Error::SpansLost {
                stats,
                cause: result.err().map(Box::new),
            });
        }
        result
    }
}

/// The error to report: running out of time is that; otherwise a failed export says more
/// than the SDK's summary, and the SDK's shutdown succeeds even when its last export failed.
fn explain(result: Result<(), Error>, health: &[Arc<ExportHealth>]) -> Result<(), Error> {
    match result {
        Err(Error::ShutdownTimeout(timeout)) => Err(Error::ShutdownTimeout(timeout)),
        Ok(()) | Err(Error::Sdk { .. }) => {
            match health.iter().find_map(|health| health.last_error()) {
                Some(reason) => Err(Error::Export { reason }),
                None => result,
            }
        }
        Err(other) => Err(other),
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(installed) = self.installed.take() {
            if let Err(error) = installed.shutdown() {
                eprintln!("traced: {error}");
            }
        }
    }
}

/// Runs `operation` on a helper thread and waits for it at most `timeout` (plus a little, so
/// that the operation's own timeout is the one reported): whatever `operation` blocks on, and
/// whatever runtime the caller is in, the caller is back in time.
fn bounded(
    timeout: Duration,
    operation: &'static str,
    run: impl FnOnce() -> Result<(), OTelSdkError> + Send + 'static,
) -> Result<(), Error> {
    let started = std::time::Instant::now();
    let (sender, receiver) = mpsc::sync_channel(1);
    let spawned = thread::Builder::new()
        .name(format!("traced-{operation}"))
        .spawn(move || {
            let _ = sender.send(run());
        });
    let result = match spawned {
        Ok(_) => match receiver.recv_timeout(timeout + Duration::from_millis(200)) {
            Ok(result) => result,
            Err(_) => return Err(Error::ShutdownTimeout(timeout)),
        },
        // No thread to spare: say so rather than block without a bound.
        Err(_) => {
            return Err(Error::Runtime(std::io::Error::other(
                "cannot start a thread to shut down telemetry",
            )))
        }
    };
    match result {
        Ok(()) => Ok(()),
        // An error that came when the bound was reached is that bound's (the provider wraps
        // its processors' timeouts in an `InternalFailure`).
        Err(_) if started.elapsed() >= timeout => Err(Error::ShutdownTimeout(timeout)),
        Err(source) => Err(Error::Sdk { operation, source }),
    }
}
