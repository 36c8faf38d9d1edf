use std::cell::Cell;

use diesel::{dsl::sql, prelude::*, sql_types::BigInt};
use garrison_core::{
    MemberKey, Result, RobloxUserId, ServerId, Timestamp,
    ports::XpLedger,
    xp::{self, HistoryPage, LeaderboardRow, RecordedRequest, XpChange, XpEntry, XpMutation, XpOperation, XpOutcome},
};

use crate::{
    Database,
    db::{AnyConnection, per_backend},
    failure::{Failure, is_unique_violation},
    schema::{xp_balances, xp_ledger},
};

/// XP balances (one row per member, changed in place by one statement) and their append-only ledger.
#[derive(Debug, Clone)]
pub struct DieselXpLedger {
    db: Database,
}

impl DieselXpLedger {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// Moves the balance with one `UPDATE ... RETURNING`. Every `SET` expression reads the row's old
/// values (SQL semantics on both backends), so `last_delta` records what really changed, clamping
/// included, without a read in Rust. `None` means the guard refused (an add past `MAX_XP`).
fn move_balance(conn: &mut AnyConnection, member: MemberKey, change: XpChange) -> QueryResult<Option<(i64, i64)>> {
    let target = xp_balances::table
        .filter(xp_balances::server_id.eq(member.server.get()))
        .filter(xp_balances::roblox_id.eq(member.member.get()));
    let amount = change.amount();
    let returning = (xp_balances::xp, xp_balances::last_delta);
    match change.operation() {
        XpOperation::Set => diesel::update(target)
            .set((
                xp_balances::last_delta.eq(sql::<BigInt>("").bind::<BigInt, _>(amount).sql(" - xp")),
                xp_balances::xp.eq(amount),
            ))
            .returning(returning)
            .get_result(conn)
            .optional(),
        XpOperation::Add => diesel::update(target.filter(xp_balances::xp.le(xp::MAX_XP - amount)))
            .set((xp_balances::last_delta.eq(amount), xp_balances::xp.eq(xp_balances::xp + amount)))
            .returning(returning)
            .get_result(conn)
            .optional(),
        XpOperation::Subtract => diesel::update(target)
            .set((
                xp_balances::last_delta.eq(sql::<BigInt>("CASE WHEN xp > ")
                    .bind::<BigInt, _>(amount)
                    .sql(" THEN 0 - ")
                    .bind::<BigInt, _>(amount)
                    .sql(" ELSE 0 - xp END")),
                xp_balances::xp.eq(sql::<BigInt>("CASE WHEN xp > ")
                    .bind::<BigInt, _>(amount)
                    .sql(" THEN xp - ")
                    .bind::<BigInt, _>(amount)
                    .sql(" ELSE 0 END")),
            ))
            .returning(returning)
            .get_result(conn)
            .optional(),
    }
}

type EarlierRow = (i64, String, i64, Option<String>, i64);

fn earlier_request(row: &EarlierRow) -> Option<RecordedRequest> {
    let (member, operation, amount, reason, _) = row;
    let change = XpChange::new(XpOperation::from_stored(operation)?, *amount).ok()?;
    Some(RecordedRequest { member: RobloxUserId::from_stored(*member), change, reason: reason.clone() })
}

impl DieselXpLedger {
    fn apply_once(&self, mutation: &XpMutation, raced: &Cell<bool>) -> Result<XpOutcome> {
        let member = mutation.member;
        self.db.write(|conn| {
            if let Some(reference) = &mutation.reference {
                let earlier = xp_ledger::table
                    .filter(xp_ledger::server_id.eq(member.server.get()))
                    .filter(xp_ledger::reference.eq(reference.as_str()))
                    .select((xp_ledger::roblox_id, xp_ledger::operation, xp_ledger::amount, xp_ledger::reason, xp_ledger::balance))
                    .first::<EarlierRow>(conn)
                    .optional()?;
                if let Some(row) = earlier {
                    // A row this adapter wrote always parses; anything else cannot be the same request.
                    let same = earlier_request(&row).map(|earlier| xp::check_replay(reference, &earlier, &mutation.recorded()));
                    return match same {
                        Some(Ok(())) => Ok(XpOutcome::Replayed { balance: row.4 }),
                        Some(Err(conflict)) => Err(conflict.into()),
                        None => Err(garrison_core::Error::ReferenceConflict { reference: reference.as_str().to_owned() }.into()),
                    };
                }
            }
            per_backend!(conn, |c| diesel::insert_into(xp_balances::table)
                .values((xp_balances::server_id.eq(member.server.get()), xp_balances::roblox_id.eq(member.member.get())))
                .on_conflict_do_nothing()
                .execute(c))?;
            let (balance, delta) = move_balance(conn, member, mutation.change)?
                .ok_or(Failure::Domain(garrison_core::Error::XpOverflow { max: xp::MAX_XP }))?;
            let inserted = diesel::insert_into(xp_ledger::table)
                .values((
                    xp_ledger::server_id.eq(member.server.get()),
                    xp_ledger::roblox_id.eq(member.member.get()),
                    xp_ledger::operation.eq(mutation.change.operation().as_str()),
                    xp_ledger::amount.eq(mutation.change.amount()),
                    xp_ledger::delta.eq(delta),
                    xp_ledger::balance.eq(balance),
                    xp_ledger::reference.eq(mutation.reference.as_ref().map(|r| r.as_str())),
                    xp_ledger::reason.eq(mutation.reason.as_ref().map(|r| r.as_str())),
                    xp_ledger::key_id.eq(mutation.actor.key_id.map(|k| k.0)),
                    xp_ledger::key_name.eq(&mutation.actor.key_name),
                    xp_ledger::at.eq(mutation.at.millis()),
                ))
                .execute(conn);
            match inserted {
                Ok(_) => Ok(XpOutcome::Applied { balance, delta }),
                Err(err) => {
                    // Another request with the same reference committed first: this transaction rolls
                    // back and the caller runs it again, which then replays or conflicts.
                    raced.set(is_unique_violation(&err));
                    Err(err.into())
                }
            }
        })
    }
}

type LedgerRow = (i64, i64, String, i64, i64, i64, Option<String>, Option<String>, Option<String>, i64);

impl XpLedger for DieselXpLedger {
    fn apply(&self, mutation: &XpMutation) -> Result<XpOutcome> {
        let raced = Cell::new(false);
        match self.apply_once(mutation, &raced) {
            Err(_) if raced.get() => self.apply_once(mutation, &Cell::new(false)),
            other => other,
        }
    }

    fn balance(&self, member: MemberKey) -> Result<i64> {
        self.db.read(|conn| {
            let xp = xp_balances::table
                .filter(xp_balances::server_id.eq(member.server.get()))
                .filter(xp_balances::roblox_id.eq(member.member.get()))
                .select(xp_balances::xp)
                .first::<i64>(conn)
                .optional()?;
            Ok(xp.unwrap_or(0))
        })
    }

    fn history(&self, member: MemberKey, page: HistoryPage) -> Result<Vec<XpEntry>> {
        self.db.read(|conn| {
            let mut query = xp_ledger::table
                .filter(xp_ledger::server_id.eq(member.server.get()))
                .filter(xp_ledger::roblox_id.eq(member.member.get()))
                .into_boxed();
            if let Some(before) = page.before {
                query = query.filter(xp_ledger::id.lt(before));
            }
            let rows = query
                .order(xp_ledger::id.desc())
                .limit(i64::from(page.limit))
                .select((
                    xp_ledger::id,
                    xp_ledger::roblox_id,
                    xp_ledger::operation,
                    xp_ledger::amount,
                    xp_ledger::delta,
                    xp_ledger::balance,
                    xp_ledger::reference,
                    xp_ledger::reason,
                    xp_ledger::key_name,
                    xp_ledger::at,
                ))
                .load::<LedgerRow>(conn)?;
            Ok(rows
                .into_iter()
                .map(|(id, member, operation, amount, delta, balance, reference, reason, key_name, at)| XpEntry {
                    id,
                    member: RobloxUserId::from_stored(member),
                    operation: XpOperation::from_stored(&operation).unwrap_or(XpOperation::Set),
                    amount,
                    delta,
                    balance,
                    reference,
                    reason,
                    key_name,
                    at: Timestamp(at),
                })
                .collect())
        })
    }

    fn leaderboard(&self, server: ServerId, limit: u32, offset: u64) -> Result<Vec<LeaderboardRow>> {
        self.db.read(|conn| {
            let rows = xp_balances::table
                .filter(xp_balances::server_id.eq(server.get()))
                .filter(xp_balances::xp.gt(0))
                .order((xp_balances::xp.desc(), xp_balances::roblox_id.asc()))
                .limit(i64::from(limit))
                .offset(i64::try_from(offset).unwrap_or(i64::MAX))
                .select((xp_balances::roblox_id, xp_balances::xp))
                .load::<(i64, i64)>(conn)?;
            Ok(rows
                .into_iter()
                .zip(offset + 1..)
                .map(|((member, xp), rank)| LeaderboardRow { member: RobloxUserId::from_stored(member), xp, rank })
                .collect())
        })
    }
}
