use std::fmt::Write as _;
use std::sync::LazyLock;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::escape::push_escaped;
use crate::time::UtcParts;

/// One user's moderation history in one server, as the page shows it. Every `&str` is untrusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModLogPage<'a> {
    pub guild_name: &'a str,
    pub guild_id: &'a str,
    pub user_name: &'a str,
    pub user_id: &'a str,
    /// In any order; the page shows the newest first.
    pub entries: &'a [ModLogEntry<'a>],
}

/// One moderation action. Every `&str` is untrusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModLogEntry<'a> {
    pub case_number: i64,
    /// `Warn`, `Timeout`, `Ban`, `Kick` or `Unban` in any letter case; anything else counts as `Other`.
    pub action: &'a str,
    pub moderator_name: &'a str,
    pub moderator_id: &'a str,
    pub reason: Option<&'a str>,
    pub duration: Option<&'a str>,
    /// When the action happened, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// The actions the page recognises, in the order of its filter buttons.
pub const MODLOG_ACTIONS: [&str; 5] = ["Warn", "Timeout", "Ban", "Kick", "Unban"];

const OTHER: &str = "Other";
// Browsers hash the element's text after the parser turned CR LF into LF; a checkout with CR LF line
// ends must not break the policy.
static STYLE: LazyLock<String> = LazyLock::new(|| include_str!("modlog.css").replace('\r', ""));
static SCRIPT: LazyLock<String> = LazyLock::new(|| include_str!("modlog.js").replace('\r', ""));

fn csp_hash(source: &str) -> String {
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(source.as_bytes())))
}

static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; style-src {}; script-src {}; img-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(&STYLE),
        csp_hash(&SCRIPT)
    )
});

/// The page's Content-Security-Policy (also in its `<meta>`), for an HTTP header too: nothing may
/// load, only the page's own `<style>` and `<script>` (by SHA-256 hash) apply, and `data:` images are
/// allowed only for the empty favicon.
pub fn modlog_content_security_policy() -> &'static str {
    &CONTENT_SECURITY_POLICY
}

static HEADER_POLICY: LazyLock<String> =
    LazyLock::new(|| format!("{}; {}", CONTENT_SECURITY_POLICY.as_str(), crate::FRAME_ANCESTORS));

/// The policy for the `Content-Security-Policy` HTTP header: the `<meta>` policy plus
/// `frame-ancestors 'none'`, so no other site can frame the page (browsers ignore `frame-ancestors`
/// in a `<meta>`, which is why it is only here).
pub fn modlog_content_security_policy_header() -> &'static str {
    &HEADER_POLICY
}

/// The recognised action (`MODLOG_ACTIONS`) a free-text action names, ignoring letter case.
fn canonical_action(action: &str) -> Option<&'static str> {
    MODLOG_ACTIONS.into_iter().find(|known| known.eq_ignore_ascii_case(action.trim()))
}

/// Up to two initials (first letter or digit of the first two words), upper-cased; `?` without any.
fn initials(name: &str) -> String {
    let mut out = String::new();
    for first in name.split_whitespace().filter_map(|word| word.chars().find(|ch| ch.is_alphanumeric())).take(2) {
        out.extend(first.to_uppercase());
    }
    if out.is_empty() { "?".to_owned() } else { out }
}

/// One of the stylesheet's eight avatar colours (`c0`..`c7`), fixed per id (FNV-1a), by name without one.
fn colour_class(id: &str, name: &str) -> usize {
    let key = if id.trim().is_empty() { name } else { id };
    let hash = key
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
    usize::try_from(hash % 8).unwrap_or(0)
}

fn push_avatar(out: &mut String, id: &str, name: &str, shape: &str) {
    let _ = write!(out, r#"<span class="av {shape} c{}" aria-hidden="true">"#, colour_class(id, name));
    push_escaped(out, &initials(name));
    out.push_str("</span>");
}

/// Renders the whole page: a standalone HTML document that makes no request of its own.
pub fn render_modlog(page: &ModLogPage<'_>) -> String {
    let mut entries: Vec<&ModLogEntry<'_>> = page.entries.iter().collect();
    entries.sort_by(|a, b| b.at_ms.cmp(&a.at_ms).then(b.case_number.cmp(&a.case_number)));

    let mut counts = [0_usize; MODLOG_ACTIONS.len()];
    let mut other = 0_usize;
    for entry in &entries {
        match MODLOG_ACTIONS.iter().position(|known| known.eq_ignore_ascii_case(entry.action.trim())) {
            Some(index) => counts[index] += 1,
            None => other += 1,
        }
    }

    let mut out = String::with_capacity(STYLE.len() + SCRIPT.len() + 2_048 + entries.len() * 700);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"");
    out.push_str(modlog_content_security_policy());
    out.push_str("\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"robots\" content=\"noindex\">\n");
    out.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n<title>Moderation log: ");
    push_escaped(&mut out, page.user_name);
    out.push_str(" in ");
    push_escaped(&mut out, page.guild_name);
    out.push_str("</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>");
    out.push_str(&STYLE);
    out.push_str("</style>\n<script>");
    out.push_str(&SCRIPT);
    out.push_str("</script>\n</head>\n<body>\n<div class=\"wrap\">\n");

    // Header: the server, and the theme toggle.
    out.push_str("<header class=\"top\">\n<div class=\"who\">");
    push_avatar(&mut out, page.guild_id, page.guild_name, "sq");
    out.push_str("<div><div class=\"label\">Server</div><div class=\"name\"><bdi>");
    push_escaped(&mut out, page.guild_name);
    out.push_str("</bdi></div><code>");
    push_escaped(&mut out, page.guild_id);
    out.push_str("</code></div></div>\n");
    out.push_str(
        "<button id=\"theme-toggle\" type=\"button\" aria-pressed=\"false\">Toggle theme</button>\n</header>\n",
    );

    // The user.
    out.push_str("<main>\n<section class=\"user\">");
    push_avatar(&mut out, page.user_id, page.user_name, "big");
    out.push_str("<div><div class=\"label\">Moderation history of</div><h1><bdi>");
    push_escaped(&mut out, page.user_name);
    out.push_str("</bdi></h1><div><span class=\"label\">User ID</span> <code>");
    push_escaped(&mut out, page.user_id);
    let _ = writeln!(
        out,
        "</code></div><div class=\"stat\">{} moderation action{}</div></div></section>",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" }
    );

    if entries.is_empty() {
        out.push_str("<p class=\"empty\">No moderation actions recorded.</p>\n");
    } else {
        push_controls(&mut out, entries.len(), &counts, other);
        out.push_str("<ol class=\"entries\">\n");
        for entry in &entries {
            push_entry(&mut out, entry);
        }
        out.push_str("</ol>\n<p id=\"no-match\" class=\"empty\" hidden>No entries match the search.</p>\n");
    }
    out.push_str("</main>\n</div>\n</body>\n</html>\n");
    out
}

fn push_controls(out: &mut String, total: usize, counts: &[usize; MODLOG_ACTIONS.len()], other: usize) {
    out.push_str("<section class=\"controls\">\n<label class=\"sr\" for=\"search\">Search</label>");
    out.push_str("<input id=\"search\" type=\"search\" placeholder=\"Search reason, moderator or case\" autocomplete=\"off\" spellcheck=\"false\">\n");
    out.push_str("<div class=\"filters\" role=\"group\" aria-label=\"Filter by action\">");
    let _ = write!(
        out,
        "<button type=\"button\" data-filter=\"all\" aria-pressed=\"true\">All<span class=\"n\">{total}</span></button>"
    );
    let others = if other > 0 { Some((OTHER, other)) } else { None };
    for (action, count) in MODLOG_ACTIONS.into_iter().zip(counts.iter().copied()).chain(others) {
        let _ = write!(
            out,
            "<button type=\"button\" data-filter=\"{action}\" data-count=\"{count}\" aria-pressed=\"false\">{action}<span class=\"n\">{count}</span></button>"
        );
    }
    let _ = writeln!(
        out,
        "</div>\n<div id=\"shown\" class=\"muted\" aria-live=\"polite\">Showing {total} of {total}</div>\n</section>"
    );
}

fn push_entry(out: &mut String, entry: &ModLogEntry<'_>) {
    let canonical = canonical_action(entry.action);
    let filter = canonical.unwrap_or(OTHER);
    let shown_action = match canonical {
        Some(action) => action,
        None if entry.action.trim().is_empty() => "Unknown",
        None => entry.action,
    };
    let reason = entry.reason.filter(|reason| !reason.trim().is_empty());
    let duration = entry.duration.filter(|duration| !duration.trim().is_empty());

    let mut search = format!(
        "#{case} case {case}\n{shown_action}\n{}\n{}",
        entry.moderator_name,
        entry.moderator_id,
        case = entry.case_number
    );
    for text in [reason, duration].into_iter().flatten() {
        search.push('\n');
        search.push_str(text);
    }

    let _ =
        write!(out, "<li class=\"entry a-{}\" data-action=\"{filter}\" data-search=\"", filter.to_ascii_lowercase());
    push_escaped(out, &search.to_lowercase());
    out.push_str("\">\n<div class=\"head\"><span class=\"badge\">");
    push_escaped(out, shown_action);
    let _ = write!(out, "</span><span class=\"case\">Case #{}</span>", entry.case_number);
    let time = UtcParts::from_epoch_ms(entry.at_ms);
    let _ = write!(out, "<time datetime=\"{}\">{}</time></div>\n<dl>", time.iso8601(), time.display());

    out.push_str("<dt>Moderator</dt><dd>");
    push_avatar(out, entry.moderator_id, entry.moderator_name, "sm");
    out.push_str("<bdi>");
    push_escaped(out, entry.moderator_name);
    out.push_str("</bdi> <code>");
    push_escaped(out, entry.moderator_id);
    out.push_str("</code></dd>");
    match reason {
        Some(reason) => {
            out.push_str("<dt>Reason</dt><dd dir=\"auto\">");
            push_escaped(out, reason);
            out.push_str("</dd>");
        }
        None => out.push_str("<dt>Reason</dt><dd class=\"muted\">No reason provided</dd>"),
    }
    if let Some(duration) = duration {
        out.push_str("<dt>Duration</dt><dd dir=\"auto\">");
        push_escaped(out, duration);
        out.push_str("</dd>");
    }
    out.push_str("</dl>\n</li>\n");
}

#[cfg(test)]
mod tests {
    use super::{canonical_action, colour_class, initials};

    #[test]
    fn initials_take_the_first_letter_or_digit_of_two_words() {
        assert_eq!(initials("Ada Lovelace King"), "AL");
        assert_eq!(initials("ümit özdemir"), "ÜÖ");
        assert_eq!(initials("🔥 fire"), "F");
        assert_eq!(initials("  _x_ 9lives"), "X9");
        assert_eq!(initials("🔥🔥"), "?");
        assert_eq!(initials(""), "?");
    }

    #[test]
    fn colours_are_fixed_per_id_and_fall_back_to_the_name() {
        assert_eq!(colour_class("987654321098765432", "a"), colour_class("987654321098765432", "b"));
        assert_eq!(colour_class("", "name"), colour_class("  ", "name"));
        assert!((0..1_000).all(|id| colour_class(&id.to_string(), "") < 8));
        let distinct: std::collections::BTreeSet<usize> =
            (0..100).map(|id| colour_class(&id.to_string(), "")).collect();
        assert_eq!(distinct.len(), 8, "every colour is used");
    }

    #[test]
    fn actions_are_recognised_ignoring_case_and_spaces() {
        assert_eq!(canonical_action(" timeout "), Some("Timeout"));
        assert_eq!(canonical_action("UNBAN"), Some("Unban"));
        assert_eq!(canonical_action("Softban"), None);
    }
}
