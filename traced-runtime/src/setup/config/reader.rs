//! Reading variables: each invalid value becomes one warning naming the variable, the value
//! and the default used instead.

use super::*;

/// Reads variables, collecting one warning for each invalid one.
pub(super) struct Reader<'a> {
    pub(super) env: &'a Env,
    warnings: Vec<String>,
    /// The variables already reported: each is reported once, however many settings read it
    /// (`OTEL_ATTRIBUTE_COUNT_LIMIT` for three limits, `OTEL_EXPORTER_OTLP_ENDPOINT` for traces
    /// and logs).
    reported: Vec<&'static str>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(env: &'a Env) -> Self {
        Reader {
            env,
            warnings: Vec::new(),
            reported: Vec::new(),
        }
    }

    /// The warnings, each naming its variable, in the order the variables were read.
    pub(super) fn into_warnings(self) -> Vec<String> {
        self.warnings
    }

    /// Reports `variable` with `message` (which names it, the value unless secret, and what
    /// is used instead), unless it was reported already.
    pub(super) fn warn(&mut self, variable: &'static str, message: String) {
        if !self.reported.contains(&variable) {
            self.reported.push(variable);
            self.warnings.push(message);
        }
    }

    /// The value of `name` if set and valid UTF-8; `default` names what is used when it is not.
    pub(super) fn raw(&mut self, name: &'static str, default: &str) -> Option<&'a str> {
        match self.env.get(name)? {
            Ok(value) => Some(value),
            Err(()) => {
                self.warn(
                    name,
                    format!("{name} is not valid UTF-8; using the default ({default}) instead"),
                );
                None
            }
        }
    }

    /// `name` parsed by `parse`; when it does not parse, a warning naming `expected` and the
    /// `default` used instead.
    pub(super) fn parse<T>(
        &mut self,
        name: &'static str,
        expected: &str,
        default: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let value = self.raw(name, default)?;
        let parsed = parse(value);
        if parsed.is_none() {
            self.warn(
                name,
                format!(
                    "{name}={value:?} is invalid: expected {expected}; using {default} instead"
                ),
            );
        }
        parsed
    }

    /// The first of `names` that is set and valid (the more specific first); an invalid one
    /// says it falls back to the next one set, else to `default`.
    pub(super) fn parse_first<T>(
        &mut self,
        names: &[&'static str],
        expected: &str,
        default: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        names.iter().enumerate().find_map(|(i, name)| {
            let fallback = self.fallback(&names[i + 1..], default);
            self.parse(name, expected, &fallback, &parse)
        })
    }

    /// What is used when a variable is invalid: the first of `next` that is set, else
    /// `default`.
    pub(super) fn fallback(&self, next: &[&'static str], default: &str) -> String {
        next.iter()
            .find(|other| self.env.get(other).is_some())
            .map(|other| (*other).to_owned())
            .unwrap_or_else(|| default.to_owned())
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
