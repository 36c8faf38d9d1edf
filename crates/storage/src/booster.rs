use diesel::{prelude::*, result::Error as DieselError};
use garrison_core::{
    Error, Result, ServerId, StoreError, Timestamp, booster::BoosterRole, discord::Snowflake, ports::BoosterRoles,
};

use crate::{
    Database,
    db::AnyConnection,
    failure::{Failure, is_unique_violation},
    schema::booster_roles,
};

/// The records of custom booster roles. The primary key `(guild_id, user_id)` allows one role per
/// booster and the unique `(guild_id, role_id)` one record per role, so two concurrent records for
/// one user cannot both succeed. Snowflakes are stored as `BIGINT`.
#[derive(Debug, Clone)]
pub struct DieselBoosterRoles {
    db: Database,
}

impl DieselBoosterRoles {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The name of the `(guild_id, role_id)` constraint, as PostgreSQL reports it on a violation.
const ONE_PER_ROLE: &str = "booster_roles_one_per_role";

type BoosterRoleRow = (i64, i64, i64, i64);

const COLUMNS: (booster_roles::guild_id, booster_roles::user_id, booster_roles::role_id, booster_roles::created_at) =
    (booster_roles::guild_id, booster_roles::user_id, booster_roles::role_id, booster_roles::created_at);

fn to_record((guild, user, role, created_at): BoosterRoleRow) -> Result<BoosterRole, Failure> {
    let snowflake = |value: i64| {
        u64::try_from(value).map(Snowflake::from_raw).map_err(|_| {
            Failure::Domain(Error::Store(StoreError::Internal(format!("booster_roles holds a negative id {value}"))))
        })
    };
    Ok(BoosterRole {
        guild: snowflake(guild).map(|_| ServerId::from_stored(guild))?,
        user: snowflake(user)?,
        role: snowflake(role)?,
        created_at: Timestamp(created_at),
    })
}

fn to_records(rows: Vec<BoosterRoleRow>) -> Result<Vec<BoosterRole>, Failure> {
    rows.into_iter().map(to_record).collect()
}

fn of_user(conn: &mut AnyConnection, guild: i64, user: i64) -> Result<Option<BoosterRole>, Failure> {
    let rows = booster_roles::table
        .filter(booster_roles::guild_id.eq(guild))
        .filter(booster_roles::user_id.eq(user))
        .select(COLUMNS)
        .load::<BoosterRoleRow>(conn)?;
    Ok(to_records(rows)?.into_iter().next())
}

fn of_role(conn: &mut AnyConnection, guild: i64, role: i64) -> Result<Option<BoosterRole>, Failure> {
    let rows = booster_roles::table
        .filter(booster_roles::guild_id.eq(guild))
        .filter(booster_roles::role_id.eq(role))
        .select(COLUMNS)
        .load::<BoosterRoleRow>(conn)?;
    Ok(to_records(rows)?.into_iter().next())
}

fn too_large(field: &'static str, id: Snowflake) -> Error {
    Error::invalid(field, format!("{id} is too large to record (the limit is 2^63 - 1)"))
}

fn role_taken(role: Snowflake, owner: Option<Snowflake>) -> Error {
    let message = match owner {
        Some(owner) => format!("role {role} is already recorded as the custom booster role of user {owner}"),
        None => format!("role {role} is already recorded as a custom booster role"),
    };
    Error::invalid("roleId", message)
}

/// Which rule a failed insert broke: the role's (by the constraint PostgreSQL names) or the user's.
fn on_conflict(err: DieselError, record: &BoosterRole) -> Failure {
    if !is_unique_violation(&err) {
        return Failure::Db(err);
    }
    let constraint = match &err {
        DieselError::DatabaseError(_, info) => info.constraint_name(),
        _ => None,
    };
    if constraint == Some(ONE_PER_ROLE) {
        Failure::Domain(role_taken(record.role, None))
    } else {
        Failure::Domain(Error::BoosterRoleExists { user: record.user })
    }
}

impl BoosterRoles for DieselBoosterRoles {
    fn find(&self, guild: ServerId, user: Snowflake) -> Result<Option<BoosterRole>> {
        let (guild, Some(user)) = (guild.get(), user.stored()) else { return Ok(None) };
        self.db.read(|conn| of_user(conn, guild, user))
    }

    fn owner_of(&self, guild: ServerId, role: Snowflake) -> Result<Option<BoosterRole>> {
        let (guild, Some(role)) = (guild.get(), role.stored()) else { return Ok(None) };
        self.db.read(|conn| of_role(conn, guild, role))
    }

    fn record(&self, record: &BoosterRole) -> Result<()> {
        let record = *record;
        let guild = record.guild.get();
        let user = record.user.stored().ok_or_else(|| too_large("userId", record.user))?;
        let role = record.role.stored().ok_or_else(|| too_large("roleId", record.role))?;
        self.db.write(move |conn| {
            // Checked first for a precise answer; the constraints decide when two records race.
            if of_user(conn, guild, user)?.is_some() {
                return Err(Error::BoosterRoleExists { user: record.user }.into());
            }
            if let Some(owner) = of_role(conn, guild, role)? {
                return Err(role_taken(record.role, Some(owner.user)).into());
            }
            diesel::insert_into(booster_roles::table)
                .values((
                    booster_roles::guild_id.eq(guild),
                    booster_roles::user_id.eq(user),
                    booster_roles::role_id.eq(role),
                    booster_roles::created_at.eq(record.created_at.millis()),
                ))
                .execute(conn)
                .map_err(|e| on_conflict(e, &record))?;
            Ok(())
        })
    }

    fn forget(&self, guild: ServerId, role: Snowflake) -> Result<Option<BoosterRole>> {
        let (guild, Some(role)) = (guild.get(), role.stored()) else { return Ok(None) };
        self.db.write(move |conn| {
            let rows = diesel::delete(
                booster_roles::table.filter(booster_roles::guild_id.eq(guild)).filter(booster_roles::role_id.eq(role)),
            )
            .returning(COLUMNS)
            .get_results::<BoosterRoleRow>(conn)?;
            Ok(to_records(rows)?.into_iter().next())
        })
    }

    fn list(&self, guild: ServerId) -> Result<Vec<BoosterRole>> {
        let guild = guild.get();
        self.db.read(|conn| {
            let rows = booster_roles::table
                .filter(booster_roles::guild_id.eq(guild))
                .order((booster_roles::created_at.asc(), booster_roles::role_id.asc()))
                .select(COLUMNS)
                .load::<BoosterRoleRow>(conn)?;
            to_records(rows)
        })
    }
}
