//! Where `/api/Regex/match` runs its matches: in worker processes (`garrison regex-worker`, this
//! same binary) that are killed when their time is up, because the regex engine cannot be stopped
//! from inside (see [`garrison_core::utilities::RegexBudget`] for why and for the numbers).
//!
//! One process per job: it reads one job as a JSON line on standard input, answers one JSON line on
//! standard output and exits. Starting one costs a few milliseconds, which buys two things a thread
//! pool cannot give: a job past its deadline is killed (SIGKILL) rather than left running, and a
//! pattern that crashes the engine (stack, memory) takes down only its own process. A job whose
//! request is dropped (the client went away) drops its process handle, which kills it too.
//!
//! Slots: a job takes a short-job slot (waiting at most `queue_wait`, with at most `waiting` jobs in
//! line; 503 beyond either); once its process has used `shared_time` of CPU (or has run for
//! `shared_wall_time`) it must move to one of the `long_jobs` slots or be stopped (503); every job is stopped at `time_limit` of wall-clock
//! time after it started (408).

use std::{
    io::{BufRead, Read, Write},
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use garrison_core::utilities::{self, RegexBudget, RegexLimits, RegexOutcome};
use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, Command},
    sync::{Semaphore, oneshot},
};

/// The hidden subcommand that runs one job.
pub const WORKER_COMMAND: &str = "regex-worker";

/// The largest job line a worker reads: the pattern and input caps in UTF-8 (4 bytes a character at
/// most), JSON-escaped (6 bytes for a control character at most), with room for the rest.
const MAX_JOB_BYTES: u64 = 6 * 4 * 24_000 + 1024;

/// How long a worker process lives at most, whatever happens to the server that started it.
const WORKER_LIFETIME: Duration = Duration::from_secs(2 * utilities::REGEX_TIME_LIMIT.as_secs() + 1);

#[derive(Debug, Serialize, Deserialize)]
struct Job {
    pattern: String,
    input: String,
    case_sensitive: bool,
}

#[derive(Debug, Serialize, Deserialize)]
enum Answer {
    Matched(Option<String>),
    InvalidPattern(String),
    TooExpensive,
    Invalid(String),
}

/// Why a job got no outcome.
#[derive(Debug, thiserror::Error)]
pub enum RegexJobError {
    /// The pattern or input is over its size cap (the message names the field).
    #[error(transparent)]
    Invalid(#[from] garrison_core::Error),
    /// No slot within the budget: answer 503 with `Retry-After`.
    #[error("too many regular expressions are being tested; try again shortly")]
    Busy { retry_after: Duration },
    /// The worker could not be started or answered nonsense (a bug or a broken install).
    #[error("regex worker failed: {0}")]
    Internal(String),
}

/// Runs matches in worker processes under a [`RegexBudget`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RegexPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    program: PathBuf,
    budget: RegexBudget,
    limits: RegexLimits,
    short: Arc<NewestFirst>,
    long: Arc<Semaphore>,
}

/// Short-job slots, handed to the newest waiter first. Under a burst the oldest waiters are the
/// ones that time out or are pushed out of a full line (503), and a request that arrives during
/// the burst is served next rather than after everything already in line (LIFO under overload).
#[derive(Debug)]
struct NewestFirst {
    state: Mutex<SlotState>,
    max_waiting: usize,
}

#[derive(Debug)]
struct SlotState {
    free: usize,
    waiters: Vec<oneshot::Sender<ShortSlot>>,
}

/// A short-job slot; dropping it hands it to the newest waiter, or frees it.
#[derive(Debug)]
struct ShortSlot {
    pool: Option<Arc<NewestFirst>>,
}

impl Drop for ShortSlot {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.release();
        }
    }
}

impl NewestFirst {
    fn new(slots: usize, max_waiting: usize) -> Arc<Self> {
        Arc::new(Self { state: Mutex::new(SlotState { free: slots, waiters: Vec::new() }), max_waiting })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot within `wait`, or `None` (no slot came in time, or newer jobs pushed this one out of
    /// a full line).
    async fn acquire(self: &Arc<Self>, wait: Duration) -> Option<ShortSlot> {
        let receiver = {
            let mut state = self.lock();
            if state.free > 0 {
                state.free -= 1;
                return Some(ShortSlot { pool: Some(Arc::clone(self)) });
            }
            state.waiters.retain(|waiter| !waiter.is_closed());
            if state.waiters.len() >= self.max_waiting.max(1) {
                // The line is full: its oldest waiter gives way (and is answered 503 at once).
                state.waiters.remove(0);
            }
            let (sender, receiver) = oneshot::channel();
            state.waiters.push(sender);
            receiver
        };
        // A slot sent just as the wait ends is dropped with the receiver, which passes it on.
        tokio::time::timeout(wait, receiver).await.ok()?.ok()
    }

    fn release(self: &Arc<Self>) {
        let mut state = self.lock();
        while let Some(waiter) = state.waiters.pop() {
            match waiter.send(ShortSlot { pool: Some(Arc::clone(self)) }) {
                Ok(()) => return,
                // That waiter gave up: disarm the slot (it is still ours) and try the next one.
                Err(mut slot) => slot.pool = None,
            }
        }
        state.free += 1;
    }
}

impl RegexPool {
    /// A pool whose workers are `program regex-worker` (normally this executable).
    pub fn new(program: PathBuf, budget: RegexBudget, limits: RegexLimits) -> Self {
        let inner = Inner {
            program,
            short: NewestFirst::new(budget.jobs.max(1), budget.waiting),
            long: Arc::new(Semaphore::new(budget.long_jobs.max(1))),
            budget,
            limits,
        };
        Self { inner: Arc::new(inner) }
    }

    /// A pool running this executable's own worker.
    pub fn of_this_executable(budget: RegexBudget) -> anyhow::Result<Self> {
        let program = std::env::current_exe().map_err(|e| anyhow::anyhow!("cannot find this executable: {e}"))?;
        Ok(Self::new(program, budget, RegexLimits::DEFAULT))
    }

    /// Tests `pattern` against `input` (see [`utilities::regex_match`]) within the budget;
    /// [`RegexOutcome::TooExpensive`] when the job ran out of time or steps.
    pub async fn run(
        &self,
        pattern: String,
        input: String,
        case_sensitive: bool,
    ) -> Result<RegexOutcome, RegexJobError> {
        let inner = &self.inner;
        utilities::check_regex_sizes(&pattern, &input, inner.limits)?;
        let busy = || RegexJobError::Busy { retry_after: inner.budget.retry_after };
        let arrived = tokio::time::Instant::now();
        let Some(short) = inner.short.acquire(inner.budget.queue_wait).await else {
            tracing::debug!(waited = ?arrived.elapsed(), "regex job refused: no slot in time");
            return Err(busy());
        };
        let mut short = Some(short);
        let mut long = None;
        let started = tokio::time::Instant::now();
        let deadline = started + inner.budget.time_limit;
        let mut worker = self.spawn()?;
        let pid = worker.child.id();
        let job = Job { pattern, input, case_sensitive };
        // Returning early drops this future and the worker with it, which kills the process.
        let answer = worker.answer(&job);
        tokio::pin!(answer);
        let answer = loop {
            let tick = if long.is_some() {
                deadline
            } else {
                deadline.min(tokio::time::Instant::now() + inner.budget.shared_time)
            };
            match tokio::time::timeout_at(tick, &mut answer).await {
                Ok(answer) => break answer,
                Err(_) if tokio::time::Instant::now() >= deadline => return Ok(RegexOutcome::TooExpensive),
                Err(_) => {
                    // Shared time is CPU time: a job that only waited for a core (a busy
                    // machine) has not used its share yet, up to a wall-clock bound so that
                    // short slots keep turning over.
                    let used = pid.and_then(cpu_time).unwrap_or_else(|| started.elapsed());
                    let starved = used < inner.budget.shared_time;
                    if long.is_some() || (starved && started.elapsed() < inner.budget.shared_wall_time) {
                        continue;
                    }
                    match Arc::clone(&inner.long).try_acquire_owned() {
                        Ok(permit) => {
                            // The short slot goes to the next job; this one now holds a long slot.
                            long = Some(permit);
                            short = None;
                        }
                        Err(_) => {
                            tracing::debug!(cpu = ?used, elapsed = ?started.elapsed(), "regex job stopped: no long slot");
                            return Err(busy());
                        }
                    }
                }
            }
        };
        drop((short, long));
        match answer {
            Ok(Answer::Matched(found)) => Ok(RegexOutcome::Matched(found)),
            Ok(Answer::InvalidPattern(why)) => Ok(RegexOutcome::InvalidPattern(why)),
            Ok(Answer::TooExpensive) => Ok(RegexOutcome::TooExpensive),
            Ok(Answer::Invalid(why)) => Err(RegexJobError::Internal(format!("worker refused the job: {why}"))),
            // The process died without answering: the engine overflowed its stack or ran out of
            // memory on this pattern, which is the pattern being too expensive.
            Err(WorkerFailure::Died(status)) => {
                tracing::warn!(%status, "a regex worker died without answering");
                Ok(RegexOutcome::TooExpensive)
            }
            Err(WorkerFailure::Io(why)) => Err(RegexJobError::Internal(why)),
        }
    }

    fn spawn(&self) -> Result<Worker, RegexJobError> {
        let child = Command::new(&self.inner.program)
            .arg(WORKER_COMMAND)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| RegexJobError::Internal(format!("cannot start {}: {e}", self.inner.program.display())))?;
        Ok(Worker { child })
    }
}

/// CPU time (user + system) a process has used, from `/proc/<pid>/stat`; `None` where there is no
/// such file (not Linux), and the caller counts wall-clock time instead.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name: state is the first, utime the 12th, stime the 13th.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports these in USER_HZ, 100 a second on every architecture it supports.
    Some(Duration::from_millis(ticks.saturating_mul(10)))
}

enum WorkerFailure {
    Died(String),
    Io(String),
}

/// One worker process; dropping it kills the process (tokio reaps it).
struct Worker {
    child: Child,
}

impl Worker {
    async fn answer(&mut self, job: &Job) -> Result<Answer, WorkerFailure> {
        let mut line = serde_json::to_vec(job).map_err(|e| WorkerFailure::Io(e.to_string()))?;
        line.push(b'\n');
        let mut stdin = self.child.stdin.take().ok_or_else(|| WorkerFailure::Io("no stdin".into()))?;
        let stdout = self.child.stdout.take().ok_or_else(|| WorkerFailure::Io("no stdout".into()))?;
        // A worker that died early closes its pipe: that shows as its exit below.
        let _ = stdin.write_all(&line).await;
        drop(stdin);
        let mut reply = String::new();
        let read = BufReader::new(stdout).read_line(&mut reply).await;
        if read.is_err() || reply.is_empty() {
            let status = self.child.wait().await.map_err(|e| WorkerFailure::Io(e.to_string()))?;
            return Err(WorkerFailure::Died(status.to_string()));
        }
        let _ = self.child.wait().await;
        serde_json::from_str(&reply).map_err(|e| WorkerFailure::Io(format!("unreadable worker answer: {e}")))
    }
}

/// The worker's side (`garrison regex-worker`): one job from standard input, one answer to standard
/// output. Runs no server, reads no settings.
pub fn worker_main() -> anyhow::Result<()> {
    // The server kills a worker at its time limit; should the server itself die first (its
    // children are not killed with it), the worker still ends on its own soon after.
    std::thread::spawn(|| {
        std::thread::sleep(WORKER_LIFETIME);
        std::process::exit(2);
    });
    let mut line = String::new();
    std::io::stdin().lock().take(MAX_JOB_BYTES).read_line(&mut line)?;
    let answer = match serde_json::from_str::<Job>(&line) {
        Err(e) => Answer::Invalid(e.to_string()),
        Ok(job) => match utilities::regex_match(&job.pattern, &job.input, job.case_sensitive, RegexLimits::DEFAULT) {
            Ok(RegexOutcome::Matched(found)) => Answer::Matched(found),
            Ok(RegexOutcome::InvalidPattern(why)) => Answer::InvalidPattern(why),
            Ok(RegexOutcome::TooExpensive) => Answer::TooExpensive,
            Err(err) => Answer::Invalid(err.to_string()),
        },
    };
    let mut out = serde_json::to_vec(&answer)?;
    out.push(b'\n');
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out)?;
    stdout.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_line_cap_fits_the_largest_job() {
        let limits = RegexLimits::DEFAULT;
        let job = Job {
            pattern: "\u{1}".repeat(limits.max_pattern_chars),
            input: "\u{1}".repeat(limits.max_input_chars),
            case_sensitive: true,
        };
        let line = serde_json::to_vec(&job).expect("JSON");
        assert!((line.len() as u64) < MAX_JOB_BYTES, "{} bytes", line.len());
    }
}
