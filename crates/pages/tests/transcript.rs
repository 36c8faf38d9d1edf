//! The channel transcript: Discord markdown, mentions, every message feature, media written once,
//! the CSP, hostile input, and streaming.

mod common;

use std::io::{self, Read as _, Write};

use base64::Engine as _;
use garrison_pages::message::{
    Attachment, Button, Component, Embed, EmbedAuthor, EmbedField, EmbedFooter, Emoji, Media, Message, Reaction,
    SelectOption, User,
};
use garrison_pages::{
    Names, TranscriptHeader, TranscriptWriter, avatar_url, render_discord_markdown, transcript_content_security_policy,
    transcript_content_security_policy_header,
};
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

const REL: &str = "rel=\"noopener noreferrer nofollow\" target=\"_blank\"";
const ALICE: u64 = 111_111_111_111_111_111;
const BOB: u64 = 222_222_222_222_222_222;
const MODS: u64 = 333_333_333_333_333_333;
const GENERAL: u64 = 444_444_444_444_444_444;
/// A message id from 2024 (Discord snowflakes carry their time).
const FIRST_ID: u64 = 1_200_000_000_000_000_000;

fn names() -> Names {
    let mut names = Names::new();
    names
        .insert_member(ALICE, "Alice <Admin>", 0x00e6_7e22)
        .insert_user(BOB, "Bob")
        .insert_role(MODS, "Moderators", 0x0034_98db)
        .insert_channel(GENERAL, "general");
    names
}

fn md(text: &str) -> String {
    render_discord_markdown(text, &names())
}

fn header() -> TranscriptHeader<'static> {
    TranscriptHeader {
        guild_name: "Test <Guild>",
        channel_name: "ticket-1",
        created_at_ms: 1_700_000_000_000,
        message_count_hint: Some(2),
    }
}

fn message(id: u64, author: u64, content: &str) -> Message<'_> {
    Message {
        id: Some(id),
        kind: 0,
        content,
        author: Some(User { id: Some(author), username: "user", global_name: Some("User"), avatar: None, bot: false }),
        timestamp: Some("2024-01-15T10:00:00.000000+00:00"),
        ..Message::default()
    }
}

fn no_media(_: &str) -> Option<String> {
    None
}

/// A whole document: the header, `media` definitions, then `messages`.
fn render(
    media: &[(&str, &str, &[u8])],
    messages: &[Message<'_>],
    media_id: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut writer = TranscriptWriter::start(Vec::new(), &header()).expect("start");
    for (id, mime, bytes) in media {
        let mut reader: &[u8] = bytes;
        writer.media(id, mime, &mut reader).expect("media");
    }
    for message in messages {
        writer.message(message, &names(), media_id).expect("message");
    }
    String::from_utf8(writer.finish().expect("finish")).expect("utf-8")
}

use common::{Tag, between, count, tags};

fn attribute<'t>(tag: &'t Tag, name: &str) -> Option<&'t str> {
    tag.1.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

fn has_class(tag: &Tag, class: &str) -> bool {
    attribute(tag, "class").is_some_and(|classes| classes.split(' ').any(|each| each == class))
}

const ALLOWED_TAGS: &[&str] = &[
    "!doctype",
    "html",
    "head",
    "meta",
    "title",
    "link",
    "style",
    "script",
    "body",
    "header",
    "h1",
    "h2",
    "h3",
    "span",
    "bdi",
    "main",
    "article",
    "div",
    "img",
    "time",
    "a",
    "i",
    "b",
    "small",
    "blockquote",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "u",
    "s",
    "code",
    "pre",
    "br",
    "video",
    "audio",
    "select",
    "option",
    "button",
    "hr",
    "data",
    "footer",
];

/// Only the page's own markup: known tags, no handlers or inline styles, links only to http(s) (with
/// rel and target) or to a message in the page.
fn assert_only_own_markup(html: &str) {
    assert_eq!(count(html, "<script"), 1, "exactly one script element");
    assert_eq!(count(html, "</script"), 1, "exactly one script end tag");
    assert_eq!(count(html, "<style"), 1, "exactly one style element");
    for tag in tags(html) {
        let (name, attributes) = &tag;
        let bare = name.trim_start_matches('/');
        assert!(ALLOWED_TAGS.contains(&bare), "unexpected tag <{name}>");
        for (key, value) in attributes {
            assert!(!key.starts_with("on"), "event handler {key} on <{name}>");
            assert!(!["src", "srcset", "action", "formaction", "style", "xlink:href", "ping"].contains(&key.as_str()));
            if key == "href" {
                let internal = value.strip_prefix("#msg-").is_some_and(|id| id.bytes().all(|b| b.is_ascii_digit()));
                let favicon = name == "link" && value == "data:,";
                let web = value.starts_with("https://") || value.starts_with("http://");
                assert!(internal || favicon || web, "href {value:?}");
                if web {
                    assert_eq!(attribute(&tag, "rel"), Some("noopener noreferrer nofollow"));
                    assert_eq!(attribute(&tag, "target"), Some("_blank"));
                }
            }
            if key == "data-media" {
                assert!(garrison_pages::is_valid_media_id(value), "media id {value:?}");
            }
            if name == "meta" && key == "content" && value == transcript_content_security_policy() {
                continue;
            }
            assert!(!value.contains(['<', '>', '\'']), "unescaped character in {key}={value:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown

#[test]
fn inline_formatting() {
    assert_eq!(md("**bold**"), "<strong>bold</strong>");
    assert_eq!(md("*it* and _it_"), "<em>it</em> and <em>it</em>");
    assert_eq!(md("__under__"), "<u>under</u>");
    assert_eq!(md("~~gone~~"), "<s>gone</s>");
    assert_eq!(md("||secret||"), "<span class=\"spoiler\" tabindex=\"0\">secret</span>");
    assert_eq!(md("use `x < y`"), "use <code>x &lt; y</code>");
    assert_eq!(md("``a ` b``"), "<code>a ` b</code>");
    assert_eq!(md("line 1\nline 2"), "line 1<br>line 2");
    assert_eq!(md(r"\*not italic\* \_no\_"), "*not italic* _no_");
}

#[test]
fn unmatched_and_intraword_delimiters_stay_text() {
    assert_eq!(md("2 * 3 * 4"), "2 * 3 * 4");
    assert_eq!(md("snake_case_name"), "snake_case_name");
    assert_eq!(md("**open"), "**open");
    assert_eq!(md("`open"), "`open");
    assert_eq!(md("||"), "||");
    assert_eq!(md("~~~~"), "~~~~");
}

#[test]
fn nesting() {
    assert_eq!(md("***both***"), "<em><strong>both</strong></em>");
    assert_eq!(md("**bold *it* __u__**"), "<strong>bold <em>it</em> <u>u</u></strong>");
    assert_eq!(md("*it **bold** it*"), "<em>it <strong>bold</strong> it</em>");
    assert_eq!(md("||**~~x~~**||"), "<span class=\"spoiler\" tabindex=\"0\"><strong><s>x</s></strong></span>");
    assert_eq!(md("__*u and i*__"), "<u><em>u and i</em></u>");
    assert_eq!(md("___x___"), "<em><u>x</u></em>");
    // Deep nesting is bounded: the innermost delimiters beyond the limit stay text.
    let deep = format!("{}x{}", "||".repeat(40), "||".repeat(40));
    assert!(md(&deep).contains('x'));
}

#[test]
fn code_is_verbatim() {
    assert_eq!(md("`**x** <@1> _y_`"), "<code>**x** &lt;@1&gt; _y_</code>");
    assert_eq!(
        md("```rust\nfn main() { let _x = \"<b>\"; }\n```"),
        "<pre><code class=\"lang\" data-lang=\"rust\">fn main() { let _x = &quot;&lt;b&gt;&quot;; }</code></pre>"
    );
    assert_eq!(
        md("```\n# not a header\n- not a list\n<@111111111111111111>\n```"),
        "<pre><code># not a header\n- not a list\n&lt;@111111111111111111&gt;</code></pre>"
    );
    assert_eq!(md("```one line```"), "<pre><code>one line</code></pre>");
    assert_eq!(md("before ```a\nb``` after"), "before <pre><code class=\"lang\" data-lang=\"a\">b</code></pre> after");
    assert_eq!(md("`https://example.com`"), "<code>https://example.com</code>");
}

#[test]
fn block_rules() {
    assert_eq!(md("# One"), "<h1>One</h1>");
    assert_eq!(md("## Two\n### Three"), "<h2>Two</h2><h3>Three</h3>");
    assert_eq!(md("#### four"), "#### four");
    assert_eq!(md("#hashtag"), "#hashtag");
    assert_eq!(md("-# small print"), "<small class=\"subtext\">small print</small>");
    assert_eq!(md("> quoted\n> **more**\nafter"), "<blockquote>quoted<br><strong>more</strong></blockquote>after");
    assert_eq!(md("a\n>>> rest\n> of\nit"), "a<blockquote>rest<br>&gt; of<br>it</blockquote>");
    assert_eq!(md("x > y"), "x &gt; y");
    assert_eq!(md(">no space"), "&gt;no space");
    assert_eq!(md("> # Title in quote"), "<blockquote><h1>Title in quote</h1></blockquote>");
}

#[test]
fn lists() {
    assert_eq!(md("- a\n* b"), "<ul><li>a</li><li>b</li></ul>");
    assert_eq!(md("1. one\n2. two"), "<ol><li>one</li><li>two</li></ol>");
    assert_eq!(md("3. three"), "<ol start=\"3\"><li>three</li></ol>");
    assert_eq!(md("- a\n  - b\n  - c\n- d"), "<ul><li>a<ul><li>b</li><li>c</li></ul></li><li>d</li></ul>");
    assert_eq!(md("intro\n- **a**\noutro"), "intro<ul><li><strong>a</strong></li></ul>outro");
    assert_eq!(md("-not a list"), "-not a list");
}

#[test]
fn links() {
    assert_eq!(
        md("[the *site*](https://example.com/a_(b))"),
        format!("<a href=\"https://example.com/a_(b)\" {REL}>the <em>site</em></a>")
    );
    assert_eq!(
        md("see https://example.com/x?a=1&b=2."),
        format!("see <a href=\"https://example.com/x?a=1&amp;b=2\" {REL}>https://example.com/x?a=1&amp;b=2</a>.")
    );
    assert_eq!(md("<https://example.com>"), format!("<a href=\"https://example.com\" {REL}>https://example.com</a>"));
    assert_eq!(md("[no](ftp://example.com)"), "[no](ftp://example.com)");
    assert!(!md("[x](javascript:alert(1))").contains("<a"));
    assert!(!md("[x](<javascript:alert(1)>)").contains("<a"));
    assert!(!md("<javascript:alert(1)>").contains("<a"));
    assert!(!md("[x](JaVaScRiPt:alert(1))").contains("<a"));
    assert!(!md("[x](data:text/html,<script>)").contains("<a"));
    // The URL of a masked link is an attribute: quotes are escaped, not closing it.
    let html = md("[x](https://a.example/\"onmouseover=alert(1))");
    assert!(html.contains("href=\"https://a.example/&quot;onmouseover=alert(1)\""), "{html}");
    // No link inside a link's text.
    assert_eq!(
        md("[https://b.example](https://a.example)"),
        format!("<a href=\"https://a.example\" {REL}>https://b.example</a>")
    );
}

#[test]
fn mentions_resolve_to_names() {
    assert_eq!(md("hi <@111111111111111111>"), "hi <span class=\"mention user\">@Alice &lt;Admin&gt;</span>");
    assert_eq!(md("<@!222222222222222222>"), "<span class=\"mention user\">@Bob</span>");
    assert_eq!(md("<@&333333333333333333>"), "<span class=\"mention role\" data-colour=\"#3498db\">@Moderators</span>");
    assert_eq!(md("<#444444444444444444>"), "<span class=\"mention channel\">#general</span>");
    assert_eq!(md("<@999>"), "<span class=\"mention user\">@unknown-user</span>");
    assert_eq!(md("<@&999>"), "<span class=\"mention role\">@unknown-role</span>");
    assert_eq!(md("<#999>"), "<span class=\"mention channel\">#unknown-channel</span>");
    assert_eq!(md("@everyone @here"), "<span class=\"mention\">@everyone</span> <span class=\"mention\">@here</span>");
    assert_eq!(md("<@abc> <@99999999999999999999999>"), "&lt;@abc&gt; &lt;@99999999999999999999999&gt;");
}

#[test]
fn custom_emoji_timestamps_and_commands_are_text() {
    assert_eq!(md("<:pepe:123456>"), "<span class=\"emoji\" title=\":pepe:\">:pepe:</span>");
    assert_eq!(md("<a:party_blob:123456>"), "<span class=\"emoji\" title=\":party_blob:\">:party_blob:</span>");
    assert_eq!(
        md("<t:1700000000:R>"),
        "<time class=\"ts\" datetime=\"2023-11-14T22:13:20.000Z\">2023-11-14 22:13 UTC</time>"
    );
    assert_eq!(md("<t:99999999999999999999>"), "&lt;t:99999999999999999999&gt;");
    assert_eq!(md("</ban:123>"), "<span class=\"mention\">/ban</span>");
    assert!(!md("<:x:1>").contains("<img"), "no emoji image is fetched");
}

#[test]
fn hostile_text_is_escaped() {
    assert_eq!(md("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_eq!(md("\"><img src=x onerror=alert(1)>"), "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    assert_eq!(md("**<b>'x'</b>**"), "<strong>&lt;b&gt;&#39;x&#39;&lt;/b&gt;</strong>");
    assert_eq!(md("&lt;"), "&amp;lt;");
    assert_eq!(
        md("```html\n</code></pre><script>x</script>\n```"),
        "<pre><code class=\"lang\" data-lang=\"html\">&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;</code></pre>"
    );
}

// ---------------------------------------------------------------------------------------------
// The document

fn full_message(id: u64) -> Message<'static> {
    const LINK: u64 = 5;
    Message {
        id: Some(id),
        kind: 19,
        content: "Hello <@222222222222222222>, see **this** and <#444444444444444444> <:pepe:1234>",
        author: Some(User {
            id: Some(ALICE),
            username: "alice",
            global_name: Some("Alice"),
            avatar: Some("abcdef0123"),
            bot: true,
        }),
        timestamp: Some("2024-01-15T10:00:00.000000+00:00"),
        edited_timestamp: Some("2024-01-15T10:05:00.000000+00:00"),
        mentions: vec![User { id: Some(BOB), username: "bob", ..User::default() }],
        reference_id: Some(FIRST_ID),
        referenced: Some(Box::new(Message {
            id: Some(FIRST_ID),
            content: "the **original** question",
            author: Some(User { id: Some(BOB), username: "bob", ..User::default() }),
            ..Message::default()
        })),
        attachments: vec![
            file("cat.png", "https://cdn.discordapp.com/attachments/1/cat.png", "image/png", 4),
            file("clip.mp4", "https://cdn.discordapp.com/attachments/1/clip.mp4", "video/mp4", 4),
            file("voice.ogg", "https://cdn.discordapp.com/attachments/1/voice.ogg", "audio/ogg", 4),
            file("report.pdf", "https://cdn.discordapp.com/attachments/1/report.pdf", "application/pdf", 2048),
        ],
        embeds: vec![Embed {
            kind: Some("rich"),
            title: Some("Embed title"),
            url: Some("https://example.com/e"),
            description: Some("Some *markdown* <@&333333333333333333>"),
            colour: Some(0x00ff_0000),
            author: Some(EmbedAuthor {
                name: "Embed author",
                url: Some("https://example.com/author"),
                ..EmbedAuthor::default()
            }),
            fields: vec![
                EmbedField { name: "Field **one**", value: "`value`", inline: true },
                EmbedField { name: "Field two", value: "- item", inline: false },
            ],
            image: Media { url: Some("https://cdn.example.com/same-cat.png"), proxy_url: None },
            footer: Some(EmbedFooter { text: "Footer text", ..EmbedFooter::default() }),
            timestamp: Some("2024-01-15T10:00:00+00:00"),
            ..Embed::default()
        }],
        stickers: vec!["Wave"],
        reactions: vec![
            Reaction { count: Some(3), me: true, emoji: Emoji { id: None, name: "👍" } },
            Reaction { count: Some(2), me: false, emoji: Emoji { id: Some(777), name: "pepe" } },
        ],
        components: vec![
            Component::ActionRow(vec![
                Component::Button(Button { style: Some(1), label: Some("Claim"), ..Button::default() }),
                Component::Button(Button {
                    style: Some(LINK),
                    label: Some("Docs"),
                    url: Some("https://example.com/docs"),
                    ..Button::default()
                }),
                Component::Button(Button {
                    style: Some(LINK),
                    label: Some("Evil"),
                    url: Some("javascript:alert(1)"),
                    ..Button::default()
                }),
            ]),
            Component::ActionRow(vec![Component::Select {
                placeholder: Some("Pick one"),
                options: vec![SelectOption { label: Some("A"), default: false }],
            }]),
            Component::Container {
                accent_colour: Some(0x0058_65f2),
                components: vec![
                    Component::TextDisplay("## Ticket\n**Status**: open"),
                    Component::Separator { divider: true },
                    Component::Section {
                        components: vec![Component::TextDisplay("With a *button*")],
                        accessory: Some(Box::new(Component::Button(Button {
                            style: Some(4),
                            label: Some("Close"),
                            ..Button::default()
                        }))),
                    },
                ],
            },
        ],
        ..Message::default()
    }
}

fn file(name: &'static str, url: &'static str, content_type: &'static str, size: u64) -> Attachment<'static> {
    Attachment {
        filename: Some(name),
        content_type: Some(content_type),
        size: Some(size),
        url: Some(url),
        ..Attachment::default()
    }
}

fn full_media(url: &str) -> Option<String> {
    match url.rsplit('/').next()? {
        "cat.png" | "same-cat.png" => Some("m1".to_owned()),
        "clip.mp4" => Some("m2".to_owned()),
        "voice.ogg" => Some("m3".to_owned()),
        "abcdef0123.png" => Some("avatar-1".to_owned()),
        _ => None,
    }
}

const PNG: &[u8] = b"\x89PNG fake image bytes";

fn full_document() -> String {
    render(
        &[
            ("m1", "image/png", PNG),
            ("m2", "video/mp4", b"fake video"),
            ("m3", "audio/ogg", b"fake audio"),
            ("avatar-1", "image/png", b"avatar"),
        ],
        &[message(FIRST_ID, BOB, "the **original** question"), full_message(FIRST_ID + (60_000 << 22))],
        &full_media,
    )
}

#[test]
fn a_message_with_every_feature() {
    let html = full_document();
    assert_only_own_markup(&html);
    let tags = tags(&html);
    let find = |name: &str, class: &str| tags.iter().filter(|tag| tag.0 == name && has_class(tag, class)).count();

    assert_eq!(find("article", "msg"), 2);
    assert_eq!(find("div", "reply"), 1);
    assert!(html.contains(&format!(
        "<a class=\"preview\" href=\"#msg-{FIRST_ID}\">the <strong>original</strong> question</a>"
    )));
    assert!(html.contains(&format!("id=\"msg-{FIRST_ID}\"")));
    // Author: avatar from media, name with the member colour from Names, APP tag, time, edited mark.
    assert!(html.contains("<img class=\"av\" data-media=\"avatar-1\" alt=\"\">"));
    assert!(html.contains("<span class=\"name\" data-colour=\"#e67e22\"><bdi>Alice &lt;Admin&gt;</bdi></span><span class=\"tag\">APP</span>"));
    assert!(html.contains("(edited)</span>"));
    assert!(
        tags.iter().any(|tag| tag.0 == "time" && attribute(tag, "datetime").is_some_and(|at| at.starts_with("2024-")))
    );
    // Content with mentions resolved.
    assert!(html.contains("Hello <span class=\"mention user\">@Bob</span>, see <strong>this</strong> and <span class=\"mention channel\">#general</span> <span class=\"emoji\" title=\":pepe:\">:pepe:</span>"));
    // Attachments: image, video, audio from media; the PDF as a link with its size.
    assert!(tags.iter().any(|tag| tag.0 == "img"
        && attribute(tag, "data-media") == Some("m1")
        && attribute(tag, "alt") == Some("cat.png")));
    assert!(tags.iter().any(|tag| tag.0 == "video" && attribute(tag, "data-media") == Some("m2")));
    assert!(tags.iter().any(|tag| tag.0 == "audio" && attribute(tag, "data-media") == Some("m3")));
    assert!(html.contains(&format!("<a href=\"https://cdn.discordapp.com/attachments/1/report.pdf\" {REL}>report.pdf</a><div class=\"size\">2.00 KB</div>")));
    // Embed: colour bar, author, title link, description markdown, fields, image, footer.
    assert!(html.contains("<div class=\"embed\" data-colour=\"#ff0000\">"));
    assert!(html.contains(&format!("<a href=\"https://example.com/author\" {REL}>Embed author</a>")));
    assert!(
        html.contains(&format!("<div class=\"e-title\"><a href=\"https://example.com/e\" {REL}>Embed title</a></div>"))
    );
    assert!(
        html.contains("Some <em>markdown</em> <span class=\"mention role\" data-colour=\"#3498db\">@Moderators</span>")
    );
    assert!(html.contains("<div class=\"e-field inline\"><div class=\"e-fname\">Field <strong>one</strong></div><div class=\"e-fvalue\"><code>value</code></div></div>"));
    assert!(html.contains("<div class=\"e-fvalue\"><ul><li>item</li></ul></div>"));
    assert!(html.contains("<img class=\"e-image\" data-media=\"m1\" alt=\"image\">"));
    assert!(html.contains("Footer text • <span>2024-01-15T10:00:00+00:00</span>"));
    // Sticker, reactions.
    assert!(html.contains("Sticker: Wave"));
    assert!(html.contains("<span class=\"reaction me\">👍<span class=\"n\">3</span></span>"));
    assert!(
        html.contains("<span class=\"reaction\"><span class=\"emoji\">:pepe:</span><span class=\"n\">2</span></span>")
    );
    // Components: disabled buttons, a real link button, the javascript: one disabled, a select, a V2 container.
    assert!(html.contains("<button class=\"btn s1\" type=\"button\" disabled><span>Claim</span></button>"));
    assert!(
        html.contains(&format!("<a class=\"btn s5\" href=\"https://example.com/docs\" {REL}><span>Docs</span> ↗</a>"))
    );
    assert!(html.contains("<button class=\"btn s5\" type=\"button\" disabled><span>Evil</span></button>"));
    assert!(html.contains("<select disabled aria-label=\"Select menu\"><option>Pick one</option></select>"));
    assert!(html.contains("<div class=\"container\" data-colour=\"#5865f2\"><div class=\"text\"><h2>Ticket</h2><strong>Status</strong>: open</div><hr class=\"sep\">"));
    assert!(html.contains("<div class=\"section\"><div><div class=\"text\">With a <em>button</em></div></div><button class=\"btn s4\" type=\"button\" disabled><span>Close</span></button></div>"));
    assert!(!html.contains("javascript:"));
}

#[test]
fn media_is_written_once_and_referenced_twice() {
    let html = full_document();
    let encoded = base64::engine::general_purpose::STANDARD.encode(PNG);
    assert_eq!(count(&html, &encoded), 1, "the bytes once");
    assert_eq!(count(&html, "<data id=\"media-m1\" class=\"media\""), 1);
    assert!(
        html.contains(&format!(
            "<data id=\"media-m1\" class=\"media\" value=\"data:image/png;base64,{encoded}\"></data>"
        ))
    );
    assert_eq!(count(&html, "data-media=\"m1\""), 2, "the attachment and the embed image");
}

#[test]
fn csp_hashes_the_one_style_and_script_and_nothing_loads() {
    let html = full_document();
    let csp = transcript_content_security_policy();
    let meta = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">");
    assert!(html.contains(&meta));
    assert!(html.find(&meta) < html.find("<style>"));
    assert!(csp.starts_with("default-src 'none'; "));
    assert!(csp.contains("img-src data: blob:;") && csp.contains("media-src data: blob:;"));
    assert!(!csp.contains("unsafe") && !csp.contains("http"), "{csp}");
    let hash = |text: &str| {
        format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes())))
    };
    assert!(!html.contains('\r'));
    assert!(csp.contains(&format!("style-src {};", hash(between(&html, "<style>", "</style>")))));
    assert!(csp.contains(&format!("script-src {};", hash(between(&html, "<script>", "</script>")))));
    assert_eq!(count(&html, "<script"), 1);
    // The fixed part of the page names no external resource.
    let benign = render(&[], &[message(FIRST_ID, BOB, "hi")], &no_media);
    assert_eq!(count(between(&benign, "<style>", "</style>"), "url("), 0, "no stylesheet resource");
    for needle in [
        "http:",
        "https:",
        "//fonts",
        "@import",
        "@font-face",
        "rel=\"prefetch",
        "rel=\"preconnect",
        "rel=\"dns-prefetch",
    ] {
        assert_eq!(count(&benign, needle), 0, "{needle}");
    }
    assert!(benign.contains("x-dns-prefetch-control\" content=\"off\""));
}

#[test]
fn header_footer_and_grouping() {
    let html = render(
        &[],
        &[
            message(FIRST_ID, BOB, "one"),
            message(FIRST_ID + (60_000 << 22), BOB, "two, a minute later"),
            message(FIRST_ID + (3_600_000 << 22), BOB, "three, an hour later"),
            message(FIRST_ID + (3_600_001 << 22), ALICE, "four, someone else"),
        ],
        &no_media,
    );
    assert!(html.contains("<title>#ticket-1 — Test &lt;Guild&gt;</title>"));
    assert!(
        html.contains("Test &lt;Guild&gt;</bdi> · 2 messages · exported <time datetime=\"2023-11-14T22:13:20.000Z\">")
    );
    assert!(html.contains("<footer class=\"end\">4 messages"));
    assert_eq!(count(&html, "<article class=\"msg cont\""), 1);
    assert_eq!(count(&html, "<article class=\"msg\""), 3);
    assert_eq!(count(&html, "<div class=\"head\">"), 3);
    // Without an avatar in media: initials.
    assert!(html.contains("<span class=\"av c"));
    assert_only_own_markup(&html);
}

#[test]
fn replies_to_deleted_messages_system_messages_and_garbage() {
    let mut reply = message(FIRST_ID + 1, BOB, "answer");
    reply.kind = 19;
    reply.reference_id = Some(42);
    reply.referenced = None;
    let mut join = message(FIRST_ID + 2, ALICE, "");
    join.kind = 7;
    // Without an author: unreadable.
    let garbage = [Message::default(), Message { id: Some(1), ..Message::default() }];
    let html = render(&[], &[reply, join, garbage[0].clone(), garbage[1].clone()], &no_media);
    assert!(html.contains("<i>Original message was deleted</i> <a href=\"#msg-42\">(jump)</a>"));
    assert!(html.contains("<b><bdi>Alice &lt;Admin&gt;</bdi></b> joined the server."));
    assert_eq!(count(&html, "Unreadable message"), 2);
    assert_only_own_markup(&html);
}

#[test]
fn without_media_ids_media_become_links_or_names() {
    let mut message = full_message(FIRST_ID);
    message.attachments[0].url = Some("javascript:alert(1)");
    let html = render(&[], &[message], &no_media);
    assert!(tags(&html).iter().all(|tag| attribute(tag, "data-media").is_none()));
    assert!(html.contains("<span>cat.png</span>"), "a non-http URL is not a link");
    assert!(
        html.contains(&format!("<a href=\"https://cdn.discordapp.com/attachments/1/clip.mp4\" {REL}>clip.mp4</a>"))
    );
    assert_only_own_markup(&html);
}

#[test]
fn invalid_media_ids_and_types_are_refused() {
    let mut writer = TranscriptWriter::start(Vec::new(), &header()).expect("start");
    for (id, mime) in [
        ("M1", "image/png"),
        ("a\"b", "image/png"),
        ("", "image/png"),
        ("ok", "text/html\" onload=\"x"),
        ("ok", "image"),
    ] {
        let error = writer.media(id, mime, &mut &b"x"[..]).expect_err("refused");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{id} {mime}");
    }
    writer.media("ok", "image/png", &mut &b"x"[..]).expect("first");
    assert_eq!(writer.media("ok", "image/png", &mut &b"x"[..]).expect_err("twice").kind(), io::ErrorKind::InvalidInput);
    // An invalid id from the caller's lookup is treated as no media.
    let html = String::from_utf8(
        {
            writer.message(&full_message(FIRST_ID), &names(), &|_| Some("BAD\"id".to_owned())).expect("message");
            writer
        }
        .finish()
        .expect("finish"),
    )
    .expect("utf-8");
    assert!(!html.contains("BAD"));
    assert_only_own_markup(&html);
}

#[test]
fn hostile_values_everywhere() {
    let evil = "\"><img src=x onerror=alert(1)><script>alert(1)</script>' onmouseover='x";
    let mut message = full_message(FIRST_ID);
    let author = message.author.as_mut().expect("an author");
    author.global_name = Some(evil);
    author.id = Some(5);
    author.avatar = Some(evil);
    let content = format!("{evil} [x](javascript:alert(1)) `{evil}`");
    message.content = &content;
    message.edited_timestamp = Some(evil);
    message.timestamp = Some(evil);
    let url = format!("https://x.example/{evil}");
    message.attachments[3].filename = Some(evil);
    message.attachments[3].url = Some(&url);
    let embed = &mut message.embeds[0];
    embed.title = Some(evil);
    embed.url = Some("javascript:alert(1)");
    embed.author.as_mut().expect("an embed author").url = Some("javascript:alert(1)");
    embed.fields[0].name = evil;
    embed.footer.as_mut().expect("a footer").text = evil;
    embed.colour = Some(0);
    message.stickers[0] = evil;
    message.reactions[0].emoji.name = evil;
    let Component::ActionRow(row) = &mut message.components[0] else { panic!("a row") };
    let Component::Button(button) = &mut row[0] else { panic!("a button") };
    button.label = Some(evil);
    button.style = None;
    let Component::ActionRow(row) = &mut message.components[1] else { panic!("a row") };
    let Component::Select { placeholder, .. } = &mut row[0] else { panic!("a select") };
    *placeholder = Some(evil);
    let Component::Container { components, .. } = &mut message.components[2] else { panic!("a container") };
    components[0] = Component::TextDisplay(evil);
    let original = message.referenced.as_mut().expect("a reply");
    original.content = evil;
    original.id = None;
    let mut names = names();
    names.insert_channel(GENERAL, evil).insert_user(BOB, evil);
    let header =
        TranscriptHeader { guild_name: evil, channel_name: evil, created_at_ms: i64::MIN, message_count_hint: None };
    let mut writer = TranscriptWriter::start(Vec::new(), &header).expect("start");
    writer.message(&message, &names, &full_media).expect("message");
    let html = String::from_utf8(writer.finish().expect("finish")).expect("utf-8");
    assert_only_own_markup(&html);
    assert!(!html.contains("javascript:alert(1)\""), "never an href");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("data-colour=\"\""));
}

// ---------------------------------------------------------------------------------------------
// Streaming

/// Counts bytes and keeps none of them.
#[derive(Debug, Default)]
struct CountingSink {
    bytes: u64,
    writes: u64,
}

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes += buf.len() as u64;
        self.writes += 1;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn ten_thousand_messages_stream_into_a_sink() {
    let mut writer = TranscriptWriter::start(CountingSink::default(), &header()).expect("start");
    let names = names();
    let mut previous = 0;
    for index in 0..10_000_u64 {
        let text = format!("message {index} with **bold** and <@111111111111111111>");
        let author = if index % 3 == 0 { ALICE } else { BOB };
        writer
            .message(&message(FIRST_ID + ((index * 1_000) << 22), author, &text), &names, &no_media)
            .expect("message");
        assert_eq!(writer.message_count(), usize::try_from(index + 1).expect("small"));
        previous = index;
    }
    assert_eq!(previous, 9_999);
    let sink = writer.finish().expect("finish");
    assert!(sink.bytes > 10_000 * 200, "wrote {} bytes", sink.bytes);
    assert!(sink.writes >= 10_000, "written message by message, not at the end");
}

#[test]
fn large_media_streams_through_the_encoder() {
    let size: u64 = 5 * 1_024 * 1_024 + 1;
    let mut writer = TranscriptWriter::start(CountingSink::default(), &header()).expect("start");
    let before = 0;
    let mut reader = io::repeat(7).take(size);
    assert_eq!(writer.media("big", "video/mp4", &mut reader).expect("media"), size);
    let sink = writer.finish().expect("finish");
    assert!(sink.bytes - before >= size.div_ceil(3) * 4, "base64 of every byte");
    assert!(sink.writes > 10, "in chunks");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_message_text_never_makes_markup(
        pieces in prop::collection::vec(prop_oneof![
            Just("*"), Just("**"), Just("_"), Just("__"), Just("~~"), Just("||"), Just("`"), Just("```"),
            Just("\n"), Just("> "), Just(">>> "), Just("# "), Just("- "), Just("1. "), Just("["), Just("]"),
            Just("("), Just(")"), Just("<"), Just(">"), Just("\""), Just("'"), Just("="), Just(" "), Just("\\"),
            Just("<script>"), Just("javascript:"), Just("https://x.example/"), Just(" onerror="), Just("<@1>"),
            Just("<#"), Just("<:a_b:1>"), Just("@everyone"), Just("<t:1:R>"), Just("é"), Just("🛡️"), Just("a"),
        ], 0..40),
        tail in ".{0,20}",
    ) {
        let text = format!("{}{tail}", pieces.concat());
        let mut message = message(FIRST_ID, ALICE, &text);
        message.embeds = vec![Embed {
            title: Some(&text),
            description: Some(&text),
            fields: vec![EmbedField { name: &text, value: &text, inline: false }],
            ..Embed::default()
        }];
        message.components =
            vec![Component::Container { accent_colour: None, components: vec![Component::TextDisplay(&text)] }];
        let html = render(&[], &[message], &no_media);
        assert_only_own_markup(&html);
        let fragment = md(&text);
        prop_assert!(!fragment.to_ascii_lowercase().contains("<script"));
        for tag in tags(&fragment) {
            prop_assert!(tag.1.iter().all(|(key, _)| !key.starts_with("on")), "{fragment}");
        }
    }
}

#[test]
fn avatar_urls_are_the_cdn_png() {
    let user = User { id: Some(5), avatar: Some("a_abc"), ..User::default() };
    assert_eq!(avatar_url(&user).as_deref(), Some("https://cdn.discordapp.com/avatars/5/a_abc.png"));
    assert_eq!(avatar_url(&User { avatar: None, ..user }), None);
    assert_eq!(avatar_url(&User { avatar: Some("../x"), ..user }), None);
}

#[test]
fn the_header_policy_also_forbids_framing() {
    let meta = transcript_content_security_policy();
    assert_eq!(transcript_content_security_policy_header(), format!("{meta}; frame-ancestors 'none'"));
    assert!(!meta.contains("frame-ancestors"), "browsers ignore frame-ancestors in a <meta> and warn");
}
