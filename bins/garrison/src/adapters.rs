//! The binary's own adapters of core's ports: the ones that need its runtime or its other crates
//! (tokio's blocking pool, ...). Constructed only in `wiring.rs`.

use garrison_core::{
    StoreError,
    threads::{BlockingThreads, ThreadFuture},
};

/// Blocking work on tokio's blocking pool (the one actix's `web::block` uses).
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioBlockingThreads;

impl BlockingThreads for TokioBlockingThreads {
    fn spawn(&self, work: Box<dyn FnOnce() + Send + 'static>) -> ThreadFuture<'_> {
        Box::pin(
            async move { tokio::task::spawn_blocking(work).await.map_err(|e| StoreError::Unavailable(e.to_string())) },
        )
    }
}
