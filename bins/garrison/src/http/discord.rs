//! Noctra's Discord information routes (accounts, permissions, invites, channels, boosts,
//! auto-moderation) and Viscra's `/api/server/info`. Each reads its headers and the caller's bot
//! token, makes one call of the guild queries (`garrison_core::discord::Guilds`) and writes the answer.

use std::cmp::Ordering;

use actix_web::{HttpRequest, get, http::StatusCode, post, web};
use garrison_core::{
    ServerId,
    discord::{Channel, INVALID_INVITE, Invite, MemberStanding, Overall, OverwriteTarget, Snowflake, parse_invite},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    error::ApiError,
    extract::{Caller, Params, RawBody},
    headers::{header, required, server, snowflake, token},
};

fn overwrites_json(channel: &Channel) -> Vec<Value> {
    channel
        .overwrites
        .iter()
        .map(|o| {
            let (id, kind) = match o.target {
                OverwriteTarget::Role(id) => (id, 0),
                OverwriteTarget::Member(id) => (id, 1),
            };
            json!({"id": id.to_string(), "type": kind, "allow": o.allow.bits().to_string(), "deny": o.deny.bits().to_string()})
        })
        .collect()
}

/// A channel with Discord's own field names, as `GetChannelInfo` answers it.
fn channel_json(channel: &Channel) -> Value {
    json!({
        "id": channel.id.to_string(),
        "guild_id": channel.guild_id.map(|g| g.to_string()),
        "name": channel.name,
        "type": channel.kind,
        "position": channel.position,
        "parent_id": channel.parent_id.map(|p| p.to_string()),
        "topic": channel.topic,
        "nsfw": channel.nsfw,
        "rate_limit_per_user": channel.rate_limit_per_user,
        "bitrate": channel.bitrate,
        "user_limit": channel.user_limit,
        "permission_overwrites": overwrites_json(channel),
    })
}

// ---------------------------------------------------------------------------------------------- users

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountAgeResponse {
    #[schema(example = 1245)]
    days: i64,
    #[schema(example = 177)]
    weeks: i64,
    #[schema(example = 40)]
    months: i64,
    #[schema(example = 3)]
    years: i64,
}

/// How old a Discord account is, from its id (a snowflake holds its creation time).
#[utoipa::path(tag = "Discord users", params(
    ("Discord-Token" = String, Header, description = "Bot token (checked with Discord)"),
    ("Discord-UserId" = String, Header, description = "The user's id"),
), responses((status = 200, body = AccountAgeResponse),
    (status = 400, description = "`{\"error\":\"Missing 'Discord-UserId' header.\"}` or not a snowflake"),
    (status = 401, description = "`{\"error\":\"Bot token invalid.\"}`")))]
#[get("/api/Account/age")]
pub async fn account_age(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<web::Json<AccountAgeResponse>, ApiError> {
    required(&req, "Discord-Token")?;
    let user = snowflake(&req, "Discord-UserId")?;
    let age = state.discord.guilds.account_age(&token(&req, "Discord-Token")?, user).await?;
    Ok(web::Json(AccountAgeResponse { days: age.days, weeks: age.weeks, months: age.months, years: age.years }))
}

/// A member's standing as `DiscordPermission/compare` writes it.
fn standing_json(standing: &MemberStanding) -> Value {
    json!({
        "id": standing.member.user_id.to_string(),
        "username": standing.member.username,
        "name": standing.role_name(),
        "role_position": standing.role_position(),
        "is_owner": standing.is_owner,
        "is_administrator": standing.is_administrator,
    })
}

/// Compares two members' authority: highest role position, with the owner above everyone.
#[utoipa::path(tag = "Discord users", params(
    ("bot-token" = String, Header), ("user-id-1" = String, Header), ("user-id-2" = String, Header), ("guild-id" = String, Header),
), responses((status = 200, description = "`{\"user_1\":{\"name\":\"Admin\",\"role_position\":1000,...},\"user_2\":{...},\"comparison\":{\"user_1_higher\":true,...}}`"),
    (status = 400), (status = 401), (status = 403), (status = 404, description = "`{\"error\":\"User 1 not found on this guild\"}`")))]
#[get("/api/DiscordPermission/compare")]
pub async fn compare(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<Value>, ApiError> {
    let (first, second, guild) =
        (snowflake(&req, "user-id-1")?, snowflake(&req, "user-id-2")?, server(&req, "guild-id")?);
    let compared = state.discord.guilds.compare_members(&token(&req, "bot-token")?, guild, first, second).await?;
    Ok(web::Json(json!({
        "user_1": standing_json(&compared.first),
        "user_2": standing_json(&compared.second),
        "comparison": {
            "user_1_higher": compared.authority == Ordering::Greater,
            "user_2_higher": compared.authority == Ordering::Less,
            "equal": compared.authority == Ordering::Equal,
        },
    })))
}

/// Whether a member's highest role is above each listed role (numbered from 1 in the order given).
#[utoipa::path(tag = "Discord users", params(
    ("bot-token" = String, Header), ("user-id" = String, Header), ("guild-id" = String, Header),
    ("role-ids" = String, Header, description = "comma-separated role ids"),
), responses((status = 200, description = "`{\"result\":{\"overall\":\"user-higher-than-all-roles\",\"roles\":[...]}}`; overall is also user-higher-than-some-roles or user-higher-than-no-roles"),
    (status = 400), (status = 401), (status = 403), (status = 404, description = "an unknown user or role, named")))]
#[get("/api/DiscordPermission/compare-user-roles")]
pub async fn compare_user_roles(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<Value>, ApiError> {
    let (user, guild) = (snowflake(&req, "user-id")?, server(&req, "guild-id")?);
    let listed: Vec<Snowflake> = required(&req, "role-ids")?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Snowflake::parse("role-ids", s))
        .collect::<Result<_, _>>()?;
    if listed.is_empty() {
        return Err(ApiError::bad_request("Missing 'role-ids' header."));
    }
    let compared = state.discord.guilds.compare_with_roles(&token(&req, "bot-token")?, guild, user, &listed).await?;
    let results: Vec<Value> = compared
        .roles
        .iter()
        .zip(1..)
        .map(|(r, index)| {
            json!({"index": index, "roleId": r.role.id.to_string(), "roleName": r.role.name,
                "rolePosition": r.role.position, "userHigher": r.member_higher})
        })
        .collect();
    let overall = match compared.overall() {
        Overall::AboveAll => "user-higher-than-all-roles",
        Overall::AboveNone => "user-higher-than-no-roles",
        Overall::AboveSome => "user-higher-than-some-roles",
    };
    Ok(web::Json(json!({"result": {
        "overall": overall,
        "userHighestPosition": compared.member.role_position(),
        "isOwner": compared.member.is_owner,
        "roles": results,
    }})))
}

/// Basic guild facts: name, owner, member count, creation date.
#[utoipa::path(tag = "Discord users", params(("bot-token" = String, Header), ("guild-id" = String, Header)),
    responses((status = 200, description = "`{\"id\":\"123\",\"name\":\"My Server\",\"owner_id\":\"456\",\"approximate_member_count\":10,\"created_at\":\"...\"}`"),
    (status = 400), (status = 401), (status = 403), (status = 404)))]
#[get("/api/DiscordPermission/guild-info")]
pub async fn guild_info(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<Value>, ApiError> {
    let guild = server(&req, "guild-id")?;
    let info = state.discord.guilds.guild(&token(&req, "bot-token")?, guild).await?;
    Ok(web::Json(json!({
        "id": info.id.to_string(),
        "name": info.name,
        "owner_id": info.owner_id.to_string(),
        "approximate_member_count": info.approximate_member_count,
        "icon_url": info.icon_url(),
        "created_at": info.id.created_at().to_iso8601(),
    })))
}

// -------------------------------------------------------------------------------------------- invites

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteQueryBody {
    /// `https://discord.gg/CODE`, `discord.com/invite/CODE`, `discordapp.com/invite/CODE` or a bare code.
    #[schema(example = "https://discord.gg/E2pce4JTSK")]
    invite_link: Option<String>,
}

/// Resolves an invite link or code: the guild (name, id, icon, vanity URL, description), the channel it
/// opens (name, id, type), the inviter (username, id, avatar, bot) and approximate member and presence
/// counts. An empty, malformed or wrongly shaped body is an invalid invite, as the specification
/// answers it.
#[utoipa::path(tag = "Discord invites", params(("Discord-Token" = String, Header)), request_body = InviteQueryBody,
    responses((status = 200, description = "`{\"inviteCode\":\"E2pce4JTSK\",\"guild\":{\"id\":\"...\",\"name\":\"My Server\",\"icon\":\"<hash>\",\"iconUrl\":\"https://cdn.discordapp.com/icons/...\",\"vanityUrlCode\":null,\"vanityUrl\":null,\"description\":\"...\"},\"channel\":{\"id\":\"...\",\"name\":\"welcome\",\"type\":0},\"inviter\":{\"id\":\"...\",\"username\":\"Avery\",\"avatar\":null,\"avatarUrl\":\"...\",\"bot\":false},\"approximateMemberCount\":1500,\"approximatePresenceCount\":300,\"expiresAt\":null}`; `guild`, `channel` and `inviter` are null when Discord leaves them out"),
    (status = 400, description = "the JSON string \"Invalid invite link.\" (also for an empty or malformed body)"), (status = 401),
    (status = 404, description = "`{\"error\":\"Unknown invite.\"}`")))]
#[post("/api/Invitation/query")]
pub async fn invitation_query(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: RawBody,
) -> Result<web::Json<Value>, ApiError> {
    let invalid = || ApiError::with_body(StatusCode::BAD_REQUEST, INVALID_INVITE, json!(INVALID_INVITE));
    let parsed: Option<InviteQueryBody> = serde_json::from_slice(&body.0).ok();
    let code = parsed.and_then(|b| b.invite_link).as_deref().and_then(parse_invite).ok_or_else(invalid)?;
    let invite = state.discord.guilds.invite(&token(&req, "Discord-Token")?, &code).await?;
    Ok(web::Json(invite_json(&invite)))
}

/// An invite as `POST /api/Invitation/query` answers it.
fn invite_json(invite: &Invite) -> Value {
    json!({
        "inviteCode": invite.code,
        "guild": invite.guild.as_ref().map(|g| json!({
            "id": g.id.to_string(),
            "name": g.name,
            "icon": g.icon,
            "iconUrl": g.icon_url(),
            "vanityUrlCode": g.vanity_url_code,
            "vanityUrl": g.vanity_url(),
            "description": g.description,
        })),
        "channel": invite.channel.as_ref().map(|c| json!({"id": c.id.to_string(), "name": c.name, "type": c.kind})),
        "inviter": invite.inviter.as_ref().map(|u| json!({
            "id": u.id.to_string(),
            "username": u.username,
            "avatar": u.avatar,
            "avatarUrl": u.avatar_url(),
            "bot": u.bot,
        })),
        "approximateMemberCount": invite.approximate_member_count,
        "approximatePresenceCount": invite.approximate_presence_count,
        "expiresAt": invite.expires_at,
    })
}

// ------------------------------------------------------------------------------------------- channels

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ChannelInfoQuery {
    /// The guild holding the channel.
    guild_id: Option<String>,
    channel_id: Option<String>,
}

/// A channel's settings: name, type, topic, position, overwrites, slow mode, NSFW, category.
#[utoipa::path(tag = "Discord channels", params(("Discord-Token" = String, Header), ChannelInfoQuery),
    responses((status = 200, description = "Discord's channel object: `{\"id\":\"987654321098765432\",\"name\":\"general\",\"type\":0,...}`"),
    (status = 400, description = "the JSON string \"Missing token, guildId, or channelId.\""), (status = 401), (status = 403),
    (status = 404, description = "`{\"error\":\"Unknown channel.\"}`, also when the channel is in another guild")))]
#[get("/api/Channel/GetChannelInfo")]
pub async fn channel_info(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: Params<ChannelInfoQuery>,
) -> Result<web::Json<Value>, ApiError> {
    const MISSING: &str = "Missing token, guildId, or channelId.";
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    if header(&req, "Discord-Token").is_none() || blank(&query.0.guild_id) || blank(&query.0.channel_id) {
        return Err(ApiError::with_body(StatusCode::BAD_REQUEST, MISSING, json!(MISSING)));
    }
    let guild = ServerId::parse("guildId", query.0.guild_id.as_deref().unwrap_or_default())?;
    let channel = Snowflake::parse("channelId", query.0.channel_id.as_deref().unwrap_or_default())?;
    let info = state.discord.guilds.channel(&token(&req, "Discord-Token")?, guild, channel).await?;
    Ok(web::Json(channel_json(&info)))
}

/// With `TargetCategoryId`: moves a channel into the category at a 0-based position among its channels
/// of the same kind (text-like or voice-like), renumbering them all in one request. Without it: only
/// the channel's own position value changes (clamped to 0 .. the number of its siblings).
#[utoipa::path(tag = "Discord channels", params(
    ("Discord-Token" = String, Header, description = "Bot token with MANAGE_CHANNELS"), ("ChannelId" = String, Header),
    ("TargetCategoryId" = Option<String>, Header), ("Position" = Option<u32>, Header, description = "0-based; clamped to the number of siblings; with a category, default last; without one, default unchanged"),
), responses((status = 200, description = "`{\"success\":true,\"position\":2,\"category\":\"Text Channels\"}`"),
    (status = 400, description = "missing header, bad position, target not a category"), (status = 401),
    (status = 403, description = "missing MANAGE_CHANNELS"), (status = 404)))]
#[post("/api/channel/move")]
pub async fn channel_move(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<Value>, ApiError> {
    required(&req, "Discord-Token")?;
    let channel = snowflake(&req, "ChannelId")?;
    let category = header(&req, "TargetCategoryId").map(|v| Snowflake::parse("TargetCategoryId", v)).transpose()?;
    let position = header(&req, "Position")
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("Position: must be a whole number from 0, got {v:?}")))
        })
        .transpose()?;
    let moved = state.discord.guilds.move_channel(&token(&req, "Discord-Token")?, channel, category, position).await?;
    Ok(web::Json(json!({"success": true, "position": moved.position, "category": moved.category})))
}

/// A category and every channel in it, with settings and overwrites.
#[utoipa::path(tag = "Discord channels", params(("X-Bot-Token" = String, Header), ("X-Category-Id" = String, Header)),
    responses((status = 200, description = "`{\"categoryId\":\"123\",\"categoryName\":\"Text Channels\",\"totalChannels\":5,\"position\":0,\"guild\":{...},\"channels\":[...]}`"),
    (status = 400, description = "`{\"error\":\"The provided ID is not a category channel\"}`"), (status = 401), (status = 403), (status = 404)))]
#[get("/api/DiscordCategory/info")]
pub async fn category_info(state: web::Data<AppState>, req: HttpRequest) -> Result<web::Json<Value>, ApiError> {
    required(&req, "X-Bot-Token")?;
    let id = snowflake(&req, "X-Category-Id")?;
    let found = state.discord.guilds.category(&token(&req, "X-Bot-Token")?, id).await?;
    let (category, info) = (&found.category, &found.guild);
    let children: Vec<Value> = found
        .channels
        .iter()
        .map(|c| {
            json!({
                "id": c.id.to_string(), "name": c.name, "type": c.kind, "position": c.position, "topic": c.topic,
                "nsfw": c.nsfw, "rateLimitPerUser": c.rate_limit_per_user, "bitrate": c.bitrate,
                "userLimit": c.user_limit, "createdAt": c.id.created_at().to_iso8601(),
                "permissionOverwrites": overwrites_json(c),
            })
        })
        .collect();
    Ok(web::Json(json!({
        "categoryId": id.to_string(),
        "categoryName": category.name,
        "position": category.position,
        "createdAt": id.created_at().to_iso8601(),
        "permissionOverwrites": overwrites_json(category),
        "guild": {"id": info.id.to_string(), "name": info.name},
        "totalChannels": children.len(),
        "channels": children,
    })))
}

// --------------------------------------------------------------------------------------------- server

fn guild_path(id: &str) -> Result<ServerId, ApiError> {
    Ok(ServerId::parse("guildId", id)?)
}

/// Boost perks Discord exposes as feature flags: server tags and enhanced role styles.
#[utoipa::path(tag = "Discord server", params(("Bot-Token" = String, Header), ("guildId" = String, Path)),
    responses((status = 200, description = "`{\"serverTag\":{\"isActive\":false},\"enhancedRoleStyles\":{\"isActive\":true}}`"),
    (status = 400), (status = 401), (status = 403), (status = 404)))]
#[get("/api/DiscordBooster/guild/{guildId}/additional-perks")]
pub async fn additional_perks_route(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<web::Json<Value>, ApiError> {
    let guild = guild_path(&path)?;
    let perks = state.discord.guilds.additional_perks(&token(&req, "Bot-Token")?, guild).await?;
    Ok(web::Json(json!({
        "serverTag": {"isActive": perks.server_tag, "feature": "GUILD_TAGS"},
        "enhancedRoleStyles": {"isActive": perks.enhanced_role_styles, "feature": "ENHANCED_ROLE_COLORS"},
    })))
}

/// Which booster-role customisations the guild's tier and features allow.
#[utoipa::path(tag = "Discord server", params(("Bot-Token" = String, Header), ("guildId" = String, Path)),
    responses((status = 200, description = "`{\"hasStandard\":true,\"hasColor\":true,\"hasGradient\":false,\"hasIcon\":false,\"premiumTier\":1,\"privileges\":[...]}`"),
    (status = 400), (status = 401), (status = 403), (status = 404)))]
#[get("/api/DiscordBooster/privileges/{guildId}")]
pub async fn booster_privileges_route(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<web::Json<Value>, ApiError> {
    let guild = guild_path(&path)?;
    let info = state.discord.guilds.booster_privileges(&token(&req, "Bot-Token")?, guild).await?;
    let [standard, color, gradient, icon] = info.privileges;
    let detail: Vec<Value> = [standard, color, gradient, icon]
        .iter()
        .map(|p| {
            json!({"name": p.name, "requiredTier": p.required_tier, "requiredBoosts": p.required_boosts,
                "requiredFeature": p.required_feature, "available": p.available})
        })
        .collect();
    Ok(web::Json(json!({
        "hasStandard": standard.available,
        "hasColor": color.available,
        "hasGradient": gradient.available,
        "hasIcon": icon.available,
        "premiumTier": info.premium_tier,
        "boostCount": info.boost_count,
        "privileges": detail,
    })))
}

/// The keyword filters of the guild's enabled auto-moderation rules. Once a minute per bot token.
#[utoipa::path(tag = "Discord server", params(("Discord-Token" = String, Header), ("guildId" = String, Path)),
    responses((status = 200, description = "`{\"total_keywords\":15,\"keywords\":\"spam,scam,phishing\"}`"),
    (status = 400), (status = 401), (status = 403, description = "missing MANAGE_GUILD"),
    (status = 429, description = "the JSON string \"Rate limit exceeded. Please wait 1 minute.\", with Retry-After")))]
#[get("/api/AutoModRules/{guildId}")]
pub async fn automod_rules(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<web::Json<Value>, ApiError> {
    let guild = guild_path(&path)?;
    let keywords = state.discord.guilds.automod_keywords(&token(&req, "Discord-Token")?, guild).await?;
    Ok(web::Json(json!({"total_keywords": keywords.len(), "keywords": keywords.join(",")})))
}

// --------------------------------------------------------------------------------------------- Viscra

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfoQuery {
    /// The Discord server (guild) id; the API key must belong to it.
    server_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    #[schema(example = "123456789012345678")]
    id: String,
    #[schema(example = "My Server")]
    name: String,
    #[schema(example = 1500)]
    member_count: Option<u64>,
    #[schema(example = "https://cdn.discordapp.com/icons/123456789012345678/abc.png")]
    icon_url: Option<String>,
}

/// A Discord server's name, member count and icon, through the server's own bot
/// (`GARRISON_DISCORD_BOT_TOKEN`). Authenticated by API key.
#[utoipa::path(tag = "Discord server", params(ServerInfoQuery), responses(
    (status = 200, body = ServerInfo), (status = 400), (status = 401), (status = 403, description = "the key belongs to another server, or the bot is not in it"),
    (status = 404), (status = 502), (status = 503, description = "no bot token is configured")))]
#[get("/api/server/info")]
pub async fn server_info(
    state: web::Data<AppState>,
    caller: Caller,
    query: Params<ServerInfoQuery>,
) -> Result<web::Json<ServerInfo>, ApiError> {
    let text = query.0.server_id.ok_or_else(|| ApiError::bad_request("serverId: missing"))?;
    let server = ServerId::parse("serverId", &text)?;
    let principal = caller.principal(state.clone()).await?;
    let info = state.discord.guilds.server_info(&principal, server).await?;
    Ok(web::Json(ServerInfo {
        id: info.id.to_string(),
        icon_url: info.icon_url(),
        member_count: info.approximate_member_count,
        name: info.name,
    }))
}
