//! `log` records carry the ids of the current span through `TraceIdsLogger`, in the lines that
//! env_logger really writes (read back with a regex), checked against the captured spans.
//!
//! The `log` facade has one logger per process, so one is installed for the whole binary: it
//! hands each record to two wrapped env_loggers, one printing key-values (the ids go there)
//! and one printing none, as env_logger does without its `kv` feature (the ids go in the
//! message). Each test finds its own lines by a `test` key-value or word in the message.

use crate::support::logs as logs_support;

use std::sync::{Arc, OnceLock};

use env_logger::Target;
use log::{LevelFilter, Log, Metadata, Record};
use regex::Regex;
use traced_runtime::opentelemetry_sdk::trace::Sampler;
use traced_runtime::testing::{capture, capture_async, capture_with_sampler};
use traced_runtime::{traced, TraceIdsLogger};

use logs_support::{assert_well_formed, hex_ids, journey, journey_ids, span, Buffer};

struct Outputs {
    key_values: Buffer,
    in_message: Buffer,
}

/// Both loggers, behind the one the facade allows.
struct Tee(Vec<Box<dyn Log>>);

impl Log for Tee {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.iter().any(|logger| logger.enabled(metadata))
    }

    fn log(&self, record: &Record<'_>) {
        for logger in &self.0 {
            logger.log(record);
        }
    }

    fn flush(&self) {
        for logger in &self.0 {
            logger.flush();
        }
    }
}

fn env_logger_to(buffer: &Buffer) -> env_logger::Builder {
    let mut builder = env_logger::Builder::new();
    builder
        .filter_level(LevelFilter::Info)
        .write_style(env_logger::WriteStyle::Never)
        .target(Target::Pipe(Box::new(buffer.clone())));
    builder
}

fn outputs() -> &'static Outputs {
    static OUTPUTS: OnceLock<Outputs> = OnceLock::new();
    OUTPUTS.get_or_init(|| {
        let outputs = Outputs {
            key_values: Buffer::default(),
            in_message: Buffer::default(),
        };
        let with_key_values = env_logger_to(&outputs.key_values).build();
        let without_key_values = env_logger_to(&outputs.in_message)
            .format_key_values(env_logger::fmt::hidden_kv_format)
            .build();
        log::set_boxed_logger(Box::new(Tee(vec![
            Box::new(TraceIdsLogger::new(with_key_values)),
            Box::new(TraceIdsLogger::new(without_key_values).in_message()),
        ])))
        .unwrap();
        log::set_max_level(LevelFilter::Info);
        outputs
    })
}

/// One env_logger line: `[<time> <LEVEL> <target>] <message>[ <key>=<value>]*`.
#[derive(Debug, PartialEq)]
struct Line {
    message: String,
    ids: Option<(String, String)>,
}

fn parse(line: &str) -> Line {
    static LINE: OnceLock<Regex> = OnceLock::new();
    static IDS: OnceLock<Regex> = OnceLock::new();
    let line_re = LINE.get_or_init(|| {
        Regex::new(r"^\[(?:\S+ )?(?:INFO|WARN) +it::logs_log\] (?P<rest>.+)$").unwrap()
    });
    let ids_re = IDS
        .get_or_init(|| Regex::new(r" trace_id=([0-9a-f]{32}) span_id=([0-9a-f]{16})$").unwrap());
    let found = line_re
        .captures(line)
        .unwrap_or_else(|| panic!("not an env_logger line: {line:?}"));
    // The message ends where the key-values start: the record's own (`test=`), else the ids.
    let rest = &found["rest"];
    let end = rest
        .find(" test=")
        .or_else(|| rest.find(" trace_id="))
        .unwrap_or(rest.len());
    Line {
        message: rest[..end].to_owned(),
        ids: ids_re
            .captures(line)
            .map(|ids| (ids[1].to_owned(), ids[2].to_owned())),
    }
}

/// The key-value lines of test `test`: the record carries `test=<name>`.
fn key_value_lines(test: &str) -> Vec<Line> {
    outputs()
        .key_values
        .lines_with(&format!(" test={test}"))
        .iter()
        .map(|line| parse(line))
        .collect()
}

/// The lines of test `test` from the logger that prints no key-values: the message starts
/// with `<test>:`.
fn message_lines(test: &str) -> Vec<Line> {
    outputs()
        .in_message
        .lines_with(&format!("] {test}: "))
        .iter()
        .map(|line| parse(line))
        .collect()
}

#[traced("checkout")]
fn checkout(test: &str) {
    log::info!(test; "{test}: checking out");
    charge(test);
    log::info!(test; "{test}: checked out");
}

#[traced("charge")]
fn charge(test: &str) {
    log::warn!(test, amount = 12; "{test}: charging");
}

#[test]
fn key_values_carry_the_ids_of_the_current_span() {
    crate::own_process!(key_values_carry_the_ids_of_the_current_span);
    outputs();
    let test = "kv_sync";
    let ((), spans) = capture(|| checkout(test));
    let (checkout, charge) = (
        hex_ids(span(&spans, "checkout")),
        hex_ids(span(&spans, "charge")),
    );

    assert_eq!(
        key_value_lines(test),
        [
            Line {
                message: format!("{test}: checking out"),
                ids: Some(checkout.clone())
            },
            Line {
                message: format!("{test}: charging"),
                ids: Some(charge.clone())
            },
            Line {
                message: format!("{test}: checked out"),
                ids: Some(checkout.clone())
            },
        ]
    );
    assert_well_formed(&checkout.0, &checkout.1);

    // The record's own key-values come first, then the ids.
    let raw = outputs()
        .key_values
        .lines_with(&format!("{test}: charging"));
    assert!(
        raw[0].ends_with(&format!(
            "{test}: charging test={test} amount=12 trace_id={} span_id={}",
            charge.0, charge.1
        )),
        "{}",
        raw[0]
    );
}

#[test]
fn in_message_mode_appends_the_ids_to_the_message() {
    crate::own_process!(in_message_mode_appends_the_ids_to_the_message);
    outputs();
    let test = "message_sync";
    let ((), spans) = capture(|| checkout(test));
    let charge = hex_ids(span(&spans, "charge"));

    let raw = outputs()
        .in_message
        .lines_with(&format!("{test}: charging"));
    assert_eq!(raw.len(), 1, "{raw:#?}");
    assert!(
        raw[0].ends_with(&format!(
            "] {test}: charging trace_id={} span_id={}",
            charge.0, charge.1
        )),
        "{}",
        raw[0]
    );
    let lines = message_lines(test);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].ids, Some(hex_ids(span(&spans, "checkout"))));
}

#[test]
fn no_ids_outside_any_span() {
    crate::own_process!(no_ids_outside_any_span);
    outputs();
    let test = "no_span";
    log::info!(test; "{test}: not in a span");
    let ((), spans) = capture(|| log::info!(test; "{test}: captured, not in a span"));
    assert!(spans.all().is_empty());

    for lines in [key_value_lines(test), message_lines(test)] {
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines.iter().all(|line| line.ids.is_none()), "{lines:?}");
    }
    let raw = outputs().key_values.contents();
    assert!(
        raw.lines()
            .filter(|line| line.contains("] no_span: "))
            .all(|line| !line.contains("trace_id") && !line.contains("span_id")),
        "{raw}"
    );
}

#[test]
fn no_ids_in_an_unsampled_span() {
    crate::own_process!(no_ids_in_an_unsampled_span);
    outputs();
    let test = "unsampled";
    let ((), spans) = capture_with_sampler(Sampler::AlwaysOff, || checkout(test));
    assert!(spans.all().is_empty());

    for lines in [key_value_lines(test), message_lines(test)] {
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines.iter().all(|line| line.ids.is_none()), "{lines:?}");
    }
}

/// The shared journey, logging each step through `log` as `{test}: {step}`.
fn handle_request(test: &'static str) -> impl std::future::Future<Output = ()> {
    journey(Arc::new(move |step| log::info!(test; "{test}: {step}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_follow_the_span_across_awaits_and_threads() {
    crate::own_process!(ids_follow_the_span_across_awaits_and_threads);
    outputs();
    let test = "async_threads";
    let ((), spans) = capture_async(handle_request(test)).await;
    let expected = journey_ids(&spans);
    for lines in [key_value_lines(test), message_lines(test)] {
        assert_eq!(lines.len(), expected.len(), "{lines:#?}");
        for (line, (step, ids)) in lines.iter().zip(&expected) {
            assert_eq!(line.message, format!("{test}: {step}"));
            assert_eq!(line.ids.as_ref(), Some(ids), "{line:?}");
        }
    }
}
