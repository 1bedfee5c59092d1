//! Which exporters, propagators and sampler: `OTEL_TRACES_EXPORTER`, `OTEL_PROPAGATORS`,
//! `OTEL_TRACES_SAMPLER[_ARG]`.

use super::reader::Reader;
use super::*;

pub(super) fn resolve_exporters(r: &mut Reader<'_>, console_by_default: bool) -> Vec<ExporterSlot> {
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

pub(super) fn resolve_propagators(r: &mut Reader<'_>) -> Vec<PropagatorSlot> {
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

pub(super) fn resolve_sampler(r: &mut Reader<'_>) -> SamplerSpec {
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

#[cfg(test)]
mod tests {
    use super::super::table::*;
    use super::*;

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
}
