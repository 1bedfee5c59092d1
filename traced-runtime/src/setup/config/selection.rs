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
    let mut exporters = Vec::new();
    let mut unsupported = Vec::new();
    let mut none = false;
    let mut named = 0;
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        named += 1;
        match name.to_ascii_lowercase().as_str() {
            "otlp" => exporters.push(ExporterSlot::Otlp),
            // `logging` is the specification's deprecated name of `console`.
            "console" | "logging" => exporters.push(ExporterSlot::Console),
            "none" => none = true,
            _ => unsupported.push(name),
        }
    }
    exporters.dedup();
    // One warning for the variable, whatever is wrong with it, naming what is used.
    let (result, used) = if none {
        (Vec::new(), "no exporter".to_owned())
    } else if exporters.is_empty() {
        (vec![default], format!("the default ({default_name})"))
    } else {
        let names: Vec<&str> = exporters
            .iter()
            .map(|slot| match slot {
                ExporterSlot::Console => "console",
                _ => "otlp",
            })
            .collect();
        let used = names.join(",");
        (exporters, used)
    };
    let mut problems = Vec::new();
    if !unsupported.is_empty() {
        problems.push(format!(
            "{} not supported (expected otlp, console or none)",
            quoted_list(&unsupported)
        ));
    }
    if none && named > 1 {
        problems.push("`none` excludes every other exporter".to_owned());
    }
    if !problems.is_empty() {
        r.warn(
            OTEL_TRACES_EXPORTER,
            format!(
                "{OTEL_TRACES_EXPORTER}={value:?}: {}; using {used} instead",
                problems.join(", ")
            ),
        );
    }
    result
}

pub(super) fn resolve_propagators(r: &mut Reader<'_>) -> Vec<PropagatorSlot> {
    let default = vec![PropagatorSlot::TraceContext, PropagatorSlot::Baggage];
    let Some(value) = r.raw(OTEL_PROPAGATORS, OTEL_PROPAGATORS_DEFAULT) else {
        return default;
    };
    let mut propagators = Vec::new();
    let mut unsupported = Vec::new();
    let mut none = false;
    let mut named = 0;
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        named += 1;
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
                unsupported.push(name);
                continue;
            }
        };
        if !propagators.contains(&slot) {
            propagators.push(slot);
        }
    }
    let (result, used) = if none {
        (Vec::new(), "none".to_owned())
    } else if propagators.is_empty() {
        // Nothing usable is named: the setting is ignored, as the specification asks of an
        // unknown value.
        (default, format!("the default ({OTEL_PROPAGATORS_DEFAULT})"))
    } else {
        let used = propagators
            .iter()
            .map(|slot| match slot {
                PropagatorSlot::TraceContext => "tracecontext",
                PropagatorSlot::Baggage => "baggage",
                PropagatorSlot::B3 => "b3",
                _ => "b3multi",
            })
            .collect::<Vec<_>>()
            .join(",");
        (propagators, used)
    };
    let mut problems = Vec::new();
    if !unsupported.is_empty() {
        problems.push(format!(
            "{} not supported (expected tracecontext, baggage, b3, b3multi or none)",
            quoted_list(&unsupported)
        ));
    }
    if none && named > 1 {
        problems.push("`none` excludes every other propagator".to_owned());
    }
    if !problems.is_empty() {
        r.warn(
            OTEL_PROPAGATORS,
            format!(
                "{OTEL_PROPAGATORS}={value:?}: {}; using {used} instead",
                problems.join(", ")
            ),
        );
    }
    result
}

/// `"a" is` or `"a", "b" are`.
fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("{name:?}")).collect();
    let verb = if names.len() == 1 { "is" } else { "are" };
    format!("{} {verb}", quoted.join(", "))
}

pub(super) fn resolve_sampler(r: &mut Reader<'_>) -> SamplerSpec {
    let default = SamplerSpec::ParentBasedAlwaysOn;
    let Some(value) = r.raw(OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_DEFAULT) else {
        return default;
    };
    let name = value.to_ascii_lowercase();
    let ratio = |r: &mut Reader<'_>| {
        r.parse(
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
            r.warn(OTEL_TRACES_SAMPLER, format!(
                "{OTEL_TRACES_SAMPLER}={value:?} is not supported (expected always_on, always_off, \
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
            ("zipkin,jaeger", &[Otlp], true),
        ];
        for (value, expected, warns) in table {
            let Resolved { config, warnings } = resolve_env(&[(OTEL_TRACES_EXPORTER, value)]);
            assert_eq!(config.exporters, *expected, "{value}");
            // Exactly once, however many names are wrong.
            assert_eq!(warnings.len(), usize::from(*warns), "{value}: {warnings:?}");
            if *warns {
                assert_warned(
                    &warnings,
                    &[OTEL_TRACES_EXPORTER, &format!("{value:?}"), "instead"],
                );
            }
            assert_eq!(config.otlp.is_some(), expected.contains(&Otlp), "{value}");
        }
        // The message names the value and what is used: the default when nothing is usable.
        let warnings = resolve_env(&[(OTEL_TRACES_EXPORTER, "bogus")]).warnings;
        assert_eq!(
            warnings,
            [format!(
                "{OTEL_TRACES_EXPORTER}=\"bogus\": \"bogus\" is not supported (expected otlp, \
                 console or none); using the default (otlp) instead"
            )]
        );
        let warnings = resolve_env(&[(OTEL_TRACES_EXPORTER, "zipkin,console,jaeger")]).warnings;
        assert_warned(
            &warnings,
            &[
                "\"zipkin\", \"jaeger\" are not supported",
                "using console instead",
            ],
        );
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
            // Nothing usable: the default, as for any unknown value.
            ("ottrace", &[TraceContext, Baggage], true),
            ("xray,ottrace", &[TraceContext, Baggage], true),
            ("b3,none", &[], true),
        ];
        for (value, expected, warns) in table {
            let Resolved { config, warnings } = resolve_env(&[(OTEL_PROPAGATORS, value)]);
            assert_eq!(config.propagators, *expected, "{value}");
            assert_eq!(warnings.len(), usize::from(*warns), "{value}: {warnings:?}");
            if *warns {
                assert_warned(
                    &warnings,
                    &[OTEL_PROPAGATORS, &format!("{value:?}"), "instead"],
                );
            }
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
            assert_eq!(
                warnings.len(),
                usize::from(*warns),
                "{name} {arg:?}: {warnings:?}"
            );
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
