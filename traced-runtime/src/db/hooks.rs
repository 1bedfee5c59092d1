//! The per-query hooks: attributes of the application's own at the start and the end of each
//! statement's span (the request and response hooks of the Python instrumentations).

use std::sync::Arc;

use opentelemetry::KeyValue;

pub(crate) type RequestHook = Arc<dyn Fn(&QueryInfo<'_>, &mut Vec<KeyValue>) + Send + Sync>;
pub(crate) type ResponseHook =
    Arc<dyn Fn(&QueryInfo<'_>, &QueryOutcome<'_>, &mut Vec<KeyValue>) + Send + Sync>;

/// The statement a hook is called for.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct QueryInfo<'a> {
    /// `db.system.name`.
    pub system: &'static str,
    /// `db.query.text`: the statement as recorded (sanitised unless turned off), without bound
    /// values.
    pub text: &'a str,
    /// `db.operation.name`, when derived.
    pub operation: Option<&'static str>,
    /// `db.collection.name`, when derived.
    pub collection: Option<&'a str>,
}

/// How a statement ended.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct QueryOutcome<'a> {
    /// The rows returned, when it succeeded.
    pub returned_rows: Option<u64>,
    /// The error, when it failed.
    pub error: Option<&'a sqlx::Error>,
}
