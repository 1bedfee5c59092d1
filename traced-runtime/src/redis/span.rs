//! The span of one command or pipeline: started with what a sampler may need, completed with
//! the rest only when recording, and ended with the reply.

use std::borrow::Cow;
use std::error::Error as _;
use std::fmt::Write as _;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue};
use redis::{RedisError, RedisResult, ServerError, Value};

use super::command::Operation;
use super::options::Config;
use crate::pipeline::scope;
use crate::semconv::{
    DB_NAMESPACE, DB_OPERATION_BATCH_SIZE, DB_OPERATION_NAME, DB_QUERY_TEXT,
    DB_RESPONSE_STATUS_CODE, DB_SYSTEM_NAME,
};
use crate::span::OperationSpan;

/// `exception.type` of every Redis failure: what the caller receives.
const EXCEPTION_TYPE: &str = "redis::RedisError";

/// Starts the CLIENT span of `operation` under the current context, on database `db`.
///
/// Unsampled, this costs the span's few attributes (`db.system.name`, `db.operation.name`,
/// `server.*`, whose strings are static or shared); the query text, `db.namespace` and the
/// hook's attributes are made only for a recording span.
pub(crate) fn start(config: &Config, operation: &Operation<'_>, db: i64) -> OperationSpan {
    let name = operation.name();
    let mut attributes = Vec::with_capacity(4 + config.peer.len());
    attributes.push(KeyValue::new(DB_SYSTEM_NAME, "redis"));
    attributes.push(KeyValue::new(DB_OPERATION_NAME, name.clone()));
    attributes.extend(config.peer.iter().cloned());
    // The conventions count a batch from two operations on.
    if operation.is_pipeline() && operation.len() >= 2 {
        attributes.push(KeyValue::new(
            DB_OPERATION_BATCH_SIZE,
            i64::try_from(operation.len()).unwrap_or(i64::MAX),
        ));
    }
    let span = Context::map_current(|parent| {
        OperationSpan::start(
            scope::integration(scope::REDIS_SCOPE_NAME),
            name,
            SpanKind::Client,
            attributes,
            parent,
        )
    });
    if span.is_recording() {
        let mut more = Vec::with_capacity(2);
        more.push(KeyValue::new(DB_NAMESPACE, namespace(db)));
        more.push(KeyValue::new(
            DB_QUERY_TEXT,
            operation.query_text(config.keep_values),
        ));
        if let Some(hook) = &config.hook {
            hook(operation, &mut more);
        }
        span.set_attributes(more);
    }
    span
}

/// Records the reply of one command: an error reply or a failure. A nil reply, like any other
/// value, is a success.
pub(crate) fn finish_value(span: &OperationSpan, result: &RedisResult<Value>, keep_values: bool) {
    if !span.is_recording() {
        return;
    }
    match result {
        Ok(Value::ServerError(error)) => record_server_error(span, error, keep_values),
        Ok(_) => {}
        Err(error) => record_failure(span, error, keep_values),
    }
}

/// Records the replies of a pipeline: its first error reply (a transaction's are inside the
/// `EXEC` reply), or its failure.
pub(crate) fn finish_values(
    span: &OperationSpan,
    result: &RedisResult<Vec<Value>>,
    keep_values: bool,
) {
    if !span.is_recording() {
        return;
    }
    match result {
        Ok(values) => {
            let first_error = values.iter().find_map(|value| match value {
                Value::ServerError(error) => Some(error),
                Value::Array(values) => values.iter().find_map(|value| match value {
                    Value::ServerError(error) => Some(error),
                    _ => None,
                }),
                _ => None,
            });
            if let Some(error) = first_error {
                record_server_error(span, error, keep_values);
            }
        }
        Err(error) => record_failure(span, error, keep_values),
    }
}

/// An error reply (`-WRONGTYPE Operation against a key ..`): `error.type` and
/// `db.response.status_code` are its code.
fn record_server_error(span: &OperationSpan, error: &ServerError, keep_values: bool) {
    let code = error.code().to_owned();
    span.set_attribute(KeyValue::new(DB_RESPONSE_STATUS_CODE, code.clone()));
    let message = sanitize(error.to_string(), keep_values);
    let stacktrace = format!("{EXCEPTION_TYPE}: {message}");
    span.record_exception(code, EXCEPTION_TYPE, message, stacktrace);
}

/// A failure returned by the connection (I/O, a dropped connection, an aborted transaction,
/// the error replies of a pipeline).
fn record_failure(span: &OperationSpan, error: &RedisError, keep_values: bool) {
    if let Some(code) = server_code(error) {
        span.set_attribute(KeyValue::new(DB_RESPONSE_STATUS_CODE, code));
    }
    let message = sanitize(error.to_string(), keep_values);
    let mut stacktrace = format!("{EXCEPTION_TYPE}: {message}");
    let mut next = error.source();
    while let Some(cause) = next {
        let _ = write!(stacktrace, "\nCaused by: {cause}");
        next = cause.source();
    }
    span.record_exception(error_type(error), EXCEPTION_TYPE, message, stacktrace);
}

/// `error.type` of a failure: the server's error code, else the class of failure.
pub(crate) fn error_type(error: &RedisError) -> Cow<'static, str> {
    if let Some(code) = server_code(error) {
        return Cow::Owned(code);
    }
    let class = if error.is_timeout() {
        "timeout"
    } else if error.is_connection_refusal() {
        "connection_refused"
    } else if error.is_connection_dropped() {
        "connection_dropped"
    } else {
        match error.kind() {
            redis::ErrorKind::Io => "io",
            redis::ErrorKind::Parse => "parse",
            redis::ErrorKind::AuthenticationFailed => "authentication_failed",
            redis::ErrorKind::UnexpectedReturnType => "unexpected_return_type",
            redis::ErrorKind::InvalidClientConfig => "invalid_client_config",
            redis::ErrorKind::Client => "client",
            _ => EXCEPTION_TYPE,
        }
    };
    Cow::Borrowed(class)
}

/// The code of the (first) error reply behind `error`: `code()` knows only redis-rs's own
/// kinds of a pipeline's errors, not `WRONGTYPE`.
fn server_code(error: &RedisError) -> Option<String> {
    if let Some(code) = error.code() {
        return Some(code.to_owned());
    }
    // A clone of an error is a reference count.
    let errors = error.clone().into_server_errors()?;
    errors.first().map(|(_, error)| error.code().to_owned())
}

/// Without values kept, cuts what an error reply quotes of the command's arguments
/// (`ERR unknown command 'X', with args beginning with: 'secret'`).
fn sanitize(mut message: String, keep_values: bool) -> String {
    if !keep_values {
        if let Some(at) = message.find(", with args beginning with") {
            message.truncate(at);
        }
    }
    message
}

/// `db.namespace`: the database index as a string, without allocating for the usual 16.
fn namespace(db: i64) -> Cow<'static, str> {
    const INDEXES: [&str; 16] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
    ];
    usize::try_from(db)
        .ok()
        .and_then(|index| INDEXES.get(index))
        .map_or_else(|| Cow::Owned(db.to_string()), |index| Cow::Borrowed(*index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_the_database_index() {
        assert_eq!(namespace(0), "0");
        assert_eq!(namespace(15), "15");
        assert_eq!(namespace(16), "16");
    }

    #[test]
    fn quoted_arguments_are_cut_from_error_messages() {
        let message = "ERR unknown command 'FOO', with args beginning with: 'secret' ".to_owned();
        assert_eq!(
            sanitize(message.clone(), false),
            "ERR unknown command 'FOO'"
        );
        assert_eq!(sanitize(message.clone(), true), message);
    }

    #[test]
    fn failures_have_a_class() {
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(error_type(&io), "connection_dropped");
        let refused = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(error_type(&refused), "connection_refused");
        let timeout = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert_eq!(error_type(&timeout), "timeout");
        let other = RedisError::from(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert_eq!(error_type(&other), "io");
    }
}
