//! Lookups in exported `SpanData` that several areas make: exception events and their
//! attributes.

use traced_runtime::opentelemetry::trace::Event;
use traced_runtime::opentelemetry::Value;
use traced_runtime::opentelemetry_sdk::trace::SpanData;

/// The `exception` events of `span`, in order.
pub fn exceptions(span: &SpanData) -> Vec<&Event> {
    span.events
        .iter()
        .filter(|event| event.name == "exception")
        .collect()
}

/// The one `exception` event of `span`.
pub fn exception(span: &SpanData) -> &Event {
    match exceptions(span)[..] {
        [event] => event,
        ref events => panic!(
            "span {:?} has {} exception events, not one: {events:#?}",
            span.name,
            events.len()
        ),
    }
}

/// The value of attribute `key` of `event`.
pub fn event_attribute<'a>(event: &'a Event, key: &str) -> Option<&'a Value> {
    event
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// The string form of attribute `key` of the one exception event of `span` (`exception.type`,
/// `exception.message`, ...).
pub fn exception_attribute(span: &SpanData, key: &str) -> Option<String> {
    event_attribute(exception(span), key).map(|value| value.as_str().into_owned())
}
