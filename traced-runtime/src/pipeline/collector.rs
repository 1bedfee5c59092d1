//! The collector: per-thread bounded queues that spans are handed to without a lock, and one
//! thread that drains them, builds the SDK's `SpanData` and feeds the exporter in batches.
//!
//! A producer pushes into its own thread's queue (a lock-free `ArrayQueue`, so a span that ends on
//! another thread than it started on is still safe). When a queue is a quarter full the collector
//! thread is woken; otherwise it wakes every `scheduled_delay`. A full queue drops the span and
//! counts it: memory stays bounded whatever the load.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter, SpanLimits};
use opentelemetry_sdk::Resource;

pub(crate) use crate::pipeline::batch::BatchConfig;
use crate::pipeline::clock::Anchor;
use crate::pipeline::record::SpanRecord;

/// One thread's queue of ended spans.
pub(crate) struct ThreadQueue {
    queue: ArrayQueue<Box<SpanRecord>>,
    shared: Arc<Shared>,
}

impl ThreadQueue {
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
            Err(_) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
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

struct Shared {
    config: BatchConfig,
    /// Wake the collector when a queue holds this many spans.
    wake_at: usize,
    queues: Mutex<Vec<Arc<ThreadQueue>>>,
    /// Spans from the SDK (the opentelemetry API) and from threads whose queue is not at hand.
    shared_queue: ArrayQueue<SpanData>,
    records: ArrayQueue<Box<SpanRecord>>,
    dropped: AtomicU64,
    wake_pending: AtomicBool,
    thread: Mutex<Option<Thread>>,
    control: Mutex<Control>,
    changed: Condvar,
    shut_down: AtomicBool,
}

impl Shared {
    fn wake(&self) {
        if !self.wake_pending.swap(true, Ordering::AcqRel) {
            if let Some(thread) = &*self.thread.lock().unwrap_or_else(PoisonError::into_inner) {
                thread.unpark();
            }
        }
    }

    fn control(&self) -> std::sync::MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The handle on a collector thread, shared by the fast span path and the SDK span processor.
#[derive(Clone)]
pub(crate) struct Collector {
    shared: Arc<Shared>,
}

impl Collector {
    /// Starts the collector thread, which owns `exporter`.
    pub(crate) fn start<E: SpanExporter + 'static>(
        exporter: E,
        config: BatchConfig,
        scope: InstrumentationScope,
        limits: SpanLimits,
    ) -> Result<Self, std::io::Error> {
        let shared = Arc::new(Shared {
            wake_at: (config.max_queue_size / 4).max(1),
            shared_queue: ArrayQueue::new(config.max_queue_size),
            records: ArrayQueue::new(config.max_queue_size),
            config,
            queues: Mutex::new(Vec::new()),
            dropped: AtomicU64::new(0),
            wake_pending: AtomicBool::new(false),
            thread: Mutex::new(None),
            control: Mutex::new(Control::default()),
            changed: Condvar::new(),
            shut_down: AtomicBool::new(false),
        });
        let worker = Worker {
            shared: Arc::downgrade(&shared),
            exporter,
            scope,
            limits,
            anchor: Anchor::now(),
            pending: Vec::new(),
        };
        let handle = thread::Builder::new()
            .name("traced-collector".into())
            .spawn(move || worker.run())?;
        *shared.thread.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(handle.thread().clone());
        Ok(Collector { shared })
    }

    /// A new queue for the calling thread.
    pub(crate) fn thread_queue(&self) -> Arc<ThreadQueue> {
        let queue = Arc::new(ThreadQueue {
            queue: ArrayQueue::new(self.shared.config.max_queue_size),
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
        if self.shared.records.push(record).is_err() {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.shared.wake();
    }

    /// Hands over a span that the SDK ended (spans of the opentelemetry API).
    pub(crate) fn push_span_data(&self, span: SpanData) {
        if self.shared.shared_queue.push(span).is_err() {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
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

    /// Spans dropped because a queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn set_resource(&self, resource: &Resource) {
        self.shared.control().resource = Some(resource.clone());
        self.shared.wake();
    }

    /// Waits until `done` holds for the collector thread's state (or `deadline`), and returns
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

    /// Exports what is left, shuts the exporter down and stops the thread; waits at most `timeout`.
    pub(crate) fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        if self.shared.shut_down.swap(true, Ordering::AcqRel) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let deadline = Instant::now() + timeout;
        self.shared.control().shutdown = true;
        self.shared.wake_pending.store(false, Ordering::Release);
        self.shared.wake();
        self.wait(deadline, timeout, |control| control.stopped)
    }
}

/// How often the conversion from span clock to wall clock is renewed.
const ANCHOR_RENEWAL: Duration = Duration::from_secs(60);

/// The collector thread's state.
struct Worker<E> {
    shared: Weak<Shared>,
    exporter: E,
    scope: InstrumentationScope,
    limits: SpanLimits,
    anchor: Anchor,
    pending: Vec<SpanData>,
}

impl<E: SpanExporter> Worker<E> {
    fn run(mut self) {
        let mut next_export = Instant::now();
        loop {
            let Some(shared) = self.shared.upgrade() else {
                // Every handle is gone: nothing can hand over spans any more.
                let _ = self.exporter.shutdown();
                return;
            };
            next_export = next_export.max(Instant::now());
            // Cleared before the requests are read: a wake from here on is seen at the end of
            // this round, even if its unpark is spent on an export's wait.
            shared.wake_pending.store(false, Ordering::SeqCst);
            let (flush_ticket, shutdown, resource) = {
                let mut control = shared.control();
                (
                    (control.flush_requested > control.flush_done)
                        .then_some(control.flush_requested),
                    control.shutdown,
                    control.resource.take(),
                )
            };
            if let Some(resource) = resource {
                self.exporter.set_resource(&resource);
            }
            let mut error = self.drain(&shared);
            let due = Instant::now() >= next_export;
            if due || flush_ticket.is_some() || shutdown {
                error = error.or(self.export_all(&shared));
                next_export = Instant::now() + shared.config.scheduled_delay;
            }
            if flush_ticket.is_some() {
                error = error.or_else(|| self.exporter.force_flush().err());
            }
            if shutdown {
                let result = self
                    .exporter
                    .shutdown_with_timeout(shared.config.max_export_timeout);
                let mut control = shared.control();
                control.flush_result = error.or(result.err());
                control.stopped = true;
                control.flush_done = control.flush_requested;
                shared.changed.notify_all();
                return;
            }
            if let Some(ticket) = flush_ticket {
                let mut control = shared.control();
                control.flush_done = ticket;
                control.flush_result = error;
                shared.changed.notify_all();
            }
            shared
                .queues
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|queue| Arc::strong_count(queue) > 1 || !queue.queue.is_empty());
            // A wake during this round (a flush, a shutdown, a full queue) may have spent its
            // unpark on an export's wait: it is seen here instead of after `wait`.
            let woken = shared.wake_pending.load(Ordering::SeqCst);
            let wait = next_export.saturating_duration_since(Instant::now());
            drop(shared);
            if !woken {
                thread::park_timeout(wait);
            }
        }
    }

    /// Moves every handed-over span into `pending`, as `SpanData`, exporting each full batch.
    fn drain(&mut self, shared: &Shared) -> Option<OTelSdkError> {
        // One anchor for many drains keeps the order of close spans; renewing it now and then
        // follows the wall clock's adjustments.
        if self.anchor.age() > ANCHOR_RENEWAL {
            self.anchor = Anchor::now();
        }
        let mut error = None;
        let queues: Vec<Arc<ThreadQueue>> = shared
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for queue in &queues {
            while let Some(mut record) = queue.queue.pop() {
                if record.span_context.is_sampled() {
                    let span = record.take_span_data(&self.anchor, &self.scope, &self.limits);
                    error = error.or(self.add(span, shared));
                }
            }
        }
        while let Some(mut record) = shared.records.pop() {
            if record.span_context.is_sampled() {
                let span = record.take_span_data(&self.anchor, &self.scope, &self.limits);
                error = error.or(self.add(span, shared));
            }
        }
        while let Some(span) = shared.shared_queue.pop() {
            error = error.or(self.add(span, shared));
        }
        error
    }

    fn add(&mut self, span: SpanData, shared: &Shared) -> Option<OTelSdkError> {
        self.pending.push(span);
        if self.pending.len() < shared.config.max_export_batch_size {
            return None;
        }
        let batch = std::mem::replace(
            &mut self.pending,
            Vec::with_capacity(shared.config.max_export_batch_size),
        );
        self.export(batch, shared)
    }

    fn export_all(&mut self, shared: &Shared) -> Option<OTelSdkError> {
        if self.pending.is_empty() {
            return None;
        }
        let batch = std::mem::take(&mut self.pending);
        self.export(batch, shared)
    }

    fn export(&self, batch: Vec<SpanData>, shared: &Shared) -> Option<OTelSdkError> {
        let timeout = shared.config.max_export_timeout;
        match block_on_timeout(self.exporter.export(batch), timeout) {
            Some(Ok(())) => None,
            Some(Err(error)) => Some(error),
            None => Some(OTelSdkError::Timeout(timeout)),
        }
    }
}

/// Wakes the collector thread when the export future can make progress.
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
