//! Reading variables: each invalid value becomes one warning naming the variable, the value
//! and the default used instead.

use super::*;

/// Reads variables, collecting a warning for each invalid one.
pub(super) struct Reader<'a> {
    pub(super) env: &'a Env,
    pub(super) warnings: Vec<String>,
}

impl Reader<'_> {
    /// The value of `name` if set and valid UTF-8.
    pub(super) fn raw(&mut self, name: &str, default: &str) -> Option<&str> {
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
    pub(super) fn parse<T>(
        &mut self,
        name: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        self.parse_with_default(name, expected, "the default", parse)
    }

    pub(super) fn parse_with_default<T>(
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
    pub(super) fn parse_first<T>(
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

pub(super) fn parse_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

pub(super) fn parse_millis(value: &str) -> Option<Duration> {
    value
        .parse::<u64>()
        .ok()
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
}

pub(super) fn parse_positive(value: &str) -> Option<usize> {
    value.parse::<usize>().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::super::table::*;
    use super::*;

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
}
