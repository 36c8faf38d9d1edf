//! Discord's JSON as a backup reads it, mapped onto the backup format's types: ids as [`Id`],
//! permissions as [`Bits`], AutoMod metadata and actions kept as Discord writes them. Only the fields
//! a backup keeps are read; anything else Discord sends is ignored.

use garrison_core::backups::format::{
    AutoModRule, Ban, Bits, Channel, Emoji, ForumTag, GuildSettings, Id, MemberRoles, Onboarding, OnboardingOption,
    OnboardingPrompt, Overwrite, OverwriteKind, Role, RoleColors, Sticker,
};
use serde::Deserialize;
use serde_json::Value;

/// `GET /guilds/{guild_id}`: the settings, the owner and roles (for the bot's rights), the emojis and
/// stickers.
#[derive(Debug, Deserialize)]
pub(crate) struct GuildJson {
    id: Id,
    name: String,
    pub(crate) owner_id: Id,
    pub(crate) icon: Option<String>,
    description: Option<String>,
    #[serde(default)]
    verification_level: u8,
    #[serde(default)]
    default_message_notifications: u8,
    #[serde(default)]
    explicit_content_filter: u8,
    afk_channel_id: Option<Id>,
    #[serde(default)]
    afk_timeout: u32,
    system_channel_id: Option<Id>,
    #[serde(default)]
    system_channel_flags: u64,
    rules_channel_id: Option<Id>,
    public_updates_channel_id: Option<Id>,
    #[serde(default)]
    preferred_locale: String,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    premium_tier: u8,
    #[serde(default)]
    pub(crate) roles: Vec<RoleJson>,
    #[serde(default)]
    pub(crate) emojis: Vec<EmojiJson>,
    #[serde(default)]
    pub(crate) stickers: Vec<StickerJson>,
}

impl GuildJson {
    /// The settings, image fields empty (the icon is downloaded by the caller).
    pub(crate) fn settings(&self) -> GuildSettings {
        GuildSettings {
            id: Some(self.id),
            name: self.name.clone(),
            icon: None,
            description: self.description.clone(),
            verification_level: self.verification_level,
            default_message_notifications: self.default_message_notifications,
            explicit_content_filter: self.explicit_content_filter,
            afk_channel: self.afk_channel_id,
            afk_timeout: self.afk_timeout,
            system_channel: self.system_channel_id,
            system_channel_flags: self.system_channel_flags,
            rules_channel: self.rules_channel_id,
            public_updates_channel: self.public_updates_channel_id,
            preferred_locale: self.preferred_locale.clone(),
            features: self.features.clone(),
            premium_tier: self.premium_tier,
        }
    }

    pub(crate) fn id(&self) -> Id {
        self.id
    }
}

#[derive(Debug, Deserialize)]
struct ColorsJson {
    #[serde(default)]
    primary_color: u32,
    secondary_color: Option<u32>,
    tertiary_color: Option<u32>,
}

/// A role (`GET /guilds/{guild_id}/roles`, and the guild's `roles`).
#[derive(Debug, Deserialize)]
pub(crate) struct RoleJson {
    pub(crate) id: Id,
    #[serde(default)]
    name: String,
    #[serde(default)]
    color: u32,
    colors: Option<ColorsJson>,
    #[serde(default)]
    hoist: bool,
    #[serde(default)]
    mentionable: bool,
    #[serde(default)]
    pub(crate) permissions: Bits,
    #[serde(default)]
    position: i64,
    pub(crate) icon: Option<String>,
    unicode_emoji: Option<String>,
    #[serde(default)]
    managed: bool,
}

impl RoleJson {
    /// The role, its icon's key empty. `colors` is kept only for a gradient (a second colour): a plain
    /// colour is `color` alone, as in guilds without enhanced role colours.
    pub(crate) fn role(&self) -> Role {
        Role {
            id: self.id,
            name: self.name.clone(),
            color: self.color,
            colors: self.colors.as_ref().filter(|c| c.secondary_color.is_some()).map(|c| RoleColors {
                primary: c.primary_color,
                secondary: c.secondary_color,
                tertiary: c.tertiary_color,
            }),
            hoist: self.hoist,
            mentionable: self.mentionable,
            permissions: self.permissions,
            position: self.position,
            icon: None,
            unicode_emoji: self.unicode_emoji.clone().filter(|e| !e.is_empty()),
            managed: self.managed,
        }
    }
}

/// A custom emoji of the guild's `emojis`.
#[derive(Debug, Deserialize)]
pub(crate) struct EmojiJson {
    pub(crate) id: Id,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    roles: Vec<Id>,
    #[serde(default)]
    pub(crate) animated: bool,
}

impl EmojiJson {
    pub(crate) fn emoji(&self) -> Emoji {
        Emoji {
            id: self.id,
            name: self.name.clone().unwrap_or_default(),
            animated: self.animated,
            roles: self.roles.clone(),
            image: String::new(),
        }
    }
}

/// A sticker of the guild's `stickers`.
#[derive(Debug, Deserialize)]
pub(crate) struct StickerJson {
    pub(crate) id: Id,
    #[serde(default)]
    name: String,
    description: Option<String>,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    pub(crate) format_type: u8,
}

impl StickerJson {
    pub(crate) fn sticker(&self) -> Sticker {
        Sticker {
            id: self.id,
            name: self.name.clone(),
            description: self.description.clone().filter(|d| !d.is_empty()),
            tags: self.tags.clone(),
            format: self.format_type,
            file: String::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct OverwriteJson {
    id: Id,
    /// 0 (role) or 1 (member); older payloads wrote "role" / "member".
    #[serde(rename = "type")]
    kind: Value,
    #[serde(default)]
    allow: Bits,
    #[serde(default)]
    deny: Bits,
}

impl OverwriteJson {
    fn overwrite(&self) -> Overwrite {
        let member = self.kind.as_u64() == Some(1) || self.kind.as_str() == Some("member");
        Overwrite {
            id: self.id,
            kind: if member { OverwriteKind::Member } else { OverwriteKind::Role },
            allow: self.allow,
            deny: self.deny,
        }
    }
}

/// A forum or media channel's tag (its id is read to keep tags across an update).
#[derive(Debug, Deserialize)]
pub(crate) struct TagJson {
    pub(crate) id: Option<Id>,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    moderated: bool,
    emoji_id: Option<Id>,
    emoji_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ReactionJson {
    emoji_id: Option<Id>,
    emoji_name: Option<String>,
}

/// A guild channel (`GET /guilds/{guild_id}/channels`, `GET /channels/{channel_id}`).
#[derive(Debug, Deserialize)]
pub(crate) struct ChannelJson {
    id: Id,
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    name: Option<String>,
    parent_id: Option<Id>,
    #[serde(default)]
    position: i64,
    topic: Option<String>,
    #[serde(default)]
    nsfw: bool,
    rate_limit_per_user: Option<u32>,
    bitrate: Option<u32>,
    user_limit: Option<u32>,
    rtc_region: Option<String>,
    default_auto_archive_duration: Option<u32>,
    #[serde(default)]
    pub(crate) available_tags: Option<Vec<TagJson>>,
    default_reaction_emoji: Option<ReactionJson>,
    #[serde(default)]
    permission_overwrites: Vec<OverwriteJson>,
}

impl ChannelJson {
    /// The channel. Its `default_reaction_emoji` is the emoji's id (decimal digits) for a custom emoji,
    /// else its Unicode name.
    pub(crate) fn channel(&self) -> Channel {
        Channel {
            id: self.id,
            kind: self.kind,
            name: self.name.clone().unwrap_or_default(),
            parent: self.parent_id,
            position: self.position,
            topic: self.topic.clone().filter(|t| !t.is_empty()),
            nsfw: self.nsfw,
            rate_limit_per_user: self.rate_limit_per_user.unwrap_or(0),
            bitrate: self.bitrate,
            user_limit: self.user_limit,
            rtc_region: self.rtc_region.clone(),
            default_auto_archive_duration: self.default_auto_archive_duration,
            available_tags: self
                .available_tags
                .iter()
                .flatten()
                .map(|t| ForumTag {
                    name: t.name.clone(),
                    moderated: t.moderated,
                    emoji_id: t.emoji_id,
                    emoji_name: t.emoji_name.clone(),
                })
                .collect(),
            default_reaction_emoji: self.default_reaction_emoji.as_ref().and_then(|r| {
                r.emoji_id.map(|id| id.to_string()).or_else(|| r.emoji_name.clone().filter(|n| !n.is_empty()))
            }),
            overwrites: self.permission_overwrites.iter().map(OverwriteJson::overwrite).collect(),
        }
    }
}

/// An AutoMod rule: its trigger metadata and actions as Discord writes them.
#[derive(Debug, Deserialize)]
pub(crate) struct AutoModJson {
    id: Id,
    #[serde(default)]
    name: String,
    #[serde(default)]
    event_type: u8,
    #[serde(default)]
    trigger_type: u8,
    #[serde(default)]
    trigger_metadata: Value,
    #[serde(default)]
    actions: Value,
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    exempt_roles: Vec<Id>,
    #[serde(default)]
    exempt_channels: Vec<Id>,
}

impl From<AutoModJson> for AutoModRule {
    fn from(r: AutoModJson) -> Self {
        Self {
            id: r.id,
            name: r.name,
            event_type: r.event_type,
            trigger_type: r.trigger_type,
            trigger_metadata: r.trigger_metadata,
            actions: r.actions,
            enabled: r.enabled,
            exempt_roles: r.exempt_roles,
            exempt_channels: r.exempt_channels,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct OptionEmojiJson {
    id: Option<Id>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OptionJson {
    #[serde(default)]
    title: String,
    description: Option<String>,
    /// Discord answers the emoji as an object; requests (and some answers) use flat fields.
    emoji: Option<OptionEmojiJson>,
    emoji_id: Option<Id>,
    emoji_name: Option<String>,
    #[serde(default)]
    role_ids: Vec<Id>,
    #[serde(default)]
    channel_ids: Vec<Id>,
}

#[derive(Debug, Deserialize)]
struct PromptJson {
    #[serde(default)]
    title: String,
    #[serde(rename = "type", default)]
    kind: u8,
    #[serde(default)]
    single_select: bool,
    #[serde(default)]
    required: bool,
    #[serde(default = "yes")]
    in_onboarding: bool,
    #[serde(default)]
    options: Vec<OptionJson>,
}

fn yes() -> bool {
    true
}

/// `GET /guilds/{guild_id}/onboarding`.
#[derive(Debug, Deserialize)]
pub(crate) struct OnboardingJson {
    #[serde(default)]
    prompts: Vec<PromptJson>,
    #[serde(default)]
    default_channel_ids: Vec<Id>,
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    mode: u8,
}

impl OnboardingJson {
    /// `None` for a guild that never set onboarding up: Discord answers it disabled, with no prompts
    /// and no default channels.
    pub(crate) fn onboarding(self) -> Option<Onboarding> {
        if !self.enabled && self.prompts.is_empty() && self.default_channel_ids.is_empty() {
            return None;
        }
        let prompts = self
            .prompts
            .into_iter()
            .map(|p| OnboardingPrompt {
                title: p.title,
                kind: p.kind,
                single_select: p.single_select,
                required: p.required,
                in_onboarding: p.in_onboarding,
                options: p
                    .options
                    .into_iter()
                    .map(|o| {
                        let emoji = o.emoji.unwrap_or_default();
                        OnboardingOption {
                            title: o.title,
                            description: o.description.filter(|d| !d.is_empty()),
                            emoji_id: emoji.id.or(o.emoji_id),
                            emoji_name: emoji.name.or(o.emoji_name).filter(|n| !n.is_empty()),
                            channels: o.channel_ids,
                            roles: o.role_ids,
                        }
                    })
                    .collect(),
            })
            .collect();
        Some(Onboarding { enabled: self.enabled, mode: self.mode, default_channels: self.default_channel_ids, prompts })
    }
}

#[derive(Debug, Deserialize)]
struct UserIdJson {
    id: Id,
}

/// A ban (`GET /guilds/{guild_id}/bans`).
#[derive(Debug, Deserialize)]
pub(crate) struct BanJson {
    user: UserIdJson,
    reason: Option<String>,
}

impl From<BanJson> for Ban {
    fn from(b: BanJson) -> Self {
        Self { user: b.user.id, reason: b.reason }
    }
}

/// A member: who, and their roles (`GET /guilds/{guild_id}/members`, `.../members/{user_id}`).
#[derive(Debug, Deserialize)]
pub(crate) struct MemberJson {
    user: UserIdJson,
    #[serde(default)]
    pub(crate) roles: Vec<Id>,
}

impl From<MemberJson> for MemberRoles {
    fn from(m: MemberJson) -> Self {
        Self { user: m.user.id, roles: m.roles }
    }
}

/// What Discord created: only its id.
#[derive(Debug, Deserialize)]
pub(crate) struct CreatedJson {
    pub(crate) id: Id,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onboarding_never_set_up_is_none() {
        let empty: OnboardingJson =
            serde_json::from_str(r#"{"guild_id":"1","prompts":[],"default_channel_ids":[],"enabled":false,"mode":0}"#)
                .expect("onboarding");
        assert_eq!(empty.onboarding(), None);
        let disabled: OnboardingJson =
            serde_json::from_str(r#"{"prompts":[],"default_channel_ids":["5"],"enabled":false,"mode":0}"#)
                .expect("onboarding");
        assert_eq!(disabled.onboarding().map(|o| o.default_channels), Some(vec![Id(5)]));
    }

    #[test]
    fn options_read_their_emoji_as_an_object_or_flat() {
        let json: OnboardingJson = serde_json::from_str(
            r#"{"enabled":true,"mode":1,"default_channel_ids":[],"prompts":[{"id":"9","title":"T","type":0,
                "options":[{"title":"a","description":"","emoji":{"id":null,"name":"🎮","animated":false},
                            "role_ids":["2"],"channel_ids":["3"]},
                           {"title":"b","emoji_id":"77","emoji_name":"custom"}]}]}"#,
        )
        .expect("onboarding");
        let onboarding = json.onboarding().expect("set up");
        let options = &onboarding.prompts[0].options;
        assert_eq!((options[0].emoji_name.as_deref(), options[0].emoji_id), (Some("🎮"), None));
        assert_eq!(
            (options[0].description.as_ref(), &options[0].roles, &options[0].channels),
            (None, &vec![Id(2)], &vec![Id(3)])
        );
        assert_eq!((options[1].emoji_name.as_deref(), options[1].emoji_id), (Some("custom"), Some(Id(77))));
        assert!(onboarding.prompts[0].in_onboarding, "Discord's default");
    }

    #[test]
    fn channels_keep_a_custom_reaction_by_id_and_a_unicode_one_by_name() {
        let custom = serde_json::from_str::<ChannelJson>(
            r#"{"id":"1","type":15,"name":"f","default_reaction_emoji":{"emoji_id":"42","emoji_name":null},
                "permission_overwrites":[{"id":"7","type":1,"allow":"8","deny":"0"},
                                         {"id":"6","type":"role","allow":"0","deny":"1024"}]}"#,
        )
        .expect("channel")
        .channel();
        assert_eq!(custom.default_reaction_emoji.as_deref(), Some("42"));
        assert_eq!(custom.overwrites[0].kind, OverwriteKind::Member);
        assert_eq!((custom.overwrites[1].kind, custom.overwrites[1].deny), (OverwriteKind::Role, Bits(1024)));
        let unicode: ChannelJson = serde_json::from_str(
            r#"{"id":"1","type":15,"name":"f","default_reaction_emoji":{"emoji_id":null,"emoji_name":"👍"}}"#,
        )
        .expect("channel");
        assert_eq!(unicode.channel().default_reaction_emoji.as_deref(), Some("👍"));
    }

    #[test]
    fn roles_keep_colors_only_for_a_gradient() {
        let plain: RoleJson = serde_json::from_str(
            r#"{"id":"1","name":"a","color":5,"colors":{"primary_color":5,"secondary_color":null,"tertiary_color":null},
                "permissions":"2048","position":3}"#,
        )
        .expect("role");
        assert_eq!((plain.role().colors, plain.role().permissions), (None, Bits(2048)));
        let gradient: RoleJson = serde_json::from_str(
            r#"{"id":"1","name":"a","color":5,"colors":{"primary_color":5,"secondary_color":6,"tertiary_color":null},
                "permissions":"0","position":3}"#,
        )
        .expect("role");
        assert_eq!(gradient.role().colors, Some(RoleColors { primary: 5, secondary: Some(6), tertiary: None }));
    }
}
