//! The pure decision: builder values and an environment in, the configuration out.
//!
//! [`resolve`] never reads the process environment, the clock or the file system, so every
//! rule below is table-tested (`tests` at the end). Precedence, for every setting: a builder
//! value, then the signal-specific variable (`OTEL_EXPORTER_OTLP_TRACES_*`), then the generic
//! one, then the specification's default. An invalid variable gives a warning naming the
//! variable, the value (never for headers: they hold secrets) and the default used, and is
//! otherwise ignored, as the specification asks; an invalid builder value is an [`Error`].

use std::path::PathBuf;
use std::time::Duration;

use opentelemetry::KeyValue;

use crate::error::Error;
pub(crate) use crate::pipeline::batch::BatchConfig;
use crate::setup::env::*;

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
    pub(crate) certificate: Option<PathBuf>,
    pub(crate) client_key: Option<PathBuf>,
    pub(crate) client_certificate: Option<PathBuf>,
}

impl std::fmt::Debug for OtlpConfig {
    /// Header values are redacted: they hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("OtlpConfig")
            .field("protocol", &self.protocol)
            .field("endpoint", &self.endpoint)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("certificate", &self.certificate)
            .field("client_key", &self.client_key)
            .field("client_certificate", &self.client_certificate)
            .finish()
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

/// Decides the configuration from the builder's `settings` and the environment `env`.
pub(crate) fn resolve(settings: &Settings, env: &Env) -> Result<Resolved, Error> {
    let mut r = Reader {
        env,
        warnings: Vec::new(),
    };
    let disabled = match settings.disabled {
        Some(disabled) => disabled,
        None => r
            .parse(OTEL_SDK_DISABLED, "true or false", parse_bool)
            .unwrap_or(OTEL_SDK_DISABLED_DEFAULT),
    };
    if disabled {
        // Nothing is installed: the other variables are not even read, so nothing is reported.
        return Ok(Resolved {
            config: Config {
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
            },
            warnings: Vec::new(),
        });
    }

    let resource = resolve_resource(settings, &mut r);
    let exporters = match &settings.exporters {
        Some(exporters) => exporters.clone(),
        None => resolve_exporters(&mut r, settings.console_by_default),
    };
    let otlp = if exporters.contains(&ExporterSlot::Otlp) {
        Some(resolve_otlp(&settings.otlp, &mut r)?)
    } else {
        None
    };
    let sampler = if settings.sampler_set {
        None
    } else {
        Some(resolve_sampler(&mut r))
    };
    let propagators = match &settings.propagators {
        Some(propagators) => propagators.clone(),
        None => resolve_propagators(&mut r),
    };
    let batch = resolve_batch(&settings.batch, &mut r)?;
    let limits = match settings.limits {
        Some(limits) => limits,
        None => resolve_limits(&mut r),
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
    Ok(Resolved {
        config: Config {
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
        },
        warnings: r.warnings,
    })
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidSetting {
        setting,
        reason: reason.into(),
    }
}

/// Reads variables, collecting a warning for each invalid one.
struct Reader<'a> {
    env: &'a Env,
    warnings: Vec<String>,
}

impl Reader<'_> {
    /// The value of `name` if set and valid UTF-8.
    fn raw(&mut self, name: &str, default: &str) -> Option<&str> {
        match self.env.get(name)? {
            Ok(value) => Some(value),
            Err(()) => {
                self.warnings.push(format!(
                    "{name} is not valid UTF-8; using the default ({default})"
                ));
                None
            }
        }
    }

    /// `name` parsed by `parse`; a warning naming `expected` when it does not parse.
    fn parse<T>(
        &mut self,
        name: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        self.parse_with_default(name, expected, "the default", parse)
    }

    fn parse_with_default<T>(
        &mut self,
        name: &str,
        expected: &str,
        default: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let value = self.raw(name, default)?.to_owned();
        let parsed = parse(&value);
        if parsed.is_none() {
            self.warnings.push(format!(
                "{name}={value:?} is invalid: expected {expected}; using {default} instead"
            ));
        }
        parsed
    }

    /// The first of `names` that is set and valid (the more specific first).
    fn parse_first<T>(
        &mut self,
        names: &[&str],
        expected: &str,
        default: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        names.iter().find_map(|name| {
            let fallback = names
                .iter()
                .skip_while(|other| *other != name)
                .skip(1)
                .find(|other| self.env.get(other).is_some())
                .map(|other| (*other).to_owned())
                .unwrap_or_else(|| default.to_owned());
            self.parse_with_default(name, expected, &fallback, &parse)
        })
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_millis(value: &str) -> Option<Duration> {
    value
        .parse::<u64>()
        .ok()
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
}

fn parse_positive(value: &str) -> Option<usize> {
    value.parse::<usize>().ok().filter(|n| *n > 0)
}

fn resolve_resource(settings: &Settings, r: &mut Reader<'_>) -> Vec<KeyValue> {
    let mut resource = Vec::new();
    if let Some(value) = r.raw(OTEL_RESOURCE_ATTRIBUTES, "no attributes") {
        let value = value.to_owned();
        match parse_key_values(&value) {
            Some(pairs) => resource.extend(
                pairs
                    .into_iter()
                    .map(|(key, value)| KeyValue::new(key, value)),
            ),
            None => r.warnings.push(format!(
                "{OTEL_RESOURCE_ATTRIBUTES}={value:?} is invalid: expected `key1=value1,key2=value2` \
                 with percent-encoded values; using no attributes from it instead"
            )),
        }
    }
    if let Some(name) = r.raw(OTEL_SERVICE_NAME, "unknown_service") {
        resource.push(KeyValue::new(SERVICE_NAME, name.to_owned()));
    }
    resource.extend(settings.resource_attributes.iter().cloned());
    let named = [
        (SERVICE_NAME, &settings.service_name),
        (SERVICE_VERSION, &settings.service_version),
        (
            DEPLOYMENT_ENVIRONMENT_NAME,
            &settings.deployment_environment,
        ),
    ];
    for (key, value) in named {
        if let Some(value) = value {
            resource.push(KeyValue::new(key, value.clone()));
        }
    }
    resource
}

pub(crate) use crate::semconv::{DEPLOYMENT_ENVIRONMENT_NAME, SERVICE_NAME, SERVICE_VERSION};

/// Parses `key1=value1,key2=value2` (W3C baggage-like, values percent-encoded), the format of
/// `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS`. `None` if any entry is invalid:
/// the specification asks to discard the whole value then.
pub(crate) fn parse_key_values(value: &str) -> Option<Vec<(String, String)>> {
    value
        .split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| {
            let (key, value) = entry.split_once('=')?;
            let key = key.trim();
            if key.is_empty() {
                return None;
            }
            Some((key.to_owned(), percent_decode(value.trim())?))
        })
        .collect()
}

fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn resolve_exporters(r: &mut Reader<'_>, console_by_default: bool) -> Vec<ExporterSlot> {
    let (default, default_name) = if console_by_default {
        (ExporterSlot::Console, "console")
    } else {
        (ExporterSlot::Otlp, OTEL_TRACES_EXPORTER_DEFAULT)
    };
    let Some(value) = r.raw(OTEL_TRACES_EXPORTER, default_name) else {
        return vec![default];
    };
    let value = value.to_owned();
    let mut exporters = Vec::new();
    let mut none = false;
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name.to_ascii_lowercase().as_str() {
            "otlp" => exporters.push(ExporterSlot::Otlp),
            // `logging` is the specification's deprecated name of `console`.
            "console" | "logging" => exporters.push(ExporterSlot::Console),
            "none" => none = true,
            _ => r.warnings.push(format!(
                "{OTEL_TRACES_EXPORTER}: {name:?} is not supported (expected otlp, console or none); ignoring it"
            )),
        }
    }
    exporters.dedup();
    if none && !exporters.is_empty() {
        r.warnings.push(format!(
            "{OTEL_TRACES_EXPORTER}={value:?} combines `none` with exporters; using no exporter"
        ));
    }
    if none {
        return Vec::new();
    }
    if exporters.is_empty() {
        r.warnings.push(format!(
            "{OTEL_TRACES_EXPORTER}={value:?} names no supported exporter; using the default ({default_name})"
        ));
        exporters.push(default);
    }
    exporters
}

fn resolve_propagators(r: &mut Reader<'_>) -> Vec<PropagatorSlot> {
    let default = vec![PropagatorSlot::TraceContext, PropagatorSlot::Baggage];
    let Some(value) = r.raw(OTEL_PROPAGATORS, OTEL_PROPAGATORS_DEFAULT) else {
        return default;
    };
    let value = value.to_owned();
    let mut propagators = Vec::new();
    let mut none = false;
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let slot = match name.to_ascii_lowercase().as_str() {
            "tracecontext" => PropagatorSlot::TraceContext,
            "baggage" => PropagatorSlot::Baggage,
            "b3" => PropagatorSlot::B3,
            "b3multi" => PropagatorSlot::B3Multi,
            "none" => {
                none = true;
                continue;
            }
            _ => {
                r.warnings.push(format!(
                    "{OTEL_PROPAGATORS}: {name:?} is not supported (expected tracecontext, baggage, b3, b3multi or none); ignoring it"
                ));
                continue;
            }
        };
        if !propagators.contains(&slot) {
            propagators.push(slot);
        }
    }
    if none {
        if !propagators.is_empty() {
            r.warnings.push(format!(
                "{OTEL_PROPAGATORS}={value:?} combines `none` with propagators; using none"
            ));
        }
        return Vec::new();
    }
    propagators
}

fn resolve_sampler(r: &mut Reader<'_>) -> SamplerSpec {
    let default = SamplerSpec::ParentBasedAlwaysOn;
    let Some(name) = r.raw(OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_DEFAULT) else {
        return default;
    };
    let name = name.to_ascii_lowercase();
    let ratio = |r: &mut Reader<'_>| {
        r.parse_with_default(
            OTEL_TRACES_SAMPLER_ARG,
            "a number between 0 and 1",
            "1.0",
            |v| v.parse::<f64>().ok().filter(|p| (0.0..=1.0).contains(p)),
        )
        .unwrap_or(OTEL_TRACES_SAMPLER_ARG_DEFAULT)
    };
    match name.as_str() {
        "always_on" => SamplerSpec::AlwaysOn,
        "always_off" => SamplerSpec::AlwaysOff,
        "traceidratio" => SamplerSpec::TraceIdRatio(ratio(r)),
        "parentbased_always_on" => SamplerSpec::ParentBasedAlwaysOn,
        "parentbased_always_off" => SamplerSpec::ParentBasedAlwaysOff,
        "parentbased_traceidratio" => SamplerSpec::ParentBasedTraceIdRatio(ratio(r)),
        _ => {
            r.warnings.push(format!(
                "{OTEL_TRACES_SAMPLER}={name:?} is not supported (expected always_on, always_off, \
                 traceidratio, parentbased_always_on, parentbased_always_off or \
                 parentbased_traceidratio); using the default ({OTEL_TRACES_SAMPLER_DEFAULT}) instead"
            ));
            default
        }
    }
}

fn resolve_batch(settings: &BatchSettings, r: &mut Reader<'_>) -> Result<BatchConfig, Error> {
    let positive = "a positive integer";
    let millis = "a positive number of milliseconds";
    let max_queue_size = match settings.max_queue_size {
        Some(0) => return Err(invalid("batch_max_queue_size", "must be at least 1")),
        Some(size) => size,
        None => r
            .parse_with_default(
                OTEL_BSP_MAX_QUEUE_SIZE,
                positive,
                &OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT.to_string(),
                parse_positive,
            )
            .unwrap_or(OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT),
    };
    let scheduled_delay = match settings.scheduled_delay {
        Some(delay) if delay.is_zero() => {
            return Err(invalid("batch_scheduled_delay", "must be more than zero"))
        }
        Some(delay) => delay,
        None => r
            .parse_with_default(OTEL_BSP_SCHEDULE_DELAY, millis, "5000", parse_millis)
            .unwrap_or(OTEL_BSP_SCHEDULE_DELAY_DEFAULT),
    };
    let export_timeout = match settings.export_timeout {
        Some(timeout) if timeout.is_zero() => {
            return Err(invalid("batch_export_timeout", "must be more than zero"))
        }
        Some(timeout) => timeout,
        None => r
            .parse_with_default(OTEL_BSP_EXPORT_TIMEOUT, millis, "30000", parse_millis)
            .unwrap_or(OTEL_BSP_EXPORT_TIMEOUT_DEFAULT),
    };
    let mut max_export_batch_size = match settings.max_export_batch_size {
        Some(0) => return Err(invalid("batch_max_export_batch_size", "must be at least 1")),
        Some(size) => size,
        None => r
            .parse_with_default(
                OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
                positive,
                &OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT.to_string(),
                parse_positive,
            )
            .unwrap_or(OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT),
    };
    if max_export_batch_size > max_queue_size {
        if settings.max_export_batch_size.is_some() && settings.max_queue_size.is_some() {
            return Err(invalid(
                "batch_max_export_batch_size",
                format!("{max_export_batch_size} is more than the queue size {max_queue_size}"),
            ));
        }
        r.warnings.push(format!(
            "the export batch size ({max_export_batch_size}, {OTEL_BSP_MAX_EXPORT_BATCH_SIZE}) is more than \
             the queue size ({max_queue_size}, {OTEL_BSP_MAX_QUEUE_SIZE}); using {max_queue_size}"
        ));
        max_export_batch_size = max_queue_size;
    }
    Ok(BatchConfig::default()
        .with_max_queue_size(max_queue_size)
        .with_scheduled_delay(scheduled_delay)
        .with_max_export_batch_size(max_export_batch_size)
        .with_max_export_timeout(export_timeout))
}

fn resolve_limits(r: &mut Reader<'_>) -> Limits {
    let count = "a non-negative integer";
    let parse = |v: &str| v.parse::<u32>().ok();
    let limit = |r: &mut Reader<'_>, names: &[&str], default: u32| {
        r.parse_first(names, count, &default.to_string(), parse)
            .unwrap_or(default)
    };
    Limits {
        attributes_per_span: limit(
            r,
            &[OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_COUNT_LIMIT],
            OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT_DEFAULT,
        ),
        events_per_span: limit(
            r,
            &[OTEL_SPAN_EVENT_COUNT_LIMIT],
            OTEL_SPAN_EVENT_COUNT_LIMIT_DEFAULT,
        ),
        links_per_span: limit(
            r,
            &[OTEL_SPAN_LINK_COUNT_LIMIT],
            OTEL_SPAN_LINK_COUNT_LIMIT_DEFAULT,
        ),
        attributes_per_event: limit(
            r,
            &[OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_COUNT_LIMIT],
            OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT_DEFAULT,
        ),
        attributes_per_link: limit(
            r,
            &[OTEL_LINK_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_COUNT_LIMIT],
            OTEL_LINK_ATTRIBUTE_COUNT_LIMIT_DEFAULT,
        ),
    }
}

fn resolve_otlp(settings: &OtlpSettings, r: &mut Reader<'_>) -> Result<OtlpConfig, Error> {
    let protocol = match settings.protocol {
        Some(protocol) => protocol,
        None => r
            .parse_first(
                &[
                    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
                    OTEL_EXPORTER_OTLP_PROTOCOL,
                ],
                "grpc, http/protobuf or http/json",
                Protocol::default_for_build().as_str(),
                Protocol::parse,
            )
            .unwrap_or_else(Protocol::default_for_build),
    };
    let insecure = match settings.insecure {
        Some(insecure) => insecure,
        None => r
            .parse_first(
                &[
                    OTEL_EXPORTER_OTLP_TRACES_INSECURE,
                    OTEL_EXPORTER_OTLP_INSECURE,
                ],
                "true or false",
                "false",
                parse_bool,
            )
            .unwrap_or(OTEL_EXPORTER_OTLP_INSECURE_DEFAULT),
    };
    let endpoint = resolve_endpoint(settings, Signal::Traces, protocol, insecure, r)?;
    #[cfg(feature = "otlp-logs")]
    let logs_endpoint = match r.raw(OTEL_LOGS_EXPORTER, "otlp") {
        Some(value) if value.eq_ignore_ascii_case("none") => None,
        Some(value) if !value.eq_ignore_ascii_case("otlp") => {
            let value = value.to_owned();
            r.warnings.push(format!(
                "{OTEL_LOGS_EXPORTER}={value:?} is not supported: expected otlp or none; using otlp"
            ));
            Some(resolve_endpoint(
                settings,
                Signal::Logs,
                protocol,
                insecure,
                r,
            )?)
        }
        _ => Some(resolve_endpoint(
            settings,
            Signal::Logs,
            protocol,
            insecure,
            r,
        )?),
    };

    let mut headers = r
        .env
        .get(OTEL_EXPORTER_OTLP_TRACES_HEADERS)
        .map(|value| (OTEL_EXPORTER_OTLP_TRACES_HEADERS, value))
        .or_else(|| {
            r.env
                .get(OTEL_EXPORTER_OTLP_HEADERS)
                .map(|value| (OTEL_EXPORTER_OTLP_HEADERS, value))
        })
        .and_then(|(name, value)| {
            let parsed = value
                .ok()
                .and_then(parse_key_values)
                .filter(|headers| headers.iter().all(|(k, v)| header_problem(k, v).is_none()));
            if parsed.is_none() {
                r.warnings.push(format!(
                    "{name} is invalid (the value is not shown: it may hold secrets): expected \
                     `name1=value1,name2=value2` with valid header names and percent-encoded \
                     values; sending no headers from it"
                ));
            }
            parsed
        })
        .unwrap_or_default();
    for (name, value) in &settings.headers {
        if let Some(reason) = header_problem(name, value) {
            return Err(Error::InvalidHeader {
                name: name.clone(),
                reason,
            });
        }
        headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        headers.push((name.clone(), value.clone()));
    }

    let timeout = match settings.timeout {
        Some(timeout) if timeout.is_zero() => {
            return Err(invalid("otlp_timeout", "must be more than zero"))
        }
        Some(timeout) => timeout,
        None => r
            .parse_first(
                &[
                    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
                    OTEL_EXPORTER_OTLP_TIMEOUT,
                ],
                "a positive number of milliseconds",
                "10000",
                parse_millis,
            )
            .unwrap_or(OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT),
    };
    let compression = match settings.compression {
        Some(compression) => compression,
        None => r
            .parse_first(
                &[
                    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
                    OTEL_EXPORTER_OTLP_COMPRESSION,
                ],
                "gzip or none",
                OTEL_EXPORTER_OTLP_COMPRESSION_DEFAULT,
                |v| match v.to_ascii_lowercase().as_str() {
                    "gzip" => Some(Compression::Gzip),
                    "none" => Some(Compression::None),
                    _ => None,
                },
            )
            .unwrap_or(Compression::None),
    };
    let mut path = |builder: &Option<PathBuf>, names: [&str; 2]| {
        builder.clone().or_else(|| {
            names
                .iter()
                .find_map(|name| r.raw(name, "none").map(PathBuf::from))
        })
    };
    let certificate = path(
        &settings.certificate,
        [
            OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
            OTEL_EXPORTER_OTLP_CERTIFICATE,
        ],
    );
    let client_key = path(
        &settings.client_key,
        [
            OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY,
            OTEL_EXPORTER_OTLP_CLIENT_KEY,
        ],
    );
    let client_certificate = path(
        &settings.client_certificate,
        [
            OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
            OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
        ],
    );
    Ok(OtlpConfig {
        protocol,
        endpoint,
        #[cfg(feature = "otlp-logs")]
        logs_endpoint,
        headers,
        timeout,
        compression,
        certificate,
        client_key,
        client_certificate,
    })
}

/// Why a header cannot be sent, if it cannot (RFC 9110 token name, visible ASCII value).
fn header_problem(name: &str, value: &str) -> Option<&'static str> {
    let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    if name.is_empty() || !name.bytes().all(token) {
        return Some("a header name is letters, digits and !#$%&'*+-.^_`|~");
    }
    if !value
        .bytes()
        .all(|c| c == b'\t' || (b' '..0x7f).contains(&c))
    {
        return Some("a header value is printable ASCII (percent-encode the rest in the environment variable)");
    }
    None
}

/// The signal an OTLP endpoint is for: each has its own variable and HTTP path, and the same
/// rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    Traces,
    #[cfg_attr(not(feature = "otlp-logs"), allow(dead_code))]
    Logs,
}

impl Signal {
    /// The signal's own endpoint variable, used as it is.
    fn endpoint_variable(self) -> &'static str {
        match self {
            Signal::Traces => OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
            Signal::Logs => OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
        }
    }

    /// What is appended to the generic endpoint for HTTP.
    fn path(self) -> &'static str {
        match self {
            Signal::Traces => OTEL_EXPORTER_OTLP_TRACES_PATH,
            Signal::Logs => OTEL_EXPORTER_OTLP_LOGS_PATH,
        }
    }
}

/// Where a signal is sent, by the specification's rules: the signal-specific endpoint is used
/// as it is (`/` added when it has no path); `/v1/traces` is appended to the generic one for
/// HTTP; gRPC endpoints are never given a path; a gRPC endpoint without a scheme gets
/// `http://` when insecure, else `https://`.
fn resolve_endpoint(
    settings: &OtlpSettings,
    signal: Signal,
    protocol: Protocol,
    insecure: bool,
    r: &mut Reader<'_>,
) -> Result<String, Error> {
    let path = signal.path();
    let builder_endpoint = match signal {
        Signal::Traces => settings.traces_endpoint.as_ref(),
        Signal::Logs => None,
    };
    if let Some(endpoint) = builder_endpoint {
        return finish_endpoint(endpoint, true, protocol, insecure, path).map_err(|reason| {
            Error::InvalidEndpoint {
                endpoint: endpoint.clone(),
                source_name: "otlp_traces_endpoint",
                reason,
            }
        });
    }
    if let Some(endpoint) = &settings.endpoint {
        return finish_endpoint(endpoint, false, protocol, insecure, path).map_err(|reason| {
            Error::InvalidEndpoint {
                endpoint: endpoint.clone(),
                source_name: "otlp_endpoint",
                reason,
            }
        });
    }
    let default = if protocol.is_http() {
        OTEL_EXPORTER_OTLP_ENDPOINT_HTTP_DEFAULT
    } else {
        OTEL_EXPORTER_OTLP_ENDPOINT_GRPC_DEFAULT
    };
    let candidates = [
        (signal.endpoint_variable(), true),
        (OTEL_EXPORTER_OTLP_ENDPOINT, false),
    ];
    for (name, as_is) in candidates {
        let Some(value) = r.raw(name, default) else {
            continue;
        };
        let value = value.to_owned();
        match finish_endpoint(&value, as_is, protocol, insecure, path) {
            Ok(endpoint) => return Ok(endpoint),
            Err(reason) => r.warnings.push(format!(
                "{name}={value:?} is invalid: {reason}; ignoring it"
            )),
        }
    }
    finish_endpoint(default, false, protocol, insecure, path).map_err(|reason| {
        Error::InvalidEndpoint {
            endpoint: default.to_owned(),
            source_name: "the default",
            reason,
        }
    })
}

fn finish_endpoint(
    endpoint: &str,
    as_is: bool,
    protocol: Protocol,
    insecure: bool,
    path: &str,
) -> Result<String, String> {
    let endpoint = endpoint.trim();
    let scheme_end = endpoint
        .find("://")
        .filter(|at| !endpoint[..*at].contains(['/', '?', '#']));
    let endpoint = match scheme_end {
        Some(at) => {
            let scheme = endpoint[..at].to_ascii_lowercase();
            if scheme != "http" && scheme != "https" {
                return Err(format!("the scheme must be http or https, not {scheme:?}"));
            }
            endpoint.to_owned()
        }
        None if protocol.is_http() => {
            return Err("the URL has no scheme: start it with http:// or https://".into())
        }
        None if insecure => format!("http://{endpoint}"),
        None => format!("https://{endpoint}"),
    };
    let after_scheme = &endpoint[endpoint.find("://").map_or(0, |at| at + 3)..];
    let path_at = after_scheme.find(['/', '?', '#']);
    let authority = &after_scheme[..path_at.unwrap_or(after_scheme.len())];
    if authority.is_empty() || authority.contains(char::is_whitespace) {
        return Err("the URL has no host".into());
    }
    if !protocol.is_http() {
        return Ok(endpoint);
    }
    let has_path = path_at.is_some_and(|at| after_scheme[at..].starts_with('/'));
    if as_is {
        if has_path {
            Ok(endpoint)
        } else {
            let (base, rest) =
                endpoint.split_at(endpoint.len() - after_scheme.len() + authority.len());
            Ok(format!("{base}/{rest}"))
        }
    } else {
        Ok(format!("{}{path}", endpoint.trim_end_matches('/')))
    }
}

#[cfg(test)]
mod tests {
    //! The specification's rules, one table per variable. The environment is a map given to
    //! `resolve`: the process environment is never read or changed, so these run in parallel.

    use super::*;

    /// Variables of a table row.
    type Vars = &'static [(&'static str, &'static str)];

    fn env(vars: &[(&str, &str)]) -> Env {
        Env::from_vars(vars.iter().copied())
    }

    fn resolve_env(vars: &[(&str, &str)]) -> Resolved {
        resolve(&Settings::default(), &env(vars)).expect("an environment alone never fails")
    }

    fn otlp_env(vars: &[(&str, &str)]) -> (OtlpConfig, Vec<String>) {
        let resolved = resolve_env(vars);
        (
            resolved.config.otlp.expect("otlp is the default exporter"),
            resolved.warnings,
        )
    }

    /// The value a resource attribute ends with (later entries win).
    fn attribute(resource: &[KeyValue], key: &str) -> Option<String> {
        resource
            .iter()
            .rev()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    }

    fn assert_warned(warnings: &[String], parts: &[&str]) {
        assert!(
            warnings
                .iter()
                .any(|w| parts.iter().all(|part| w.contains(part))),
            "no warning containing {parts:?} in {warnings:#?}"
        );
    }

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
        assert_eq!(otlp.certificate, None);
        assert_eq!(otlp.client_key, None);
        assert_eq!(otlp.client_certificate, None);
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
                assert_warned(
                    &warnings,
                    &[OTEL_SDK_DISABLED, &format!("{value:?}"), "default"],
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
    fn empty_values_are_unset() {
        let Resolved { config, warnings } = resolve_env(&[
            (OTEL_TRACES_EXPORTER, ""),
            (OTEL_TRACES_SAMPLER, "  "),
            (OTEL_EXPORTER_OTLP_ENDPOINT, ""),
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.exporters, [ExporterSlot::Otlp]);
        assert_eq!(config.sampler, Some(SamplerSpec::ParentBasedAlwaysOn));
        assert_eq!(
            config.otlp.unwrap().endpoint,
            "http://localhost:4318/v1/traces"
        );
    }

    #[test]
    fn non_utf8_values_are_reported_and_ignored() {
        let env = Env::default().with_non_utf8(OTEL_SERVICE_NAME);
        let resolved = resolve(&Settings::default(), &env).unwrap();
        assert_warned(&resolved.warnings, &[OTEL_SERVICE_NAME, "UTF-8"]);
        assert_eq!(attribute(&resolved.config.resource, SERVICE_NAME), None);
    }

    #[test]
    fn service_name_precedence() {
        // (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, builder) -> service.name
        type Row = (
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
        );
        let table: [Row; 5] = [
            (None, None, None, None),
            (
                Some("service.name=from-attributes"),
                None,
                None,
                Some("from-attributes"),
            ),
            (
                Some("service.name=from-attributes"),
                Some("from-variable"),
                None,
                Some("from-variable"),
            ),
            (
                None,
                Some("from-variable"),
                Some("from-builder"),
                Some("from-builder"),
            ),
            (Some("service.name=a"), Some("b"), Some("c"), Some("c")),
        ];
        for (attributes, name, builder, expected) in table {
            let mut vars = Vec::new();
            if let Some(attributes) = attributes {
                vars.push((OTEL_RESOURCE_ATTRIBUTES, attributes));
            }
            if let Some(name) = name {
                vars.push((OTEL_SERVICE_NAME, name));
            }
            let settings = Settings {
                service_name: builder.map(str::to_owned),
                ..Settings::default()
            };
            let config = resolve(&settings, &env(&vars)).unwrap().config;
            assert_eq!(
                attribute(&config.resource, SERVICE_NAME).as_deref(),
                expected,
                "{attributes:?} {name:?} {builder:?}"
            );
        }
    }

    #[test]
    fn resource_attributes() {
        let settings = Settings {
            service_version: Some("1.2.3".into()),
            deployment_environment: Some("production".into()),
            resource_attributes: vec![KeyValue::new("team", "builder")],
            ..Settings::default()
        };
        let vars = [(
            OTEL_RESOURCE_ATTRIBUTES,
            "team=env, region = eu-west%2F1 ,note=a%20b%3Dc,deployment.environment.name=staging",
        )];
        let config = resolve(&settings, &env(&vars)).unwrap().config;
        let get = |key| attribute(&config.resource, key);
        assert_eq!(
            get("team").as_deref(),
            Some("builder"),
            "the builder beats the variable"
        );
        assert_eq!(
            get("region").as_deref(),
            Some("eu-west/1"),
            "percent-decoded, trimmed"
        );
        assert_eq!(get("note").as_deref(), Some("a b=c"));
        assert_eq!(get(SERVICE_VERSION).as_deref(), Some("1.2.3"));
        assert_eq!(
            get(DEPLOYMENT_ENVIRONMENT_NAME).as_deref(),
            Some("production")
        );

        // Any invalid entry discards the whole value, as the specification asks.
        for invalid in ["novalue", "=v", "k=%zz", "ok=1,bad", "k=%C3"] {
            let Resolved { config, warnings } = resolve_env(&[(OTEL_RESOURCE_ATTRIBUTES, invalid)]);
            assert!(config.resource.is_empty(), "{invalid}");
            assert_warned(
                &warnings,
                &[OTEL_RESOURCE_ATTRIBUTES, &format!("{invalid:?}")],
            );
        }
    }

    #[test]
    fn traces_exporter() {
        use ExporterSlot::*;
        let table: &[(&str, &[ExporterSlot], bool)] = &[
            ("otlp", &[Otlp], false),
            ("console", &[Console], false),
            ("CONSOLE", &[Console], false),
            ("logging", &[Console], false),
            ("none", &[], false),
            ("otlp,console", &[Otlp, Console], false),
            (" console , otlp ", &[Console, Otlp], false),
            ("otlp,otlp", &[Otlp], false),
            ("zipkin", &[Otlp], true),
            ("zipkin,console", &[Console], true),
            ("console,none", &[], true),
        ];
        for (value, expected, warns) in table {
            let Resolved { config, warnings } = resolve_env(&[(OTEL_TRACES_EXPORTER, value)]);
            assert_eq!(config.exporters, *expected, "{value}");
            assert_eq!(!warnings.is_empty(), *warns, "{value}: {warnings:?}");
            assert_eq!(config.otlp.is_some(), expected.contains(&Otlp), "{value}");
        }
        let settings = Settings {
            exporters: Some(vec![Console, Custom(0)]),
            ..Settings::default()
        };
        let config = resolve(&settings, &env(&[(OTEL_TRACES_EXPORTER, "otlp")]))
            .unwrap()
            .config;
        assert_eq!(
            config.exporters,
            [Console, Custom(0)],
            "the builder beats the variable"
        );
    }

    #[test]
    fn otlp_variables_are_read_only_for_the_otlp_exporter() {
        let Resolved { config, warnings } = resolve_env(&[
            (OTEL_TRACES_EXPORTER, "console"),
            (OTEL_EXPORTER_OTLP_TIMEOUT, "soon"),
        ]);
        assert!(config.otlp.is_none());
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn propagators() {
        use PropagatorSlot::*;
        let table: &[(&str, &[PropagatorSlot], bool)] = &[
            ("tracecontext", &[TraceContext], false),
            ("baggage,tracecontext", &[Baggage, TraceContext], false),
            ("b3", &[B3], false),
            ("b3multi", &[B3Multi], false),
            (
                "tracecontext,baggage,b3,b3multi",
                &[TraceContext, Baggage, B3, B3Multi],
                false,
            ),
            ("TraceContext, B3", &[TraceContext, B3], false),
            ("none", &[], false),
            ("xray,baggage", &[Baggage], true),
            ("ottrace", &[], true),
            ("b3,none", &[], true),
        ];
        for (value, expected, warns) in table {
            let Resolved { config, warnings } = resolve_env(&[(OTEL_PROPAGATORS, value)]);
            assert_eq!(config.propagators, *expected, "{value}");
            assert_eq!(!warnings.is_empty(), *warns, "{value}: {warnings:?}");
        }
        let settings = Settings {
            propagators: Some(vec![B3, Custom(0)]),
            ..Settings::default()
        };
        let config = resolve(&settings, &env(&[(OTEL_PROPAGATORS, "baggage")]))
            .unwrap()
            .config;
        assert_eq!(config.propagators, [B3, Custom(0)]);
    }

    #[test]
    fn sampler() {
        use SamplerSpec::*;
        let table: &[(&str, Option<&str>, SamplerSpec, bool)] = &[
            ("always_on", None, AlwaysOn, false),
            ("always_off", None, AlwaysOff, false),
            ("ALWAYS_OFF", None, AlwaysOff, false),
            ("traceidratio", Some("0.25"), TraceIdRatio(0.25), false),
            ("traceidratio", None, TraceIdRatio(1.0), false),
            ("traceidratio", Some("1.5"), TraceIdRatio(1.0), true),
            ("traceidratio", Some("-0.1"), TraceIdRatio(1.0), true),
            ("traceidratio", Some("half"), TraceIdRatio(1.0), true),
            ("parentbased_always_on", None, ParentBasedAlwaysOn, false),
            ("parentbased_always_off", None, ParentBasedAlwaysOff, false),
            (
                "parentbased_traceidratio",
                Some("0"),
                ParentBasedTraceIdRatio(0.0),
                false,
            ),
            (
                "parentbased_traceidratio",
                Some("1"),
                ParentBasedTraceIdRatio(1.0),
                false,
            ),
            // The argument of a sampler that takes none is ignored.
            ("always_on", Some("0.5"), AlwaysOn, false),
            ("jaeger_remote", None, ParentBasedAlwaysOn, true),
            ("sometimes", None, ParentBasedAlwaysOn, true),
        ];
        for (name, arg, expected, warns) in table {
            let mut vars = vec![(OTEL_TRACES_SAMPLER, *name)];
            if let Some(arg) = arg {
                vars.push((OTEL_TRACES_SAMPLER_ARG, arg));
            }
            let Resolved { config, warnings } = resolve_env(&vars);
            assert_eq!(config.sampler, Some(*expected), "{name} {arg:?}");
            assert_eq!(!warnings.is_empty(), *warns, "{name} {arg:?}: {warnings:?}");
        }
        let resolved = resolve_env(&[
            (OTEL_TRACES_SAMPLER, "traceidratio"),
            (OTEL_TRACES_SAMPLER_ARG, "2"),
        ]);
        assert_warned(
            &resolved.warnings,
            &[OTEL_TRACES_SAMPLER_ARG, "\"2\"", "1.0"],
        );
        let settings = Settings {
            sampler_set: true,
            ..Settings::default()
        };
        let config = resolve(&settings, &env(&[(OTEL_TRACES_SAMPLER, "always_off")]))
            .unwrap()
            .config;
        assert_eq!(config.sampler, None, "the builder's sampler is used");
    }

    #[test]
    fn batch_span_processor() {
        let ms = Duration::from_millis;
        // (variable, value, expected config, warns)
        let d = BatchConfig::default();
        let table = [
            (
                OTEL_BSP_SCHEDULE_DELAY,
                "250",
                BatchConfig {
                    scheduled_delay: ms(250),
                    ..d
                },
                false,
            ),
            (OTEL_BSP_SCHEDULE_DELAY, "0", d, true),
            (OTEL_BSP_SCHEDULE_DELAY, "1s", d, true),
            (
                OTEL_BSP_EXPORT_TIMEOUT,
                "1000",
                BatchConfig {
                    max_export_timeout: ms(1000),
                    ..d
                },
                false,
            ),
            (OTEL_BSP_EXPORT_TIMEOUT, "-5", d, true),
            (
                OTEL_BSP_MAX_QUEUE_SIZE,
                "4096",
                BatchConfig {
                    max_queue_size: 4096,
                    ..d
                },
                false,
            ),
            (OTEL_BSP_MAX_QUEUE_SIZE, "0", d, true),
            (OTEL_BSP_MAX_QUEUE_SIZE, "lots", d, true),
            // A queue smaller than the batch size makes the batch size follow it.
            (
                OTEL_BSP_MAX_QUEUE_SIZE,
                "100",
                BatchConfig {
                    max_queue_size: 100,
                    max_export_batch_size: 100,
                    ..d
                },
                true,
            ),
            (
                OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
                "64",
                BatchConfig {
                    max_export_batch_size: 64,
                    ..d
                },
                false,
            ),
            (
                OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
                "4096",
                BatchConfig {
                    max_export_batch_size: 2048,
                    ..d
                },
                true,
            ),
            (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "0", d, true),
        ];
        for (name, value, expected, warns) in table {
            let Resolved { config, warnings } = resolve_env(&[(name, value)]);
            assert_eq!(config.batch, expected, "{name}={value}");
            assert_eq!(!warnings.is_empty(), warns, "{name}={value}: {warnings:?}");
        }
        let resolved = resolve_env(&[(OTEL_BSP_MAX_QUEUE_SIZE, "lots")]);
        assert_warned(
            &resolved.warnings,
            &[OTEL_BSP_MAX_QUEUE_SIZE, "\"lots\"", "2048"],
        );

        // The builder beats the environment; its mistakes are errors.
        let settings = Settings {
            batch: BatchSettings {
                max_queue_size: Some(10),
                scheduled_delay: Some(ms(1)),
                max_export_batch_size: Some(5),
                export_timeout: Some(ms(2)),
            },
            ..Settings::default()
        };
        let vars = [
            (OTEL_BSP_MAX_QUEUE_SIZE, "1"),
            (OTEL_BSP_SCHEDULE_DELAY, "1"),
            (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "1"),
            (OTEL_BSP_EXPORT_TIMEOUT, "1"),
        ];
        let config = resolve(&settings, &env(&vars)).unwrap().config;
        assert_eq!(
            config.batch,
            BatchConfig {
                max_queue_size: 10,
                scheduled_delay: ms(1),
                max_export_batch_size: 5,
                max_export_timeout: ms(2)
            }
        );
        for batch in [
            BatchSettings {
                max_queue_size: Some(0),
                ..BatchSettings::default()
            },
            BatchSettings {
                scheduled_delay: Some(Duration::ZERO),
                ..BatchSettings::default()
            },
            BatchSettings {
                export_timeout: Some(Duration::ZERO),
                ..BatchSettings::default()
            },
            BatchSettings {
                max_export_batch_size: Some(0),
                ..BatchSettings::default()
            },
            BatchSettings {
                max_queue_size: Some(4),
                max_export_batch_size: Some(8),
                ..BatchSettings::default()
            },
        ] {
            let settings = Settings {
                batch,
                ..Settings::default()
            };
            let error = resolve(&settings, &Env::default()).unwrap_err();
            assert!(matches!(error, Error::InvalidSetting { .. }), "{error}");
        }
    }

    #[test]
    fn limits() {
        let d = Limits::default();
        type Row = (
            &'static [(&'static str, &'static str)],
            Limits,
            Option<usize>,
            bool,
        );
        let table: &[Row] = &[
            (
                &[(OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, "10")],
                Limits {
                    attributes_per_span: 10,
                    ..d
                },
                None,
                false,
            ),
            (
                &[(OTEL_ATTRIBUTE_COUNT_LIMIT, "20")],
                Limits {
                    attributes_per_span: 20,
                    attributes_per_event: 20,
                    attributes_per_link: 20,
                    ..d
                },
                None,
                false,
            ),
            (
                &[
                    (OTEL_ATTRIBUTE_COUNT_LIMIT, "20"),
                    (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, "5"),
                ],
                Limits {
                    attributes_per_span: 5,
                    attributes_per_event: 20,
                    attributes_per_link: 20,
                    ..d
                },
                None,
                false,
            ),
            (
                &[(OTEL_SPAN_EVENT_COUNT_LIMIT, "3")],
                Limits {
                    events_per_span: 3,
                    ..d
                },
                None,
                false,
            ),
            (
                &[(OTEL_SPAN_LINK_COUNT_LIMIT, "0")],
                Limits {
                    links_per_span: 0,
                    ..d
                },
                None,
                false,
            ),
            (
                &[(OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, "7")],
                Limits {
                    attributes_per_event: 7,
                    ..d
                },
                None,
                false,
            ),
            (
                &[(OTEL_LINK_ATTRIBUTE_COUNT_LIMIT, "8")],
                Limits {
                    attributes_per_link: 8,
                    ..d
                },
                None,
                false,
            ),
            (&[(OTEL_SPAN_EVENT_COUNT_LIMIT, "many")], d, None, true),
            (
                &[(OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, "100")],
                d,
                Some(100),
                false,
            ),
            (
                &[(OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, "50")],
                d,
                Some(50),
                false,
            ),
            (
                &[
                    (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, "100"),
                    (OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, "50"),
                ],
                d,
                Some(50),
                false,
            ),
            // An invalid specific variable falls back to the general one.
            (
                &[
                    (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, "100"),
                    (OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, "x"),
                ],
                d,
                Some(100),
                true,
            ),
            (&[(OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, "-1")], d, None, true),
        ];
        for (vars, limits, length, warns) in table {
            let Resolved { config, warnings } = resolve_env(vars);
            assert_eq!(config.limits, *limits, "{vars:?}");
            assert_eq!(config.attribute_value_length_limit, *length, "{vars:?}");
            assert_eq!(!warnings.is_empty(), *warns, "{vars:?}: {warnings:?}");
        }
        let resolved = resolve_env(&[
            (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, "100"),
            (OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, "x"),
        ]);
        assert_warned(
            &resolved.warnings,
            &[
                OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
                "\"x\"",
                OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
            ],
        );
        let settings = Settings {
            limits: Some(Limits {
                events_per_span: 1,
                ..d
            }),
            attribute_value_length_limit: Some(None),
            ..Settings::default()
        };
        let vars = [
            (OTEL_SPAN_EVENT_COUNT_LIMIT, "9"),
            (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, "9"),
        ];
        let config = resolve(&settings, &env(&vars)).unwrap().config;
        assert_eq!(config.limits.events_per_span, 1);
        assert_eq!(
            config.attribute_value_length_limit, None,
            "the builder said: no limit"
        );
    }

    #[test]
    fn otlp_protocol() {
        let table = [
            (
                &[(OTEL_EXPORTER_OTLP_PROTOCOL, "grpc")][..],
                Protocol::Grpc,
                false,
            ),
            (
                &[(OTEL_EXPORTER_OTLP_PROTOCOL, "http/json")][..],
                Protocol::HttpJson,
                false,
            ),
            (
                &[(OTEL_EXPORTER_OTLP_PROTOCOL, "http/protobuf")][..],
                Protocol::HttpProtobuf,
                false,
            ),
            (
                &[
                    (OTEL_EXPORTER_OTLP_PROTOCOL, "grpc"),
                    (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, "http/json"),
                ][..],
                Protocol::HttpJson,
                false,
            ),
            (
                &[(OTEL_EXPORTER_OTLP_PROTOCOL, "http")][..],
                Protocol::HttpProtobuf,
                true,
            ),
            // An invalid signal-specific value falls back to the generic one.
            (
                &[
                    (OTEL_EXPORTER_OTLP_PROTOCOL, "grpc"),
                    (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, "udp"),
                ][..],
                Protocol::Grpc,
                true,
            ),
        ];
        for (vars, expected, warns) in table {
            let (otlp, warnings) = otlp_env(vars);
            assert_eq!(otlp.protocol, expected, "{vars:?}");
            assert_eq!(!warnings.is_empty(), warns, "{vars:?}: {warnings:?}");
        }
        let settings = Settings {
            otlp: OtlpSettings {
                protocol: Some(Protocol::Grpc),
                ..OtlpSettings::default()
            },
            ..Settings::default()
        };
        let config = resolve(
            &settings,
            &env(&[(OTEL_EXPORTER_OTLP_PROTOCOL, "http/json")]),
        )
        .unwrap()
        .config;
        let otlp = config.otlp.unwrap();
        assert_eq!(otlp.protocol, Protocol::Grpc);
        assert_eq!(
            otlp.endpoint, "http://localhost:4317",
            "the gRPC default endpoint"
        );
    }

    #[test]
    #[cfg(feature = "otlp-logs")]
    fn logs_endpoint_follows_the_rules_of_the_traces_endpoint() {
        const G: &str = OTEL_EXPORTER_OTLP_ENDPOINT;
        const L: &str = OTEL_EXPORTER_OTLP_LOGS_ENDPOINT;
        const P: &str = OTEL_EXPORTER_OTLP_PROTOCOL;
        let table: &[(Vars, Option<&str>)] = &[
            (&[], Some("http://localhost:4318/v1/logs")),
            (&[(P, "grpc")], Some("http://localhost:4317")),
            (
                &[(G, "http://collector:4318")],
                Some("http://collector:4318/v1/logs"),
            ),
            (
                &[(G, "https://collector/otlp/")],
                Some("https://collector/otlp/v1/logs"),
            ),
            // The signal's own variable is used as it is, with `/` when it has no path.
            (
                &[(L, "http://logs:9000/ingest"), (G, "http://collector:4318")],
                Some("http://logs:9000/ingest"),
            ),
            (&[(L, "http://logs:9000")], Some("http://logs:9000/")),
            // repro: a scheme-less gRPC endpoint is completed as the traces one is.
            (
                &[(P, "grpc"), (G, "collector:4317")],
                Some("https://collector:4317"),
            ),
            (
                &[
                    (P, "grpc"),
                    (L, "logs:4317"),
                    (OTEL_EXPORTER_OTLP_INSECURE, "true"),
                ],
                Some("http://logs:4317"),
            ),
            (&[(OTEL_LOGS_EXPORTER, "none")], None),
        ];
        for (vars, expected) in table {
            let (otlp, _) = otlp_env(vars);
            assert_eq!(otlp.logs_endpoint.as_deref(), *expected, "{vars:?}");
        }
        let (traces, _) = otlp_env(&[(P, "grpc"), (G, "collector:4317")]);
        assert_eq!(traces.endpoint, "https://collector:4317");
    }

    #[test]
    fn otlp_endpoint_rules() {
        const G: &str = OTEL_EXPORTER_OTLP_ENDPOINT;
        const T: &str = OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
        const P: &str = OTEL_EXPORTER_OTLP_PROTOCOL;
        const I: &str = OTEL_EXPORTER_OTLP_INSECURE;
        const TI: &str = OTEL_EXPORTER_OTLP_TRACES_INSECURE;
        let table: &[(Vars, &str, bool)] = &[
            // HTTP: `/v1/traces` appended to the generic endpoint, whatever its path.
            (
                &[(G, "http://collector:4318")],
                "http://collector:4318/v1/traces",
                false,
            ),
            (
                &[(G, "http://collector:4318/")],
                "http://collector:4318/v1/traces",
                false,
            ),
            (
                &[(G, "https://collector/otlp")],
                "https://collector/otlp/v1/traces",
                false,
            ),
            (
                &[(G, "https://collector/otlp/")],
                "https://collector/otlp/v1/traces",
                false,
            ),
            // ... and never to the signal-specific one, which gets `/` when it has no path.
            (
                &[(T, "http://collector:4318/custom")],
                "http://collector:4318/custom",
                false,
            ),
            (
                &[(T, "http://collector:4318/v1/traces")],
                "http://collector:4318/v1/traces",
                false,
            ),
            (
                &[(T, "http://collector:4318")],
                "http://collector:4318/",
                false,
            ),
            (
                &[(G, "http://a:4318"), (T, "http://b:4318/x")],
                "http://b:4318/x",
                false,
            ),
            // Invalid values are reported and skipped.
            (
                &[(G, "collector:4318")],
                "http://localhost:4318/v1/traces",
                true,
            ),
            (
                &[(G, "ftp://collector")],
                "http://localhost:4318/v1/traces",
                true,
            ),
            (
                &[(T, "http://"), (G, "http://a:4318")],
                "http://a:4318/v1/traces",
                true,
            ),
            // gRPC: endpoints are used as they are, never given a path.
            (&[(P, "grpc")], "http://localhost:4317", false),
            (
                &[(P, "grpc"), (G, "http://collector:4317")],
                "http://collector:4317",
                false,
            ),
            (
                &[(P, "grpc"), (G, "https://collector:4317/")],
                "https://collector:4317/",
                false,
            ),
            (
                &[(P, "grpc"), (T, "http://t:4317"), (G, "http://g:4317")],
                "http://t:4317",
                false,
            ),
            // ... and without a scheme, INSECURE decides between http and https.
            (
                &[(P, "grpc"), (G, "collector:4317")],
                "https://collector:4317",
                false,
            ),
            (
                &[(P, "grpc"), (G, "collector:4317"), (I, "true")],
                "http://collector:4317",
                false,
            ),
            (
                &[
                    (P, "grpc"),
                    (G, "collector:4317"),
                    (I, "true"),
                    (TI, "false"),
                ],
                "https://collector:4317",
                false,
            ),
            (
                &[(P, "grpc"), (G, "collector:4317"), (I, "maybe")],
                "https://collector:4317",
                true,
            ),
            // INSECURE never changes an explicit scheme.
            (
                &[(P, "grpc"), (G, "https://collector:4317"), (I, "true")],
                "https://collector:4317",
                false,
            ),
        ];
        for (vars, expected, warns) in table {
            let (otlp, warnings) = otlp_env(vars);
            assert_eq!(otlp.endpoint, *expected, "{vars:?}");
            assert_eq!(!warnings.is_empty(), *warns, "{vars:?}: {warnings:?}");
        }
        let (_, warnings) = otlp_env(&[(G, "collector:4318")]);
        assert_warned(&warnings, &[G, "\"collector:4318\"", "http://"]);
    }

    #[test]
    fn otlp_endpoint_from_the_builder() {
        let vars = [
            (
                OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
                "http://env-traces:4318/x",
            ),
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://env:4318"),
        ];
        let with = |endpoint: Option<&str>, traces: Option<&str>| {
            let settings = Settings {
                otlp: OtlpSettings {
                    endpoint: endpoint.map(str::to_owned),
                    traces_endpoint: traces.map(str::to_owned),
                    ..OtlpSettings::default()
                },
                ..Settings::default()
            };
            resolve(&settings, &env(&vars)).map(|r| r.config.otlp.unwrap().endpoint)
        };
        assert_eq!(
            with(Some("http://b:4318"), None).unwrap(),
            "http://b:4318/v1/traces"
        );
        assert_eq!(
            with(None, Some("http://b:4318/in")).unwrap(),
            "http://b:4318/in"
        );
        assert_eq!(
            with(Some("http://a:1"), Some("http://b:2/t")).unwrap(),
            "http://b:2/t"
        );
        for bad in [
            "ftp://collector",
            "collector:4318",
            "http://",
            "http:// space",
        ] {
            match with(Some(bad), None) {
                Err(Error::InvalidEndpoint {
                    endpoint,
                    source_name,
                    ..
                }) => {
                    assert_eq!(endpoint, bad);
                    assert_eq!(source_name, "otlp_endpoint");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn otlp_headers() {
        const G: &str = OTEL_EXPORTER_OTLP_HEADERS;
        const T: &str = OTEL_EXPORTER_OTLP_TRACES_HEADERS;
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let table: &[(Vars, Vars, bool)] = &[
            (&[(G, "api-key=secret")], &[("api-key", "secret")], false),
            (
                &[(G, "a=1, b = x%20y ,c=p%3Dq")],
                &[("a", "1"), ("b", "x y"), ("c", "p=q")],
                false,
            ),
            // The signal-specific variable replaces the generic one.
            (&[(G, "a=1"), (T, "b=2")], &[("b", "2")], false),
            (&[(G, "novalue")], &[], true),
            (&[(G, "bad name=1")], &[], true),
            (&[(G, "a=%0A")], &[], true),
        ];
        for (vars, expected, warns) in table {
            let (otlp, warnings) = otlp_env(vars);
            assert_eq!(otlp.headers, pairs(expected), "{vars:?}");
            assert_eq!(!warnings.is_empty(), *warns, "{vars:?}: {warnings:?}");
        }
        // Nor is a valid one, in the configuration's debug output.
        let (otlp, _) = otlp_env(&[(G, "authorization=Bearer%20hunter2")]);
        assert!(!format!("{otlp:?}").contains("hunter2"));
        // An invalid value is reported without showing it: it may be a secret.
        let (_, warnings) = otlp_env(&[(G, "authorization=Bearer%20hunter2,oops")]);
        assert_warned(&warnings, &[G, "not shown"]);
        assert!(
            !warnings.iter().any(|w| w.contains("hunter2")),
            "{warnings:?}"
        );

        // Builder headers are added, replacing same-named ones (case-insensitively).
        let settings = Settings {
            otlp: OtlpSettings {
                headers: pairs(&[("API-Key", "from-builder"), ("x-extra", "1")]),
                ..OtlpSettings::default()
            },
            ..Settings::default()
        };
        let config = resolve(&settings, &env(&[(G, "api-key=env,other=2")]))
            .unwrap()
            .config;
        assert_eq!(
            config.otlp.unwrap().headers,
            pairs(&[
                ("other", "2"),
                ("API-Key", "from-builder"),
                ("x-extra", "1")
            ])
        );
        let settings = Settings {
            otlp: OtlpSettings {
                headers: pairs(&[("authorization", "Bearer hunter2\n")]),
                ..OtlpSettings::default()
            },
            ..Settings::default()
        };
        let error = resolve(&settings, &Env::default()).unwrap_err();
        assert!(matches!(error, Error::InvalidHeader { .. }));
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn otlp_timeout_compression_and_certificates() {
        let ms = Duration::from_millis;
        let table: &[(Vars, Duration, Compression, bool)] = &[
            (
                &[(OTEL_EXPORTER_OTLP_TIMEOUT, "2500")],
                ms(2500),
                Compression::None,
                false,
            ),
            (
                &[
                    (OTEL_EXPORTER_OTLP_TIMEOUT, "2500"),
                    (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, "700"),
                ],
                ms(700),
                Compression::None,
                false,
            ),
            (
                &[(OTEL_EXPORTER_OTLP_TIMEOUT, "10s")],
                ms(10_000),
                Compression::None,
                true,
            ),
            (
                &[(OTEL_EXPORTER_OTLP_TIMEOUT, "0")],
                ms(10_000),
                Compression::None,
                true,
            ),
            (
                &[(OTEL_EXPORTER_OTLP_COMPRESSION, "gzip")],
                ms(10_000),
                Compression::Gzip,
                false,
            ),
            (
                &[(OTEL_EXPORTER_OTLP_COMPRESSION, "GZIP")],
                ms(10_000),
                Compression::Gzip,
                false,
            ),
            (
                &[
                    (OTEL_EXPORTER_OTLP_COMPRESSION, "gzip"),
                    (OTEL_EXPORTER_OTLP_TRACES_COMPRESSION, "none"),
                ],
                ms(10_000),
                Compression::None,
                false,
            ),
            (
                &[(OTEL_EXPORTER_OTLP_COMPRESSION, "zstd")],
                ms(10_000),
                Compression::None,
                true,
            ),
        ];
        for (vars, timeout, compression, warns) in table {
            let (otlp, warnings) = otlp_env(vars);
            assert_eq!(otlp.timeout, *timeout, "{vars:?}");
            assert_eq!(otlp.compression, *compression, "{vars:?}");
            assert_eq!(!warnings.is_empty(), *warns, "{vars:?}: {warnings:?}");
        }

        let (otlp, _) = otlp_env(&[
            (OTEL_EXPORTER_OTLP_CERTIFICATE, "/generic/ca.pem"),
            (OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, "/traces/ca.pem"),
            (OTEL_EXPORTER_OTLP_CLIENT_KEY, "/generic/key.pem"),
            (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, "/generic/cert.pem"),
            (
                OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
                "/traces/cert.pem",
            ),
        ]);
        assert_eq!(otlp.certificate, Some(PathBuf::from("/traces/ca.pem")));
        assert_eq!(otlp.client_key, Some(PathBuf::from("/generic/key.pem")));
        assert_eq!(
            otlp.client_certificate,
            Some(PathBuf::from("/traces/cert.pem"))
        );
        let (otlp, _) = otlp_env(&[(OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY, "/traces/key.pem")]);
        assert_eq!(otlp.client_key, Some(PathBuf::from("/traces/key.pem")));

        let settings = Settings {
            otlp: OtlpSettings {
                timeout: Some(ms(5)),
                compression: Some(Compression::None),
                certificate: Some("/builder/ca.pem".into()),
                client_key: Some("/builder/key.pem".into()),
                client_certificate: Some("/builder/cert.pem".into()),
                ..OtlpSettings::default()
            },
            ..Settings::default()
        };
        let vars = [
            (OTEL_EXPORTER_OTLP_TIMEOUT, "100"),
            (OTEL_EXPORTER_OTLP_COMPRESSION, "gzip"),
            (OTEL_EXPORTER_OTLP_CERTIFICATE, "/env/ca.pem"),
            (OTEL_EXPORTER_OTLP_CLIENT_KEY, "/env/key.pem"),
            (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, "/env/cert.pem"),
        ];
        let otlp = resolve(&settings, &env(&vars))
            .unwrap()
            .config
            .otlp
            .unwrap();
        assert_eq!(otlp.timeout, ms(5));
        assert_eq!(otlp.compression, Compression::None);
        assert_eq!(otlp.certificate, Some(PathBuf::from("/builder/ca.pem")));
        assert_eq!(otlp.client_key, Some(PathBuf::from("/builder/key.pem")));
        assert_eq!(
            otlp.client_certificate,
            Some(PathBuf::from("/builder/cert.pem"))
        );

        let settings = Settings {
            otlp: OtlpSettings {
                timeout: Some(Duration::ZERO),
                ..OtlpSettings::default()
            },
            ..Settings::default()
        };
        assert!(matches!(
            resolve(&settings, &Env::default()),
            Err(Error::InvalidSetting {
                setting: "otlp_timeout",
                ..
            })
        ));
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

    #[test]
    fn key_values_parse_like_the_specification() {
        assert_eq!(
            parse_key_values("a=1,,b=%E2%9C%93"),
            Some(vec![("a".into(), "1".into()), ("b".into(), "✓".into())])
        );
        assert_eq!(parse_key_values(""), Some(vec![]));
        assert_eq!(
            parse_key_values("a=1=2"),
            Some(vec![("a".into(), "1=2".into())])
        );
        assert_eq!(parse_key_values("a=%4"), None);
    }
}
