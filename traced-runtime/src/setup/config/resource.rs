//! `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` and the builder's resource values.

use super::reader::Reader;
use super::*;

pub(super) fn resolve_resource(settings: &Settings, r: &mut Reader<'_>) -> Vec<KeyValue> {
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

pub(super) fn percent_decode(value: &str) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::super::table::*;
    use super::*;

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
