//! Statements diesel would prepare afresh on every run, written so its statement cache keeps them.
//!
//! Diesel never caches an `UPDATE` (a changeset may change shape between runs) nor the SQL its
//! transaction manager sends for savepoints (run through `sqlite3_exec`, parsed every time). On the
//! SQLite writer those re-parses were measured at a third of the thread's time. A `QueryFragment` that
//! always writes the same SQL is cached by that SQL: prepared once per connection, then only re-bound.

use diesel::{
    backend::Backend,
    prelude::*,
    query_builder::{AstPass, Query, QueryFragment, QueryId},
    serialize::ToSql,
    sql_types::BigInt,
};
use garrison_core::xp::XpOperation;

/// `UPDATE xp_balances ... RETURNING xp, last_decrease` for one operation: every `SET` expression
/// reads the row's old values (SQL semantics on both backends), so `last_decrease` records what really
/// changed, clamping included. An add past the cap matches no row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MoveBalance {
    pub operation: XpOperation,
    pub server: i64,
    pub member: i64,
    pub amount: i64,
    /// The largest balance an add may start from (`MAX_XP - amount`).
    pub add_ceiling: i64,
}

impl QueryId for MoveBalance {
    type QueryId = ();
    // Three shapes of SQL behind one type: cache by the SQL text, not the type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for MoveBalance {
    type SqlType = (BigInt, BigInt);
}

impl<Conn> RunQueryDsl<Conn> for MoveBalance {}

impl<DB: Backend> QueryFragment<DB> for MoveBalance
where
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE xp_balances SET ");
        match self.operation {
            XpOperation::Set => {
                out.push_sql("last_decrease = xp - ");
                out.push_bind_param::<BigInt, _>(&self.amount)?;
                out.push_sql(", xp = ");
                out.push_bind_param::<BigInt, _>(&self.amount)?;
            }
            XpOperation::Add => {
                out.push_sql("last_decrease = 0 - ");
                out.push_bind_param::<BigInt, _>(&self.amount)?;
                out.push_sql(", xp = xp + ");
                out.push_bind_param::<BigInt, _>(&self.amount)?;
            }
            XpOperation::Subtract => {
                out.push_sql("last_decrease = CASE WHEN xp > ");
                out.push_bind_param::<BigInt, _>(&self.amount)?;
                out.push_sql(" THEN ");
                out.push_bind_param::<BigInt, _>(&self.amount)?;
                out.push_sql(" ELSE xp END, xp = CASE WHEN xp > ");
                out.push_bind_param::<BigInt, _>(&self.amount)?;
                out.push_sql(" THEN xp - ");
                out.push_bind_param::<BigInt, _>(&self.amount)?;
                out.push_sql(" ELSE 0 END");
            }
        }
        out.push_sql(" WHERE server_id = ");
        out.push_bind_param::<BigInt, _>(&self.server)?;
        out.push_sql(" AND roblox_id = ");
        out.push_bind_param::<BigInt, _>(&self.member)?;
        if self.operation == XpOperation::Add {
            out.push_sql(" AND xp <= ");
            out.push_bind_param::<BigInt, _>(&self.add_ceiling)?;
        }
        out.push_sql(" RETURNING xp, last_decrease");
        Ok(())
    }
}

/// The transaction statements of the SQLite writer: one transaction per batch, a savepoint per write.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TxStatement {
    Begin,
    Commit,
    Rollback,
    Savepoint,
    Release,
    RollbackToSavepoint,
    /// Around each job of the batch, so a job that panics can be undone alone, whatever savepoints of
    /// its own it left open.
    JobSavepoint,
    JobRelease,
    JobRollback,
}

impl QueryId for TxStatement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Conn> RunQueryDsl<Conn> for TxStatement {}

impl<DB: Backend> QueryFragment<DB> for TxStatement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(match self {
            // IMMEDIATE: take the write lock at once, so a batch never fails half-way on a lock another
            // process (a CLI command) holds; busy_timeout waits for it instead.
            Self::Begin => "BEGIN IMMEDIATE",
            Self::Commit => "COMMIT",
            Self::Rollback => "ROLLBACK",
            Self::Savepoint => "SAVEPOINT write",
            Self::Release => "RELEASE write",
            Self::RollbackToSavepoint => "ROLLBACK TO write",
            Self::JobSavepoint => "SAVEPOINT job",
            Self::JobRelease => "RELEASE job",
            Self::JobRollback => "ROLLBACK TO job",
        });
        Ok(())
    }
}

/// `INSERT INTO modlog_cases ... ON CONFLICT DO UPDATE ... RETURNING last_case`: the bot's next case
/// number in the guild, 1 for its first entry. The upsert locks the bot's counter row for the guild
/// until the transaction that records the entry ends, so concurrent adds by one bot to one guild are
/// numbered one after another, and an add that rolls back takes its number with it. The same SQL on
/// both backends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NextCase {
    pub bot: i64,
    pub guild: i64,
}

impl QueryId for NextCase {
    type QueryId = Self;
    // One fixed SQL text: cache by the type.
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for NextCase {
    type SqlType = BigInt;
}

impl<Conn> RunQueryDsl<Conn> for NextCase {}

impl<DB: Backend> QueryFragment<DB> for NextCase
where
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("INSERT INTO modlog_cases (bot_id, guild_id, last_case) VALUES (");
        out.push_bind_param::<BigInt, _>(&self.bot)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.guild)?;
        out.push_sql(", 1) ON CONFLICT (bot_id, guild_id) DO UPDATE SET last_case = modlog_cases.last_case + 1");
        out.push_sql(" RETURNING last_case");
        Ok(())
    }
}
