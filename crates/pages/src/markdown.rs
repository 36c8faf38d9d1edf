//! Discord's markdown dialect, rendered to HTML that never contains markup the user wrote.
//!
//! Modelled on the rules of `simple-markdown` as Discord configures it: at each position the first
//! rule that matches wins, emphasis rules match lazily (the *first* closing delimiter), and between
//! `*italics*`, `**bold**` and `__underline__` starting at the same place the longest match wins
//! (italics on a tie). Block rules (headers, lists, quotes) apply only at the start of a line.
//! Every piece of text goes through [`push_escaped`]; code is escaped and never interpreted.

use std::fmt::Write as _;

use crate::escape::push_escaped;
use crate::time::UtcParts;
use crate::transcript::Names;

/// How deep emphasis may nest before the rest is shown as text (bounds recursion and output).
const MAX_DEPTH: u32 = 12;

/// What mentions resolve against: the caller's [`Names`], then the users the message itself lists in
/// `mentions` (Discord includes them), then `@unknown-user`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mentions<'a> {
    pub names: &'a Names,
    pub mentioned: &'a [(u64, &'a str)],
}

impl Mentions<'_> {
    fn user(&self, id: u64) -> Option<(&str, Option<u32>)> {
        self.names
            .member(id)
            .or_else(|| self.mentioned.iter().find(|(known, _)| *known == id).map(|(_, name)| (*name, None)))
    }
}

/// Renders `text` as Discord shows a message body: block rules per line, inline rules inside.
pub(crate) fn push_markdown(out: &mut String, text: &str, mentions: Mentions<'_>) {
    let mut renderer = Renderer { out, mentions };
    renderer.blocks(text, true);
}

/// Renders `text` with the inline rules only (one line of a reply preview, an embed title).
pub(crate) fn push_inline_markdown(out: &mut String, text: &str, mentions: Mentions<'_>) {
    let mut renderer = Renderer { out, mentions };
    renderer.inline(text, 0, false);
}

/// `#rrggbb` of a Discord colour integer, `None` for 0 (Discord's "no colour").
pub(crate) fn colour_hex(colour: u32) -> Option<String> {
    let colour = colour & 0x00ff_ffff;
    (colour != 0).then(|| format!("#{colour:06x}"))
}

/// The URL if it is an absolute `http:` or `https:` URL without whitespace or control characters.
pub(crate) fn safe_http_url(url: &str) -> Option<&str> {
    let url = url.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let scheme_ok = (lower.starts_with("https://") && url.len() > 8) || (lower.starts_with("http://") && url.len() > 7);
    (scheme_ok && !url.chars().any(|ch| ch.is_whitespace() || ch.is_control())).then_some(url)
}

/// Appends `<a href="url" rel=... target="_blank">`; the caller writes the text and `</a>`.
pub(crate) fn push_link_open(out: &mut String, url: &str) {
    out.push_str("<a href=\"");
    push_escaped(out, url);
    out.push_str("\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block<'t> {
    QuoteRest(&'t str),
    QuoteLine,
    Header(usize, &'t str),
    Subtext(&'t str),
    ListItem,
}

struct Renderer<'o, 'm> {
    out: &'o mut String,
    mentions: Mentions<'m>,
}

fn block_kind(line: &str, allow_quote: bool) -> Option<Block<'_>> {
    let trimmed = line.trim_start_matches(' ');
    if allow_quote {
        if let Some(rest) = trimmed.strip_prefix(">>> ") {
            return Some(Block::QuoteRest(rest));
        }
        if trimmed.starts_with("> ") || trimmed == ">" {
            return Some(Block::QuoteLine);
        }
    }
    if let Some(rest) = trimmed.strip_prefix("-# ") {
        let rest = rest.trim_start_matches(' ');
        if !rest.trim().is_empty() {
            return Some(Block::Subtext(rest));
        }
    }
    let hashes = trimmed.bytes().take_while(|byte| *byte == b'#').count();
    if (1..=3).contains(&hashes)
        && let Some(rest) = trimmed[hashes..].strip_prefix(' ')
    {
        let rest = rest.trim_start_matches(' ');
        if !rest.trim().is_empty() {
            return Some(Block::Header(hashes, rest));
        }
    }
    list_item(line).map(|_| Block::ListItem)
}

/// A list line: (nesting level, ordered start number or `None`, content).
fn list_item(line: &str) -> Option<(usize, Option<u32>, &str)> {
    let indent = line.bytes().take_while(|byte| *byte == b' ').count();
    let rest = &line[indent..];
    let (start, after) = if let Some(after) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("* ")) {
        (None, after)
    } else {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let after = rest[digits..].strip_prefix(". ").filter(|_| (1..=9).contains(&digits))?;
        (Some(rest[..digits].parse::<u32>().ok()?), after)
    };
    let content = after.trim_start_matches(' ');
    (!content.trim().is_empty()).then_some((indent / 2, start, content))
}

impl Renderer<'_, '_> {
    /// Line-based rules. A line inside an open code fence is never a block line.
    fn blocks(&mut self, text: &str, allow_quote: bool) {
        let mut pos = 0;
        let mut paragraph: Option<usize> = None;
        let mut fence_open = false;
        while pos <= text.len() {
            let line_end = text[pos..].find('\n').map_or(text.len(), |at| pos + at);
            let line = &text[pos..line_end];
            let next = line_end + 1;
            let kind = if fence_open { None } else { block_kind(line, allow_quote) };
            let Some(kind) = kind else {
                paragraph.get_or_insert(pos);
                fence_open ^= line.matches("```").count() % 2 == 1;
                pos = next;
                continue;
            };
            if let Some(start) = paragraph.take() {
                self.inline(&text[start..pos - 1], 0, false);
            }
            match kind {
                Block::QuoteRest(rest) => {
                    self.out.push_str("<blockquote>");
                    let rest_start = line_end - rest.len();
                    self.blocks(&text[rest_start..], false);
                    self.out.push_str("</blockquote>");
                    return;
                }
                Block::QuoteLine => {
                    let mut inner = String::new();
                    while pos <= text.len() {
                        let end = text[pos..].find('\n').map_or(text.len(), |at| pos + at);
                        let quoted = &text[pos..end];
                        if block_kind(quoted, true) != Some(Block::QuoteLine) {
                            break;
                        }
                        let stripped = quoted.trim_start_matches(' ');
                        let stripped = stripped.strip_prefix("> ").unwrap_or(&stripped[1..]);
                        if !inner.is_empty() {
                            inner.push('\n');
                        }
                        inner.push_str(stripped);
                        pos = end + 1;
                    }
                    self.out.push_str("<blockquote>");
                    self.blocks(&inner, false);
                    self.out.push_str("</blockquote>");
                }
                Block::Header(level, content) => {
                    let _ = write!(self.out, "<h{level}>");
                    self.inline(content, 0, false);
                    let _ = write!(self.out, "</h{level}>");
                    pos = next;
                }
                Block::Subtext(content) => {
                    self.out.push_str("<small class=\"subtext\">");
                    self.inline(content, 0, false);
                    self.out.push_str("</small>");
                    pos = next;
                }
                Block::ListItem => pos = self.list(text, pos),
            }
        }
        if let Some(start) = paragraph {
            self.inline(&text[start.min(text.len())..], 0, false);
        }
    }

    /// Consecutive list lines from `pos`, nested by indentation (two spaces a level, one level deeper
    /// at a time); returns the position after the list.
    fn list(&mut self, text: &str, mut pos: usize) -> usize {
        let mut stack: Vec<&'static str> = Vec::new();
        while pos <= text.len() {
            let end = text[pos..].find('\n').map_or(text.len(), |at| pos + at);
            let Some((level, start, content)) = list_item(&text[pos..end]) else { break };
            // A header-looking or quote line is not an item (list_item already rejects those shapes).
            let level = level.min(stack.len());
            if level >= stack.len() {
                let tag = if start.is_some() { "ol" } else { "ul" };
                match start {
                    Some(number) if number != 1 => {
                        let _ = write!(self.out, "<ol start=\"{number}\">");
                    }
                    _ => {
                        let _ = write!(self.out, "<{tag}>");
                    }
                }
                stack.push(tag);
            } else {
                self.out.push_str("</li>");
                while stack.len() > level + 1 {
                    if let Some(tag) = stack.pop() {
                        let _ = write!(self.out, "</{tag}></li>");
                    }
                }
            }
            self.out.push_str("<li>");
            self.inline(content, 0, false);
            pos = end + 1;
        }
        while let Some(tag) = stack.pop() {
            let _ = write!(self.out, "</li></{tag}>");
        }
        pos
    }

    fn text_char(&mut self, ch: char) {
        if ch == '\n' {
            self.out.push_str("<br>");
        } else {
            let mut buffer = [0_u8; 4];
            push_escaped(self.out, ch.encode_utf8(&mut buffer));
        }
    }

    /// Inline rules over `text`. `in_link`: inside a masked link's text, where no link may start.
    fn inline(&mut self, text: &str, depth: u32, in_link: bool) {
        let mut pos = 0;
        let mut prev: Option<char> = None;
        while let Some(ch) = text[pos..].chars().next() {
            let rest = &text[pos..];
            let consumed = self.rule(rest, prev, depth, in_link);
            let used = match consumed {
                Some(used) => used,
                None => {
                    self.text_char(ch);
                    ch.len_utf8()
                }
            };
            prev = text[..pos + used].chars().next_back();
            pos += used;
        }
    }

    /// Tries every inline rule at the start of `rest`; writes the match and returns its length.
    fn rule(&mut self, rest: &str, prev: Option<char>, depth: u32, in_link: bool) -> Option<usize> {
        let first = rest.as_bytes().first().copied()?;
        match first {
            b'\\' => {
                let escaped = rest[1..].chars().next().filter(|ch| !ch.is_alphanumeric() && !ch.is_whitespace())?;
                self.text_char(escaped);
                Some(1 + escaped.len_utf8())
            }
            b'`' => self.code(rest),
            b'<' => self.angle(rest, in_link),
            b'@' => {
                let word = ["@everyone", "@here"].into_iter().find(|word| rest.starts_with(word))?;
                let _ = write!(self.out, "<span class=\"mention\">{word}</span>");
                Some(word.len())
            }
            b'[' if !in_link => self.masked_link(rest, depth),
            b'h' if !in_link => self.bare_url(rest),
            _ if depth >= MAX_DEPTH => None,
            b'*' | b'_' => {
                let (single, double, tag) = if first == b'*' {
                    (emphasis_star(rest), closing(rest, "**"), "strong")
                } else {
                    let boundary = prev.is_none_or(|ch| !is_word(ch));
                    (emphasis_underscore(rest).filter(|_| boundary), closing(rest, "__"), "u")
                };
                match (single, double) {
                    (Some(em), Some(strong)) if strong > em => {
                        self.wrap(tag, &rest[2..strong - 2], strong, depth, in_link)
                    }
                    (Some(em), _) => self.wrap("em", &rest[1..em - 1], em, depth, in_link),
                    (None, Some(strong)) => self.wrap(tag, &rest[2..strong - 2], strong, depth, in_link),
                    (None, None) => None,
                }
            }
            b'~' => closing(rest, "~~").and_then(|end| self.wrap("s", &rest[2..end - 2], end, depth, in_link)),
            b'|' => {
                let end = closing_plain(rest, "||")?;
                self.out.push_str("<span class=\"spoiler\" tabindex=\"0\">");
                self.inline(&rest[2..end - 2], depth + 1, in_link);
                self.out.push_str("</span>");
                Some(end)
            }
            _ => None,
        }
    }

    fn wrap(&mut self, tag: &str, inner: &str, length: usize, depth: u32, in_link: bool) -> Option<usize> {
        let _ = write!(self.out, "<{tag}>");
        self.inline(inner, depth + 1, in_link);
        let _ = write!(self.out, "</{tag}>");
        Some(length)
    }

    /// A code block (```` ```lang\n...``` ````) or inline code (a run of n backticks to the next run of
    /// exactly n). The content is escaped and nothing else.
    fn code(&mut self, rest: &str) -> Option<usize> {
        if let Some(body) = rest.strip_prefix("```")
            && let Some(end) = body.find("```")
        {
            let inner = &body[..end];
            let (language, code) = match inner.split_once('\n') {
                Some((first, code))
                    if !first.is_empty()
                        && first.len() <= 32
                        && first.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+-.#".contains(&b)) =>
                {
                    (Some(first), code)
                }
                _ => (None, inner),
            };
            let code = code.trim_matches('\n');
            if !code.is_empty() {
                self.out.push_str("<pre><code");
                if let Some(language) = language {
                    self.out.push_str(" class=\"lang\" data-lang=\"");
                    push_escaped(self.out, &language.to_ascii_lowercase());
                    self.out.push('"');
                }
                self.out.push('>');
                push_escaped(self.out, code);
                self.out.push_str("</code></pre>");
                return Some(3 + end + 3);
            }
        }
        let ticks = rest.bytes().take_while(|byte| *byte == b'`').count();
        let mut search = ticks;
        while let Some(found) = rest[search..].find('`') {
            let start = search + found;
            let run = rest[start..].bytes().take_while(|byte| *byte == b'`').count();
            if run == ticks && start > ticks {
                self.out.push_str("<code>");
                push_escaped(self.out, &rest[ticks..start]);
                self.out.push_str("</code>");
                return Some(start + run);
            }
            search = start + run;
        }
        // No closing run: the whole opening run is text (so a later backtick cannot pair with part of it).
        for _ in 0..ticks {
            self.out.push('`');
        }
        Some(ticks)
    }

    /// `<@id>`, `<@!id>`, `<@&id>`, `<#id>`, `<:name:id>`, `<a:name:id>`, `<t:secs[:style]>`,
    /// `</command:id>` and `<https://...>` (a link without preview).
    fn angle(&mut self, rest: &str, in_link: bool) -> Option<usize> {
        let close = rest.bytes().take(2_100).position(|byte| byte == b'>')?;
        let inner = &rest[1..close];
        let length = close + 1;
        if let Some(id) = inner.strip_prefix("@&").and_then(snowflake) {
            match self.mentions.names.role(id) {
                Some((name, colour)) => {
                    self.out.push_str("<span class=\"mention role\"");
                    if let Some(hex) = colour_hex(colour) {
                        let _ = write!(self.out, " data-colour=\"{hex}\"");
                    }
                    self.out.push_str(">@");
                    push_escaped(self.out, name);
                    self.out.push_str("</span>");
                }
                None => self.out.push_str("<span class=\"mention role\">@unknown-role</span>"),
            }
        } else if let Some(id) = inner.strip_prefix("@!").or_else(|| inner.strip_prefix('@')).and_then(snowflake) {
            match self.mentions.user(id) {
                Some((name, _)) => {
                    self.out.push_str("<span class=\"mention user\">@");
                    push_escaped(self.out, name);
                    self.out.push_str("</span>");
                }
                None => self.out.push_str("<span class=\"mention user\">@unknown-user</span>"),
            }
        } else if let Some(id) = inner.strip_prefix('#').and_then(snowflake) {
            match self.mentions.names.channel(id) {
                Some(name) => {
                    self.out.push_str("<span class=\"mention channel\">#");
                    push_escaped(self.out, name);
                    self.out.push_str("</span>");
                }
                None => self.out.push_str("<span class=\"mention channel\">#unknown-channel</span>"),
            }
        } else if let Some(name) = custom_emoji(inner) {
            self.out.push_str("<span class=\"emoji\" title=\":");
            push_escaped(self.out, name);
            self.out.push_str(":\">:");
            push_escaped(self.out, name);
            self.out.push_str(":</span>");
        } else if let Some(ms) = inner.strip_prefix("t:").and_then(timestamp_ms) {
            let time = UtcParts::from_epoch_ms(ms);
            let _ = write!(self.out, "<time class=\"ts\" datetime=\"{}\">{}</time>", time.iso8601(), time.display());
        } else if let Some(command) = slash_command(inner) {
            self.out.push_str("<span class=\"mention\">/");
            push_escaped(self.out, command);
            self.out.push_str("</span>");
        } else if let Some(url) = safe_http_url(inner).filter(|_| !in_link && !inner.contains(['<', '"'])) {
            push_link_open(self.out, url);
            push_escaped(self.out, url);
            self.out.push_str("</a>");
        } else {
            return None;
        }
        Some(length)
    }

    /// `[text](https://...)`: a link only for http(s) URLs; anything else stays text.
    fn masked_link(&mut self, rest: &str, depth: u32) -> Option<usize> {
        let text_end = rest.find(']')?;
        let label = &rest[1..text_end];
        if label.trim().is_empty() || label.contains(['[', '\n']) {
            return None;
        }
        let after = rest[text_end + 1..].strip_prefix('(')?;
        let mut nesting = 0_usize;
        let mut url_end = None;
        for (at, ch) in after.char_indices() {
            match ch {
                '(' => nesting += 1,
                ')' if nesting == 0 => {
                    url_end = Some(at);
                    break;
                }
                ')' => nesting -= 1,
                ch if ch.is_whitespace() => return None,
                _ => {}
            }
        }
        let raw = &after[..url_end?];
        let url = raw.strip_prefix('<').and_then(|url| url.strip_suffix('>')).unwrap_or(raw);
        let url = safe_http_url(url)?;
        push_link_open(self.out, url);
        self.inline(label, depth + 1, true);
        self.out.push_str("</a>");
        Some(text_end + 2 + raw.len() + 1)
    }

    /// A bare `http(s)://` URL up to whitespace or `<`, without trailing punctuation.
    fn bare_url(&mut self, rest: &str) -> Option<usize> {
        let scheme = if rest.starts_with("https://") {
            8
        } else if rest.starts_with("http://") {
            7
        } else {
            return None;
        };
        let mut end = rest.find(|ch: char| ch.is_whitespace() || ch == '<').unwrap_or(rest.len());
        while end > scheme && rest[..end].ends_with(['.', ',', ':', ';', '"', '\'', ')', ']', '!', '?']) {
            end -= 1;
        }
        if end <= scheme {
            return None;
        }
        let url = safe_http_url(&rest[..end])?;
        push_link_open(self.out, url);
        push_escaped(self.out, url);
        self.out.push_str("</a>");
        Some(end)
    }
}

fn is_word(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '_'
}

/// A Discord id: 1 to 20 ASCII digits that fit a `u64`.
fn snowflake(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn custom_emoji(inner: &str) -> Option<&str> {
    let body = inner.strip_prefix("a:").or_else(|| inner.strip_prefix(':'))?;
    let (name, id) = body.split_once(':')?;
    snowflake(id)?;
    ((2..=32).contains(&name.len()) && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_'))
        .then_some(name)
}

fn timestamp_ms(body: &str) -> Option<i64> {
    let (seconds, style) = body.split_once(':').unwrap_or((body, "f"));
    if !matches!(style, "t" | "T" | "d" | "D" | "f" | "F" | "R") {
        return None;
    }
    let digits = seconds.strip_prefix('-').unwrap_or(seconds);
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    seconds.parse::<i64>().ok()?.checked_mul(1_000)
}

fn slash_command(inner: &str) -> Option<&str> {
    let (name, id) = inner.strip_prefix('/')?.split_once(':')?;
    snowflake(id)?;
    (!name.is_empty() && name.len() <= 100 && name.chars().all(|ch| ch.is_alphanumeric() || "-_ ".contains(ch)))
        .then_some(name)
}

/// The end (exclusive, after the closing delimiter) of `delim content delim` where the closing
/// delimiter is the first one after a non-empty content that is not followed by its own character.
fn closing(rest: &str, delim: &str) -> Option<usize> {
    let body = rest.strip_prefix(delim)?;
    let repeat = delim.as_bytes()[0];
    let mut from = body.chars().next()?.len_utf8();
    while let Some(found) = body.get(from..)?.find(delim) {
        let at = from + found;
        if body.as_bytes().get(at + delim.len()) != Some(&repeat) {
            return Some(delim.len() + at + delim.len());
        }
        from = at + 1;
    }
    None
}

/// Like [`closing`] without the look-ahead (spoilers: `||a|||` closes at the first `||`).
fn closing_plain(rest: &str, delim: &str) -> Option<usize> {
    let body = rest.strip_prefix(delim)?;
    let first = body.chars().next()?.len_utf8();
    body[first..].find(delim).map(|at| delim.len() + first + at + delim.len())
}

/// `*italics*`: starts before a non-space, content may hold `**` pairs and escapes but no lone `*`,
/// and the closing `*` follows a non-space.
fn emphasis_star(rest: &str) -> Option<usize> {
    let body = rest.strip_prefix('*')?;
    if body.chars().next().is_none_or(char::is_whitespace) {
        return None;
    }
    let mut at = 0;
    let mut last: Option<char> = None;
    while let Some(ch) = body[at..].chars().next() {
        match ch {
            '\\' => {
                let escaped = body[at + 1..].chars().next().map_or(0, char::len_utf8);
                at += 1 + escaped;
                last = Some('x');
                continue;
            }
            '*' if body[at..].starts_with("**") => {
                at += 2;
                last = Some('*');
                continue;
            }
            '*' => {
                return (at > 0 && last.is_some_and(|ch| !ch.is_whitespace())).then_some(1 + at + 1);
            }
            _ => {}
        }
        last = Some(ch);
        at += ch.len_utf8();
    }
    None
}

/// `_italics_`: content may hold `__` pairs and escapes but no lone `_`; the closing `_` is followed by
/// a non-word character or the end. (The opening's word boundary is checked by the caller.)
fn emphasis_underscore(rest: &str) -> Option<usize> {
    let body = rest.strip_prefix('_')?;
    let mut at = 0;
    while let Some(ch) = body[at..].chars().next() {
        match ch {
            '\\' => {
                at += 1 + body[at + 1..].chars().next().map_or(0, char::len_utf8);
                continue;
            }
            '_' if body[at..].starts_with("__") => {
                at += 2;
                continue;
            }
            '_' => {
                let boundary = body[at + 1..].chars().next().is_none_or(|ch| !is_word(ch));
                return (at > 0 && boundary).then_some(1 + at + 1);
            }
            _ => at += ch.len_utf8(),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{closing, emphasis_star, emphasis_underscore, list_item, safe_http_url};

    #[test]
    fn delimiters_close_lazily() {
        assert_eq!(closing("**a** b**", "**"), Some(5));
        assert_eq!(closing("***a***", "**"), Some(7));
        assert_eq!(closing("****", "**"), None);
        assert_eq!(emphasis_star("*a*"), Some(3));
        assert_eq!(emphasis_star("* a*"), None);
        assert_eq!(emphasis_star("*a *"), None);
        assert_eq!(emphasis_star("*a **b** c*"), Some(11));
        assert_eq!(emphasis_underscore("_a_"), Some(3));
        assert_eq!(emphasis_underscore("_a_b"), None);
    }

    #[test]
    fn list_lines() {
        assert_eq!(list_item("- a"), Some((0, None, "a")));
        assert_eq!(list_item("  * b"), Some((1, None, "b")));
        assert_eq!(list_item("3. c"), Some((0, Some(3), "c")));
        assert_eq!(list_item("-a"), None);
        assert_eq!(list_item("1234567890. c"), None);
    }

    #[test]
    fn only_http_urls_are_safe() {
        assert_eq!(safe_http_url(" https://a.example/x "), Some("https://a.example/x"));
        assert_eq!(safe_http_url("HTTP://a.example"), Some("HTTP://a.example"));
        assert_eq!(safe_http_url("javascript:alert(1)"), None);
        assert_eq!(safe_http_url("https://"), None);
        assert_eq!(safe_http_url("https://a b"), None);
        assert_eq!(safe_http_url("data:text/html,x"), None);
    }
}
