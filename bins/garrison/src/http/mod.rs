//! The HTTP shell: parse the request, call a service, map the result. No rules live here.

mod backups;
mod binds;
mod cards;
mod certifications;
mod cors;
mod discord;
mod ep;
pub mod error;
mod extract;
mod headers;
mod health;
mod live;
mod loa;
mod medals;
mod messages;
mod middleware;
mod moderation;
mod modlogs;
mod modmail;
mod roblox;
mod roles;
mod streams;
mod transcripts;
mod utilities;
mod verification;
mod verify;
mod webhooks;
mod xp;

use actix_web::{App, HttpRequest, HttpResponse, web};
use garrison_core::{
    operations::Operations,
    records::{ApiKeyService, MemberRecords},
};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_actix_web::{AppExt, service_config::ServiceConfig};

pub use cors::CorsPolicy;
pub use middleware::{CanonicalPaths, RequestIds};

/// What every handler can reach.
pub struct AppState {
    /// Member records (XP, EP, LOA, medals, certifications) and the store's writer they change through.
    pub records: MemberRecords,
    /// API keys: who a bearer key is.
    pub keys: ApiKeyService,
    /// Readiness and the clock-based utilities.
    pub operations: Operations,
    pub cards: crate::studio::CardStudio,
    /// Where `/api/Regex/match` runs its matches (killable worker processes).
    pub regex: crate::regex_pool::RegexPool,
    /// The Discord half's use cases.
    pub discord: DiscordServices,
    /// The Roblox half: ranks, join requests, promotions, the servers' Roblox settings.
    pub roblox: std::sync::Arc<garrison_core::roblox::RobloxService>,
    /// The web verification flow (`/verify`).
    pub signin: garrison_core::roblox::signin::SignInService,
    /// Rank binds: Discord roles by Roblox rank.
    pub binds: garrison_core::roblox::binds::BindService,
    /// Who is who: links between Discord users and Roblox accounts.
    pub verification: garrison_core::roblox::verification::VerificationService,
    /// Server backups and their restores.
    pub backups: garrison_core::backups::BackupService,
    /// Live checks of YouTube, Twitch and TikTok.
    pub streams: std::sync::Arc<garrison_core::streams::StreamService>,
    /// Servers' stream watches and their own platform credentials.
    pub watches: garrison_core::streams::watches::WatchService,
    /// The live-alert loop (its EventSub callback).
    pub alerts: std::sync::Arc<garrison_core::streams::alerts::AlertService>,
    /// Servers' outbound webhooks and their dispatcher.
    pub webhooks: std::sync::Arc<garrison_core::webhooks::WebhookService>,
    /// What the server says about where it lives and what it serves.
    pub site: Site,
}

/// The use cases of the Discord routes, each over the bots of the Discord adapter.
#[derive(Debug)]
pub struct DiscordServices {
    /// The message use cases (sendEmbed and its cooldown, smart edits, the file check, modmail).
    pub messaging: garrison_core::discord::Messaging,
    /// The guild queries (accounts, members' authority, guilds, invites, channels, boosts,
    /// auto-moderation keywords, role ranks and counts).
    pub guilds: garrison_core::discord::Guilds,
    /// Bans, kicks, timeouts and role purges.
    pub moderation: garrison_core::discord::Moderation,
    /// What only the gateway tells: voice channels' occupants, members by role.
    pub live: garrison_core::discord::live::LiveGuilds,
    /// Role creation (`/api/Role/create`).
    pub roles: garrison_core::discord::RoleService,
    /// Custom booster roles.
    pub boosters: garrison_core::booster::BoosterRoleService,
    /// Moderation logs.
    pub modlogs: garrison_core::modlog::ModLogService,
    /// Channel transcripts.
    pub transcripts: garrison_core::transcript::TranscriptService,
}

/// Where the server lives and the document it describes itself with.
#[derive(Debug)]
pub struct Site {
    /// Base of the links handed out (card, transcript and modlog view URLs).
    pub public_url: String,
    /// The OpenAPI document, rendered once at start-up.
    pub openapi_json: String,
}

use webhooks::WebhookEvents;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("gar_<64 hex>").build(),
            ),
        );
        components.add_security_scheme("apiKey", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Garrison",
        description = "One HTTP API for Discord communities and their Roblox groups. Every error is `{\"error\": \"...\"}`.",
        license(name = "MIT")
    ),
    modifiers(&SecuritySchemes, &WebhookEvents),
    security(("bearer" = []), ("apiKey" = []))
)]
struct ApiDoc;

/// Registers every documented route.
fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(xp::get_xp)
        .service(xp::set_xp)
        .service(xp::add_xp)
        .service(xp::subtract_xp)
        .service(xp::xp_history)
        .service(xp::xp_leaderboard)
        .service(ep::get_ep)
        .service(ep::add_ep)
        .service(ep::get_policy)
        .service(ep::put_policy)
        .service(loa::get_loa)
        .service(loa::start_loa)
        .service(loa::end_loa)
        .service(medals::list_medals)
        .service(medals::create_medal)
        .service(medals::delete_medal)
        .service(medals::member_medals)
        .service(medals::award_medal)
        .service(medals::revoke_medal)
        .service(certifications::list_certifications)
        .service(certifications::create_certification)
        .service(certifications::delete_certification)
        .service(certifications::member_certifications)
        .service(certifications::check_certification)
        .service(certifications::award_certification)
        .service(certifications::revoke_certification)
        .service(utilities::stringify)
        .service(utilities::split_text)
        .service(utilities::regex_match)
        .service(utilities::timestamp)
        .service(utilities::common_value)
        .service(cards::generate_level_card)
        .service(cards::view_level_card)
        .service(cards::generate_welcome_card)
        .service(cards::view_welcome_card)
        .service(cards::fonts)
        .service(cards::encoding_guide)
        .service(moderation::ban)
        .service(moderation::ban_with_reason)
        .service(moderation::unban)
        .service(moderation::kick)
        .service(moderation::timeout)
        .service(moderation::remove_timeout)
        .service(discord::account_age)
        .service(discord::compare)
        .service(discord::compare_user_roles)
        .service(discord::guild_info)
        .service(discord::invitation_query)
        .service(discord::channel_info)
        .service(discord::channel_move)
        .service(discord::category_info)
        .service(discord::additional_perks_route)
        .service(discord::booster_privileges_route)
        .service(discord::automod_rules)
        .service(discord::server_info)
        .service(roles::create_role)
        .service(roles::create_booster_role)
        .service(roles::update_booster_role)
        .service(roles::delete_booster_role)
        .service(roles::purge)
        .service(roles::highest_role)
        .service(roles::role_count)
        .service(messages::send_embed)
        .service(messages::smart_edit)
        .service(messages::smart_edit_ephemeral)
        .service(messages::file_check)
        .service(modmail::inbound)
        .service(modmail::outbound)
        .service(modlogs::add)
        .service(modlogs::view)
        .service(transcripts::generate)
        .service(transcripts::list)
        .service(transcripts::view)
        .service(backups::create)
        .service(backups::view)
        .service(backups::versions)
        .service(backups::remove)
        .service(backups::restore)
        .service(backups::restore_job)
        .service(streams::check_all)
        .service(streams::youtube)
        .service(streams::twitch)
        .service(streams::tiktok)
        .service(streams::twitch_eventsub)
        .service(webhooks::create)
        .service(webhooks::list)
        .service(webhooks::remove)
        .service(webhooks::test)
        .service(webhooks::deliveries)
        .service(webhooks::redeliver)
        .service(webhooks::rotate)
        .service(webhooks::enable)
        .service(streams::add_watch)
        .service(streams::list_watches)
        .service(streams::delete_watch)
        .service(streams::put_stream_keys)
        .service(streams::get_stream_keys)
        .service(live::voice_channel)
        .service(live::role_members)
        .service(roblox::rank)
        .service(roblox::roblox_user)
        .service(roblox::join_requests)
        .service(roblox::accept_request)
        .service(roblox::deny_request)
        .service(roblox::promote)
        .service(roblox::demote)
        .service(roblox::get_settings)
        .service(roblox::put_settings)
        .service(verification::by_roblox)
        .service(verification::by_discord)
        .service(verification::start_code)
        .service(verification::check_code)
        .service(binds::get_binds)
        .service(binds::put_binds)
        .service(binds::sync);
}

/// The OpenAPI 3.1 document of every route, generated from the handlers' annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes).split_for_parts().1
}

/// The application, ready for `HttpServer::new`.
pub fn app(
    state: web::Data<AppState>,
    request_ids: RequestIds,
    paths: CanonicalPaths,
    cors: CorsPolicy,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .app_data(web::PayloadConfig::new(extract::MAX_BODY_BYTES))
        .route("/openapi.json", web::get().to(openapi_json))
        .route("/verify", web::get().to(verify::start_page))
        .route("/verify/start", web::get().to(verify::start))
        .route("/verify/unlink", web::get().to(verify::unlink))
        .route("/verify/discord/callback", web::get().to(verify::discord_callback))
        .route("/verify/roblox/callback", web::get().to(verify::roblox_callback))
        .into_utoipa_app()
        .configure(routes)
        .default_service(web::to(not_found))
        .into_app()
        // Innermost first: a wrong API key before input errors; CORS on `/api/` answers (401s
        // included); request ids, route matching and the access log around everything.
        .wrap(actix_web::middleware::from_fn(extract::authenticate_first))
        .wrap(actix_web::middleware::from_fn(move |req, next| cors::cors(cors.clone(), req, next)))
        .wrap(actix_web::middleware::from_fn(move |req, next| {
            middleware::request_context(request_ids.clone(), paths.clone(), req, next)
        }))
}

async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(state.site.openapi_json.clone())
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, error::ApiError> {
    Err(error::ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        format!("no route for {} {}", req.method(), req.path()),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_openapi_document_is_current() {
        let generated = serde_json::to_string_pretty(&super::openapi()).expect("serializable") + "\n";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(generated == committed, "docs/openapi.json is stale: run `cargo xtask openapi` and commit the result");
    }

    #[test]
    fn every_route_is_documented() {
        let doc = super::openapi();
        for path in [
            "/api/xp",
            "/api/xp/add",
            "/api/ep/policy",
            "/api/loa/start",
            "/api/medals/award",
            "/api/certifications/check",
            "/readyz",
            "/api/Text/stringify",
            "/api/TextChunker/split",
            "/api/Regex/match",
            "/api/Timestamp",
            "/api/CommonValue",
            "/api/LevelCard/generate",
            "/api/LevelCard/view/{id}",
            "/api/WelcomeCard/generate",
            "/api/WelcomeCard/view/{id}",
            "/api/WelcomeCard/fonts",
            "/api/WelcomeCard/encoding-guide",
            "/api/modactions/ban",
            "/api/modactions/ban-with-reason",
            "/api/modactions/unban",
            "/api/modactions/kick",
            "/api/modactions/timeout",
            "/api/Account/age",
            "/api/DiscordPermission/compare",
            "/api/DiscordPermission/compare-user-roles",
            "/api/DiscordPermission/guild-info",
            "/api/Invitation/query",
            "/api/Channel/GetChannelInfo",
            "/api/channel/move",
            "/api/DiscordCategory/info",
            "/api/DiscordBooster/guild/{guildId}/additional-perks",
            "/api/DiscordBooster/privileges/{guildId}",
            "/api/AutoModRules/{guildId}",
            "/api/server/info",
            "/api/Role/create",
            "/api/Role/booster/{guildIdStr}/{userIdStr}",
            "/api/RoleMemberPurge/purge",
            "/api/HighestRole",
            "/api/GetRoleCount",
            "/api/Message/sendEmbed/{channelId}",
            "/api/edit/smart-edit",
            "/api/edit/smart-edit/ephemeral",
            "/api/filecheck/check",
            "/api/modmail/inbound",
            "/api/modmail/outbound",
            "/api/modlogs/add",
            "/api/modlogs/view/{id}",
            "/api/Transcript/html",
            "/api/Transcript/list/{guildId}",
            "/api/Transcript/view/{viewId}",
            "/api/Backup",
            "/api/Backup/view/{viewId}",
            "/api/Backup/versions/{viewId}",
            "/api/Backup/{viewId}",
            "/api/Backup/restore/{viewId}",
            "/api/Backup/restore/jobs/{jobId}",
            "/api/VoiceChannel/info",
            "/api/RoleMembers/role/{roleIds}",
            "/api/rank",
            "/api/roblox/user",
            "/api/group/join-requests",
            "/api/group/accept-request",
            "/api/group/deny-request",
            "/api/group/promote",
            "/api/group/demote",
            "/api/server/roblox",
            "/api/verification",
            "/api/verification/discord",
            "/api/verification/code",
            "/api/verification/code/check",
            "/api/binds",
            "/api/binds/sync",
            "/api/Stream/check-all",
            "/api/Stream/youtube/{handle}",
            "/api/Stream/twitch/{user}",
            "/api/Stream/tiktok/{user}",
            "/api/Stream/eventsub/twitch",
            "/api/Stream/watches",
            "/api/Stream/watches/{id}",
            "/api/server/streams",
            "/api/webhooks",
            "/api/webhooks/{id}",
            "/api/webhooks/{id}/test",
            "/api/webhooks/{id}/deliveries",
            "/api/webhooks/{id}/deliveries/{deliveryId}/redeliver",
            "/api/webhooks/{id}/rotate",
            "/api/webhooks/{id}/enable",
        ] {
            assert!(doc.paths.paths.contains_key(path), "{path} missing from the OpenAPI document");
        }
        let operations: usize = doc
            .paths
            .paths
            .values()
            .map(|item| {
                [&item.get, &item.put, &item.post, &item.delete, &item.patch].iter().filter(|op| op.is_some()).count()
            })
            .sum();
        assert_eq!(operations, 117, "a route was added or removed: update this count");
        let hooks = doc.webhooks.as_ref().expect("a webhooks section");
        for kind in garrison_core::webhooks::EVENT_TYPES {
            assert!(hooks.paths.contains_key(kind), "{kind} missing from the webhooks section");
        }
        assert_eq!(hooks.paths.len(), garrison_core::webhooks::EVENT_TYPES.len(), "no event type that is not sent");
    }
}
