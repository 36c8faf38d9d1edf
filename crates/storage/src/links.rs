use diesel::prelude::*;
use garrison_core::{
    Error, Result, RobloxUserId, ServerId, StoreError, Timestamp,
    discord::Snowflake,
    roblox::{
        RobloxLinks,
        verification::{CodeChallenge, Link, LinkMethod},
    },
};

use crate::{
    Database,
    db::{AnyConnection, per_backend},
    failure::{Failure, on_unique},
    schema::{roblox_link_history, roblox_links, verification_codes},
};

/// Links between Discord users and Roblox accounts, their history, and pending profile codes. The
/// primary key (one link per Discord user) and the unique Roblox id (one per Roblox account) hold the
/// one-to-one rule across processes; a link that ends moves to `roblox_link_history` in the same
/// transaction as whatever ended it.
#[derive(Debug, Clone)]
pub struct DieselRobloxLinks {
    db: Database,
}

impl DieselRobloxLinks {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type LinkRow = (i64, i64, String, Option<i64>, i64);

const COLUMNS: (
    roblox_links::discord_id,
    roblox_links::roblox_id,
    roblox_links::method,
    roblox_links::server_id,
    roblox_links::linked_at,
) = (
    roblox_links::discord_id,
    roblox_links::roblox_id,
    roblox_links::method,
    roblox_links::server_id,
    roblox_links::linked_at,
);

fn corrupt(what: String) -> Failure {
    Failure::Domain(Error::Store(StoreError::Internal(what)))
}

fn to_link((discord, roblox, method, server, linked_at): LinkRow) -> Result<Link, Failure> {
    let discord = u64::try_from(discord)
        .map(Snowflake::from_raw)
        .map_err(|_| corrupt(format!("roblox_links holds a negative Discord id {discord}")))?;
    let method = LinkMethod::parse(&method).ok_or_else(|| corrupt(format!("roblox_links holds method {method:?}")))?;
    Ok(Link {
        discord,
        roblox: RobloxUserId::from_stored(roblox),
        method,
        server: server.map(ServerId::from_stored),
        linked_at: Timestamp(linked_at),
    })
}

fn links_of(conn: &mut AnyConnection, discord: i64, roblox: i64) -> Result<Vec<Link>, Failure> {
    let rows = roblox_links::table
        .filter(roblox_links::discord_id.eq(discord).or(roblox_links::roblox_id.eq(roblox)))
        .select(COLUMNS)
        .load::<LinkRow>(conn)?;
    rows.into_iter().map(to_link).collect()
}

/// Moves `ended` to the history, unlinked at `at`.
fn end(conn: &mut AnyConnection, ended: &[Link], at: Timestamp) -> Result<(), Failure> {
    for link in ended {
        let discord = link.discord.stored().unwrap_or(i64::MAX);
        diesel::insert_into(roblox_link_history::table)
            .values((
                roblox_link_history::discord_id.eq(discord),
                roblox_link_history::roblox_id.eq(link.roblox.get()),
                roblox_link_history::method.eq(link.method.as_str()),
                roblox_link_history::server_id.eq(link.server.map(ServerId::get)),
                roblox_link_history::linked_at.eq(link.linked_at.millis()),
                roblox_link_history::unlinked_at.eq(at.millis()),
            ))
            .execute(conn)?;
        diesel::delete(roblox_links::table.filter(roblox_links::discord_id.eq(discord))).execute(conn)?;
    }
    Ok(())
}

fn too_large(id: Snowflake) -> Error {
    Error::invalid("discordId", format!("{id} is too large to record (the limit is 2^63 - 1)"))
}

impl RobloxLinks for DieselRobloxLinks {
    fn by_roblox(&self, roblox: RobloxUserId) -> Result<Option<Link>> {
        self.db.read(|conn| {
            let row = roblox_links::table
                .filter(roblox_links::roblox_id.eq(roblox.get()))
                .select(COLUMNS)
                .first::<LinkRow>(conn)
                .optional()?;
            row.map(to_link).transpose()
        })
    }

    fn by_discord(&self, discord: Snowflake) -> Result<Option<Link>> {
        let Some(discord) = discord.stored() else { return Ok(None) };
        self.db.read(|conn| {
            let row = roblox_links::table
                .filter(roblox_links::discord_id.eq(discord))
                .select(COLUMNS)
                .first::<LinkRow>(conn)
                .optional()?;
            row.map(to_link).transpose()
        })
    }

    fn link(&self, link: &Link, spare_oauth: bool) -> Result<bool> {
        let link = link.clone();
        let discord = link.discord.stored().ok_or_else(|| too_large(link.discord))?;
        self.db.write(move |conn| {
            let current = links_of(conn, discord, link.roblox.get())?;
            if spare_oauth && current.iter().any(|l| l.method == LinkMethod::OAuth) {
                return Ok(false);
            }
            end(conn, &current, link.linked_at)?;
            diesel::insert_into(roblox_links::table)
                .values((
                    roblox_links::discord_id.eq(discord),
                    roblox_links::roblox_id.eq(link.roblox.get()),
                    roblox_links::method.eq(link.method.as_str()),
                    roblox_links::server_id.eq(link.server.map(ServerId::get)),
                    roblox_links::linked_at.eq(link.linked_at.millis()),
                ))
                .execute(conn)
                .map_err(|e| {
                    on_unique(e, || {
                        Error::invalid("robloxId", "was linked by another request at the same moment; try again")
                    })
                })?;
            Ok(true)
        })
    }

    fn unlink(&self, discord: Snowflake, at: Timestamp) -> Result<Option<Link>> {
        let Some(discord) = discord.stored() else { return Ok(None) };
        self.db.write(move |conn| {
            let row = roblox_links::table
                .filter(roblox_links::discord_id.eq(discord))
                .select(COLUMNS)
                .first::<LinkRow>(conn)
                .optional()?;
            let Some(link) = row.map(to_link).transpose()? else { return Ok(None) };
            end(conn, std::slice::from_ref(&link), at)?;
            Ok(Some(link))
        })
    }

    fn put_challenge(&self, challenge: &CodeChallenge) -> Result<()> {
        let challenge = challenge.clone();
        let discord = challenge.discord.stored().ok_or_else(|| too_large(challenge.discord))?;
        let values = (
            verification_codes::roblox_id.eq(challenge.roblox.get()),
            verification_codes::phrase.eq(challenge.phrase.clone()),
            verification_codes::expires_at.eq(challenge.expires_at.millis()),
        );
        self.db.write(move |conn| {
            per_backend!(conn, |c| diesel::insert_into(verification_codes::table)
                .values((
                    verification_codes::server_id.eq(challenge.server.get()),
                    verification_codes::discord_id.eq(discord),
                    values.clone(),
                ))
                .on_conflict((verification_codes::server_id, verification_codes::discord_id))
                .do_update()
                .set(values)
                .execute(c))?;
            Ok(())
        })
    }

    fn challenge(&self, server: ServerId, discord: Snowflake) -> Result<Option<CodeChallenge>> {
        let Some(discord_id) = discord.stored() else { return Ok(None) };
        self.db.read(|conn| {
            let row = verification_codes::table
                .filter(verification_codes::server_id.eq(server.get()))
                .filter(verification_codes::discord_id.eq(discord_id))
                .select((verification_codes::roblox_id, verification_codes::phrase, verification_codes::expires_at))
                .first::<(i64, String, i64)>(conn)
                .optional()?;
            Ok(row.map(|(roblox, phrase, expires_at)| CodeChallenge {
                discord,
                roblox: RobloxUserId::from_stored(roblox),
                phrase,
                server,
                expires_at: Timestamp(expires_at),
            }))
        })
    }

    fn drop_challenge(&self, server: ServerId, discord: Snowflake) -> Result<()> {
        let Some(discord) = discord.stored() else { return Ok(()) };
        self.db.write(move |conn| {
            diesel::delete(
                verification_codes::table
                    .filter(verification_codes::server_id.eq(server.get()))
                    .filter(verification_codes::discord_id.eq(discord)),
            )
            .execute(conn)?;
            Ok(())
        })
    }
}
