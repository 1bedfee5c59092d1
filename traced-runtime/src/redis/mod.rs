//! A CLIENT span for every Redis command and pipeline sent with redis-rs: the guide's
//! `RedisInstrumentor().instrument()` (feature `redis`).
//!
//! Wrap the connection where it is made; the usual commands then work unchanged:
//!
//! ```no_run
//! use redis::AsyncCommands as _;
//! use traced_runtime::redis::TracedConnection;
//!
//! # async fn run() -> redis::RedisResult<()> {
//! let client = redis::Client::open("redis://127.0.0.1:6379/")?;
//! let mut con = TracedConnection::new(
//!     client.get_multiplexed_async_connection().await?,
//!     client.get_connection_info(),
//! );
//! // A `SET` span, then a `GET` span, children of the current span.
//! let () = con.set_ex("user:7", "Ada", 60).await?;
//! let name: Option<String> = con.get("user:7").await?;
//! // One `PIPELINE` span (`MULTI` with `.atomic()`).
//! let (a, b): (i64, i64) = redis::pipe().incr("a", 1).incr("b", 1).query_async(&mut con).await?;
//! # Ok(()) }
//! ```
//!
//! The same wrap serves the synchronous `redis::Connection`
//! (`TracedConnection::new(client.get_connection()?, client.get_connection_info())`), the
//! tokio `ConnectionManager`, and any connection implementing redis-rs's `ConnectionLike` or
//! `aio::ConnectionLike`, such as a pooled one. With deadpool-redis, wrap each connection taken
//! from the pool, with one [`RedisTracing`] made from the pool's URL:
//!
//! ```ignore
//! use redis::IntoConnectionInfo as _;
//! use traced_runtime::redis::RedisTracing;
//!
//! let url = "redis://127.0.0.1:6379/";
//! let pool = deadpool_redis::Config::from_url(url).create_pool(Some(deadpool_redis::Runtime::Tokio1))?;
//! let tracing = RedisTracing::new(&url.into_connection_info()?);
//! let mut con = tracing.wrap(pool.get().await?);
//! let hits: i64 = redis::AsyncCommands::incr(&mut con, "hits", 1).await?;
//! ```
//!
//! (deadpool-redis must use the same redis-rs release as this crate; the example is not
//! compiled here for that reason.)
//!
//! # The spans
//!
//! Each command is one span of kind CLIENT, child of the current span, current while the
//! command runs, named after the command (`GET`, `HSET`, `CLIENT`). A pipeline is one span
//! named `PIPELINE`, or `MULTI` for a transaction (`redis::pipe().atomic()`). Attributes, per
//! the OpenTelemetry semantic conventions for Redis:
//!
//! | attribute | value |
//! |---|---|
//! | `db.system.name` | `redis` |
//! | `db.operation.name` | the command name (`GET`), or `PIPELINE` / `MULTI` |
//! | `db.namespace` | the connection's database index (`"0"`), as `ConnectionLike::get_db` reports it |
//! | `server.address`, `server.port` | from the connection info (a Unix socket: its path, no port) |
//! | `db.query.text` | the command with each argument as `?` (`SET ? ? ? ?`; a subcommand is kept: `CLIENT KILL ? ?`); a pipeline's commands joined with `; ` |
//! | `db.operation.batch.size` | a pipeline's number of commands, from two on |
//! | `db.response.status_code` | the error reply's code (`WRONGTYPE`, `ERR`) |
//! | `error.type` | the error reply's code, or the class of failure: `connection_dropped`, `connection_refused`, `timeout`, `io`, `parse`, .. |
//!
//! An error reply (in a pipeline: the first) or a failure sets status ERROR and adds one
//! `exception` event; the reply or error reaches the caller unchanged. A nil reply is a
//! success. A future dropped before its reply ends its span with `traced.cancelled = true`.
//!
//! # Privacy
//!
//! Arguments are user data: by default `db.query.text` has none of them, and the part of an
//! error message that quotes arguments (`.., with args beginning with: ..`) is cut.
//! [`RedisTracing::with_query_values`] keeps them, as a deliberate choice. Whatever the option,
//! the arguments of `AUTH`, `HELLO`, `MIGRATE`, `ACL` and `CONFIG` (which carry passwords)
//! are never written, and the password of a connection URL is never read.
//!
//! # Cost
//!
//! A span that is not sampled costs its four attributes (static or shared strings) and no query
//! text; `db.query.text`, `db.namespace` and the hook's attributes are made only for a
//! recording span. An async command also boxes one future (redis-rs's `RedisFuture` is boxed).

mod command;
mod connection;
mod options;
mod span;

pub use command::{Command, Operation};
pub use connection::TracedConnection;
pub use options::RedisTracing;
