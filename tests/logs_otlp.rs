//! Log records exported over OTLP (feature `otlp-logs`) carry the context of the span they
//! were written in: through the `tracing` and `log` bridges into an in-memory exporter, and
//! end to end to a real OTLP receiver on 127.0.0.1 (HTTP protobuf, HTTP JSON and gRPC),
//! checked against the captured spans.

mod logs_support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as ProtoValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message as _;
use tokio::sync::oneshot;
use traced_runtime::env::Env;
use traced_runtime::opentelemetry::logs::AnyValue;
use traced_runtime::opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use traced_runtime::opentelemetry_sdk::trace::Sampler;
use traced_runtime::otlp_logs;
use traced_runtime::testing::{capture, capture_async, capture_with_sampler};
use traced_runtime::traced;
use tracing_subscriber::layer::SubscriberExt as _;

use logs_support::{hex_ids, span};

// In memory: the bridges and the trace context the SDK attaches.

struct InMemory {
    exporter: InMemoryLogExporter,
}

/// The `tracing` and `log` bridges on one in-memory provider, for the whole binary.
fn in_memory() -> &'static InMemory {
    static IN_MEMORY: OnceLock<InMemory> = OnceLock::new();
    IN_MEMORY.get_or_init(|| {
        let exporter = InMemoryLogExporter::default();
        let provider = SdkLoggerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry().with(otlp_logs::tracing_layer(&provider));
        tracing::subscriber::set_global_default(subscriber).unwrap();
        log::set_boxed_logger(Box::new(otlp_logs::log_bridge(&provider))).unwrap();
        log::set_max_level(log::LevelFilter::Info);
        std::mem::forget(provider); // lives as long as the process
        InMemory { exporter }
    })
}

/// A record as the exporter received it: its body and `(trace_id, span_id, sampled)`.
#[derive(Debug, PartialEq)]
struct Exported {
    body: String,
    context: Option<(String, String, bool)>,
}

/// The records whose body starts with `test`, in emission order.
fn exported(test: &str) -> Vec<Exported> {
    in_memory()
        .exporter
        .get_emitted_logs()
        .unwrap()
        .into_iter()
        .filter_map(|log| {
            let body = match log.record.body() {
                Some(AnyValue::String(body)) => body.as_str().to_owned(),
                _ => return None,
            };
            body.starts_with(test).then(|| Exported {
                body,
                context: log.record.trace_context().map(|cx| {
                    (
                        cx.trace_id.to_string(),
                        cx.span_id.to_string(),
                        cx.trace_flags.is_some_and(|flags| flags.is_sampled()),
                    )
                }),
            })
        })
        .collect()
}

#[traced("checkout")]
fn checkout(test: &str) {
    tracing::info!("{test}: checking out");
    charge(test);
    log::info!("{test}: checked out");
}

#[traced("charge")]
fn charge(test: &str) {
    tracing::warn!(amount = 12, "{test}: charging");
}

#[test]
fn records_carry_the_context_of_the_current_span() {
    in_memory();
    let test = "bridge_sync";
    let ((), spans) = capture(|| checkout(test));
    let context = |name: &str| {
        let (trace_id, span_id) = hex_ids(span(&spans, name));
        Some((trace_id, span_id, true))
    };
    assert_eq!(
        exported(test),
        [
            Exported {
                body: format!("{test}: checking out"),
                context: context("checkout"),
            },
            Exported {
                body: format!("{test}: charging"),
                context: context("charge"),
            },
            Exported {
                body: format!("{test}: checked out"),
                context: context("checkout"),
            },
        ]
    );
}

#[test]
fn no_context_outside_any_span() {
    in_memory();
    let test = "bridge_no_span";
    tracing::info!("{test}: tracing");
    log::info!("{test}: log");
    let records = exported(test);
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(
        records.iter().all(|record| record.context.is_none()),
        "{records:?}"
    );
}

#[test]
fn unsampled_spans_give_their_ids_with_the_sampled_flag_off() {
    in_memory();
    let test = "bridge_unsampled";
    let ((), spans) = capture_with_sampler(Sampler::AlwaysOff, || checkout(test));
    assert!(spans.all().is_empty());
    let records = exported(test);
    assert_eq!(records.len(), 3, "{records:?}");
    for record in &records {
        let (_, _, sampled) = record.context.as_ref().expect("the span context");
        assert!(!sampled, "{record:?}");
    }
}

#[traced("handle_request")]
async fn handle_request(test: &'static str) {
    tracing::info!("{test}: received");
    tokio::time::sleep(Duration::from_millis(1)).await;
    let cx = traced_runtime::Context::current();
    tokio::task::spawn_blocking(move || {
        let _cx = cx.attach();
        charge(test);
    })
    .await
    .unwrap();
    log::info!("{test}: done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_follows_the_span_across_awaits_and_threads() {
    in_memory();
    let test = "bridge_async";
    let ((), spans) = capture_async(handle_request(test)).await;
    let request = hex_ids(span(&spans, "handle_request"));
    let charge = hex_ids(span(&spans, "charge"));
    let contexts: Vec<_> = exported(test)
        .into_iter()
        .map(|record| record.context.map(|(t, s, _)| (t, s)))
        .collect();
    assert_eq!(
        contexts,
        [Some(request.clone()), Some(charge), Some(request)]
    );
}

// End to end: a real OTLP receiver for logs.

/// A record as the receiver got it.
#[derive(Debug)]
struct ReceivedRecord {
    /// `grpc`, `http/protobuf` or `http/json`.
    transport: &'static str,
    /// The string attributes of the record's resource.
    resource: Vec<(String, String)>,
    record: LogRecord,
}

/// The export requests a receiver got, over each transport.
#[derive(Default)]
struct Received(Mutex<Vec<(&'static str, ExportLogsServiceRequest)>>);

impl Received {
    fn push(&self, transport: &'static str, request: ExportLogsServiceRequest) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((transport, request));
    }

    fn records(&self) -> Vec<ReceivedRecord> {
        let received = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        for (transport, request) in received.iter() {
            for resource_logs in &request.resource_logs {
                let resource = resource_logs
                    .resource
                    .iter()
                    .flat_map(|resource| &resource.attributes)
                    .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
                        ProtoValue::StringValue(s) => Some((kv.key.clone(), s.clone())),
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
}

struct GrpcLogs(Arc<Received>);

#[tonic::async_trait]
impl LogsService for GrpcLogs {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.0.push("grpc", request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

/// gRPC and HTTP `/v1/logs` (protobuf and JSON) on free ports of 127.0.0.1, on a runtime of
/// its own thread; dropping it stops it.
struct Receiver {
    grpc: SocketAddr,
    http: SocketAddr,
    received: Arc<Received>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start() -> Receiver {
        let received = Arc::new(Received::default());
        let (addrs_tx, addrs_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let shared = Arc::clone(&received);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addrs_tx
                    .send((grpc.local_addr().unwrap(), http.local_addr().unwrap()))
                    .unwrap();
                let grpc_server = tonic::transport::Server::builder()
                    .add_service(LogsServiceServer::new(GrpcLogs(Arc::clone(&shared))))
                    .serve_with_incoming(tonic::transport::server::TcpIncoming::from(grpc));
                let http_server = serve_http(http, shared);
                tokio::select! {
                    _ = grpc_server => {}
                    () = http_server => {}
                    _ = stop_rx => {}
                }
            });
        });
        let (grpc, http) = addrs_rx.recv().unwrap();
        Receiver {
            grpc,
            http,
            received,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Waits until `count` records with a body starting with `test` arrived.
    fn wait_for(&self, test: &str, count: usize) -> Vec<ReceivedRecord> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let records: Vec<_> = self
                .received
                .records()
                .into_iter()
                .filter(|received| body(&received.record).starts_with(test))
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
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve_http(listener: tokio::net::TcpListener, received: Arc<Received>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let received = Arc::clone(&received);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let received = Arc::clone(&received);
                async move {
                    let json = request
                        .headers()
                        .get(hyper::header::CONTENT_TYPE)
                        .is_some_and(|v| v.as_bytes() == b"application/json");
                    let path_ok = request.uri().path() == "/v1/logs";
                    // Spans of the tests that install tracing too: accepted, not kept.
                    if request.uri().path() == "/v1/traces" {
                        return Ok(Response::new(Full::new(Bytes::new())));
                    }
                    let body = request.into_body().collect().await.map(|b| b.to_bytes());
                    let status = match (path_ok, body) {
                        (true, Ok(body)) => {
                            let decoded = if json {
                                serde_json::from_slice::<ExportLogsServiceRequest>(&body)
                                    .map_err(|e| e.to_string())
                            } else {
                                ExportLogsServiceRequest::decode(body.as_ref())
                                    .map_err(|e| e.to_string())
                            };
                            match decoded {
                                Ok(request) => {
                                    received.push(
                                        if json { "http/json" } else { "http/protobuf" },
                                        request,
                                    );
                                    200
                                }
                                Err(_) => 400,
                            }
                        }
                        _ => 404,
                    };
                    let mut response = Response::new(Full::new(Bytes::new()));
                    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn body(record: &LogRecord) -> &str {
    match record.body.as_ref().and_then(|body| body.value.as_ref()) {
        Some(ProtoValue::StringValue(body)) => body,
        _ => "",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Installs the OTLP logs pipeline for `protocol` against `receiver`, writes records in a
/// traced function through a thread-local subscriber, and checks what arrives.
fn end_to_end(protocol: &str, endpoint: String, transport: &'static str) {
    let receiver_test = format!("e2e_{}", protocol.replace('/', "_"));
    let test = receiver_test.as_str();
    let logs = otlp_logs::install_with_env(Env::from_vars([
        ("OTEL_SERVICE_NAME", "shop"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BLRP_SCHEDULE_DELAY", "10"),
    ]))
    .unwrap();
    let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
    let ((), spans) = tracing::subscriber::with_default(subscriber, || {
        tracing::info!("{test}: outside");
        capture(|| checkout(test))
    });
    logs.force_flush().unwrap();
    logs.shutdown().unwrap();

    RECEIVER.with(|receiver| {
        let records = receiver.wait_for(test, 3);
        assert_eq!(records.len(), 3, "{records:#?}");
        let (trace_id, checkout_id) = hex_ids(span(&spans, "checkout"));
        let expected = [
            (format!("{test}: outside"), None),
            (
                format!("{test}: checking out"),
                Some((trace_id.clone(), checkout_id)),
            ),
            (
                format!("{test}: charging"),
                Some((trace_id, hex_ids(span(&spans, "charge")).1)),
            ),
        ];
        for (received, (message, ids)) in records.iter().zip(expected) {
            let ReceivedRecord {
                transport: via,
                resource,
                record,
            } = received;
            assert_eq!(*via, transport);
            assert!(
                resource.contains(&("service.name".to_owned(), "shop".to_owned())),
                "{resource:?}"
            );
            assert_eq!(body(record), message);
            match ids {
                Some((trace_id, span_id)) => {
                    assert_eq!(hex(&record.trace_id), trace_id, "{message}");
                    assert_eq!(hex(&record.span_id), span_id, "{message}");
                    assert_eq!(record.flags & 0xff, 1, "sampled: {message}");
                }
                None => {
                    assert!(record.trace_id.is_empty(), "{record:?}");
                    assert!(record.span_id.is_empty(), "{record:?}");
                }
            }
        }
    });
}

thread_local! {
    static RECEIVER: Receiver = Receiver::start();
}

#[test]
fn end_to_end_http_protobuf() {
    let endpoint = RECEIVER.with(|r| format!("http://{}", r.http));
    end_to_end("http/protobuf", endpoint, "http/protobuf");
}

#[test]
fn end_to_end_http_json() {
    let endpoint = RECEIVER.with(|r| format!("http://{}/", r.http));
    end_to_end("http/json", endpoint, "http/json");
}

#[test]
fn end_to_end_grpc() {
    let endpoint = RECEIVER.with(|r| format!("http://{}", r.grpc));
    end_to_end("grpc", endpoint, "grpc");
}

#[test]
fn the_logs_endpoint_variable_beats_the_generic_one() {
    let (test, logs_endpoint) = (
        "e2e_logs_endpoint",
        RECEIVER.with(|r| format!("http://{}/v1/logs", r.http)),
    );
    // Nothing listens on the generic endpoint: only the logs one can receive.
    let logs = otlp_logs::install_with_env(Env::from_vars([
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", logs_endpoint.as_str()),
    ]))
    .unwrap();
    let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
    tracing::subscriber::with_default(subscriber, || tracing::info!("{test}: sent"));
    logs.shutdown().unwrap();
    RECEIVER.with(|receiver| assert_eq!(receiver.wait_for(test, 1).len(), 1));
}

#[test]
fn logs_exporter_none_sends_nothing() {
    let test = "e2e_none";
    let endpoint = RECEIVER.with(|r| format!("http://{}", r.http));
    let logs = otlp_logs::install_with_env(Env::from_vars([
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_LOGS_EXPORTER", "none"),
    ]))
    .unwrap();
    let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
    tracing::subscriber::with_default(subscriber, || tracing::info!("{test}: dropped"));
    logs.shutdown().unwrap();
    RECEIVER.with(|receiver| {
        std::thread::sleep(Duration::from_millis(100));
        assert!(receiver
            .received
            .records()
            .iter()
            .all(|received| !body(&received.record).starts_with(test)));
    });
}

#[test]
fn a_failed_export_is_reported_by_shutdown() {
    let test = "e2e_refused";
    // A port that was just free: nothing listens there.
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let logs = otlp_logs::install_with_env(Env::from_vars([
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", refused.as_str()),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
    ]))
    .unwrap();
    let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
    tracing::subscriber::with_default(subscriber, || tracing::info!("{test}: lost"));
    let started = Instant::now();
    let error = logs.shutdown().unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        error.contains("log records were not exported") && error.contains(&refused),
        "{error}"
    );
}

#[test]
fn builder_values_reach_the_logs() {
    let test = "e2e_builder";
    let endpoint = RECEIVER.with(|r| format!("http://{}", r.http));
    // Only the builder names the service and the collector: the environment has neither.
    let telemetry = traced_runtime::Telemetry::builder()
        .env(Env::from_vars([("OTEL_BLRP_SCHEDULE_DELAY", "10")]))
        .service_name("builder-shop")
        .otlp_protocol(traced_runtime::Protocol::HttpProtobuf)
        .otlp_endpoint(endpoint)
        .otlp_logs()
        .install()
        .unwrap();
    let logs = telemetry.logs().expect("the logs pipeline");
    let subscriber = tracing_subscriber::registry().with(logs.tracing_layer());
    tracing::subscriber::with_default(subscriber, || tracing::info!("{test}: sent"));
    telemetry.shutdown().unwrap();
    RECEIVER.with(|receiver| {
        let records = receiver.wait_for(test, 1);
        assert_eq!(records.len(), 1, "{records:#?}");
        assert_eq!(records[0].transport, "http/protobuf");
        assert!(
            records[0]
                .resource
                .contains(&("service.name".to_owned(), "builder-shop".to_owned())),
            "{:?}",
            records[0].resource
        );
    });
}

#[test]
fn without_otlp_logs_the_guard_has_no_logs() {
    let telemetry = traced_runtime::Telemetry::builder()
        .env(Env::from_vars([("OTEL_TRACES_EXPORTER", "none")]))
        .install()
        .unwrap();
    assert!(telemetry.logs().is_none());
}
