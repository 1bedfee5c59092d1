//! Span timestamps: read from a cheap monotonic clock on the hot path (the TSC where it is
//! stable, through `quanta`), turned into wall-clock time by the collector thread.

use std::time::SystemTime;

pub(crate) use quanta::Instant;

/// The time now, for a span's start or end.
#[inline]
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// A pair of readings of both clocks, taken together, to convert one into the other.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Anchor {
    system: SystemTime,
    instant: Instant,
}

impl Anchor {
    pub(crate) fn now() -> Self {
        // The first reading calibrates the span clock, which takes a while: not between the two
        // readings of the anchor.
        let _ = Instant::now();
        Anchor {
            system: SystemTime::now(),
            instant: Instant::now(),
        }
    }

    /// How long ago the anchor was taken.
    pub(crate) fn age(&self) -> std::time::Duration {
        Instant::now().saturating_duration_since(self.instant)
    }

    /// The wall-clock time of `instant`.
    pub(crate) fn system_time(&self, instant: Instant) -> SystemTime {
        if instant >= self.instant {
            self.system + (instant - self.instant)
        } else {
            self.system - (self.instant - instant)
        }
    }
}
