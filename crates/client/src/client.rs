//! The client, its builder, and [`Call`]: one request to one [`Operation`], the one path every
//! typed method goes through (URL from the route table, the API key, the retries on `Retry-After`).

use std::fmt::{self, Display};
use std::time::Duration;

use garrison_core::apikey::ApiKeySecret;
use garrison_core::discord::BotToken;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Operation, Result};

/// How the client waits out `429 Too Many Requests` and `503 Service Unavailable` answers that carry
/// `Retry-After` (in seconds). Only requests that are safe to send twice are retried: `GET`, `PUT`
/// and `DELETE`, and a `POST` that carries an `Idempotency-Key`. A wait longer than `max_wait` is not
/// made: the error is returned at once, with the server's `Retry-After`, for the caller to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2).
    pub max_retries: u32,
    /// The longest single wait (default 30 s).
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 2, max_wait: Duration::from_secs(30) }
    }
}

/// A client of one Garrison server. Cheap to clone (the connection pool is shared). Its `Debug`
/// never shows the API key.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    /// `Bearer gar_...`, marked sensitive.
    authorization: Option<HeaderValue>,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base.as_str())
            .field("api_key", &self.authorization.as_ref().map(|_| "<redacted>"))
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]: [`Client::builder`].
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    api_key: Option<ApiKeySecret>,
    http: Option<reqwest::Client>,
    timeout: Duration,
    retry: RetryPolicy,
}

impl ClientBuilder {
    /// The server's API key, sent as `Authorization: Bearer` with every operation that takes one.
    pub fn api_key(mut self, key: ApiKeySecret) -> Self {
        self.api_key = Some(key);
        self
    }

    /// A reqwest client of the caller's own (its TLS, proxy and timeout settings are then used as
    /// they are, and [`ClientBuilder::timeout`] is ignored).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The time one exchange may take, connection included (default 2 minutes: a restore waits up to
    /// a minute for its report, and a transcript of a long channel takes a while).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries after a `Retry-After` answer, at most (default 2; 0 never retries).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// The longest `Retry-After` the client waits out (default 30 s); a longer one is returned as the
    /// error.
    pub fn max_retry_wait(mut self, wait: Duration) -> Self {
        self.retry.max_wait = wait;
        self
    }

    /// The client. Without [`ClientBuilder::http_client`], a reqwest client over rustls is built;
    /// when the application has installed no rustls crypto provider, ring (the one the rest of
    /// Garrison uses) is installed as the process's default first.
    pub fn build(self) -> Result<Client> {
        let base = Url::parse(self.base_url.trim()).map_err(|error| Error::InvalidBaseUrl(error.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::InvalidBaseUrl(format!("the scheme is {:?}", base.scheme())));
        }
        let authorization = self
            .api_key
            .map(|key| {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                    .map_err(|_| Error::InvalidRequest("the API key cannot travel in a header".to_owned()))?;
                value.set_sensitive(true);
                Ok::<_, Error>(value)
            })
            .transpose()?;
        let http = match self.http {
            Some(http) => http,
            None => {
                if rustls::crypto::CryptoProvider::get_default().is_none() {
                    // Another thread may install one in between; whichever is installed serves.
                    let _ = rustls::crypto::ring::default_provider().install_default();
                }
                reqwest::Client::builder()
                    .timeout(self.timeout)
                    .user_agent(concat!("garrison-client/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|error| Error::Transport(error.without_url()))?
            }
        };
        Ok(Client { http, base, authorization, retry: self.retry })
    }
}

impl Client {
    /// A client of the server at `base_url` (`http://127.0.0.1:8080`, or a URL with a path prefix
    /// behind a proxy), without an API key and with the default retries.
    pub fn new(base_url: &str) -> Result<Self> {
        Self::builder(base_url).build()
    }

    /// A builder for a client of the server at `base_url`.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            api_key: None,
            http: None,
            timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
        }
    }

    /// The base URL requests are sent under.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// A request to any operation, for what the typed methods do not cover (or to read an answer's
    /// headers): set its path parameters, query, headers and body, then [`Call::send`] it.
    ///
    /// ```no_run
    /// # async fn run(client: &garrison_client::Client) -> garrison_client::Result<()> {
    /// use garrison_client::Operation;
    /// let guide: serde_json::Value = client.call(Operation::CardEncodingGuide).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn call(&self, operation: Operation) -> Call<'_> {
        Call {
            client: self,
            operation,
            path: Vec::new(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            idempotent: false,
            problem: None,
        }
    }
}

/// A request body.
enum Body {
    Json(Vec<u8>),
    Text(String),
}

/// One request to one [`Operation`], built from [`Client::call`]. Its `Debug` shows the names of
/// what it carries, never the values (a header may hold a token, a path a view id).
#[must_use = "a call does nothing until it is sent"]
pub struct Call<'c> {
    client: &'c Client,
    operation: Operation,
    path: Vec<(&'static str, String)>,
    query: Vec<(&'static str, String)>,
    headers: HeaderMap,
    body: Option<Body>,
    /// It carries an `Idempotency-Key`, so it may be sent again.
    idempotent: bool,
    /// The first thing that made the request unbuildable, reported by `send`.
    problem: Option<String>,
}

impl fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |pairs: &[(&'static str, String)]| pairs.iter().map(|(name, _)| *name).collect::<Vec<_>>();
        f.debug_struct("Call")
            .field("operation", &self.operation)
            .field("path", &names(&self.path))
            .field("query", &names(&self.query))
            .field("headers", &self.headers.keys().map(HeaderName::as_str).collect::<Vec<_>>())
            .field("body", &self.body.as_ref().map(|body| if matches!(body, Body::Json(_)) { "json" } else { "text" }))
            .finish_non_exhaustive()
    }
}

impl<'c> Call<'c> {
    /// Fills the path parameter `{name}` of the template (percent-encoded as one segment).
    pub fn path(mut self, name: &'static str, value: impl Display) -> Self {
        self.path.push((name, value.to_string()));
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &'static str, value: impl Display) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    pub(crate) fn query_opt(self, name: &'static str, value: Option<impl Display>) -> Self {
        match value {
            Some(value) => self.query(name, value),
            None => self,
        }
    }

    /// Adds a request header. Non-ASCII text travels as its UTF-8 bytes; the card routes want such
    /// text Base64- or URL-encoded (see `GET /api/WelcomeCard/encoding-guide`).
    pub fn header(self, name: &'static str, value: impl Display) -> Self {
        self.insert_header(name, &value.to_string(), false)
    }

    pub(crate) fn header_opt(self, name: &'static str, value: Option<impl Display>) -> Self {
        match value {
            Some(value) => self.header(name, value),
            None => self,
        }
    }

    /// Adds a header that holds a credential (an auth key, a platform key): marked sensitive, and
    /// never named with its value in an error.
    pub fn secret_header(self, name: &'static str, value: &str) -> Self {
        self.insert_header(name, value, true)
    }

    /// Sends a Discord bot token in the header this operation takes it in
    /// ([`Operation::bot_token_header`]).
    pub fn bot_token(self, token: &BotToken) -> Self {
        match self.operation.bot_token_header() {
            Some(name) => self.secret_header(name, token.expose()),
            None => {
                let problem = format!("{} takes no bot token", self.operation);
                self.refuse(problem)
            }
        }
    }

    /// Sends an `Idempotency-Key`: the server answers a repeat of the same key and body within 24
    /// hours with the first answer and changes nothing, so the client may retry the request. Only the
    /// operations that take one accept it ([`Operation::takes_idempotency_key`]).
    pub fn idempotency_key(mut self, key: &str) -> Self {
        if !self.operation.takes_idempotency_key() {
            let problem = format!("{} takes no Idempotency-Key", self.operation);
            return self.refuse(problem);
        }
        self.idempotent = true;
        self.insert_header("Idempotency-Key", key, false)
    }

    /// Sends `body` as JSON.
    pub fn json(mut self, body: &impl Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body = Some(Body::Json(bytes)),
            Err(error) => return self.refuse(format!("the body does not serialize: {error}")),
        }
        self
    }

    /// Sends `body` as `text/plain` (the modmail and `Text/stringify` routes).
    pub fn text(mut self, body: impl Into<String>) -> Self {
        self.body = Some(Body::Text(body.into()));
        self
    }

    /// Sends the request and reads the answer's JSON as `T` (`serde_json::Value` for any).
    pub async fn send<T: DeserializeOwned>(self) -> Result<T> {
        self.send_answer().await?.json()
    }

    /// Sends the request and hands back the answer as received: for the routes that answer images or
    /// HTML, and to read an answer's headers.
    pub async fn send_answer(self) -> Result<Answer> {
        if let Some(problem) = self.problem {
            return Err(Error::InvalidRequest(problem));
        }
        let url = self.url()?;
        let method = self.operation.method();
        let safe_to_repeat = self.idempotent || [Method::GET, Method::PUT, Method::DELETE].contains(&method);
        let policy = self.client.retry;
        let mut retries = 0;
        loop {
            let mut request = self.client.http.request(method.clone(), url.clone()).headers(self.headers.clone());
            if let Some(authorization) = self.client.authorization.as_ref().filter(|_| self.operation.takes_api_key()) {
                request = request.header(AUTHORIZATION, authorization.clone());
            }
            request = match &self.body {
                Some(Body::Json(bytes)) => request.header(CONTENT_TYPE, "application/json").body(bytes.clone()),
                Some(Body::Text(text)) => request.header(CONTENT_TYPE, "text/plain; charset=utf-8").body(text.clone()),
                None => request,
            };
            let response = request.send().await.map_err(|error| Error::Transport(error.without_url()))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(|error| Error::Transport(error.without_url()))?;
            if (200..300).contains(&status) {
                return Ok(Answer { status, headers, body: body.into() });
            }
            let retry_after = retry_after_secs(&headers);
            if safe_to_repeat
                && matches!(status, 429 | 503)
                && retries < policy.max_retries
                && let Some(wait) = retry_after.map(Duration::from_secs).filter(|wait| *wait <= policy.max_wait)
            {
                retries += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(Error::from_answer(status, retry_after, &body));
        }
    }

    fn refuse(mut self, problem: String) -> Self {
        self.problem.get_or_insert(problem);
        self
    }

    fn insert_header(mut self, name: &'static str, value: &str, sensitive: bool) -> Self {
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            return self.refuse(format!("{name:?} is not a header name"));
        };
        match HeaderValue::from_bytes(value.as_bytes()) {
            Ok(mut value) => {
                value.set_sensitive(sensitive);
                self.headers.insert(header, value);
                self
            }
            Err(_) => self.refuse(format!("the value of the header {name} cannot travel in a header (a line break?)")),
        }
    }

    /// The URL: the base, the template with its parameters filled in, the query.
    fn url(&self) -> Result<Url> {
        let template = self.operation.path();
        if let Some((name, _)) = self.path.iter().find(|(name, _)| !template.contains(&format!("{{{name}}}"))) {
            return Err(Error::InvalidRequest(format!("{} has no path parameter {name}", self.operation)));
        }
        let mut url = self.client.base.clone();
        {
            let mut segments =
                url.path_segments_mut().map_err(|()| Error::InvalidBaseUrl("it cannot have a path".to_owned()))?;
            segments.pop_if_empty();
            for segment in template.split('/').skip(1) {
                segments.push(&self.fill(segment)?);
            }
        }
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &self.query {
                pairs.append_pair(name, value);
            }
        }
        Ok(url)
    }

    /// One segment of the template with its `{name}` parameters replaced by their values.
    fn fill(&self, segment: &str) -> Result<String> {
        let mut filled = String::new();
        let mut rest = segment;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map_or(rest.len(), |at| open + at);
            let name = rest.get(open + 1..close).unwrap_or_default();
            let value = self.path.iter().find(|(given, _)| *given == name).map(|(_, value)| value.as_str());
            let value = value
                .ok_or_else(|| Error::InvalidRequest(format!("{} needs the path parameter {name}", self.operation)))?;
            filled.push_str(&rest[..open]);
            filled.push_str(value);
            rest = rest.get(close + 1..).unwrap_or_default();
        }
        filled.push_str(rest);
        if filled.is_empty() || filled == "." || filled == ".." {
            return Err(Error::InvalidRequest(format!("{}: a path parameter may not be {filled:?}", self.operation)));
        }
        Ok(filled)
    }
}

/// `Retry-After` in seconds, as Garrison sends it (an HTTP date is not waited for).
fn retry_after_secs(headers: &HeaderMap) -> Option<u64> {
    headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}

/// An answer as received (a 2xx; refusals are [`Error`]s). Its `Debug` shows the body's length, not
/// the body (an answer may hold a secret shown once).
#[non_exhaustive]
pub struct Answer {
    /// The status, 200 to 299.
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("content_type", &self.content_type())
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Answer {
    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The `Content-Type`, e.g. `image/png`.
    pub fn content_type(&self) -> Option<&str> {
        self.header(CONTENT_TYPE.as_str())
    }

    /// The body read as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode { status: self.status, source })
    }

    /// The body as text (an HTML page), invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        Client::new(base).expect("a valid base URL")
    }

    #[test]
    fn urls_fill_the_template_under_the_base() {
        let client = client("http://127.0.0.1:8080/garrison/");
        let call = client.call(Operation::WebhookDeliveries).path("id", "wh_1/..").query("serverId", 123);
        assert_eq!(
            call.url().expect("a URL").as_str(),
            "http://127.0.0.1:8080/garrison/api/webhooks/wh_1%2F../deliveries?serverId=123"
        );
        let missing = client.call(Operation::WebhookDeliveries).url().expect_err("no id");
        assert!(missing.to_string().contains("needs the path parameter id"), "{missing}");
        let unknown = client.call(Operation::GetXp).path("id", 1).url().expect_err("no such parameter");
        assert!(unknown.to_string().contains("has no path parameter id"), "{unknown}");
        let dots = client.call(Operation::DeleteWebhook).path("id", "..").url().expect_err("navigation");
        assert!(dots.to_string().contains("may not be"), "{dots}");
    }

    #[test]
    fn base_urls_must_be_http() {
        assert!(matches!(Client::new("ftp://example.com"), Err(Error::InvalidBaseUrl(_))));
        assert!(matches!(Client::new("example.com"), Err(Error::InvalidBaseUrl(_))));
        assert!(Client::new("https://garrison.example").is_ok());
    }

    #[test]
    fn nothing_secret_is_in_debug() {
        let key = ApiKeySecret::parse(&format!("gar_{}", "ab".repeat(32))).expect("a key");
        let client = Client::builder("http://127.0.0.1:1").api_key(key).build().expect("a client");
        let token = BotToken::new("bot-token-text").expect("a token");
        let call = client.call(Operation::Ban).bot_token(&token);
        let shown = format!("{client:?} {call:?}");
        assert!(!shown.contains("abab") && !shown.contains("bot-token-text"), "{shown}");
        assert!(shown.contains("<redacted>") && shown.contains("bot-token"), "{shown}");
    }

    #[tokio::test]
    async fn misuse_is_refused_before_sending() {
        let client = client("http://127.0.0.1:1");
        let token = BotToken::new("token").expect("a token");
        let error = client.call(Operation::GetXp).bot_token(&token).send_answer().await.expect_err("no bot token");
        assert!(matches!(&error, Error::InvalidRequest(text) if text.contains("takes no bot token")), "{error}");
        let error = client.call(Operation::AddEp).idempotency_key("k").send_answer().await.expect_err("no key");
        assert!(matches!(&error, Error::InvalidRequest(text) if text.contains("Idempotency-Key")), "{error}");
        let error = client.call(Operation::Kick).header("reason", "a\nb").send_answer().await.expect_err("newline");
        assert!(matches!(&error, Error::InvalidRequest(text) if !text.contains("a\nb")), "{error}");
    }
}
