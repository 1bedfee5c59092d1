//! Async functions: the span is current across `.await`s, children nest, `join!` and a
//! multi-thread runtime keep parentage, futures stay `Send`, cancellation and panics end spans.

use std::time::Duration;

use traced_runtime::opentelemetry::trace::{Status, TraceContextExt as _, Tracer as _};
use traced_runtime::opentelemetry::Value;
use traced_runtime::testing::{attribute, capture_async};
use traced_runtime::{in_span_async, traced};

#[traced(attrs(order.id = order_id))]
async fn process_order(order_id: u64) -> Result<u64, std::io::Error> {
    validate(order_id).await?;
    tokio::task::yield_now().await;
    let (a, b) = tokio::join!(check_inventory(1), check_inventory(2));
    Ok(a + b)
}

#[traced]
async fn validate(order_id: u64) -> Result<(), std::io::Error> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    if order_id == 0 {
        return Err(std::io::Error::other("no such order"));
    }
    Ok(())
}

#[traced(attrs(sku = sku))]
async fn check_inventory(sku: u64) -> u64 {
    tokio::task::yield_now().await;
    leaf();
    sku * 10
}

#[traced]
fn leaf() {}

#[traced]
async fn slow() {
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[traced]
async fn explode() {
    tokio::task::yield_now().await;
    panic!("async boom");
}

#[traced]
async fn uses_the_opentelemetry_api() {
    // A span started through the opentelemetry API sees the traced span as its parent.
    let cx = traced_runtime::Context::current();
    assert!(cx.span().span_context().is_valid());
    tokio::task::yield_now().await;
    assert_eq!(
        traced_runtime::Context::current()
            .span()
            .span_context()
            .span_id(),
        cx.span().span_context().span_id(),
        "the span is still current after an await"
    );
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

#[tokio::test]
async fn the_span_is_current_across_awaits_and_children_nest() {
    let (total, spans) = capture_async(process_order(7)).await;
    assert_eq!(total.unwrap(), 30);
    assert_eq!(
        spans.tree(),
        "\
it::async_context::process_order OK order.id=7
  it::async_context::validate OK
  it::async_context::check_inventory OK sku=1
    it::async_context::leaf OK
  it::async_context::check_inventory OK sku=2
    it::async_context::leaf OK
"
    );
    let root = spans.find("it::async_context::process_order").unwrap();
    for span in spans.all() {
        assert_eq!(span.span_context.trace_id(), root.span_context.trace_id());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parentage_holds_on_a_multi_thread_runtime_with_spawned_tasks() {
    let (_, spans) = capture_async(async {
        let handles: Vec<_> = (0..8)
            .map(|sku| {
                use traced_runtime::opentelemetry::context::FutureExt as _;
                // Futures of traced functions are Send, so they can be spawned.
                tokio::spawn(assert_send(check_inventory(sku)).with_current_context())
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    })
    .await;
    assert_eq!(spans.all().len(), 16);
    for span in spans.all() {
        if span.name == "it::async_context::leaf" {
            let parent = spans
                .all()
                .iter()
                .find(|p| p.span_context.span_id() == span.parent_span_id)
                .expect("leaf has its parent");
            assert_eq!(parent.name, "it::async_context::check_inventory");
        }
    }
}

#[tokio::test]
async fn errors_propagate_through_async_spans() {
    let (result, spans) = capture_async(process_order(0)).await;
    assert!(result.is_err());
    assert_eq!(
        spans.tree(),
        "\
it::async_context::process_order ERROR(\"no such order\") order.id=0 error.type=\"std::io::error::Error\"
  ! exception exception.type=\"std::io::error::Error\" exception.message=\"no such order\"
  it::async_context::validate ERROR(\"no such order\") error.type=\"std::io::error::Error\"
    ! exception exception.type=\"std::io::error::Error\" exception.message=\"no such order\"
"
    );
}

#[tokio::test]
async fn a_dropped_future_ends_its_span_once_marked_cancelled() {
    let (timed_out, spans) =
        capture_async(async { tokio::time::timeout(Duration::from_millis(5), slow()).await }).await;
    assert!(timed_out.is_err());
    assert_eq!(spans.all().len(), 1);
    let span = &spans.all()[0];
    assert_eq!(span.status, Status::Unset);
    assert_eq!(
        attribute(span, traced_runtime::CANCELLED),
        Some(&Value::Bool(true))
    );
    let elapsed = span.end_time.duration_since(span.start_time).unwrap();
    assert!(elapsed >= Duration::from_millis(5), "{elapsed:?}");
}

#[tokio::test]
async fn a_panic_in_an_async_function_is_recorded_and_goes_on() {
    let (joined, spans) = capture_async(async {
        use traced_runtime::opentelemetry::context::FutureExt as _;
        tokio::spawn(explode().with_current_context()).await
    })
    .await;
    let payload = joined.unwrap_err().into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"async boom"));
    assert_eq!(
        spans.tree(),
        "\
it::async_context::explode ERROR(\"async boom\") error.type=\"panic\"
  ! exception exception.type=\"panic\" exception.message=\"async boom\"
"
    );
}

#[tokio::test]
async fn opentelemetry_api_spans_inside_are_children() {
    let (_, spans) = capture_async(async {
        uses_the_opentelemetry_api().await;
        // An ad-hoc span from the runtime's helper nests the same way.
        in_span_async("adhoc", async { leaf() }).await;
    })
    .await;
    assert_eq!(
        spans.tree(),
        "it::async_context::uses_the_opentelemetry_api OK\nadhoc\n  it::async_context::leaf OK\n"
    );
}

#[test]
fn a_global_provider_receives_api_spans_as_children_of_traced_spans() {
    crate::own_process!(a_global_provider_receives_api_spans_as_children_of_traced_spans);
    use traced_runtime::opentelemetry::global;
    use traced_runtime::opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    traced_runtime::set_tracer_provider(&provider);

    #[traced]
    fn outer() {
        std::thread::sleep(std::time::Duration::from_millis(2));
        global::tracer("manual").in_span("manual.child", |_| {});
    }
    outer();

    let spans = exporter.get_finished_spans().unwrap();
    let child = spans.iter().find(|s| s.name == "manual.child").unwrap();
    let parent = spans.iter().find(|s| s.name.ends_with("::outer")).unwrap();
    assert_eq!(child.parent_span_id, parent.span_context.span_id());
    assert_eq!(parent.instrumentation_scope.name(), env!("CARGO_PKG_NAME"));
    assert_eq!(
        parent.instrumentation_scope.version(),
        Some(env!("CARGO_PKG_VERSION"))
    );
}
