//! What the log tests share: a writer whose output they read back, and the ids of captured
//! spans in the form log lines carry them.

#![allow(dead_code)] // each test file uses its own part

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use traced_runtime::opentelemetry_sdk::trace::SpanData;
use traced_runtime::testing::Spans;

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
