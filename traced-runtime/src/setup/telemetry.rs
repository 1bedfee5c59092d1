//! One call sets up tracing: [`Telemetry::builder`]`()….install()`, or [`init`] for the
//! environment alone. The decisions are in `setup::config`, the pieces in `export`,
//! `setup::resource`, `propagation::composite`; this file puts them together,
//! and `pipeline::builder` assembles the provider.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{Sampler, ShouldSample, SpanLimits, TracerProviderBuilder};

use crate::error::Error;
use crate::export::console::ConsoleExporter;
use crate::export::runtime::ExportRuntime;
use crate::export::{self, DynExporter, Exporter, ExporterKind, Exporting, Fanout, Target};
use crate::pipeline::builder::{self, Sampling, SpanPipeline};
use crate::propagation::composite::{self, Propagator};
use crate::setup::config::{
    self, Compression, ExporterSlot, PropagatorSlot, Protocol, SamplerSpec, Settings,
};
use crate::setup::env::{self, Env};
use crate::setup::guard::{TelemetryGuard, DEFAULT_SHUTDOWN_TIMEOUT};
use crate::setup::resource;

/// Sets up tracing from the environment alone: `Telemetry::builder().install()`.
///
/// `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_EXPORTER`,
/// `OTEL_EXPORTER_OTLP_*`, `OTEL_TRACES_SAMPLER`, `OTEL_PROPAGATORS`, `OTEL_SDK_DISABLED`, …
/// decide; see [`env`](crate::setup::env) for the list.
pub fn init() -> Result<TelemetryGuard, Error> {
    Telemetry::builder().install()
}

/// Sets up tracing in one call: the tracer provider, the exporter, the sampler, the resource
/// and the propagators.
///
/// ```no_run
/// use traced_runtime::{Sampler, Telemetry};
///
/// # fn main() -> Result<(), traced_runtime::Error> {
/// let _telemetry = Telemetry::builder()
///     .service_name("my-service")
///     .service_version("1.0.0")
///     .deployment_environment("production")
///     .otlp_endpoint("http://localhost:4318")
///     .sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.1))))
///     .install()?;
/// // … the program: spans are exported until `_telemetry` is dropped.
/// # Ok(())
/// # }
/// ```
///
/// Or, configured by the environment alone: `let _telemetry = traced_runtime::init()?;`.
///
/// **Precedence.** A builder value beats the environment variable, which beats the
/// specification's default. Every trace variable of the OpenTelemetry specification is read
/// (the list, with defaults, is [`env`](crate::setup::env)), including those opentelemetry-rust
/// ignores (`OTEL_SDK_DISABLED`, `OTEL_PROPAGATORS`, `OTEL_TRACES_EXPORTER`, the attribute
/// value length limits, the certificate files, `OTEL_BSP_EXPORT_TIMEOUT`). An invalid
/// variable is reported once on stderr, with its value (never for headers) and the default
/// used instead.
///
/// **What `install()` does.** It builds the pipeline, makes it the global tracer provider
/// (used by `#[traced]`, the opentelemetry API and other instrumentations) and the global
/// propagator, and returns the [`TelemetryGuard`] that flushes and shuts it down.
///
/// **Any program.** Exports run on a small tokio runtime of their own thread, so a plain
/// `fn main`, `#[tokio::main]` of either flavour, and code running after its runtime stopped
/// all work, and shutdown never waits for more than its bound (default
/// [`DEFAULT_SHUTDOWN_TIMEOUT`](crate::DEFAULT_SHUTDOWN_TIMEOUT)), even when the collector
/// is unreachable.
///
/// **Exporters.** OTLP (`http/protobuf` by default as the specification recommends, port
/// 4318; `grpc` on 4317 with [`otlp_protocol`](TelemetryBuilder::otlp_protocol) or
/// `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`; `http/json`), the console (each trace as a tree with
/// a waterfall), none, or any `SpanExporter`: see [`Exporter`](crate::Exporter).
#[derive(Debug)]
#[non_exhaustive]
pub struct Telemetry;

impl Telemetry {
    /// A builder; every setting left unset comes from the environment, then the defaults.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::default()
    }
}

type Configure = Box<dyn FnOnce(TracerProviderBuilder) -> TracerProviderBuilder>;

/// Settings of the telemetry pipeline; [`install`](TelemetryBuilder::install) sets it up.
#[derive(Default)]
#[must_use = "nothing is set up until `.install()` is called"]
pub struct TelemetryBuilder {
    settings: Settings,
    env: Option<Env>,
    sampler: Option<Sampling>,
    custom_exporters: Vec<Option<Box<dyn DynExporter>>>,
    custom_propagators: Vec<Option<Box<dyn TextMapPropagator + Send + Sync>>>,
    configure: Vec<Configure>,
    #[cfg(feature = "otlp-logs")]
    otlp_logs: bool,
}

impl std::fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values and the userinfo and query of endpoints are not shown: they may hold
        // secrets.
        use crate::redact::{self, REDACTED};
        let otlp = &self.settings.otlp;
        let headers: Vec<(&str, &str)> = otlp
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), REDACTED))
            .collect();
        f.debug_struct("TelemetryBuilder")
            .field("service_name", &self.settings.service_name)
            .field("exporters", &self.settings.exporters)
            .field("otlp_endpoint", &otlp.endpoint.as_deref().map(redact::url))
            .field(
                "otlp_traces_endpoint",
                &otlp.traces_endpoint.as_deref().map(redact::url),
            )
            .field("otlp_protocol", &otlp.protocol)
            .field("otlp_headers", &headers)
            .finish_non_exhaustive()
    }
}

impl TelemetryBuilder {
    /// `service.name`; beats `OTEL_SERVICE_NAME`. Default: `unknown_service:<executable>`.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.settings.service_name = Some(name.into());
        self
    }

    /// `service.version`.
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.settings.service_version = Some(version.into());
        self
    }

    /// `deployment.environment.name` (`production`, `staging`, …).
    pub fn deployment_environment(mut self, environment: impl Into<String>) -> Self {
        self.settings.deployment_environment = Some(environment.into());
        self
    }

    /// An extra resource attribute; beats `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn resource_attribute(mut self, attribute: KeyValue) -> Self {
        self.settings.resource_attributes.push(attribute);
        self
    }

    /// Extra resource attributes; beat `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn resource_attributes(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        self.settings.resource_attributes.extend(attributes);
        self
    }

    /// Where spans go; call it again to send them to several places. Beats
    /// `OTEL_TRACES_EXPORTER` (default `otlp`).
    pub fn exporter(mut self, exporter: Exporter) -> Self {
        let exporters = self.settings.exporters.get_or_insert_with(Vec::new);
        match exporter.0 {
            ExporterKind::Otlp => exporters.push(ExporterSlot::Otlp),
            ExporterKind::Console => exporters.push(ExporterSlot::Console),
            ExporterKind::None => {}
            ExporterKind::Custom(custom) => {
                exporters.push(ExporterSlot::Custom(self.custom_exporters.len()));
                self.custom_exporters.push(Some(custom));
            }
        }
        self
    }

    /// Without `OTEL_TRACES_EXPORTER` (and without [`exporter`](Self::exporter)), print traces
    /// on the console instead of sending them to a collector: for examples and tools, which
    /// then ship to a collector with `OTEL_TRACES_EXPORTER=otlp`.
    pub fn console_by_default(mut self) -> Self {
        self.settings.console_by_default = true;
        self
    }

    /// The collector's base URL (`http://collector:4318`); for HTTP `/v1/traces` is appended,
    /// as for `OTEL_EXPORTER_OTLP_ENDPOINT`, which it beats.
    pub fn otlp_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.settings.otlp.endpoint = Some(endpoint.into());
        self
    }

    /// The exact URL spans are sent to, used as it is (as `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
    pub fn otlp_traces_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.settings.otlp.traces_endpoint = Some(endpoint.into());
        self
    }

    /// The OTLP transport. Default: `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`.
    pub fn otlp_protocol(mut self, protocol: Protocol) -> Self {
        self.settings.otlp.protocol = Some(protocol);
        self
    }

    /// A request header (gRPC metadata), e.g. an API key; added to `OTEL_EXPORTER_OTLP_HEADERS`,
    /// replacing a header of the same name. Never printed.
    pub fn otlp_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.otlp.headers.push((name.into(), value.into()));
        self
    }

    /// Several [`otlp_header`](Self::otlp_header)s.
    pub fn otlp_headers<N: Into<String>, V: Into<String>>(
        mut self,
        headers: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        self.settings
            .otlp
            .headers
            .extend(headers.into_iter().map(|(n, v)| (n.into(), v.into())));
        self
    }

    /// Longest time one export request may take. Default 10 s.
    pub fn otlp_timeout(mut self, timeout: Duration) -> Self {
        self.settings.otlp.timeout = Some(timeout);
        self
    }

    /// Request compression. Default none.
    pub fn otlp_compression(mut self, compression: Compression) -> Self {
        self.settings.otlp.compression = Some(compression);
        self
    }

    /// For a gRPC endpoint without a scheme: connect without TLS.
    pub fn otlp_insecure(mut self, insecure: bool) -> Self {
        self.settings.otlp.insecure = Some(insecure);
        self
    }

    /// A PEM file of the certificate authorities to trust instead of the system's.
    pub fn otlp_ca_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.otlp.certificate = Some(path.into());
        self
    }

    /// PEM files of the client's certificate chain and private key, for mutual TLS.
    pub fn otlp_client_identity(
        mut self,
        certificate: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.settings.otlp.client_certificate = Some(certificate.into());
        self.settings.otlp.client_key = Some(key.into());
        self
    }

    /// The sampler, e.g. `Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.1)))`.
    /// Beats `OTEL_TRACES_SAMPLER`; default `parentbased_always_on`.
    pub fn sampler(mut self, sampler: impl ShouldSample + 'static) -> Self {
        self.sampler = Some(Sampling::new(sampler));
        self.settings.sampler_set = true;
        self
    }

    /// Most spans waiting for export; more are dropped. Default 2048.
    pub fn batch_max_queue_size(mut self, size: usize) -> Self {
        self.settings.batch.max_queue_size = Some(size);
        self
    }

    /// Delay between two exports. Default 5 s.
    pub fn batch_scheduled_delay(mut self, delay: Duration) -> Self {
        self.settings.batch.scheduled_delay = Some(delay);
        self
    }

    /// Most spans in one export. Default 512.
    pub fn batch_max_export_batch_size(mut self, size: usize) -> Self {
        self.settings.batch.max_export_batch_size = Some(size);
        self
    }

    /// Longest time one export may take, retries included. Default 30 s.
    pub fn batch_export_timeout(mut self, timeout: Duration) -> Self {
        self.settings.batch.export_timeout = Some(timeout);
        self
    }

    /// Count limits for attributes, events and links; beat the `OTEL_*_COUNT_LIMIT` variables.
    pub fn span_limits(mut self, limits: SpanLimits) -> Self {
        self.settings.limits = Some(config::Limits {
            attributes_per_span: limits.max_attributes_per_span,
            events_per_span: limits.max_events_per_span,
            links_per_span: limits.max_links_per_span,
            attributes_per_event: limits.max_attributes_per_event,
            attributes_per_link: limits.max_attributes_per_link,
        });
        self
    }

    /// Longest string attribute value, in characters (longer ones are truncated), or `None`
    /// for no limit; beats `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`.
    pub fn attribute_value_length_limit(mut self, limit: Option<usize>) -> Self {
        self.settings.attribute_value_length_limit = Some(limit);
        self
    }

    /// The propagators, in order (none: an empty list); beats `OTEL_PROPAGATORS` (default
    /// trace context and baggage).
    pub fn propagators(mut self, propagators: impl IntoIterator<Item = Propagator>) -> Self {
        let slots = propagators
            .into_iter()
            .map(|propagator| match propagator {
                Propagator::TraceContext => PropagatorSlot::TraceContext,
                Propagator::Baggage => PropagatorSlot::Baggage,
                Propagator::B3 => PropagatorSlot::B3,
                Propagator::B3Multi => PropagatorSlot::B3Multi,
                Propagator::Custom(custom) => {
                    self.custom_propagators.push(Some(custom));
                    PropagatorSlot::Custom(self.custom_propagators.len() - 1)
                }
            })
            .collect();
        self.settings.propagators = Some(slots);
        self
    }

    /// How long dropping the guard (or `shutdown()`) may wait. Default 5 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.settings.shutdown_timeout = Some(timeout);
        self
    }

    /// `true` installs nothing (the guard does nothing); beats `OTEL_SDK_DISABLED`.
    pub fn sdk_disabled(mut self, disabled: bool) -> Self {
        self.settings.disabled = Some(disabled);
        self
    }

    /// Reads the `OTEL_*` settings from `env` instead of the process environment.
    pub fn env(mut self, env: Env) -> Self {
        self.env = Some(env);
        self
    }

    /// Customises the SDK's `TracerProviderBuilder` for what this builder does not cover (an
    /// id generator, another span processor, …), after everything else is set.
    pub fn configure_provider(
        mut self,
        configure: impl FnOnce(TracerProviderBuilder) -> TracerProviderBuilder + 'static,
    ) -> Self {
        self.configure.push(Box::new(configure));
        self
    }

    /// Also exports log records over OTLP (feature `otlp-logs`), configured by this builder and
    /// the environment exactly as the spans are (service name and resource, endpoint,
    /// protocol, headers, timeout, compression, TLS files) and on the same export runtime.
    /// The records go to `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` when set, else to the
    /// [`otlp_endpoint`](Self::otlp_endpoint) (or `OTEL_EXPORTER_OTLP_ENDPOINT`) with
    /// `/v1/logs` appended for HTTP; see [`otlp_logs`](crate::otlp_logs).
    ///
    /// The guard's [`logs`](TelemetryGuard::logs) gives the bridges to install
    /// (`tracing_layer()`, `log_bridge()`); dropping the guard shuts the logs down too.
    /// Without an OTLP exporter for spans (console, none, a custom one), no logs are exported.
    #[cfg(feature = "otlp-logs")]
    pub fn otlp_logs(mut self) -> Self {
        self.otlp_logs = true;
        self
    }

    /// Sets up the pipeline, makes it global (tracer provider and propagator) and returns the
    /// guard that shuts it down. Invalid environment variables are reported on stderr, once,
    /// and their defaults used; invalid builder values are errors.
    pub fn install(mut self) -> Result<TelemetryGuard, Error> {
        let env = self.env.take().unwrap_or_else(env::read);
        let config::Resolved { config, warnings } = config::load(&self.settings, &env)?;
        for warning in &warnings {
            eprintln!("traced: {warning}");
        }
        if config.disabled {
            return Ok(TelemetryGuard::disabled());
        }

        let needs_runtime = config
            .exporters
            .iter()
            .any(|slot| matches!(slot, ExporterSlot::Otlp | ExporterSlot::Custom(_)));
        #[cfg(feature = "otlp-logs")]
        let needs_runtime = needs_runtime || (self.otlp_logs && config.otlp.is_some());
        let runtime = if needs_runtime {
            Some(ExportRuntime::start()?)
        } else {
            None
        };
        let limit = config.attribute_value_length_limit;
        let batch = config.batch;
        let mut health = Vec::new();
        let stopping = Arc::new(AtomicBool::new(false));
        let mut exporting = |exporter: Target, runtime: Option<&ExportRuntime>| {
            let exporter = Exporting::new(
                exporter,
                runtime.map(|runtime| runtime.handle().clone()),
                batch.max_export_timeout,
                limit,
            );
            health.push(exporter.health());
            exporter
        };
        let mut exporters = Vec::new();
        let limits = config.limits;
        let span_limits = SpanLimits {
            max_events_per_span: limits.events_per_span,
            max_attributes_per_span: limits.attributes_per_span,
            max_links_per_span: limits.links_per_span,
            max_attributes_per_event: limits.attributes_per_event,
            max_attributes_per_link: limits.attributes_per_link,
        };
        let sampling = match (config.sampler, self.sampler.take()) {
            (_, Some(sampling)) => sampling,
            (Some(spec), None) => Sampling::new(sampler(spec)),
            (None, None) => Sampling::default(),
        };
        for slot in &config.exporters {
            match (slot, &runtime) {
                (ExporterSlot::Otlp, Some(runtime)) => {
                    let otlp = config.otlp.as_ref().ok_or_else(|| Error::Exporter {
                        exporter: "otlp",
                        reason: "no OTLP configuration".into(),
                    })?;
                    let exporter = export::otlp(otlp, runtime.handle(), Arc::clone(&stopping))?;
                    exporters.push(exporting(exporter, Some(runtime)));
                }
                (ExporterSlot::Custom(index), Some(runtime)) => {
                    let custom = self.custom_exporters.get_mut(*index).and_then(Option::take);
                    if let Some(exporter) = custom {
                        exporters.push(exporting(Target::spans(exporter), Some(runtime)));
                    }
                }
                (ExporterSlot::Console, _) => {
                    let console = ConsoleExporter::stdout(config.no_color);
                    exporters.push(exporting(Target::spans(Box::new(console)), None));
                }
                (_, None) => {}
            }
        }
        // Built before anything is made global, so that an invalid logs setting leaves nothing
        // half installed.
        #[cfg(feature = "otlp-logs")]
        let logs = if self.otlp_logs {
            Some(crate::setup::logs::build(
                &config,
                runtime.as_ref().map(ExportRuntime::handle),
            )?)
        } else {
            None
        };
        // One pipeline for every exporter: `#[traced]` spans take its fast path, spans of the
        // opentelemetry API reach its collector through its processor.
        let exporter = (!exporters.is_empty()).then(|| {
            Box::new(Fanout(exporters)) as Box<dyn crate::pipeline::exporter::BatchExporter>
        });
        let mut pipeline = SpanPipeline::with_exporter(exporter)
            .with_sampling(sampling)
            .with_span_limits(span_limits)
            .with_resource(resource::build(&config.resource))
            // Each exporter enforces `export_timeout` itself (and reports it); the collector's
            // bound is a backstop behind it.
            .with_batch_config(
                batch.with_max_export_timeout(batch.max_export_timeout + EXPORT_TIMEOUT_BACKSTOP),
            );
        for configure in self.configure.drain(..) {
            pipeline = pipeline.with_provider_builder(configure);
        }
        let (provider, fast) = pipeline.build()?;
        let collector = fast.as_ref().map(|fast| fast.collector.clone());
        builder::install(&provider, fast);
        opentelemetry::global::set_text_map_propagator(composite::build(
            &config.propagators,
            &mut self.custom_propagators,
        ));
        let id = NEXT_INSTALL.fetch_add(1, Ordering::Relaxed);
        CURRENT_INSTALL.store(id, Ordering::Release);
        let guard = TelemetryGuard::new(
            provider,
            runtime,
            config.shutdown_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT),
            id,
            health,
            stopping,
            collector,
        );
        #[cfg(feature = "otlp-logs")]
        let guard = guard.with_logs(logs);
        Ok(guard)
    }
}

fn sampler(spec: SamplerSpec) -> Sampler {
    match spec {
        SamplerSpec::AlwaysOn => Sampler::AlwaysOn,
        SamplerSpec::AlwaysOff => Sampler::AlwaysOff,
        SamplerSpec::TraceIdRatio(ratio) => Sampler::TraceIdRatioBased(ratio),
        SamplerSpec::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        SamplerSpec::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        SamplerSpec::ParentBasedTraceIdRatio(ratio) => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio)))
        }
    }
}

/// How much longer than an exporter's own export timeout the collector waits for it.
const EXPORT_TIMEOUT_BACKSTOP: Duration = Duration::from_millis(100);

static NEXT_INSTALL: AtomicU64 = AtomicU64::new(1);
static CURRENT_INSTALL: AtomicU64 = AtomicU64::new(0);

/// After installation `id` shut down: if it is still the installed one, spans go to a no-op
/// provider from now on (cheap, and nothing is queued to a processor that is gone).
pub(crate) fn uninstall(id: u64) {
    if CURRENT_INSTALL
        .compare_exchange(id, 0, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
    {
        crate::pipeline::dispatch::uninstall();
        opentelemetry::global::set_tracer_provider(
            opentelemetry::trace::noop::NoopTracerProvider::new(),
        );
    }
}
