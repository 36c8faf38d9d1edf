//! Invite links as people paste them.

/// The specification's answer to anything that is not an invite.
pub const INVALID_INVITE: &str = "Invalid invite link.";

/// The invite code in `discord.gg/CODE`, `discord.com/invite/CODE`, `discordapp.com/invite/CODE` (with or
/// without `https://`, `http://` or `www.`, and with any query or fragment after the code) or a bare
/// `CODE`. A code is 2 to 32 letters, digits or hyphens (vanity codes have hyphens). `None` otherwise.
pub fn parse_invite(text: &str) -> Option<String> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let mut rest = text;
    for scheme in ["https://", "http://"] {
        if lower.starts_with(scheme) {
            rest = &rest[scheme.len()..];
            break;
        }
    }
    if rest.to_ascii_lowercase().starts_with("www.") {
        rest = &rest[4..];
    }
    let host_end = rest.find('/');
    let code = match host_end {
        None if rest.len() == text.len() => rest,
        None => return None,
        Some(slash) => {
            let (host, path) = (rest[..slash].to_ascii_lowercase(), &rest[slash + 1..]);
            let path = match host.as_str() {
                "discord.gg" => path,
                "discord.com" | "discordapp.com" => {
                    let (first, after) = path.split_once('/')?;
                    if !first.eq_ignore_ascii_case("invite") {
                        return None;
                    }
                    after
                }
                _ => return None,
            };
            let end = path.find(['?', '#']).unwrap_or(path.len());
            path[..end].trim_end_matches('/')
        }
    };
    let valid = (2..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then(|| code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_people_paste() {
        for (text, code) in [
            ("https://discord.gg/E2pce4JTSK", "E2pce4JTSK"),
            ("discord.gg/E2pce4JTSK", "E2pce4JTSK"),
            ("http://discord.gg/E2pce4JTSK/", "E2pce4JTSK"),
            ("https://discord.com/invite/E2pce4JTSK", "E2pce4JTSK"),
            ("https://www.discord.com/invite/E2pce4JTSK?event=1", "E2pce4JTSK"),
            ("discordapp.com/invite/rust-lang", "rust-lang"),
            ("HTTPS://DISCORD.GG/AbC123", "AbC123"),
            ("  E2pce4JTSK  ", "E2pce4JTSK"),
            ("https://discord.gg/E2pce4JTSK#top", "E2pce4JTSK"),
        ] {
            assert_eq!(parse_invite(text).as_deref(), Some(code), "{text}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "x",
            "https://evil.example/invite/abc",
            "https://discord.com/channels/1/2",
            "https://discord.gg/",
            "discord.gg/has space",
            "https://discord.gg.evil.example/abc",
            "discord.com/invite/",
            "javascript:alert(1)",
            "a.b",
            &"a".repeat(33),
        ] {
            assert_eq!(parse_invite(text), None, "{text}");
        }
    }
}
