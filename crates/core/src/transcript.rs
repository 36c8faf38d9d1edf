//! Transcripts: where their pages and index entries are kept, and who may list them.
//!
//! A transcript's page is `transcripts/html/<viewId>.html`, reachable by its unguessable view id (128
//! random bits). Its index entry is `transcripts/index/<guild>/bot-<bot>/<countdown>-<channel>-<viewId>.json`:
//! the bot that made it and the channel it covers are in the key, so listing one bot's transcripts is one
//! prefix, and the channel rule needs no read; the countdown (`u64::MAX` minus the creation time in
//! milliseconds, 20 digits) makes key order newest first.
//!
//! The bot route lists only transcripts the calling bot made, of channels it can view now. Entries
//! written before the bot was part of the key (`transcripts/index/<guild>/<countdown>-<viewId>.json`)
//! have no known creator: the bot route lists them to nobody (their pages stay reachable by view id).
//!
//! Pages are keyset-paginated: a cursor names the last entry shown and the next page starts after it;
//! `page` is accepted up to [`MAX_LIST_OFFSET`] entries deep, and one listing examines at most
//! [`SCAN_BUDGET`] index keys, so no request scans without end.

use crate::ServerId;
use std::{collections::HashSet, future::Future, pin::Pin, sync::Arc};

use bytes::Bytes;
use futures_util::{
    StreamExt,
    future::{try_join, try_join3},
};
use serde_json::{Value, json};

use crate::{
    Clock, Timestamp,
    discord::{
        BotToken, Channel, DiscordBot, DiscordBots, DiscordError, Guild, Member, NewMessage, Permissions, Role,
        Snowflake, Unknown, base_permissions, channel_kind, channel_permissions, connect,
    },
    entropy::{Entropy, EntropyError},
    objects::{Continuation, MAX_LIST_LIMIT, ObjectBody, ObjectError, ObjectKey, ObjectPrefix, ObjectStore},
    threads::{WriteQueue, run_write},
    webhooks::Outbox,
};

/// Entries per page when the caller names no `limit`.
pub const DEFAULT_LIST_LIMIT: usize = 25;
/// The most entries one page holds.
pub const MAX_LIST_LIMIT_ENTRIES: usize = 100;
/// How deep `page` may reach, in entries (`(page - 1) * limit`); past it, use the cursor.
pub const MAX_LIST_OFFSET: usize = 10_000;
/// The most index keys one listing examines (hidden ones included); a listing that stops here hands
/// back a cursor to go on from.
pub const SCAN_BUDGET: usize = 20_000;

/// A transcript's view id (read with [`ViewId::parse_exact`]: only as the server writes them).
pub use crate::view_id::ViewId;

/// The object key of a transcript's page.
pub fn html_key(view: &ViewId) -> Result<ObjectKey, ObjectError> {
    ObjectKey::parse(&format!("transcripts/html/{view}.html"))
}

/// The prefix of the index entries `bot` made in `guild`.
pub fn index_prefix(guild: ServerId, bot: Snowflake) -> Result<ObjectPrefix, ObjectError> {
    ObjectPrefix::parse(&format!("transcripts/index/{guild}/bot-{bot}/"))
}

/// The channel whose VIEW_CHANNEL decides who sees a transcript of `channel`: a thread's parent (threads
/// are not among a guild's channels, and their visibility follows the parent's), else the channel.
pub fn visibility_channel(channel: &Channel) -> Snowflake {
    const THREADS: [u8; 3] = [10, 11, 12];
    match channel.parent_id {
        Some(parent) if THREADS.contains(&channel.kind) => parent,
        _ => channel.id,
    }
}

/// The key of an index entry (see the module documentation). `channel` is the visibility channel.
pub fn index_key(
    guild: ServerId,
    bot: Snowflake,
    created: Timestamp,
    channel: Snowflake,
    view: &ViewId,
) -> Result<ObjectKey, ObjectError> {
    let countdown = u64::MAX - u64::try_from(created.millis()).unwrap_or(0);
    ObjectKey::parse(&format!("transcripts/index/{guild}/bot-{bot}/{countdown:020}-{channel}-{view}.json"))
}

/// Where a listing starts: after a cursor (the last entry of the previous page), or at an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor(String);

impl ListCursor {
    /// Parses a cursor as [`TranscriptPage::next`] hands them out: `<20 digits>-<channel>-<viewId>`.
    pub fn parse(text: &str) -> Option<Self> {
        parse_entry_name(text).map(|_| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The channel and view id an index entry's name carries (`<countdown>-<channel>-<viewId>`).
fn parse_entry_name(name: &str) -> Option<(Snowflake, ViewId)> {
    let mut parts = name.splitn(3, '-');
    let (countdown, channel, view) = (parts.next()?, parts.next()?, parts.next()?);
    if countdown.len() != 20 || !countdown.bytes().all(|b| b.is_ascii_digit()) || countdown.parse::<u64>().is_err() {
        return None;
    }
    let channel = Snowflake::parse("channel", channel).ok()?;
    Some((channel, ViewId::parse_exact(view)?))
}

/// The last segment of an index key without `.json`, if it is one.
fn entry_name(key: &ObjectKey) -> Option<&str> {
    key.as_str().rsplit('/').next()?.strip_suffix(".json")
}

/// Why a listing request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListRequestError {
    #[error("page: from 1; limit: from 1 to {MAX_LIST_LIMIT_ENTRIES}")]
    OutOfRange,
    #[error("page: at most {MAX_LIST_OFFSET} entries deep ((page - 1) * limit); continue with the cursor instead")]
    TooDeep,
    #[error("after: not a cursor this server handed out")]
    BadCursor,
    #[error("give either page or after, not both")]
    Both,
}

/// One listing: which guild, from where, how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub guild: ServerId,
    /// Entries to skip (from `page`) when there is no cursor.
    offset: usize,
    after: Option<ListCursor>,
    limit: usize,
}

impl ListRequest {
    /// Checks `page` (from 1), `limit` (1 to 100, default 25) and `after` (a cursor) with checked
    /// arithmetic: a page deeper than [`MAX_LIST_OFFSET`] entries is refused rather than scanned.
    pub fn new(
        guild: ServerId,
        page: Option<u64>,
        limit: Option<u64>,
        after: Option<&str>,
    ) -> Result<Self, ListRequestError> {
        let limit = limit.unwrap_or(DEFAULT_LIST_LIMIT as u64);
        if !(1..=MAX_LIST_LIMIT_ENTRIES as u64).contains(&limit) || page == Some(0) {
            return Err(ListRequestError::OutOfRange);
        }
        let limit = usize::try_from(limit).map_err(|_| ListRequestError::OutOfRange)?;
        if page.is_some() && after.is_some() {
            return Err(ListRequestError::Both);
        }
        let after = after.map(|a| ListCursor::parse(a).ok_or(ListRequestError::BadCursor)).transpose()?;
        let offset = page
            .unwrap_or(1)
            .checked_sub(1)
            .and_then(|p| p.checked_mul(limit as u64))
            .filter(|o| *o <= MAX_LIST_OFFSET as u64)
            .ok_or(ListRequestError::TooDeep)?;
        let offset = usize::try_from(offset).map_err(|_| ListRequestError::TooDeep)?;
        Ok(Self { guild, offset, after, limit })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// One page of a bot's transcripts, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptPage {
    /// The index entries as stored (view id, channel, creator, times, counts, size, file name).
    pub entries: Vec<Value>,
    /// Where the next page starts, when there may be one.
    pub next: Option<ListCursor>,
}

/// Why a listing failed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(transparent)]
    Discord(#[from] DiscordError),
    #[error(transparent)]
    Store(#[from] ObjectError),
}

/// The channels of `guild` in which `member` has VIEW_CHANNEL, by Discord's permission rules (roles,
/// owner, administrator, then each channel's overwrites).
pub fn viewable_channels(guild: &Guild, roles: &[Role], member: &Member, channels: &[Channel]) -> HashSet<Snowflake> {
    let everyone = roles.iter().find(|r| r.id == guild.id).map_or(Permissions::NONE, |r| r.permissions);
    let own: Vec<Permissions> = roles.iter().filter(|r| member.roles.contains(&r.id)).map(|r| r.permissions).collect();
    let base = base_permissions(member.user_id == guild.owner_id, everyone, &own);
    channels
        .iter()
        .filter(|c| c.kind != channel_kind::CATEGORY)
        .filter(|c| {
            channel_permissions(base, guild.id, member.user_id, &member.roles, &c.overwrites)
                .contains(Permissions::VIEW_CHANNEL)
        })
        .map(|c| c.id)
        .collect()
}

/// Lists the transcripts the calling bot made in `request.guild`, of channels it can view now,
/// newest first. Asks Discord (through the bot) for the guild, its roles and channels and the bot's
/// member, so a bot that is not in the guild gets Discord's refusal; then reads index keys from the
/// store (at most [`SCAN_BUDGET`]) and the shown entries.
pub async fn list(
    bot: &dyn DiscordBot,
    objects: &dyn ObjectStore,
    request: &ListRequest,
) -> Result<TranscriptPage, ListError> {
    let me = bot.user().id;
    let guild_id = request.guild;
    let ((guild, roles, member), channels) = try_join(
        try_join3(bot.guild(guild_id), bot.roles(guild_id), bot.member(guild_id, me)),
        bot.guild_channels(guild_id),
    )
    .await?;
    let viewable = viewable_channels(&guild, &roles, &member, &channels);

    let prefix = index_prefix(guild_id, me)?;
    let mut after =
        request.after.as_ref().map(|c| Continuation::new(format!("{}{}.json", prefix.as_str(), c.as_str())));
    let (mut skip, mut examined) = (request.offset, 0usize);
    let mut shown: Vec<ObjectKey> = Vec::with_capacity(request.limit);
    let mut next = None;
    'scan: loop {
        let page = objects.list(&prefix, after.as_ref(), MAX_LIST_LIMIT).await?;
        for object in page.objects {
            examined += 1;
            let name = entry_name(&object.key).and_then(|n| parse_entry_name(n).map(|(channel, _)| (n, channel)));
            if let Some((name, channel)) = name
                && viewable.contains(&channel)
            {
                if skip > 0 {
                    skip -= 1;
                } else {
                    shown.push(object.key.clone());
                    if shown.len() == request.limit {
                        next = Some(ListCursor(name.to_owned()));
                        break 'scan;
                    }
                }
            }
            if examined >= SCAN_BUDGET {
                next = name.map(|(n, _)| ListCursor(n.to_owned()));
                break 'scan;
            }
        }
        match page.next {
            Some(more) => after = Some(more),
            None => break,
        }
    }

    let reads = futures_util::stream::iter(shown.iter().map(|key| read_entry(objects, key))).buffered(8);
    let entries: Vec<Option<Value>> = reads.collect::<Vec<_>>().await.into_iter().collect::<Result<_, _>>()?;
    Ok(TranscriptPage { entries: entries.into_iter().flatten().collect(), next })
}

/// The most bytes an index entry may have (they are a few hundred).
const MAX_ENTRY_BYTES: usize = 64 * 1024;

/// An index entry, or `None` when it was removed meanwhile or is not an entry.
async fn read_entry(objects: &dyn ObjectStore, key: &ObjectKey) -> Result<Option<Value>, ObjectError> {
    let mut body = match objects.get(key).await {
        Ok(body) => body.bytes,
        Err(ObjectError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk?);
        if bytes.len() > MAX_ENTRY_BYTES {
            return Ok(None);
        }
    }
    Ok(serde_json::from_slice::<Value>(&bytes).ok().filter(Value::is_object))
}

/// The most messages one transcript holds.
pub const MAX_MESSAGES: usize = 10_000;
/// Files up to this size are posted to the target channel; larger ones as a link (Discord's upload
/// limit for bots in servers without boosts).
pub const MAX_POSTED_FILE: u64 = 10 * 1024 * 1024;
/// Seconds a caller turned away (too many transcripts at once, or their space in use) is told to wait.
pub const BUSY_RETRY_AFTER_SECONDS: u64 = 30;

/// Why a transcript could not be made, listed or shown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TranscriptError {
    #[error("No messages found in channel")]
    NoMessages,
    #[error("Too many transcripts are being made; retry later.")]
    Busy,
    #[error(
        "The channel's messages need more than {limit} bytes of temporary space (the per-transcript cap); lower X-Limit."
    )]
    JobSpace { limit: u64 },
    #[error("The temporary space for transcripts ({limit} bytes in all) is in use; retry later.")]
    SharedSpace { limit: u64 },
    /// No transcript behind the view id.
    #[error("Transcript not found.")]
    NotFound,
    #[error(transparent)]
    Discord(#[from] DiscordError),
    #[error("object store: {0}")]
    Store(#[from] ObjectError),
    /// The database failed while the transcript's event was recorded.
    #[error(transparent)]
    Records(#[from] crate::Error),
    #[error("transcript: {0}")]
    Internal(String),
}

impl From<ListError> for TranscriptError {
    fn from(err: ListError) -> Self {
        match err {
            ListError::Discord(e) => Self::Discord(e),
            ListError::Store(e) => Self::Store(e),
        }
    }
}

impl From<EntropyError> for TranscriptError {
    fn from(err: EntropyError) -> Self {
        Self::Internal(err.to_string())
    }
}

/// What to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptRequest {
    pub channel: Snowflake,
    /// 1 to [`MAX_MESSAGES`]: the newest this many messages are kept.
    pub limit: usize,
    /// The file name to post and record (`transcript-<channel>.html` when `None`).
    pub filename: Option<String>,
    pub creator: Option<Snowflake>,
    /// Where to post the file (or, past [`MAX_POSTED_FILE`], the link) once it is made.
    pub target: Option<Snowflake>,
}

/// What a renderer made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The channel, as Discord described it to the bot.
    pub channel: Channel,
    pub message_count: usize,
    /// Bytes stored.
    pub size: u64,
}

/// A boxed future of [`TranscriptRenderer::render`].
pub type RenderFuture<'a> = Pin<Box<dyn Future<Output = Result<Rendered, TranscriptError>> + Send + 'a>>;

/// Makes a transcript's page: reads the channel's messages with the bot, renders them with their
/// media into one HTML page, and stores it under `key` (the binary's `TranscriptStudio`).
pub trait TranscriptRenderer: Send + Sync {
    /// Renders up to `limit` of the newest messages of `channel` as of `now` into the object `key`;
    /// `NoMessages` when there are none, `Busy`/`JobSpace`/`SharedSpace` past the renderer's limits.
    fn render<'a>(
        &'a self,
        bot: &'a dyn DiscordBot,
        channel: Snowflake,
        limit: usize,
        key: &'a ObjectKey,
        now: Timestamp,
    ) -> RenderFuture<'a>;
}

/// A transcript made, and where it was posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub view_id: ViewId,
    pub message_count: usize,
    /// The page's permanent link.
    pub link: String,
    /// The target channel and how posting there went (the error said plainly).
    pub posted: Option<(Snowflake, Result<(), String>)>,
}

/// The transcript use cases: make one (and post it), list a bot's, open one by view id.
pub struct TranscriptService {
    discord: Arc<dyn DiscordBots>,
    renderer: Arc<dyn TranscriptRenderer>,
    objects: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    writer: Arc<dyn WriteQueue>,
    outbox: Outbox,
    /// The base of the links handed out (`{public_url}/api/Transcript/view/{viewId}`).
    public_url: String,
}

impl std::fmt::Debug for TranscriptService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscriptService").field("public_url", &self.public_url).finish_non_exhaustive()
    }
}

/// The ports [`TranscriptService`] works over.
#[allow(missing_debug_implementations)] // ports, shown by the service
pub struct TranscriptPorts {
    pub discord: Arc<dyn DiscordBots>,
    pub renderer: Arc<dyn TranscriptRenderer>,
    pub objects: Arc<dyn ObjectStore>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    /// Where the `transcript.created` event is recorded.
    pub writer: Arc<dyn WriteQueue>,
    pub outbox: Outbox,
}

impl TranscriptService {
    pub fn new(ports: TranscriptPorts, public_url: &str) -> Self {
        let TranscriptPorts { discord, renderer, objects, clock, entropy, writer, outbox } = ports;
        let public_url = public_url.trim_end_matches('/').to_owned();
        Self { discord, renderer, objects, clock, entropy, writer, outbox, public_url }
    }

    /// The permanent link of a transcript's page.
    pub fn link(&self, view: &str) -> String {
        format!("{}/api/Transcript/view/{view}", self.public_url)
    }

    /// Makes the transcript of `request.channel` with the bot behind `token`, records its index entry
    /// (under the bot and the channel whose viewers may list it), and posts it to `request.target`
    /// when asked: the file up to [`MAX_POSTED_FILE`], else the link. A failed post does not fail the
    /// transcript.
    pub async fn generate(&self, token: &BotToken, request: &TranscriptRequest) -> Result<Generated, TranscriptError> {
        let bot = connect(self.discord.as_ref(), token).await?;
        let view_id = ViewId::draw(self.entropy.as_ref())?;
        let now = self.clock.now();
        let key = html_key(&view_id)?;
        let rendered = self.renderer.render(bot.as_ref(), request.channel, request.limit, &key, now).await.map_err(
            |e| match e {
                // Reading a channel's history is what a bare 50013 refuses here.
                TranscriptError::Discord(DiscordError::MissingPermission { permission: None }) => {
                    DiscordError::MissingPermission { permission: Some("READ_MESSAGE_HISTORY") }.into()
                }
                other => other,
            },
        )?;
        let channel = &rendered.channel;
        let guild = channel.guild_id.and_then(ServerId::from_discord).ok_or(DiscordError::Unknown(Unknown::Channel))?;
        let filename = request
            .filename
            .clone()
            .unwrap_or_else(|| format!("transcript-{}.html", channel.name.as_deref().unwrap_or("channel")));
        let made_by = bot.user().id;
        let entry = json!({
            "viewId": view_id.as_str(),
            "guildId": guild.to_string(),
            "channelId": request.channel.to_string(),
            "channelName": channel.name,
            "creatorId": request.creator.map(|c| c.to_string()),
            "botId": made_by.to_string(),
            "createdAt": now.to_iso8601(),
            "createdAtMs": now.millis(),
            "messageCount": rendered.message_count,
            "size": rendered.size,
            "filename": filename,
        });
        let index = index_key(guild, made_by, now, visibility_channel(channel), &view_id)?;
        self.objects.put(&index, Bytes::from(entry.to_string()), "application/json").await?;
        // The transcript is in object storage, not the database: its event is recorded once it is
        // stored, before the answer (a crash in between leaves a transcript nobody was told of, and
        // no event of a transcript that does not exist). The view id is left out: it is a password.
        let outbox = self.outbox.clone();
        run_write(self.writer.as_ref(), move || {
            outbox.record(guild, "transcript.created", now, || {
                let mut data = entry;
                if let Some(fields) = data.as_object_mut() {
                    fields.remove("viewId");
                    fields.remove("createdAtMs");
                    fields.insert("serverId".into(), fields.get("guildId").cloned().unwrap_or_default());
                    fields.remove("guildId");
                }
                data
            })
        })
        .await?;

        let link = self.link(view_id.as_str());
        let posted = match request.target {
            Some(target) => {
                let text = format!("Transcript ({} messages): {link}", rendered.message_count);
                let result = if rendered.size <= MAX_POSTED_FILE {
                    match self.read_small(&key).await {
                        Ok(bytes) => {
                            bot.send_file(target, text, filename, bytes).await.map(|_| ()).map_err(|e| e.to_string())
                        }
                        Err(e) => Err(e.to_string()),
                    }
                } else {
                    bot.send_message(target, NewMessage { content: Some(text), ..Default::default() })
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                };
                Some((target, result))
            }
            None => None,
        };
        Ok(Generated { view_id, message_count: rendered.message_count, link, posted })
    }

    /// A whole (small) object: a transcript small enough to post.
    async fn read_small(&self, key: &ObjectKey) -> Result<Vec<u8>, ObjectError> {
        let mut body = self.objects.get(key).await?.bytes;
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        Ok(bytes)
    }

    /// One page of the transcripts the bot behind `token` made in `request`'s guild, of channels it
    /// can view (see [`list`]), each entry with its `directLink`.
    pub async fn list(&self, token: &BotToken, request: &ListRequest) -> Result<TranscriptPage, TranscriptError> {
        let bot = connect(self.discord.as_ref(), token).await?;
        let mut page = list(bot.as_ref(), self.objects.as_ref(), request).await?;
        for entry in &mut page.entries {
            let link = self.link(entry["viewId"].as_str().unwrap_or_default());
            entry["directLink"] = json!(link);
        }
        Ok(page)
    }

    /// The transcript page behind the view id `id`, as stored (to stream).
    pub async fn open(&self, id: &str) -> Result<ObjectBody, TranscriptError> {
        let id = ViewId::parse_exact(id).ok_or(TranscriptError::NotFound)?;
        let key = html_key(&id).map_err(|e| TranscriptError::Internal(e.to_string()))?;
        match self.objects.get(&key).await {
            Ok(body) => Ok(body),
            Err(ObjectError::NotFound(_)) => Err(TranscriptError::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::{Overwrite, OverwriteTarget};

    const GUILD: ServerId = ServerId::from_discord(Snowflake::from_raw(100 << 22)).expect("a snowflake within i64");
    const BOT: Snowflake = Snowflake::from_raw(200 << 22);
    const STAFF: Snowflake = Snowflake::from_raw(300 << 22);

    fn channel(id: u64, kind: u8, overwrites: Vec<Overwrite>) -> Channel {
        Channel {
            id: Snowflake::from_raw(id << 22),
            guild_id: Some(GUILD.snowflake()),
            kind,
            name: Some(format!("c{id}")),
            position: 0,
            parent_id: None,
            topic: None,
            nsfw: false,
            rate_limit_per_user: None,
            bitrate: None,
            user_limit: None,
            overwrites,
        }
    }

    fn role(id: Snowflake, permissions: Permissions) -> Role {
        Role::plain(id, "r", 0, permissions)
    }

    fn guild(owner: Snowflake) -> Guild {
        Guild {
            id: GUILD.snowflake(),
            name: "g".into(),
            owner_id: owner,
            icon: None,
            features: vec![],
            premium_tier: 0,
            premium_subscription_count: None,
            approximate_member_count: None,
            approximate_presence_count: None,
        }
    }

    fn member(roles: Vec<Snowflake>) -> Member {
        Member {
            user_id: BOT,
            username: "bot".into(),
            nick: None,
            roles,
            premium_since: None,
            communication_disabled_until: None,
        }
    }

    #[test]
    fn only_channels_with_view_channel_are_viewable() {
        let deny_everyone = Overwrite {
            target: OverwriteTarget::Role(GUILD.snowflake()),
            allow: Permissions::NONE,
            deny: Permissions::VIEW_CHANNEL,
        };
        let allow_staff = Overwrite {
            target: OverwriteTarget::Role(STAFF),
            allow: Permissions::VIEW_CHANNEL,
            deny: Permissions::NONE,
        };
        let deny_bot = Overwrite {
            target: OverwriteTarget::Member(BOT),
            allow: Permissions::NONE,
            deny: Permissions::VIEW_CHANNEL,
        };
        let channels = vec![
            channel(1, 0, vec![]),
            channel(2, 0, vec![deny_everyone]),
            channel(3, 0, vec![deny_everyone, allow_staff]),
            channel(4, 0, vec![deny_bot]),
            channel(5, channel_kind::CATEGORY, vec![]),
        ];
        let roles = vec![role(GUILD.snowflake(), Permissions::VIEW_CHANNEL), role(STAFF, Permissions::NONE)];
        let ids = |set: HashSet<Snowflake>| {
            let mut v: Vec<u64> = set.into_iter().map(|s| s.get() >> 22).collect();
            v.sort_unstable();
            v
        };
        let plain = viewable_channels(&guild(STAFF), &roles, &member(vec![]), &channels);
        assert_eq!(ids(plain), [1]);
        let staff = viewable_channels(&guild(STAFF), &roles, &member(vec![STAFF]), &channels);
        assert_eq!(ids(staff), [1, 3]);
        let owner = viewable_channels(&guild(BOT), &roles, &member(vec![]), &channels);
        assert_eq!(ids(owner), [1, 2, 3, 4], "the owner sees every channel");
    }

    #[test]
    fn index_keys_sort_newest_first_and_carry_bot_and_channel() {
        let view = ViewId::from_entropy([0xab; 16]);
        let older = index_key(GUILD, BOT, Timestamp::from_millis(1_000), STAFF, &view).expect("key");
        let newer = index_key(GUILD, BOT, Timestamp::from_millis(2_000), STAFF, &view).expect("key");
        assert!(newer < older);
        assert!(index_prefix(GUILD, BOT).expect("prefix").matches(&newer));
        assert!(!index_prefix(GUILD, STAFF).expect("prefix").matches(&newer));
        let name = entry_name(&newer).expect("name");
        assert_eq!(parse_entry_name(name), Some((STAFF, view)));
        assert!(ListCursor::parse(name).is_some());
    }

    #[test]
    fn cursors_and_view_ids_are_strict() {
        for bad in ["", "x", "00000000000000000001-5-abc", "1-2-0123456789abcdef0123456789abcdef", "../../etc"] {
            assert!(ListCursor::parse(bad).is_none(), "{bad}");
        }
        assert!(ViewId::parse_exact(&"A".repeat(32)).is_none());
        assert!(ViewId::parse_exact(&"a".repeat(31)).is_none());
        assert!(ViewId::parse_exact(&"a".repeat(32)).is_some());
    }

    #[test]
    fn page_arithmetic_is_checked_and_bounded() {
        let ok = ListRequest::new(GUILD, Some(3), Some(10), None).expect("valid");
        assert_eq!((ok.offset, ok.limit), (20, 10));
        assert_eq!(ListRequest::new(GUILD, None, None, None).expect("defaults").limit, DEFAULT_LIST_LIMIT);
        assert_eq!(ListRequest::new(GUILD, Some(0), None, None), Err(ListRequestError::OutOfRange));
        assert_eq!(ListRequest::new(GUILD, None, Some(101), None), Err(ListRequestError::OutOfRange));
        assert_eq!(ListRequest::new(GUILD, Some(u64::MAX), Some(100), None), Err(ListRequestError::TooDeep));
        assert_eq!(ListRequest::new(GUILD, Some(102), Some(100), None), Err(ListRequestError::TooDeep));
        assert!(ListRequest::new(GUILD, Some(101), Some(100), None).is_ok());
        assert_eq!(ListRequest::new(GUILD, None, None, Some("nope")), Err(ListRequestError::BadCursor));
        let cursor = format!("{:020}-{}-{}", 5, STAFF, "a".repeat(32));
        assert_eq!(ListRequest::new(GUILD, Some(1), None, Some(&cursor)), Err(ListRequestError::Both));
        assert!(ListRequest::new(GUILD, None, None, Some(&cursor)).is_ok());
    }

    #[test]
    fn threads_are_judged_by_their_parent() {
        let mut thread = channel(9, 11, vec![]);
        thread.parent_id = Some(STAFF);
        assert_eq!(visibility_channel(&thread), STAFF);
        let mut text = channel(8, 0, vec![]);
        text.parent_id = Some(STAFF);
        assert_eq!(visibility_channel(&text), text.id);
    }
}
