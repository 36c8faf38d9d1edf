//! The binary's own adapters of core's ports: the ones that need its runtime or its other crates
//! (tokio's blocking pool, the safe fetcher, temporary files, ...). Constructed only in `wiring.rs`.

pub mod page_message;
pub mod transcripts;

use garrison_core::{
    StoreError,
    cards::{FetchedImage, ImageFetchError, ImageFuture, ImageSource, Revalidated, Validators},
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
            self.0.fetch(url).await.map_err(|e| {
                if e.is_callers_fault() {
                    IconFetchError::Refused(e.to_string())
                } else {
                    IconFetchError::Unavailable(e.to_string())
                }
            })
        })
    }

    fn decodes(&self, bytes: &[u8]) -> Result<(), String> {
        garrison_render::decode_image(bytes, &garrison_render::DecodeLimits::default())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Card images from the safe fetcher (HTTPS, the allowed hosts, public addresses), asked
/// conditionally with the validators of the copy the studio keeps.
#[derive(Debug, Clone)]
pub struct FetchedImages(pub garrison_fetch::SafeFetcher);

impl ImageSource for FetchedImages {
    fn fetch_unless<'a>(&'a self, url: &'a str, known: &'a Validators) -> ImageFuture<'a> {
        Box::pin(async move {
            let known =
                garrison_fetch::Validators { etag: known.etag.clone(), last_modified: known.last_modified.clone() };
            match self.0.fetch_unless(url, &known).await {
                Ok(garrison_fetch::Revalidated::NotModified) => Ok(Revalidated::NotModified),
                Ok(garrison_fetch::Revalidated::Modified(fetched)) => Ok(Revalidated::Modified(FetchedImage {
                    bytes: fetched.bytes,
                    validators: Validators {
                        etag: fetched.validators.etag,
                        last_modified: fetched.validators.last_modified,
                    },
                })),
                Err(e) if e.is_callers_fault() => Err(ImageFetchError::Refused(e.to_string())),
                Err(e) => Err(ImageFetchError::Unavailable(e.to_string())),
            }
        })
    }

    fn allowed_hosts(&self) -> &[String] {
        &self.0.policy().allowed_hosts
    }

    fn max_bytes(&self) -> u64 {
        self.0.policy().max_bytes
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

/// Webhook deliveries through the safe fetcher: HTTPS to public addresses on port 443, checked when
/// an endpoint is registered and again at every delivery; redirects are answers, never followed.
#[derive(Debug, Clone)]
pub struct FetchedWebhooks(pub garrison_fetch::SafeFetcher);

impl garrison_core::webhooks::WebhookTransport for FetchedWebhooks {
    fn check<'a>(&'a self, url: &'a str) -> garrison_core::webhooks::TransportFuture<'a, Result<(), String>> {
        Box::pin(async move { self.0.check_url(url).await.map_err(|e| e.to_string()) })
    }

    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> garrison_core::webhooks::TransportFuture<'a, (garrison_core::webhooks::Answer, i64)> {
        use garrison_core::webhooks::Answer;
        Box::pin(async move {
            let started = std::time::Instant::now();
            let answer = match self.0.post(url, &headers, body).await {
                Ok((code, retry_after_secs)) => Answer::Status { code, retry_after_secs },
                Err(e) if e.is_callers_fault() => Answer::Refused(e.to_string()),
                // The fetcher's own words are about images; a delivery's log speaks of the endpoint.
                Err(garrison_fetch::FetchError::Timeout { seconds }) => {
                    Answer::NoAnswer(format!("the endpoint did not answer within {seconds} s"))
                }
                Err(garrison_fetch::FetchError::Network(why)) => {
                    Answer::NoAnswer(format!("the endpoint could not be reached: {why}"))
                }
                Err(e) => Answer::NoAnswer(e.to_string()),
            };
            (answer, i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX))
        })
    }
}
