//! What the log tests share: a writer whose output they read back, the ids of captured spans in
//! the form log lines carry them, and one request's journey across awaits and threads.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use traced_runtime::opentelemetry::context::FutureExt as _;
use traced_runtime::opentelemetry_sdk::trace::SpanData;
use traced_runtime::testing::Spans;
use traced_runtime::{traced, Context};

/// An in-memory log destination, shared by every clone.
#[derive(Clone, Default)]
pub struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    /// Everything written so far.
    pub fn contents(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The lines written so far that contain `marker`.
    pub fn lines_with(&self, marker: &str) -> Vec<String> {
        self.contents()
            .lines()
            .filter(|line| line.contains(marker))
            .map(str::to_owned)
            .collect()
    }
}

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

/// `(trace_id, span_id)` of `span` as log lines write them.
pub fn hex_ids(span: &SpanData) -> (String, String) {
    (
        span.span_context.trace_id().to_string(),
        span.span_context.span_id().to_string(),
    )
}

/// The captured span named `name`, whose ids a line must carry.
pub fn span<'a>(spans: &'a Spans, name: &str) -> &'a SpanData {
    spans
        .find(name)
        .unwrap_or_else(|| panic!("no span {name:?} in {:?}", spans.names()))
}

/// The captured span whose id is `span_id` (hex).
pub fn span_with_id<'a>(spans: &'a Spans, span_id: &str) -> &'a SpanData {
    spans
        .all()
        .iter()
        .find(|span| span.span_context.span_id().to_string() == span_id)
        .unwrap_or_else(|| panic!("no captured span has id {span_id}: {:?}", spans.names()))
}

/// Asserts the ids are 32 and 16 lowercase hex digits and not all zeros.
pub fn assert_well_formed(trace_id: &str, span_id: &str) {
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && s.bytes().any(|b| b != b'0')
    };
    assert!(hex(trace_id, 32), "trace_id {trace_id:?}");
    assert!(hex(span_id, 16), "span_id {span_id:?}");
}

/// What a step of [`journey`] logs with: `tracing`, `log`, or a probe of `log_ids()`.
pub type Log = Arc<dyn Fn(&'static str) + Send + Sync>;

/// The steps of [`journey`] in order, each with the name of the span it is logged in.
pub const JOURNEY: [(&str, &str); 8] = [
    ("received", "handle_request"),
    ("after sleep", "handle_request"),
    ("loading", "load"),
    ("after load", "handle_request"),
    ("in spawned task", "handle_request"),
    ("storing", "store"),
    ("on a plain thread", "handle_request"),
    ("done", "handle_request"),
];

/// One request's way across awaits and threads, calling `log` at each step of [`JOURNEY`]: the
/// scenario of "ids follow the span across awaits and threads", whatever writes the ids (the
/// `log_ids()`, `log` and `tracing` tests). Run it on a multi-thread runtime.
#[traced("handle_request")]
pub async fn journey(log: Log) {
    log("received");
    tokio::time::sleep(Duration::from_millis(2)).await;
    log("after sleep");
    load(&log).await;
    tokio::task::yield_now().await;
    log("after load");

    // A spawned task, given the current context, logs under the same span.
    let spawned = Arc::clone(&log);
    tokio::spawn(
        async move {
            tokio::task::yield_now().await;
            spawned("in spawned task");
        }
        .with_current_context(),
    )
    .await
    .unwrap();

    // A blocking-pool thread, which is never the worker the request runs on.
    let (cx, blocking) = (Context::current(), Arc::clone(&log));
    tokio::task::spawn_blocking(move || {
        let _cx = cx.attach();
        store(&blocking);
    })
    .await
    .unwrap();

    // A plain thread, with the context passed by hand.
    let (cx, plain) = (Context::current(), Arc::clone(&log));
    std::thread::spawn(move || {
        let _cx = cx.attach();
        plain("on a plain thread");
    })
    .join()
    .unwrap();
    log("done");
}

#[traced("load")]
async fn load(log: &Log) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    log("loading");
}

#[traced("store")]
fn store(log: &Log) {
    log("storing");
}

/// Each step of [`JOURNEY`] with the `(trace_id, span_id)` its log must carry, from the spans
/// captured while [`journey`] ran.
pub fn journey_ids(spans: &Spans) -> Vec<(&'static str, (String, String))> {
    JOURNEY
        .iter()
        .map(|&(step, in_span)| (step, hex_ids(span(spans, in_span))))
        .collect()
}
