//! The one OTLP receiver of the tests (and of `benches/otlp.rs`), on 127.0.0.1, for traces and
//! logs: gRPC (tonic, with `opentelemetry-proto`'s generated `TraceServiceServer` and
//! `LogsServiceServer`) and HTTP `/v1/traces` and `/v1/logs` (hyper) accepting protobuf and
//! JSON, gzip or not, plain or over TLS. Each test starts its own on free ports; dropping it
//! stops it.
//!
//! It runs on a tokio runtime of its own thread, so it serves sync tests and tests of either
//! tokio flavour alike, and can be dropped anywhere.
//!
//! Faults, for `faults.rs`: down at start ([`Receiver::start_down`], then
//! [`up`](Receiver::up)), stopped and restarted on the same ports, refusals (gRPC UNAVAILABLE,
//! HTTP 503, with `Retry-After`), slow answers, and connections reset in the middle of an
//! export.

#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use tokio::sync::oneshot;

/// One export request as received.
#[derive(Clone, Debug)]
pub struct Received {
    /// `grpc`, `http/protobuf` or `http/json`.
    pub transport: &'static str,
    /// Request headers (gRPC metadata), names lower-case.
    pub headers: HashMap<String, String>,
    /// Whether the body was gzip-compressed.
    pub gzip: bool,
    pub request: ExportTraceServiceRequest,
}

/// A received span with where it came from.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub transport: &'static str,
    pub resource: Vec<KeyValue>,
    pub scope: InstrumentationScope,
    pub span: Span,
}

impl ReceivedSpan {
    pub fn name(&self) -> &str {
        &self.span.name
    }
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        attribute(&self.span.attributes, key)
    }
    pub fn resource_attribute(&self, key: &str) -> Option<&Value> {
        attribute(&self.resource, key)
    }
}

/// The value of attribute `key`.
pub fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|value| value.value.as_ref())
}

/// A string attribute value.
pub fn string(value: Option<&Value>) -> Option<&str> {
    match value {
        Some(Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// A received log record with where it came from.
#[derive(Clone, Debug)]
pub struct ReceivedRecord {
    /// `grpc`, `http/protobuf` or `http/json`.
    pub transport: &'static str,
    /// The string attributes of the record's resource.
    pub resource: Vec<(String, String)>,
    pub record: LogRecord,
}

impl ReceivedRecord {
    /// The record's body, when it is a string.
    pub fn body(&self) -> &str {
        match self
            .record
            .body
            .as_ref()
            .and_then(|body| body.value.as_ref())
        {
            Some(Value::StringValue(body)) => body,
            _ => "",
        }
    }
}

/// Bytes (a trace or span id) as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    logs: Mutex<Vec<(&'static str, ExportLogsServiceRequest)>>,
    changed: Condvar,
    /// How many of the next requests to refuse as temporarily unavailable.
    fail: AtomicUsize,
    /// How many requests were refused so.
    failed: AtomicUsize,
    /// The `Retry-After` of the HTTP refusals, in seconds (0: none).
    retry_after: AtomicUsize,
    /// How long to wait before answering, in milliseconds.
    delay_ms: AtomicU64,
    /// How many of the next connections to reset once the request started to arrive.
    reset: AtomicUsize,
    /// How many connections were reset so.
    resets: AtomicUsize,
}

impl Shared {
    /// Whether to refuse this request (gRPC UNAVAILABLE, HTTP 503).
    fn refuse(&self) -> bool {
        let refuse = self
            .fail
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if refuse {
            self.failed.fetch_add(1, Ordering::AcqRel);
        }
        refuse
    }

    /// Whether to reset this connection.
    fn take_reset(&self) -> bool {
        let reset = self
            .reset
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if reset {
            self.resets.fetch_add(1, Ordering::AcqRel);
        }
        reset
    }

    /// Waits as long as a slow collector was asked to.
    async fn slow(&self) {
        let delay = self.delay_ms.load(Ordering::Acquire);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
    }

    fn push(&self, received: Received) {
        self.received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(received);
        self.changed.notify_all();
    }

    fn push_logs(&self, transport: &'static str, request: ExportLogsServiceRequest) {
        self.logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((transport, request));
        self.changed.notify_all();
    }
}

/// The test PKI of `tls/`: a CA, a server certificate for 127.0.0.1 and localhost, and a
/// client certificate, valid until 2126. Made with openssl (P-256 keys, v3 extensions:
/// `serverAuth` with `subjectAltName=IP:127.0.0.1,DNS:localhost`, `clientAuth`).
pub mod pki {
    pub fn path(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/it/support/tls")
            .join(name)
    }
    pub fn read(name: &str) -> Vec<u8> {
        std::fs::read(path(name)).expect("a file of tests/it/support/tls")
    }
}

/// How the receiver serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain HTTP/2 and HTTP/1.1.
    Plain,
    /// TLS with the server certificate of [`pki`].
    Tls,
    /// TLS that also requires a client certificate signed by the test CA.
    MutualTls,
}

pub struct Receiver {
    grpc: SocketAddr,
    http: SocketAddr,
    security: Security,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// An address of 127.0.0.1 with a port free at the time.
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap()
}

impl Receiver {
    /// Starts the gRPC and the HTTP receiver on free ports of 127.0.0.1.
    pub fn start() -> Receiver {
        Receiver::start_with(Security::Plain)
    }

    /// [`start`](Self::start), serving over TLS (`https://` endpoints).
    pub fn start_with(security: Security) -> Receiver {
        let mut receiver = Receiver::start_down_with(security);
        receiver.up();
        receiver
    }

    /// A receiver that is down: its endpoints refuse connections until [`up`](Self::up).
    pub fn start_down() -> Receiver {
        Receiver::start_down_with(Security::Plain)
    }

    fn start_down_with(security: Security) -> Receiver {
        Receiver {
            grpc: free_port(),
            http: free_port(),
            security,
            shared: Arc::new(Shared::default()),
            stop: None,
            thread: None,
        }
    }

    /// Starts serving on the receiver's ports (again), keeping what it received.
    pub fn up(&mut self) {
        if self.thread.is_some() {
            return;
        }
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let state = Arc::clone(&self.shared);
        let (grpc, http, security) = (self.grpc, self.http, self.security);
        let thread = std::thread::Builder::new()
            .name("otlp-receiver".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the receiver's runtime");
                runtime.block_on(serve(state, (grpc, http), ready_tx, stop_rx, security));
                runtime.shutdown_background();
            })
            .expect("the receiver's thread");
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the receiver started");
        self.stop = Some(stop_tx);
        self.thread = Some(thread);
    }

    /// Stops serving, as a collector that goes down: its connections are closed, new ones
    /// refused, until [`up`](Self::up).
    pub fn down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Answers every request `delay` late, as a slow or overloaded collector.
    pub fn set_delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::Release);
    }

    /// Resets the next `count` connections as soon as their first request starts to arrive
    /// (the kernel sends a TCP RST: the request is not answered). A connection opened
    /// before is answered with `connection: close` (HTTP) so that the next request opens a
    /// new one; over gRPC, [`down`](Self::down) and [`up`](Self::up) close the one
    /// connection.
    pub fn reset_next(&self, count: usize) {
        self.shared.reset.store(count, Ordering::Release);
    }

    /// How many connections were reset by [`reset_next`](Self::reset_next).
    pub fn resets(&self) -> usize {
        self.shared.resets.load(Ordering::Acquire)
    }

    fn scheme(&self) -> &'static str {
        match self.security {
            Security::Plain => "http",
            Security::Tls | Security::MutualTls => "https",
        }
    }

    /// The gRPC endpoint, `http://127.0.0.1:PORT` (`https` with TLS).
    pub fn grpc_endpoint(&self) -> String {
        format!("{}://{}", self.scheme(), self.grpc)
    }

    /// The HTTP base endpoint, `http://127.0.0.1:PORT` (`https` with TLS); spans go to
    /// `/v1/traces` under it.
    pub fn http_endpoint(&self) -> String {
        format!("{}://{}", self.scheme(), self.http)
    }

    /// Refuses the next `count` requests as temporarily unavailable (gRPC UNAVAILABLE, HTTP
    /// 503), as a restarting or overloaded collector does.
    pub fn fail_next(&self, count: usize) {
        self.shared.fail.store(count, Ordering::Release);
    }

    /// [`fail_next`](Self::fail_next), the refusals asking to wait `seconds` (HTTP
    /// `Retry-After`, gRPC `RetryInfo`).
    pub fn fail_next_with_retry_after(&self, count: usize, seconds: usize) {
        self.shared.retry_after.store(seconds, Ordering::Release);
        self.fail_next(count);
    }

    /// How many requests were refused by [`fail_next`](Self::fail_next).
    pub fn refused(&self) -> usize {
        self.shared.failed.load(Ordering::Acquire)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// How many spans were received so far, without copying them.
    pub fn span_count(&self) -> u64 {
        self.shared
            .received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .flat_map(|received| &received.request.resource_spans)
            .flat_map(|resource| &resource.scope_spans)
            .map(|scope| scope.spans.len() as u64)
            .sum()
    }

    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        let mut spans = Vec::new();
        for received in self.requests() {
            for resource_spans in received.request.resource_spans {
                let resource = resource_spans
                    .resource
                    .map(|resource| resource.attributes)
                    .unwrap_or_default();
                for scope_spans in resource_spans.scope_spans {
                    let scope = scope_spans.scope.unwrap_or_default();
                    for span in scope_spans.spans {
                        spans.push(ReceivedSpan {
                            transport: received.transport,
                            resource: resource.clone(),
                            scope: scope.clone(),
                            span,
                        });
                    }
                }
            }
        }
        spans
    }

    /// Waits (at most `timeout`) until at least `count` spans arrived; returns them all.
    pub fn wait_for_spans(&self, count: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + timeout;
        let mut received = self
            .shared
            .received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            let have: usize = received
                .iter()
                .flat_map(|r| &r.request.resource_spans)
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum();
            let now = Instant::now();
            if have >= count || now >= deadline {
                break;
            }
            received = self
                .shared
                .changed
                .wait_timeout(received, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        drop(received);
        self.spans()
    }
}

impl Receiver {
    /// Every log record received so far, in arrival order.
    pub fn log_records(&self) -> Vec<ReceivedRecord> {
        let logs = self
            .shared
            .logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = Vec::new();
        for (transport, request) in logs.iter() {
            for resource_logs in &request.resource_logs {
                let resource = resource_logs
                    .resource
                    .iter()
                    .flat_map(|resource| &resource.attributes)
                    .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
                        Value::StringValue(s) => Some((kv.key.clone(), s.clone())),
                        _ => None,
                    })
                    .collect::<Vec<_>>();
                for scope_logs in &resource_logs.scope_logs {
                    for record in &scope_logs.log_records {
                        out.push(ReceivedRecord {
                            transport,
                            resource: resource.clone(),
                            record: record.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    /// Waits (at most 10 s) until `count` log records whose body starts with `prefix`
    /// arrived; returns those.
    pub fn wait_for_logs(&self, prefix: &str, count: usize) -> Vec<ReceivedRecord> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let records: Vec<_> = self
                .log_records()
                .into_iter()
                .filter(|received| received.body().starts_with(prefix))
                .collect();
            if records.len() >= count || Instant::now() > deadline {
                return records;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.down();
    }
}

/// Listens on `addr`, which a receiver may have left a moment ago.
async fn bind(addr: SocketAddr) -> tokio::net::TcpListener {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(error) if Instant::now() > deadline => panic!("cannot listen on {addr}: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// The next connection `listener` accepts that is not to be reset; the others are read from
/// (the request has started) and reset.
async fn accept(
    listener: &tokio::net::TcpListener,
    shared: &Shared,
) -> std::io::Result<tokio::net::TcpStream> {
    use tokio::io::AsyncReadExt as _;
    loop {
        let (mut stream, _) = listener.accept().await?;
        if !shared.take_reset() {
            return Ok(stream);
        }
        let mut some = [0u8; 16];
        let _ = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut some)).await;
        // Closed with unread bytes and no linger: the kernel answers with a reset.
        let _ = stream.set_zero_linger();
        drop(stream);
    }
}

async fn serve(
    shared: Arc<Shared>,
    (grpc_addr, http_addr): (SocketAddr, SocketAddr),
    ready: std::sync::mpsc::Sender<()>,
    stop: oneshot::Receiver<()>,
    security: Security,
) {
    let grpc_listener = bind(grpc_addr).await;
    let http_listener = bind(http_addr).await;
    let _ = ready.send(());
    // gRPC connections go through `accept` too, so that they can be reset.
    let grpc_incoming = {
        let shared = Arc::clone(&shared);
        futures_util::stream::unfold(grpc_listener, move |listener| {
            let shared = Arc::clone(&shared);
            async move {
                let stream = accept(&listener, &shared).await;
                Some((stream, listener))
            }
        })
    };

    let (stop_grpc_tx, stop_grpc) = oneshot::channel::<()>();
    let mut server = tonic::transport::Server::builder();
    if security != Security::Plain {
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(
            pki::read("server.pem"),
            pki::read("server.key"),
        ));
        if security == Security::MutualTls {
            tls = tls.client_ca_root(Certificate::from_pem(pki::read("ca.pem")));
        }
        server = server.tls_config(tls).expect("the gRPC TLS settings");
    }
    let grpc = server
        .add_service(
            TraceServiceServer::new(Grpc(Arc::clone(&shared)))
                .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
        )
        .add_service(
            LogsServiceServer::new(Grpc(Arc::clone(&shared)))
                .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
        )
        .serve_with_incoming_shutdown(grpc_incoming, async {
            let _ = stop_grpc.await;
        });
    let grpc = tokio::spawn(grpc);

    let acceptor = (security != Security::Plain).then(|| http_tls(security));
    let http = tokio::spawn(async move {
        loop {
            let Ok(stream) = accept(&http_listener, &shared).await else {
                continue;
            };
            let shared = Arc::clone(&shared);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let shared = Arc::clone(&shared);
                    async move { Ok::<_, Infallible>(handle_http(request, &shared).await) }
                });
                let http1 = hyper::server::conn::http1::Builder::new();
                let _ = match acceptor {
                    None => {
                        http1
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await
                    }
                    Some(acceptor) => {
                        // A failed handshake (an untrusted or missing client certificate)
                        // just closes the connection.
                        let Ok(stream) = acceptor.accept(stream).await else {
                            return;
                        };
                        http1
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await
                    }
                };
            });
        }
    });

    let _ = stop.await;
    let _ = stop_grpc_tx.send(());
    http.abort();
    let _ = tokio::time::timeout(Duration::from_secs(2), grpc).await;
}

/// The HTTP receiver's TLS: rustls with ring, the server certificate of [`pki`], and for
/// mutual TLS a client certificate signed by the test CA.
fn http_tls(security: Security) -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = CertificateDer::pem_slice_iter(&pki::read("server.pem"))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(&pki::read("server.key")).unwrap();
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if security == Security::MutualTls {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pki::read("ca.pem")) {
            roots.add(cert.unwrap()).unwrap();
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder.with_single_cert(chain, key).unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A `google.rpc.Status` (UNAVAILABLE) whose details hold a `google.rpc.RetryInfo` asking to
/// wait `seconds`, encoded by hand (three nested messages; no generated type at hand).
fn retry_info(seconds: u8) -> Vec<u8> {
    fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![number << 3 | 2, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }
    let duration = [0x08, seconds];
    let retry_info = field(1, &duration);
    let mut any = field(1, b"type.googleapis.com/google.rpc.RetryInfo");
    any.extend(field(2, &retry_info));
    let mut status = vec![0x08, 14];
    status.extend(field(2, b"restarting"));
    status.extend(field(3, &any));
    status
}

struct Grpc(Arc<Shared>);

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.slow().await;
        if self.0.refuse() {
            let seconds = self.0.retry_after.load(Ordering::Acquire);
            if seconds > 0 {
                return Err(tonic::Status::with_details(
                    tonic::Code::Unavailable,
                    "restarting",
                    Bytes::from(retry_info(seconds as u8)),
                ));
            }
            return Err(tonic::Status::unavailable("restarting"));
        }
        let headers = request
            .metadata()
            .clone()
            .into_headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect::<HashMap<_, _>>();
        let gzip = headers.get("grpc-encoding").map(String::as_str) == Some("gzip");
        self.0.push(Received {
            transport: "grpc",
            headers,
            gzip,
            request: request.into_inner(),
        });
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        if self.0.refuse() {
            return Err(tonic::Status::unavailable("restarting"));
        }
        self.0.push_logs("grpc", request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

/// A protobuf or JSON body decoded as `M`, with its transport name.
fn decode<M: prost::Message + Default + serde::de::DeserializeOwned>(
    content_type: &str,
    body: &[u8],
) -> Option<(&'static str, Option<M>)> {
    match content_type {
        "application/x-protobuf" => Some(("http/protobuf", M::decode(body).ok())),
        "application/json" => Some(("http/json", serde_json::from_slice(body).ok())),
        _ => None,
    }
}

async fn handle_http(request: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    shared.slow().await;
    let mut response = answer_http(request, shared).await;
    if shared.reset.load(Ordering::Acquire) > 0 {
        // The next request opens a new connection, which is reset.
        response.headers_mut().insert(
            "connection",
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    response
}

async fn answer_http(request: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let respond = |status: StatusCode, body: &'static str| {
        Response::builder()
            .status(status)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap()
    };
    let logs = match request.uri().path() {
        "/v1/traces" => false,
        "/v1/logs" => true,
        _ => return respond(StatusCode::NOT_FOUND, "not /v1/traces nor /v1/logs"),
    };
    if request.method() != hyper::Method::POST {
        return respond(StatusCode::METHOD_NOT_ALLOWED, "not POST");
    }
    if shared.refuse() {
        let mut response = respond(StatusCode::SERVICE_UNAVAILABLE, "restarting");
        let seconds = shared.retry_after.load(Ordering::Acquire);
        if seconds > 0 {
            response
                .headers_mut()
                .insert("retry-after", seconds.to_string().parse().unwrap());
        }
        return response;
    }
    let headers: HashMap<String, String> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let Ok(body) = request.into_body().collect().await else {
        return respond(StatusCode::BAD_REQUEST, "unreadable body");
    };
    let mut body = body.to_bytes().to_vec();
    let gzip = headers.get("content-encoding").map(String::as_str) == Some("gzip");
    if gzip {
        let mut plain = Vec::new();
        if flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut plain)
            .is_err()
        {
            return respond(StatusCode::BAD_REQUEST, "bad gzip");
        }
        body = plain;
    }
    let content_type = headers.get("content-type").cloned().unwrap_or_default();
    if logs {
        let Some((transport, request)) = decode(&content_type, &body) else {
            return respond(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported media type");
        };
        let Some(request) = request else {
            return respond(StatusCode::BAD_REQUEST, "undecodable body");
        };
        shared.push_logs(transport, request);
        let body = if transport == "http/json" {
            Bytes::from_static(b"{}")
        } else {
            Bytes::from(ExportLogsServiceResponse::default().encode_to_vec())
        };
        return Response::builder()
            .status(StatusCode::OK)
            .header("content-type", content_type)
            .body(Full::new(body))
            .unwrap();
    }
    let Some((transport, request)) = decode(&content_type, &body) else {
        return respond(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported media type");
    };
    let Some(request) = request else {
        return respond(StatusCode::BAD_REQUEST, "undecodable body");
    };
    shared.push(Received {
        transport,
        headers,
        gzip,
        request,
    });
    let body = if transport == "http/json" {
        Bytes::from_static(b"{}")
    } else {
        Bytes::from(ExportTraceServiceResponse::default().encode_to_vec())
    };
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", content_type)
        .body(Full::new(body))
        .unwrap()
}

/// An endpoint where nothing listens: connections are refused at once.
pub fn refused_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// An endpoint that accepts TCP connections (the kernel does, in the backlog) but never
/// answers: an export to it hangs until its timeout. Keep the listener alive while used.
pub fn black_hole() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, format!("http://{addr}"))
}
