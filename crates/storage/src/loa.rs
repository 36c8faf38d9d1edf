use diesel::prelude::*;
use garrison_core::{Error, MemberKey, Result, Timestamp, loa::Loa, ports::LoaRecords};

use crate::{
    Database,
    failure::{Failure, on_unique},
    schema::loas,
};

/// Leaves of absence. A partial unique index allows one open (`ended_at IS NULL`) row per member;
/// starting closes an expired open row first, so two concurrent starts cannot both succeed.
#[derive(Debug, Clone)]
pub struct DieselLoaRecords {
    db: Database,
}

impl DieselLoaRecords {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type LoaRow = (i64, i64, Option<i64>);

fn to_loa((started_at, ends_at, ended_at): LoaRow) -> Loa {
    Loa { started_at: Timestamp(started_at), ends_at: Timestamp(ends_at), ended_at: ended_at.map(Timestamp) }
}

const COLUMNS: (loas::started_at, loas::ends_at, loas::ended_at) = (loas::started_at, loas::ends_at, loas::ended_at);

fn of_member(member: MemberKey) -> loas::BoxedQuery<'static, crate::db::MultiBackend> {
    loas::table
        .filter(loas::server_id.eq(member.server.get()))
        .filter(loas::roblox_id.eq(member.member.get()))
        .into_boxed()
}

impl LoaRecords for DieselLoaRecords {
    fn latest(&self, member: MemberKey) -> Result<Option<Loa>> {
        self.db.read(|conn| {
            Ok(of_member(member).order(loas::id.desc()).select(COLUMNS).first::<LoaRow>(conn).optional()?.map(to_loa))
        })
    }

    fn reaching_past(
        &self,
        member: MemberKey,
        ending_after: Timestamp,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(i64, Loa)>> {
        self.db.read(|conn| {
            let t = ending_after.millis();
            // The effective end is ended_at when set (never after ends_at), else ends_at.
            let mut query =
                of_member(member).filter(loas::ended_at.gt(t).or(loas::ended_at.is_null().and(loas::ends_at.gt(t))));
            if let Some(before) = before {
                query = query.filter(loas::id.lt(before));
            }
            Ok(query
                .order(loas::id.desc())
                .limit(i64::from(limit))
                .select((loas::id, COLUMNS))
                .load::<(i64, LoaRow)>(conn)?
                .into_iter()
                .map(|(id, row)| (id, to_loa(row)))
                .collect())
        })
    }

    fn start(&self, member: MemberKey, loa: Loa) -> Result<Loa> {
        self.db.write(move |conn| {
            let own = loas::server_id.eq(member.server.get()).and(loas::roblox_id.eq(member.member.get()));
            diesel::update(
                loas::table
                    .filter(own)
                    .filter(loas::ended_at.is_null())
                    .filter(loas::ends_at.le(loa.started_at.millis())),
            )
            .set(loas::ended_at.eq(loas::ends_at.nullable()))
            .execute(conn)?;
            diesel::insert_into(loas::table)
                .values((
                    loas::server_id.eq(member.server.get()),
                    loas::roblox_id.eq(member.member.get()),
                    loas::started_at.eq(loa.started_at.millis()),
                    loas::ends_at.eq(loa.ends_at.millis()),
                ))
                .execute(conn)
                .map_err(|e| on_unique(e, || Error::LoaAlreadyActive { member: member.member }))?;
            Ok(loa)
        })
    }

    fn end(&self, member: MemberKey, at: Timestamp) -> Result<Loa> {
        self.db.write(move |conn| {
            let own = loas::server_id.eq(member.server.get()).and(loas::roblox_id.eq(member.member.get()));
            let ended = diesel::update(
                loas::table.filter(own).filter(loas::ended_at.is_null()).filter(loas::ends_at.gt(at.millis())),
            )
            .set(loas::ended_at.eq(at.millis()))
            .returning(COLUMNS)
            .get_result::<LoaRow>(conn)
            .optional()?;
            ended.map(to_loa).ok_or(Failure::Domain(Error::NoActiveLoa { member: member.member }))
        })
    }
}
