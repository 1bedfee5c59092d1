//! The decision: builder values and an environment in, the configuration out.
//!
//! The rules never read the process environment, the clock or the file system, so every rule
//! below is table-tested (`tests` beside the code of each rule); [`load`] then reads the TLS
//! files they name (`tls_files`), the one step that touches the file system. Precedence, for
//! every setting: a builder value, then the signal-specific variable
//! (`OTEL_EXPORTER_OTLP_TRACES_*`), then the generic one, then the specification's default.
//! An invalid variable gives one warning (however many settings read it) naming the
//! variable, the value (never for headers: they hold secrets; URLs redacted) and what is used
//! instead, and is otherwise ignored, as the specification asks; an invalid builder value is
//! an [`Error`].

use std::path::PathBuf;
use std::time::Duration;

use opentelemetry::KeyValue;

use crate::error::Error;
pub(crate) use crate::pipeline::batch::BatchConfig;
use crate::setup::env::*;

mod limits;
mod otlp;
mod reader;
mod resource;
mod selection;
#[cfg(test)]
mod table;
mod tls_files;

use limits::{resolve_batch, resolve_limits};
use otlp::resolve_otlp;
use reader::{parse_bool, Reader};
use resource::resolve_resource;
pub(crate) use resource::SERVICE_NAME;
use selection::{resolve_exporters, resolve_propagators, resolve_sampler};
pub(crate) use tls_files::Tls;

/// The OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// OTLP/gRPC (feature `otlp-grpc`), default port 4317.
    Grpc,
    /// OTLP/HTTP with protobuf bodies (feature `otlp-http`), default port 4318: the
    /// specification's default.
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies (feature `otlp-http`), default port 4318.
    HttpJson,
}

impl Protocol {
    fn parse(value: &str) -> Option<Protocol> {
        match value {
            "grpc" => Some(Protocol::Grpc),
            "http/protobuf" => Some(Protocol::HttpProtobuf),
            "http/json" => Some(Protocol::HttpJson),
            _ => None,
        }
    }

    /// The name used in `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }

    /// Whether this build has the protocol's transport (when it has none, the default is
    /// taken and refused when the exporter is built: the build is what to fix).
    fn is_compiled(self) -> bool {
        match self {
            _ if !cfg!(any(feature = "otlp-grpc", feature = "otlp-http")) => true,
            Protocol::Grpc => cfg!(feature = "otlp-grpc"),
            Protocol::HttpProtobuf | Protocol::HttpJson => cfg!(feature = "otlp-http"),
        }
    }

    /// The values `OTEL_EXPORTER_OTLP_PROTOCOL` may take in this build.
    fn expected() -> &'static str {
        match (cfg!(feature = "otlp-grpc"), cfg!(feature = "otlp-http")) {
            (true, false) => "grpc (the `otlp-http` feature of traced-runtime is off)",
            (false, true) => {
                "http/protobuf or http/json (the `otlp-grpc` feature of traced-runtime is off)"
            }
            _ => "grpc, http/protobuf or http/json",
        }
    }

    fn is_http(self) -> bool {
        !matches!(self, Protocol::Grpc)
    }

    /// The default: `http/protobuf` as the specification recommends, or `grpc` when only the
    /// `otlp-grpc` feature is enabled.
    fn default_for_build() -> Protocol {
        if cfg!(feature = "otlp-http") || !cfg!(feature = "otlp-grpc") {
            Protocol::HttpProtobuf
        } else {
            Protocol::Grpc
        }
    }
}

/// Compression of OTLP requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// No compression (the default).
    None,
    /// gzip (feature `gzip`).
    Gzip,
}

/// Which exporter, in the order given; `Custom(i)` is the i-th exporter the user supplied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExporterSlot {
    Otlp,
    Console,
    Custom(usize),
}

/// Which propagator, in the order given; `Custom(i)` is the i-th one the user supplied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PropagatorSlot {
    TraceContext,
    Baggage,
    B3,
    B3Multi,
    Custom(usize),
}

/// A sampler named by `OTEL_TRACES_SAMPLER`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SamplerSpec {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio(f64),
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedTraceIdRatio(f64),
}

/// The values set on the builder; `None` means "not set, ask the environment". No `Debug`:
/// it holds header values, which are secrets.
#[derive(Default)]
pub(crate) struct Settings {
    pub(crate) disabled: Option<bool>,
    pub(crate) service_name: Option<String>,
    pub(crate) service_version: Option<String>,
    pub(crate) deployment_environment: Option<String>,
    pub(crate) resource_attributes: Vec<KeyValue>,
    pub(crate) exporters: Option<Vec<ExporterSlot>>,
    /// Without `OTEL_TRACES_EXPORTER`, print to the console instead of sending OTLP.
    pub(crate) console_by_default: bool,
    pub(crate) otlp: OtlpSettings,
    /// A sampler was given to the builder: `OTEL_TRACES_SAMPLER` is not consulted.
    pub(crate) sampler_set: bool,
    pub(crate) propagators: Option<Vec<PropagatorSlot>>,
    pub(crate) batch: BatchSettings,
    pub(crate) limits: Option<Limits>,
    pub(crate) attribute_value_length_limit: Option<Option<usize>>,
    pub(crate) shutdown_timeout: Option<Duration>,
}

/// No `Debug`: it holds header values, which are secrets.
#[derive(Default)]
pub(crate) struct OtlpSettings {
    pub(crate) endpoint: Option<String>,
    pub(crate) traces_endpoint: Option<String>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) compression: Option<Compression>,
    pub(crate) insecure: Option<bool>,
    pub(crate) certificate: Option<PathBuf>,
    pub(crate) client_key: Option<PathBuf>,
    pub(crate) client_certificate: Option<PathBuf>,
}

/// Which [`BatchConfig`] values the builder was given; the others are read from the
/// environment. Not a second batch type: `resolve` turns it into the one `BatchConfig`.
#[derive(Debug, Default)]
pub(crate) struct BatchSettings {
    pub(crate) max_queue_size: Option<usize>,
    pub(crate) scheduled_delay: Option<Duration>,
    pub(crate) max_export_batch_size: Option<usize>,
    pub(crate) export_timeout: Option<Duration>,
}

/// The resolved configuration.
#[derive(Debug, PartialEq)]
pub(crate) struct Config {
    pub(crate) disabled: bool,
    /// Resource attributes, later entries beating earlier ones with the same key. Holds
    /// `service.name` unless neither the builder nor the environment named the service.
    pub(crate) resource: Vec<KeyValue>,
    pub(crate) exporters: Vec<ExporterSlot>,
    /// Present when an OTLP exporter is among `exporters`.
    pub(crate) otlp: Option<OtlpConfig>,
    /// `None`: the builder's sampler.
    pub(crate) sampler: Option<SamplerSpec>,
    pub(crate) propagators: Vec<PropagatorSlot>,
    pub(crate) batch: BatchConfig,
    pub(crate) limits: Limits,
    /// Longest string attribute value; `None`: no limit.
    pub(crate) attribute_value_length_limit: Option<usize>,
    pub(crate) shutdown_timeout: Option<Duration>,
    /// `NO_COLOR` is set.
    pub(crate) no_color: bool,
}

#[derive(Clone, PartialEq)]
pub(crate) struct OtlpConfig {
    pub(crate) protocol: Protocol,
    /// The URL requests go to: for HTTP the full `…/v1/traces` URL, for gRPC the server.
    pub(crate) endpoint: String,
    /// Where log records go, by the same rules (`…/v1/logs`); `None` when
    /// `OTEL_LOGS_EXPORTER=none`.
    #[cfg(feature = "otlp-logs")]
    pub(crate) logs_endpoint: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) compression: Compression,
    /// The CA and client identity files of the traces endpoint (read by [`load`]).
    pub(crate) tls: Tls,
    /// The same for the logs endpoint (`OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE`, ..).
    #[cfg(feature = "otlp-logs")]
    pub(crate) logs_tls: Tls,
}

impl std::fmt::Debug for OtlpConfig {
    /// Header values, and the userinfo and query of endpoints, are redacted: they hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::redact::{self, REDACTED};
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), REDACTED))
            .collect();
        let mut f = f.debug_struct("OtlpConfig");
        f.field("protocol", &self.protocol)
            .field("endpoint", &redact::url(&self.endpoint));
        #[cfg(feature = "otlp-logs")]
        f.field(
            "logs_endpoint",
            &self.logs_endpoint.as_deref().map(redact::url),
        );
        f.field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("tls", &self.tls);
        #[cfg(feature = "otlp-logs")]
        f.field("logs_tls", &self.logs_tls);
        f.finish()
    }
}

/// Count limits of a span (`opentelemetry_sdk::trace::SpanLimits`, comparable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) attributes_per_span: u32,
    pub(crate) events_per_span: u32,
    pub(crate) links_per_span: u32,
    pub(crate) attributes_per_event: u32,
    pub(crate) attributes_per_link: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            attributes_per_span: OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT_DEFAULT,
            events_per_span: OTEL_SPAN_EVENT_COUNT_LIMIT_DEFAULT,
            links_per_span: OTEL_SPAN_LINK_COUNT_LIMIT_DEFAULT,
            attributes_per_event: OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT_DEFAULT,
            attributes_per_link: OTEL_LINK_ATTRIBUTE_COUNT_LIMIT_DEFAULT,
        }
    }
}

/// The configuration and the warnings about the environment, to be reported once.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) config: Config,
    pub(crate) warnings: Vec<String>,
}

/// The configuration of `settings` and `env`, with the TLS files it names read: what
/// `install()` uses. A file named by a variable that cannot be used is reported (once, with
/// the rest) and left out; one named by the builder is an [`Error`].
pub(crate) fn load(settings: &Settings, env: &Env) -> Result<Resolved, Error> {
    let mut r = Reader::new(env);
    let mut config = resolve_with(settings, &mut r)?;
    if let Some(otlp) = &mut config.otlp {
        tls_files::load(otlp, &mut r)?;
    }
    Ok(Resolved {
        config,
        warnings: r.into_warnings(),
    })
}

/// Decides the configuration from the builder's `settings` and the environment `env`,
/// without touching the file system (TLS files are named, not read: see [`load`]): what the
/// table tests check.
#[cfg(test)]
pub(crate) fn resolve(settings: &Settings, env: &Env) -> Result<Resolved, Error> {
    let mut r = Reader::new(env);
    let config = resolve_with(settings, &mut r)?;
    Ok(Resolved {
        config,
        warnings: r.into_warnings(),
    })
}

fn resolve_with(settings: &Settings, r: &mut Reader<'_>) -> Result<Config, Error> {
    let disabled = match settings.disabled {
        Some(disabled) => disabled,
        None => r
            .parse(OTEL_SDK_DISABLED, "true or false", "false", parse_bool)
            .unwrap_or(OTEL_SDK_DISABLED_DEFAULT),
    };
    if disabled {
        // Nothing is installed: the other variables are not even read, so nothing is reported.
        return Ok(Config {
            disabled,
            resource: Vec::new(),
            exporters: Vec::new(),
            otlp: None,
            sampler: None,
            propagators: Vec::new(),
            batch: BatchConfig::default(),
            limits: Limits::default(),
            attribute_value_length_limit: None,
            shutdown_timeout: settings.shutdown_timeout,
            no_color: false,
        });
    }

    let resource = resolve_resource(settings, r);
    let exporters = match &settings.exporters {
        Some(exporters) => exporters.clone(),
        None => resolve_exporters(r, settings.console_by_default),
    };
    let otlp = if exporters.contains(&ExporterSlot::Otlp) {
        Some(resolve_otlp(&settings.otlp, r)?)
    } else {
        None
    };
    let sampler = if settings.sampler_set {
        None
    } else {
        Some(resolve_sampler(r))
    };
    let propagators = match &settings.propagators {
        Some(propagators) => propagators.clone(),
        None => resolve_propagators(r),
    };
    let batch = resolve_batch(&settings.batch, r)?;
    let limits = match settings.limits {
        Some(limits) => limits,
        None => resolve_limits(r),
    };
    let attribute_value_length_limit = match settings.attribute_value_length_limit {
        Some(limit) => limit,
        None => r
            .parse_first(
                &[
                    OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
                    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
                ],
                "a non-negative integer",
                "no limit",
                |v| v.parse::<usize>().ok(),
            )
            .map(Some)
            .unwrap_or(None),
    };
    if let Some(timeout) = settings.shutdown_timeout {
        if timeout.is_zero() {
            return Err(invalid("shutdown_timeout", "must be more than zero"));
        }
    }
    Ok(Config {
        disabled,
        resource,
        exporters,
        otlp,
        sampler,
        propagators,
        batch,
        limits,
        attribute_value_length_limit,
        shutdown_timeout: settings.shutdown_timeout,
        no_color: r.env.get(NO_COLOR).is_some(),
    })
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidSetting {
        setting,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::table::*;
    use super::*;

    #[test]
    fn defaults_are_the_specifications() {
        let Resolved { config, warnings } = resolve_env(&[]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(!config.disabled);
        assert!(config.resource.is_empty());
        assert_eq!(config.exporters, [ExporterSlot::Otlp]);
        assert_eq!(config.sampler, Some(SamplerSpec::ParentBasedAlwaysOn));
        assert_eq!(
            config.propagators,
            [PropagatorSlot::TraceContext, PropagatorSlot::Baggage]
        );
        assert_eq!(config.batch, BatchConfig::default());
        assert_eq!(config.batch.max_queue_size, 2048);
        assert_eq!(config.batch.scheduled_delay, Duration::from_millis(5000));
        assert_eq!(config.batch.max_export_batch_size, 512);
        assert_eq!(
            config.batch.max_export_timeout,
            Duration::from_millis(30000)
        );
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.limits.attributes_per_span, 128);
        assert_eq!(config.attribute_value_length_limit, None);
        assert_eq!(config.shutdown_timeout, None);
        assert!(!config.no_color);
        let otlp = config.otlp.unwrap();
        assert_eq!(otlp.protocol, Protocol::HttpProtobuf);
        assert_eq!(otlp.endpoint, "http://localhost:4318/v1/traces");
        assert!(otlp.headers.is_empty());
        assert_eq!(otlp.timeout, Duration::from_secs(10));
        assert_eq!(otlp.compression, Compression::None);
        assert_eq!(otlp.tls, Tls::default());
    }

    #[test]
    fn sdk_disabled() {
        for (value, disabled, warns) in [
            ("true", true, false),
            ("TRUE", true, false),
            ("True", true, false),
            ("false", false, false),
            ("yes", false, true),
            ("1", false, true),
        ] {
            let Resolved { config, warnings } = resolve_env(&[(OTEL_SDK_DISABLED, value)]);
            assert_eq!(config.disabled, disabled, "{value}");
            assert_eq!(!warnings.is_empty(), warns, "{value}: {warnings:?}");
            if warns {
                assert_eq!(
                    warnings,
                    [format!(
                        "{OTEL_SDK_DISABLED}={value:?} is invalid: expected true or false; \
                         using false instead"
                    )]
                );
            }
        }
        // Disabled: nothing else is read, so an invalid variable is not reported.
        let resolved = resolve_env(&[(OTEL_SDK_DISABLED, "true"), (OTEL_BSP_MAX_QUEUE_SIZE, "x")]);
        assert!(resolved.warnings.is_empty());
        // The builder beats the environment.
        let settings = Settings {
            disabled: Some(false),
            ..Settings::default()
        };
        let resolved = resolve(&settings, &env(&[(OTEL_SDK_DISABLED, "true")])).unwrap();
        assert!(!resolved.config.disabled);
    }

    #[test]
    fn no_color_and_shutdown_timeout() {
        assert!(resolve_env(&[(NO_COLOR, "1")]).config.no_color);
        // https://no-color.org: present and not empty.
        assert!(!resolve_env(&[(NO_COLOR, "")]).config.no_color);
        let settings = Settings {
            shutdown_timeout: Some(Duration::from_millis(300)),
            ..Settings::default()
        };
        let config = resolve(&settings, &Env::default()).unwrap().config;
        assert_eq!(config.shutdown_timeout, Some(Duration::from_millis(300)));
        let settings = Settings {
            shutdown_timeout: Some(Duration::ZERO),
            ..Settings::default()
        };
        assert!(resolve(&settings, &Env::default()).is_err());
    }
}
