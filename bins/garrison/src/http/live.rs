//! Noctra's gateway routes: `/api/VoiceChannel/info` and `/api/RoleMembers/role/{roleIds}`. Headers
//! and the role list are parsed here; core's `LiveGuilds` answers from the gateway adapter's live
//! sessions.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, web};
use garrison_core::discord::Snowflake;
use garrison_core::discord::live::{RoleGroup, RoleMatch, RoleMembers, VoiceChannelInfo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    error::ApiError,
    extract::Params,
    headers::{header, server, snowflake, token},
};

/// The most roles one query names (a guild has at most 250).
const MAX_ROLES: usize = 250;
/// The specification's overall limit for a role-members query.
const ROLE_MEMBERS_TIMEOUT: Duration = Duration::from_secs(180);
/// Role-members answers built at once (each can be megabytes), and how long a request waits for a turn
/// before it is told to retry (503).
static ROLE_MEMBERS_ANSWERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
const ANSWER_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedUser {
    #[schema(example = "123456789012345678")]
    user_id: String,
    username: String,
    /// The nick, else the global name, else the username.
    display_name: String,
    /// Muted by the server.
    muted: bool,
    /// Deafened by the server.
    deafened: bool,
    self_muted: bool,
    self_deafened: bool,
    /// Sharing their screen.
    streaming: bool,
    camera: bool,
    /// Without permission to speak (stage channels).
    suppressed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoiceChannelResponse {
    #[schema(example = "General")]
    channel_name: String,
    #[schema(example = 2)]
    connected_users_count: usize,
    #[schema(example = 64000)]
    bitrate: u32,
    channel_id: String,
    guild_id: String,
    /// `voice` or `stage`.
    #[schema(example = "voice")]
    r#type: &'static str,
    /// 0: no limit.
    user_limit: u32,
    /// `null`: chosen by Discord automatically.
    rtc_region: Option<String>,
    category_id: Option<String>,
    category_name: Option<String>,
    position: i64,
    connected_users: Vec<ConnectedUser>,
}

fn voice_response(info: VoiceChannelInfo) -> VoiceChannelResponse {
    let (category_id, category_name) =
        info.category.map_or((None, None), |(id, name)| (Some(id.to_string()), Some(name)));
    VoiceChannelResponse {
        channel_name: info.name,
        connected_users_count: info.connected.len(),
        bitrate: info.bitrate,
        channel_id: info.id.to_string(),
        guild_id: info.guild.to_string(),
        r#type: if info.kind == 13 { "stage" } else { "voice" },
        user_limit: info.user_limit,
        rtc_region: info.rtc_region,
        category_id,
        category_name,
        position: info.position,
        connected_users: info
            .connected
            .into_iter()
            .map(|m| ConnectedUser {
                user_id: m.user.to_string(),
                username: m.username,
                display_name: m.display_name,
                muted: m.muted,
                deafened: m.deafened,
                self_muted: m.self_muted,
                self_deafened: m.self_deafened,
                streaming: m.streaming,
                camera: m.camera,
                suppressed: m.suppressed,
            })
            .collect(),
    }
}

/// A voice or stage channel and who is connected to it now, from the bot's live gateway session
/// (opened on the first call, then kept while used: later calls answer at once).
#[utoipa::path(tag = "Discord channels", params(("bot-token" = String, Header), ("channel-id" = String, Header)),
    responses((status = 200, body = VoiceChannelResponse), (status = 400), (status = 401),
    (status = 404, description = "`{\"error\":\"Voice channel not found\"}`"),
    (status = 429, description = "the bot's gateway session is still starting, or Discord allows it no more today"),
    (status = 502)))]
#[get("/api/VoiceChannel/info")]
pub async fn voice_channel(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<web::Json<VoiceChannelResponse>, ApiError> {
    let channel = snowflake(&req, "channel-id")?;
    let bot = token(&req, "bot-token")?;
    Ok(web::Json(voice_response(state.discord.live.voice_channel(&bot, channel).await?)))
}

/// `?mode=any|all`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleMembersQuery {
    /// `any` (the default): members with at least one of the roles; `all`: with every one.
    mode: Option<String>,
}

/// The comma-separated role ids of the path, each a snowflake.
fn role_list(text: &str) -> Result<Vec<Snowflake>, ApiError> {
    let roles: Vec<Snowflake> = text
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| Snowflake::parse("roleIds", t))
        .collect::<Result<_, _>>()?;
    if roles.is_empty() {
        return Err(ApiError::bad_request("roleIds: give one or more role ids, separated by commas"));
    }
    if roles.len() > MAX_ROLES {
        return Err(ApiError::bad_request(format!("roleIds: at most {MAX_ROLES} roles")));
    }
    Ok(roles)
}

/// A snowflake written as a JSON string.
struct SnowflakeText(Snowflake);

impl Serialize for SnowflakeText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MemberOut<'a> {
    user_id: SnowflakeText,
    username: &'a str,
    display_name: &'a str,
}

/// One group, its members written straight from the shared roster.
struct GroupOut<'a>(&'a RoleMembers, &'a RoleGroup);

impl Serialize for GroupOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (all, group) = (self.0, self.1);
        let members = Members(all, group);
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("RoleId", &SnowflakeText(group.role.id))?;
        map.serialize_entry("RoleName", &group.role.name)?;
        map.serialize_entry("Position", &group.role.position)?;
        map.serialize_entry("Members", &members)?;
        map.end()
    }
}

struct Members<'a>(&'a RoleMembers, &'a RoleGroup);

impl Serialize for Members<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.members(self.1).map(|m| MemberOut {
            user_id: SnowflakeText(m.id),
            username: &m.username,
            display_name: m.display_name(),
        }))
    }
}

/// `{"RoleGroups":[...],"AllMembers":{"TotalMembers":N}}`, written without an intermediate tree.
struct RoleMembersBody(RoleMembers);

impl Serialize for RoleMembersBody {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let groups: Vec<GroupOut<'_>> = self.0.groups.iter().map(|g| GroupOut(&self.0, g)).collect();
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("RoleGroups", &groups)?;
        map.serialize_entry("AllMembers", &serde_json::json!({"TotalMembers": self.0.total}))?;
        map.end()
    }
}

/// The guild's members with any (or all) of the roles, grouped by role, highest role first: each
/// member once, under their highest matching role, unless `duplications: true`. Members come from
/// the bot's live gateway session (the GUILD_MEMBERS intent), fetched once and kept up to date.
#[utoipa::path(tag = "Discord roles", params(("roleIds" = String, Path, description = "comma-separated role ids"),
    ("discord-token" = String, Header), ("guild-id" = String, Header),
    ("duplications" = Option<String>, Header, description = "`true` lists a member under every matching role"),
    RoleMembersQuery),
    responses((status = 200, description = "`{\"RoleGroups\":[{\"RoleId\",\"RoleName\",\"Position\",\"Members\":[{\"UserId\",\"Username\",\"DisplayName\"}]}],\"AllMembers\":{\"TotalMembers\":1}}`"),
    (status = 400), (status = 401), (status = 403, description = "the bot lacks the GUILD_MEMBERS intent, or is not in the guild"),
    (status = 404, description = "a role is not in the guild"), (status = 429),
    (status = 503, description = "too many member lists are being answered at once; Retry-After says when"),
    (status = 502), (status = 504)))]
#[get("/api/RoleMembers/role/{roleIds}")]
pub async fn role_members(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: Params<RoleMembersQuery>,
) -> Result<HttpResponse, ApiError> {
    let roles = role_list(&path)?;
    let mode = match query.0.mode.as_deref().map(str::trim) {
        None | Some("" | "any") => RoleMatch::Any,
        Some("all") => RoleMatch::All,
        Some(other) => return Err(ApiError::bad_request(format!("mode: must be all or any, got {other:?}"))),
    };
    let duplications = match header(&req, "duplications") {
        None => false,
        Some(text) if text.eq_ignore_ascii_case("true") => true,
        Some(text) if text.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!("duplications: must be true or false, got {other:?}")));
        }
    };
    let guild = server(&req, "guild-id")?;
    let bot = token(&req, "discord-token")?;
    // An answer for a large guild is megabytes: only a few are built at once, the permit held until
    // the body is written.
    let Ok(Ok(_permit)) = tokio::time::timeout(ANSWER_WAIT, ROLE_MEMBERS_ANSWERS.acquire()).await else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many member lists are being answered; retry shortly.",
        )
        .retry_after(5));
    };
    let query = state.discord.live.role_members(&bot, guild, &roles, mode, duplications);
    let grouped = tokio::time::timeout(ROLE_MEMBERS_TIMEOUT, query)
        .await
        .map_err(|_| ApiError::new(StatusCode::GATEWAY_TIMEOUT, "The member list did not arrive within 180 s."))??;
    let body = serde_json::to_vec(&RoleMembersBody(grouped)).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type("application/json").body(body))
}
