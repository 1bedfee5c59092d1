//! What became of the spans: [`PipelineStats`] (public, from
//! [`TelemetryGuard::stats`](crate::TelemetryGuard::stats) and in the error of `shutdown()`),
//! the counters the collector keeps, and the warnings on stderr while spans are dropped.
//!
//! No span is lost without a word: every sampled span that ends is exported or counted under
//! one reason, so that `spans_exported + dropped() == spans_ended` once the pipeline has shut
//! down.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What became of the sampled spans of a pipeline, by reason.
///
/// Once the pipeline has shut down, `spans_exported + dropped() == spans_ended` exactly; while
/// it runs, the spans on their way (queued, batched, being exported) are in neither, and the
/// figures are read one after the other (a snapshot, not an instant).
///
/// Drops are allowed, so that memory stays bounded and the application never waits for the
/// collector, but they are never silent: the first drop prints a warning on stderr, a summary
/// follows every few seconds while drops go on, and `shutdown()` returns
/// [`Error::SpansLost`](crate::Error::SpansLost) with these figures when any span was lost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PipelineStats {
    /// Sampled spans that ended and were handed to the pipeline (`#[traced]` spans and spans
    /// of the opentelemetry API alike; a span still open is not counted, an unsampled span
    /// never is).
    pub spans_ended: u64,
    /// Spans the exporter accepted (for OTLP: the collector answered with success).
    pub spans_exported: u64,
    /// Spans dropped because there was no room: they ended faster than they could be exported
    /// (a queue of `OTEL_BSP_MAX_QUEUE_SIZE` spans, or the batches waiting for the exporter,
    /// was full). Raise `OTEL_BSP_MAX_QUEUE_SIZE`, or check that the collector keeps up.
    pub dropped_queue_full: u64,
    /// Spans of batches whose export failed for good (refused, or still failing when the
    /// export deadline came, retries included).
    pub dropped_export_failed: u64,
    /// Spans still queued or being exported when shutdown gave up (its timeout ran out), or
    /// that ended after the pipeline shut down.
    pub dropped_at_shutdown: u64,
    /// Exports (batches) that failed for good; each one's spans are in `dropped_export_failed`.
    pub export_failures: u64,
}

impl PipelineStats {
    /// Every span dropped, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full + self.dropped_export_failed + self.dropped_at_shutdown
    }
}

impl fmt::Display for PipelineStats {
    /// `N spans lost of M (queue full: a, export failed: b, given up at shutdown: c)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} spans lost of {} (queue full: {}, export failed: {}, given up at shutdown: {})",
            self.dropped(),
            self.spans_ended,
            self.dropped_queue_full,
            self.dropped_export_failed,
            self.dropped_at_shutdown
        )
    }
}

/// The collector's counters. Each is written by one thread at a time except `push_dropped`
/// (any producer); all are read by `stats()`.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Sampled spans the collector took from the queues.
    pub(crate) received: AtomicU64,
    /// Sampled spans dropped by a producer because its queue was full.
    pub(crate) push_dropped: AtomicU64,
    /// Spans the collector dropped because the batches waiting for the exporter were full.
    pub(crate) evicted: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) export_failed: AtomicU64,
    pub(crate) export_failures: AtomicU64,
    /// Sampled spans found in the queues after the collector stopped.
    pub(crate) residual: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// The figures, `queued` spans being still in the queues; `finished`: the pipeline shut
    /// down (or gave up doing so), so whatever is neither exported nor dropped is lost.
    pub(crate) fn snapshot(&self, queued: u64, finished: bool) -> PipelineStats {
        // Read in the order spans move, so that a span moving meanwhile is counted at most once.
        let exported = Counters::get(&self.exported);
        let export_failed = Counters::get(&self.export_failed);
        let evicted = Counters::get(&self.evicted);
        let export_failures = Counters::get(&self.export_failures);
        let received = Counters::get(&self.received);
        let residual = Counters::get(&self.residual);
        let push_dropped = Counters::get(&self.push_dropped);
        let in_flight = received.saturating_sub(exported + export_failed + evicted);
        PipelineStats {
            spans_ended: received + residual + push_dropped + queued,
            spans_exported: exported,
            dropped_queue_full: push_dropped + evicted,
            dropped_export_failed: export_failed,
            dropped_at_shutdown: if finished {
                in_flight + residual + queued
            } else {
                0
            },
            export_failures,
        }
    }
}

/// How often a summary is printed while spans are being dropped.
pub(crate) const DROP_SUMMARY_INTERVAL: Duration = Duration::from_secs(5);

/// The warnings on stderr: one when drops start, then a summary at most every
/// [`DROP_SUMMARY_INTERVAL`] while they go on. Run by the collector thread each round.
#[derive(Debug, Default)]
pub(crate) struct DropReporter {
    /// Drops (queue full, export failed) at the last message.
    reported: (u64, u64),
    /// When the last message was printed, while drops go on.
    episode: Option<Instant>,
}

impl DropReporter {
    /// Prints what is due; returns when to look again (a summary is pending), if ever.
    pub(crate) fn check(&mut self, stats: &PipelineStats, now: Instant) -> Option<Instant> {
        let (line, next) = self.step(stats, now);
        if let Some(line) = line {
            eprintln!("{line}");
        }
        next
    }

    /// The pure decision of [`check`](Self::check): the line to print, and when to look again.
    fn step(&mut self, stats: &PipelineStats, now: Instant) -> (Option<String>, Option<Instant>) {
        let current = (stats.dropped_queue_full, stats.dropped_export_failed);
        let new = (
            current.0.saturating_sub(self.reported.0),
            current.1.saturating_sub(self.reported.1),
        );
        let any_new = new.0 + new.1 > 0;
        match self.episode {
            None if any_new => {
                self.reported = current;
                self.episode = Some(now);
                let line = format!(
                    "traced: spans are being dropped: {} so far (queue full: {}, export \
                     failed: {}); {}; a summary follows every {}s while drops go on",
                    current.0 + current.1,
                    current.0,
                    current.1,
                    hint(new),
                    DROP_SUMMARY_INTERVAL.as_secs()
                );
                (Some(line), Some(now + DROP_SUMMARY_INTERVAL))
            }
            None => (None, None),
            Some(since) if now < since + DROP_SUMMARY_INTERVAL => {
                (None, Some(since + DROP_SUMMARY_INTERVAL))
            }
            // Quiet for a whole interval: the episode is over, the next drop warns again.
            Some(_) if !any_new => {
                self.episode = None;
                (None, None)
            }
            Some(since) => {
                self.reported = current;
                self.episode = Some(now);
                let line = format!(
                    "traced: {} more spans dropped in the last {:.1}s (queue full: {}, export \
                     failed: {}); {} dropped in all of {} ended",
                    new.0 + new.1,
                    now.duration_since(since).as_secs_f64(),
                    new.0,
                    new.1,
                    stats.dropped(),
                    stats.spans_ended
                );
                (Some(line), Some(now + DROP_SUMMARY_INTERVAL))
            }
        }
    }
}

/// What to do about drops of these reasons.
fn hint((queue_full, export_failed): (u64, u64)) -> &'static str {
    if export_failed > 0 {
        "exports fail: check that the collector is reachable (the export error is printed \
         above)"
    } else if queue_full > 0 {
        "spans end faster than they are exported: raise OTEL_BSP_MAX_QUEUE_SIZE (or \
         `batch_max_queue_size`), or check that the collector keeps up"
    } else {
        "spans ended after shutdown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(queue_full: u64, export_failed: u64) -> PipelineStats {
        PipelineStats {
            spans_ended: 100,
            dropped_queue_full: queue_full,
            dropped_export_failed: export_failed,
            ..PipelineStats::default()
        }
    }

    #[test]
    fn one_warning_when_drops_start_then_a_summary_per_interval() {
        let mut reporter = DropReporter::default();
        let t0 = Instant::now();
        assert_eq!(reporter.step(&stats(0, 0), t0), (None, None));
        let (line, next) = reporter.step(&stats(3, 0), t0);
        let line = line.expect("the first drop warns");
        assert!(
            line.starts_with("traced: spans are being dropped: 3 so far"),
            "{line}"
        );
        assert!(line.contains("OTEL_BSP_MAX_QUEUE_SIZE"), "{line}");
        assert_eq!(next, Some(t0 + DROP_SUMMARY_INTERVAL));
        // More drops within the interval: nothing printed.
        let (line, _) = reporter.step(&stats(50, 0), t0 + Duration::from_secs(1));
        assert_eq!(line, None);
        let (line, _) = reporter.step(&stats(60, 2), t0 + DROP_SUMMARY_INTERVAL);
        let line = line.expect("a summary");
        assert!(
            line.starts_with("traced: 59 more spans dropped in the last 5.0s (queue full: 57, export failed: 2); 62 dropped in all"),
            "{line}"
        );
        // A quiet interval ends the episode; the next drop warns again.
        let t1 = t0 + 2 * DROP_SUMMARY_INTERVAL;
        assert_eq!(reporter.step(&stats(60, 2), t1), (None, None));
        let (line, _) = reporter.step(&stats(60, 3), t1 + Duration::from_secs(1));
        assert!(line
            .unwrap()
            .contains("check that the collector is reachable"));
    }

    #[test]
    fn after_shutdown_what_is_left_is_lost() {
        let counters = Counters::default();
        Counters::add(&counters.received, 10);
        Counters::add(&counters.exported, 6);
        Counters::add(&counters.export_failed, 1);
        Counters::add(&counters.export_failures, 1);
        Counters::add(&counters.push_dropped, 2);
        let running = counters.snapshot(3, false);
        assert_eq!(running.spans_ended, 15);
        assert_eq!(running.dropped(), 3);
        let finished = counters.snapshot(3, true);
        assert_eq!(finished.dropped_at_shutdown, 3 + 3);
        assert_eq!(
            finished.spans_exported + finished.dropped(),
            finished.spans_ended
        );
        assert_eq!(
            finished.to_string(),
            "9 spans lost of 15 (queue full: 2, export failed: 1, given up at shutdown: 6)"
        );
    }
}
