use diesel::prelude::*;
use garrison_core::{
    Error, Result, ServerId, StoreError,
    discord::Snowflake,
    roblox::{
        Rank,
        binds::{RankBind, RankBinds},
    },
};

use crate::{Database, failure::Failure, schema::rank_binds};

/// Each server's rank binds, a row per role of a bind, replaced whole in one transaction.
#[derive(Debug, Clone)]
pub struct DieselRankBinds {
    db: Database,
}

impl DieselRankBinds {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn corrupt(what: String) -> Failure {
    Failure::Domain(Error::Store(StoreError::Internal(what)))
}

impl RankBinds for DieselRankBinds {
    fn binds(&self, server: ServerId) -> Result<Vec<RankBind>> {
        self.db.read(|conn| {
            let rows = rank_binds::table
                .filter(rank_binds::server_id.eq(server.get()))
                .order((rank_binds::bind_index, rank_binds::role_id))
                .select((rank_binds::bind_index, rank_binds::min_rank, rank_binds::max_rank, rank_binds::role_id))
                .load::<(i32, i32, i32, i64)>(conn)?;
            let mut binds: Vec<(i32, RankBind)> = Vec::new();
            for (index, min, max, role) in rows {
                let rank =
                    |r: i32| u8::try_from(r).map(Rank).map_err(|_| corrupt(format!("rank_binds holds rank {r}")));
                let role = u64::try_from(role)
                    .map(Snowflake::from_raw)
                    .map_err(|_| corrupt(format!("rank_binds holds role {role}")))?;
                match binds.last_mut() {
                    Some((last, bind)) if *last == index => bind.roles.push(role),
                    _ => binds.push((index, RankBind { min: rank(min)?, max: rank(max)?, roles: vec![role] })),
                }
            }
            Ok(binds.into_iter().map(|(_, bind)| bind).collect())
        })
    }

    fn set_binds(&self, server: ServerId, binds: &[RankBind]) -> Result<()> {
        let mut rows = Vec::new();
        for (index, bind) in binds.iter().enumerate() {
            let index = i32::try_from(index).map_err(|_| Error::invalid("binds", "too many binds"))?;
            for role in &bind.roles {
                let role = i64::try_from(role.get())
                    .map_err(|_| Error::invalid("binds", format!("role {role} is too large to record")))?;
                rows.push((
                    rank_binds::server_id.eq(server.get()),
                    rank_binds::bind_index.eq(index),
                    rank_binds::min_rank.eq(i32::from(bind.min.0)),
                    rank_binds::max_rank.eq(i32::from(bind.max.0)),
                    rank_binds::role_id.eq(role),
                ));
            }
        }
        self.db.write(move |conn| {
            diesel::delete(rank_binds::table.filter(rank_binds::server_id.eq(server.get()))).execute(conn)?;
            for row in rows {
                diesel::insert_into(rank_binds::table).values(row).execute(conn)?;
            }
            Ok(())
        })
    }
}
