use diesel::prelude::*;
use garrison_core::{
    Error, Result, ServerId, StoreError, Timestamp,
    backups::{
        JobId, JobStatus,
        format::Id,
        jobs::{Claimed, Job, Lease, RestoreJobStore, Tally},
        plan::Mode,
    },
    discord::BotToken,
    view_id::ViewId,
};

use crate::{
    Database,
    db::per_backend,
    failure::Failure,
    schema::{restore_job_placed, restore_jobs},
    sealed::{SealError, SecretKey},
};

/// Restore jobs: one row per job, and one per object a job created (deleted when it finishes). The bot
/// token is sealed with the server's [`SecretKey`] (ChaCha20-Poly1305, bound to the job's id) and
/// forgotten when the job finishes; a lease is claimed by a conditional update, so one runner wins.
#[derive(Debug, Clone)]
pub struct DieselRestoreJobs {
    db: Database,
    secret: SecretKey,
}

impl DieselRestoreJobs {
    pub fn new(db: Database, secret: SecretKey) -> Self {
        Self { db, secret }
    }
}

/// What a sealed token is bound to: its table and its row.
fn context(job: &str) -> Vec<u8> {
    let mut context = b"garrison restore_jobs.token_sealed job ".to_vec();
    context.extend_from_slice(job.as_bytes());
    context
}

fn internal(what: String) -> Error {
    Error::Store(StoreError::Internal(what))
}

fn corrupt(what: String) -> Failure {
    Failure::Domain(internal(what))
}

fn unreadable(err: SealError) -> String {
    format!("the bot token could not be read: {err}")
}

/// Snowflakes are below 2^63: stored as they are.
#[allow(clippy::cast_possible_wrap, clippy::cast_sign_loss)]
fn stored(id: Id) -> i64 {
    id.0 as i64
}

#[allow(clippy::cast_possible_wrap, clippy::cast_sign_loss)]
fn loaded(id: i64) -> Id {
    Id(id as u64)
}

type JobRow = (String, String, i64, i64, i32, String, String, String, i64, Option<i64>, Option<i32>);

const JOB_COLUMNS: (
    restore_jobs::job_id,
    restore_jobs::view_id,
    restore_jobs::origin_server,
    restore_jobs::target_server,
    restore_jobs::version,
    restore_jobs::mode,
    restore_jobs::status,
    restore_jobs::progress,
    restore_jobs::started_at,
    restore_jobs::finished_at,
    restore_jobs::snapshot,
) = (
    restore_jobs::job_id,
    restore_jobs::view_id,
    restore_jobs::origin_server,
    restore_jobs::target_server,
    restore_jobs::version,
    restore_jobs::mode,
    restore_jobs::status,
    restore_jobs::progress,
    restore_jobs::started_at,
    restore_jobs::finished_at,
    restore_jobs::snapshot,
);

fn job(row: JobRow) -> Result<Job, Failure> {
    let (id, view, origin, target, version, mode, status, progress, started_at, finished_at, snapshot) = row;
    let view_id = |text: &str, column: &str| {
        ViewId::parse_exact(text).ok_or_else(|| corrupt(format!("restore_jobs holds {column} {text:?}")))
    };
    let mut job = Job {
        id: view_id(&id, "job_id")?,
        view: view_id(&view, "view_id")?,
        origin: ServerId::from_stored(origin),
        target: ServerId::from_stored(target),
        version: u32::try_from(version).map_err(|_| corrupt(format!("restore_jobs holds version {version}")))?,
        mode: Mode::parse(&mode).ok_or_else(|| corrupt(format!("restore_jobs holds mode {mode:?}")))?,
        status: JobStatus::parse(&status).ok_or_else(|| corrupt(format!("restore_jobs holds status {status:?}")))?,
        step: None,
        done: 0,
        total: 0,
        failed: 0,
        tally: Tally::default(),
        started_at: Timestamp(started_at),
        finished_at: finished_at.map(Timestamp),
        snapshot: snapshot
            .map(|n| u32::try_from(n).map_err(|_| corrupt(format!("restore_jobs holds snapshot {n}"))))
            .transpose()?,
        resumed: 0,
    };
    job.decode_progress(&progress)
        .ok_or_else(|| corrupt(format!("restore_jobs holds progress that does not read for job {id}")))?;
    Ok(job)
}

/// What a save changes: the status, the progress and when it finished.
type ProgressColumns = (
    diesel::dsl::Eq<restore_jobs::status, &'static str>,
    diesel::dsl::Eq<restore_jobs::progress, String>,
    diesel::dsl::Eq<restore_jobs::finished_at, Option<i64>>,
);

fn progress(job: &Job) -> ProgressColumns {
    (
        restore_jobs::status.eq(job.status.as_str()),
        restore_jobs::progress.eq(job.encode_progress()),
        restore_jobs::finished_at.eq(job.finished_at.map(Timestamp::millis)),
    )
}

fn insert_placed(conn: &mut crate::AnyConnection, job: &str, placed: &[(Id, Id)]) -> Result<(), Failure> {
    for (backup, target) in placed {
        let row = (
            restore_job_placed::job_id.eq(job),
            restore_job_placed::backup_id.eq(stored(*backup)),
            restore_job_placed::target_id.eq(stored(*target)),
        );
        per_backend!(conn, |c| diesel::insert_into(restore_job_placed::table)
            .values(row)
            .on_conflict((restore_job_placed::job_id, restore_job_placed::backup_id))
            .do_update()
            .set(restore_job_placed::target_id.eq(stored(*target)))
            .execute(c))?;
    }
    Ok(())
}

impl RestoreJobStore for DieselRestoreJobs {
    fn start(&self, job: &Job, token: &BotToken, lease: &Lease) -> Result<()> {
        let id = job.id.as_str().to_owned();
        let sealed = self.secret.seal(&context(&id), token.expose().as_bytes()).map_err(|e| internal(unreadable(e)))?;
        let (job, lease) = (job.clone(), lease.clone());
        self.db.write(move |conn| {
            diesel::insert_into(restore_jobs::table)
                .values((
                    (
                        restore_jobs::job_id.eq(&id),
                        restore_jobs::view_id.eq(job.view.as_str()),
                        restore_jobs::origin_server.eq(job.origin.get()),
                        restore_jobs::target_server.eq(job.target.get()),
                        restore_jobs::version.eq(i32::try_from(job.version).unwrap_or(i32::MAX)),
                        restore_jobs::mode.eq(job.mode.as_str()),
                        restore_jobs::started_at.eq(job.started_at.millis()),
                        restore_jobs::snapshot.eq(job.snapshot.and_then(|n| i32::try_from(n).ok())),
                    ),
                    progress(&job),
                    (
                        restore_jobs::token_sealed.eq(Some(sealed)),
                        restore_jobs::holder.eq(lease.holder.as_str()),
                        restore_jobs::lease_until.eq(lease.until.millis()),
                    ),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    fn get(&self, id: &JobId) -> Result<Option<Job>> {
        let id = id.as_str().to_owned();
        self.db.read(|conn| {
            let row = restore_jobs::table
                .filter(restore_jobs::job_id.eq(&id))
                .select(JOB_COLUMNS)
                .first::<JobRow>(conn)
                .optional()?;
            row.map(job).transpose()
        })
    }

    fn running_into(&self, target: ServerId) -> Result<Option<JobId>> {
        self.db.read(|conn| {
            let id = restore_jobs::table
                .filter(restore_jobs::target_server.eq(target.get()))
                .filter(restore_jobs::status.eq(JobStatus::Running.as_str()))
                .select(restore_jobs::job_id)
                .first::<String>(conn)
                .optional()?;
            id.map(|id: String| {
                ViewId::parse_exact(&id).ok_or_else(|| corrupt(format!("restore_jobs holds job_id {id:?}")))
            })
            .transpose()
        })
    }

    fn save(&self, job: &Job, placed: &[(Id, Id)], lease: &Lease) -> Result<bool> {
        let (job, placed, lease) = (job.clone(), placed.to_vec(), lease.clone());
        self.db.write(move |conn| {
            let id = job.id.as_str();
            let updated = diesel::update(
                restore_jobs::table
                    .filter(restore_jobs::job_id.eq(id))
                    .filter(restore_jobs::holder.eq(lease.holder.as_str()))
                    .filter(restore_jobs::status.eq(JobStatus::Running.as_str())),
            )
            .set((progress(&job), restore_jobs::lease_until.eq(lease.until.millis())))
            .execute(conn)?;
            if updated == 0 {
                return Ok(false);
            }
            insert_placed(conn, id, &placed)?;
            Ok(true)
        })
    }

    fn finish(&self, job: &Job, holder: &ViewId) -> Result<bool> {
        let (job, holder) = (job.clone(), holder.as_str().to_owned());
        self.db.write(move |conn| {
            let id = job.id.as_str();
            let updated = diesel::update(
                restore_jobs::table
                    .filter(restore_jobs::job_id.eq(id))
                    .filter(restore_jobs::holder.eq(&holder))
                    .filter(restore_jobs::status.eq(JobStatus::Running.as_str())),
            )
            .set((progress(&job), restore_jobs::token_sealed.eq(None::<String>)))
            .execute(conn)?;
            if updated == 0 {
                return Ok(false);
            }
            diesel::delete(restore_job_placed::table.filter(restore_job_placed::job_id.eq(id))).execute(conn)?;
            Ok(true)
        })
    }

    /// Each expired job is claimed by a conditional update (still running, lease still expired), so two
    /// runners claiming at once never both take it. A job whose token does not open (sealed under
    /// another secret key, or altered) cannot be carried on: it is recorded finished, with a report
    /// saying why, and not answered.
    fn claim(&self, now: Timestamp, lease: &Lease, limit: usize) -> Result<Vec<Claimed>> {
        let (holder, lease) = (lease.holder.clone(), lease.clone());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let taken: Vec<(JobRow, Option<String>)> = self.db.write(move |conn| {
            let expired: Vec<String> = restore_jobs::table
                .filter(restore_jobs::status.eq(JobStatus::Running.as_str()))
                .filter(restore_jobs::lease_until.lt(now.millis()))
                .order(restore_jobs::lease_until)
                .limit(limit)
                .select(restore_jobs::job_id)
                .load(conn)?;
            let mut taken = Vec::new();
            for id in expired {
                let claimed = diesel::update(
                    restore_jobs::table
                        .filter(restore_jobs::job_id.eq(&id))
                        .filter(restore_jobs::status.eq(JobStatus::Running.as_str()))
                        .filter(restore_jobs::lease_until.lt(now.millis())),
                )
                .set((
                    restore_jobs::holder.eq(lease.holder.as_str()),
                    restore_jobs::lease_until.eq(lease.until.millis()),
                ))
                .execute(conn)?;
                if claimed == 1 {
                    let row = restore_jobs::table
                        .filter(restore_jobs::job_id.eq(&id))
                        .select((JOB_COLUMNS, restore_jobs::token_sealed))
                        .first::<(JobRow, Option<String>)>(conn)?;
                    taken.push(row);
                }
            }
            Ok(taken)
        })?;
        let mut claimed = Vec::new();
        for (row, sealed) in taken {
            let job = job(row).map_err(Error::from)?;
            let token = sealed
                .ok_or(SealError::Malformed)
                .and_then(|sealed| self.secret.open(&context(job.id.as_str()), &sealed))
                .map_err(unreadable)
                .and_then(|bytes| {
                    String::from_utf8(bytes)
                        .ok()
                        .and_then(|text| BotToken::new(&text))
                        .ok_or_else(|| unreadable(SealError::Malformed))
                });
            match token {
                Ok(token) => {
                    let placed = self.placed(&job.id)?;
                    claimed.push(Claimed { job, token, placed });
                }
                Err(why) => {
                    let mut job = job;
                    job.tally.halt(format!("the restore could not be taken up again after a restart: {why}"));
                    job.status = JobStatus::Finished;
                    job.finished_at = Some(now);
                    self.finish(&job, &holder)?;
                }
            }
        }
        Ok(claimed)
    }

    fn prune(&self, before: Timestamp) -> Result<usize> {
        self.db.write(move |conn| {
            let doomed = restore_jobs::table
                .filter(restore_jobs::status.eq(JobStatus::Finished.as_str()))
                .filter(restore_jobs::finished_at.lt(before.millis()));
            let ids: Vec<String> = doomed.select(restore_jobs::job_id).load(conn)?;
            diesel::delete(restore_job_placed::table.filter(restore_job_placed::job_id.eq_any(&ids))).execute(conn)?;
            Ok(diesel::delete(restore_jobs::table.filter(restore_jobs::job_id.eq_any(&ids))).execute(conn)?)
        })
    }
}

impl DieselRestoreJobs {
    /// The objects a job created so far, by backup id.
    fn placed(&self, id: &JobId) -> Result<Vec<(Id, Id)>> {
        let id = id.as_str().to_owned();
        self.db.read(|conn| {
            Ok(restore_job_placed::table
                .filter(restore_job_placed::job_id.eq(&id))
                .order(restore_job_placed::backup_id)
                .select((restore_job_placed::backup_id, restore_job_placed::target_id))
                .load::<(i64, i64)>(conn)?
                .into_iter()
                .map(|(backup, target)| (loaded(backup), loaded(target)))
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_value_through_the_database_type() {
        for raw in [0, 1, 1_234_567_890_123_456_789, (1 << 63) - 1] {
            assert_eq!(loaded(stored(Id(raw))), Id(raw));
        }
    }
}
