//! `/api/binds*`: Discord roles by Roblox rank. Each parses its ids, authenticates the API key, makes
//! one call of the bind service and writes the answer.

use actix_web::{get, post, put, web};
use garrison_core::{
    discord::Snowflake,
    roblox::{
        Rank,
        binds::{RankBind, SyncOutcome},
    },
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{Body, Caller, IdText, Params},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BindView {
    /// The lowest rank the bind holds (0-255).
    #[schema(example = 50)]
    min_rank: u8,
    /// The highest rank the bind holds (0-255, at least `minRank`).
    #[schema(example = 254)]
    max_rank: u8,
    /// The Discord roles the bind gives (1 to 10).
    #[schema(value_type = Vec<String>, example = json!(["123456789012345678"]))]
    role_ids: Vec<IdText>,
}

impl BindView {
    fn parse(&self) -> Result<RankBind, garrison_core::Error> {
        let roles = self.role_ids.iter().map(|r| Snowflake::parse("roleIds", &r.0)).collect::<Result<_, _>>()?;
        Ok(RankBind { min: Rank(self.min_rank), max: Rank(self.max_rank), roles })
    }
}

/// A bind as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindOut {
    #[schema(example = 50)]
    min_rank: u8,
    #[schema(example = 254)]
    max_rank: u8,
    #[schema(example = json!(["123456789012345678"]))]
    role_ids: Vec<String>,
}

impl From<RankBind> for BindOut {
    fn from(bind: RankBind) -> Self {
        Self {
            min_rank: bind.min.0,
            max_rank: bind.max.0,
            role_ids: bind.roles.iter().map(ToString::to_string).collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PutBindsBody {
    #[schema(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// Every bind of the server (at most 50): they replace the ones it had.
    binds: Vec<BindView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BindsResponse {
    binds: Vec<BindOut>,
}

/// `?serverId=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct BindsQuery {
    #[param(value_type = String, example = "123456789012345678")]
    server_id: IdText,
}

/// The server's rank binds.
#[utoipa::path(tag = "Roblox groups", params(BindsQuery), responses(
    (status = 200, body = BindsResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody)))]
#[get("/api/binds")]
pub async fn get_binds(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<BindsQuery>,
) -> Result<web::Json<BindsResponse>, ApiError> {
    let server = query.server_id.server("serverId")?;
    let principal = caller.principal(state.clone()).await?;
    let binds = state.binds.binds(&principal, server).await?;
    Ok(web::Json(BindsResponse { binds: binds.into_iter().map(BindOut::from).collect() }))
}

/// Replace the server's rank binds: each maps a range of Roblox ranks in the main group to Discord
/// roles. The roles named by any bind are the ones a sync manages; others are never touched.
#[utoipa::path(tag = "Roblox groups", request_body = PutBindsBody, responses(
    (status = 200, body = BindsResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[put("/api/binds")]
pub async fn put_binds(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<PutBindsBody>,
) -> Result<web::Json<BindsResponse>, ApiError> {
    let body = body.0;
    let server = body.server_id.server("serverId")?;
    let binds = body.binds.iter().map(BindView::parse).collect::<Result<Vec<_>, _>>()?;
    let principal = caller.principal(state.clone()).await?;
    state.binds.set_binds(&principal, server, binds.clone()).await?;
    Ok(web::Json(BindsResponse { binds: binds.into_iter().map(BindOut::from).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncBody {
    #[schema(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// The Discord member to sync.
    #[schema(value_type = String, example = "123456789012345678")]
    discord_id: IdText,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncRank {
    group_id: u64,
    #[schema(example = "Captain")]
    name: String,
    #[schema(example = 50)]
    rank: u8,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncResponse {
    success: bool,
    /// The member's linked Roblox account; `null` when they are not verified (then every bound role
    /// is taken away).
    roblox_id: Option<i64>,
    rank: Option<SyncRank>,
    /// Roles given, in id order.
    added: Vec<String>,
    /// Roles taken away, in id order.
    removed: Vec<String>,
}

impl From<SyncOutcome> for SyncResponse {
    fn from(outcome: SyncOutcome) -> Self {
        let ids = |roles: Vec<Snowflake>| roles.iter().map(ToString::to_string).collect();
        let (roblox_id, rank) = match outcome.rank {
            Some((user, group, role)) => {
                (Some(user.get()), Some(SyncRank { group_id: group.get(), name: role.name, rank: role.rank.0 }))
            }
            None => (None, None),
        };
        Self { success: true, roblox_id, rank, added: ids(outcome.added), removed: ids(outcome.removed) }
    }
}

/// Give a member the bound roles of their Roblox rank and take away the bound roles of other ranks,
/// through the server's own bot (`GARRISON_DISCORD_BOT_TOKEN`). Every role is checked first; a role
/// the bot cannot manage stops the sync before anything changes (403).
#[utoipa::path(tag = "Roblox groups", request_body = SyncBody, responses(
    (status = 200, body = SyncResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, description = "another server's key, a read-only key, or a role the bot cannot manage", body = ErrorBody),
    (status = 404, description = "not a member of the Discord server", body = ErrorBody),
    (status = 409, description = "no binds, or no Roblox group configured", body = ErrorBody),
    (status = 429, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, description = "no bot token is configured", body = ErrorBody)))]
#[post("/api/binds/sync")]
pub async fn sync(
    state: web::Data<AppState>,
    caller: Caller,
    body: Body<SyncBody>,
) -> Result<web::Json<SyncResponse>, ApiError> {
    let server = body.0.server_id.server("serverId")?;
    let user = Snowflake::parse("discordId", &body.0.discord_id.0)?;
    let principal = caller.principal(state.clone()).await?;
    let outcome = state.binds.sync(&principal, server, user).await?;
    Ok(web::Json(outcome.into()))
}
