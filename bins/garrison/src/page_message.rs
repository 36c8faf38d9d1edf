//! Core's typed Discord messages as the transcript page reads them.

use garrison_core::discord::{Message, User};

/// A message for `garrison_pages::TranscriptWriter::message`.
pub fn of(message: &Message) -> serde_json::Value {
    serde_json::to_value(message).unwrap_or_default()
}

/// A user for `garrison_pages::avatar_url`.
pub fn user(user: &User) -> serde_json::Value {
    serde_json::to_value(user).unwrap_or_default()
}
