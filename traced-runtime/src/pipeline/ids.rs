//! Trace and span ids from a per-thread generator (wyrand): no lock, no system call.
//!
//! The SDK's `RandomIdGenerator` draws from `rand`'s thread RNG, which is also per thread; this one
//! is a few instructions because span ids need to be unique, not cryptographically unpredictable.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};

use opentelemetry::trace::{SpanId, TraceFlags, TraceId};

/// W3C Trace Context Level 2's `random` trace-flag: the rightmost 7 bytes of the trace id are
/// random. Set on every trace started with [`trace_id`], whose 16 bytes all are.
pub(crate) const RANDOM_TRACE_ID: TraceFlags = TraceFlags::new(0x02);

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // RandomState is seeded from the OS once per process and varies per instance.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(std::process::id().into());
    hasher.finish()
}

#[inline]
fn next() -> u64 {
    STATE.with(|state| {
        let x = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(x);
        let t = u128::from(x) * u128::from(x ^ 0xe703_7ed1_a0b4_28db);
        (t >> 64) as u64 ^ t as u64
    })
}

/// A new, valid (non-zero) span id.
#[inline]
pub(crate) fn span_id() -> SpanId {
    loop {
        let id = next();
        if id != 0 {
            return SpanId::from(id);
        }
    }
}

/// A new, valid (non-zero) trace id.
#[inline]
pub(crate) fn trace_id() -> TraceId {
    loop {
        let id = u128::from(next()) << 64 | u128::from(next());
        if id != 0 {
            return TraceId::from(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn ids_are_valid_and_distinct() {
        let spans: HashSet<_> = (0..10_000).map(|_| super::span_id()).collect();
        assert_eq!(spans.len(), 10_000);
        let traces: HashSet<_> = (0..10_000).map(|_| super::trace_id()).collect();
        assert_eq!(traces.len(), 10_000);
        let other = std::thread::spawn(super::span_id).join().unwrap();
        assert!(!spans.contains(&other));
    }
}
