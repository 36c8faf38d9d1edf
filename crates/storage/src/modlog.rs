use diesel::{prelude::*, upsert::excluded};
use garrison_core::{
    Error, Result, ServerId, StoreError, Timestamp,
    discord::Snowflake,
    modlog::{self, Entry, History, ModAction, NewEntry, Subject, SubjectProfile, ViewId},
    ports::ModLogs,
};

use crate::{
    Database,
    cached::NextCase,
    db::{AnyConnection, per_backend},
    failure::{Failure, on_unique},
    schema::{modlog_entries, modlog_subjects},
};

/// Moderation logs. A subject is one row of `modlog_subjects` (unique per bot, guild and user, keyed
/// by its view id, counting its entries); each add upserts it (counting up: the new count is the
/// entry's ordinal in the subject's history), takes the bot's next case number in the guild from
/// `modlog_cases` with one upsert (`NextCase`) and inserts the entry, all in one transaction, so
/// numbers have no gaps or duplicates across processes. Histories are read a page at a time, by
/// ordinal range. Snowflakes are stored as `BIGINT`.
#[derive(Debug, Clone)]
pub struct DieselModLogs {
    db: Database,
}

impl DieselModLogs {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type SubjectRow = (String, i64, i64, i64, String, Option<String>, String, Option<String>, i64);

const SUBJECT_COLUMNS: (
    modlog_subjects::view_id,
    modlog_subjects::bot_id,
    modlog_subjects::guild_id,
    modlog_subjects::user_id,
    modlog_subjects::user_name,
    modlog_subjects::user_avatar,
    modlog_subjects::guild_name,
    modlog_subjects::guild_icon,
    modlog_subjects::entry_count,
) = (
    modlog_subjects::view_id,
    modlog_subjects::bot_id,
    modlog_subjects::guild_id,
    modlog_subjects::user_id,
    modlog_subjects::user_name,
    modlog_subjects::user_avatar,
    modlog_subjects::guild_name,
    modlog_subjects::guild_icon,
    modlog_subjects::entry_count,
);

type EntryRow = (i64, String, i64, String, Option<String>, Option<String>, i64);

const ENTRY_COLUMNS: (
    modlog_entries::case_number,
    modlog_entries::action,
    modlog_entries::moderator_id,
    modlog_entries::moderator_name,
    modlog_entries::reason,
    modlog_entries::duration,
    modlog_entries::created_at,
) = (
    modlog_entries::case_number,
    modlog_entries::action,
    modlog_entries::moderator_id,
    modlog_entries::moderator_name,
    modlog_entries::reason,
    modlog_entries::duration,
    modlog_entries::created_at,
);

/// A snowflake as stored, or `Invalid` naming `field` for one at or above 2^63, which no row can hold.
fn stored(field: &'static str, id: Snowflake) -> Result<i64> {
    i64::try_from(id.get())
        .map_err(|_| Error::invalid(field, format!("{id} is too large to record (the limit is 2^63 - 1)")))
}

fn corrupt(message: String) -> Failure {
    Failure::Domain(Error::Store(StoreError::Internal(message)))
}

fn snowflake(column: &str, value: i64) -> Result<Snowflake, Failure> {
    u64::try_from(value).map(Snowflake::from_raw).map_err(|_| corrupt(format!("{column} holds a negative id {value}")))
}

fn server(column: &str, value: i64) -> Result<ServerId, Failure> {
    snowflake(column, value).map(|_| ServerId::from_stored(value))
}

fn to_entry(
    (case_number, action, moderator_id, moderator_name, reason, duration, at): EntryRow,
) -> Result<Entry, Failure> {
    let action = ModAction::parse(&action)
        .ok_or_else(|| corrupt(format!("unknown action {action:?} in modlog_entries case {case_number}")))?;
    Ok(Entry {
        case_number,
        action,
        moderator_id: snowflake("modlog_entries.moderator_id", moderator_id)?,
        moderator_name,
        reason,
        duration,
        at: Timestamp(at),
    })
}

/// Which page of a history to read.
#[derive(Debug, Clone, Copy)]
enum Page {
    Last,
    Number(u64),
}

/// The subject behind `view` with one page of its entries in case order (oldest first), if there is
/// one. Reads at most one page of entries, by ordinal range (the `(view_id, ordinal)` key).
fn load_page(conn: &mut AnyConnection, view: &str, page: Page) -> Result<Option<History>, Failure> {
    let row = modlog_subjects::table
        .filter(modlog_subjects::view_id.eq(view))
        .select(SUBJECT_COLUMNS)
        .load::<SubjectRow>(conn)?
        .into_iter()
        .next();
    let Some((view_id, bot, guild, user, user_name, user_avatar, guild_name, guild_icon, count)) = row else {
        return Ok(None);
    };
    let view_id =
        ViewId::parse(&view_id).ok_or_else(|| corrupt(format!("modlog_subjects holds a bad view id {view_id:?}")))?;
    let total_entries = u64::try_from(count).unwrap_or(0);
    let page = match page {
        Page::Last => modlog::page_of(total_entries),
        Page::Number(n) => n,
    };
    let first = page.saturating_mul(modlog::HISTORY_PAGE_ENTRIES);
    let (low, high) = (
        i64::try_from(first).unwrap_or(i64::MAX),
        i64::try_from(first.saturating_add(modlog::HISTORY_PAGE_ENTRIES)).unwrap_or(i64::MAX),
    );
    let entries = modlog_entries::table
        .filter(modlog_entries::view_id.eq(view))
        .filter(modlog_entries::ordinal.gt(low))
        .filter(modlog_entries::ordinal.le(high))
        .order(modlog_entries::ordinal.asc())
        .select(ENTRY_COLUMNS)
        .load::<EntryRow>(conn)?
        .into_iter()
        .map(to_entry)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(History {
        view_id,
        subject: Subject {
            bot: snowflake("modlog_subjects.bot_id", bot)?,
            guild: server("modlog_subjects.guild_id", guild)?,
            user: snowflake("modlog_subjects.user_id", user)?,
        },
        profile: SubjectProfile { user_name, user_avatar, guild_name, guild_icon },
        entries,
        page,
        total_entries,
    }))
}

impl ModLogs for DieselModLogs {
    fn add(
        &self,
        subject: Subject,
        profile: &SubjectProfile,
        entry: &NewEntry,
        new_view_id: ViewId,
    ) -> Result<History> {
        let bot = stored(modlog::BOT_FIELD, subject.bot)?;
        let guild = subject.guild.get();
        let user = stored(modlog::USER_FIELD, subject.user)?;
        let moderator = stored(modlog::MODERATOR_ID_FIELD, entry.moderator_id)?;
        let (profile, entry) = (profile.clone(), entry.clone());
        self.db.write(move |conn| {
            // The subject's view id: the new one if the subject is new, else the one it has kept since.
            let (view, ordinal): (String, i64) = per_backend!(conn, |c| diesel::insert_into(modlog_subjects::table)
                .values((
                    modlog_subjects::view_id.eq(new_view_id.as_str()),
                    modlog_subjects::bot_id.eq(bot),
                    modlog_subjects::guild_id.eq(guild),
                    modlog_subjects::user_id.eq(user),
                    modlog_subjects::user_name.eq(&profile.user_name),
                    modlog_subjects::user_avatar.eq(profile.user_avatar.as_deref()),
                    modlog_subjects::guild_name.eq(&profile.guild_name),
                    modlog_subjects::guild_icon.eq(profile.guild_icon.as_deref()),
                    modlog_subjects::updated_at.eq(entry.at.millis()),
                    modlog_subjects::entry_count.eq(1_i64),
                ))
                .on_conflict((modlog_subjects::bot_id, modlog_subjects::guild_id, modlog_subjects::user_id))
                .do_update()
                .set((
                    modlog_subjects::user_name.eq(excluded(modlog_subjects::user_name)),
                    modlog_subjects::user_avatar.eq(excluded(modlog_subjects::user_avatar)),
                    modlog_subjects::guild_name.eq(excluded(modlog_subjects::guild_name)),
                    modlog_subjects::guild_icon.eq(excluded(modlog_subjects::guild_icon)),
                    modlog_subjects::updated_at.eq(excluded(modlog_subjects::updated_at)),
                    modlog_subjects::entry_count.eq(modlog_subjects::entry_count + 1_i64),
                ))
                .returning((modlog_subjects::view_id, modlog_subjects::entry_count))
                .get_result::<(String, i64)>(c))
            // Only the primary key is left to violate: the caller's view id belongs to another subject.
            .map_err(|e| {
                on_unique(e, || {
                    Error::Store(StoreError::Internal(format!(
                        "view id {new_view_id} already belongs to another moderation-log subject"
                    )))
                })
            })?;
            let case_number = per_backend!(conn, |c| NextCase { bot, guild }.get_result::<i64>(c))?;
            diesel::insert_into(modlog_entries::table)
                .values((
                    modlog_entries::bot_id.eq(bot),
                    modlog_entries::ordinal.eq(ordinal),
                    modlog_entries::guild_id.eq(guild),
                    modlog_entries::case_number.eq(case_number),
                    modlog_entries::view_id.eq(&view),
                    modlog_entries::action.eq(entry.action.as_str()),
                    modlog_entries::moderator_id.eq(moderator),
                    modlog_entries::moderator_name.eq(&entry.moderator_name),
                    modlog_entries::reason.eq(entry.reason.as_deref()),
                    modlog_entries::duration.eq(entry.duration.as_deref()),
                    modlog_entries::created_at.eq(entry.at.millis()),
                ))
                .execute(conn)?;
            let page = Page::Number(modlog::page_of(u64::try_from(ordinal).unwrap_or(0)));
            load_page(conn, &view, page)?.ok_or_else(|| corrupt(format!("moderation-log subject {view} vanished")))
        })
    }

    fn history(&self, view: &ViewId) -> Result<Option<History>> {
        self.db.read(|conn| load_page(conn, view.as_str(), Page::Last))
    }

    fn history_page(&self, view: &ViewId, page: u64) -> Result<Option<History>> {
        self.db.read(|conn| load_page(conn, view.as_str(), Page::Number(page)))
    }
}
