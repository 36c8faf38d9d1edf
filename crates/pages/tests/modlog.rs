//! The moderation-log page: structure, escaping of every field, the CSP, and request-freedom.

mod common;

use base64::Engine as _;
use garrison_pages::{
    ModLogEntry, ModLogPage, escape_html, modlog_content_security_policy, modlog_content_security_policy_header,
    render_modlog,
};
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

const HOSTILE: [&str; 8] = [
    "</script><script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "' onmouseover='x",
    "&lt;b&gt;already escaped&lt;/b&gt;",
    "javascript:alert(document.cookie)",
    "<svg onload=alert(1)>",
    "<!-- --><style>body{display:none}</style>",
    "https://evil.example/x.png",
];

fn entry<'a>(case_number: i64, action: &'a str, at_ms: i64) -> ModLogEntry<'a> {
    ModLogEntry {
        case_number,
        action,
        moderator_name: "AdminUser",
        moderator_id: "111222333444555666",
        reason: Some("Spamming"),
        duration: None,
        at_ms,
    }
}

fn page<'a>(entries: &'a [ModLogEntry<'a>]) -> ModLogPage<'a> {
    ModLogPage {
        guild_name: "Garrison HQ",
        guild_id: "123456789012345678",
        user_name: "Some User",
        user_id: "987654321098765432",
        entries,
    }
}

use common::{between, count, tags};

const ALLOWED_TAGS: &[&str] = &[
    "!doctype", "html", "/html", "head", "/head", "meta", "title", "/title", "link", "style", "/style", "script",
    "/script", "body", "/body", "div", "/div", "header", "/header", "span", "/span", "bdi", "/bdi", "code", "/code",
    "button", "/button", "main", "/main", "section", "/section", "h1", "/h1", "label", "/label", "input", "ol", "/ol",
    "li", "/li", "time", "/time", "dl", "/dl", "dt", "/dt", "dd", "/dd", "p", "/p",
];

/// Checks the page's markup is only the page's own: known tags, no event handlers, no URLs.
fn assert_only_own_markup(html: &str) {
    assert_eq!(count(html, "<script"), 1, "exactly one script element");
    assert_eq!(count(html, "</script"), 1, "exactly one script end tag");
    assert_eq!(count(html, "<style"), 1, "exactly one style element");
    for (name, attributes) in tags(html) {
        assert!(ALLOWED_TAGS.contains(&name.as_str()), "unexpected tag <{name}>");
        for (attribute, value) in attributes {
            assert!(!attribute.starts_with("on"), "event handler {attribute} on <{name}>");
            assert!(!["src", "srcset", "action", "formaction", "style", "xlink:href"].contains(&attribute.as_str()));
            if attribute == "href" {
                assert_eq!((name.as_str(), value.as_str()), ("link", "data:,"), "the only href is the favicon");
            }
            if name == "meta" && attribute == "content" && value == modlog_content_security_policy() {
                continue; // the policy's own quotes
            }
            assert!(!value.contains(['<', '>', '\'']), "unescaped character in {attribute}={value:?}");
        }
    }
}

#[test]
fn every_entry_is_present_newest_first_with_counts_per_action() {
    let entries = [
        entry(3, "Ban", 1_700_000_300_000),
        entry(1, "Warn", 1_700_000_100_000),
        entry(5, "unban", 1_700_000_500_000),
        entry(2, "TIMEOUT", 1_700_000_200_000),
        entry(4, "Kick", 1_700_000_400_000),
        entry(7, "Warn", 1_700_000_600_000),
        entry(6, "Warn", 1_700_000_600_000),
    ];
    let html = render_modlog(&page(&entries));

    let positions: Vec<usize> =
        [7, 6, 5, 4, 3, 2, 1].iter().map(|case| html.find(&format!("Case #{case}<")).expect("case rendered")).collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "newest first, then highest case: {positions:?}");
    assert_eq!(count(&html, "<li class=\"entry"), 7);

    for (action, expected) in [("Warn", 3), ("Timeout", 1), ("Ban", 1), ("Kick", 1), ("Unban", 1)] {
        assert!(html.contains(&format!("data-filter=\"{action}\" data-count=\"{expected}\"")), "{action} count");
        assert_eq!(count(&html, &format!("data-action=\"{action}\"")), expected, "{action} cards");
    }
    assert!(html.contains("data-filter=\"all\" aria-pressed=\"true\">All<span class=\"n\">7</span>"));
    assert!(!html.contains("data-filter=\"Other\""), "no Other button without other actions");
    assert!(html.contains("7 moderation actions"));
    assert!(html.contains("<li class=\"entry a-timeout\" data-action=\"Timeout\""));
    assert!(html.contains("<span class=\"badge\">Unban</span>"));
    assert!(html.contains("<time datetime=\"2023-11-14T22:18:20.000Z\">2023-11-14 22:18 UTC</time>"));
    assert_only_own_markup(&html);
}

#[test]
fn sample_page_has_the_key_markers() {
    let entries = [
        ModLogEntry {
            case_number: 12,
            action: "Timeout",
            moderator_name: "Ada Lovelace",
            moderator_id: "111",
            reason: Some("Spamming links\nin #general"),
            duration: Some("2h"),
            at_ms: 1_700_000_000_000,
        },
        ModLogEntry { reason: None, ..entry(13, "Warn", 1_700_000_000_001) },
    ];
    let html = render_modlog(&page(&entries));

    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.contains("<title>Moderation log: Some User in Garrison HQ</title>"));
    assert!(html.contains("<meta name=\"color-scheme\" content=\"light dark\">"));
    assert!(html.contains("<button id=\"theme-toggle\" type=\"button\""));
    assert!(html.contains("<input id=\"search\" type=\"search\""));
    assert!(html.contains("role=\"group\" aria-label=\"Filter by action\""));
    assert!(html.contains("<p id=\"no-match\" class=\"empty\" hidden>"));
    // Avatars and the server icon are initials, never images.
    assert!(html.contains("aria-hidden=\"true\">SU</span>"), "user initials");
    assert!(html.contains("class=\"av sq c"), "server icon as a rounded square");
    assert!(html.contains("aria-hidden=\"true\">GH</span>"), "server initials");
    assert!(html.contains("aria-hidden=\"true\">AL</span>"), "moderator initials");
    assert_eq!(count(&html, "<img"), 0);
    // Entry fields.
    assert!(html.contains("<dt>Duration</dt><dd dir=\"auto\">2h</dd>"));
    assert!(html.contains("<dd dir=\"auto\">Spamming links\nin #general</dd>"));
    assert!(html.contains("<dd class=\"muted\">No reason provided</dd>"));
    assert!(html.contains("<bdi>Ada Lovelace</bdi> <code>111</code>"));
    assert!(html.contains("data-search=\"#12 case 12\ntimeout\nada lovelace\n111\nspamming links\nin #general\n2h\""));
    // Theme: system preference, explicit override both ways, and the remembered choice.
    assert!(html.contains("@media (prefers-color-scheme:dark){:root:not([data-theme=light])"));
    assert!(html.contains(":root[data-theme=dark]"));
    assert!(html.contains("localStorage.getItem(KEY)"));
    // Fragment-driven filters.
    assert!(html.contains("new URLSearchParams(location.hash.replace(/^#/, ''))"));
    assert!(html.contains("p.get('search')") && html.contains("p.get('action')"));
    assert!(html.contains("addEventListener('hashchange', read)"));
    assert!(html.contains("history.replaceState"));
    // Small: the fixed part is a few KB.
    assert!(html.len() < 14_000, "page is {} bytes", html.len());
    assert_only_own_markup(&html);
}

#[test]
fn csp_meta_is_first_in_head_and_hashes_the_page_own_style_and_script() {
    let entries = [entry(1, "Ban", 0)];
    let html = render_modlog(&page(&entries));
    let csp = modlog_content_security_policy();
    let meta = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">");
    assert!(html.contains(&meta));
    assert!(html.find(&meta) < html.find("<style>"), "the policy precedes the style and script");
    assert!(csp.starts_with("default-src 'none'; "));
    assert!(csp.contains("img-src data:;") && csp.contains("base-uri 'none'") && csp.contains("form-action 'none'"));
    assert!(!csp.contains("unsafe"), "hashes, not unsafe-inline: {csp}");

    let hash = |text: &str| {
        format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes())))
    };
    assert!(!html.contains('\r'), "no CR: browsers would hash the text without it");
    let style = between(&html, "<style>", "</style>");
    let script = between(&html, "<script>", "</script>");
    assert!(csp.contains(&format!("style-src {};", hash(style))), "style hash");
    assert!(csp.contains(&format!("script-src {};", hash(script))), "script hash");
}

#[test]
fn no_url_in_the_page_except_escaped_user_text() {
    let entries =
        [entry(1, "Warn", 0), ModLogEntry { reason: Some("see https://evil.example/a"), ..entry(2, "Ban", 1) }];
    let benign = render_modlog(&page(&entries[..1]));
    assert_eq!(count(&benign, "http:"), 0);
    assert_eq!(count(&benign, "https:"), 0);
    assert_eq!(count(&benign, "//"), 0, "no protocol-relative URL either");
    assert_eq!(count(&benign, "url("), 0);
    assert_eq!(count(&benign, "@import"), 0);

    let with_url = render_modlog(&page(&entries));
    assert_eq!(count(&with_url, "https://"), 2, "only the reason's text and its search copy");
    assert!(with_url.contains("<dd dir=\"auto\">see https://evil.example/a</dd>"));
    assert_only_own_markup(&with_url);
}

#[test]
fn every_field_escapes_hostile_input() {
    for payload in HOSTILE {
        let entries = [ModLogEntry {
            case_number: 1,
            action: payload,
            moderator_name: payload,
            moderator_id: payload,
            reason: Some(payload),
            duration: Some(payload),
            at_ms: 0,
        }];
        let page = ModLogPage {
            guild_name: payload,
            guild_id: payload,
            user_name: payload,
            user_id: payload,
            entries: &entries,
        };
        let html = render_modlog(&page);
        if payload.contains(['<', '>', '"', '\'', '&']) {
            assert!(!html.contains(payload), "raw payload {payload:?} in page");
        }
        let escaped = escape_html(payload);
        // title, guild name and id, user name and id, badge, moderator name and id, reason, duration
        assert!(count(&html, &escaped) >= 10, "{payload:?} shown escaped in every field");
        assert_eq!(count(&html, "<img"), 0);
        assert_eq!(count(&html, "<svg"), 0);
        assert_eq!(count(&html, "<a "), 0, "nothing is ever a link");
        assert_eq!(count(&html, "href=\"javascript"), 0);
        // Unknown actions are counted as Other and filtered by the fixed value, not the payload.
        assert!(html.contains("<li class=\"entry a-other\" data-action=\"Other\""));
        assert!(html.contains("data-filter=\"Other\" data-count=\"1\""));
        // Nothing user-supplied inside the script.
        let script = between(&html, "<script>", "</script>");
        assert!(!script.contains(payload) && !script.contains(&escaped));
        assert_only_own_markup(&html);
    }
}

#[test]
fn already_escaped_text_is_escaped_again() {
    let entries = [ModLogEntry { reason: Some("&lt;b&gt; &amp; &#39;"), ..entry(1, "Warn", 0) }];
    let html = render_modlog(&page(&entries));
    assert!(html.contains("<dd dir=\"auto\">&amp;lt;b&amp;gt; &amp;amp; &amp;#39;</dd>"));
}

#[test]
fn unicode_rtl_emoji_and_long_strings_are_kept_and_wrap() {
    let rtl = "\u{202e}nimda\u{202c} مشرف 🛡️👩‍👩‍👧 ünïcödé";
    let long = "A".repeat(20_000);
    let entries = [ModLogEntry { moderator_name: rtl, reason: Some(&long), ..entry(1, "Kick", 0) }];
    let page = ModLogPage { user_name: rtl, guild_name: "🎮 Gamers", ..page(&entries) };
    let html = render_modlog(&page);
    assert!(html.contains(&format!("<h1><bdi>{rtl}</bdi></h1>")), "user name isolated in <bdi>");
    assert!(html.contains(&format!("<bdi>{rtl}</bdi> <code>")), "moderator name isolated in <bdi>");
    assert!(html.contains(&format!("<dd dir=\"auto\">{long}</dd>")));
    assert!(html.contains("overflow-wrap:anywhere"), "long words wrap");
    assert!(html.contains("aria-hidden=\"true\">G</span>"), "emoji-only words give no initial");
    assert_only_own_markup(&html);
}

#[test]
fn empty_history_is_friendly() {
    let html = render_modlog(&page(&[]));
    assert!(html.contains("<p class=\"empty\">No moderation actions recorded.</p>"));
    assert!(html.contains("0 moderation actions"));
    assert!(!html.contains("id=\"search\""), "no filters for nothing");
    assert_eq!(count(&html, "<li "), 0);
    assert_only_own_markup(&html);
}

#[test]
fn missing_reason_duration_and_blank_names_still_render() {
    let entries = [ModLogEntry {
        case_number: -1,
        action: "  ",
        moderator_name: "",
        moderator_id: "",
        reason: Some("   "),
        duration: Some(""),
        at_ms: i64::MIN,
    }];
    let html =
        render_modlog(&ModLogPage { guild_name: "", guild_id: "", user_name: "", user_id: "", entries: &entries });
    assert!(html.contains("<span class=\"badge\">Unknown</span>"));
    assert!(html.contains("No reason provided"));
    assert!(!html.contains("<dt>Duration</dt>"));
    assert!(html.contains("Case #-1<"));
    assert!(html.contains("aria-hidden=\"true\">?</span>"));
    assert_only_own_markup(&html);
}

proptest! {
    #[test]
    fn arbitrary_text_never_escapes_its_element(
        guild in ".{0,40}", user in ".{0,40}", moderator in ".{0,40}", reason in ".{0,80}",
        action in prop_oneof![Just("Ban".to_owned()), ".{0,12}"], case_number in any::<i64>(), at_ms in any::<i64>(),
    ) {
        let entries = [ModLogEntry {
            case_number,
            action: &action,
            moderator_name: &moderator,
            moderator_id: &moderator,
            reason: Some(&reason),
            duration: Some(&reason),
            at_ms,
        }];
        let html = render_modlog(&ModLogPage {
            guild_name: &guild, guild_id: &guild, user_name: &user, user_id: &user, entries: &entries,
        });
        assert_only_own_markup(&html);
        let heading = format!("<h1><bdi>{}</bdi></h1>", escape_html(&user));
        prop_assert!(html.contains(&heading), "heading missing");
    }
}

#[test]
fn the_header_policy_also_forbids_framing() {
    let meta = modlog_content_security_policy();
    assert_eq!(modlog_content_security_policy_header(), format!("{meta}; frame-ancestors 'none'"));
    assert!(!meta.contains("frame-ancestors"), "browsers ignore frame-ancestors in a <meta> and warn");
}

mod verify {
    use garrison_pages::{Account, VerifyPage, render_verify, verify_content_security_policy_header};

    #[test]
    fn the_verification_pages_escape_names_and_run_no_script() {
        let hostile = "<script>alert(1)</script>\"'&";
        let page = render_verify(VerifyPage::Linked {
            discord: Account { name: hostile, id: "123" },
            roblox: Account { name: "CaptainCasey", id: "156" },
        });
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"));
        assert!(page.contains("CaptainCasey") && page.contains("156"));
        let start = render_verify(VerifyPage::Start { start: "/verify/start?x=\"y\"", unlink: "/verify/unlink" });
        assert!(start.contains("href=\"/verify/start?x=&quot;y&quot;\""), "{start}");
        let policy = verify_content_security_policy_header();
        assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"), "{policy}");
        assert!(!policy.contains("script-src") && !policy.contains("unsafe-inline"));
        assert!(policy.ends_with("frame-ancestors 'none'"));
    }
}
