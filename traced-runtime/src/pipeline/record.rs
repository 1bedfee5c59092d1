//! A span being recorded on the fast path: filled in place on the calling thread, handed to the
//! collector when it ends, and turned into the SDK's `SpanData` there.

use std::borrow::Cow;
use std::panic::Location;
use std::time::SystemTime;

use opentelemetry::trace::{Event, SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{InstrumentationScope, Key, KeyValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLimits, SpanLinks};
use smallvec::SmallVec;

use crate::pipeline::clock::{Anchor, Instant};
use crate::span::callsite::Callsite;

pub(crate) use crate::semconv::{CODE_FILE_PATH, CODE_FUNCTION_NAME, CODE_LINE_NUMBER};

/// Attributes kept inline: most spans have a handful.
pub(crate) type InlineAttributes = SmallVec<[KeyValue; 4]>;

/// Where the span's code is: its `code.*` attributes, expanded only when exported.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Code {
    Callsite(&'static Callsite),
    Location(&'static Location<'static>),
}

impl Code {
    /// Adds the `code.*` attributes to `out`.
    pub(crate) fn add_attributes(self, out: &mut impl Extend<KeyValue>) {
        let (function, file, line) = match self {
            Code::Callsite(callsite) => (Some(callsite.function), callsite.file, callsite.line),
            Code::Location(location) => (None, location.file(), location.line()),
        };
        if let Some(function) = function {
            out.extend([KeyValue::new(
                Key::from_static_str(CODE_FUNCTION_NAME),
                Value::from(function),
            )]);
        }
        out.extend([
            KeyValue::new(Key::from_static_str(CODE_FILE_PATH), Value::from(file)),
            KeyValue::new(
                Key::from_static_str(CODE_LINE_NUMBER),
                Value::I64(i64::from(line)),
            ),
        ]);
    }
}

#[derive(Debug)]
pub(crate) struct SpanRecord {
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    pub(crate) span_context: SpanContext,
    pub(crate) parent_span_id: SpanId,
    pub(crate) parent_is_remote: bool,
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    /// An end time given through the opentelemetry API, instead of `end`.
    pub(crate) end_time: Option<SystemTime>,
    pub(crate) code: Code,
    pub(crate) attributes: InlineAttributes,
    pub(crate) events: Vec<Event>,
    pub(crate) status: Status,
}

impl SpanRecord {
    /// Sets the status, in the specification's order: Ok beats Error beats Unset.
    pub(crate) fn set_status(&mut self, status: Status) {
        if status > self.status {
            self.status = status;
        }
    }

    pub(crate) fn set_attribute(&mut self, attribute: KeyValue) {
        match self
            .attributes
            .iter_mut()
            .find(|existing| existing.key == attribute.key)
        {
            Some(existing) => existing.value = attribute.value,
            None => self.attributes.push(attribute),
        }
    }

    /// The SDK's form of the span, with the span limits applied. Takes the contents, leaving
    /// the record empty for reuse.
    pub(crate) fn take_span_data(
        &mut self,
        anchor: &Anchor,
        scope: &InstrumentationScope,
        limits: &SpanLimits,
    ) -> SpanData {
        let max_attributes = limits.max_attributes_per_span as usize;
        let total = self.attributes.len() + 3;
        let mut attributes = Vec::with_capacity(total.min(max_attributes));
        self.code.add_attributes(&mut attributes);
        attributes.extend(self.attributes.drain(..));
        attributes.truncate(max_attributes);
        let total = total - usize::from(matches!(self.code, Code::Location(_)));
        let mut events = std::mem::take(&mut self.events);
        let max_events = limits.max_events_per_span as usize;
        let dropped_events = events.len().saturating_sub(max_events);
        events.truncate(max_events);
        let max_event_attributes = limits.max_attributes_per_event as usize;
        for event in &mut events {
            let dropped = event.attributes.len().saturating_sub(max_event_attributes);
            if dropped > 0 {
                event.attributes.truncate(max_event_attributes);
                event.dropped_attributes_count = event
                    .dropped_attributes_count
                    .saturating_add(u32::try_from(dropped).unwrap_or(u32::MAX));
            }
        }
        let mut span_events = SpanEvents::default();
        span_events.events = events;
        span_events.dropped_count = u32::try_from(dropped_events).unwrap_or(u32::MAX);
        SpanData {
            span_context: std::mem::replace(&mut self.span_context, SpanContext::NONE),
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_is_remote,
            span_kind: self.kind.clone(),
            name: std::mem::take(&mut self.name),
            start_time: anchor.system_time(self.start),
            end_time: self
                .end_time
                .unwrap_or_else(|| anchor.system_time(self.end)),
            dropped_attributes_count: u32::try_from(total - attributes.len()).unwrap_or(u32::MAX),
            attributes,
            events: span_events,
            links: SpanLinks::default(),
            status: std::mem::take(&mut self.status),
            instrumentation_scope: scope.clone(),
        }
    }
}
