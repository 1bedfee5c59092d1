//! examples/two_services.rs end to end: a customer, the frontend and the orders service on
//! 127.0.0.1, one trace across them, parent links across each HTTP hop, and the `user.id`
//! baggage arriving two hops away.

use crate::support::http as http_support;

#[allow(dead_code)]
#[path = "../../examples/two_services.rs"]
mod example;

use http_support::{attr_str, find, install, spans, tree, Server};
use traced_runtime::opentelemetry::trace::SpanId;

#[tokio::test]
async fn one_trace_across_both_services_with_the_baggage() {
    crate::own_process!(one_trace_across_both_services_with_the_baggage);
    let exporter = install();
    let orders = Server::start(example::orders_app()).await;
    let frontend = Server::start(example::frontend_app(orders.url(""))).await;

    let answer = example::customer_with_baggage(frontend.url(""), "7")
        .await
        .unwrap();
    assert_eq!(answer, "order of book for user 7");

    let spans = spans(&exporter, 7).await;
    assert_eq!(
        tree(&spans),
        "\
it::two_services::example::customer OK
  GET [client]
    GET /checkout/{item} [server]
      it::two_services::example::checkout OK
        POST [client]
          POST /orders [server]
            it::two_services::example::create_order OK
"
    );
    let trace_id = spans[0].span_context.trace_id();
    assert!(spans
        .iter()
        .all(|span| span.span_context.trace_id() == trace_id));

    // Each server's parent is the client span that called it, across the HTTP hop.
    let root = find(&spans, "it::two_services::example::customer");
    assert_eq!(root.parent_span_id, SpanId::INVALID);
    let clients: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "GET" || s.name == "POST")
        .collect();
    let front = find(&spans, "GET /checkout/{item}");
    let back = find(&spans, "POST /orders");
    assert_eq!(front.parent_span_id, clients[0].span_context.span_id());
    assert!(front.parent_span_is_remote);
    assert_eq!(back.parent_span_id, clients[1].span_context.span_id());
    assert!(back.parent_span_is_remote);

    let order = find(&spans, "it::two_services::example::create_order");
    assert_eq!(attr_str(order, "user.id").unwrap(), "\"7\"");
    assert_eq!(attr_str(back, "http.response.status_code").unwrap(), "201");
    assert_eq!(
        attr_str(clients[1], "url.full").unwrap(),
        format!("\"{}\"", orders.url("/orders"))
    );
}
