//! Message rules: the smart-edit search over a message's components, file detection, the embed
//! message, and the text of the embed cooldown.
//!
//! Everything here works on the typed messages of [`super::message`]: a [`Message`] as Discord
//! returned it in, a [`NewMessage`] or [`MessagePatch`] out. Lengths are counted in Unicode scalar
//! values (`char`s), as Discord counts them.

use super::message::{Component, Embed, EmbedFooter, EmbedMedia, Message, MessagePatch, NewMessage};
pub use super::message::{IS_COMPONENTS_V2, SUPPRESS_EMBEDS};
use crate::Error;

/// Longest `content` of one Text Display component.
pub const MAX_TEXT_DISPLAY_CHARS: usize = 4000;

/// Longest text of all Text Display components of one message together.
pub const MAX_COMPONENTS_TEXT_CHARS: usize = 4000;

/// Longest `content` of a message a bot sends or edits.
pub const MAX_CONTENT_CHARS: usize = 2000;

/// Longest embed title.
pub const MAX_EMBED_TITLE_CHARS: usize = 256;

/// Longest embed description.
pub const MAX_EMBED_DESCRIPTION_CHARS: usize = 4096;

/// Longest embed footer text.
pub const MAX_EMBED_FOOTER_CHARS: usize = 2048;

/// Longest text of one embed: title, description and footer (and author and fields, which
/// `embed_message` does not produce) together.
pub const MAX_EMBED_TOTAL_CHARS: usize = 6000;

/// Longest URL in an embed (footer icon, image).
pub const MAX_EMBED_URL_CHARS: usize = 2048;

/// Largest embed colour: `0xFFFFFF`.
pub const MAX_EMBED_COLOR: u32 = 0xFF_FFFF;

// --------------------------------------------------------------------------------------------------
// Smart edit
// --------------------------------------------------------------------------------------------------

/// Why a smart edit cannot be made. The `Display` text is the `error` of the response body.
///
/// The HTTP shell maps [`SmartEditError::NotFound`] to 404, [`SmartEditError::Ambiguous`] to 409 and
/// every other variant to 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmartEditError {
    /// `targetContentSubstring` is empty or only whitespace, so it would match every component.
    #[error("targetContentSubstring must contain at least one non-whitespace character.")]
    EmptyTarget,
    /// `newContent` is empty or only whitespace; Discord refuses an empty Text Display.
    #[error("newContent must contain at least one non-whitespace character.")]
    EmptyContent,
    /// No component's text contains the target.
    #[error("No component found matching '{target}'.")]
    NotFound { target: String },
    /// Several components' texts contain the target; the caller must be more specific.
    #[error("Ambiguity: {matches} components matching '{target}'. Use a longer, unique substring.")]
    Ambiguous { target: String, matches: usize },
    /// `newContent` is longer than the field it replaces may be (4000 for a Text Display, 2000 for a
    /// message's `content`).
    #[error("newContent is {length} characters long; at most {max} are allowed here.")]
    TooLong { length: usize, max: usize },
    /// After the edit, the message's Text Displays would hold more than Discord's 4000 characters in all.
    #[error("The message's components would hold {total} characters of text; at most {max} are allowed.")]
    MessageTooLong { total: usize, max: usize },
}

/// Plans a smart edit (`PATCH /api/edit/smart-edit` and `/ephemeral`): finds the one text in `message`
/// that contains `target`, and returns the edit that replaces that whole text with `new_content`.
///
/// **What is searched.** Every component, at any depth (through containers, sections, action rows
/// and section accessories), that has a string `content` field: today that is the Text Display.
/// A classic message (without [`IS_COMPONENTS_V2`]) has no Text Displays, so its top-level `content`
/// is searched too, as one more candidate; that lets the endpoint edit bot messages of both kinds.
/// Embed texts, button labels and other component fields are not searched: the specification
/// replaces a `content` field, and those have none.
///
/// **How texts are compared.** Both the target and each text lose every Unicode whitespace character
/// and have their case folded (each character uppercased, then lowercased, so `Straße` matches
/// `STRASSE` and `ΣΟΦΊΑΣ` matches `σοφίας`), then the text must contain the target: `"old text"`
/// finds `"Old   TEXT here"`. Exactly one candidate may match; the count is taken over all nesting
/// levels and the top-level `content` together.
///
/// **What is sent.** A `PATCH` leaves the fields it omits unchanged, so the body carries only what
/// changes, all of it writable in both `MessageEditRequestPartial` and
/// `IncomingWebhookUpdateRequestPartial`:
/// - `components` (the whole tree, as fetched, with the one `content` replaced) when a component
///   matched, or `content` when the top-level content matched. Embeds are never echoed back (that could
///   turn link previews into bot-sent rich embeds). Read-only fields (`id`, `author`,
///   `timestamp`, `attachments` and their URLs, ...) are never sent.
/// - `flags`, only when the message has [`IS_COMPONENTS_V2`]: the original flags masked to the two an
///   edit may carry ([`IS_COMPONENTS_V2`], so Discord keeps reading the components as V2, and
///   [`SUPPRESS_EMBEDS`], so an edit does not unhide link previews).
/// - never a mention that pings: a [`MessagePatch`] is always sent with `allowed_mentions: {"parse":
///   []}`, since a message fetched from Discord does not say which mentions were allowed when it was
///   sent, and a text edit made from a dashboard must never ping `@everyone`, a role or a user.
///
/// **Limits.** `new_content` must hold a non-whitespace character and at most 4000 characters for a
/// Text Display (2000 for a message's `content`), and a V2 message's Text Displays may hold at most
/// 4000 characters together after the edit.
pub fn smart_edit(message: &Message, target: &str, new_content: &str) -> Result<MessagePatch, SmartEditError> {
    let needle = fold(target);
    if needle.is_empty() {
        return Err(SmartEditError::EmptyTarget);
    }
    if new_content.trim().is_empty() {
        return Err(SmartEditError::EmptyContent);
    }
    let length = new_content.chars().count();
    if length > MAX_TEXT_DISPLAY_CHARS {
        return Err(SmartEditError::TooLong { length, max: MAX_TEXT_DISPLAY_CHARS });
    }

    let is_v2 = message.is_components_v2();
    let components = &message.components;
    let top_level_matches = !is_v2 && contains_folded(&message.content, &needle);

    let mut component_matches = 0;
    for component in components {
        visit_texts(component, &mut |text| component_matches += usize::from(contains_folded(text, &needle)));
    }

    let total = component_matches + usize::from(top_level_matches);
    if total == 0 {
        return Err(SmartEditError::NotFound { target: target.to_owned() });
    }
    if total > 1 {
        return Err(SmartEditError::Ambiguous { target: target.to_owned(), matches: total });
    }

    if top_level_matches {
        if length > MAX_CONTENT_CHARS {
            return Err(SmartEditError::TooLong { length, max: MAX_CONTENT_CHARS });
        }
        return Ok(MessagePatch { content: Some(new_content.to_owned()), ..MessagePatch::default() });
    }
    let mut edited = components.clone();
    for component in &mut edited {
        replace_texts(component, &needle, new_content);
    }
    let mut text_chars = 0;
    for component in &edited {
        visit_texts(component, &mut |text| text_chars += text.chars().count());
    }
    if text_chars > MAX_COMPONENTS_TEXT_CHARS {
        return Err(SmartEditError::MessageTooLong { total: text_chars, max: MAX_COMPONENTS_TEXT_CHARS });
    }
    Ok(MessagePatch {
        content: None,
        components: Some(edited),
        flags: is_v2.then_some(message.flags & (IS_COMPONENTS_V2 | SUPPRESS_EMBEDS)),
        embeds: None,
    })
}

/// The text as smart edit compares it: without any Unicode whitespace, each character uppercased then
/// lowercased (a case folding without tables: `ß` and `SS` both become `ss`, `ς` and `Σ` both `σ`).
fn fold(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).flat_map(char::to_lowercase).collect()
}

fn contains_folded(text: &str, folded_needle: &str) -> bool {
    fold(text).contains(folded_needle)
}

/// Calls `visit` with the `content` of `component` and of every component inside it (its
/// `components` and its `accessory`), depth first, in order.
fn visit_texts<'a>(component: &'a Component, visit: &mut dyn FnMut(&'a str)) {
    if let Some(text) = &component.content {
        visit(text);
    }
    for child in component.children() {
        visit_texts(child, visit);
    }
    if let Some(accessory) = &component.accessory {
        visit_texts(accessory, visit);
    }
}

/// Replaces, in `component` and every component inside it, each `content` that contains the folded
/// needle. The caller has checked that exactly one does.
fn replace_texts(component: &mut Component, folded_needle: &str, replacement: &str) {
    if let Some(content) = &mut component.content
        && contains_folded(content, folded_needle)
    {
        replacement.clone_into(content);
    }
    for child in component.components.iter_mut().flatten() {
        replace_texts(child, folded_needle, replacement);
    }
    if let Some(accessory) = &mut component.accessory {
        replace_texts(accessory, folded_needle, replacement);
    }
}

// --------------------------------------------------------------------------------------------------
// File detection
// --------------------------------------------------------------------------------------------------

/// The file extensions the specification names, each with its MIME type.
const SUPPORTED: &[(&str, &str)] = &[
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("mov", "video/quicktime"),
    ("pdf", "application/pdf"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("zip", "application/zip"),
    ("rar", "application/vnd.rar"),
];

/// Non-standard spellings of supported MIME types that uploads carry, with the standard one.
const MIME_ALIASES: &[(&str, &str)] = &[
    ("image/jpg", "image/jpeg"),
    ("image/pjpeg", "image/jpeg"),
    ("video/mov", "video/quicktime"),
    ("application/x-zip-compressed", "application/zip"),
    ("application/x-zip", "application/zip"),
    ("application/x-rar-compressed", "application/vnd.rar"),
    ("application/x-rar", "application/vnd.rar"),
];

/// The MIME type of a supported file extension (`"PNG"` and `"png"` alike), or `None`.
pub fn mime_for_extension(extension: &str) -> Option<&'static str> {
    SUPPORTED.iter().find(|(ext, _)| ext.eq_ignore_ascii_case(extension)).map(|(_, mime)| *mime)
}

/// What `detect_file` reports for an attachment whose type cannot be told.
pub const UNKNOWN_FILE_TYPE: &str = "application/octet-stream";

/// What `detect_file` reports for a `gifv` embed whose video URL has no supported extension:
/// Discord plays every gifv (Giphy, Tenor, Imgur) as a looping MP4 video.
pub const GIFV_FILE_TYPE: &str = "video/mp4";

/// Detects the file in `message` (a message object as Discord returns it) for
/// `GET /api/filecheck/check`: the MIME type of the file it carries (`isFile: true`,
/// `fileType: ...`), or `None` (`isFile: false`, `fileType: null`).
///
/// The specification's priority chain, each step over the whole `attachments` array in order before
/// the next step:
/// 1. an attachment's `content_type` (parameters such as `; charset=utf-8` dropped, lowercased,
///    `image/jpg`-style aliases made standard). Any well-formed type counts, even outside the supported
///    set (`text/plain`): an attachment is a direct upload, so it is a file whatever its type.
///    `application/octet-stream` says nothing about the file, so it is skipped for the next steps.
/// 2. a supported extension of an attachment's `filename`;
/// 3. a supported extension of an attachment's `url`, then `proxy_url` (query string and fragment,
///    such as the `?ex=...&is=...&hm=...` of Discord's CDN, removed first);
/// 4. any attachment at all: [`UNKNOWN_FILE_TYPE`], since an upload is a file even when its type
///    cannot be told;
/// 5. the embeds, in order, of type `image` (extension of `image.url`, `thumbnail.url`, then `url`),
///    `video` (`video.url`, then `url`) and `gifv` (`video.url`, else [`GIFV_FILE_TYPE`]). An
///    image or video embed whose URLs have no supported extension (a YouTube page, for one) is not a
///    file; rich embeds and link previews of other types never are.
pub fn detect_file(message: &Message) -> Option<String> {
    let attachments = &message.attachments;
    let from_content_type = || attachments.iter().find_map(|a| a.content_type.as_deref().and_then(content_type));
    let from_filename = || attachments.iter().find_map(|a| mime_for_filename(&a.filename));
    let from_url = || {
        attachments.iter().find_map(|a| {
            a.url.as_deref().and_then(mime_for_url).or_else(|| a.proxy_url.as_deref().and_then(mime_for_url))
        })
    };
    from_content_type()
        .or_else(|| from_filename().map(str::to_owned))
        .or_else(|| from_url().map(str::to_owned))
        .or_else(|| (!attachments.is_empty()).then(|| UNKNOWN_FILE_TYPE.to_owned()))
        .or_else(|| message.embeds.iter().find_map(embed_file_type).map(str::to_owned))
}

/// A `content_type` as `detect_file` reports it: without parameters, lowercased, aliases made
/// standard; `None` when it is malformed or says nothing (`application/octet-stream`).
fn content_type(raw: &str) -> Option<String> {
    let essence = raw.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/')?;
    let token =
        |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
    if !token(kind) || !token(subtype) || essence == UNKNOWN_FILE_TYPE {
        return None;
    }
    let standard = MIME_ALIASES.iter().find(|(alias, _)| *alias == essence).map(|(_, mime)| *mime);
    Some(standard.map_or(essence, str::to_owned))
}

/// The MIME type of a file name's supported extension (`photo.PNG` is `image/png`).
fn mime_for_filename(name: &str) -> Option<&'static str> {
    let (_, extension) = name.rsplit_once('.')?;
    mime_for_extension(extension)
}

/// The MIME type of the supported extension of a URL's last path segment, ignoring its query string
/// and fragment. A URL without a path (`https://example.com`) has no extension.
fn mime_for_url(url: &str) -> Option<&'static str> {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    let after_scheme = without_query.split_once("://").map_or(without_query, |(_, rest)| rest);
    let (_, path) = after_scheme.split_once('/')?;
    let segment = path.rsplit('/').next().unwrap_or_default();
    mime_for_filename(segment)
}

/// The file type of one embed, by the rules of [`detect_file`]'s last step.
fn embed_file_type(embed: &Embed) -> Option<&'static str> {
    fn url_of(media: &Option<EmbedMedia>) -> Option<&str> {
        media.as_ref().and_then(|m| m.url.as_deref())
    }
    let from = |urls: &[Option<&str>]| urls.iter().flatten().find_map(|url| mime_for_url(url));
    match embed.kind.as_deref()? {
        "image" => from(&[url_of(&embed.image), url_of(&embed.thumbnail), embed.url.as_deref()]),
        "video" => from(&[url_of(&embed.video), embed.url.as_deref()]),
        "gifv" => Some(from(&[url_of(&embed.video)]).unwrap_or(GIFV_FILE_TYPE)),
        _ => None,
    }
}

// --------------------------------------------------------------------------------------------------
// Embed messages
// --------------------------------------------------------------------------------------------------

/// The headers of `POST /api/Message/sendEmbed/{channelId}`, as the caller received them.
///
/// Optional headers that are empty or only whitespace count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmbedRequest {
    /// `title`: the embed's title, required, at most 256 characters.
    pub title: String,
    /// `description`: the embed's body, required, at most 4096 characters.
    pub description: String,
    /// `color`: the raw header text, a decimal integer from 0 to 16777215 (or `#RRGGBB`).
    pub color: String,
    /// `footer`: footer text, at most 2048 characters.
    pub footer: Option<String>,
    /// `user-icon`: the footer icon's URL (http or https); needs a footer.
    pub footer_icon: Option<String>,
    /// `image-url`: the large image's URL (http or https).
    pub image_url: Option<String>,
    /// `plain-text`: message text shown above the embed, at most 2000 characters.
    pub plain_text: Option<String>,
}

/// Builds the message of `POST /api/Message/sendEmbed/{channelId}`: the plain text (if any) as
/// `content` and one embed (title, description, colour, footer with its icon, image), after checking
/// Discord's limits.
///
/// Decisions:
/// - `color` is a decimal integer from 0 to 16777215 as the specification says (leading zeros and
///   surrounding whitespace allowed); `#RRGGBB` (six hex digits) is accepted too, since dashboards hand
///   out colours that way and the two cannot be confused. Anything else (negative, fractional,
///   `0x...`, names) is refused.
/// - Texts are sent as given; `title` and `description` must hold a non-whitespace character.
/// - A footer icon needs footer text: Discord's footer requires `text`, so `user-icon` alone is
///   refused rather than silently dropped.
/// - URLs must be absolute `http://` or `https://` URLs with a host, no whitespace or control
///   characters, at most 2048 characters.
/// - The embed's title, description and footer together hold at most 6000 characters.
/// - Text from request headers never pings `@everyone`, roles or users (mentions still render): a
///   [`NewMessage`] is always sent so.
///
/// Every refusal is [`Error::Invalid`] naming the header (`title`, `description`, `color`, `footer`,
/// `user-icon`, `image-url`, `plain-text`).
pub fn embed_message(req: &EmbedRequest) -> Result<NewMessage, Error> {
    let title = required_text("title", &req.title, MAX_EMBED_TITLE_CHARS)?;
    let description = required_text("description", &req.description, MAX_EMBED_DESCRIPTION_CHARS)?;
    let color = parse_color(&req.color)?;
    let footer = optional(&req.footer);
    if let Some(footer) = footer {
        check_length("footer", footer, MAX_EMBED_FOOTER_CHARS)?;
    }
    let footer_icon = optional(&req.footer_icon);
    if let Some(icon) = footer_icon {
        check_url("user-icon", icon)?;
        if footer.is_none() {
            return Err(Error::invalid("user-icon", "needs a footer: Discord shows the icon only beside footer text"));
        }
    }
    let image_url = optional(&req.image_url);
    if let Some(url) = image_url {
        check_url("image-url", url)?;
    }
    let plain_text = optional(&req.plain_text);
    if let Some(text) = plain_text {
        check_length("plain-text", text, MAX_CONTENT_CHARS)?;
    }
    let embed_chars =
        [Some(title), Some(description), footer].into_iter().flatten().map(|t| t.chars().count()).sum::<usize>();
    if embed_chars > MAX_EMBED_TOTAL_CHARS {
        return Err(Error::invalid(
            "description",
            format!(
                "title, description and footer hold {embed_chars} characters together; at most {MAX_EMBED_TOTAL_CHARS} are allowed"
            ),
        ));
    }

    let embed = Embed {
        title: Some(title.to_owned()),
        description: Some(description.to_owned()),
        color: Some(color),
        footer: footer.map(|text| EmbedFooter {
            text: text.to_owned(),
            icon_url: footer_icon.map(str::to_owned),
            proxy_icon_url: None,
        }),
        image: image_url.map(EmbedMedia::at),
        ..Embed::default()
    };
    Ok(NewMessage { content: plain_text.map(str::to_owned), embeds: vec![embed], ping_role: None })
}

fn optional(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

fn required_text<'a>(field: &'static str, value: &'a str, max: usize) -> Result<&'a str, Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "is required and must not be blank"));
    }
    check_length(field, value, max)?;
    Ok(value)
}

fn check_length(field: &'static str, value: &str, max: usize) -> Result<(), Error> {
    let length = value.chars().count();
    if length > max {
        return Err(Error::invalid(field, format!("is {length} characters long; at most {max} are allowed")));
    }
    Ok(())
}

/// Parses the `color` header: a decimal integer, or `#RRGGBB`, from 0 to 16777215.
fn parse_color(raw: &str) -> Result<u32, Error> {
    const RULE: &str = "must be an integer from 0 to 16777215 (or #RRGGBB)";
    let text = raw.trim();
    let value = if let Some(hex) = text.strip_prefix('#') {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid("color", RULE));
        }
        u32::from_str_radix(hex, 16).map_err(|_| Error::invalid("color", RULE))?
    } else {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid("color", RULE));
        }
        // All digits: the only way to fail is to be too large for the type, which is out of range too.
        text.parse::<u32>().map_err(|_| Error::invalid("color", RULE))?
    };
    if value > MAX_EMBED_COLOR {
        return Err(Error::invalid("color", RULE));
    }
    Ok(value)
}

/// Checks that `url` is an absolute http(s) URL Discord will accept in an embed.
fn check_url(field: &'static str, url: &str) -> Result<(), Error> {
    check_length(field, url, MAX_EMBED_URL_CHARS)?;
    let rest = ["https://", "http://"].iter().find_map(|scheme| {
        let head = url.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme).then(|| &url[scheme.len()..])
    });
    let Some(rest) = rest else {
        return Err(Error::invalid(field, "must be an http:// or https:// URL"));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        return Err(Error::invalid(field, "must name a host"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(field, "must not contain whitespace or control characters"));
    }
    Ok(())
}

// --------------------------------------------------------------------------------------------------
// Cooldown
// --------------------------------------------------------------------------------------------------

/// The 429 text of the embed cooldown: `"Rate limit exceeded. Try again in 8.5 seconds."`.
///
/// The remaining time is shown in seconds with one decimal, rounded up to the next tenth, so a client
/// that waits exactly that long is admitted (8 450 ms and 8 401 ms both read 8.5; 100 ms reads 0.1;
/// 10 000 ms reads 10.0). A remaining time of zero or less reads 0.0.
pub fn cooldown_message(remaining_ms: i64) -> String {
    let tenths = u64::try_from(remaining_ms).unwrap_or(0).div_ceil(100);
    format!("Rate limit exceeded. Try again in {}.{} seconds.", tenths / 10, tenths % 10)
}

/// How long a bot waits between two embeds in one channel (the specification's 10 seconds).
pub const EMBED_COOLDOWN_MS: i64 = 10_000;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    /// Test JSON read as the message Discord would return, with the fields every message has (an id,
    /// an author) filled in when the test leaves them out; `None` when it is no message at all.
    fn msg(value: &Value) -> Option<Message> {
        let mut value = value.clone();
        let object = value.as_object_mut()?;
        object.entry("id").or_insert(json!("1300000000000000000"));
        object.entry("author").or_insert(json!({"id": "1100000000000000000", "username": "garrison", "bot": true}));
        serde_json::from_value(value).ok()
    }

    /// The rule over test JSON, the edit as the JSON it is sent as (without the `allowed_mentions` the
    /// adapter adds).
    fn smart_edit(message: &Value, target: &str, new_content: &str) -> Result<Value, SmartEditError> {
        let message = msg(message).expect("a message");
        super::smart_edit(&message, target, new_content).map(|patch| serde_json::to_value(patch).expect("json"))
    }

    fn detect_file(message: &Value) -> Option<String> {
        super::detect_file(&msg(message)?)
    }

    fn embed_message(req: &EmbedRequest) -> Result<Value, Error> {
        super::embed_message(req).map(|message| serde_json::to_value(message).expect("json"))
    }

    fn visit_texts(component: &Value, visit: &mut dyn FnMut(&str)) {
        let component: Component = serde_json::from_value(component.clone()).expect("a component");
        super::visit_texts(&component, &mut |text| visit(text));
    }

    fn text(content: &str) -> Value {
        json!({"type": 10, "id": 7, "content": content})
    }

    /// A Components V2 message as Discord returns it, read-only fields included.
    fn v2_message(components: Value) -> Value {
        json!({
            "id": "1300000000000000000",
            "channel_id": "1200000000000000000",
            "type": 0,
            "content": "",
            "author": {"id": "1100000000000000000", "username": "garrison", "bot": true},
            "timestamp": "2025-01-01T00:00:00.000000+00:00",
            "edited_timestamp": null,
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": false,
            "pinned": false,
            "tts": false,
            "attachments": [],
            "embeds": [],
            "flags": IS_COMPONENTS_V2,
            "components": components,
        })
    }

    fn invalid_field(result: Result<Value, Error>) -> &'static str {
        match result {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    // ---- smart edit ------------------------------------------------------------------------------

    #[test]
    fn edits_a_text_display_nested_in_a_container_and_a_section() {
        let message = v2_message(json!([
            {"type": 17, "id": 1, "accent_color": 5814783, "components": [
                text("# Server stats"),
                {"type": 9, "id": 3, "components": [text("Members: 120"), text("Online: 37")],
                 "accessory": {"type": 11, "id": 6, "media": {"url": "https://cdn.example.com/a.png"}}},
                {"type": 14, "id": 8, "divider": true, "spacing": 1},
                {"type": 1, "id": 9, "components": [{"type": 2, "id": 10, "style": 1, "label": "Refresh", "custom_id": "r"}]},
            ]},
        ]));
        let body = smart_edit(&message, "members:", "Members: 121").expect("one match");
        assert_eq!(
            body,
            json!({
                "components": [
                    {"type": 17, "id": 1, "accent_color": 5814783, "components": [
                        text("# Server stats"),
                        {"type": 9, "id": 3, "components": [text("Members: 121"), text("Online: 37")],
                         "accessory": {"type": 11, "id": 6, "media": {"url": "https://cdn.example.com/a.png"}}},
                        {"type": 14, "id": 8, "divider": true, "spacing": 1},
                        {"type": 1, "id": 9, "components": [{"type": 2, "id": 10, "style": 1, "label": "Refresh", "custom_id": "r"}]},
                    ]},
                ],
                "flags": IS_COMPONENTS_V2,
            })
        );
    }

    #[test]
    fn a_top_level_text_display_is_found_too() {
        let message = v2_message(json!([text("Status: starting"), {"type": 14}]));
        let body = smart_edit(&message, "status", "Status: ready").expect("one match");
        assert_eq!(body["components"], json!([text("Status: ready"), {"type": 14}]));
    }

    #[test]
    fn ambiguity_is_counted_across_nesting_levels() {
        let message = v2_message(json!([
            text("Score: 1"),
            {"type": 17, "components": [{"type": 9, "components": [text("score: 2")], "accessory": {"type": 2, "style": 5, "url": "https://x.example"}}]},
            {"type": 17, "components": [text("SCORE 3")]},
        ]));
        let error = smart_edit(&message, "score", "x").expect_err("three matches");
        assert_eq!(error, SmartEditError::Ambiguous { target: "score".into(), matches: 3 });
        assert_eq!(error.to_string(), "Ambiguity: 3 components matching 'score'. Use a longer, unique substring.");
        assert!(error.to_string().starts_with("Ambiguity: 3 components matching"));
        // A longer substring picks one.
        let body = smart_edit(&message, "score: 2", "score: 4").expect("unique");
        assert_eq!(body["components"][1]["components"][0]["components"][0]["content"], "score: 4");
        assert_eq!(body["components"][0]["content"], "Score: 1");
        assert_eq!(body["components"][2]["components"][0]["content"], "SCORE 3");
    }

    #[test]
    fn comparison_ignores_whitespace_and_case() {
        let message = v2_message(json!([text("Old   TEXT here"), text("Something else")]));
        for target in ["oldtext", "old text", "OLD\tTEXT", "o l d t e x t", "  Old   TEXT  ", "textHERE", "dte"] {
            let body = smart_edit(&message, target, "new text").expect(target);
            assert_eq!(body["components"][0]["content"], "new text", "{target}");
            assert_eq!(body["components"][1]["content"], "Something else");
        }
        // Unicode whitespace (no-break space, em space, ideographic space, newlines) is removed too.
        let message = v2_message(json!([text("Line\u{a0}one\nLine\u{2003}two\u{3000}end")]));
        assert!(smart_edit(&message, "lineone line two", "x").is_ok());
        assert!(smart_edit(&message, "twoend", "x").is_ok());
    }

    #[test]
    fn unicode_and_emoji_are_compared_by_their_lowercase() {
        let message = v2_message(json!([text("🎉 Événement à venir"), text("ΣΟΦΊΑ Straße"), text("🔥 hot")]));
        let body = smart_edit(&message, "événement", "🎊 Fini").expect("accented");
        assert_eq!(body["components"][0]["content"], "🎊 Fini");
        assert!(smart_edit(&message, "ÉVÉNEMENT À", "x").is_ok());
        assert!(smart_edit(&message, "σοφία", "x").is_ok());
        assert!(smart_edit(&message, "STRASSE", "x").is_ok(), "ß folds to ss");
        assert!(smart_edit(&message, "straße", "x").is_ok());
        assert!(smart_edit(&message, "ΣΟΦΊΑ STRASSE", "x").is_ok());
        let final_sigma = v2_message(json!([text("ΟΔΥΣΣΕΥΣ")]));
        assert!(smart_edit(&final_sigma, "οδυσσευς", "x").is_ok(), "final ς folds like σ");
        let body = smart_edit(&message, "🔥", "❄️ cold").expect("emoji");
        assert_eq!(body["components"][2]["content"], "❄️ cold");
        assert_eq!(smart_edit(&message, "🎉🔥", "x"), Err(SmartEditError::NotFound { target: "🎉🔥".into() }));
    }

    #[test]
    fn a_classic_message_edits_its_content_and_never_echoes_embeds() {
        let message = json!({
            "id": "1300000000000000000",
            "content": "Welcome to the server! Current event: none",
            "author": {"id": "1", "username": "garrison", "bot": true},
            "timestamp": "2025-01-01T00:00:00.000000+00:00",
            "attachments": [{"id": "5", "filename": "a.png", "size": 1, "url": "https://cdn.discordapp.com/a.png", "proxy_url": "https://media.discordapp.net/a.png"}],
            "embeds": [{"type": "rich", "title": "Rules", "description": "Be nice"}, {"type": "gifv", "url": "https://tenor.com/x"}],
            "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Current event", "custom_id": "e"}]}],
            "flags": SUPPRESS_EMBEDS,
        });
        let body = smart_edit(&message, "current event", "Welcome! Current event: raid at 20:00").expect("content");
        assert_eq!(body, json!({"content": "Welcome! Current event: raid at 20:00"}));
        // Embed text and button labels are not searched.
        assert!(matches!(smart_edit(&message, "be nice", "x"), Err(SmartEditError::NotFound { .. })));
        assert!(matches!(smart_edit(&message, "Rules", "x"), Err(SmartEditError::NotFound { .. })));
    }

    #[test]
    fn a_v2_message_does_not_search_its_top_level_content() {
        let mut message = v2_message(json!([text("Visible text")]));
        message["content"] = json!("stale hidden text");
        assert!(matches!(smart_edit(&message, "hidden", "x"), Err(SmartEditError::NotFound { .. })));
        assert!(smart_edit(&message, "visible", "x").is_ok());
    }

    #[test]
    fn the_patch_carries_only_writable_fields() {
        let mut message = v2_message(json!([text("alpha"), text("beta")]));
        message["attachments"] = json!([{"id": "9", "filename": "f.pdf", "size": 3, "url": "https://cdn.discordapp.com/f.pdf?ex=1", "proxy_url": "https://media.discordapp.net/f.pdf"}]);
        message["reactions"] = json!([{"count": 1, "emoji": {"name": "👍"}}]);
        let body = smart_edit(&message, "beta", "gamma").expect("one match");
        let keys: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
        for key in &keys {
            assert!(["content", "embeds", "components", "flags"].contains(key), "{key}");
        }
        for read_only in
            ["id", "author", "timestamp", "attachments", "reactions", "mentions", "pinned", "channel_id", "embeds"]
        {
            assert!(body.get(read_only).is_none(), "{read_only}");
        }
    }

    #[test]
    fn flags_keep_components_v2_and_suppress_embeds_only() {
        let mut message = v2_message(json!([text("alpha")]));
        message["flags"] = json!(IS_COMPONENTS_V2 | SUPPRESS_EMBEDS | 64 | 2 | (1 << 12));
        let body = smart_edit(&message, "alpha", "beta").expect("one match");
        assert_eq!(body["flags"], json!(IS_COMPONENTS_V2 | SUPPRESS_EMBEDS));
        // A classic message with components (no V2 flag) gets no flags.
        let classic = json!({"content": "", "flags": 64, "components": [text("alpha")]});
        let body = smart_edit(&classic, "alpha", "beta").expect("one match");
        assert!(body.get("flags").is_none());
        assert_eq!(body["components"], json!([text("beta")]));
    }

    #[test]
    fn not_found_and_empty_inputs() {
        let message = v2_message(json!([text("alpha")]));
        let error = smart_edit(&message, "omega", "x").expect_err("absent");
        assert_eq!(error.to_string(), "No component found matching 'omega'.");
        assert!(error.to_string().starts_with("No component found matching"));
        for target in ["", " ", "\n\t\u{a0}"] {
            assert_eq!(smart_edit(&message, target, "x"), Err(SmartEditError::EmptyTarget), "{target:?}");
        }
        for content in ["", "   ", "\n"] {
            assert_eq!(smart_edit(&message, "alpha", content), Err(SmartEditError::EmptyContent), "{content:?}");
        }
        // Messages without anything to search (what is no message at all never reaches the rule: the
        // adapter cannot read it into a `Message`).
        for nothing in [json!({}), json!({"content": ""}), v2_message(json!([]))] {
            assert!(matches!(smart_edit(&nothing, "alpha", "x"), Err(SmartEditError::NotFound { .. })), "{nothing}");
        }
    }

    #[test]
    fn a_text_display_holds_at_most_4000_characters() {
        let message = v2_message(json!([text("alpha")]));
        let at_limit = "é".repeat(MAX_TEXT_DISPLAY_CHARS);
        let body = smart_edit(&message, "alpha", &at_limit).expect("4000 characters");
        assert_eq!(body["components"][0]["content"], json!(at_limit));
        let over = "é".repeat(MAX_TEXT_DISPLAY_CHARS + 1);
        assert_eq!(smart_edit(&message, "alpha", &over), Err(SmartEditError::TooLong { length: 4001, max: 4000 }));
    }

    #[test]
    fn a_message_content_holds_at_most_2000_characters() {
        let message = json!({"content": "alpha", "embeds": []});
        assert!(smart_edit(&message, "alpha", &"a".repeat(MAX_CONTENT_CHARS)).is_ok());
        assert_eq!(
            smart_edit(&message, "alpha", &"a".repeat(MAX_CONTENT_CHARS + 1)),
            Err(SmartEditError::TooLong { length: 2001, max: 2000 })
        );
    }

    #[test]
    fn all_text_displays_together_hold_at_most_4000_characters() {
        let message = v2_message(
            json!([text(&"x".repeat(1500)), {"type": 17, "components": [text(&"y".repeat(500)), text("alpha")]}]),
        );
        assert!(smart_edit(&message, "alpha", &"z".repeat(2000)).is_ok());
        let error = smart_edit(&message, "alpha", &"z".repeat(2001)).expect_err("4001 in all");
        assert_eq!(error, SmartEditError::MessageTooLong { total: 4001, max: 4000 });
    }

    #[test]
    fn other_component_fields_are_not_searched() {
        let message = v2_message(json!([
            {"type": 9, "components": [text("Profile")], "accessory": {"type": 2, "style": 1, "label": "old text", "custom_id": "old text"}},
            {"type": 12, "items": [{"media": {"url": "https://cdn.example.com/old-text.png"}, "description": "old text"}]},
            {"type": 11, "media": {"url": "https://x.example/a.png"}, "description": "old text"},
        ]));
        assert!(matches!(smart_edit(&message, "old text", "x"), Err(SmartEditError::NotFound { .. })));
    }

    // ---- file detection --------------------------------------------------------------------------

    fn with_attachments(attachments: Value) -> Value {
        json!({"id": "1", "content": "", "attachments": attachments, "embeds": []})
    }

    fn with_embeds(embeds: Value) -> Value {
        json!({"id": "1", "content": "look", "attachments": [], "embeds": embeds})
    }

    #[test]
    fn an_attachment_content_type_is_reported() {
        let message = with_attachments(json!([{
            "id": "2", "filename": "photo.png", "size": 10, "content_type": "image/png",
            "url": "https://cdn.discordapp.com/attachments/1/2/photo.png?ex=65f1&is=65e0&hm=ab12&",
            "proxy_url": "https://media.discordapp.net/attachments/1/2/photo.png?ex=65f1&is=65e0&hm=ab12&"
        }]));
        assert_eq!(detect_file(&message).as_deref(), Some("image/png"));
    }

    #[test]
    fn content_type_wins_over_a_misleading_extension() {
        let message = with_attachments(
            json!([{"filename": "photo.jpg", "content_type": "image/png", "url": "https://cdn.discordapp.com/x/photo.mp4"}]),
        );
        assert_eq!(detect_file(&message).as_deref(), Some("image/png"));
        // Across attachments too: any content_type comes before any file name.
        let message = with_attachments(json!([
            {"filename": "archive.zip", "url": "https://cdn.discordapp.com/x/archive.zip"},
            {"filename": "anim.png", "content_type": "image/gif", "url": "https://cdn.discordapp.com/x/anim.png"},
        ]));
        assert_eq!(detect_file(&message).as_deref(), Some("image/gif"));
    }

    #[test]
    fn content_types_are_normalised() {
        let cases = [
            ("text/plain; charset=utf-8", "text/plain"),
            ("IMAGE/PNG", "image/png"),
            (" image/jpg ", "image/jpeg"),
            ("application/x-rar-compressed", "application/vnd.rar"),
            ("application/x-zip-compressed", "application/zip"),
            ("audio/ogg", "audio/ogg"),
        ];
        for (raw, expected) in cases {
            let message = with_attachments(
                json!([{"filename": "f", "content_type": raw, "url": "https://cdn.discordapp.com/f"}]),
            );
            assert_eq!(detect_file(&message).as_deref(), Some(expected), "{raw}");
        }
    }

    #[test]
    fn an_uninformative_content_type_falls_through_to_the_file_name() {
        for raw in ["application/octet-stream", "", "garbage", "image/", "/png", "ima ge/png"] {
            let message = with_attachments(
                json!([{"filename": "Report.DOCX", "content_type": raw, "url": "https://cdn.discordapp.com/r"}]),
            );
            assert_eq!(
                detect_file(&message).as_deref(),
                Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn the_file_name_then_the_url_give_the_extension() {
        let message =
            with_attachments(json!([{"filename": "clip.MOV", "url": "https://cdn.discordapp.com/x/clip.webm"}]));
        assert_eq!(detect_file(&message).as_deref(), Some("video/quicktime"));
        let message = with_attachments(json!([{
            "filename": "download", "size": 3,
            "url": "https://cdn.discordapp.com/attachments/1/2/report.pdf?ex=65f1b2c3&is=65e0a1b2&hm=0123abcd&",
            "proxy_url": "https://media.discordapp.net/attachments/1/2/report.zip"
        }]));
        assert_eq!(detect_file(&message).as_deref(), Some("application/pdf"));
        let message = with_attachments(
            json!([{"filename": "download", "url": "https://cdn.discordapp.com/a/b", "proxy_url": "https://media.discordapp.net/a/b.rar#frag"}]),
        );
        assert_eq!(detect_file(&message).as_deref(), Some("application/vnd.rar"));
    }

    #[test]
    fn any_attachment_is_a_file_even_of_unknown_type() {
        let message =
            with_attachments(json!([{"filename": "notes.txt", "url": "https://cdn.discordapp.com/x/notes.txt?ex=1"}]));
        assert_eq!(detect_file(&message).as_deref(), Some(UNKNOWN_FILE_TYPE));
        let message = with_attachments(json!([{}]));
        assert_eq!(detect_file(&message).as_deref(), Some(UNKNOWN_FILE_TYPE));
    }

    #[test]
    fn every_supported_extension_has_its_mime_type() {
        let cases = [
            ("png", "image/png"),
            ("jpg", "image/jpeg"),
            ("JPEG", "image/jpeg"),
            ("gif", "image/gif"),
            ("webp", "image/webp"),
            ("mp4", "video/mp4"),
            ("webm", "video/webm"),
            ("mov", "video/quicktime"),
            ("pdf", "application/pdf"),
            ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            ("zip", "application/zip"),
            ("Rar", "application/vnd.rar"),
        ];
        for (extension, mime) in cases {
            assert_eq!(mime_for_extension(extension), Some(mime), "{extension}");
            let message = with_attachments(json!([{"filename": format!("file.{extension}")}]));
            assert_eq!(detect_file(&message).as_deref(), Some(mime), "{extension}");
        }
        for unsupported in ["", "doc", "gifv", "tar.gz", "exe", "txt", "pngx"] {
            assert_eq!(mime_for_extension(unsupported), None, "{unsupported}");
        }
    }

    #[test]
    fn a_url_without_a_path_has_no_extension() {
        assert_eq!(mime_for_url("https://files.zip"), None);
        assert_eq!(mime_for_url("https://files.zip?name=a.png"), None);
        assert_eq!(mime_for_url("https://example.com/"), None);
        assert_eq!(mime_for_url("https://example.com/dir.png/file"), None);
        assert_eq!(mime_for_url("https://example.com/a/b.gif"), Some("image/gif"));
        assert_eq!(mime_for_url("https://example.com/a.jpeg?x=y.png#z.mp4"), Some("image/jpeg"));
        assert_eq!(mime_for_url("relative/path/a.webp"), Some("image/webp"));
    }

    #[test]
    fn gifv_embeds_from_giphy_tenor_and_imgur() {
        let giphy = with_embeds(json!([{
            "type": "gifv", "url": "https://giphy.com/gifs/cat-dance-abc123",
            "provider": {"name": "GIPHY", "url": "https://giphy.com/"},
            "thumbnail": {"url": "https://media.giphy.com/media/abc123/giphy_s.gif", "proxy_url": "https://images-ext-1.discordapp.net/x", "width": 480, "height": 270},
            "video": {"url": "https://media.giphy.com/media/abc123/giphy.mp4", "width": 480, "height": 270}
        }]));
        assert_eq!(detect_file(&giphy).as_deref(), Some("video/mp4"));
        let imgur = with_embeds(json!([{
            "type": "gifv", "url": "https://i.imgur.com/AbCdEf.gifv",
            "provider": {"name": "Imgur", "url": "https://imgur.com"},
            "video": {"url": "https://i.imgur.com/AbCdEf.webm?maxwidth=640"}
        }]));
        assert_eq!(detect_file(&imgur).as_deref(), Some("video/webm"));
        let tenor_without_video = with_embeds(
            json!([{"type": "gifv", "url": "https://tenor.com/view/happy-gif-123", "thumbnail": {"url": "https://media.tenor.com/x/AAAAe/happy.png"}}]),
        );
        assert_eq!(detect_file(&tenor_without_video).as_deref(), Some(GIFV_FILE_TYPE));
    }

    #[test]
    fn image_and_video_embeds_use_their_urls() {
        let image = with_embeds(json!([{
            "type": "image", "url": "https://i.imgur.com/abc",
            "thumbnail": {"url": "https://i.imgur.com/abc.jpg", "proxy_url": "https://images-ext-2.discordapp.net/external/x/https/i.imgur.com/abc.jpg?format=webp&width=400"}
        }]));
        assert_eq!(detect_file(&image).as_deref(), Some("image/jpeg"));
        let image_by_link =
            with_embeds(json!([{"type": "image", "url": "https://example.com/pics/cat.WEBP?size=large"}]));
        assert_eq!(detect_file(&image_by_link).as_deref(), Some("image/webp"));
        let direct_video = with_embeds(
            json!([{"type": "video", "url": "https://example.com/v/trailer.mp4", "video": {"url": "https://example.com/v/trailer.mp4"}}]),
        );
        assert_eq!(detect_file(&direct_video).as_deref(), Some("video/mp4"));
        let youtube = with_embeds(json!([{
            "type": "video", "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "thumbnail": {"url": "https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.jpg"},
            "video": {"url": "https://www.youtube.com/embed/dQw4w9WgXcQ"}
        }]));
        assert_eq!(detect_file(&youtube).as_deref(), None);
        let extensionless_image = with_embeds(json!([{"type": "image", "url": "https://example.com/render?id=5"}]));
        assert_eq!(detect_file(&extensionless_image).as_deref(), None);
    }

    #[test]
    fn rich_and_link_embeds_are_not_files() {
        let message = with_embeds(json!([
            {"type": "rich", "title": "Hi", "image": {"url": "https://cdn.example.com/banner.png"}},
            {"type": "article", "url": "https://news.example.com/a.pdf", "thumbnail": {"url": "https://news.example.com/t.png"}},
            {"type": "link", "url": "https://example.com/file.zip"},
            {"url": "https://example.com/x.png"},
        ]));
        assert_eq!(detect_file(&message).as_deref(), None);
        // A later media embed still counts.
        let mut message = message;
        message["embeds"]
            .as_array_mut()
            .expect("array")
            .push(json!({"type": "gifv", "video": {"url": "https://media.tenor.com/a/b.mp4"}}));
        assert_eq!(detect_file(&message).as_deref(), Some("video/mp4"));
    }

    #[test]
    fn attachments_come_before_embeds() {
        let message = json!({
            "attachments": [{"filename": "rules.pdf", "url": "https://cdn.discordapp.com/x/rules.pdf?ex=1&is=2&hm=3&"}],
            "embeds": [{"type": "gifv", "video": {"url": "https://media.giphy.com/media/a/giphy.mp4"}}],
        });
        assert_eq!(detect_file(&message).as_deref(), Some("application/pdf"));
    }

    #[test]
    fn a_message_without_files_has_none() {
        assert_eq!(detect_file(&json!({"content": "hello", "attachments": [], "embeds": []})), None);
        assert_eq!(detect_file(&v2_message(json!([text("hello")]))), None);
        assert_eq!(detect_file(&json!({})), None);
        assert_eq!(detect_file(&json!(null)), None);
        assert_eq!(detect_file(&json!({"attachments": "x", "embeds": {"type": "image"}})), None);
    }

    // ---- embed messages --------------------------------------------------------------------------

    fn request(title: &str, description: &str, color: &str) -> EmbedRequest {
        EmbedRequest {
            title: title.into(),
            description: description.into(),
            color: color.into(),
            ..EmbedRequest::default()
        }
    }

    #[test]
    fn a_minimal_embed() {
        let body = embed_message(&request("Announcement", "Hello everyone!", "5814783")).expect("valid");
        assert_eq!(
            body,
            json!({
                "embeds": [{"title": "Announcement", "description": "Hello everyone!", "color": 5814783}],
            })
        );
    }

    #[test]
    fn a_full_embed() {
        let req = EmbedRequest {
            footer: Some("Posted by Bot".into()),
            footer_icon: Some("https://cdn.example.com/icon.png".into()),
            image_url: Some("https://cdn.example.com/banner.png?size=1024".into()),
            plain_text: Some("@everyone new event".into()),
            ..request("Event", "Raid at 20:00", "#58B9FF")
        };
        let body = embed_message(&req).expect("valid");
        assert_eq!(
            body,
            json!({
                "content": "@everyone new event",
                "embeds": [{
                    "title": "Event",
                    "description": "Raid at 20:00",
                    "color": 0x58B9FF,
                    "footer": {"text": "Posted by Bot", "icon_url": "https://cdn.example.com/icon.png"},
                    "image": {"url": "https://cdn.example.com/banner.png?size=1024"},
                }],
            })
        );
    }

    #[test]
    fn blank_optional_headers_are_absent() {
        let req = EmbedRequest {
            footer: Some("  ".into()),
            footer_icon: Some(String::new()),
            image_url: Some(" ".into()),
            plain_text: Some(String::new()),
            ..request("T", "D", "0")
        };
        let body = embed_message(&req).expect("valid");
        assert_eq!(body, json!({"embeds": [{"title": "T", "description": "D", "color": 0}]}));
    }

    #[test]
    fn title_and_description_are_required() {
        assert_eq!(invalid_field(embed_message(&request("", "D", "1"))), "title");
        assert_eq!(invalid_field(embed_message(&request(" \t", "D", "1"))), "title");
        assert_eq!(invalid_field(embed_message(&request("T", "", "1"))), "description");
    }

    #[test]
    fn text_limits_at_the_boundary_and_one_over() {
        let long = |n: usize| "🎉".repeat(n);
        assert!(embed_message(&request(&long(256), "D", "1")).is_ok());
        assert_eq!(invalid_field(embed_message(&request(&long(257), "D", "1"))), "title");
        assert!(embed_message(&request("T", &long(4096), "1")).is_ok());
        assert_eq!(invalid_field(embed_message(&request("T", &long(4097), "1"))), "description");
        let with = |footer: Option<usize>, plain: Option<usize>| EmbedRequest {
            footer: footer.map(long),
            plain_text: plain.map(long),
            ..request("T", "D", "1")
        };
        assert!(embed_message(&with(Some(2048), None)).is_ok());
        assert_eq!(invalid_field(embed_message(&with(Some(2049), None))), "footer");
        assert!(embed_message(&with(None, Some(2000))).is_ok());
        assert_eq!(invalid_field(embed_message(&with(None, Some(2001)))), "plain-text");
    }

    #[test]
    fn the_embed_holds_at_most_6000_characters() {
        let at_limit =
            EmbedRequest { footer: Some("f".repeat(1648)), ..request(&"t".repeat(256), &"d".repeat(4096), "1") };
        assert!(embed_message(&at_limit).is_ok());
        let over = EmbedRequest { footer: Some("f".repeat(1649)), ..at_limit };
        let error = embed_message(&over).expect_err("6001");
        assert!(error.to_string().contains("6001"), "{error}");
        assert_eq!(invalid_field(Err(error)), "description");
        // Plain text outside the embed does not count.
        let with_text = EmbedRequest {
            plain_text: Some("p".repeat(2000)),
            footer: Some("f".repeat(1648)),
            ..request(&"t".repeat(256), &"d".repeat(4096), "1")
        };
        assert!(embed_message(&with_text).is_ok());
    }

    #[test]
    fn colors() {
        let color = |raw: &str| embed_message(&request("T", "D", raw)).map(|body| body["embeds"][0]["color"].clone());
        for (raw, value) in [
            ("0", 0),
            ("5814783", 5_814_783),
            ("16777215", 16_777_215),
            (" 42 ", 42),
            ("000255", 255),
            ("#58B9FF", 0x58_B9FF),
            ("#ffffff", 0xFF_FFFF),
            ("#000000", 0),
        ] {
            assert_eq!(color(raw).expect(raw), json!(value), "{raw}");
        }
        for raw in [
            "",
            " ",
            "16777216",
            "-1",
            "+5",
            "1.5",
            "1e3",
            "#fff",
            "#1234567",
            "#GGGGGG",
            "0x58B9FF",
            "red",
            "99999999999999999999",
        ] {
            assert_eq!(invalid_field(color(raw)), "color", "{raw:?}");
        }
    }

    #[test]
    fn urls_must_be_http_or_https() {
        let image = |url: &str| embed_message(&EmbedRequest { image_url: Some(url.into()), ..request("T", "D", "1") });
        for ok in [
            "https://cdn.example.com/a.png",
            "http://example.com",
            "HTTPS://EXAMPLE.COM/x.png?q=1",
            "https://例え.jp/画像.png",
        ] {
            assert!(image(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://example.com/a.png",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "//example.com/a.png",
            "example.com/a.png",
            "https://example.com/a b.png",
            "https://example.com/a\u{7}.png",
            "attachment://a.png",
        ] {
            assert_eq!(invalid_field(image(bad)), "image-url", "{bad}");
        }
        let prefix = "https://example.com/";
        let at_limit = format!("{prefix}{}", "a".repeat(MAX_EMBED_URL_CHARS - prefix.len()));
        assert!(image(&at_limit).is_ok());
        assert_eq!(invalid_field(image(&format!("{at_limit}a"))), "image-url");
        let icon = EmbedRequest {
            footer: Some("F".into()),
            footer_icon: Some("data:image/png;base64,AAAA".into()),
            ..request("T", "D", "1")
        };
        assert_eq!(invalid_field(embed_message(&icon)), "user-icon");
    }

    #[test]
    fn a_footer_icon_needs_footer_text() {
        let req = EmbedRequest { footer_icon: Some("https://cdn.example.com/i.png".into()), ..request("T", "D", "1") };
        assert_eq!(invalid_field(embed_message(&req)), "user-icon");
    }

    // ---- cooldown --------------------------------------------------------------------------------

    #[test]
    fn cooldown_messages_round_up_to_the_tenth() {
        for (ms, seconds) in [
            (8_450, "8.5"),
            (8_401, "8.5"),
            (8_400, "8.4"),
            (8_500, "8.5"),
            (100, "0.1"),
            (1, "0.1"),
            (9_999, "10.0"),
            (10_000, "10.0"),
            (0, "0.0"),
            (-250, "0.0"),
            (i64::MAX, "9223372036854775.9"),
        ] {
            assert_eq!(cooldown_message(ms), format!("Rate limit exceeded. Try again in {seconds} seconds."), "{ms}");
        }
    }

    // ---- properties ------------------------------------------------------------------------------

    /// Arbitrary JSON shaped like messages: the keys the rules read, nested.
    fn message_like() -> impl Strategy<Value = Value> {
        let key = prop::sample::select(vec![
            "type",
            "content",
            "components",
            "accessory",
            "attachments",
            "embeds",
            "url",
            "proxy_url",
            "filename",
            "content_type",
            "video",
            "image",
            "thumbnail",
            "flags",
            "items",
            "media",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (0u64..1 << 20).prop_map(Value::from),
            prop::sample::select(vec![
                "image",
                "gifv",
                "video",
                "rich",
                "a.png",
                "https://x.y/z.mp4?q=1",
                "image/png",
                ""
            ])
            .prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn rules_never_panic_on_any_message(message in message_like(), target in "\\PC{0,6}", new in "\\PC{0,6}") {
            let _ = detect_file(&message);
            if let Some(message) = msg(&message)
                && let Ok(patch) = super::smart_edit(&message, &target, &new)
            {
                prop_assert!(patch.content.is_some() != patch.components.is_some());
            }
        }

        #[test]
        fn a_whitespace_and_case_variant_of_a_substring_finds_its_text(
            words in prop::collection::vec("[a-zA-Zéß0-9]{1,8}", 1..6),
            start in any::<prop::sample::Index>(),
            len in any::<prop::sample::Index>(),
            spaces in prop::collection::vec(prop::sample::select(vec!["", " ", "  ", "\t", "\n", "\u{a0}"]), 64),
            upper in prop::collection::vec(any::<bool>(), 64),
        ) {
            let original = words.join(" ");
            let chars: Vec<char> = original.chars().collect();
            let from = start.index(chars.len());
            let to = from + 1 + len.index(chars.len() - from);
            let substring: String = chars[from..to].iter().collect();
            prop_assume!(!substring.trim().is_empty());
            let variant: String = substring
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let c: String = if upper[i % 64] { c.to_uppercase().collect() } else { c.to_string() };
                    format!("{}{c}", spaces[i % 64]).chars().collect::<Vec<_>>()
                })
                .collect();
            let message = v2_message(json!([{"type": 17, "components": [text(&original), text("\u{1f512}")]}]));
            let body = smart_edit(&message, &variant, "replaced").expect("the variant matches");
            prop_assert_eq!(&body["components"][0]["components"][0]["content"], &json!("replaced"));
            prop_assert_eq!(&body["components"][0]["components"][1]["content"], &json!("\u{1f512}"));
        }

        #[test]
        fn exactly_one_of_many_texts_changes(count in 1usize..12, pick in any::<prop::sample::Index>(), nest in any::<bool>()) {
            let texts: Vec<Value> = (0..count).map(|i| text(&format!("entry {i};"))).collect();
            let components = if nest { json!([{"type": 17, "components": texts}]) } else { Value::Array(texts) };
            let message = v2_message(components);
            let chosen = pick.index(count);
            let body = smart_edit(&message, &format!("Entry{chosen};"), "done").expect("unique");
            let mut edited = Vec::new();
            for component in body["components"].as_array().expect("array") {
                visit_texts(component, &mut |t| edited.push(t.to_owned()));
            }
            let expected: Vec<String> =
                (0..count).map(|i| if i == chosen { "done".to_owned() } else { format!("entry {i};") }).collect();
            prop_assert_eq!(edited, expected);
        }

        #[test]
        fn supported_extensions_survive_query_strings(
            index in 0..SUPPORTED.len(),
            stem in "[a-zA-Z0-9_-]{1,12}",
            query in "[a-zA-Z0-9=&.]{0,24}",
        ) {
            let (extension, mime) = SUPPORTED[index];
            let url = format!("https://cdn.discordapp.com/attachments/1/2/{stem}.{}?{query}", extension.to_uppercase());
            prop_assert_eq!(mime_for_url(&url), Some(mime));
            let message = with_attachments(json!([{"filename": "blob", "url": url}]));
            prop_assert_eq!(detect_file(&message), Some(mime.to_owned()));
        }

        #[test]
        fn embed_limits_are_exact(title in 1usize..300, description in 1usize..4200, footer in 0usize..2100) {
            let req = EmbedRequest {
                footer: (footer > 0).then(|| "f".repeat(footer)),
                ..request(&"t".repeat(title), &"d".repeat(description), "1")
            };
            let within = title <= 256 && description <= 4096 && footer <= 2048 && title + description + footer <= 6000;
            prop_assert_eq!(embed_message(&req).is_ok(), within);
        }

        #[test]
        fn decimal_colors_in_range_round_trip(value in 0u32..=MAX_EMBED_COLOR) {
            let body = embed_message(&request("T", "D", &value.to_string())).expect("in range");
            prop_assert_eq!(&body["embeds"][0]["color"], &json!(value));
            let hex = embed_message(&request("T", "D", &format!("#{value:06x}"))).expect("hex");
            prop_assert_eq!(&hex["embeds"][0]["color"], &json!(value));
        }

        #[test]
        fn waiting_the_shown_time_is_enough(ms in 0i64..100_000_000) {
            let message = cooldown_message(ms);
            let seconds = message
                .strip_prefix("Rate limit exceeded. Try again in ")
                .and_then(|rest| rest.strip_suffix(" seconds."))
                .expect("the message's shape");
            let (whole, tenth) = seconds.split_once('.').expect("one decimal");
            prop_assert_eq!(tenth.len(), 1);
            let tenths: i64 = whole.parse::<i64>().expect("whole") * 10 + tenth.parse::<i64>().expect("tenth");
            prop_assert!(tenths * 100 >= ms, "shown {seconds} s for {ms} ms");
            prop_assert!((tenths - 1) * 100 < ms || tenths == 0, "shown {seconds} s for {ms} ms is not the least");
        }
    }
}
