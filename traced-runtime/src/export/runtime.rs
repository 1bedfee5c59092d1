//! The small tokio runtime, on a thread of its own, that every export runs on.
//!
//! Why: the SDK's `BatchSpanProcessor` exports from a plain thread with `futures_executor`,
//! but tonic and hyper need a tokio reactor ("there is no reactor running", after which the
//! export thread is dead and every later span silently dropped); and flushing through the
//! application's own runtime deadlocks on a current-thread runtime, or fails once it has
//! stopped. An export is therefore spawned onto this runtime, and its `JoinHandle`, which any
//! executor can await, is what the processor waits for. The program's own runtime, if any, is
//! never involved: a plain `fn main`, both tokio flavours, and code running after the
//! application's runtime stopped all behave the same.

use std::sync::mpsc;
use std::thread;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::error::Error;

/// The export runtime: stopped (its pending tasks cancelled) when dropped.
#[derive(Debug)]
pub(crate) struct ExportRuntime {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
}

impl ExportRuntime {
    /// Starts the runtime on a new thread named `traced-export`.
    pub(crate) fn start() -> Result<ExportRuntime, Error> {
        let (handle_tx, handle_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        thread::Builder::new()
            .name("traced-export".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .thread_name("traced-export")
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = handle_tx.send(Err(error));
                        return;
                    }
                };
                let _ = handle_tx.send(Ok(runtime.handle().clone()));
                // Runs the spawned exports until told to stop (or the owner is gone).
                runtime.block_on(async {
                    let _ = stop_rx.await;
                });
                // Cancels what is left without waiting: the guard already waited as long as
                // it was allowed to.
                runtime.shutdown_background();
            })
            .map_err(Error::Runtime)?;
        let handle = match handle_rx.recv() {
            Ok(Ok(handle)) => handle,
            Ok(Err(error)) => return Err(Error::Runtime(error)),
            Err(_) => {
                return Err(Error::Runtime(std::io::Error::other(
                    "the export thread exited before starting its runtime",
                )))
            }
        };
        Ok(ExportRuntime {
            handle,
            stop: Some(stop_tx),
        })
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for ExportRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
