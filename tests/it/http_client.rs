//! `TracingMiddleware` for reqwest against a real axum server on 127.0.0.1: one CLIENT span per
//! request, its attributes and status rules, and the context it injects.

use crate::support::http as http_support;

use crate::support::spans::exception_attribute;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use http_support::{attr_str, attrs, find, install, spans, traced_client, traced_fetch, Server};
use traced_runtime::opentelemetry::baggage::BaggageExt as _;
use traced_runtime::opentelemetry::context::FutureExt as _;
use traced_runtime::opentelemetry::trace::{SpanId, SpanKind, Status};
use traced_runtime::opentelemetry::KeyValue;
use traced_runtime::{traced, Context};

/// A server without instrumentation that answers with the propagation headers it received.
fn echo() -> Router {
    fn header(headers: &HeaderMap, name: &str) -> String {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
    Router::new()
        .route(
            "/echo",
            get(|headers: HeaderMap| async move {
                format!(
                    "{}|{}",
                    header(&headers, "traceparent"),
                    header(&headers, "baggage")
                )
            }),
        )
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move { StatusCode::from_u16(code).unwrap() }),
        )
}

#[traced]
async fn call(url: String) -> Result<String, reqwest_middleware::Error> {
    let response = traced_client().get(url).send().await?;
    Ok(response.text().await?)
}

#[tokio::test]
async fn a_request_is_a_client_span_whose_context_goes_out_in_the_headers() {
    crate::own_process!(a_request_is_a_client_span_whose_context_goes_out_in_the_headers);
    let exporter = install();
    let server = Server::start(echo()).await;
    let cx = Context::current().with_baggage([KeyValue::new("user.id", "42")]);
    let url = format!(
        "http://alice:secret@127.0.0.1:{}/echo?sig=abc&page=2",
        server.addr.port()
    );
    let body = call(url).with_context(cx).await.unwrap();

    let spans = spans(&exporter, 2).await;
    let parent = find(&spans, "it::http_client::call");
    let client = find(&spans, "GET");
    assert_eq!(client.span_kind, SpanKind::Client);
    assert_eq!(client.status, Status::Unset);
    assert_eq!(client.parent_span_id, parent.span_context.span_id());
    assert_eq!(
        client.span_context.trace_id(),
        parent.span_context.trace_id()
    );
    let port = server.addr.port();
    assert_eq!(
        attrs(client),
        [
            "http.request.method=\"GET\"".to_owned(),
            "http.response.status_code=200".to_owned(),
            "network.protocol.version=\"1.1\"".to_owned(),
            "server.address=\"127.0.0.1\"".to_owned(),
            format!("server.port={port}"),
            // reqwest moves the credentials into an `Authorization` header, never recorded.
            format!("url.full=\"http://127.0.0.1:{port}/echo?sig=REDACTED&page=2\""),
        ]
    );

    // The server received the client span as the parent, and the baggage.
    let (traceparent, baggage) = body.split_once('|').unwrap();
    assert_eq!(
        traceparent,
        format!(
            "00-{}-{}-01",
            client.span_context.trace_id(),
            client.span_context.span_id()
        )
    );
    assert_eq!(baggage, "user.id=42");
}

#[tokio::test]
async fn without_a_current_span_the_client_span_is_a_root() {
    crate::own_process!(without_a_current_span_the_client_span_is_a_root);
    let exporter = install();
    let server = Server::start(echo()).await;
    let body = traced_fetch(server.url("/echo"), &[]).await;

    let spans = spans(&exporter, 1).await;
    let client = find(&spans, "GET");
    assert_eq!(client.parent_span_id, SpanId::INVALID);
    assert!(body.contains(&client.span_context.span_id().to_string()));
}

#[tokio::test]
async fn a_4xx_and_a_5xx_are_errors_on_the_client() {
    crate::own_process!(a_4xx_and_a_5xx_are_errors_on_the_client);
    let exporter = install();
    let server = Server::start(echo()).await;
    let client = traced_client();
    for code in [204, 404, 502] {
        let response = client
            .get(server.url(&format!("/status/{code}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), code);
    }

    let spans = spans(&exporter, 3).await;
    assert_eq!(spans[0].status, Status::Unset);
    assert_eq!(attr_str(&spans[0], "error.type"), None);
    for (span, code) in spans[1..].iter().zip(["404", "502"]) {
        assert_eq!(span.status, Status::error(""));
        assert_eq!(attr_str(span, "http.response.status_code").unwrap(), code);
        assert_eq!(attr_str(span, "error.type").unwrap(), format!("\"{code}\""));
    }
}

#[tokio::test]
async fn a_transport_error_is_an_error_recorded_as_an_exception() {
    crate::own_process!(a_transport_error_is_an_error_recorded_as_an_exception);
    let exporter = install();
    // A port that nothing listens on any more.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let result = traced_client()
        .post(format!("http://127.0.0.1:{port}/orders"))
        .send()
        .await;
    assert!(result.is_err());

    let spans = spans(&exporter, 1).await;
    let span = find(&spans, "POST");
    assert_eq!(attr_str(span, "error.type").unwrap(), "\"connect\"");
    assert!(matches!(span.status, Status::Error { .. }));
    assert_eq!(attr_str(span, "http.response.status_code"), None);
    assert_eq!(attr_str(span, "server.port").unwrap(), port.to_string());
    assert_eq!(
        exception_attribute(span, "exception.type").as_deref(),
        Some("reqwest::Error")
    );
}

#[tokio::test]
async fn plain_inject_works_for_any_client() {
    crate::own_process!(plain_inject_works_for_any_client);
    let exporter = install();
    let server = Server::start(echo()).await;

    #[traced(kind = client)]
    async fn get_with_inject(url: String) -> String {
        let mut headers = http::HeaderMap::new();
        traced_runtime::propagation::inject(&mut headers);
        http_support::plain_client()
            .get(url)
            .headers(headers)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    let body = get_with_inject(server.url("/echo")).await;
    let spans = spans(&exporter, 1).await;
    let span = &spans[0];
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(
        body,
        format!(
            "00-{}-{}-01|",
            span.span_context.trace_id(),
            span.span_context.span_id()
        )
    );
}
