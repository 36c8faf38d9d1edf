//! TikTok's public live page, `/@user/live`: its `SIGI_STATE` script holds the page's state as JSON,
//! where `LiveRoom.liveRoomUserInfo.user.status` is 2 while the account is live and 4 when it is not
//! (the state TikTokLive clients read). Anything else is `Unreadable`.

use garrison_core::Timestamp;
use garrison_core::streams::{PlatformError, StreamFuture, TikTokPage, TikTokPages, TikTokUser};
use serde_json::Value;

use crate::{PAGE_MAX, StreamClients, read_body, transport_error};

const TIKTOK: &str = "TikTok";

/// The JSON inside `<script id="SIGI_STATE" ...>...</script>`, if the page has it.
fn sigi_state(page: &str) -> Option<&str> {
    let at = page.find("id=\"SIGI_STATE\"")?;
    let open = at + page[at..].find('>')? + 1;
    let close = open + page[open..].find("</script>")?;
    Some(&page[open..close])
}

/// What the page says; `Unreadable` for any page that is not the one Garrison knows.
pub(crate) fn read_page(page: &str) -> TikTokPage {
    let Some(state) = sigi_state(page).and_then(|json| serde_json::from_str::<Value>(json).ok()) else {
        return TikTokPage::Unreadable;
    };
    let info = &state["LiveRoom"]["liveRoomUserInfo"];
    let (user, room) = (&info["user"], &info["liveRoom"]);
    match user["status"].as_u64() {
        Some(2) => {
            let room_id = match &user["roomId"] {
                Value::String(id) if !id.is_empty() => id.clone(),
                Value::Number(id) => id.to_string(),
                _ => return TikTokPage::Unreadable,
            };
            TikTokPage::Live {
                room_id,
                title: room["title"].as_str().unwrap_or_default().to_owned(),
                started_at: room["startTime"]
                    .as_i64()
                    .filter(|secs| *secs > 0)
                    .map(|secs| Timestamp::from_millis(secs.saturating_mul(1000))),
                viewers: room["liveRoomStats"]["userCount"].as_u64(),
            }
        }
        Some(4) => TikTokPage::Offline,
        _ => TikTokPage::Unreadable,
    }
}

impl TikTokPages for StreamClients {
    fn live_page(&self, user: &TikTokUser) -> StreamFuture<'_, TikTokPage> {
        let user = user.as_str().to_owned();
        Box::pin(async move {
            let response = self
                .http
                .get(format!("{}/@{user}/live", self.endpoints.tiktok_url))
                .header(reqwest::header::ACCEPT, "text/html")
                .send()
                .await
                .map_err(|e| transport_error(TIKTOK, &e))?;
            let status = response.status();
            if !status.is_success() {
                return Err(PlatformError::Unavailable(format!("TikTok answered {status}")));
            }
            let body = read_body(TIKTOK, response, PAGE_MAX).await?;
            Ok(read_page(&String::from_utf8_lossy(&body)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(state: &str) -> String {
        format!("<html><head><script id=\"SIGI_STATE\" type=\"application/json\">{state}</script></head></html>")
    }

    #[test]
    fn the_pages_state_says_live_or_not_and_nothing_else_is_guessed() {
        let live = page(
            r#"{"LiveRoom":{"liveRoomUserInfo":{"user":{"uniqueId":"k","roomId":"73","status":2},"liveRoom":{"title":"Hi \u003c/script>","startTime":1700000000,"status":2,"liveRoomStats":{"userCount":12}}}}}"#,
        );
        assert_eq!(
            read_page(&live),
            TikTokPage::Live {
                room_id: "73".into(),
                title: "Hi </script>".into(),
                started_at: Some(Timestamp::from_millis(1_700_000_000_000)),
                viewers: Some(12)
            }
        );
        let offline =
            page(r#"{"LiveRoom":{"liveRoomUserInfo":{"user":{"roomId":"","status":4},"liveRoom":{"status":4}}}}"#);
        assert_eq!(read_page(&offline), TikTokPage::Offline);
        for unreadable in [
            "<html>no state</html>".to_owned(),
            page("{not json"),
            page(r#"{"LiveRoom":{"liveRoomUserInfo":{}},"statusCode":10221}"#),
            page(r#"{"LiveRoom":{"liveRoomUserInfo":{"user":{"status":2,"roomId":""}}}}"#),
            "<script id=\"SIGI_STATE\">{}".to_owned(),
        ] {
            assert_eq!(read_page(&unreadable), TikTokPage::Unreadable, "{unreadable}");
        }
    }
}
