//! Capture the spans of a closure or a future in your own tests (feature `testing`).
//!
//! Each capture has its own span pipeline (the one `SpanPipeline` installs in production, with an
//! in-memory exporter), carried by the context of the code it runs: tests running in parallel do
//! not see each other's spans, and the global provider is untouched.
//!
//! ```
//! use traced_runtime::{testing, traced};
//!
//! #[traced(attrs(user.id = id))]
//! fn load_user(id: u64) -> Result<String, std::fmt::Error> {
//!     Ok(format!("user {id}"))
//! }
//!
//! let (_, spans) = testing::capture(|| load_user(7));
//! assert_eq!(spans.tree(), "rust_out::load_user OK user.id=7\n");
//! ```

use std::fmt::Write as _;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData};

use crate::pipeline::batch::BatchConfig;
use crate::pipeline::dispatch::{ContextTracer, CAPTURES};
use crate::pipeline::fast_tracer::FastTracer;
use crate::pipeline::SpanPipeline;
use crate::semconv::{CLIENT_PORT, EXCEPTION_STACKTRACE, NETWORK_PEER_PORT, SERVER_PORT, URL_FULL};

/// Runs `f`, and returns its result with every span `#[traced]` and `in_span` created in it.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Spans) {
    capture_with_sampler(Sampler::AlwaysOn, f)
}

/// [`capture`] with the given sampler, to test unsampled paths.
pub fn capture_with_sampler<R>(sampler: Sampler, f: impl FnOnce() -> R) -> (R, Spans) {
    let capture = Capture::new(sampler);
    let result = {
        let _cx = capture.context().attach();
        f()
    };
    (result, capture.finish())
}

/// Awaits `future`, and returns its output with every span created while it ran.
///
/// The capture follows the future's own polls: a task it spawns is captured only if it is
/// spawned with the current context (`opentelemetry::context::FutureExt::with_current_context`).
pub async fn capture_async<F: Future>(future: F) -> (F::Output, Spans) {
    capture_async_with_sampler(Sampler::AlwaysOn, future).await
}

/// [`capture_async`] with the given sampler.
pub async fn capture_async_with_sampler<F: Future>(
    sampler: Sampler,
    future: F,
) -> (F::Output, Spans) {
    let capture = Capture::new(sampler);
    let output = future.with_context(capture.context()).await;
    (output, capture.finish())
}

/// Awaits an HTTP response and reads its body to the end, inside the capture: the span of an
/// [`HttpServerLayer`](crate::http::server::HttpServerLayer) ends when the body has been sent,
/// so `capture_async(app.oneshot(request))` alone would return before it ends (feature
/// `http-server`).
///
/// ```
/// # async fn run() {
/// use tower::ServiceExt as _;
/// use traced_runtime::http::server::HttpServerLayer;
///
/// let app = tower::service_fn(|_request: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
/// });
/// let app = tower::ServiceBuilder::new().layer(HttpServerLayer::new()).service(app);
/// let request = http::Request::get("/health").body(String::new()).unwrap();
/// let (response, spans) = traced_runtime::testing::capture_response(app.oneshot(request)).await;
/// assert_eq!(response.unwrap().into_body(), b"ok");
/// assert_eq!(spans.names(), ["GET"]);
/// # }
/// ```
#[cfg(feature = "http-server")]
#[cfg_attr(all(docsrs, traced_nightly), doc(cfg(feature = "http-server")))]
pub async fn capture_response<F, B, E>(
    response: F,
) -> (
    Result<http::Response<Vec<u8>>, ResponseError<E, B::Error>>,
    Spans,
)
where
    F: Future<Output = Result<http::Response<B>, E>>,
    B: http_body::Body,
{
    capture_async(async {
        let (parts, body) = response.await.map_err(ResponseError::Service)?.into_parts();
        let mut body = std::pin::pin!(body);
        let mut collected = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            if let Ok(data) = frame.map_err(ResponseError::Body)?.into_data() {
                let mut data = data;
                while bytes::Buf::has_remaining(&data) {
                    let chunk = bytes::Buf::chunk(&data);
                    collected.extend_from_slice(chunk);
                    let len = chunk.len();
                    bytes::Buf::advance(&mut data, len);
                }
            }
        }
        Ok(http::Response::from_parts(parts, collected))
    })
    .await
}

/// Why [`capture_response`] has no response: the service or the body failed.
#[cfg(feature = "http-server")]
#[derive(Debug)]
pub enum ResponseError<S, B> {
    /// The service returned an error.
    Service(S),
    /// Reading the body failed.
    Body(B),
}

struct Capture {
    provider: SdkTracerProvider,
    /// Freed with the last span or context that refers to it, after the capture.
    tracer: Arc<FastTracer>,
    exporter: InMemorySpanExporter,
}

impl Capture {
    fn new(sampler: Sampler) -> Self {
        let exporter = InMemorySpanExporter::default();
        let (provider, fast) = SpanPipeline::new(exporter.clone())
            .with_sampler(sampler)
            .with_batch_config(BatchConfig::default().with_max_queue_size(1 << 16))
            .build()
            .unwrap_or_else(|error| {
                panic!("testing::capture could not start its collector thread: {error}")
            });
        let tracer = Arc::new(fast.expect("a pipeline with an exporter has a fast path"));
        CAPTURES.fetch_add(1, Ordering::Relaxed);
        Capture {
            provider,
            tracer,
            exporter,
        }
    }

    fn context(&self) -> Context {
        Context::new().with_value(ContextTracer(Arc::clone(&self.tracer)))
    }

    fn finish(self) -> Spans {
        let _ = self.provider.force_flush();
        let mut spans = self.exporter.get_finished_spans().unwrap_or_default();
        spans.sort_by_key(|span| span.start_time);
        Spans(spans)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        // The provider shuts down (quietly) when its last reference goes: here, or with the
        // last span or context of the capture that outlives it.
        CAPTURES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The spans of one capture, in start order.
#[derive(Debug)]
pub struct Spans(Vec<SpanData>);

impl Spans {
    /// Every span, in start order.
    pub fn all(&self) -> &[SpanData] {
        &self.0
    }

    /// The span names, in start order.
    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|span| span.name.as_ref()).collect()
    }

    /// The first span named `name`.
    pub fn find(&self, name: &str) -> Option<&SpanData> {
        self.0.iter().find(|span| span.name == name)
    }

    /// The spans whose parent is `parent`, in start order.
    pub fn children(&self, parent: &SpanData) -> Vec<&SpanData> {
        self.children_of(parent.span_context.span_id())
    }

    /// The spans whose parent is not among the captured ones.
    pub fn roots(&self) -> Vec<&SpanData> {
        self.0
            .iter()
            .filter(|span| {
                !self
                    .0
                    .iter()
                    .any(|other| other.span_context.span_id() == span.parent_span_id)
            })
            .collect()
    }

    fn children_of(&self, parent: SpanId) -> Vec<&SpanData> {
        self.0
            .iter()
            .filter(|span| span.parent_span_id == parent)
            .collect()
    }

    /// The span tree, one span a line, for snapshot tests: indentation for parentage, then name,
    /// kind (when not internal), status and attributes, and events below, marked `!` for
    /// exceptions and `*` for others. Ids, times, `code.*` and stack traces are left out, and
    /// the ports that change from run to run (`server.port`, `client.port`,
    /// `network.peer.port`, the port in `url.full`) are written `_`, so that the rendering is
    /// stable, for HTTP spans on a test server too.
    pub fn tree(&self) -> String {
        self.tree_without(&[])
    }

    /// [`tree`](Self::tree) without the attributes named in `keys` (ids of your own, times),
    /// for snapshots of spans that carry values of their own that change between runs.
    pub fn tree_without(&self, keys: &[&str]) -> String {
        let mut out = String::new();
        for root in self.roots() {
            self.render(root, 0, keys, &mut out);
        }
        out
    }

    fn render(&self, span: &SpanData, depth: usize, without: &[&str], out: &mut String) {
        let indent = "  ".repeat(depth);
        let _ = write!(out, "{indent}{}", span.name);
        if span.span_kind != SpanKind::Internal {
            let _ = write!(
                out,
                " [{}]",
                crate::export::console::kind_name(&span.span_kind)
            );
        }
        match &span.status {
            Status::Unset => {}
            Status::Ok => out.push_str(" OK"),
            Status::Error { description } => {
                let _ = write!(out, " ERROR({description:?})");
            }
        }
        for attribute in &span.attributes {
            let key = attribute.key.as_str();
            if key.starts_with("code.") || without.contains(&key) {
                continue;
            }
            let _ = match key {
                SERVER_PORT | CLIENT_PORT | NETWORK_PEER_PORT => write!(out, " {key}=_"),
                URL_FULL => write!(out, " {key}={:?}", without_port(&attribute.value.as_str())),
                _ => write!(out, " {key}={}", render_value(&attribute.value)),
            };
        }
        out.push('\n');
        for event in span.events.iter() {
            let mark = if event.name == "exception" { '!' } else { '*' };
            let _ = write!(out, "{indent}  {mark} {}", event.name);
            for attribute in &event.attributes {
                if attribute.key.as_str() != EXCEPTION_STACKTRACE {
                    let _ = write!(out, " {}={}", attribute.key, render_value(&attribute.value));
                }
            }
            out.push('\n');
        }
        for child in self.children_of(span.span_context.span_id()) {
            self.render(child, depth + 1, without, out);
        }
    }
}

/// `scheme://host:port/..` with the port written `_`.
fn without_port(url: &str) -> String {
    let Some(authority_at) = url.find("://").map(|at| at + 3) else {
        return url.to_owned();
    };
    let end = url[authority_at..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |at| authority_at + at);
    match url[authority_at..end].rfind(':') {
        Some(colon) if !url[authority_at..end].ends_with(']') => {
            let colon = authority_at + colon;
            format!("{}:_{}", &url[..colon], &url[end..])
        }
        _ => url.to_owned(),
    }
}

/// A value as it would be written in Rust: strings quoted, arrays in brackets.
pub fn render_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{:?}", s.as_str()),
        other => other.to_string(),
    }
}

/// The value of attribute `key` on `span`.
pub fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|attribute| attribute.key.as_str() == key)
        .map(|attribute| &attribute.value)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{without_port, Capture};
    use opentelemetry_sdk::trace::Sampler;

    #[test]
    fn ports_of_urls_are_redacted_for_snapshots() {
        assert_eq!(
            without_port("http://127.0.0.1:54321/orders/7?x=1"),
            "http://127.0.0.1:_/orders/7?x=1"
        );
        assert_eq!(without_port("http://[::1]:8080/"), "http://[::1]:_/");
        assert_eq!(
            without_port("http://example.com/a:b"),
            "http://example.com/a:b"
        );
        assert_eq!(without_port("not a url"), "not a url");
    }

    #[test]
    fn repro_capture_frees_its_pipeline() {
        let capture = Capture::new(Sampler::AlwaysOn);
        let tracer = Arc::downgrade(&capture.tracer);
        let cx = capture.context();
        {
            let _cx = cx.clone().attach();
            crate::in_span("inside", || ());
        }
        let spans = capture.finish();
        assert_eq!(spans.all().len(), 1);
        assert!(tracer.upgrade().is_some(), "a context still refers to it");
        drop(cx);
        assert!(
            tracer.upgrade().is_none(),
            "the tracer, its collector and queues are freed with the last context"
        );
    }
}
