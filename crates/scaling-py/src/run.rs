//! Long computations from Python: run the library call on its own thread with the GIL
//! released, show progress through a Python callable once the call has taken a second, and
//! return control at once on Ctrl-C (KeyboardInterrupt). An interrupted computation is
//! abandoned: its thread finishes in the background and its result is dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::prelude::*;

/// Run `work` (given a tick to call once per finished unit of `total`) off the interpreter.
///
/// `progress`, when given, is called as `progress(done, total)` every 100 ms after the first
/// second (`total` 0 when the work is not counted: the bar then shows the time taken), and
/// once more with `done == total > 0` when the work ends (for uncounted work the units done,
/// at least 1), so a bar can close.
pub fn detached<T: Send + 'static>(
    py: Python<'_>,
    total: u64,
    progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(&(dyn Fn() + Sync)) -> T + Send + 'static,
) -> PyResult<T> {
    let done = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    let counter = Arc::clone(&done);
    std::thread::Builder::new()
        .name("scaling-work".into())
        .spawn(move || {
            let tick = move || {
                counter.fetch_add(1, Ordering::Relaxed);
            };
            let _ = tx.send(work(&tick));
        })
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start: {e}")))?;
    // A Receiver is not Sync; the mutex lets the released-GIL closure borrow it.
    let rx = Mutex::new(rx);
    let start = Instant::now();
    let mut shown = false;
    loop {
        match py.detach(|| match rx.lock() {
            Ok(rx) => rx.recv_timeout(Duration::from_millis(100)),
            Err(_) => Err(mpsc::RecvTimeoutError::Disconnected),
        }) {
            Ok(result) => {
                if shown {
                    if let Some(p) = progress {
                        let end = if total > 0 {
                            total
                        } else {
                            done.load(Ordering::Relaxed).max(1)
                        };
                        p.call1((end, end))?;
                    }
                }
                return Ok(result);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                py.check_signals()?;
                if let Some(p) = progress {
                    if start.elapsed() >= Duration::from_secs(1) {
                        let d = done.load(Ordering::Relaxed);
                        p.call1((if total > 0 { d.min(total) } else { d }, total))?;
                        shown = true;
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "the computation ended without a result (an internal error: please report it)",
                ))
            }
        }
    }
}
