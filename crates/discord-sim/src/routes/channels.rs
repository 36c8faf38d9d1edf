//! `/channels/{channel_id}`: reading a channel, and its messages (creating, editing and deleting
//! channels is in `channel_admin`).

use serde_json::{Map, Value, json};

use super::input::{self, Patch};
use super::{Call, Outcome, Reply, channel_and_actor, channel_permissions, require_in_channel};
use crate::error::ApiError;
use crate::json;
use crate::permissions::{
    ATTACH_FILES, EMBED_LINKS, MANAGE_MESSAGES, MENTION_EVERYONE, READ_MESSAGE_HISTORY, SEND_MESSAGES,
    SEND_TTS_MESSAGES,
};
use crate::world::World;

/// Longest message content a bot may send.
const MAX_CONTENT: usize = 2000;

/// Message flags a sender may set: SUPPRESS_EMBEDS, EPHEMERAL (interaction responses only),
/// SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2.
const SETTABLE_FLAGS: u64 = 4 | 64 | 4096 | 32768;

/// `GET /channels/{channel_id}` (VIEW_CHANNEL).
pub(super) fn get(world: &mut World, call: &Call<'_>) -> Outcome {
    let (channel, actor) = channel_and_actor(world, call)?;
    let channel = world.channels.get(&channel).ok_or_else(ApiError::unknown_channel)?;
    Ok(Reply::ok(json::channel(world, channel, Some(actor))))
}

/// `GET /channels/{channel_id}/messages` (VIEW_CHANNEL; without READ_MESSAGE_HISTORY the list is
/// empty, as in Discord; ephemeral messages are never listed): `?limit=1..=100` (default 50) and
/// one of `?around`, `?before`, `?after`; newest first.
pub(super) fn list_messages(world: &mut World, call: &Call<'_>) -> Outcome {
    let (channel, actor) = channel_and_actor(world, call)?;
    let limit = usize::try_from(input::query_integer(call, "limit", 50, 1, 100)?).unwrap_or(50);
    let around = input::query_snowflake(call, "around")?;
    let before = input::query_snowflake(call, "before")?;
    let after = input::query_snowflake(call, "after")?;
    if channel_permissions(world, channel, actor, call.now) & READ_MESSAGE_HISTORY == 0 {
        return Ok(Reply::ok(json!([])));
    }
    // Ephemeral messages (interaction responses with flag 64) exist only for their user's client.
    let ids: Vec<u64> =
        world.messages.values().filter(|m| m.channel_id == channel && m.flags & 64 == 0).map(|m| m.id).collect();
    let mut page: Vec<u64> = if let Some(around) = around {
        let centre = ids.partition_point(|id| *id < around);
        let start = centre.saturating_sub(limit / 2);
        ids[start..].iter().take(limit).copied().collect()
    } else if let Some(before) = before {
        let end = ids.partition_point(|id| *id < before);
        ids[end.saturating_sub(limit)..end].to_vec()
    } else if let Some(after) = after {
        ids.iter().filter(|id| **id > after).take(limit).copied().collect()
    } else {
        ids[ids.len().saturating_sub(limit)..].to_vec()
    };
    page.reverse();
    let messages = page.iter().filter_map(|id| world.messages.get(id)).map(|m| json::message(world, m)).collect();
    Ok(Reply::ok(Value::Array(messages)))
}

/// `GET /channels/{channel_id}/messages/{message_id}` (VIEW_CHANNEL, READ_MESSAGE_HISTORY).
pub(super) fn get_message(world: &mut World, call: &Call<'_>) -> Outcome {
    let (channel, actor) = channel_and_actor(world, call)?;
    let id = input::path_id(call, "message_id")?;
    require_in_channel(world, channel, actor, READ_MESSAGE_HISTORY, call.now)?;
    let message = world
        .messages
        .get(&id)
        .filter(|m| m.channel_id == channel && m.flags & 64 == 0)
        .ok_or_else(ApiError::unknown_message)?;
    Ok(Reply::ok(json::message(world, message)))
}

/// The content fields of a message body, shared by create and edit (and interaction responses).
pub(super) struct Draft {
    pub(super) content: Patch<String>,
    pub(super) embeds: Patch<Vec<Value>>,
    pub(super) components: Patch<Vec<Value>>,
    pub(super) attachments: Patch<Vec<Value>>,
    pub(super) flags: Patch<u64>,
    pub(super) tts: bool,
    pub(super) has_poll_or_stickers: bool,
}

impl Draft {
    /// Reads the fields; 50035 for malformed ones.
    pub(super) fn parse(body: Option<&Map<String, Value>>) -> Result<Self, ApiError> {
        let content = input::string(body, "content", 0, MAX_CONTENT)?;
        let objects = |name: &str, max: usize| -> Result<Patch<Vec<Value>>, ApiError> {
            Ok(match input::list(body, name)? {
                Patch::Set(items) => {
                    if items.len() > max {
                        return Err(ApiError::invalid_field(
                            name,
                            "BASE_TYPE_MAX_LENGTH",
                            &format!("Must be {max} or fewer in length."),
                        ));
                    }
                    if let Some(i) = items.iter().position(|item| !item.is_object()) {
                        return Err(ApiError::wrong_type(&format!("{name}.{i}"), "object"));
                    }
                    Patch::Set(items.to_vec())
                }
                Patch::Null => Patch::Null,
                Patch::Absent => Patch::Absent,
            })
        };
        let flags = input::integer(body, "flags", 0, i64::MAX)?;
        Ok(Draft {
            content,
            embeds: objects("embeds", 10)?,
            components: objects("components", 40)?,
            attachments: objects("attachments", 10)?,
            flags: match flags {
                Patch::Set(bits) => Patch::Set(u64::try_from(bits).unwrap_or(0)),
                Patch::Null => Patch::Null,
                Patch::Absent => Patch::Absent,
            },
            tts: input::boolean(body, "tts")?.set().unwrap_or(false),
            has_poll_or_stickers: body.is_some_and(|b| {
                b.get("poll").is_some_and(|p| !p.is_null())
                    || b.get("sticker_ids").and_then(Value::as_array).is_some_and(|s| !s.is_empty())
            }),
        })
    }

    /// Whether it sets any embeds.
    pub(super) fn has_embeds(&self) -> bool {
        matches!(&self.embeds, Patch::Set(embeds) if !embeds.is_empty())
    }
}

/// The attachments a message ends up with: existing ones the body keeps (by id), and uploaded
/// files (`files[n]`, described by the body's attachment with `id: n`, or on their own).
pub(super) fn build_attachments(
    world: &mut World,
    channel: u64,
    described: &[Value],
    existing: &[Value],
    files: &[(String, String, String, Vec<u8>)],
) -> Vec<Value> {
    let id_text = |value: &Value| match value.get("id") {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    let mut out = Vec::new();
    let mut used = vec![false; files.len()];
    for description in described {
        let Some(id) = id_text(description) else { continue };
        if let Some(kept) = existing.iter().find(|a| id_text(a).as_deref() == Some(id.as_str())) {
            out.push(kept.clone());
            continue;
        }
        let field = format!("files[{id}]");
        if let Some(index) = files.iter().position(|(name, ..)| *name == field) {
            used[index] = true;
            out.push(upload(world, channel, description, &files[index]));
        }
    }
    for (index, file) in files.iter().enumerate() {
        if !used[index] {
            out.push(upload(world, channel, &json!({}), file));
        }
    }
    out
}

fn upload(world: &mut World, channel: u64, description: &Value, file: &(String, String, String, Vec<u8>)) -> Value {
    let (_, filename, content_type, bytes) = file;
    let mut fields = Map::new();
    let name = description.get("filename").and_then(Value::as_str).unwrap_or(filename);
    fields.insert("filename".into(), Value::String(name.to_owned()));
    fields.insert("size".into(), Value::from(bytes.len()));
    if !content_type.is_empty() {
        fields.insert("content_type".into(), Value::String(content_type.clone()));
    }
    if let Some(text) = description.get("description").and_then(Value::as_str) {
        fields.insert("description".into(), Value::String(text.to_owned()));
    }
    let attachment = world.normalize_attachment(channel, &Value::Object(fields));
    if let Some(id) = attachment.get("id").and_then(Value::as_str).and_then(|id| id.parse().ok()) {
        world.attachment_bytes.insert(id, bytes.clone());
    }
    attachment
}

/// `POST /channels/{channel_id}/messages` (SEND_MESSAGES; EMBED_LINKS for embeds; ATTACH_FILES for
/// files; READ_MESSAGE_HISTORY to reply). In a DM: 50007 when the user has DMs closed or is a bot.
pub(super) fn create_message(world: &mut World, call: &Call<'_>) -> Outcome {
    let (channel_id, actor) = channel_and_actor(world, call)?;
    let channel = world.channels.get(&channel_id).ok_or_else(ApiError::unknown_channel)?;
    if matches!(channel.kind, 4 | 15) {
        return Err(ApiError::not_text_channel());
    }
    let body = input::object(call)?;
    let draft = Draft::parse(body)?;
    let reference = match body.and_then(|b| b.get("message_reference")) {
        Some(Value::Object(reference)) => {
            let id = match reference.get("message_id") {
                Some(value) => input::snowflake_value("message_reference.message_id", value)?,
                None => return Err(ApiError::required("message_reference.message_id")),
            };
            let exists = world.messages.get(&id).is_some_and(|m| m.channel_id == channel_id);
            let must_exist = reference.get("fail_if_not_exists").and_then(Value::as_bool).unwrap_or(true);
            if !exists && must_exist {
                return Err(ApiError::invalid_field("message_reference", "REPLIES_UNKNOWN_MESSAGE", "Unknown message"));
            }
            exists.then(|| {
                let mut out = json!({"type": 0, "message_id": id.to_string(), "channel_id": channel_id.to_string()});
                if let Some(guild) = channel.guild_id {
                    out["guild_id"] = Value::String(guild.to_string());
                }
                out
            })
        }
        Some(Value::Null) | None => None,
        Some(_) => return Err(ApiError::wrong_type("message_reference", "object")),
    };
    let content = draft.content.clone().set().unwrap_or_default();
    let empty = content.is_empty()
        && !draft.has_embeds()
        && !matches!(&draft.components, Patch::Set(c) if !c.is_empty())
        && call.files.is_empty()
        && !draft.has_poll_or_stickers;
    if empty {
        return Err(ApiError::empty_message());
    }
    let held = channel_permissions(world, channel_id, actor, call.now);
    if channel.guild_id.is_none() {
        let recipient = channel.recipients.iter().find(|u| **u != actor).and_then(|u| world.users.get(u));
        if recipient.is_none_or(|user| !user.dms_open || user.bot) {
            return Err(ApiError::cannot_dm());
        }
    } else {
        let mut needed = SEND_MESSAGES;
        if draft.has_embeds() {
            needed |= EMBED_LINKS;
        }
        if !call.files.is_empty() {
            needed |= ATTACH_FILES;
        }
        if reference.is_some() {
            needed |= READ_MESSAGE_HISTORY;
        }
        if held & needed != needed {
            return Err(ApiError::missing_permissions());
        }
    }

    let mut message = world.new_message(channel_id, actor, content);
    if let Patch::Set(embeds) = &draft.embeds {
        message.embeds = crate::world::normalize_embeds(embeds);
    }
    if let Patch::Set(components) = &draft.components {
        message.components = crate::world::normalize_components(components);
    }
    let described = draft.attachments.clone().set().unwrap_or_default();
    message.attachments = build_attachments(world, channel_id, &described, &[], call.files);
    message.flags = draft.flags.set().unwrap_or(0) & SETTABLE_FLAGS & !64;
    message.tts = draft.tts && held & SEND_TTS_MESSAGES != 0;
    message.mention_everyone &= held & MENTION_EVERYONE != 0 && allows_everyone(body);
    let guild = world.channels.get(&channel_id).and_then(|c| c.guild_id);
    message.pinged_roles = pinged_roles(world, guild, &message.mention_roles, held, body);
    if reference.is_some() {
        message.kind = 19;
        message.message_reference = reference;
    }
    let id = world.store_message(message);
    let message = world.messages.get(&id).ok_or_else(ApiError::unknown_message)?;
    Ok(Reply::ok(json::message(world, message)))
}

/// Whether the body's `allowed_mentions` (if any) lets `@everyone` / `@here` ping: Discord's
/// `mention_everyone` is false when `parse` leaves out "everyone".
fn allows_everyone(body: Option<&serde_json::Map<String, Value>>) -> bool {
    match body.and_then(|b| b.get("allowed_mentions")) {
        Some(Value::Object(allowed)) => {
            allowed.get("parse").and_then(Value::as_array).is_some_and(|parse| parse.iter().any(|p| p == "everyone"))
        }
        _ => true,
    }
}

/// The mentioned roles whose members Discord notifies: those `allowed_mentions` lets ping (all of them
/// without it, with `"roles"` in `parse`, or by id in `roles`) and that are mentionable or the author
/// holds MENTION_EVERYONE.
fn pinged_roles(
    world: &World,
    guild: Option<u64>,
    mentioned: &[u64],
    held: u64,
    body: Option<&serde_json::Map<String, Value>>,
) -> Vec<u64> {
    let allowed = |role: u64| match body.and_then(|b| b.get("allowed_mentions")) {
        Some(Value::Object(allowed)) => {
            allowed.get("parse").and_then(Value::as_array).is_some_and(|p| p.iter().any(|p| p == "roles"))
                || allowed
                    .get("roles")
                    .and_then(Value::as_array)
                    .is_some_and(|ids| ids.iter().any(|id| id.as_str() == Some(role.to_string().as_str())))
        }
        _ => true,
    };
    let mentionable = |role: u64| {
        held & MENTION_EVERYONE != 0
            || guild.and_then(|g| world.guilds.get(&g)).and_then(|g| g.roles.get(&role)).is_some_and(|r| r.mentionable)
    };
    mentioned.iter().copied().filter(|role| allowed(*role) && mentionable(*role)).collect()
}

/// `PATCH /channels/{channel_id}/messages/{message_id}`: the author edits content, embeds,
/// components, attachments and flags; anyone else may only toggle SUPPRESS_EMBEDS, with
/// MANAGE_MESSAGES (50005 otherwise).
pub(super) fn edit_message(world: &mut World, call: &Call<'_>) -> Outcome {
    let (channel, actor) = channel_and_actor(world, call)?;
    let id = input::path_id(call, "message_id")?;
    let body = input::object(call)?;
    let draft = Draft::parse(body)?;
    let message = world
        .messages
        .get(&id)
        .filter(|m| m.channel_id == channel && m.flags & 64 == 0)
        .ok_or_else(ApiError::unknown_message)?;
    let held = channel_permissions(world, channel, actor, call.now);
    if message.author_id != actor {
        let only_flags = body.is_none_or(|b| b.keys().all(|k| k == "flags"));
        if !only_flags {
            return Err(ApiError::cannot_edit_others_message());
        }
        if held & MANAGE_MESSAGES == 0 {
            return Err(ApiError::missing_permissions());
        }
    }
    let is_guild = world.channels.get(&channel).is_some_and(|c| c.guild_id.is_some());
    if is_guild && draft.has_embeds() && held & EMBED_LINKS == 0 {
        return Err(ApiError::missing_permissions());
    }
    let edited = apply_draft(world, id, draft, call)?;
    Ok(Reply::ok(edited))
}

/// Applies an edit to a stored message (checking it does not leave the message empty) and
/// answers the edited message.
pub(super) fn apply_draft(world: &mut World, id: u64, draft: Draft, call: &Call<'_>) -> Result<Value, ApiError> {
    let current = world.messages.get(&id).cloned().ok_or_else(ApiError::unknown_message)?;
    let touches_body = !(draft.content.is_absent()
        && draft.embeds.is_absent()
        && draft.components.is_absent()
        && draft.attachments.is_absent()
        && call.files.is_empty());
    let content = match draft.content {
        Patch::Set(text) => text,
        Patch::Null => String::new(),
        Patch::Absent => current.content.clone(),
    };
    let embeds = match &draft.embeds {
        Patch::Set(embeds) => crate::world::normalize_embeds(embeds),
        Patch::Null => Vec::new(),
        Patch::Absent => current.embeds.clone(),
    };
    let components = match &draft.components {
        Patch::Set(components) => crate::world::normalize_components(components),
        Patch::Null => Vec::new(),
        Patch::Absent => current.components.clone(),
    };
    let attachments_change = !draft.attachments.is_absent() || !call.files.is_empty();
    let described = match draft.attachments {
        Patch::Set(list) => Some(list),
        Patch::Null => Some(Vec::new()),
        Patch::Absent => None,
    };
    let is_loading = current.flags & 128 != 0;
    let empty = content.is_empty()
        && embeds.is_empty()
        && components.is_empty()
        && current.attachments.is_empty()
        && described.as_ref().is_none_or(Vec::is_empty)
        && call.files.is_empty();
    if empty && !is_loading {
        return Err(ApiError::empty_message());
    }
    let attachments = if attachments_change {
        // Without an attachments list, uploads are added to what is there.
        let keep = described.unwrap_or_else(|| current.attachments.clone());
        build_attachments(world, current.channel_id, &keep, &current.attachments, call.files)
    } else {
        current.attachments.clone()
    };
    let (mentions, mention_roles, everyone) = world.mentions_in(current.channel_id, &content);
    let Some(message) = world.messages.get_mut(&id) else { return Err(ApiError::unknown_message()) };
    if let Patch::Set(flags) = draft.flags {
        message.flags = (message.flags & !4) | (flags & 4);
    }
    if message.content != content {
        message.mentions = mentions;
        message.mention_roles = mention_roles;
        message.mention_everyone = message.mention_everyone && everyone;
    }
    message.content = content;
    message.embeds = embeds;
    message.components = components;
    message.attachments = attachments;
    if touches_body {
        // Editing a deferred response's body ends its loading state and counts as an edit.
        message.flags &= !128;
        message.edited_timestamp = Some(call.now);
    }
    let message = world.messages.get(&id).ok_or_else(ApiError::unknown_message)?;
    Ok(json::message(world, message))
}
