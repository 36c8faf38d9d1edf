//! Carrying out a restore plan: each operation resolved through the [`Remap`] into a [`Write`] just
//! before it is sent (images read back from object storage), Discord's rate limits waited out rather
//! than reported, each failure reported and the rest carried on, progress kept in the job's record.

use std::collections::HashMap;

use futures_util::StreamExt;
use garrison_backup::format::{Backup, Id};
use garrison_backup::plan::{Op, Plan, Ref, Remap};
use serde::{Deserialize, Serialize};

use super::capture::FileHome;
use super::file_key;
use super::jobs::{Did, Job, Lease, RestoreJobStore};
use super::port::{BackupBot, Image, MAX_IMAGE_BYTES, Write};
use crate::ServerId;
use crate::discord::DiscordError;
use crate::objects::ObjectStore;
use crate::time::{Clock, Sleeper};
use crate::view_id::ViewId;

/// The longest a restore waits out Discord's rate limits for one operation before it reports it as
/// failed (channel creation is limited to a few a second per guild; a whole guild takes minutes).
pub const MAX_RATE_LIMIT_WAIT_MS: u64 = 10 * 60 * 1000;

/// The steps of a restore, in the order they run and are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Step {
    Roles,
    Emojis,
    Stickers,
    Channels,
    AutoMod,
    Onboarding,
    Settings,
    Bans,
    Members,
}

impl Step {
    pub const ALL: [Step; 9] = [
        Step::Roles,
        Step::Emojis,
        Step::Stickers,
        Step::Channels,
        Step::AutoMod,
        Step::Onboarding,
        Step::Settings,
        Step::Bans,
        Step::Members,
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
            Step::Members => "Members",
        }
    }

    /// The step [`Step::name`] names.
    pub fn parse(name: &str) -> Option<Self> {
        Step::ALL.into_iter().find(|step| step.name() == name)
    }

    /// The step an operation belongs to, and what it does there.
    pub fn of(op: &Op) -> (Step, Did) {
        match op {
            Op::CreateRole { .. } => (Step::Roles, Did::Created),
            Op::UpdateRole { .. } => (Step::Roles, Did::Updated),
            Op::PositionRoles(_) => (Step::Roles, Did::Reordered),
            Op::DeleteRole { .. } => (Step::Roles, Did::Deleted),
            Op::CreateChannel { .. } => (Step::Channels, Did::Created),
            Op::UpdateChannel { .. } => (Step::Channels, Did::Updated),
            Op::PositionChannels(_) => (Step::Channels, Did::Reordered),
            Op::DeleteChannel { .. } => (Step::Channels, Did::Deleted),
            Op::CreateAutoMod { .. } => (Step::AutoMod, Did::Created),
            Op::UpdateAutoMod { .. } => (Step::AutoMod, Did::Updated),
            Op::DeleteAutoMod { .. } => (Step::AutoMod, Did::Deleted),
            Op::PutOnboarding { .. } => (Step::Onboarding, Did::Updated),
            Op::UpdateSettings { .. } => (Step::Settings, Did::Updated),
            Op::CreateEmoji { .. } => (Step::Emojis, Did::Created),
            Op::UpdateEmoji { .. } => (Step::Emojis, Did::Updated),
            Op::DeleteEmoji { .. } => (Step::Emojis, Did::Deleted),
            Op::CreateSticker { .. } => (Step::Stickers, Did::Created),
            Op::UpdateSticker { .. } => (Step::Stickers, Did::Updated),
            Op::DeleteSticker { .. } => (Step::Stickers, Did::Deleted),
            Op::Ban { .. } => (Step::Bans, Did::Created),
            Op::SetMemberRoles { .. } => (Step::Members, Did::Updated),
        }
    }
}

/// Everything one restore works with.
pub(crate) struct Executor<'a> {
    pub bot: &'a dyn BackupBot,
    pub objects: &'a dyn ObjectStore,
    pub sleeper: &'a dyn Sleeper,
    pub clock: &'a dyn Clock,
    pub store: &'a dyn RestoreJobStore,
    /// This runner, and how long each renewal of its lease lasts.
    pub holder: &'a ViewId,
    pub lease_ms: u64,
    /// Where the backup's images are.
    pub home: FileHome<'a>,
    pub target: ServerId,
    pub backup: &'a Backup,
}

/// Why an operation did not go through.
enum Stop {
    /// It failed; the report says why, and the restore goes on.
    Failed(String),
    /// Another runner holds the job now (this one was taken for dead): this one stops at once.
    LeaseLost,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ran {
    /// Every operation was carried out or reported.
    Done,
    /// Another runner took the job over.
    LeaseLost,
}

impl Executor<'_> {
    async fn image(&self, hash: &str) -> Result<Image, Stop> {
        let key = file_key(self.home.guild, self.home.view, hash)
            .ok_or_else(|| Stop::Failed(format!("the backup names an image by a malformed hash {hash:?}")))?;
        let body =
            self.objects.get(&key).await.map_err(|e| Stop::Failed(format!("its image could not be read: {e}")))?;
        let mut bytes = Vec::with_capacity(usize::try_from(body.meta.size.min(MAX_IMAGE_BYTES)).unwrap_or(0));
        let mut stream = body.bytes;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Stop::Failed(format!("its image could not be read: {e}")))?;
            if (bytes.len() + chunk.len()) as u64 > MAX_IMAGE_BYTES {
                return Err(Stop::Failed("its image is larger than an image may be".into()));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Image(bytes))
    }

    async fn optional_image(&self, hash: Option<&str>) -> Result<Option<Image>, Stop> {
        match hash {
            Some(hash) => self.image(hash).await.map(Some),
            None => Ok(None),
        }
    }

    /// The write an operation makes now, its references resolved.
    async fn write_of(&self, op: &Op, remap: &Remap) -> Result<Write, Stop> {
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
            Op::SetMemberRoles { user, roles, keep } => {
                let mut placed: Vec<Id> =
                    roles.iter().filter_map(|r| remap.get(*r)).chain(keep.iter().copied()).collect();
                placed.sort();
                placed.dedup();
                Write::SetMemberRoles { user: *user, roles: placed }
            }
        })
    }

    /// The lease this runner renews to.
    fn lease(&self) -> Lease {
        Lease::from(self.holder, self.clock.now(), self.lease_ms)
    }

    /// Saves the job's progress (and the objects placed since the last save), renewing the lease.
    /// When the store cannot be reached the restore goes on: `unsaved` keeps what was placed, for the
    /// next save.
    fn save(&self, job: &Job, unsaved: &mut Vec<(Id, Id)>) -> Result<(), Stop> {
        match self.store.save(job, unsaved, &self.lease()) {
            Ok(true) => {
                unsaved.clear();
                Ok(())
            }
            Ok(false) => Err(Stop::LeaseLost),
            Err(_) => Ok(()),
        }
    }

    /// Sends one write, waiting out rate limits (up to [`MAX_RATE_LIMIT_WAIT_MS`] in all) in pieces of
    /// at most a third of the lease, renewing it between them.
    async fn send(&self, write: Write, job: &Job, unsaved: &mut Vec<(Id, Id)>) -> Result<Option<Id>, Stop> {
        let mut waited = 0u64;
        loop {
            match self.bot.write(self.target, write.clone()).await {
                Err(DiscordError::RateLimited { retry_after_ms }) if waited < MAX_RATE_LIMIT_WAIT_MS => {
                    let mut pause = retry_after_ms.clamp(50, MAX_RATE_LIMIT_WAIT_MS - waited);
                    waited += pause;
                    let piece = (self.lease_ms / 3).max(50);
                    while pause > 0 {
                        let now = pause.min(piece);
                        self.sleeper.sleep(now).await;
                        pause -= now;
                        self.save(job, unsaved)?;
                    }
                }
                Err(e) => return Err(Stop::Failed(e.to_string())),
                Ok(id) => return Ok(id),
            }
        }
    }

    /// Carries out `plan` from `remap` (the plan's own, or a resumed job's), recording every step in
    /// `job` and saving it after each.
    pub async fn run(&self, plan: &Plan, job: &mut Job, mut remap: Remap) -> Ran {
        let mut unsaved: Vec<(Id, Id)> = Vec::new();
        for op in &plan.ops {
            let (step, did) = Step::of(op);
            job.step = Some(step);
            let outcome = match self.write_of(op, &remap).await {
                Ok(write) => self.send(write, job, &mut unsaved).await,
                Err(stop) => Err(stop),
            };
            match outcome {
                Ok(new_id) => {
                    if let (Some(new_id), Some(backup_id)) = (new_id, op.creates()) {
                        remap.insert(backup_id, new_id);
                        unsaved.push((backup_id, new_id));
                    }
                    job.tally.record(step, did);
                }
                Err(Stop::Failed(why)) => {
                    job.tally.fail(step, format!("Failed: {}: {why}", op.describe()));
                    job.failed += 1;
                }
                Err(Stop::LeaseLost) => return Ran::LeaseLost,
            }
            job.done += 1;
            if let Err(Stop::LeaseLost) = self.save(job, &mut unsaved) {
                return Ran::LeaseLost;
            }
        }
        Ran::Done
    }
}
