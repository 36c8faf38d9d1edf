//! The binary's own adapters of core's ports: the ones that need its runtime or its other crates
//! (tokio's blocking pool, the safe fetcher, ...). Constructed only in `wiring.rs`.

use garrison_core::{
    StoreError,
    discord::looks::{IconFetchError, IconFuture, IconSource},
    entropy::{Entropy, EntropyError},
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

/// Role icons from the safe fetcher (any public HTTPS host on port 443), proven images by decoding
/// them under garrison-render's limits.
#[derive(Debug, Clone)]
pub struct FetchedIcons(pub garrison_fetch::SafeFetcher);

impl IconSource for FetchedIcons {
    fn fetch<'a>(&'a self, url: &'a str) -> IconFuture<'a> {
        Box::pin(async move {
            self.0.fetch(url).await.map_err(|e| match e {
                garrison_fetch::FetchError::Refused(_) | garrison_fetch::FetchError::TooLarge { .. } => {
                    IconFetchError::Refused(e.to_string())
                }
                other => IconFetchError::Unavailable(other.to_string()),
            })
        })
    }

    fn decodes(&self, bytes: &[u8]) -> Result<(), String> {
        garrison_render::decode_image(bytes, &garrison_render::DecodeLimits::default())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Random bytes from the operating system's source.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, bytes: &mut [u8]) -> Result<(), EntropyError> {
        getrandom::fill(bytes).map_err(|e| EntropyError(e.to_string()))
    }
}
