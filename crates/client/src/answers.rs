//! Small answer envelopes several routes share.

use serde::Deserialize;

/// `{"success": true, "message": "..."}`, and the moderation routes' `{"message": "..."}`.
#[derive(Deserialize)]
pub(crate) struct Message {
    pub(crate) message: String,
}
