//! A server running on its own thread with its own Tokio runtime.
//!
//! The caller needs no runtime: sync `#[test]`s and `#[tokio::test]`s (of either flavour)
//! use the fakes the same way. Dropping the handle stops the runtime, which closes every
//! listener and every open connection, and joins the thread.

use std::future::Future;
use std::io;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// Owns the server thread; stops and joins it on drop.
#[derive(Debug)]
pub(crate) struct Background {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Runs `setup` (binding sockets, which needs the runtime) on a new thread, hands its
/// result back to the caller, then drives the returned server future until stopped.
pub(crate) fn spawn<T, F, Fut, Run>(
    name: &str,
    worker_threads: usize,
    setup: F,
) -> io::Result<(T, Background)>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = io::Result<(T, Run)>>,
    Run: Future<Output = ()>,
{
    let (ready_tx, ready_rx) = mpsc::channel::<io::Result<T>>();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let runtime = if worker_threads == 0 {
                tokio::runtime::Builder::new_current_thread().enable_all().build()
            } else {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(worker_threads)
                    .thread_name("inroad-testkit-worker")
                    .enable_all()
                    .build()
            };
            let runtime = match runtime {
                Ok(runtime) => runtime,
                Err(err) => {
                    let _ = ready_tx.send(Err(err));
                    return;
                }
            };
            runtime.block_on(async move {
                match setup().await {
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                    }
                    Ok((info, run)) => {
                        let _ = ready_tx.send(Ok(info));
                        tokio::select! {
                            _ = run => {}
                            _ = stop_rx => {}
                        }
                    }
                }
            });
            // Dropping the runtime cancels every task: listeners and sessions close here.
            drop(runtime);
        })?;
    let background = Background {
        stop: Some(stop_tx),
        thread: Some(thread),
    };
    match ready_rx.recv() {
        Ok(Ok(info)) => Ok((info, background)),
        Ok(Err(err)) => Err(err),
        Err(_) => Err(io::Error::other("server thread exited before it was ready")),
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
