//! Errors and panics: status ERROR, one `exception` event per span, `error.type`.

use std::error::Error;
use std::fmt;

use crate::support::spans::{event_attribute, exceptions};
use traced_runtime::opentelemetry::trace::Status;
use traced_runtime::opentelemetry::Value;
use traced_runtime::testing::{attribute, capture};
use traced_runtime::{record_error, traced};

#[derive(Debug)]
struct PaymentError {
    source: std::io::Error,
}
impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("card declined")
    }
}
impl Error for PaymentError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

type AppResult<T> = Result<T, PaymentError>;

fn declined() -> PaymentError {
    PaymentError {
        source: std::io::Error::other("gateway timeout"),
    }
}

#[traced]
fn charge() -> AppResult<u32> {
    Err(declined())
}

#[traced]
fn checkout() -> AppResult<u32> {
    let receipt = charge()?;
    Ok(receipt)
}

#[traced]
fn read_config() -> std::io::Result<String> {
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "config.toml",
    ))
}

#[traced]
fn with_anyhow() -> anyhow::Result<()> {
    let inner: Result<(), PaymentError> = Err(declined());
    anyhow::Context::context(inner, "checkout failed")?;
    Ok(())
}

#[traced]
fn boxed() -> Result<(), Box<dyn Error + Send + Sync>> {
    Err("boxed failure".into())
}

#[traced]
fn boxed_local() -> Result<(), Box<dyn Error>> {
    Err("local failure".into())
}

#[traced]
fn display_only() -> Result<(), String> {
    Err("plain string".to_owned())
}

#[derive(Debug)]
struct DebugOnly;

#[traced]
fn debug_only() -> Result<(), DebugOnly> {
    Err(DebugOnly)
}

#[traced]
fn recorded_by_hand() -> AppResult<()> {
    let error = declined();
    record_error(&error);
    Err(error)
}

#[traced(expected_err)]
fn lookup() -> Result<u32, PaymentError> {
    Err(declined())
}

#[traced]
fn explode(message: &str) {
    panic!("{message}");
}

#[traced]
fn explode_static() {
    panic!("static message");
}

fn string(value: &str) -> Value {
    Value::String(value.to_owned().into())
}

#[test]
fn every_span_the_error_leaves_records_it_once() {
    let (result, spans) = capture(checkout);
    assert!(result.is_err());
    assert_eq!(
        spans.tree(),
        "\
it::errors::checkout ERROR(\"card declined\") error.type=\"it::errors::PaymentError\"
  ! exception exception.type=\"it::errors::PaymentError\" exception.message=\"card declined\"
  it::errors::charge ERROR(\"card declined\") error.type=\"it::errors::PaymentError\"
    ! exception exception.type=\"it::errors::PaymentError\" exception.message=\"card declined\"
"
    );
    let charge = spans.find("it::errors::charge").unwrap();
    let events = exceptions(charge);
    assert_eq!(
        event_attribute(events[0], "exception.stacktrace"),
        Some(&string(
            "it::errors::PaymentError: card declined\nCaused by: gateway timeout"
        ))
    );
}

#[test]
fn result_aliases_and_error_kinds_are_recognised() {
    let (_, spans) = capture(|| {
        read_config().unwrap_err();
        with_anyhow().unwrap_err();
        boxed().unwrap_err();
        boxed_local().unwrap_err();
        display_only().unwrap_err();
        debug_only().unwrap_err();
    });
    let statuses: Vec<(&str, Status)> = spans
        .all()
        .iter()
        .map(|span| (span.name.as_ref(), span.status.clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("it::errors::read_config", Status::error("config.toml")),
            ("it::errors::with_anyhow", Status::error("checkout failed")),
            ("it::errors::boxed", Status::error("boxed failure")),
            ("it::errors::boxed_local", Status::error("local failure")),
            ("it::errors::display_only", Status::error("plain string")),
            ("it::errors::debug_only", Status::error("DebugOnly")),
        ]
    );
    for span in spans.all() {
        assert_eq!(exceptions(span).len(), 1, "{}", span.name);
    }
    assert_eq!(
        attribute(spans.find("it::errors::read_config").unwrap(), "error.type"),
        Some(&string("std::io::error::Error"))
    );
    let anyhow_event = exceptions(spans.find("it::errors::with_anyhow").unwrap())[0];
    assert_eq!(
        event_attribute(anyhow_event, "exception.type"),
        Some(&string("anyhow::Error"))
    );
    let Some(Value::String(stacktrace)) = event_attribute(anyhow_event, "exception.stacktrace")
    else {
        panic!("no stacktrace");
    };
    assert!(
        stacktrace.as_str().contains("checkout failed")
            && stacktrace.as_str().contains("card declined")
            && stacktrace.as_str().contains("gateway timeout"),
        "the anyhow report carries the chain: {stacktrace}"
    );
}

#[test]
fn an_error_recorded_by_hand_is_not_recorded_twice() {
    let (_, spans) = capture(recorded_by_hand);
    let span = &spans.all()[0];
    assert_eq!(exceptions(span).len(), 1);
    assert_eq!(span.status, Status::error("card declined"));
}

#[test]
fn expected_errors_are_not_errors() {
    let (_, spans) = capture(lookup);
    let span = &spans.all()[0];
    assert_eq!(span.status, Status::Ok);
    assert!(exceptions(span).is_empty());
    assert_eq!(attribute(span, "error.type"), None);
}

#[test]
fn a_panic_is_recorded_and_goes_on_unchanged() {
    let (payloads, spans) = capture(|| {
        let dynamic = std::panic::catch_unwind(|| explode("out of stock")).unwrap_err();
        let fixed = std::panic::catch_unwind(explode_static).unwrap_err();
        (
            dynamic.downcast::<String>().map(|s| *s).ok(),
            fixed.downcast::<&str>().map(|s| *s).ok(),
        )
    });
    assert_eq!(
        payloads,
        (Some("out of stock".to_owned()), Some("static message"))
    );
    assert_eq!(
        spans.tree(),
        "\
it::errors::explode ERROR(\"out of stock\") error.type=\"panic\"
  ! exception exception.type=\"panic\" exception.message=\"out of stock\"
it::errors::explode_static ERROR(\"static message\") error.type=\"panic\"
  ! exception exception.type=\"panic\" exception.message=\"static message\"
"
    );
}
