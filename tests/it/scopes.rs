//! Instrumentation scopes: `#[traced]` and `in_span` spans carry the scope of the crate they are
//! written in (here the test package, `traced-tests`, and its version), traced's integrations
//! carry their own (`traced.db`, ..), and a real OTLP receiver gets them as separate
//! `ScopeSpans`.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::otlp_receiver::{ReceivedSpan, Receiver};
use traced_runtime::env::Env;
use traced_runtime::opentelemetry::Value;
use traced_runtime::opentelemetry_sdk::trace::SpanData;
use traced_runtime::testing::{attribute, capture, capture_async};
use traced_runtime::{in_span, traced, Telemetry};

const CRATE: &str = env!("CARGO_PKG_NAME");
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[traced]
fn place_order() -> u32 {
    in_span("reserve stock", || in_span("pick shelf", || 7))
}

/// Pending once, so that the rest of the body runs in a later poll.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

#[traced]
async fn ship_order() {
    YieldOnce(false).await;
    in_span("print label", || ());
}

fn assert_scope(span: &SpanData, name: &str, version: &str) {
    assert_eq!(span.instrumentation_scope.name(), name, "{}", span.name);
    assert_eq!(
        span.instrumentation_scope.version(),
        Some(version),
        "{}",
        span.name
    );
}

#[test]
fn traced_and_in_span_spans_carry_the_scope_of_their_crate() {
    let (_, spans) = capture(|| {
        place_order();
        in_span("outside any traced function", || ());
    });
    assert_eq!(spans.all().len(), 4);
    for name in ["it::scopes::place_order", "reserve stock", "pick shelf"] {
        assert_scope(spans.find(name).unwrap(), CRATE, VERSION);
    }
    // `in_span` gets the function it runs in, and where it is called.
    for name in ["reserve stock", "pick shelf"] {
        let span = spans.find(name).unwrap();
        assert_eq!(
            attribute(span, "code.function.name"),
            Some(&Value::from("it::scopes::place_order"))
        );
        assert_eq!(
            attribute(span, "code.file.path"),
            Some(&Value::from(file!()))
        );
    }
    // Outside a traced function: traced's own scope, and no function to name.
    let outside = spans.find("outside any traced function").unwrap();
    assert_scope(
        outside,
        traced_runtime::SCOPE_NAME,
        traced_runtime::SCOPE_VERSION,
    );
    assert_eq!(attribute(outside, "code.function.name"), None);
}

#[tokio::test]
async fn in_span_in_an_async_function_has_its_scope_after_an_await() {
    let ((), spans) = capture_async(ship_order()).await;
    let label = spans.find("print label").unwrap();
    assert_scope(label, CRATE, VERSION);
    assert_eq!(
        attribute(label, "code.function.name"),
        Some(&Value::from("it::scopes::ship_order"))
    );
    // Between polls the function is not running: an `in_span` of the test itself has none.
    let ((), spans) = capture_async(async {
        let mut ship = std::pin::pin!(ship_order());
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        assert!(std::future::Future::poll(ship.as_mut(), &mut cx).is_pending());
        in_span("between polls", || ());
        ship.await;
    })
    .await;
    assert_eq!(
        attribute(spans.find("between polls").unwrap(), "code.function.name"),
        None
    );
}

async fn sqlite() -> traced_runtime::db::TracedPool<sqlx::Sqlite> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("SQLite in memory");
    traced_runtime::db::instrument(pool)
}

#[tokio::test]
async fn an_integration_span_carries_the_integration_scope() {
    let pool = sqlite().await;
    let (_, spans) = capture_async(async {
        sqlx::query("SELECT 1").execute(&pool).await.unwrap();
    })
    .await;
    assert_eq!(spans.names(), ["SELECT"]);
    assert_scope(
        &spans.all()[0],
        traced_runtime::DB_SCOPE_NAME,
        traced_runtime::SCOPE_VERSION,
    );
}

#[tokio::test]
async fn an_http_server_span_carries_the_http_scope_and_the_handler_its_crate() {
    use tower::ServiceExt as _;

    #[traced]
    async fn get_order() -> &'static str {
        "order"
    }
    let app = axum::Router::new()
        .route("/orders/{id}", axum::routing::get(get_order))
        .layer(traced_runtime::http::server::HttpServerLayer::new());
    let request = http::Request::get("/orders/7")
        .body(axum::body::Body::empty())
        .unwrap();
    let (response, spans) = traced_runtime::testing::capture_response(app.oneshot(request)).await;
    assert_eq!(response.unwrap().body(), b"order");
    let server = spans.find("GET /orders/{id}").unwrap();
    assert_scope(
        server,
        traced_runtime::HTTP_SCOPE_NAME,
        traced_runtime::SCOPE_VERSION,
    );
    let handler = spans.find("it::scopes::get_order").unwrap();
    assert_scope(handler, CRATE, VERSION);
    assert_eq!(handler.parent_span_id, server.span_context.span_id());
}

#[test]
fn an_otlp_receiver_gets_one_scope_spans_per_scope() {
    crate::own_process!(an_otlp_receiver_gets_one_scope_spans_per_scope);
    let receiver = Receiver::start();
    let telemetry = Telemetry::builder()
        .env(Env::default())
        .service_name("scopes")
        .otlp_endpoint(receiver.http_endpoint())
        .install()
        .expect("install");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pool = sqlite().await;
        sqlx::query("SELECT 1").execute(&pool).await.unwrap();
    });
    place_order();
    in_span("outside any traced function", || ());
    telemetry.shutdown().expect("shutdown");

    let spans = receiver.wait_for_spans(5, Duration::from_secs(10));
    let scope_of = |name: &str| {
        let span: &ReceivedSpan = spans
            .iter()
            .find(|span| span.name() == name)
            .unwrap_or_else(|| panic!("no span {name} in {spans:#?}"));
        (span.scope.name.as_str(), span.scope.version.as_str())
    };
    assert_eq!(spans.len(), 5);
    assert_eq!(scope_of("it::scopes::place_order"), (CRATE, VERSION));
    assert_eq!(scope_of("reserve stock"), (CRATE, VERSION));
    assert_eq!(scope_of("pick shelf"), (CRATE, VERSION));
    assert_eq!(
        scope_of("outside any traced function"),
        (traced_runtime::SCOPE_NAME, traced_runtime::SCOPE_VERSION)
    );
    assert_eq!(
        scope_of("SELECT"),
        (traced_runtime::DB_SCOPE_NAME, traced_runtime::SCOPE_VERSION)
    );
    // Each scope is one `ScopeSpans` of a request, with its spans under it.
    for request in receiver.requests() {
        for resource_spans in &request.request.resource_spans {
            let scopes: Vec<&str> = resource_spans
                .scope_spans
                .iter()
                .map(|scope_spans| scope_spans.scope.as_ref().map_or("", |s| s.name.as_str()))
                .collect();
            let unique: BTreeSet<&str> = scopes.iter().copied().collect();
            assert_eq!(scopes.len(), unique.len(), "{scopes:?}");
        }
    }
}
