//! What the page tests share: a small tag scanner over the rendered HTML.

/// A tag: lower-cased name, and attribute names with their raw (still escaped) values.
pub type Tag = (String, Vec<(String, String)>);

/// Every tag outside `<style>` / `<script>` contents as (lower-cased name, attributes with raw values).
pub fn tags(html: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let name: String = rest.chars().take_while(|ch| !ch.is_whitespace() && *ch != '>').collect();
        rest = &rest[name.len()..];
        let mut attributes = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('>') {
                rest = after;
                break;
            }
            let attribute: String =
                rest.chars().take_while(|ch| !ch.is_whitespace() && *ch != '=' && *ch != '>').collect();
            assert!(!attribute.is_empty(), "malformed tag {name} near {:?}", &rest[..rest.len().min(40)]);
            rest = &rest[attribute.len()..];
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix('=') {
                let after = after.strip_prefix('"').expect("attribute values are double-quoted");
                let end = after.find('"').expect("closing quote");
                value = after[..end].to_owned();
                rest = &after[end + 1..];
            }
            attributes.push((attribute.to_ascii_lowercase(), value));
        }
        let lower = name.to_ascii_lowercase();
        if lower == "style" || lower == "script" {
            let close = format!("</{lower}>");
            let end = rest.find(&close).expect("raw text element closes");
            rest = &rest[end..];
        }
        out.push((lower, attributes));
    }
    out
}

/// How often `needle` occurs, ignoring ASCII letter case.
pub fn count(haystack: &str, needle: &str) -> usize {
    haystack.to_ascii_lowercase().matches(&needle.to_ascii_lowercase()).count()
}

/// The text between the first `open` and the next `close`.
pub fn between<'a>(html: &'a str, open: &str, close: &str) -> &'a str {
    let start = html.find(open).map(|at| at + open.len()).expect("open marker");
    let end = html[start..].find(close).expect("close marker") + start;
    &html[start..end]
}
