//! Garrison's HTML pages: self-contained documents rendered from plain data.
//!
//! Pure functions, no IO, no clock: the same input gives the same bytes. Inputs are this crate's own
//! borrowed structs, so it depends on no other Garrison crate; the binary converts its records.
//!
//! ```
//! use garrison_pages::{Names, escape_html, iso8601_utc_from_epoch_ms, render_discord_markdown};
//!
//! assert_eq!(escape_html(r#"<b onclick="x">'hi'</b>"#), "&lt;b onclick=&quot;x&quot;&gt;&#39;hi&#39;&lt;/b&gt;");
//! assert_eq!(iso8601_utc_from_epoch_ms(0), "1970-01-01T00:00:00.000Z");
//! let mut names = Names::new();
//! names.insert_user(80351110224678912, "Nelly");
//! let html = render_discord_markdown("**hi** <@80351110224678912> <script>", &names);
//! assert!(html.contains("Nelly") && html.contains("&lt;script&gt;") && !html.contains("<script>"));
//! ```
//!
//! # The moderation-log page ([`render_modlog`])
//!
//! One user's moderation history in one Discord server (Noctra's `GET /api/modlogs/view/{id}`): a
//! header with the server and the user, then one card per entry, newest first, with search, action
//! filters, per-action counts and a dark/light theme. Decisions:
//!
//! - **No request leaves the page.** CSS and JS are inline, fonts are the system's, and avatars and the
//!   server icon are *not* images: each is the name's initials in a circle (a rounded square for the
//!   server) whose colour is picked from eight by a hash of the Discord id, so a user keeps a colour.
//!   The favicon is `data:,` so browsers do not ask for `/favicon.ico` either.
//! - **Content-Security-Policy** (a `<meta>`, [`modlog_content_security_policy`]; the HTTP header,
//!   [`modlog_content_security_policy_header`], adds `frame-ancestors 'none'`, which a `<meta>` cannot
//!   carry): `default-src 'none'`, the page's one
//!   `<style>` and one `<script>` admitted by their SHA-256 hashes rather than `'unsafe-inline'`, so
//!   even markup that slipped past escaping could not run a script or style; `img-src data:` only for
//!   the empty favicon; `base-uri` and `form-action` `'none'`. The page has no `style="..."`
//!   attribute (hashes do not cover attributes), only classes.
//! - **User data never reaches the script as code.** Every user-supplied value is HTML-escaped
//!   ([`escape_html`]) in text and in double-quoted attributes; the script reads what it needs from
//!   `data-action` / `data-search` attributes and the `<time datetime>` of each card.
//! - **Fragment filters**: `#search=spam&action=Ban` (parsed with `URLSearchParams`, so
//!   percent-encoding and `+` work; `action` is matched case-insensitively, anything unknown means all).
//!   The fragment applies on load and on `hashchange`, and typing or clicking rewrites it with
//!   `history.replaceState` (no history entry per keystroke).
//! - **Search** is a case-insensitive substring match over the case number (`#12`, `case 12`), action,
//!   moderator name and id, reason and duration.
//! - **Theme** follows `prefers-color-scheme` until the toggle is used; the choice is kept in
//!   `localStorage` (`garrison-theme`). The script sits in `<head>` so a stored theme applies before
//!   the first paint.
//! - **Times** are rendered server-side as ISO 8601 UTC in `<time datetime>`; the script replaces the
//!   visible text with the reader's local time and keeps the UTC text as a tooltip.
//! - Actions `Warn`, `Timeout`, `Ban`, `Kick`, `Unban` are recognised case-insensitively; anything else
//!   is shown as written (escaped) and counted as `Other`.
//!
//! # The channel transcript ([`TranscriptWriter`])
//!
//! One Discord channel as a single self-contained HTML file in Discord's look (dark, light by
//! `prefers-color-scheme`), for Noctra's `POST /api/Transcript/html`. Streaming: `start` writes the
//! head, then `media` (each distinct file once) and `message` (a [`message::Message`], oldest first)
//! in any mix, then `finish`; nothing accumulates per message, so memory does not grow with the
//! number of messages or the size of the media. Messages are this crate's own typed structs
//! ([`message`]), borrowing the caller's text: no JSON is read here. Decisions:
//!
//! - **Media once, used many times.** `media(id, mime, reader)` writes
//!   `<data id="media-{id}" class="media" value="data:{mime};base64,...">`, base64-encoding the
//!   reader in chunks. Uses are `<img|video|audio data-media="{id}">` without `src`; the one script
//!   turns a definition into a `blob:` URL on first use (then drops the attribute's text) and sets
//!   `src` when the element nears the viewport. Ids (`[a-z0-9-]{1,32}`) and MIME types are validated
//!   since they land in attributes; an invalid id from the caller's lookup counts as no media.
//! - **Same policy as the moderation log**, plus `img-src data: blob:; media-src data: blob:`. Colours
//!   (name colour from [`Names`], role mentions, embed bars, container accents) are `data-colour`
//!   values the writer formats as `#rrggbb` and the script applies as a CSS variable (CSSOM), since
//!   the policy admits no `style` attribute.
//! - **Links**: only `http(s)` URLs become `<a href>` (with `rel="noopener noreferrer nofollow"
//!   target="_blank"`); anything else (`javascript:`, `data:`) stays text. DNS prefetch is off,
//!   referrers are not sent, no `rel=prefetch`; in-page links go to `#msg-{id}`.
//! - **Markdown** ([`render_discord_markdown`]): Discord's dialect written here, escaping every piece
//!   of text; see `markdown.rs` for the rules and their limits.
//! - **Approximated**: custom emoji and stickers are text (`:name:`, `Sticker: name`), components are
//!   disabled look-alikes (link buttons are real links), system messages are one line of text, embed
//!   timestamps are shown as given, messages by one author within 7 minutes are grouped.

mod escape;
mod markdown;
pub mod message;
mod modlog;
mod time;
mod transcript;
mod verify;

pub use escape::escape_html;
pub use modlog::{
    MODLOG_ACTIONS, ModLogEntry, ModLogPage, modlog_content_security_policy, modlog_content_security_policy_header,
    render_modlog,
};

pub use time::iso8601_utc_from_epoch_ms;
pub use transcript::{
    Names, TranscriptHeader, TranscriptWriter, avatar_url, is_valid_media_id, render_discord_markdown,
    transcript_content_security_policy, transcript_content_security_policy_header,
};
pub use verify::{Account, VerifyPage, render_verify, verify_content_security_policy_header};

/// The directive the HTTP-header policies add to the pages' `<meta>` policies: no framing at all
/// (clickjacking), which only a header can say.
const FRAME_ANCESTORS: &str = "frame-ancestors 'none'";
