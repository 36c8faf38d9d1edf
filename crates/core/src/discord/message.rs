//! Discord messages as Garrison reads and writes them: [`Message`] (what Discord returns, with the
//! fields Garrison reads), [`NewMessage`] (what Garrison posts), [`MessagePatch`] (what it edits) and
//! [`InteractionToken`] (the secret that addresses an interaction's response).
//!
//! The types carry serde derives in Discord's own field names, so the Discord adapter reads a message
//! once into them and writes them back as is, and the transcript spool can keep them on disk; core
//! itself never parses JSON. Components keep the fields Garrison does not read in an opaque
//! [`ComponentFields`] map, so a component tree fetched from Discord and sent back (a smart edit)
//! loses nothing.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Snowflake;

impl Serialize for Snowflake {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A snowflake as Discord writes it: a decimal string (a bare number is read too). Zero is refused.
impl<'de> Deserialize<'de> for Snowflake {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Snowflake;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a snowflake")
            }
            fn visit_u64<E: serde::de::Error>(self, id: u64) -> Result<Snowflake, E> {
                (id > 0).then(|| Snowflake::from_raw(id)).ok_or_else(|| E::custom("not a snowflake: 0"))
            }
            fn visit_i64<E: serde::de::Error>(self, id: i64) -> Result<Snowflake, E> {
                u64::try_from(id).map_err(|_| E::custom("not a snowflake"))?;
                self.visit_u64(id.unsigned_abs())
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Snowflake, E> {
                let id = text
                    .parse::<u64>()
                    .ok()
                    .filter(|_| text.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| E::custom(format!("not a snowflake: {text:?}")))?;
                self.visit_u64(id)
            }
        }
        d.deserialize_any(Visitor)
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Message flag `IS_COMPONENTS_V2` (`1 << 15`): the message is laid out by components (text displays,
/// containers, sections) and can have no `content` or `embeds`. Once set, it stays set.
pub const IS_COMPONENTS_V2: u64 = 1 << 15;

/// Message flag `SUPPRESS_EMBEDS` (`1 << 2`): link previews are hidden. One of the two flags an edit
/// may carry.
pub const SUPPRESS_EMBEDS: u64 = 1 << 2;

/// A message as Discord returns it (`GET /channels/{id}/messages`, an interaction's original
/// response), with the fields Garrison reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: Snowflake,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<Snowflake>,
    /// Discord's message type (0 default, 19 reply, 20 chat-input command, 7 member join, ...).
    #[serde(rename = "type", default)]
    pub kind: u8,
    #[serde(default)]
    pub content: String,
    pub author: User,
    /// When it was sent (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// When it was last edited (ISO 8601), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_timestamp: Option<String>,
    /// Discord's message flags ([`IS_COMPONENTS_V2`], [`SUPPRESS_EMBEDS`], ...).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub flags: u64,
    #[serde(default, skip_serializing_if = "is_false")]
    pub pinned: bool,
    /// The users the message mentions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<User>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<Embed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sticker_items: Vec<StickerItem>,
    /// What the message replies to or forwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_reference: Option<MessageReference>,
    /// The message replied to, when Discord still has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_message: Option<Box<Message>>,
    /// The interaction the message answers (who ran which command).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_metadata: Option<InteractionMetadata>,
    /// The same, in the older shape Discord still sends on old messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<InteractionMetadata>,
}

impl Message {
    /// Whether the message is laid out by components ([`IS_COMPONENTS_V2`]).
    pub fn is_components_v2(&self) -> bool {
        self.flags & IS_COMPONENTS_V2 != 0
    }
}

/// A message's author, a mentioned user, an interaction's user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Snowflake,
    #[serde(default)]
    pub username: String,
    /// The display name, when the user set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_name: Option<String>,
    /// The avatar hash, when the user has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub bot: bool,
}

/// A file uploaded with a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Snowflake>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub filename: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// In bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The MIME type the uploader's client declared, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The alt text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An embed, as received (any type) or sent (`rich`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Embed {
    /// `rich`, `image`, `video`, `gifv`, `link`, ... (never sent by Garrison).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `0xRRGGBB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<EmbedFooter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<EmbedMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<EmbedMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<EmbedMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<EmbedProvider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<EmbedAuthor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EmbedField>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedFooter {
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_icon_url: Option<String>,
}

/// An embed's image, thumbnail or video.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedMedia {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
}

impl EmbedMedia {
    /// Media at `url`, as Garrison sends it.
    pub fn at(url: impl Into<String>) -> Self {
        Self { url: Some(url.into()), proxy_url: None }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedProvider {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedAuthor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_icon_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedField {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub inline: bool,
}

/// Discord's component types that Garrison names.
pub mod component_kind {
    pub const ACTION_ROW: u8 = 1;
    pub const BUTTON: u8 = 2;
    pub const SECTION: u8 = 9;
    pub const TEXT_DISPLAY: u8 = 10;
    pub const THUMBNAIL: u8 = 11;
    pub const SEPARATOR: u8 = 14;
    pub const CONTAINER: u8 = 17;
}

/// A message component, at any depth. Garrison reads a component's type, its text (`content`, the
/// Text Display's), its children and its accessory; every other field (labels, media, ids, styles,
/// custom ids, ...) stays in [`Component::fields`] and is written back as it came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    #[serde(rename = "type")]
    pub kind: u8,
    /// The text of a Text Display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The components inside (action rows, containers, sections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<Component>>,
    /// A section's accessory (a thumbnail or a button).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessory: Option<Box<Component>>,
    /// Everything else, unread.
    #[serde(flatten)]
    pub fields: ComponentFields,
}

impl Component {
    /// A Text Display with `content`.
    pub fn text_display(content: impl Into<String>) -> Self {
        Self {
            kind: component_kind::TEXT_DISPLAY,
            content: Some(content.into()),
            components: None,
            accessory: None,
            fields: ComponentFields::default(),
        }
    }

    /// The components inside, if any.
    pub fn children(&self) -> &[Component] {
        self.components.as_deref().unwrap_or_default()
    }
}

/// The fields of a component Garrison does not read, kept as Discord sent them.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ComponentFields(serde_json::Map<String, serde_json::Value>);

impl ComponentFields {
    /// How many fields are kept.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One field as Discord sent it, for a reader that shows more than Garrison acts on (the
    /// transcript page reads labels, styles and media from here).
    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key)
    }
}

impl fmt::Debug for ComponentFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// A reaction under a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    #[serde(default)]
    pub emoji: Emoji,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Whether the bot itself reacted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub me: bool,
}

/// A Unicode emoji (`name` is the emoji, no id) or a custom one (`id` and `name`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emoji {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Snowflake>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub animated: bool,
}

/// A sticker sent with a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickerItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Snowflake>,
    #[serde(default)]
    pub name: String,
}

/// What a reply or forward points at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Snowflake>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<Snowflake>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<Snowflake>,
}

/// The interaction a message answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Snowflake>,
    /// Who ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The command's name (older messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A message Garrison posts. The adapter always sends it with `allowed_mentions: {"parse": []}`:
/// text from a request never pings `@everyone`, a role or a user (mentions still render). The one
/// exception is [`NewMessage::ping_role`], which a service sets from a choice the server's staff made
/// (a live alert's role), never from text.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<Embed>,
    /// The one role this message may ping (`allowed_mentions.roles`), when its content mentions it.
    #[serde(skip)]
    pub ping_role: Option<Snowflake>,
}

/// An edit of a message: the fields it sets (the others are left unchanged). The adapter always sends
/// it with `allowed_mentions: {"parse": []}`: a message fetched from Discord does not say which
/// mentions were allowed when it was sent, and an edit must never ping.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MessagePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The whole component tree, as fetched, with what changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<Component>>,
    /// The embeds, all of them (an empty list removes them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embeds: Option<Vec<Embed>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<u64>,
}

/// An interaction token (the secret in `/webhooks/{application}/{token}`), its shape checked once:
/// 20 to [`MAX_INTERACTION_TOKEN_LEN`](super::MAX_INTERACTION_TOKEN_LEN) characters of the URL-safe base64 alphabet and `.`. Discord
/// documents no format, so the rule is loose: it refuses only what cannot travel as the path segment
/// of Discord's webhook URL or is far too short to be a secret Discord issued (a token encodes
/// `interaction:<id>:<secret>`), so such text never reaches Discord. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct InteractionToken(String);

impl InteractionToken {
    /// The token, when `text` has the shape of one.
    pub fn parse(text: &str) -> Option<Self> {
        super::port::is_interaction_token(text).then(|| Self(text.to_owned()))
    }

    /// The secret itself, for the adapter that puts it in the URL.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for InteractionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InteractionToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_message_reads_discords_json_and_keeps_unknown_component_fields() {
        let raw = json!({
            "id": "1300000000000000000",
            "channel_id": "1200000000000000000",
            "type": 0,
            "content": "",
            "author": {"id": "1100000000000000000", "username": "garrison", "bot": true},
            "timestamp": "2025-01-01T00:00:00.000000+00:00",
            "flags": IS_COMPONENTS_V2,
            "tts": false,
            "components": [{"type": 17, "id": 1, "accent_color": 5, "spoiler": false, "components": [
                {"type": 10, "id": 2, "content": "hi"},
                {"type": 9, "components": [], "accessory": {"type": 11, "media": {"url": "https://x/a.png"}}},
            ]}],
        });
        let message: Message = serde_json::from_value(raw.clone()).expect("a message");
        assert!(message.is_components_v2());
        assert!(message.author.bot);
        assert_eq!(message.components[0].children()[0].content.as_deref(), Some("hi"));
        assert_eq!(message.components[0].fields.len(), 3);
        assert_eq!(message.components[0].fields.get("accent_color"), Some(&json!(5)));
        assert_eq!(message.components[0].fields.get("content"), None, "read fields are not kept twice");
        let back = serde_json::to_value(&message.components).expect("json");
        assert_eq!(back, raw["components"]);
    }

    #[test]
    fn interaction_tokens_are_checked_once_and_never_shown() {
        let token = InteractionToken::parse("aW50ZXJhY3Rpb246bm90LXJlYWw").expect("a token");
        assert_eq!(token.expose(), "aW50ZXJhY3Rpb246bm90LXJlYWw");
        assert_eq!(format!("{token:?}"), "InteractionToken(<redacted>)");
        assert!(InteractionToken::parse("aW50ZXJhY3Rpb246/../../users/@me").is_none());
        assert!(InteractionToken::parse("short").is_none());
    }

    #[test]
    fn snowflakes_are_strings_on_the_wire() {
        let id = Snowflake::from_raw(41_771_983_423_143_937);
        assert_eq!(serde_json::to_value(id).expect("json"), json!("41771983423143937"));
        assert_eq!(serde_json::from_value::<Snowflake>(json!("41771983423143937")).expect("id"), id);
        assert!(serde_json::from_value::<Snowflake>(json!("0")).is_err());
        assert!(serde_json::from_value::<Snowflake>(json!("+1")).is_err());
        assert!(serde_json::from_value::<Snowflake>(json!("abc")).is_err());
    }
}
