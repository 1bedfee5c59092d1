//! A clean exit when the process is asked to stop: [`shutdown_signal`] resolves on SIGTERM (how
//! Docker, Kubernetes and systemd stop a process) or SIGINT (Ctrl-C), so that the application
//! returns from `main` and the [`TelemetryGuard`](crate::TelemetryGuard) flushes the spans still
//! queued, within its shutdown timeout.
//!
//! Why a thread of its own: the signals are received by a small tokio runtime on a thread named
//! `traced-signals`, started by the first call, as the export runtime is (`export/runtime.rs`).
//! So the future works on any executor and in a runtime built without tokio's IO driver, and
//! [`ShutdownSignal::wait`] in a `main` without async; tokio's own `signal` functions panic
//! outside a runtime with IO enabled.
//!
//! Why a second signal exits at once: once a handler is installed, SIGTERM and SIGINT no longer
//! end the process by themselves. While a [`ShutdownSignal`] waits, the first one resolves it;
//! any signal after that, or one that arrives while nothing waits, does what it would have done
//! without traced (the process ends by that signal), so a shutdown that hangs can still be
//! interrupted and a program that stopped waiting can still be stopped.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{mpsc, Condvar, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use tokio::sync::watch;

/// How long the first call waits for the signal handlers to be installed.
const REGISTRATION_TIMEOUT: Duration = Duration::from_secs(5);

/// A stop request the process received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    /// SIGTERM.
    Terminate,
    /// SIGINT, Ctrl-C (Ctrl-C or Ctrl-Break on Windows).
    Interrupt,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Terminate => "SIGTERM",
            Signal::Interrupt => "SIGINT",
        }
    }
}

/// What the waiting futures and [`ShutdownSignal::wait`] share with the listening thread.
struct Shared {
    /// `Some` once the first stop request has been received while something waited.
    received: watch::Sender<Option<Signal>>,
    /// The same, for the blocking [`ShutdownSignal::wait`].
    stopped: Mutex<bool>,
    stopped_changed: Condvar,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| Shared {
        received: watch::Sender::new(None),
        stopped: Mutex::new(false),
        stopped_changed: Condvar::new(),
    })
}

/// Whether the `traced-signals` thread listens, started by the first call; when the handlers
/// could not be installed, that is said once on stderr.
fn listening() -> bool {
    static LISTENING: OnceLock<bool> = OnceLock::new();
    *LISTENING.get_or_init(|| match start(shared()) {
        Ok(()) => true,
        Err(error) => {
            eprintln!(
                "traced: cannot listen for SIGTERM and SIGINT ({error}); shutdown_signal() will \
                 not resolve, and a signal ends the process at once, without flushing the spans \
                 still queued"
            );
            false
        }
    })
}

/// Starts the `traced-signals` thread and waits until its handlers are installed.
fn start(shared: &'static Shared) -> std::io::Result<()> {
    let (ready_tx, ready_rx) = mpsc::channel();
    thread::Builder::new()
        .name("traced-signals".into())
        .spawn(move || {
            // `enable_all`: the signal driver is the IO driver on Unix, its own on Windows.
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = ready_tx.send(Err(error));
                    return;
                }
            };
            runtime.block_on(async move {
                let mut signals = match platform::Signals::install() {
                    Ok(signals) => signals,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                loop {
                    let signal = signals.next().await;
                    shared.received(signal);
                }
            });
        })?;
    match ready_rx.recv_timeout(REGISTRATION_TIMEOUT) {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::other(
            "the traced-signals thread did not start within 5 s",
        )),
    }
}

impl Shared {
    /// One stop request: resolves the waiting futures if it is the first and something waits;
    /// else the signal does what it does by default.
    fn received(&self, signal: Signal) {
        let first = self.received.borrow().is_none();
        if first && self.received.receiver_count() > 0 {
            self.received.send_replace(Some(signal));
            *self.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
            self.stopped_changed.notify_all();
            return;
        }
        if !first {
            eprintln!(
                "traced: {} again: exiting now, without waiting for the shutdown to finish",
                signal.name()
            );
        }
        platform::default_action(signal);
    }
}

/// A future that resolves when the process is asked to stop, SIGTERM or SIGINT (Ctrl-C), so that
/// the application winds down and returns from `main`, where the
/// [`TelemetryGuard`](crate::TelemetryGuard) exports the spans still queued (within its shutdown
/// timeout, 5 s by default: inside Docker's 10 s and Kubernetes' 30 s of grace).
///
/// With axum (or hyper's graceful shutdown): the server stops accepting, finishes the requests
/// in flight, then `main` goes on:
///
/// ```no_run
/// # #[cfg(feature = "axum")]
/// # async fn serve(listener: tokio::net::TcpListener, app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
/// let telemetry = traced_runtime::init()?;
/// axum::serve(listener, app)
///     .with_graceful_shutdown(traced_runtime::shutdown_signal())
///     .await?;
/// telemetry.shutdown()?; // or let it drop: the spans of the last requests are exported
/// # Ok(()) }
/// ```
///
/// In a plain `main`, around whatever the program does:
///
/// ```no_run
/// # async fn work() {}
/// # async fn run() -> Result<(), traced_runtime::Error> {
/// let _telemetry = traced_runtime::init()?;
/// tokio::select! {
///     () = work() => {}
///     () = traced_runtime::shutdown_signal() => eprintln!("stopping"),
/// }
/// # Ok(()) }
/// // `_telemetry` drops at the end of main: it flushes.
/// ```
///
/// and [`wait`](ShutdownSignal::wait) blocks a thread without async.
///
/// From the first call on, SIGTERM and SIGINT are received by traced: while a `ShutdownSignal`
/// waits, the first one resolves every waiting `ShutdownSignal` (and those made later, which
/// resolve at once). A signal that comes while none waits, and any signal after the first, ends
/// the process as it would have without traced, so a second Ctrl-C still stops a shutdown that
/// hangs. On Windows, Ctrl-C and Ctrl-Break; on other platforms the future never resolves.
///
/// Never panics: when the handlers cannot be installed (the process cannot start a thread),
/// that is said once on stderr and the future never resolves, leaving the signals as they were.
pub fn shutdown_signal() -> ShutdownSignal {
    let listener = listening().then(shared);
    let inner: Pin<Box<dyn Future<Output = ()> + Send>> = match listener {
        Some(listener) => {
            let mut receiver = listener.received.subscribe();
            Box::pin(async move {
                // The sender lives in a static: it is never dropped, so this waits until a
                // signal comes.
                let _ = receiver.wait_for(Option::is_some).await;
            })
        }
        None => Box::pin(std::future::pending()),
    };
    ShutdownSignal { inner, listener }
}

/// The future of [`shutdown_signal`]: resolves on SIGTERM or SIGINT. `Send` and `'static`, as
/// `axum::serve(..).with_graceful_shutdown(..)` wants.
#[must_use = "a ShutdownSignal does nothing unless awaited (or `wait`ed)"]
pub struct ShutdownSignal {
    /// Holds a receiver of [`Shared::received`]: counted as waiting until dropped.
    inner: Pin<Box<dyn Future<Output = ()> + Send>>,
    listener: Option<&'static Shared>,
}

impl ShutdownSignal {
    /// Blocks the current thread until SIGTERM or SIGINT: for a `main` without async. Do not
    /// call it on an async runtime's thread (await the future there).
    pub fn wait(self) {
        let Some(listener) = self.listener else {
            loop {
                thread::park();
            }
        };
        let mut stopped = listener
            .stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while !*stopped {
            stopped = listener
                .stopped_changed
                .wait(stopped)
                .unwrap_or_else(PoisonError::into_inner);
        }
        // `self`, and with it the receiver that counted as waiting, drops only now.
    }
}

impl Future for ShutdownSignal {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.as_mut().poll(cx)
    }
}

impl fmt::Debug for ShutdownSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let received = self
            .listener
            .and_then(|listener| *listener.received.borrow())
            .map(Signal::name);
        f.debug_struct("ShutdownSignal")
            .field("listening", &self.listener.is_some())
            .field("received", &received)
            .finish()
    }
}

#[cfg(unix)]
mod platform {
    use std::task::Poll;

    use tokio::signal::unix::{signal, SignalKind};

    use super::Signal;

    /// SIGTERM and SIGINT, received on the `traced-signals` runtime.
    pub(super) struct Signals {
        terminate: tokio::signal::unix::Signal,
        interrupt: tokio::signal::unix::Signal,
    }

    impl Signals {
        pub(super) fn install() -> std::io::Result<Signals> {
            Ok(Signals {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }

        /// The next one (a stream that ended, which tokio never does, is skipped).
        pub(super) async fn next(&mut self) -> Signal {
            std::future::poll_fn(|cx| {
                if let Poll::Ready(Some(())) = self.terminate.poll_recv(cx) {
                    return Poll::Ready(Signal::Terminate);
                }
                if let Poll::Ready(Some(())) = self.interrupt.poll_recv(cx) {
                    return Poll::Ready(Signal::Interrupt);
                }
                Poll::Pending
            })
            .await
        }
    }

    /// Ends the process by `signal`, as it would have ended without a handler.
    pub(super) fn default_action(signal: Signal) -> ! {
        let number = match signal {
            Signal::Terminate => libc::SIGTERM,
            Signal::Interrupt => libc::SIGINT,
        };
        // SAFETY: restoring the default disposition of a signal and sending it to this process
        // are async-signal-safe calls with valid arguments; this runs on an ordinary thread.
        unsafe {
            libc::signal(number, libc::SIG_DFL);
            libc::kill(libc::getpid(), number);
        }
        // The signal is blocked somewhere: end as a shell would report it.
        std::process::exit(128 + number)
    }
}

#[cfg(windows)]
mod platform {
    use std::task::Poll;

    use super::Signal;

    /// Ctrl-C and Ctrl-Break, received on the `traced-signals` runtime.
    pub(super) struct Signals {
        ctrl_c: tokio::signal::windows::CtrlC,
        ctrl_break: tokio::signal::windows::CtrlBreak,
    }

    impl Signals {
        pub(super) fn install() -> std::io::Result<Signals> {
            Ok(Signals {
                ctrl_c: tokio::signal::windows::ctrl_c()?,
                ctrl_break: tokio::signal::windows::ctrl_break()?,
            })
        }

        /// The next one.
        pub(super) async fn next(&mut self) -> Signal {
            std::future::poll_fn(|cx| {
                if let Poll::Ready(Some(())) = self.ctrl_c.poll_recv(cx) {
                    return Poll::Ready(Signal::Interrupt);
                }
                if let Poll::Ready(Some(())) = self.ctrl_break.poll_recv(cx) {
                    return Poll::Ready(Signal::Interrupt);
                }
                Poll::Pending
            })
            .await
        }
    }

    /// Ends the process with the status of a process stopped by Ctrl-C.
    pub(super) fn default_action(_: Signal) -> ! {
        // STATUS_CONTROL_C_EXIT
        std::process::exit(0xC000_013A_u32 as i32)
    }
}

#[cfg(not(any(unix, windows)))]
mod platform {
    use super::Signal;

    /// No signals here: nothing is ever received.
    pub(super) struct Signals;

    impl Signals {
        pub(super) fn install() -> std::io::Result<Signals> {
            Ok(Signals)
        }

        pub(super) async fn next(&mut self) -> Signal {
            std::future::pending().await
        }
    }

    pub(super) fn default_action(_: Signal) -> ! {
        std::process::exit(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_future_is_what_graceful_shutdown_takes() {
        fn graceful<F: Future<Output = ()> + Send + 'static>(_: F) {}
        graceful(shutdown_signal());
    }

    #[test]
    fn it_waits_until_a_signal_and_debug_says_so() {
        let mut signal = shutdown_signal();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(Pin::new(&mut signal).poll(&mut cx).is_pending());
        assert_eq!(
            format!("{signal:?}"),
            "ShutdownSignal { listening: true, received: None }"
        );
    }
}
