//! `traced_runtime::db` on real databases: PostgreSQL and MariaDB/MySQL servers on 127.0.0.1
//! (`TRACED_TEST_POSTGRES_URL`, `TRACED_TEST_MYSQL_URL`) and SQLite in memory. Each test makes
//! its own uniquely named table and drops it; spans are asserted as exported, through
//! `testing::capture_async`. An unreachable server fails the test with how to start it.
//!
//! The same tests run on every backend: `backend_tests!` stamps them out per driver, with the
//! driver's placeholders and error codes.

use std::sync::atomic::{AtomicU32, Ordering};

use traced_runtime::opentelemetry::trace::{SpanKind, Status};
use traced_runtime::opentelemetry::Value;
use traced_runtime::opentelemetry_sdk::trace::{Sampler, SpanData};
use traced_runtime::testing::{self, Spans};

const POSTGRES_URL_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL_URL_DEFAULT: &str = "mysql://root@127.0.0.1:3306/test";

/// A statement returning the 64-bit integer 1 on every backend (PostgreSQL's `SELECT 1` is 32-bit).
const COUNT_ONE: &str = "SELECT COUNT(*) FROM (SELECT 1) AS t";

/// A table name no other test (in this process or another) uses.
fn unique_table(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "traced_{tag}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    testing::attribute(span, key)
}

#[track_caller]
fn attr_str(span: &SpanData, key: &str) -> String {
    match attr(span, key) {
        Some(Value::String(s)) => s.as_str().to_owned(),
        other => panic!("{key} on {} is not a string: {other:?}", span.name),
    }
}

#[track_caller]
fn attr_i64(span: &SpanData, key: &str) -> i64 {
    match attr(span, key) {
        Some(Value::I64(i)) => *i,
        other => panic!("{key} on {} is not an i64: {other:?}", span.name),
    }
}

#[track_caller]
fn find<'a>(spans: &'a Spans, name: &str) -> &'a SpanData {
    spans
        .find(name)
        .unwrap_or_else(|| panic!("no span {name:?} in {:?}", spans.names()))
}

/// Every string in every attribute and event of every span.
fn all_strings(spans: &Spans) -> Vec<String> {
    let mut out = Vec::new();
    for span in spans.all() {
        out.push(span.name.to_string());
        for kv in span
            .attributes
            .iter()
            .chain(span.events.iter().flat_map(|e| e.attributes.iter()))
        {
            out.push(kv.value.as_str().into_owned());
        }
        if let Status::Error { description } = &span.status {
            out.push(description.to_string());
        }
    }
    out
}

#[track_caller]
fn assert_no_secret(spans: &Spans, secrets: &[&str]) {
    for value in all_strings(spans) {
        for secret in secrets {
            assert!(
                !value.contains(secret),
                "the bound value {secret:?} was recorded: {value:?}"
            );
        }
    }
}

/// The `exception` event of a failed statement's span, and its status.
#[track_caller]
fn assert_failed(span: &SpanData, code: &str) {
    assert_eq!(span.span_kind, SpanKind::Client);
    assert!(
        matches!(&span.status, Status::Error { description } if !description.is_empty()),
        "{}: {:?}",
        span.name,
        span.status
    );
    assert_eq!(attr_str(span, "error.type"), code, "{}", span.name);
    assert_eq!(
        attr_str(span, "db.response.status_code"),
        code,
        "{}",
        span.name
    );
    let exceptions: Vec<_> = span
        .events
        .iter()
        .filter(|e| e.name == "exception")
        .collect();
    assert_eq!(exceptions.len(), 1, "{}: {:?}", span.name, span.events);
    let event = exceptions[0];
    let get = |key: &str| {
        event
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.as_str().into_owned())
            .unwrap_or_else(|| panic!("no {key} in the exception event"))
    };
    assert_eq!(get("exception.type"), "sqlx_core::error::Error");
    assert!(!get("exception.message").is_empty());
    assert!(get("exception.stacktrace").starts_with("sqlx_core::error::Error: "));
    assert!(attr(span, "db.response.returned_rows").is_none());
}

async fn postgres_pool() -> sqlx::PgPool {
    let url = std::env::var("TRACED_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| POSTGRES_URL_DEFAULT.to_owned());
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&url)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "PostgreSQL is not reachable at {url} ({error}). Start it, e.g. `docker run -d -p \
                 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres`, or \
                 point TRACED_TEST_POSTGRES_URL at one (user postgres, database test)"
            )
        })
}

async fn mysql_pool() -> sqlx::MySqlPool {
    let url =
        std::env::var("TRACED_TEST_MYSQL_URL").unwrap_or_else(|_| MYSQL_URL_DEFAULT.to_owned());
    sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&url)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "MariaDB/MySQL is not reachable at {url} ({error}). Start it, e.g. `docker run -d \
                 -p 3306:3306 -e MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1 -e MARIADB_DATABASE=test \
                 mariadb`, or point TRACED_TEST_MYSQL_URL at one (root without password, \
                 database test)"
            )
        })
}

async fn sqlite_pool() -> sqlx::SqlitePool {
    // One connection: each connection to `sqlite::memory:` is a database of its own.
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("SQLite in memory")
}

/// What differs between backends, for the shared tests.
struct Backend {
    system: &'static str,
    /// `db.namespace`, `server.address`, `server.port`; `None` for SQLite in memory.
    server: Option<(&'static str, &'static str, i64)>,
    /// The n-th placeholder.
    placeholder: fn(usize) -> String,
    missing_table: &'static str,
    syntax_error: &'static str,
    unique_violation: &'static str,
    bigint: &'static str,
}

macro_rules! backend_tests {
    ($module:ident, $DB:ty, $make_pool:ident, $backend:expr, $instrumentation:expr) => {
        mod $module {
            use super::*;
            use traced_runtime::db::{Instrumentation, TracedPool};
            use traced_runtime::traced;

            fn backend() -> Backend {
                $backend
            }

            async fn pool() -> TracedPool<$DB> {
                let instrumentation: Instrumentation = $instrumentation;
                instrumentation.instrument($make_pool().await)
            }

            fn p(n: usize) -> String {
                (backend().placeholder)(n)
            }

            async fn create(pool: &TracedPool<$DB>, table: &str) {
                let sql = format!(
                    "CREATE TABLE {table} (id {} PRIMARY KEY, customer VARCHAR(64) NOT NULL, total {})",
                    backend().bigint,
                    backend().bigint
                );
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await.unwrap();
            }

            async fn drop_table(pool: &TracedPool<$DB>, table: &str) {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
                    .execute(pool.as_untraced())
                    .await
                    .unwrap();
            }

            #[traced]
            async fn place_and_read(pool: &TracedPool<$DB>, table: &str) -> Result<(), sqlx::Error> {
                let insert = format!("INSERT INTO {table} (id, customer, total) VALUES ({}, {}, {})", p(1), p(2), p(3));
                for (id, customer) in [(1_i64, "alice-secret-41"), (2, "bob-secret-42")] {
                    sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
                        .bind(id)
                        .bind(customer)
                        .bind(9_876_543_i64)
                        .execute(pool)
                        .await?;
                }
                let select_one = format!("SELECT customer, total FROM {table} WHERE id = {}", p(1));
                let (customer, total): (String, i64) = sqlx::query_as(sqlx::AssertSqlSafe(select_one))
                    .bind(1_i64)
                    .fetch_one(pool)
                    .await?;
                assert_eq!((customer.as_str(), total), ("alice-secret-41", 9_876_543));
                let all: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id FROM {table} ORDER BY id")))
                    .fetch_all(pool)
                    .await?;
                assert_eq!(all, vec![(1,), (2,)]);
                let none: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT total FROM {table} WHERE customer = {}", p(1))))
                    .bind("nobody-secret-43")
                    .fetch_optional(pool)
                    .await?;
                assert_eq!(none, None);
                Ok(())
            }

            #[tokio::test]
            async fn statements_are_client_spans_under_the_traced_function_with_every_attribute() {
                let pool = pool().await;
                let table = unique_table("attrs");
                create(&pool, &table).await;
                let (result, spans) = testing::capture_async(place_and_read(&pool, &table)).await;
                drop_table(&pool, &table).await;
                result.unwrap();

                let b = backend();
                let parent = spans
                    .all()
                    .iter()
                    .find(|s| s.span_kind == SpanKind::Internal)
                    .expect("the #[traced] span");
                assert!(parent.name.ends_with("place_and_read"), "{}", parent.name);
                let insert_name = format!("INSERT {table}");
                let select_name = format!("SELECT {table}");
                assert_eq!(
                    spans.names(),
                    vec![&parent.name.to_string(), &insert_name, &insert_name, &select_name, &select_name, &select_name]
                        .into_iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                );
                for span in spans.children(parent) {
                    assert_eq!(span.span_kind, SpanKind::Client, "{}", span.name);
                    assert_eq!(span.parent_span_id, parent.span_context.span_id());
                    assert_eq!(span.span_context.trace_id(), parent.span_context.trace_id());
                    assert_eq!(span.status, Status::Unset, "{}", span.name);
                    assert_eq!(attr_str(span, "db.system.name"), b.system);
                    assert_eq!(attr_str(span, "db.collection.name"), table);
                    match b.server {
                        Some((namespace, address, port)) => {
                            assert_eq!(attr_str(span, "db.namespace"), namespace);
                            assert_eq!(attr_str(span, "server.address"), address);
                            assert_eq!(attr_i64(span, "server.port"), port);
                        }
                        None => {
                            assert!(attr(span, "server.address").is_none());
                            assert!(attr(span, "server.port").is_none());
                            assert!(attr(span, "db.namespace").is_none());
                        }
                    }
                }
                assert_eq!(spans.children(parent).len(), 5);

                let children = spans.children(parent);
                let insert = children[0];
                assert_eq!(attr_str(insert, "db.operation.name"), "INSERT");
                assert_eq!(attr_str(insert, "db.query.summary"), insert_name);
                assert_eq!(
                    attr_str(insert, "db.query.text"),
                    format!("INSERT INTO {table} (id, customer, total) VALUES ({}, {}, {})", p(1), p(2), p(3))
                );
                assert_eq!(attr_i64(insert, "db.response.returned_rows"), 0);

                let (one, all, none) = (children[2], children[3], children[4]);
                for span in [one, all, none] {
                    assert_eq!(attr_str(span, "db.operation.name"), "SELECT");
                    assert_eq!(attr_str(span, "db.query.summary"), select_name);
                }
                assert_eq!(
                    attr_str(one, "db.query.text"),
                    format!("SELECT customer, total FROM {table} WHERE id = {}", p(1))
                );
                assert_eq!(attr_i64(one, "db.response.returned_rows"), 1);
                assert_eq!(attr_i64(all, "db.response.returned_rows"), 2);
                assert_eq!(attr_i64(none, "db.response.returned_rows"), 0);

                assert_no_secret(&spans, &["secret", "9876543"]);
            }

            #[tokio::test]
            async fn a_missing_table_is_an_error_with_the_database_code_returned_unchanged() {
                let pool = pool().await;
                let table = unique_table("missing");
                let sql = format!("SELECT id FROM {table} WHERE id = {}", p(1));
                let (result, spans) = testing::capture_async(
                    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(5_i64).fetch_all(&pool),
                )
                .await;
                let error = result.unwrap_err();
                let code = backend().missing_table;
                assert_eq!(
                    error.as_database_error().and_then(|e| e.code()).as_deref(),
                    Some(code),
                    "{error}"
                );
                assert_eq!(spans.all().len(), 1);
                let span = find(&spans, &format!("SELECT {table}"));
                assert_failed(span, code);
                assert_eq!(attr_str(span, "db.system.name"), backend().system);
            }

            #[tokio::test]
            async fn a_syntax_error_is_an_error_span_named_after_what_could_be_read() {
                let pool = pool().await;
                let (result, spans) =
                    testing::capture_async(sqlx::query("SELEC nonsense FROM").execute(&pool)).await;
                let error = result.unwrap_err();
                assert!(error.as_database_error().is_some(), "{error}");
                assert_eq!(spans.all().len(), 1);
                // no operation could be read: the span is named after the system
                let span = find(&spans, backend().system);
                assert_failed(span, backend().syntax_error);
                assert!(attr(span, "db.operation.name").is_none());
                assert_eq!(attr_str(span, "db.query.text"), "SELEC nonsense FROM");
            }

            #[tokio::test]
            async fn a_unique_violation_is_an_error_and_its_values_are_not_recorded() {
                let pool = pool().await;
                let table = unique_table("unique");
                create(&pool, &table).await;
                let insert = format!("INSERT INTO {table} (id, customer, total) VALUES ({}, {}, {})", p(1), p(2), p(3));
                let (result, spans) = testing::capture_async(async {
                    for _ in 0..2 {
                        sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
                            .bind(77_i64)
                            .bind("carol-secret-44")
                            .bind(31_337_i64)
                            .execute(&pool)
                            .await?;
                    }
                    Ok::<_, sqlx::Error>(())
                })
                .await;
                drop_table(&pool, &table).await;
                let error = result.unwrap_err();
                assert!(matches!(error, sqlx::Error::Database(ref e) if e.is_unique_violation()), "{error}");
                let names = spans.names();
                assert_eq!(names, vec![format!("INSERT {table}"); 2]);
                assert_eq!(spans.all()[0].status, Status::Unset);
                assert_failed(&spans.all()[1], backend().unique_violation);
                assert_no_secret(&spans, &["secret", "31337"]);
            }

            #[traced]
            async fn transfer(pool: &TracedPool<$DB>, table: &str, commit: bool) -> Result<(), sqlx::Error> {
                let mut tx = pool.begin().await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO {table} (id, customer, total) VALUES ({}, {}, {})", p(1), p(2), p(3)
                )))
                .bind(if commit { 1_i64 } else { 2 })
                .bind("dave-secret-45")
                .bind(5_i64)
                .execute(&mut tx)
                .await?;
                if commit {
                    tx.commit().await
                } else {
                    tx.rollback().await
                }
            }

            #[tokio::test]
            async fn transactions_committed_and_rolled_back_are_spans_under_the_caller() {
                let pool = pool().await;
                let table = unique_table("tx");
                create(&pool, &table).await;
                let (result, spans) = testing::capture_async(async {
                    transfer(&pool, &table, true).await?;
                    transfer(&pool, &table, false).await
                })
                .await;
                let ids: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id FROM {table}")))
                    .fetch_all(pool.as_untraced())
                    .await
                    .unwrap();
                drop_table(&pool, &table).await;
                result.unwrap();
                assert_eq!(ids, vec![(1,)], "the rolled back row is not there");

                let parents: Vec<_> = spans
                    .all()
                    .iter()
                    .filter(|s| s.span_kind == SpanKind::Internal)
                    .collect();
                assert_eq!(parents.len(), 2);
                let insert = format!("INSERT {table}");
                for (parent, end) in parents.iter().zip(["COMMIT", "ROLLBACK"]) {
                    let children = spans.children(parent);
                    let names: Vec<&str> = children.iter().map(|s| s.name.as_ref()).collect();
                    assert_eq!(names, vec!["BEGIN", insert.as_str(), end]);
                    for child in children {
                        assert_eq!(child.span_kind, SpanKind::Client);
                        assert_eq!(child.status, Status::Unset);
                        assert_eq!(attr_str(child, "db.system.name"), backend().system);
                    }
                    let end_span = spans.children(parent)[2];
                    assert_eq!(attr_str(end_span, "db.operation.name"), end);
                }
                assert_no_secret(&spans, &["secret"]);
            }

            #[tokio::test]
            async fn statements_in_a_handler_are_children_of_the_http_server_span() {
                use axum::routing::get;
                use tower::ServiceExt as _;

                let pool = pool().await;
                let app = axum::Router::new()
                    .route(
                        "/answer",
                        get(|axum::extract::State(pool): axum::extract::State<TracedPool<$DB>>| async move {
                            let n: i64 = sqlx::query_scalar(COUNT_ONE).fetch_one(&pool).await.unwrap();
                            n.to_string()
                        }),
                    )
                    .with_state(pool.clone())
                    .layer(traced_runtime::http_server::HttpServerLayer::new());
                let request = http::Request::get("/answer").body(axum::body::Body::empty()).unwrap();
                // The server span ends with the response body: read it inside the capture.
                let ((status, body), spans) = testing::capture_async(async {
                    let response = app.oneshot(request).await.unwrap();
                    let status = response.status();
                    let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
                    (status, body)
                })
                .await;
                assert_eq!(status, 200);
                assert_eq!(&body[..], b"1");
                let server = spans
                    .all()
                    .iter()
                    .find(|s| s.span_kind == SpanKind::Server)
                    .unwrap_or_else(|| panic!("no server span in {:?}", spans.names()));
                let children = spans.children(server);
                assert_eq!(children.len(), 1, "{:?}", spans.names());
                assert_eq!(children[0].span_kind, SpanKind::Client);
                assert_eq!(children[0].name, "SELECT");
                assert_eq!(attr_str(children[0], "db.query.text"), "SELECT COUNT(*) FROM (SELECT ?) AS t");
            }

            #[tokio::test]
            async fn a_pooled_connection_is_traced_and_inline_literals_can_be_kept() {
                let raw = $make_pool().await;
                let instrumentation: Instrumentation = $instrumentation;
                let pool = instrumentation.sanitize_literals(false).instrument(raw);
                let (result, spans) = testing::capture_async(async {
                    let mut conn = pool.acquire().await?;
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 7) AS t").fetch_one(&mut conn).await?;
                    Ok::<_, sqlx::Error>(n)
                })
                .await;
                assert_eq!(result.unwrap(), 1);
                let span = find(&spans, "SELECT");
                assert_eq!(attr_str(span, "db.query.text"), "SELECT COUNT(*) FROM (SELECT 7) AS t");
                assert_eq!(attr_i64(span, "db.response.returned_rows"), 1);
            }

            #[tokio::test]
            async fn the_hooks_add_attributes_at_the_start_and_the_end() {
                let raw = $make_pool().await;
                let instrumentation: Instrumentation = $instrumentation;
                let pool = instrumentation
                    .request_hook(|query, attributes| {
                        attributes.push(traced_runtime::KeyValue::new(
                            "app.query.operation",
                            query.operation.unwrap_or("?"),
                        ));
                    })
                    .response_hook(|_, outcome, attributes| {
                        attributes.push(traced_runtime::KeyValue::new(
                            "app.query.ok",
                            outcome.error.is_none(),
                        ));
                    })
                    .instrument(raw);
                let (_, spans) = testing::capture_async(async {
                    let _ = sqlx::query("SELECT 1").execute(&pool).await;
                    let _ = sqlx::query("SELECT nothing FROM traced_nowhere").execute(&pool).await;
                })
                .await;
                let ok = &spans.all()[0];
                let failed = &spans.all()[1];
                assert_eq!(attr_str(ok, "app.query.operation"), "SELECT");
                assert_eq!(attr(ok, "app.query.ok"), Some(&Value::Bool(true)));
                assert_eq!(attr(failed, "app.query.ok"), Some(&Value::Bool(false)));
            }

            #[tokio::test]
            async fn a_raw_sql_batch_is_one_span_summarising_every_statement() {
                let pool = pool().await;
                let table = unique_table("raw");
                create(&pool, &table).await;
                let batch = format!(
                    "INSERT INTO {table} (id, customer, total) VALUES (1, 'erin-secret-46', 3); \
                     UPDATE {table} SET total = 4 WHERE id = 1"
                );
                let (result, spans) =
                    testing::capture_async(sqlx::raw_sql(sqlx::AssertSqlSafe(batch)).execute(&pool)).await;
                drop_table(&pool, &table).await;
                result.unwrap();
                assert_eq!(spans.names(), vec![backend().system]);
                let span = &spans.all()[0];
                assert!(attr(span, "db.operation.name").is_none());
                assert!(attr(span, "db.collection.name").is_none());
                assert_eq!(
                    attr_str(span, "db.query.summary"),
                    format!("INSERT {table} UPDATE {table}")
                );
                assert_eq!(
                    attr_str(span, "db.query.text"),
                    format!(
                        "INSERT INTO {table} (id, customer, total) VALUES (?, ?, ?); \
                         UPDATE {table} SET total = ? WHERE id = ?"
                    )
                );
                assert_no_secret(&spans, &["secret"]);
            }

            #[tokio::test]
            async fn an_unsampled_statement_runs_and_records_nothing() {
                let pool = pool().await;
                let (result, spans) = testing::capture_async_with_sampler(
                    Sampler::AlwaysOff,
                    sqlx::query_scalar::<_, i64>(COUNT_ONE).fetch_one(&pool),
                )
                .await;
                assert_eq!(result.unwrap(), 1);
                assert!(spans.all().is_empty(), "{:?}", spans.names());
            }

            #[tokio::test]
            async fn without_a_capture_or_provider_statements_still_run() {
                let pool = pool().await;
                let n: i64 = sqlx::query_scalar(COUNT_ONE).fetch_one(&pool).await.unwrap();
                assert_eq!(n, 1);
            }
        }
    };
}

backend_tests!(
    postgres,
    sqlx::Postgres,
    postgres_pool,
    Backend {
        system: "postgresql",
        server: Some(("test", "127.0.0.1", 5432)),
        placeholder: |n| format!("${n}"),
        missing_table: "42P01",
        syntax_error: "42601",
        unique_violation: "23505",
        bigint: "BIGINT",
    },
    Instrumentation::new()
);

backend_tests!(
    mariadb,
    sqlx::MySql,
    mysql_pool,
    Backend {
        system: "mariadb",
        server: Some(("test", "127.0.0.1", 3306)),
        placeholder: |_| "?".to_owned(),
        missing_table: "42S02",
        syntax_error: "42000",
        unique_violation: "23000",
        bigint: "BIGINT",
    },
    Instrumentation::new().system_name("mariadb")
);

backend_tests!(
    sqlite,
    sqlx::Sqlite,
    sqlite_pool,
    Backend {
        system: "sqlite",
        server: None,
        placeholder: |n| format!("${n}"),
        missing_table: "1",
        syntax_error: "1",
        unique_violation: "1555",
        bigint: "INTEGER",
    },
    Instrumentation::new()
);

/// The comment reaches the server: PostgreSQL's `current_query()` is the text it received.
#[tokio::test]
async fn postgres_sql_commenter_sends_the_span_traceparent_with_the_statement() {
    use traced_runtime::db::Instrumentation;
    let pool = Instrumentation::new()
        .sql_commenter(true)
        .instrument(postgres_pool().await);
    let (received, spans) = testing::capture_async(
        sqlx::query_scalar::<_, String>("SELECT current_query()").fetch_one(&pool),
    )
    .await;
    let span = &spans.all()[0];
    assert_eq!(
        received.unwrap(),
        format!(
            "SELECT current_query() /*traceparent='00-{}-{}-01'*/",
            span.span_context.trace_id(),
            span.span_context.span_id()
        )
    );
    assert_eq!(attr_str(span, "db.query.text"), "SELECT current_query()");
}

/// The comment reaches the server: the process list holds the text MariaDB received.
#[tokio::test]
async fn mysql_sql_commenter_sends_the_span_traceparent_with_the_statement() {
    use traced_runtime::db::Instrumentation;
    let pool = Instrumentation::new()
        .sql_commenter(true)
        .instrument(mysql_pool().await);
    let sql = "SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()";
    let (received, spans) =
        testing::capture_async(sqlx::query_scalar::<_, Option<String>>(sql).fetch_one(&pool)).await;
    let span = &spans.all()[0];
    assert_eq!(
        received.unwrap().as_deref(),
        Some(&*format!(
            "{sql} /*traceparent='00-{}-{}-01'*/",
            span.span_context.trace_id(),
            span.span_context.span_id()
        ))
    );
    assert_eq!(attr_str(span, "db.query.text"), sql);
}

/// Off by default: the server receives the statement as written.
#[tokio::test]
async fn postgres_statements_are_sent_unchanged_by_default() {
    let pool = traced_runtime::db::instrument(postgres_pool().await);
    let (received, _) = testing::capture_async(
        sqlx::query_scalar::<_, String>("SELECT current_query()").fetch_one(&pool),
    )
    .await;
    assert_eq!(received.unwrap(), "SELECT current_query()");
}

/// A statement abandoned by its caller (here a timeout) ends its span as cancelled, not as a
/// success.
#[tokio::test]
async fn postgres_a_statement_dropped_by_a_timeout_is_a_cancelled_span() {
    let pool = traced_runtime::db::instrument(postgres_pool().await);
    let (result, spans) = testing::capture_async(tokio::time::timeout(
        std::time::Duration::from_millis(100),
        sqlx::query("SELECT pg_sleep(2)").execute(&pool),
    ))
    .await;
    assert!(result.is_err(), "the statement should have timed out");
    assert_eq!(spans.names(), vec!["SELECT"]);
    let span = &spans.all()[0];
    assert_eq!(attr(span, "traced.cancelled"), Some(&Value::Bool(true)));
    assert!(attr(span, "db.response.returned_rows").is_none());
}

/// The `query!` macros take the traced pool as they take sqlx's: checked at compile time
/// against SQLite in memory (`.cargo/config.toml`), a span at run time.
#[tokio::test]
async fn sqlite_query_macros_run_through_the_traced_pool() {
    let pool = traced_runtime::db::instrument(sqlite_pool().await);
    let (row, spans) = testing::capture_async(async {
        sqlx::query!("SELECT 40 + 2 AS answer")
            .fetch_one(&pool)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(row.answer, 42);
    assert_eq!(spans.names(), ["SELECT"]);
    let span = &spans.all()[0];
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(attr_str(span, "db.system.name"), "sqlite");
    assert_eq!(attr_str(span, "db.query.text"), "SELECT ? + ? AS answer");
}
