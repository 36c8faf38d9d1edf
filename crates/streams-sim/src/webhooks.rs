//! Sending Twitch EventSub messages to their callbacks: each message in its own task on the server's
//! actix system, through one HTTP client, its outcome written back into the simulated Twitch (a
//! verified subscription becomes `enabled`) and into the record of deliveries.
//!
//! Twitch retries a notification its callback did not take (no 2xx answer) a few times, with back-off
//! (<https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#processing-an-event>); the simulator
//! retries once, after [`RETRY_DELAY`], with the same message id and `Twitch-Eventsub-Message-Retry: 1`
//! (and a new timestamp, so a new signature). Verifications and revocations are sent once. Plain HTTP
//! only: the client has no TLS, so an `https` callback's messages fail and are recorded as failed.

use std::sync::Arc;
use std::time::Duration;

use crate::eventsub::{EventSub, Message, MessageType};
use crate::server::Shared;

/// How long a callback has to answer a message.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// The pause before the retry of a notification that failed.
pub(crate) const RETRY_DELAY: Duration = Duration::from_millis(200);

/// The client messages are sent with: no proxy, no redirects, no kept connections (each message on a
/// connection of its own, as Twitch's arrive).
pub(crate) fn client() -> Result<reqwest::Client, String> {
    // The workspace's reqwest speaks TLS through rustls with a provider the process chooses; a
    // simulator started before its test chose one picks ring (what the rest of the workspace uses).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(ANSWER_TIMEOUT)
        .connect_timeout(ANSWER_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| format!("cannot build the EventSub webhook client: {e}"))
}

/// Sends every message waiting in the outbox, each in a task of its own.
pub(crate) fn send_outbox(shared: &Arc<Shared>) {
    for message in shared.eventsub(EventSub::take_outbox) {
        if !shared.spawn(deliver(Arc::clone(shared), message)) {
            shared.eventsub(EventSub::finished);
        }
    }
}

/// Sends a message (and retries a failed notification once), records each attempt, and ends a
/// verification.
async fn deliver(shared: Arc<Shared>, message: Message) {
    let answer = post(shared.client(), &message).await;
    let passed = is_success(&answer);
    if message.message_type == MessageType::Verification {
        let echoed = matches!((&answer, &message.challenge), (Ok((_, body)), Some(challenge)) if body == challenge);
        shared.eventsub(|eventsub| {
            eventsub.record(&message, status_of(&answer));
            eventsub.verified(&message.subscription_id, passed && echoed);
        });
    } else {
        shared.eventsub(|eventsub| eventsub.record(&message, status_of(&answer)));
    }
    if message.message_type == MessageType::Notification && !passed {
        actix_web::rt::time::sleep(RETRY_DELAY).await;
        let retry = message.retried();
        let answer = post(shared.client(), &retry).await;
        shared.eventsub(|eventsub| eventsub.record(&retry, status_of(&answer)));
    }
    shared.eventsub(EventSub::finished);
}

/// Sends the last notification again exactly as first sent (id, headers, timestamp, signature, body),
/// records the attempt, and answers the status the callback answered.
pub(crate) async fn replay_last(shared: Arc<Shared>) -> Result<u16, String> {
    let message = shared
        .eventsub(|eventsub| eventsub.last_notification())
        .ok_or_else(|| "no notification was sent yet".to_owned())?;
    let answer = status_of(&post(shared.client(), &message).await);
    shared.eventsub(|eventsub| eventsub.record(&message, answer.clone()));
    answer
}

/// Posts a message to its callback: the status and body of the answer, or why none came.
async fn post(client: &reqwest::Client, message: &Message) -> Result<(u16, String), String> {
    let mut request = client.post(&message.callback).body(message.body.clone());
    for (name, value) in message.headers() {
        request = request.header(name, value);
    }
    let response = request.send().await.map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| describe(&e))?;
    Ok((status, body))
}

fn is_success(answer: &Result<(u16, String), String>) -> bool {
    answer.as_ref().is_ok_and(|(status, _)| (200..300).contains(status))
}

fn status_of(answer: &Result<(u16, String), String>) -> Result<u16, String> {
    answer.as_ref().map(|(status, _)| *status).map_err(Clone::clone)
}

/// An error and its causes, `outer: inner: ...`.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
