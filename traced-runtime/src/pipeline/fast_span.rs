//! The span of the fast path, as the context holds it: the record being filled, behind the
//! opentelemetry API's `Span` trait, so that `Context::current().span()` reads and writes it from
//! anywhere (`current_span()`, other instrumentations), and ending it hands the record to the
//! collector.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, Status};
use opentelemetry::KeyValue;

use crate::pipeline::clock;
use crate::pipeline::fast_tracer::TracerRef;
use crate::pipeline::record::SpanRecord;

/// `end_with_timestamp(END_NOW)` ends the span at the span clock's now, without reading the
/// wall clock (the guard ends spans this way; any other timestamp is taken as given).
pub(crate) const END_NOW: SystemTime = SystemTime::UNIX_EPOCH;

/// `end_with_timestamp(end_succeeded())`: as [`END_NOW`], the traced function having
/// succeeded (status OK unless an error was recorded, as `exception::record_success` says), in
/// one call through the context's span rather than two.
#[inline]
pub(crate) fn end_succeeded() -> SystemTime {
    static END_SUCCEEDED: std::sync::LazyLock<SystemTime> =
        std::sync::LazyLock::new(|| SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(1));
    *END_SUCCEEDED
}

#[derive(Debug)]
pub(crate) struct FastSpan {
    span_context: SpanContext,
    /// `None` once ended.
    record: Option<Box<SpanRecord>>,
    tracer: TracerRef,
}

impl FastSpan {
    pub(crate) fn new(record: Box<SpanRecord>, tracer: TracerRef) -> Self {
        FastSpan {
            span_context: record.span_context.clone(),
            record: Some(record),
            tracer,
        }
    }
}

impl opentelemetry::trace::Span for FastSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        if let Some(record) = &mut self.record {
            record.add_event(name.into(), timestamp, attributes);
        }
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        self.record.is_some()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        if let Some(record) = &mut self.record {
            record.set_attribute(attribute);
        }
    }

    fn set_status(&mut self, status: Status) {
        if let Some(record) = &mut self.record {
            record.set_status(status);
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        if let Some(record) = &mut self.record {
            record.name = new_name.into();
        }
    }

    fn add_link(&mut self, _span_context: SpanContext, _attributes: Vec<KeyValue>) {}

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        if let Some(mut record) = self.record.take() {
            record.end = clock::now();
            if timestamp == end_succeeded() {
                if record.error_mark.success_sets_ok() {
                    record.set_status(Status::Ok);
                }
            } else if timestamp != END_NOW {
                record.end_time = Some(timestamp);
            }
            self.tracer.push(record);
        }
    }
}

impl Drop for FastSpan {
    fn drop(&mut self) {
        // Ended by whoever drops the last context holding it, as SDK spans are.
        opentelemetry::trace::Span::end_with_timestamp(self, END_NOW);
    }
}
