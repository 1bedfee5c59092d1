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

fn io_error(message: &str) -> std::io::Error {
    std::io::Error::other(message.to_owned())
}

#[traced]
fn records_one_returns_another() -> std::io::Result<()> {
    // "timeout" sorts after "refused": the SDK's ordering of statuses would keep it.
    record_error(&io_error("timeout"));
    Err(io_error("refused"))
}

#[traced]
fn failing_callee() -> std::io::Result<()> {
    Err(io_error("callee failed"))
}

#[traced]
fn records_then_a_callee_fails() -> AppResult<()> {
    let error = declined();
    record_error(&error);
    let _ = failing_callee();
    Err(error)
}

/// Pending on its first poll, ready on the second.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

#[traced]
async fn records_then_resumes_elsewhere() -> AppResult<()> {
    let error = declined();
    record_error(&error);
    YieldOnce(false).await;
    Err(error)
}

/// Polls `future` once on this thread, then to completion on another one.
fn poll_across_threads<F: std::future::Future + Send + 'static>(future: F) -> F::Output
where
    F::Output: Send + 'static,
{
    let mut future = Box::pin(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    std::thread::spawn(move || {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("ready on the second poll"),
        }
    })
    .join()
    .unwrap()
}

fn messages(span: &traced_runtime::opentelemetry_sdk::trace::SpanData) -> Vec<String> {
    exceptions(span)
        .iter()
        .map(|event| {
            event_attribute(event, "exception.message")
                .map(|value| value.as_str().into_owned())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn repro_returning_another_error_than_the_one_recorded_records_it_too() {
    let (_, spans) = capture(records_one_returns_another);
    let span = spans
        .find("it::errors::records_one_returns_another")
        .unwrap();
    assert_eq!(messages(span), ["timeout", "refused"]);
    assert_eq!(span.status, Status::error("refused"));
    assert_eq!(
        attribute(span, "error.type"),
        Some(&string("std::io::error::Error"))
    );
}

#[test]
fn repro_a_callee_failing_in_between_does_not_make_it_twice() {
    let (_, spans) = capture(records_then_a_callee_fails);
    let outer = spans
        .find("it::errors::records_then_a_callee_fails")
        .unwrap();
    assert_eq!(messages(outer), ["card declined"]);
    assert_eq!(outer.status, Status::error("card declined"));
    let callee = spans.find("it::errors::failing_callee").unwrap();
    assert_eq!(messages(callee), ["callee failed"]);
    assert_eq!(callee.parent_span_id, outer.span_context.span_id());
}

#[test]
fn repro_a_task_resuming_on_another_thread_does_not_make_it_twice() {
    let (result, spans) = capture(|| poll_across_threads(records_then_resumes_elsewhere()));
    assert!(result.is_err());
    let span = spans
        .find("it::errors::records_then_resumes_elsewhere")
        .unwrap();
    assert_eq!(messages(span), ["card declined"]);
    assert_eq!(span.status, Status::error("card declined"));
}

#[traced]
fn records_then_succeeds() -> AppResult<()> {
    record_error(&declined());
    Ok(())
}

#[traced]
fn records_twice_by_hand() {
    record_error(&io_error("retry 1"));
    record_error(&io_error("retry 1"));
}

#[test]
fn an_error_recorded_then_success_keeps_status_error_and_nothing_internal_is_exported() {
    let (_, spans) = capture(|| {
        records_then_succeeds().unwrap();
        records_twice_by_hand();
    });
    let span = spans.find("it::errors::records_then_succeeds").unwrap();
    assert_eq!(span.status, Status::error("card declined"));
    assert_eq!(messages(span), ["card declined"]);
    // Recording by hand is never deduplicated: only the returned error is checked.
    let span = spans.find("it::errors::records_twice_by_hand").unwrap();
    assert_eq!(messages(span), ["retry 1", "retry 1"]);
    assert_eq!(span.status, Status::error("retry 1"));
    for span in spans.all() {
        for event in span.events.iter() {
            assert_eq!(event.name, "exception", "{}", span.name);
        }
    }
}

/// The same rules on spans of an SDK provider (installed with `set_tracer_provider`, no
/// pipeline): the mark lives in the span the guard puts in the context.
#[test]
fn the_mark_is_kept_with_sdk_spans_too() {
    crate::own_process!(the_mark_is_kept_with_sdk_spans_too);
    use traced_runtime::opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    traced_runtime::set_tracer_provider(&provider);

    let _ = records_one_returns_another();
    let _ = records_then_a_callee_fails();
    let _ = poll_across_threads(records_then_resumes_elsewhere());
    let _ = records_then_succeeds();
    let _ = recorded_by_hand();

    let spans = exporter.get_finished_spans().unwrap();
    let find = |name: &str| {
        spans
            .iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| panic!("no span {name}"))
    };
    let expected: [(&str, &[&str], Status); 6] = [
        (
            "it::errors::records_one_returns_another",
            &["timeout", "refused"],
            Status::error("refused"),
        ),
        (
            "it::errors::records_then_a_callee_fails",
            &["card declined"],
            Status::error("card declined"),
        ),
        (
            "it::errors::failing_callee",
            &["callee failed"],
            Status::error("callee failed"),
        ),
        (
            "it::errors::records_then_resumes_elsewhere",
            &["card declined"],
            Status::error("card declined"),
        ),
        (
            "it::errors::records_then_succeeds",
            &["card declined"],
            Status::error("card declined"),
        ),
        (
            "it::errors::recorded_by_hand",
            &["card declined"],
            Status::error("card declined"),
        ),
    ];
    assert_eq!(spans.len(), expected.len());
    for (name, events, status) in expected {
        let span = find(name);
        assert_eq!(messages(span), events, "{name}");
        assert_eq!(span.status, status, "{name}");
        assert!(span.events.iter().all(|event| event.name == "exception"));
        assert_eq!(
            span.instrumentation_scope.name(),
            env!("CARGO_PKG_NAME"),
            "the SDK tracer of the crate's scope"
        );
    }
    provider.shutdown().unwrap();
}
