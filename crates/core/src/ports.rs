//! The ports: what the domain needs from the outside world. Storage adapters implement them; tests
//! may fake them. Every method is synchronous and may block: async callers run them on a blocking
//! thread.

use crate::{
    ApiKeyId, MemberKey, Result, ServerId, Timestamp,
    apikey::{ApiKey, KeyHash, NewApiKey},
    catalogue::{AwardedCertification, AwardedMedal, Certification, CertificationRef, Description, Medal, Name},
    ep::{Company, EpCursor, EpEntry, EpPolicy},
    loa::Loa,
    xp::{HistoryPage, LeaderboardPage, LeaderboardRow, XpEntry, XpMutation, XpOutcome},
};

pub use crate::cooldowns::CooldownStore;
pub use crate::entropy::Entropy;
pub use crate::threads::BlockingThreads;

/// API keys, stored by hash.
pub trait ApiKeys: Send + Sync {
    fn create(&self, key: NewApiKey) -> Result<ApiKey>;
    /// The unrevoked key with this hash, if any.
    fn find_active(&self, hash: &KeyHash) -> Result<Option<ApiKey>>;
    fn list(&self, server: ServerId) -> Result<Vec<ApiKey>>;
    /// Revokes a key; `UnknownApiKey` if there is none with this id. Revoking twice is harmless.
    fn revoke(&self, id: ApiKeyId, at: Timestamp) -> Result<ApiKey>;
}

/// XP balances and their ledger.
pub trait XpLedger: Send + Sync {
    /// Applies a change atomically: one SQL statement moves the balance and the ledger gains an entry
    /// (its `reference` is only a label). With an Idempotency-Key, the key's earlier use replays or is
    /// refused as [`crate::idempotency::on_repeat`] decides, and otherwise the key is recorded in the
    /// change's transaction under a uniqueness constraint, so concurrent repeats apply once.
    fn apply(&self, mutation: &XpMutation) -> Result<XpOutcome>;
    fn balance(&self, member: MemberKey) -> Result<i64>;
    /// Newest first.
    fn history(&self, member: MemberKey, page: HistoryPage) -> Result<Vec<XpEntry>>;
    /// Members with positive XP, highest first, ties by lower Roblox id: `page.limit` rows from
    /// `page.start`, ranked from [`crate::xp::LeaderboardStart::first_rank`].
    fn leaderboard(&self, server: ServerId, page: LeaderboardPage) -> Result<Vec<LeaderboardRow>>;
}

/// EP entries and the quota policy.
pub trait EpLedger: Send + Sync {
    fn add(&self, member: MemberKey, company: Company, amount: i64, at: Timestamp) -> Result<()>;
    /// Up to `limit` entries of the member at or after `since`, ordered by `(at, id)`, starting after
    /// `after` (the previous page's last entry) when given: one page of a bounded read.
    fn entries_page(
        &self,
        member: MemberKey,
        since: Timestamp,
        after: Option<EpCursor>,
        limit: u32,
    ) -> Result<Vec<EpEntry>>;
    fn policy(&self, server: ServerId) -> Result<Option<EpPolicy>>;
    fn set_policy(&self, server: ServerId, policy: &EpPolicy, at: Timestamp) -> Result<()>;
}

/// Leaves of absence.
pub trait LoaRecords: Send + Sync {
    /// The member's most recent LOA.
    fn latest(&self, member: MemberKey) -> Result<Option<Loa>>;
    /// Up to `limit` of the member's LOAs that were still running after `ending_after` (their effective
    /// end is later), newest first, with their ids; older than the LOA `before` (an id) when given.
    fn reaching_past(
        &self,
        member: MemberKey,
        ending_after: Timestamp,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(i64, Loa)>>;
    /// Starts an LOA; `LoaAlreadyActive` if one is active at `loa.started_at`.
    fn start(&self, member: MemberKey, loa: Loa) -> Result<Loa>;
    /// Ends the active LOA at `at`; `NoActiveLoa` if none is active then.
    fn end(&self, member: MemberKey, at: Timestamp) -> Result<Loa>;
}

/// The medal catalogue and awards.
pub trait Medals: Send + Sync {
    fn catalogue(&self, server: ServerId) -> Result<Vec<Medal>>;
    /// `MedalExists` when the name is taken, ignoring case.
    fn create(&self, server: ServerId, name: &Name, description: &Description, at: Timestamp) -> Result<Medal>;
    /// Deletes a medal and every award of it; `UnknownMedal` if absent.
    fn delete(&self, server: ServerId, name: &Name) -> Result<Medal>;
    fn held(&self, member: MemberKey) -> Result<Vec<AwardedMedal>>;
    /// `UnknownMedal`, or `MedalAlreadyAwarded`.
    fn award(&self, member: MemberKey, name: &Name, at: Timestamp) -> Result<Medal>;
    /// `UnknownMedal`, or `MedalNotHeld`.
    fn revoke(&self, member: MemberKey, name: &Name) -> Result<Medal>;
}

/// The certification catalogue and awards.
pub trait Certifications: Send + Sync {
    fn catalogue(&self, server: ServerId) -> Result<Vec<Certification>>;
    /// `CertificationExists` when the reference is taken.
    fn create(
        &self,
        server: ServerId,
        reference: &CertificationRef,
        name: &Name,
        description: &Description,
        at: Timestamp,
    ) -> Result<Certification>;
    fn delete(&self, server: ServerId, reference: &CertificationRef) -> Result<Certification>;
    fn held(&self, member: MemberKey) -> Result<Vec<AwardedCertification>>;
    /// `UnknownCertification`, or `CertificationAlreadyAwarded`.
    fn award(&self, member: MemberKey, reference: &CertificationRef, at: Timestamp) -> Result<Certification>;
    /// `UnknownCertification`, or `CertificationNotHeld`.
    fn revoke(&self, member: MemberKey, reference: &CertificationRef) -> Result<Certification>;
}

/// Whether the store can answer right now (readiness).
pub trait HealthCheck: Send + Sync {
    /// `Ok` when reads and writes can be served now.
    fn check(&self) -> Result<()>;
    /// How the store's writer has fared since start-up, for operators.
    fn report(&self) -> HealthReport {
        HealthReport::default()
    }
}

/// What readiness reports besides yes or no.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HealthReport {
    /// The writer has stopped for good (SQLite: it kept failing and gave up); writes cannot succeed
    /// until the process restarts.
    pub writer_stopped: bool,
    /// How many times the writer was restarted after a failure outside any one write.
    pub writer_restarts: u64,
    /// How many writes panicked; each was rolled back alone and its caller got an error.
    pub panicked_writes: u64,
}

use crate::{booster::BoosterRole, discord::Snowflake};

/// The records of custom booster roles: at most one per user and one per role in each guild.
pub trait BoosterRoles: Send + Sync {
    /// The custom role of `user` in `guild`, if they have one.
    fn find(&self, guild: ServerId, user: Snowflake) -> Result<Option<BoosterRole>>;
    /// Who owns `role` in `guild`, if it is a recorded booster role.
    fn owner_of(&self, guild: ServerId, role: Snowflake) -> Result<Option<BoosterRole>>;
    /// Records a new custom role: `BoosterRoleExists` if the user already has one in the guild,
    /// `Invalid` (field `roleId`) if the role is already recorded, or if an id does not fit a signed
    /// 64-bit integer.
    fn record(&self, role: &BoosterRole) -> Result<()>;
    /// Forgets the record of `role` in `guild`; returns the removed record (`None` if there was none).
    fn forget(&self, guild: ServerId, role: Snowflake) -> Result<Option<BoosterRole>>;
    /// Every record of a guild, oldest first (for cleanup when roles vanish).
    fn list(&self, guild: ServerId) -> Result<Vec<BoosterRole>>;
}

use crate::modlog::{History, NewEntry, Subject, SubjectProfile, ViewId};

/// Moderation logs: entries numbered per bot and guild, read back a page at a time by a subject's
/// view id.
pub trait ModLogs: Send + Sync {
    /// Records an entry for `subject`: creates the subject (with `new_view_id`, used only if the
    /// subject is new) or updates its profile, assigns the bot's next case number in the guild
    /// atomically, and returns the page of the history holding the new entry (its last page, as of
    /// the insert). `Invalid` (naming the header) if an id does not fit a signed 64-bit integer.
    fn add(&self, subject: Subject, profile: &SubjectProfile, entry: &NewEntry, new_view_id: ViewId)
    -> Result<History>;
    /// The last page of the history behind a view id.
    fn history(&self, view: &ViewId) -> Result<Option<History>>;
    /// Page `page` (0-based) of the history behind a view id; a page past the end has no entries.
    fn history_page(&self, view: &ViewId, page: u64) -> Result<Option<History>>;
}
