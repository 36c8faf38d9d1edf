use diesel::prelude::*;
use garrison_core::{
    MemberKey, Result, ServerId, StoreError, Timestamp,
    ep::{Company, EpCursor, EpEntry, EpPolicy, PerCompany},
    ports::EpLedger,
};

use crate::{Database, db::per_backend, schema::ep_entries, schema::ep_policies};

/// EP as an append-only list of entries (adding is one `INSERT`), and one policy row per server.
#[derive(Debug, Clone)]
pub struct DieselEpLedger {
    db: Database,
}

impl DieselEpLedger {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type PolicyRow = (i32, i64, i64, i64, i64, i64, i32);

impl EpLedger for DieselEpLedger {
    fn add(&self, member: MemberKey, company: Company, amount: i64, at: Timestamp) -> Result<()> {
        self.db.write(move |conn| {
            diesel::insert_into(ep_entries::table)
                .values((
                    ep_entries::server_id.eq(member.server.get()),
                    ep_entries::roblox_id.eq(member.member.get()),
                    ep_entries::company.eq(company.as_str()),
                    ep_entries::amount.eq(amount),
                    ep_entries::at.eq(at.millis()),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    fn entries_page(
        &self,
        member: MemberKey,
        since: Timestamp,
        after: Option<EpCursor>,
        limit: u32,
    ) -> Result<Vec<EpEntry>> {
        self.db.read(|conn| {
            let mut query = ep_entries::table
                .filter(ep_entries::server_id.eq(member.server.get()))
                .filter(ep_entries::roblox_id.eq(member.member.get()))
                .filter(ep_entries::at.ge(since.millis()))
                .into_boxed();
            // Keyset: after (at, id), read in the order of the (server_id, roblox_id, at, id) index.
            if let Some(after) = after {
                query = query.filter(
                    ep_entries::at
                        .gt(after.at.millis())
                        .or(ep_entries::at.eq(after.at.millis()).and(ep_entries::id.gt(after.id))),
                );
            }
            let rows = query
                .order((ep_entries::at.asc(), ep_entries::id.asc()))
                .limit(i64::from(limit))
                .select((ep_entries::id, ep_entries::company, ep_entries::amount, ep_entries::at))
                .load::<(i64, String, i64, i64)>(conn)?;
            rows.into_iter()
                .map(|(id, company, amount, at)| {
                    let company = Company::parse(&company).map_err(|_| {
                        garrison_core::Error::Store(StoreError::Internal(format!(
                            "unknown company {company:?} in ep_entries row {id}"
                        )))
                    })?;
                    Ok(EpEntry { id, company, amount, at: Timestamp(at) })
                })
                .collect()
        })
    }

    fn policy(&self, server: ServerId) -> Result<Option<EpPolicy>> {
        self.db.read(|conn| {
            let row = ep_policies::table
                .filter(ep_policies::server_id.eq(server.get()))
                .select((
                    ep_policies::period_days,
                    ep_policies::period_start,
                    ep_policies::quota_main,
                    ep_policies::quota_sub1,
                    ep_policies::quota_sub2,
                    ep_policies::quota_sub3,
                    ep_policies::max_warning_level,
                ))
                .load::<PolicyRow>(conn)?
                .into_iter()
                .next();
            row.map(|(days, start, main, sub1, sub2, sub3, max)| {
                EpPolicy::new(i64::from(days), Timestamp(start), PerCompany([main, sub1, sub2, sub3]), i64::from(max))
                    .map_err(|e| {
                        garrison_core::Error::Store(StoreError::Internal(format!("stored EP policy is invalid: {e}")))
                            .into()
                    })
            })
            .transpose()
        })
    }

    fn set_policy(&self, server: ServerId, policy: &EpPolicy, at: Timestamp) -> Result<()> {
        let quota = policy.quota();
        let values = (
            ep_policies::period_days.eq(i32::from(policy.period_days())),
            ep_policies::period_start.eq(policy.period_start().millis()),
            ep_policies::quota_main.eq(quota.get(Company::Main)),
            ep_policies::quota_sub1.eq(quota.get(Company::Sub1)),
            ep_policies::quota_sub2.eq(quota.get(Company::Sub2)),
            ep_policies::quota_sub3.eq(quota.get(Company::Sub3)),
            ep_policies::max_warning_level.eq(i32::from(policy.max_warning_level())),
            ep_policies::updated_at.eq(at.millis()),
        );
        self.db.write(move |conn| {
            per_backend!(conn, |c| diesel::insert_into(ep_policies::table)
                .values((ep_policies::server_id.eq(server.get()), values))
                .on_conflict(ep_policies::server_id)
                .do_update()
                .set(values)
                .execute(c))?;
            Ok(())
        })
    }
}
