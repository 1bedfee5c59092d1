//! A SERVER span for every request a tower/hyper service handles: the guide's FastAPI
//! instrumentation for axum (feature `http-server`; the `axum` feature adds route templates).
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use traced_runtime::http_server::HttpServerLayer;
//!
//! #[traced_runtime::traced]
//! async fn load_order(id: u64) -> String {
//!     format!("order {id}")
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let app = Router::new()
//!     .route("/orders/{id}", get(|axum::extract::Path(id): axum::extract::Path<u64>| load_order(id)))
//!     // `Router::layer`, so that the matched route is known: spans are named `GET /orders/{id}`.
//!     .layer(HttpServerLayer::new());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! // `with_connect_info` gives `client.address` when no proxy header names the client.
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
//! # }
//! ```
//!
//! Each request gets one SERVER span:
//! - its parent is the caller's context, extracted from the request headers with the global
//!   propagator ([`crate::propagation`]); without one, the request starts a new trace;
//! - it is named `{METHOD} {route}` with the route template (`GET /orders/{id}`, never the raw
//!   path), or `{METHOD}` when no route is known (`HTTP` for a method outside the standard ones);
//! - it has the stable HTTP semantic-convention attributes `http.request.method`, `url.path`,
//!   `url.query` (signatures redacted), `url.scheme`, `http.route`, `http.response.status_code`,
//!   `server.address`, `server.port`, `client.address`, `network.protocol.version`,
//!   `user_agent.original`, and `error.type` on failures;
//! - its status is ERROR for a 5xx response, a service error and a handler that panics (recorded
//!   as an `exception` event; the panic goes on), and stays Unset otherwise: a 4xx is the
//!   client's mistake, not the server's;
//! - it is current while the handler runs and while the response body is produced, so spans of
//!   `#[traced]` functions called from the handler are its children;
//! - it ends when the response body is complete (or dropped), so streaming is included.
//!
//! The route comes from axum's `MatchedPath` (feature `axum`, layer added with `Router::layer`
//! or `Router::route_layer`), or from an [`HttpRoute`] that another router puts into the request
//! or response extensions.

use std::any::type_name;
use std::borrow::Cow;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use opentelemetry::trace::SpanKind;
use opentelemetry::KeyValue;
use tower_layer::Layer;
use tower_service::Service;

use crate::http::attributes::{self as semconv, HttpSpan};
use crate::pipeline::scope;
use crate::propagation;
use crate::span::exception::{panic_message, PANIC_TYPE};

/// The route template of a request (`/orders/{id}`), for routers other than axum: put it in the
/// request extensions before [`HttpServerService`] sees the request, or in the response
/// extensions, and the span is named after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRoute(pub Cow<'static, str>);

/// A tower [`Layer`] that makes a SERVER span for every request. See the [module docs](self).
#[derive(Clone, Debug, Default)]
pub struct HttpServerLayer {
    _private: (),
}

impl HttpServerLayer {
    /// The layer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for HttpServerLayer {
    type Service = HttpServerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpServerService { inner }
    }
}

/// The service made by [`HttpServerLayer`].
#[derive(Clone, Debug)]
pub struct HttpServerService<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpServerService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (mut span, name_prefix) = start(&request);
        let entered = span.context().clone().attach();
        let inner = panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request)));
        drop(entered);
        let inner = match inner {
            Ok(inner) => inner,
            Err(payload) => {
                record_panic(&mut span, &*payload);
                panic::resume_unwind(payload)
            }
        };
        ResponseFuture {
            inner,
            span: Some(span),
            name_prefix,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`HttpServerService`]: polls the handler with the span current.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        span: Option<HttpSpan>,
        // The span name's `{METHOD}` when no route was known at the start, to rename the span
        // after an `HttpRoute` in the response.
        name_prefix: Option<&'static str>,
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: Body,
{
    type Output = Result<Response<ResponseBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let entered = this
            .span
            .as_ref()
            .map(|span| span.context().clone().attach());
        let inner = this.inner;
        let result = panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
        drop(entered);
        let output = match result {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(output)) => output,
            Err(payload) => {
                if let Some(mut span) = this.span.take() {
                    record_panic(&mut span, &*payload);
                }
                panic::resume_unwind(payload)
            }
        };
        let span = this.span.take();
        Poll::Ready(match output {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                if let Some(span) = &span {
                    respond(span, &parts, *this.name_prefix);
                }
                let mut span = span;
                if body.is_end_stream() {
                    end(&mut span);
                }
                Ok(Response::from_parts(
                    parts,
                    ResponseBody { inner: body, span },
                ))
            }
            Err(error) => {
                if let Some(mut span) = span {
                    let error_type = type_name::<E>();
                    span.record_exception(
                        Cow::Borrowed(error_type),
                        error_type,
                        format!("the service failed with a {error_type}"),
                        error_type.to_owned(),
                    );
                    span.end();
                }
                Err(error)
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// The response body of [`HttpServerService`]: ends the span when it is complete or dropped.
    pub struct ResponseBody<B> {
        #[pin]
        inner: B,
        span: Option<HttpSpan>,
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let entered = this
            .span
            .as_ref()
            .map(|span| span.context().clone().attach());
        let poll = this.inner.as_mut().poll_frame(cx);
        drop(entered);
        match &poll {
            Poll::Ready(None) => end(this.span),
            // hyper stops polling a body that says it has ended, and drops it.
            Poll::Ready(Some(Ok(_))) if this.inner.is_end_stream() => end(this.span),
            Poll::Ready(Some(Err(_))) => {
                if let Some(mut span) = this.span.take() {
                    let error_type = type_name::<B::Error>();
                    span.record_exception(
                        Cow::Borrowed(error_type),
                        error_type,
                        "the response body failed".to_owned(),
                        error_type.to_owned(),
                    );
                    span.end();
                }
            }
            _ => {}
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Records a panic of the service as an exception, and ends the span.
fn record_panic(span: &mut HttpSpan, payload: &(dyn std::any::Any + Send)) {
    let message = panic_message(payload).to_owned();
    span.record_exception(
        Cow::Borrowed(PANIC_TYPE),
        PANIC_TYPE,
        message.clone(),
        message,
    );
    span.end();
}

/// Ends the span, if not yet.
fn end(span: &mut Option<HttpSpan>) {
    if let Some(mut span) = span.take() {
        span.end();
    }
}

/// Starts the span of `request`. Returns it with the name's `{METHOD}` when no route is known
/// yet.
fn start<B>(request: &Request<B>) -> (HttpSpan, Option<&'static str>) {
    let parent = propagation::extract(request);
    let headers = request.headers();
    let (method, original) = semconv::method(request.method());
    let route = route(request);
    let name_method = semconv::method_for_name(method);
    let name: Cow<'static, str> = match route {
        Some(route) => format!("{name_method} {route}").into(),
        None => name_method.into(),
    };

    let mut attributes = Vec::with_capacity(14);
    attributes.push(KeyValue::new(semconv::HTTP_REQUEST_METHOD, method));
    if let Some(original) = original {
        attributes.push(KeyValue::new(
            semconv::HTTP_REQUEST_METHOD_ORIGINAL,
            original.to_owned(),
        ));
    }
    let uri = original_uri(request);
    attributes.push(KeyValue::new(semconv::URL_PATH, uri.path().to_owned()));
    if let Some(query) = uri.query() {
        attributes.push(KeyValue::new(
            semconv::URL_QUERY,
            semconv::redact_query(query).into_owned(),
        ));
    }
    let scheme = scheme(request);
    attributes.push(KeyValue::new(semconv::URL_SCHEME, scheme.clone()));
    if let Some(route) = route {
        attributes.push(KeyValue::new(semconv::HTTP_ROUTE, route.to_owned()));
    }
    if let Some((address, port)) = server_address(request) {
        attributes.push(KeyValue::new(semconv::SERVER_ADDRESS, address.to_owned()));
        if let Some(port) = port.or_else(|| semconv::default_port(&scheme)) {
            attributes.push(KeyValue::new(semconv::SERVER_PORT, i64::from(port)));
        }
    }
    let peer = peer(request);
    if let Some(client) = forwarded_client(headers) {
        attributes.push(KeyValue::new(semconv::CLIENT_ADDRESS, client.to_owned()));
    } else if let Some(peer) = peer {
        attributes.push(KeyValue::new(
            semconv::CLIENT_ADDRESS,
            peer.ip().to_string(),
        ));
        attributes.push(KeyValue::new(semconv::CLIENT_PORT, i64::from(peer.port())));
    }
    if let Some(peer) = peer {
        attributes.push(KeyValue::new(
            semconv::NETWORK_PEER_ADDRESS,
            peer.ip().to_string(),
        ));
        attributes.push(KeyValue::new(
            semconv::NETWORK_PEER_PORT,
            i64::from(peer.port()),
        ));
    }
    if let Some(version) = semconv::protocol_version(request.version()) {
        attributes.push(KeyValue::new(semconv::NETWORK_PROTOCOL_VERSION, version));
    }
    if let Some(agent) = header(headers, http::header::USER_AGENT) {
        attributes.push(KeyValue::new(
            semconv::USER_AGENT_ORIGINAL,
            agent.to_owned(),
        ));
    }

    let span = HttpSpan::start(
        scope::integration(scope::HTTP_SCOPE_NAME),
        name,
        SpanKind::Server,
        attributes,
        &parent,
    );
    (span, route.is_none().then_some(name_method))
}

/// Records the response on the span: status code, status, and a route the response names.
fn respond(span: &HttpSpan, parts: &http::response::Parts, name_prefix: Option<&'static str>) {
    let code = parts.status.as_u16();
    semconv::record_status_code(span, code, parts.status.is_server_error());
    if let (Some(method), Some(HttpRoute(route))) = (name_prefix, parts.extensions.get()) {
        span.set_attribute(KeyValue::new(semconv::HTTP_ROUTE, route.clone()));
        span.update_name(format!("{method} {route}"));
    }
}

/// The route template: axum's `MatchedPath`, else an [`HttpRoute`] extension.
fn route<B>(request: &Request<B>) -> Option<&str> {
    #[cfg(feature = "axum")]
    if let Some(path) = request.extensions().get::<axum::extract::MatchedPath>() {
        return Some(path.as_str());
    }
    request
        .extensions()
        .get::<HttpRoute>()
        .map(|HttpRoute(route)| route.as_ref())
}

/// The URI the client sent: axum's `OriginalUri` in nested routers, else the request's.
fn original_uri<B>(request: &Request<B>) -> &http::Uri {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::OriginalUri(uri)) = request.extensions().get() {
        return uri;
    }
    request.uri()
}

/// `url.scheme`: the URI's (absolute-form and HTTP/2 requests), else what a proxy says
/// (`Forwarded: proto=`, `X-Forwarded-Proto`), else `http`.
fn scheme<B>(request: &Request<B>) -> String {
    if let Some(scheme) = request.uri().scheme_str() {
        return scheme.to_owned();
    }
    let headers = request.headers();
    forwarded(headers, "proto")
        .or_else(|| first_in_list(header(headers, "x-forwarded-proto")?))
        .filter(|scheme| {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        })
        .map_or_else(|| "http".to_owned(), str::to_ascii_lowercase)
}

/// `server.address` and `server.port`: from `Forwarded: host=`, `X-Forwarded-Host`, the URI
/// authority (HTTP/2 `:authority`), or `Host`.
fn server_address<B>(request: &Request<B>) -> Option<(&str, Option<u16>)> {
    let headers = request.headers();
    forwarded(headers, "host")
        .or_else(|| first_in_list(header(headers, "x-forwarded-host")?))
        .or_else(|| request.uri().authority().map(http::uri::Authority::as_str))
        .or_else(|| header(headers, http::header::HOST))
        .and_then(semconv::split_host_port)
}

/// The client behind proxies: `Forwarded: for=`, else the first `X-Forwarded-For`.
fn forwarded_client(headers: &HeaderMap) -> Option<&str> {
    let client =
        forwarded(headers, "for").or_else(|| first_in_list(header(headers, "x-forwarded-for")?))?;
    let (address, _) = semconv::split_host_port(client)?;
    (!address.eq_ignore_ascii_case("unknown")).then_some(address)
}

/// The socket peer: axum's `ConnectInfo<SocketAddr>` or a `SocketAddr` extension.
fn peer<B>(request: &Request<B>) -> Option<std::net::SocketAddr> {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(address)) =
        request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        return Some(*address);
    }
    request.extensions().get::<std::net::SocketAddr>().copied()
}

fn header(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn first_in_list(value: &str) -> Option<&str> {
    let first = value.split(',').next()?.trim();
    (!first.is_empty()).then_some(first)
}

/// A parameter of the first element of the RFC 7239 `Forwarded` header, unquoted.
fn forwarded<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let first = header(headers, http::header::FORWARDED)?
        .split(',')
        .next()?;
    first.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        if !key.trim().eq_ignore_ascii_case(name) {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|value| value.strip_suffix('"'))
            .unwrap_or(value);
        (!value.is_empty()).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn forwarded_parameters() {
        let map = headers(&[(
            "forwarded",
            "for=\"[2001:db8::1]:4711\";proto=https;host=shop.example, for=10.0.0.1",
        )]);
        assert_eq!(forwarded(&map, "for"), Some("[2001:db8::1]:4711"));
        assert_eq!(forwarded(&map, "proto"), Some("https"));
        assert_eq!(forwarded(&map, "host"), Some("shop.example"));
        assert_eq!(forwarded(&map, "by"), None);
        assert_eq!(forwarded_client(&map), Some("2001:db8::1"));
    }

    #[test]
    fn x_forwarded_for() {
        let map = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.1")]);
        assert_eq!(forwarded_client(&map), Some("203.0.113.7"));
        let map = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(forwarded_client(&map), None);
    }

    #[test]
    fn schemes() {
        let request = Request::get("/").body(()).unwrap();
        assert_eq!(scheme(&request), "http");
        let request = Request::get("/")
            .header("x-forwarded-proto", "HTTPS")
            .body(())
            .unwrap();
        assert_eq!(scheme(&request), "https");
        let request = Request::get("/")
            .header("x-forwarded-proto", "ht tp<script>")
            .body(())
            .unwrap();
        assert_eq!(scheme(&request), "http");
    }
}
