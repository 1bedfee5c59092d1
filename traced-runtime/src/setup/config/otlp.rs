//! The OTLP exporter: protocol, endpoint of each signal, headers, timeout, compression, TLS
//! files (`OTEL_EXPORTER_OTLP_{,TRACES_,LOGS_}*`).

use super::reader::{parse_bool, parse_millis, Reader};
use super::*;

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
}
