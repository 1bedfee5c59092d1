//! [`TracesEncoder`]: the protobuf of an OTLP `ExportTraceServiceRequest`, written straight from
//! the collector's span records (and from the SDK's `SpanData`) into buffers kept from batch to
//! batch. Going through `SpanData` and `group_spans_by_resource_and_scope` costs a `String` or a
//! `Vec` per field and a clone of every attribute, then a second walk for prost to size and
//! write the messages: about half of the collector's work. Here each span is written once.
//!
//! The request decodes to what `take_span_data` and that transform give for the same spans
//! (span limits, the value length limit, flags, status, dropped counts), but for the order of the
//! scopes, which the transform takes from a `HashMap`. Spans are grouped by scope with the SDK's
//! equality of `InstrumentationScope`, as the transform groups them: a record's crate scope and
//! an SDK scope of the same name and version (no schema url, no attributes) are one group.
//!
//! Layout: each span is written, as a `ScopeSpans.spans` field, into the buffer of its scope; the
//! resource and each scope are encoded once, when set or first seen, and kept; [`finish`] puts
//! them together under their length prefixes. A key-value's length is computed from its key and
//! value, and the key-value written into one slice; a span's, an event's or a link's length,
//! known once it is written, goes into bytes reserved before it for the usual size of its varint
//! (the message is moved in the rare case it needs another size). The buffers keep their bytes
//! from batch to batch ([`Out`]): no allocation once they have grown to a batch's size.
//!
//! [`finish`]: TracesEncoder::finish

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceState,
};
use opentelemetry::{Array, InstrumentationScope, Value};
use opentelemetry_sdk::trace::{SpanData, SpanLimits};
use opentelemetry_sdk::Resource;
use prost::encoding::encoded_len_varint;

use crate::pipeline::clock::Anchor;
use crate::pipeline::record::{
    Code, SpanRecord, CODE_FILE_PATH, CODE_FUNCTION_NAME, CODE_LINE_NUMBER,
};
use crate::span::callsite::CrateScope;

/// Past this many scopes, those without spans in a batch are forgotten when it is finished
/// (scopes of the opentelemetry API can be made at run time, without bound).
const KEPT_SCOPES: usize = 64;

/// Builds one OTLP `ExportTraceServiceRequest` (protobuf bytes) from span records and SDK spans,
/// grouped by instrumentation scope under the one resource; reused batch after batch.
#[derive(Debug)]
pub(crate) struct TracesEncoder {
    limits: SpanLimits,
    /// The most characters of a string value, `None` for no limit.
    value_length_limit: Option<usize>,
    /// `ResourceSpans.resource`, key and length included.
    resource: Out,
    /// `ResourceSpans.schema_url`, key and length included; empty without one.
    resource_schema_url: Out,
    scopes: Vec<Scope>,
    /// The index in `scopes` of each crate scope seen, the last one used first.
    crates: Vec<(CrateScope, usize)>,
    /// The index in `scopes` of the last SDK span's scope.
    last_sdk_scope: Option<usize>,
    /// Spans added since the last `finish`.
    spans: usize,
    /// The `code.*` attributes of recent code locations, as written (see [`CodeCache`]).
    code: CodeCache,
}

/// The `code.*` attributes of a span depend only on where its code is, which is `'static`: the
/// bytes written for a location are kept and copied for the next span from there, in a small
/// direct-mapped cache (a location that collides with another is written again).
#[derive(Debug)]
struct CodeCache {
    slots: Vec<Option<(CodeKey, Vec<u8>)>>,
}

/// A code location: the addresses of its callsite, or of its `Location` and enclosing callsite.
type CodeKey = (usize, usize);

/// Slots of the [`CodeCache`]: a power of two.
const CODE_SLOTS: usize = 256;

impl CodeCache {
    fn new() -> Self {
        CodeCache {
            slots: vec![None; CODE_SLOTS],
        }
    }

    fn key(code: Code) -> CodeKey {
        match code {
            Code::Callsite(callsite) => (std::ptr::from_ref(callsite) as usize, 0),
            Code::Location { location, within } => (
                std::ptr::from_ref(location) as usize,
                within.map_or(0, |callsite| std::ptr::from_ref(callsite) as usize),
            ),
        }
    }

    fn slot(&mut self, key: CodeKey) -> &mut Option<(CodeKey, Vec<u8>)> {
        // Callsites and locations are at least 8 bytes apart.
        let index = ((key.0 >> 3) ^ (key.1 >> 3)) & (CODE_SLOTS - 1);
        &mut self.slots[index]
    }
}

/// One instrumentation scope: encoded once, and the spans of the batch under it.
#[derive(Debug)]
struct Scope {
    /// The scope as the transform groups spans by it.
    key: InstrumentationScope,
    /// `ScopeSpans.scope`, key and length included.
    scope: Out,
    /// `ScopeSpans.schema_url`, key and length included; empty without one.
    schema_url: Out,
    /// The batch's spans, each a `ScopeSpans.spans` field.
    spans: Out,
}

impl TracesEncoder {
    /// `limits`: the span limits (attributes per span/event, events per span, links);
    /// `value_length_limit`: the most characters of a string attribute value (and of each string
    /// of a string array), None = no limit (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT).
    pub(crate) fn new(limits: SpanLimits, value_length_limit: Option<usize>) -> Self {
        // No resource yet: an empty one, as the transform sends.
        let mut resource = Out::default();
        resource.put(&[keys::resource_spans::RESOURCE, 0]);
        TracesEncoder {
            limits,
            value_length_limit,
            resource,
            resource_schema_url: Out::default(),
            scopes: Vec::new(),
            crates: Vec::new(),
            last_sdk_scope: None,
            spans: 0,
            code: CodeCache::new(),
        }
    }

    /// The resource of the following batches: encoded once here (with its schema url), not per
    /// batch or span.
    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        let buf = &mut self.resource;
        buf.clear();
        let at = open(buf, keys::resource_spans::RESOURCE, 2);
        // Not cut to the value length limit: the transform sends the resource as it is.
        for (key, value) in resource.iter() {
            key_value(buf, keys::resource::ATTRIBUTES, key.as_str(), value, None);
        }
        close(buf, at, 2);
        self.resource_schema_url.clear();
        if let Some(url) = resource.schema_url() {
            string(
                &mut self.resource_schema_url,
                keys::resource_spans::SCHEMA_URL,
                url,
            );
        }
    }

    /// Encodes one ended record (the whole SpanRecord is read, not modified): `anchor` converts
    /// its span-clock instants to wall-clock time exactly as `take_span_data` does. A record whose
    /// `code.scope()` is None goes under traced's scope (`crate::pipeline::scope::scope()`).
    pub(crate) fn add_record(&mut self, record: &SpanRecord, anchor: &Anchor) {
        let index = self.crate_scope(record.code.scope().unwrap_or(CrateScope::TRACED));
        let limits = self.limits;
        let limit = self.value_length_limit;
        let buf = &mut self.scopes[index].spans;
        let at = open(buf, keys::scope_spans::SPANS, 2);
        ids(
            buf,
            &record.span_context,
            record.parent_span_id,
            record.parent_is_remote,
        );
        string(buf, keys::span::NAME, &record.name);
        let (start, end) = record_times(record, anchor);
        kind_and_times(buf, &record.kind, start, end);

        // The `code.*` attributes first, then the record's, as `take_span_data` orders them.
        let (function, file, line) = match record.code {
            Code::Callsite(callsite) => (Some(callsite.function), callsite.file, callsite.line),
            Code::Location { location, within } => (
                within.map(|callsite| callsite.function),
                location.file(),
                location.line(),
            ),
        };
        let max = limits.max_attributes_per_span as usize;
        let code_count = usize::from(function.is_some()) + 2;
        let total = code_count + record.attributes.len();
        let mut room = max;
        if room >= code_count {
            // All of them: copied when this location's bytes are at hand, else written and kept.
            let key = CodeCache::key(record.code);
            let slot = self.code.slot(key);
            match slot {
                Some((seen, bytes)) if *seen == key => buf.put(bytes),
                _ => {
                    let start = buf.len();
                    code_attributes(buf, function, file, line, limit);
                    let bytes = match slot.take() {
                        Some((_, mut bytes)) => {
                            bytes.clear();
                            bytes.extend_from_slice(&buf.written()[start..]);
                            bytes
                        }
                        None => buf.written()[start..].to_vec(),
                    };
                    *slot = Some((key, bytes));
                }
            }
            room -= code_count;
        } else {
            room = write_code_attributes_within(buf, function, file, line, limit, room);
        }
        for attribute in record.attributes.iter().take(room) {
            key_value(
                buf,
                keys::span::ATTRIBUTES,
                attribute.key.as_str(),
                &attribute.value,
                limit,
            );
        }
        uint(
            buf,
            keys::span::DROPPED_ATTRIBUTES_COUNT,
            saturating_u32(total.saturating_sub(max)),
        );

        let max_events = limits.max_events_per_span as usize;
        let max_event_attributes = limits.max_attributes_per_event as usize;
        for one in record.events.iter().take(max_events) {
            event(buf, one, max_event_attributes, limit);
        }
        uint(
            buf,
            keys::span::DROPPED_EVENTS_COUNT,
            saturating_u32(record.events.len().saturating_sub(max_events)),
        );
        status(buf, &record.status);
        close(buf, at, 2);
        self.spans += 1;
    }

    /// Encodes one span the SDK ended (spans of the opentelemetry API), under its own
    /// instrumentation scope; the limits are the SDK's already, only the value length limit
    /// applies.
    pub(crate) fn add_span_data(&mut self, span: &SpanData) {
        let index = self.sdk_scope(&span.instrumentation_scope);
        let limit = self.value_length_limit;
        let buf = &mut self.scopes[index].spans;
        let at = open(buf, keys::scope_spans::SPANS, 2);
        ids(
            buf,
            &span.span_context,
            span.parent_span_id,
            span.parent_span_is_remote,
        );
        string(buf, keys::span::NAME, &span.name);
        kind_and_times(
            buf,
            &span.span_kind,
            nanos(span.start_time),
            nanos(span.end_time),
        );
        for attribute in &span.attributes {
            key_value(
                buf,
                keys::span::ATTRIBUTES,
                attribute.key.as_str(),
                &attribute.value,
                limit,
            );
        }
        uint(
            buf,
            keys::span::DROPPED_ATTRIBUTES_COUNT,
            span.dropped_attributes_count,
        );
        for one in span.events.iter() {
            event(buf, one, usize::MAX, limit);
        }
        uint(
            buf,
            keys::span::DROPPED_EVENTS_COUNT,
            span.events.dropped_count,
        );
        for one in span.links.iter() {
            link(buf, one, limit);
        }
        uint(
            buf,
            keys::span::DROPPED_LINKS_COUNT,
            span.links.dropped_count,
        );
        status(buf, &span.status);
        close(buf, at, 2);
        self.spans += 1;
    }

    /// Spans added since the last `finish`.
    pub(crate) fn len(&self) -> usize {
        self.spans
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.spans == 0
    }

    /// The request of the spans added since the last call (an empty request when none), and
    /// starts the next batch; keeps buffer capacity for reuse.
    ///
    /// Without spans, the request holds the resource alone, as the transform's does.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        let used = self.scopes.iter().filter(|scope| !scope.spans.is_empty());
        let resource_spans = self.resource.len()
            + self.resource_schema_url.len()
            + used
                .clone()
                .map(|scope| {
                    let len = scope.len();
                    1 + varint_len(len) + len
                })
                .sum::<usize>();
        let total = 1 + varint_len(resource_spans) + resource_spans;
        let mut out = Vec::with_capacity(total);
        push_header(&mut out, keys::request::RESOURCE_SPANS, resource_spans);
        out.extend_from_slice(self.resource.written());
        for scope in used {
            push_header(&mut out, keys::resource_spans::SCOPE_SPANS, scope.len());
            out.extend_from_slice(scope.scope.written());
            out.extend_from_slice(scope.spans.written());
            out.extend_from_slice(scope.schema_url.written());
        }
        out.extend_from_slice(self.resource_schema_url.written());
        debug_assert_eq!(out.len(), total);

        if self.scopes.len() > KEPT_SCOPES {
            self.scopes.retain(|scope| !scope.spans.is_empty());
            self.crates.clear();
            self.last_sdk_scope = None;
        }
        for scope in &mut self.scopes {
            scope.spans.clear();
        }
        self.spans = 0;
        out
    }

    /// The index of the scope of a record's crate; runs of spans of one crate find it first.
    fn crate_scope(&mut self, crate_scope: CrateScope) -> usize {
        let found = self
            .crates
            .iter()
            .position(|(seen, _)| same_crate(*seen, crate_scope));
        match found {
            Some(0) => self.crates[0].1,
            Some(position) => {
                self.crates.swap(0, position);
                self.crates[0].1
            }
            None => {
                // Built from `&'static str`s: no allocation unless the scope is new.
                let index = self.scope_index(&crate_scope.instrumentation_scope());
                self.crates.push((crate_scope, index));
                let last = self.crates.len() - 1;
                self.crates.swap(0, last);
                index
            }
        }
    }

    /// The index of the scope of an SDK span; runs of spans of one scope find it first.
    fn sdk_scope(&mut self, scope: &InstrumentationScope) -> usize {
        if let Some(last) = self.last_sdk_scope {
            if same_scope(&self.scopes[last].key, scope) {
                return last;
            }
        }
        let index = self.scope_index(scope);
        self.last_sdk_scope = Some(index);
        index
    }

    fn scope_index(&mut self, key: &InstrumentationScope) -> usize {
        if let Some(index) = self
            .scopes
            .iter()
            .position(|scope| same_scope(&scope.key, key))
        {
            return index;
        }
        self.scopes.push(Scope::new(key.clone()));
        self.scopes.len() - 1
    }
}

impl Scope {
    fn new(key: InstrumentationScope) -> Scope {
        let mut scope = Out::default();
        let at = open(&mut scope, keys::scope_spans::SCOPE, 1);
        string(&mut scope, keys::scope::NAME, key.name());
        if let Some(version) = key.version() {
            string(&mut scope, keys::scope::VERSION, version);
        }
        // Not cut to the value length limit, as the transform does not cut them.
        for attribute in key.attributes() {
            key_value(
                &mut scope,
                keys::scope::ATTRIBUTES,
                attribute.key.as_str(),
                &attribute.value,
                None,
            );
        }
        close(&mut scope, at, 1);
        let mut schema_url = Out::default();
        if let Some(url) = key.schema_url() {
            string(&mut schema_url, keys::scope_spans::SCHEMA_URL, url);
        }
        Scope {
            key,
            scope,
            schema_url,
            spans: Out::default(),
        }
    }

    /// The length of its `ScopeSpans` message.
    fn len(&self) -> usize {
        self.scope.len() + self.spans.len() + self.schema_url.len()
    }
}

/// Whether two crate scopes are the same: the same `&'static str`s mostly, compared by address
/// before their contents.
#[inline]
fn same_crate(a: CrateScope, b: CrateScope) -> bool {
    fn same(a: Option<&str>, b: Option<&str>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => std::ptr::eq(a, b) || a == b,
            (None, None) => true,
            _ => false,
        }
    }
    same(a.name, b.name) && same(a.version, b.version)
}

/// The SDK's equality of scopes (the transform groups spans by it), without its allocations
/// when the attributes are in the same order.
#[inline]
fn same_scope(a: &InstrumentationScope, b: &InstrumentationScope) -> bool {
    a.name() == b.name()
        && a.version() == b.version()
        && a.schema_url() == b.schema_url()
        && (a.attributes().eq(b.attributes()) || a == b)
}

/// A record's start and end, in nanoseconds since the UNIX epoch, as `take_span_data` converts
/// them. Both instants are whole nanoseconds converted through the same anchor, so the end's
/// conversion is the start's plus the span's duration on the span clock: one conversion less.
#[inline(always)]
fn record_times(record: &SpanRecord, anchor: &Anchor) -> (u64, u64) {
    let start = nanos(anchor.system_time(record.start));
    let end = match record.end_time {
        Some(end) => nanos(end),
        None => match record.end.checked_duration_since(record.start) {
            // Not when the start is clamped to the epoch.
            Some(elapsed) if start > 0 => start.wrapping_add(elapsed.as_nanos() as u64),
            _ => nanos(anchor.system_time(record.end)),
        },
    };
    (start, end)
}

/// The span's ids, trace state and flags (`Span` fields 1 to 4 and 16).
#[inline(always)]
fn ids(buf: &mut Out, context: &SpanContext, parent_span_id: SpanId, parent_is_remote: bool) {
    let mut ids = [0; 28];
    ids[..2].copy_from_slice(&[keys::span::TRACE_ID, 16]);
    ids[2..18].copy_from_slice(&context.trace_id().to_bytes());
    ids[18..20].copy_from_slice(&[keys::span::SPAN_ID, 8]);
    ids[20..].copy_from_slice(&context.span_id().to_bytes());
    buf.put(&ids);
    trace_state(buf, keys::span::TRACE_STATE, context.trace_state());
    if parent_span_id != SpanId::INVALID {
        let mut parent = [keys::span::PARENT_SPAN_ID, 8, 0, 0, 0, 0, 0, 0, 0, 0];
        parent[2..].copy_from_slice(&parent_span_id.to_bytes());
        buf.put(&parent);
    }
    let mut flags_field = [keys::span::FLAGS[0], keys::span::FLAGS[1], 0, 0, 0, 0];
    flags_field[2..].copy_from_slice(&flags(context.trace_flags(), parent_is_remote).to_le_bytes());
    buf.put(&flags_field);
}

/// The OTLP flags: the trace flags, "whether the parent is remote is known", and whether it is.
#[inline(always)]
fn flags(trace_flags: TraceFlags, remote: bool) -> u32 {
    const HAS_IS_REMOTE: u32 = 0x100;
    const IS_REMOTE: u32 = 0x200;
    u32::from(trace_flags.to_u8()) | HAS_IS_REMOTE | if remote { IS_REMOTE } else { 0 }
}

/// The trace state as its header: `key=value` entries joined by `,`; nothing when empty.
#[inline]
fn trace_state(buf: &mut Out, key: u8, state: &TraceState) {
    // Most spans have none: found without calling into the SDK.
    if *state == TraceState::NONE {
        return;
    }
    let entries = state.into_iter();
    if entries.len() == 0 {
        return;
    }
    let len = entries.len() - 1
        + state
            .into_iter()
            .map(|(key, value)| key.len() + 1 + value.len())
            .sum::<usize>();
    header(buf, key, len);
    for (index, (key, value)) in state.into_iter().enumerate() {
        if index > 0 {
            buf.push(b',');
        }
        buf.put(key.as_bytes());
        buf.push(b'=');
        buf.put(value.as_bytes());
    }
}

/// `Span.kind`, `start_time_unix_nano` and `end_time_unix_nano`.
#[inline(always)]
fn kind_and_times(buf: &mut Out, kind: &SpanKind, start: u64, end: u64) {
    let kind = match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    };
    let mut fields = [
        keys::span::KIND,
        kind,
        keys::span::START,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ];
    fields[3..].copy_from_slice(&start.to_le_bytes());
    buf.put(&fields);
    fixed64(buf, keys::span::END, end);
}

/// The status, always present: the transform sends an Unset one as an empty message.
#[inline(always)]
fn status(buf: &mut Out, status: &Status) {
    match status {
        Status::Unset => buf.put(&[keys::span::STATUS, 0]),
        Status::Ok => buf.put(&[keys::span::STATUS, 2, keys::status::CODE, 1]),
        Status::Error { description } => {
            let len = 1 + varint_len(description.len()) + description.len() + 2;
            header(buf, keys::span::STATUS, len);
            string(buf, keys::status::MESSAGE, description);
            buf.put(&[keys::status::CODE, 2]);
        }
    }
}

/// One event, with its first `max_attributes` attributes; the others are counted as dropped.
fn event(buf: &mut Out, event: &Event, max_attributes: usize, limit: Option<usize>) {
    let at = open(buf, keys::span::EVENTS, 1);
    fixed64(buf, keys::event::TIME, nanos(event.timestamp));
    string(buf, keys::event::NAME, &event.name);
    for attribute in event.attributes.iter().take(max_attributes) {
        key_value(
            buf,
            keys::event::ATTRIBUTES,
            attribute.key.as_str(),
            &attribute.value,
            limit,
        );
    }
    let dropped = saturating_u32(event.attributes.len().saturating_sub(max_attributes));
    uint(
        buf,
        keys::event::DROPPED_ATTRIBUTES_COUNT,
        event.dropped_attributes_count.saturating_add(dropped),
    );
    close(buf, at, 1);
}

fn link(buf: &mut Out, link: &Link, limit: Option<usize>) {
    let at = open(buf, keys::span::LINKS, 1);
    let context = &link.span_context;
    buf.put(&[keys::link::TRACE_ID, 16]);
    buf.put(&context.trace_id().to_bytes());
    buf.put(&[keys::link::SPAN_ID, 8]);
    buf.put(&context.span_id().to_bytes());
    trace_state(buf, keys::link::TRACE_STATE, context.trace_state());
    for attribute in &link.attributes {
        key_value(
            buf,
            keys::link::ATTRIBUTES,
            attribute.key.as_str(),
            &attribute.value,
            limit,
        );
    }
    uint(
        buf,
        keys::link::DROPPED_ATTRIBUTES_COUNT,
        link.dropped_attributes_count,
    );
    buf.push(keys::link::FLAGS);
    // A link's flags say whether the linked context is remote, not the parent.
    buf.put(&flags(context.trace_flags(), context.is_remote()).to_le_bytes());
    close(buf, at, 1);
}

/// A `KeyValue` message as field `field`, `value` an `AnyValue` of its type; strings cut to
/// `limit` characters. Inlined in the loops over attributes, but for arrays.
#[inline(always)]
fn key_value(buf: &mut Out, field: u8, key: &str, value: &Value, limit: Option<usize>) {
    match value {
        Value::String(s) => string_key_value(buf, field, key, s.as_str(), limit),
        Value::I64(v) => int_key_value(buf, field, key, *v),
        Value::Bool(v) => {
            key_value_header(buf, field, key, 2);
            buf.put(&[keys::any_value::BOOL, u8::from(*v)]);
        }
        Value::F64(v) => {
            key_value_header(buf, field, key, 9);
            fixed64(buf, keys::any_value::DOUBLE, v.to_bits());
        }
        _ => other_key_value(buf, field, key, value, limit),
    }
}

/// A `KeyValue` of an array, or of a type of value newer than this encoder.
#[inline(never)]
fn other_key_value(buf: &mut Out, field: u8, key: &str, value: &Value, limit: Option<usize>) {
    match value {
        Value::Array(array) => {
            let len = array_len(array, limit);
            key_value_header(buf, field, key, 1 + varint_len(len) + len);
            header(buf, keys::any_value::ARRAY, len);
            array_values(buf, array, limit);
        }
        // The transform panics on it: an empty value.
        _ => key_value_header(buf, field, key, 0),
    }
}

// The key-values of most spans are short: below 128 bytes, every length in them takes one byte,
// and the whole field is written into one slice.

#[inline(always)]
fn string_key_value(buf: &mut Out, field: u8, key: &str, value: &str, limit: Option<usize>) {
    let value = truncate(value, limit);
    let len = 6 + key.len() + value.len();
    if len < 0x80 {
        let (head, rest) = buf.next(2 + len).split_at_mut(4);
        head.copy_from_slice(&[field, len as u8, keys::key_value::KEY, key.len() as u8]);
        let (key_bytes, rest) = rest.split_at_mut(key.len());
        key_bytes.copy_from_slice(key.as_bytes());
        let (value_head, value_bytes) = rest.split_at_mut(4);
        value_head.copy_from_slice(&[
            keys::key_value::VALUE,
            2 + value.len() as u8,
            keys::any_value::STRING,
            value.len() as u8,
        ]);
        value_bytes.copy_from_slice(value.as_bytes());
    } else {
        key_value_header(buf, field, key, 1 + varint_len(value.len()) + value.len());
        string(buf, keys::any_value::STRING, value);
    }
}

#[inline(always)]
fn int_key_value(buf: &mut Out, field: u8, key: &str, value: i64) {
    // Negative numbers take ten bytes, as int64 (not sint64) asks.
    let value = value as u64;
    let value_len = encoded_len_varint(value);
    let len = 5 + key.len() + value_len;
    if len < 0x80 {
        let (head, rest) = buf.next(2 + len).split_at_mut(4);
        head.copy_from_slice(&[field, len as u8, keys::key_value::KEY, key.len() as u8]);
        let (key_bytes, rest) = rest.split_at_mut(key.len());
        key_bytes.copy_from_slice(key.as_bytes());
        let (value_head, value_bytes) = rest.split_at_mut(3);
        value_head.copy_from_slice(&[
            keys::key_value::VALUE,
            1 + value_len as u8,
            keys::any_value::INT,
        ]);
        varint_into(value_bytes, value);
    } else {
        key_value_header(buf, field, key, 1 + value_len);
        buf.push(keys::any_value::INT);
        varint(buf, value);
    }
}

/// A `KeyValue` field up to its value's content: the key, the lengths, the value's field key.
#[inline(always)]
fn key_value_header(buf: &mut Out, field: u8, key: &str, value_len: usize) {
    let len = 1 + varint_len(key.len()) + key.len() + 1 + varint_len(value_len) + value_len;
    header(buf, field, len);
    string(buf, keys::key_value::KEY, key);
    header(buf, keys::key_value::VALUE, value_len);
}

/// The length of the `ArrayValue` message of `array`.
fn array_len(array: &Array, limit: Option<usize>) -> usize {
    fn sum(lens: impl Iterator<Item = usize>) -> usize {
        lens.map(|len| 1 + varint_len(len) + len).sum()
    }
    match array {
        // Key, length 2, key, 0 or 1.
        Array::Bool(values) => values.len() * 4,
        // Key, length 9, key, 8 bytes.
        Array::F64(values) => values.len() * 11,
        Array::I64(values) => sum(values.iter().map(|v| 1 + encoded_len_varint(*v as u64))),
        Array::String(values) => sum(values.iter().map(|s| {
            let len = truncate(s.as_str(), limit).len();
            1 + varint_len(len) + len
        })),
        _ => 0,
    }
}

/// The `ArrayValue.values` of `array`.
fn array_values(buf: &mut Out, array: &Array, limit: Option<usize>) {
    const VALUES: u8 = keys::array_value::VALUES;
    match array {
        Array::Bool(values) => {
            for v in values {
                buf.put(&[VALUES, 2, keys::any_value::BOOL, u8::from(*v)]);
            }
        }
        Array::F64(values) => {
            for v in values {
                buf.put(&[VALUES, 9]);
                fixed64(buf, keys::any_value::DOUBLE, v.to_bits());
            }
        }
        Array::I64(values) => {
            for v in values {
                let v = *v as u64;
                header(buf, VALUES, 1 + encoded_len_varint(v));
                buf.push(keys::any_value::INT);
                varint(buf, v);
            }
        }
        Array::String(values) => {
            for s in values {
                let s = truncate(s.as_str(), limit);
                header(buf, VALUES, 1 + varint_len(s.len()) + s.len());
                string(buf, keys::any_value::STRING, s);
            }
        }
        _ => {}
    }
}

/// `s` cut to `limit` characters, on a character boundary (as `bounded::truncated` cuts it).
#[inline(always)]
fn truncate(s: &str, limit: Option<usize>) -> &str {
    match limit {
        // No more bytes than the limit: no more characters either.
        Some(limit) if s.len() > limit => match s.char_indices().nth(limit) {
            Some((end, _)) => &s[..end],
            None => s,
        },
        _ => s,
    }
}

/// Nanoseconds since the UNIX epoch, 0 before it (as the transform's `to_nanos`).
#[inline(always)]
fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

#[inline(always)]
fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[inline(always)]
fn varint_len(len: usize) -> usize {
    encoded_len_varint(len as u64)
}

/// `value` as a varint filling `bytes`, which are as many as it takes.
#[inline(always)]
fn varint_into(bytes: &mut [u8], mut value: u64) {
    if let Some((last, first)) = bytes.split_last_mut() {
        for byte in first {
            *byte = value as u8 | 0x80;
            value >>= 7;
        }
        *last = value as u8;
    }
}

#[inline(always)]
fn varint(buf: &mut Out, value: u64) {
    if value < 0x80 {
        buf.push(value as u8);
    } else {
        varint_into(buf.next(encoded_len_varint(value)), value);
    }
}

/// The key and length of a length-delimited field.
#[inline(always)]
fn header(buf: &mut Out, key: u8, len: usize) {
    if len < 0x80 {
        buf.put(&[key, len as u8]);
    } else {
        let (key_byte, len_bytes) = buf.next(1 + varint_len(len)).split_at_mut(1);
        key_byte[0] = key;
        varint_into(len_bytes, len as u64);
    }
}

/// The key and length of a length-delimited field, into the request.
fn push_header(out: &mut Vec<u8>, key: u8, len: usize) {
    let mut bytes = [key, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let end = 1 + varint_len(len);
    varint_into(&mut bytes[1..end], len as u64);
    out.extend_from_slice(&bytes[..end]);
}

#[inline(always)]
fn string(buf: &mut Out, key: u8, s: &str) {
    if s.len() < 0x80 {
        let (head, bytes) = buf.next(2 + s.len()).split_at_mut(2);
        head.copy_from_slice(&[key, s.len() as u8]);
        bytes.copy_from_slice(s.as_bytes());
    } else {
        header(buf, key, s.len());
        buf.put(s.as_bytes());
    }
}

#[inline(always)]
fn fixed64(buf: &mut Out, key: u8, value: u64) {
    let mut field = [key, 0, 0, 0, 0, 0, 0, 0, 0];
    field[1..].copy_from_slice(&value.to_le_bytes());
    buf.put(&field);
}

/// A uint32 field, left out when 0 (its default).
#[inline(always)]
fn uint(buf: &mut Out, key: u8, value: u32) {
    if value != 0 {
        buf.push(key);
        varint(buf, u64::from(value));
    }
}

/// Starts a length-delimited field whose length is known once it is written: `reserved` bytes
/// (1 or 2) are left for the length. Returns where they are, for [`close`].
#[inline(always)]
fn open(buf: &mut Out, key: u8, reserved: usize) -> usize {
    buf.push(key);
    let at = buf.len();
    buf.next(reserved);
    at
}

/// Writes the length of the field [`open`] started, moving its content when the length takes
/// another number of bytes than reserved.
#[inline(always)]
fn close(buf: &mut Out, at: usize, reserved: usize) {
    let end = buf.len();
    let len = end - at - reserved;
    let needed = varint_len(len);
    if needed != reserved {
        buf.resize(end + needed - reserved);
        buf.bytes.copy_within(at + reserved..end, at + needed);
    }
    varint_into(&mut buf.bytes[at..at + needed], len as u64);
}

/// Encoded messages. The vector is kept longer than what is written (zeroed once, when it grows,
/// then overwritten batch after batch): a field is written into one slice, taken after one
/// length check, rather than piece by piece through `Vec`'s capacity check and length update.
#[derive(Debug, Default)]
struct Out {
    bytes: Vec<u8>,
    /// How many of the bytes are written.
    len: usize,
}

impl Out {
    /// The next `n` bytes, counted as written: they hold old bytes, the caller writes them all.
    #[inline(always)]
    fn next(&mut self, n: usize) -> &mut [u8] {
        let start = self.len;
        self.resize(start + n);
        &mut self.bytes[start..start + n]
    }

    /// Counts `len` bytes as written: more than now (old bytes, to be written), or fewer.
    #[inline(always)]
    fn resize(&mut self, len: usize) {
        if len > self.bytes.len() {
            self.grow(len);
        }
        self.len = len;
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, len: usize) {
        let bytes = len.max(2 * self.bytes.len()).max(256);
        self.bytes.resize(bytes, 0);
    }

    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.next(bytes.len()).copy_from_slice(bytes);
    }

    #[inline(always)]
    fn push(&mut self, byte: u8) {
        self.next(1)[0] = byte;
    }

    fn written(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// The keys of the fields written, one byte each but `Span.flags`' (field 16): see
/// opentelemetry-proto's `trace.proto`, `common.proto`, `resource.proto` and `trace_service.proto`.
mod keys {
    use prost::encoding::WireType;

    const fn key(field: u32, wire_type: WireType) -> u8 {
        assert!(field < 16);
        ((field << 3) | wire_type as u32) as u8
    }

    const LEN: WireType = WireType::LengthDelimited;
    const VARINT: WireType = WireType::Varint;
    const FIXED64: WireType = WireType::SixtyFourBit;
    const FIXED32: WireType = WireType::ThirtyTwoBit;

    pub(super) mod request {
        use super::*;
        pub(crate) const RESOURCE_SPANS: u8 = key(1, LEN);
    }

    pub(super) mod resource_spans {
        use super::*;
        pub(crate) const RESOURCE: u8 = key(1, LEN);
        pub(crate) const SCOPE_SPANS: u8 = key(2, LEN);
        pub(crate) const SCHEMA_URL: u8 = key(3, LEN);
    }

    pub(super) mod resource {
        use super::*;
        pub(crate) const ATTRIBUTES: u8 = key(1, LEN);
    }

    pub(super) mod scope_spans {
        use super::*;
        pub(crate) const SCOPE: u8 = key(1, LEN);
        pub(crate) const SPANS: u8 = key(2, LEN);
        pub(crate) const SCHEMA_URL: u8 = key(3, LEN);
    }

    /// `InstrumentationScope`.
    pub(super) mod scope {
        use super::*;
        pub(crate) const NAME: u8 = key(1, LEN);
        pub(crate) const VERSION: u8 = key(2, LEN);
        pub(crate) const ATTRIBUTES: u8 = key(3, LEN);
    }

    pub(super) mod span {
        use super::*;
        pub(crate) const TRACE_ID: u8 = key(1, LEN);
        pub(crate) const SPAN_ID: u8 = key(2, LEN);
        pub(crate) const TRACE_STATE: u8 = key(3, LEN);
        pub(crate) const PARENT_SPAN_ID: u8 = key(4, LEN);
        pub(crate) const NAME: u8 = key(5, LEN);
        pub(crate) const KIND: u8 = key(6, VARINT);
        pub(crate) const START: u8 = key(7, FIXED64);
        pub(crate) const END: u8 = key(8, FIXED64);
        pub(crate) const ATTRIBUTES: u8 = key(9, LEN);
        pub(crate) const DROPPED_ATTRIBUTES_COUNT: u8 = key(10, VARINT);
        pub(crate) const EVENTS: u8 = key(11, LEN);
        pub(crate) const DROPPED_EVENTS_COUNT: u8 = key(12, VARINT);
        pub(crate) const LINKS: u8 = key(13, LEN);
        pub(crate) const DROPPED_LINKS_COUNT: u8 = key(14, VARINT);
        pub(crate) const STATUS: u8 = key(15, LEN);
        /// Field 16, fixed32: a two-byte varint.
        pub(crate) const FLAGS: [u8; 2] = {
            let key = (16 << 3) | FIXED32 as u32;
            [(key & 0x7f) as u8 | 0x80, (key >> 7) as u8]
        };
    }

    pub(super) mod event {
        use super::*;
        pub(crate) const TIME: u8 = key(1, FIXED64);
        pub(crate) const NAME: u8 = key(2, LEN);
        pub(crate) const ATTRIBUTES: u8 = key(3, LEN);
        pub(crate) const DROPPED_ATTRIBUTES_COUNT: u8 = key(4, VARINT);
    }

    pub(super) mod link {
        use super::*;
        pub(crate) const TRACE_ID: u8 = key(1, LEN);
        pub(crate) const SPAN_ID: u8 = key(2, LEN);
        pub(crate) const TRACE_STATE: u8 = key(3, LEN);
        pub(crate) const ATTRIBUTES: u8 = key(4, LEN);
        pub(crate) const DROPPED_ATTRIBUTES_COUNT: u8 = key(5, VARINT);
        pub(crate) const FLAGS: u8 = key(6, FIXED32);
    }

    pub(super) mod status {
        use super::*;
        pub(crate) const MESSAGE: u8 = key(2, LEN);
        pub(crate) const CODE: u8 = key(3, VARINT);
    }

    pub(super) mod key_value {
        use super::*;
        pub(crate) const KEY: u8 = key(1, LEN);
        pub(crate) const VALUE: u8 = key(2, LEN);
    }

    pub(super) mod any_value {
        use super::*;
        pub(crate) const STRING: u8 = key(1, LEN);
        pub(crate) const BOOL: u8 = key(2, VARINT);
        pub(crate) const INT: u8 = key(3, VARINT);
        pub(crate) const DOUBLE: u8 = key(4, FIXED64);
        pub(crate) const ARRAY: u8 = key(5, LEN);
    }

    pub(super) mod array_value {
        use super::*;
        pub(crate) const VALUES: u8 = key(1, LEN);
    }
}

/// The `code.*` attributes of a span, in the order `take_span_data` gives them.
fn code_attributes(
    buf: &mut Out,
    function: Option<&str>,
    file: &str,
    line: u32,
    limit: Option<usize>,
) {
    write_code_attributes_within(buf, function, file, line, limit, usize::MAX);
}

/// As many of the `code.*` attributes as `room` allows, in order; returns the room left.
fn write_code_attributes_within(
    buf: &mut Out,
    function: Option<&str>,
    file: &str,
    line: u32,
    limit: Option<usize>,
    mut room: usize,
) -> usize {
    if let Some(function) = function {
        if room > 0 {
            string_key_value(
                buf,
                keys::span::ATTRIBUTES,
                CODE_FUNCTION_NAME,
                function,
                limit,
            );
            room -= 1;
        }
    }
    if room > 0 {
        string_key_value(buf, keys::span::ATTRIBUTES, CODE_FILE_PATH, file, limit);
        room -= 1;
    }
    if room > 0 {
        int_key_value(
            buf,
            keys::span::ATTRIBUTES,
            CODE_LINE_NUMBER,
            i64::from(line),
        );
        room -= 1;
    }
    room
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::panic::Location;
    use std::time::{Duration, SystemTime};

    use opentelemetry::trace::{
        Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::span::SpanKind as ProtoKind;
    use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLimits, SpanLinks};
    use opentelemetry_sdk::Resource;
    use prost::encoding::{decode_varint, encode_key, WireType};
    use prost::Message;

    use super::{close, keys, open, Out, TracesEncoder, KEPT_SCOPES};
    use crate::export::bounded::truncate_values;
    use crate::pipeline::clock::{self, Anchor};
    use crate::pipeline::record::{Code, InlineAttributes, SpanRecord};
    use crate::pipeline::scope::{self, SCOPE_VERSION};
    use crate::span::callsite::{Callsite, CrateScope};
    use crate::span::exception::ErrorMark;

    static CHECKOUT: Callsite = callsite("shop::checkout", Some("shop"), Some("1.2.3"));
    static BILLING: Callsite = callsite("billing::charge", Some("billing"), None);
    /// A crate built without Cargo's name but with a version: traced's scope when it is traced's.
    static UNNAMED: Callsite = callsite("unnamed::run", None, Some(SCOPE_VERSION));

    const fn callsite(
        function: &'static str,
        name: Option<&'static str>,
        version: Option<&'static str>,
    ) -> Callsite {
        Callsite {
            name: function,
            function,
            file: "src/lib.rs",
            line: 42,
            kind: SpanKind::Internal,
            unset_status: false,
            attr_count: 0,
            scope: CrateScope { name, version },
        }
    }

    /// One span of a batch, as the collector gets it.
    enum Input {
        Record(SpanRecord),
        Sdk(SpanData),
    }

    /// Encodes `inputs` as one batch, checks that the request decodes to what `take_span_data`,
    /// the value length limit and the transform give for them, and returns it.
    fn check(
        encoder: &mut TracesEncoder,
        resource: &Resource,
        anchor: &Anchor,
        inputs: Vec<Input>,
    ) -> ExportTraceServiceRequest {
        let mut batch = Vec::new();
        for input in inputs {
            match input {
                Input::Record(mut record) => {
                    encoder.add_record(&record, anchor);
                    batch.push(record.take_span_data(anchor, &scope::scope(), &encoder.limits));
                }
                Input::Sdk(span) => {
                    encoder.add_span_data(&span);
                    batch.push(span);
                }
            }
        }
        assert_eq!(encoder.len(), batch.len());
        assert_eq!(encoder.is_empty(), batch.is_empty());
        if let Some(limit) = encoder.value_length_limit {
            truncate_values(&mut batch, limit);
        }
        let expected = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(
                batch,
                &ResourceAttributesWithSchema::from(resource),
            ),
        };
        let bytes = encoder.finish();
        assert!(encoder.is_empty());
        let actual = ExportTraceServiceRequest::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(sorted(actual.clone()), sorted(expected));
        actual
    }

    /// The request with its scopes in one order: the transform's order comes from a `HashMap`.
    fn sorted(mut request: ExportTraceServiceRequest) -> ExportTraceServiceRequest {
        for resource_spans in &mut request.resource_spans {
            resource_spans
                .scope_spans
                .sort_by_key(|scope_spans| scope_spans.encode_to_vec());
        }
        request
    }

    fn resource() -> Resource {
        Resource::builder_empty()
            .with_schema_url(
                [
                    KeyValue::new("service.name", "shop"),
                    KeyValue::new("service.version", "4.0.1"),
                    KeyValue::new("host.cores", 2_i64),
                ],
                "https://opentelemetry.io/schemas/1.26.0",
            )
            .build()
    }

    /// An encoder of `resource`: the transform is given the same one, whose attributes are
    /// iterated in the same order (a `HashMap`'s).
    fn encoder(
        resource: &Resource,
        limits: SpanLimits,
        value_length_limit: Option<usize>,
    ) -> TracesEncoder {
        let mut encoder = TracesEncoder::new(limits, value_length_limit);
        encoder.set_resource(resource);
        encoder
    }

    fn context(n: u8, flags: TraceFlags, remote: bool, state: TraceState) -> SpanContext {
        SpanContext::new(
            TraceId::from_bytes([n; 16]),
            SpanId::from_bytes([n, 0, 0, 0, 0, 0, 0, n]),
            flags,
            remote,
            state,
        )
    }

    fn record(n: u8, code: Code) -> SpanRecord {
        let start = clock::now();
        SpanRecord {
            name: Cow::Owned(format!("span {n}")),
            kind: SpanKind::Internal,
            span_context: context(n, TraceFlags::SAMPLED, false, TraceState::NONE),
            parent_span_id: SpanId::from_bytes([0, 0, 0, 0, 0, 0, 0, n]),
            parent_is_remote: false,
            start,
            end: start + Duration::from_micros(1_500),
            end_time: None,
            code,
            attributes: InlineAttributes::new(),
            events: Vec::new(),
            status: Status::Unset,
            error_mark: ErrorMark::default(),
        }
    }

    fn sdk_span(n: u8, scope: InstrumentationScope) -> SpanData {
        let start = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        SpanData {
            span_context: context(n, TraceFlags::SAMPLED, false, TraceState::NONE),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Client,
            name: Cow::Borrowed("GET /orders"),
            start_time: start,
            end_time: start + Duration::from_millis(3),
            attributes: vec![KeyValue::new("http.request.method", "GET")],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: scope,
        }
    }

    fn sdk_scope(name: &'static str) -> InstrumentationScope {
        InstrumentationScope::builder(name).build()
    }

    /// Every type of value, and their edge values (empty, zero, negative, extremes).
    fn every_value() -> Vec<KeyValue> {
        vec![
            KeyValue::new("string", "value"),
            KeyValue::new("empty string", ""),
            KeyValue::new("unicode", "héllo wörld ✓"),
            KeyValue::new("true", true),
            KeyValue::new("false", false),
            KeyValue::new("int", Value::I64(42)),
            KeyValue::new("zero", Value::I64(0)),
            KeyValue::new("negative", Value::I64(-7)),
            KeyValue::new("min", Value::I64(i64::MIN)),
            KeyValue::new("max", Value::I64(i64::MAX)),
            KeyValue::new("float", Value::F64(1.5)),
            KeyValue::new("zero float", Value::F64(0.0)),
            KeyValue::new("negative float", Value::F64(-1e300)),
            KeyValue::new("infinity", Value::F64(f64::INFINITY)),
            KeyValue::new("bools", Value::Array(Array::Bool(vec![true, false]))),
            KeyValue::new(
                "ints",
                Value::Array(Array::I64(vec![1, 0, -1, i64::MIN, 300])),
            ),
            KeyValue::new("floats", Value::Array(Array::F64(vec![0.25, 0.0, -2.0]))),
            KeyValue::new(
                "strings",
                Value::Array(Array::String(vec![
                    StringValue::from("a"),
                    StringValue::from(""),
                    StringValue::from("héllo wörld"),
                ])),
            ),
            KeyValue::new("no ints", Value::Array(Array::I64(Vec::new()))),
            KeyValue::new("no strings", Value::Array(Array::String(Vec::new()))),
            KeyValue::new("", "an empty key"),
        ]
    }

    fn at(nanos: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos)
    }

    #[test]
    fn keys_are_those_prost_writes() {
        use WireType::{LengthDelimited as Len, SixtyFourBit, ThirtyTwoBit, Varint};
        let one_byte = [
            (keys::request::RESOURCE_SPANS, 1, Len),
            (keys::resource_spans::SCOPE_SPANS, 2, Len),
            (keys::resource_spans::SCHEMA_URL, 3, Len),
            (keys::scope::ATTRIBUTES, 3, Len),
            (keys::span::PARENT_SPAN_ID, 4, Len),
            (keys::span::KIND, 6, Varint),
            (keys::span::START, 7, SixtyFourBit),
            (keys::span::END, 8, SixtyFourBit),
            (keys::span::DROPPED_ATTRIBUTES_COUNT, 10, Varint),
            (keys::span::DROPPED_LINKS_COUNT, 14, Varint),
            (keys::span::STATUS, 15, Len),
            (keys::event::TIME, 1, SixtyFourBit),
            (keys::event::DROPPED_ATTRIBUTES_COUNT, 4, Varint),
            (keys::link::FLAGS, 6, ThirtyTwoBit),
            (keys::status::CODE, 3, Varint),
            (keys::any_value::BOOL, 2, Varint),
            (keys::any_value::DOUBLE, 4, SixtyFourBit),
            (keys::any_value::ARRAY, 5, Len),
        ];
        for (key, tag, wire_type) in one_byte {
            let mut prost = Vec::new();
            encode_key(tag, wire_type, &mut prost);
            assert_eq!(prost, [key], "field {tag}");
        }
        let mut prost = Vec::new();
        encode_key(16, ThirtyTwoBit, &mut prost);
        assert_eq!(prost, keys::span::FLAGS);
    }

    #[test]
    fn lengths_written_after_the_content_take_the_bytes_they_need() {
        for reserved in [1, 2] {
            for len in [0, 1, 127, 128, 300, 16_383, 16_384, 100_000] {
                let mut out = Out::default();
                out.push(0xAA);
                let at = open(&mut out, 0x12, reserved);
                out.put(&(0..len).map(|i| i as u8).collect::<Vec<_>>());
                close(&mut out, at, reserved);
                let buf = out.written();
                let mut rest = &buf[2..];
                assert_eq!(buf[..2], [0xAA, 0x12]);
                assert_eq!(decode_varint(&mut rest).unwrap(), len as u64);
                assert!(rest.iter().copied().eq((0..len).map(|i| i as u8)));
            }
        }
    }

    /// Records of each kind of code, with every type of value, events, each status and kind,
    /// remote and local parents, a trace state, an end time of the API.
    #[test]
    fn code_attributes_copied_for_a_location_seen_before_are_those_written() {
        let anchor = Anchor::now();
        let resource = resource();
        let here = Location::caller();
        let location = |within| Code::Location {
            location: here,
            within,
        };
        // Each location twice, the second time from the cache; the two in_span locations
        // share their `Location` and differ by their enclosing function.
        let codes = [
            Code::Callsite(&CHECKOUT),
            Code::Callsite(&BILLING),
            location(None),
            location(Some(&BILLING)),
        ];
        let two_attributes = SpanLimits {
            max_attributes_per_span: 2,
            ..SpanLimits::default()
        };
        for limits in [SpanLimits::default(), two_attributes] {
            for value_length_limit in [None, Some(4)] {
                let mut encoder = encoder(&resource, limits, value_length_limit);
                let inputs = codes
                    .iter()
                    .chain(codes.iter())
                    .enumerate()
                    .map(|(n, code)| Input::Record(record(n as u8 + 1, *code)))
                    .collect();
                check(&mut encoder, &resource, &anchor, inputs);
            }
        }
    }

    #[test]
    fn records_decode_as_the_transform_gives_them() {
        let anchor = Anchor::now();
        let resource = resource();
        let mut encoder = encoder(&resource, SpanLimits::default(), None);

        let mut checkout = record(1, Code::Callsite(&CHECKOUT));
        checkout.kind = SpanKind::Server;
        checkout.attributes = every_value().into_iter().collect();
        checkout.events = vec![
            Event::new("cache miss", at(1_700_000_000_000_000_001), Vec::new(), 0),
            Event::new("retry", SystemTime::now(), every_value(), 2),
        ];
        checkout.status = Status::Ok;

        let mut charge = record(
            2,
            Code::Location {
                location: Location::caller(),
                within: Some(&BILLING),
            },
        );
        charge.kind = SpanKind::Client;
        charge.parent_is_remote = true;
        charge.status = Status::error("card declined");
        charge
            .attributes
            .push(KeyValue::new("amount", Value::F64(9.99)));

        let mut orphan = record(
            3,
            Code::Location {
                location: Location::caller(),
                within: None,
            },
        );
        orphan.kind = SpanKind::Consumer;
        orphan.parent_span_id = SpanId::INVALID;
        orphan.span_context = context(
            3,
            TraceFlags::NOT_SAMPLED,
            true,
            TraceState::from_key_value([("vendor", "a1"), ("other", "b:2")]).unwrap(),
        );
        orphan.end_time = Some(at(1_800_000_000_000_000_000));
        // Before the epoch: 0, as the transform sends it.
        orphan.events = vec![Event::new(
            "early",
            at(0) - Duration::from_secs(1),
            Vec::new(),
            0,
        )];

        let mut produce = record(4, Code::Callsite(&UNNAMED));
        produce.kind = SpanKind::Producer;
        produce.status = Status::error("");
        produce.name = Cow::Borrowed("");

        let request = check(
            &mut encoder,
            &resource,
            &anchor,
            [checkout, charge, orphan, produce]
                .into_iter()
                .map(Input::Record)
                .collect(),
        );
        // shop, billing, traced (the orphan and the unnamed crate).
        assert_eq!(request.resource_spans[0].scope_spans.len(), 3);
    }

    /// SDK spans with links, events, every type of value, a remote parent, an error status and
    /// dropped counts, under a scope with a version, a schema url and attributes.
    #[test]
    fn sdk_spans_decode_as_the_transform_gives_them() {
        let anchor = Anchor::now();
        let resource = resource();
        let mut encoder = encoder(&resource, SpanLimits::default(), None);
        let scope = InstrumentationScope::builder("orders-client")
            .with_version("0.9.0")
            .with_schema_url("https://opentelemetry.io/schemas/1.21.0")
            .with_attributes([
                KeyValue::new("team", "payments"),
                KeyValue::new("tier", Value::I64(1)),
            ])
            .build();

        let mut full = sdk_span(1, scope.clone());
        full.parent_span_id = SpanId::from_bytes([9; 8]);
        full.parent_span_is_remote = true;
        full.span_context = context(
            1,
            TraceFlags::SAMPLED,
            false,
            TraceState::from_key_value([("congo", "t61rcWkgMzE")]).unwrap(),
        );
        full.attributes = every_value();
        full.dropped_attributes_count = 3;
        full.events.events = vec![
            Event::new("sent", at(1_700_000_000_500_000_000), every_value(), 1),
            Event::new("received", at(1_700_000_000_600_000_000), Vec::new(), 0),
        ];
        full.events.dropped_count = 4;
        full.links.links = vec![
            Link::new(
                context(
                    7,
                    TraceFlags::SAMPLED,
                    true,
                    TraceState::from_key_value([("k", "v")]).unwrap(),
                ),
                every_value(),
                2,
            ),
            Link::new(
                context(8, TraceFlags::NOT_SAMPLED, false, TraceState::NONE),
                Vec::new(),
                0,
            ),
        ];
        full.links.dropped_count = 5;
        full.status = Status::error("upstream timed out");

        let mut plain = sdk_span(2, scope);
        plain.span_kind = SpanKind::Internal;
        plain.status = Status::Ok;
        plain.attributes = Vec::new();

        let request = check(
            &mut encoder,
            &resource,
            &anchor,
            vec![Input::Sdk(full), Input::Sdk(plain)],
        );
        assert_eq!(request.resource_spans[0].scope_spans.len(), 1);
        assert_eq!(request.resource_spans[0].scope_spans[0].spans.len(), 2);
    }

    /// Scopes in one batch, interleaved, grouped by the SDK's equality of scopes as the
    /// transform groups them: a crate's scope and the SDK's same scope are one group, the same
    /// attributes in another order too, another schema url is another group.
    #[test]
    fn spans_are_grouped_by_scope_as_the_transform_groups_them() {
        let anchor = Anchor::now();
        let resource = resource();
        let mut encoder = encoder(&resource, SpanLimits::default(), None);
        let tagged = |attributes: [(&'static str, &'static str); 2]| {
            InstrumentationScope::builder("tagged")
                .with_attributes(attributes.map(|(k, v)| KeyValue::new(k, v)))
                .build()
        };
        let shop = || {
            InstrumentationScope::builder("shop")
                .with_version("1.2.3")
                .build()
        };
        let inputs = vec![
            Input::Record(record(1, Code::Callsite(&CHECKOUT))),
            Input::Sdk(sdk_span(2, tagged([("a", "1"), ("b", "2")]))),
            Input::Record(record(3, Code::Callsite(&BILLING))),
            Input::Record(record(
                4,
                Code::Location {
                    location: Location::caller(),
                    within: None,
                },
            )),
            Input::Sdk(sdk_span(5, scope::scope())),
            Input::Record(record(6, Code::Callsite(&UNNAMED))),
            Input::Sdk(sdk_span(7, tagged([("b", "2"), ("a", "1")]))),
            Input::Sdk(sdk_span(8, shop())),
            Input::Sdk(sdk_span(
                9,
                InstrumentationScope::builder("shop")
                    .with_version("1.2.3")
                    .with_schema_url("https://example.com/schema")
                    .build(),
            )),
            Input::Sdk(sdk_span(10, sdk_scope("billing"))),
            Input::Record(record(11, Code::Callsite(&CHECKOUT))),
            Input::Sdk(sdk_span(12, shop())),
            Input::Record(record(13, Code::Callsite(&BILLING))),
        ];
        let request = check(&mut encoder, &resource, &anchor, inputs);
        // shop, tagged, billing, traced, shop with a schema url.
        let groups = &request.resource_spans[0].scope_spans;
        assert_eq!(groups.len(), 5);
        let shop = groups
            .iter()
            .find(|group| {
                group.scope.as_ref().unwrap().name == "shop" && group.schema_url.is_empty()
            })
            .unwrap();
        assert_eq!(shop.spans.len(), 4);
    }

    /// The span limits on records, as `take_span_data` applies them: the `code.*` attributes
    /// first, then the record's, events, attributes of events (on top of those an event dropped
    /// already); SDK spans are not limited again.
    #[test]
    fn span_limits_apply_to_records_as_take_span_data_applies_them() {
        let anchor = Anchor::now();
        let limits = SpanLimits {
            max_attributes_per_span: 2,
            max_events_per_span: 2,
            max_attributes_per_event: 1,
            ..SpanLimits::default()
        };
        let resource = resource();
        let mut encoder = encoder(&resource, limits, None);

        let mut cut_in_code = record(1, Code::Callsite(&CHECKOUT));
        cut_in_code.attributes = every_value().into_iter().take(3).collect();
        cut_in_code.events = vec![
            Event::new("one", at(1), every_value(), 0),
            Event::new("two", at(2), every_value(), 3),
            Event::new("three", at(3), Vec::new(), 0),
            Event::new("four", at(4), Vec::new(), 0),
        ];
        let mut room_for_one = record(
            2,
            Code::Location {
                location: Location::caller(),
                within: None,
            },
        );
        room_for_one.attributes = every_value().into_iter().take(4).collect();
        room_for_one.events = vec![Event::new("only", at(5), vec![KeyValue::new("k", "v")], 0)];
        let mut within_limits = sdk_span(3, sdk_scope("sdk"));
        within_limits.attributes = every_value();
        let request = check(
            &mut encoder,
            &resource,
            &anchor,
            vec![
                Input::Record(cut_in_code),
                Input::Record(room_for_one),
                Input::Sdk(within_limits),
            ],
        );
        let spans: Vec<_> = request.resource_spans[0]
            .scope_spans
            .iter()
            .flat_map(|group| &group.spans)
            .collect();
        let cut = spans.iter().find(|span| span.name == "span 1").unwrap();
        assert_eq!(cut.attributes.len(), 2);
        assert_eq!(cut.dropped_attributes_count, 4);
        assert_eq!(cut.dropped_events_count, 2);
        assert_eq!(
            cut.events[1].dropped_attributes_count,
            3 + every_value().len() as u32 - 1
        );
        let sdk = spans
            .iter()
            .find(|span| span.name == "GET /orders")
            .unwrap();
        assert_eq!(sdk.attributes.len(), every_value().len());

        // No room at all.
        let mut encoder = encoder_with_no_room(&resource);
        let mut none = record(4, Code::Callsite(&CHECKOUT));
        none.attributes = every_value().into_iter().collect();
        none.events = vec![Event::new("dropped", at(6), Vec::new(), 0)];
        check(&mut encoder, &resource, &anchor, vec![Input::Record(none)]);
    }

    fn encoder_with_no_room(resource: &Resource) -> TracesEncoder {
        encoder(
            resource,
            SpanLimits {
                max_attributes_per_span: 0,
                max_events_per_span: 0,
                max_attributes_per_event: 0,
                ..SpanLimits::default()
            },
            None,
        )
    }

    /// String values (and the strings of string arrays) of spans, events and links, the
    /// `code.*` attributes too, are cut to the limit on character boundaries; the resource and
    /// the scopes are sent whole.
    #[test]
    fn string_values_are_cut_to_the_value_length_limit() {
        let anchor = Anchor::now();
        let long_resource = Resource::builder_empty()
            .with_attributes([KeyValue::new("service.name", "a long service name")])
            .build();
        for limit in [0, 3, 12] {
            let mut encoder = TracesEncoder::new(SpanLimits::default(), Some(limit));
            encoder.set_resource(&long_resource);

            let mut checkout = record(1, Code::Callsite(&CHECKOUT));
            checkout.attributes = every_value().into_iter().collect();
            checkout
                .attributes
                .push(KeyValue::new("short in chars", "ééé"));
            checkout.events = vec![Event::new("e", at(7), every_value(), 0)];
            let scope = InstrumentationScope::builder("scoped")
                .with_attributes([KeyValue::new("whole", "a scope attribute")])
                .build();
            let mut linked = sdk_span(2, scope);
            linked.attributes = every_value();
            linked.events.events = vec![Event::new("e", at(8), every_value(), 0)];
            linked.links.links = vec![Link::new(
                context(3, TraceFlags::SAMPLED, false, TraceState::NONE),
                every_value(),
                0,
            )];
            let request = check(
                &mut encoder,
                &long_resource,
                &anchor,
                vec![Input::Record(checkout), Input::Sdk(linked)],
            );
            let resource = request.resource_spans[0].resource.as_ref().unwrap();
            assert_eq!(
                format!("{:?}", resource.attributes[0].value),
                format!(
                    "{:?}",
                    Some(opentelemetry_proto::tonic::common::v1::AnyValue::from(
                        Value::from("a long service name")
                    ))
                )
            );
        }
    }

    #[test]
    fn an_empty_batch_is_the_resource_alone() {
        let anchor = Anchor::now();
        // No resource set: an empty one.
        let mut encoder = TracesEncoder::new(SpanLimits::default(), None);
        let request = check(
            &mut encoder,
            &Resource::builder_empty().build(),
            &anchor,
            Vec::new(),
        );
        assert_eq!(request.resource_spans.len(), 1);
        assert!(request.resource_spans[0].resource.is_some());
        let resource = resource();
        encoder.set_resource(&resource);
        let request = check(&mut encoder, &resource, &anchor, Vec::new());
        assert!(request.resource_spans[0].scope_spans.is_empty());
        assert!(!request.resource_spans[0].schema_url.is_empty());
    }

    /// After `finish`, the next batch holds only its own spans, under the resource set last,
    /// in the buffers of the previous batches; scopes past [`KEPT_SCOPES`] are forgotten when
    /// unused.
    #[test]
    fn the_encoder_is_reused_batch_after_batch() {
        let anchor = Anchor::now();
        let resource = resource();
        let mut encoder = encoder(&resource, SpanLimits::default(), None);
        let first = vec![
            Input::Record(record(1, Code::Callsite(&CHECKOUT))),
            Input::Sdk(sdk_span(2, sdk_scope("a"))),
            Input::Record(record(3, Code::Callsite(&BILLING))),
        ];
        check(&mut encoder, &resource, &anchor, first);
        let capacities: Vec<usize> = encoder.scopes.iter().map(|s| s.spans.bytes.len()).collect();
        assert!(capacities.iter().all(|&capacity| capacity > 0));

        let other = Resource::builder_empty()
            .with_attributes([KeyValue::new("service.name", "other")])
            .build();
        encoder.set_resource(&other);
        let second = vec![
            Input::Record(record(4, Code::Callsite(&BILLING))),
            Input::Sdk(sdk_span(5, sdk_scope("b"))),
        ];
        let request = check(&mut encoder, &other, &anchor, second);
        assert_eq!(request.resource_spans[0].scope_spans.len(), 2);
        assert_eq!(
            encoder.scopes[..capacities.len()]
                .iter()
                .map(|s| s.spans.bytes.len())
                .collect::<Vec<_>>(),
            capacities
        );

        // Many scopes of the API: the unused ones are forgotten, the others still found.
        let names: Vec<&'static str> = (0..KEPT_SCOPES + 6)
            .map(|n| &*String::leak(format!("scope {n}")))
            .collect();
        let many = names
            .iter()
            .enumerate()
            .map(|(n, name)| Input::Sdk(sdk_span(n as u8 + 1, sdk_scope(name))))
            .collect();
        check(&mut encoder, &other, &anchor, many);
        let after = vec![
            Input::Sdk(sdk_span(1, sdk_scope(names[0]))),
            Input::Record(record(2, Code::Callsite(&CHECKOUT))),
        ];
        check(&mut encoder, &other, &anchor, after);
        assert!(encoder.scopes.len() <= KEPT_SCOPES + 6);
        let last = vec![
            Input::Record(record(3, Code::Callsite(&CHECKOUT))),
            Input::Record(record(4, Code::Callsite(&BILLING))),
            Input::Sdk(sdk_span(5, sdk_scope(names[0]))),
            Input::Sdk(sdk_span(6, sdk_scope(names[1]))),
        ];
        check(&mut encoder, &other, &anchor, last);
    }

    /// Spans, events and links longer than the bytes reserved for their length, and shorter.
    #[test]
    fn long_and_short_messages_get_their_lengths_right() {
        let anchor = Anchor::now();
        let resource = resource();
        let mut encoder = encoder(&resource, SpanLimits::default(), None);
        let long = "x".repeat(20_000);
        let mut big = record(1, Code::Callsite(&CHECKOUT));
        big.attributes.push(KeyValue::new("payload", long.clone()));
        big.events = vec![
            Event::new("big", at(1), vec![KeyValue::new("k", long.clone())], 0),
            Event::new(
                "medium",
                at(2),
                vec![KeyValue::new("k", "y".repeat(200))],
                0,
            ),
        ];
        let mut small = sdk_span(2, sdk_scope("s"));
        small.name = Cow::Borrowed("");
        small.attributes = Vec::new();
        small.links.links = vec![
            Link::new(
                context(3, TraceFlags::SAMPLED, false, TraceState::NONE),
                vec![KeyValue::new("k", long)],
                0,
            ),
            Link::new(
                context(4, TraceFlags::SAMPLED, false, TraceState::NONE),
                Vec::new(),
                0,
            ),
        ];
        let mut tiny = sdk_span(5, sdk_scope("s"));
        tiny.attributes = Vec::new();
        check(
            &mut encoder,
            &resource,
            &anchor,
            vec![Input::Record(big), Input::Sdk(small), Input::Sdk(tiny)],
        );
    }

    /// The bytes are an `ExportTraceServiceRequest` with the record's fields where OTLP puts
    /// them.
    #[test]
    fn the_request_is_an_export_trace_service_request() {
        let anchor = Anchor::now();
        let resource = resource();
        let mut encoder = encoder(&resource, SpanLimits::default(), None);
        let mut span = record(5, Code::Callsite(&CHECKOUT));
        span.kind = SpanKind::Server;
        span.parent_is_remote = true;
        span.status = Status::error("out of stock");
        span.attributes
            .push(KeyValue::new("order.id", Value::I64(77)));
        let start = anchor.system_time(span.start);
        encoder.add_record(&span, &anchor);

        let request = ExportTraceServiceRequest::decode(encoder.finish().as_slice()).unwrap();
        let resource_spans = &request.resource_spans[0];
        assert_eq!(
            resource_spans.schema_url,
            "https://opentelemetry.io/schemas/1.26.0"
        );
        assert_eq!(
            resource_spans.resource.as_ref().unwrap().attributes.len(),
            3
        );
        let scope_spans = &resource_spans.scope_spans[0];
        let scope = scope_spans.scope.as_ref().unwrap();
        assert_eq!((&*scope.name, &*scope.version), ("shop", "1.2.3"));
        let span = &scope_spans.spans[0];
        assert_eq!(span.trace_id, [5; 16]);
        assert_eq!(span.span_id, [5, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(span.parent_span_id, [0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(span.flags, 0x301);
        assert_eq!(span.name, "span 5");
        assert_eq!(span.kind, ProtoKind::Server as i32);
        assert_eq!(
            span.start_time_unix_nano,
            start
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        );
        assert_eq!(
            span.end_time_unix_nano - span.start_time_unix_nano,
            1_500_000
        );
        let keys: Vec<&str> = span.attributes.iter().map(|kv| &*kv.key).collect();
        assert_eq!(
            keys,
            [
                "code.function.name",
                "code.file.path",
                "code.line.number",
                "order.id"
            ]
        );
        let status = span.status.as_ref().unwrap();
        assert_eq!(status.code, StatusCode::Error as i32);
        assert_eq!(status.message, "out of stock");
    }
}
