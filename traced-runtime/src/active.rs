//! The fast-path spans entered on this thread, innermost first, so that writes to the current
//! span (`current_span()`, or `Context::current().span()` of the opentelemetry API) reach the
//! record that the span's guard owns.
//!
//! A record is reachable from here exactly while its guard runs the span's body (`enter`): the
//! guard is borrowed mutably for that time and does not touch the record itself, so the pointer
//! kept here is the only way to it.

use std::borrow::Cow;
use std::cell::Cell;
use std::ptr;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanId, Status};
use opentelemetry::KeyValue;

use crate::record::SpanRecord;

struct Node {
    span_id: SpanId,
    record: *mut SpanRecord,
    outer: *const Node,
}

thread_local! {
    static INNERMOST: Cell<*const Node> = const { Cell::new(ptr::null()) };
}

/// Runs `f` with `record` reachable as the span `span_id`.
#[inline]
pub(crate) fn enter<R>(span_id: SpanId, record: &mut SpanRecord, f: impl FnOnce() -> R) -> R {
    struct Restore(*const Node);
    impl Drop for Restore {
        fn drop(&mut self) {
            INNERMOST.set(self.0);
        }
    }
    let node = Node {
        span_id,
        record,
        outer: INNERMOST.get(),
    };
    let _restore = Restore(node.outer);
    INNERMOST.set(&raw const node);
    f()
}

/// Runs `f` on the record of span `span_id`, if that span is entered on this thread.
///
/// `f` must not run user code: it could reach the same record again.
#[inline]
pub(crate) fn with_record<R>(span_id: SpanId, f: impl FnOnce(&mut SpanRecord) -> R) -> Option<R> {
    let mut node = INNERMOST.try_with(Cell::get).ok()?;
    // SAFETY: every node in the chain lives in a frame of `enter` below this one on the stack,
    // and its record is not otherwise borrowed while that frame runs (see the module docs).
    unsafe {
        while let Some(current) = node.as_ref() {
            if current.span_id == span_id {
                return Some(f(&mut *current.record));
            }
            node = current.outer;
        }
    }
    None
}

/// The opentelemetry API's view of a fast-path span, stored in its `Context`: reads and writes
/// through `Context::current().span()` go to the record while the span is entered on this
/// thread; `end()` is left to the span's guard.
#[derive(Debug)]
pub(crate) struct FastSpan {
    pub(crate) span_context: SpanContext,
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
        let name = name.into();
        with_record(self.span_context.span_id(), |record| {
            record.events.push(opentelemetry::trace::Event::new(
                name, timestamp, attributes, 0,
            ));
        });
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        with_record(self.span_context.span_id(), |_| ()).is_some()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        with_record(self.span_context.span_id(), |record| {
            record.set_attribute(attribute);
        });
    }

    fn set_status(&mut self, status: Status) {
        with_record(self.span_context.span_id(), |record| {
            record.set_status(status)
        });
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        let name = new_name.into();
        with_record(self.span_context.span_id(), |record| record.name = name);
    }

    fn add_link(&mut self, _span_context: SpanContext, _attributes: Vec<KeyValue>) {}

    fn end_with_timestamp(&mut self, _timestamp: SystemTime) {}
}
