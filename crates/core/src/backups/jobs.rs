//! Restore jobs, kept in the database so that a restore outlives the process that started it.
//!
//! A job is held by one runner at a time under a [`Lease`]: the runner renews it with every saved step
//! (and while it waits out Discord's rate limits), and any runner may claim a running job whose lease
//! ran out (its process died). The store keeps, beside the job's progress, the bot token that runs it
//! (sealed at rest by the adapter, forgotten when the job finishes) and the id of every object the
//! restore created, saved with the step that created it: a resumed restore plans again from the guild
//! as it is, with those objects already placed, so nothing it made is made twice.

use std::collections::BTreeMap;

use garrison_backup::format::Id;
use garrison_backup::plan::Mode;
use serde::{Deserialize, Serialize};

use super::restore::Step;
use crate::discord::BotToken;
use crate::view_id::ViewId;
use crate::{Result, ServerId, Timestamp};

/// A restore job's id: a view id (32 hex), unguessable, handed to the caller.
pub type JobId = ViewId;

/// How long finished jobs are kept for their callers to read (then pruned).
pub const KEEP_FINISHED_JOBS_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The failure lines a job keeps per step; beyond, only their number.
pub const MAX_FAILURE_LINES: usize = 100;

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

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "running" => Some(JobStatus::Running),
            "finished" => Some(JobStatus::Finished),
            _ => None,
        }
    }
}

/// What a step did so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTally {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub reordered: bool,
    /// The first [`MAX_FAILURE_LINES`] failures' lines.
    pub failures: Vec<String>,
    /// Failures beyond those.
    #[serde(default)]
    pub unlisted: usize,
}

/// What a job did so far, per step: the report is made from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// What the restore leaves out or adapts, said before the steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    steps: BTreeMap<Step, StepTally>,
    /// Why the job stopped before its plan was carried out, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    halted: Option<String>,
}

/// What an operation that went through did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Did {
    Created,
    Updated,
    Deleted,
    Reordered,
}

impl Tally {
    pub fn record(&mut self, step: Step, did: Did) {
        let tally = self.steps.entry(step).or_default();
        match did {
            Did::Created => tally.created += 1,
            Did::Updated => tally.updated += 1,
            Did::Deleted => tally.deleted += 1,
            Did::Reordered => tally.reordered = true,
        }
    }

    pub fn fail(&mut self, step: Step, line: String) {
        let tally = self.steps.entry(step).or_default();
        if tally.failures.len() < MAX_FAILURE_LINES {
            tally.failures.push(line);
        } else {
            tally.unlisted += 1;
        }
    }

    /// Adds a line said before the steps' (what the restore leaves out or adapts, and why).
    pub fn note(&mut self, line: String) {
        self.notes.push(line);
    }

    /// Records why the job stops before its plan is carried out.
    pub fn halt(&mut self, why: String) {
        self.halted = Some(why);
    }

    /// The report: one line per step that did anything, in [`Step::ALL`]'s order, each followed by its
    /// failures.
    pub fn report(&self) -> Vec<String> {
        let mut lines = self.notes.clone();
        for (step, t) in &self.steps {
            let failed = t.failures.len() + t.unlisted;
            let order = if t.reordered { ", reordered" } else { "" };
            let with = match failed {
                0 => String::new(),
                1 => " with 1 failure".to_owned(),
                n => format!(" with {n} failures"),
            };
            lines.push(format!(
                "{} restored{with} ({} created, {} updated, {} deleted{order})",
                step.name(),
                t.created,
                t.updated,
                t.deleted
            ));
            lines.extend(t.failures.iter().cloned());
            if t.unlisted > 0 {
                lines.push(format!("... and {} more failures", t.unlisted));
            }
        }
        match &self.halted {
            Some(why) => lines.push(format!("Stopped: {why}")),
            None if self.steps.is_empty() => {
                lines.insert(0, "Nothing to restore: the guild already matches the backup".to_owned());
            }
            None => {}
        }
        lines
    }

    /// The tally as the store keeps it (JSON).
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// A tally [`Tally::encode`] wrote.
    pub fn decode(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// A restore job: what it restores, where, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    /// The backup restored.
    pub view: ViewId,
    /// The backup's own guild (where its images live).
    pub origin: ServerId,
    pub target: ServerId,
    /// The version restored.
    pub version: u32,
    pub mode: Mode,
    pub status: JobStatus,
    /// The step running (or the last one).
    pub step: Option<Step>,
    /// Operations carried out (or failed) so far, of `total`.
    pub done: usize,
    pub total: usize,
    /// How many operations failed.
    pub failed: usize,
    pub tally: Tally,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// The snapshot version taken before the restore changed anything.
    pub snapshot: Option<u32>,
    /// How many times the job was taken up again after its runner died.
    pub resumed: u32,
}

/// A job's progress as the store keeps it: one text (JSON), so a step's save is one value.
#[derive(Serialize, Deserialize)]
struct Progress {
    step: Option<Step>,
    done: usize,
    total: usize,
    failed: usize,
    resumed: u32,
    tally: Tally,
}

impl Job {
    /// The job's progress (step, counts, tally) as the store keeps it.
    pub fn encode_progress(&self) -> String {
        let progress = Progress {
            step: self.step,
            done: self.done,
            total: self.total,
            failed: self.failed,
            resumed: self.resumed,
            tally: self.tally.clone(),
        };
        serde_json::to_string(&progress).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Sets the job's progress from what [`Job::encode_progress`] wrote; `None` when it does not read.
    pub fn decode_progress(&mut self, text: &str) -> Option<()> {
        let Progress { step, done, total, failed, resumed, tally } = serde_json::from_str(text).ok()?;
        (self.step, self.done, self.total, self.failed, self.resumed, self.tally) =
            (step, done, total, failed, resumed, tally);
        Some(())
    }

    /// The report: empty until the job has finished.
    pub fn report(&self) -> Vec<String> {
        match self.status {
            JobStatus::Finished => self.tally.report(),
            JobStatus::Running => Vec::new(),
        }
    }
}

/// A runner's hold on a job, until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The runner (one per process).
    pub holder: ViewId,
    pub until: Timestamp,
}

impl Lease {
    /// `holder`'s hold from `now`, for `ms`.
    pub fn from(holder: &ViewId, now: Timestamp, ms: u64) -> Self {
        let ms = i64::try_from(ms).unwrap_or(i64::MAX / 2);
        Self { holder: holder.clone(), until: Timestamp(now.millis().saturating_add(ms)) }
    }
}

/// A running job claimed from a runner that stopped renewing it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub job: Job,
    pub token: BotToken,
    /// (backup id, target id) of every object the job created so far.
    pub placed: Vec<(Id, Id)>,
}

/// Where restore jobs are kept.
pub trait RestoreJobStore: Send + Sync {
    /// Records a new running job, its bot token and its lease.
    fn start(&self, job: &Job, token: &BotToken, lease: &Lease) -> Result<()>;
    fn get(&self, id: &JobId) -> Result<Option<Job>>;
    /// A running job restoring into `target`, if any.
    fn running_into(&self, target: ServerId) -> Result<Option<JobId>>;
    /// Saves the job's progress and the (backup id, target id) of objects it created since the last
    /// save; renews the lease. `false`, and nothing saved, when `lease.holder` no longer holds the job.
    fn save(&self, job: &Job, placed: &[(Id, Id)], lease: &Lease) -> Result<bool>;
    /// Saves the finished job and forgets its token and placed ids; `false`, and nothing saved, when
    /// `holder` no longer holds it.
    fn finish(&self, job: &Job, holder: &ViewId) -> Result<bool>;
    /// Takes up to `limit` running jobs whose lease ended before `now`, for `lease`: each is claimed
    /// by one runner only, even when several claim at once.
    fn claim(&self, now: Timestamp, lease: &Lease, limit: usize) -> Result<Vec<Claimed>>;
    /// Forgets the jobs that finished before `before`; how many.
    fn prune(&self, before: Timestamp) -> Result<usize>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_names_each_step_in_order_with_its_failures() {
        let mut tally = Tally::default();
        for did in [Did::Created, Did::Created, Did::Created, Did::Updated, Did::Deleted, Did::Reordered] {
            tally.record(Step::Channels, did);
        }
        tally.fail(Step::Channels, "Failed: Create channel #x: refused".to_owned());
        tally.record(Step::Roles, Did::Updated);
        tally.record(Step::Roles, Did::Updated);
        assert_eq!(
            tally.report(),
            [
                "Roles restored (0 created, 2 updated, 0 deleted)",
                "Channels restored with 1 failure (3 created, 1 updated, 1 deleted, reordered)",
                "Failed: Create channel #x: refused",
            ]
        );
        assert_eq!(Tally::decode(&tally.encode()), Some(tally));
        assert_eq!(Tally::default().report(), ["Nothing to restore: the guild already matches the backup"]);
        let mut halted = Tally::default();
        halted.halt("the backup was deleted".to_owned());
        assert_eq!(halted.report(), ["Stopped: the backup was deleted"]);
        assert_eq!(Tally::decode(&halted.encode()), Some(halted));
        let mut noted = Tally::default();
        noted.note("Left out: onboarding (the guild lacks COMMUNITY)".to_owned());
        assert_eq!(
            noted.report(),
            [
                "Nothing to restore: the guild already matches the backup",
                "Left out: onboarding (the guild lacks COMMUNITY)"
            ]
        );
        noted.record(Step::Roles, Did::Created);
        assert_eq!(
            noted.report(),
            ["Left out: onboarding (the guild lacks COMMUNITY)", "Roles restored (1 created, 0 updated, 0 deleted)"]
        );
    }

    #[test]
    fn progress_round_trips_as_one_text() {
        let id = ViewId::parse_exact("0123456789abcdef0123456789abcdef").expect("a view id");
        let mut job = Job {
            id: id.clone(),
            view: id,
            origin: ServerId::from_stored(1),
            target: ServerId::from_stored(2),
            version: 3,
            mode: Mode::Wipe,
            status: JobStatus::Running,
            step: Some(Step::Channels),
            done: 5,
            total: 9,
            failed: 1,
            tally: Tally::default(),
            started_at: Timestamp(10),
            finished_at: None,
            snapshot: Some(4),
            resumed: 2,
        };
        job.tally.record(Step::Roles, Did::Created);
        let text = job.encode_progress();
        let mut read =
            Job { step: None, done: 0, total: 0, failed: 0, resumed: 0, tally: Tally::default(), ..job.clone() };
        assert_eq!(read.decode_progress(&text), Some(()));
        assert_eq!(read, job);
        assert_eq!(read.decode_progress("not json"), None);
    }

    #[test]
    fn failure_lines_are_bounded_but_counted() {
        let mut tally = Tally::default();
        for i in 0..MAX_FAILURE_LINES + 5 {
            tally.fail(Step::Bans, format!("Failed: {i}"));
        }
        let report = tally.report();
        assert_eq!(report[0], format!("Bans restored with {} failures (0 created, 0 updated, 0 deleted)", 105));
        assert_eq!(report.len(), 1 + MAX_FAILURE_LINES + 1);
        assert_eq!(report.last().map(String::as_str), Some("... and 5 more failures"));
    }
}
