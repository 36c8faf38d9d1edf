//! The YouTube Data API v3, as <https://developers.google.com/youtube/v3/docs> documents it:
//!
//! - `GET /youtube/v3/channels`: <https://developers.google.com/youtube/v3/docs/channels/list> (`forHandle`,
//!   `id`; items as <https://developers.google.com/youtube/v3/docs/channels#resource>),
//! - `GET /youtube/v3/playlistItems`: <https://developers.google.com/youtube/v3/docs/playlistItems/list>
//!   (a channel's uploads playlist, newest first),
//! - `GET /youtube/v3/videos`: <https://developers.google.com/youtube/v3/docs/videos/list> (`snippet`,
//!   `liveStreamingDetails` as <https://developers.google.com/youtube/v3/docs/videos#resource>),
//! - `GET /youtube/v3/search`: <https://developers.google.com/youtube/v3/docs/search/list> (`channelId`,
//!   `eventType=live`, `type=video`).
//!
//! API keys arrive in the `X-Goog-Api-Key` header (or, recorded as a violation, the `key` parameter).
//! Every accepted call is charged to its key's daily quota as
//! <https://developers.google.com/youtube/v3/determine_quota_cost> says (1 for each list, 100 for a
//! search), and quotas reset at midnight Pacific time. Errors have Google's JSON error shape with the
//! reasons of <https://developers.google.com/youtube/v3/docs/errors>.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::common::{ID_ALPHABET, Reply, Request, base64, now_secs, pacific_day, random_text, rfc3339};

/// The message of an unknown or missing key.
const KEY_INVALID: &str = "API key not valid. Please pass a valid API key.";
/// The message of an exhausted daily quota.
const QUOTA_EXCEEDED: &str = "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.";
/// The message of an unknown playlist.
const PLAYLIST_NOT_FOUND: &str =
    "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.";

/// The four list methods served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `channels.list`
    Channels,
    /// `playlistItems.list`
    PlaylistItems,
    /// `videos.list`
    Videos,
    /// `search.list`
    Search,
}

impl Endpoint {
    /// The endpoint of a path under `/youtube/v3`.
    pub fn from_path(path: &str) -> Option<Self> {
        match path {
            "/youtube/v3/channels" => Some(Self::Channels),
            "/youtube/v3/playlistItems" => Some(Self::PlaylistItems),
            "/youtube/v3/videos" => Some(Self::Videos),
            "/youtube/v3/search" => Some(Self::Search),
            _ => None,
        }
    }

    /// Quota units a call costs.
    fn cost(self) -> u64 {
        match self {
            Self::Search => 100,
            Self::Channels | Self::PlaylistItems | Self::Videos => 1,
        }
    }

    /// The `part` values the method documents.
    fn parts(self) -> &'static [&'static str] {
        match self {
            Self::Channels => &[
                "auditDetails",
                "brandingSettings",
                "contentDetails",
                "contentOwnerDetails",
                "id",
                "localizations",
                "snippet",
                "statistics",
                "status",
                "topicDetails",
            ],
            Self::PlaylistItems => &["contentDetails", "id", "snippet", "status"],
            Self::Videos => &[
                "contentDetails",
                "fileDetails",
                "id",
                "liveStreamingDetails",
                "localizations",
                "paidProductPlacementDetails",
                "player",
                "processingDetails",
                "recordingDetails",
                "snippet",
                "statistics",
                "status",
                "suggestions",
                "topicDetails",
            ],
            Self::Search => &["id", "snippet"],
        }
    }
}

/// An API key and what it spent on its current Pacific day.
#[derive(Debug)]
struct Key {
    daily_quota: u64,
    used: u64,
    day: i64,
}

/// A channel and its uploads.
#[derive(Debug)]
struct Channel {
    /// `UC` + 22 characters.
    id: String,
    /// The handle without `@`, as given.
    handle: String,
    title: String,
    published_at: i64,
    /// Video ids, newest first.
    uploads: Vec<String>,
}

impl Channel {
    /// `UU` + the channel id's 22 characters.
    fn uploads_playlist(&self) -> String {
        format!("UU{}", &self.id[2..])
    }
}

/// A live broadcast's times and audience.
#[derive(Debug)]
struct Broadcast {
    scheduled_start: i64,
    actual_start: i64,
    actual_end: Option<i64>,
    viewers: u64,
    chat_id: String,
}

/// A video: a plain upload or a live broadcast.
#[derive(Debug)]
struct Video {
    id: String,
    channel_id: String,
    title: String,
    published_at: i64,
    broadcast: Option<Broadcast>,
}

impl Video {
    fn is_live(&self) -> bool {
        self.broadcast.as_ref().is_some_and(|b| b.actual_end.is_none())
    }

    fn live_broadcast_content(&self) -> &'static str {
        if self.is_live() { "live" } else { "none" }
    }

    fn thumbnails(&self) -> Value {
        let suffix = if self.is_live() { "_live" } else { "" };
        let id = &self.id;
        json!({
            "default": {"url": format!("https://i.ytimg.com/vi/{id}/default{suffix}.jpg"), "width": 120, "height": 90},
            "medium": {"url": format!("https://i.ytimg.com/vi/{id}/mqdefault{suffix}.jpg"), "width": 320, "height": 180},
            "high": {"url": format!("https://i.ytimg.com/vi/{id}/hqdefault{suffix}.jpg"), "width": 480, "height": 360},
        })
    }
}

/// The simulated YouTube: keys, channels and videos.
#[derive(Debug, Default)]
pub(crate) struct YouTube {
    keys: HashMap<String, Key>,
    channels: Vec<Channel>,
    videos: HashMap<String, Video>,
}

/// A handle without its `@`, lowercased, for comparing.
fn handle_key(handle: &str) -> String {
    handle.trim().trim_start_matches('@').to_lowercase()
}

/// A random entity tag.
fn etag() -> String {
    random_text(ID_ALPHABET, 27)
}

/// Google's JSON error; `location` names the offending parameter.
fn error(code: u16, message: &str, domain: &str, reason: &str, location: Option<&str>, status: Option<&str>) -> Reply {
    let mut detail = json!({"message": message, "domain": domain, "reason": reason});
    if let Some(location) = location {
        detail["location"] = json!(location);
        detail["locationType"] = json!("parameter");
    }
    let mut body = json!({"code": code, "message": message, "errors": [detail]});
    if let Some(status) = status {
        body["status"] = json!(status);
    }
    Reply::json(code, &json!({ "error": body }))
}

fn required(parameter: &str) -> Reply {
    error(400, &format!("Required parameter: {parameter}"), "global", "required", Some(parameter), None)
}

fn invalid_parameter(parameter: &str, message: &str) -> Reply {
    error(400, message, "youtube.parameter", "invalidParameter", Some(parameter), None)
}

/// The answer while YouTube is down.
pub(crate) fn unavailable() -> Reply {
    error(503, "Backend Error", "global", "backendError", None, Some("UNAVAILABLE"))
}

/// The answer to a path the API does not have.
pub(crate) fn not_found() -> Reply {
    error(404, "Not Found", "global", "notFound", None, Some("NOT_FOUND"))
}

/// The requested parts, checked against the method's.
fn parts(request: &Request<'_>, endpoint: Endpoint) -> Result<Vec<String>, Reply> {
    let parts: Vec<String> = request
        .param("part")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect();
    if parts.is_empty() {
        return Err(required("part"));
    }
    match parts.iter().find(|part| !endpoint.parts().contains(&part.as_str())) {
        Some(unknown) => Err(error(
            400,
            &format!("'{unknown}'"),
            "youtube.part",
            "unknownPart",
            Some("part"),
            Some("INVALID_ARGUMENT"),
        )),
        None => Ok(parts),
    }
}

/// `maxResults`: 0 to 50, 5 when absent.
fn max_results(request: &Request<'_>) -> Result<usize, Reply> {
    match request.param("maxResults") {
        None => Ok(5),
        Some(text) => text.trim().parse::<usize>().ok().filter(|n| *n <= 50).ok_or_else(|| {
            invalid_parameter(
                "maxResults",
                &format!("Invalid value '{text}'. Values must be within the range: [0, 50]"),
            )
        }),
    }
}

impl YouTube {
    /// Accepts `key` from now on with `daily_quota` units a day (keeping what it spent today).
    pub fn add_key(&mut self, key: &str, daily_quota: u64) {
        let day = pacific_day(now_secs());
        self.keys.entry(key.to_owned()).or_insert(Key { daily_quota, used: 0, day }).daily_quota = daily_quota;
    }

    /// Units `key` spent today (0 for an unknown key).
    pub fn quota_used(&mut self, key: &str) -> u64 {
        let today = pacific_day(now_secs());
        self.keys.get_mut(key).map_or(0, |key| {
            key.roll(today);
            key.used
        })
    }

    /// Starts a new quota day for every key.
    pub fn reset_quota(&mut self) {
        for key in self.keys.values_mut() {
            key.used = 0;
        }
    }

    fn channel_index(&self, handle: &str) -> Option<usize> {
        let handle = handle_key(handle);
        self.channels.iter().position(|c| c.handle.to_lowercase() == handle)
    }

    /// Adds a channel (or retitles an existing one) and answers its id.
    pub fn add_channel(&mut self, handle: &str, title: &str) -> String {
        if let Some(index) = self.channel_index(handle) {
            self.channels[index].title = title.to_owned();
            return self.channels[index].id.clone();
        }
        let id = loop {
            let id = format!("UC{}{}", random_text(ID_ALPHABET, 21), random_text(b"AQgw", 1));
            if self.channels.iter().all(|c| c.id != id) {
                break id;
            }
        };
        let handle = handle.trim().trim_start_matches('@').to_owned();
        self.channels.push(Channel {
            id: id.clone(),
            handle,
            title: title.to_owned(),
            published_at: now_secs(),
            uploads: Vec::new(),
        });
        id
    }

    /// Puts a new video at the top of a channel's uploads; `None` for an unknown handle.
    fn publish(&mut self, handle: &str, title: &str, broadcast: Option<u64>) -> Option<String> {
        let index = self.channel_index(handle)?;
        let id = loop {
            let id = format!("{}{}", random_text(ID_ALPHABET, 10), random_text(b"AEIMQUYcgkosw048", 1));
            if !self.videos.contains_key(&id) {
                break id;
            }
        };
        let now = now_secs();
        let broadcast = broadcast.map(|viewers| Broadcast {
            scheduled_start: now,
            actual_start: now,
            actual_end: None,
            viewers,
            chat_id: base64(format!("\n\r\n\x0b{id}*'\n\x18{}\x12\x0b{id}", self.channels[index].id).as_bytes())
                .trim_end_matches('=')
                .to_owned(),
        });
        let channel = &mut self.channels[index];
        channel.uploads.insert(0, id.clone());
        let video = Video {
            id: id.clone(),
            channel_id: channel.id.clone(),
            title: title.to_owned(),
            published_at: now,
            broadcast,
        };
        self.videos.insert(id.clone(), video);
        Some(id)
    }

    /// A plain video at the top of a channel's uploads; `None` for an unknown handle.
    pub fn upload(&mut self, handle: &str, title: &str) -> Option<String> {
        self.publish(handle, title, None)
    }

    /// A new live broadcast at the top of a channel's uploads; `None` for an unknown handle.
    pub fn go_live(&mut self, handle: &str, title: &str, viewers: u64) -> Option<String> {
        self.publish(handle, title, Some(viewers))
    }

    /// Ends a channel's live broadcasts; `false` for an unknown handle.
    pub fn go_offline(&mut self, handle: &str) -> bool {
        let Some(index) = self.channel_index(handle) else {
            return false;
        };
        let now = now_secs();
        for id in &self.channels[index].uploads {
            if let Some(broadcast) = self.videos.get_mut(id).and_then(|v| v.broadcast.as_mut())
                && broadcast.actual_end.is_none()
            {
                broadcast.actual_end = Some(now.max(broadcast.actual_start));
            }
        }
        true
    }

    /// Answers a call: the key, the quota, then the method. `route` names it in violations.
    pub fn serve(
        &mut self,
        endpoint: Endpoint,
        request: &Request<'_>,
        route: &str,
        violations: &mut Vec<String>,
    ) -> Reply {
        let in_query = request.param("key");
        if in_query.is_some() {
            violations.push(format!(
                "{route}: the API key was sent in the URL (`key` query parameter); send it in the X-Goog-Api-Key header"
            ));
        }
        let secret = request.header("x-goog-api-key").or(in_query).map(str::trim).unwrap_or_default();
        let today = pacific_day(now_secs());
        let Some(key) = self.keys.get_mut(secret) else {
            return error(400, KEY_INVALID, "global", "keyInvalid", None, Some("INVALID_ARGUMENT"));
        };
        key.roll(today);
        let cost = endpoint.cost();
        if key.used.saturating_add(cost) > key.daily_quota {
            return error(403, QUOTA_EXCEEDED, "youtube.quota", "quotaExceeded", None, None);
        }
        key.used += cost;
        let parts = match parts(request, endpoint) {
            Ok(parts) => parts,
            Err(reply) => return reply,
        };
        let has = |part: &str| parts.iter().any(|p| p == part);
        let answer = match endpoint {
            Endpoint::Channels => self.channels_list(request, &has),
            Endpoint::PlaylistItems => self.playlist_items_list(request, &has),
            Endpoint::Videos => self.videos_list(request, &has),
            Endpoint::Search => self.search_list(request, &has),
        };
        answer.unwrap_or_else(|reply| reply)
    }

    fn channels_list(&self, request: &Request<'_>, has: &dyn Fn(&str) -> bool) -> Result<Reply, Reply> {
        let found: Vec<&Channel> = if let Some(handle) = request.param("forHandle") {
            self.channel_index(handle).map(|i| &self.channels[i]).into_iter().collect()
        } else if let Some(ids) = request.param("id") {
            ids.split(',').filter_map(|id| self.channels.iter().find(|c| c.id == id.trim())).collect()
        } else if request.param("forUsername").is_some() {
            Vec::new()
        } else {
            return Err(error(
                400,
                "No filter selected. Expected one of: forUsername, managedByMe, forHandle, id, mine, categoryId",
                "youtube.parameter",
                "missingRequiredParameter",
                Some("parameters"),
                None,
            ));
        };
        let items: Vec<Value> = found.iter().map(|channel| self.channel_item(channel, has)).collect();
        let mut body = json!({
            "kind": "youtube#channelListResponse",
            "etag": etag(),
            "pageInfo": {"totalResults": items.len(), "resultsPerPage": 5},
        });
        // YouTube leaves `items` out altogether when nothing matched.
        if !items.is_empty() {
            body["items"] = Value::Array(items);
        }
        Ok(Reply::json(200, &body))
    }

    fn channel_item(&self, channel: &Channel, has: &dyn Fn(&str) -> bool) -> Value {
        let mut item = Map::new();
        item.insert("kind".into(), json!("youtube#channel"));
        item.insert("etag".into(), json!(etag()));
        item.insert("id".into(), json!(channel.id));
        if has("snippet") {
            item.insert(
                "snippet".into(),
                json!({
                    "title": channel.title,
                    "description": "",
                    "customUrl": format!("@{}", channel.handle.to_lowercase()),
                    "publishedAt": rfc3339(channel.published_at),
                    "thumbnails": {
                        "default": {"url": format!("https://yt3.ggpht.com/sim/{}=s88", channel.id), "width": 88, "height": 88},
                        "medium": {"url": format!("https://yt3.ggpht.com/sim/{}=s240", channel.id), "width": 240, "height": 240},
                        "high": {"url": format!("https://yt3.ggpht.com/sim/{}=s800", channel.id), "width": 800, "height": 800},
                    },
                    "localized": {"title": channel.title, "description": ""},
                }),
            );
        }
        if has("contentDetails") {
            item.insert(
                "contentDetails".into(),
                json!({"relatedPlaylists": {"likes": "", "uploads": channel.uploads_playlist()}}),
            );
        }
        if has("statistics") {
            item.insert(
                "statistics".into(),
                json!({
                    "viewCount": "0",
                    "subscriberCount": "0",
                    "hiddenSubscriberCount": false,
                    "videoCount": channel.uploads.len().to_string(),
                }),
            );
        }
        Value::Object(item)
    }

    fn playlist_items_list(&self, request: &Request<'_>, has: &dyn Fn(&str) -> bool) -> Result<Reply, Reply> {
        let Some(playlist_id) = request.param("playlistId").map(str::trim).filter(|id| !id.is_empty()) else {
            return Err(required("playlistId"));
        };
        let max = max_results(request)?;
        let channel = playlist_id
            .strip_prefix("UU")
            .and_then(|suffix| self.channels.iter().find(|c| &c.id[2..] == suffix))
            .ok_or_else(|| {
                error(404, PLAYLIST_NOT_FOUND, "youtube.playlistItem", "playlistNotFound", Some("playlistId"), None)
            })?;
        let items: Vec<Value> = channel
            .uploads
            .iter()
            .filter_map(|id| self.videos.get(id))
            .take(max)
            .enumerate()
            .map(|(position, video)| {
                let mut item = Map::new();
                item.insert("kind".into(), json!("youtube#playlistItem"));
                item.insert("etag".into(), json!(etag()));
                item.insert("id".into(), json!(base64(format!("{playlist_id}.{}", video.id).as_bytes())));
                if has("snippet") {
                    item.insert(
                        "snippet".into(),
                        json!({
                            "publishedAt": rfc3339(video.published_at),
                            "channelId": channel.id,
                            "title": video.title,
                            "description": "",
                            "thumbnails": video.thumbnails(),
                            "channelTitle": channel.title,
                            "playlistId": playlist_id,
                            "position": position,
                            "resourceId": {"kind": "youtube#video", "videoId": video.id},
                            "videoOwnerChannelTitle": channel.title,
                            "videoOwnerChannelId": channel.id,
                        }),
                    );
                }
                if has("contentDetails") {
                    item.insert(
                        "contentDetails".into(),
                        json!({"videoId": video.id, "videoPublishedAt": rfc3339(video.published_at)}),
                    );
                }
                if has("status") {
                    item.insert("status".into(), json!({"privacyStatus": "public"}));
                }
                Value::Object(item)
            })
            .collect();
        Ok(Reply::json(
            200,
            &json!({
                "kind": "youtube#playlistItemListResponse",
                "etag": etag(),
                "items": items,
                "pageInfo": {"totalResults": channel.uploads.len(), "resultsPerPage": max},
            }),
        ))
    }

    fn videos_list(&self, request: &Request<'_>, has: &dyn Fn(&str) -> bool) -> Result<Reply, Reply> {
        let Some(ids) = request.param("id") else {
            return Err(error(
                400,
                "No filter selected. Expected one of: myRating, chart, id",
                "youtube.parameter",
                "missingRequiredParameter",
                Some("parameters"),
                None,
            ));
        };
        let ids: Vec<&str> = ids.split(',').map(str::trim).filter(|id| !id.is_empty()).collect();
        if ids.len() > 50 {
            return Err(error(
                400,
                "The request specifies more than 50 video ids in the <code>id</code> parameter.",
                "youtube.parameter",
                "invalidValue",
                Some("id"),
                None,
            ));
        }
        let items: Vec<Value> =
            ids.iter().filter_map(|id| self.videos.get(*id)).map(|v| self.video_item(v, has)).collect();
        Ok(Reply::json(
            200,
            &json!({
                "kind": "youtube#videoListResponse",
                "etag": etag(),
                "items": items,
                "pageInfo": {"totalResults": items.len(), "resultsPerPage": items.len()},
            }),
        ))
    }

    fn channel_title(&self, channel_id: &str) -> &str {
        self.channels.iter().find(|c| c.id == channel_id).map_or("", |c| c.title.as_str())
    }

    fn video_item(&self, video: &Video, has: &dyn Fn(&str) -> bool) -> Value {
        let mut item = Map::new();
        item.insert("kind".into(), json!("youtube#video"));
        item.insert("etag".into(), json!(etag()));
        item.insert("id".into(), json!(video.id));
        if has("snippet") {
            item.insert(
                "snippet".into(),
                json!({
                    "publishedAt": rfc3339(video.published_at),
                    "channelId": video.channel_id,
                    "title": video.title,
                    "description": "",
                    "thumbnails": video.thumbnails(),
                    "channelTitle": self.channel_title(&video.channel_id),
                    "categoryId": "20",
                    "liveBroadcastContent": video.live_broadcast_content(),
                    "localized": {"title": video.title, "description": ""},
                }),
            );
        }
        if has("contentDetails") {
            let duration = if video.broadcast.is_some() { "P0D" } else { "PT3M20S" };
            item.insert(
                "contentDetails".into(),
                json!({"duration": duration, "dimension": "2d", "definition": "hd", "caption": "false",
                       "licensedContent": false, "contentRating": {}, "projection": "rectangular"}),
            );
        }
        if has("statistics") {
            item.insert(
                "statistics".into(),
                json!({"viewCount": "0", "likeCount": "0", "favoriteCount": "0", "commentCount": "0"}),
            );
        }
        if has("liveStreamingDetails")
            && let Some(broadcast) = &video.broadcast
        {
            let mut details = Map::new();
            details.insert("actualStartTime".into(), json!(rfc3339(broadcast.actual_start)));
            if let Some(end) = broadcast.actual_end {
                details.insert("actualEndTime".into(), json!(rfc3339(end)));
            }
            details.insert("scheduledStartTime".into(), json!(rfc3339(broadcast.scheduled_start)));
            if broadcast.actual_end.is_none() {
                // YouTube sends the audience as a string.
                details.insert("concurrentViewers".into(), json!(broadcast.viewers.to_string()));
                details.insert("activeLiveChatId".into(), json!(broadcast.chat_id));
            }
            item.insert("liveStreamingDetails".into(), Value::Object(details));
        }
        Value::Object(item)
    }

    fn search_list(&self, request: &Request<'_>, has: &dyn Fn(&str) -> bool) -> Result<Reply, Reply> {
        let max = max_results(request)?;
        let kinds = request.param("type").unwrap_or("video,channel,playlist");
        let event_type = request.param("eventType");
        if event_type.is_some() && kinds.trim() != "video" {
            return Err(error(
                400,
                "The request contains an invalid combination of search filters and/or restrictions. Note that you must set the <code>type</code> parameter to <code>video</code> if you set a value for the <code>eventType</code>, <code>videoCaption</code>, <code>videoCategoryId</code>, <code>videoDefinition</code>, <code>videoDimension</code>, <code>videoDuration</code>, <code>videoEmbeddable</code>, <code>videoLicense</code>, <code>videoSyndicated</code>, or <code>videoType</code> parameters.",
                "youtube.search",
                "invalidSearchFilter",
                Some("parameters"),
                None,
            ));
        }
        let wanted: fn(&Video) -> bool = match event_type {
            None => |_| true,
            Some("live") => Video::is_live,
            Some("completed") => |v| v.broadcast.as_ref().is_some_and(|b| b.actual_end.is_some()),
            Some("upcoming") => |_| false,
            Some(other) => {
                return Err(invalid_parameter("eventType", &format!("Invalid value '{other}' for eventType.")));
            }
        };
        let channel_id = request.param("channelId");
        let mut found: Vec<&Video> = match kinds.split(',').any(|k| k.trim() == "video") {
            false => Vec::new(),
            true => self
                .channels
                .iter()
                .filter(|c| channel_id.is_none_or(|id| c.id == id))
                .flat_map(|c| c.uploads.iter().filter_map(|id| self.videos.get(id)))
                .filter(|v| wanted(v))
                .collect(),
        };
        found.sort_by_key(|v| std::cmp::Reverse(v.published_at));
        let total = found.len();
        let items: Vec<Value> = found
            .into_iter()
            .take(max)
            .map(|video| {
                let mut item = Map::new();
                item.insert("kind".into(), json!("youtube#searchResult"));
                item.insert("etag".into(), json!(etag()));
                item.insert("id".into(), json!({"kind": "youtube#video", "videoId": video.id}));
                if has("snippet") {
                    item.insert(
                        "snippet".into(),
                        json!({
                            "publishedAt": rfc3339(video.published_at),
                            "channelId": video.channel_id,
                            "title": video.title,
                            "description": "",
                            "thumbnails": video.thumbnails(),
                            "channelTitle": self.channel_title(&video.channel_id),
                            "liveBroadcastContent": video.live_broadcast_content(),
                            "publishTime": rfc3339(video.published_at),
                        }),
                    );
                }
                Value::Object(item)
            })
            .collect();
        Ok(Reply::json(
            200,
            &json!({
                "kind": "youtube#searchListResponse",
                "etag": etag(),
                "regionCode": "US",
                "pageInfo": {"totalResults": total, "resultsPerPage": max},
                "items": items,
            }),
        ))
    }
}

impl Key {
    /// Starts the key's quota afresh when the Pacific day changed.
    fn roll(&mut self, today: i64) {
        if self.day != today {
            self.day = today;
            self.used = 0;
        }
    }
}
