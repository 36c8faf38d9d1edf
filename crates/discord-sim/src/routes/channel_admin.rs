//! Making, changing and removing guild channels: `POST /guilds/{guild_id}/channels`,
//! `PATCH` and `DELETE /channels/{channel_id}`, and `PUT`/`DELETE
//! /channels/{channel_id}/permissions/{overwrite_id}`, under MANAGE_CHANNELS and MANAGE_ROLES, with
//! Discord's limits (500 channels a guild, 50 a category, 100 overwrites a channel, bitrates by boost
//! tier) and what each channel type takes.

use serde_json::{Map, Value};

use super::input::{self, Patch};
use super::{
    Call, Outcome, Reply, channel_and_actor, channel_permissions, guild_and_actor, require, require_in_channel,
};
use crate::error::ApiError;
use crate::json;
use crate::permissions::{self, ADMINISTRATOR, MANAGE_CHANNELS, MANAGE_ROLES};
use crate::world::{AuditAction, ChannelView, DefaultReaction, ForumTag, GuildState, Overwrite, World};

/// Channels a guild may hold (threads aside).
pub(crate) const MAX_CHANNELS: usize = 500;
/// Channels a category may hold.
pub(crate) const MAX_CATEGORY_CHANNELS: usize = 50;
/// Permission overwrites a channel may hold.
pub(crate) const MAX_OVERWRITES: usize = 100;
/// Tags a forum or media channel may hold.
const MAX_TAGS: usize = 20;
/// The archive durations Discord offers, in minutes.
const ARCHIVE_DURATIONS: &[i64] = &[60, 1440, 4320, 10080];
/// Flags a forum or media channel may set: REQUIRE_TAG, HIDE_MEDIA_DOWNLOAD_OPTIONS (media only).
const REQUIRE_TAG: u64 = 1 << 4;
const HIDE_MEDIA_DOWNLOAD_OPTIONS: u64 = 1 << 15;

/// The fields of a channel body, as sent (create and update share them).
struct ChannelFields {
    name: Patch<String>,
    kind: Patch<i64>,
    topic: Patch<String>,
    nsfw: Patch<bool>,
    position: Patch<i64>,
    rate_limit_per_user: Patch<i64>,
    bitrate: Patch<i64>,
    user_limit: Patch<i64>,
    rtc_region: Patch<String>,
    video_quality_mode: Patch<i64>,
    parent: Patch<u64>,
    overwrites: Option<Vec<Overwrite>>,
    default_auto_archive_duration: Patch<i64>,
    default_thread_rate_limit_per_user: Patch<i64>,
    available_tags: Option<Vec<TagInput>>,
    default_reaction_emoji: Patch<DefaultReaction>,
    default_sort_order: Patch<i64>,
    default_forum_layout: Patch<i64>,
    flags: Patch<i64>,
}

/// A tag as sent: with the id of an existing tag to keep it.
struct TagInput {
    id: Option<u64>,
    name: String,
    moderated: bool,
    emoji_id: Option<u64>,
    emoji_name: Option<String>,
}

fn parse_fields(body: Option<&Map<String, Value>>) -> Result<ChannelFields, ApiError> {
    let overwrites = match input::list(body, "permission_overwrites")? {
        Patch::Set(items) => Some(parse_overwrites(items)?),
        Patch::Null => Some(Vec::new()),
        Patch::Absent => None,
    };
    let available_tags = match input::list(body, "available_tags")? {
        Patch::Set(items) => Some(parse_tags(items)?),
        Patch::Null => Some(Vec::new()),
        Patch::Absent => None,
    };
    let default_reaction_emoji = match body.and_then(|b| b.get("default_reaction_emoji")) {
        None => Patch::Absent,
        Some(Value::Null) => Patch::Null,
        Some(Value::Object(emoji)) => {
            let emoji_id =
                input::snowflake(Some(emoji), "emoji_id").map_err(|e| nest(e, "default_reaction_emoji"))?.set();
            let emoji_name =
                input::string(Some(emoji), "emoji_name", 1, 100).map_err(|e| nest(e, "default_reaction_emoji"))?.set();
            if emoji_id.is_none() && emoji_name.is_none() {
                Patch::Null
            } else {
                Patch::Set(DefaultReaction { emoji_id, emoji_name })
            }
        }
        Some(_) => return Err(ApiError::wrong_type("default_reaction_emoji", "object")),
    };
    Ok(ChannelFields {
        name: input::string(body, "name", 1, 100)?,
        kind: input::integer(body, "type", 0, 255)?,
        topic: input::string(body, "topic", 0, 4096)?,
        nsfw: input::boolean(body, "nsfw")?,
        position: input::integer(body, "position", 0, i64::from(i32::MAX))?,
        rate_limit_per_user: input::integer(body, "rate_limit_per_user", 0, 21_600)?,
        bitrate: input::integer(body, "bitrate", 8000, 384_000)?,
        user_limit: input::integer(body, "user_limit", 0, 10_000)?,
        rtc_region: input::string(body, "rtc_region", 1, 100)?,
        video_quality_mode: input::choice(body, "video_quality_mode", &[1, 2])?,
        parent: input::snowflake(body, "parent_id")?,
        overwrites,
        default_auto_archive_duration: input::choice(body, "default_auto_archive_duration", ARCHIVE_DURATIONS)?,
        default_thread_rate_limit_per_user: input::integer(body, "default_thread_rate_limit_per_user", 0, 21_600)?,
        available_tags,
        default_reaction_emoji,
        default_sort_order: input::choice(body, "default_sort_order", &[0, 1])?,
        default_forum_layout: input::choice(body, "default_forum_layout", &[0, 1, 2])?,
        flags: input::integer(body, "flags", 0, i64::MAX)?,
    })
}

/// An error about a field of an object field, placed under that field.
fn nest(error: ApiError, parent: &str) -> ApiError {
    match error.errors {
        Some(tree) => {
            let mut wrapped = Map::new();
            wrapped.insert(parent.to_owned(), tree);
            ApiError { errors: Some(Value::Object(wrapped)), ..error }
        }
        None => error,
    }
}

fn parse_overwrites(items: &[Value]) -> Result<Vec<Overwrite>, ApiError> {
    if items.len() > MAX_OVERWRITES {
        return Err(ApiError::invalid_field(
            "permission_overwrites",
            "BASE_TYPE_MAX_LENGTH",
            &format!("Must be {MAX_OVERWRITES} or fewer in length."),
        ));
    }
    let mut out: Vec<Overwrite> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |field: &str| format!("permission_overwrites.{i}.{field}");
        let entry =
            item.as_object().ok_or_else(|| ApiError::wrong_type(&format!("permission_overwrites.{i}"), "object"))?;
        let id = match entry.get("id") {
            Some(value) => input::snowflake_value(&at("id"), value)?,
            None => return Err(ApiError::required(&at("id"))),
        };
        let kind = match entry.get("type") {
            Some(Value::Null) | None => return Err(ApiError::required(&at("type"))),
            Some(value) => overwrite_type(&at("type"), value)?,
        };
        let bits = |name: &str| -> Result<u64, ApiError> {
            Ok(input::permissions(Some(entry), name)
                .map_err(|_| ApiError::wrong_type(&at(name), "integer"))?
                .set()
                .unwrap_or(0))
        };
        let overwrite =
            Overwrite { id, kind, allow: bits("allow")? & permissions::ALL, deny: bits("deny")? & permissions::ALL };
        // A later entry for the same target replaces an earlier one.
        out.retain(|o| o.id != id);
        out.push(overwrite);
    }
    Ok(out)
}

/// An overwrite's `type`: 0 (role) or 1 (member), as a number or a numeric string.
fn overwrite_type(path: &str, value: &Value) -> Result<u8, ApiError> {
    let number = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    };
    match number {
        Some(kind @ (0 | 1)) => Ok(kind as u8),
        Some(_) => Err(input::choices(path, &[0, 1])),
        None => Err(ApiError::wrong_type(path, "integer")),
    }
}

fn parse_tags(items: &[Value]) -> Result<Vec<TagInput>, ApiError> {
    if items.len() > MAX_TAGS {
        return Err(ApiError::invalid_field(
            "available_tags",
            "BASE_TYPE_MAX_LENGTH",
            &format!("Must be {MAX_TAGS} or fewer in length."),
        ));
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let entry = item.as_object().ok_or_else(|| ApiError::wrong_type(&format!("available_tags.{i}"), "object"))?;
        let under = |e: ApiError| nest(input::under_index(e, i), "available_tags");
        let name = match input::string(Some(entry), "name", 0, 20).map_err(under)? {
            Patch::Set(name) => name,
            Patch::Null | Patch::Absent => return Err(ApiError::required(&format!("available_tags.{i}.name"))),
        };
        out.push(TagInput {
            id: input::snowflake(Some(entry), "id").map_err(under)?.set(),
            name,
            moderated: input::boolean(Some(entry), "moderated").map_err(under)?.set().unwrap_or(false),
            emoji_id: input::snowflake(Some(entry), "emoji_id").map_err(under)?.set(),
            emoji_name: input::string(Some(entry), "emoji_name", 1, 100).map_err(under)?.set(),
        });
    }
    Ok(out)
}

/// The channel types a guild may create: text, voice, category and forum everywhere; announcement
/// with NEWS or COMMUNITY; stage and media channels in Community guilds.
fn creatable_types(state: &GuildState) -> Vec<i64> {
    let has = |feature: &str| state.info.features.iter().any(|f| f == feature);
    let mut kinds = vec![0, 2, 4];
    if has("NEWS") || has("COMMUNITY") {
        kinds.push(5);
    }
    if has("COMMUNITY") {
        kinds.push(13);
    }
    kinds.push(15);
    if has("COMMUNITY") {
        kinds.push(16);
    }
    kinds
}

/// The highest voice bitrate of a guild's boost tier (384 kbps with VIP_REGIONS).
fn max_voice_bitrate(state: &GuildState) -> i64 {
    if state.info.features.iter().any(|f| f == "VIP_REGIONS") {
        return 384_000;
    }
    match state.info.premium_tier {
        0 => 96_000,
        1 => 128_000,
        2 => 256_000,
        _ => 384_000,
    }
}

/// Checks what depends on the guild and the channel's type: the parent (a category of the guild with
/// room), the topic's length, bitrate and user limit for the type, and each overwrite's target.
fn check_fields(
    world: &World,
    guild: u64,
    kind: u8,
    channel: Option<u64>,
    fields: &ChannelFields,
) -> Result<(), ApiError> {
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    if let Patch::Set(parent) = fields.parent {
        let is_category = world.channels.get(&parent).is_some_and(|c| c.kind == 4 && c.guild_id == Some(guild));
        if !is_category || kind == 4 {
            return Err(ApiError::invalid_field(
                "parent_id",
                "CHANNEL_PARENT_INVALID_TYPE",
                "Invalid parent channel type",
            ));
        }
        let moving_in = channel.is_none_or(|id| world.channels.get(&id).is_some_and(|c| c.parent_id != Some(parent)));
        let children = world.channels.values().filter(|c| c.parent_id == Some(parent)).count();
        if moving_in && children >= MAX_CATEGORY_CHANNELS {
            return Err(ApiError::invalid_field(
                "parent_id",
                "CHANNEL_PARENT_MAX_CHANNELS",
                &format!("Maximum number of channels in category reached ({MAX_CATEGORY_CHANNELS})"),
            ));
        }
    }
    if let Patch::Set(topic) = &fields.topic {
        let max = if matches!(kind, 15 | 16) { 4096 } else { 1024 };
        if topic.chars().count() > max {
            return Err(ApiError::invalid_field(
                "topic",
                "BASE_TYPE_MAX_LENGTH",
                &format!("Must be {max} or fewer in length."),
            ));
        }
    }
    if let Patch::Set(bitrate) = fields.bitrate {
        if kind == 13 && bitrate > 64_000 {
            return Err(ApiError::bitrate_too_high());
        }
        let max = max_voice_bitrate(state);
        if kind == 2 && bitrate > max {
            return Err(ApiError::invalid_field(
                "bitrate",
                "NUMBER_TYPE_MAX",
                &format!("int value should be less than or equal to {max}."),
            ));
        }
    }
    if let Patch::Set(limit) = fields.user_limit
        && kind == 2
        && limit > 99
    {
        return Err(ApiError::invalid_field(
            "user_limit",
            "NUMBER_TYPE_MAX",
            "int value should be less than or equal to 99.",
        ));
    }
    for overwrite in fields.overwrites.iter().flatten() {
        if overwrite.kind == 0 && !state.roles.contains_key(&overwrite.id) {
            return Err(ApiError::unknown_role());
        }
        if overwrite.kind == 1 && !world.users.contains_key(&overwrite.id) {
            return Err(ApiError::unknown_user());
        }
    }
    Ok(())
}

/// 50013 unless `actor` may set these overwrites: only permissions it holds (`held`: in the guild,
/// or the channel or its parent), and MANAGE_ROLES only as an administrator.
fn check_overwrite_grants(
    state: &GuildState,
    actor: u64,
    overwrites: &[Overwrite],
    held: u64,
    call: &Call<'_>,
) -> Result<(), ApiError> {
    let administrator = permissions::guild_permissions(state, actor, call.now) & ADMINISTRATOR != 0;
    for overwrite in overwrites {
        let bits = overwrite.allow | overwrite.deny;
        if bits & !held != 0 || (bits & MANAGE_ROLES != 0 && !administrator) {
            return Err(ApiError::missing_permissions());
        }
    }
    Ok(())
}

/// Applies the fields that apply to the channel's type (the others are ignored, as by Discord).
fn apply_fields(world: &mut World, channel_id: u64, fields: ChannelFields) {
    let mut new_tag_ids = Vec::new();
    if let Some(tags) = &fields.available_tags {
        let existing: Vec<u64> = world
            .channels
            .get(&channel_id)
            .map(|c| c.available_tags.iter().map(|t| t.id).collect())
            .unwrap_or_default();
        for tag in tags {
            let keep = tag.id.filter(|id| existing.contains(id));
            new_tag_ids.push(keep.unwrap_or_else(|| world.next_id()));
        }
    }
    let Some(channel) = world.channels.get_mut(&channel_id) else { return };
    let kind = channel.kind;
    let text_like = matches!(kind, 0 | 5 | 15 | 16);
    let voice = matches!(kind, 2 | 13);
    let forum = matches!(kind, 15 | 16);
    if let Patch::Set(name) = fields.name {
        channel.name = name;
    }
    if let Patch::Set(new_kind) = fields.kind
        && let Ok(new_kind) = u8::try_from(new_kind)
    {
        channel.kind = new_kind;
    }
    if text_like {
        match fields.topic {
            Patch::Set(text) if !text.is_empty() => channel.topic = Some(text),
            Patch::Set(_) | Patch::Null => channel.topic = None,
            Patch::Absent => {}
        }
        if let Some(minutes) = fields.default_auto_archive_duration.set().and_then(|m| u32::try_from(m).ok()) {
            channel.default_auto_archive_duration = minutes;
        }
        if let Some(seconds) = fields.default_thread_rate_limit_per_user.set().and_then(|s| u32::try_from(s).ok()) {
            channel.default_thread_rate_limit_per_user = seconds;
        }
    }
    if let Patch::Set(nsfw) = fields.nsfw {
        channel.nsfw = nsfw;
    }
    if kind != 4
        && let Some(seconds) = fields.rate_limit_per_user.set().and_then(|s| u32::try_from(s).ok())
    {
        channel.rate_limit_per_user = seconds;
    }
    if let Some(position) = fields.position.set().and_then(|p| i32::try_from(p).ok()) {
        channel.position = position;
    }
    if voice {
        if let Some(rate) = fields.bitrate.set().and_then(|b| u32::try_from(b).ok()) {
            channel.bitrate = rate;
        }
        if let Some(limit) = fields.user_limit.set().and_then(|l| u32::try_from(l).ok()) {
            channel.user_limit = limit;
        }
        match fields.rtc_region {
            Patch::Set(region) => channel.rtc_region = Some(region),
            Patch::Null => channel.rtc_region = None,
            Patch::Absent => {}
        }
        match fields.video_quality_mode {
            Patch::Set(mode) => channel.video_quality_mode = u8::try_from(mode).ok(),
            Patch::Null => channel.video_quality_mode = None,
            Patch::Absent => {}
        }
    }
    if kind != 4 {
        match fields.parent {
            Patch::Set(parent) => channel.parent_id = Some(parent),
            Patch::Null => channel.parent_id = None,
            Patch::Absent => {}
        }
    }
    if let Some(overwrites) = fields.overwrites {
        channel.overwrites = overwrites;
    }
    if forum {
        if let Some(tags) = fields.available_tags {
            channel.available_tags = tags
                .into_iter()
                .zip(new_tag_ids)
                .map(|(tag, id)| ForumTag {
                    id,
                    name: tag.name,
                    moderated: tag.moderated,
                    emoji_id: tag.emoji_id,
                    emoji_name: tag.emoji_name,
                })
                .collect();
        }
        match fields.default_reaction_emoji {
            Patch::Set(reaction) => channel.default_reaction_emoji = Some(reaction),
            Patch::Null => channel.default_reaction_emoji = None,
            Patch::Absent => {}
        }
        match fields.default_sort_order {
            Patch::Set(order) => channel.default_sort_order = u8::try_from(order).ok(),
            Patch::Null => channel.default_sort_order = None,
            Patch::Absent => {}
        }
        if kind == 15
            && let Some(layout) = fields.default_forum_layout.set().and_then(|l| u8::try_from(l).ok())
        {
            channel.default_forum_layout = layout;
        }
        if let Some(flags) = fields.flags.set().and_then(|f| u64::try_from(f).ok()) {
            let settable = if kind == 16 { REQUIRE_TAG | HIDE_MEDIA_DOWNLOAD_OPTIONS } else { REQUIRE_TAG };
            channel.flags = (channel.flags & !settable) | (flags & settable);
        }
    }
}

/// `POST /guilds/{guild_id}/channels` (MANAGE_CHANNELS; MANAGE_ROLES to set overwrites, which may
/// only use permissions the caller holds, and MANAGE_ROLES itself only for administrators). `name`
/// is required; `type` is 0 text (default), 2 voice, 4 category, 5 announcement (NEWS or COMMUNITY),
/// 13 stage, 15 forum or 16 media (COMMUNITY). Without `permission_overwrites`, a channel made in a
/// category takes the category's. Without `position`, it goes last. 30013 beyond 500 channels,
/// `CHANNEL_PARENT_MAX_CHANNELS` beyond 50 in a category. Answers 201 with the channel;
/// CHANNEL_CREATE.
pub(super) fn create(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    require(world, guild, actor, MANAGE_CHANNELS, call.now)?;
    let body = input::object(call)?;
    let fields = parse_fields(body)?;
    if !matches!(fields.name, Patch::Set(_)) {
        return Err(ApiError::required("name"));
    }
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let kind = match fields.kind {
        Patch::Set(kind) => {
            let allowed = creatable_types(state);
            if !allowed.contains(&kind) {
                return Err(input::choices("type", &allowed));
            }
            u8::try_from(kind).unwrap_or(0)
        }
        Patch::Null | Patch::Absent => 0,
    };
    check_fields(world, guild, kind, None, &fields)?;
    if let Some(overwrites) = fields.overwrites.as_ref().filter(|o| !o.is_empty()) {
        require(world, guild, actor, MANAGE_ROLES, call.now)?;
        let held = match fields.parent {
            Patch::Set(parent) => channel_permissions(world, parent, actor, call.now),
            Patch::Null | Patch::Absent => permissions::guild_permissions(state, actor, call.now),
        };
        check_overwrite_grants(state, actor, overwrites, held, call)?;
    }
    let in_guild: Vec<&ChannelView> = world.channels.values().filter(|c| c.guild_id == Some(guild)).collect();
    if in_guild.len() >= MAX_CHANNELS {
        return Err(ApiError::max_channels());
    }
    let last = in_guild.iter().filter(|c| (c.kind == 4) == (kind == 4)).map(|c| c.position).max();
    let position = last.map_or(0, |p| p.saturating_add(1));
    let parent = fields.parent.clone().set();
    let inherited = match (&fields.overwrites, parent) {
        (None, Some(parent)) => world.channels.get(&parent).map(|p| p.overwrites.clone()),
        _ => None,
    };
    let name = fields.name.clone().set().unwrap_or_default();
    let id = world.next_id();
    let mut channel = ChannelView::new_in_guild(id, guild, kind, &name, parent, position);
    if let Some(overwrites) = inherited {
        channel.overwrites = overwrites;
    }
    world.channels.insert(id, channel);
    apply_fields(world, id, ChannelFields { kind: Patch::Absent, ..fields });
    world.audit(guild, actor, AuditAction::ChannelCreate, id, call.reason);
    world.emit_channel("CHANNEL_CREATE", id);
    let channel = world.channels.get(&id).ok_or_else(ApiError::unknown_channel)?;
    Ok(Reply { status: 201, body: Some(json::channel(world, channel, Some(actor))) })
}

/// `PATCH /channels/{channel_id}` (MANAGE_CHANNELS in the channel; MANAGE_ROLES there, and only
/// permissions the caller holds there, to change overwrites): the fields of channel creation that
/// apply to the channel's type, and `type` between text (0) and announcement (5) in guilds with
/// NEWS. Answers the channel; CHANNEL_UPDATE.
pub(super) fn update(world: &mut World, call: &Call<'_>) -> Outcome {
    let (channel_id, actor) = channel_and_actor(world, call)?;
    let channel = world.channels.get(&channel_id).ok_or_else(ApiError::unknown_channel)?;
    let Some(guild) = channel.guild_id else { return Err(ApiError::missing_permissions()) };
    let kind = channel.kind;
    require_in_channel(world, channel_id, actor, MANAGE_CHANNELS, call.now)?;
    let fields = parse_fields(input::object(call)?)?;
    if fields.name == Patch::Null {
        return Err(ApiError::required("name"));
    }
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    if let Patch::Set(new_kind) = fields.kind
        && new_kind != i64::from(kind)
    {
        let news = state.info.features.iter().any(|f| f == "NEWS");
        if !(news && matches!((kind, new_kind), (0, 5) | (5, 0))) {
            return Err(input::choices("type", &[i64::from(kind)]));
        }
    }
    check_fields(world, guild, kind, Some(channel_id), &fields)?;
    if let Some(overwrites) = &fields.overwrites {
        require_in_channel(world, channel_id, actor, MANAGE_ROLES, call.now)?;
        let held = channel_permissions(world, channel_id, actor, call.now);
        let changed: Vec<Overwrite> = overwrites.iter().filter(|o| !channel.overwrites.contains(o)).copied().collect();
        check_overwrite_grants(state, actor, &changed, held, call)?;
    }
    apply_fields(world, channel_id, fields);
    world.audit(guild, actor, AuditAction::ChannelUpdate, channel_id, call.reason);
    world.emit_channel("CHANNEL_UPDATE", channel_id);
    let channel = world.channels.get(&channel_id).ok_or_else(ApiError::unknown_channel)?;
    Ok(Reply::ok(json::channel(world, channel, Some(actor))))
}

/// `DELETE /channels/{channel_id}` (MANAGE_CHANNELS in the channel): answers the channel as it was;
/// CHANNEL_DELETE. A category's channels move out of it; whoever was in voice there leaves; settings
/// and onboarding that named it forget it. A Community guild's rules and updates channels cannot be
/// deleted (50074). Closing a DM answers it and keeps it.
pub(super) fn delete(world: &mut World, call: &Call<'_>) -> Outcome {
    let (channel_id, actor) = channel_and_actor(world, call)?;
    let channel = world.channels.get(&channel_id).ok_or_else(ApiError::unknown_channel)?;
    let Some(guild) = channel.guild_id else {
        return Ok(Reply::ok(json::channel(world, channel, Some(actor))));
    };
    require_in_channel(world, channel_id, actor, MANAGE_CHANNELS, call.now)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let community = state.info.features.iter().any(|f| f == "COMMUNITY");
    let required = [state.info.rules_channel_id, state.info.public_updates_channel_id];
    if community && required.contains(&Some(channel_id)) {
        return Err(ApiError::community_channel_required());
    }
    let body = json::channel(world, channel, Some(actor));
    world.remove_channel(channel_id);
    world.audit(guild, actor, AuditAction::ChannelDelete, channel_id, call.reason);
    Ok(Reply::ok(body))
}

/// `PUT /channels/{channel_id}/permissions/{overwrite_id}` (MANAGE_ROLES in the channel; only
/// permissions the caller holds there, MANAGE_ROLES itself only for administrators): `type` (0 role,
/// 1 member), `allow`, `deny`. 30060 beyond 100 overwrites. 204; CHANNEL_UPDATE.
pub(super) fn put_overwrite(world: &mut World, call: &Call<'_>) -> Outcome {
    let (channel_id, actor) = channel_and_actor(world, call)?;
    let target = input::path_id(call, "overwrite_id")?;
    let channel = world.channels.get(&channel_id).ok_or_else(ApiError::unknown_channel)?;
    let Some(guild) = channel.guild_id else { return Err(ApiError::missing_permissions()) };
    let body = input::object(call)?;
    let kind = match body.and_then(|b| b.get("type")) {
        Some(Value::Null) | None => return Err(ApiError::required("type")),
        Some(value) => overwrite_type("type", value)?,
    };
    let bits = |name: &str| -> Result<u64, ApiError> {
        Ok(input::permissions(body, name)?.set().unwrap_or(0) & permissions::ALL)
    };
    let overwrite = Overwrite { id: target, kind, allow: bits("allow")?, deny: bits("deny")? };
    require_in_channel(world, channel_id, actor, MANAGE_ROLES, call.now)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    if kind == 0 && !state.roles.contains_key(&target) {
        return Err(ApiError::unknown_role());
    }
    if kind == 1 && !world.users.contains_key(&target) {
        return Err(ApiError::unknown_user());
    }
    let existing = channel.overwrites.iter().find(|o| o.id == target).copied();
    if existing.is_none() && channel.overwrites.len() >= MAX_OVERWRITES {
        return Err(ApiError::max_overwrites());
    }
    let held = channel_permissions(world, channel_id, actor, call.now);
    check_overwrite_grants(state, actor, &[overwrite], held, call)?;
    if let Some(channel) = world.channels.get_mut(&channel_id) {
        match channel.overwrites.iter_mut().find(|o| o.id == target) {
            Some(slot) => *slot = overwrite,
            None => channel.overwrites.push(overwrite),
        }
    }
    let action =
        if existing.is_some() { AuditAction::ChannelOverwriteUpdate } else { AuditAction::ChannelOverwriteCreate };
    world.audit(guild, actor, action, channel_id, call.reason);
    world.emit_channel("CHANNEL_UPDATE", channel_id);
    Ok(Reply::no_content())
}

/// `DELETE /channels/{channel_id}/permissions/{overwrite_id}` (MANAGE_ROLES in the channel): 204, or
/// 10009 when the channel has no overwrite for that id; CHANNEL_UPDATE.
pub(super) fn delete_overwrite(world: &mut World, call: &Call<'_>) -> Outcome {
    let (channel_id, actor) = channel_and_actor(world, call)?;
    let target = input::path_id(call, "overwrite_id")?;
    let channel = world.channels.get(&channel_id).ok_or_else(ApiError::unknown_channel)?;
    let Some(guild) = channel.guild_id else { return Err(ApiError::missing_permissions()) };
    require_in_channel(world, channel_id, actor, MANAGE_ROLES, call.now)?;
    if !channel.overwrites.iter().any(|o| o.id == target) {
        return Err(ApiError::unknown_overwrite());
    }
    if let Some(channel) = world.channels.get_mut(&channel_id) {
        channel.overwrites.retain(|o| o.id != target);
    }
    world.audit(guild, actor, AuditAction::ChannelOverwriteDelete, channel_id, call.reason);
    world.emit_channel("CHANNEL_UPDATE", channel_id);
    Ok(Reply::no_content())
}
