//! The alert's message, and its edit at the stream's end.

use super::Alert;
use crate::Timestamp;
use crate::discord::message::{Embed, EmbedAuthor, EmbedField, EmbedFooter, EmbedMedia};
use crate::discord::{MessagePatch, NewMessage};
use crate::streams::watches::Watch;
use crate::streams::{LiveStream, Platform};

/// The longest embed title Discord takes.
const MAX_TITLE_CHARS: usize = 256;

/// The streamer's page, from the watch's name (checked by the platform's rule when it was kept).
fn channel_url(watch: &Watch) -> String {
    match watch.platform {
        Platform::YouTube => format!("https://youtube.com/@{}", watch.streamer),
        Platform::Twitch => format!("https://twitch.tv/{}", watch.key()),
        Platform::TikTok => format!("https://www.tiktok.com/@{}/live", watch.streamer),
    }
}

fn shown(watch: &Watch) -> String {
    match watch.platform {
        Platform::YouTube => format!("@{}", watch.streamer),
        Platform::Twitch | Platform::TikTok => watch.streamer.clone(),
    }
}

fn colour(platform: Platform) -> u32 {
    match platform {
        Platform::YouTube => 0xFF_00_00,
        Platform::Twitch => 0x91_46_FF,
        Platform::TikTok => 0x25_F4_EE,
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut clipped: String = text.chars().take(max - 1).collect();
        clipped.push('…');
        clipped
    }
}

/// The alert: the watch's message (and its role, the one mention that pings) above an embed with the
/// stream's title, link, thumbnail, game and viewers.
pub fn live_message(watch: &Watch, stream: &LiveStream) -> NewMessage {
    let url = stream.video_url.clone().unwrap_or_else(|| channel_url(watch));
    let name = shown(watch);
    let title = if stream.title.trim().is_empty() { format!("{name} is live") } else { stream.title.clone() };
    let mut fields = Vec::new();
    if let Some(game) = &stream.game {
        fields.push(EmbedField { name: "Playing".into(), value: clip(game, 1024), inline: true });
    }
    if let Some(viewers) = stream.viewers {
        fields.push(EmbedField { name: "Viewers".into(), value: viewers.to_string(), inline: true });
    }
    let embed = Embed {
        title: Some(clip(&title, MAX_TITLE_CHARS)),
        url: Some(url),
        color: Some(colour(watch.platform)),
        author: Some(EmbedAuthor {
            name: Some(format!("{name} is live on {}", watch.platform)),
            url: Some(channel_url(watch)),
            ..EmbedAuthor::default()
        }),
        image: stream.thumbnail_url.clone().map(EmbedMedia::at),
        fields,
        footer: Some(EmbedFooter { text: watch.platform.name().to_owned(), icon_url: None, proxy_icon_url: None }),
        timestamp: stream.started_at.map(Timestamp::to_iso8601),
        ..Embed::default()
    };
    let mention = watch.mention_role.map(|role| format!("<@&{role}>"));
    let content = match (mention, &watch.message) {
        (Some(mention), Some(text)) => Some(format!("{mention} {text}")),
        (Some(mention), None) => Some(mention),
        (None, Some(text)) => Some(text.clone()),
        (None, None) => None,
    };
    NewMessage { content, embeds: vec![embed], ping_role: watch.mention_role }
}

/// The edit at the stream's end: the same link, without the live picture, and how long it lasted.
pub fn ended_patch(watch: &Watch, alert: &Alert, now: Timestamp) -> MessagePatch {
    let name = shown(watch);
    let since = alert.started_at.unwrap_or(alert.posted_at);
    let minutes = (now.millis() - since.millis()).max(0) / 60_000;
    let lasted = match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    };
    let title = if alert.title.trim().is_empty() { format!("{name} was live") } else { alert.title.clone() };
    let embed = Embed {
        title: Some(clip(&title, MAX_TITLE_CHARS)),
        url: Some(channel_url(watch)),
        description: Some(format!("The stream ended after {lasted}.")),
        color: Some(0x74_7F_8D),
        author: Some(EmbedAuthor {
            name: Some(format!("{name} was live on {}", watch.platform)),
            url: Some(channel_url(watch)),
            ..EmbedAuthor::default()
        }),
        footer: Some(EmbedFooter { text: watch.platform.name().to_owned(), icon_url: None, proxy_icon_url: None }),
        timestamp: Some(now.to_iso8601()),
        ..Embed::default()
    };
    MessagePatch { embeds: Some(vec![embed]), ..MessagePatch::default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ServerId;
    use crate::discord::Snowflake;

    fn watch(platform: Platform, role: Option<u64>, message: Option<&str>) -> Watch {
        Watch {
            id: 7,
            server: ServerId::parse("serverId", "100000000000000001").expect("id"),
            platform,
            streamer: "Some_Streamer".into(),
            channel: Snowflake::from_raw(200_000_000_000_000_001),
            message: message.map(str::to_owned),
            mention_role: role.map(Snowflake::from_raw),
            created_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn the_alert_names_the_stream_and_pings_only_the_chosen_role() {
        let stream = LiveStream {
            title: "x".repeat(300),
            game: Some("Chess".into()),
            viewers: Some(12),
            thumbnail_url: Some("https://example.com/t.jpg".into()),
            started_at: Some(Timestamp::from_millis(1_700_000_000_000)),
            stream_id: Some("s1".into()),
            ..LiveStream::default()
        };
        let sent = live_message(&watch(Platform::Twitch, Some(300_000_000_000_000_001), Some("@everyone go")), &stream);
        assert_eq!(sent.content.as_deref(), Some("<@&300000000000000001> @everyone go"));
        assert_eq!(sent.ping_role, Some(Snowflake::from_raw(300_000_000_000_000_001)));
        let embed = &sent.embeds[0];
        assert_eq!(embed.title.as_ref().map(|t| t.chars().count()), Some(MAX_TITLE_CHARS));
        assert_eq!(embed.url.as_deref(), Some("https://twitch.tv/some_streamer"));
        assert_eq!(embed.image.as_ref().and_then(|i| i.url.as_deref()), Some("https://example.com/t.jpg"));
        assert_eq!(embed.fields.len(), 2);
        assert_eq!(embed.timestamp.as_deref(), Some("2023-11-14T22:13:20Z"));
        let quiet = live_message(&watch(Platform::YouTube, None, None), &LiveStream::default());
        assert_eq!((quiet.content, quiet.ping_role), (None, None));
        assert_eq!(quiet.embeds[0].title.as_deref(), Some("@Some_Streamer is live"));
    }

    #[test]
    fn the_end_says_how_long_it_lasted() {
        let alert = Alert {
            id: 1,
            watch: 7,
            stream_id: "s1".into(),
            channel: Snowflake::from_raw(200_000_000_000_000_001),
            message: Some(Snowflake::from_raw(400_000_000_000_000_001)),
            title: "Chess night".into(),
            started_at: Some(Timestamp::from_millis(0)),
            posted_at: Timestamp::from_millis(60_000),
        };
        let patch = ended_patch(&watch(Platform::TikTok, None, None), &alert, Timestamp::from_millis(65 * 60_000));
        let embed = &patch.embeds.as_ref().expect("embeds")[0];
        assert_eq!(embed.description.as_deref(), Some("The stream ended after 1 h 5 min."));
        assert_eq!(embed.url.as_deref(), Some("https://www.tiktok.com/@Some_Streamer/live"));
        assert!(embed.image.is_none());
        assert_eq!(patch.content, None, "the text and its mention are left as they were");
    }
}
