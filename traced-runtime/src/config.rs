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

use crate::env::*;
use crate::error::Error;

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

/// The values set on the builder; `None` means "not set, ask the environment".
#[derive(Debug, Default)]
pub(crate) struct Settings {
    pub(crate) disabled: Option<bool>,
    pub(crate) service_name: Option<String>,
    pub(crate) service_version: Option<String>,
    pub(crate) deployment_environment: Option<String>,
    pub(crate) resource_attributes: Vec<KeyValue>,
    pub(crate) exporters: Option<Vec<ExporterSlot>>,
    pub(crate) otlp: OtlpSettings,
    /// A sampler was given to the builder: `OTEL_TRACES_SAMPLER` is not consulted.
    pub(crate) sampler_set: bool,
    pub(crate) propagators: Option<Vec<PropagatorSlot>>,
    pub(crate) batch: BatchSettings,
    pub(crate) limits: Option<Limits>,
    pub(crate) attribute_value_length_limit: Option<Option<usize>>,
    pub(crate) shutdown_timeout: Option<Duration>,
}

#[derive(Debug, Default)]
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

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OtlpConfig {
    pub(crate) protocol: Protocol,
    /// The URL requests go to: for HTTP the full `…/v1/traces` URL, for gRPC the server.
    pub(crate) endpoint: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) compression: Compression,
    pub(crate) certificate: Option<PathBuf>,
    pub(crate) client_key: Option<PathBuf>,
    pub(crate) client_certificate: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BatchConfig {
    pub(crate) max_queue_size: usize,
    pub(crate) scheduled_delay: Duration,
    pub(crate) max_export_batch_size: usize,
    pub(crate) export_timeout: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_queue_size: OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT,
            scheduled_delay: OTEL_BSP_SCHEDULE_DELAY_DEFAULT,
            max_export_batch_size: OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
            export_timeout: OTEL_BSP_EXPORT_TIMEOUT_DEFAULT,
        }
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
        None => resolve_exporters(&mut r),
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
            no_color: r.env.is_set(NO_COLOR),
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

pub(crate) const SERVICE_NAME: &str = "service.name";
pub(crate) const SERVICE_VERSION: &str = "service.version";
pub(crate) const DEPLOYMENT_ENVIRONMENT_NAME: &str = "deployment.environment.name";

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

fn resolve_exporters(r: &mut Reader<'_>) -> Vec<ExporterSlot> {
    let Some(value) = r.raw(OTEL_TRACES_EXPORTER, OTEL_TRACES_EXPORTER_DEFAULT) else {
        return vec![ExporterSlot::Otlp];
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
            "{OTEL_TRACES_EXPORTER}={value:?} names no supported exporter; using the default ({OTEL_TRACES_EXPORTER_DEFAULT})"
        ));
        exporters.push(ExporterSlot::Otlp);
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
    Ok(BatchConfig {
        max_queue_size,
        scheduled_delay,
        max_export_batch_size,
        export_timeout,
    })
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
    let endpoint = resolve_endpoint(settings, protocol, insecure, r)?;

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

/// Where spans are sent, by the specification's rules: the signal-specific endpoint is used
/// as it is (`/` added when it has no path); `/v1/traces` is appended to the generic one for
/// HTTP; gRPC endpoints are never given a path; a gRPC endpoint without a scheme gets
/// `http://` when insecure, else `https://`.
fn resolve_endpoint(
    settings: &OtlpSettings,
    protocol: Protocol,
    insecure: bool,
    r: &mut Reader<'_>,
) -> Result<String, Error> {
    if let Some(endpoint) = &settings.traces_endpoint {
        return finish_endpoint(endpoint, true, protocol, insecure).map_err(|reason| {
            Error::InvalidEndpoint {
                endpoint: endpoint.clone(),
                source_name: "otlp_traces_endpoint",
                reason,
            }
        });
    }
    if let Some(endpoint) = &settings.endpoint {
        return finish_endpoint(endpoint, false, protocol, insecure).map_err(|reason| {
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
        (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, true),
        (OTEL_EXPORTER_OTLP_ENDPOINT, false),
    ];
    for (name, as_is) in candidates {
        let Some(value) = r.raw(name, default) else {
            continue;
        };
        let value = value.to_owned();
        match finish_endpoint(&value, as_is, protocol, insecure) {
            Ok(endpoint) => return Ok(endpoint),
            Err(reason) => r.warnings.push(format!(
                "{name}={value:?} is invalid: {reason}; ignoring it"
            )),
        }
    }
    finish_endpoint(default, false, protocol, insecure).map_err(|reason| Error::InvalidEndpoint {
        endpoint: default.to_owned(),
        source_name: "the default",
        reason,
    })
}

fn finish_endpoint(
    endpoint: &str,
    as_is: bool,
    protocol: Protocol,
    insecure: bool,
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
        Ok(format!(
            "{}{OTEL_EXPORTER_OTLP_TRACES_PATH}",
            endpoint.trim_end_matches('/')
        ))
    }
}
