//! A CLIENT span for every request sent with reqwest, through `reqwest-middleware`: the guide's
//! httpx instrumentation (feature `http-client`).
//!
//! ```no_run
//! use traced_runtime::http_client::TracingMiddleware;
//!
//! # async fn run() -> Result<(), reqwest_middleware::Error> {
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(TracingMiddleware::new())
//!     .build();
//! // A `GET` CLIENT span, child of the current span; its context goes out in `traceparent`.
//! let response = client.get("http://127.0.0.1:8080/orders/7").send().await?;
//! # Ok(()) }
//! ```
//!
//! Each request gets one CLIENT span, child of the current span:
//! - named `{METHOD}` (`HTTP` for a method outside the standard ones);
//! - its context and the current baggage are injected into the request headers with the global
//!   propagator, so the server continues the trace;
//! - attributes `http.request.method`, `url.full` (user and password replaced by `REDACTED`,
//!   as are signature query values), `server.address`, `server.port`,
//!   `http.response.status_code`, `network.protocol.version`, and `error.type`;
//! - status ERROR for a 4xx or 5xx response (`error.type` is the code) and for a transport
//!   error (an `exception` event; `error.type` is `timeout`, `connect`, .. or the error type).
//!
//! For other clients, [`crate::propagation::inject`] writes the current context into any
//! `http::HeaderMap`.

use std::borrow::Cow;

use http::Extensions;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue};
use reqwest::{Request, Response, Url};
use reqwest_middleware::{Middleware, Next};

use crate::http::attributes::{self as semconv, HttpSpan, REDACTED};
use crate::pipeline::scope;
use crate::propagation;

/// The `reqwest-middleware` middleware that traces requests. See the [module docs](self).
#[derive(Clone, Debug, Default)]
pub struct TracingMiddleware {
    _private: (),
}

impl TracingMiddleware {
    /// The middleware.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl Middleware for TracingMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let mut span = start(&request);
        propagation::inject_context(span.context(), request.headers_mut());
        let result = next
            .run(request, extensions)
            .with_context(span.context().clone())
            .await;
        match &result {
            Ok(response) => {
                let status = response.status();
                semconv::record_status_code(
                    &span,
                    status.as_u16(),
                    status.is_client_error() || status.is_server_error(),
                );
                if let Some(version) = semconv::protocol_version(response.version()) {
                    span.set_attribute(KeyValue::new(semconv::NETWORK_PROTOCOL_VERSION, version));
                }
            }
            Err(error) => span.record_error(error_type(error), exception_type(error), error),
        }
        span.end();
        result
    }
}

/// Starts the CLIENT span of `request` under the current context.
fn start(request: &Request) -> HttpSpan {
    let (method, original) = semconv::method(request.method());
    let url = request.url();
    let mut attributes = Vec::with_capacity(5);
    attributes.push(KeyValue::new(semconv::HTTP_REQUEST_METHOD, method));
    if let Some(original) = original {
        attributes.push(KeyValue::new(
            semconv::HTTP_REQUEST_METHOD_ORIGINAL,
            original.to_owned(),
        ));
    }
    attributes.push(KeyValue::new(semconv::URL_FULL, full_url(url)));
    if let Some(host) = url.host_str() {
        // `host_str` keeps the brackets of an IPv6 address; `server.address` has none.
        let host = host.trim_start_matches('[').trim_end_matches(']');
        attributes.push(KeyValue::new(semconv::SERVER_ADDRESS, host.to_owned()));
        if let Some(port) = url.port_or_known_default() {
            attributes.push(KeyValue::new(semconv::SERVER_PORT, i64::from(port)));
        }
    }
    Context::map_current(|parent| {
        HttpSpan::start(
            scope::integration(scope::HTTP_SCOPE_NAME),
            Cow::Borrowed(semconv::method_for_name(method)),
            SpanKind::Client,
            attributes,
            parent,
        )
    })
}

/// `url.full`: the URL without credentials (`REDACTED:REDACTED@`) and signature values.
fn full_url(url: &Url) -> String {
    let has_credentials = !url.username().is_empty() || url.password().is_some();
    let redacted_query = url
        .query()
        .map(semconv::redact_query)
        .filter(|query| matches!(query, Cow::Owned(_)))
        .map(Cow::into_owned);
    if !has_credentials && redacted_query.is_none() {
        return url.as_str().to_owned();
    }
    let mut url = url.clone();
    if has_credentials {
        // Both fail only for URLs without a host, which have no credentials either.
        let _ = url.set_username(REDACTED);
        let _ = url.set_password(Some(REDACTED));
    }
    if let Some(query) = redacted_query {
        url.set_query(Some(&query));
    }
    url.into()
}

/// `error.type` of a failed request: what kind of failure, in the words of the semantic
/// conventions where they have one.
fn error_type(error: &reqwest_middleware::Error) -> Cow<'static, str> {
    let kind = match error {
        reqwest_middleware::Error::Middleware(_) => "middleware",
        reqwest_middleware::Error::Reqwest(error) if error.is_timeout() => "timeout",
        reqwest_middleware::Error::Reqwest(error) if error.is_connect() => "connect",
        reqwest_middleware::Error::Reqwest(error) if error.is_redirect() => "redirect",
        reqwest_middleware::Error::Reqwest(error) if error.is_body() => "body",
        reqwest_middleware::Error::Reqwest(error) if error.is_decode() => "decode",
        reqwest_middleware::Error::Reqwest(error) if error.is_builder() => "builder",
        reqwest_middleware::Error::Reqwest(error) if error.is_request() => "request",
        reqwest_middleware::Error::Reqwest(_) => "reqwest::Error",
    };
    Cow::Borrowed(kind)
}

/// `exception.type`: the error's Rust type.
fn exception_type(error: &reqwest_middleware::Error) -> &'static str {
    match error {
        reqwest_middleware::Error::Middleware(_) => "anyhow::Error",
        reqwest_middleware::Error::Reqwest(_) => "reqwest::Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_signatures_are_redacted() {
        let url = Url::parse("https://user:secret@example.com:8443/a?sig=abc&b=1").unwrap();
        assert_eq!(
            full_url(&url),
            "https://REDACTED:REDACTED@example.com:8443/a?sig=REDACTED&b=1"
        );
        let url = Url::parse("http://example.com/a?b=1").unwrap();
        assert_eq!(full_url(&url), "http://example.com/a?b=1");
        let url = Url::parse("http://user@example.com/").unwrap();
        assert_eq!(full_url(&url), "http://REDACTED:REDACTED@example.com/");
    }
}
