//! The OTLP logs pipeline: built from the same resolved configuration as the spans' (resource,
//! endpoint rules, headers, TLS), on the same export runtime when `Telemetry` builds it.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use opentelemetry_sdk::logs::BatchLogProcessor;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use tokio::runtime::Handle;

use crate::error::Error;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use crate::export::otlp::OtlpLogExporter;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use crate::export::runtime::ExportRuntime;
use crate::export::LastError;
use crate::logs::otlp::LogsGuard;
use crate::setup::config::{self, Config, OtlpConfig, Settings};
use crate::setup::env::{self, Env};

/// Sets up the OTLP export of log records from the environment, as [`init`](crate::init) does
/// for spans. See [`otlp_logs`](crate::otlp_logs).
///
/// # Errors
///
/// A protocol, compression or https endpoint whose cargo feature is off; the export thread
/// cannot start. An invalid variable is not an error: it is reported on stderr, once, and
/// what it would have set is left at its default (as for
/// [`Telemetry::install`](crate::TelemetryBuilder::install)).
pub fn install() -> Result<LogsGuard, Error> {
    install_with_env(env::read())
}

/// [`install`] reading the `OTEL_*` settings from `env` instead of the process environment.
///
/// # Errors
///
/// See [`install`].
pub fn install_with_env(env: Env) -> Result<LogsGuard, Error> {
    let config::Resolved { config, warnings } = config::load(&Settings::default(), &env)?;
    for warning in &warnings {
        eprintln!("traced: {warning}");
    }
    build(&config, None)
}

/// Builds the logs pipeline that `config` (the tracing setup's resolved configuration)
/// describes: the same resource and OTLP settings, the logs endpoint resolved beside the
/// spans' by the same rules. Exports run on `runtime`, the tracing setup's export runtime,
/// when given; else on one of the guard's own.
///
/// This is the hook for `Telemetry::install`, which can keep the returned guard beside its own.
/// Without an OTLP exporter for spans (console, none) there is none for logs either.
pub(crate) fn build(config: &Config, runtime: Option<&Handle>) -> Result<LogsGuard, Error> {
    let resource = crate::setup::resource::build(&config.resource);
    #[allow(unused_mut)] // unused without an OTLP transport
    let mut builder = SdkLoggerProvider::builder().with_resource(resource);
    #[allow(unused_mut)] // unused without an OTLP transport
    let mut own_runtime = None;
    let last_error = LastError::default();
    let stopping = Arc::new(AtomicBool::new(false));
    let logs_otlp = config.otlp.as_ref().and_then(|otlp| {
        let endpoint = otlp.logs_endpoint.clone()?;
        Some(OtlpConfig {
            endpoint,
            tls: otlp.logs_tls.clone(),
            ..otlp.clone()
        })
    });
    if let (Some(logs_otlp), false) = (logs_otlp, config.disabled) {
        #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
        {
            let handle = match runtime {
                Some(handle) => handle.clone(),
                None => own_runtime.insert(ExportRuntime::start()?).handle().clone(),
            };
            let exporter = OtlpLogExporter::new(
                &logs_otlp,
                &handle,
                last_error.clone(),
                Arc::clone(&stopping),
            )?;
            builder = builder.with_log_processor(BatchLogProcessor::builder(exporter).build());
        }
        #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
        {
            let _ = runtime;
            return Err(crate::export::otlp_disabled(
                logs_otlp.protocol,
                "OTLP logs",
            ));
        }
    }
    Ok(LogsGuard::new(
        builder.build(),
        own_runtime,
        last_error,
        stopping,
        config
            .shutdown_timeout
            .unwrap_or(crate::DEFAULT_SHUTDOWN_TIMEOUT),
    ))
}
