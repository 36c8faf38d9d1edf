//! The routes the simulator serves, and the checks they share: which guild or channel a request
//! is about, whether the caller may see it, and which permissions it needs.

pub(crate) mod automod;
mod channel_admin;
mod channels;
mod commands;
pub(crate) mod expressions;
mod gateway;
mod guilds;
pub(crate) mod input;
mod members;
pub(crate) mod oauth2;
pub(crate) mod onboarding;
mod roles;
mod users;
mod webhooks;

use serde_json::Value;

use crate::error::ApiError;
use crate::oauth::Bearer;
use crate::permissions;
use crate::time::Timestamp;
use crate::world::World;

/// Every route the simulator serves, as `(METHOD, template)` with the templates of Discord's
/// OpenAPI document; each is served under `/api/v10`. The HTTP router is built from this table.
/// Literal segments (`@me`, `@original`) come before the templates they would otherwise match.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/users/@me"),
    ("POST", "/users/@me/channels"),
    ("GET", "/users/@me/guilds"),
    ("GET", "/users/@me/guilds/{guild_id}/member"),
    ("GET", "/users/{user_id}"),
    ("GET", "/oauth2/@me"),
    ("GET", "/gateway"),
    ("GET", "/gateway/bot"),
    ("GET", "/guilds/{guild_id}"),
    ("PATCH", "/guilds/{guild_id}"),
    ("GET", "/guilds/{guild_id}/preview"),
    ("GET", "/guilds/{guild_id}/roles"),
    ("POST", "/guilds/{guild_id}/roles"),
    ("PATCH", "/guilds/{guild_id}/roles"),
    ("GET", "/guilds/{guild_id}/roles/{role_id}"),
    ("PATCH", "/guilds/{guild_id}/roles/{role_id}"),
    ("DELETE", "/guilds/{guild_id}/roles/{role_id}"),
    ("GET", "/guilds/{guild_id}/members"),
    ("GET", "/guilds/{guild_id}/members/{user_id}"),
    ("PATCH", "/guilds/{guild_id}/members/{user_id}"),
    ("DELETE", "/guilds/{guild_id}/members/{user_id}"),
    ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"),
    ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"),
    ("GET", "/guilds/{guild_id}/bans"),
    ("GET", "/guilds/{guild_id}/bans/{user_id}"),
    ("PUT", "/guilds/{guild_id}/bans/{user_id}"),
    ("DELETE", "/guilds/{guild_id}/bans/{user_id}"),
    ("POST", "/guilds/{guild_id}/bulk-ban"),
    ("GET", "/guilds/{guild_id}/channels"),
    ("POST", "/guilds/{guild_id}/channels"),
    ("PATCH", "/guilds/{guild_id}/channels"),
    ("GET", "/guilds/{guild_id}/auto-moderation/rules"),
    ("POST", "/guilds/{guild_id}/auto-moderation/rules"),
    ("GET", "/guilds/{guild_id}/auto-moderation/rules/{rule_id}"),
    ("PATCH", "/guilds/{guild_id}/auto-moderation/rules/{rule_id}"),
    ("DELETE", "/guilds/{guild_id}/auto-moderation/rules/{rule_id}"),
    ("GET", "/guilds/{guild_id}/onboarding"),
    ("PUT", "/guilds/{guild_id}/onboarding"),
    ("GET", "/guilds/{guild_id}/emojis"),
    ("POST", "/guilds/{guild_id}/emojis"),
    ("GET", "/guilds/{guild_id}/emojis/{emoji_id}"),
    ("PATCH", "/guilds/{guild_id}/emojis/{emoji_id}"),
    ("DELETE", "/guilds/{guild_id}/emojis/{emoji_id}"),
    ("GET", "/guilds/{guild_id}/stickers"),
    ("POST", "/guilds/{guild_id}/stickers"),
    ("GET", "/guilds/{guild_id}/stickers/{sticker_id}"),
    ("PATCH", "/guilds/{guild_id}/stickers/{sticker_id}"),
    ("DELETE", "/guilds/{guild_id}/stickers/{sticker_id}"),
    ("GET", "/channels/{channel_id}"),
    ("PATCH", "/channels/{channel_id}"),
    ("DELETE", "/channels/{channel_id}"),
    ("PUT", "/channels/{channel_id}/permissions/{overwrite_id}"),
    ("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}"),
    ("GET", "/channels/{channel_id}/messages"),
    ("POST", "/channels/{channel_id}/messages"),
    ("GET", "/channels/{channel_id}/messages/{message_id}"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
    ("GET", "/invites/{code}"),
    ("GET", "/applications/{application_id}/commands"),
    ("PUT", "/applications/{application_id}/commands"),
    ("POST", "/applications/{application_id}/commands"),
    ("GET", "/applications/{application_id}/commands/{command_id}"),
    ("PATCH", "/applications/{application_id}/commands/{command_id}"),
    ("DELETE", "/applications/{application_id}/commands/{command_id}"),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("POST", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}"),
    ("PATCH", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}"),
    ("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}"),
    ("POST", "/interactions/{interaction_id}/{interaction_token}/callback"),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
];

/// Discord's OAuth2 token endpoints, served under `/api/v10` like [`ROUTES`] but outside Discord's
/// OpenAPI document (which names them only as its security scheme's `tokenUrl`): they take
/// `application/x-www-form-urlencoded` bodies and answer RFC 6749's JSON, so their bodies are not
/// checked against the document. The authorization page is [`AUTHORIZE_PATH`], at the root.
pub const OAUTH2_ROUTES: &[(&str, &str)] = &[("POST", "/oauth2/token"), ("POST", "/oauth2/token/revoke")];

/// Where a browser is sent to authorize an app (`https://discord.com/oauth2/authorize`): at the
/// simulator's root, not under `/api/v10`.
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";

/// Whether a route takes `Authorization: Bearer <access token>` (each checks its scope): the current
/// user, their guilds, their member object in one guild, and the authorization itself. Every other
/// route answers a bearer token 401, as Discord does.
pub(crate) fn accepts_bearer(method: &str, route: &str) -> bool {
    method == "GET"
        && matches!(route, "/users/@me" | "/users/@me/guilds" | "/users/@me/guilds/{guild_id}/member" | "/oauth2/@me")
}

/// Whether a route needs a token (a bot's, or a bearer token where [`accepts_bearer`]). Invites,
/// interaction callbacks and interaction webhooks do not (the token in the path is the credential),
/// nor does `GET /gateway`, as in Discord.
pub(crate) fn needs_bot_token(route: &str) -> bool {
    !(route.starts_with("/invites/")
        || route.starts_with("/interactions/")
        || route.starts_with("/webhooks/")
        || route == "/gateway")
}

/// The path parameter that splits a route's rate-limit bucket (Discord's "major parameter").
pub(crate) fn major_parameter(route: &str) -> Option<&'static str> {
    if route.starts_with("/guilds/{guild_id}") {
        Some("guild_id")
    } else if route.starts_with("/channels/{channel_id}") {
        Some("channel_id")
    } else if route.starts_with("/webhooks/{webhook_id}") {
        Some("webhook_id")
    } else if route.starts_with("/interactions/{interaction_id}") {
        Some("interaction_id")
    } else {
        None
    }
}

/// One request, parsed.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: &'a str,
    pub(crate) route: &'a str,
    pub(crate) params: &'a [(String, String)],
    pub(crate) query: &'a [(String, String)],
    pub(crate) body: Option<&'a Value>,
    /// Files of a multipart body: `(field name, filename, content type, bytes)`.
    pub(crate) files: &'a [(String, String, String, Vec<u8>)],
    /// Text fields of a multipart body (other than `payload_json`): `(field name, value)`.
    pub(crate) form: &'a [(String, String)],
    /// The bot's user id, for bot-authenticated requests.
    pub(crate) actor: Option<u64>,
    /// The access token's authority, for bearer-authenticated requests.
    pub(crate) bearer: Option<&'a Bearer>,
    /// The decoded `X-Audit-Log-Reason`.
    pub(crate) reason: Option<&'a str>,
    pub(crate) now: Timestamp,
}

impl Call<'_> {
    /// A path parameter (empty if the route has none of that name).
    pub(crate) fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }

    /// A query parameter.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The authenticated bot.
    pub(crate) fn actor(&self) -> Result<u64, ApiError> {
        self.actor.ok_or_else(ApiError::unauthorized)
    }

    /// The bearer token's authority (401 for a bot token or none: the route is for OAuth2 apps).
    pub(crate) fn bearer(&self) -> Result<&Bearer, ApiError> {
        self.bearer.ok_or_else(ApiError::unauthorized)
    }

    /// Who a route that takes both kinds of token acts for: the bot, or the user of a bearer token
    /// granted `scope`. A bearer token without it is refused 401, as Discord refuses it.
    pub(crate) fn user_with_scope(&self, scope: &str) -> Result<u64, ApiError> {
        match (self.actor, self.bearer) {
            (Some(bot), _) => Ok(bot),
            (None, Some(bearer)) if bearer.has(scope) => Ok(bearer.user),
            _ => Err(ApiError::unauthorized()),
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Option<Value>,
}

impl Reply {
    pub(crate) fn ok(body: Value) -> Self {
        Self { status: 200, body: Some(body) }
    }

    pub(crate) fn no_content() -> Self {
        Self { status: 204, body: None }
    }
}

pub(crate) type Outcome = Result<Reply, ApiError>;

/// Answers one request against the world. A request that fails changes nothing: every handler
/// checks everything before it changes anything.
pub(crate) fn handle(world: &mut World, call: &Call<'_>) -> Outcome {
    match (call.method, call.route) {
        ("GET", "/users/@me") => users::get_current(world, call),
        ("POST", "/users/@me/channels") => users::create_dm(world, call),
        ("GET", "/users/@me/guilds") => users::my_guilds(world, call),
        ("GET", "/users/@me/guilds/{guild_id}/member") => users::my_member(world, call),
        ("GET", "/users/{user_id}") => users::get_user(world, call),
        ("GET", "/oauth2/@me") => oauth2::current_authorization(world, call),
        ("GET", "/gateway") => gateway::get_gateway(world, call),
        ("GET", "/gateway/bot") => gateway::get_gateway_bot(world, call),
        ("GET", "/guilds/{guild_id}") => guilds::get_guild(world, call),
        ("PATCH", "/guilds/{guild_id}") => guilds::update_guild(world, call),
        ("GET", "/guilds/{guild_id}/preview") => guilds::get_preview(world, call),
        ("GET", "/guilds/{guild_id}/roles") => roles::list(world, call),
        ("POST", "/guilds/{guild_id}/roles") => roles::create(world, call),
        ("PATCH", "/guilds/{guild_id}/roles") => roles::reorder(world, call),
        ("GET", "/guilds/{guild_id}/roles/{role_id}") => roles::get(world, call),
        ("PATCH", "/guilds/{guild_id}/roles/{role_id}") => roles::update(world, call),
        ("DELETE", "/guilds/{guild_id}/roles/{role_id}") => roles::delete(world, call),
        ("GET", "/guilds/{guild_id}/members") => members::list(world, call),
        ("GET", "/guilds/{guild_id}/members/{user_id}") => members::get(world, call),
        ("PATCH", "/guilds/{guild_id}/members/{user_id}") => members::update(world, call),
        ("DELETE", "/guilds/{guild_id}/members/{user_id}") => members::kick(world, call),
        ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}") => members::add_role(world, call),
        ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}") => members::remove_role(world, call),
        ("GET", "/guilds/{guild_id}/bans") => members::list_bans(world, call),
        ("GET", "/guilds/{guild_id}/bans/{user_id}") => members::get_ban(world, call),
        ("PUT", "/guilds/{guild_id}/bans/{user_id}") => members::ban(world, call),
        ("DELETE", "/guilds/{guild_id}/bans/{user_id}") => members::unban(world, call),
        ("POST", "/guilds/{guild_id}/bulk-ban") => members::bulk_ban(world, call),
        ("GET", "/guilds/{guild_id}/channels") => guilds::list_channels(world, call),
        ("POST", "/guilds/{guild_id}/channels") => channel_admin::create(world, call),
        ("PATCH", "/guilds/{guild_id}/channels") => guilds::reorder_channels(world, call),
        ("GET", "/guilds/{guild_id}/auto-moderation/rules") => automod::list(world, call),
        ("POST", "/guilds/{guild_id}/auto-moderation/rules") => automod::create(world, call),
        ("GET", "/guilds/{guild_id}/auto-moderation/rules/{rule_id}") => automod::get(world, call),
        ("PATCH", "/guilds/{guild_id}/auto-moderation/rules/{rule_id}") => automod::update(world, call),
        ("DELETE", "/guilds/{guild_id}/auto-moderation/rules/{rule_id}") => automod::delete(world, call),
        ("GET", "/guilds/{guild_id}/onboarding") => onboarding::get(world, call),
        ("PUT", "/guilds/{guild_id}/onboarding") => onboarding::put(world, call),
        ("GET", "/guilds/{guild_id}/emojis") => expressions::list_emojis(world, call),
        ("POST", "/guilds/{guild_id}/emojis") => expressions::create_emoji(world, call),
        ("GET", "/guilds/{guild_id}/emojis/{emoji_id}") => expressions::get_emoji(world, call),
        ("PATCH", "/guilds/{guild_id}/emojis/{emoji_id}") => expressions::update_emoji(world, call),
        ("DELETE", "/guilds/{guild_id}/emojis/{emoji_id}") => expressions::delete_emoji(world, call),
        ("GET", "/guilds/{guild_id}/stickers") => expressions::list_stickers(world, call),
        ("POST", "/guilds/{guild_id}/stickers") => expressions::create_sticker(world, call),
        ("GET", "/guilds/{guild_id}/stickers/{sticker_id}") => expressions::get_sticker(world, call),
        ("PATCH", "/guilds/{guild_id}/stickers/{sticker_id}") => expressions::update_sticker(world, call),
        ("DELETE", "/guilds/{guild_id}/stickers/{sticker_id}") => expressions::delete_sticker(world, call),
        ("GET", "/channels/{channel_id}") => channels::get(world, call),
        ("PATCH", "/channels/{channel_id}") => channel_admin::update(world, call),
        ("DELETE", "/channels/{channel_id}") => channel_admin::delete(world, call),
        ("PUT", "/channels/{channel_id}/permissions/{overwrite_id}") => channel_admin::put_overwrite(world, call),
        ("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}") => channel_admin::delete_overwrite(world, call),
        ("GET", "/channels/{channel_id}/messages") => channels::list_messages(world, call),
        ("POST", "/channels/{channel_id}/messages") => channels::create_message(world, call),
        ("GET", "/channels/{channel_id}/messages/{message_id}") => channels::get_message(world, call),
        ("PATCH", "/channels/{channel_id}/messages/{message_id}") => channels::edit_message(world, call),
        ("GET", "/invites/{code}") => guilds::get_invite(world, call),
        (
            "GET",
            "/applications/{application_id}/commands" | "/applications/{application_id}/guilds/{guild_id}/commands",
        ) => commands::list(world, call),
        (
            "PUT",
            "/applications/{application_id}/commands" | "/applications/{application_id}/guilds/{guild_id}/commands",
        ) => commands::overwrite(world, call),
        (
            "POST",
            "/applications/{application_id}/commands" | "/applications/{application_id}/guilds/{guild_id}/commands",
        ) => commands::create(world, call),
        (
            "GET",
            "/applications/{application_id}/commands/{command_id}"
            | "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
        ) => commands::get(world, call),
        (
            "PATCH",
            "/applications/{application_id}/commands/{command_id}"
            | "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
        ) => commands::update(world, call),
        (
            "DELETE",
            "/applications/{application_id}/commands/{command_id}"
            | "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
        ) => commands::delete(world, call),
        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => webhooks::callback(world, call),
        ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original") => webhooks::get_original(world, call),
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original") => webhooks::edit_original(world, call),
        _ => Err(ApiError::not_found_route()),
    }
}

/// The guild of a guild route and the caller: the guild must exist (10004) and the caller must be
/// a member (50001).
pub(crate) fn guild_and_actor(world: &World, call: &Call<'_>) -> Result<(u64, u64), ApiError> {
    let guild = input::path_id(call, "guild_id")?;
    let actor = call.actor()?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    if !state.members.contains_key(&actor) {
        return Err(ApiError::missing_access());
    }
    Ok((guild, actor))
}

/// 50013 unless `actor` has every permission in `needed` guild-wide.
pub(crate) fn require(world: &World, guild: u64, actor: u64, needed: u64, now: Timestamp) -> Result<(), ApiError> {
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    if permissions::guild_permissions(state, actor, now) & needed == needed {
        Ok(())
    } else {
        Err(ApiError::missing_permissions())
    }
}

/// The channel of a channel route and the caller: the channel must exist (10003); in a guild the
/// caller must be a member who can view it, in a DM a recipient (50001 otherwise).
pub(crate) fn channel_and_actor(world: &World, call: &Call<'_>) -> Result<(u64, u64), ApiError> {
    let channel_id = input::path_id(call, "channel_id")?;
    let actor = call.actor()?;
    let channel = world.channels.get(&channel_id).ok_or_else(ApiError::unknown_channel)?;
    match channel.guild_id {
        None if channel.recipients.contains(&actor) => Ok((channel_id, actor)),
        None => Err(ApiError::missing_access()),
        Some(_) if channel_permissions(world, channel_id, actor, call.now) & permissions::VIEW_CHANNEL != 0 => {
            Ok((channel_id, actor))
        }
        Some(_) => Err(ApiError::missing_access()),
    }
}

/// `actor`'s permissions in a channel; all of them in a DM they are part of.
pub(crate) fn channel_permissions(world: &World, channel: u64, actor: u64, now: Timestamp) -> u64 {
    let Some(channel) = world.channels.get(&channel) else { return 0 };
    match channel.guild_id.and_then(|g| world.guilds.get(&g)) {
        Some(guild) => permissions::channel_permissions(guild, &channel.overwrites, actor, now),
        None if channel.recipients.contains(&actor) => {
            permissions::VIEW_CHANNEL
                | permissions::SEND_MESSAGES
                | permissions::READ_MESSAGE_HISTORY
                | permissions::EMBED_LINKS
                | permissions::ATTACH_FILES
        }
        None => 0,
    }
}

/// 50013 unless `actor` has every permission in `needed` in the channel.
pub(crate) fn require_in_channel(
    world: &World,
    channel: u64,
    actor: u64,
    needed: u64,
    now: Timestamp,
) -> Result<(), ApiError> {
    if channel_permissions(world, channel, actor, now) & needed == needed {
        Ok(())
    } else {
        Err(ApiError::missing_permissions())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_handler() {
        let mut world = World::new();
        for (method, route) in ROUTES {
            let call = Call {
                method,
                route,
                params: &[],
                query: &[],
                body: None,
                files: &[],
                form: &[],
                actor: None,
                bearer: None,
                reason: None,
                now: Timestamp::now(),
            };
            let outcome = handle(&mut world, &call);
            assert_ne!(outcome, Err(ApiError::not_found_route()), "{method} {route} has no handler");
        }
    }

    #[test]
    fn routes_are_unique_and_literal_segments_come_first() {
        for (i, route) in ROUTES.iter().enumerate() {
            assert!(!ROUTES[..i].contains(route), "{route:?} is listed twice");
        }
        let me = ROUTES.iter().position(|r| r.1 == "/users/@me");
        let by_id = ROUTES.iter().position(|r| r.1 == "/users/{user_id}");
        assert!(me < by_id);
    }

    #[test]
    fn bearer_routes_are_served_and_oauth2_routes_are_apart() {
        for route in ["/users/@me", "/users/@me/guilds", "/users/@me/guilds/{guild_id}/member", "/oauth2/@me"] {
            assert!(accepts_bearer("GET", route));
            assert!(ROUTES.contains(&("GET", route)), "{route}");
        }
        assert!(!accepts_bearer("POST", "/users/@me/channels"));
        assert!(!accepts_bearer("GET", "/guilds/{guild_id}"));
        for route in OAUTH2_ROUTES {
            assert!(!ROUTES.contains(route), "{route:?} is served apart from the document's routes");
        }
    }
}
