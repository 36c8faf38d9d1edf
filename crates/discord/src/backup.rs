//! Backups' port ([`BackupBot`]) over the adapter's bots: what a backup reads of a guild, in the backup
//! format's types, and each change a restore makes, as one Discord call (a forum's update also reads
//! the channel first, to keep its tags' ids).
//!
//! Every call goes through [`TwilightBot`]'s machinery: the shared transport, the bot's own rate
//! limiter, Discord's 429s and the refusal budget, and [`crate::errors`] for Discord's failures.
//! twilight's typed requests are used where they say what a backup needs; Garrison's own JSON where
//! they cannot (channels, whose forum tags twilight wants ids for and whose update lacks
//! `default_auto_archive_duration`; AutoMod rules kept as Discord's JSON; onboarding, whose options
//! twilight writes with an `emoji` object where Discord takes `emoji_id` / `emoji_name`; the guild's
//! settings, `description` included; a sticker's edit, which twilight cannot clear the description
//! of; a sticker's upload, whose file part needs a file name and a content type).
//!
//! Images go up as data URIs (`data:image/png;base64,...`, the type sniffed from the bytes) and come
//! down only from the configured CDN ([`Cdn`]).

mod json;

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};

use garrison_core::{
    ServerId,
    backups::{
        format::{
            AutoModRule, Ban, CATEGORY, Channel, Emoji, GuildSettings, Id, MemberRoles, Onboarding, OverwriteKind,
            Role, Sticker,
        },
        port::{BackupBot, GuildRead, Image, ImageUrl, Standing, Write},
    },
    discord::{DISCORD_EPOCH_MS, DiscordError, DiscordFuture, Permissions, Snowflake, Unknown, base_permissions},
};
use serde::de::IgnoredAny;
use serde_json::{Map, Value, json};
use twilight_http::{
    request::{AuditLogReason, Form, Request},
    routing::Route,
};
use twilight_model::{
    guild::{Permissions as TwilightPermissions, RoleColors as TwilightColors, RolePosition},
    http::channel_position::Position,
};

use crate::{TwilightBot, errors, id, raw};

/// Discord's largest page of bans or members.
const PAGE: u16 = 1000;

/// Users one bulk ban may name.
const MAX_BULK_BAN: usize = 200;

/// Discord's code for a bulk ban that banned nobody (everyone unknown, already banned, ...).
const FAILED_TO_BAN_USERS: u64 = 500_000;

/// A backup id as a twilight id (zero is no id Discord gives).
fn tid<M>(value: Id) -> Result<twilight_model::id::Id<M>, DiscordError> {
    twilight_model::id::Id::new_checked(value.0).ok_or_else(|| DiscordError::Rejected("an id of 0".into()))
}

fn tids<M>(values: &[Id]) -> Result<Vec<twilight_model::id::Id<M>>, DiscordError> {
    values.iter().map(|v| tid(*v)).collect()
}

fn server_id(guild: ServerId) -> u64 {
    guild.snowflake().get()
}

/// What an image's bytes are, by their signature: `(MIME type, file extension)`.
fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    let mime = garrison_core::discord::looks::image_mime(bytes)?;
    let extension = match mime {
        "image/png" => "png",
        "image/gif" => "gif",
        "image/jpeg" => "jpg",
        _ => "webp",
    };
    Some((mime, extension))
}

/// An image as Discord takes it in JSON: `data:image/png;base64,...`, the type sniffed from the bytes.
fn data_uri(image: &Image) -> Result<String, DiscordError> {
    let (mime, _) = sniff(&image.0)
        .ok_or_else(|| DiscordError::Rejected("the image is not a PNG, GIF, JPEG or WebP file".into()))?;
    Ok(format!("data:{mime};base64,{}", STANDARD.encode(&image.0)))
}

/// A sticker file's content type and extension: PNG (APNG too), GIF, or Lottie JSON.
fn sticker_file_type(bytes: &[u8]) -> Result<(&'static str, &'static str), DiscordError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return Ok(("application/json", "json"));
    }
    match sniff(bytes) {
        Some(found @ ("image/png" | "image/gif", _)) => Ok(found),
        _ => Err(DiscordError::Rejected("a sticker is a PNG, APNG, GIF or Lottie JSON file".into())),
    }
}

/// A `multipart/form-data` body as Discord's clients send a sticker: text fields, then the file with
/// its name and content type (twilight's own form gives a file part neither). Answers twilight's
/// `(boundary, buffer)`: its random boundary, and the buffer without the final `--` that twilight adds.
fn sticker_form(fields: &[(&str, &str)], file: &[u8], filename: &str, content_type: &str) -> ([u8; 15], Vec<u8>) {
    let (boundary, mut buffer) = Form::new().into_parts();
    buffer.reserve(file.len() + 512);
    for (name, value) in fields {
        buffer.extend_from_slice(format!("\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes());
        buffer.extend_from_slice(value.as_bytes());
        buffer.extend_from_slice(b"\r\n--");
        buffer.extend_from_slice(&boundary);
    }
    let disposition = format!("Content-Disposition: form-data; name=\"file\"; filename=\"{filename}\"");
    buffer.extend_from_slice(format!("\r\n{disposition}\r\nContent-Type: {content_type}\r\n\r\n").as_bytes());
    buffer.extend_from_slice(file);
    buffer.extend_from_slice(b"\r\n--");
    buffer.extend_from_slice(&boundary);
    (boundary, buffer)
}

/// A base URL images are served under: `https://cdn.discordapp.com`, `http://127.0.0.1:8090/sim/cdn`.
#[derive(Debug)]
struct Base {
    /// Without a trailing slash.
    text: String,
    parsed: reqwest::Url,
}

impl Base {
    fn new(url: &str) -> Result<Self, String> {
        let text = url.trim_end_matches('/');
        let parsed = reqwest::Url::parse(text).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.host_str().is_none_or(str::is_empty)
            || !parsed.username().is_empty()
            || parsed.password().is_some()
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(format!("must be http:// or https://, a host and an optional path, got {url:?}"));
        }
        Ok(Self { text: text.to_owned(), parsed })
    }

    /// Whether `url` (parsed, so `..` and its encodings are resolved) is a file under the base.
    fn holds(&self, url: &reqwest::Url) -> bool {
        let base = &self.parsed;
        let prefix = format!("{}/", base.path().trim_end_matches('/'));
        url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none()
            && url.path().starts_with(&prefix)
            && url.path().len() > prefix.len()
    }
}

/// Where Discord serves images (its CDN, or a stand-in's), and the only place backups download from.
#[derive(Debug)]
pub(crate) struct Cdn {
    base: Base,
    /// Where GIF stickers are, when not on the CDN: Discord serves them on `media.discordapp.net`.
    gif_stickers: Option<Base>,
    /// Never follows redirects, times out, sends no token.
    http: reqwest::Client,
}

impl Cdn {
    /// The CDN at `url` (a scheme, a host and an optional path: `http://127.0.0.1:8090/sim/cdn`), with
    /// GIF stickers under `gif_stickers` when they are elsewhere.
    pub(crate) fn new(url: &str, gif_stickers: Option<&str>, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()
            .map_err(|e| format!("the HTTP client could not be built: {e}"))?;
        Ok(Self { base: Base::new(url)?, gif_stickers: gif_stickers.map(Base::new).transpose()?, http })
    }

    /// The URL of `path` (`icons/1/abc.png`) on the CDN.
    fn url(&self, path: &str) -> ImageUrl {
        ImageUrl(format!("{}/{path}", self.base.text))
    }

    /// A sticker's file: `stickers/{id}.png` (PNG, APNG), `.json` (Lottie) or `.gif`.
    fn sticker_url(&self, sticker: Id, format: u8) -> ImageUrl {
        match (format, &self.gif_stickers) {
            (4, Some(media)) => ImageUrl(format!("{}/stickers/{sticker}.gif", media.text)),
            (4, None) => self.url(&format!("stickers/{sticker}.gif")),
            (3, _) => self.url(&format!("stickers/{sticker}.json")),
            _ => self.url(&format!("stickers/{sticker}.png")),
        }
    }

    fn holds(&self, url: &reqwest::Url) -> bool {
        self.base.holds(url) || self.gif_stickers.as_ref().is_some_and(|media| media.holds(url))
    }

    /// Downloads an image of the CDN, at most `max_bytes` of it: anything larger is an error (never cut
    /// short), as is a URL elsewhere, a redirect, or an answer other than 200.
    pub(crate) async fn download(&self, url: &ImageUrl, max_bytes: u64) -> Result<Vec<u8>, DiscordError> {
        let parsed = reqwest::Url::parse(&url.0)
            .ok()
            .filter(|u| self.holds(u))
            .ok_or_else(|| DiscordError::Rejected("images are only downloaded from Discord's CDN".into()))?;
        let too_large = || DiscordError::Rejected(format!("the image is larger than {max_bytes} bytes"));
        let unreachable = |e: reqwest::Error| {
            if e.is_timeout() {
                DiscordError::Unavailable("Discord's CDN did not answer in time".into())
            } else {
                tracing::debug!(error = %e.without_url(), "Discord's CDN could not be reached");
                DiscordError::Unavailable("Discord's CDN could not be reached".into())
            }
        };
        let mut response = self.http.get(parsed).send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        match status {
            200 => {}
            500.. => return Err(DiscordError::Unavailable(format!("Discord's CDN answered {status}"))),
            300..=399 => return Err(DiscordError::Rejected("Discord's CDN redirected; not followed".into())),
            _ => return Err(DiscordError::Rejected(format!("Discord's CDN answered {status}"))),
        }
        if response.content_length().is_some_and(|length| length > max_bytes) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if u64::try_from(bytes.len() + chunk.len()).unwrap_or(u64::MAX) > max_bytes {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

/// An id as Discord writes it in JSON.
fn text(id: Id) -> Value {
    Value::String(id.to_string())
}

fn texts(ids: &[Id]) -> Value {
    Value::Array(ids.iter().map(|id| text(*id)).collect())
}

fn optional(id: Option<Id>) -> Value {
    id.map_or(Value::Null, text)
}

/// The JSON of a channel, for `POST /guilds/{guild_id}/channels` (with `type` and `position`) or
/// `PATCH /channels/{channel_id}`: every field of its type, its parent and all its overwrites.
/// `tag_ids` are the ids of existing tags to keep, by the index of the channel's tags.
fn channel_body(channel: &Channel, create: bool, tag_ids: &[Option<Id>]) -> Value {
    let kind = channel.kind;
    let text_like = matches!(kind, 0 | 5 | 15 | 16);
    let voice = matches!(kind, 2 | 13);
    let forum = matches!(kind, 15 | 16);
    let mut body = Map::new();
    body.insert("name".into(), json!(channel.name));
    // Only text and announcement channels change type (with NEWS); others are sent it on creation.
    if create || matches!(kind, 0 | 5) {
        body.insert("type".into(), json!(kind));
    }
    if create && channel.position >= 0 {
        body.insert("position".into(), json!(channel.position));
    }
    body.insert("nsfw".into(), json!(channel.nsfw));
    if kind != CATEGORY {
        body.insert("parent_id".into(), optional(channel.parent));
        body.insert("rate_limit_per_user".into(), json!(channel.rate_limit_per_user));
    }
    let overwrites: Vec<Value> = channel
        .overwrites
        .iter()
        .map(|o| {
            json!({
                "id": text(o.id),
                "type": if o.kind == OverwriteKind::Member { 1 } else { 0 },
                "allow": o.allow.0.to_string(),
                "deny": o.deny.0.to_string(),
            })
        })
        .collect();
    body.insert("permission_overwrites".into(), Value::Array(overwrites));
    if text_like {
        body.insert("topic".into(), json!(channel.topic));
        if let Some(minutes) = channel.default_auto_archive_duration {
            body.insert("default_auto_archive_duration".into(), json!(minutes));
        }
    }
    if voice {
        if let Some(bitrate) = channel.bitrate {
            body.insert("bitrate".into(), json!(bitrate));
        }
        if let Some(limit) = channel.user_limit {
            body.insert("user_limit".into(), json!(limit));
        }
        body.insert("rtc_region".into(), json!(channel.rtc_region));
    }
    if forum {
        let tags: Vec<Value> = channel
            .available_tags
            .iter()
            .enumerate()
            .map(|(i, tag)| {
                let mut out = json!({
                    "name": tag.name,
                    "moderated": tag.moderated,
                    "emoji_id": optional(tag.emoji_id),
                    "emoji_name": tag.emoji_name,
                });
                if let Some(Some(id)) = tag_ids.get(i) {
                    out["id"] = text(*id);
                }
                out
            })
            .collect();
        body.insert("available_tags".into(), Value::Array(tags));
        body.insert("default_reaction_emoji".into(), reaction(channel.default_reaction_emoji.as_deref()));
    }
    Value::Object(body)
}

/// A default reaction from the format's text: decimal digits are a custom emoji's id, anything else a
/// Unicode emoji.
fn reaction(emoji: Option<&str>) -> Value {
    match emoji {
        None | Some("") => Value::Null,
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => {
            json!({"emoji_id": digits, "emoji_name": null})
        }
        Some(name) => json!({"emoji_id": null, "emoji_name": name}),
    }
}

/// The ids of a forum's existing tags to keep, by the new tags' index: the first unused tag of the
/// same name.
fn matching_tags(channel: &Channel, existing: &[json::TagJson]) -> Vec<Option<Id>> {
    let mut used = vec![false; existing.len()];
    channel
        .available_tags
        .iter()
        .map(|tag| {
            let found = existing.iter().enumerate().position(|(i, old)| !used[i] && old.name == tag.name)?;
            used[found] = true;
            existing[found].id
        })
        .collect()
}

/// An AutoMod rule's JSON: `trigger_type` only on creation (Discord never changes it).
fn automod_body(rule: &AutoModRule, create: bool) -> Value {
    let mut body = json!({
        "name": rule.name,
        "event_type": rule.event_type,
        "actions": rule.actions,
        "enabled": rule.enabled,
        "exempt_roles": texts(&rule.exempt_roles),
        "exempt_channels": texts(&rule.exempt_channels),
    });
    if create {
        body["trigger_type"] = json!(rule.trigger_type);
    }
    if !rule.trigger_metadata.is_null() {
        body["trigger_metadata"] = rule.trigger_metadata.clone();
    }
    body
}

/// Onboarding's JSON for `PUT /guilds/{guild_id}/onboarding`. Discord wants an id for each prompt: new
/// ones are snowflakes of `now_ms` (options without an id get one from Discord).
fn onboarding_body(onboarding: &Onboarding, now_ms: i64) -> Value {
    let base = u64::try_from(now_ms.saturating_sub(DISCORD_EPOCH_MS)).unwrap_or(0) << 22;
    let prompts: Vec<Value> = onboarding
        .prompts
        .iter()
        .enumerate()
        .map(|(i, prompt)| {
            let options: Vec<Value> = prompt
                .options
                .iter()
                .map(|option| {
                    let mut out = json!({
                        "title": option.title,
                        "description": option.description,
                        "role_ids": texts(&option.roles),
                        "channel_ids": texts(&option.channels),
                    });
                    if let Some(emoji) = option.emoji_id {
                        out["emoji_id"] = text(emoji);
                    }
                    if let Some(name) = &option.emoji_name {
                        out["emoji_name"] = json!(name);
                    }
                    out
                })
                .collect();
            json!({
                "id": (base + u64::try_from(i).unwrap_or(0) + 1).to_string(),
                "title": prompt.title,
                "type": prompt.kind,
                "single_select": prompt.single_select,
                "required": prompt.required,
                "in_onboarding": prompt.in_onboarding,
                "options": options,
            })
        })
        .collect();
    json!({
        "prompts": prompts,
        "default_channel_ids": texts(&onboarding.default_channels),
        "enabled": onboarding.enabled,
        "mode": onboarding.mode,
    })
}

/// The guild's settings for `PATCH /guilds/{guild_id}`: channel references `None` are unset; the icon
/// is set when given, and removed when neither given nor kept by the backup.
fn settings_body(settings: &GuildSettings, icon: Option<&Image>) -> Result<Value, DiscordError> {
    let mut body = json!({
        "name": settings.name,
        "description": settings.description,
        "verification_level": settings.verification_level,
        "default_message_notifications": settings.default_message_notifications,
        "explicit_content_filter": settings.explicit_content_filter,
        "afk_channel_id": optional(settings.afk_channel),
        "afk_timeout": settings.afk_timeout,
        "system_channel_id": optional(settings.system_channel),
        "system_channel_flags": settings.system_channel_flags,
        "rules_channel_id": optional(settings.rules_channel),
        "public_updates_channel_id": optional(settings.public_updates_channel),
    });
    if !settings.preferred_locale.is_empty() {
        body["preferred_locale"] = json!(settings.preferred_locale);
    }
    match (icon, &settings.icon) {
        (Some(image), _) => body["icon"] = json!(data_uri(image)?),
        (None, None) => body["icon"] = Value::Null,
        (None, Some(_)) => {}
    }
    Ok(body)
}

/// A guild's icon on the CDN (animated hashes are GIFs).
fn icon_path(guild: Id, hash: &str) -> String {
    let extension = if hash.starts_with("a_") { "gif" } else { "png" };
    format!("icons/{guild}/{hash}.{extension}")
}

impl TwilightBot {
    async fn create_role(
        &self,
        guild: ServerId,
        role: &Role,
        icon: Option<&Image>,
    ) -> Result<Option<Id>, DiscordError> {
        let icon = icon.map(data_uri).transpose()?;
        let mut request = self
            .client()
            .create_role(id(guild.snowflake()))
            .name(&role.name)
            .permissions(TwilightPermissions::from_bits_retain(role.permissions.0))
            .color(role.color)
            .hoist(role.hoist)
            .mentionable(role.mentionable);
        if let Some(colors) = role.colors {
            request = request.colors(TwilightColors {
                primary_color: colors.primary,
                secondary_color: colors.secondary,
                tertiary_color: colors.tertiary,
            });
        }
        if let Some(icon) = &icon {
            request = request.icon(icon);
        }
        if let Some(emoji) = role.unicode_emoji.as_deref().filter(|e| !e.is_empty()) {
            request = request.unicode_emoji(emoji);
        }
        let created: json::CreatedJson = self.call(request).await?;
        Ok(Some(created.id))
    }

    /// Sets every look and right of a role (never its position). The icon is set when given, and
    /// removed when neither given nor kept by the backup (`role.icon` empty); a gradient the backup
    /// lacks is removed. `@everyone` (the role whose id is the guild's) has only its permissions set:
    /// Discord fixes its name and looks.
    async fn update_role(
        &self,
        guild: ServerId,
        target: Id,
        role: &Role,
        icon: Option<&Image>,
    ) -> Result<(), DiscordError> {
        let permissions = TwilightPermissions::from_bits_retain(role.permissions.0);
        if target.0 == server_id(guild) {
            let request = self.client().update_role(id(guild.snowflake()), tid(target)?).permissions(permissions);
            return self.act(request).await;
        }
        let icon = icon.map(data_uri).transpose()?;
        let colors = role
            .colors
            .map_or(TwilightColors { primary_color: role.color, secondary_color: None, tertiary_color: None }, |c| {
                TwilightColors { primary_color: c.primary, secondary_color: c.secondary, tertiary_color: c.tertiary }
            });
        let mut request = self
            .client()
            .update_role(id(guild.snowflake()), tid(target)?)
            .name(Some(role.name.as_str()))
            .permissions(permissions)
            .color(Some(role.color))
            .colors(Some(colors))
            .hoist(role.hoist)
            .mentionable(role.mentionable)
            .unicode_emoji(role.unicode_emoji.as_deref().filter(|e| !e.is_empty()));
        match (&icon, &role.icon) {
            (Some(icon), _) => request = request.icon(Some(icon.as_str())),
            (None, None) => request = request.icon(None),
            (None, Some(_)) => {}
        }
        self.act(request).await
    }

    async fn create_channel(&self, guild: ServerId, channel: &Channel) -> Result<Option<Id>, DiscordError> {
        let body = channel_body(channel, true, &[]);
        let request = raw(&Route::CreateChannel { guild_id: server_id(guild) }, Some(&body), true)?;
        let created: json::CreatedJson = self.call_request(request).await?;
        Ok(Some(created.id))
    }

    /// Sets a channel's fields, parent and overwrites. A forum's or media channel's tags keep the ids
    /// of the existing tags of the same names (read first), so posts keep their tags.
    async fn update_channel(&self, target: Id, channel: &Channel) -> Result<(), DiscordError> {
        let tag_ids = if matches!(channel.kind, 15 | 16) && !channel.available_tags.is_empty() {
            let current: json::ChannelJson = self.call(self.client().channel(tid(target)?)).await?;
            matching_tags(channel, current.available_tags.as_deref().unwrap_or_default())
        } else {
            Vec::new()
        };
        let body = channel_body(channel, false, &tag_ids);
        let request = raw(&Route::UpdateChannel { channel_id: target.0 }, Some(&body), true)?;
        self.call_request::<IgnoredAny>(request).await.map(|_| ())
    }

    async fn create_emoji(&self, guild: ServerId, emoji: &Emoji, image: &Image) -> Result<Option<Id>, DiscordError> {
        let image = data_uri(image)?;
        let roles = tids(&emoji.roles)?;
        let request = self.client().create_emoji(id(guild.snowflake()), &emoji.name, &image).roles(&roles);
        let created: json::CreatedJson = self.call(request).await?;
        Ok(Some(created.id))
    }

    async fn create_sticker(
        &self,
        guild: ServerId,
        sticker: &Sticker,
        file: &Image,
    ) -> Result<Option<Id>, DiscordError> {
        let (content_type, extension) = sticker_file_type(&file.0)?;
        let description = sticker.description.as_deref().unwrap_or_default();
        let fields = [("name", sticker.name.as_str()), ("tags", sticker.tags.as_str()), ("description", description)];
        let (boundary, buffer) = sticker_form(&fields, &file.0, &format!("sticker.{extension}"), content_type);
        let request = Request::builder(&Route::CreateGuildSticker { guild_id: server_id(guild) })
            .multipart(boundary, buffer)
            .build()
            .map_err(|e| errors::map(&e))?;
        let created: json::CreatedJson = self.call_request(request).await?;
        Ok(Some(created.id))
    }

    /// One bulk ban. When every ban gives the same reason, it is the request's audit-log reason, which
    /// Discord keeps as each ban's reason. A bulk ban that banned nobody (all unknown or already
    /// banned) is no failure.
    async fn ban(&self, guild: ServerId, bans: &[Ban]) -> Result<(), DiscordError> {
        if bans.is_empty() {
            return Ok(());
        }
        if bans.len() > MAX_BULK_BAN {
            return Err(DiscordError::Rejected(format!("a bulk ban names at most {MAX_BULK_BAN} users")));
        }
        let users: Vec<twilight_model::id::Id<twilight_model::id::marker::UserMarker>> =
            bans.iter().map(|b| tid(b.user)).collect::<Result<_, _>>()?;
        let shared = bans[0].reason.as_deref().filter(|r| bans.iter().all(|b| b.reason.as_deref() == Some(*r)));
        let mut request = self.client().bulk_guild_ban(id(guild.snowflake()), &users);
        if let Some(reason) = shared {
            request = request.reason(reason);
        }
        match self.act(request).await {
            Err(error) if errors::rejected_code(&error) == Some(FAILED_TO_BAN_USERS) => Ok(()),
            other => other,
        }
    }

    async fn apply(&self, guild: ServerId, write: Write) -> Result<Option<Id>, DiscordError> {
        let g = server_id(guild);
        let guild_id: twilight_model::id::Id<twilight_model::id::marker::GuildMarker> = id(guild.snowflake());
        match write {
            Write::CreateRole { role, icon } => self.create_role(guild, &role, icon.as_ref()).await,
            Write::UpdateRole { target, role, icon } => {
                self.update_role(guild, target, &role, icon.as_ref()).await.map(|()| None)
            }
            Write::DeleteRole { target } => {
                self.act(self.client().delete_role(guild_id, tid(target)?)).await.map(|()| None)
            }
            Write::PositionRoles(positions) => {
                let positions: Vec<RolePosition> = positions
                    .iter()
                    .map(|(role, position)| {
                        Ok(RolePosition { id: tid(*role)?, position: u64::try_from(*position).unwrap_or(0) })
                    })
                    .collect::<Result<_, DiscordError>>()?;
                self.act(self.client().update_role_positions(guild_id, &positions)).await.map(|()| None)
            }
            Write::CreateChannel { channel } => self.create_channel(guild, &channel).await,
            Write::UpdateChannel { target, channel } => self.update_channel(target, &channel).await.map(|()| None),
            Write::DeleteChannel { target } => {
                self.act(self.client().delete_channel(tid(target)?)).await.map(|()| None)
            }
            Write::PositionChannels(positions) => {
                let positions: Vec<Position> = positions
                    .iter()
                    .map(|(channel, parent, position)| {
                        Ok(Position {
                            id: tid(*channel)?,
                            lock_permissions: None,
                            parent_id: Some(parent.map(tid).transpose()?),
                            position: Some(Some(u64::try_from(*position).unwrap_or(0))),
                        })
                    })
                    .collect::<Result<_, DiscordError>>()?;
                self.act(self.client().update_guild_channel_positions(guild_id, &positions)).await.map(|()| None)
            }
            Write::CreateAutoMod { rule } => {
                let body = automod_body(&rule, true);
                let request = raw(&Route::CreateAutoModerationRule { guild_id: g }, Some(&body), true)?;
                let created: json::CreatedJson = self.call_request(request).await?;
                Ok(Some(created.id))
            }
            Write::UpdateAutoMod { target, rule } => {
                let body = automod_body(&rule, false);
                let route = Route::UpdateAutoModerationRule { guild_id: g, auto_moderation_rule_id: target.0 };
                self.call_request::<IgnoredAny>(raw(&route, Some(&body), true)?).await.map(|_| None)
            }
            Write::DeleteAutoMod { target } => {
                self.act(self.client().delete_auto_moderation_rule(guild_id, tid(target)?)).await.map(|()| None)
            }
            Write::PutOnboarding { onboarding } => {
                let body = onboarding_body(&onboarding, self.shared.transport.clock.now().millis());
                let request = raw(&Route::UpdateGuildOnboarding { guild_id: g }, Some(&body), true)?;
                self.call_request::<IgnoredAny>(request).await.map(|_| None)
            }
            Write::UpdateSettings { settings, icon } => {
                let body = settings_body(&settings, icon.as_ref())?;
                let request = raw(&Route::UpdateGuild { guild_id: g }, Some(&body), true)?;
                self.call_request::<IgnoredAny>(request).await.map(|_| None)
            }
            Write::CreateEmoji { emoji, image } => self.create_emoji(guild, &emoji, &image).await,
            Write::UpdateEmoji { target, emoji } => {
                let roles = tids(&emoji.roles)?;
                let request = self.client().update_emoji(guild_id, tid(target)?).name(&emoji.name).roles(&roles);
                self.act(request).await.map(|()| None)
            }
            Write::DeleteEmoji { target } => {
                self.act(self.client().delete_emoji(guild_id, tid(target)?)).await.map(|()| None)
            }
            Write::CreateSticker { sticker, file } => self.create_sticker(guild, &sticker, &file).await,
            Write::UpdateSticker { target, sticker } => {
                let body = json!({"name": sticker.name, "description": sticker.description, "tags": sticker.tags});
                let route = Route::UpdateGuildSticker { guild_id: g, sticker_id: target.0 };
                self.call_request::<IgnoredAny>(raw(&route, Some(&body), true)?).await.map(|_| None)
            }
            Write::DeleteSticker { target } => {
                self.act(self.client().delete_guild_sticker(guild_id, tid(target)?)).await.map(|()| None)
            }
            Write::Ban { bans } => self.ban(guild, &bans).await.map(|()| None),
            Write::SetMemberRoles { user, roles } => {
                let roles = tids(&roles)?;
                match self.act(self.client().update_guild_member(guild_id, tid(user)?).roles(&roles)).await {
                    Err(DiscordError::Unknown(Unknown::Member)) | Ok(()) => Ok(None),
                    Err(other) => Err(other),
                }
            }
        }
    }
}

impl BackupBot for TwilightBot {
    fn user_id(&self) -> Snowflake {
        self.user.id
    }

    /// The owner, or a member whose roles (with `@everyone`'s) hold ADMINISTRATOR.
    fn standing(&self, guild: ServerId) -> DiscordFuture<'_, Standing> {
        Box::pin(async move {
            let guild_id = id(guild.snowflake());
            let found: json::GuildJson = self.call(self.client().guild(guild_id)).await?;
            let me = self.user.id.get();
            let member: json::MemberJson = self.call(self.client().guild_member(guild_id, id(self.user.id))).await?;
            let roles = member.roles.iter().map(|r| Id(r.0)).collect();
            if found.owner_id.0 == me {
                return Ok(Standing { administrator: true, roles });
            }
            let everyone = found.id();
            let bits = |role: &json::RoleJson| Permissions::from_bits(role.permissions.0);
            let everyone_bits = found.roles.iter().find(|r| r.id == everyone).map_or(Permissions::NONE, bits);
            let held: Vec<Permissions> =
                found.roles.iter().filter(|r| member.roles.contains(&r.id)).map(bits).collect();
            let administrator = base_permissions(false, everyone_bits, &held).contains(Permissions::ADMINISTRATOR);
            Ok(Standing { administrator, roles })
        })
    }

    fn guild(&self, guild: ServerId) -> DiscordFuture<'_, GuildRead> {
        Box::pin(async move {
            let found: json::GuildJson = self.call(self.client().guild(id(guild.snowflake()))).await?;
            let cdn = &self.shared.cdn;
            Ok(GuildRead {
                settings: found.settings(),
                icon: found.icon.as_deref().filter(|h| !h.is_empty()).map(|hash| cdn.url(&icon_path(found.id(), hash))),
                emojis: found
                    .emojis
                    .iter()
                    .map(|e| {
                        let extension = if e.animated { "gif" } else { "png" };
                        (e.emoji(), cdn.url(&format!("emojis/{}.{extension}", e.id)))
                    })
                    .collect(),
                stickers: found.stickers.iter().map(|s| (s.sticker(), cdn.sticker_url(s.id, s.format_type))).collect(),
            })
        })
    }

    fn roles(&self, guild: ServerId) -> DiscordFuture<'_, Vec<(Role, Option<ImageUrl>)>> {
        Box::pin(async move {
            let roles: Vec<json::RoleJson> = self.call(self.client().roles(id(guild.snowflake()))).await?;
            let cdn = &self.shared.cdn;
            Ok(roles
                .iter()
                .map(|r| {
                    let icon = r.icon.as_deref().filter(|h| !h.is_empty());
                    (r.role(), icon.map(|hash| cdn.url(&format!("role-icons/{}/{hash}.png", r.id))))
                })
                .collect())
        })
    }

    fn channels(&self, guild: ServerId) -> DiscordFuture<'_, Vec<Channel>> {
        Box::pin(async move {
            let channels: Vec<json::ChannelJson> =
                self.call(self.client().guild_channels(id(guild.snowflake()))).await?;
            Ok(channels.iter().map(json::ChannelJson::channel).collect())
        })
    }

    fn auto_moderation(&self, guild: ServerId) -> DiscordFuture<'_, Vec<AutoModRule>> {
        Box::pin(async move {
            let rules: Vec<json::AutoModJson> =
                self.call(self.client().auto_moderation_rules(id(guild.snowflake()))).await?;
            Ok(rules.into_iter().map(AutoModRule::from).collect())
        })
    }

    fn onboarding(&self, guild: ServerId) -> DiscordFuture<'_, Option<Onboarding>> {
        Box::pin(async move {
            let found: json::OnboardingJson = self.call(self.client().guild_onboarding(id(guild.snowflake()))).await?;
            Ok(found.onboarding())
        })
    }

    fn bans(&self, guild: ServerId, after: Option<Id>) -> DiscordFuture<'_, Vec<Ban>> {
        Box::pin(async move {
            let mut request = self.client().bans(id(guild.snowflake())).limit(PAGE);
            if let Some(after) = after {
                request = request.after(tid(after)?);
            }
            let bans: Vec<json::BanJson> = self.call(request).await?;
            Ok(bans.into_iter().map(Ban::from).collect())
        })
    }

    fn members(&self, guild: ServerId, after: Option<Id>) -> DiscordFuture<'_, Vec<MemberRoles>> {
        Box::pin(async move {
            let mut request = self.client().guild_members(id(guild.snowflake())).limit(PAGE);
            if let Some(after) = after {
                request = request.after(tid(after)?);
            }
            let members: Vec<json::MemberJson> = self.call(request).await?;
            Ok(members.into_iter().map(Into::into).collect())
        })
    }

    fn download<'a>(&'a self, url: &'a ImageUrl, max_bytes: u64) -> DiscordFuture<'a, Vec<u8>> {
        Box::pin(self.shared.cdn.download(url, max_bytes))
    }

    fn write(&self, guild: ServerId, write: Write) -> DiscordFuture<'_, Option<Id>> {
        Box::pin(self.apply(guild, write))
    }
}

#[cfg(test)]
mod tests {
    use garrison_core::backups::format::{Bits, ForumTag, Overwrite};

    use super::*;

    #[test]
    fn images_are_sniffed_from_their_bytes() {
        let png = Image(b"\x89PNG\r\n\x1a\nrest".to_vec());
        assert!(data_uri(&png).expect("a PNG").starts_with("data:image/png;base64,iVBORw0KGg"));
        assert!(data_uri(&Image(b"GIF89a..".to_vec())).expect("a GIF").starts_with("data:image/gif;base64,"));
        assert!(data_uri(&Image(vec![0xff, 0xd8, 0xff, 0xe0])).expect("a JPEG").starts_with("data:image/jpeg;"));
        assert!(data_uri(&Image(b"RIFF\0\0\0\0WEBPVP8 ".to_vec())).expect("a WebP").starts_with("data:image/webp;"));
        assert!(matches!(data_uri(&Image(b"<html>".to_vec())), Err(DiscordError::Rejected(_))));
        assert_eq!(sticker_file_type(b" {\"v\":1}").expect("Lottie"), ("application/json", "json"));
        assert!(sticker_file_type(&[0xff, 0xd8, 0xff]).is_err(), "no JPEG stickers");
    }

    #[test]
    fn the_cdn_holds_only_its_own_paths() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cdn = Cdn::new("http://127.0.0.1:8090/sim/cdn/", None, Duration::from_secs(1)).expect("a CDN");
        let holds = |url: &str| reqwest::Url::parse(url).is_ok_and(|u| cdn.holds(&u));
        assert!(holds("http://127.0.0.1:8090/sim/cdn/emojis/1.png"));
        assert!(holds("http://127.0.0.1:8090/sim/cdn/icons/1/a.png?size=4096"));
        assert!(!holds("http://127.0.0.1:8090/sim/cdn"));
        assert!(!holds("http://127.0.0.1:8090/sim/cdnx/emojis/1.png"));
        assert!(!holds("http://127.0.0.1:8090/sim/cdn/../../api/v10/users/@me"));
        assert!(!holds("http://127.0.0.1:8090/sim/cdn/%2e%2e/%2e%2e/api/v10/users/@me"));
        assert!(!holds("http://127.0.0.1:8091/sim/cdn/emojis/1.png"));
        assert!(!holds("https://127.0.0.1:8090/sim/cdn/emojis/1.png"));
        assert!(!holds("http://user@127.0.0.1:8090/sim/cdn/emojis/1.png"));
        assert!(!holds("http://127.0.0.1.evil.example:8090/sim/cdn/emojis/1.png"));
        assert_eq!(cdn.sticker_url(Id(5), 4).0, "http://127.0.0.1:8090/sim/cdn/stickers/5.gif");
        let discord =
            Cdn::new("https://cdn.discordapp.com", Some("https://media.discordapp.net"), Duration::from_secs(1))
                .expect("a CDN");
        assert_eq!(discord.url("emojis/1.png").0, "https://cdn.discordapp.com/emojis/1.png");
        assert_eq!(discord.sticker_url(Id(5), 1).0, "https://cdn.discordapp.com/stickers/5.png");
        assert_eq!(discord.sticker_url(Id(5), 3).0, "https://cdn.discordapp.com/stickers/5.json");
        assert_eq!(discord.sticker_url(Id(5), 4).0, "https://media.discordapp.net/stickers/5.gif");
        let holds = |url: &str| reqwest::Url::parse(url).is_ok_and(|u| discord.holds(&u));
        assert!(holds("https://cdn.discordapp.com:443/emojis/1.png"));
        assert!(holds("https://media.discordapp.net/stickers/5.gif"));
        assert!(!holds("https://media.discordapp.net.evil.example/stickers/5.gif"));
        assert!(!holds("https://discord.com/api/v10/users/@me"));
        assert!(Cdn::new("ftp://cdn.example", None, Duration::from_secs(1)).is_err());
        assert!(Cdn::new("https://cdn.example/?q=1", None, Duration::from_secs(1)).is_err());
    }

    #[test]
    fn channel_bodies_carry_every_field_of_their_type() {
        let forum = Channel {
            id: Id(1),
            kind: 15,
            name: "help".into(),
            parent: Some(Id(9)),
            position: 3,
            topic: Some("Ask".into()),
            nsfw: true,
            rate_limit_per_user: 5,
            bitrate: None,
            user_limit: None,
            rtc_region: None,
            default_auto_archive_duration: Some(1440),
            available_tags: vec![
                ForumTag { name: "Solved".into(), moderated: true, emoji_id: None, emoji_name: Some("✅".into()) },
                ForumTag { name: "New".into(), moderated: false, emoji_id: Some(Id(77)), emoji_name: None },
            ],
            default_reaction_emoji: Some("1234".into()),
            overwrites: vec![Overwrite { id: Id(5), kind: OverwriteKind::Member, allow: Bits(8), deny: Bits(0) }],
        };
        let body = channel_body(&forum, false, &[Some(Id(50)), None]);
        assert_eq!(body.get("type"), None, "a forum's type is not sent on update");
        assert_eq!(body["parent_id"], "9");
        assert_eq!(body["permission_overwrites"], json!([{"id": "5", "type": 1, "allow": "8", "deny": "0"}]));
        assert_eq!(body["available_tags"][0]["id"], "50");
        assert_eq!(body["available_tags"][1].get("id"), None);
        assert_eq!(body["available_tags"][1]["emoji_id"], "77");
        assert_eq!(body["default_reaction_emoji"], json!({"emoji_id": "1234", "emoji_name": null}));
        assert_eq!((body["topic"].clone(), body["default_auto_archive_duration"].clone()), (json!("Ask"), json!(1440)));
        assert_eq!(body.get("bitrate"), None);

        let category = Channel { kind: CATEGORY, parent: None, ..forum.clone() };
        let body = channel_body(&category, true, &[]);
        assert_eq!((body["type"].clone(), body["position"].clone()), (json!(4), json!(3)));
        assert_eq!(body.get("parent_id"), None);
        assert_eq!(body.get("topic"), None);

        let voice = Channel { kind: 2, bitrate: Some(64_000), user_limit: Some(10), parent: None, ..forum };
        let body = channel_body(&voice, false, &[]);
        assert_eq!((body["bitrate"].clone(), body["user_limit"].clone()), (json!(64_000), json!(10)));
        assert_eq!((body["rtc_region"].clone(), body["parent_id"].clone()), (Value::Null, Value::Null));
        assert_eq!(body.get("available_tags"), None);
    }

    #[test]
    fn forum_tags_keep_the_ids_of_tags_of_the_same_name() {
        let existing: Vec<json::TagJson> =
            serde_json::from_str(r#"[{"id":"10","name":"A"},{"id":"11","name":"B"},{"id":"12","name":"A"}]"#)
                .expect("tags");
        let tag = |name: &str| ForumTag { name: name.into(), ..ForumTag::default() };
        let channel =
            Channel { available_tags: vec![tag("B"), tag("A"), tag("A"), tag("A"), tag("C")], ..Channel::default() };
        assert_eq!(matching_tags(&channel, &existing), vec![Some(Id(11)), Some(Id(10)), Some(Id(12)), None, None]);
    }

    #[test]
    fn onboarding_prompts_get_fresh_snowflakes() {
        let onboarding = Onboarding {
            enabled: true,
            mode: 0,
            default_channels: vec![Id(3)],
            prompts: vec![Default::default(), Default::default()],
        };
        let body = onboarding_body(&onboarding, DISCORD_EPOCH_MS + 1000);
        assert_eq!(body["prompts"][0]["id"], (1000u64 << 22 | 1).to_string());
        assert_eq!(body["prompts"][1]["id"], (1000u64 << 22 | 2).to_string());
        assert_eq!(body["default_channel_ids"], json!(["3"]));
    }

    #[test]
    fn settings_unset_missing_channels_and_keep_or_clear_the_icon() {
        let settings = GuildSettings { name: "G".into(), afk_timeout: 300, ..GuildSettings::default() };
        let body = settings_body(&settings, None).expect("a body");
        assert_eq!((body["afk_channel_id"].clone(), body["icon"].clone()), (Value::Null, Value::Null));
        let kept = GuildSettings { icon: Some("key".into()), ..settings };
        assert_eq!(settings_body(&kept, None).expect("a body").get("icon"), None);
    }

    #[test]
    fn sticker_forms_name_their_file() {
        let (boundary, buffer) = sticker_form(&[("name", "Hi"), ("tags", "x")], b"\x89PNG", "sticker.png", "image/png");
        let text = String::from_utf8_lossy(&buffer).into_owned();
        let boundary = String::from_utf8_lossy(&boundary).into_owned();
        assert!(
            text.starts_with(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nHi\r\n"))
        );
        assert!(
            text.contains("name=\"file\"; filename=\"sticker.png\"\r\nContent-Type: image/png\r\n\r\n\u{fffd}PNG\r\n")
        );
        assert!(text.ends_with(&format!("--{boundary}")));
    }
}
