//! A fixed set of threads for card work (decoding images, drawing, encoding), one per render slot.
//!
//! Why not tokio's blocking pool: that pool grows a new thread whenever all of its threads are busy
//! and keeps idle ones for a while, so card work lands on ever-changing threads, and glibc's malloc
//! gives each of them its own arena. Every arena then keeps its own high-water mark of multi-megabyte
//! canvases and decoded images: cold cards from 8 clients peaked at 128 MB of RSS that way against
//! 63 MB with the allocator held to two arenas (docs/benchmarks.md). On a few long-lived threads the
//! same buffers are reused by the same arenas. CPU-bound work also has no business occupying
//! threads meant for blocking IO.

use std::sync::{
    Mutex, PoisonError,
    mpsc::{Receiver, SyncSender, TrySendError, sync_channel},
};

type Job = Box<dyn FnOnce() + Send>;

/// Why a job did not run to completion.
#[derive(Debug, thiserror::Error)]
pub enum RenderThreadError {
    /// Every queue place is taken; the caller's own budget should make this unreachable.
    #[error("the render threads' queue is full")]
    Full,
    /// The job panicked (a bug), or the threads are gone.
    #[error("card work failed: {0}")]
    Failed(String),
}

/// The threads and their bounded queue. Cheap to clone; the threads end when the last clone is
/// dropped and the queue is empty.
#[derive(Debug, Clone)]
pub struct RenderThreads {
    jobs: SyncSender<Job>,
}

impl RenderThreads {
    /// `threads` threads (at least one), named `garrison-render-N`, and a queue of `queue` jobs.
    pub fn start(threads: usize, queue: usize) -> std::io::Result<Self> {
        let (jobs, receiver) = sync_channel::<Job>(queue.max(1));
        let receiver = std::sync::Arc::new(Mutex::new(receiver));
        for n in 0..threads.max(1) {
            let receiver = std::sync::Arc::clone(&receiver);
            std::thread::Builder::new().name(format!("garrison-render-{n}")).spawn(move || work(&receiver))?;
        }
        Ok(Self { jobs })
    }

    /// Runs `job` on one of the threads and waits for its result without blocking the caller's
    /// thread.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, RenderThreadError> {
        let (answer, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            // The caller may have gone (its request was dropped): nothing to tell then.
            let _ = answer.send(outcome);
        });
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => RenderThreadError::Full,
            TrySendError::Disconnected(_) => RenderThreadError::Failed("the render threads are gone".into()),
        })?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(panic)) => Err(RenderThreadError::Failed(panic_message(panic.as_ref()))),
            Err(_) => Err(RenderThreadError::Failed("a render thread stopped".into())),
        }
    }
}

fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, never while running one.
        let job = receiver.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a job panicked".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_the_named_threads_and_panics_become_errors() {
        let threads = RenderThreads::start(2, 8).expect("threads");
        let name = threads.run(|| std::thread::current().name().map(str::to_owned)).await.expect("ran");
        assert!(name.is_some_and(|n| n.starts_with("garrison-render-")));
        let failed = threads.run(|| -> u32 { panic!("boom") }).await.expect_err("panicked");
        assert!(failed.to_string().contains("boom"), "{failed}");
        // The thread that caught the panic still works.
        let sums = futures_util::future::join_all((0..8u64).map(|n| threads.run(move || n * 2))).await;
        assert_eq!(sums.into_iter().map(|r| r.expect("ran")).sum::<u64>(), 56);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_rather_than_waits() {
        let threads = RenderThreads::start(1, 1).expect("threads");
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let busy = tokio::spawn({
            let threads = threads.clone();
            async move {
                threads
                    .run(move || {
                        let _ = started.send(());
                        let _ = hold.recv();
                    })
                    .await
            }
        });
        running.await.expect("the first job started");
        // One job waits in the queue (sent at its first poll); the next finds it full.
        let mut queued = Box::pin(threads.run(|| 1));
        assert!(futures_util::FutureExt::now_or_never(&mut queued).is_none());
        assert!(matches!(threads.run(|| 2).await, Err(RenderThreadError::Full)));
        release.send(()).expect("release");
        busy.await.expect("joined").expect("ran");
        assert_eq!(queued.await.expect("ran"), 1);
    }
}
