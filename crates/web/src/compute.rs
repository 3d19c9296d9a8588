//! Heavy computations off the async executor: run on Tokio's blocking pool, stopped at a
//! deadline or when the request that asked for them goes away.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Why a computation gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unfinished {
    /// It ran past its deadline and was told to stop.
    Deadline(Duration),
    /// The blocking task panicked (a bug; the panic is logged by Tokio).
    Failed,
}

/// Raises the stop flag when dropped: when the request's future is dropped because its client
/// disconnected, the computation it started is told to stop too.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs `work` on the blocking pool with a stop flag it should check, and waits at most
/// `deadline` for it.
pub(crate) async fn off_executor<T: Send + 'static>(
    deadline: Duration,
    work: impl FnOnce(&AtomicBool) -> T + Send + 'static,
) -> Result<T, Unfinished> {
    let stop = Arc::new(AtomicBool::new(false));
    let guard = StopOnDrop(stop.clone());
    let job = tokio::task::spawn_blocking(move || work(&stop));
    let outcome = match tokio::time::timeout(deadline, job).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err(Unfinished::Failed),
        Err(_) => Err(Unfinished::Deadline(deadline)),
    };
    drop(guard);
    outcome
}
