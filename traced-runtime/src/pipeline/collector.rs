//! The collector: per-thread bounded queues that spans are handed to without a lock, one
//! thread that drains them into batches in the exporter's form (see
//! [`exporter`](crate::pipeline::exporter)) and gives each record back to the thread that made
//! it, and one export thread that feeds the exporter, so that a slow or retrying export never
//! stalls the draining.
//!
//! A producer pushes into its own thread's queue (a lock-free `ArrayQueue`, so a span that ends on
//! another thread than it started on is still safe). When a queue is half full (or holds
//! [`MOST_AT_ONCE`] spans) the collector thread is woken; otherwise it wakes every
//! `scheduled_delay`. It drains the queues in turns of
//! [`DRAIN_TURN`] spans each, so that one busy thread cannot starve the others, and hands full
//! batches to the backlog of the export thread, which exports one batch at a time. The backlog
//! holds at most `max_queue_size` spans (at least one batch), or, as encoded OTLP requests, up to
//! 4 KiB per span of that (8 MiB at the default settings: a burst of tens of thousands of spans
//! waits there for the exporter). When it is full and the exporter is
//! merely behind, the collector waits for room and the producers' queues take the load; when the
//! exporter struggles (its last export failed, or one has been retrying for [`STALLED_MS`]) the
//! oldest batch is dropped instead, so that the collector keeps draining and the spans made once
//! the collector answers again are the ones kept.
//!
//! Memory stays bounded whatever the load: `max_queue_size` spans per producer thread, twice
//! that in the shared queues of the SDK's spans and of spans ended where their thread's queue is
//! not at hand, a batch being built, the backlog, and the one batch being exported. Every span
//! that does not make it is counted by reason (see [`stats`](crate::pipeline::stats)).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanLimits};
use opentelemetry_sdk::Resource;

pub(crate) use crate::pipeline::batch::BatchConfig;
use crate::pipeline::clock::Anchor;
use crate::pipeline::exporter::{Batch, BatchBuilder, BatchExporter};
use crate::pipeline::record::SpanRecord;
use crate::pipeline::stats::{Counters, DropReporter, PipelineStats};

/// Spans taken from one queue before the collector turns to the next.
const DRAIN_TURN: usize = 64;

/// An export in progress for longer than this means the exporter struggles (a collector down,
/// retries): the backlog then drops its oldest batches rather than stop the collector.
const STALLED_MS: u64 = 500;
/// No export in progress.
const IDLE: u64 = u64::MAX;

/// One thread's queue of ended spans, and the records the collector gave back to it.
pub(crate) struct ThreadQueue {
    queue: ArrayQueue<Box<SpanRecord>>,
    /// Emptied records, reused for the thread's next spans: the thread allocates a record only
    /// when none came back yet, and never frees one another thread allocated.
    recycled: ArrayQueue<Box<SpanRecord>>,
    shared: Arc<Shared>,
}

impl ThreadQueue {
    /// A record the collector gave back, if any.
    #[inline]
    pub(crate) fn recycled(&self) -> Option<Box<SpanRecord>> {
        self.recycled.pop()
    }

    /// Whether this queue feeds `collector`.
    pub(crate) fn belongs_to(&self, collector: &Collector) -> bool {
        Arc::ptr_eq(&self.shared, &collector.shared)
    }

    /// Hands an ended span to the collector; drops it (counted) when the queue is full.
    #[inline]
    pub(crate) fn push(&self, record: Box<SpanRecord>) {
        match self.queue.push(record) {
            Ok(()) => {
                if self.queue.len() >= self.shared.wake_at {
                    self.shared.wake();
                }
            }
            Err(record) => self.shared.dropped_at_push(&record),
        }
    }
}

#[derive(Default)]
struct Control {
    flush_requested: u64,
    flush_done: u64,
    flush_result: Option<OTelSdkError>,
    shutdown: bool,
    stopped: bool,
    resource: Option<Resource>,
}

/// What the collector thread hands to the export thread, in order.
enum Job {
    Export(Batch),
    Resource(Resource),
    /// Everything before was exported: complete flush `ticket`.
    Flush(u64),
    /// Everything before was exported: shut the exporter down and stop.
    Shutdown,
}

/// The jobs waiting for the export thread, and how many spans they hold.
#[derive(Default)]
struct Backlog {
    jobs: VecDeque<Job>,
    spans: usize,
    /// The bytes of the encoded requests among the jobs.
    encoded_bytes: usize,
}

impl Backlog {
    /// Whether `batch` fits: within the backlog's capacity in spans, or, for an encoded
    /// request, within the capacity in bytes (see [`ENCODED_BYTES_PER_SPAN`]).
    fn fits(&self, batch: &Batch, capacity: usize) -> bool {
        self.spans + batch.len() <= capacity
            || (batch.encoded_bytes() > 0
                && self.encoded_bytes + batch.encoded_bytes() <= capacity * ENCODED_BYTES_PER_SPAN)
    }

    fn add(&mut self, batch: &Batch) {
        self.spans += batch.len();
        self.encoded_bytes += batch.encoded_bytes();
    }

    fn remove(&mut self, batch: &Batch) {
        self.spans -= batch.len();
        self.encoded_bytes -= batch.encoded_bytes();
    }
}

/// Encoded requests are compact (a few hundred bytes a span, against the record's and the
/// `SpanData`'s fixed size): the backlog takes them beyond its capacity in spans while they fit
/// in this many bytes per span of that capacity (8 MiB at the default `max_queue_size`), so
/// that a burst waits for the exporter instead of being dropped.
const ENCODED_BYTES_PER_SPAN: usize = 4_096;

struct Shared {
    config: BatchConfig,
    /// Wake the collector when a queue holds this many spans.
    wake_at: usize,
    /// Most spans waiting in the backlog.
    backlog_capacity: usize,
    queues: Mutex<Vec<Arc<ThreadQueue>>>,
    /// Spans from the SDK (the opentelemetry API) and from threads whose queue is not at hand.
    shared_queue: ArrayQueue<SpanData>,
    records: ArrayQueue<Box<SpanRecord>>,
    counters: Counters,
    wake_pending: AtomicBool,
    thread: Mutex<Option<Thread>>,
    control: Mutex<Control>,
    changed: Condvar,
    backlog: Mutex<Backlog>,
    backlog_changed: Condvar,
    /// Notified when the export thread takes a job.
    backlog_space: Condvar,
    /// When the export in progress started, in milliseconds since `epoch` ([`IDLE`]: none).
    export_started: AtomicU64,
    /// Whether the last export failed.
    last_failed: AtomicBool,
    epoch: Instant,
    shut_down: AtomicBool,
    /// Shutdown ran out of time: the export thread exports nothing more.
    given_up: AtomicBool,
    /// The export thread stopped (after shutdown or giving up).
    finished: AtomicBool,
}

impl Shared {
    fn wake(&self) {
        if !self.wake_pending.swap(true, Ordering::AcqRel) {
            if let Some(thread) = &*self.thread.lock().unwrap_or_else(PoisonError::into_inner) {
                thread.unpark();
            }
        }
    }

    /// Counts a record a full queue refused, and wakes the collector to drain and warn.
    #[cold]
    fn dropped_at_push(&self, record: &SpanRecord) {
        if record.span_context.is_sampled() {
            Counters::add(&self.counters.push_dropped, 1);
        }
        self.wake();
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn backlog(&self) -> MutexGuard<'_, Backlog> {
        self.backlog.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `job` for the export thread. A batch that does not fit waits for room while
    /// the exporter is merely behind (the producers' queues take the load meanwhile); when it
    /// struggles (its last export failed, or the one in progress takes longer than
    /// [`STALLED_MS`]) the oldest batches waiting are dropped (counted) instead, so that the
    /// newest spans are the ones kept and the collector keeps draining.
    fn send(&self, job: Job) {
        let mut backlog = self.backlog();
        if let Job::Export(batch) = &job {
            while !backlog.fits(batch, self.backlog_capacity)
                && !self.given_up.load(Ordering::Acquire)
            {
                if !self.struggling() {
                    backlog = self
                        .backlog_space
                        .wait_timeout(backlog, Duration::from_millis(20))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    continue;
                }
                let oldest = backlog
                    .jobs
                    .iter()
                    .position(|job| matches!(job, Job::Export(_)));
                let Some(Job::Export(evicted)) = oldest.and_then(|at| backlog.jobs.remove(at))
                else {
                    break;
                };
                backlog.remove(&evicted);
                Counters::add(&self.counters.evicted, evicted.len() as u64);
            }
            backlog.add(batch);
        }
        backlog.jobs.push_back(job);
        drop(backlog);
        self.backlog_changed.notify_one();
    }

    /// Whether the exporter fails or hangs, rather than merely being behind.
    fn struggling(&self) -> bool {
        if self.last_failed.load(Ordering::Acquire) {
            return true;
        }
        let started = self.export_started.load(Ordering::Acquire);
        started != IDLE && self.epoch.elapsed().as_millis() as u64 > started + STALLED_MS
    }

    /// Spans still in the queues. Once the collector stopped, they are taken out and counted
    /// (only the sampled ones: a record may be recorded without being sampled).
    fn queued(&self) -> u64 {
        let queues = self
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if self.finished.load(Ordering::Acquire) {
            let mut residual = 0;
            for queue in &queues {
                while let Some(record) = queue.queue.pop() {
                    residual += u64::from(record.span_context.is_sampled());
                }
            }
            while let Some(record) = self.records.pop() {
                residual += u64::from(record.span_context.is_sampled());
            }
            while self.shared_queue.pop().is_some() {
                residual += 1;
            }
            Counters::add(&self.counters.residual, residual);
            return 0;
        }
        let in_queues: usize = queues.iter().map(|queue| queue.queue.len()).sum();
        (in_queues + self.records.len() + self.shared_queue.len()) as u64
    }
}

/// The handle on a collector thread, shared by the fast span path and the SDK span processor.
#[derive(Clone)]
pub(crate) struct Collector {
    shared: Arc<Shared>,
}

impl Collector {
    /// Starts the collector thread and the export thread, which owns `exporter`.
    pub(crate) fn start(
        exporter: Box<dyn BatchExporter>,
        config: BatchConfig,
        scope: InstrumentationScope,
        limits: SpanLimits,
    ) -> Result<Self, std::io::Error> {
        let shared = Arc::new(Shared {
            wake_at: wake_at(&config),
            backlog_capacity: config.max_queue_size.max(config.max_export_batch_size),
            shared_queue: ArrayQueue::new(config.max_queue_size),
            records: ArrayQueue::new(config.max_queue_size),
            config,
            queues: Mutex::new(Vec::new()),
            counters: Counters::default(),
            wake_pending: AtomicBool::new(false),
            thread: Mutex::new(None),
            control: Mutex::new(Control::default()),
            changed: Condvar::new(),
            backlog: Mutex::new(Backlog::default()),
            backlog_changed: Condvar::new(),
            backlog_space: Condvar::new(),
            export_started: AtomicU64::new(IDLE),
            last_failed: AtomicBool::new(false),
            epoch: Instant::now(),
            shut_down: AtomicBool::new(false),
            given_up: AtomicBool::new(false),
            finished: AtomicBool::new(false),
        });
        let batch = BatchBuilder::new(exporter.format(), scope, limits);
        let export = ExportWorker {
            shared: Arc::downgrade(&shared),
            exporter,
        };
        thread::Builder::new()
            .name("traced-exporter".into())
            .spawn(move || export.run())?;
        let worker = Worker {
            shared: Arc::downgrade(&shared),
            anchor: Anchor::now(),
            batch,
            reporter: DropReporter::default(),
        };
        let spawned = thread::Builder::new()
            .name("traced-collector".into())
            .spawn(move || worker.run());
        let handle = match spawned {
            Ok(handle) => handle,
            Err(error) => {
                // Stops the export thread, which is waiting for jobs.
                shared.send(Job::Shutdown);
                return Err(error);
            }
        };
        *shared.thread.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(handle.thread().clone());
        Ok(Collector { shared })
    }

    /// A new queue for the calling thread.
    pub(crate) fn thread_queue(&self) -> Arc<ThreadQueue> {
        let queue = Arc::new(ThreadQueue {
            queue: ArrayQueue::new(self.shared.config.max_queue_size),
            recycled: ArrayQueue::new(recycled_capacity(&self.shared.config)),
            shared: self.shared.clone(),
        });
        self.shared
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(queue.clone());
        queue
    }

    /// Hands over a span that ended where its thread's queue is not at hand.
    pub(crate) fn push_record(&self, record: Box<SpanRecord>) {
        match self.shared.records.push(record) {
            Ok(()) => self.shared.wake(),
            Err(record) => self.shared.dropped_at_push(&record),
        }
    }

    /// Hands over a span that the SDK ended (spans of the opentelemetry API).
    pub(crate) fn push_span_data(&self, span: SpanData) {
        if self.shared.shared_queue.push(span).is_err() {
            Counters::add(&self.shared.counters.push_dropped, 1);
            self.shared.wake();
        } else if self.shared.shared_queue.len() >= self.shared.wake_at {
            self.shared.wake();
        }
    }

    /// Whether both handles are on the same collector.
    pub(crate) fn is(&self, other: &Collector) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shared.shut_down.load(Ordering::Relaxed)
    }

    /// What became of the spans so far.
    pub(crate) fn stats(&self) -> PipelineStats {
        // `finished` first: spans a stopped collector leaves in the queues are counted lost.
        let finished = self.shared.finished.load(Ordering::Acquire)
            || self.shared.given_up.load(Ordering::Acquire);
        let queued = self.shared.queued();
        self.shared.counters.snapshot(queued, finished)
    }

    pub(crate) fn set_resource(&self, resource: &Resource) {
        self.shared.control().resource = Some(resource.clone());
        self.shared.wake();
    }

    /// Waits until `done` holds for the export thread's state (or `deadline`), and returns
    /// the result it left.
    fn wait(
        &self,
        deadline: Instant,
        timeout: Duration,
        done: impl Fn(&Control) -> bool,
    ) -> OTelSdkResult {
        let mut control = self.shared.control();
        while !done(&control) {
            let now = Instant::now();
            if now >= deadline {
                return Err(OTelSdkError::Timeout(timeout));
            }
            control = self
                .shared
                .changed
                .wait_timeout(control, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        match control.flush_result.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Exports everything handed over so far; waits at most `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> OTelSdkResult {
        let deadline = Instant::now() + timeout;
        let mut control = self.shared.control();
        if control.stopped {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        control.flush_requested += 1;
        let ticket = control.flush_requested;
        drop(control);
        self.shared.wake_pending.store(false, Ordering::Release);
        self.shared.wake();
        self.wait(deadline, timeout, |control| {
            control.flush_done >= ticket || control.stopped
        })
    }

    /// Exports what is left, shuts the exporter down and stops the threads; waits at most
    /// `timeout`, after which what is not exported yet is given up (counted, see `stats`).
    pub(crate) fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        if self.shared.shut_down.swap(true, Ordering::AcqRel) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let deadline = Instant::now() + timeout;
        self.shared.control().shutdown = true;
        self.shared.wake_pending.store(false, Ordering::Release);
        self.shared.wake();
        let result = self.wait(deadline, timeout, |control| control.stopped);
        if result.is_err() && !self.shared.control().stopped {
            self.shared.given_up.store(true, Ordering::Release);
            // Wakes the export thread if it waits for jobs, so that it drops them.
            self.shared.backlog_changed.notify_all();
        }
        result
    }
}

/// Most spans drained at once: a larger queue absorbs longer bursts, but does not make the
/// collector wait longer before it drains (and gives records back for reuse).
const MOST_AT_ONCE: usize = 1_024;

/// How many spans in a queue wake the collector: half the queue, at most [`MOST_AT_ONCE`].
fn wake_at(config: &BatchConfig) -> usize {
    (config.max_queue_size / 2).clamp(1, MOST_AT_ONCE)
}

/// Most emptied records a thread keeps for reuse: as many as the collector drains at once.
fn recycled_capacity(config: &BatchConfig) -> usize {
    wake_at(config)
}

/// How often the conversion from span clock to wall clock is renewed.
const ANCHOR_RENEWAL: Duration = Duration::from_secs(60);

/// The collector thread's state.
struct Worker {
    shared: Weak<Shared>,
    anchor: Anchor,
    /// The batch being built.
    batch: BatchBuilder,
    reporter: DropReporter,
}

impl Worker {
    fn run(mut self) {
        let mut next_export = Instant::now();
        let mut flush_sent = 0;
        loop {
            let Some(shared) = self.shared.upgrade() else {
                // Every handle is gone: nothing can hand over spans any more (the export
                // thread sees it too).
                return;
            };
            next_export = next_export.max(Instant::now());
            // Cleared before the requests are read: a wake from here on is seen at the end of
            // this round.
            shared.wake_pending.store(false, Ordering::SeqCst);
            let (flush_ticket, shutdown, resource) = {
                let mut control = shared.control();
                (
                    (control.flush_requested > flush_sent).then_some(control.flush_requested),
                    control.shutdown,
                    control.resource.take(),
                )
            };
            if let Some(resource) = resource {
                self.batch.set_resource(&resource);
                shared.send(Job::Resource(resource));
            }
            self.drain(&shared);
            let due = Instant::now() >= next_export;
            if due || flush_ticket.is_some() || shutdown {
                self.send_pending(&shared);
                next_export = Instant::now() + shared.config.scheduled_delay;
            }
            if let Some(ticket) = flush_ticket {
                shared.send(Job::Flush(ticket));
                flush_sent = ticket;
            }
            if shutdown {
                shared.send(Job::Shutdown);
                return;
            }
            shared
                .queues
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|queue| Arc::strong_count(queue) > 1 || !queue.queue.is_empty());
            let now = Instant::now();
            let stats = shared.counters.snapshot(0, false);
            let mut wake_at = next_export;
            if let Some(summary) = self.reporter.check(&stats, now) {
                wake_at = wake_at.min(summary);
            }
            // A wake during this round (a flush, a shutdown, a full queue) is seen here
            // instead of after the wait.
            let woken = shared.wake_pending.load(Ordering::SeqCst);
            drop(shared);
            if !woken {
                thread::park_timeout(wake_at.saturating_duration_since(now));
            }
        }
    }

    /// Adds every handed-over span to the batch, in turns of [`DRAIN_TURN`] spans a queue,
    /// handing each full batch to the export thread.
    fn drain(&mut self, shared: &Shared) {
        // One anchor for many drains keeps the order of close spans; renewing it now and then
        // follows the wall clock's adjustments.
        if self.anchor.age() > ANCHOR_RENEWAL {
            self.anchor = Anchor::now();
        }
        let queues: Vec<Arc<ThreadQueue>> = shared
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        loop {
            let mut taken = 0;
            for queue in &queues {
                for mut record in std::iter::from_fn(|| queue.queue.pop()).take(DRAIN_TURN) {
                    taken += 1;
                    self.add_record(&mut record, shared);
                    // Back to the thread that made it; freed when that thread has enough.
                    let _ = queue.recycled.push(record);
                }
            }
            for mut record in std::iter::from_fn(|| shared.records.pop()).take(DRAIN_TURN) {
                taken += 1;
                self.add_record(&mut record, shared);
            }
            for span in std::iter::from_fn(|| shared.shared_queue.pop()).take(DRAIN_TURN) {
                taken += 1;
                Counters::add(&shared.counters.received, 1);
                self.batch.add_span_data(span);
                self.send_if_full(shared);
            }
            if taken == 0 {
                return;
            }
        }
    }

    fn add_record(&mut self, record: &mut SpanRecord, shared: &Shared) {
        if record.span_context.is_sampled() {
            Counters::add(&shared.counters.received, 1);
            self.batch.add_record(record, &self.anchor);
            self.send_if_full(shared);
        } else {
            record.clear();
        }
    }

    fn send_if_full(&mut self, shared: &Shared) {
        if self.batch.len() >= shared.config.max_export_batch_size {
            self.send_pending(shared);
        }
    }

    fn send_pending(&mut self, shared: &Shared) {
        if self.batch.is_empty() {
            return;
        }
        let batch = self.batch.take(shared.config.max_export_batch_size);
        shared.send(Job::Export(batch));
    }
}

/// How long the export thread waits for a job before it checks that the pipeline still exists.
const IDLE_CHECK: Duration = Duration::from_millis(500);

/// The export thread's state: it owns the exporter, and runs one export at a time.
struct ExportWorker {
    shared: Weak<Shared>,
    exporter: Box<dyn BatchExporter>,
}

impl ExportWorker {
    fn run(mut self) {
        // The first failure since the last flush, for that flush's result.
        let mut error = None;
        loop {
            let Some(shared) = self.shared.upgrade() else {
                let _ = self.exporter.shutdown(Duration::from_secs(5));
                return;
            };
            let Some(job) = next_job(&shared) else {
                continue;
            };
            match job {
                Job::Export(batch) => {
                    if !shared.given_up.load(Ordering::Acquire) {
                        error = error.or(self.export(batch, &shared));
                    }
                }
                Job::Resource(resource) => self.exporter.set_resource(&resource),
                Job::Flush(ticket) => {
                    let result = self.exporter.force_flush();
                    let mut control = shared.control();
                    control.flush_done = control.flush_done.max(ticket);
                    control.flush_result = error.take().or(result.err());
                    shared.changed.notify_all();
                }
                Job::Shutdown => {
                    let result = self.exporter.shutdown(shared.config.max_export_timeout);
                    shared.finished.store(true, Ordering::Release);
                    let mut control = shared.control();
                    control.flush_result = error.take().or(result.err());
                    control.stopped = true;
                    control.flush_done = control.flush_requested;
                    shared.changed.notify_all();
                    return;
                }
            }
        }
    }

    /// Exports `batch`, counting its spans exported or dropped; returns the failure.
    fn export(&self, batch: Batch, shared: &Shared) -> Option<OTelSdkError> {
        let spans = batch.len() as u64;
        let timeout = shared.config.max_export_timeout;
        let started = shared.epoch.elapsed().as_millis() as u64;
        shared.export_started.store(started, Ordering::Release);
        let result = match block_on_timeout(self.exporter.export(batch), timeout) {
            Some(result) => result,
            None => Err(OTelSdkError::Timeout(timeout)),
        };
        shared.export_started.store(IDLE, Ordering::Release);
        shared.last_failed.store(result.is_err(), Ordering::Release);
        let counters = &shared.counters;
        match result {
            Ok(()) => {
                Counters::add(&counters.exported, spans);
                None
            }
            // Shutdown gave up on this export (and cancelled it): its spans are counted given
            // up at shutdown, as they were when shutdown returned.
            Err(error) if shared.given_up.load(Ordering::Acquire) => Some(error),
            Err(error) => {
                Counters::add(&counters.export_failed, spans);
                Counters::add(&counters.export_failures, 1);
                // The collector thread warns about the drop.
                shared.wake();
                Some(error)
            }
        }
    }
}

/// The next job of the export thread, waiting at most [`IDLE_CHECK`] for one.
fn next_job(shared: &Shared) -> Option<Job> {
    let mut backlog = shared.backlog();
    if backlog.jobs.is_empty() {
        backlog = shared
            .backlog_changed
            .wait_timeout(backlog, IDLE_CHECK)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    let job = backlog.jobs.pop_front()?;
    if let Job::Export(batch) = &job {
        backlog.remove(batch);
    }
    drop(backlog);
    shared.backlog_space.notify_all();
    Some(job)
}

/// Wakes the export thread when the export future can make progress.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` on this thread, abandoning it after `timeout`.
fn block_on_timeout<F: Future>(future: F, timeout: Duration) -> Option<F::Output> {
    let deadline = Instant::now() + timeout;
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        thread::park_timeout(deadline - now);
    }
}

/// The most the pipeline's own buffers hold for `config`, in bytes: `(per producer thread,
/// the rest)`, when every queue (and every thread's records kept for reuse), the batch being
/// built, the backlog and the batch being exported are full. What spans own on the heap beyond their inline attributes (long
/// strings, more than 4 attributes, events, links) comes on top.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn memory_bound(config: &BatchConfig) -> (usize, usize) {
    use std::mem::size_of;
    // A slot of an `ArrayQueue` is the value and a stamp.
    let record = size_of::<Box<SpanRecord>>() + size_of::<usize>() + size_of::<SpanRecord>();
    let span = size_of::<SpanData>();
    let per_thread = (config.max_queue_size + recycled_capacity(config)) * record;
    let backlog = config.max_queue_size.max(config.max_export_batch_size);
    let fixed = config.max_queue_size * (span + size_of::<usize>())
        + config.max_queue_size * record
        + (2 * config.max_export_batch_size + backlog) * span
        // Encoded requests beyond the backlog's capacity in spans.
        + backlog * ENCODED_BYTES_PER_SPAN;
    (per_thread, fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The figures README.md gives for the default settings.
    #[test]
    fn memory_is_bounded_at_default_settings() {
        let (per_thread, fixed) = memory_bound(&BatchConfig::default());
        eprintln!(
            "per thread {per_thread} bytes, fixed {fixed} bytes (SpanRecord {}, SpanData {})",
            std::mem::size_of::<SpanRecord>(),
            std::mem::size_of::<SpanData>()
        );
        assert!(per_thread < 2 << 20, "{per_thread}");
        assert!(fixed < 12 << 20, "{fixed}");
    }
}
