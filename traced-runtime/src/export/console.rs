//! The console exporter: each finished trace printed as a tree, with a waterfall.
//!
//! ```text
//! ── trace 4bf92f3577b34da6a3ce929d0e0e4736 · quickstart · 4 spans · 12.31 ms
//! ✓ quickstart::handle_request [server]  ██████████████████████████████  12.31 ms
//!     http.route="/orders"
//!   ✓ quickstart::load_user              ████··························   1.02 ms  user.id=7
//!   ✗ quickstart::charge                 ·····███████████··············   5.10 ms  card declined
//!       ! exception +3.20 ms exception.type="PaymentError" exception.message="card declined"
//! ```
//!
//! Spans are kept until their trace's local root ends (a span without a parent, or with a
//! remote one), then the trace is printed at once; spans whose root never ends here are
//! printed on flush and shutdown. Every bar is on the trace's time axis, so the picture reads
//! like a trace viewer's. Colour only when stdout is a terminal and `NO_COLOR` is unset.

use crate::semconv::{EXCEPTION_STACKTRACE, SERVICE_NAME};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::Value;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

const BAR_WIDTH: usize = 30;
const MAX_NAME_WIDTH: usize = 60;

/// The spans of a trace not printed yet.
#[derive(Default)]
struct Pending {
    spans: Vec<SpanData>,
    /// The export in which a span with a remote parent (a local root) arrived.
    local_root_in: Option<u64>,
}

/// Prints traces on stdout (or a writer given in tests).
///
/// A trace is printed, as one tree, when its root span arrives; a trace whose root is in
/// another process, one export after its local root arrived (so that services of one process
/// calling each other still print one tree); whatever is left, on flush and shutdown.
pub(crate) struct ConsoleExporter {
    pending: Mutex<(u64, HashMap<TraceId, Pending>)>,
    service: Option<String>,
    color: bool,
    out: Mutex<Box<dyn std::io::Write + Send>>,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleExporter")
            .field("color", &self.color)
            .finish_non_exhaustive()
    }
}

impl ConsoleExporter {
    /// On stdout, coloured when it is a terminal unless `no_color`.
    pub(crate) fn stdout(no_color: bool) -> ConsoleExporter {
        use std::io::IsTerminal as _;
        let color = !no_color && std::io::stdout().is_terminal();
        ConsoleExporter::new(Box::new(std::io::stdout()), color)
    }

    pub(crate) fn new(out: Box<dyn std::io::Write + Send>, color: bool) -> ConsoleExporter {
        ConsoleExporter {
            pending: Mutex::new((0, HashMap::new())),
            service: None,
            color,
            out: Mutex::new(out),
        }
    }

    fn print(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn flush_all(&self) {
        let traces: Vec<Vec<SpanData>> = {
            let mut pending = self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pending.1.drain().map(|(_, trace)| trace.spans).collect()
        };
        let mut text = String::new();
        for spans in traces {
            text.push_str(&render_trace(spans, self.service.as_deref(), self.color));
        }
        self.print(&text);
    }
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut complete = Vec::new();
        {
            let mut pending = self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pending.0 += 1;
            let (export, traces) = &mut *pending;
            // The whole batch first: the spans of a trace may come in any order within it.
            let mut rooted = Vec::new();
            for span in batch {
                let trace_id = span.span_context.trace_id();
                if span.parent_span_id == SpanId::INVALID {
                    rooted.push(trace_id);
                }
                let local_root = span.parent_span_is_remote;
                let trace = traces.entry(trace_id).or_default();
                trace.spans.push(span);
                if local_root {
                    trace.local_root_in.get_or_insert(*export);
                }
            }
            let ready: Vec<TraceId> = traces
                .iter()
                .filter(|(trace_id, trace)| {
                    rooted.contains(trace_id)
                        || trace.local_root_in.is_some_and(|seen| seen < *export)
                })
                .map(|(trace_id, _)| *trace_id)
                .collect();
            for trace_id in ready {
                if let Some(trace) = traces.remove(&trace_id) {
                    complete.push(trace.spans);
                }
            }
        }
        let mut text = String::new();
        for spans in complete {
            text.push_str(&render_trace(spans, self.service.as_deref(), self.color));
        }
        self.print(&text);
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.flush_all();
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.flush_all();
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.service = resource
            .get(&opentelemetry::Key::from_static_str(SERVICE_NAME))
            .map(|name| name.to_string());
    }
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }
    fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    fn cyan(&self, text: &str) -> String {
        self.paint("36", text)
    }
}

/// Renders one trace (or the part of it that ended): a header line, then each span as a tree.
pub(crate) fn render_trace(mut spans: Vec<SpanData>, service: Option<&str>, color: bool) -> String {
    if spans.is_empty() {
        return String::new();
    }
    let style = Style { color };
    spans.sort_by_key(|span| span.start_time);
    let start = spans
        .iter()
        .map(|s| s.start_time)
        .min()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let end = spans.iter().map(|s| s.end_time).max().unwrap_or(start);
    let total = end.duration_since(start).unwrap_or_default();
    let ids: Vec<SpanId> = spans.iter().map(|s| s.span_context.span_id()).collect();
    let roots: Vec<usize> = (0..spans.len())
        .filter(|i| !ids.contains(&spans[*i].parent_span_id))
        .collect();

    // The tree, in order: (index, depth).
    let mut order = Vec::with_capacity(spans.len());
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|i| (*i, 0)).collect();
    while let Some((index, depth)) = stack.pop() {
        order.push((index, depth));
        let id = ids[index];
        let children: Vec<usize> = (0..spans.len())
            .filter(|i| spans[*i].parent_span_id == id && *i != index)
            .collect();
        stack.extend(children.into_iter().rev().map(|child| (child, depth + 1)));
    }

    let label = |span: &SpanData| match span.span_kind {
        SpanKind::Internal => span.name.to_string(),
        ref kind => format!("{} [{}]", span.name, kind_name(kind)),
    };
    let name_width = order
        .iter()
        .map(|(i, depth)| depth * 2 + 2 + label(&spans[*i]).chars().count())
        .max()
        .unwrap_or(0)
        .min(MAX_NAME_WIDTH);

    let mut out = String::new();
    let mut header = format!("── trace {}", spans[0].span_context.trace_id());
    if let Some(service) = service {
        let _ = write!(header, " · {service}");
    }
    let count = spans.len();
    let _ = write!(
        header,
        " · {count} span{} · {}",
        if count == 1 { "" } else { "s" },
        format_duration(total)
    );
    let _ = writeln!(out, "{}", style.bold(&header));

    for (index, depth) in order {
        let span = &spans[index];
        let indent = "  ".repeat(depth);
        let (mark, painted_mark) = match &span.status {
            Status::Ok => ("✓", style.green("✓")),
            Status::Error { .. } => ("✗", style.red("✗")),
            Status::Unset => ("•", style.dim("•")),
        };
        let _ = mark;
        let name = truncate_chars(&label(span), name_width.saturating_sub(depth * 2 + 2));
        let pad = name_width.saturating_sub(depth * 2 + 2 + name.chars().count());
        let duration = span
            .end_time
            .duration_since(span.start_time)
            .unwrap_or_default();
        let bar = bar(span, start, total);
        let bar = match &span.status {
            Status::Error { .. } => style.red(&bar),
            _ => style.cyan(&bar),
        };
        let _ = write!(
            out,
            "{indent}{painted_mark} {name}{}  {bar}  {:>9}",
            " ".repeat(pad),
            format_duration(duration)
        );
        if let Status::Error { description } = &span.status {
            if !description.is_empty() {
                let _ = write!(out, "  {}", style.red(description));
            }
        }
        out.push('\n');
        let attrs = attributes(
            span.attributes
                .iter()
                .map(|kv| (kv.key.as_str(), &kv.value)),
        );
        if !attrs.is_empty() {
            let _ = writeln!(out, "{indent}    {}", style.dim(&attrs));
        }
        for event in span.events.iter() {
            let at = event
                .timestamp
                .duration_since(span.start_time)
                .unwrap_or_default();
            let exception = event.name == "exception";
            let mark = if exception {
                style.red("!")
            } else {
                style.dim("*")
            };
            let attrs = attributes(
                event
                    .attributes
                    .iter()
                    .filter(|kv| kv.key.as_str() != EXCEPTION_STACKTRACE)
                    .map(|kv| (kv.key.as_str(), &kv.value)),
            );
            let _ = writeln!(
                out,
                "{indent}    {mark} {} {} {}",
                event.name,
                style.dim(&format!("+{}", format_duration(at))),
                style.dim(&attrs)
            );
        }
        for link in span.links.iter() {
            let _ = writeln!(
                out,
                "{indent}    {} {}/{}",
                style.dim("→ link"),
                link.span_context.trace_id(),
                link.span_context.span_id()
            );
        }
    }
    out
}

/// `code.*` attributes are left out: the span name already says where.
fn attributes<'a>(attributes: impl Iterator<Item = (&'a str, &'a Value)>) -> String {
    let mut out = String::new();
    for (key, value) in attributes {
        if key.starts_with("code.") {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let value = match value {
            Value::String(s) => format!("{:?}", truncate_chars(s.as_str(), 120)),
            other => truncate_chars(&other.to_string(), 120),
        };
        let _ = write!(out, "{key}={value}");
    }
    out
}

fn bar(span: &SpanData, start: SystemTime, total: Duration) -> String {
    let offset = span.start_time.duration_since(start).unwrap_or_default();
    let length = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let (from, to) = if total.is_zero() {
        (0, BAR_WIDTH)
    } else {
        let scale = |d: Duration| {
            ((d.as_secs_f64() / total.as_secs_f64()) * BAR_WIDTH as f64).round() as usize
        };
        let from = scale(offset).min(BAR_WIDTH - 1);
        let to = scale(offset + length).clamp(from + 1, BAR_WIDTH);
        (from, to)
    };
    let mut bar = String::with_capacity(BAR_WIDTH * 3);
    for column in 0..BAR_WIDTH {
        bar.push(if (from..to).contains(&column) {
            '█'
        } else {
            '·'
        });
    }
    bar
}

fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

pub(crate) fn format_duration(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros < 1_000.0 {
        format!("{micros:.0} µs")
    } else if micros < 1_000_000.0 {
        format!("{:.2} ms", micros / 1e3)
    } else {
        format!("{:.2} s", micros / 1e6)
    }
}

pub(crate) fn kind_name(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::Arc;

    use opentelemetry::trace::{Event, SpanContext, TraceFlags, TraceState};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    fn span(
        id: u64,
        parent: u64,
        name: &'static str,
        from_ms: u64,
        to_ms: u64,
        status: Status,
    ) -> SpanData {
        let at = |ms| {
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(ms)
        };
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Borrowed(name),
            start_time: at(from_ms),
            end_time: at(to_ms),
            attributes: vec![KeyValue::new("code.line.number", 3)],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status,
            instrumentation_scope: InstrumentationScope::builder("traced").build(),
        }
    }

    fn trace() -> Vec<SpanData> {
        let mut root = span(1, 0, "handle_request", 0, 100, Status::Ok);
        root.span_kind = SpanKind::Server;
        root.attributes.push(KeyValue::new("http.route", "/orders"));
        let mut load = span(2, 1, "load_user", 10, 30, Status::Ok);
        load.attributes.push(KeyValue::new("user.id", 7));
        let mut charge = span(3, 1, "charge", 40, 90, Status::error("card declined"));
        charge.events.events.push(Event::new(
            "exception",
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(60),
            vec![
                KeyValue::new("exception.type", "PaymentError"),
                KeyValue::new("exception.stacktrace", "long"),
            ],
            0,
        ));
        let query = span(4, 2, "query", 12, 28, Status::Unset);
        vec![charge, query, load, root]
    }

    #[test]
    fn renders_a_trace_as_a_tree_with_a_waterfall() {
        let text = render_trace(trace(), Some("shop"), false);
        let expected = "\
── trace 4bf92f3577b34da6a3ce929d0e0e4736 · shop · 4 spans · 100.00 ms
✓ handle_request [server]  ██████████████████████████████  100.00 ms
    http.route=\"/orders\"
  ✓ load_user              ···██████·····················   20.00 ms
      user.id=7
    • query                ····████······················   16.00 ms
  ✗ charge                 ············███████████████···   50.00 ms  card declined
      ! exception +20.00 ms exception.type=\"PaymentError\"
";
        assert_eq!(text, expected, "\n{text}");
    }

    #[test]
    fn colour_only_when_asked() {
        assert!(!render_trace(trace(), None, false).contains('\x1b'));
        assert!(render_trace(trace(), None, true).contains("\x1b[31m"));
    }

    /// The output of a future that is ready at once (the console export is synchronous).
    fn ready<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the console export is synchronous"),
        }
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn prints_a_trace_when_its_root_ends_and_the_rest_on_flush() {
        let buffer = Buffer::default();
        let exporter = ConsoleExporter::new(Box::new(buffer.clone()), false);
        let mut spans = trace();
        let root = spans.pop().unwrap();
        ready(exporter.export(spans)).unwrap();
        assert!(
            buffer.0.lock().unwrap().is_empty(),
            "printed before the root ended"
        );
        ready(exporter.export(vec![root])).unwrap();
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("4 spans"), "{text}");

        // A local root (remote parent) waits one export for the rest of its process's spans.
        let mut served = span(7, 6, "served", 0, 5, Status::Ok);
        served.parent_span_is_remote = true;
        ready(exporter.export(vec![served])).unwrap();
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("served"), "{text}");

        let orphan = span(9, 8, "detached", 0, 5, Status::Unset);
        ready(exporter.export(vec![orphan])).unwrap();
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("served"), "printed one export later: {text}");
        exporter.force_flush().unwrap();
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("• detached"), "{text}");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_micros(412)), "412 µs");
        assert_eq!(format_duration(Duration::from_micros(12_310)), "12.31 ms");
        assert_eq!(format_duration(Duration::from_millis(2_500)), "2.50 s");
    }
}
