//! What the collector hands to the export thread ([`Batch`]), how it builds it ([`BatchBuilder`]),
//! and what exports it ([`BatchExporter`]).
//!
//! A batch is either the SDK's `SpanData`, for an exporter of the `SpanExporter` trait (a
//! user's, the console), or, for the OTLP exporter alone, the export request already encoded:
//! the collector then writes OTLP protobuf straight from the records, resource and scopes once
//! per batch, and no `SpanData` is built.

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter, SpanLimits};
use opentelemetry_sdk::Resource;

use crate::pipeline::clock::Anchor;
use crate::pipeline::record::SpanRecord;

/// Ended spans on their way to the exporter.
pub(crate) enum Batch {
    Spans(Vec<SpanData>),
    /// An OTLP `ExportTraceServiceRequest`, protobuf, of `spans` spans.
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    Otlp {
        request: bytes::Bytes,
        spans: usize,
    },
}

impl Batch {
    /// The size of an encoded request; 0 for `SpanData`.
    pub(crate) fn encoded_bytes(&self) -> usize {
        match self {
            Batch::Spans(_) => 0,
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Batch::Otlp { request, .. } => request.len(),
        }
    }

    /// How many spans the batch holds.
    pub(crate) fn len(&self) -> usize {
        match self {
            Batch::Spans(spans) => spans.len(),
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Batch::Otlp { spans, .. } => *spans,
        }
    }
}

/// The form of batch an exporter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BatchFormat {
    Spans,
    /// Encoded OTLP requests, string values cut to `value_length_limit` characters.
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    Otlp {
        value_length_limit: Option<usize>,
    },
}

/// Exports the collector's batches, one at a time, on the export thread.
pub(crate) trait BatchExporter: Send + Sync + fmt::Debug {
    /// The form of the batches `export` is given; asked once, when the collector starts.
    fn format(&self) -> BatchFormat {
        BatchFormat::Spans
    }

    fn export(&self, batch: Batch) -> BoxFuture<'_, OTelSdkResult>;

    fn shutdown(&self, timeout: Duration) -> OTelSdkResult;

    fn force_flush(&self) -> OTelSdkResult;

    fn set_resource(&mut self, resource: &Resource);
}

/// A `SpanExporter` (a user's own): given `SpanData`.
#[derive(Debug)]
pub(crate) struct SpanDataExporter<E>(pub(crate) E);

impl<E: SpanExporter> BatchExporter for SpanDataExporter<E> {
    fn export(&self, batch: Batch) -> BoxFuture<'_, OTelSdkResult> {
        match batch {
            Batch::Spans(spans) => Box::pin(self.0.export(spans)),
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Batch::Otlp { .. } => Box::pin(async { Err(wrong_format()) }),
        }
    }

    fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

/// The error for a batch of another form than the exporter's (a bug of the pipeline).
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) fn wrong_format() -> opentelemetry_sdk::error::OTelSdkError {
    opentelemetry_sdk::error::OTelSdkError::InternalFailure(
        "traced: a batch of the wrong form reached an exporter".into(),
    )
}

/// Builds the batches of the collector thread, in the exporter's form.
pub(crate) enum BatchBuilder {
    Spans {
        spans: Vec<SpanData>,
        /// The scope of records whose crate is not known.
        scope: InstrumentationScope,
        limits: SpanLimits,
    },
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    Otlp(crate::export::otlp::encode::TracesEncoder),
}

impl BatchBuilder {
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(unused_variables)
    )]
    pub(crate) fn new(
        format: BatchFormat,
        scope: InstrumentationScope,
        limits: SpanLimits,
    ) -> Self {
        match format {
            BatchFormat::Spans => BatchBuilder::Spans {
                spans: Vec::new(),
                scope,
                limits,
            },
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            BatchFormat::Otlp { value_length_limit } => BatchBuilder::Otlp(
                crate::export::otlp::encode::TracesEncoder::new(limits, value_length_limit),
            ),
        }
    }

    /// Adds an ended record, leaving it empty for reuse.
    pub(crate) fn add_record(&mut self, record: &mut SpanRecord, anchor: &Anchor) {
        match self {
            BatchBuilder::Spans {
                spans,
                scope,
                limits,
            } => spans.push(record.take_span_data(anchor, scope, limits)),
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            BatchBuilder::Otlp(encoder) => {
                encoder.add_record(record, anchor);
                record.clear();
            }
        }
    }

    /// Adds a span the SDK ended.
    pub(crate) fn add_span_data(&mut self, span: SpanData) {
        match self {
            BatchBuilder::Spans { spans, .. } => spans.push(span),
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            BatchBuilder::Otlp(encoder) => encoder.add_span_data(&span),
        }
    }

    /// Spans added since the last batch was taken.
    pub(crate) fn len(&self) -> usize {
        match self {
            BatchBuilder::Spans { spans, .. } => spans.len(),
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            BatchBuilder::Otlp(encoder) => encoder.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            BatchBuilder::Spans { spans, .. } => spans.is_empty(),
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            BatchBuilder::Otlp(encoder) => encoder.is_empty(),
        }
    }

    /// The batch of the spans added so far; the next one starts empty.
    pub(crate) fn take(&mut self, capacity: usize) -> Batch {
        match self {
            BatchBuilder::Spans { spans, .. } => {
                Batch::Spans(std::mem::replace(spans, Vec::with_capacity(capacity)))
            }
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            BatchBuilder::Otlp(encoder) => {
                let spans = encoder.len();
                Batch::Otlp {
                    request: encoder.finish().into(),
                    spans,
                }
            }
        }
    }

    /// The resource of the batches from now on, for an encoder (an exporter of `SpanData` is
    /// given it by the export thread).
    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
        if let BatchBuilder::Otlp(encoder) = self {
            encoder.set_resource(resource);
        }
        #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
        let _ = resource;
    }
}
