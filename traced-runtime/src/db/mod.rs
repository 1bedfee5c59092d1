//! Every SQL statement a span: sqlx pools for PostgreSQL (feature `db-postgres`), MySQL and
//! MariaDB (`db-mysql`) and SQLite (`db-sqlite`), the way Python's `SQLAlchemyInstrumentor`
//! instruments an engine.
#![cfg_attr(
    feature = "db-sqlite",
    doc = r#"
One line where the pool is made, nothing at each query:

```
# tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
use sqlx::sqlite::SqlitePoolOptions;

let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await?;
let pool = traced_runtime::db::instrument(pool);

sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)").execute(&pool).await?;
sqlx::query("INSERT INTO orders (id, total) VALUES ($1, $2)")
    .bind(7)
    .bind(12.5)
    .execute(&pool) // a span `INSERT orders`
    .await?;

let mut tx = pool.begin().await?; // a span `BEGIN`
let total: f64 = sqlx::query_scalar("SELECT total FROM orders WHERE id = $1")
    .bind(7)
    .fetch_one(&mut tx) // a span `SELECT orders`
    .await?;
tx.commit().await?; // a span `COMMIT`
assert_eq!(total, 12.5);
# Ok::<(), sqlx::Error>(())
# }).unwrap();
```
"#
)]
#![cfg_attr(
    not(feature = "db-sqlite"),
    doc = "\nOne line where the pool is made: `let pool = traced_runtime::db::instrument(PgPool::connect(url).await?);`, then `sqlx::query(..).fetch_one(&pool)` as before.\n"
)]
//!
//! # What is traced
//!
//! [`TracedPool`], [`TracedPoolConnection`] (from [`TracedPool::acquire`]) and
//! [`TracedTransaction`] (from [`TracedPool::begin`] or [`TracedPoolConnection::begin`])
//! implement sqlx's [`Executor`](sqlx::Executor): `query`, `query_as`, `query_scalar`,
//! `raw_sql`, `QueryBuilder` and the `query!` macros (which take any `Executor`; tested on
//! SQLite in memory, which the macros check against at compile time) —
//! everything executed on them is one CLIENT span, a child of the span current at the call (a
//! `#[traced]` function, an HTTP server span). A `raw_sql` text of several statements is one
//! span, named after `db.system.name`, with every statement in `db.query.summary`.
//! Pass the pool as `&pool`, a connection as `&mut conn` and a transaction as `&mut tx` (sqlx's
//! own `&mut *tx` would reach the raw connection, which these types do not hand out silently:
//! [`TracedTransaction::as_untraced`] does it explicitly).
//!
//! Not traced: a connection or pool never wrapped (`PgConnection::connect`, the `Pool` before
//! [`instrument`]), `prepare`/`describe` calls (delegated without a span), the time spent
//! waiting for a pooled connection outside a statement, and sqlx's implicit rollback of a
//! transaction dropped without `commit`/`rollback` (it runs later, on the connection's next use).
//!
//! # What each span holds
//!
//! Name `{db.operation.name} {db.collection.name}` (`SELECT orders`), else the operation alone,
//! else `db.system.name`; never the query text. Attributes: `db.system.name` (`postgresql`,
//! `mysql` — `mariadb` with [`Instrumentation::system_name`] — `sqlite`), `db.namespace`,
//! `db.operation.name`, `db.collection.name` (when the statement names one table),
//! `db.query.summary`, `db.query.text` (with its `$1`/`?` placeholders; inline literals replaced
//! by `?` unless [`Instrumentation::sanitize_literals`]`(false)`; bound values are never read),
//! `server.address`, `server.port`, and `db.response.returned_rows` at the end.
//!
//! On failure: status ERROR, `db.response.status_code` (the SQLSTATE for PostgreSQL and MySQL, the
//! extended result code for SQLite), `error.type` (that code, else the kind of `sqlx::Error`), and
//! one `exception` event; the error reaches the caller unchanged. A statement whose future or
//! row stream is dropped before the end (a timeout, a `fetch` stream left early) ends its span
//! with `traced.cancelled = true`, as a cancelled `#[traced]` future does.
//!
//! Transactions: `BEGIN`, `COMMIT` and `ROLLBACK` are spans of their own (with the same
//! attributes and `db.operation.name`), so their duration and failure are visible; statements
//! inside are children of the span current where they run, like any other.
//!
//! # Cost
//!
//! The parsing of a statement (operation, tables, summary, sanitised text) is done once per
//! distinct SQL text per pool and kept in a bounded cache
//! ([`Instrumentation::statement_cache_capacity`]); each execution pays a cache look-up and the
//! span. BENCHMARKS.md has the figures.

mod connection;
mod driver;
mod executor;
mod executor_impl;
mod hooks;
mod pool;
mod statement;
mod transaction;

mod commenter;

use std::fmt;
use std::sync::Arc;

use sqlx::Pool;

pub use connection::TracedPoolConnection;
pub use driver::TracedDatabase;
pub use hooks::{QueryInfo, QueryOutcome};
pub use pool::TracedPool;
pub use transaction::TracedTransaction;

use hooks::{RequestHook, ResponseHook};
use statement::{StatementCache, STATEMENT_CACHE_CAPACITY_DEFAULT};

/// Wraps `pool` so that every statement executed through it is a span, with the default
/// [`Instrumentation`].
pub fn instrument<DB>(pool: Pool<DB>) -> TracedPool<DB>
where
    DB: TracedDatabase,
{
    Instrumentation::new().instrument(pool)
}

/// The options of the database instrumentation; [`Instrumentation::instrument`] applies them
/// to a pool.
#[derive(Clone)]
#[must_use]
pub struct Instrumentation {
    sanitize: bool,
    commenter: bool,
    cache_capacity: usize,
    system_name: Option<&'static str>,
    request_hook: Option<RequestHook>,
    response_hook: Option<ResponseHook>,
}

impl Default for Instrumentation {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Instrumentation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instrumentation")
            .field("sanitize_literals", &self.sanitize)
            .field("sql_commenter", &self.commenter)
            .field("statement_cache_capacity", &self.cache_capacity)
            .field("system_name", &self.system_name)
            .field("request_hook", &self.request_hook.is_some())
            .field("response_hook", &self.response_hook.is_some())
            .finish()
    }
}

impl Instrumentation {
    /// Literals sanitised, no SQL comment, a cache of 1024 statements, no hooks.
    pub fn new() -> Self {
        Instrumentation {
            sanitize: true,
            commenter: false,
            cache_capacity: STATEMENT_CACHE_CAPACITY_DEFAULT,
            system_name: None,
            request_hook: None,
            response_hook: None,
        }
    }

    /// Whether inline literals of `db.query.text` are replaced by `?` (default `true`). Bound
    /// values are never recorded either way: turn this off only for statements whose inline
    /// literals are not sensitive.
    pub fn sanitize_literals(mut self, sanitize: bool) -> Self {
        self.sanitize = sanitize;
        self
    }

    /// Appends the span's `traceparent` to each statement as a [sqlcommenter] comment,
    /// `SELECT … /*traceparent='00-…-…-01'*/`, so that the database's own logs (`pg_stat_activity`,
    /// the slow query log) lead to the trace; Python's `enable_commenter`. Off by default.
    ///
    /// Every execution then sends a different text, which defeats sqlx's per-connection cache of
    /// prepared statements: a commented statement is sent as not persistent (prepared unnamed,
    /// each time, never cached), so that it does not evict the cached ones; expect a parse on the
    /// server per execution. `db.query.text` is recorded without the comment. A statement
    /// executed from an already prepared `sqlx::Statement` is sent unchanged.
    ///
    /// [sqlcommenter]: https://google.github.io/sqlcommenter/spec/
    pub fn sql_commenter(mut self, enabled: bool) -> Self {
        self.commenter = enabled;
        self
    }

    /// How many distinct statements' analyses are kept (default 1024); when full, the cache is
    /// emptied and refills with the statements in use. `0`: analyse every execution.
    pub fn statement_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// The `db.system.name` to record instead of the driver's (`postgresql`, `mysql`, `sqlite`):
    /// `"mariadb"` for a MariaDB server, which sqlx's MySQL driver does not tell apart.
    pub fn system_name(mut self, name: &'static str) -> Self {
        self.system_name = Some(name);
        self
    }

    /// Called when a statement's span starts, if it is recording: push attributes to add them
    /// (the Python instrumentations' request hook).
    pub fn request_hook(
        mut self,
        hook: impl Fn(&QueryInfo<'_>, &mut Vec<opentelemetry::KeyValue>) + Send + Sync + 'static,
    ) -> Self {
        self.request_hook = Some(Arc::new(hook));
        self
    }

    /// Called when a statement's span ends, if it is recording, with its outcome (the Python
    /// instrumentations' response hook).
    pub fn response_hook(
        mut self,
        hook: impl Fn(&QueryInfo<'_>, &QueryOutcome<'_>, &mut Vec<opentelemetry::KeyValue>)
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.response_hook = Some(Arc::new(hook));
        self
    }

    /// Wraps `pool`.
    pub fn instrument<DB>(self, pool: Pool<DB>) -> TracedPool<DB>
    where
        DB: TracedDatabase,
    {
        let server = DB::server(&pool.connect_options());
        let shared = Shared {
            system: self.system_name.unwrap_or(DB::SYSTEM_NAME),
            namespace: server.namespace.map(Arc::from),
            address: server.address.map(Arc::from),
            port: server.port,
            cache: StatementCache::new(
                self.cache_capacity,
                statement::Dialect {
                    double_quoted_strings: DB::DOUBLE_QUOTED_STRINGS,
                },
                self.sanitize,
            ),
            commenter: self.commenter,
            request_hook: self.request_hook,
            response_hook: self.response_hook,
        };
        TracedPool::new(pool, Arc::new(shared))
    }
}

/// What every span of one pool shares: the server, the options, the statement cache.
pub(crate) struct Shared {
    pub(crate) system: &'static str,
    pub(crate) namespace: Option<Arc<str>>,
    pub(crate) address: Option<Arc<str>>,
    pub(crate) port: Option<u16>,
    pub(crate) cache: StatementCache,
    pub(crate) commenter: bool,
    pub(crate) request_hook: Option<RequestHook>,
    pub(crate) response_hook: Option<ResponseHook>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instrumented")
            .field("system", &self.system)
            .field("namespace", &self.namespace)
            .field("address", &self.address)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}
