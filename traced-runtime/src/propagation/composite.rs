//! The propagators of the setup, composed in the order `OTEL_PROPAGATORS` (or the builder)
//! lists them: W3C trace context, W3C baggage, B3, or your own. opentelemetry-rust's global
//! default is a no-op, so without this step nothing crosses process boundaries.

use std::fmt;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};

use crate::propagation::b3::B3Propagator;
use crate::propagation::baggage::BaggagePropagator;
use crate::propagation::trace_context::TraceContextPropagator;
use crate::setup::config::PropagatorSlot;

/// A propagator for [`TelemetryBuilder::propagators`](crate::TelemetryBuilder::propagators).
#[non_exhaustive]
pub enum Propagator {
    /// W3C `traceparent` / `tracestate` (Level 2, every rule checked; see
    /// [`propagation`](crate::propagation)).
    TraceContext,
    /// W3C `baggage` (limits, percent-encoding and properties by the W3C rules).
    Baggage,
    /// Zipkin B3, single `b3` header.
    B3,
    /// Zipkin B3, `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled` headers.
    B3Multi,
    /// Any other propagator.
    Custom(Box<dyn TextMapPropagator + Send + Sync>),
}

impl fmt::Debug for Propagator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Propagator::TraceContext => f.write_str("TraceContext"),
            Propagator::Baggage => f.write_str("Baggage"),
            Propagator::B3 => f.write_str("B3"),
            Propagator::B3Multi => f.write_str("B3Multi"),
            Propagator::Custom(p) => f.debug_tuple("Custom").field(p).finish(),
        }
    }
}

/// The composite propagator for `slots`, taking the custom ones out of `custom`.
pub(crate) fn build(
    slots: &[PropagatorSlot],
    custom: &mut Vec<Option<Box<dyn TextMapPropagator + Send + Sync>>>,
) -> TextMapCompositePropagator {
    let propagators = slots
        .iter()
        .filter_map(|slot| -> Option<Box<dyn TextMapPropagator + Send + Sync>> {
            Some(match slot {
                PropagatorSlot::TraceContext => Box::new(TraceContextPropagator),
                PropagatorSlot::Baggage => Box::new(BaggagePropagator),
                PropagatorSlot::B3 => Box::new(B3Propagator::single()),
                PropagatorSlot::B3Multi => Box::new(B3Propagator::multiple()),
                PropagatorSlot::Custom(index) => custom.get_mut(*index)?.take()?,
            })
        })
        .collect();
    TextMapCompositePropagator::new(propagators)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_follows_the_order_and_skips_taken_customs() {
        let mut custom = vec![];
        let composite = build(
            &[
                PropagatorSlot::TraceContext,
                PropagatorSlot::B3Multi,
                PropagatorSlot::Custom(3),
            ],
            &mut custom,
        );
        let fields: Vec<&str> = composite.fields().collect();
        assert!(fields.contains(&"traceparent") && fields.contains(&"x-b3-traceid"));
        assert!(!fields.contains(&"baggage"));
    }
}
