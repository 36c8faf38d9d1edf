//! `TranscriptStudio`: a channel's messages into one self-contained HTML file in object storage, with
//! memory that does not grow with the number of messages or the size of their media.
//!
//! 0. A job first takes one of `jobs` permits; at most `queue` more wait for one, and past them the
//!    caller gets `Busy` (503 with Retry-After) before anything is asked of Discord.
//! 1. Pages of messages (100 at a time, newest first, as Discord serves them) are spooled to a
//!    temporary file, one page per line, up to the requested limit.
//! 2. Every distinct media URL (image, video and audio attachments, embed media, authors' avatars) is
//!    fetched through the safe fetcher (any public HTTPS host, port 443) and appended to one second
//!    temporary file, until the media budget (600 MB) or the temporary space is spent; what is not
//!    fetched (or is not an image, video or audio file: SVG and other markup are refused) is shown as
//!    a link.
//! 3. The pages are read back oldest first and rendered by `garrison_pages::TranscriptWriter` on a
//!    blocking thread, each media file written once before the first message that uses it; the HTML
//!    flows in 64 KiB chunks through a bounded channel into the object store's streaming upload.
//! 4. Core's `TranscriptService` writes the index entry and posts the result (this studio is its
//!    `TranscriptRenderer`).
//!
//! A job holds two open files whatever the number of media (both unlinked at creation, so nothing is
//! left behind), writes them only on blocking threads (1 MiB at a time), and counts every byte against
//! its own temporary-space cap and the studio's total.

use std::{
    collections::{HashMap, HashSet},
    fs::File,
    io::{BufRead, BufReader, Read, Seek, SeekFrom, Write},
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
};

use bytes::Bytes;
use garrison_core::{
    Timestamp,
    discord::{DiscordBot, DiscordError, Message, Snowflake},
    objects::ObjectKey,
    objects::{ByteStream, ObjectError, ObjectStore},
    transcript::{RenderFuture, Rendered, TranscriptError, TranscriptRenderer},
};
use garrison_fetch::SafeFetcher;
use garrison_pages::{Names, TranscriptHeader, TranscriptWriter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// All media of one transcript together, in bytes (the specification's 600 MB).
pub const MEDIA_BUDGET: u64 = 600 * 1000 * 1000;
const CHUNK: usize = 64 * 1024;
/// Bytes gathered before one write to a spool file on a blocking thread.
const SPOOL_WRITE: usize = 1024 * 1024;

fn internal(e: impl std::fmt::Display) -> TranscriptError {
    TranscriptError::Internal(e.to_string())
}

/// How much transcript work may happen at once.
#[derive(Debug, Clone)]
pub struct TranscriptLimits {
    /// Jobs that run at once.
    pub jobs: usize,
    /// Jobs that may wait for one of them; past this, `Busy`.
    pub queue: usize,
    /// Temporary space one job may use (spooled pages and media), in bytes.
    pub job_temp_bytes: u64,
    /// Temporary space all jobs together may use, in bytes.
    pub temp_bytes: u64,
    /// Where the temporary files go (`None`: the system's temporary directory).
    pub temp_dir: Option<PathBuf>,
}

impl Default for TranscriptLimits {
    fn default() -> Self {
        Self { jobs: 2, queue: 4, job_temp_bytes: 700 * 1000 * 1000, temp_bytes: 1500 * 1000 * 1000, temp_dir: None }
    }
}

/// Running jobs and the ones waiting for a permit.
#[derive(Debug)]
struct JobGate {
    running: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
}

/// One waiting job; leaving the queue (admitted, or the caller went away) makes room.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl JobGate {
    async fn admit(&self) -> Result<OwnedSemaphorePermit, TranscriptError> {
        if let Ok(permit) = Arc::clone(&self.running).try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(TranscriptError::Busy);
        }
        let _waiting = Waiting(&self.waiting);
        Arc::clone(&self.running).acquire_owned().await.map_err(|_| TranscriptError::Busy)
    }
}

/// The temporary space all jobs share.
#[derive(Debug)]
struct SharedSpace {
    limit: u64,
    used: AtomicU64,
}

/// One job's share of the temporary space: what it reserved is given back when it ends.
#[derive(Debug)]
struct JobSpace {
    shared: Arc<SharedSpace>,
    limit: u64,
    used: u64,
}

impl JobSpace {
    fn reserve(&mut self, bytes: u64) -> Result<(), TranscriptError> {
        let wanted = self.used.checked_add(bytes).filter(|w| *w <= self.limit);
        let Some(wanted) = wanted else { return Err(TranscriptError::JobSpace { limit: self.limit }) };
        let limit = self.shared.limit;
        self.shared
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(bytes).filter(|total| *total <= limit)
            })
            .map_err(|_| TranscriptError::SharedSpace { limit })?;
        self.used = wanted;
        Ok(())
    }

    fn release(&mut self, bytes: u64) {
        let bytes = bytes.min(self.used);
        self.used -= bytes;
        self.shared.used.fetch_sub(bytes, Ordering::SeqCst);
    }
}

impl Drop for JobSpace {
    fn drop(&mut self) {
        self.shared.used.fetch_sub(self.used, Ordering::SeqCst);
    }
}

/// An anonymous temporary file written from async code: bytes gather in memory and go to disk
/// [`SPOOL_WRITE`] at a time on a blocking thread, so no async worker waits for the disk.
struct Spool {
    file: Option<File>,
    buffer: Vec<u8>,
    flushed: u64,
}

impl Spool {
    async fn create(dir: Option<PathBuf>) -> Result<Self, TranscriptError> {
        let file = tokio::task::spawn_blocking(move || match dir {
            Some(dir) => tempfile::tempfile_in(dir),
            None => tempfile::tempfile(),
        })
        .await
        .map_err(internal)?
        .map_err(|e| internal(format!("cannot create a temporary file: {e}")))?;
        Ok(Self { file: Some(file), buffer: Vec::with_capacity(SPOOL_WRITE), flushed: 0 })
    }

    fn len(&self) -> u64 {
        self.flushed + self.buffer.len() as u64
    }

    async fn write(&mut self, data: &[u8]) -> Result<(), TranscriptError> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= SPOOL_WRITE {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), TranscriptError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut file = self.file.take().ok_or_else(|| internal("spool file lost"))?;
        let buffer = std::mem::take(&mut self.buffer);
        let (file, mut buffer, written) = tokio::task::spawn_blocking(move || {
            let written = file.write_all(&buffer);
            (file, buffer, written)
        })
        .await
        .map_err(internal)?;
        written.map_err(|e| internal(format!("cannot write a temporary file: {e}")))?;
        self.flushed += buffer.len() as u64;
        buffer.clear();
        self.buffer = buffer;
        self.file = Some(file);
        Ok(())
    }

    /// Drops everything past `len` (a download that was given up).
    async fn truncate(&mut self, len: u64) -> Result<(), TranscriptError> {
        if len >= self.flushed {
            self.buffer.truncate(usize::try_from(len - self.flushed).unwrap_or(usize::MAX));
            return Ok(());
        }
        self.buffer.clear();
        let mut file = self.file.take().ok_or_else(|| internal("spool file lost"))?;
        let (file, done) = tokio::task::spawn_blocking(move || {
            let done = file.set_len(len).and_then(|()| file.seek(SeekFrom::Start(len)).map(|_| ()));
            (file, done)
        })
        .await
        .map_err(internal)?;
        done.map_err(|e| internal(format!("cannot truncate a temporary file: {e}")))?;
        self.flushed = len;
        self.file = Some(file);
        Ok(())
    }

    /// Everything written, as a file to read on a blocking thread.
    async fn finish(mut self) -> Result<File, TranscriptError> {
        self.flush().await?;
        self.file.take().ok_or_else(|| internal("spool file lost"))
    }
}

#[derive(Debug, Clone)]
pub struct TranscriptStudio {
    fetcher: SafeFetcher,
    objects: Arc<dyn ObjectStore>,
    limits: TranscriptLimits,
    gate: Arc<JobGate>,
    space: Arc<SharedSpace>,
}

/// The media a message shows, by URL, with the type its source names.
fn media_urls(message: &Message) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for attachment in &message.attachments {
        let kind = attachment.content_type.clone();
        let is_media = kind.as_deref().is_some_and(|k| ["image/", "video/", "audio/"].iter().any(|p| k.starts_with(p)));
        if let (true, Some(url)) = (is_media, &attachment.url) {
            out.push((url.clone(), kind));
        }
    }
    for embed in &message.embeds {
        for media in [&embed.image, &embed.thumbnail, &embed.video].into_iter().flatten() {
            if let Some(url) = &media.url {
                out.push((url.clone(), None));
            }
        }
    }
    if let Some(avatar) = garrison_pages::avatar_url(&super::page_message::user(&message.author)) {
        out.push((avatar, None));
    }
    out
}

/// A fetched media file: where its bytes are in the media spool.
struct Media {
    id: String,
    mime: String,
    offset: u64,
    len: u64,
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

/// Whether a media type is one the page embeds: images, video and audio, but never SVG (an image
/// that is a document, with scripts and links of its own).
fn embeddable(mime: &str) -> bool {
    ["image/", "video/", "audio/"].iter().any(|p| mime.starts_with(p)) && !mime.starts_with("image/svg")
}

/// The type a media file is embedded as: the source's hint, the server's header, or the URL's
/// extension, whichever first names an embeddable type.
fn sniff_mime(hint: Option<&str>, header: Option<&str>, url: &str) -> Option<String> {
    if let Some(m) = hint.or(header).map(|m| m.split(';').next().unwrap_or(m).trim().to_ascii_lowercase())
        && embeddable(&m)
    {
        return Some(m);
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    garrison_core::discord::messages::mime_for_extension(&ext).filter(|m| embeddable(m)).map(str::to_owned)
}

/// Whether the first bytes of a file are markup (SVG, HTML, XML): no image, video or audio format
/// starts with `<`, whatever the file claims to be.
fn looks_like_markup(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    head.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b == b'<')
}

/// How one media download ended.
enum Fetched {
    Kept {
        len: u64,
        content_type: Option<String>,
        markup: bool,
    },
    Skipped,
    /// The temporary space ran out: no more media for this job.
    NoSpace,
}

impl TranscriptStudio {
    pub fn new(fetcher: SafeFetcher, objects: Arc<dyn ObjectStore>, limits: TranscriptLimits) -> Self {
        let gate = Arc::new(JobGate {
            running: Arc::new(Semaphore::new(limits.jobs.max(1))),
            waiting: AtomicUsize::new(0),
            queue: limits.queue,
        });
        let space = Arc::new(SharedSpace { limit: limits.temp_bytes, used: AtomicU64::new(0) });
        Self { fetcher, objects, limits, gate, space }
    }

    /// Downloads one media file onto the end of `spool`, reserving its space as it arrives; on any
    /// failure the spool is cut back to where it was.
    async fn fetch_media(
        &self,
        url: &str,
        budget: u64,
        spool: &mut Spool,
        space: &mut JobSpace,
    ) -> Result<Fetched, TranscriptError> {
        let start = spool.len();
        let mut head: Vec<u8> = Vec::new();
        let outcome = async {
            let mut download = match self.fetcher.open(url, budget).await {
                Ok(download) => download,
                Err(error) => {
                    tracing::debug!(error = %error, "transcript media not embedded");
                    return Ok(Fetched::Skipped);
                }
            };
            loop {
                let chunk = match download.chunk().await {
                    Ok(Some(chunk)) => chunk,
                    Ok(None) => break,
                    Err(error) => {
                        tracing::debug!(error = %error, "transcript media not embedded");
                        return Ok(Fetched::Skipped);
                    }
                };
                match space.reserve(chunk.len() as u64) {
                    Ok(()) => {}
                    Err(TranscriptError::JobSpace { .. } | TranscriptError::SharedSpace { .. }) => {
                        return Ok(Fetched::NoSpace);
                    }
                    Err(other) => return Err(other),
                }
                if head.len() < 64 {
                    head.extend_from_slice(&chunk[..chunk.len().min(64 - head.len())]);
                }
                spool.write(&chunk).await?;
            }
            let content_type = download.content_type().map(str::to_owned);
            Ok(Fetched::Kept { len: download.received(), content_type, markup: looks_like_markup(&head) })
        }
        .await;
        let keep = matches!(outcome, Ok(Fetched::Kept { markup: false, .. }));
        if !keep {
            let end = spool.len();
            spool.truncate(start).await?;
            space.release(end - start);
        }
        outcome
    }

    /// Makes the transcript of `channel_id` with the bot's view of it, into the object `key`.
    async fn render_into(
        &self,
        bot: &dyn DiscordBot,
        channel_id: Snowflake,
        limit: usize,
        key: &ObjectKey,
        now: Timestamp,
    ) -> Result<Rendered, TranscriptError> {
        let _permit = self.gate.admit().await?;
        let mut space = JobSpace { shared: Arc::clone(&self.space), limit: self.limits.job_temp_bytes, used: 0 };
        let channel = bot.channel(channel_id).await?;
        let guild_id = channel
            .guild_id
            .and_then(garrison_core::ServerId::from_discord)
            .ok_or(DiscordError::Unknown(garrison_core::discord::Unknown::Channel))?;
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
        let mut pages = Spool::create(self.limits.temp_dir.clone()).await?;
        // Where each page's line starts, so the render can read them back in reverse without a rescan.
        let mut offsets: Vec<u64> = Vec::new();
        let mut urls: Vec<(String, Option<String>)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let (mut count, mut before) = (0usize, None);
        while count < limit {
            let want = u8::try_from((limit - count).min(100)).unwrap_or(100);
            let page = bot.messages(channel_id, before, want).await?;
            if page.is_empty() {
                break;
            }
            count += page.len();
            before = page.last().map(|m| m.id);
            // The media in the order the pages name them (newest first), each URL once.
            for message in &page {
                for (url, hint) in media_urls(message) {
                    if seen.insert(url.clone()) {
                        urls.push((url, hint));
                    }
                }
            }
            let mut line = serde_json::to_vec(&page).map_err(internal)?;
            line.push(b'\n');
            space.reserve(line.len() as u64)?;
            offsets.push(pages.len());
            pages.write(&line).await?;
            if page.len() < usize::from(want) || before.is_none() {
                break;
            }
        }
        drop(seen);
        if count == 0 {
            return Err(TranscriptError::NoMessages);
        }
        let pages = pages.finish().await?;

        // 2. Fetch each distinct media file once, within the budget, into one spool file.
        let mut media_spool = Spool::create(self.limits.temp_dir.clone()).await?;
        let mut media: HashMap<String, Media> = HashMap::new();
        let mut budget = MEDIA_BUDGET;
        for (url, hint) in urls {
            if budget == 0 {
                break;
            }
            let offset = media_spool.len();
            match self.fetch_media(&url, budget, &mut media_spool, &mut space).await? {
                Fetched::Kept { len, content_type, markup: false } => {
                    if let Some(mime) = sniff_mime(hint.as_deref(), content_type.as_deref(), &url) {
                        budget = budget.saturating_sub(len);
                        let id = format!("m{}", media.len());
                        media.insert(url, Media { id, mime, offset, len, written: false });
                    } else {
                        // Not a type the page embeds: give the space back.
                        media_spool.truncate(offset).await?;
                        space.release(len);
                    }
                }
                Fetched::Kept { .. } | Fetched::Skipped => {}
                Fetched::NoSpace => break,
            }
        }
        let media_file = media_spool.finish().await?;

        // 3. Render oldest first on a blocking thread while the upload consumes the chunks.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, ObjectError>>(8);
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
            let mut reader = BufReader::new(pages);
            let mut media_reader = &media_file;
            let mut line = String::new();
            for at in offsets.into_iter().rev() {
                reader.seek(SeekFrom::Start(at)).map_err(internal)?;
                line.clear();
                reader.read_line(&mut line).map_err(internal)?;
                let page: Vec<Message> = serde_json::from_str(&line).map_err(internal)?;
                for message in page.iter().rev() {
                    for (url, _) in media_urls(message) {
                        if let Some(m) = media.get_mut(&url).filter(|m| !m.written) {
                            media_reader.seek(SeekFrom::Start(m.offset)).map_err(internal)?;
                            let mut bytes = BufReader::with_capacity(CHUNK, Read::take(media_reader, m.len));
                            writer.media(&m.id, &m.mime, &mut bytes).map_err(internal)?;
                            m.written = true;
                        }
                    }
                    let lookup = |url: &str| media.get(url).map(|m| m.id.clone());
                    writer.message(&super::page_message::of(message), &names, &lookup).map_err(internal)?;
                }
            }
            let written = writer.message_count();
            let mut out = writer.finish().map_err(internal)?;
            out.flush().map_err(internal)?;
            Ok(written)
        });
        let body: ByteStream =
            Box::pin(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }));
        let (stored, rendered) = tokio::join!(self.objects.put_stream(key, body, "text/html; charset=utf-8"), render);
        let written = rendered.map_err(internal)??;
        let size = stored?;

        Ok(Rendered { channel, message_count: written, size })
    }
}

impl TranscriptRenderer for TranscriptStudio {
    fn render<'a>(
        &'a self,
        bot: &'a dyn DiscordBot,
        channel: Snowflake,
        limit: usize,
        key: &'a ObjectKey,
        now: Timestamp,
    ) -> RenderFuture<'a> {
        Box::pin(self.render_into(bot, channel, limit, key, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(shared: &Arc<SharedSpace>, limit: u64) -> JobSpace {
        JobSpace { shared: Arc::clone(shared), limit, used: 0 }
    }

    #[test]
    fn temporary_space_is_capped_per_job_and_in_all_and_given_back() {
        let shared = Arc::new(SharedSpace { limit: 100, used: AtomicU64::new(0) });
        let mut a = job(&shared, 60);
        let mut b = job(&shared, 60);
        a.reserve(60).expect("within both caps");
        assert!(matches!(a.reserve(1), Err(TranscriptError::JobSpace { limit: 60 })));
        b.reserve(40).expect("what is left in all");
        assert!(matches!(b.reserve(1), Err(TranscriptError::SharedSpace { limit: 100 })));
        a.release(20);
        b.reserve(20).expect("given back");
        drop(a);
        assert_eq!(shared.used.load(Ordering::SeqCst), 60, "a finished job gives its space back");
        drop(b);
        assert_eq!(shared.used.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn jobs_past_the_queue_are_turned_away() {
        let gate = JobGate { running: Arc::new(Semaphore::new(1)), waiting: AtomicUsize::new(0), queue: 1 };
        let first = gate.admit().await.expect("runs");
        let waiting = gate.admit();
        tokio::pin!(waiting);
        let pending = tokio::time::timeout(std::time::Duration::from_millis(50), &mut waiting).await;
        assert!(pending.is_err(), "the second waits");
        assert!(matches!(gate.admit().await, Err(TranscriptError::Busy)), "the third is turned away");
        drop(first);
        let second = waiting.await.expect("admitted when the first ends");
        drop(second);
        assert_eq!(gate.waiting.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn svg_and_markup_are_not_embedded() {
        assert_eq!(sniff_mime(Some("image/svg+xml"), None, "https://x/a.svg"), None);
        assert_eq!(sniff_mime(None, Some("image/svg+xml; charset=utf-8"), "https://x/a"), None);
        assert_eq!(sniff_mime(None, None, "https://x/a.svg?x=1"), None);
        assert_eq!(sniff_mime(Some("image/png"), None, "https://x/a").as_deref(), Some("image/png"));
        assert!(looks_like_markup(b"  <svg xmlns='http://www.w3.org/2000/svg'/>"));
        assert!(looks_like_markup(b"\xef\xbb\xbf<?xml version='1.0'?>"));
        assert!(!looks_like_markup(b"\x89PNG\r\n\x1a\n"));
        assert!(!looks_like_markup(b""));
    }
}
