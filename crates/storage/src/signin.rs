use diesel::prelude::*;
use garrison_core::{
    Error, Result, StoreError, Timestamp,
    discord::Snowflake,
    roblox::signin::{Purpose, SignInFlow, SignInFlows, Stage},
};

use crate::{Database, failure::Failure, schema::signin_flows};

/// Started web verification flows, taken (read and deleted) in one transaction so a state is used
/// once even when two replicas see it at the same moment.
#[derive(Debug, Clone)]
pub struct DieselSignInFlows {
    db: Database,
}

impl DieselSignInFlows {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type FlowRow = (String, String, String, Option<i64>, Option<String>, String, i64);

fn corrupt(what: String) -> Failure {
    Failure::Domain(Error::Store(StoreError::Internal(what)))
}

fn to_flow(
    (state_hash, browser_hash, stage, discord, name, verifier, expires_at): FlowRow,
) -> Result<SignInFlow, Failure> {
    let stage = match (stage.as_str(), discord, name) {
        ("discord_link", _, _) => Stage::Discord(Purpose::Link),
        ("discord_unlink", _, _) => Stage::Discord(Purpose::Unlink),
        ("roblox", Some(discord), Some(discord_name)) => Stage::Roblox {
            discord: u64::try_from(discord)
                .map(Snowflake::from_raw)
                .map_err(|_| corrupt(format!("signin_flows holds {discord}")))?,
            discord_name,
        },
        (other, _, _) => return Err(corrupt(format!("signin_flows holds stage {other:?}"))),
    };
    Ok(SignInFlow { state_hash, browser_hash, stage, verifier, expires_at: Timestamp(expires_at) })
}

impl SignInFlows for DieselSignInFlows {
    fn put(&self, flow: &SignInFlow) -> Result<()> {
        let (stage, discord, name) = match &flow.stage {
            Stage::Discord(Purpose::Link) => ("discord_link", None, None),
            Stage::Discord(Purpose::Unlink) => ("discord_unlink", None, None),
            Stage::Roblox { discord, discord_name } => {
                let id = i64::try_from(discord.get()).map_err(|_| Error::invalid("discordId", "too large"))?;
                ("roblox", Some(id), Some(discord_name.clone()))
            }
        };
        let row = (
            signin_flows::state_hash.eq(flow.state_hash.clone()),
            signin_flows::browser_hash.eq(flow.browser_hash.clone()),
            signin_flows::stage.eq(stage),
            signin_flows::discord_id.eq(discord),
            signin_flows::discord_name.eq(name),
            signin_flows::verifier.eq(flow.verifier.clone()),
            signin_flows::expires_at.eq(flow.expires_at.millis()),
        );
        self.db.write(move |conn| {
            diesel::insert_into(signin_flows::table).values(row).execute(conn)?;
            Ok(())
        })
    }

    fn take(&self, state_hash: &str) -> Result<Option<SignInFlow>> {
        // A read first: anyone can send a state, and an unknown one must not cost a write.
        let wanted = state_hash.to_owned();
        let row = self.db.read(|conn| {
            Ok(signin_flows::table
                .filter(signin_flows::state_hash.eq(&wanted))
                .select((
                    signin_flows::state_hash,
                    signin_flows::browser_hash,
                    signin_flows::stage,
                    signin_flows::discord_id,
                    signin_flows::discord_name,
                    signin_flows::verifier,
                    signin_flows::expires_at,
                ))
                .first::<FlowRow>(conn)
                .optional()?)
        })?;
        let Some(row) = row else { return Ok(None) };
        // The delete decides who took it: of two requests that read the row, one deletes it.
        let deleted = self.db.write(move |conn| {
            Ok(diesel::delete(signin_flows::table.filter(signin_flows::state_hash.eq(&wanted))).execute(conn)?)
        })?;
        if deleted == 0 {
            return Ok(None);
        }
        Ok(Some(to_flow(row).map_err(garrison_core::Error::from)?))
    }

    fn purge(&self, now: Timestamp) -> Result<u64> {
        self.db.write(move |conn| {
            let n =
                diesel::delete(signin_flows::table.filter(signin_flows::expires_at.le(now.millis()))).execute(conn)?;
            Ok(n as u64)
        })
    }
}
