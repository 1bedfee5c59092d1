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
use crate::span::callsite::{Callsite, CrateScope};
use crate::span::exception::{self, ErrorMark, EventAction};

pub(crate) use crate::semconv::{CODE_FILE_PATH, CODE_FUNCTION_NAME, CODE_LINE_NUMBER};

/// Attributes kept inline: most spans have a handful.
pub(crate) type InlineAttributes = SmallVec<[KeyValue; 4]>;

/// Where the span's code is: its `code.*` attributes, expanded only when exported, and its
/// instrumentation scope.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Code {
    /// A `#[traced]` function.
    Callsite(&'static Callsite),
    /// An `in_span` call, and the `#[traced]` function it runs in (its `code.function.name` and
    /// scope), if any.
    Location {
        location: &'static Location<'static>,
        within: Option<&'static Callsite>,
    },
}

impl Code {
    /// Adds the `code.*` attributes to `out`.
    pub(crate) fn add_attributes(self, out: &mut impl Extend<KeyValue>) {
        let (function, file, line) = match self {
            Code::Callsite(callsite) => (Some(callsite.function), callsite.file, callsite.line),
            Code::Location { location, within } => (
                within.map(|callsite| callsite.function),
                location.file(),
                location.line(),
            ),
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

    /// How many attributes [`add_attributes`](Self::add_attributes) adds.
    fn attribute_count(self) -> usize {
        match self {
            Code::Callsite(_)
            | Code::Location {
                within: Some(_), ..
            } => 3,
            Code::Location { within: None, .. } => 2,
        }
    }

    /// The scope of the crate the code is written in, when known.
    pub(crate) fn scope(self) -> Option<CrateScope> {
        match self {
            Code::Callsite(callsite)
            | Code::Location {
                within: Some(callsite),
                ..
            } => Some(callsite.scope),
            Code::Location { within: None, .. } => None,
        }
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
    /// The errors recorded on the span, so that the one the function returns is not recorded
    /// twice.
    pub(crate) error_mark: ErrorMark,
}

impl SpanRecord {
    /// Sets the status: Ok is final, a later error's message replaces an earlier one's.
    pub(crate) fn set_status(&mut self, status: Status) {
        self.error_mark.on_status(&status);
        exception::merge_status(&mut self.status, status);
    }

    /// Adds an event, as the span's [`ErrorMark`] says (see `span::exception`).
    pub(crate) fn add_event(
        &mut self,
        name: Cow<'static, str>,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) {
        match self.error_mark.on_event(name, &attributes) {
            EventAction::Add(name) => self.events.push(Event::new(name, timestamp, attributes, 0)),
            EventAction::Skip => {}
            EventAction::SetOk => self.set_status(Status::Ok),
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

    /// A record to fill (see `span::guard`), as [`clear`](Self::clear) leaves one.
    pub(crate) fn empty() -> Self {
        let now = crate::pipeline::clock::now();
        SpanRecord {
            name: Cow::Borrowed(""),
            kind: SpanKind::Internal,
            span_context: SpanContext::NONE,
            parent_span_id: SpanId::INVALID,
            parent_is_remote: false,
            start: now,
            end: now,
            end_time: None,
            code: Code::Location {
                location: Location::caller(),
                within: None,
            },
            attributes: InlineAttributes::new(),
            events: Vec::new(),
            status: Status::Unset,
            error_mark: ErrorMark::default(),
        }
    }

    /// Empties the record for reuse: what it owns on the heap is freed, its inline storage kept.
    /// The fields left are overwritten when it is filled again.
    pub(crate) fn clear(&mut self) {
        self.name = Cow::Borrowed("");
        self.span_context = SpanContext::NONE;
        self.attributes.clear();
        self.events = Vec::new();
        self.status = Status::Unset;
        self.error_mark = ErrorMark::default();
    }

    /// The SDK's form of the span, with the span limits applied; `scope` is the instrumentation
    /// scope of a span whose crate is not known. Takes the contents, leaving
    /// the record empty for reuse.
    pub(crate) fn take_span_data(
        &mut self,
        anchor: &Anchor,
        scope: &InstrumentationScope,
        limits: &SpanLimits,
    ) -> SpanData {
        let max_attributes = limits.max_attributes_per_span as usize;
        let total = self.attributes.len() + self.code.attribute_count();
        let mut attributes = Vec::with_capacity(total.min(max_attributes));
        self.code.add_attributes(&mut attributes);
        attributes.extend(self.attributes.drain(..));
        attributes.truncate(max_attributes);
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
            // The crate of the span's code, else the collector's default (traced's).
            instrumentation_scope: self
                .code
                .scope()
                .map_or_else(|| scope.clone(), CrateScope::instrumentation_scope),
        }
    }
}
