//! The OTLP exporter: protocol, endpoint of each signal, headers, timeout, compression, TLS
//! files (`OTEL_EXPORTER_OTLP_{,TRACES_,LOGS_}*`).

use super::reader::{parse_bool, parse_millis, Reader};
use super::resource::{parse_entries, Entry};
use super::*;
use crate::redact;

pub(super) fn resolve_otlp(
    settings: &OtlpSettings,
    r: &mut Reader<'_>,
) -> Result<OtlpConfig, Error> {
    let protocol = match settings.protocol {
        Some(protocol) => protocol,
        None => r
            .parse_first(
                &[
                    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
                    OTEL_EXPORTER_OTLP_PROTOCOL,
                ],
                Protocol::expected(),
                Protocol::default_for_build().as_str(),
                |value| Protocol::parse(value).filter(|protocol| protocol.is_compiled()),
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
            r.warn(
                OTEL_LOGS_EXPORTER,
                format!(
                    "{OTEL_LOGS_EXPORTER}={value:?} is not supported: expected otlp or none; \
                     using the default (otlp) instead"
                ),
            );
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

    let mut headers = resolve_headers(r);
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
                if cfg!(feature = "gzip") {
                    "gzip or none"
                } else {
                    "none (the `gzip` feature of traced-runtime is off)"
                },
                OTEL_EXPORTER_OTLP_COMPRESSION_DEFAULT,
                |v| match v.to_ascii_lowercase().as_str() {
                    "gzip" if cfg!(feature = "gzip") => Some(Compression::Gzip),
                    "none" => Some(Compression::None),
                    _ => None,
                },
            )
            .unwrap_or(Compression::None),
    };
    let tls = tls_files::resolve(settings, Signal::Traces, r);
    #[cfg(feature = "otlp-logs")]
    let logs_tls = if logs_endpoint.is_some() {
        tls_files::resolve(settings, Signal::Logs, r)
    } else {
        Tls::default()
    };
    Ok(OtlpConfig {
        protocol,
        endpoint,
        #[cfg(feature = "otlp-logs")]
        logs_endpoint,
        headers,
        timeout,
        compression,
        tls,
        #[cfg(feature = "otlp-logs")]
        logs_tls,
    })
}

/// `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, else `OTEL_EXPORTER_OTLP_HEADERS`: the valid entries,
/// and one warning listing the invalid ones by position (and name, when it is valid), never a
/// value: it may be a secret. Python's SDK also keeps the valid entries.
fn resolve_headers(r: &mut Reader<'_>) -> Vec<(String, String)> {
    let Some((name, value)) = [
        OTEL_EXPORTER_OTLP_TRACES_HEADERS,
        OTEL_EXPORTER_OTLP_HEADERS,
    ]
    .into_iter()
    .find_map(|name| r.env.get(name).map(|value| (name, value))) else {
        return Vec::new();
    };
    let Ok(value) = value else {
        r.warn(
            name,
            format!("{name} is not valid UTF-8; sending no headers from it"),
        );
        return Vec::new();
    };
    let mut headers = Vec::new();
    let mut invalid = Vec::new();
    for (position, entry) in parse_entries(value).into_iter().enumerate() {
        let position = position + 1;
        match entry {
            Entry::Valid(key, value) => match header_problem(&key, &value) {
                None => headers.push((key, value)),
                Some(_) if header_problem(&key, "").is_some() => {
                    invalid.push(format!("entry {position}: not a valid header name"));
                }
                Some(_) => invalid.push(format!(
                    "entry {position} ({key}): the value is not printable ASCII once decoded"
                )),
            },
            Entry::NoEquals => invalid.push(format!("entry {position}: no `=`")),
            Entry::EmptyKey => invalid.push(format!("entry {position}: no name before `=`")),
            Entry::BadValue(key) if header_problem(&key, "").is_none() => invalid.push(format!(
                "entry {position} ({key}): the value is not valid percent-encoded UTF-8"
            )),
            Entry::BadValue(_) => {
                invalid.push(format!("entry {position}: not a valid header name"));
            }
        }
    }
    if !invalid.is_empty() {
        let kept = if headers.is_empty() {
            "sending no headers from it".to_owned()
        } else {
            let names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
            format!("sending the valid ones ({})", names.join(", "))
        };
        r.warn(
            name,
            format!(
                "{name} has invalid entries (values are not shown: they may hold secrets): {}; \
                 expected `name1=value1,name2=value2` with header names and percent-encoded \
                 values; {kept}",
                invalid.join("; ")
            ),
        );
    }
    headers
}

/// Why a header cannot be sent, if it cannot (RFC 9110 token name, visible ASCII value).
pub(super) fn header_problem(name: &str, value: &str) -> Option<&'static str> {
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
pub(super) enum Signal {
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
pub(super) fn resolve_endpoint(
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
                endpoint: redact::url(endpoint),
                source_name: "otlp_traces_endpoint",
                reason,
            }
        });
    }
    if let Some(endpoint) = &settings.endpoint {
        return finish_endpoint(endpoint, false, protocol, insecure, path).map_err(|reason| {
            Error::InvalidEndpoint {
                endpoint: redact::url(endpoint),
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
    for (i, (name, as_is)) in candidates.into_iter().enumerate() {
        let Some(value) = r.raw(name, default) else {
            continue;
        };
        match finish_endpoint(value, as_is, protocol, insecure, path) {
            Ok(endpoint) => return Ok(endpoint),
            Err(reason) => {
                let next: Vec<&'static str> = candidates[i + 1..].iter().map(|(n, _)| *n).collect();
                let fallback = r.fallback(&next, &format!("the default ({default})"));
                r.warn(
                    name,
                    format!(
                        "{name}={:?} is invalid: {reason}; using {fallback} instead",
                        redact::url(value)
                    ),
                );
            }
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

pub(super) fn finish_endpoint(
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
    use super::super::table::*;
    use super::*;

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
            // The valid entries of a partly valid value are kept.
            (
                &[(G, "a=1,oops,b=2,c=%zz,bad name=3,d=%0A")],
                &[("a", "1"), ("b", "2")],
                true,
            ),
            (&[(T, "a=1,=2")], &[("a", "1")], true),
        ];
        for (vars, expected, warns) in table {
            let (otlp, warnings) = otlp_env(vars);
            assert_eq!(otlp.headers, pairs(expected), "{vars:?}");
            assert_eq!(
                warnings.len(),
                usize::from(*warns),
                "{vars:?}: {warnings:?}"
            );
        }
        let (_, warnings) = otlp_env(&[(G, "a=1,oops,b=2,c=%zz,bad name=3,d=%0A")]);
        assert_eq!(
            warnings,
            [format!(
                "{G} has invalid entries (values are not shown: they may hold secrets): entry 2: \
                 no `=`; entry 4 (c): the value is not valid percent-encoded UTF-8; entry 5: not \
                 a valid header name; entry 6 (d): the value is not printable ASCII once decoded; \
                 expected `name1=value1,name2=value2` with header names and percent-encoded \
                 values; sending the valid ones (a, b)"
            )]
        );
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

        let (otlp, warnings) = otlp_env(&[
            (OTEL_EXPORTER_OTLP_CERTIFICATE, "/generic/ca.pem"),
            (OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, "/traces/ca.pem"),
            (OTEL_EXPORTER_OTLP_CLIENT_KEY, "/generic/key.pem"),
            (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, "/generic/cert.pem"),
            (
                OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
                "/traces/cert.pem",
            ),
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(ca_path(&otlp.tls), Some("/traces/ca.pem"));
        assert_eq!(
            identity_paths(&otlp.tls),
            Some(("/traces/cert.pem", "/generic/key.pem"))
        );
        let (otlp, _) = otlp_env(&[
            (OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY, "/traces/key.pem"),
            (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, "/generic/cert.pem"),
        ]);
        assert_eq!(
            identity_paths(&otlp.tls),
            Some(("/generic/cert.pem", "/traces/key.pem"))
        );

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
        assert_eq!(ca_path(&otlp.tls), Some("/builder/ca.pem"));
        assert_eq!(
            identity_paths(&otlp.tls),
            Some(("/builder/cert.pem", "/builder/key.pem"))
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
}
