#![doc = include_str!("../README.md")]

mod address;

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

pub use address::is_public;
use bytes::Bytes;
use reqwest::{
    Url,
    dns::{Addrs, Name, Resolve, Resolving},
    redirect,
};

/// Why a URL was not fetched. Messages name the rule that refused it and never echo credentials
/// a URL may carry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL breaks the policy: not HTTPS, a host off the allow-list, a non-public address, too
    /// many redirects. The caller's fault: a 400.
    #[error("{0}")]
    Refused(String),
    /// The body is larger than the policy allows.
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The remote host answered with an error status.
    #[error("the image host answered {status}")]
    Status { status: u16 },
    /// The remote host did not answer in time.
    #[error("the image host did not answer within {seconds} s")]
    Timeout { seconds: u64 },
    /// Connecting or reading failed.
    #[error("the image could not be fetched: {0}")]
    Network(String),
}

impl FetchError {
    /// Whether the caller's URL is to blame (refused by the policy, or a file over the size cap),
    /// rather than the remote host.
    pub fn is_callers_fault(&self) -> bool {
        matches!(self, Self::Refused(_) | Self::TooLarge { .. })
    }
}

/// The longest `ETag` or `Last-Modified` value kept; longer ones are ignored (an origin cannot make
/// Garrison hold or send back large headers).
const MAX_VALIDATOR_BYTES: usize = 256;

/// What an origin said about the version it sent, to ask later whether that version is still
/// current (header values as sent, validated as header text when they go out again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` header.
    pub etag: Option<String>,
    /// The `Last-Modified` header.
    pub last_modified: Option<String>,
}

impl Validators {
    /// Whether there is anything to revalidate with.
    pub fn any(&self) -> bool {
        self.etag.is_some() || self.last_modified.is_some()
    }
}

/// A fetched body and its origin's validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub validators: Validators,
}

/// What a conditional fetch ([`SafeFetcher::fetch_unless`]) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revalidated {
    /// The version the validators describe is still current.
    NotModified,
    /// A body: the first, or a newer version.
    Modified(Fetched),
}

/// What may be fetched, and how much.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Hosts that may be fetched from, compared without regard to case (exact names, no wildcards).
    /// Ignored when `any_public_host` is set.
    pub allowed_hosts: Vec<String>,
    /// Any host at all, on port 443 only, still under every address rule (public addresses after
    /// DNS, on every redirect): for files whose host the specification does not restrict (role icons,
    /// transcript media).
    pub any_public_host: bool,
    /// The largest body accepted, in bytes.
    pub max_bytes: u64,
    /// Time for the whole fetch, redirects and body included.
    pub timeout: Duration,
    /// Redirects followed, each checked like the first URL.
    pub max_redirects: usize,
    /// For tests only: also allow plain HTTP and loopback addresses, so a test can serve images from
    /// `127.0.0.1`. Private, link-local and other non-public addresses stay refused.
    pub allow_loopback_for_tests: bool,
    /// Idle connections kept per host, for the next request to it; `None`: 1 with any public host
    /// (idle connections are open files, and such a fetcher may meet many hosts), 8 otherwise.
    pub max_idle_per_host: Option<usize>,
}

/// No host allowed (name some in `allowed_hosts`, or use [`FetchPolicy::any_public_host`]), 8 MiB,
/// 10 s, 3 redirects, no loopback.
impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            any_public_host: false,
            max_bytes: 8 * 1024 * 1024,
            timeout: Duration::from_secs(10),
            max_redirects: 3,
            allow_loopback_for_tests: false,
            max_idle_per_host: None,
        }
    }
}

impl FetchPolicy {
    /// Any public HTTPS host on port 443 (see [`FetchPolicy::any_public_host`]), with the default
    /// size, time and redirect caps.
    pub fn any_public_host() -> Self {
        Self { allowed_hosts: Vec::new(), any_public_host: true, ..Self::default() }
    }

    fn address_allowed(&self, ip: IpAddr) -> bool {
        // Loopback as the test switch means it: 127/8 and ::1, never an IPv4 address embedded in IPv6.
        is_public(ip) || (self.allow_loopback_for_tests && ip.is_loopback())
    }

    /// Checks a URL before any connection: scheme, host on the allow-list, and an IP-literal host's
    /// address (a name's addresses are checked after DNS, by the resolver).
    fn check(&self, url: &Url) -> Result<(), FetchError> {
        let plain_http_allowed = self.allow_loopback_for_tests && url.scheme() == "http";
        if url.scheme() != "https" && !plain_http_allowed {
            return Err(FetchError::Refused(format!("only https URLs are fetched, not {}", url.scheme())));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::Refused("URLs with credentials are not fetched".into()));
        }
        let Some(host) = url.host_str() else {
            return Err(FetchError::Refused("the URL has no host".into()));
        };
        // `[::1]` in a URL is the host `::1`; `name.` is the name `name`.
        let host = host.to_ascii_lowercase();
        let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.');
        if !self.any_public_host && !self.allowed_hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host)) {
            return Err(FetchError::Refused(format!(
                "host {host} is not allowed; allowed hosts: {}",
                self.allowed_hosts.join(", ")
            )));
        }
        // IP-literal hosts never reach the resolver: check their address here.
        let literal = host.parse::<IpAddr>().ok();
        if let Some(ip) = literal.filter(|ip| !self.address_allowed(*ip)) {
            return Err(FetchError::Refused(format!("address {ip} is not public")));
        }
        // Any host, but only its HTTPS port: no user-chosen port on someone else's machine. Tests
        // (loopback only) may use any port of a loopback literal.
        let test_loopback = self.allow_loopback_for_tests && literal.is_some_and(|ip| ip.is_loopback());
        if self.any_public_host && !test_loopback && url.port_or_known_default() != Some(443) {
            return Err(FetchError::Refused("only port 443 is fetched from".into()));
        }
        Ok(())
    }
}

/// Resolves names with the system resolver and keeps only addresses the policy allows; a name with
/// none left fails. Every connection, redirects included, resolves through here, so a name that
/// points at a private address is refused however the request got to it.
struct PublicOnlyResolver {
    policy: Arc<FetchPolicy>,
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved.into_iter().filter(|a| policy.address_allowed(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(NonPublic(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// A body being fetched (see [`SafeFetcher::open`]).
#[derive(Debug)]
pub struct Download {
    response: reqwest::Response,
    limit: u64,
    received: u64,
    content_type: Option<String>,
    fetcher: SafeFetcher,
}

impl Download {
    /// The content type the server named, if any (a hint only: what the bytes are is decided by
    /// looking at them).
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The next chunk, `None` at the end; `TooLarge` as soon as the body passes the limit.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, FetchError> {
        let Some(chunk) = self.response.chunk().await.map_err(|e| self.fetcher.classify(&e))? else {
            return Ok(None);
        };
        self.received += chunk.len() as u64;
        if self.received > self.limit {
            return Err(FetchError::TooLarge { limit: self.limit });
        }
        Ok(Some(chunk))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0} does not resolve to a public address")]
struct NonPublic(String);

/// Fetches user-supplied URLs under a [`FetchPolicy`]. Cheap to clone; one connection pool.
#[derive(Debug, Clone)]
pub struct SafeFetcher {
    client: reqwest::Client,
    policy: Arc<FetchPolicy>,
}

impl SafeFetcher {
    /// Builds the client. Needs a rustls crypto provider installed for the process (the binary
    /// installs ring's at start).
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        let policy = Arc::new(policy);
        let redirect_policy = Arc::clone(&policy);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(PublicOnlyResolver { policy: Arc::clone(&policy) }))
            .redirect(redirect::Policy::custom(move |attempt| {
                // No redirects at all: the redirect is the answer (a webhook's endpoint), not an error.
                if redirect_policy.max_redirects == 0 {
                    return attempt.stop();
                }
                if attempt.previous().len() > redirect_policy.max_redirects {
                    return attempt
                        .error(FetchError::Refused(format!("more than {} redirects", redirect_policy.max_redirects)));
                }
                match redirect_policy.check(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(refused) => attempt.error(refused),
                }
            }))
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            // Idle connections are open files: with any host allowed, keep one per host unless the policy
            // says otherwise, and only briefly, so a list of a thousand hosts does not leave a thousand
            // sockets open.
            .pool_max_idle_per_host(policy.max_idle_per_host.unwrap_or(if policy.any_public_host { 1 } else { 8 }))
            .pool_idle_timeout(if policy.any_public_host { Duration::from_secs(2) } else { Duration::from_secs(30) })
            .no_proxy()
            .user_agent(concat!("garrison/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Network(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { client, policy })
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// Whether `url` could be fetched: the policy's checks, and its host's addresses (resolved now)
    /// all allowed. For URLs kept to be used later (webhook endpoints), checked again then.
    pub async fn check_url(&self, url: &str) -> Result<(), FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::Refused(format!("not a valid URL: {e}")))?;
        self.policy.check(&url)?;
        // An IP-literal host was checked above; a name is resolved now.
        let Some(host) = url.domain() else { return Ok(()) };
        let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(|_| FetchError::Refused(format!("{host} does not resolve")))?
            .collect();
        if resolved.is_empty() || resolved.iter().any(|a| !self.policy.address_allowed(a.ip())) {
            return Err(FetchError::Refused(format!("{host} does not resolve to public addresses only")));
        }
        Ok(())
    }

    /// Posts `body` to `url` under the policy (every address rule, at connection time), with
    /// `headers`; the status and a 429's `Retry-After` in seconds. The answer's body is read, up to
    /// the policy's `max_bytes`, and dropped.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: String,
    ) -> Result<(u16, Option<u64>), FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::Refused(format!("not a valid URL: {e}")))?;
        self.policy.check(&url)?;
        let mut request = self.client.post(url).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut response = request.send().await.map_err(|e| self.classify(&e))?;
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let status = response.status().as_u16();
        // The answer's body is read (and dropped) so that the connection can carry the next request;
        // one longer than a receiver's acknowledgement has any reason to be closes it instead.
        let mut read = 0u64;
        while let Ok(Some(chunk)) = response.chunk().await {
            read = read.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
            if read > self.policy.max_bytes {
                break;
            }
        }
        Ok((status, retry_after))
    }

    /// Fetches `url` whole, refusing it before connecting when the policy says no, and stopping as
    /// soon as the body passes the size cap.
    pub async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        match self.fetch_unless(url, &Validators::default()).await? {
            Revalidated::Modified(fetched) => Ok(fetched.bytes),
            // Only an origin asked with validators may answer 304.
            Revalidated::NotModified => Err(FetchError::Status { status: 304 }),
        }
    }

    /// Fetches `url` as [`SafeFetcher::fetch`] does, unless the origin says the version `known`
    /// describes is still current (`If-None-Match` / `If-Modified-Since`; `304 Not Modified`, no body).
    /// With no validators it is a plain fetch. A fetched body comes with the validators its origin
    /// sent, to revalidate it later.
    pub async fn fetch_unless(&self, url: &str, known: &Validators) -> Result<Revalidated, FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::Refused(format!("not a valid URL: {e}")))?;
        self.policy.check(&url)?;
        let mut request = self.client.get(url);
        if let Some(etag) = known.etag.as_deref() {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = known.last_modified.as_deref() {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, date);
        }
        let mut response = request.send().await.map_err(|e| self.classify(&e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED && known.any() {
            return Ok(Revalidated::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status { status: status.as_u16() });
        }
        let validator = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty() && v.len() <= MAX_VALIDATOR_BYTES)
                .map(str::to_owned)
        };
        let validators = Validators {
            etag: validator(reqwest::header::ETAG),
            last_modified: validator(reqwest::header::LAST_MODIFIED),
        };
        let limit = self.policy.max_bytes;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge { limit });
        }
        let mut body = Vec::with_capacity(usize::try_from(response.content_length().unwrap_or(0)).unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(&e))? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Revalidated::Modified(Fetched { bytes: body, validators }))
    }

    /// Streams the body of `url` into `sink` as it arrives (at most `limit` bytes, whatever the
    /// policy's own cap), under the same URL, host, address and time checks as [`SafeFetcher::fetch`]:
    /// for large media that must not be held in memory. Returns the byte count and the content type
    /// the server named. A failing `sink` is a network error.
    pub async fn fetch_into(
        &self,
        url: &str,
        limit: u64,
        sink: &mut (dyn std::io::Write + Send),
    ) -> Result<(u64, Option<String>), FetchError> {
        let mut download = self.open(url, limit).await?;
        while let Some(chunk) = download.chunk().await? {
            sink.write_all(&chunk).map_err(|e| FetchError::Network(format!("cannot keep the download: {e}")))?;
        }
        Ok((download.received(), download.content_type().map(str::to_owned)))
    }

    /// Starts fetching `url` (same checks as [`SafeFetcher::fetch`]) and hands back the body to read
    /// chunk by chunk, at most `limit` bytes: the caller decides where the bytes go (a file written on a
    /// blocking thread, for instance) without this crate doing any disk IO.
    pub async fn open(&self, url: &str, limit: u64) -> Result<Download, FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::Refused(format!("not a valid URL: {e}")))?;
        self.policy.check(&url)?;
        let response = self.client.get(url).send().await.map_err(|e| self.classify(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status { status: status.as_u16() });
        }
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge { limit });
        }
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Download { response, limit, received: 0, content_type, fetcher: self.clone() })
    }

    /// Turns a reqwest error into ours: a refusal from the redirect policy or the resolver keeps its
    /// message; the URL (which could carry secrets in its query) is left out.
    fn classify(&self, err: &reqwest::Error) -> FetchError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(current) = source {
            if let Some(refused) = current.downcast_ref::<FetchError>() {
                return FetchError::Refused(refused.to_string());
            }
            if let Some(non_public) = current.downcast_ref::<NonPublic>() {
                return FetchError::Refused(non_public.to_string());
            }
            source = current.source();
        }
        if err.is_timeout() {
            return FetchError::Timeout { seconds: self.policy.timeout.as_secs().max(1) };
        }
        let what = if err.is_connect() { "cannot connect" } else { "request failed" };
        FetchError::Network(what.into())
    }
}
