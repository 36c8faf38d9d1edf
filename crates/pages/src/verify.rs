//! The web verification pages: where a user starts linking their Discord and Roblox accounts, and
//! what they see at the end. No script at all; the one `<style>` is admitted by its hash.

use std::sync::LazyLock;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::escape::escape_html;

/// A signed-in account as the page names it. Every `&str` is untrusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account<'a> {
    pub name: &'a str,
    pub id: &'a str,
}

/// Which page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyPage<'a> {
    /// The start: what will happen, a button to sign in with Discord (`start`), and one to remove a
    /// link (`unlink`).
    Start { start: &'a str, unlink: &'a str },
    /// Both accounts are linked.
    Linked { discord: Account<'a>, roblox: Account<'a> },
    /// The Discord account's link is gone (`roblox`: the account it was with, when there was one).
    Unlinked { discord: Account<'a>, roblox: Option<&'a str> },
    /// Something went wrong; `again` starts over.
    Failed { message: &'a str, again: &'a str },
}

static STYLE: LazyLock<String> = LazyLock::new(|| include_str!("verify.css").replace('\r', ""));

static POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; base-uri 'none'; form-action 'none'; {}",
        crate::FRAME_ANCESTORS
    )
});

/// The Content-Security-Policy header of the verification pages: nothing loads, no script runs,
/// only the page's own style applies, no framing.
pub fn verify_content_security_policy_header() -> &'static str {
    &POLICY
}

fn account(label: &str, account: Account<'_>) -> String {
    format!(
        "<li><b>{label}</b>{} <span class=\"quiet\">({})</span></li>",
        escape_html(account.name),
        escape_html(account.id)
    )
}

/// The page, a whole HTML document.
pub fn render_verify(page: VerifyPage<'_>) -> String {
    let (class, title, body) = match page {
        VerifyPage::Start { start, unlink } => (
            "",
            "Link your Discord and Roblox accounts",
            format!(
                "<p>Sign in to Discord, then to Roblox. Servers that use Garrison will then know which Roblox \
                 account is yours. Nothing is posted for you, and neither password is shared with anyone.</p>\
                 <a class=\"button\" href=\"{}\">Sign in with Discord</a>\
                 <a class=\"quiet\" href=\"{}\">Remove my link instead</a>",
                escape_html(start),
                escape_html(unlink)
            ),
        ),
        VerifyPage::Linked { discord, roblox } => (
            "ok",
            "Your accounts are linked",
            format!(
                "<ul class=\"accounts\">{}{}</ul><p>You can close this page.</p>",
                account("Discord", discord),
                account("Roblox", roblox)
            ),
        ),
        VerifyPage::Unlinked { discord, roblox } => (
            "ok",
            "Your link is removed",
            match roblox {
                Some(roblox) => format!(
                    "<ul class=\"accounts\">{}</ul><p>It is no longer linked to Roblox user {}.</p>",
                    account("Discord", discord),
                    escape_html(roblox)
                ),
                None => format!(
                    "<ul class=\"accounts\">{}</ul><p>It was not linked to any Roblox account.</p>",
                    account("Discord", discord)
                ),
            },
        ),
        VerifyPage::Failed { message, again } => (
            "bad",
            "That did not work",
            format!(
                "<p>{}</p><a class=\"button\" href=\"{}\">Start again</a>",
                escape_html(message),
                escape_html(again)
            ),
        ),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <link rel=\"icon\" href=\"data:,\"><title>{title}</title><style>{}</style></head>\
         <body><main class=\"{class}\"><h1>{title}</h1>{body}</main></body></html>",
        STYLE.as_str()
    )
}
