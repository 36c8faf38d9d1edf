use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::sync::LazyLock;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::escape::push_escaped;
use crate::markdown::{Mentions, colour_hex, push_inline_markdown, push_link_open, push_markdown, safe_http_url};
use crate::message::{Attachment, Button, Component, Embed, Emoji, Interaction, Media, Message, Reaction, User};
use crate::time::UtcParts;

// Browsers hash the element's text after the parser turned CR LF into LF.
static STYLE: LazyLock<String> = LazyLock::new(|| include_str!("transcript.css").replace('\r', ""));
static SCRIPT: LazyLock<String> = LazyLock::new(|| include_str!("transcript.js").replace('\r', ""));

fn csp_hash(source: &str) -> String {
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(source.as_bytes())))
}

static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; style-src {}; script-src {}; img-src data: blob:; media-src data: blob:; base-uri 'none'; form-action 'none'",
        csp_hash(&STYLE),
        csp_hash(&SCRIPT)
    )
});

/// The transcript's Content-Security-Policy (also in its `<meta>`): nothing loads from the network;
/// only the page's own `<style>` and `<script>` (by SHA-256) apply; images and media come only from
/// `data:` (the embedded files) or `blob:` URLs the page's script makes of them.
pub fn transcript_content_security_policy() -> &'static str {
    &CONTENT_SECURITY_POLICY
}

static HEADER_POLICY: LazyLock<String> =
    LazyLock::new(|| format!("{}; {}", CONTENT_SECURITY_POLICY.as_str(), crate::FRAME_ANCESTORS));

/// The policy for the `Content-Security-Policy` HTTP header: the `<meta>` policy plus
/// `frame-ancestors 'none'`, so no other site can frame the transcript (browsers ignore `frame-ancestors`
/// in a `<meta>`, which is why it is only here).
pub fn transcript_content_security_policy_header() -> &'static str {
    &HEADER_POLICY
}

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds.
const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
/// Messages by the same author closer than this are grouped under one header, as Discord does.
const GROUP_WINDOW_MS: i64 = 7 * 60 * 1_000;
/// How many characters of a replied-to message the preview shows.
const REPLY_PREVIEW_CHARS: usize = 200;
/// How deep components may nest (containers in containers) before the rest is dropped.
const MAX_COMPONENT_DEPTH: u32 = 6;

/// The page's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TranscriptHeader<'a> {
    pub guild_name: &'a str,
    pub channel_name: &'a str,
    /// When the transcript was made, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// Shown in the header when known ("250 messages"); the footer always has the written count.
    pub message_count_hint: Option<usize>,
}

/// Names for mentions and authors: members (display name and top-role colour), roles, channels.
#[derive(Debug, Clone, Default)]
pub struct Names {
    users: HashMap<u64, (String, Option<u32>)>,
    roles: HashMap<u64, (String, u32)>,
    channels: HashMap<u64, String>,
}

impl Names {
    pub fn new() -> Self {
        Self::default()
    }

    /// A user's display name (e.g. the server nickname) without a name colour.
    pub fn insert_user(&mut self, id: u64, name: impl Into<String>) -> &mut Self {
        self.users.insert(id, (name.into(), None));
        self
    }

    /// A member's display name and the colour of their highest coloured role (`0x5865f2`; 0 = none).
    pub fn insert_member(&mut self, id: u64, name: impl Into<String>, colour: u32) -> &mut Self {
        self.users.insert(id, (name.into(), Some(colour)));
        self
    }

    /// A role's name and colour (0 = none), for `<@&id>` mentions.
    pub fn insert_role(&mut self, id: u64, name: impl Into<String>, colour: u32) -> &mut Self {
        self.roles.insert(id, (name.into(), colour));
        self
    }

    /// A channel's name (without `#`), for `<#id>` mentions.
    pub fn insert_channel(&mut self, id: u64, name: impl Into<String>) -> &mut Self {
        self.channels.insert(id, name.into());
        self
    }

    pub(crate) fn member(&self, id: u64) -> Option<(&str, Option<u32>)> {
        self.users.get(&id).map(|(name, colour)| (name.as_str(), *colour))
    }

    pub(crate) fn role(&self, id: u64) -> Option<(&str, u32)> {
        self.roles.get(&id).map(|(name, colour)| (name.as_str(), *colour))
    }

    pub(crate) fn channel(&self, id: u64) -> Option<&str> {
        self.channels.get(&id).map(String::as_str)
    }
}

/// Discord markdown (a message body) as the transcript renders it: HTML with every piece of text
/// escaped; mentions resolve against `names` (unknown ones read `@unknown-user`, `@unknown-role`,
/// `#unknown-channel`).
pub fn render_discord_markdown(text: &str, names: &Names) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    push_markdown(&mut out, text, Mentions { names, mentioned: &[] });
    out
}

/// Renders one Discord channel as a self-contained HTML document, written as it goes.
///
/// [`start`](Self::start) writes the head; then any mix of [`media`](Self::media) (each distinct
/// file once) and [`message`](Self::message) calls, oldest message first; [`finish`](Self::finish)
/// closes the document. Nothing is kept per message except the previous author (to group messages),
/// and one reused text buffer as large as the largest message; media bytes are streamed through a
/// base64 encoder. The writer is written to in many small pieces: give it a `BufWriter` if it is a
/// file or a socket.
#[derive(Debug)]
pub struct TranscriptWriter<W: Write> {
    out: W,
    buffer: String,
    media_ids: HashSet<String>,
    messages: usize,
    previous: Option<(u64, i64)>,
}

/// The kind of an embeddable file, from its MIME type or, without one, its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaKind {
    Image,
    Video,
    Audio,
    File,
}

fn media_kind(content_type: Option<&str>, name: &str) -> MediaKind {
    if let Some(kind) = content_type.map(str::to_ascii_lowercase) {
        if kind.starts_with("image/") {
            return MediaKind::Image;
        }
        if kind.starts_with("video/") {
            return MediaKind::Video;
        }
        if kind.starts_with("audio/") {
            return MediaKind::Audio;
        }
    }
    let path = name.split(['?', '#']).next().unwrap_or(name);
    let extension = path.rsplit_once('.').map(|(_, extension)| extension.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "avif" | "bmp" => MediaKind::Image,
        "mp4" | "webm" | "mov" | "m4v" => MediaKind::Video,
        "mp3" | "ogg" | "oga" | "wav" | "flac" | "m4a" | "opus" => MediaKind::Audio,
        _ => MediaKind::File,
    }
}

/// A media id as the writer accepts it: 1 to 32 of `a-z`, `0-9`, `-`.
pub fn is_valid_media_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

fn is_valid_mime(mime: &str) -> bool {
    let token = |part: &str| {
        (1..=64).contains(&part.len())
            && part
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"!#$&^_.+-".contains(&byte))
    };
    mime.split_once('/').is_some_and(|(kind, subtype)| token(kind) && token(subtype))
}

/// The CDN URL of a user's avatar (`https://cdn.discordapp.com/avatars/{id}/{hash}.png`), the key
/// [`TranscriptWriter::message`] asks `media_id` for; `None` for the default avatar.
pub fn avatar_url(user: &User<'_>) -> Option<String> {
    let id = user.id?;
    let hash = user.avatar?;
    let valid = (1..=64).contains(&hash.len()) && hash.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
    valid.then(|| format!("https://cdn.discordapp.com/avatars/{id}/{hash}.png"))
}

/// A user's shown name: the caller's name for the id, else `global_name`, else `username`.
fn user_name<'a>(user: &User<'a>, names: &'a Names) -> (&'a str, Option<u32>) {
    if let Some(known) = user.id.and_then(|id| names.member(id)) {
        return known;
    }
    let name = user
        .global_name
        .filter(|name| !name.trim().is_empty())
        .or(Some(user.username))
        .filter(|name| !name.trim().is_empty())
        .unwrap_or("Unknown user");
    (name, None)
}

/// Up to two initials (first letter or digit of the first two words), upper-cased; `?` without any.
fn initials(name: &str) -> String {
    let mut out = String::new();
    for first in name.split_whitespace().filter_map(|word| word.chars().find(|ch| ch.is_alphanumeric())).take(2) {
        out.extend(first.to_uppercase());
    }
    if out.is_empty() { "?".to_owned() } else { out }
}

fn avatar_colour(id: u64) -> u64 {
    (id >> 22).wrapping_add(id) % 8
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1_024 {
        return format!("{bytes} bytes");
    }
    let mut size = bytes as f64 / 1_024.0;
    let mut unit = 0;
    while size >= 1_024.0 && unit + 1 < UNITS.len() {
        size /= 1_024.0;
        unit += 1;
    }
    format!("{size:.2} {}", UNITS[unit])
}

/// Per-message rendering context.
struct Context<'a> {
    names: &'a Names,
    mentioned: Vec<(u64, &'a str)>,
    media_id: &'a dyn Fn(&str) -> Option<String>,
    attachments: &'a [Attachment<'a>],
}

impl Context<'_> {
    fn mentions(&self) -> Mentions<'_> {
        Mentions { names: self.names, mentioned: &self.mentioned }
    }

    /// The caller's media id for the first of `urls` it has one for; ids that are not
    /// [valid](is_valid_media_id) count as none.
    fn media(&self, urls: &[Option<&str>]) -> Option<String> {
        urls.iter().flatten().find_map(|url| (self.media_id)(url).filter(|id| is_valid_media_id(id)))
    }
}

impl<W: Write> TranscriptWriter<W> {
    /// Writes the head (policy, style, script) and the page header, and opens the message list.
    pub fn start(mut out: W, header: &TranscriptHeader<'_>) -> io::Result<Self> {
        let mut head = String::with_capacity(STYLE.len() + SCRIPT.len() + 1_024);
        head.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        head.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"");
        head.push_str(transcript_content_security_policy());
        head.push_str("\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        head.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"robots\" content=\"noindex\">\n");
        head.push_str("<meta http-equiv=\"x-dns-prefetch-control\" content=\"off\">\n");
        head.push_str("<meta name=\"color-scheme\" content=\"dark light\">\n<title>#");
        push_escaped(&mut head, header.channel_name);
        head.push_str(" — ");
        push_escaped(&mut head, header.guild_name);
        head.push_str("</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>");
        head.push_str(&STYLE);
        head.push_str("</style>\n<script>");
        head.push_str(&SCRIPT);
        head.push_str("</script>\n</head>\n<body>\n<header class=\"top\"><h1><span class=\"hash\">#</span><bdi>");
        push_escaped(&mut head, header.channel_name);
        head.push_str("</bdi></h1><span class=\"meta\"><bdi>");
        push_escaped(&mut head, header.guild_name);
        head.push_str("</bdi>");
        if let Some(count) = header.message_count_hint {
            let _ = write!(head, " · {count} message{}", if count == 1 { "" } else { "s" });
        }
        let created = UtcParts::from_epoch_ms(header.created_at_ms);
        let _ = write!(
            head,
            " · exported <time datetime=\"{}\">{}</time></span></header>\n<main class=\"log\">\n",
            created.iso8601(),
            created.display()
        );
        out.write_all(head.as_bytes())?;
        Ok(Self { out, buffer: String::new(), media_ids: HashSet::new(), messages: 0, previous: None })
    }

    /// Writes one file's definition, `<data id="media-{id}" class="media" value="data:{mime};base64,...">`,
    /// streaming `bytes` through a base64 encoder; returns how many bytes were read. Messages refer to
    /// it by `id` (before or after this call). Each id may be defined once; `id` must be
    /// [valid](is_valid_media_id) and `mime` a lower-case `type/subtype`, else `InvalidInput`.
    pub fn media(&mut self, id: &str, mime: &str, bytes: &mut dyn Read) -> io::Result<u64> {
        if !is_valid_media_id(id) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "media id must be 1-32 of a-z 0-9 -"));
        }
        if !is_valid_mime(mime) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "media type must be a lower-case type/subtype"));
        }
        if self.media_ids.contains(id) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "media id already defined"));
        }
        write!(self.out, "<data id=\"media-{id}\" class=\"media\" value=\"data:{mime};base64,")?;
        let mut encoder = base64::write::EncoderWriter::new(&mut self.out, &base64::engine::general_purpose::STANDARD);
        let read = io::copy(bytes, &mut encoder)?;
        encoder.finish()?;
        drop(encoder);
        self.out.write_all(b"\"></data>\n")?;
        self.media_ids.insert(id.to_owned());
        Ok(read)
    }

    /// Writes one message ([`Message`], the fields the page shows). `media_id` gives the id of an
    /// embedded file for a URL (attachment `url` or `proxy_url`, embed image/thumbnail/video URLs,
    /// component media URLs, [`avatar_url`]), or `None` to show a link or the file name instead. A
    /// message without an author is written as an unreadable message.
    pub fn message(
        &mut self,
        message: &Message<'_>,
        names: &Names,
        media_id: &dyn Fn(&str) -> Option<String>,
    ) -> io::Result<()> {
        self.buffer.clear();
        self.previous = push_message(&mut self.buffer, message, names, media_id, self.previous);
        self.out.write_all(self.buffer.as_bytes())?;
        self.messages += 1;
        if self.buffer.capacity() > 1 << 20 {
            self.buffer = String::new(); // do not keep one huge message's buffer for the rest
        }
        Ok(())
    }

    /// How many messages were written.
    pub fn message_count(&self) -> usize {
        self.messages
    }

    /// Closes the document and returns the writer (flushed).
    pub fn finish(mut self) -> io::Result<W> {
        write!(
            self.out,
            "</main>\n<footer class=\"end\">{} message{} · made by Garrison</footer>\n</body>\n</html>\n",
            self.messages,
            if self.messages == 1 { "" } else { "s" }
        )?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Renders one message into `out`; returns the (author, time) that the next message groups with.
fn push_message(
    out: &mut String,
    message: &Message<'_>,
    names: &Names,
    media_id: &dyn Fn(&str) -> Option<String>,
    previous: Option<(u64, i64)>,
) -> Option<(u64, i64)> {
    let id = message.id;
    let Some(author) = &message.author else {
        out.push_str("<article class=\"msg\"><div class=\"gutter\"></div><div class=\"body system\">Unreadable message</div></article>\n");
        return None;
    };
    let author_id = author.id.unwrap_or(0);
    let at_ms = id.map(|id| i64::try_from(id >> 22).unwrap_or(0).saturating_add(DISCORD_EPOCH_MS));
    let kind = message.kind;
    let is_reply = kind == 19 || message.referenced.is_some();
    let no_names = Names::default();
    let mentioned = message
        .mentions
        .iter()
        .filter_map(|user| {
            let (name, _) = user_name(user, &no_names);
            user.id.map(|id| (id, name))
        })
        .collect();
    let context = Context { names, mentioned, media_id, attachments: &message.attachments };
    let (name, colour) = user_name(author, names);

    if !matches!(kind, 0 | 19 | 20 | 23) {
        push_system_message(out, message, kind, name, id, at_ms, &context);
        return None;
    }

    let grouped = match (previous, at_ms) {
        (Some((previous_author, previous_ms)), Some(ms)) => {
            !is_reply
                && previous_author == author_id
                && (0..GROUP_WINDOW_MS).contains(&(ms - previous_ms))
                && message.interaction.is_none()
        }
        _ => false,
    };

    out.push_str(if grouped { "<article class=\"msg cont\"" } else { "<article class=\"msg\"" });
    if let Some(id) = id {
        let _ = write!(out, " id=\"msg-{id}\"");
    }
    out.push_str(">\n");

    if is_reply {
        push_reply(out, message.referenced.as_deref(), message.reference_id, &context);
    } else if let Some(interaction) = &message.interaction {
        push_interaction(out, interaction, &context);
    }

    out.push_str("<div class=\"gutter\">");
    if grouped {
        if let Some(ms) = at_ms {
            let time = UtcParts::from_epoch_ms(ms);
            let _ = write!(out, "<time datetime=\"{}\">{:02}:{:02}</time>", time.iso8601(), time.hour, time.minute);
        }
    } else {
        push_avatar(out, author, name, "", &context);
    }
    out.push_str("</div>\n<div class=\"body\">");
    if !grouped {
        out.push_str("<div class=\"head\"><span class=\"name\"");
        if let Some(hex) = colour.and_then(colour_hex) {
            let _ = write!(out, " data-colour=\"{hex}\"");
        }
        out.push_str("><bdi>");
        push_escaped(out, name);
        out.push_str("</bdi></span>");
        if author.bot {
            out.push_str("<span class=\"tag\">APP</span>");
        }
        match at_ms {
            Some(ms) => {
                let time = UtcParts::from_epoch_ms(ms);
                let _ = write!(out, "<time datetime=\"{}\">{}</time>", time.iso8601(), time.display());
            }
            None => {
                if let Some(timestamp) = message.timestamp {
                    out.push_str("<time>");
                    push_escaped(out, timestamp);
                    out.push_str("</time>");
                }
            }
        }
        if message.pinned {
            out.push_str("<span class=\"edited\">(pinned)</span>");
        }
        out.push_str("</div>\n");
    }

    let content = message.content;
    let edited = message.edited_timestamp;
    if !content.is_empty() || edited.is_some() {
        out.push_str("<div class=\"content\" dir=\"auto\">");
        push_markdown(out, content, context.mentions());
        if let Some(edited) = edited {
            out.push_str(" <span class=\"edited\" title=\"");
            push_escaped(out, edited);
            out.push_str("\">(edited)</span>");
        }
        out.push_str("</div>\n");
    }

    push_attachments(out, &context);
    push_embeds(out, &message.embeds, &context);
    push_stickers(out, &message.stickers);
    if !message.components.is_empty() {
        out.push_str("<div class=\"components\">");
        for component in &message.components {
            push_component(out, component, &context, 0);
        }
        out.push_str("</div>\n");
    }
    push_reactions(out, &message.reactions);
    out.push_str("</div>\n</article>\n");
    at_ms.map(|ms| (author_id, ms))
}

fn push_system_message(
    out: &mut String,
    message: &Message<'_>,
    kind: u8,
    name: &str,
    id: Option<u64>,
    at_ms: Option<i64>,
    context: &Context<'_>,
) {
    out.push_str("<article class=\"msg\"");
    if let Some(id) = id {
        let _ = write!(out, " id=\"msg-{id}\"");
    }
    out.push_str("><div class=\"gutter\"></div><div class=\"system\"><b><bdi>");
    push_escaped(out, name);
    out.push_str("</bdi></b> ");
    let content = message.content;
    let text = match kind {
        1 => "added someone to the group.",
        2 => "removed someone from the group.",
        3 => "started a call.",
        4 => "changed the channel name:",
        5 => "changed the channel icon.",
        6 => "pinned a message to this channel.",
        7 => "joined the server.",
        8 => "boosted the server!",
        9..=11 => "boosted the server and raised its level!",
        12 => "added a channel follower:",
        18 => "started a thread:",
        21 => "started this thread.",
        _ => "did something Discord shows as a system message:",
    };
    out.push_str(text);
    if !content.is_empty() && !matches!(kind, 6..=8) {
        out.push(' ');
        push_inline_markdown(out, content, context.mentions());
    }
    if let Some(ms) = at_ms {
        let time = UtcParts::from_epoch_ms(ms);
        let _ = write!(out, " <time datetime=\"{}\">{}</time>", time.iso8601(), time.display());
    }
    out.push_str("</div></article>\n");
}

fn push_avatar(out: &mut String, user: &User<'_>, name: &str, size: &str, context: &Context<'_>) {
    let url = avatar_url(user);
    match context.media(&[url.as_deref()]) {
        Some(media) => {
            let _ = write!(out, "<img class=\"av{size}\" data-media=\"{media}\" alt=\"\">");
        }
        None => {
            let colour = avatar_colour(user.id.unwrap_or(0));
            let _ = write!(out, "<span class=\"av{size} c{colour}\" aria-hidden=\"true\">");
            push_escaped(out, &initials(name));
            out.push_str("</span>");
        }
    }
}

fn push_reply(out: &mut String, referenced: Option<&Message<'_>>, reference_id: Option<u64>, context: &Context<'_>) {
    out.push_str("<div class=\"reply\">");
    match referenced.and_then(|original| Some((original, original.author.as_ref()?))) {
        Some((original, author)) => {
            let (name, colour) = user_name(author, context.names);
            push_avatar(out, author, name, " sm", context);
            out.push_str("<span class=\"name\"");
            if let Some(hex) = colour.and_then(colour_hex) {
                let _ = write!(out, " data-colour=\"{hex}\"");
            }
            out.push_str(">@<bdi>");
            push_escaped(out, name);
            out.push_str("</bdi></span>");
            let content = original.content;
            let preview: String =
                content.chars().take(REPLY_PREVIEW_CHARS).map(|ch| if ch == '\n' { ' ' } else { ch }).collect();
            match original.id {
                Some(id) => {
                    let _ = write!(out, "<a class=\"preview\" href=\"#msg-{id}\">");
                }
                None => out.push_str("<span class=\"preview\">"),
            }
            if preview.is_empty() {
                out.push_str("<i>Click to see attachment</i>");
            } else {
                push_inline_markdown(out, &preview, context.mentions());
            }
            out.push_str(if original.id.is_some() { "</a>" } else { "</span>" });
        }
        None => {
            out.push_str("<i>Original message was deleted</i>");
            if let Some(id) = reference_id {
                let _ = write!(out, " <a href=\"#msg-{id}\">(jump)</a>");
            }
        }
    }
    out.push_str("</div>\n");
}

fn push_interaction(out: &mut String, interaction: &Interaction<'_>, context: &Context<'_>) {
    let Some(user) = &interaction.user else { return };
    let (name, _) = user_name(user, context.names);
    out.push_str("<div class=\"used\">");
    push_avatar(out, user, name, " sm", context);
    out.push_str("<bdi>");
    push_escaped(out, name);
    out.push_str("</bdi>");
    if let Some(command) = interaction.name {
        out.push_str("&nbsp;used <span class=\"mention\">/");
        push_escaped(out, command);
        out.push_str("</span>");
    }
    out.push_str("</div>\n");
}

/// An image, video or audio element for an embedded file, else a link (http(s) only) or the name.
fn push_media(out: &mut String, kind: MediaKind, media: Option<&str>, url: Option<&str>, label: &str, class: &str) {
    match (kind, media) {
        (MediaKind::Image, Some(media)) => {
            let _ = write!(out, "<img class=\"{class}\" data-media=\"{media}\" alt=\"");
            push_escaped(out, label);
            out.push_str("\">");
        }
        (MediaKind::Video, Some(media)) => {
            let _ =
                write!(out, "<video class=\"{class}\" data-media=\"{media}\" controls preload=\"metadata\" title=\"");
            push_escaped(out, label);
            out.push_str("\"></video>");
        }
        (MediaKind::Audio, Some(media)) => {
            out.push_str("<div class=\"file\"><span>");
            push_escaped(out, label);
            let _ = write!(out, "</span><audio data-media=\"{media}\" controls preload=\"metadata\"></audio></div>");
        }
        _ => match url.and_then(safe_http_url) {
            Some(url) => {
                push_link_open(out, url);
                push_escaped(out, label);
                out.push_str("</a>");
            }
            None => {
                out.push_str("<span>");
                push_escaped(out, label);
                out.push_str("</span>");
            }
        },
    }
}

fn push_attachments(out: &mut String, context: &Context<'_>) {
    if context.attachments.is_empty() {
        return;
    }
    out.push_str("<div class=\"attachments\">");
    for attachment in context.attachments {
        let name = attachment.filename.unwrap_or("file");
        let url = attachment.url;
        let kind = media_kind(attachment.content_type, name);
        let media = context.media(&[url, attachment.proxy_url]);
        let label = attachment.description.filter(|text| !text.is_empty()).unwrap_or(name);
        let spoiler = name.starts_with("SPOILER_");
        match (kind, media) {
            (MediaKind::Image | MediaKind::Video, Some(media)) => {
                out.push_str(if spoiler { "<div class=\"att spoiler-media\">" } else { "<div class=\"att\">" });
                push_media(out, kind, Some(&media), url, label, "");
                out.push_str("</div>");
            }
            (MediaKind::Audio, Some(media)) => push_media(out, kind, Some(&media), url, name, ""),
            _ => {
                out.push_str("<div class=\"file\"><div>");
                push_media(out, MediaKind::File, None, url, name, "");
                if let Some(size) = attachment.size {
                    let _ = write!(out, "<div class=\"size\">{}</div>", human_size(size));
                }
                out.push_str("</div></div>");
            }
        }
    }
    out.push_str("</div>\n");
}

fn push_embeds(out: &mut String, embeds: &[Embed<'_>], context: &Context<'_>) {
    if embeds.is_empty() {
        return;
    }
    out.push_str("<div class=\"embeds\">");
    for embed in embeds {
        push_embed(out, embed, context);
    }
    out.push_str("</div>\n");
}

fn push_embed(out: &mut String, embed: &Embed<'_>, context: &Context<'_>) {
    let kind = embed.kind.unwrap_or("rich");
    let Media { url: video, proxy_url: video_proxy } = embed.video;
    let Media { url: image, proxy_url: image_proxy } = embed.image;
    let Media { url: thumbnail, proxy_url: thumbnail_proxy } = embed.thumbnail;
    // Plain media embeds (a posted image or GIF link) show as the media alone, as Discord does.
    if matches!(kind, "image" | "gifv") && embed.title.is_none() && embed.description.is_none() {
        let (kind, urls) = if kind == "gifv" && video.is_some() {
            (MediaKind::Video, [video, video_proxy])
        } else {
            (MediaKind::Image, [thumbnail.or(image), thumbnail_proxy.or(image_proxy)])
        };
        let label = embed.url.or(urls[0]).unwrap_or("media");
        out.push_str("<div class=\"att\">");
        push_media(out, kind, context.media(&urls).as_deref(), urls[0], label, "");
        out.push_str("</div>");
        return;
    }

    out.push_str("<div class=\"embed\"");
    if let Some(hex) = embed.colour.and_then(colour_hex) {
        let _ = write!(out, " data-colour=\"{hex}\"");
    }
    out.push('>');
    if let Some(provider) = embed.provider {
        out.push_str("<div class=\"e-footer\">");
        push_escaped(out, provider);
        out.push_str("</div>");
    }
    if let Some(author) = &embed.author {
        out.push_str("<div class=\"e-author\">");
        if let Some(media) = context.media(&[author.icon_url, author.proxy_icon_url]) {
            let _ = write!(out, "<img class=\"av xs\" data-media=\"{media}\" alt=\"\">");
        }
        push_text_or_link(out, author.name, author.url);
        out.push_str("</div>");
    }
    if let Some(title) = embed.title {
        out.push_str("<div class=\"e-title\">");
        match embed.url.and_then(safe_http_url) {
            Some(url) => {
                push_link_open(out, url);
                push_escaped(out, title);
                out.push_str("</a>");
            }
            None => push_inline_markdown(out, title, context.mentions()),
        }
        out.push_str("</div>");
    }
    if let Some(description) = embed.description {
        out.push_str("<div class=\"e-desc\">");
        push_markdown(out, description, context.mentions());
        out.push_str("</div>");
    }
    let fields = &embed.fields;
    if !fields.is_empty() {
        out.push_str("<div class=\"e-fields\">");
        for field in fields {
            out.push_str(if field.inline { "<div class=\"e-field inline\">" } else { "<div class=\"e-field\">" });
            out.push_str("<div class=\"e-fname\">");
            push_inline_markdown(out, field.name, context.mentions());
            out.push_str("</div><div class=\"e-fvalue\">");
            push_markdown(out, field.value, context.mentions());
            out.push_str("</div></div>");
        }
        out.push_str("</div>");
    }
    if image.is_some() || image_proxy.is_some() {
        push_media(out, MediaKind::Image, context.media(&[image, image_proxy]).as_deref(), image, "image", "e-image");
    }
    if video.is_some() || video_proxy.is_some() {
        push_media(out, MediaKind::Video, context.media(&[video, video_proxy]).as_deref(), video, "video", "");
    } else if thumbnail.is_some() || thumbnail_proxy.is_some() {
        let media = context.media(&[thumbnail, thumbnail_proxy]);
        push_media(out, MediaKind::Image, media.as_deref(), thumbnail, "thumbnail", "e-thumb");
    }
    let footer = embed.footer.as_ref();
    let timestamp = embed.timestamp;
    if footer.is_some() || timestamp.is_some() {
        out.push_str("<div class=\"e-footer\">");
        if let Some(footer) = footer {
            if let Some(media) = context.media(&[footer.icon_url, footer.proxy_icon_url]) {
                let _ = write!(out, "<img class=\"av xs\" data-media=\"{media}\" alt=\"\">");
            }
            push_escaped(out, footer.text);
        }
        if let Some(timestamp) = timestamp {
            if footer.is_some() {
                out.push_str(" • ");
            }
            out.push_str("<span>");
            push_escaped(out, timestamp);
            out.push_str("</span>");
        }
        out.push_str("</div>");
    }
    out.push_str("</div>");
}

fn push_text_or_link(out: &mut String, text: &str, url: Option<&str>) {
    match url.and_then(safe_http_url) {
        Some(url) => {
            push_link_open(out, url);
            push_escaped(out, text);
            out.push_str("</a>");
        }
        None => {
            out.push_str("<span>");
            push_escaped(out, text);
            out.push_str("</span>");
        }
    }
}

fn push_stickers(out: &mut String, stickers: &[&str]) {
    if stickers.is_empty() {
        return;
    }
    out.push_str("<div class=\"stickers\">");
    for sticker in stickers {
        out.push_str("<span class=\"sticker\" title=\"Sticker\">Sticker: ");
        push_escaped(out, sticker);
        out.push_str("</span>");
    }
    out.push_str("</div>\n");
}

/// An emoji object as text: the Unicode emoji itself, or `:name:` for a custom one.
fn push_emoji(out: &mut String, emoji: &Emoji<'_>) {
    let name = emoji.name;
    if emoji.id.is_some() {
        out.push_str("<span class=\"emoji\">:");
        push_escaped(out, name);
        out.push_str(":</span>");
    } else {
        push_escaped(out, name);
    }
}

fn push_reactions(out: &mut String, reactions: &[Reaction<'_>]) {
    if reactions.is_empty() {
        return;
    }
    out.push_str("<div class=\"reactions\">");
    for reaction in reactions {
        out.push_str(if reaction.me { "<span class=\"reaction me\">" } else { "<span class=\"reaction\">" });
        push_emoji(out, &reaction.emoji);
        let count = reaction.count.unwrap_or(1);
        let _ = write!(out, "<span class=\"n\">{count}</span></span>");
    }
    out.push_str("</div>\n");
}

/// Message components as disabled look-alikes: buttons, selects, and the Components V2 layout
/// (sections, text displays with markdown, thumbnails, galleries, files, separators, containers).
fn push_component(out: &mut String, component: &Component<'_>, context: &Context<'_>, depth: u32) {
    if depth > MAX_COMPONENT_DEPTH {
        return;
    }
    let children = |out: &mut String, components: &[Component<'_>]| {
        for child in components {
            push_component(out, child, context, depth + 1);
        }
    };
    match component {
        Component::ActionRow(components) => {
            out.push_str("<div class=\"row\">");
            children(out, components);
            out.push_str("</div>");
        }
        Component::Button(button) => push_button(out, button),
        Component::Select { placeholder, options } => {
            out.push_str("<select disabled aria-label=\"Select menu\"><option>");
            let chosen = options.iter().find(|option| option.default).and_then(|option| option.label);
            push_escaped(out, chosen.or(*placeholder).unwrap_or("Make a selection"));
            out.push_str("</option></select>");
        }
        Component::Section { components, accessory } => {
            out.push_str("<div class=\"section\"><div>");
            children(out, components);
            out.push_str("</div>");
            if let Some(accessory) = accessory {
                push_component(out, accessory, context, depth + 1);
            }
            out.push_str("</div>");
        }
        Component::TextDisplay(content) => {
            out.push_str("<div class=\"text\">");
            push_markdown(out, content, context.mentions());
            out.push_str("</div>");
        }
        Component::Thumbnail { media: Media { url, proxy_url }, description } => {
            let label = description.unwrap_or("thumbnail");
            push_media(
                out,
                media_kind(None, url.unwrap_or("")),
                context.media(&[*url, *proxy_url]).as_deref(),
                *url,
                label,
                "thumb",
            );
        }
        Component::Gallery(items) => {
            out.push_str("<div class=\"gallery\">");
            for item in items {
                let Media { url, proxy_url } = item.media;
                let kind = match media_kind(item.content_type, url.unwrap_or("")) {
                    MediaKind::File => MediaKind::Image,
                    kind => kind,
                };
                let label = item.description.unwrap_or("media");
                push_media(out, kind, context.media(&[url, proxy_url]).as_deref(), url, label, "");
            }
            out.push_str("</div>");
        }
        Component::File { url } => {
            let name = url.map(|url| url.strip_prefix("attachment://").unwrap_or(url)).unwrap_or("file");
            let attachment = context.attachments.iter().find(|attachment| attachment.filename == Some(name));
            out.push_str("<div class=\"file\">");
            push_media(out, MediaKind::File, None, attachment.and_then(|attachment| attachment.url), name, "");
            out.push_str("</div>");
        }
        Component::Separator { divider } => {
            out.push_str(if *divider { "<hr class=\"sep\">" } else { "<hr class=\"sep gap\">" });
        }
        Component::Container { accent_colour, components } => {
            out.push_str("<div class=\"container\"");
            if let Some(hex) = accent_colour.and_then(colour_hex) {
                let _ = write!(out, " data-colour=\"{hex}\"");
            }
            out.push('>');
            children(out, components);
            out.push_str("</div>");
        }
        Component::Label { label, component: inner } => {
            out.push_str("<div class=\"text\"><b>");
            push_escaped(out, label);
            out.push_str("</b>");
            if let Some(inner) = inner {
                push_component(out, inner, context, depth + 1);
            }
            out.push_str("</div>");
        }
        Component::Other => {}
    }
}

fn push_button(out: &mut String, button: &Button<'_>) {
    let style = button.style.unwrap_or(2).min(6);
    let link = if style == 5 { button.url.and_then(safe_http_url) } else { None };
    match link {
        Some(url) => {
            out.push_str("<a class=\"btn s5\" href=\"");
            push_escaped(out, url);
            out.push_str("\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">");
        }
        None => {
            let _ = write!(out, "<button class=\"btn s{style}\" type=\"button\" disabled>");
        }
    }
    if let Some(emoji) = &button.emoji {
        push_emoji(out, emoji);
    }
    if let Some(label) = button.label {
        out.push_str("<span>");
        push_escaped(out, label);
        out.push_str("</span>");
    }
    out.push_str(if link.is_some() { " ↗</a>" } else { "</button>" });
}

#[cfg(test)]
mod tests {
    use super::{MediaKind, human_size, initials, is_valid_media_id, is_valid_mime, media_kind};

    #[test]
    fn media_ids_and_types_are_checked() {
        assert!(is_valid_media_id("m3"));
        assert!(is_valid_media_id("a-0"));
        assert!(!is_valid_media_id(""));
        assert!(!is_valid_media_id("M3"));
        assert!(!is_valid_media_id("m\"3"));
        assert!(!is_valid_media_id(&"a".repeat(33)));
        assert!(is_valid_mime("image/png"));
        assert!(is_valid_mime("image/svg+xml"));
        assert!(!is_valid_mime("image/png;x"));
        assert!(!is_valid_mime("text/html\""));
        assert!(!is_valid_mime("png"));
    }

    #[test]
    fn kinds_from_type_or_extension() {
        assert_eq!(media_kind(Some("image/png"), "x.bin"), MediaKind::Image);
        assert_eq!(media_kind(None, "clip.MP4?ex=1"), MediaKind::Video);
        assert_eq!(media_kind(Some("application/pdf"), "a.pdf"), MediaKind::File);
        assert_eq!(media_kind(None, "voice.ogg"), MediaKind::Audio);
    }

    #[test]
    fn sizes_and_initials() {
        assert_eq!(human_size(10), "10 bytes");
        assert_eq!(human_size(1_536), "1.50 KB");
        assert_eq!(human_size(5 * 1_048_576), "5.00 MB");
        assert_eq!(initials("ada lovelace"), "AL");
        assert_eq!(initials("🔥"), "?");
    }
}
