//! The world's records rendered as the objects Discord's API returns, with the field names and
//! types of Discord's OpenAPI document: snowflakes as strings, permissions as decimal strings,
//! timestamps in ISO 8601.

use serde_json::{Value, json};

use crate::oauth::Bearer;
use crate::time::Timestamp;
use crate::world::{
    AutomodRuleView, BanView, ChannelView, EmojiView, GuildState, InviteView, MemberView, MessageView, OnboardingView,
    RoleView, StickerView, UserView, VoiceStateView, World,
};

fn id(value: u64) -> Value {
    Value::String(value.to_string())
}

fn opt_id(value: Option<u64>) -> Value {
    value.map_or(Value::Null, id)
}

fn opt_time(value: Option<Timestamp>) -> Value {
    value.map_or(Value::Null, |t| Value::String(t.iso()))
}

/// A user (`UserResponse`).
pub(crate) fn user(user: &UserView) -> Value {
    let mut out = json!({
        "id": id(user.id),
        "username": user.username,
        "avatar": user.avatar,
        "discriminator": if user.bot { format!("{:04}", user.id % 10_000) } else { "0".to_owned() },
        "public_flags": 0,
        "flags": 0,
        "banner": null,
        "accent_color": null,
        "global_name": user.global_name,
        "avatar_decoration_data": null,
        "collectibles": null,
        "primary_guild": null,
    });
    if user.bot {
        out["bot"] = Value::Bool(true);
    }
    out
}

/// A user by id, or a placeholder for a deleted account (Discord's "Deleted User").
pub(crate) fn user_by_id(world: &World, user_id: u64) -> Value {
    match world.users.get(&user_id) {
        Some(found) => user(found),
        None => json!({
            "id": id(user_id), "username": "Deleted User", "avatar": null, "discriminator": "0",
            "public_flags": 0, "flags": 0, "global_name": null, "primary_guild": null,
        }),
    }
}

/// The current user (`UserPIIResponse`).
pub(crate) fn current_user(found: &UserView) -> Value {
    let mut out = user(found);
    out["mfa_enabled"] = Value::Bool(false);
    out["locale"] = Value::String("en-US".into());
    out["verified"] = Value::Bool(true);
    out["email"] = Value::Null;
    out["premium_type"] = Value::from(0);
    out
}

/// The current user as an OAuth2 app sees them (`UserPIIResponse`): `email` and `verified` only
/// with the `email` scope.
pub(crate) fn current_user_for_app(found: &UserView, with_email: bool) -> Value {
    let mut out = current_user(found);
    if let Some(object) = out.as_object_mut() {
        if with_email {
            object.insert("email".into(), found.email.clone().map_or(Value::Null, Value::String));
        } else {
            object.remove("email");
            object.remove("verified");
        }
    }
    out
}

/// One of the current user's guilds (`MyGuildResponse`): a partial guild with `owner` and the user's
/// guild-wide `permissions`, and the approximate counts when asked for.
pub(crate) fn my_guild(world: &World, guild: &GuildState, user: u64, with_counts: bool, now: Timestamp) -> Value {
    let mut out = json!({
        "id": id(guild.info.id),
        "name": guild.info.name,
        "icon": guild.info.icon,
        "banner": null,
        "owner": guild.info.owner_id == user,
        "permissions": crate::permissions::guild_permissions(guild, user, now).to_string(),
        "features": guild.info.features,
    });
    if with_counts {
        let (members, online) = counts(world, guild);
        out["approximate_member_count"] = Value::from(members);
        out["approximate_presence_count"] = Value::from(online);
    }
    out
}

/// An authorization (`OAuth2GetAuthorizationResponse`): the app as a partial application, the
/// granted scopes, when the access token expires, and the user when `identify` was granted.
pub(crate) fn authorization(world: &World, bearer: &Bearer, verify_key: &str) -> Value {
    let name = world.users.get(&bearer.client_id).map_or_else(|| "Application".to_owned(), |u| u.username.clone());
    let mut out = json!({
        "application": {
            "id": id(bearer.client_id),
            "name": name,
            "icon": null,
            "description": "",
            "type": null,
            "hook": true,
            "bot_public": true,
            "bot_require_code_grant": false,
            "verify_key": verify_key,
            "flags": 0,
            "flags_new": "0",
        },
        "scopes": bearer.scopes,
        "expires": bearer.expires.iso(),
    });
    if bearer.has("identify") {
        out["user"] = user_by_id(world, bearer.user);
    }
    out
}

/// A role (`GuildRoleResponse`).
pub(crate) fn role(role: &RoleView) -> Value {
    let mut out = json!({
        "id": id(role.id),
        "name": role.name,
        "permissions": role.permissions.to_string(),
        "position": role.position,
        "color": role.color,
        "colors": {"primary_color": role.color, "secondary_color": role.gradient.0, "tertiary_color": role.gradient.1},
        "hoist": role.hoist,
        "managed": role.managed,
        "mentionable": role.mentionable,
        "icon": role.icon,
        "unicode_emoji": role.unicode_emoji,
        "flags": 0,
    });
    let mut tags = serde_json::Map::new();
    if role.premium_subscriber {
        tags.insert("premium_subscriber".into(), Value::Null);
    }
    if let Some(bot) = role.bot_id {
        tags.insert("bot_id".into(), id(bot));
    }
    if !tags.is_empty() {
        out["tags"] = Value::Object(tags);
    }
    out
}

/// A guild's roles, lowest first.
pub(crate) fn roles(guild: &GuildState) -> Value {
    let mut list: Vec<&RoleView> = guild.roles.values().collect();
    list.sort_by_key(|r| crate::permissions::role_rank(r.position, r.id));
    Value::Array(list.into_iter().map(role).collect())
}

/// A guild (`GuildWithCountsResponse`); with counts when asked for.
pub(crate) fn guild(world: &World, guild: &GuildState, with_counts: bool) -> Value {
    let info = &guild.info;
    let boosters = guild.members.values().filter(|m| m.premium_since.is_some()).count();
    let mut out = json!({
        "id": id(info.id),
        "name": info.name,
        "icon": info.icon,
        "description": info.description,
        "home_header": null,
        "splash": null,
        "discovery_splash": null,
        "features": info.features,
        "banner": info.banner,
        "owner_id": id(info.owner_id),
        "application_id": null,
        "region": "deprecated",
        "afk_channel_id": opt_id(info.afk_channel_id),
        "afk_timeout": info.afk_timeout,
        "system_channel_id": opt_id(info.system_channel_id),
        "system_channel_flags": info.system_channel_flags,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": info.verification_level,
        "roles": roles(guild),
        "default_message_notifications": info.default_message_notifications,
        "mfa_level": info.mfa_level,
        "explicit_content_filter": info.explicit_content_filter,
        "max_presences": null,
        "max_members": 500_000,
        "max_stage_video_channel_users": 50,
        "max_video_channel_users": 25,
        "vanity_url_code": info.vanity_url_code,
        "premium_tier": info.premium_tier,
        "premium_subscription_count": boosters,
        "preferred_locale": info.preferred_locale,
        "rules_channel_id": opt_id(info.rules_channel_id),
        "safety_alerts_channel_id": opt_id(info.safety_alerts_channel_id),
        "public_updates_channel_id": opt_id(info.public_updates_channel_id),
        "premium_progress_bar_enabled": info.premium_progress_bar_enabled,
        "nsfw": false,
        "nsfw_level": 0,
        "emojis": guild.emojis.values().map(|e| emoji(world, e, false)).collect::<Vec<_>>(),
        "stickers": guild.stickers.values().map(|s| sticker(world, s, false)).collect::<Vec<_>>(),
        "incidents_data": null,
    });
    out["splash"] = info.splash.clone().map_or(Value::Null, Value::String);
    out["discovery_splash"] = info.discovery_splash.clone().map_or(Value::Null, Value::String);
    if with_counts {
        let (members, online) = counts(world, guild);
        out["approximate_member_count"] = Value::from(members);
        out["approximate_presence_count"] = Value::from(online);
    }
    out
}

/// Members, and members online.
pub(crate) fn counts(world: &World, guild: &GuildState) -> (usize, usize) {
    let online = guild.members.keys().filter(|u| world.users.get(u).is_some_and(|u| u.online)).count();
    (guild.members.len(), online)
}

/// A guild preview (`GuildPreviewResponse`).
pub(crate) fn guild_preview(world: &World, guild: &GuildState) -> Value {
    let (members, online) = counts(world, guild);
    json!({
        "id": id(guild.info.id),
        "name": guild.info.name,
        "icon": guild.info.icon,
        "description": guild.info.description,
        "home_header": null,
        "splash": null,
        "discovery_splash": null,
        "features": guild.info.features,
        "approximate_member_count": members,
        "approximate_presence_count": online,
        "emojis": guild.emojis.values().map(|e| emoji(world, e, false)).collect::<Vec<_>>(),
        "stickers": guild.stickers.values().map(|s| sticker(world, s, false)).collect::<Vec<_>>(),
    })
}

/// A guild member (`GuildMemberResponse`).
pub(crate) fn member(world: &World, member: &MemberView) -> Value {
    json!({
        "avatar": null,
        "banner": null,
        "communication_disabled_until": opt_time(member.communication_disabled_until),
        "flags": 0,
        "joined_at": member.joined_at.iso(),
        "nick": member.nick,
        "pending": member.pending,
        "premium_since": opt_time(member.premium_since),
        "roles": member.roles.iter().map(|r| id(*r)).collect::<Vec<_>>(),
        "user": user_by_id(world, member.user_id),
        "mute": member.mute,
        "deaf": member.deaf,
    })
}

/// A voice state (`VoiceStateResponse`), without `member`.
pub(crate) fn voice_state(state: &VoiceStateView) -> Value {
    json!({
        "guild_id": id(state.guild_id),
        "channel_id": id(state.channel_id),
        "user_id": id(state.user_id),
        "session_id": state.session_id,
        "deaf": state.deaf,
        "mute": state.mute,
        "self_deaf": state.self_deaf,
        "self_mute": state.self_mute,
        "self_stream": state.self_stream,
        "self_video": state.self_video,
        "suppress": state.suppress,
        "request_to_speak_timestamp": opt_time(state.request_to_speak_timestamp),
    })
}

/// A ban (`GuildBanResponse`).
pub(crate) fn ban(world: &World, ban: &BanView) -> Value {
    json!({ "user": user_by_id(world, ban.user_id), "reason": ban.reason })
}

/// A channel: `GuildChannelResponse` for guild channels, `PrivateChannelResponse` for DMs (whose
/// recipients are the users other than `viewer`).
pub(crate) fn channel(world: &World, channel: &ChannelView, viewer: Option<u64>) -> Value {
    let Some(guild_id) = channel.guild_id else {
        let recipients: Vec<Value> = channel
            .recipients
            .iter()
            .filter(|u| Some(**u) != viewer || channel.recipients.len() == 1)
            .map(|u| user_by_id(world, *u))
            .collect();
        return json!({
            "id": id(channel.id),
            "type": channel.kind,
            "last_message_id": opt_id(channel.last_message_id),
            "flags": 0,
            "recipients": recipients,
        });
    };
    let overwrites: Vec<Value> = channel
        .overwrites
        .iter()
        .map(|o| json!({"id": id(o.id), "type": o.kind, "allow": o.allow.to_string(), "deny": o.deny.to_string()}))
        .collect();
    let mut out = json!({
        "id": id(channel.id),
        "type": channel.kind,
        "flags": channel.flags,
        "guild_id": id(guild_id),
        "name": channel.name,
        "parent_id": opt_id(channel.parent_id),
        "position": channel.position,
        "permission_overwrites": overwrites,
        "nsfw": channel.nsfw,
    });
    let text_like = matches!(channel.kind, 0 | 5 | 15 | 16);
    let voice = matches!(channel.kind, 2 | 13);
    if text_like || voice {
        out["last_message_id"] = opt_id(channel.last_message_id);
        out["rate_limit_per_user"] = Value::from(channel.rate_limit_per_user);
    }
    if text_like {
        out["topic"] = channel.topic.clone().map_or(Value::Null, Value::String);
        out["default_auto_archive_duration"] = Value::from(channel.default_auto_archive_duration);
        out["default_thread_rate_limit_per_user"] = Value::from(channel.default_thread_rate_limit_per_user);
    }
    if voice {
        out["bitrate"] = Value::from(channel.bitrate);
        out["user_limit"] = Value::from(channel.user_limit);
        out["rtc_region"] = channel.rtc_region.clone().map_or(Value::Null, Value::String);
        if let Some(mode) = channel.video_quality_mode {
            out["video_quality_mode"] = Value::from(mode);
        }
    }
    if matches!(channel.kind, 15 | 16) {
        out["available_tags"] = channel
            .available_tags
            .iter()
            .map(|t| {
                json!({
                    "id": id(t.id),
                    "name": t.name,
                    "moderated": t.moderated,
                    "emoji_id": opt_id(t.emoji_id),
                    "emoji_name": t.emoji_name,
                })
            })
            .collect();
        out["default_reaction_emoji"] = channel
            .default_reaction_emoji
            .as_ref()
            .map_or(Value::Null, |r| json!({"emoji_id": opt_id(r.emoji_id), "emoji_name": r.emoji_name}));
        out["default_sort_order"] = channel.default_sort_order.map_or(Value::Null, Value::from);
        out["default_forum_layout"] = Value::from(channel.default_forum_layout);
    }
    out
}

/// A message (`MessageResponse`).
pub(crate) fn message(world: &World, message: &MessageView) -> Value {
    let mut out = json!({
        "type": message.kind,
        "content": message.content,
        "mentions": message.mentions.iter().map(|u| user_by_id(world, *u)).collect::<Vec<_>>(),
        "mention_roles": message.mention_roles.iter().map(|r| id(*r)).collect::<Vec<_>>(),
        "attachments": message.attachments,
        "embeds": message.embeds,
        "timestamp": message.timestamp().iso(),
        "edited_timestamp": opt_time(message.edited_timestamp),
        "flags": message.flags,
        "components": message.components,
        "id": id(message.id),
        "channel_id": id(message.channel_id),
        "author": user_by_id(world, message.author_id),
        "pinned": message.pinned,
        "mention_everyone": message.mention_everyone,
        "tts": message.tts,
    });
    if let Some(webhook) = message.webhook_id {
        out["webhook_id"] = id(webhook);
    }
    if let Some(application) = message.application_id {
        out["application_id"] = id(application);
    }
    if let Some(interaction) = message.interaction_id.and_then(|i| world.interactions.get(&i)) {
        out["interaction_metadata"] = json!({
            "id": id(interaction.id),
            "type": 2,
            "user": user_by_id(world, interaction.user_id),
            "authorizing_integration_owners": {"0": channel_guild(world, interaction.channel_id).map_or("0".to_owned(), |g| g.to_string())},
        });
    }
    if let Some(reference) = &message.message_reference {
        out["message_reference"] = reference.clone();
        // Discord includes the message replied to, one level deep.
        let replied = reference["message_id"].as_str().and_then(|id| id.parse::<u64>().ok());
        if let Some(replied) = replied.and_then(|id| world.messages.get(&id)) {
            let mut inner = message_only(world, replied);
            inner.as_object_mut().map(|o| o.remove("referenced_message"));
            out["referenced_message"] = inner;
        }
    }
    if !message.reactions.is_empty() {
        out["reactions"] = Value::Array(message.reactions.clone());
    }
    if !message.sticker_items.is_empty() {
        out["sticker_items"] = Value::Array(message.sticker_items.clone());
    }
    out
}

/// A message without the message it replies to (the nested copy Discord sends).
fn message_only(world: &World, original: &MessageView) -> Value {
    let mut copy = original.clone();
    copy.message_reference = None;
    message(world, &copy)
}

fn channel_guild(world: &World, channel: u64) -> Option<u64> {
    world.channels.get(&channel).and_then(|c| c.guild_id)
}

/// An invite to a guild (`GuildInviteResponse`).
pub(crate) fn invite(world: &World, invite: &InviteView, with_counts: bool) -> Value {
    let guild = world.guilds.get(&invite.guild_id);
    let channel = world.channels.get(&invite.channel_id);
    let mut out = json!({
        "type": 0,
        "code": invite.code,
        "expires_at": null,
        "flags": 0,
        "guild_id": id(invite.guild_id),
        "guild": guild.map(|g| json!({
            "id": id(g.info.id),
            "name": g.info.name,
            "splash": null,
            "banner": null,
            "description": g.info.description,
            "icon": g.info.icon,
            "features": g.info.features,
            "verification_level": 0,
            "vanity_url_code": g.info.vanity_url_code,
            "nsfw_level": 0,
            "nsfw": false,
            "premium_subscription_count": g.members.values().filter(|m| m.premium_since.is_some()).count(),
        })),
        "channel": channel.map(|c| json!({"id": id(c.id), "type": c.kind, "name": c.name})),
    });
    if let Some(inviter) = invite.inviter {
        out["inviter"] = user_by_id(world, inviter);
    }
    if let (true, Some(guild)) = (with_counts, guild) {
        let (members, online) = counts(world, guild);
        out["approximate_member_count"] = Value::from(members);
        out["approximate_presence_count"] = Value::from(online);
    }
    out
}

/// An auto-moderation rule (`KeywordRuleResponse`, `MLSpamRuleResponse`, `DefaultKeywordRuleResponse`,
/// `MentionSpamRuleResponse` or `UserProfileRuleResponse` by its trigger type).
pub(crate) fn automod_rule(rule: &AutomodRuleView) -> Value {
    let metadata = match rule.trigger_type {
        1 | 6 => json!({
            "keyword_filter": rule.keyword_filter,
            "regex_patterns": rule.regex_patterns,
            "allow_list": rule.allow_list,
        }),
        4 => json!({"allow_list": rule.allow_list, "presets": rule.presets}),
        5 => json!({
            "mention_total_limit": rule.mention_total_limit,
            "mention_raid_protection_enabled": rule.mention_raid_protection_enabled,
        }),
        _ => json!({}),
    };
    let actions: Vec<Value> = rule
        .actions
        .iter()
        .map(|action| {
            let metadata = match action.kind {
                1 => action.custom_message.as_ref().map_or_else(|| json!({}), |m| json!({"custom_message": m})),
                2 => json!({"channel_id": opt_id(action.channel_id)}),
                3 => json!({"duration_seconds": action.duration_seconds.unwrap_or(0)}),
                _ => json!({}),
            };
            json!({"type": action.kind, "metadata": metadata})
        })
        .collect();
    json!({
        "id": id(rule.id),
        "guild_id": id(rule.guild_id),
        "creator_id": id(rule.creator_id),
        "name": rule.name,
        "event_type": rule.event_type,
        "actions": actions,
        "trigger_type": rule.trigger_type,
        "enabled": rule.enabled,
        "exempt_roles": rule.exempt_roles.iter().map(|r| id(*r)).collect::<Vec<_>>(),
        "exempt_channels": rule.exempt_channels.iter().map(|c| id(*c)).collect::<Vec<_>>(),
        "trigger_metadata": metadata,
    })
}

/// A custom emoji (`EmojiResponse`); with the user who uploaded it when the viewer may see it
/// (CREATE_GUILD_EXPRESSIONS or MANAGE_GUILD_EXPRESSIONS).
pub(crate) fn emoji(world: &World, emoji: &EmojiView, with_user: bool) -> Value {
    let mut out = json!({
        "id": id(emoji.id),
        "name": emoji.name,
        "roles": emoji.roles.iter().map(|r| id(*r)).collect::<Vec<_>>(),
        "require_colons": true,
        "managed": emoji.managed,
        "animated": emoji.animated,
        "available": emoji.available,
    });
    if let (true, Some(creator)) = (with_user, emoji.creator_id) {
        out["user"] = user_by_id(world, creator);
    }
    out
}

/// A custom sticker (`GuildStickerResponse`); with its uploader as for emojis.
pub(crate) fn sticker(world: &World, sticker: &StickerView, with_user: bool) -> Value {
    let mut out = json!({
        "id": id(sticker.id),
        "name": sticker.name,
        "tags": sticker.tags,
        "type": 2,
        "format_type": sticker.format_type,
        "description": sticker.description,
        "available": sticker.available,
        "guild_id": id(sticker.guild_id),
    });
    if let (true, Some(creator)) = (with_user, sticker.creator_id) {
        out["user"] = user_by_id(world, creator);
    }
    out
}

/// A guild's onboarding (`GuildOnboardingResponse`).
pub(crate) fn onboarding(guild: u64, onboarding: &OnboardingView) -> Value {
    let prompts: Vec<Value> = onboarding
        .prompts
        .iter()
        .map(|prompt| {
            let options: Vec<Value> = prompt
                .options
                .iter()
                .map(|option| {
                    json!({
                        "id": id(option.id),
                        "title": option.title,
                        "description": option.description.clone().unwrap_or_default(),
                        "emoji": {
                            "id": opt_id(option.emoji_id),
                            "name": option.emoji_name,
                            "animated": option.emoji_animated,
                        },
                        "role_ids": option.role_ids.iter().map(|r| id(*r)).collect::<Vec<_>>(),
                        "channel_ids": option.channel_ids.iter().map(|c| id(*c)).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({
                "id": id(prompt.id),
                "title": prompt.title,
                "options": options,
                "single_select": prompt.single_select,
                "required": prompt.required,
                "in_onboarding": prompt.in_onboarding,
                "type": prompt.kind,
            })
        })
        .collect();
    json!({
        "guild_id": id(guild),
        "prompts": prompts,
        "default_channel_ids": onboarding.default_channel_ids.iter().map(|c| id(*c)).collect::<Vec<_>>(),
        "enabled": onboarding.enabled,
        "mode": onboarding.mode,
    })
}
