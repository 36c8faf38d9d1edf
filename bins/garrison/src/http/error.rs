//! The one mapping from failures to HTTP: every error leaves as `{"error": "..."}` with a status
//! that fits. Server-side failures are logged in full and answered with a generic message.

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use garrison_core::{
    Error, StoreError,
    backups::{BUSY_RETRY_AFTER_SECONDS as BACKUP_BUSY_RETRY_AFTER_SECONDS, BackupError},
    booster::BoosterError,
    discord::{DiscordError, GuildError, ModerationError, RoleError, looks::LooksError},
    modlog::ModLogError,
    objects::ObjectError,
    transcript::{BUSY_RETRY_AFTER_SECONDS, TranscriptError},
};
use serde::Serialize;

/// The error envelope of every route, as the specifications write it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, naming the field or fact.
    #[schema(example = "amount: must be an integer from 1 to 1000000000, got 0")]
    pub error: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// A body the specification writes for this failure instead of the envelope.
    body: Option<serde_json::Value>,
    /// Seconds for a `Retry-After` header (429 answers).
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), body: None, retry_after: None }
    }

    /// A failure whose body the specification writes in a shape of its own (a bare JSON string,
    /// or a result object); `message` is what the log says.
    pub fn with_body(status: StatusCode, message: impl Into<String>, body: serde_json::Value) -> Self {
        Self { status, message: message.into(), body: Some(body), retry_after: None }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A failure of ours, not the caller's: logged with its detail, answered without it.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error.")
    }

    /// Adds a `Retry-After` header of `seconds`.
    #[must_use]
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    #[cfg_attr(not(test), allow(dead_code))] // unit tests read it
    pub fn status(&self) -> StatusCode {
        self.status
    }

    #[cfg_attr(not(test), allow(dead_code))] // unit tests read it
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let status = match &err {
            Error::Invalid { .. } | Error::XpOverflow { .. } => StatusCode::BAD_REQUEST,
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::UnknownMedal { .. }
            | Error::UnknownCertification { .. }
            | Error::MedalNotHeld { .. }
            | Error::CertificationNotHeld { .. }
            | Error::UnknownApiKey { .. } => StatusCode::NOT_FOUND,
            Error::IdempotencyKeyReused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::LoaAlreadyActive { .. }
            | Error::NoActiveLoa { .. }
            | Error::MedalExists { .. }
            | Error::MedalAlreadyAwarded { .. }
            | Error::CertificationExists { .. }
            | Error::CertificationAlreadyAwarded { .. }
            | Error::BoosterRoleExists { .. }
            | Error::BackupExists { .. } => StatusCode::CONFLICT,
            Error::Store(StoreError::Unavailable(detail)) => {
                tracing::error!(error = %detail, "database unavailable");
                return Self::new(StatusCode::SERVICE_UNAVAILABLE, "Database unavailable.");
            }
            _ => return Self::internal(&err),
        };
        Self::new(status, err.to_string())
    }
}

impl From<DiscordError> for ApiError {
    fn from(err: DiscordError) -> Self {
        let status = match &err {
            DiscordError::InvalidToken => StatusCode::UNAUTHORIZED,
            DiscordError::NotMember
            | DiscordError::MissingPermission { .. }
            | DiscordError::MissingIntent { .. }
            | DiscordError::Hierarchy(_)
            | DiscordError::CannotMessageUser => StatusCode::FORBIDDEN,
            DiscordError::Unknown(_) => StatusCode::NOT_FOUND,
            DiscordError::Rejected(_) => StatusCode::BAD_REQUEST,
            DiscordError::RateLimited { retry_after_ms } => {
                return Self::new(StatusCode::TOO_MANY_REQUESTS, err.to_string())
                    .retry_after(retry_after_ms.div_ceil(1000));
            }
            DiscordError::Paused { retry_after_ms } => {
                tracing::warn!(retry_after_ms, "calls to Discord paused: the refusal budget is spent");
                return Self::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string())
                    .retry_after(retry_after_ms.div_ceil(1000));
            }
            DiscordError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "Discord unavailable");
                return Self::new(StatusCode::BAD_GATEWAY, "Discord is unavailable; try again later.");
            }
            _ => return Self::internal(&err),
        };
        Self::new(status, err.to_string())
    }
}

impl From<garrison_core::discord::MessagingError> for ApiError {
    fn from(err: garrison_core::discord::MessagingError) -> Self {
        use garrison_core::discord::{MessagingError, messages::SmartEditError};
        let status = match err {
            MessagingError::Invalid(e) => return e.into(),
            MessagingError::Discord(e) => return e.into(),
            MessagingError::CoolingDown { wait_ms } => {
                // The specification's body here is the bare JSON string, with Retry-After.
                let message = err.to_string();
                let seconds = u64::try_from(wait_ms).unwrap_or(10_000).div_ceil(1000);
                let body = serde_json::Value::String(message.clone());
                return Self::with_body(StatusCode::TOO_MANY_REQUESTS, message, body).retry_after(seconds);
            }
            MessagingError::CannotPostEmbed | MessagingError::CannotPostToStaff | MessagingError::NotOwnMessage => {
                StatusCode::FORBIDDEN
            }
            MessagingError::NotAnInteractionToken | MessagingError::SmartEdit(_) => match &err {
                MessagingError::SmartEdit(SmartEditError::NotFound { .. }) => StatusCode::NOT_FOUND,
                MessagingError::SmartEdit(SmartEditError::Ambiguous { .. }) => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            },
            MessagingError::InteractionNotFound | MessagingError::MessageNotFound => StatusCode::NOT_FOUND,
            _ => return Self::internal(&err),
        };
        Self::new(status, err.to_string())
    }
}

impl From<garrison_core::roblox::RobloxError> for ApiError {
    fn from(err: garrison_core::roblox::RobloxError) -> Self {
        use garrison_core::roblox::RobloxError;
        let status = match &err {
            RobloxError::KeyRejected | RobloxError::Unavailable(_) => StatusCode::BAD_GATEWAY,
            RobloxError::MissingScope { .. } | RobloxError::Refused(_) => StatusCode::FORBIDDEN,
            RobloxError::NotFound(_) => StatusCode::NOT_FOUND,
            RobloxError::RateLimited { retry_after_secs } => {
                return Self::new(StatusCode::TOO_MANY_REQUESTS, err.to_string()).retry_after(*retry_after_secs);
            }
            _ => return Self::internal(&err),
        };
        Self::new(status, err.to_string())
    }
}

impl From<garrison_core::discord::live::LiveError> for ApiError {
    fn from(err: garrison_core::discord::live::LiveError) -> Self {
        use garrison_core::discord::live::LiveError as E;
        match err {
            E::Discord(e) => e.into(),
            E::Roles(e) => Self::new(StatusCode::NOT_FOUND, e.to_string()),
            E::NoVoiceChannel => Self::new(StatusCode::NOT_FOUND, err.to_string()),
            _ => Self::internal(&err),
        }
    }
}

impl From<garrison_core::roblox::RobloxServiceError> for ApiError {
    fn from(err: garrison_core::roblox::RobloxServiceError) -> Self {
        use garrison_core::roblox::RobloxServiceError as E;
        let status = match err {
            E::Core(e) => return e.into(),
            E::Roblox(e) => return e.into(),
            E::NotMember { .. } | E::NoJoinRequest { .. } | E::NoSuchUser(_) | E::NoSuchUsername(_) => {
                StatusCode::NOT_FOUND
            }
            E::NotConfigured | E::Owner { .. } | E::AtTop { .. } | E::AtBottom { .. } => StatusCode::CONFLICT,
            E::KeyNotAccepted { .. } => StatusCode::BAD_REQUEST,
            _ => return Self::internal(&err),
        };
        Self::new(status, err.to_string())
    }
}

impl From<garrison_core::roblox::verification::VerificationError> for ApiError {
    fn from(err: garrison_core::roblox::verification::VerificationError) -> Self {
        use garrison_core::roblox::verification::VerificationError as E;
        let status = match err {
            E::Core(e) => return e.into(),
            E::Roblox(e) => return e.into(),
            E::NoSuchUsername(_) | E::NoSuchUser(_) | E::NoChallenge(_) => StatusCode::NOT_FOUND,
            E::PhraseNotFound { .. } | E::SignedInLinkExists { .. } => StatusCode::CONFLICT,
            _ => return Self::internal(&err),
        };
        Self::new(status, err.to_string())
    }
}

impl From<garrison_core::roblox::binds::BindError> for ApiError {
    fn from(err: garrison_core::roblox::binds::BindError) -> Self {
        use garrison_core::roblox::binds::BindError as E;
        let status = match err {
            E::Core(e) => return e.into(),
            E::Roblox(e) => return e.into(),
            E::Discord(e) => return e.into(),
            E::NoBinds => StatusCode::CONFLICT,
            E::NoServerBot => StatusCode::SERVICE_UNAVAILABLE,
            E::NotInGuild(_) => StatusCode::NOT_FOUND,
            E::CannotManage { .. } => StatusCode::FORBIDDEN,
            _ => return Self::internal(&err),
        };
        Self::new(status, err.to_string())
    }
}

impl From<GuildError> for ApiError {
    fn from(err: GuildError) -> Self {
        match err {
            GuildError::Discord(e) => e.into(),
            GuildError::Core(e) => e.into(),
            GuildError::MemberNotFound { .. } | GuildError::RoleNotFound { .. } => {
                Self::new(StatusCode::NOT_FOUND, err.to_string())
            }
            GuildError::NotACategory => Self::bad_request(err.to_string()),
            GuildError::AutoModCoolingDown { wait_ms } => {
                // The specification answers a bare JSON string here.
                let message = err.to_string();
                let seconds = u64::try_from(wait_ms).unwrap_or(60).div_ceil(1000);
                Self::with_body(StatusCode::TOO_MANY_REQUESTS, message.clone(), serde_json::json!(message))
                    .retry_after(seconds)
            }
            GuildError::NoServerBot => Self::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string()),
            _ => Self::internal(&err),
        }
    }
}

impl From<BoosterError> for ApiError {
    fn from(err: BoosterError) -> Self {
        match err {
            BoosterError::NotBooster | BoosterError::NotOwner => Self::new(StatusCode::FORBIDDEN, err.to_string()),
            BoosterError::AlreadyHasRole { role } => Self::with_body(
                StatusCode::CONFLICT,
                err.to_string(),
                serde_json::json!({"error": err.to_string(), "roleId": role.to_string()}),
            ),
            BoosterError::Looks(e) => e.into(),
            BoosterError::Discord(e) => e.into(),
            BoosterError::Store(e) => e.into(),
            _ => Self::internal(&err),
        }
    }
}

impl From<LooksError> for ApiError {
    fn from(err: LooksError) -> Self {
        match err {
            LooksError::Invalid(message) => Self::bad_request(message),
            LooksError::IconUnavailable(message) => Self::new(StatusCode::BAD_GATEWAY, message),
            _ => Self::internal(&err),
        }
    }
}

impl From<RoleError> for ApiError {
    fn from(err: RoleError) -> Self {
        match err {
            RoleError::GuildNotFound => {
                Self::with_body(StatusCode::NOT_FOUND, err.to_string(), serde_json::json!("Guild not found."))
            }
            RoleError::Looks(e) => e.into(),
            RoleError::Discord(e) => e.into(),
            _ => Self::internal(&err),
        }
    }
}

impl From<ModLogError> for ApiError {
    fn from(err: ModLogError) -> Self {
        match err {
            ModLogError::NotFound => Self::new(StatusCode::NOT_FOUND, err.to_string()),
            ModLogError::BadPage => Self::bad_request(err.to_string()),
            ModLogError::Discord(e) => e.into(),
            ModLogError::Store(e) => e.into(),
            ModLogError::Objects(e) => object_store(&e),
            _ => Self::internal(&err),
        }
    }
}

impl From<TranscriptError> for ApiError {
    fn from(err: TranscriptError) -> Self {
        match err {
            TranscriptError::NoMessages | TranscriptError::NotFound => {
                Self::new(StatusCode::NOT_FOUND, err.to_string())
            }
            TranscriptError::Busy | TranscriptError::SharedSpace { .. } => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string()).retry_after(BUSY_RETRY_AFTER_SECONDS)
            }
            TranscriptError::JobSpace { .. } => Self::new(StatusCode::INSUFFICIENT_STORAGE, err.to_string()),
            TranscriptError::Discord(e) => e.into(),
            TranscriptError::Store(e) => object_store(&e),
            TranscriptError::Records(e) => e.into(),
            _ => Self::internal(&err),
        }
    }
}

impl From<BackupError> for ApiError {
    fn from(err: BackupError) -> Self {
        let message = err.to_string();
        match err {
            BackupError::NotPremium | BackupError::NotAdministrator => Self::new(StatusCode::FORBIDDEN, message),
            BackupError::NotFound | BackupError::UnknownVersion { .. } | BackupError::UnknownJob => {
                Self::new(StatusCode::NOT_FOUND, message)
            }
            BackupError::TooLarge => Self::new(StatusCode::PAYLOAD_TOO_LARGE, message),
            BackupError::ForceRequired => Self::new(StatusCode::BAD_REQUEST, message),
            BackupError::RestoreRunning { .. } => Self::new(StatusCode::CONFLICT, message),
            BackupError::Cooldown { retry_after_seconds } => Self::with_body(
                StatusCode::TOO_MANY_REQUESTS,
                message.clone(),
                serde_json::json!({ "error": message, "retryAfterSeconds": retry_after_seconds }),
            )
            .retry_after(retry_after_seconds),
            BackupError::Throttled { retry_after_seconds } => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, message).retry_after(retry_after_seconds)
            }
            BackupError::Busy => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, message).retry_after(BACKUP_BUSY_RETRY_AFTER_SECONDS)
            }
            BackupError::Discord(e) => e.into(),
            BackupError::Core(e) => e.into(),
            BackupError::Objects(e) => object_store(&e),
            _ => Self::internal(&err),
        }
    }
}

impl From<ModerationError> for ApiError {
    fn from(err: ModerationError) -> Self {
        match err {
            ModerationError::Discord(e) => e.into(),
            ModerationError::Core(e) => e.into(),
            ModerationError::PurgeRateLimited { retry_after_ms } => {
                // The specification answers a bare JSON string here.
                let message = err.to_string();
                Self::with_body(StatusCode::TOO_MANY_REQUESTS, message.clone(), serde_json::json!(message))
                    .retry_after(retry_after_ms.div_ceil(1000))
            }
            _ => Self::internal(&err),
        }
    }
}

/// Object storage failed: logged, answered 503.
fn object_store(err: &ObjectError) -> ApiError {
    tracing::error!(error = %err, "object store failed");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Object storage unavailable.")
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        match &self.body {
            Some(body) => response.json(body),
            None => response.json(ErrorBody { error: self.message.clone() }),
        }
    }
}

impl From<garrison_core::streams::watches::WatchError> for ApiError {
    fn from(err: garrison_core::streams::watches::WatchError) -> Self {
        use garrison_core::streams::watches::WatchError as E;
        let status = match err {
            E::Core(e) => return e.into(),
            E::Discord(e) => return e.into(),
            E::NoServerBot => StatusCode::SERVICE_UNAVAILABLE,
            E::Full => StatusCode::CONFLICT,
            E::NotFound(_) => StatusCode::NOT_FOUND,
            _ => return Self::internal(&err),
        };
        Self::new(status, err.to_string())
    }
}

impl From<garrison_core::webhooks::WebhookError> for ApiError {
    fn from(err: garrison_core::webhooks::WebhookError) -> Self {
        use garrison_core::webhooks::WebhookError as E;
        let status = match err {
            E::Core(e) => return e.into(),
            E::Full | E::Disabled(_) => StatusCode::CONFLICT,
            E::NotFound(_) | E::NoDelivery { .. } => StatusCode::NOT_FOUND,
            _ => return Self::internal(&err),
        };
        Self::new(status, err.to_string())
    }
}

impl From<garrison_core::streams::alerts::PushError> for ApiError {
    fn from(err: garrison_core::streams::alerts::PushError) -> Self {
        use garrison_core::streams::alerts::PushError as E;
        use garrison_core::streams::eventsub::Refused;
        let status = match &err {
            E::Disabled => StatusCode::NOT_FOUND,
            E::Refused(Refused::Malformed(_)) => StatusCode::BAD_REQUEST,
            E::Refused(_) => StatusCode::FORBIDDEN,
            E::Busy => return Self::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string()).retry_after(5),
        };
        Self::new(status, err.to_string())
    }
}

impl From<garrison_core::streams::StreamError> for ApiError {
    fn from(err: garrison_core::streams::StreamError) -> Self {
        use garrison_core::streams::StreamError as E;
        let message = err.to_string();
        match err {
            E::Invalid { .. } | E::NoCredentials { .. } | E::CredentialsRefused { header: Some(_), .. } => {
                Self::bad_request(message)
            }
            E::NoChannel { .. } => Self::new(StatusCode::NOT_FOUND, message),
            E::RateLimited { retry_after_secs, .. } | E::Busy { retry_after_secs, .. } => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, message).retry_after(retry_after_secs)
            }
            E::CredentialsRefused { header: None, .. } | E::Unavailable { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, message)
            }
            _ => Self::internal(&err),
        }
    }
}

#[cfg(test)]
mod tests {
    use garrison_core::RobloxUserId;

    use super::*;

    #[test]
    fn domain_errors_map_to_fitting_statuses() {
        let member = RobloxUserId::from_stored(5);
        let cases = [
            (Error::invalid("amount", "bad"), 400),
            (Error::XpOverflow { max: 1 }, 400),
            (Error::Unauthenticated("invalid API key"), 401),
            (Error::Forbidden("read-only".into()), 403),
            (Error::UnknownMedal { name: "x".into() }, 404),
            (Error::MedalNotHeld { member, name: "x".into() }, 404),
            (Error::LoaAlreadyActive { member }, 409),
            (Error::IdempotencyKeyReused { key: "k".into() }, 422),
            (Error::Store(StoreError::Unavailable("down".into())), 503),
            (Error::Store(StoreError::Internal("broken".into())), 500),
        ];
        for (err, status) in cases {
            assert_eq!(ApiError::from(err).status().as_u16(), status);
        }
    }

    #[test]
    fn guild_and_moderation_errors_map_once_with_the_specifications_bodies() {
        use garrison_core::discord::Snowflake;
        let cases = [
            (ApiError::from(GuildError::MemberNotFound { which: "User 1" }), 404, "User 1 not found on this guild"),
            (
                ApiError::from(GuildError::RoleNotFound { index: 2, role: Snowflake::from_raw(1 << 22) }),
                404,
                "Role 2 (4194304) not found on this guild",
            ),
            (ApiError::from(GuildError::NotACategory), 400, "The provided ID is not a category channel"),
            (
                ApiError::from(GuildError::NoServerBot),
                503,
                "No Discord bot is configured (GARRISON_DISCORD_BOT_TOKEN).",
            ),
            (ApiError::from(GuildError::Core(Error::Forbidden("other server".into()))), 403, "other server"),
            (ApiError::from(ModerationError::Discord(DiscordError::NotMember)), 403, "Bot not member."),
            (ApiError::from(ModerationError::Core(Error::invalid("duration", "bad"))), 400, "duration: bad"),
        ];
        for (err, status, message) in cases {
            assert_eq!((err.status().as_u16(), err.message()), (status, message));
        }
        let limited = ApiError::from(GuildError::AutoModCoolingDown { wait_ms: 58_500 });
        assert_eq!(limited.status().as_u16(), 429);
        assert_eq!(limited.retry_after, Some(59));
        assert_eq!(limited.body, Some(serde_json::json!("Rate limit exceeded. Please wait 1 minute.")));
        let purge = ApiError::from(ModerationError::PurgeRateLimited { retry_after_ms: 1_500 });
        assert_eq!((purge.status().as_u16(), purge.retry_after), (429, Some(2)));
        assert_eq!(purge.body, Some(serde_json::json!("Rate limit exceeded")));
    }

    #[test]
    fn internal_details_stay_out_of_the_response() {
        let err = ApiError::from(Error::Store(StoreError::Internal("table xp_balances is corrupt".into())));
        assert_eq!(err.message(), "Internal error.");
    }

    #[test]
    fn each_discord_side_service_error_maps_once_to_its_status_and_body() {
        use garrison_core::discord::Snowflake;
        let role = Snowflake::from_raw(5 << 22);
        let cases: Vec<(ApiError, u16)> = vec![
            (BoosterError::NotBooster.into(), 403),
            (BoosterError::NotOwner.into(), 403),
            (BoosterError::AlreadyHasRole { role }.into(), 409),
            (BoosterError::Looks(LooksError::Invalid("Color: bad".into())).into(), 400),
            (RoleError::GuildNotFound.into(), 404),
            (RoleError::Looks(LooksError::IconUnavailable("Icon-URL: down".into())).into(), 502),
            (ModLogError::NotFound.into(), 404),
            (ModLogError::BadPage.into(), 400),
            (ModLogError::Objects(ObjectError::Unavailable("down".into())).into(), 503),
            (ModLogError::Internal("no randomness".into()).into(), 500),
            (TranscriptError::NoMessages.into(), 404),
            (TranscriptError::NotFound.into(), 404),
            (TranscriptError::Busy.into(), 503),
            (TranscriptError::JobSpace { limit: 1 }.into(), 507),
            (TranscriptError::Discord(DiscordError::InvalidToken).into(), 401),
        ];
        for (err, status) in cases {
            assert_eq!(err.status().as_u16(), status, "{err}");
        }
        let conflict = ApiError::from(BoosterError::AlreadyHasRole { role });
        assert_eq!(
            conflict.body,
            Some(serde_json::json!({"error": "User already has a custom booster role", "roleId": role.to_string()}))
        );
        assert_eq!(ApiError::from(RoleError::GuildNotFound).body, Some(serde_json::json!("Guild not found.")));
        assert_eq!(ApiError::from(TranscriptError::Busy).retry_after, Some(BUSY_RETRY_AFTER_SECONDS));
        assert_eq!(ApiError::from(ModLogError::Internal("entropy".into())).message(), "Internal error.");
        assert_eq!(ApiError::from(ModLogError::NotFound).message(), "Moderation log not found.");
    }
}
