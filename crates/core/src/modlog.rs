//! Moderation logs: one entry per moderation action (warn, timeout, ban, kick, unban) a bot records
//! against a user in a guild (Noctra's `POST /api/modlogs/add`).
//!
//! Each bot numbers its entries per guild (case 1, 2, 3, ...), without gaps or duplicates: the store
//! assigns the number in the same transaction that records the entry. (Numbers were once shared by
//! every bot in a guild; entries recorded then keep theirs, see `docs/noctra.md`.)
//!
//! A history is read a page of [`HISTORY_PAGE_ENTRIES`] at a time (the view page shows one; object
//! storage keeps one document per page), so no request loads or rewrites a whole history. Each [`Subject`] (a bot, a guild and a
//! user) has one permanent, unguessable [`ViewId`] behind which its history can be read
//! (`GET /api/modlogs/view/{id}`). The view id is drawn from random bytes the caller supplies, as
//! core does no IO.

use crate::ServerId;
use std::{fmt, sync::Arc};

use crate::{
    Clock, Error, Result, Timestamp,
    discord::{BotToken, DiscordBots, DiscordError, Snowflake, Unknown, connect},
    entropy::{Entropy, EntropyError},
    objects::{ObjectError, ObjectStore},
    ports::ModLogs,
    threads::{BlockingThreads, WriteQueue, run_blocking, run_write},
    webhooks::Outbox,
};

/// The header naming the guild, as errors about it name it.
pub const GUILD_FIELD: &str = "X-Guild-Id";
/// The header naming the target user.
pub const USER_FIELD: &str = "X-User-Id";
/// The header naming the action.
pub const ACTION_FIELD: &str = "X-Action";
/// The header naming the moderator's id.
pub const MODERATOR_ID_FIELD: &str = "X-Moderator-Id";
/// The header carrying the moderator's display name.
pub const MODERATOR_NAME_FIELD: &str = "X-Moderator-Name";
/// The header carrying the free-text reason.
pub const REASON_FIELD: &str = "X-Reason";
/// The header carrying a timeout's duration (`30m`, `2h`).
pub const DURATION_FIELD: &str = "X-Duration";
/// The header identifying the bot: its id is the one behind this token.
pub const BOT_FIELD: &str = "X-Bot-Token";

/// The longest moderator name, in characters.
pub const MAX_MODERATOR_NAME_CHARS: usize = 100;
/// The longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 1000;
/// The longest duration text, in characters.
pub const MAX_DURATION_CHARS: usize = 32;

/// What a moderator did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModAction {
    Warn,
    Timeout,
    Ban,
    Kick,
    Unban,
}

impl ModAction {
    /// Every action, in the order the specification lists them.
    pub const ALL: [Self; 5] = [Self::Warn, Self::Timeout, Self::Ban, Self::Kick, Self::Unban];

    /// Reads an action name, ignoring letter case and surrounding spaces (`warn`, `WARN`, `Warn`).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL.into_iter().find(|action| action.as_str().eq_ignore_ascii_case(text))
    }

    /// The canonical name: `Warn`, `Timeout`, `Ban`, `Kick` or `Unban` (also how stores keep it).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Warn => "Warn",
            Self::Timeout => "Timeout",
            Self::Ban => "Ban",
            Self::Kick => "Kick",
            Self::Unban => "Unban",
        }
    }

    /// The message of a successful add: `Warn logged.`, `Ban logged.`, ...
    pub const fn logged_message(self) -> &'static str {
        match self {
            Self::Warn => "Warn logged.",
            Self::Timeout => "Timeout logged.",
            Self::Ban => "Ban logged.",
            Self::Kick => "Kick logged.",
            Self::Unban => "Unban logged.",
        }
    }
}

impl fmt::Display for ModAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub use crate::view_id::ViewId;

/// Whose history an entry belongs to: a user in a guild, as recorded by one bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    pub bot: Snowflake,
    pub guild: ServerId,
    pub user: Snowflake,
}

/// What the history page shows of its subject: names and images resolved from Discord when an entry
/// is added (each add refreshes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectProfile {
    pub user_name: String,
    pub user_avatar: Option<String>,
    pub guild_name: String,
    pub guild_icon: Option<String>,
}

/// An entry to record, before the store numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub action: ModAction,
    pub moderator_id: Snowflake,
    pub moderator_name: String,
    pub reason: Option<String>,
    pub duration: Option<String>,
    pub at: Timestamp,
}

impl NewEntry {
    /// An entry from request values, each checked by the rules below ([`moderator_name`],
    /// [`reason`], [`duration`]).
    pub fn new(
        action: ModAction,
        moderator_id: Snowflake,
        moderator_name: &str,
        reason: Option<&str>,
        duration: Option<&str>,
        at: Timestamp,
    ) -> Result<Self> {
        Ok(Self {
            action,
            moderator_id,
            moderator_name: self::moderator_name(moderator_name)?,
            reason: self::reason(reason)?,
            duration: self::duration(duration)?,
            at,
        })
    }

    /// The entry as recorded under `case_number`.
    pub fn numbered(&self, case_number: i64) -> Entry {
        Entry {
            case_number,
            action: self.action,
            moderator_id: self.moderator_id,
            moderator_name: self.moderator_name.clone(),
            reason: self.reason.clone(),
            duration: self.duration.clone(),
            at: self.at,
        }
    }
}

/// An entry as a request describes it, checked, before it is stamped with the time it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDraft(NewEntry);

impl EntryDraft {
    /// Checks the request's values as [`NewEntry::new`] does.
    pub fn new(
        action: ModAction,
        moderator_id: Snowflake,
        moderator_name: &str,
        reason: Option<&str>,
        duration: Option<&str>,
    ) -> Result<Self> {
        NewEntry::new(action, moderator_id, moderator_name, reason, duration, Timestamp(0)).map(Self)
    }

    pub fn action(&self) -> ModAction {
        self.0.action
    }

    /// The entry as recorded at `at`.
    pub fn at(self, at: Timestamp) -> NewEntry {
        NewEntry { at, ..self.0 }
    }
}

fn too_long(field: &'static str, max: usize) -> Error {
    Error::invalid(field, format!("must be at most {max} characters"))
}

/// The moderator's display name, trimmed: 1 to 100 characters (`X-Moderator-Name`).
pub fn moderator_name(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid(MODERATOR_NAME_FIELD, "must not be empty"));
    }
    if text.chars().count() > MAX_MODERATOR_NAME_CHARS {
        return Err(too_long(MODERATOR_NAME_FIELD, MAX_MODERATOR_NAME_CHARS));
    }
    Ok(text.to_owned())
}

/// Optional text, trimmed, at most `max` characters; empty counts as absent.
fn optional_text(field: &'static str, text: Option<&str>, max: usize) -> Result<Option<String>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    if text.chars().count() > max {
        return Err(too_long(field, max));
    }
    Ok(Some(text.to_owned()))
}

/// The optional reason, trimmed: at most 1000 characters (`X-Reason`); empty counts as absent.
pub fn reason(text: Option<&str>) -> Result<Option<String>> {
    optional_text(REASON_FIELD, text, MAX_REASON_CHARS)
}

/// The optional duration text, trimmed: at most 32 characters (`X-Duration`); empty counts as absent.
pub fn duration(text: Option<&str>) -> Result<Option<String>> {
    optional_text(DURATION_FIELD, text, MAX_DURATION_CHARS)
}

/// A recorded entry, numbered within its bot's entries in its guild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1, 2, 3, ... per bot and guild, in the order the entries were recorded.
    pub case_number: i64,
    pub action: ModAction,
    pub moderator_id: Snowflake,
    pub moderator_name: String,
    pub reason: Option<String>,
    pub duration: Option<String>,
    pub at: Timestamp,
}

/// Entries per page of a history.
pub const HISTORY_PAGE_ENTRIES: u64 = 100;

/// The page (0-based) holding a subject's `ordinal`-th entry (1-based).
pub const fn page_of(ordinal: u64) -> u64 {
    ordinal.saturating_sub(1) / HISTORY_PAGE_ENTRIES
}

/// One page of a subject's moderation history, as its view page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub view_id: ViewId,
    pub subject: Subject,
    pub profile: SubjectProfile,
    /// The page's entries, oldest first: the subject's entries number `page * HISTORY_PAGE_ENTRIES + 1`
    /// to `(page + 1) * HISTORY_PAGE_ENTRIES` in case order.
    pub entries: Vec<Entry>,
    /// Which page this is, 0-based.
    pub page: u64,
    /// How many entries the subject has in all.
    pub total_entries: u64,
}

impl History {
    /// How many pages the subject's history has (at least one).
    pub const fn page_count(&self) -> u64 {
        let pages = self.total_entries.div_ceil(HISTORY_PAGE_ENTRIES);
        if pages == 0 { 1 } else { pages }
    }

    /// The last page, the one new entries go to.
    pub const fn last_page(&self) -> u64 {
        self.page_count() - 1
    }

    /// Whether this page holds all the entries it ever will.
    pub fn is_full(&self) -> bool {
        self.entries.len() as u64 >= HISTORY_PAGE_ENTRIES
    }
}

/// A page of a subject's history as the JSON document kept in object storage: ids as strings, the
/// subject's names, where the page sits (`totalEntries`, `pageSize`, `page` from 0, `pages`) and its
/// entries with ISO and millisecond times.
pub fn document(history: &History) -> serde_json::Value {
    let entries: Vec<serde_json::Value> = history
        .entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "caseNumber": e.case_number,
                "action": e.action.as_str(),
                "moderatorId": e.moderator_id.to_string(),
                "moderatorName": e.moderator_name,
                "reason": e.reason,
                "duration": e.duration,
                "createdAt": e.at.to_iso8601(),
                "createdAtMs": e.at.millis(),
            })
        })
        .collect();
    serde_json::json!({
        "botId": history.subject.bot.to_string(),
        "guildId": history.subject.guild.to_string(),
        "userId": history.subject.user.to_string(),
        "viewId": history.view_id.as_str(),
        "user": {"name": history.profile.user_name, "avatarUrl": history.profile.user_avatar},
        "guild": {"name": history.profile.guild_name, "iconUrl": history.profile.guild_icon},
        "totalEntries": history.total_entries,
        "pageSize": HISTORY_PAGE_ENTRIES,
        "page": history.page,
        "pages": history.page_count(),
        "entries": entries,
    })
}

/// The documents an add rewrites in object storage, read after the add (and after any add that
/// committed since): its own page, once full, at `{bot}/{guild}/{user}/pages/{n}.json` (written when
/// it fills, never again), and the newest page at `{bot}/{guild}/{user}.json`, the document the
/// specification names. At most two documents of one page each, whatever the history's length.
pub fn documents_after_add(
    own_page: Option<History>,
    newest: History,
) -> std::result::Result<Vec<(crate::objects::ObjectKey, History)>, crate::objects::ObjectError> {
    let subject = newest.subject;
    let base = format!("{}/{}/{}", subject.bot, subject.guild, subject.user);
    let mut documents = Vec::with_capacity(2);
    if let Some(own) = own_page.filter(History::is_full) {
        documents.push((crate::objects::ObjectKey::parse(&format!("{base}/pages/{}.json", own.page))?, own));
    }
    documents.push((crate::objects::ObjectKey::parse(&format!("{base}.json"))?, newest));
    Ok(documents)
}

/// The `modlog.created` event's data: the entry as the history document shows it, without the view
/// id (a link that works as a password, and the endpoint may belong to someone else than the bot).
fn created_event(subject: &Subject, entry: &Entry) -> serde_json::Value {
    serde_json::json!({
        "serverId": subject.guild.to_string(),
        "botId": subject.bot.to_string(),
        "userId": subject.user.to_string(),
        "caseNumber": entry.case_number,
        "action": entry.action.as_str(),
        "moderatorId": entry.moderator_id.to_string(),
        "moderatorName": entry.moderator_name,
        "reason": entry.reason,
        "duration": entry.duration,
        "createdAt": entry.at.to_iso8601(),
    })
}

/// Why a moderation-log request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModLogError {
    /// No history behind the view id (or no such page of it).
    #[error("Moderation log not found.")]
    NotFound,
    /// `?page=` is not a whole number from 1.
    #[error("page: must be a whole number from 1")]
    BadPage,
    #[error(transparent)]
    Discord(#[from] DiscordError),
    /// The records (the database) failed or refused.
    #[error(transparent)]
    Store(#[from] Error),
    /// Object storage failed while the history's documents were written.
    #[error("object store: {0}")]
    Objects(#[from] ObjectError),
    /// Something that cannot happen did (the random source failed, a document did not serialize).
    #[error("moderation log: {0}")]
    Internal(String),
}

impl From<crate::StoreError> for ModLogError {
    fn from(err: crate::StoreError) -> Self {
        Self::Store(err.into())
    }
}

impl From<EntropyError> for ModLogError {
    fn from(err: EntropyError) -> Self {
        Self::Internal(err.to_string())
    }
}

/// What an add recorded: the action (for the answer's message) and the subject's view id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub action: ModAction,
    pub view_id: ViewId,
}

/// The moderation-log use cases: record an action (numbered by the store, the subject's names
/// refreshed from Discord, its documents mirrored to object storage) and read a history a page at a
/// time by view id.
pub struct ModLogService {
    discord: Arc<dyn DiscordBots>,
    records: Arc<dyn ModLogs>,
    objects: Arc<dyn ObjectStore>,
    threads: Arc<dyn BlockingThreads>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    writer: Arc<dyn WriteQueue>,
    outbox: Outbox,
    /// Held while a history's documents are rewritten in object storage.
    documents: futures_util::lock::Mutex<()>,
}

impl fmt::Debug for ModLogService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModLogService").field("objects", &self.objects).finish_non_exhaustive()
    }
}

/// The ports [`ModLogService`] works over.
#[allow(missing_debug_implementations)] // ports, shown by the service
pub struct ModLogPorts {
    pub discord: Arc<dyn DiscordBots>,
    pub records: Arc<dyn ModLogs>,
    pub objects: Arc<dyn ObjectStore>,
    pub threads: Arc<dyn BlockingThreads>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    /// Where an add runs, with its `modlog.created` event.
    pub writer: Arc<dyn WriteQueue>,
    pub outbox: Outbox,
}

impl ModLogService {
    pub fn new(ports: ModLogPorts) -> Self {
        let ModLogPorts { discord, records, objects, threads, clock, entropy, writer, outbox } = ports;
        Self {
            discord,
            records,
            objects,
            threads,
            clock,
            entropy,
            writer,
            outbox,
            documents: futures_util::lock::Mutex::new(()),
        }
    }

    async fn records<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn ModLogs) -> Result<T> + Send + 'static,
    ) -> std::result::Result<T, ModLogError> {
        let records = Arc::clone(&self.records);
        Ok(run_blocking(self.threads.as_ref(), move || work(records.as_ref())).await??)
    }

    /// Records `entry` against `user` in `guild` as the bot behind `token` (which must be in the
    /// guild), with the user's and guild's names and images as Discord has them now, and mirrors the
    /// history's changed documents to object storage.
    pub async fn add(
        &self,
        token: &BotToken,
        guild: ServerId,
        user: Snowflake,
        entry: EntryDraft,
    ) -> std::result::Result<Added, ModLogError> {
        let bot = connect(self.discord.as_ref(), token).await?;
        let (info, profile) =
            futures_util::future::try_join(bot.guild(guild), bot.user_profile(user)).await.map_err(|e| match e {
                DiscordError::Unknown(Unknown::Guild) => DiscordError::NotMember,
                other => other,
            })?;
        let subject = Subject { bot: bot.user().id, guild, user };
        let profile = SubjectProfile {
            user_name: profile.display_name().to_owned(),
            user_avatar: Some(profile.avatar_url()),
            guild_name: info.name.clone(),
            guild_icon: info.icon_url(),
        };
        let action = entry.action();
        let entry = entry.at(self.clock.now());
        let new_view = ViewId::draw(self.entropy.as_ref())?;
        let (records, outbox) = (Arc::clone(&self.records), self.outbox.clone());
        let added = run_write(self.writer.as_ref(), move || {
            let added = records.add(subject, &profile, &entry, new_view)?;
            if let Some(new) = added.entries.last() {
                outbox.record(guild, "modlog.created", new.at, || created_event(&subject, new))?;
            }
            Ok(added)
        })
        .await?;
        self.mirror(&added).await?;
        Ok(Added { action, view_id: added.view_id })
    }

    /// Mirrors the history an add changed to object storage, a page at a time (which documents is
    /// [`documents_after_add`], in the shape of [`document`]). Pages are read from the records under
    /// one lock, after taking it: whichever write comes last holds every entry committed before it
    /// (in this process; see docs/noctra.md). Work per add is bounded by the page size.
    async fn mirror(&self, added: &History) -> std::result::Result<(), ModLogError> {
        let _writing = self.documents.lock().await;
        let (view_id, page) = (added.view_id.clone(), added.page);
        let (own_page, newest) =
            self.records(move |r| Ok((r.history_page(&view_id, page)?, r.history(&view_id)?))).await?;
        let documents = documents_after_add(own_page, newest.unwrap_or_else(|| added.clone()))
            .map_err(|e| ModLogError::Internal(e.to_string()))?;
        for (key, history) in documents {
            let body = serde_json::to_vec(&document(&history)).map_err(|e| ModLogError::Internal(e.to_string()))?;
            self.objects.put(&key, body.into(), "application/json").await?;
        }
        Ok(())
    }

    /// The history behind the view id `id`: page `page` (1 is the oldest), or the newest page.
    pub async fn view(&self, id: &str, page: Option<u64>) -> std::result::Result<History, ModLogError> {
        let view_id = ViewId::parse(id).ok_or(ModLogError::NotFound)?;
        let page = match page {
            Some(0) => return Err(ModLogError::BadPage),
            Some(n) => Some(n - 1),
            None => None,
        };
        self.records(move |r| match page {
            Some(page) => r.history_page(&view_id, page),
            None => r.history(&view_id),
        })
        .await?
        .filter(|h| h.page < h.page_count())
        .ok_or(ModLogError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_ignoring_case_and_print_canonically() {
        for (text, action) in [
            ("warn", ModAction::Warn),
            ("WARN", ModAction::Warn),
            ("Warn", ModAction::Warn),
            ("timeout", ModAction::Timeout),
            ("TimeOut", ModAction::Timeout),
            ("ban", ModAction::Ban),
            (" Kick ", ModAction::Kick),
            ("UNBAN", ModAction::Unban),
        ] {
            assert_eq!(ModAction::parse(text), Some(action), "{text:?}");
        }
        for bad in ["", "mute", "warned", "un ban", "bans"] {
            assert_eq!(ModAction::parse(bad), None, "{bad:?}");
        }
        for action in ModAction::ALL {
            assert_eq!(ModAction::parse(action.as_str()), Some(action));
            assert_eq!(action.to_string(), action.as_str());
            assert_eq!(action.logged_message(), format!("{} logged.", action.as_str()));
        }
        assert_eq!(ModAction::Warn.logged_message(), "Warn logged.");
        assert_eq!(ModAction::Timeout.as_str(), "Timeout");
    }

    fn field_of(err: Error) -> &'static str {
        match err {
            Error::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn moderator_names_are_1_to_100_characters() {
        assert_eq!(moderator_name("  AdminUser ").expect("valid"), "AdminUser");
        assert_eq!(moderator_name(&"a".repeat(100)).expect("100").len(), 100);
        // Characters, not bytes: 100 two-byte letters fit.
        assert_eq!(moderator_name(&"é".repeat(100)).expect("100 chars").chars().count(), 100);
        assert_eq!(field_of(moderator_name("").expect_err("empty")), MODERATOR_NAME_FIELD);
        assert_eq!(field_of(moderator_name("   ").expect_err("blank")), "X-Moderator-Name");
        let err = moderator_name(&"é".repeat(101)).expect_err("101");
        assert_eq!(err.to_string(), "X-Moderator-Name: must be at most 100 characters");
    }

    #[test]
    fn reasons_and_durations_are_optional_and_bounded() {
        assert_eq!(reason(None).expect("absent"), None);
        assert_eq!(reason(Some("  ")).expect("blank"), None);
        assert_eq!(reason(Some(" Spamming ")).expect("valid"), Some("Spamming".to_owned()));
        assert!(reason(Some(&"x".repeat(1000))).expect("1000").is_some());
        assert_eq!(field_of(reason(Some(&"x".repeat(1001))).expect_err("1001")), REASON_FIELD);

        assert_eq!(duration(None).expect("absent"), None);
        assert_eq!(duration(Some("2h")).expect("valid"), Some("2h".to_owned()));
        assert!(duration(Some(&"9".repeat(32))).expect("32").is_some());
        assert_eq!(field_of(duration(Some(&"9".repeat(33))).expect_err("33")), "X-Duration");
    }

    #[test]
    fn histories_are_read_in_pages_of_a_hundred() {
        assert_eq!((page_of(1), page_of(100), page_of(101), page_of(0)), (0, 0, 1, 0));
        let history = |total: u64, len: usize| History {
            view_id: ViewId::from_entropy([1; 16]),
            subject: Subject {
                bot: Snowflake::from_raw(1 << 22),
                guild: ServerId::from_discord(Snowflake::from_raw(2 << 22)).expect("a snowflake within i64"),
                user: Snowflake::from_raw(3 << 22),
            },
            profile: SubjectProfile {
                user_name: "u".into(),
                user_avatar: None,
                guild_name: "g".into(),
                guild_icon: None,
            },
            entries: vec![
                NewEntry::new(ModAction::Warn, Snowflake::from_raw(4 << 22), "m", None, None, Timestamp(0))
                    .expect("valid")
                    .numbered(1);
                len
            ],
            page: 0,
            total_entries: total,
        };
        assert_eq!((history(0, 0).page_count(), history(0, 0).last_page()), (1, 0));
        assert_eq!((history(100, 100).page_count(), history(101, 100).page_count()), (1, 2));
        assert!(history(100, 100).is_full() && !history(99, 99).is_full());

        // An add to a page that is not yet full rewrites the newest page only; one that fills its
        // page writes that page once under its number, too.
        let keys = |own: Option<History>, newest: History| -> Vec<String> {
            documents_after_add(own, newest).expect("keys").iter().map(|(k, _)| k.as_str().to_owned()).collect()
        };
        let base = format!("{}/{}/{}", 1u64 << 22, 2u64 << 22, 3u64 << 22);
        assert_eq!(keys(Some(history(50, 50)), history(50, 50)), [format!("{base}.json")]);
        let full = History { page: 1, ..history(200, 100) };
        assert_eq!(keys(Some(full.clone()), full), [format!("{base}/pages/1.json"), format!("{base}.json")]);
        let doc = document(&history(101, 1));
        assert_eq!(
            (doc["totalEntries"].as_u64(), doc["pages"].as_u64(), doc["pageSize"].as_u64()),
            (Some(101), Some(2), Some(100))
        );
        assert_eq!(doc["entries"][0]["createdAt"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn new_entries_check_every_field_and_number_as_recorded() {
        let moderator = Snowflake::from_raw(111_222_333_444_555_666);
        let at = Timestamp(1_700_000_000_000);
        let entry =
            NewEntry::new(ModAction::Timeout, moderator, "AdminUser", Some("Spamming"), Some("2h"), at).expect("valid");
        assert_eq!(entry.moderator_name, "AdminUser");
        assert_eq!(entry.reason.as_deref(), Some("Spamming"));
        assert_eq!(entry.duration.as_deref(), Some("2h"));
        let numbered = entry.numbered(7);
        assert_eq!(numbered.case_number, 7);
        assert_eq!(
            (numbered.action, numbered.moderator_id, numbered.at, numbered.reason),
            (ModAction::Timeout, moderator, at, Some("Spamming".to_owned()))
        );

        let long = "x".repeat(1001);
        let err = NewEntry::new(ModAction::Warn, moderator, "", None, None, at).expect_err("no name");
        assert_eq!(field_of(err), MODERATOR_NAME_FIELD);
        let err = NewEntry::new(ModAction::Warn, moderator, "Admin", Some(&long), None, at).expect_err("reason");
        assert_eq!(field_of(err), REASON_FIELD);
        let err = NewEntry::new(ModAction::Warn, moderator, "Admin", None, Some(&long), at).expect_err("duration");
        assert_eq!(field_of(err), DURATION_FIELD);
    }

    #[test]
    fn the_stored_document_names_ids_as_strings_and_times_both_ways() {
        let snowflake = |n: u64| Snowflake::from_raw(n << 22);
        let history = History {
            view_id: ViewId::from_entropy([7; 16]),
            subject: Subject {
                bot: snowflake(1),
                guild: ServerId::from_discord(snowflake(2)).expect("a snowflake within i64"),
                user: snowflake(3),
            },
            profile: SubjectProfile {
                user_name: "u".into(),
                user_avatar: None,
                guild_name: "g".into(),
                guild_icon: None,
            },
            entries: vec![Entry {
                case_number: 1,
                action: ModAction::Warn,
                moderator_id: snowflake(4),
                moderator_name: "m".into(),
                reason: Some("r".into()),
                duration: None,
                at: Timestamp(1_705_341_600_000),
            }],
            page: 0,
            total_entries: 1,
        };
        let doc = document(&history);
        assert_eq!(doc["guildId"], snowflake(2).to_string());
        assert_eq!(doc["entries"][0]["createdAt"], "2024-01-15T18:00:00Z");
        assert_eq!(doc["entries"][0]["action"], "Warn");
        assert_eq!(
            (doc["totalEntries"].as_u64(), doc["page"].as_u64(), doc["pages"].as_u64()),
            (Some(1), Some(0), Some(1))
        );
        assert_eq!(ModAction::Warn.logged_message(), "Warn logged.");
    }
}
