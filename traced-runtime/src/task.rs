//! Background work that keeps its trace: tasks, blocking work and threads started from inside a
//! span run inside it, so the spans they make are its children.
//!
//! `tokio::spawn(fut)` runs `fut` with no current context: a `#[traced]` function inside starts
//! a new trace. [`spawn`], [`spawn_blocking`] and [`spawn_thread`] carry the current context
//! (its span and its baggage) into the new task or thread, as Celery's instrumentation carries a
//! request's trace into the task it enqueues. The spawner's span may end first: the work stays
//! its child, as the trace of a background job should show.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! #[traced_runtime::traced]
//! async fn send_receipt(order_id: u64) {}
//!
//! #[traced_runtime::traced]
//! async fn checkout(order_id: u64) {
//!     // A child of `checkout`, even though `checkout` returns before it runs.
//!     traced_runtime::spawn(send_receipt(order_id));
//! }
//! # checkout(7).await;
//! # }
//! ```
//!
//! For anything else that takes a future (`JoinSet::spawn`, `LocalSet`, an executor of your
//! own), [`InCurrentTrace::in_current_trace`] wraps it the same way:
//!
//! ```
//! use traced_runtime::InCurrentTrace as _;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut set = tokio::task::JoinSet::new();
//! for n in 0..3_u64 {
//!     set.spawn(async move { n * 2 }.in_current_trace());
//! }
//! # while set.join_next().await.is_some() {}
//! # }
//! ```

use std::future::Future;
use std::thread::JoinHandle as ThreadJoinHandle;

use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::Context;
use tokio::task::JoinHandle;

/// `tokio::spawn`, with the current context carried into the task.
///
/// # Panics
///
/// As `tokio::spawn`: when called outside a tokio runtime.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.in_current_trace())
}

/// `tokio::task::spawn_blocking`, with the current context attached while `f` runs.
///
/// # Panics
///
/// As `tokio::task::spawn_blocking`: when called outside a tokio runtime.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(in_current_trace(f))
}

/// `std::thread::spawn`, with the current context attached while `f` runs.
///
/// # Panics
///
/// As `std::thread::spawn`: when the thread cannot be created.
pub fn spawn_thread<F, R>(f: F) -> ThreadJoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    std::thread::spawn(in_current_trace(f))
}

/// `f`, to run later or elsewhere with the context current now (for a thread builder or a
/// pool of your own).
pub fn in_current_trace<F, R>(f: F) -> impl FnOnce() -> R + Send + 'static
where
    F: FnOnce() -> R + Send + 'static,
{
    let cx = Context::current();
    move || {
        let _attached = cx.attach();
        f()
    }
}

/// Carries the current context into a future that will run elsewhere.
pub trait InCurrentTrace: Sized {
    /// The future, with the context current now attached at each of its polls.
    fn in_current_trace(self) -> WithContext<Self>;
}

impl<F: Future> InCurrentTrace for F {
    fn in_current_trace(self) -> WithContext<Self> {
        self.with_current_context()
    }
}
