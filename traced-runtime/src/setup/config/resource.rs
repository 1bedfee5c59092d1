//! `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` and the builder's resource values.

use super::reader::Reader;
use super::*;

pub(super) fn resolve_resource(settings: &Settings, r: &mut Reader<'_>) -> Vec<KeyValue> {
    let mut resource = Vec::new();
    if let Some(value) = r.raw(OTEL_RESOURCE_ATTRIBUTES, "no attributes") {
        // The valid entries are kept and the invalid ones reported, as Python's SDK does (the
        // specification would discard the whole value; one typo would then lose them all).
        let mut invalid = Vec::new();
        for entry in parse_entries(value) {
            match entry {
                Entry::Valid(key, value) => resource.push(KeyValue::new(key, value)),
                Entry::NoEquals => invalid.push("an entry without `=`".to_owned()),
                Entry::EmptyKey => invalid.push("an entry without a key".to_owned()),
                Entry::BadValue(key) => invalid.push(format!(
                    "the value of {key:?} is not valid percent-encoded UTF-8"
                )),
            }
        }
        if !invalid.is_empty() {
            let kept = if resource.is_empty() {
                "using no attributes from it".to_owned()
            } else {
                let keys: Vec<&str> = resource.iter().map(|kv| kv.key.as_str()).collect();
                format!("using the valid ones ({})", keys.join(", "))
            };
            r.warn(
                OTEL_RESOURCE_ATTRIBUTES,
                format!(
                    "{OTEL_RESOURCE_ATTRIBUTES}={value:?} has invalid entries: {}; expected \
                     `key1=value1,key2=value2` with percent-encoded values; {kept} instead",
                    invalid.join(", ")
                ),
            );
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

/// One entry of `key1=value1,key2=value2` (W3C baggage-like, values percent-encoded), the
/// format of `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS`.
#[derive(Debug, PartialEq)]
pub(super) enum Entry {
    /// The key and the decoded value, both trimmed.
    Valid(String, String),
    /// No `=`: the entry is not shown (it may be a secret pasted without its name).
    NoEquals,
    EmptyKey,
    /// The value (not kept: it may be a secret) is not valid percent-encoded UTF-8.
    BadValue(String),
}

/// The entries of `value`, empty ones skipped.
pub(super) fn parse_entries(value: &str) -> Vec<Entry> {
    value
        .split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| {
            let Some((key, value)) = entry.split_once('=') else {
                return Entry::NoEquals;
            };
            let key = key.trim();
            if key.is_empty() {
                return Entry::EmptyKey;
            }
            match percent_decode(value.trim()) {
                Some(value) => Entry::Valid(key.to_owned(), value),
                None => Entry::BadValue(key.to_owned()),
            }
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

        // Invalid entries are reported, once, and the valid ones kept.
        let table: &[(&str, &[(&str, &str)])] = &[
            ("novalue", &[]),
            ("=v", &[]),
            ("k=%zz", &[]),
            ("k=%C3", &[]),
            ("ok=1,bad", &[("ok", "1")]),
            ("a=1,=x,b=%zz,c=3", &[("a", "1"), ("c", "3")]),
        ];
        for (invalid, kept) in table {
            let Resolved { config, warnings } = resolve_env(&[(OTEL_RESOURCE_ATTRIBUTES, invalid)]);
            let got: Vec<(String, String)> = config
                .resource
                .iter()
                .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                .collect();
            let kept: Vec<(String, String)> = kept
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(got, kept, "{invalid}");
            assert_eq!(warnings.len(), 1, "{invalid}: {warnings:?}");
            assert_warned(
                &warnings,
                &[OTEL_RESOURCE_ATTRIBUTES, &format!("{invalid:?}"), "instead"],
            );
        }
        let warnings = resolve_env(&[(OTEL_RESOURCE_ATTRIBUTES, "a=1,=x,b=%zz,c=3")]).warnings;
        assert_warned(
            &warnings,
            &[
                "an entry without a key",
                "\"b\"",
                "using the valid ones (a, c)",
            ],
        );
    }

    #[test]
    fn key_values_parse_like_the_specification() {
        use Entry::*;
        let valid = |k: &str, v: &str| Valid(k.to_owned(), v.to_owned());
        assert_eq!(
            parse_entries("a=1,,b=%E2%9C%93"),
            [valid("a", "1"), valid("b", "✓")]
        );
        assert_eq!(parse_entries(""), []);
        assert_eq!(parse_entries(" , "), []);
        assert_eq!(parse_entries("a=1=2"), [valid("a", "1=2")]);
        assert_eq!(parse_entries(" a = x%20y "), [valid("a", "x y")]);
        assert_eq!(parse_entries("a=%4"), [BadValue("a".into())]);
        assert_eq!(parse_entries("a"), [NoEquals]);
        assert_eq!(parse_entries(" =1"), [EmptyKey]);
    }
}
