//! What the HTTP tests share: a global provider with an in-memory exporter (each test binary
//! runs one test per process under nextest), axum servers on 127.0.0.1 that stop when dropped,
//! and span lookups.
#![allow(dead_code)]

use std::future::IntoFuture as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use traced_runtime::opentelemetry::global;
use traced_runtime::opentelemetry::propagation::TextMapCompositePropagator;
use traced_runtime::opentelemetry::trace::SpanId;
use traced_runtime::opentelemetry::Value;
use traced_runtime::opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use traced_runtime::opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use traced_runtime::testing;

/// W3C trace context and baggage as the global propagator, and a global provider exporting
/// every span synchronously to the returned exporter.
pub fn install() -> InMemorySpanExporter {
    global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]));
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
/// dropped.
pub struct Server {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub async fn start(app: axum::Router) -> Server {
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
        Server { addr, task }
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
