use diesel::prelude::*;
use garrison_core::{
    Error, Result, ServerId, StoreError, Timestamp,
    discord::Snowflake,
    streams::{
        Secret, TwitchCredentials,
        alerts::{Alert, NewAlert, StreamAlerts},
        watches::{Added, NewWatch, ServerStreamKeys, StreamKeyStore, StreamWatches, Watch, parse_platform},
    },
};

use crate::{
    Database,
    db::per_backend,
    failure::{Failure, on_unique},
    schema::{stream_alerts, stream_keys, stream_watches},
    sealed::{SealError, SecretKey},
};

/// Stream watches: one row each; one per server, platform, streamer (any letter case) and channel, by
/// a unique index.
#[derive(Debug, Clone)]
pub struct DieselStreamWatches {
    db: Database,
}

impl DieselStreamWatches {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type WatchRow = (i64, i64, String, String, i64, Option<String>, Option<i64>, i64);

const COLUMNS: (
    stream_watches::id,
    stream_watches::server_id,
    stream_watches::platform,
    stream_watches::streamer,
    stream_watches::channel_id,
    stream_watches::message,
    stream_watches::mention_role,
    stream_watches::created_at,
) = (
    stream_watches::id,
    stream_watches::server_id,
    stream_watches::platform,
    stream_watches::streamer,
    stream_watches::channel_id,
    stream_watches::message,
    stream_watches::mention_role,
    stream_watches::created_at,
);

fn corrupt(what: String) -> Failure {
    Failure::Domain(Error::Store(StoreError::Internal(what)))
}

fn snowflake(id: i64) -> Result<Snowflake, Failure> {
    u64::try_from(id).map(Snowflake::from_raw).map_err(|_| corrupt(format!("stream_watches holds id {id}")))
}

fn to_watch((id, server, platform, streamer, channel, message, role, created): WatchRow) -> Result<Watch, Failure> {
    Ok(Watch {
        id,
        server: ServerId::from_stored(server),
        platform: parse_platform("platform", &platform)
            .map_err(|_| corrupt(format!("stream_watches holds platform {platform:?}")))?,
        streamer,
        channel: snowflake(channel)?,
        message,
        mention_role: role.map(snowflake).transpose()?,
        created_at: Timestamp(created),
    })
}

fn stored(id: Snowflake, field: &'static str) -> Result<i64> {
    i64::try_from(id.get()).map_err(|_| Error::invalid(field, "is too large to record"))
}

impl StreamWatches for DieselStreamWatches {
    fn add(&self, watch: &NewWatch, at: Timestamp, max: usize) -> Result<Added> {
        let server = watch.server.get();
        let (platform, key) = (watch.platform.name().to_ascii_lowercase(), watch.streamer.to_ascii_lowercase());
        let channel = stored(watch.channel, "channelId")?;
        let role = watch.mention_role.map(|r| stored(r, "roleIdToMention")).transpose()?;
        let watch = watch.clone();
        self.db.write(move |conn| {
            let same = stream_watches::table
                .filter(stream_watches::server_id.eq(server))
                .filter(stream_watches::platform.eq(&platform))
                .filter(stream_watches::streamer_key.eq(&key))
                .filter(stream_watches::channel_id.eq(channel))
                .select(COLUMNS)
                .first::<WatchRow>(conn)
                .optional()?;
            if let Some(row) = same {
                return Ok(Added::Exists(to_watch(row)?));
            }
            let count: i64 =
                stream_watches::table.filter(stream_watches::server_id.eq(server)).count().get_result(conn)?;
            if usize::try_from(count).unwrap_or(usize::MAX) >= max {
                return Ok(Added::Full);
            }
            let row = diesel::insert_into(stream_watches::table)
                .values((
                    stream_watches::server_id.eq(server),
                    stream_watches::platform.eq(&platform),
                    stream_watches::streamer.eq(&watch.streamer),
                    stream_watches::streamer_key.eq(&key),
                    stream_watches::channel_id.eq(channel),
                    stream_watches::message.eq(&watch.message),
                    stream_watches::mention_role.eq(role),
                    stream_watches::created_at.eq(at.millis()),
                ))
                .returning(COLUMNS)
                .get_result::<WatchRow>(conn)
                .map_err(|e| {
                    on_unique(e, || Error::invalid("channelId", "the same watch was added at the same moment"))
                })?;
            Ok(Added::Added(to_watch(row)?))
        })
    }

    fn list(&self, server: ServerId) -> Result<Vec<Watch>> {
        self.db.read(|conn| {
            stream_watches::table
                .filter(stream_watches::server_id.eq(server.get()))
                .order(stream_watches::id)
                .select(COLUMNS)
                .load::<WatchRow>(conn)?
                .into_iter()
                .map(to_watch)
                .collect()
        })
    }

    fn remove(&self, server: ServerId, id: i64) -> Result<bool> {
        self.db.write(move |conn| {
            let gone = diesel::delete(
                stream_watches::table
                    .filter(stream_watches::server_id.eq(server.get()))
                    .filter(stream_watches::id.eq(id)),
            )
            .execute(conn)?;
            if gone > 0 {
                diesel::delete(stream_alerts::table.filter(stream_alerts::watch_id.eq(id))).execute(conn)?;
            }
            Ok(gone > 0)
        })
    }

    fn of_streamer(&self, platform: garrison_core::streams::Platform, key: &str) -> Result<Vec<Watch>> {
        let platform = platform.name().to_ascii_lowercase();
        self.db.read(|conn| {
            stream_watches::table
                .filter(stream_watches::platform.eq(&platform))
                .filter(stream_watches::streamer_key.eq(key))
                .order(stream_watches::id)
                .select(COLUMNS)
                .load::<WatchRow>(conn)?
                .into_iter()
                .map(to_watch)
                .collect()
        })
    }

    fn page(&self, after: i64, limit: usize) -> Result<Vec<Watch>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db.read(|conn| {
            stream_watches::table
                .filter(stream_watches::id.gt(after))
                .order(stream_watches::id)
                .limit(limit)
                .select(COLUMNS)
                .load::<WatchRow>(conn)?
                .into_iter()
                .map(to_watch)
                .collect()
        })
    }
}

/// Live alerts: one row per watch and stream, by a unique index, inserted before the post.
#[derive(Debug, Clone)]
pub struct DieselStreamAlerts {
    db: Database,
}

impl DieselStreamAlerts {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// Watch ids in one `IN (...)` list.
const IDS_PER_QUERY: usize = 500;

type AlertRow = (i64, i64, String, i64, Option<i64>, String, Option<i64>, i64);

fn to_alert((id, watch, stream_id, channel, message, title, started, posted): AlertRow) -> Result<Alert, Failure> {
    Ok(Alert {
        id,
        watch,
        stream_id,
        channel: snowflake(channel)?,
        message: message.map(snowflake).transpose()?,
        title,
        started_at: started.map(Timestamp),
        posted_at: Timestamp(posted),
    })
}

impl StreamAlerts for DieselStreamAlerts {
    fn claim(&self, alert: &NewAlert, at: Timestamp) -> Result<Option<i64>> {
        let channel = stored(alert.channel, "channelId")?;
        let alert = alert.clone();
        self.db.write(move |conn| {
            let watched =
                stream_watches::table.filter(stream_watches::id.eq(alert.watch)).count().get_result::<i64>(conn)?;
            if watched == 0 {
                return Ok(None);
            }
            // Another process's claim of the same stream is no error: the insert does nothing.
            let values = (
                stream_alerts::watch_id.eq(alert.watch),
                stream_alerts::stream_id.eq(&alert.stream_id),
                stream_alerts::channel_id.eq(channel),
                stream_alerts::title.eq(&alert.title),
                stream_alerts::started_at.eq(alert.started_at.map(Timestamp::millis)),
                stream_alerts::posted_at.eq(at.millis()),
            );
            let claimed = per_backend!(conn, |c| diesel::insert_into(stream_alerts::table)
                .values(values)
                .on_conflict_do_nothing()
                .returning(stream_alerts::id)
                .get_result::<i64>(c)
                .optional())?;
            Ok(claimed)
        })
    }

    fn posted(&self, id: i64, message: Snowflake) -> Result<()> {
        let message = stored(message, "messageId")?;
        self.db.write(move |conn| {
            diesel::update(stream_alerts::table.filter(stream_alerts::id.eq(id)))
                .set(stream_alerts::message_id.eq(message))
                .execute(conn)?;
            Ok(())
        })
    }

    fn failed(&self, id: i64, error: &str) -> Result<()> {
        let error: String = error.chars().take(500).collect();
        self.db.write(move |conn| {
            diesel::update(stream_alerts::table.filter(stream_alerts::id.eq(id)))
                .set(stream_alerts::error.eq(&error))
                .execute(conn)?;
            Ok(())
        })
    }

    fn open(&self, watches: &[i64]) -> Result<Vec<Alert>> {
        let mut open = Vec::new();
        for ids in watches.chunks(IDS_PER_QUERY) {
            open.extend(self.db.read(|conn| {
                stream_alerts::table
                    .filter(stream_alerts::watch_id.eq_any(ids))
                    .filter(stream_alerts::ended_at.is_null())
                    .order(stream_alerts::id)
                    .select((
                        stream_alerts::id,
                        stream_alerts::watch_id,
                        stream_alerts::stream_id,
                        stream_alerts::channel_id,
                        stream_alerts::message_id,
                        stream_alerts::title,
                        stream_alerts::started_at,
                        stream_alerts::posted_at,
                    ))
                    .load::<AlertRow>(conn)?
                    .into_iter()
                    .map(to_alert)
                    .collect::<Result<Vec<_>, Failure>>()
            })?);
        }
        Ok(open)
    }

    fn end(&self, id: i64, at: Timestamp) -> Result<()> {
        self.db.write(move |conn| {
            diesel::update(
                stream_alerts::table.filter(stream_alerts::id.eq(id)).filter(stream_alerts::ended_at.is_null()),
            )
            .set(stream_alerts::ended_at.eq(at.millis()))
            .execute(conn)?;
            Ok(())
        })
    }
}

/// Servers' stream credentials, each sealed with the server's [`SecretKey`] (ChaCha20-Poly1305, bound to
/// its column and the guild id) so the database never holds one in the clear.
#[derive(Debug, Clone)]
pub struct DieselStreamKeys {
    db: Database,
    secret: SecretKey,
}

impl DieselStreamKeys {
    pub fn new(db: Database, secret: SecretKey) -> Self {
        Self { db, secret }
    }
}

/// What a sealed credential is bound to: its column and its row.
fn context(column: &str, guild: i64) -> Vec<u8> {
    let mut context = format!("garrison stream_keys.{column} guild ").into_bytes();
    context.extend_from_slice(&guild.to_be_bytes());
    context
}

fn unreadable(guild: i64, err: SealError) -> Error {
    Error::Store(StoreError::Internal(format!("the stream credentials of server {guild} cannot be read: {err}")))
}

impl DieselStreamKeys {
    fn seal(&self, column: &str, guild: i64, secret: Option<&Secret>) -> Result<Option<String>> {
        secret
            .map(|s| self.secret.seal(&context(column, guild), s.expose().as_bytes()).map_err(|e| unreadable(guild, e)))
            .transpose()
    }

    fn open(&self, column: &str, guild: i64, sealed: Option<String>) -> Result<Option<Secret>> {
        let Some(sealed) = sealed else { return Ok(None) };
        let bytes = self.secret.open(&context(column, guild), &sealed).map_err(|e| unreadable(guild, e))?;
        let text = String::from_utf8(bytes).map_err(|_| unreadable(guild, SealError::Malformed))?;
        Secret::parse("stored", &text).map(Some).map_err(|_| unreadable(guild, SealError::Malformed))
    }
}

impl StreamKeyStore for DieselStreamKeys {
    fn get(&self, server: ServerId) -> Result<Option<ServerStreamKeys>> {
        let guild = server.get();
        let row = self.db.read(|conn| {
            Ok(stream_keys::table
                .filter(stream_keys::server_id.eq(guild))
                .select((
                    stream_keys::youtube_key_sealed,
                    stream_keys::twitch_client_id_sealed,
                    stream_keys::twitch_secret_sealed,
                ))
                .first::<(Option<String>, Option<String>, Option<String>)>(conn)
                .optional()?)
        })?;
        let Some((youtube, client_id, client_secret)) = row else { return Ok(None) };
        let twitch = match (
            self.open("twitch_client_id_sealed", guild, client_id)?,
            self.open("twitch_secret_sealed", guild, client_secret)?,
        ) {
            (Some(client_id), Some(client_secret)) => Some(TwitchCredentials { client_id, client_secret }),
            _ => None,
        };
        Ok(Some(ServerStreamKeys { youtube_key: self.open("youtube_key_sealed", guild, youtube)?, twitch }))
    }

    fn set(&self, server: ServerId, keys: &ServerStreamKeys, at: Timestamp) -> Result<()> {
        let guild = server.get();
        let values = (
            stream_keys::youtube_key_sealed.eq(self.seal("youtube_key_sealed", guild, keys.youtube_key.as_ref())?),
            stream_keys::twitch_client_id_sealed.eq(self.seal(
                "twitch_client_id_sealed",
                guild,
                keys.twitch.as_ref().map(|t| &t.client_id),
            )?),
            stream_keys::twitch_secret_sealed.eq(self.seal(
                "twitch_secret_sealed",
                guild,
                keys.twitch.as_ref().map(|t| &t.client_secret),
            )?),
            stream_keys::updated_at.eq(at.millis()),
        );
        self.db.write(move |conn| {
            per_backend!(conn, |c| diesel::insert_into(stream_keys::table)
                .values((stream_keys::server_id.eq(guild), values.clone()))
                .on_conflict(stream_keys::server_id)
                .do_update()
                .set(values)
                .execute(c))
            .map_err(Failure::from)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn platforms_are_stored_by_their_lower_case_name() {
        use garrison_core::streams::Platform;
        for platform in [Platform::YouTube, Platform::Twitch, Platform::TikTok] {
            let stored = platform.name().to_ascii_lowercase();
            assert_eq!(super::parse_platform("p", &stored).ok(), Some(platform));
        }
    }
}
