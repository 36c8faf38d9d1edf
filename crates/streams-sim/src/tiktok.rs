//! TikTok's public live page, `https://www.tiktok.com/@USER/live`: TikTok has no public API for whether
//! an account is live, so Garrison reads the page's `<script id="SIGI_STATE" type="application/json">`
//! state (`LiveRoom.liveRoomUserInfo`: the user's `roomId` and `status`, the room's `title`,
//! `startTime` and `liveRoomStats.userCount`; status 2 is live, 4 offline). The simulator also serves
//! the two ways that can go wrong: a page whose markup changed (no `SIGI_STATE`) and an account that
//! does not exist (`statusCode` 10221, no user).

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::common::{Reply, html_escape, now_secs, random_digits};

/// What `GET /@{user}/live` shows for an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TikTokPage {
    /// Live now: the room's title and audience.
    Live {
        /// The room's title.
        title: String,
        /// How many watch (`liveRoomStats.userCount`).
        viewers: u64,
    },
    /// An existing account that is not live.
    Offline,
    /// A page TikTok redesigned: no `SIGI_STATE` script at all.
    ChangedMarkup,
    /// The account does not exist.
    Missing,
}

/// The `statusCode` of a page for an account that does not exist.
const USER_NOT_FOUND: u32 = 10221;

/// An account and its page.
#[derive(Debug)]
struct Account {
    /// As given.
    unique_id: String,
    id: String,
    page: TikTokPage,
    /// The current room, while live.
    room_id: String,
    start_time: i64,
}

/// The simulated TikTok: accounts by lowercase username.
#[derive(Debug, Default)]
pub(crate) struct TikTok {
    accounts: HashMap<String, Account>,
}

/// The username of a path `/@{user}/live`.
pub(crate) fn live_page_user(path: &str) -> Option<&str> {
    path.strip_prefix("/@")?.strip_suffix("/live").filter(|user| !user.is_empty() && !user.contains('/'))
}

/// Embeds JSON in a `<script>` safely: `<`, `>` and `&` (only ever inside strings) become escapes.
fn script_json(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// A whole page around `scripts`.
fn page(title: &str, scripts: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"https://www.tiktok.com/favicon.ico\">\
         <script nonce=\"sim\">window.__SIM__ = {{\"app\": \"tiktok\"}};</script></head>\
         <body><div id=\"app\"><div class=\"live-room\"></div></div>{scripts}\
         <script nonce=\"sim\" src=\"https://sf16-website-login.neutral.ttwstatic.com/sim/main.js\" async></script>\
         </body></html>",
        html_escape(title)
    )
}

/// The `SIGI_STATE` script holding `state`.
fn sigi(state: &Value) -> String {
    format!("<script id=\"SIGI_STATE\" type=\"application/json\">{}</script>", script_json(state))
}

fn app_context() -> Value {
    json!({"appContext": {"language": "en", "region": "US", "user": {}}})
}

/// The answer while TikTok is down.
pub(crate) fn unavailable() -> Reply {
    Reply::html(
        503,
        "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>\
         <body><h1>503 Service Unavailable</h1><p>Please try again later.</p></body></html>"
            .to_owned(),
    )
}

/// The answer to a path TikTok does not have.
pub(crate) fn not_found() -> Reply {
    Reply::html(
        404,
        "<!DOCTYPE html><html><head><title>Page not available | TikTok</title></head>\
         <body><h1>Couldn't find this page</h1></body></html>"
            .to_owned(),
    )
}

impl TikTok {
    /// Sets what an account's live page shows.
    pub fn set(&mut self, user: &str, page: TikTokPage) {
        let user = user.trim().trim_start_matches('@');
        let account = self.accounts.entry(user.to_lowercase()).or_insert_with(|| Account {
            unique_id: user.to_owned(),
            id: random_digits(19),
            page: TikTokPage::Offline,
            room_id: String::new(),
            start_time: 0,
        });
        let was_live = matches!(account.page, TikTokPage::Live { .. });
        match &page {
            TikTokPage::Live { .. } if !was_live => {
                account.room_id = random_digits(19);
                account.start_time = now_secs();
            }
            TikTokPage::Live { .. } => {}
            _ => {
                account.room_id = String::new();
                account.start_time = 0;
            }
        }
        account.page = page;
    }

    /// The page of `GET /@{user}/live`.
    pub fn live_page(&self, user: &str) -> Reply {
        let account = self.accounts.get(&user.to_lowercase());
        let page = account.map_or(&TikTokPage::Missing, |a| &a.page);
        let body = match (page, account) {
            (TikTokPage::ChangedMarkup, _) => page_changed(user),
            (TikTokPage::Live { .. } | TikTokPage::Offline, Some(account)) => account_page(account),
            (TikTokPage::Missing, _) | (_, None) => page_missing(),
        };
        Reply::html(200, body)
    }
}

fn account_page(account: &Account) -> String {
    let (status, title, viewers) = match &account.page {
        TikTokPage::Live { title, viewers } => (2, title.as_str(), *viewers),
        _ => (4, "", 0),
    };
    let user = &account.unique_id;
    let state = json!({
        "AppContext": app_context(),
        "LiveRoom": {
            "liveRoomUserInfo": {
                "user": {
                    "id": account.id,
                    "uniqueId": user,
                    "nickname": user,
                    "avatarThumb": "https://p16-sign.tiktokcdn.com/sim.jpeg",
                    "roomId": account.room_id,
                    "status": status,
                },
                "liveRoom": {
                    "title": title,
                    "startTime": account.start_time,
                    "status": status,
                    "liveRoomStats": {"userCount": viewers},
                },
            },
        },
    });
    let heading = match status {
        2 => format!("{user} (@{user}) is LIVE - TikTok LIVE | TikTok"),
        _ => format!("{user} (@{user}) LIVE - TikTok LIVE | TikTok"),
    };
    page(&heading, &sigi(&state))
}

fn page_missing() -> String {
    let state = json!({
        "AppContext": app_context(),
        "LiveRoom": {"liveRoomUserInfo": {}},
        "statusCode": USER_NOT_FOUND,
    });
    page("TikTok - Make Your Day", &sigi(&state))
}

fn page_changed(user: &str) -> String {
    let scripts = "<script id=\"__UNIVERSAL_DATA_FOR_REHYDRATION__\" type=\"application/json\">\
                   {\"__DEFAULT_SCOPE__\":{}}</script>";
    page(&format!("@{user} LIVE | TikTok"), scripts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_page_paths() {
        assert_eq!(live_page_user("/@garrison.live/live"), Some("garrison.live"));
        assert_eq!(live_page_user("/@/live"), None);
        assert_eq!(live_page_user("/@a/b/live"), None);
        assert_eq!(live_page_user("/@a"), None);
    }

    #[test]
    fn titles_never_close_the_script() {
        let mut tiktok = TikTok::default();
        tiktok.set("x", TikTokPage::Live { title: "</script><b>&".into(), viewers: 3 });
        let body = tiktok.live_page("X").body;
        assert_eq!(body.matches("</script>").count(), 3, "{body}");
        assert!(body.contains(r#""title":"\u003c/script\u003e\u003cb\u003e\u0026""#), "{body}");
    }
}
