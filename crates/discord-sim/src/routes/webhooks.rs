//! Interaction responses: the callback that answers an interaction, and the interaction webhook's
//! original response. The token in the path is the credential; no bot token is needed.

use serde_json::{Value, json};

use super::channels::{Draft, apply_draft, build_attachments};
use super::input::{self, Patch};
use super::{Call, Outcome, Reply};
use crate::error::ApiError;
use crate::interactions::TOKEN_LIFETIME_MS;
use crate::json;
use crate::world::{InteractionView, World};

/// Interaction callback types that post the original response message.
const CHANNEL_MESSAGE_WITH_SOURCE: i64 = 4;
const DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: i64 = 5;

/// The callback types an interaction of type `kind` takes (Discord's interaction response types):
/// an application command is answered with a message (4), a deferred one (5), a modal (9) or an
/// activity launch (12); PONG (1) only answers a PING, the update types (6, 7) only components and
/// modals, the autocomplete result (8) only autocomplete.
fn callback_types(kind: u8) -> &'static [i64] {
    match kind {
        1 => &[1],
        3 => &[4, 5, 6, 7, 9, 12],
        4 => &[8],
        5 => &[4, 5, 6, 7],
        _ => &[4, 5, 9, 12],
    }
}

/// The interaction of a callback: 10062 for an unknown id, a token that is not its own, a first
/// callback after the response window (3 s) or any callback after the token's 15 minutes.
fn live_interaction(world: &World, call: &Call<'_>) -> Result<InteractionView, ApiError> {
    let id = input::path_id(call, "interaction_id")?;
    let interaction = world
        .interactions
        .get(&id)
        .filter(|i| i.token == call.param("interaction_token"))
        .ok_or_else(ApiError::unknown_interaction)?;
    let age = call.now.unix_ms() - interaction.created_at.unix_ms();
    if age > TOKEN_LIFETIME_MS || (!interaction.acknowledged && age > world.interaction_window_ms) {
        return Err(ApiError::unknown_interaction());
    }
    Ok(interaction.clone())
}

/// `POST /interactions/{interaction_id}/{interaction_token}/callback`: answers an interaction once
/// (40060 after that), within its response window (10062 after it). Type 4 posts the original
/// response (ephemeral with flag 64; 50006 when empty), type 5 posts a loading one (ephemeral with
/// flag 64) for `PATCH /webhooks/{application_id}/{token}/messages/@original` to fill, 9 and 12
/// only acknowledge; a type the interaction does not take is 50035. `?with_response=true` answers
/// 200 with the callback response, else 204.
pub(super) fn callback(world: &mut World, call: &Call<'_>) -> Outcome {
    let interaction = live_interaction(world, call)?;
    let id = interaction.id;
    let body = input::object(call)?;
    let kind = match input::integer(body, "type", 1, 13)? {
        Patch::Set(kind) if matches!(kind, 1 | 4 | 5 | 6 | 7 | 8 | 9 | 12 | 13) => kind,
        Patch::Set(_) => {
            return Err(ApiError::invalid_field(
                "type",
                "BASE_TYPE_CHOICES",
                "Value must be one of interaction callback types.",
            ));
        }
        Patch::Absent | Patch::Null => return Err(ApiError::required("type")),
    };
    let allowed = callback_types(interaction.kind);
    if !allowed.contains(&kind) {
        let listed: Vec<String> = allowed.iter().map(i64::to_string).collect();
        return Err(ApiError::invalid_field(
            "type",
            "BASE_TYPE_CHOICES",
            &format!("Value must be one of {{{}}}.", listed.join(", ")),
        ));
    }
    let data = match body.and_then(|b| b.get("data")) {
        Some(Value::Object(data)) => Some(data),
        Some(Value::Null) | None => None,
        Some(_) => return Err(ApiError::wrong_type("data", "object")),
    };
    let draft = Draft::parse(data)?;
    if interaction.acknowledged {
        return Err(ApiError::already_acknowledged());
    }
    if kind == CHANNEL_MESSAGE_WITH_SOURCE {
        let text = matches!(&draft.content, Patch::Set(text) if !text.is_empty());
        let components = matches!(&draft.components, Patch::Set(c) if !c.is_empty());
        let attached = matches!(&draft.attachments, Patch::Set(a) if !a.is_empty()) || !call.files.is_empty();
        if !(text || draft.has_embeds() || components || attached || draft.has_poll_or_stickers) {
            return Err(ApiError::empty_message());
        }
    }
    let with_response = input::query_flag(call, "with_response")?;

    let mut original = None;
    if kind == CHANNEL_MESSAGE_WITH_SOURCE || kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE {
        let content = draft.content.clone().set().unwrap_or_default();
        let mut message = world.new_message(interaction.channel_id, interaction.application_id, content);
        let requested_flags = draft.flags.clone().set().unwrap_or(0);
        message.flags = requested_flags & (4 | 64 | 4096 | 32768);
        if kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE {
            message.content = String::new();
            message.flags = (requested_flags & 64) | 128;
        } else {
            if let Patch::Set(embeds) = &draft.embeds {
                message.embeds = crate::world::normalize_embeds(embeds);
            }
            if let Patch::Set(components) = &draft.components {
                message.components = crate::world::normalize_components(components);
            }
            let described = draft.attachments.clone().set().unwrap_or_default();
            message.attachments = build_attachments(world, interaction.channel_id, &described, &[], call.files);
        }
        message.kind = 20;
        message.webhook_id = Some(interaction.application_id);
        message.application_id = Some(interaction.application_id);
        message.interaction_id = Some(interaction.id);
        original = Some(world.store_message(message));
    }
    if let Some(record) = world.interactions.get_mut(&id) {
        record.acknowledged = true;
        record.response_type = u8::try_from(kind).ok();
        record.responded_at = Some(call.now);
        record.original_message = original.or(record.original_message);
    }
    if !with_response {
        return Ok(Reply::no_content());
    }
    let mut response = json!({ "interaction": { "id": id.to_string(), "type": interaction.kind } });
    if let Some(message_id) = original {
        let message = world.messages.get(&message_id).ok_or_else(ApiError::unknown_message)?;
        response["interaction"]["response_message_id"] = Value::String(message_id.to_string());
        response["interaction"]["response_message_loading"] = Value::Bool(message.flags & 128 != 0);
        response["interaction"]["response_message_ephemeral"] = Value::Bool(message.flags & 64 != 0);
        response["resource"] = json!({ "type": kind, "message": json::message(world, message) });
    }
    Ok(Reply::ok(response))
}

/// The interaction behind `/webhooks/{webhook_id}/{webhook_token}`: 10015 for an unknown webhook
/// (application), 50027 for a token that is not one of its interactions' or has expired (15
/// minutes).
fn interaction_of(world: &World, call: &Call<'_>) -> Result<InteractionView, ApiError> {
    let application = input::path_id(call, "webhook_id")?;
    let token = call.param("webhook_token");
    if let Some(found) = world.interactions.values().find(|i| i.application_id == application && i.token == token) {
        if call.now.unix_ms() - found.created_at.unix_ms() > TOKEN_LIFETIME_MS {
            return Err(ApiError::invalid_webhook_token());
        }
        return Ok(found.clone());
    }
    if world.interactions.values().any(|i| i.application_id == application) {
        Err(ApiError::invalid_webhook_token())
    } else {
        Err(ApiError::unknown_webhook())
    }
}

/// `GET /webhooks/{webhook_id}/{webhook_token}/messages/@original`
pub(super) fn get_original(world: &mut World, call: &Call<'_>) -> Outcome {
    let interaction = interaction_of(world, call)?;
    let message =
        interaction.original_message.and_then(|id| world.messages.get(&id)).ok_or_else(ApiError::unknown_message)?;
    Ok(Reply::ok(json::message(world, message)))
}

/// `PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original`: edits the original response
/// (ending a deferred response's loading state).
pub(super) fn edit_original(world: &mut World, call: &Call<'_>) -> Outcome {
    let interaction = interaction_of(world, call)?;
    let draft = Draft::parse(input::object(call)?)?;
    let id = interaction.original_message.ok_or_else(ApiError::unknown_message)?;
    Ok(Reply::ok(apply_draft(world, id, draft, call)?))
}
