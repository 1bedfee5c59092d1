//! `TracedConnection`: any redis-rs connection, sync (`ConnectionLike`) or async
//! (`aio::ConnectionLike`), whose commands and pipelines are spans.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use redis::{Cmd, ConnectionInfo, Pipeline, RedisFuture, RedisResult, Value};

use super::command::{canonical_name, Batch, Command, Operation, MULTI};
use super::options::RedisTracing;
use super::span::{finish_value, finish_values, start};
use crate::span::OperationSpan;

/// A connection whose every command and pipeline is a CLIENT span; see the
/// [module docs](super).
///
/// It implements redis-rs's `ConnectionLike` when `C` does (`redis::Connection`) and
/// `aio::ConnectionLike` when `C` does (`MultiplexedConnection`, `ConnectionManager`, a pooled
/// connection), so `Commands`/`AsyncCommands`, `redis::cmd(..).query` and `redis::pipe()`
/// work on it unchanged.
#[derive(Clone, Debug)]
pub struct TracedConnection<C> {
    pub(crate) inner: C,
    pub(crate) tracing: RedisTracing,
}

impl<C> TracedConnection<C> {
    /// Wraps `connection`, made from `info` (`Client::get_connection_info`), with the default
    /// options; see [`RedisTracing`] for the others.
    pub fn new(connection: C, info: &ConnectionInfo) -> Self {
        RedisTracing::new(info).wrap(connection)
    }

    /// The wrapped connection (what is sent through it directly is not traced).
    pub fn get_ref(&self) -> &C {
        &self.inner
    }

    /// The wrapped connection, mutably (what is sent through it directly is not traced).
    pub fn get_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// The wrapped connection.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl<C: redis::ConnectionLike> redis::ConnectionLike for TracedConnection<C> {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        let operation = Operation::command(Command::from_packed(cmd));
        let inner = &mut self.inner;
        in_span_sync(
            &self.tracing,
            &operation,
            inner.get_db(),
            finish_value,
            || inner.req_packed_command(cmd),
        )
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        let (batch, atomic) = packed_batch(cmd, offset, count);
        let operation = Operation::batch(batch, atomic);
        let inner = &mut self.inner;
        in_span_sync(
            &self.tracing,
            &operation,
            inner.get_db(),
            finish_values,
            || inner.req_packed_commands(cmd, offset, count),
        )
    }

    fn req_command(&mut self, cmd: &Cmd) -> RedisResult<Value> {
        let operation = Operation::command(Command::from_cmd(cmd));
        let inner = &mut self.inner;
        in_span_sync(
            &self.tracing,
            &operation,
            inner.get_db(),
            finish_value,
            || inner.req_command(cmd),
        )
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }

    fn supports_pipelining(&self) -> bool {
        self.inner.supports_pipelining()
    }

    fn check_connection(&mut self) -> bool {
        self.inner.check_connection()
    }

    fn is_open(&self) -> bool {
        self.inner.is_open()
    }
}

impl<C: redis::aio::ConnectionLike + Send> redis::aio::ConnectionLike for TracedConnection<C> {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let operation = Operation::command(Command::from_cmd(cmd));
        let span = start(&self.tracing.config, &operation, self.inner.get_db());
        Box::pin(InSpan {
            reply: self.inner.req_packed_command(cmd),
            span,
            finish: finish_value,
            keep_values: self.tracing.config.keep_values,
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let operation = Operation::batch(Batch::Pipeline(cmd), cmd.is_transaction());
        let span = start(&self.tracing.config, &operation, self.inner.get_db());
        Box::pin(InSpan {
            reply: self.inner.req_packed_commands(cmd, offset, count),
            span,
            finish: finish_values,
            keep_values: self.tracing.config.keep_values,
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

/// How a reply is recorded on the span.
type Finish<T> = fn(&OperationSpan, &RedisResult<T>, bool);

/// Runs `send` with the span of `operation` current, and records its reply.
fn in_span_sync<T>(
    tracing: &RedisTracing,
    operation: &Operation<'_>,
    db: i64,
    finish: Finish<T>,
    send: impl FnOnce() -> RedisResult<T>,
) -> RedisResult<T> {
    let mut span = start(&tracing.config, operation, db);
    let result = {
        let _current = span.context().clone().attach();
        send()
    };
    finish(&span, &result, tracing.config.keep_values);
    span.end();
    result
}

/// The commands of a packed pipeline. A transaction is packed as `MULTI`, the commands, `EXEC`,
/// and redis-rs reads `offset` = commands + 1 replies before the one it keeps.
fn packed_batch(packed: &[u8], offset: usize, count: usize) -> (Batch<'_>, bool) {
    let first = Batch::Packed {
        packed,
        skip: 0,
        count: 1,
    }
    .commands()
    .next();
    let atomic = offset > 0
        && first.is_some_and(|command| {
            command.args().next().map(canonical_name).as_deref() == Some(MULTI)
        });
    let batch = if atomic {
        Batch::Packed {
            packed,
            skip: 1,
            count: offset - 1,
        }
    } else {
        Batch::Packed {
            packed,
            skip: 0,
            count: offset + count,
        }
    };
    (batch, atomic)
}

/// The reply future of an async connection, with its span current while it is polled and ended
/// with the reply. Dropped before, the span ends as `traced.cancelled`.
struct InSpan<'a, T> {
    reply: RedisFuture<'a, T>,
    span: OperationSpan,
    finish: Finish<T>,
    keep_values: bool,
}

impl<T> Future for InSpan<'_, T> {
    type Output = RedisResult<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<RedisResult<T>> {
        // Every field is `Unpin` (the reply is a `Pin<Box<..>>`).
        let this = self.get_mut();
        let poll = {
            let _current = this.span.context().clone().attach();
            this.reply.as_mut().poll(cx)
        };
        if let Poll::Ready(result) = &poll {
            (this.finish)(&this.span, result, this.keep_values);
            this.span.end();
        }
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_transaction_is_its_commands_without_multi_and_exec() {
        let mut pipe = redis::pipe();
        pipe.atomic().set("k", 1).incr("k", 1);
        let packed = pipe.get_packed_pipeline();
        let (batch, atomic) = packed_batch(&packed, 3, 1);
        assert!(atomic);
        assert_eq!(
            Operation::batch(batch, atomic).query_text(false),
            "SET ? ?; INCRBY ? ?"
        );

        let mut plain = redis::pipe();
        plain.set("k", 1).get("k");
        let packed = plain.get_packed_pipeline();
        let (batch, atomic) = packed_batch(&packed, 0, 2);
        assert!(!atomic);
        assert_eq!(
            Operation::batch(batch, atomic).query_text(false),
            "SET ? ?; GET ?"
        );
    }
}
