//! Modmail: a user's DM forwarded to a staff channel, and staff replies sent back as DMs. Both are
//! Discord messages built here; the routes only read headers and send them.

use super::{
    Snowflake,
    message::{Embed, EmbedAuthor, EmbedField, EmbedFooter, EmbedMedia, NewMessage},
    messages::MAX_EMBED_DESCRIPTION_CHARS,
};
use crate::{Error, Result, Timestamp};

/// The most images one message shows (Discord's limit of embeds per message).
pub const MAX_ATTACHMENTS: usize = 10;
/// The longest URL Discord accepts in an embed.
const MAX_URL_CHARS: usize = 2048;
/// Discord's modmail-ish blurple.
const INBOUND_COLOR: u32 = 0x58_65f2;
const OUTBOUND_COLOR: u32 = 0x2e_cc71;

/// The `http(s)` URLs of a semicolon-separated header (`X-Attachment-Url`), blanks skipped; at most
/// [`MAX_ATTACHMENTS`]. Anything else is refused, naming the header.
pub fn attachment_urls(header: Option<&str>) -> Result<Vec<String>> {
    let Some(header) = header else { return Ok(Vec::new()) };
    let urls: Vec<String> = header.split(';').map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned).collect();
    if urls.len() > MAX_ATTACHMENTS {
        return Err(Error::invalid("X-Attachment-Url", format!("at most {MAX_ATTACHMENTS} URLs, got {}", urls.len())));
    }
    for url in &urls {
        check_url("X-Attachment-Url", url)?;
    }
    Ok(urls)
}

fn check_url(field: &'static str, url: &str) -> Result<()> {
    let lower = url.to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    if !scheme_ok || url.chars().count() > MAX_URL_CHARS || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(field, format!("must be an http(s) URL of at most {MAX_URL_CHARS} characters")));
    }
    Ok(())
}

/// The message text: not blank, at most an embed description.
fn body_text(text: &str) -> Result<&str> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid("body", "the message text is empty: send it as text/plain"));
    }
    if text.chars().count() > MAX_EMBED_DESCRIPTION_CHARS {
        return Err(Error::invalid("body", format!("at most {MAX_EMBED_DESCRIPTION_CHARS} characters")));
    }
    Ok(text)
}

/// The first embed carries the text; each further image gets an embed of its own with the same `url`,
/// which Discord shows together as a gallery.
fn with_gallery(mut first: Embed, images: &[String], gallery_url: &str) -> Vec<Embed> {
    let Some((head, rest)) = images.split_first() else { return vec![first] };
    first.image = Some(EmbedMedia::at(head));
    first.url = Some(gallery_url.to_owned());
    let mut embeds = vec![first];
    embeds.extend(rest.iter().map(|image| Embed {
        url: Some(gallery_url.to_owned()),
        image: Some(EmbedMedia::at(image)),
        ..Embed::default()
    }));
    embeds
}

/// Who wrote to the staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub id: Snowflake,
    pub name: String,
    pub avatar_url: String,
}

/// The staff-channel message for a user's DM: an embed with the sender (name, id, avatar), the text,
/// and up to ten images as a gallery. Mentions in the text never ping (no [`NewMessage`] does).
pub fn inbound_message(sender: &Sender, text: &str, images: &[String], now: Timestamp) -> Result<NewMessage> {
    let text = body_text(text)?;
    check_url("X-User-Avatar", &sender.avatar_url)?;
    if sender.name.trim().is_empty() || sender.name.chars().count() > 256 {
        return Err(Error::invalid("X-User-Name", "must be 1 to 256 characters"));
    }
    let first = Embed {
        author: Some(EmbedAuthor {
            name: Some(sender.name.trim().to_owned()),
            icon_url: Some(sender.avatar_url.clone()),
            ..EmbedAuthor::default()
        }),
        title: Some("New modmail".to_owned()),
        description: Some(text.to_owned()),
        color: Some(INBOUND_COLOR),
        fields: vec![EmbedField {
            name: "User".to_owned(),
            value: format!("<@{}> ({})", sender.id, sender.id),
            inline: true,
        }],
        footer: Some(EmbedFooter { text: format!("User ID: {}", sender.id), ..EmbedFooter::default() }),
        timestamp: Some(now.to_iso8601()),
        ..Embed::default()
    };
    let gallery = format!("https://discord.com/users/{}", sender.id);
    Ok(NewMessage { content: None, embeds: with_gallery(first, images, &gallery), ping_role: None })
}

/// The DM for a staff reply: an embed titled with the staff member's name (default "Staff"), the
/// text and up to ten images.
pub fn outbound_message(moderator: Option<&str>, text: &str, images: &[String], now: Timestamp) -> Result<NewMessage> {
    let text = body_text(text)?;
    let moderator = moderator.map(str::trim).filter(|m| !m.is_empty()).unwrap_or("Staff");
    if moderator.chars().count() > 200 {
        return Err(Error::invalid("X-Mod-Name", "at most 200 characters"));
    }
    let first = Embed {
        title: Some(format!("Reply from {moderator}")),
        description: Some(text.to_owned()),
        color: Some(OUTBOUND_COLOR),
        timestamp: Some(now.to_iso8601()),
        ..Embed::default()
    };
    Ok(NewMessage {
        content: None,
        embeds: with_gallery(first, images, "https://discord.com/channels/@me"),
        ping_role: None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// The message as the JSON it is sent as (without the `allowed_mentions` the adapter adds).
    fn inbound_message(sender: &Sender, text: &str, images: &[String], now: Timestamp) -> Result<Value> {
        super::inbound_message(sender, text, images, now).map(|m| serde_json::to_value(m).expect("json"))
    }

    fn outbound_message(moderator: Option<&str>, text: &str, images: &[String], now: Timestamp) -> Result<Value> {
        super::outbound_message(moderator, text, images, now).map(|m| serde_json::to_value(m).expect("json"))
    }

    fn sender() -> Sender {
        Sender {
            id: Snowflake::from_raw(987_654_321_098_765_432),
            name: "JohnDoe".into(),
            avatar_url: "https://cdn.discordapp.com/avatars/1/a.png".into(),
        }
    }

    #[test]
    fn attachment_headers_are_split_checked_and_capped() {
        assert_eq!(attachment_urls(None).expect("none"), Vec::<String>::new());
        let urls = attachment_urls(Some(" https://a.example/1.png ;;https://b.example/2.jpg;")).expect("two");
        assert_eq!(urls, ["https://a.example/1.png", "https://b.example/2.jpg"]);
        let eleven = ["https://a.example/x.png"; 11].join(";");
        assert!(attachment_urls(Some(&eleven)).expect_err("too many").to_string().contains("at most 10"));
        for bad in ["javascript:alert(1)", "ftp://a/b", "https://a b", "data:image/png;base64,AAAA"] {
            let err = attachment_urls(Some(bad)).expect_err(bad).to_string();
            assert!(err.starts_with("X-Attachment-Url:"), "{err}");
        }
    }

    #[test]
    fn an_inbound_dm_becomes_one_embed_with_a_gallery() {
        let images: Vec<String> = (1..=3).map(|i| format!("https://img.example/{i}.png")).collect();
        let message =
            inbound_message(&sender(), "  Hello, I need help. @everyone ", &images, Timestamp(0)).expect("ok");
        let embeds = message["embeds"].as_array().expect("embeds");
        assert_eq!(embeds.len(), 3);
        assert_eq!(embeds[0]["description"], "Hello, I need help. @everyone");
        assert_eq!(embeds[0]["author"]["name"], "JohnDoe");
        assert_eq!(embeds[0]["image"]["url"], "https://img.example/1.png");
        assert!(embeds.iter().all(|e| e["url"] == embeds[0]["url"]), "one gallery");
        assert_eq!(embeds[2]["image"]["url"], "https://img.example/3.png");
        assert_eq!(embeds[0]["timestamp"], "1970-01-01T00:00:00Z");
        let plain = inbound_message(&sender(), "hi", &[], Timestamp(0)).expect("ok");
        assert!(plain["embeds"][0].get("image").is_none() && plain["embeds"].as_array().is_some_and(|e| e.len() == 1));
    }

    #[test]
    fn empty_or_oversized_texts_and_bad_senders_are_refused() {
        assert!(
            inbound_message(&sender(), "   ", &[], Timestamp(0)).expect_err("empty").to_string().starts_with("body:")
        );
        let long = "x".repeat(MAX_EMBED_DESCRIPTION_CHARS + 1);
        assert!(outbound_message(None, &long, &[], Timestamp(0)).is_err());
        let mut bad = sender();
        bad.avatar_url = "not a url".into();
        assert!(
            inbound_message(&bad, "hi", &[], Timestamp(0))
                .expect_err("avatar")
                .to_string()
                .starts_with("X-User-Avatar:")
        );
    }

    #[test]
    fn a_reply_names_its_staff_member() {
        let reply = outbound_message(Some(" Support Team "), "Issue resolved.", &[], Timestamp(0)).expect("ok");
        assert_eq!(reply["embeds"][0]["title"], "Reply from Support Team");
        assert_eq!(reply["embeds"][0]["description"], "Issue resolved.");
        let anonymous = outbound_message(None, "ok", &[], Timestamp(0)).expect("ok");
        assert_eq!(anonymous["embeds"][0]["title"], "Reply from Staff");
    }
}
