//! Guild-level routes: the guild itself and its settings, its preview, its channel list and
//! positions, and invites.

use serde_json::Value;

use super::input::{self, Patch};
use super::{Call, Outcome, Reply, guild_and_actor, require};
use crate::error::ApiError;
use crate::images::{Asset, ImageFormat, Sniffed, asset_hash};
use crate::json;
use crate::permissions::{MANAGE_CHANNELS, MANAGE_GUILD};
use crate::world::{AuditAction, World};

/// What Discord takes for icons, banners and splashes.
pub(crate) const IMAGE_FORMATS: &[ImageFormat] =
    &[ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Gif, ImageFormat::WebP];

/// The largest guild icon, banner or splash upload.
const GUILD_IMAGE_MAX: usize = 10 * 1024 * 1024;

/// The AFK timeouts Discord offers, in seconds.
pub(crate) const AFK_TIMEOUTS: &[i64] = &[60, 300, 900, 1800, 3600];

/// Features a guild's managers may turn on and off with `PATCH /guilds/{guild_id}`; the others are
/// Discord's to grant and are kept as they are.
const MUTABLE_FEATURES: &[&str] = &["COMMUNITY", "DISCOVERABLE", "INVITES_DISABLED", "RAID_ALERTS_DISABLED"];

/// Stores an uploaded guild or role image on the CDN under `{kind}/{owner}/{hash}` (dropping the
/// one it replaces) and answers its hash; `None` clears it.
pub(crate) fn store_image(
    world: &mut World,
    kind: &str,
    owner: u64,
    old: Option<&str>,
    new: Option<(Vec<u8>, Sniffed)>,
) -> Option<String> {
    if let Some(old) = old {
        world.cdn.remove(&format!("{kind}/{owner}/{old}"));
    }
    let (bytes, sniffed) = new?;
    let hash = asset_hash(&bytes, sniffed.animated);
    world.cdn.insert(format!("{kind}/{owner}/{hash}"), Asset { bytes, format: sniffed.format });
    Some(hash)
}

/// A guild channel setting: `Set` must name a channel of the guild of one of `kinds`.
fn channel_setting(
    world: &World,
    guild: u64,
    body: Option<&serde_json::Map<String, Value>>,
    name: &str,
    kinds: &[u8],
) -> Result<Patch<u64>, ApiError> {
    let value = input::snowflake(body, name)?;
    if let Patch::Set(channel) = value {
        let found = world.channels.get(&channel).filter(|c| c.guild_id == Some(guild));
        match found {
            None => return Err(ApiError::invalid_field(name, "CHANNEL_INVALID", "Unknown channel")),
            Some(c) if !kinds.contains(&c.kind) => {
                return Err(ApiError::invalid_field(name, "CHANNEL_TYPE_INVALID", "Invalid channel type"));
            }
            Some(_) => {}
        }
    }
    Ok(value)
}

fn set_channel(slot: &mut Option<u64>, value: Patch<u64>) {
    match value {
        Patch::Set(id) => *slot = Some(id),
        Patch::Null => *slot = None,
        Patch::Absent => {}
    }
}

/// `PATCH /guilds/{guild_id}` (MANAGE_GUILD): `name` (2 to 100), `description` (at most 300), `icon`,
/// `banner`, `splash`, `discovery_splash` (image data URIs, or null), `verification_level` (0 to 4),
/// `default_message_notifications` (0, 1), `explicit_content_filter` (0 to 2), `afk_channel_id` (a
/// voice channel), `afk_timeout` (60, 300, 900, 1800, 3600), `system_channel_id`,
/// `rules_channel_id`, `public_updates_channel_id`, `safety_alerts_channel_id` (text channels),
/// `system_channel_flags`, `preferred_locale` (Discord's locales), `premium_progress_bar_enabled`,
/// and `features` (only COMMUNITY, DISCOVERABLE, INVITES_DISABLED and RAID_ALERTS_DISABLED change).
/// Answers the guild; GUILD_UPDATE.
pub(super) fn update_guild(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    require(world, guild, actor, MANAGE_GUILD, call.now)?;
    let body = input::object(call)?;
    let name = input::string(body, "name", 2, 100)?;
    if name == Patch::Null {
        return Err(ApiError::required("name"));
    }
    let description = input::string(body, "description", 0, 300)?;
    let icon = input::image(body, "icon", IMAGE_FORMATS, GUILD_IMAGE_MAX)?;
    let banner = input::image(body, "banner", IMAGE_FORMATS, GUILD_IMAGE_MAX)?;
    let splash = input::image(body, "splash", IMAGE_FORMATS, GUILD_IMAGE_MAX)?;
    let discovery_splash = input::image(body, "discovery_splash", IMAGE_FORMATS, GUILD_IMAGE_MAX)?;
    let verification_level = input::choice(body, "verification_level", &[0, 1, 2, 3, 4])?;
    let notifications = input::choice(body, "default_message_notifications", &[0, 1])?;
    let content_filter = input::choice(body, "explicit_content_filter", &[0, 1, 2])?;
    let afk_timeout = input::choice(body, "afk_timeout", AFK_TIMEOUTS)?;
    let afk_channel = channel_setting(world, guild, body, "afk_channel_id", &[2])?;
    let system_channel = channel_setting(world, guild, body, "system_channel_id", &[0])?;
    let rules_channel = channel_setting(world, guild, body, "rules_channel_id", &[0])?;
    let updates_channel = channel_setting(world, guild, body, "public_updates_channel_id", &[0])?;
    let safety_channel = channel_setting(world, guild, body, "safety_alerts_channel_id", &[0])?;
    let system_flags = input::integer(body, "system_channel_flags", 0, (1 << 6) - 1)?;
    let locale = input::string(body, "preferred_locale", 0, 10)?;
    if let Patch::Set(locale) = &locale
        && !crate::commands::LOCALES.contains(&locale.as_str())
    {
        return Err(input::choices("preferred_locale", crate::commands::LOCALES));
    }
    let progress_bar = input::boolean(body, "premium_progress_bar_enabled")?;
    input::string(body, "region", 0, 100)?;
    let features = match input::list(body, "features")? {
        Patch::Set(items) => {
            let mut wanted = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let feature = item.as_str().ok_or_else(|| ApiError::wrong_type(&format!("features.{i}"), "string"))?;
                wanted.push(feature.to_owned());
            }
            Some(wanted)
        }
        Patch::Null | Patch::Absent => None,
    };

    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let old = state.info.clone();
    let icon = match icon {
        Patch::Absent => old.icon.clone(),
        Patch::Null => store_image(world, "icons", guild, old.icon.as_deref(), None),
        Patch::Set(image) => store_image(world, "icons", guild, old.icon.as_deref(), Some(image)),
    };
    let banner = match banner {
        Patch::Absent => old.banner.clone(),
        Patch::Null => store_image(world, "banners", guild, old.banner.as_deref(), None),
        Patch::Set(image) => store_image(world, "banners", guild, old.banner.as_deref(), Some(image)),
    };
    let splash = match splash {
        Patch::Absent => old.splash.clone(),
        Patch::Null => store_image(world, "splashes", guild, old.splash.as_deref(), None),
        Patch::Set(image) => store_image(world, "splashes", guild, old.splash.as_deref(), Some(image)),
    };
    let discovery_splash = match discovery_splash {
        Patch::Absent => old.discovery_splash.clone(),
        Patch::Null => store_image(world, "discovery-splashes", guild, old.discovery_splash.as_deref(), None),
        Patch::Set(image) => {
            store_image(world, "discovery-splashes", guild, old.discovery_splash.as_deref(), Some(image))
        }
    };
    let info = &mut world.guild_mut(guild).info;
    info.icon = icon;
    info.banner = banner;
    info.splash = splash;
    info.discovery_splash = discovery_splash;
    if let Patch::Set(name) = name {
        info.name = name;
    }
    match description {
        Patch::Set(text) if !text.is_empty() => info.description = Some(text),
        Patch::Set(_) | Patch::Null => info.description = None,
        Patch::Absent => {}
    }
    let small = |value: Patch<i64>| value.set().and_then(|v| u8::try_from(v).ok());
    if let Some(level) = small(verification_level) {
        info.verification_level = level;
    }
    if let Some(level) = small(notifications) {
        info.default_message_notifications = level;
    }
    if let Some(level) = small(content_filter) {
        info.explicit_content_filter = level;
    }
    if let Some(seconds) = afk_timeout.set().and_then(|v| u32::try_from(v).ok()) {
        info.afk_timeout = seconds;
    }
    set_channel(&mut info.afk_channel_id, afk_channel);
    set_channel(&mut info.system_channel_id, system_channel);
    set_channel(&mut info.rules_channel_id, rules_channel);
    set_channel(&mut info.public_updates_channel_id, updates_channel);
    set_channel(&mut info.safety_alerts_channel_id, safety_channel);
    if let Some(flags) = system_flags.set().and_then(|v| u64::try_from(v).ok()) {
        info.system_channel_flags = flags;
    }
    match locale {
        Patch::Set(locale) => info.preferred_locale = locale,
        Patch::Null => info.preferred_locale = "en-US".to_owned(),
        Patch::Absent => {}
    }
    if let Patch::Set(enabled) = progress_bar {
        info.premium_progress_bar_enabled = enabled;
    }
    if let Some(wanted) = features {
        let mut next: Vec<String> =
            info.features.iter().filter(|f| !MUTABLE_FEATURES.contains(&f.as_str())).cloned().collect();
        for feature in MUTABLE_FEATURES {
            if wanted.iter().any(|w| w == feature) {
                next.push((*feature).to_owned());
            }
        }
        info.features = next;
    }
    world.audit(guild, actor, AuditAction::GuildUpdate, guild, call.reason);
    world.emit_guild_update(guild);
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    Ok(Reply::ok(json::guild(world, state, false)))
}

/// `GET /guilds/{guild_id}` (`?with_counts=true` adds approximate counts).
pub(super) fn get_guild(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, _) = guild_and_actor(world, call)?;
    let with_counts = input::query_flag(call, "with_counts")?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    Ok(Reply::ok(json::guild(world, state, with_counts)))
}

/// `GET /guilds/{guild_id}/preview`: for members, and for anyone when the guild is discoverable.
pub(super) fn get_preview(world: &mut World, call: &Call<'_>) -> Outcome {
    let guild = input::path_id(call, "guild_id")?;
    let actor = call.actor()?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let discoverable = state.info.features.iter().any(|f| f == "DISCOVERABLE");
    if !discoverable && !state.members.contains_key(&actor) {
        return Err(ApiError::unknown_guild());
    }
    Ok(Reply::ok(json::guild_preview(world, state)))
}

/// `GET /guilds/{guild_id}/channels`: every channel, by position.
pub(super) fn list_channels(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, _) = guild_and_actor(world, call)?;
    let mut channels: Vec<_> = world.channels.values().filter(|c| c.guild_id == Some(guild)).collect();
    channels.sort_by_key(|c| (c.position, c.id));
    Ok(Reply::ok(Value::Array(channels.into_iter().map(|c| json::channel(world, c, None)).collect())))
}

/// One entry of a channel positions PATCH.
struct Move {
    channel: u64,
    position: Option<i32>,
    parent: Patch<u64>,
    lock_permissions: bool,
}

/// `PATCH /guilds/{guild_id}/channels` (MANAGE_CHANNELS): sets positions and, optionally, parents
/// (`lock_permissions` copies the new parent's overwrites).
pub(super) fn reorder_channels(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    require(world, guild, actor, MANAGE_CHANNELS, call.now)?;
    let mut moves = Vec::new();
    for (i, item) in input::array(call)?.iter().enumerate() {
        let entry = item.as_object().ok_or_else(|| ApiError::wrong_type(&i.to_string(), "object"))?;
        let at = |field: &str| format!("{i}.{field}");
        let channel = match input::snowflake(Some(entry), "id").map_err(|e| input::under_index(e, i))? {
            Patch::Set(id) => id,
            Patch::Absent | Patch::Null => return Err(ApiError::required(&at("id"))),
        };
        if world.channels.get(&channel).is_none_or(|c| c.guild_id != Some(guild)) {
            return Err(ApiError::unknown_channel());
        }
        let position = input::integer(Some(entry), "position", 0, i64::from(i32::MAX))
            .map_err(|e| input::under_index(e, i))?
            .set()
            .and_then(|p| i32::try_from(p).ok());
        let parent = input::snowflake(Some(entry), "parent_id").map_err(|e| input::under_index(e, i))?;
        if let Patch::Set(parent) = parent {
            let is_category = world.channels.get(&parent).is_some_and(|c| c.kind == 4 && c.guild_id == Some(guild));
            let moving_category = world.channels.get(&channel).is_some_and(|c| c.kind == 4);
            if !is_category || moving_category {
                return Err(ApiError::invalid_field(
                    &at("parent_id"),
                    "CHANNEL_PARENT_INVALID_TYPE",
                    "Invalid parent channel type",
                ));
            }
        }
        let lock_permissions = input::boolean(Some(entry), "lock_permissions").map_err(|e| input::under_index(e, i))?;
        moves.push(Move { channel, position, parent, lock_permissions: lock_permissions.set().unwrap_or(false) });
    }
    for change in moves {
        let parent_overwrites = match change.parent {
            Patch::Set(parent) => world.channels.get(&parent).map(|p| p.overwrites.clone()),
            Patch::Absent | Patch::Null => None,
        };
        if let Some(channel) = world.channels.get_mut(&change.channel) {
            if let Some(position) = change.position {
                channel.position = position;
            }
            match change.parent {
                Patch::Set(parent) => channel.parent_id = Some(parent),
                Patch::Null => channel.parent_id = None,
                Patch::Absent => {}
            }
            if let (true, Some(overwrites)) = (change.lock_permissions, parent_overwrites) {
                channel.overwrites = overwrites;
            }
        }
        world.audit(guild, actor, AuditAction::ChannelUpdate, change.channel, call.reason);
        world.emit_channel("CHANNEL_UPDATE", change.channel);
    }
    Ok(Reply::no_content())
}

/// `GET /invites/{code}` (`?with_counts=true` adds approximate counts); no bot token needed.
pub(super) fn get_invite(world: &mut World, call: &Call<'_>) -> Outcome {
    let invite = world.invites.get(call.param("code")).ok_or_else(ApiError::unknown_invite)?;
    if !world.guilds.contains_key(&invite.guild_id) || !world.channels.contains_key(&invite.channel_id) {
        return Err(ApiError::unknown_invite());
    }
    let with_counts = input::query_flag(call, "with_counts")?;
    Ok(Reply::ok(json::invite(world, invite, with_counts)))
}
