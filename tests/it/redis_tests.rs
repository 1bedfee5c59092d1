//! `redis::TracedConnection` against the real Redis on 127.0.0.1:6379 (`TRACED_TEST_REDIS_URL`):
//! the spans of commands and pipelines on sync, multiplexed and managed connections, their
//! attributes and parents, error replies, a dropped connection, and what is never recorded.
//!
//! Each test writes only keys under its own prefix and deletes them when it ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ::redis::{AsyncCommands as _, Commands as _, RedisError, RedisResult};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt as _;
use traced_runtime::http_server::HttpServerLayer;
use traced_runtime::opentelemetry::trace::{SpanId, SpanKind, Status};
use traced_runtime::opentelemetry::Value;
use traced_runtime::opentelemetry_sdk::trace::{Sampler, SpanData};
use traced_runtime::redis::{RedisTracing, TracedConnection};
use traced_runtime::testing::{self, Spans};
use traced_runtime::{traced, KeyValue};

const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

fn url() -> String {
    std::env::var("TRACED_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// The client of the test server; fails the test, saying how to start one, when unreachable.
fn client() -> ::redis::Client {
    let url = url();
    let client = ::redis::Client::open(url.as_str())
        .unwrap_or_else(|error| panic!("TRACED_TEST_REDIS_URL={url} is not a Redis URL: {error}"));
    if let Err(error) = client.get_connection_with_timeout(std::time::Duration::from_secs(2)) {
        panic!(
            "Redis is not reachable at {url}: {error}. These tests need a real server: start one \
             with `redis-server --port 6379 --daemonize yes` (Debian: `apt-get install \
             redis-server`) or `docker run -d -p 6379:6379 redis:7`, or point \
             TRACED_TEST_REDIS_URL at one."
        );
    }
    client
}

/// The keys of one test: a prefix of its own, deleted (with every key under it) when dropped,
/// panicking or not.
struct Keys {
    prefix: String,
    client: ::redis::Client,
}

impl Keys {
    fn new(test: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Keys {
            prefix: format!("traced-test:{test}:{}:{nanos}:", std::process::id()),
            client: client(),
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        if let Ok(mut con) = self.client.get_connection() {
            let keys: Vec<String> = con
                .scan_match::<_, String>(format!("{}*", self.prefix))
                .map(|iter| iter.filter_map(Result::ok).collect())
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: RedisResult<()> = con.del(keys);
            }
        }
    }
}

async fn multiplexed(
    client: &::redis::Client,
) -> TracedConnection<::redis::aio::MultiplexedConnection> {
    TracedConnection::new(
        client.get_multiplexed_async_connection().await.unwrap(),
        client.get_connection_info(),
    )
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    testing::attribute(span, key)
}

fn attr_str(span: &SpanData, key: &str) -> Option<String> {
    match attr(span, key)? {
        Value::String(value) => Some(value.as_str().to_owned()),
        other => panic!("{key} is {other:?}, not a string"),
    }
}

fn find<'a>(spans: &'a Spans, name: &str) -> &'a SpanData {
    spans
        .find(name)
        .unwrap_or_else(|| panic!("no span {name:?} in {:?}", spans.names()))
}

/// The first span of a `#[traced]` function, whatever the path of this module in its test crate.
fn find_traced<'a>(spans: &'a Spans, function: &str) -> &'a SpanData {
    spans
        .all()
        .iter()
        .find(|span| span.name.ends_with(&format!("redis_tests::{function}")))
        .unwrap_or_else(|| panic!("no span of {function} in {:?}", spans.names()))
}

/// Every attribute and event attribute of every span, as `key=value` text.
fn everything_recorded(spans: &Spans) -> String {
    let mut out = String::new();
    for span in spans.all() {
        out.push_str(&format!("{} {:?}\n", span.name, span.status));
        for kv in &span.attributes {
            out.push_str(&format!("  {}={}\n", kv.key, kv.value));
        }
        for event in span.events.iter() {
            for kv in &event.attributes {
                out.push_str(&format!("  ! {}={}\n", kv.key, kv.value));
            }
        }
    }
    out
}

/// `server.address`, `server.port` and `db.namespace` of the test server.
fn expected_server() -> (String, i64, String) {
    let info = ::redis::IntoConnectionInfo::into_connection_info(url().as_str()).unwrap();
    let ::redis::ConnectionAddr::Tcp(host, port) = info.addr() else {
        panic!(
            "the tests expect a redis://host:port URL, not {:?}",
            info.addr()
        );
    };
    (
        host.clone(),
        i64::from(*port),
        info.redis_settings().db().to_string(),
    )
}

/// The attributes the conventions ask of every Redis span, with their types.
fn assert_redis_span(span: &SpanData, operation: &str, query_text: &str) {
    let (host, port, db) = expected_server();
    assert_eq!(span.name, operation);
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(attr_str(span, "db.system.name").as_deref(), Some("redis"));
    assert_eq!(
        attr_str(span, "db.operation.name").as_deref(),
        Some(operation)
    );
    assert_eq!(attr_str(span, "db.namespace"), Some(db));
    assert_eq!(attr_str(span, "db.query.text").as_deref(), Some(query_text));
    assert_eq!(attr_str(span, "server.address"), Some(host));
    assert_eq!(attr(span, "server.port"), Some(&Value::I64(port)));
}

#[tokio::test]
async fn each_async_command_is_a_client_span_with_the_redis_attributes() {
    let keys = Keys::new("attributes");
    let client = client();
    let mut con = multiplexed(&client).await;
    let key = keys.key("user");
    let ((), spans) = testing::capture_async(async {
        let () = con.set_ex(&key, "Ada Lovelace", 60).await.unwrap();
        let value: Option<String> = con.get(&key).await.unwrap();
        assert_eq!(value.as_deref(), Some("Ada Lovelace"));
    })
    .await;

    assert_eq!(spans.names(), ["SETEX", "GET"]);
    let setex = find(&spans, "SETEX");
    assert_redis_span(setex, "SETEX", "SETEX ? ? ?");
    assert_eq!(setex.status, Status::Unset);
    assert!(setex.events.is_empty());
    assert_eq!(
        setex.parent_span_id,
        SpanId::INVALID,
        "no current span: a root"
    );
    let get = find(&spans, "GET");
    assert_redis_span(get, "GET", "GET ?");
    assert_eq!(attr(get, "db.operation.batch.size"), None);
    assert_eq!(attr(get, "db.response.status_code"), None);
    assert_eq!(attr(get, "error.type"), None);
    assert!(get.end_time >= get.start_time);
}

#[traced]
async fn load_profile(
    con: &mut TracedConnection<::redis::aio::MultiplexedConnection>,
    key: &str,
) -> Option<String> {
    con.get(key).await.unwrap()
}

#[tokio::test]
async fn a_command_in_a_traced_function_is_its_child() {
    let keys = Keys::new("traced-parent");
    let client = client();
    let mut con = multiplexed(&client).await;
    let key = keys.key("profile");
    let (value, spans) = testing::capture_async(load_profile(&mut con, &key)).await;
    assert_eq!(value, None);

    let parent = find_traced(&spans, "load_profile");
    let get = find(&spans, "GET");
    assert_eq!(get.parent_span_id, parent.span_context.span_id());
    assert_eq!(get.span_context.trace_id(), parent.span_context.trace_id());
    assert_eq!(get.status, Status::Unset, "a nil reply is not an error");
    assert!(get.events.is_empty());
}

#[traced(attrs(worker = name))]
async fn worker(
    mut con: TracedConnection<::redis::aio::MultiplexedConnection>,
    name: &'static str,
    key: String,
) {
    for _ in 0..10 {
        let _: i64 = con.incr(&key, 1).await.unwrap();
    }
}

#[tokio::test]
async fn concurrent_commands_on_one_multiplexed_connection_keep_their_own_parents() {
    let keys = Keys::new("concurrent");
    let client = client();
    // The hook tags each span with its key, to tell the two workers' commands apart.
    let con = RedisTracing::new(client.get_connection_info())
        .with_attributes(|operation, attributes| {
            let command = operation.commands().next().unwrap();
            let key = command.args().nth(1).unwrap();
            attributes.push(KeyValue::new(
                "test.key",
                String::from_utf8(key.to_vec()).unwrap(),
            ));
        })
        .wrap(client.get_multiplexed_async_connection().await.unwrap());
    let (key_a, key_b) = (keys.key("a"), keys.key("b"));
    let ((), spans) = testing::capture_async(async {
        tokio::join!(
            worker(con.clone(), "a", key_a.clone()),
            worker(con.clone(), "b", key_b.clone()),
        );
    })
    .await;

    let workers: Vec<&SpanData> = spans
        .all()
        .iter()
        .filter(|span| span.name.ends_with("redis_tests::worker"))
        .collect();
    assert_eq!(workers.len(), 2);
    let mut order = String::new();
    for span in spans.all().iter().filter(|span| span.name == "INCRBY") {
        let key = attr_str(span, "test.key").unwrap();
        let expected = if key == key_a { "a" } else { "b" };
        let parent = workers
            .iter()
            .find(|worker| worker.span_context.span_id() == span.parent_span_id)
            .unwrap_or_else(|| panic!("the INCRBY of {key} has no worker parent"));
        assert_eq!(
            attr_str(parent, "worker").as_deref(),
            Some(expected),
            "the INCRBY of {key} is under the wrong worker"
        );
        order.push_str(expected);
    }
    assert_eq!(order.len(), 20);
    assert!(
        order.contains("ab") || order.contains("ba"),
        "the two workers' commands did not interleave: {order}"
    );
}

#[tokio::test]
async fn a_command_in_an_http_handler_is_a_child_of_the_server_span() {
    let keys = Keys::new("http");
    let client = client();
    let con = multiplexed(&client).await;
    let key = keys.key("page");
    let app = Router::new()
        .route(
            "/pages/{id}",
            get(move || {
                let mut con = con.clone();
                let key = key.clone();
                async move {
                    let hits: i64 = con.incr(&key, 1).await.unwrap();
                    hits.to_string()
                }
            }),
        )
        .layer(HttpServerLayer::new());
    let request = http::Request::get("/pages/7")
        .body(axum::body::Body::empty())
        .unwrap();
    let (body, spans) = testing::capture_async(async {
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
        // The server span ends with the response body.
        let body = http_body_util::BodyExt::collect(response.into_body()).await;
        body.unwrap().to_bytes()
    })
    .await;
    assert_eq!(&body[..], b"1");

    let server = find(&spans, "GET /pages/{id}");
    assert_eq!(server.span_kind, SpanKind::Server);
    let incr = find(&spans, "INCRBY");
    assert_eq!(incr.parent_span_id, server.span_context.span_id());
    assert_redis_span(incr, "INCRBY", "INCRBY ? ?");
}

#[tokio::test]
async fn a_pipeline_is_one_span_with_its_size_and_command_names() {
    let keys = Keys::new("pipeline");
    let client = client();
    let mut con = multiplexed(&client).await;
    let (counter, name) = (keys.key("counter"), keys.key("name"));
    let ((), spans) = testing::capture_async(async {
        let (count, value): (i64, Option<String>) = ::redis::pipe()
            .set(&name, "secret-pipeline-value")
            .ignore()
            .incr(&counter, 5)
            .get(&name)
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(
            (count, value.as_deref()),
            (5, Some("secret-pipeline-value"))
        );
        let (count,): (i64,) = ::redis::pipe()
            .atomic()
            .incr(&counter, 1)
            .ignore()
            .incr(&counter, 1)
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(count, 7);
    })
    .await;

    assert_eq!(spans.names(), ["PIPELINE", "MULTI"]);
    let pipeline = find(&spans, "PIPELINE");
    assert_redis_span(pipeline, "PIPELINE", "SET ? ?; INCRBY ? ?; GET ?");
    assert_eq!(
        attr(pipeline, "db.operation.batch.size"),
        Some(&Value::I64(3))
    );
    let multi = find(&spans, "MULTI");
    assert_redis_span(multi, "MULTI", "INCRBY ? ?; INCRBY ? ?");
    assert_eq!(attr(multi, "db.operation.batch.size"), Some(&Value::I64(2)));
    assert!(!everything_recorded(&spans).contains("secret-pipeline-value"));

    // The hook sees the pipeline and its commands; values kept on purpose show in the text.
    let mut con = RedisTracing::new(client.get_connection_info())
        .with_query_values(true)
        .with_attributes(|operation, attributes| {
            let names: Vec<String> = operation
                .commands()
                .map(|command| command.name().into_owned())
                .collect();
            attributes.push(KeyValue::new("test.pipeline", operation.is_pipeline()));
            attributes.push(KeyValue::new("test.commands", names.join(",")));
        })
        .wrap(client.get_multiplexed_async_connection().await.unwrap());
    let ((), spans) = testing::capture_async(async {
        let _: (i64, i64) = ::redis::pipe()
            .atomic()
            .incr(&counter, 1)
            .decr(&counter, 1)
            .query_async(&mut con)
            .await
            .unwrap();
    })
    .await;
    let multi = find(&spans, "MULTI");
    assert_eq!(attr(multi, "test.pipeline"), Some(&Value::Bool(true)));
    assert_eq!(
        attr_str(multi, "test.commands").as_deref(),
        Some("INCRBY,DECRBY")
    );
    assert_eq!(
        attr_str(multi, "db.query.text"),
        Some(format!("INCRBY {counter} 1; DECRBY {counter} 1"))
    );
}

#[test]
fn the_sync_connection_commands_and_pipelines_are_spans() {
    let keys = Keys::new("sync");
    let client = client();
    let mut con = TracedConnection::new(
        client.get_connection().unwrap(),
        client.get_connection_info(),
    );
    let (list, missing) = (keys.key("list"), keys.key("missing"));
    let ((), spans) = testing::capture(|| {
        let _: i64 = con.rpush(&list, &["x", "y"]).unwrap();
        let value: Option<String> = con.get(&missing).unwrap();
        assert_eq!(value, None);
        let len: i64 = ::redis::cmd("llen").arg(&list).query(&mut con).unwrap();
        assert_eq!(len, 2);
        let (first, len): (String, i64) = ::redis::pipe()
            .lindex(&list, 0)
            .llen(&list)
            .query(&mut con)
            .unwrap();
        assert_eq!((first.as_str(), len), ("x", 2));
        let (popped,): (String,) = ::redis::pipe()
            .atomic()
            .rpop(&list, None)
            .query(&mut con)
            .unwrap();
        assert_eq!(popped, "y");
        // A packed command sent as is: read from its RESP bytes.
        let mut echo = ::redis::cmd("echo");
        echo.arg("secret-echo-value");
        let reply =
            ::redis::ConnectionLike::req_packed_command(&mut con, &echo.get_packed_command());
        assert_eq!(
            reply.unwrap(),
            ::redis::Value::BulkString(b"secret-echo-value".to_vec())
        );
    });

    assert_eq!(
        spans.names(),
        ["RPUSH", "GET", "LLEN", "PIPELINE", "MULTI", "ECHO"]
    );
    assert_redis_span(find(&spans, "ECHO"), "ECHO", "ECHO ?");
    assert!(!everything_recorded(&spans).contains("secret-echo-value"));
    assert_redis_span(find(&spans, "RPUSH"), "RPUSH", "RPUSH ? ? ?");
    assert_redis_span(find(&spans, "GET"), "GET", "GET ?");
    assert_eq!(find(&spans, "GET").status, Status::Unset);
    assert_redis_span(find(&spans, "LLEN"), "LLEN", "LLEN ?");
    let pipeline = find(&spans, "PIPELINE");
    assert_redis_span(pipeline, "PIPELINE", "LINDEX ? ?; LLEN ?");
    assert_eq!(
        attr(pipeline, "db.operation.batch.size"),
        Some(&Value::I64(2))
    );
    let multi = find(&spans, "MULTI");
    assert_redis_span(multi, "MULTI", "RPOP ?");
    assert_eq!(
        attr(multi, "db.operation.batch.size"),
        None,
        "one command is no batch"
    );
}

#[tokio::test]
async fn the_connection_manager_is_traced_too() {
    let keys = Keys::new("manager");
    let client = client();
    let manager = ::redis::aio::ConnectionManager::new(client.clone())
        .await
        .unwrap();
    let mut con = TracedConnection::new(manager, client.get_connection_info());
    let key = keys.key("k");
    let ((), spans) = testing::capture_async(async {
        let () = con.set(&key, 1).await.unwrap();
        let exists: bool = con.exists(&key).await.unwrap();
        assert!(exists);
    })
    .await;
    assert_eq!(spans.names(), ["SET", "EXISTS"]);
    assert_redis_span(find(&spans, "EXISTS"), "EXISTS", "EXISTS ?");
}

/// The span of a failed command: status ERROR, `error.type`, one `exception` event.
fn assert_error_span(span: &SpanData, error_type: &str, caller_error: &RedisError) {
    let Status::Error { description } = &span.status else {
        panic!("{} has status {:?}", span.name, span.status);
    };
    assert_eq!(attr_str(span, "error.type").as_deref(), Some(error_type));
    let exceptions: Vec<_> = span
        .events
        .iter()
        .filter(|event| event.name == "exception")
        .collect();
    assert_eq!(exceptions.len(), 1, "{:?}", span.events);
    let message = exceptions[0]
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "exception.message")
        .map(|kv| kv.value.to_string())
        .unwrap();
    assert_eq!(&message, description);
    assert_eq!(message, caller_error.to_string());
    let exception_type = exceptions[0]
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "exception.type")
        .map(|kv| kv.value.to_string());
    assert_eq!(exception_type.as_deref(), Some("redis::RedisError"));
}

#[tokio::test]
async fn an_error_reply_fails_the_span_and_reaches_the_caller_unchanged() {
    let keys = Keys::new("error-reply");
    let client = client();
    let mut con = multiplexed(&client).await;
    let mut bare = client.get_multiplexed_async_connection().await.unwrap();
    let key = keys.key("text");
    let () = bare.set(&key, "not a number").await.unwrap();
    let bare_error = bare.incr::<_, _, i64>(&key, 1).await.unwrap_err();

    let ((error, wrong_type), spans) = testing::capture_async(async {
        let error = con.incr::<_, _, i64>(&key, 1).await.unwrap_err();
        let wrong_type = con.lpush::<_, _, i64>(&key, "x").await.unwrap_err();
        (error, wrong_type)
    })
    .await;
    assert_eq!(error.code(), Some("ERR"));
    assert_eq!(error.kind(), bare_error.kind());
    assert_eq!(error.to_string(), bare_error.to_string());

    let incr = find(&spans, "INCRBY");
    assert_error_span(incr, "ERR", &error);
    assert_eq!(
        attr_str(incr, "db.response.status_code").as_deref(),
        Some("ERR")
    );
    assert_eq!(wrong_type.code(), Some("WRONGTYPE"));
    // In an async pipeline, redis-rs returns the error replies as one error.
    let (pipeline_error, pipeline_spans) = testing::capture_async(async {
        ::redis::pipe()
            .get(&key)
            .lpush(&key, "x")
            .query_async::<(String, i64)>(&mut con)
            .await
            .unwrap_err()
    })
    .await;
    // The span records the first error reply, which the caller's error lists.
    let pipeline = find(&pipeline_spans, "PIPELINE");
    let Status::Error { description } = &pipeline.status else {
        panic!("{:?}", pipeline.status);
    };
    assert!(description.contains("WRONGTYPE"), "{description}");
    assert!(pipeline_error.to_string().contains(description.as_ref()));
    assert_eq!(pipeline.events.len(), 1);
    assert_eq!(
        attr_str(pipeline, "error.type").as_deref(),
        Some("WRONGTYPE")
    );
    assert_eq!(
        attr_str(pipeline, "db.response.status_code").as_deref(),
        Some("WRONGTYPE")
    );
    let lpush = find(&spans, "LPUSH");
    assert_error_span(lpush, "WRONGTYPE", &wrong_type);
    assert_eq!(
        attr_str(lpush, "db.response.status_code").as_deref(),
        Some("WRONGTYPE")
    );

    // The same through a sync connection, and in a pipeline.
    let mut sync = TracedConnection::new(
        client.get_connection().unwrap(),
        client.get_connection_info(),
    );
    let (errors, spans) = testing::capture(|| {
        let command = sync.incr::<_, _, i64>(&key, 1).unwrap_err();
        let pipeline = ::redis::pipe()
            .get(&key)
            .incr(&key, 1)
            .query::<(String, i64)>(&mut sync)
            .unwrap_err();
        (command, pipeline)
    });
    assert_eq!(errors.0.to_string(), bare_error.to_string());
    assert_error_span(find(&spans, "INCRBY"), "ERR", &errors.0);
    let pipeline = find(&spans, "PIPELINE");
    assert_eq!(attr_str(pipeline, "error.type").as_deref(), Some("ERR"));
    assert_eq!(
        attr_str(pipeline, "db.response.status_code").as_deref(),
        Some("ERR")
    );
    assert!(matches!(pipeline.status, Status::Error { .. }));
    assert_eq!(errors.1.code(), Some("ERR"));
}

#[tokio::test]
async fn a_dropped_connection_fails_the_span_with_its_class() {
    let client = client();
    let mut con = multiplexed(&client).await;
    let mut admin = client.get_multiplexed_async_connection().await.unwrap();
    let id: i64 = ::redis::cmd("CLIENT")
        .arg("ID")
        .query_async(&mut con)
        .await
        .unwrap();
    let killed: i64 = ::redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(killed, 1);

    let (error, spans) = testing::capture_async(async {
        ::redis::cmd("PING")
            .query_async::<String>(&mut con)
            .await
            .unwrap_err()
    })
    .await;
    assert!(
        error.is_connection_dropped() || error.is_io_error(),
        "the caller gets redis-rs's own error: {error:?}"
    );
    let ping = find(&spans, "PING");
    let error_type = attr_str(ping, "error.type").unwrap();
    assert!(
        ["connection_dropped", "io"].contains(&error_type.as_str()),
        "error.type={error_type}"
    );
    assert_error_span(ping, &error_type, &error);
    assert_eq!(
        attr(ping, "db.response.status_code"),
        None,
        "no reply, no code"
    );

    // The sync connection: the next command fails on the closed socket.
    let mut sync = TracedConnection::new(
        client.get_connection().unwrap(),
        client.get_connection_info(),
    );
    let id: i64 = ::redis::cmd("CLIENT").arg("ID").query(&mut sync).unwrap();
    let _: i64 = ::redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query_async(&mut admin)
        .await
        .unwrap();
    let (error, spans) =
        testing::capture(|| ::redis::cmd("PING").query::<String>(&mut sync).unwrap_err());
    assert!(
        error.is_connection_dropped() || error.is_io_error(),
        "{error:?}"
    );
    let ping = find(&spans, "PING");
    assert_error_span(ping, &attr_str(ping, "error.type").unwrap(), &error);
}

#[tokio::test]
async fn values_and_passwords_never_appear_unless_values_are_asked_for() {
    let keys = Keys::new("privacy");
    let client = client();
    let value = "value-4f1c-secret";
    let password = "password-9a7e-secret";
    let key = keys.key("k");
    let session = async |con: &mut TracedConnection<::redis::aio::MultiplexedConnection>| {
        let () = con.set(&key, value).await.unwrap();
        // Wrong credentials: error replies that must not echo them.
        let auth = ::redis::cmd("AUTH")
            .arg("nobody")
            .arg(password)
            .query_async::<()>(con)
            .await;
        assert!(auth.is_err());
        let hello = ::redis::cmd("HELLO")
            .arg(3)
            .arg("AUTH")
            .arg("nobody")
            .arg(password)
            .query_async::<::redis::Value>(con)
            .await;
        assert!(hello.is_err());
        // An unknown command: Redis quotes its arguments in the error.
        let unknown = ::redis::cmd("NOSUCHCOMMAND")
            .arg(value)
            .query_async::<()>(con)
            .await
            .unwrap_err();
        assert!(unknown.to_string().contains(value), "{unknown}");
    };

    let mut con = multiplexed(&client).await;
    let ((), spans) = testing::capture_async(session(&mut con)).await;
    assert_eq!(spans.names(), ["SET", "AUTH", "HELLO", "NOSUCHCOMMAND"]);
    let recorded = everything_recorded(&spans);
    assert!(!recorded.contains(value), "{recorded}");
    assert!(!recorded.contains(password), "{recorded}");
    assert!(!recorded.contains("nobody"), "{recorded}");
    assert_eq!(
        attr_str(find(&spans, "AUTH"), "db.query.text").as_deref(),
        Some("AUTH ? ?")
    );
    assert_eq!(
        attr_str(find(&spans, "AUTH"), "error.type").as_deref(),
        Some("WRONGPASS")
    );

    // Values kept on purpose: the value shows, the password still does not.
    let mut con = RedisTracing::new(client.get_connection_info())
        .with_query_values(true)
        .wrap(client.get_multiplexed_async_connection().await.unwrap());
    let ((), spans) = testing::capture_async(session(&mut con)).await;
    let recorded = everything_recorded(&spans);
    assert_eq!(
        attr_str(find(&spans, "SET"), "db.query.text"),
        Some(format!("SET {key} {value}"))
    );
    assert!(!recorded.contains(password), "{recorded}");
    assert_eq!(
        attr_str(find(&spans, "HELLO"), "db.query.text").as_deref(),
        Some("HELLO ? ? ? ?")
    );
}

#[tokio::test]
async fn an_unsampled_command_records_nothing_and_calls_no_hook() {
    let keys = Keys::new("unsampled");
    let client = client();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let mut con = RedisTracing::new(client.get_connection_info())
        .with_attributes(move |_, _| {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .wrap(client.get_multiplexed_async_connection().await.unwrap());
    let key = keys.key("k");
    let (value, spans) = testing::capture_async_with_sampler(Sampler::AlwaysOff, async {
        let () = con.set(&key, "v").await.unwrap();
        con.get::<_, String>(&key).await.unwrap()
    })
    .await;
    assert_eq!(value, "v");
    assert!(spans.all().is_empty(), "{:?}", spans.names());
    assert_eq!(calls.load(Ordering::Relaxed), 0);

    let (_, spans) =
        testing::capture_async(async { con.get::<_, String>(&key).await.unwrap() }).await;
    assert_eq!(spans.names(), ["GET"]);
    assert_eq!(
        calls.load(Ordering::Relaxed),
        1,
        "the hook runs for a sampled span"
    );
}

#[tokio::test]
async fn a_command_dropped_before_its_reply_ends_its_span_as_cancelled() {
    let keys = Keys::new("cancelled");
    let client = client();
    let mut con = multiplexed(&client).await;
    let key = keys.key("empty-list");
    let (timed_out, spans) = testing::capture_async(async {
        // BLPOP blocks for a second; the caller gives up after 50 ms.
        tokio::time::timeout(
            std::time::Duration::from_millis(50),
            con.blpop::<_, Option<(String, String)>>(&key, 1.0),
        )
        .await
        .is_err()
    })
    .await;
    assert!(timed_out);
    let blpop = find(&spans, "BLPOP");
    assert_eq!(attr(blpop, "traced.cancelled"), Some(&Value::Bool(true)));
}
