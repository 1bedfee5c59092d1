//! One statement's span around sqlx's own execution: [`start`] reads the statement (its text,
//! never its arguments), starts the span and hands the query on; [`stream`] and [`optional`]
//! count the rows and end the span with the outcome.
//!
//! `Execute::sql(self)` consumes the query, so a query is taken apart (arguments, persistence,
//! text) and handed on as [`Forwarded::Parts`], which sqlx reads back exactly as it would have
//! read the original; a query holding an already prepared statement is handed on whole.

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use futures_util::future::BoxFuture;
use futures_util::stream::{BoxStream, Stream};
use opentelemetry::trace::{SpanKind, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};
use sqlx::error::BoxDynError;
use sqlx::{
    AssertSqlSafe, Database, Either, Error, Execute, SqlSafeStr as _, SqlStr, Statement as _,
};

use super::commenter;
use super::hooks::{QueryInfo, QueryOutcome};
use super::statement::Statement;
use super::Shared;
use crate::pipeline::scope;
use crate::semconv::{
    DB_COLLECTION_NAME, DB_NAMESPACE, DB_OPERATION_NAME, DB_QUERY_SUMMARY, DB_QUERY_TEXT,
    DB_RESPONSE_RETURNED_ROWS, DB_RESPONSE_STATUS_CODE, DB_SYSTEM_NAME, SERVER_ADDRESS,
    SERVER_PORT,
};
use crate::span::OperationSpan;

/// The query handed on to sqlx.
pub(crate) enum Forwarded<E, DB: Database> {
    /// A query with a prepared statement, unchanged.
    Whole(E),
    /// A query taken apart.
    Parts {
        sql: SqlStr,
        arguments: Result<Option<DB::Arguments>, BoxDynError>,
        persistent: bool,
    },
}

impl<'q, DB: Database, E: Execute<'q, DB>> Execute<'q, DB> for Forwarded<E, DB> {
    fn sql(self) -> SqlStr {
        match self {
            Forwarded::Whole(query) => query.sql(),
            Forwarded::Parts { sql, .. } => sql,
        }
    }

    fn statement(&self) -> Option<&DB::Statement> {
        match self {
            Forwarded::Whole(query) => query.statement(),
            Forwarded::Parts { .. } => None,
        }
    }

    fn take_arguments(&mut self) -> Result<Option<DB::Arguments>, BoxDynError> {
        match self {
            Forwarded::Whole(query) => query.take_arguments(),
            Forwarded::Parts { arguments, .. } => std::mem::replace(arguments, Ok(None)),
        }
    }

    fn persistent(&self) -> bool {
        match self {
            Forwarded::Whole(query) => query.persistent(),
            Forwarded::Parts { persistent, .. } => *persistent,
        }
    }
}

/// The span of one statement being executed.
pub(crate) struct Call {
    span: OperationSpan,
    rows: u64,
    shared: Arc<Shared>,
    statement: Arc<Statement>,
}

/// Starts the span of `query` under the current context.
pub(crate) fn start<'q, DB, E>(shared: &Arc<Shared>, mut query: E) -> (Forwarded<E, DB>, Call)
where
    DB: Database,
    E: Execute<'q, DB>,
{
    let (forwarded, statement) = if let Some(prepared) = query.statement() {
        let statement = shared.cache.get(prepared.sql().as_str());
        (Forwarded::Whole(query), statement)
    } else {
        let arguments = query.take_arguments();
        let persistent = query.persistent();
        let sql = query.sql();
        let statement = shared.cache.get(sql.as_str());
        (
            Forwarded::Parts {
                sql,
                arguments,
                persistent,
            },
            statement,
        )
    };
    let name = match &statement.name {
        Some(name) => Cow::Owned(String::from(&**name)),
        None => Cow::Borrowed(shared.system),
    };
    let call = Call::start(shared, statement, name);
    let forwarded = match forwarded {
        Forwarded::Parts {
            sql,
            arguments,
            persistent,
        } if shared.commenter && call.span.is_recording() => {
            match commenter::commented(sql.as_str(), call.span.context().span().span_context()) {
                // A text of its own per execution: not worth a place in the statement cache.
                Some(commented) => Forwarded::Parts {
                    sql: AssertSqlSafe(commented).into_sql_str(),
                    arguments,
                    persistent: false,
                },
                None => Forwarded::Parts {
                    sql,
                    arguments,
                    persistent,
                },
            }
        }
        other => other,
    };
    (forwarded, call)
}

impl Call {
    /// Starts a span for `statement` (a query's, or `BEGIN`/`COMMIT`/`ROLLBACK`'s).
    pub(crate) fn start(
        shared: &Arc<Shared>,
        statement: Arc<Statement>,
        name: Cow<'static, str>,
    ) -> Self {
        let mut attributes = Vec::with_capacity(9);
        attributes.push(KeyValue::new(DB_SYSTEM_NAME, shared.system));
        if let Some(namespace) = &shared.namespace {
            attributes.push(KeyValue::new(DB_NAMESPACE, Arc::clone(namespace)));
        }
        if let Some(operation) = statement.operation {
            attributes.push(KeyValue::new(DB_OPERATION_NAME, operation));
        }
        if let Some(collection) = &statement.collection {
            attributes.push(KeyValue::new(DB_COLLECTION_NAME, Arc::clone(collection)));
        }
        if let Some(summary) = &statement.summary {
            attributes.push(KeyValue::new(DB_QUERY_SUMMARY, Arc::clone(summary)));
        }
        attributes.push(KeyValue::new(DB_QUERY_TEXT, Arc::clone(&statement.text)));
        if let Some(address) = &shared.address {
            attributes.push(KeyValue::new(SERVER_ADDRESS, Arc::clone(address)));
        }
        if let Some(port) = shared.port {
            attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
        let span = OperationSpan::start(
            scope::integration(scope::DB_SCOPE_NAME),
            name,
            SpanKind::Client,
            attributes,
            &Context::current(),
        );
        if let Some(hook) = &shared.request_hook {
            if span.is_recording() {
                let mut extra = Vec::new();
                hook(&info(shared, &statement), &mut extra);
                span.set_attributes(extra);
            }
        }
        Call {
            span,
            rows: 0,
            shared: Arc::clone(shared),
            statement,
        }
    }

    /// Ends the span with the outcome of the statement.
    pub(crate) fn finish(mut self, error: Option<&Error>) {
        if self.span.is_recording() {
            match error {
                None => self
                    .span
                    .set_attribute(KeyValue::new(DB_RESPONSE_RETURNED_ROWS, self.rows as i64)),
                Some(error) => record_error(&self.span, error),
            }
            if let Some(hook) = &self.shared.response_hook {
                let outcome = QueryOutcome {
                    returned_rows: error.is_none().then_some(self.rows),
                    error,
                };
                let mut extra = Vec::new();
                hook(&info(&self.shared, &self.statement), &outcome, &mut extra);
                self.span.set_attributes(extra);
            }
        }
        self.span.end();
    }

    /// Ends the span of a statement that returns no rows (`BEGIN`, `COMMIT`).
    pub(crate) fn finish_without_rows(mut self, error: Option<&Error>) {
        if let Some(error) = error {
            record_error(&self.span, error);
        }
        self.span.end();
    }
}

fn info<'a>(shared: &Shared, statement: &'a Statement) -> QueryInfo<'a> {
    QueryInfo {
        system: shared.system,
        text: &statement.text,
        operation: statement.operation,
        collection: statement.collection.as_deref(),
    }
}

/// Status ERROR, `db.response.status_code`, `error.type` and the `exception` event.
fn record_error(span: &OperationSpan, error: &Error) {
    if !span.is_recording() {
        return;
    }
    let code = match error {
        Error::Database(database) => database.code().map(Cow::into_owned),
        _ => None,
    };
    let error_type: Cow<'static, str> = match &code {
        Some(code) => {
            span.set_attribute(KeyValue::new(DB_RESPONSE_STATUS_CODE, code.clone()));
            Cow::Owned(code.clone())
        }
        None => Cow::Borrowed(error_kind(error)),
    };
    span.record_error(error_type, std::any::type_name::<Error>(), error);
}

/// The variant of a `sqlx::Error`, as `error.type` when the database gave no code.
fn error_kind(error: &Error) -> &'static str {
    match error {
        Error::Configuration(_) => "Configuration",
        Error::InvalidArgument(_) => "InvalidArgument",
        Error::Database(_) => "Database",
        Error::Io(_) => "Io",
        Error::Tls(_) => "Tls",
        Error::Protocol(_) => "Protocol",
        Error::RowNotFound => "RowNotFound",
        Error::TypeNotFound { .. } => "TypeNotFound",
        Error::ColumnIndexOutOfBounds { .. } => "ColumnIndexOutOfBounds",
        Error::ColumnNotFound(_) => "ColumnNotFound",
        Error::ColumnDecode { .. } => "ColumnDecode",
        Error::Encode(_) => "Encode",
        Error::Decode(_) => "Decode",
        Error::AnyDriverError(_) => "AnyDriverError",
        Error::PoolTimedOut => "PoolTimedOut",
        Error::PoolClosed => "PoolClosed",
        Error::WorkerCrashed => "WorkerCrashed",
        _ => "_OTHER",
    }
}

/// `inner`, counting its rows and ending the span with its outcome.
pub(crate) fn stream<'e, T: Send + 'e, R: Send + 'e>(
    call: Call,
    inner: BoxStream<'e, Result<Either<T, R>, Error>>,
) -> BoxStream<'e, Result<Either<T, R>, Error>> {
    Box::pin(TracedStream {
        inner,
        call: Some(call),
    })
}

struct TracedStream<'e, T, R> {
    inner: BoxStream<'e, Result<Either<T, R>, Error>>,
    call: Option<Call>,
}

impl<T, R> Stream for TracedStream<'_, T, R> {
    type Item = Result<Either<T, R>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let item = std::task::ready!(this.inner.as_mut().poll_next(cx));
        match &item {
            Some(Ok(Either::Right(_))) => {
                if let Some(call) = &mut this.call {
                    call.rows += 1;
                }
            }
            Some(Ok(Either::Left(_))) => {}
            Some(Err(error)) => {
                if let Some(call) = this.call.take() {
                    call.finish(Some(error));
                }
            }
            None => {
                if let Some(call) = this.call.take() {
                    call.finish(None);
                }
            }
        }
        Poll::Ready(item)
    }
}

/// `inner` (a `fetch_optional`), ending the span with its outcome.
pub(crate) fn optional<'e, R: Send + 'e>(
    mut call: Call,
    inner: BoxFuture<'e, Result<Option<R>, Error>>,
) -> BoxFuture<'e, Result<Option<R>, Error>> {
    Box::pin(async move {
        let result = inner.await;
        match &result {
            Ok(row) => {
                call.rows = u64::from(row.is_some());
                call.finish(None);
            }
            Err(error) => call.finish(Some(error)),
        }
        result
    })
}
