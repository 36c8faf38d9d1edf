//! The backup service: making, reading, listing, deleting and restoring a server's backup, with its
//! rules (one backup per guild, auth keys, premium, sizes, retention, the restore cooldown, snapshots
//! before any destructive step, jobs).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures_util::StreamExt;
use garrison_backup::fit;
use garrison_backup::format::Backup;
use garrison_backup::plan::{self, Mode, Plan};

use super::capture::{CaptureOptions, Captured, FileHome, capture};
use super::jobs::{Claimed, Job, JobId, JobStatus, KEEP_FINISHED_JOBS_MS, Lease, RestoreJobStore, Tally};
use super::port::{BackupBot, BackupBots};
use super::restore::{Executor, Ran};
use super::{
    AuthKey, BackupIndex, BackupRecord, MAX_BACKUP_BYTES, TagKey, Version, VersionKind, beyond_retention,
    current_version, version_key,
};
use crate::cooldowns::{CooldownStore, Turn};
use crate::discord::{BotToken, DiscordError};
use crate::entropy::{Entropy, EntropyError};
use crate::objects::{ObjectBody, ObjectError, ObjectPrefix, ObjectStore};
use crate::threads::{WriteQueue, run_write};
use crate::time::{Clock, Sleeper};
use crate::view_id::ViewId;
use crate::webhooks::Outbox;
use crate::{Error, ServerId, Timestamp};

/// How long a guild waits between two restores into it (the specification's 5 minutes).
pub const RESTORE_COOLDOWN_MS: i64 = 5 * 60 * 1000;
/// Wrong auth keys one backup takes in a [`WRONG_KEY_WINDOW_MS`] before every key is refused for the
/// rest of the window.
pub const WRONG_KEYS_PER_WINDOW: u32 = 10;
pub const WRONG_KEY_WINDOW_MS: i64 = 60 * 1000;
/// Backups captured at once by this process (each holds one image and the JSON in memory).
pub const MAX_CAPTURES: usize = 4;
/// Restores running at once in this process (started here or taken up from a dead runner).
pub const MAX_RESTORES: usize = 8;
/// How long a runner's hold on a restore job lasts unless renewed: a job whose runner died is taken
/// up again this long after its last sign of life.
pub const JOB_LEASE_MS: u64 = 60_000;
/// Seconds a caller is told to wait when too many backups are being made.
pub const BUSY_RETRY_AFTER_SECONDS: u64 = 10;

/// What can go wrong with a backup. Messages are the specification's where it writes them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    #[error("Backups are a premium feature.")]
    NotPremium,
    /// No backup behind the view id, or the key does not open it: the caller cannot tell which.
    #[error("Backup not found or invalid key")]
    NotFound,
    #[error("Too many wrong auth keys for this backup; retry in {retry_after_seconds} s.")]
    Throttled { retry_after_seconds: u64 },
    #[error("Backup too large (> 100 MB)")]
    TooLarge,
    #[error("Append ?force=true to confirm.")]
    ForceRequired,
    #[error("Cooldown active.")]
    Cooldown { retry_after_seconds: u64 },
    #[error("The bot needs the Administrator permission in the guild it restores into.")]
    NotAdministrator,
    #[error("A restore into this guild is already running: job {job}.")]
    RestoreRunning { job: String },
    #[error("The backup has no version {version}.")]
    UnknownVersion { version: u32 },
    #[error("No restore job has this id.")]
    UnknownJob,
    #[error("Too many backups are being made or restored; retry later.")]
    Busy,
    #[error(transparent)]
    Discord(#[from] DiscordError),
    #[error(transparent)]
    Core(#[from] Error),
    #[error("object store: {0}")]
    Objects(#[from] ObjectError),
    #[error("backup: {0}")]
    Internal(String),
}

impl From<EntropyError> for BackupError {
    fn from(err: EntropyError) -> Self {
        Self::Internal(err.to_string())
    }
}

/// Who may use backups.
#[derive(Clone, Default)]
pub enum Premium {
    /// Every server (the default of a self-hosted install).
    #[default]
    All,
    /// Only the servers the operator granted.
    Granted(Arc<dyn PremiumGrants>),
}

impl std::fmt::Debug for Premium {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Premium::All => "Premium::All",
            Premium::Granted(_) => "Premium::Granted",
        })
    }
}

/// The servers an operator granted premium features (`garrison server premium grant`).
pub trait PremiumGrants: Send + Sync {
    fn is_granted(&self, guild: ServerId) -> crate::Result<bool>;
    /// Grants; `false` when it was already granted.
    fn grant(&self, guild: ServerId, at: Timestamp) -> crate::Result<bool>;
    /// Revokes; `false` when it was not granted.
    fn revoke(&self, guild: ServerId) -> crate::Result<bool>;
    /// Every granted server, with when, by id.
    fn list(&self) -> crate::Result<Vec<(ServerId, Timestamp)>>;
}

/// The operator's grants of premium features (`garrison server premium`).
pub struct PremiumAdmin {
    grants: Arc<dyn PremiumGrants>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PremiumAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PremiumAdmin").finish_non_exhaustive()
    }
}

impl PremiumAdmin {
    pub fn new(grants: Arc<dyn PremiumGrants>, clock: Arc<dyn Clock>) -> Self {
        Self { grants, clock }
    }

    /// Grants the server premium features; `false` when it already had them.
    pub fn grant(&self, guild: ServerId) -> crate::Result<bool> {
        self.grants.grant(guild, self.clock.now())
    }

    /// Takes them back; `false` when it had none.
    pub fn revoke(&self, guild: ServerId) -> crate::Result<bool> {
        self.grants.revoke(guild)
    }

    /// Every granted server, by id, with when it was granted.
    pub fn list(&self) -> crate::Result<Vec<(ServerId, Timestamp)>> {
        self.grants.list()
    }
}

/// The ports the service works over.
#[allow(missing_debug_implementations)] // ports, shown by the service
#[derive(Clone)]
pub struct BackupPorts {
    pub bots: Arc<dyn BackupBots>,
    pub index: Arc<dyn BackupIndex>,
    pub objects: Arc<dyn ObjectStore>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub cooldowns: Arc<dyn CooldownStore>,
    pub sleeper: Arc<dyn Sleeper>,
    pub jobs: Arc<dyn RestoreJobStore>,
    /// Where a version's record and a finished job are written, each with its webhook event.
    pub writer: Arc<dyn WriteQueue>,
    pub outbox: Outbox,
}

/// The service's settings.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    /// The server's secret for auth-key tags.
    pub tags: TagKey,
    /// Versions made by `POST /api/Backup` kept per backup (and as many snapshots).
    pub keep_versions: usize,
    pub premium: Premium,
    /// How long a restore request waits for its job before answering 202 with the job (60 s).
    pub answer_within_ms: u64,
    /// How long a runner's hold on a job lasts unless renewed ([`JOB_LEASE_MS`]).
    pub job_lease_ms: u64,
}

/// The specification's wait for a restore's report before it answers with a job instead.
pub const RESTORE_ANSWER_WITHIN_MS: u64 = 60_000;

/// `POST /api/Backup`.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub token: BotToken,
    pub guild: ServerId,
    /// The backup's key, to update it; text as sent.
    pub key: Option<String>,
    pub filename: Option<String>,
    /// Keep members' roles too.
    pub members: bool,
}

/// A backup made or updated.
#[derive(Debug, Clone)]
pub struct Created {
    pub updated: bool,
    pub view: ViewId,
    /// The key: new (shown once) or the one the caller sent.
    pub key: AuthKey,
    pub version: u32,
    /// The JSON's size.
    pub bytes: u64,
    /// Image bytes the backup downloaded (kept once per content).
    pub image_bytes: u64,
    pub warnings: Vec<String>,
}

/// `POST /api/Backup/restore/{viewId}`.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    pub view: String,
    pub key: Option<String>,
    pub token: BotToken,
    /// Another guild to restore into (the backup's own by default).
    pub target: Option<ServerId>,
    pub force: bool,
    pub dry_run: bool,
    pub mode: Mode,
    /// A version to restore (any kind, snapshots included); the newest backup by default.
    pub version: Option<u32>,
}

/// A dry run's answer: what a restore would do.
#[derive(Debug, Clone)]
pub struct DryRun {
    pub target: ServerId,
    pub version: u32,
    pub plan: Plan,
}

/// A restore started (or taken up again): its job, and the work the caller runs (on its runtime) to
/// carry it out.
#[allow(missing_debug_implementations)] // a future
pub struct Started {
    pub job: JobId,
    pub run: Pin<Box<dyn Future<Output = ()> + Send + 'static>>,
}

/// What a restore request led to.
#[allow(missing_debug_implementations)] // holds a future
pub enum RestoreOutcome {
    DryRun(DryRun),
    Started(Started),
}

/// Wrong keys per view id in the current window.
#[derive(Debug, Default)]
struct WrongKeys(Mutex<HashMap<String, (Timestamp, u32)>>);

/// The most view ids the wrong-key counter remembers (expired windows are swept first).
const WRONG_KEYS_REMEMBERED: usize = 10_000;

impl WrongKeys {
    /// Seconds left to wait when the view has taken too many wrong keys.
    fn throttled(&self, view: &str, now: Timestamp) -> Option<u64> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (start, count) = *map.get(view)?;
        let left = start.millis() + WRONG_KEY_WINDOW_MS - now.millis();
        (left > 0 && count >= WRONG_KEYS_PER_WINDOW).then(|| u64::try_from(left).unwrap_or(0).div_ceil(1000))
    }

    fn record(&self, view: &str, now: Timestamp) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= WRONG_KEYS_REMEMBERED && !map.contains_key(view) {
            map.retain(|_, (start, _)| start.millis() + WRONG_KEY_WINDOW_MS > now.millis());
            if map.len() >= WRONG_KEYS_REMEMBERED
                && let Some(oldest) = map.iter().min_by_key(|(_, (start, _))| *start).map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        let entry = map.entry(view.to_owned()).or_insert((now, 0));
        if entry.0.millis() + WRONG_KEY_WINDOW_MS <= now.millis() {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

/// A permit counted against a limit, given back when dropped.
struct Permit<'a>(&'a AtomicUsize);

impl<'a> Permit<'a> {
    fn take(counter: &'a AtomicUsize, limit: usize) -> Option<Self> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1))
            .ok()
            .map(|_| Self(counter))
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A place among the restores this process runs, given back when the run ends (or is dropped).
struct RunPermit(Arc<AtomicUsize>);

impl RunPermit {
    fn take(counter: &Arc<AtomicUsize>) -> Option<Self> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < MAX_RESTORES).then_some(n + 1))
            .ok()
            .map(|_| Self(Arc::clone(counter)))
    }
}

impl Drop for RunPermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Server backups.
pub struct BackupService {
    ports: BackupPorts,
    settings: BackupSettings,
    /// This process as a runner of restore jobs.
    runner: ViewId,
    /// Restores this process runs.
    restores: Arc<AtomicUsize>,
    wrong_keys: WrongKeys,
    captures: AtomicUsize,
}

impl std::fmt::Debug for BackupService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupService")
            .field("keep_versions", &self.settings.keep_versions)
            .field("premium", &self.settings.premium)
            .finish_non_exhaustive()
    }
}

impl BackupService {
    pub fn new(ports: BackupPorts, settings: BackupSettings) -> Result<Self, BackupError> {
        let runner = ViewId::draw(ports.entropy.as_ref())?;
        Ok(Self {
            ports,
            settings,
            runner,
            restores: Arc::new(AtomicUsize::new(0)),
            wrong_keys: WrongKeys::default(),
            captures: AtomicUsize::new(0),
        })
    }

    fn lease(&self) -> Lease {
        Lease::from(&self.runner, self.ports.clock.now(), self.settings.job_lease_ms)
    }

    /// How long a restore request waits for its job before answering with the job.
    pub fn answer_within_ms(&self) -> u64 {
        self.settings.answer_within_ms
    }

    /// How often to call [`BackupService::resume`]: twice a lease.
    pub fn resume_every_ms(&self) -> u64 {
        (self.settings.job_lease_ms / 2).max(500)
    }

    fn check_premium(&self, guild: ServerId) -> Result<(), BackupError> {
        match &self.settings.premium {
            Premium::All => Ok(()),
            Premium::Granted(grants) => {
                if grants.is_granted(guild)? {
                    Ok(())
                } else {
                    Err(BackupError::NotPremium)
                }
            }
        }
    }

    /// The backup `view` opens with `key`: [`BackupError::NotFound`] for an unknown view, a missing or
    /// wrong key alike; [`BackupError::Throttled`] after too many wrong keys.
    fn unlock(&self, view: &str, key: Option<&str>) -> Result<BackupRecord, BackupError> {
        // Text that is no view id names no backup: it is not looked up, nor counted.
        let view = ViewId::parse_exact(view).ok_or(BackupError::NotFound)?;
        let record = self.ports.index.by_view(&view)?.ok_or(BackupError::NotFound)?;
        self.open_with(record, key)
    }

    /// `record` if `key` opens it. Wrong keys are counted only for backups that exist, so the counter
    /// holds at most one entry per backup and made-up view ids cannot push real ones out of it.
    fn open_with(&self, record: BackupRecord, key: Option<&str>) -> Result<BackupRecord, BackupError> {
        let now = self.ports.clock.now();
        let view = record.view.as_str();
        if let Some(retry_after_seconds) = self.wrong_keys.throttled(view, now) {
            return Err(BackupError::Throttled { retry_after_seconds });
        }
        let opens =
            key.and_then(AuthKey::parse).is_some_and(|key| self.settings.tags.verify(&record.view, &key, &record.tag));
        if opens {
            Ok(record)
        } else {
            self.wrong_keys.record(view, now);
            Err(BackupError::NotFound)
        }
    }

    fn next_number(record: &BackupRecord) -> u32 {
        record.versions.iter().map(|v| v.number).max().unwrap_or(0) + 1
    }

    /// Stores a version's JSON and records it (with retention); answers its number and size.
    async fn add_version(
        &self,
        record: &BackupRecord,
        backup: &Backup,
        kind: VersionKind,
        image_bytes: u64,
    ) -> Result<Version, BackupError> {
        let json = serde_json::to_vec(backup).map_err(|e| BackupError::Internal(e.to_string()))?;
        if json.len() as u64 + image_bytes > MAX_BACKUP_BYTES {
            return Err(BackupError::TooLarge);
        }
        let version =
            Version { number: Self::next_number(record), kind, bytes: json.len() as u64, at: self.ports.clock.now() };
        let key = version_key(record.guild, &record.view, version.number)
            .ok_or_else(|| BackupError::Internal("a version key could not be made".into()))?;
        self.ports.objects.put(&key, Bytes::from(json), "application/json").await?;
        let mut versions = record.versions.clone();
        versions.push(version.clone());
        let drop = beyond_retention(&versions, self.settings.keep_versions.max(1));
        let (index, outbox, view, kept) =
            (Arc::clone(&self.ports.index), self.ports.outbox.clone(), record.view.clone(), version.clone());
        let (guild, dropped) = (record.guild, drop.clone());
        let updated = !record.versions.is_empty();
        let added = run_write(&*self.ports.writer, move || {
            let added = index.add_version(&view, &kept, &dropped)?;
            if added && kept.kind == VersionKind::Backup {
                outbox.record(guild, "backup.created", kept.at, || {
                    serde_json::json!({
                        "serverId": guild.to_string(),
                        "version": kept.number,
                        "bytes": kept.bytes,
                        "imageBytes": image_bytes,
                        "updated": updated,
                        "createdAt": kept.at.to_iso8601(),
                    })
                })?;
            }
            Ok(added)
        })
        .await?;
        if !added {
            // Deleted meanwhile, or a concurrent update took the number: this version is not kept.
            self.ports.objects.delete(&key).await.ok();
            return Err(BackupError::NotFound);
        }
        for number in drop {
            if let Some(old) = version_key(record.guild, &record.view, number) {
                self.ports.objects.delete(&old).await.ok();
            }
        }
        Ok(version)
    }

    /// `POST /api/Backup`: captures the guild into a new backup, or a new version of its backup when
    /// `key` opens it.
    pub async fn create(&self, request: &CreateRequest) -> Result<Created, BackupError> {
        self.check_premium(request.guild)?;
        let existing = self.ports.index.by_guild(request.guild)?;
        let (record, key, updated) = match (existing, request.key.as_deref()) {
            (Some(record), Some(key)) => {
                let record = self.open_with(record, Some(key))?;
                let key = AuthKey::parse(key).ok_or(BackupError::NotFound)?;
                (record, key, true)
            }
            (Some(_), None) => return Err(Error::BackupExists { guild: request.guild }.into()),
            (None, _) => {
                let view = ViewId::draw(self.ports.entropy.as_ref())?;
                let mut secret = [0u8; 32];
                self.ports.entropy.fill(&mut secret)?;
                let key = AuthKey::from_entropy(secret);
                let record = BackupRecord {
                    view: view.clone(),
                    guild: request.guild,
                    tag: self.settings.tags.tag(&view, &key),
                    filename: request.filename.clone(),
                    created_at: self.ports.clock.now(),
                    versions: Vec::new(),
                };
                (record, key, false)
            }
        };
        let _permit = Permit::take(&self.captures, MAX_CAPTURES).ok_or(BackupError::Busy)?;
        let bot = self.ports.bots.bot(&request.token).await?;
        let home = FileHome { guild: record.guild, view: &record.view };
        let options = CaptureOptions { members: request.members, home: Some(home), max_image_bytes: MAX_BACKUP_BYTES };
        let captured =
            match capture(bot.as_ref(), self.ports.objects.as_ref(), request.guild, self.ports.clock.now(), options)
                .await
            {
                Ok(captured) => captured,
                Err(e) => {
                    if !updated {
                        self.forget_files(&record).await;
                    }
                    return Err(e);
                }
            };
        if !updated {
            // The store's rule: two concurrent first backups of one guild, one wins.
            if let Err(e) = self.ports.index.create(&record) {
                self.forget_files(&record).await;
                return Err(e.into());
            }
        }
        let version = match self.add_version(&record, &captured.backup, VersionKind::Backup, captured.image_bytes).await
        {
            Ok(version) => version,
            Err(e) => {
                if !updated {
                    self.ports.index.delete(&record.view).ok();
                    self.forget_files(&record).await;
                }
                return Err(e);
            }
        };
        Ok(Created {
            updated,
            view: record.view,
            key,
            version: version.number,
            bytes: version.bytes,
            image_bytes: captured.image_bytes,
            warnings: captured.backup.warnings,
        })
    }

    /// Deletes every object of a backup (its versions and images).
    async fn forget_files(&self, record: &BackupRecord) {
        let Ok(prefix) = ObjectPrefix::parse(&format!("backups/{}/{}/", record.guild, record.view)) else { return };
        let mut after = None;
        loop {
            let Ok(page) = self.ports.objects.list(&prefix, after.as_ref(), 1000).await else { return };
            for object in &page.objects {
                self.ports.objects.delete(&object.key).await.ok();
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return,
            }
        }
    }

    /// The backup, for `GET /api/Backup/versions/{viewId}`.
    pub fn versions(&self, view: &str, key: Option<&str>) -> Result<BackupRecord, BackupError> {
        let record = self.unlock(view, key)?;
        self.check_premium(record.guild)?;
        Ok(record)
    }

    /// A version's JSON (the newest backup by default), for `GET /api/Backup/view/{viewId}`.
    pub async fn open(
        &self,
        view: &str,
        key: Option<&str>,
        version: Option<u32>,
    ) -> Result<(BackupRecord, Version, ObjectBody), BackupError> {
        let record = self.unlock(view, key)?;
        self.check_premium(record.guild)?;
        let chosen = Self::pick(&record, version)?.clone();
        let object = version_key(record.guild, &record.view, chosen.number)
            .ok_or_else(|| BackupError::Internal("a version key could not be made".into()))?;
        let body = self.ports.objects.get(&object).await?;
        Ok((record, chosen, body))
    }

    fn pick(record: &BackupRecord, version: Option<u32>) -> Result<&Version, BackupError> {
        match version {
            Some(number) => record
                .versions
                .iter()
                .find(|v| v.number == number)
                .ok_or(BackupError::UnknownVersion { version: number }),
            None => current_version(&record.versions).ok_or(BackupError::NotFound),
        }
    }

    /// `DELETE /api/Backup/{viewId}`: every version and image goes.
    pub async fn delete(&self, view: &str, key: Option<&str>) -> Result<(), BackupError> {
        let record = self.unlock(view, key)?;
        self.check_premium(record.guild)?;
        // The record first: once it is gone nobody can open the backup, even if removing objects fails.
        self.ports.index.delete(&record.view)?;
        self.forget_files(&record).await;
        Ok(())
    }

    /// A restore job's progress.
    pub fn job(&self, id: &str) -> Result<Job, BackupError> {
        let id = ViewId::parse_exact(id).ok_or(BackupError::UnknownJob)?;
        self.ports.jobs.get(&id)?.ok_or(BackupError::UnknownJob)
    }

    async fn load(&self, record: &BackupRecord, version: &Version) -> Result<Backup, BackupError> {
        load(self.ports.objects.as_ref(), record, version).await
    }

    /// `POST /api/Backup/restore/{viewId}`: a dry run's plan, or a started restore.
    pub async fn restore(&self, request: &RestoreRequest) -> Result<RestoreOutcome, BackupError> {
        if !request.force && !request.dry_run {
            return Err(BackupError::ForceRequired);
        }
        let record = self.unlock(&request.view, request.key.as_deref())?;
        let target = request.target.unwrap_or(record.guild);
        self.check_premium(target)?;
        let version = Self::pick(&record, request.version)?.clone();
        let permit = if request.dry_run {
            None
        } else {
            if let Some(job) = self.ports.jobs.running_into(target)? {
                return Err(BackupError::RestoreRunning { job: job.as_str().to_owned() });
            }
            Some(RunPermit::take(&self.restores).ok_or(BackupError::Busy)?)
        };
        let _capturing = Permit::take(&self.captures, MAX_CAPTURES).ok_or(BackupError::Busy)?;
        let bot = self.ports.bots.bot(&request.token).await?;
        let standing = bot.standing(target).await?;
        if !standing.administrator {
            return Err(BackupError::NotAdministrator);
        }
        let backup = self.load(&record, &version).await?;
        let home = FileHome { guild: record.guild, view: &record.view };
        // Members' roles are read only when the backup has some to give back.
        let options = CaptureOptions {
            members: backup.members.is_some(),
            home: (!request.dry_run).then_some(home),
            max_image_bytes: MAX_BACKUP_BYTES,
        };
        let Captured { backup: current, image_bytes } =
            capture(bot.as_ref(), self.ports.objects.as_ref(), target, self.ports.clock.now(), options).await?;
        // What the target guild cannot hold (its features, its boost level) is left out or adapted.
        let fit::Fitted { backup, left_out } = fit::fit(&backup, &current.guild);
        let mut plan = plan::plan(&backup, &keeping(&current, &standing.roles), request.mode);
        plan.skipped.extend(left_out);
        let Some(permit) = permit else {
            return Ok(RestoreOutcome::DryRun(DryRun { target, version: version.number, plan }));
        };

        let now = self.ports.clock.now();
        let cooldown_key = target.get().to_be_bytes();
        if let Turn::Wait { ms } =
            self.ports.cooldowns.try_take("backup-restore", &cooldown_key, RESTORE_COOLDOWN_MS, now).await?
        {
            let retry_after_seconds = u64::try_from(ms).unwrap_or(0).div_ceil(1000);
            return Err(BackupError::Cooldown { retry_after_seconds });
        }
        let release = || async { self.ports.cooldowns.release("backup-restore", &cooldown_key, now).await.ok() };
        // The guild as it is, kept before anything changes, so the restore can be undone.
        let snapshot = if plan.is_empty() {
            None
        } else {
            match self.add_version(&record, &current, VersionKind::Snapshot, image_bytes).await {
                Ok(version) => Some(version.number),
                Err(e) => {
                    release().await;
                    return Err(e);
                }
            }
        };
        let job = Job {
            id: ViewId::draw(self.ports.entropy.as_ref())?,
            view: record.view.clone(),
            origin: record.guild,
            target,
            version: version.number,
            mode: request.mode,
            status: JobStatus::Running,
            step: None,
            done: 0,
            total: plan.ops.len(),
            failed: 0,
            tally: plan.skipped.iter().cloned().fold(Tally::default(), |mut tally, line| {
                tally.note(line);
                tally
            }),
            started_at: now,
            finished_at: None,
            snapshot,
            resumed: 0,
        };
        if let Err(e) = self.ports.jobs.start(&job, &request.token, &self.lease()) {
            release().await;
            return Err(e.into());
        }
        // Old finished jobs go as new ones come.
        self.ports.jobs.prune(Timestamp(now.millis() - KEEP_FINISHED_JOBS_MS)).ok();
        let id = job.id.clone();
        let remap = plan.remap();
        let run = run(self.runner_of(), Prepared { bot, backup, plan, remap, job }, permit);
        Ok(RestoreOutcome::Started(Started { job: id, run: Box::pin(run) }))
    }

    fn runner_of(&self) -> Runner {
        Runner { ports: self.ports.clone(), holder: self.runner.clone(), lease_ms: self.settings.job_lease_ms }
    }

    /// Takes up the restore jobs whose runner died (as many as this process has room for): each is
    /// planned again from its guild as it is now, with what it already created, and carried on. The
    /// caller runs each on its runtime; call it at start and then about twice a lease.
    pub fn resume(&self) -> Result<Vec<Started>, BackupError> {
        let mut started = Vec::new();
        let room = MAX_RESTORES.saturating_sub(self.restores.load(Ordering::Acquire));
        if room == 0 {
            return Ok(started);
        }
        let claimed = self.ports.jobs.claim(self.ports.clock.now(), &self.lease(), room)?;
        for claimed in claimed {
            let id = claimed.job.id.clone();
            // Room was counted above; a restore started meanwhile may take it, then the job waits for
            // its lease to run out again.
            let Some(permit) = RunPermit::take(&self.restores) else { break };
            let runner = self.runner_of();
            started.push(Started { job: id, run: Box::pin(resumed(runner, claimed, permit)) });
        }
        Ok(started)
    }
}

/// Reads a version's JSON back.
async fn load(objects: &dyn ObjectStore, record: &BackupRecord, version: &Version) -> Result<Backup, BackupError> {
    let key = version_key(record.guild, &record.view, version.number)
        .ok_or_else(|| BackupError::Internal("a version key could not be made".into()))?;
    let body = objects.get(&key).await?;
    let mut json = Vec::with_capacity(usize::try_from(body.meta.size.min(MAX_BACKUP_BYTES)).unwrap_or(0));
    let mut stream = body.bytes;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if (json.len() + chunk.len()) as u64 > MAX_BACKUP_BYTES {
            return Err(BackupError::TooLarge);
        }
        json.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&json)
        .map_err(|e| BackupError::Internal(format!("version {} of the backup does not read: {e}", version.number)))
}

/// The target guild as the planner sees it: the roles the restoring bot holds count as an
/// integration's (never deleted or recreated), since losing one could lock the bot out half-way.
fn keeping(current: &Backup, bot_roles: &[garrison_backup::format::Id]) -> Backup {
    let mut current = current.clone();
    for role in &mut current.roles {
        if bot_roles.contains(&role.id) {
            role.managed = true;
        }
    }
    current
}

/// What a run of restore jobs works with (owned, so a run outlives the request that started it).
struct Runner {
    ports: BackupPorts,
    holder: ViewId,
    lease_ms: u64,
}

/// A job ready to run: its bot, backup, plan and the remap it starts from.
struct Prepared {
    bot: Arc<dyn BackupBot>,
    backup: Backup,
    plan: Plan,
    remap: plan::Remap,
    job: Job,
}

/// Carries out a prepared job and records it finished (unless another runner took it over).
async fn run(runner: Runner, prepared: Prepared, _permit: RunPermit) {
    let Prepared { bot, backup, plan, remap, mut job } = prepared;
    let ports = &runner.ports;
    let view = job.view.clone();
    let executor = Executor {
        bot: bot.as_ref(),
        objects: ports.objects.as_ref(),
        sleeper: ports.sleeper.as_ref(),
        clock: ports.clock.as_ref(),
        store: ports.jobs.as_ref(),
        holder: &runner.holder,
        lease_ms: runner.lease_ms,
        home: FileHome { guild: job.origin, view: &view },
        target: job.target,
        backup: &backup,
    };
    if executor.run(&plan, &mut job, remap).await == Ran::Done {
        finish(&runner, job).await;
    }
}

/// Records the job finished, with its `backup.restored` event for the guild restored into; the store
/// forgets its token.
async fn finish(runner: &Runner, mut job: Job) {
    let at = runner.ports.clock.now();
    job.status = JobStatus::Finished;
    job.finished_at = Some(at);
    let (jobs, outbox, holder) = (Arc::clone(&runner.ports.jobs), runner.ports.outbox.clone(), runner.holder.clone());
    // A store that cannot be reached now leaves the job running: it is taken up again, planned from the
    // guild as it is (then nothing is left to do), and finished then.
    run_write(&*runner.ports.writer, move || {
        if jobs.finish(&job, &holder)? {
            outbox.record(job.target, "backup.restored", at, || {
                serde_json::json!({
                    "serverId": job.target.to_string(),
                    "fromServerId": job.origin.to_string(),
                    "version": job.version,
                    "mode": job.mode.as_str(),
                    "done": job.done,
                    "total": job.total,
                    "failed": job.failed,
                    "snapshotVersion": job.snapshot,
                    "startedAt": job.started_at.to_iso8601(),
                    "finishedAt": at.to_iso8601(),
                })
            })?;
        }
        Ok(())
    })
    .await
    .ok();
}

/// Takes up a job whose runner died: plans the rest from the guild as it is, with what it created.
async fn resumed(runner: Runner, claimed: Claimed, permit: RunPermit) {
    let Claimed { mut job, token, placed } = claimed;
    job.resumed += 1;
    match prepare_resumed(&runner.ports, &job, &token, &placed).await {
        Ok((bot, backup, plan)) => {
            job.total = job.done + plan.ops.len();
            let remap = plan.remap();
            run(runner, Prepared { bot, backup, plan, remap, job }, permit).await;
        }
        Err(why) => {
            job.tally.halt(format!("the restore could not be taken up again after a restart: {why}"));
            finish(&runner, job).await;
        }
    }
}

async fn prepare_resumed(
    ports: &BackupPorts,
    job: &Job,
    token: &BotToken,
    placed: &[(garrison_backup::format::Id, garrison_backup::format::Id)],
) -> Result<(Arc<dyn BackupBot>, Backup, Plan), BackupError> {
    let record = ports.index.by_view(&job.view)?.ok_or(BackupError::NotFound)?;
    let version = record
        .versions
        .iter()
        .find(|v| v.number == job.version)
        .ok_or(BackupError::UnknownVersion { version: job.version })?;
    let backup = load(ports.objects.as_ref(), &record, version).await?;
    let bot = ports.bots.bot(token).await?;
    let standing = bot.standing(job.target).await?;
    if !standing.administrator {
        return Err(BackupError::NotAdministrator);
    }
    let options = CaptureOptions { members: backup.members.is_some(), home: None, max_image_bytes: MAX_BACKUP_BYTES };
    let Captured { backup: current, .. } =
        capture(bot.as_ref(), ports.objects.as_ref(), job.target, ports.clock.now(), options).await?;
    let placed: HashMap<_, _> = placed.iter().copied().collect();
    // Fitted as when the job started (the job's report already says what was left out).
    let backup = fit::fit(&backup, &current.guild).backup;
    let plan = plan::plan_resumed(&backup, &keeping(&current, &standing.roles), job.mode, &placed);
    Ok((bot, backup, plan))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_keys_throttle_a_view_for_the_rest_of_its_window() {
        let keys = WrongKeys::default();
        let at = |ms| Timestamp(1_000_000 + ms);
        for i in 0..WRONG_KEYS_PER_WINDOW {
            assert_eq!(keys.throttled("view", at(i64::from(i))), None, "wrong key {i} is only a 404");
            keys.record("view", at(i64::from(i)));
        }
        assert_eq!(keys.throttled("view", at(10)), Some(60), "the rest of the minute, rounded up");
        assert_eq!(keys.throttled("other", at(10)), None, "per view id");
        assert_eq!(keys.throttled("view", at(WRONG_KEY_WINDOW_MS)), None, "a new window");
        keys.record("view", at(WRONG_KEY_WINDOW_MS));
        assert_eq!(keys.throttled("view", at(WRONG_KEY_WINDOW_MS + 1)), None, "counted afresh");
    }

    #[test]
    fn the_wrong_key_counter_stays_bounded() {
        let keys = WrongKeys::default();
        for i in 0..WRONG_KEYS_REMEMBERED + 10 {
            keys.record(&format!("view {i}"), Timestamp(i64::try_from(i).unwrap_or(0)));
        }
        assert!(keys.0.lock().unwrap_or_else(PoisonError::into_inner).len() <= WRONG_KEYS_REMEMBERED);
    }

    #[test]
    fn permits_are_bounded_and_given_back() {
        let counter = AtomicUsize::new(0);
        let first = Permit::take(&counter, 2);
        let second = Permit::take(&counter, 2);
        assert!(first.is_some() && second.is_some());
        assert!(Permit::take(&counter, 2).is_none(), "a third waits");
        drop(first);
        assert!(Permit::take(&counter, 2).is_some(), "given back when dropped");
    }
}
