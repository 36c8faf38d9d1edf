//! Core's typed Discord messages as the transcript page reads them: a field-by-field copy into
//! `garrison_pages::message`, borrowing the text (no JSON is written or parsed for a message).
//!
//! The one exception is what core keeps opaque: a component's fields Garrison does not act on
//! (labels, styles, URLs, media, options) stay in `ComponentFields` as Discord sent them, so they
//! are read from there, and a Label's inner component, which is one of those fields, is read the
//! same way.

use garrison_core::discord::{
    Attachment, Component, Embed, EmbedMedia, Emoji, InteractionMetadata, Message, Reaction, User,
};
use garrison_pages::message as page;
use serde_json::Value;

/// A message for `garrison_pages::TranscriptWriter::message`.
pub fn of(message: &Message) -> page::Message<'_> {
    page::Message {
        id: Some(message.id.get()),
        kind: message.kind,
        author: Some(user(&message.author)),
        content: &message.content,
        timestamp: message.timestamp.as_deref(),
        edited_timestamp: message.edited_timestamp.as_deref(),
        pinned: message.pinned,
        mentions: message.mentions.iter().map(user).collect(),
        attachments: message.attachments.iter().map(attachment).collect(),
        embeds: message.embeds.iter().map(embed).collect(),
        stickers: message.sticker_items.iter().map(|sticker| sticker.name.as_str()).collect(),
        components: message.components.iter().map(component).collect(),
        reactions: message.reactions.iter().map(reaction).collect(),
        reference_id: message.message_reference.as_ref().and_then(|reference| reference.message_id).map(|id| id.get()),
        referenced: message.referenced_message.as_deref().map(|original| Box::new(of(original))),
        interaction: message.interaction_metadata.as_ref().or(message.interaction.as_ref()).map(interaction),
    }
}

/// A user for `garrison_pages::avatar_url` and the messages above.
pub fn user(user: &User) -> page::User<'_> {
    page::User {
        id: Some(user.id.get()),
        username: &user.username,
        global_name: user.global_name.as_deref(),
        avatar: user.avatar.as_deref(),
        bot: user.bot,
    }
}

fn attachment(attachment: &Attachment) -> page::Attachment<'_> {
    page::Attachment {
        filename: Some(attachment.filename.as_str()).filter(|name| !name.is_empty()),
        url: attachment.url.as_deref(),
        proxy_url: attachment.proxy_url.as_deref(),
        size: attachment.size,
        content_type: attachment.content_type.as_deref(),
        description: attachment.description.as_deref(),
    }
}

fn embed(embed: &Embed) -> page::Embed<'_> {
    page::Embed {
        kind: embed.kind.as_deref(),
        title: embed.title.as_deref(),
        description: embed.description.as_deref(),
        url: embed.url.as_deref(),
        timestamp: embed.timestamp.as_deref(),
        colour: embed.color,
        footer: embed.footer.as_ref().map(|footer| page::EmbedFooter {
            text: &footer.text,
            icon_url: footer.icon_url.as_deref(),
            proxy_icon_url: footer.proxy_icon_url.as_deref(),
        }),
        image: media(embed.image.as_ref()),
        thumbnail: media(embed.thumbnail.as_ref()),
        video: media(embed.video.as_ref()),
        provider: embed.provider.as_ref().and_then(|provider| provider.name.as_deref()),
        author: embed.author.as_ref().and_then(|author| {
            Some(page::EmbedAuthor {
                name: author.name.as_deref()?,
                url: author.url.as_deref(),
                icon_url: author.icon_url.as_deref(),
                proxy_icon_url: author.proxy_icon_url.as_deref(),
            })
        }),
        fields: embed
            .fields
            .iter()
            .map(|field| page::EmbedField { name: &field.name, value: &field.value, inline: field.inline })
            .collect(),
    }
}

fn media(media: Option<&EmbedMedia>) -> page::Media<'_> {
    media.map_or_else(page::Media::default, |media| page::Media {
        url: media.url.as_deref(),
        proxy_url: media.proxy_url.as_deref(),
    })
}

fn emoji(emoji: &Emoji) -> page::Emoji<'_> {
    page::Emoji { id: emoji.id.map(|id| id.get()), name: emoji.name.as_deref().unwrap_or("") }
}

fn reaction(reaction: &Reaction) -> page::Reaction<'_> {
    page::Reaction { emoji: emoji(&reaction.emoji), count: reaction.count, me: reaction.me }
}

fn interaction(interaction: &InteractionMetadata) -> page::Interaction<'_> {
    page::Interaction { user: interaction.user.as_ref().map(user), name: interaction.name.as_deref() }
}

fn component(component: &Component) -> page::Component<'_> {
    shape(
        u64::from(component.kind),
        component.content.as_deref(),
        || component.children().iter().map(self::component).collect(),
        || component.accessory.as_deref().map(|accessory| Box::new(self::component(accessory))),
        |key| component.fields.get(key),
    )
}

/// A component given as Discord's JSON (a Label's inner component, kept opaque by core).
fn json_component(value: &Value) -> page::Component<'_> {
    shape(
        value.get("type").and_then(Value::as_u64).unwrap_or(0),
        value.get("content").and_then(Value::as_str),
        || array(value.get("components")).iter().map(json_component).collect(),
        || value.get("accessory").map(|accessory| Box::new(json_component(accessory))),
        |key| value.get(key),
    )
}

/// The page's component of `kind`, from its text, children, accessory and other fields.
fn shape<'a>(
    kind: u64,
    content: Option<&'a str>,
    children: impl FnOnce() -> Vec<page::Component<'a>>,
    accessory: impl FnOnce() -> Option<Box<page::Component<'a>>>,
    field: impl Fn(&str) -> Option<&'a Value>,
) -> page::Component<'a> {
    let text = |key: &str| field(key).and_then(Value::as_str);
    match kind {
        1 => page::Component::ActionRow(children()),
        2 => page::Component::Button(page::Button {
            style: field("style").and_then(Value::as_u64),
            label: text("label"),
            url: text("url"),
            emoji: field("emoji").map(json_emoji),
        }),
        3 | 5..=8 => page::Component::Select {
            placeholder: text("placeholder"),
            options: array(field("options"))
                .iter()
                .map(|option| page::SelectOption {
                    label: option.get("label").and_then(Value::as_str),
                    default: option.get("default").and_then(Value::as_bool) == Some(true),
                })
                .collect(),
        },
        9 => page::Component::Section { components: children(), accessory: accessory() },
        10 => page::Component::TextDisplay(content.unwrap_or("")),
        11 => page::Component::Thumbnail { media: json_media(field("media")), description: text("description") },
        12 => page::Component::Gallery(
            array(field("items"))
                .iter()
                .map(|item| page::GalleryItem {
                    media: json_media(item.get("media")),
                    content_type: item.get("media").and_then(|media| media.get("content_type")).and_then(Value::as_str),
                    description: item.get("description").and_then(Value::as_str),
                })
                .collect(),
        ),
        13 => page::Component::File { url: field("file").and_then(|file| file.get("url")).and_then(Value::as_str) },
        14 => page::Component::Separator { divider: field("divider").and_then(Value::as_bool) != Some(false) },
        17 => page::Component::Container {
            accent_colour: field("accent_color")
                .and_then(Value::as_u64)
                .and_then(|colour| u32::try_from(colour & 0x00ff_ffff).ok()),
            components: children(),
        },
        18 => page::Component::Label {
            label: text("label").unwrap_or(""),
            component: field("component").map(|inner| Box::new(json_component(inner))),
        },
        _ => page::Component::Other,
    }
}

fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn json_media(media: Option<&Value>) -> page::Media<'_> {
    let text = |key: &str| media.and_then(|media| media.get(key)).and_then(Value::as_str);
    page::Media { url: text("url"), proxy_url: text("proxy_url") }
}

fn json_emoji(emoji: &Value) -> page::Emoji<'_> {
    let id = match emoji.get("id") {
        Some(Value::String(text))
            if !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit()) =>
        {
            text.parse().ok()
        }
        Some(Value::Number(number)) => number.as_u64(),
        _ => None,
    };
    page::Emoji { id, name: emoji.get("name").and_then(Value::as_str).unwrap_or("") }
}

#[cfg(test)]
mod tests {
    use garrison_pages::{Names, TranscriptHeader, TranscriptWriter};
    use serde_json::json;

    use super::*;

    /// Every field the page shows, read from Discord's JSON into core's types and converted: what a
    /// reader sees, including the rules core's serialisation used to decide (an empty file name is
    /// `file`, an embed author without a name is not shown, a colour is masked to 24 bits).
    #[test]
    fn a_message_reads_every_shown_field() {
        let raw = json!({
            "id": "1200000000000000000", "type": 19, "content": "hi <@222222222222222222>",
            "author": {"id": "111111111111111111", "username": "alice", "global_name": "Alice", "avatar": "abc", "bot": true},
            "timestamp": "2024-01-15T10:00:00.000000+00:00", "edited_timestamp": "2024-01-15T10:05:00.000000+00:00",
            "pinned": true,
            "mentions": [{"id": "222222222222222222", "username": "bob"}],
            "message_reference": {"message_id": "42"},
            "attachments": [{"id": "1", "filename": "", "url": "https://cdn.example/x.bin", "size": 2048}],
            "embeds": [{"type": "rich", "title": "T", "color": 0xff0000, "provider": {"name": "Site"},
                        "author": {"url": "https://example.com"}, "footer": {"text": "F"},
                        "fields": [{"name": "N", "value": "V", "inline": true}]}],
            "sticker_items": [{"id": "5", "name": "Wave"}],
            "reactions": [{"emoji": {"id": "777", "name": "pepe"}, "me": true}],
            "components": [
                {"type": 1, "components": [{"type": 2, "style": 5, "label": "Docs", "url": "https://example.com/d",
                                            "emoji": {"id": null, "name": "📄"}},
                                           {"type": 3, "placeholder": "P", "options": [{"label": "A", "default": true}]}]},
                {"type": 17, "accent_color": 0x1_0058_65f2_u64, "components": [
                    {"type": 14, "divider": false},
                    {"type": 13, "file": {"url": "attachment://"}},
                    {"type": 12, "items": [{"media": {"url": "https://cdn.example/v", "content_type": "video/mp4"}, "description": "D"}]},
                    {"type": 18, "label": "L", "component": {"type": 10, "content": "**inner**"}}
                ]}
            ]
        });
        let message: Message = serde_json::from_value(raw).expect("a message");
        let page = of(&message);
        assert_eq!(page.reference_id, Some(42));
        assert_eq!(page.attachments[0].filename, None, "an empty name counts as none");
        assert!(page.embeds[0].author.is_none(), "an embed author without a name is not shown");
        assert_eq!(
            garrison_pages::avatar_url(&user(&message.author)).as_deref(),
            Some("https://cdn.discordapp.com/avatars/111111111111111111/abc.png")
        );

        let header =
            TranscriptHeader { guild_name: "G", channel_name: "c", created_at_ms: 0, message_count_hint: None };
        let mut writer = TranscriptWriter::start(Vec::new(), &header).expect("start");
        writer.message(&page, &Names::new(), &|_| None).expect("message");
        let html = String::from_utf8(writer.finish().expect("finish")).expect("utf-8");
        for fragment in [
            "<i>Original message was deleted</i> <a href=\"#msg-42\">(jump)</a>",
            "<bdi>Alice</bdi></span><span class=\"tag\">APP</span>",
            "<span class=\"edited\">(pinned)</span>",
            "hi <span class=\"mention user\">@bob</span>",
            ">file</a><div class=\"size\">2.00 KB</div>",
            "<div class=\"embed\" data-colour=\"#ff0000\"><div class=\"e-footer\">Site</div><div class=\"e-title\">T</div>",
            "<div class=\"e-field inline\"><div class=\"e-fname\">N</div><div class=\"e-fvalue\">V</div></div>",
            "Sticker: Wave",
            "<span class=\"reaction me\"><span class=\"emoji\">:pepe:</span><span class=\"n\">1</span></span>",
            "📄<span>Docs</span> ↗</a>",
            "<option>A</option>",
            "<div class=\"container\" data-colour=\"#5865f2\"><hr class=\"sep gap\"><div class=\"file\"><span></span></div>",
            "<div class=\"gallery\"><a href=\"https://cdn.example/v\"",
            "<div class=\"text\"><b>L</b><div class=\"text\"><strong>inner</strong></div></div>",
        ] {
            assert!(html.contains(fragment), "{fragment} in {html}");
        }
    }
}
