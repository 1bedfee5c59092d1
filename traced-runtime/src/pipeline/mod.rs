//! The span pipeline: one exporter, one sampler, one collector thread, shared by `#[traced]` spans
//! (recorded on the fast path, see `span::guard`) and by spans of the opentelemetry API (recorded
//! by the SDK, handed over by [`TracedSpanProcessor`]).
//!
//! `Telemetry::install` sets one up; build one yourself to bring your own exporter:
//!
//! ```
//! use traced_runtime::opentelemetry_sdk::error::OTelSdkResult;
//! use traced_runtime::opentelemetry_sdk::trace::{Sampler, SpanData, SpanExporter};
//! use traced_runtime::SpanPipeline;
//!
//! #[derive(Debug)]
//! struct Stdout;
//!
//! impl SpanExporter for Stdout {
//!     async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
//!         for span in batch {
//!             println!("{} {:?}", span.name, span.end_time.duration_since(span.start_time));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let provider = SpanPipeline::new(Stdout)
//!     .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.5))))
//!     .install()
//!     .expect("a thread can be spawned");
//! # provider.shutdown().unwrap();
//! ```

pub(crate) mod batch;
pub(crate) mod builder;
pub(crate) mod clock;
pub(crate) mod collector;
pub(crate) mod dispatch;
pub(crate) mod exporter;
pub(crate) mod fast_span;
pub(crate) mod fast_tracer;
pub(crate) mod ids;
pub(crate) mod processor;
pub(crate) mod record;
pub(crate) mod scope;
pub(crate) mod stats;

pub use builder::SpanPipeline;
