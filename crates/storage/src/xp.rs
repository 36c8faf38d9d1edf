use diesel::prelude::*;
use garrison_core::{
    MemberKey, Result, RobloxUserId, ServerId, StoreError, Timestamp,
    idempotency::{self, IdempotentRequest, RememberedAnswer, Repeat, RequestHash},
    ports::XpLedger,
    xp::{
        self, HistoryPage, LeaderboardPage, LeaderboardRow, LeaderboardStart, XpChange, XpEntry, XpMutation,
        XpOperation, XpOutcome,
    },
};

use crate::{
    Database,
    cached::MoveBalance,
    db::{AnyConnection, per_backend},
    failure::{Failure, on_unique},
    schema::{idempotency_keys, xp_balances, xp_ledger},
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

/// The answer remembered for the request's `Idempotency-Key`, if it was used within the window:
/// `Some` replays it, an expired row is deleted (the key is free again), a different request is
/// refused as core's rule says.
fn remembered(conn: &mut AnyConnection, request: &IdempotentRequest) -> Result<Option<XpOutcome>, Failure> {
    let row = idempotency_keys::table
        .filter(idempotency_keys::api_key_id.eq(request.key_id.0))
        .filter(idempotency_keys::route.eq(request.route))
        .filter(idempotency_keys::idempotency_key.eq(request.key.as_str()))
        .select((
            idempotency_keys::id,
            idempotency_keys::request_hash,
            idempotency_keys::answer,
            idempotency_keys::created_at,
        ))
        .load::<(i64, String, String, i64)>(conn)?
        .into_iter()
        .next();
    let Some((id, request_hash, answer, created_at)) = row else {
        return Ok(None);
    };
    let earlier = RememberedAnswer {
        request_hash: RequestHash::from_stored(request_hash),
        answer,
        created_at: Timestamp(created_at),
    };
    match idempotency::on_repeat(request, &earlier)? {
        Repeat::Replay(answer) => XpOutcome::replayed(answer).map(Some).ok_or_else(|| {
            Failure::Domain(garrison_core::Error::Store(StoreError::Internal(format!(
                "idempotency_keys row {id} holds no XP answer"
            ))))
        }),
        Repeat::Expired => {
            diesel::delete(idempotency_keys::table.filter(idempotency_keys::id.eq(id))).execute(conn)?;
            Ok(None)
        }
    }
}

/// Records the answer under the request's key, in the change's transaction, and forgets this API key's
/// expired keys. A unique violation means a concurrent request with the same key committed first: the
/// change rolls back and [`XpLedger::apply`] looks again.
fn remember(conn: &mut AnyConnection, request: &IdempotentRequest, answer: String) -> Result<(), Failure> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::api_key_id.eq(request.key_id.0))
            .filter(idempotency_keys::created_at.lt(request.window_start().millis())),
    )
    .execute(conn)?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::api_key_id.eq(request.key_id.0),
            idempotency_keys::server_id.eq(request.server.get()),
            idempotency_keys::route.eq(request.route),
            idempotency_keys::idempotency_key.eq(request.key.as_str()),
            idempotency_keys::request_hash.eq(request.request_hash.as_str()),
            idempotency_keys::answer.eq(answer),
            idempotency_keys::created_at.eq(request.at.millis()),
        ))
        .execute(conn)
        .map_err(|e| on_unique(e, || key_taken(request)))?;
    Ok(())
}

fn key_taken(request: &IdempotentRequest) -> garrison_core::Error {
    garrison_core::Error::IdempotencyKeyReused { key: request.key.as_str().to_owned() }
}

impl DieselXpLedger {
    fn apply_once(&self, mutation: XpMutation) -> Result<XpOutcome> {
        let member = mutation.member;
        self.db.write(move |conn| {
            if let Some(request) = &mutation.idempotency
                && let Some(replayed) = remembered(conn, request)?
            {
                return Ok(replayed);
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
                .execute(conn)?;
            let outcome = XpOutcome::Applied { balance, delta };
            if let Some(request) = &mutation.idempotency {
                remember(conn, request, outcome.to_answer())?;
            }
            Ok(outcome)
        })
    }
}

type LedgerRow = (i64, i64, String, i64, i64, i64, Option<String>, Option<String>, Option<String>, i64);

impl XpLedger for DieselXpLedger {
    fn apply(&self, mutation: &XpMutation) -> Result<XpOutcome> {
        match self.apply_once(mutation.clone()) {
            // A concurrent request with the same Idempotency-Key may have committed between our lookup
            // and our insert (PostgreSQL, several connections); ours rolled back, and the second attempt
            // sees theirs and replays or refuses as the rule says.
            Err(garrison_core::Error::IdempotencyKeyReused { .. }) if mutation.idempotency.is_some() => {
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

    fn leaderboard(&self, server: ServerId, page: LeaderboardPage) -> Result<Vec<LeaderboardRow>> {
        let first_rank = page
            .start
            .first_rank()
            .ok_or_else(|| garrison_core::Error::invalid("offset", "the page starts past the last possible rank"))?;
        self.db.read(|conn| {
            let mut query = xp_balances::table
                .filter(xp_balances::server_id.eq(server.get()))
                .filter(xp_balances::xp.gt(0))
                .into_boxed();
            match page.start {
                LeaderboardStart::Offset(0) => {}
                // Bounded by MAX_LEADERBOARD_OFFSET in core.
                LeaderboardStart::Offset(offset) => {
                    query = query.offset(i64::try_from(offset).map_err(|_| {
                        garrison_core::Error::invalid(
                            "offset",
                            format!("must be at most {}", xp::MAX_LEADERBOARD_OFFSET),
                        )
                    })?);
                }
                // Keyset: the rows after (xp, roblox_id) in leaderboard order, read straight from the
                // (server_id, xp DESC, roblox_id) index at any depth.
                LeaderboardStart::After(cursor) => {
                    query = query.filter(
                        xp_balances::xp
                            .lt(cursor.xp)
                            .or(xp_balances::xp.eq(cursor.xp).and(xp_balances::roblox_id.gt(cursor.member.get()))),
                    );
                }
            }
            let rows = query
                .order((xp_balances::xp.desc(), xp_balances::roblox_id.asc()))
                .limit(i64::from(page.limit))
                .select((xp_balances::roblox_id, xp_balances::xp))
                .load::<(i64, i64)>(conn)?;
            Ok(rows
                .into_iter()
                .zip(first_rank..)
                .map(|((member, xp), rank)| LeaderboardRow { member: RobloxUserId::from_stored(member), xp, rank })
                .collect())
        })
    }
}
