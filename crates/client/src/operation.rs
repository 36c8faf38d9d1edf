//! The route table: every operation of Garrison's OpenAPI document, once. Every request the client
//! sends is built from an [`Operation`], whose method and path template come from this one list, so the
//! typed methods cannot drift from the table, and `tests/routes.rs` keeps the table equal to
//! `docs/openapi.json`.

use std::fmt;

/// Declares the operations: the [`Operation`] enum, its method and template, and [`OPERATIONS`].
macro_rules! operations {
    ($($name:ident = $method:ident $path:literal,)*) => {
        /// One operation of the API: a method on a path template, as `docs/openapi.json` writes it.
        /// [`Client::call`](crate::Client::call) sends any of them; the typed methods of the tag
        /// modules send theirs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Operation {
            $(
                #[doc = concat!("`", stringify!($method), " ", $path, "`")]
                $name,
            )*
        }

        impl Operation {
            /// Every operation, in the order of [`OPERATIONS`].
            pub const ALL: &[Operation] = &[$(Operation::$name),*];

            /// The HTTP method.
            pub fn method(self) -> reqwest::Method {
                match self {
                    $(Operation::$name => reqwest::Method::$method,)*
                }
            }

            /// The path template, with `{name}` for each path parameter.
            pub const fn path(self) -> &'static str {
                match self {
                    $(Operation::$name => $path,)*
                }
            }
        }

        /// Every operation as (METHOD, path template), exactly as the OpenAPI document writes them.
        pub const OPERATIONS: &[(&str, &str)] = &[$((stringify!($method), $path)),*];
    };
}

operations! {
    // XP
    GetXp = GET "/api/xp",
    AddXp = POST "/api/xp/add",
    XpHistory = GET "/api/xp/history",
    XpLeaderboard = GET "/api/xp/leaderboard",
    SetXp = POST "/api/xp/set",
    SubtractXp = POST "/api/xp/subtract",
    // EP
    GetEp = GET "/api/ep",
    AddEp = POST "/api/ep/add",
    GetEpPolicy = GET "/api/ep/policy",
    PutEpPolicy = PUT "/api/ep/policy",
    // LOA
    GetLoa = GET "/api/loa",
    EndLoa = POST "/api/loa/end",
    StartLoa = POST "/api/loa/start",
    // Medals
    DeleteMedal = DELETE "/api/medals",
    ListMedals = GET "/api/medals",
    CreateMedal = POST "/api/medals",
    AwardMedal = POST "/api/medals/award",
    RevokeMedal = POST "/api/medals/revoke",
    MemberMedals = GET "/api/medals/user",
    // Certifications
    DeleteCertification = DELETE "/api/certifications",
    ListCertifications = GET "/api/certifications",
    CreateCertification = POST "/api/certifications",
    AwardCertification = POST "/api/certifications/award",
    CheckCertification = GET "/api/certifications/check",
    RevokeCertification = POST "/api/certifications/revoke",
    MemberCertifications = GET "/api/certifications/user",
    // Webhooks
    ListWebhooks = GET "/api/webhooks",
    CreateWebhook = POST "/api/webhooks",
    DeleteWebhook = DELETE "/api/webhooks/{id}",
    WebhookDeliveries = GET "/api/webhooks/{id}/deliveries",
    TestWebhook = POST "/api/webhooks/{id}/test",
    RedeliverWebhook = POST "/api/webhooks/{id}/deliveries/{deliveryId}/redeliver",
    RotateWebhookSecret = POST "/api/webhooks/{id}/rotate",
    EnableWebhook = POST "/api/webhooks/{id}/enable",
    // Operations
    Healthz = GET "/healthz",
    Readyz = GET "/readyz",
    // Verification
    VerificationByRoblox = GET "/api/verification",
    StartVerificationCode = POST "/api/verification/code",
    CheckVerificationCode = POST "/api/verification/code/check",
    VerificationByDiscord = GET "/api/verification/discord",
    // Roblox groups
    GetBinds = GET "/api/binds",
    PutBinds = PUT "/api/binds",
    SyncBinds = POST "/api/binds/sync",
    AcceptJoinRequest = POST "/api/group/accept-request",
    Demote = POST "/api/group/demote",
    DenyJoinRequest = POST "/api/group/deny-request",
    JoinRequests = GET "/api/group/join-requests",
    Promote = POST "/api/group/promote",
    Rank = GET "/api/rank",
    RobloxUser = GET "/api/roblox/user",
    GetRobloxSettings = GET "/api/server/roblox",
    PutRobloxSettings = PUT "/api/server/roblox",
    // Streams
    CheckAllStreams = POST "/api/Stream/check-all",
    TwitchEventSub = POST "/api/Stream/eventsub/twitch",
    TikTokStream = GET "/api/Stream/tiktok/{user}",
    TwitchStream = GET "/api/Stream/twitch/{user}",
    ListWatches = GET "/api/Stream/watches",
    AddWatch = POST "/api/Stream/watches",
    DeleteWatch = DELETE "/api/Stream/watches/{id}",
    YouTubeStream = GET "/api/Stream/youtube/{handle}",
    GetStreamKeys = GET "/api/server/streams",
    PutStreamKeys = PUT "/api/server/streams",
    // Utilities
    CommonValue = POST "/api/CommonValue",
    RegexMatch = POST "/api/Regex/match",
    Stringify = POST "/api/Text/stringify",
    SplitText = POST "/api/TextChunker/split",
    Timestamp = GET "/api/Timestamp",
    // Cards
    GenerateLevelCard = GET "/api/LevelCard/generate",
    ViewLevelCard = GET "/api/LevelCard/view/{id}",
    CardEncodingGuide = GET "/api/WelcomeCard/encoding-guide",
    CardFonts = GET "/api/WelcomeCard/fonts",
    GenerateWelcomeCard = GET "/api/WelcomeCard/generate",
    ViewWelcomeCard = GET "/api/WelcomeCard/view/{id}",
    // Discord users
    AccountAge = GET "/api/Account/age",
    CompareMembers = GET "/api/DiscordPermission/compare",
    CompareMemberRoles = GET "/api/DiscordPermission/compare-user-roles",
    GuildInfo = GET "/api/DiscordPermission/guild-info",
    // Discord server
    AutoModRules = GET "/api/AutoModRules/{guildId}",
    BoosterPerks = GET "/api/DiscordBooster/guild/{guildId}/additional-perks",
    BoosterPrivileges = GET "/api/DiscordBooster/privileges/{guildId}",
    ServerInfo = GET "/api/server/info",
    // Discord channels
    ChannelInfo = GET "/api/Channel/GetChannelInfo",
    CategoryInfo = GET "/api/DiscordCategory/info",
    VoiceChannel = GET "/api/VoiceChannel/info",
    MoveChannel = POST "/api/channel/move",
    // Discord invites
    QueryInvite = POST "/api/Invitation/query",
    // Discord roles
    RoleCount = GET "/api/GetRoleCount",
    HighestRole = GET "/api/HighestRole",
    DeleteBoosterRole = DELETE "/api/Role/booster/{guildIdStr}/{userIdStr}",
    CreateBoosterRole = POST "/api/Role/booster/{guildIdStr}/{userIdStr}",
    UpdateBoosterRole = PUT "/api/Role/booster/{guildIdStr}/{userIdStr}",
    CreateRole = POST "/api/Role/create",
    PurgeRole = POST "/api/RoleMemberPurge/purge",
    RoleMembers = GET "/api/RoleMembers/role/{roleIds}",
    // Discord messages
    SendEmbed = POST "/api/Message/sendEmbed/{channelId}",
    SmartEdit = PATCH "/api/edit/smart-edit",
    SmartEditEphemeral = PATCH "/api/edit/smart-edit/ephemeral",
    FileCheck = GET "/api/filecheck/check",
    // Moderation
    Ban = POST "/api/modactions/ban",
    BanWithReason = POST "/api/modactions/ban-with-reason",
    Kick = DELETE "/api/modactions/kick",
    RemoveTimeout = DELETE "/api/modactions/timeout",
    Timeout = POST "/api/modactions/timeout",
    Unban = DELETE "/api/modactions/unban",
    // Moderation logs
    AddModLog = POST "/api/modlogs/add",
    ViewModLog = GET "/api/modlogs/view/{id}",
    // Modmail
    ModmailInbound = POST "/api/modmail/inbound",
    ModmailOutbound = POST "/api/modmail/outbound",
    // Transcripts
    GenerateTranscript = POST "/api/Transcript/html",
    ListTranscripts = GET "/api/Transcript/list/{guildId}",
    ViewTranscript = GET "/api/Transcript/view/{viewId}",
    // Backups
    CreateBackup = POST "/api/Backup",
    RestoreJob = GET "/api/Backup/restore/jobs/{jobId}",
    RestoreBackup = POST "/api/Backup/restore/{viewId}",
    BackupVersions = GET "/api/Backup/versions/{viewId}",
    ViewBackup = GET "/api/Backup/view/{viewId}",
    DeleteBackup = DELETE "/api/Backup/{viewId}",
}

impl Operation {
    /// The request header that carries a Discord bot token, spelled as the document spells it, for the
    /// operations that act as a bot; `None` for the others.
    pub const fn bot_token_header(self) -> Option<&'static str> {
        use Operation::*;
        match self {
            AccountAge | AutoModRules | ChannelInfo | RoleCount | HighestRole | QueryInvite | UpdateBoosterRole
            | CreateBoosterRole | DeleteBoosterRole | CreateRole | MoveChannel => Some("Discord-Token"),
            CreateBackup | RestoreBackup | CategoryInfo | GenerateTranscript | ListTranscripts | AddModLog
            | ModmailInbound | ModmailOutbound => Some("X-Bot-Token"),
            BoosterPerks | BoosterPrivileges | PurgeRole | SmartEdit | FileCheck => Some("Bot-Token"),
            CompareMembers | CompareMemberRoles | GuildInfo | VoiceChannel | Ban | BanWithReason | Kick | Timeout
            | RemoveTimeout | Unban => Some("bot-token"),
            SendEmbed | RoleMembers => Some("discord-token"),
            _ => None,
        }
    }

    /// Whether the operation takes an `Idempotency-Key` header: the same key with the same body
    /// within 24 hours answers the first answer again and changes nothing, so such a request may be
    /// retried.
    pub const fn takes_idempotency_key(self) -> bool {
        matches!(self, Operation::SetXp | Operation::AddXp | Operation::SubtractXp)
    }

    /// Whether the document asks for the API key (`Authorization: Bearer`): every operation but the
    /// health probes. The client sends its key, when it has one, to these only.
    pub const fn takes_api_key(self) -> bool {
        !matches!(self, Operation::Healthz | Operation::Readyz)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method(), self.path())
    }
}
