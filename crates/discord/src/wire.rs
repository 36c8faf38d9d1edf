//! Discord's JSON, read into the few fields Garrison uses and converted into garrison-core types.
//!
//! Responses are read with our own small serde structs rather than twilight-model's full ones: a
//! field Discord adds, renames or leaves out elsewhere in an object cannot break a route that does not
//! use it, and nothing of twilight's leaves this crate.

use garrison_core::discord::{
    AutoModRule, BotUser, Channel, Guild, GuildSummary, Invite, InviteChannel, InviteGuild, InviteUser, Member,
    Overwrite, OverwriteTarget, Permissions, Role, Snowflake, UserProfile,
};
use serde::{Deserialize, Serialize};

/// A snowflake as Discord writes it: a decimal string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Id(pub(crate) Snowflake);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse::<u64>()
            .ok()
            .filter(|&id| id > 0)
            .map(|id| Self(Snowflake::from_raw(id)))
            .ok_or_else(|| serde::de::Error::custom(format!("not a snowflake: {text:?}")))
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct UserJson {
    pub(crate) id: Id,
    pub(crate) username: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UserProfileJson {
    id: Id,
    username: String,
    global_name: Option<String>,
    avatar: Option<String>,
}

impl From<UserProfileJson> for UserProfile {
    fn from(u: UserProfileJson) -> Self {
        Self { id: u.id.0, username: u.username, global_name: u.global_name, avatar: u.avatar }
    }
}

impl From<UserJson> for BotUser {
    fn from(user: UserJson) -> Self {
        Self { id: user.id.0, username: user.username }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct GuildJson {
    id: Id,
    name: String,
    owner_id: Id,
    icon: Option<String>,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    premium_tier: u8,
    premium_subscription_count: Option<u64>,
    approximate_member_count: Option<u64>,
    approximate_presence_count: Option<u64>,
}

impl From<GuildJson> for Guild {
    fn from(g: GuildJson) -> Self {
        Self {
            id: g.id.0,
            name: g.name,
            owner_id: g.owner_id.0,
            icon: g.icon,
            features: g.features,
            premium_tier: g.premium_tier,
            premium_subscription_count: g.premium_subscription_count,
            approximate_member_count: g.approximate_member_count,
            approximate_presence_count: g.approximate_presence_count,
        }
    }
}

/// Discord's role tags mark a flag by the key's presence with a `null` value.
#[derive(Debug, Default, Deserialize)]
struct RoleTagsJson {
    #[serde(default, deserialize_with = "present")]
    premium_subscriber: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

#[derive(Debug, Deserialize)]
pub(crate) struct RoleJson {
    id: Id,
    name: String,
    position: i64,
    permissions: String,
    #[serde(default)]
    color: u32,
    #[serde(default)]
    hoist: bool,
    #[serde(default)]
    mentionable: bool,
    #[serde(default)]
    managed: bool,
    #[serde(default)]
    tags: Option<RoleTagsJson>,
}

impl From<RoleJson> for Role {
    fn from(r: RoleJson) -> Self {
        Self {
            id: r.id.0,
            name: r.name,
            position: r.position,
            permissions: Permissions::parse(&r.permissions).unwrap_or(Permissions::NONE),
            color: r.color,
            hoist: r.hoist,
            mentionable: r.mentionable,
            managed: r.managed,
            premium_subscriber: r.tags.is_some_and(|t| t.premium_subscriber),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct MemberJson {
    user: UserJson,
    nick: Option<String>,
    #[serde(default)]
    roles: Vec<Id>,
    premium_since: Option<String>,
    communication_disabled_until: Option<String>,
}

impl From<MemberJson> for Member {
    fn from(m: MemberJson) -> Self {
        Self {
            user_id: m.user.id.0,
            username: m.user.username,
            nick: m.nick,
            roles: m.roles.into_iter().map(|id| id.0).collect(),
            premium_since: m.premium_since,
            communication_disabled_until: m.communication_disabled_until,
        }
    }
}

#[derive(Debug, Deserialize)]
struct InviteGuildJson {
    id: Id,
    name: String,
    icon: Option<String>,
    vanity_url_code: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct InviteChannelJson {
    id: Id,
    name: Option<String>,
    #[serde(rename = "type")]
    kind: u8,
}

#[derive(Debug, Deserialize)]
struct InviteUserJson {
    id: Id,
    username: String,
    avatar: Option<String>,
    #[serde(default)]
    bot: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct InviteJson {
    code: String,
    guild: Option<InviteGuildJson>,
    channel: Option<InviteChannelJson>,
    inviter: Option<InviteUserJson>,
    approximate_member_count: Option<u64>,
    approximate_presence_count: Option<u64>,
    expires_at: Option<String>,
}

impl From<InviteJson> for Invite {
    fn from(i: InviteJson) -> Self {
        Self {
            code: i.code,
            guild: i.guild.map(|g| InviteGuild {
                id: g.id.0,
                name: g.name,
                icon: g.icon,
                vanity_url_code: g.vanity_url_code,
                description: g.description,
            }),
            channel: i.channel.map(|c| InviteChannel { id: c.id.0, name: c.name, kind: c.kind }),
            inviter: i.inviter.map(|u| InviteUser { id: u.id.0, username: u.username, avatar: u.avatar, bot: u.bot }),
            approximate_member_count: i.approximate_member_count,
            approximate_presence_count: i.approximate_presence_count,
            expires_at: i.expires_at,
        }
    }
}

#[derive(Debug, Deserialize)]
struct OverwriteJson {
    id: Id,
    #[serde(rename = "type")]
    kind: serde_json::Value,
    #[serde(default)]
    allow: String,
    #[serde(default)]
    deny: String,
}

impl OverwriteJson {
    /// Discord writes the type as 0 (role) or 1 (member); older payloads used "role" / "member".
    fn into_overwrite(self) -> Overwrite {
        let member = self.kind.as_u64() == Some(1) || self.kind.as_str() == Some("member");
        Overwrite {
            target: if member { OverwriteTarget::Member(self.id.0) } else { OverwriteTarget::Role(self.id.0) },
            allow: Permissions::parse(&self.allow).unwrap_or(Permissions::NONE),
            deny: Permissions::parse(&self.deny).unwrap_or(Permissions::NONE),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChannelJson {
    id: Id,
    guild_id: Option<Id>,
    #[serde(rename = "type")]
    kind: u8,
    name: Option<String>,
    #[serde(default)]
    position: i64,
    parent_id: Option<Id>,
    topic: Option<String>,
    #[serde(default)]
    nsfw: bool,
    rate_limit_per_user: Option<u64>,
    bitrate: Option<u64>,
    user_limit: Option<u64>,
    #[serde(default)]
    permission_overwrites: Vec<OverwriteJson>,
}

impl From<ChannelJson> for Channel {
    fn from(c: ChannelJson) -> Self {
        Self {
            id: c.id.0,
            guild_id: c.guild_id.map(|g| g.0),
            kind: c.kind,
            name: c.name,
            position: c.position,
            parent_id: c.parent_id.map(|p| p.0),
            topic: c.topic,
            nsfw: c.nsfw,
            rate_limit_per_user: c.rate_limit_per_user,
            bitrate: c.bitrate,
            user_limit: c.user_limit,
            overwrites: c.permission_overwrites.into_iter().map(OverwriteJson::into_overwrite).collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct TriggerMetadataJson {
    #[serde(default)]
    keyword_filter: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AutoModRuleJson {
    name: String,
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    trigger_metadata: Option<TriggerMetadataJson>,
}

impl From<AutoModRuleJson> for AutoModRule {
    fn from(r: AutoModRuleJson) -> Self {
        Self {
            name: r.name,
            enabled: r.enabled,
            keyword_filter: r.trigger_metadata.map(|m| m.keyword_filter).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct GuildSummaryJson {
    id: Id,
    name: String,
}

impl From<GuildSummaryJson> for GuildSummary {
    fn from(g: GuildSummaryJson) -> Self {
        Self { id: g.id.0, name: g.name }
    }
}

/// Only the id of what Discord created (a message, a DM channel).
#[derive(Debug, Deserialize)]
pub(crate) struct MessageIdJson {
    pub(crate) id: Id,
}

/// A message or an edit as Garrison sends it: the fields it sets (core's `NewMessage` or
/// `MessagePatch`), and `allowed_mentions: {"parse": []}`, always: text from a request never pings
/// `@everyone`, a role or a user (mentions still render), and an edit of a fetched message cannot
/// know which mentions were allowed when it was sent. `ping_role` (core's `NewMessage::ping_role`, a
/// staff member's choice, never request text) is the one role allowed to ping.
pub(crate) fn outgoing<T: Serialize>(
    body: &T,
    ping_role: Option<garrison_core::discord::Snowflake>,
) -> Result<serde_json::Value, garrison_core::discord::DiscordError> {
    #[derive(Serialize)]
    struct Pings {
        parse: [&'static str; 0],
        #[serde(skip_serializing_if = "Option::is_none")]
        roles: Option<[garrison_core::discord::Snowflake; 1]>,
    }
    #[derive(Serialize)]
    struct Outgoing<'a, T> {
        #[serde(flatten)]
        body: &'a T,
        allowed_mentions: Pings,
    }
    serde_json::to_value(Outgoing { body, allowed_mentions: Pings { parse: [], roles: ping_role.map(|r| [r]) } })
        .map_err(|e| garrison_core::discord::DiscordError::Rejected(format!("the message cannot be written: {e}")))
}

/// Discord's error body: `{"message": "...", "code": 50013, "errors": {...}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorJson {
    #[serde(default)]
    pub(crate) code: u64,
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) errors: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_discords_tag_presence_and_string_permissions() {
        let booster: RoleJson = serde_json::from_str(
            r#"{"id":"41771983423143936","name":"Server Booster","position":3,"permissions":"8",
                "managed":true,"tags":{"premium_subscriber":null},"color":16711680}"#,
        )
        .expect("a role");
        let role = Role::from(booster);
        assert!(role.premium_subscriber && role.managed);
        assert_eq!(role.permissions, Permissions::ADMINISTRATOR);
        let plain: RoleJson =
            serde_json::from_str(r#"{"id":"41771983423143937","name":"x","position":1,"permissions":"0","tags":{}}"#)
                .expect("a role");
        assert!(!Role::from(plain).premium_subscriber);
    }

    #[test]
    fn ids_must_be_decimal_strings() {
        assert!(serde_json::from_str::<Id>(r#""41771983423143936""#).is_ok());
        assert!(serde_json::from_str::<Id>("41771983423143936").is_err());
        assert!(serde_json::from_str::<Id>(r#""abc""#).is_err());
        assert!(serde_json::from_str::<Id>(r#""0""#).is_err());
    }

    /// A V2 message as Discord returns it, with component fields Garrison never reads.
    const V2_MESSAGE: &str = r#"{
        "id": "1300000000000000000", "channel_id": "1200000000000000000", "type": 0, "content": "",
        "author": {"id": "1100000000000000000", "username": "garrison", "bot": true},
        "timestamp": "2025-01-01T00:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "attachments": [], "embeds": [], "flags": 32772,
        "components": [
            {"type": 17, "id": 1, "accent_color": 5814783, "spoiler": false, "future_field": {"nested": [1, 2]},
             "components": [
                {"type": 10, "id": 2, "content": "Members: 120"},
                {"type": 9, "id": 3, "components": [{"type": 10, "id": 4, "content": "Online: 37"}],
                 "accessory": {"type": 11, "id": 5, "media": {"url": "https://cdn.example.com/a.png"}, "description": null}},
                {"type": 14, "id": 6, "divider": true, "spacing": 1},
                {"type": 1, "id": 7, "components": [
                    {"type": 2, "id": 8, "style": 5, "label": "Open", "url": "https://x.example", "emoji": {"name": "🔗"}}
                ]}
            ]}
        ]
    }"#;

    #[test]
    fn unknown_component_fields_survive_a_round_trip() {
        let raw: serde_json::Value = serde_json::from_str(V2_MESSAGE).expect("json");
        let message: garrison_core::discord::Message = serde_json::from_str(V2_MESSAGE).expect("a message");
        assert!(message.is_components_v2());
        assert_eq!(serde_json::to_value(&message.components).expect("json"), raw["components"]);
        // A smart edit sends the tree back with only the one text changed, and nothing that pings.
        let patch = garrison_core::discord::messages::smart_edit(&message, "members", "Members: 121").expect("edit");
        let sent = outgoing(&patch, None).expect("a body");
        let mut expected = raw["components"].clone();
        expected[0]["components"][0]["content"] = serde_json::json!("Members: 121");
        assert_eq!(
            sent,
            serde_json::json!({"components": expected, "flags": 32772, "allowed_mentions": {"parse": []}})
        );
    }

    #[test]
    fn every_message_garrison_sends_pings_nobody() {
        let embed = garrison_core::discord::messages::EmbedRequest {
            title: "T".into(),
            description: "@everyone D".into(),
            color: "1".into(),
            plain_text: Some("<@&1> hi".into()),
            ..Default::default()
        };
        let message = garrison_core::discord::messages::embed_message(&embed).expect("valid");
        assert_eq!(
            outgoing(&message, message.ping_role).expect("a body"),
            serde_json::json!({
                "content": "<@&1> hi",
                "embeds": [{"title": "T", "description": "@everyone D", "color": 1}],
                "allowed_mentions": {"parse": []},
            })
        );
        let patch = garrison_core::discord::MessagePatch { content: Some("x".into()), ..Default::default() };
        assert_eq!(
            outgoing(&patch, None).expect("a body"),
            serde_json::json!({"content": "x", "allowed_mentions": {"parse": []}})
        );
        // A live alert's role, chosen by the server's staff, is the one mention allowed to ping.
        let role = garrison_core::discord::Snowflake::from_raw(300_000_000_000_000_001);
        let alert = garrison_core::discord::NewMessage {
            content: Some("<@&300000000000000001> @everyone".into()),
            ping_role: Some(role),
            ..Default::default()
        };
        assert_eq!(
            outgoing(&alert, alert.ping_role).expect("a body"),
            serde_json::json!({
                "content": "<@&300000000000000001> @everyone",
                "allowed_mentions": {"parse": [], "roles": ["300000000000000001"]},
            })
        );
    }
}

/// `GET /gateway/bot`.
#[derive(Debug, Deserialize)]
pub(crate) struct GatewayBotJson {
    pub url: String,
    /// Shards Discord recommends.
    #[serde(default)]
    pub shards: u32,
    pub session_start_limit: SessionStartLimitJson,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SessionStartLimitJson {
    pub total: u32,
    pub remaining: u32,
    /// Milliseconds until `remaining` resets.
    pub reset_after: u64,
    pub max_concurrency: u16,
}
