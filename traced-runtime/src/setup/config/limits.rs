//! The batch processor (`OTEL_BSP_*`) and span limits (`OTEL_*_COUNT_LIMIT`).

use super::reader::{parse_millis, parse_positive, Reader};
use super::*;

pub(super) fn resolve_batch(
    settings: &BatchSettings,
    r: &mut Reader<'_>,
) -> Result<BatchConfig, Error> {
    let positive = "a positive integer";
    let millis = "a positive number of milliseconds";
    let max_queue_size = match settings.max_queue_size {
        Some(0) => return Err(invalid("batch_max_queue_size", "must be at least 1")),
        Some(size) => size,
        None => r
            .parse(
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
            .parse(OTEL_BSP_SCHEDULE_DELAY, millis, "5000", parse_millis)
            .unwrap_or(OTEL_BSP_SCHEDULE_DELAY_DEFAULT),
    };
    let export_timeout = match settings.export_timeout {
        Some(timeout) if timeout.is_zero() => {
            return Err(invalid("batch_export_timeout", "must be more than zero"))
        }
        Some(timeout) => timeout,
        None => r
            .parse(OTEL_BSP_EXPORT_TIMEOUT, millis, "30000", parse_millis)
            .unwrap_or(OTEL_BSP_EXPORT_TIMEOUT_DEFAULT),
    };
    let mut max_export_batch_size = match settings.max_export_batch_size {
        Some(0) => return Err(invalid("batch_max_export_batch_size", "must be at least 1")),
        Some(size) => size,
        None => r
            .parse(
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
        r.warn(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, format!(
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

pub(super) fn resolve_limits(r: &mut Reader<'_>) -> Limits {
    let count = "a non-negative integer";
    let parse = |v: &str| v.parse::<u32>().ok();
    let limit = |r: &mut Reader<'_>, names: &[&'static str], default: u32| {
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

#[cfg(test)]
mod tests {
    use super::super::table::*;
    use super::*;

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
}
