//! Custom emojis (`/guilds/{guild_id}/emojis`) and stickers (`/guilds/{guild_id}/stickers`):
//! uploads checked as Discord checks them (formats, sizes, names, slots per boost tier), kept on the
//! simulator's CDN, under CREATE_GUILD_EXPRESSIONS and MANAGE_GUILD_EXPRESSIONS.

use serde_json::Value;

use super::input::{self, Patch};
use super::{Call, Outcome, Reply, guild_and_actor};
use crate::error::ApiError;
use crate::images::{self, ImageFormat, Refusal};
use crate::json;
use crate::permissions::{self, CREATE_GUILD_EXPRESSIONS, MANAGE_GUILD_EXPRESSIONS};
use crate::world::{AuditAction, EmojiView, GuildState, StickerView, World};

/// The largest emoji upload (256 KiB).
pub const MAX_EMOJI_BYTES: usize = 256 * 1024;
/// The largest sticker upload (512 KiB).
pub const MAX_STICKER_BYTES: usize = 512 * 1024;
/// Static (and, separately, animated) emoji slots by boost tier.
pub const EMOJI_SLOTS: [usize; 4] = [50, 100, 150, 250];
/// Sticker slots by boost tier.
pub const STICKER_SLOTS: [usize; 4] = [5, 15, 30, 60];

const EMOJI_FORMATS: &[ImageFormat] = &[ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Gif, ImageFormat::WebP];

fn state(world: &World, guild: u64) -> Result<&GuildState, ApiError> {
    world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)
}

fn tier(state: &GuildState) -> usize {
    usize::from(state.info.premium_tier.min(3))
}

/// The caller's expression permissions: (may create, may manage everyone's).
fn expression_rights(state: &GuildState, actor: u64, call: &Call<'_>) -> (bool, bool) {
    let held = permissions::guild_permissions(state, actor, call.now);
    let manage = held & MANAGE_GUILD_EXPRESSIONS != 0;
    (manage || held & CREATE_GUILD_EXPRESSIONS != 0, manage)
}

/// 50013 unless the caller may edit or delete an expression made by `creator`: their own with either
/// permission, anyone's with MANAGE_GUILD_EXPRESSIONS.
fn require_edit(state: &GuildState, actor: u64, creator: Option<u64>, call: &Call<'_>) -> Result<(), ApiError> {
    let (create, manage) = expression_rights(state, actor, call);
    if manage || (create && creator == Some(actor)) { Ok(()) } else { Err(ApiError::missing_permissions()) }
}

/// An emoji name: 2 to 32 letters, digits and underscores.
fn emoji_name(body: Option<&serde_json::Map<String, Value>>) -> Result<Patch<String>, ApiError> {
    let name = input::string(body, "name", 2, 32)?;
    if let Patch::Set(text) = &name
        && !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(ApiError::invalid_field(
            "name",
            "STRING_TYPE_REGEX",
            "String value did not match validation regex.",
        ));
    }
    Ok(name)
}

fn emoji_roles(state: &GuildState, body: Option<&serde_json::Map<String, Value>>) -> Result<Patch<Vec<u64>>, ApiError> {
    let roles = input::snowflakes(body, "roles", 1521)?;
    if let Patch::Set(roles) = &roles
        && roles.iter().any(|r| !state.roles.contains_key(r))
    {
        return Err(ApiError::unknown_role());
    }
    Ok(roles)
}

/// `GET /guilds/{guild_id}/emojis` (members; with `user` for callers with either expression
/// permission).
pub(super) fn list_emojis(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let state = state(world, guild)?;
    let (with_user, _) = expression_rights(state, actor, call);
    Ok(Reply::ok(Value::Array(state.emojis.values().map(|e| json::emoji(world, e, with_user)).collect())))
}

/// `GET /guilds/{guild_id}/emojis/{emoji_id}` (10014 for an unknown one).
pub(super) fn get_emoji(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let id = input::path_id(call, "emoji_id")?;
    let state = state(world, guild)?;
    let emoji = state.emojis.get(&id).ok_or_else(ApiError::unknown_emoji)?;
    let (with_user, _) = expression_rights(state, actor, call);
    Ok(Reply::ok(json::emoji(world, emoji, with_user)))
}

/// `POST /guilds/{guild_id}/emojis` (CREATE_GUILD_EXPRESSIONS or MANAGE_GUILD_EXPRESSIONS): `name`
/// (2 to 32 letters, digits, underscores), `image` (a data URI of a PNG, JPEG, GIF or WebP that
/// decodes, at most 256 KiB; animated GIFs and WebPs make animated emojis), `roles`. Static and
/// animated emojis each have 50, 100, 150 or 250 slots by boost tier (30008, 30018). 201 with the
/// emoji; GUILD_EMOJIS_UPDATE.
pub(super) fn create_emoji(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let (create, _) = expression_rights(state(world, guild)?, actor, call);
    if !create {
        return Err(ApiError::missing_permissions());
    }
    let body = input::object(call)?;
    let Patch::Set(name) = emoji_name(body)? else { return Err(ApiError::required("name")) };
    let Patch::Set((bytes, sniffed)) = input::image(body, "image", EMOJI_FORMATS, MAX_EMOJI_BYTES)? else {
        return Err(ApiError::required("image"));
    };
    let state = state(world, guild)?;
    let roles = emoji_roles(state, body)?.set().unwrap_or_default();
    let slots = EMOJI_SLOTS[tier(state)];
    let same_kind = state.emojis.values().filter(|e| e.animated == sniffed.animated).count();
    if same_kind >= slots {
        return Err(if sniffed.animated { ApiError::max_animated_emojis(slots) } else { ApiError::max_emojis(slots) });
    }
    let id = world.next_id();
    let emoji = EmojiView {
        id,
        guild_id: guild,
        name,
        roles,
        animated: sniffed.animated,
        managed: false,
        available: true,
        creator_id: Some(actor),
        format: sniffed.format,
    };
    let body = json::emoji(world, &emoji, true);
    world.insert_emoji(emoji, bytes);
    world.audit(guild, actor, AuditAction::EmojiCreate, id, call.reason);
    Ok(Reply { status: 201, body: Some(body) })
}

/// `PATCH /guilds/{guild_id}/emojis/{emoji_id}` (one's own with either expression permission, any
/// with MANAGE_GUILD_EXPRESSIONS): `name`, `roles`. GUILD_EMOJIS_UPDATE.
pub(super) fn update_emoji(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let id = input::path_id(call, "emoji_id")?;
    let state = state(world, guild)?;
    let emoji = state.emojis.get(&id).ok_or_else(ApiError::unknown_emoji)?;
    require_edit(state, actor, emoji.creator_id, call)?;
    let body = input::object(call)?;
    let name = emoji_name(body)?;
    if name == Patch::Null {
        return Err(ApiError::required("name"));
    }
    let roles = emoji_roles(state, body)?;
    let Some(emoji) = world.guild_mut(guild).emojis.get_mut(&id) else { return Err(ApiError::unknown_emoji()) };
    if let Patch::Set(name) = name {
        emoji.name = name;
    }
    match roles {
        Patch::Set(roles) => emoji.roles = roles,
        Patch::Null => emoji.roles.clear(),
        Patch::Absent => {}
    }
    world.audit(guild, actor, AuditAction::EmojiUpdate, id, call.reason);
    world.emit_emojis_update(guild);
    let emoji = state_emoji(world, guild, id)?;
    Ok(Reply::ok(json::emoji(world, emoji, true)))
}

fn state_emoji(world: &World, guild: u64, id: u64) -> Result<&EmojiView, ApiError> {
    state(world, guild)?.emojis.get(&id).ok_or_else(ApiError::unknown_emoji)
}

/// `DELETE /guilds/{guild_id}/emojis/{emoji_id}` (as for editing): 204; GUILD_EMOJIS_UPDATE.
pub(super) fn delete_emoji(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let id = input::path_id(call, "emoji_id")?;
    let state = state(world, guild)?;
    let emoji = state.emojis.get(&id).ok_or_else(ApiError::unknown_emoji)?;
    require_edit(state, actor, emoji.creator_id, call)?;
    world.guild_mut(guild).emojis.remove(&id);
    world.cdn.remove(&format!("emojis/{id}"));
    world.audit(guild, actor, AuditAction::EmojiDelete, id, call.reason);
    world.emit_emojis_update(guild);
    Ok(Reply::no_content())
}

/// `GET /guilds/{guild_id}/stickers` (members; `user` as for emojis).
pub(super) fn list_stickers(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let state = state(world, guild)?;
    let (with_user, _) = expression_rights(state, actor, call);
    Ok(Reply::ok(Value::Array(state.stickers.values().map(|s| json::sticker(world, s, with_user)).collect())))
}

/// `GET /guilds/{guild_id}/stickers/{sticker_id}` (10060 for an unknown one).
pub(super) fn get_sticker(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let id = input::path_id(call, "sticker_id")?;
    let state = state(world, guild)?;
    let sticker = state.stickers.get(&id).ok_or_else(ApiError::unknown_sticker)?;
    let (with_user, _) = expression_rights(state, actor, call);
    Ok(Reply::ok(json::sticker(world, sticker, with_user)))
}

/// The text fields of a sticker: `name` (2 to 30), `description` (empty, or 2 to 100), `tags` (1 to
/// 200), from a JSON object or a multipart form.
struct StickerText {
    name: Patch<String>,
    description: Patch<String>,
    tags: Patch<String>,
}

fn sticker_text(body: Option<&serde_json::Map<String, Value>>) -> Result<StickerText, ApiError> {
    let description = input::string(body, "description", 0, 100)?;
    if let Patch::Set(text) = &description
        && text.chars().count() == 1
    {
        return Err(ApiError::invalid_field(
            "description",
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 2 and 100 in length.",
        ));
    }
    Ok(StickerText {
        name: input::string(body, "name", 2, 30)?,
        description,
        tags: input::string(body, "tags", 1, 200)?,
    })
}

/// What a sticker file is: its `format_type` (1 PNG, 2 APNG, 3 LOTTIE, 4 GIF).
fn sticker_file(state: &GuildState, bytes: &[u8]) -> Result<u8, ApiError> {
    if bytes.len() > MAX_STICKER_BYTES {
        return Err(input::image_error("file", Refusal::TooLarge(MAX_STICKER_BYTES)));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let (width, height) = images::lottie_size(bytes).ok_or_else(ApiError::invalid_lottie)?;
        if width > 320 || height > 320 {
            return Err(ApiError::lottie_too_large());
        }
        let allowed = state.info.features.iter().any(|f| f == "VERIFIED" || f == "PARTNERED");
        if !allowed {
            return Err(ApiError::invalid_field(
                "file",
                "LOTTIE_NOT_ALLOWED",
                "Lottie stickers require the VERIFIED or PARTNERED guild feature.",
            ));
        }
        return Ok(3);
    }
    match images::validate_image(bytes, &[ImageFormat::Png, ImageFormat::Gif], MAX_STICKER_BYTES) {
        Ok(sniffed) if sniffed.format == ImageFormat::Gif => Ok(4),
        Ok(sniffed) => Ok(if sniffed.animated { 2 } else { 1 }),
        Err(Refusal::TooLarge(max)) => Err(input::image_error("file", Refusal::TooLarge(max))),
        Err(Refusal::NotDataUri | Refusal::Invalid) => Err(ApiError::invalid_asset()),
    }
}

/// `POST /guilds/{guild_id}/stickers` (CREATE_GUILD_EXPRESSIONS or MANAGE_GUILD_EXPRESSIONS): a
/// multipart form with `name`, `tags`, `description` and the `file` (PNG, APNG or GIF, or Lottie JSON
/// in VERIFIED or PARTNERED guilds; at most 512 KiB). 5, 15, 30 or 60 slots by boost tier (30039).
/// 201 with the sticker; GUILD_STICKERS_UPDATE.
pub(super) fn create_sticker(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let (create, _) = expression_rights(state(world, guild)?, actor, call);
    if !create {
        return Err(ApiError::missing_permissions());
    }
    let form: serde_json::Map<String, Value> =
        call.form.iter().map(|(name, value)| (name.clone(), Value::String(value.clone()))).collect();
    let text = sticker_text(Some(&form))?;
    let Patch::Set(name) = text.name else { return Err(ApiError::required("name")) };
    let Patch::Set(tags) = text.tags else { return Err(ApiError::required("tags")) };
    let Some((_, _, _, bytes)) = call.files.iter().find(|(field, ..)| field == "file") else {
        return Err(ApiError::required("file"));
    };
    let state = state(world, guild)?;
    let format_type = sticker_file(state, bytes)?;
    let slots = STICKER_SLOTS[tier(state)];
    if state.stickers.len() >= slots {
        return Err(ApiError::max_stickers(slots));
    }
    let id = world.next_id();
    let sticker = StickerView {
        id,
        guild_id: guild,
        name,
        description: text.description.set().filter(|d| !d.is_empty()),
        tags,
        format_type,
        available: true,
        creator_id: Some(actor),
    };
    let body = json::sticker(world, &sticker, true);
    world.insert_sticker(sticker, bytes.clone());
    world.audit(guild, actor, AuditAction::StickerCreate, id, call.reason);
    Ok(Reply { status: 201, body: Some(body) })
}

/// `PATCH /guilds/{guild_id}/stickers/{sticker_id}` (as for emojis): `name`, `description`, `tags`.
/// GUILD_STICKERS_UPDATE.
pub(super) fn update_sticker(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let id = input::path_id(call, "sticker_id")?;
    let state = state(world, guild)?;
    let sticker = state.stickers.get(&id).ok_or_else(ApiError::unknown_sticker)?;
    require_edit(state, actor, sticker.creator_id, call)?;
    let text = sticker_text(input::object(call)?)?;
    if text.name == Patch::Null || text.tags == Patch::Null {
        return Err(ApiError::required(if text.name == Patch::Null { "name" } else { "tags" }));
    }
    let Some(sticker) = world.guild_mut(guild).stickers.get_mut(&id) else { return Err(ApiError::unknown_sticker()) };
    if let Patch::Set(name) = text.name {
        sticker.name = name;
    }
    if let Patch::Set(tags) = text.tags {
        sticker.tags = tags;
    }
    match text.description {
        Patch::Set(text) if !text.is_empty() => sticker.description = Some(text),
        Patch::Set(_) | Patch::Null => sticker.description = None,
        Patch::Absent => {}
    }
    world.audit(guild, actor, AuditAction::StickerUpdate, id, call.reason);
    world.emit_stickers_update(guild);
    let sticker = world.guilds.get(&guild).and_then(|g| g.stickers.get(&id)).ok_or_else(ApiError::unknown_sticker)?;
    Ok(Reply::ok(json::sticker(world, sticker, true)))
}

/// `DELETE /guilds/{guild_id}/stickers/{sticker_id}` (as for editing): 204; GUILD_STICKERS_UPDATE.
pub(super) fn delete_sticker(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let id = input::path_id(call, "sticker_id")?;
    let state = state(world, guild)?;
    let sticker = state.stickers.get(&id).ok_or_else(ApiError::unknown_sticker)?;
    require_edit(state, actor, sticker.creator_id, call)?;
    world.guild_mut(guild).stickers.remove(&id);
    world.cdn.remove(&format!("stickers/{id}"));
    world.audit(guild, actor, AuditAction::StickerDelete, id, call.reason);
    world.emit_stickers_update(guild);
    Ok(Reply::no_content())
}
