use diesel::prelude::*;
use garrison_core::{
    MemberKey, Result, RobloxUserId, ServerId, StoreError, Timestamp,
    ports::XpLedger,
    xp::{self, HistoryPage, LeaderboardRow, RecordedRequest, XpChange, XpEntry, XpMutation, XpOperation, XpOutcome},
};

use crate::{
    Database,
    cached::MoveBalance,
    db::{AnyConnection, per_backend},
    failure::{Failure, on_unique},
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

/// Moves the balance with one `UPDATE ... RETURNING` (see [`MoveBalance`]), run on the concrete
/// connection so diesel's statement cache keeps it. Returns `(balance, delta)`; `None` means no row
/// matched: the member has no balance row yet, or the guard refused (an add past `MAX_XP`).
fn move_balance(conn: &mut AnyConnection, member: MemberKey, change: XpChange) -> QueryResult<Option<(i64, i64)>> {
    let update = MoveBalance {
        operation: change.operation(),
        server: member.server.get(),
        member: member.member.get(),
        amount: change.amount(),
        add_ceiling: xp::MAX_XP - change.amount(),
    };
    let row: Option<(i64, i64)> = per_backend!(conn, |c| update.get_result(c).optional()?);
    Ok(row.map(|(new_balance, decrease)| (new_balance, -decrease)))
}

type EarlierRow = (i64, String, i64, Option<String>, i64);

fn earlier_request(row: &EarlierRow) -> Option<RecordedRequest> {
    let (member, operation, amount, reason, _) = row;
    let change = XpChange::new(XpOperation::from_stored(operation)?, *amount).ok()?;
    Some(RecordedRequest { member: RobloxUserId::from_stored(*member), change, reason: reason.clone() })
}

impl DieselXpLedger {
    fn apply_once(&self, mutation: XpMutation) -> Result<XpOutcome> {
        let member = mutation.member;
        self.db.write(move |conn| {
            if let Some(reference) = &mutation.reference {
                let earlier = xp_ledger::table
                    .filter(xp_ledger::server_id.eq(member.server.get()))
                    .filter(xp_ledger::reference.eq(reference.as_str()))
                    .select((
                        xp_ledger::roblox_id,
                        xp_ledger::operation,
                        xp_ledger::amount,
                        xp_ledger::reason,
                        xp_ledger::balance,
                    ))
                    .load::<EarlierRow>(conn)?
                    .into_iter()
                    .next();
                if let Some(row) = earlier {
                    // A row this adapter wrote always parses; anything else cannot be the same request.
                    let same = earlier_request(&row)
                        .map(|earlier| xp::check_replay(reference, &earlier, &mutation.recorded()));
                    return match same {
                        Some(Ok(())) => Ok(XpOutcome::Replayed { balance: row.4 }),
                        Some(Err(conflict)) => Err(conflict.into()),
                        None => Err(reference_conflict(reference).into()),
                    };
                }
            }
            // Most changes are to members who already have a balance: one statement. Otherwise the
            // row is created (0 XP) and the change applied to it; still nothing means the cap refused.
            let moved = match move_balance(conn, member, mutation.change)? {
                Some(moved) => Some(moved),
                None => {
                    per_backend!(conn, |c| diesel::insert_into(xp_balances::table)
                        .values((
                            xp_balances::server_id.eq(member.server.get()),
                            xp_balances::roblox_id.eq(member.member.get())
                        ))
                        .on_conflict_do_nothing()
                        .execute(c))?;
                    move_balance(conn, member, mutation.change)?
                }
            };
            let (balance, delta) =
                moved.ok_or(Failure::Domain(garrison_core::Error::XpOverflow { max: xp::MAX_XP }))?;
            diesel::insert_into(xp_ledger::table)
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
                .execute(conn)
                // The reference was free when looked up, so another request took it since: roll back.
                .map_err(|e| on_unique(e, || reference_conflict_of(&mutation)))?;
            Ok(XpOutcome::Applied { balance, delta })
        })
    }
}

fn reference_conflict(reference: &garrison_core::xp::Reference) -> garrison_core::Error {
    garrison_core::Error::ReferenceConflict { reference: reference.as_str().to_owned() }
}

fn reference_conflict_of(mutation: &XpMutation) -> garrison_core::Error {
    garrison_core::Error::ReferenceConflict {
        reference: mutation.reference.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default(),
    }
}

type LedgerRow = (i64, i64, String, i64, i64, i64, Option<String>, Option<String>, Option<String>, i64);

impl XpLedger for DieselXpLedger {
    fn apply(&self, mutation: &XpMutation) -> Result<XpOutcome> {
        match self.apply_once(mutation.clone()) {
            // A concurrent request with the same reference may have committed between our lookup and
            // our insert (PostgreSQL, several connections): the second attempt sees it, and replays or
            // conflicts as the rule says.
            Err(garrison_core::Error::ReferenceConflict { .. }) if mutation.reference.is_some() => {
                self.apply_once(mutation.clone())
            }
            other => other,
        }
    }

    fn balance(&self, member: MemberKey) -> Result<i64> {
        self.db.read(|conn| {
            let xp = xp_balances::table
                .filter(xp_balances::server_id.eq(member.server.get()))
                .filter(xp_balances::roblox_id.eq(member.member.get()))
                .select(xp_balances::xp)
                .load::<i64>(conn)?
                .into_iter()
                .next();
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
            rows.into_iter()
                .map(|(id, member, operation, amount, delta, balance, reference, reason, key_name, at)| {
                    let operation = XpOperation::from_stored(&operation).ok_or_else(|| {
                        garrison_core::Error::Store(StoreError::Internal(format!(
                            "unknown operation {operation:?} in xp_ledger row {id}"
                        )))
                    })?;
                    Ok(XpEntry {
                        id,
                        member: RobloxUserId::from_stored(member),
                        operation,
                        amount,
                        delta,
                        balance,
                        reference,
                        reason,
                        key_name,
                        at: Timestamp(at),
                    })
                })
                .collect()
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
