//! `GET /gateway` and `GET /gateway/bot`: where the simulator's gateway listens, and a bot's
//! session start limit.

use serde_json::json;

use super::{Call, Outcome, Reply};
use crate::world::World;

/// `GET /gateway` (no token needed): `{"url"}`.
pub(super) fn get_gateway(world: &mut World, _call: &Call<'_>) -> Outcome {
    Ok(Reply::ok(json!({ "url": world.gateway_url })))
}

/// `GET /gateway/bot` (bot token): the URL, one recommended shard, and the bot's session start
/// limit (1000 a day unless a test set it; each IDENTIFY that starts a session takes one).
pub(super) fn get_gateway_bot(world: &mut World, call: &Call<'_>) -> Outcome {
    let bot = call.actor()?;
    let now = call.now;
    let starts = *world.session_starts(bot, now);
    let reset_after = u64::try_from(starts.reset_at.unix_ms() - now.unix_ms()).unwrap_or(0);
    Ok(Reply::ok(json!({
        "url": world.gateway_url,
        "shards": 1,
        "session_start_limit": {
            "total": starts.total,
            "remaining": starts.remaining,
            "reset_after": reset_after,
            "max_concurrency": 1,
        },
    })))
}
