//! Carrying out a restore plan: each operation resolved through the [`Remap`] into a [`Write`] just
//! before it is sent (images read back from object storage), Discord's rate limits waited out rather
//! than reported, each failure reported and the rest carried on, progress kept in the job's record.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::StreamExt;
use garrison_backup::format::{Backup, Id};
use garrison_backup::plan::{Op, Plan, Ref, Remap};

use super::capture::FileHome;
use super::file_key;
use super::port::{BackupBot, Image, MAX_IMAGE_BYTES, Write};
use crate::discord::DiscordError;
use crate::objects::ObjectStore;
use crate::time::Sleeper;
use crate::view_id::ViewId;
use crate::{ServerId, Timestamp};

/// The longest a restore waits out Discord's rate limits for one operation before it reports it as
/// failed (channel creation is limited to a few a second per guild; a whole guild takes minutes).
pub const MAX_RATE_LIMIT_WAIT_MS: u64 = 10 * 60 * 1000;

/// The steps of a restore, in the order they run and are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Roles,
    Emojis,
    Stickers,
    Channels,
    AutoMod,
    Onboarding,
    Settings,
    Bans,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Roles,
        Step::Emojis,
        Step::Stickers,
        Step::Channels,
        Step::AutoMod,
        Step::Onboarding,
        Step::Settings,
        Step::Bans,
    ];

    /// How the report names it ("Roles restored").
    pub const fn name(self) -> &'static str {
        match self {
            Step::Roles => "Roles",
            Step::Emojis => "Emojis",
            Step::Stickers => "Stickers",
            Step::Channels => "Channels",
            Step::AutoMod => "AutoMod",
            Step::Onboarding => "Onboarding",
            Step::Settings => "Settings",
            Step::Bans => "Bans",
        }
    }

    /// The step an operation belongs to, and whether it creates (0), updates (1) or deletes (2).
    pub fn of(op: &Op) -> (Step, usize) {
        match op {
            Op::CreateRole { .. } => (Step::Roles, 0),
            Op::UpdateRole { .. } | Op::PositionRoles(_) => (Step::Roles, 1),
            Op::DeleteRole { .. } => (Step::Roles, 2),
            Op::CreateChannel { .. } => (Step::Channels, 0),
            Op::UpdateChannel { .. } | Op::PositionChannels(_) => (Step::Channels, 1),
            Op::DeleteChannel { .. } => (Step::Channels, 2),
            Op::CreateAutoMod { .. } => (Step::AutoMod, 0),
            Op::UpdateAutoMod { .. } => (Step::AutoMod, 1),
            Op::DeleteAutoMod { .. } => (Step::AutoMod, 2),
            Op::PutOnboarding { .. } => (Step::Onboarding, 1),
            Op::UpdateSettings { .. } => (Step::Settings, 1),
            Op::CreateEmoji { .. } => (Step::Emojis, 0),
            Op::UpdateEmoji { .. } => (Step::Emojis, 1),
            Op::DeleteEmoji { .. } => (Step::Emojis, 2),
            Op::CreateSticker { .. } => (Step::Stickers, 0),
            Op::UpdateSticker { .. } => (Step::Stickers, 1),
            Op::DeleteSticker { .. } => (Step::Stickers, 2),
            Op::Ban { .. } => (Step::Bans, 0),
        }
    }
}

/// A restore job's id: a view id (32 hex), unguessable, handed to the caller.
pub type JobId = ViewId;

/// Where a restore job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Running,
    Finished,
}

impl JobStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Finished => "finished",
        }
    }
}

/// What a caller sees of a restore job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobView {
    pub id: JobId,
    /// The backup restored.
    pub view: ViewId,
    pub target: ServerId,
    pub status: JobStatus,
    /// The step running (or the last one).
    pub step: Option<Step>,
    /// Operations carried out (or failed) so far, of `total`.
    pub done: usize,
    pub total: usize,
    /// The report so far: one line per finished step, and each failure.
    pub report: Vec<String>,
    /// How many operations failed.
    pub failed: usize,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// The snapshot version taken before the restore changed anything.
    pub snapshot: Option<u32>,
}

/// The most finished jobs remembered (the oldest finished go first).
const KEEP_FINISHED: usize = 1000;

/// Restore jobs of this process.
#[derive(Debug, Default, Clone)]
pub struct RestoreJobs {
    jobs: Arc<Mutex<HashMap<String, JobView>>>,
}

impl RestoreJobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, JobView>> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(&self, id: &JobId) -> Option<JobView> {
        self.lock().get(id.as_str()).cloned()
    }

    /// The running job restoring into `target`, if any.
    pub fn running_into(&self, target: ServerId) -> Option<JobId> {
        self.lock().values().find(|j| j.target == target && j.status == JobStatus::Running).map(|j| j.id.clone())
    }

    pub fn running(&self) -> usize {
        self.lock().values().filter(|j| j.status == JobStatus::Running).count()
    }

    pub(crate) fn insert(&self, job: JobView) {
        let mut jobs = self.lock();
        if jobs.len() >= KEEP_FINISHED {
            let mut finished: Vec<(Timestamp, String)> =
                jobs.values().filter_map(|j| Some((j.finished_at?, j.id.as_str().to_owned()))).collect();
            finished.sort();
            for (_, id) in finished.iter().take(jobs.len() + 1 - KEEP_FINISHED) {
                jobs.remove(id);
            }
        }
        jobs.insert(job.id.as_str().to_owned(), job);
    }

    pub(crate) fn update(&self, id: &JobId, change: impl FnOnce(&mut JobView)) {
        if let Some(job) = self.lock().get_mut(id.as_str()) {
            change(job);
        }
    }
}

/// Everything one restore works with.
pub(crate) struct Executor<'a> {
    pub bot: &'a dyn BackupBot,
    pub objects: &'a dyn ObjectStore,
    pub sleeper: &'a dyn Sleeper,
    /// Where the backup's images are.
    pub home: FileHome<'a>,
    pub target: ServerId,
    pub backup: &'a Backup,
}

/// A failure of one operation, for the report.
struct Failed(String);

impl Executor<'_> {
    async fn image(&self, hash: &str) -> Result<Image, Failed> {
        let key = file_key(self.home.guild, self.home.view, hash)
            .ok_or_else(|| Failed(format!("the backup names an image by a malformed hash {hash:?}")))?;
        let body = self.objects.get(&key).await.map_err(|e| Failed(format!("its image could not be read: {e}")))?;
        let mut bytes = Vec::with_capacity(usize::try_from(body.meta.size.min(MAX_IMAGE_BYTES)).unwrap_or(0));
        let mut stream = body.bytes;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Failed(format!("its image could not be read: {e}")))?;
            if (bytes.len() + chunk.len()) as u64 > MAX_IMAGE_BYTES {
                return Err(Failed("its image is larger than an image may be".into()));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Image(bytes))
    }

    async fn optional_image(&self, hash: Option<&str>) -> Result<Option<Image>, Failed> {
        match hash {
            Some(hash) => self.image(hash).await.map(Some),
            None => Ok(None),
        }
    }

    /// The write an operation makes now, its references resolved.
    async fn write_of(&self, op: &Op, remap: &Remap) -> Result<Write, Failed> {
        Ok(match op {
            Op::CreateRole { role } => {
                Write::CreateRole { role: role.clone(), icon: self.optional_image(role.icon.as_deref()).await? }
            }
            Op::UpdateRole { target, role } => Write::UpdateRole {
                target: *target,
                role: role.clone(),
                icon: self.optional_image(role.icon.as_deref()).await?,
            },
            Op::DeleteRole { target, .. } => Write::DeleteRole { target: *target },
            Op::CreateChannel { channel } => Write::CreateChannel { channel: remap.channel(channel) },
            Op::UpdateChannel { target, channel } => {
                Write::UpdateChannel { target: *target, channel: remap.channel(channel) }
            }
            Op::DeleteChannel { target, .. } => Write::DeleteChannel { target: *target },
            Op::PositionRoles(positions) => Write::PositionRoles(
                positions.iter().filter_map(|(placed, position)| Some((remap.place(*placed)?, *position))).collect(),
            ),
            Op::PositionChannels(positions) => {
                let parents: HashMap<Id, Option<Id>> = self.backup.channels.iter().map(|c| (c.id, c.parent)).collect();
                let backup_of: HashMap<Id, Id> = remap.ids.iter().map(|(b, t)| (*t, *b)).collect();
                Write::PositionChannels(
                    positions
                        .iter()
                        .filter_map(|(placed, position)| {
                            let backup_id = match placed {
                                Ref::Created(id) => *id,
                                Ref::Existing(id) => backup_of.get(id).copied().unwrap_or(*id),
                            };
                            let parent = parents.get(&backup_id).copied().flatten().and_then(|p| remap.get(p));
                            Some((remap.place(*placed)?, parent, *position))
                        })
                        .collect(),
                )
            }
            Op::CreateAutoMod { rule } => Write::CreateAutoMod { rule: remap.auto_mod(rule) },
            Op::UpdateAutoMod { target, rule } => Write::UpdateAutoMod { target: *target, rule: remap.auto_mod(rule) },
            Op::DeleteAutoMod { target, .. } => Write::DeleteAutoMod { target: *target },
            Op::PutOnboarding { onboarding } => Write::PutOnboarding { onboarding: remap.onboarding(onboarding) },
            Op::UpdateSettings { settings } => Write::UpdateSettings {
                settings: remap.settings(settings),
                icon: self.optional_image(settings.icon.as_deref()).await?,
            },
            Op::CreateEmoji { emoji } => {
                Write::CreateEmoji { emoji: remap.emoji(emoji), image: self.image(&emoji.image).await? }
            }
            Op::UpdateEmoji { target, emoji } => Write::UpdateEmoji { target: *target, emoji: remap.emoji(emoji) },
            Op::DeleteEmoji { target, .. } => Write::DeleteEmoji { target: *target },
            Op::CreateSticker { sticker } => {
                Write::CreateSticker { sticker: sticker.clone(), file: self.image(&sticker.file).await? }
            }
            Op::UpdateSticker { target, sticker } => Write::UpdateSticker { target: *target, sticker: sticker.clone() },
            Op::DeleteSticker { target, .. } => Write::DeleteSticker { target: *target },
            Op::Ban { bans } => Write::Ban { bans: bans.clone() },
        })
    }

    /// Sends one write, waiting out rate limits (up to [`MAX_RATE_LIMIT_WAIT_MS`] in all).
    async fn send(&self, write: Write) -> Result<Option<Id>, DiscordError> {
        let mut waited = 0u64;
        loop {
            match self.bot.write(self.target, write.clone()).await {
                Err(DiscordError::RateLimited { retry_after_ms }) if waited < MAX_RATE_LIMIT_WAIT_MS => {
                    let pause = retry_after_ms.clamp(50, MAX_RATE_LIMIT_WAIT_MS - waited);
                    waited += pause;
                    self.sleeper.sleep(pause).await;
                }
                other => return other,
            }
        }
    }

    /// Carries out `plan`, reporting progress into `jobs` under `job`.
    pub async fn run(&self, plan: &Plan, jobs: &RestoreJobs, job: &JobId) {
        let mut remap = plan.remap();
        // Per step: created, updated, deleted, and whether it reordered; then its failures.
        let mut counts: HashMap<Step, ([usize; 3], bool)> = HashMap::new();
        let mut failures: HashMap<Step, Vec<String>> = HashMap::new();
        for op in &plan.ops {
            let (step, kind) = Step::of(op);
            jobs.update(job, |j| j.step = Some(step));
            let outcome = match self.write_of(op, &remap).await {
                Ok(write) => self.send(write).await.map_err(|e| Failed(e.to_string())),
                Err(failed) => Err(failed),
            };
            let entry = counts.entry(step).or_default();
            match outcome {
                Ok(new_id) => {
                    if let (Some(new_id), Some(backup_id)) = (new_id, created_id(op)) {
                        remap.insert(backup_id, new_id);
                    }
                    if matches!(op, Op::PositionRoles(_) | Op::PositionChannels(_)) {
                        entry.1 = true;
                    } else {
                        entry.0[kind] += 1;
                    }
                }
                Err(Failed(why)) => {
                    failures.entry(step).or_default().push(format!("Failed: {}: {why}", op.describe()));
                    jobs.update(job, |j| j.failed += 1);
                }
            }
            jobs.update(job, |j| j.done += 1);
        }
        jobs.update(job, |j| j.report.extend(report(&counts, &mut failures)));
    }
}

/// The report's lines: one per step that did anything, in [`Step::ALL`]'s order, each followed by its
/// failures.
fn report(counts: &HashMap<Step, ([usize; 3], bool)>, failures: &mut HashMap<Step, Vec<String>>) -> Vec<String> {
    let mut lines = Vec::new();
    for step in Step::ALL {
        let Some(&([c, u, d], reordered)) = counts.get(&step) else { continue };
        let failed = failures.remove(&step).unwrap_or_default();
        let order = if reordered { ", reordered" } else { "" };
        let with = match failed.len() {
            0 => String::new(),
            1 => " with 1 failure".to_owned(),
            n => format!(" with {n} failures"),
        };
        lines.push(format!("{} restored{with} ({c} created, {u} updated, {d} deleted{order})", step.name()));
        lines.extend(failed);
    }
    if lines.is_empty() {
        lines.push("Nothing to restore: the guild already matches the backup".to_owned());
    }
    lines
}

/// The backup id of what an operation creates.
fn created_id(op: &Op) -> Option<Id> {
    match op {
        Op::CreateRole { role } => Some(role.id),
        Op::CreateChannel { channel } => Some(channel.id),
        Op::CreateAutoMod { rule } => Some(rule.id),
        Op::CreateEmoji { emoji } => Some(emoji.id),
        Op::CreateSticker { sticker } => Some(sticker.id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_names_each_step_in_order_with_its_failures() {
        let mut counts = HashMap::new();
        counts.insert(Step::Channels, ([3, 1, 1], true));
        counts.insert(Step::Roles, ([0, 2, 0], false));
        let mut failures = HashMap::from([(Step::Channels, vec!["Failed: Create channel #x: refused".to_owned()])]);
        assert_eq!(
            report(&counts, &mut failures),
            [
                "Roles restored (0 created, 2 updated, 0 deleted)",
                "Channels restored with 1 failure (3 created, 1 updated, 1 deleted, reordered)",
                "Failed: Create channel #x: refused",
            ]
        );
        assert_eq!(
            report(&HashMap::new(), &mut HashMap::new()),
            ["Nothing to restore: the guild already matches the backup"]
        );
    }
}
