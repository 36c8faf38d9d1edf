//! `TranscriptStudio`: a channel's messages into one self-contained HTML file in object storage, with
//! memory that does not grow with the number of messages or the size of their media.
//!
//! 1. Pages of messages (100 at a time, newest first, as Discord serves them) are spooled to a
//!    temporary file, one page per line, up to the requested limit.
//! 2. Every distinct media URL (image, video and audio attachments, embed media, authors' avatars) is
//!    fetched through the safe fetcher into a temporary file, until the media budget (600 MB) is spent;
//!    what is not fetched is shown as a link.
//! 3. The pages are read back oldest first and rendered by `garrison_pages::TranscriptWriter` on a
//!    blocking thread, each media file written once before the first message that uses it; the HTML
//!    flows in 64 KiB chunks through a bounded channel into the object store's streaming upload.
//! 4. A JSON index entry is written next to it, for `GET /api/Transcript/list/{guildId}`.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, BufWriter, Seek, Write},
    sync::Arc,
};

use bytes::Bytes;
use garrison_core::{
    Timestamp,
    discord::{DiscordBot, DiscordError, Snowflake},
    objects::{ByteStream, ObjectError, ObjectKey, ObjectStore},
};
use garrison_fetch::SafeFetcher;
use garrison_pages::{Names, TranscriptHeader, TranscriptWriter};
use serde_json::{Value, json};

/// The most messages one transcript holds.
pub const MAX_MESSAGES: usize = 10_000;
/// All media of one transcript together, in bytes (the specification's 600 MB).
pub const MEDIA_BUDGET: u64 = 600 * 1000 * 1000;
const CHUNK: usize = 64 * 1024;

/// Why a transcript could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error("No messages found in channel")]
    NoMessages,
    #[error(transparent)]
    Discord(#[from] DiscordError),
    #[error("object store: {0}")]
    Store(#[from] ObjectError),
    #[error("transcript: {0}")]
    Internal(String),
}

fn internal(e: impl std::fmt::Display) -> TranscriptError {
    TranscriptError::Internal(e.to_string())
}

/// What to make.
#[derive(Debug, Clone)]
pub struct TranscriptRequest {
    pub channel: Snowflake,
    pub limit: usize,
    pub filename: Option<String>,
    pub creator: Option<Snowflake>,
}

/// What was made.
#[derive(Debug, Clone)]
pub struct Transcript {
    pub view_id: String,
    pub message_count: usize,
    pub size: u64,
    pub filename: String,
}

#[derive(Debug, Clone)]
pub struct TranscriptStudio {
    fetcher: SafeFetcher,
    objects: Arc<dyn ObjectStore>,
}

/// The object keys of a transcript.
pub fn html_key(view_id: &str) -> Result<ObjectKey, ObjectError> {
    ObjectKey::parse(&format!("transcripts/html/{view_id}.html"))
}

/// Index entries sort newest first: the key starts with the time counted down from the far future.
pub fn index_key(guild: Snowflake, created: Timestamp, view_id: &str) -> Result<ObjectKey, ObjectError> {
    let countdown = u64::MAX - u64::try_from(created.millis()).unwrap_or(0);
    ObjectKey::parse(&format!("transcripts/index/{guild}/{countdown:020}-{view_id}.json"))
}

/// The media a message shows, by URL, with the type its source names.
fn media_urls(message: &Value) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for attachment in message["attachments"].as_array().into_iter().flatten() {
        let kind = attachment["content_type"].as_str().map(str::to_owned);
        let is_media = kind.as_deref().is_some_and(|k| ["image/", "video/", "audio/"].iter().any(|p| k.starts_with(p)));
        if let (true, Some(url)) = (is_media, attachment["url"].as_str()) {
            out.push((url.to_owned(), kind));
        }
    }
    for embed in message["embeds"].as_array().into_iter().flatten() {
        for field in ["image", "thumbnail", "video"] {
            if let Some(url) = embed[field]["url"].as_str() {
                out.push((url.to_owned(), None));
            }
        }
    }
    if let Some(avatar) = garrison_pages::avatar_url(&message["author"]) {
        out.push((avatar, None));
    }
    out
}

/// A fetched media file waiting in a temporary file.
struct Media {
    id: String,
    mime: String,
    file: tempfile::NamedTempFile,
    written: bool,
}

/// `Write` into a bounded channel of chunks: the renderer's output on its way to the upload.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, ObjectError>>,
    buffer: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| std::io::Error::other("the upload stopped"))
    }
}

fn sniff_mime(hint: Option<&str>, header: Option<&str>, url: &str) -> Option<String> {
    let usable = |m: &str| ["image/", "video/", "audio/"].iter().any(|p| m.starts_with(p));
    if let Some(m) = hint.or(header).map(|m| m.split(';').next().unwrap_or(m).trim().to_ascii_lowercase())
        && usable(&m)
    {
        return Some(m);
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    garrison_core::discord::messages::mime_for_extension(&ext).filter(|m| usable(m)).map(str::to_owned)
}

impl TranscriptStudio {
    pub fn new(fetcher: SafeFetcher, objects: Arc<dyn ObjectStore>) -> Self {
        Self { fetcher, objects }
    }

    pub fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }

    /// Makes the transcript of `request.channel` with the bot's view of it.
    pub async fn generate(
        &self,
        bot: &dyn DiscordBot,
        request: &TranscriptRequest,
        view_id: String,
        now: Timestamp,
    ) -> Result<Transcript, TranscriptError> {
        let channel = bot.channel(request.channel).await?;
        let guild_id = channel.guild_id.ok_or(DiscordError::Unknown(garrison_core::discord::Unknown::Channel))?;
        let (guild, roles, channels) =
            futures_util::future::try_join3(bot.guild(guild_id), bot.roles(guild_id), bot.guild_channels(guild_id))
                .await?;
        let mut names = Names::new();
        for role in &roles {
            names.insert_role(role.id.get(), role.name.clone(), role.color);
        }
        for c in &channels {
            if let Some(name) = &c.name {
                names.insert_channel(c.id.get(), name.clone());
            }
        }

        // 1. Spool the pages, newest first.
        let mut spool = tempfile::tempfile().map_err(internal)?;
        // Where each page's line starts, so the render can read them back in reverse without a rescan.
        let mut offsets: Vec<u64> = Vec::new();
        let (mut count, mut before, mut at) = (0usize, None, 0u64);
        {
            let mut out = BufWriter::new(&mut spool);
            while count < request.limit {
                let want = u8::try_from((request.limit - count).min(100)).unwrap_or(100);
                let page = bot.messages(request.channel, before, want).await?;
                if page.is_empty() {
                    break;
                }
                count += page.len();
                before =
                    page.last().and_then(|m| m["id"].as_str()).and_then(|id| id.parse().ok()).map(Snowflake::from_raw);
                let mut line = serde_json::to_vec(&page).map_err(internal)?;
                line.push(b'\n');
                out.write_all(&line).map_err(internal)?;
                offsets.push(at);
                at += line.len() as u64;
                if page.len() < usize::from(want) || before.is_none() {
                    break;
                }
            }
            out.flush().map_err(internal)?;
        }
        if count == 0 {
            return Err(TranscriptError::NoMessages);
        }

        // 2. Fetch each distinct media file once, within the budget.
        spool.rewind().map_err(internal)?;
        let mut media: HashMap<String, Media> = HashMap::new();
        let mut refused: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut budget = MEDIA_BUDGET;
        for line in BufReader::new(&spool).lines() {
            let page: Vec<Value> = serde_json::from_str(&line.map_err(internal)?).map_err(internal)?;
            for message in &page {
                for (url, hint) in media_urls(message) {
                    if media.contains_key(&url) || refused.contains(&url) || budget == 0 {
                        continue;
                    }
                    let mut file = tempfile::NamedTempFile::new().map_err(internal)?;
                    let fetched = {
                        let mut sink = BufWriter::new(file.as_file_mut());
                        let result = self.fetcher.fetch_into(&url, budget, &mut sink).await;
                        result.and_then(|got| {
                            sink.flush().map_err(|e| garrison_fetch::FetchError::Network(e.to_string()))?;
                            Ok(got)
                        })
                    };
                    match fetched {
                        Ok((size, header)) => match sniff_mime(hint.as_deref(), header.as_deref(), &url) {
                            Some(mime) => {
                                budget = budget.saturating_sub(size);
                                let id = format!("m{}", media.len());
                                media.insert(url, Media { id, mime, file, written: false });
                            }
                            None => {
                                refused.insert(url);
                            }
                        },
                        Err(error) => {
                            tracing::debug!(error = %error, "transcript media not embedded");
                            refused.insert(url);
                        }
                    }
                }
            }
        }

        // 3. Render oldest first on a blocking thread while the upload consumes the chunks.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, ObjectError>>(8);
        let key = html_key(&view_id)?;
        let channel_name = channel.name.clone().unwrap_or_else(|| "channel".into());
        let guild_name = guild.name.clone();
        let render = tokio::task::spawn_blocking(move || -> Result<usize, TranscriptError> {
            let out = ChannelWriter { tx, buffer: Vec::with_capacity(CHUNK) };
            let header = TranscriptHeader {
                guild_name: &guild_name,
                channel_name: &channel_name,
                created_at_ms: now.millis(),
                message_count_hint: Some(count),
            };
            let mut writer = TranscriptWriter::start(out, &header).map_err(internal)?;
            let mut reader = BufReader::new(spool);
            let mut line = String::new();
            for at in offsets.into_iter().rev() {
                reader.seek(std::io::SeekFrom::Start(at)).map_err(internal)?;
                line.clear();
                reader.read_line(&mut line).map_err(internal)?;
                let page: Vec<Value> = serde_json::from_str(&line).map_err(internal)?;
                for message in page.iter().rev() {
                    for (url, _) in media_urls(message) {
                        if let Some(m) = media.get_mut(&url).filter(|m| !m.written) {
                            let mut file = m.file.reopen().map_err(internal)?;
                            writer.media(&m.id, &m.mime, &mut file).map_err(internal)?;
                            m.written = true;
                        }
                    }
                    let lookup = |url: &str| media.get(url).map(|m| m.id.clone());
                    writer.message(message, &names, &lookup).map_err(internal)?;
                }
            }
            let written = writer.message_count();
            let mut out = writer.finish().map_err(internal)?;
            out.flush().map_err(internal)?;
            Ok(written)
        });
        let body: ByteStream =
            Box::pin(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }));
        let (stored, rendered) = tokio::join!(self.objects.put_stream(&key, body, "text/html; charset=utf-8"), render);
        let written = rendered.map_err(internal)??;
        let size = stored?;

        // 4. The index entry.
        let filename = request
            .filename
            .clone()
            .unwrap_or_else(|| format!("transcript-{}.html", channel.name.as_deref().unwrap_or("channel")));
        let entry = json!({
            "viewId": view_id,
            "guildId": guild_id.to_string(),
            "channelId": request.channel.to_string(),
            "channelName": channel.name,
            "creatorId": request.creator.map(|c| c.to_string()),
            "createdAt": now.to_iso8601(),
            "createdAtMs": now.millis(),
            "messageCount": written,
            "size": size,
            "filename": filename,
        });
        let index = index_key(guild_id, now, &view_id)?;
        self.objects.put(&index, Bytes::from(entry.to_string()), "application/json").await?;
        Ok(Transcript { view_id, message_count: written, size, filename })
    }
}
