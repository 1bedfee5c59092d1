//! Manual instrumentation: the current span, events, errors and ad-hoc spans.

use traced_runtime::opentelemetry::trace::Status;
use traced_runtime::opentelemetry::{KeyValue, Value};
use traced_runtime::testing::{attribute, capture};
use traced_runtime::{add_event, current_span, in_span, record_error, traced};

#[traced]
fn process() -> u32 {
    current_span().set_attribute("order.items", 3_usize);
    current_span().set_attribute("payment.amount", 12.5);
    add_event("processing_started", [KeyValue::new("items", 10_i64)]);
    let total = in_span("sum", || {
        current_span().set_attribute("inner", true);
        6
    });
    add_event(
        "processing_completed",
        [KeyValue::new("result_count", 2_i64)],
    );
    total
}

#[traced]
fn handled() -> u32 {
    // An error recorded by hand, then handled: the span keeps the ERROR status.
    record_error(&std::io::Error::other("retrying"));
    1
}

mod reexport {
    // A crate that re-exports traced_runtime under another name.
    pub use traced_runtime as tracing_facade;
}

#[traced(crate = reexport::tracing_facade)]
fn through_a_reexport() {}

#[test]
fn attributes_events_and_adhoc_spans() {
    let (total, spans) = capture(process);
    assert_eq!(total, 6);
    assert_eq!(
        spans.tree(),
        "\
it::manual::process OK order.items=3 payment.amount=12.5
  * processing_started items=10
  * processing_completed result_count=2
  sum inner=true
"
    );
    let sum = spans.find("sum").unwrap();
    assert_eq!(
        attribute(sum, "code.file.path"),
        Some(&Value::String("tests/it/manual.rs".into()))
    );
}

#[test]
fn a_handled_error_keeps_the_error_status() {
    let (_, spans) = capture(handled);
    assert_eq!(spans.all()[0].status, Status::error("retrying"));
}

#[test]
fn outside_any_span_manual_calls_do_nothing() {
    let (_, spans) = capture(|| {
        current_span().set_attribute("ignored", 1_u8);
        add_event("ignored", []);
        record_error(&std::io::Error::other("ignored"));
        assert!(!current_span().is_recording());
    });
    assert!(spans.all().is_empty());
}

#[test]
fn the_crate_option_serves_reexports() {
    let (_, spans) = capture(through_a_reexport);
    assert_eq!(spans.names(), ["it::manual::through_a_reexport"]);
}

#[test]
fn a_panic_in_an_adhoc_span_is_recorded() {
    let (_, spans) = capture(|| std::panic::catch_unwind(|| in_span("adhoc", || panic!("no"))));
    assert_eq!(spans.all()[0].status, Status::error("no"));
}
