//! What the HTTP tests share: axum servers on 127.0.0.1 that stop when dropped and serve in the
//! context they were started in (inside `testing::capture_async`, the capture's), a global
//! provider with an in-memory exporter for the tests that own their process, and span lookups.

use std::future::{Future, IntoFuture as _};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use traced_runtime::opentelemetry::context::FutureExt as _;
use traced_runtime::testing::Spans;
use traced_runtime::Context;

use traced_runtime::opentelemetry::global;
use traced_runtime::opentelemetry::propagation::TextMapCompositePropagator;
use traced_runtime::opentelemetry::trace::SpanId;
use traced_runtime::opentelemetry::Value;
use traced_runtime::opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use traced_runtime::opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use traced_runtime::testing;

/// W3C trace context and baggage as the global propagator (what every test that sets one in
/// the shared process sets).
pub fn w3c() {
    global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]));
}

/// [`w3c`], and a global provider exporting every span synchronously to the returned exporter:
/// only for a test that owns its process (`own_process!`).
pub fn install() -> InMemorySpanExporter {
    w3c();
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    traced_runtime::set_tracer_provider(&provider);
    exporter
}

/// Waits until `count` spans are exported (a server span ends when its response body is done,
/// which may be just after the client has the response), and returns them in start order.
pub async fn spans(exporter: &InMemorySpanExporter, count: usize) -> Vec<SpanData> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut spans = exporter.get_finished_spans().unwrap_or_default();
        if spans.len() >= count || Instant::now() > deadline {
            spans.sort_by_key(|span| span.start_time);
            assert_eq!(
                spans.len(),
                count,
                "expected {count} spans, got {:#?}",
                names(&spans)
            );
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn names(spans: &[SpanData]) -> Vec<&str> {
    spans.iter().map(|span| span.name.as_ref()).collect()
}

pub fn find<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|span| span.name == name)
        .unwrap_or_else(|| panic!("no span {name:?} in {:?}", names(spans)))
}

pub fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    testing::attribute(span, key)
}

/// The string value of attribute `key`, rendered as Rust would write it (`"GET"`, `200`).
pub fn attr_str(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(testing::render_value)
}

/// Every attribute but `code.*`, sorted, as `key=value` lines: for whole-set comparisons.
pub fn attrs(span: &SpanData) -> Vec<String> {
    let mut attrs: Vec<String> = span
        .attributes
        .iter()
        .filter(|kv| !kv.key.as_str().starts_with("code."))
        .map(|kv| format!("{}={}", kv.key, testing::render_value(&kv.value)))
        .collect();
    attrs.sort();
    attrs
}

/// The span tree, one span a line, indented by parentage: `name [kind] status`.
pub fn tree(spans: &[SpanData]) -> String {
    fn render(spans: &[SpanData], parent: &SpanData, depth: usize, out: &mut String) {
        line(parent, depth, out);
        for child in spans
            .iter()
            .filter(|span| span.parent_span_id == parent.span_context.span_id())
        {
            render(spans, child, depth + 1, out);
        }
    }
    fn line(span: &SpanData, depth: usize, out: &mut String) {
        use traced_runtime::opentelemetry::trace::{SpanKind, Status};
        let kind = match span.span_kind {
            SpanKind::Server => " [server]",
            SpanKind::Client => " [client]",
            _ => "",
        };
        let status = match &span.status {
            Status::Unset => String::new(),
            Status::Ok => " OK".to_owned(),
            Status::Error { description } => format!(" ERROR({description:?})"),
        };
        out.push_str(&format!(
            "{}{}{kind}{status}\n",
            "  ".repeat(depth),
            span.name
        ));
    }
    let mut out = String::new();
    for root in spans.iter().filter(|span| {
        span.parent_span_id == SpanId::INVALID
            || !spans
                .iter()
                .any(|other| other.span_context.span_id() == span.parent_span_id)
    }) {
        render(spans, root, 0, &mut out);
    }
    out
}

/// An axum server on 127.0.0.1 with an ephemeral port, with `ConnectInfo`; stopped when
/// dropped. It serves every request in the context it was started in, so that started inside
/// `testing::capture_async` its spans are the capture's, however its connections are spawned.
pub struct Server {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    open: Arc<Open>,
}

impl Server {
    pub async fn start(app: axum::Router) -> Server {
        let open = Arc::new(Open::default());
        let app = app.layer(InContextLayer {
            cx: Context::current(),
            open: Arc::clone(&open),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serve = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .into_future();
        let task = tokio::spawn(async move {
            let _ = serve.await;
        });
        Server { addr, task, open }
    }

    /// Waits until every response is done (its body sent or dropped), hence every server span
    /// ended: a server span may end just after the client has its response.
    pub async fn idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.open.0.load(Ordering::Acquire) > 0 {
            assert!(Instant::now() < deadline, "responses still open after 10 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How many responses of a [`Server`] are not done yet.
#[derive(Default)]
struct Open(AtomicUsize);

/// Counts one open response until dropped.
struct OpenGuard(Arc<Open>);

impl OpenGuard {
    fn new(open: &Arc<Open>) -> Self {
        open.0.fetch_add(1, Ordering::AcqRel);
        OpenGuard(Arc::clone(open))
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The outermost layer of a [`Server`]: calls and polls the service in `cx`, and counts the
/// response until its body is done.
#[derive(Clone)]
struct InContextLayer {
    cx: Context,
    open: Arc<Open>,
}

impl<S> tower::Layer<S> for InContextLayer {
    type Service = InContext<S>;

    fn layer(&self, inner: S) -> InContext<S> {
        InContext {
            inner,
            cx: self.cx.clone(),
            open: Arc::clone(&self.open),
        }
    }
}

#[derive(Clone)]
struct InContext<S> {
    inner: S,
    cx: Context,
    open: Arc<Open>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, ResBody> tower::Service<Request<B>> for InContext<S>
where
    S: tower::Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<Counted<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let guard = OpenGuard::new(&self.open);
        let future = {
            let _cx = self.cx.clone().attach();
            self.inner.call(request)
        };
        Box::pin(
            async move {
                let response = future.await?;
                Ok(response.map(|body| Counted {
                    body: Box::pin(body),
                    _open: guard,
                }))
            }
            .with_context(self.cx.clone()),
        )
    }
}

/// A response body counted open until dropped.
struct Counted<B> {
    body: Pin<Box<B>>,
    _open: OpenGuard,
}

impl<B: Body> Body for Counted<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        self.body.as_mut().poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The spans of a capture, checked to be `count`, in start order.
pub fn expect(spans: &Spans, count: usize) -> Vec<SpanData> {
    assert_eq!(
        spans.all().len(),
        count,
        "expected {count} spans, got {:#?}",
        spans.names()
    );
    spans.all().to_vec()
}

/// A plain reqwest client that keeps no connections, so that a server stopping is final.
pub fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// The reqwest client of these tests, traced.
pub fn traced_client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(plain_client())
        .with(traced_runtime::http_client::TracingMiddleware::new())
        .build()
}

/// The body of `GET url` with `headers`, sent by [`plain_client`].
pub async fn fetch(url: impl reqwest::IntoUrl, headers: &[(&str, &str)]) -> String {
    let mut request = plain_client().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().text().await.unwrap()
}

/// The body of `GET url` with `headers`, sent by [`traced_client`].
pub async fn traced_fetch(url: impl reqwest::IntoUrl, headers: &[(&str, &str)]) -> String {
    let mut request = traced_client().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().text().await.unwrap()
}
