//! Blocking work from async use cases: the storage ports are synchronous (diesel blocks), so an async
//! service hands their calls to [`BlockingThreads`], which the binary runs on its runtime's blocking
//! pool. Core stays without a runtime; tests run the work inline.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
};

use crate::StoreError;

/// A boxed future of [`BlockingThreads::spawn`].
pub type ThreadFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

/// Somewhere to run synchronous work that may block without holding up async tasks.
pub trait BlockingThreads: Send + Sync {
    /// Runs `work` to its end on a thread that may block; `Unavailable` when it could not run (the
    /// pool is shutting down) or did not finish (it panicked).
    fn spawn(&self, work: Box<dyn FnOnce() + Send + 'static>) -> ThreadFuture<'_>;
}

/// Runs `work` through `threads` and hands back its answer.
pub async fn run_blocking<T: Send + 'static>(
    threads: &dyn BlockingThreads,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    let slot = Arc::new(Mutex::new(None));
    let filled = Arc::clone(&slot);
    threads
        .spawn(Box::new(move || {
            let answer = work();
            *filled.lock().unwrap_or_else(PoisonError::into_inner) = Some(answer);
        }))
        .await?;
    let answer = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    answer.ok_or_else(|| StoreError::Unavailable("blocking work ended without an answer".into()))
}

/// Runs the work on the calling thread, at once (for tests and tools without a runtime).
#[derive(Debug, Default, Clone, Copy)]
pub struct InlineThreads;

impl BlockingThreads for InlineThreads {
    fn spawn(&self, work: Box<dyn FnOnce() + Send + 'static>) -> ThreadFuture<'_> {
        work();
        Box::pin(std::future::ready(Ok(())))
    }
}
