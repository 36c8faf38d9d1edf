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

/// A boxed future of [`WriteQueue::submit`].
pub type WriteFuture = Pin<Box<dyn Future<Output = crate::Result<()>> + Send + 'static>>;

/// Work for the store's writer: `Ok` to keep its changes, an error to give them up.
pub type WriteJob = Box<dyn FnOnce() -> crate::Result<()> + Send + 'static>;

/// Where work that changes data runs: SQLite's one writer thread (which batches commits), or a
/// blocking thread per write on PostgreSQL. Async callers await the answer without holding a thread.
pub trait WriteQueue: Send + Sync {
    /// Runs `job` as one write. The future finishes once its change is durable, with the job's own
    /// error when it failed, or `Unavailable` when the writer could not take it or the commit failed.
    fn submit(&self, job: WriteJob) -> WriteFuture;
}

/// Runs `work` on `queue`'s writer and hands back its answer once the change is durable.
pub fn run_write<T: Send + 'static>(
    queue: &dyn WriteQueue,
    work: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> impl Future<Output = crate::Result<T>> + Send + 'static {
    let slot = Arc::new(Mutex::new(None));
    let filled = Arc::clone(&slot);
    let done = queue.submit(Box::new(move || {
        let answer = work()?;
        *filled.lock().unwrap_or_else(PoisonError::into_inner) = Some(answer);
        Ok(())
    }));
    async move {
        done.await?;
        let answer = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        answer.ok_or_else(|| crate::Error::Store(StoreError::Unavailable("a write ended without an answer".into())))
    }
}

/// Runs each write on the calling thread, at once (for tests and in-memory stores).
#[derive(Debug, Default, Clone, Copy)]
pub struct InlineWrites;

impl WriteQueue for InlineWrites {
    fn submit(&self, job: WriteJob) -> WriteFuture {
        Box::pin(std::future::ready(job()))
    }
}

#[cfg(test)]
mod tests {
    use std::{
        pin::pin,
        task::{Context, Poll, Waker},
    };

    use super::*;
    use crate::Error;

    fn now<F: Future>(future: F) -> F::Output {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("these writers answer at once"),
        }
    }

    #[test]
    fn a_write_hands_back_its_answer_or_its_own_error() {
        assert_eq!(now(run_write(&InlineWrites, || Ok(7))).expect("answer"), 7);
        let err = now(run_write(&InlineWrites, || Err::<(), _>(Error::invalid("field", "wrong")))).expect_err("error");
        assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    }

    /// A writer that takes the job and then fails the commit: the caller gets the writer's error.
    struct FailingCommit;

    impl WriteQueue for FailingCommit {
        fn submit(&self, job: WriteJob) -> WriteFuture {
            let ran = job();
            Box::pin(std::future::ready(ran.and(Err(Error::Store(StoreError::Unavailable("commit failed".into()))))))
        }
    }

    #[test]
    fn a_failed_commit_is_the_answer_even_when_the_work_succeeded() {
        let err = now(run_write(&FailingCommit, || Ok(7))).expect_err("commit failed");
        assert!(matches!(err, Error::Store(StoreError::Unavailable(_))), "{err:?}");
    }
}
