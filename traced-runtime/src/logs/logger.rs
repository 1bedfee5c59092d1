//! `trace_id` and `span_id` in the records of any `log` logger (feature `log`).
//!
//! Wrap the logger before installing it:
//!
//! ```
//! let logger = env_logger::Builder::from_default_env().build();
//! let max_level = logger.filter();
//! traced_runtime::TraceIdsLogger::new(logger).init(max_level).unwrap();
//! ```
//!
//! A record logged while a recording span is current then carries the span's ids as the
//! key-values `trace_id` and `span_id` (`log`'s structured logging), which env_logger prints
//! after the message when its `kv` feature is on:
//!
//! ```text
//! [2026-01-01T00:00:00Z INFO  shop] charging trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7
//! ```
//!
//! For a logger that prints no key-values (env_logger without `kv`, simple_logger, …),
//! [`TraceIdsLogger::in_message`] appends them to the message instead. Outside any span, and in
//! an unsampled one, records go through unchanged.

use std::fmt;

use log::kv::{self, Key, Source, Value, VisitSource};
use log::{LevelFilter, Log, Metadata, Record, SetLoggerError};
use opentelemetry::trace::{SpanId, TraceId};

use crate::logs::ids::{LogIds, SPAN_ID_FIELD, TRACE_ID_FIELD};

/// A [`Log`] that adds the ids of the current span to each record and passes it to `L`.
#[derive(Debug)]
pub struct TraceIdsLogger<L> {
    inner: L,
    in_message: bool,
}

impl<L: Log> TraceIdsLogger<L> {
    /// Wraps `inner`; the ids go in the record's key-values.
    pub fn new(inner: L) -> Self {
        TraceIdsLogger {
            inner,
            in_message: false,
        }
    }

    /// Appends ` trace_id=… span_id=…` to the message instead, for loggers that do not print
    /// key-values.
    #[must_use]
    pub fn in_message(mut self) -> Self {
        self.in_message = true;
        self
    }

    /// The wrapped logger.
    pub fn inner(&self) -> &L {
        &self.inner
    }

    /// Installs this as the logger of the `log` facade, with `max_level` as its maximum level
    /// (for env_logger: `logger.filter()`).
    ///
    /// # Errors
    ///
    /// When a logger is already installed.
    pub fn init(self, max_level: LevelFilter) -> Result<(), SetLoggerError>
    where
        L: 'static,
    {
        log::set_boxed_logger(Box::new(self))?;
        log::set_max_level(max_level);
        Ok(())
    }
}

impl<L: Log> Log for TraceIdsLogger<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        let Some(ids) = LogIds::current() else {
            return self.inner.log(record);
        };
        if !self.inner.enabled(record.metadata()) {
            return;
        }
        if self.in_message {
            self.inner.log(
                &record
                    .to_builder()
                    .args(format_args!("{} {ids}", record.args()))
                    .build(),
            );
        } else {
            let key_values = WithIds {
                original: record.key_values(),
                trace_id: ids.trace_id(),
                span_id: ids.span_id(),
            };
            self.inner
                .log(&record.to_builder().key_values(&key_values).build());
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// The record's own key-values, then `trace_id` and `span_id`.
struct WithIds<'a> {
    original: &'a dyn Source,
    trace_id: TraceId,
    span_id: SpanId,
}

impl Source for WithIds<'_> {
    fn visit<'kvs>(&'kvs self, visitor: &mut dyn VisitSource<'kvs>) -> Result<(), kv::Error> {
        self.original.visit(visitor)?;
        visitor.visit_pair(
            Key::from_str(TRACE_ID_FIELD),
            Value::from_display(&self.trace_id),
        )?;
        visitor.visit_pair(
            Key::from_str(SPAN_ID_FIELD),
            Value::from_display(&self.span_id),
        )
    }
}

impl fmt::Debug for WithIds<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithIds")
            .field(TRACE_ID_FIELD, &self.trace_id)
            .field(SPAN_ID_FIELD, &self.span_id)
            .finish_non_exhaustive()
    }
}
