//! Structured logs on standard error (standard output stays clean for what commands print).
//!
//! No secret reaches a log line: the access log names route templates, not paths (see
//! `http::middleware`), and nothing twilight-http (or its rate limiter) says about a request path is
//! logged, since for interaction webhooks the path holds the interaction token
//! (`webhooks/{application}/{token}/messages/@original`): their spans (`request`, `response`, with a
//! `path` field) are dropped, and so are their events that carry a `path` field (`new queue`,
//! `permitted`). Their other events still log, without those spans.

use anyhow::Context;
use tracing::Metadata;
use tracing_subscriber::{
    EnvFilter, Layer, filter::FilterFn, fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::settings::{LogFormat, Settings};

/// Whether a span or event may be logged at all, whatever the filter says. Checked once per call site
/// (targets and field names are static), so it costs nothing per event.
fn loggable(metadata: &Metadata<'_>) -> bool {
    let twilight = metadata.target().starts_with("twilight_http");
    !(twilight && (metadata.is_span() || metadata.fields().field("path").is_some()))
}

/// The process's subscriber, writing to `writer`.
fn subscriber<W>(filter: EnvFilter, format: LogFormat, writer: W) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let output = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(writer)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().with_ansi(false).with_writer(writer).boxed(),
    };
    tracing_subscriber::registry().with(FilterFn::new(loggable)).with(filter).with(output)
}

pub fn init(settings: &Settings) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&settings.log).with_context(|| format!("invalid log filter {:?}", settings.log))?;
    // `try_init` also routes the `log` crate's records here, when tracing-subscriber can.
    subscriber(filter, settings.log_format, std::io::stderr)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;

        fn make_writer(&'w self) -> Buffer {
            self.clone()
        }
    }

    #[test]
    fn twilight_request_spans_never_reach_the_log() {
        for format in [LogFormat::Text, LogFormat::Json] {
            let buffer = Buffer::default();
            let filter = EnvFilter::try_new("trace").expect("filter");
            tracing::subscriber::with_default(subscriber(filter, format, buffer.clone()), || {
                let outer = tracing::info_span!("request", route = "/api/edit/smart-edit/ephemeral");
                let _outer = outer.enter();
                // What twilight-http 0.18 opens around each request (client/mod.rs), by its target.
                let span = tracing::info_span!(
                    target: "twilight_http::client",
                    "request",
                    method = "PATCH",
                    path = "webhooks/1/aW50ZXJhY3Rpb246c2VjcmV0/messages/@original"
                );
                let _entered = span.enter();
                tracing::info!(target: "twilight_http::response::future", "rate limited; retrying");
                // And what its rate limiter (twilight-http-ratelimiting 0.18, actor.rs) says.
                tracing::debug!(
                    target: "twilight_http_ratelimiting::actor",
                    method = "PATCH",
                    path = "webhooks/1/aW50ZXJhY3Rpb246c2VjcmV0/messages/@original",
                    "permitted"
                );
                let response = tracing::info_span!(
                    target: "twilight_http_ratelimiting::actor",
                    "response",
                    path = "webhooks/1/aW50ZXJhY3Rpb246c2VjcmV0/messages/@original"
                );
                response.in_scope(|| tracing::info!(target: "twilight_http_ratelimiting::actor", "exhausted"));
            });
            let logged = String::from_utf8(buffer.0.lock().expect("buffer").clone()).expect("UTF-8");
            assert!(logged.contains("rate limited; retrying"), "twilight's events still log: {logged}");
            assert!(logged.contains("exhausted"), "the rate limiter's events without a path too: {logged}");
            assert!(logged.contains("/api/edit/smart-edit/ephemeral"), "Garrison's own span stays: {logged}");
            assert!(!logged.contains("aW50ZXJhY3Rpb246c2VjcmV0"), "the interaction token was logged: {logged}");
        }
    }
}
