//! Connections, pools, migrations and the per-backend escape hatch.

use std::{
    cell::RefCell,
    collections::VecDeque,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    path::Path,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc::{Receiver, SyncSender, TrySendError, sync_channel},
    },
    time::{Duration, Instant},
};

use diesel::{
    Connection, PgConnection, RunQueryDsl, SqliteConnection,
    connection::SimpleConnection,
    r2d2::{self, ManageConnection, Pool, PooledConnection},
    result::Error as DieselError,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use garrison_core::{
    Error, Result, StoreError,
    ports::{HealthCheck, HealthReport},
};

use crate::{
    cached::TxStatement,
    failure::{Failure, db_error},
};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type over both backends; queries written once run on either.
///
/// Lookups by a unique key load their (at most one) row rather than use `.first()`: `.first()` binds
/// `LIMIT ?`, which SQLite's planner reads, expiring the cached statement so that it is parsed again
/// at every execution (measured: an API-key lookup took 19.6 µs that way, 7.8 µs this way).
#[derive(diesel::MultiConnection)]
#[allow(missing_debug_implementations)] // the inner connections implement no Debug
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$conn` bound to the concrete connection of whichever backend is in use: for the
/// few statements whose SQL differs by backend (upserts). The body is compiled once per backend.
macro_rules! per_backend {
    ($any:expr, |$conn:ident| $body:expr) => {
        match $any {
            $crate::db::AnyConnection::Postgresql($conn) => $body,
            $crate::db::AnyConnection::Sqlite($conn) => $body,
        }
    };
}
pub(crate) use per_backend;

/// Loads the rows `$query` selects, locking them for this transaction and skipping the rows another
/// transaction has locked (`FOR UPDATE SKIP LOCKED`) on PostgreSQL, where several processes may be
/// taking rows at once; a plain load on SQLite, whose one writer takes them in turn. For work queues
/// (webhook deliveries) that replicas share.
macro_rules! load_skipping_locked {
    ($any:expr, $query:expr) => {
        match $any {
            $crate::db::AnyConnection::Postgresql(conn) => $query.for_update().skip_locked().load(conn),
            $crate::db::AnyConnection::Sqlite(conn) => $query.load(conn),
        }
    };
}
pub(crate) use load_skipping_locked;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the backend from the URL's scheme, and returns what to hand the driver.
    pub fn from_url(url: &str) -> Result<(Self, &str)> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok((Self::Postgres, url))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(Error::invalid(
                    "database_url",
                    "sqlite:// needs a file path, as in sqlite://./data/garrison.db",
                ));
            }
            Ok((Self::Sqlite, path))
        } else {
            let scheme = url.split_once("://").map_or("(none)", |(scheme, _)| scheme);
            Err(Error::invalid(
                "database_url",
                format!("unsupported scheme {scheme:?}: use sqlite://<path> or postgres://<user>@<host>/<database>"),
            ))
        }
    }
}

/// How many connections to keep, and how long to wait for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSizes {
    /// SQLite readers, or every PostgreSQL connection.
    pub connections: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for PoolSizes {
    fn default() -> Self {
        Self { connections: 8, acquire_timeout: Duration::from_secs(5) }
    }
}

#[derive(Debug)]
struct Manager {
    backend: Backend,
    target: String,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        let conn = match self.backend {
            Backend::Postgres => {
                AnyConnection::Postgresql(PgConnection::establish(&self.target).map_err(r2d2::Error::ConnectionError)?)
            }
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                    .and_then(|()| conn.batch_execute(BUSY_TIMEOUT))
                    .map_err(r2d2::Error::QueryError)?;
                AnyConnection::Sqlite(conn)
            }
        };
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        diesel::sql_query("SELECT 1").execute(conn).map(drop).map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

type AnyPool = Pool<Manager>;

/// Work queued for the SQLite writer: runs on the writer thread inside the batch's transaction (with
/// the writer's connection lent through [`WRITER`]) and returns what to do once the batch's commit has
/// succeeded or failed.
type Job = Box<dyn FnOnce() -> Completion + Send>;
type Completion = Box<dyn FnOnce(Result<(), &DieselError>) + Send>;

thread_local! {
    /// On the SQLite writer thread, its connection; `None` on every other thread. Storage code that the
    /// writer runs (see [`Database::run_on_writer`]) reads and writes through it directly.
    static WRITER: RefCell<Option<AnyConnection>> = const { RefCell::new(None) };
}

thread_local! {
    /// On PostgreSQL, while a job of [`Database::run_on_writer`] runs on this thread: its connection,
    /// inside the job's transaction. Storage code the job calls reads and writes through it, so the job
    /// commits or rolls back as one.
    static JOB: RefCell<Option<PooledConnection<Manager>>> = const { RefCell::new(None) };
}

/// Whether this thread runs a PostgreSQL job (see [`JOB`]).
fn in_job() -> bool {
    JOB.with(|cell| cell.try_borrow().map_or(true, |slot| slot.is_some()))
}

/// Runs `work` on the job's connection; only inside a PostgreSQL job.
fn with_job_connection<T>(work: impl FnOnce(&mut AnyConnection) -> Result<T, Failure>) -> Result<T, Failure> {
    JOB.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return Err(Failure::Domain(Error::Store(StoreError::Internal("nested use of a job's connection".into()))));
        };
        match slot.as_mut() {
            Some(conn) => work(conn),
            None => Err(Failure::Domain(Error::Store(StoreError::Internal("not inside a write job".into())))),
        }
    })
}

/// A PostgreSQL job's connection, lent to [`JOB`] for the job's length. Dropped without
/// [`PinnedJob::finish`] (the job panicked), it rolls the transaction back before the connection goes
/// back to the pool, so the next job on this thread starts clean.
struct PinnedJob;

impl PinnedJob {
    fn begin(mut conn: PooledConnection<Manager>) -> Result<Self> {
        conn.batch_execute("BEGIN").map_err(|e| Error::from(Failure::from(e)))?;
        JOB.with(|cell| *cell.borrow_mut() = Some(conn));
        Ok(Self)
    }

    /// Commits (`ok`) or rolls back the job's transaction and gives the connection back.
    fn finish(self, ok: bool) -> Result<()> {
        let conn = JOB.with(|cell| cell.borrow_mut().take());
        std::mem::forget(self);
        let Some(mut conn) = conn else { return Ok(()) };
        if ok {
            conn.batch_execute("COMMIT")
                .map_err(|e| Error::Store(StoreError::Unavailable(format!("commit failed: {e}"))))
        } else {
            conn.batch_execute("ROLLBACK").map_err(|e| Error::from(Failure::from(e)))
        }
    }
}

impl Drop for PinnedJob {
    fn drop(&mut self) {
        if let Some(mut conn) = JOB.with(|cell| cell.try_borrow_mut().ok().and_then(|mut slot| slot.take())) {
            let _ = conn.batch_execute("ROLLBACK");
        }
    }
}

/// Whether this thread is the SQLite writer.
fn on_writer_thread() -> bool {
    WRITER.with(|cell| cell.try_borrow().map_or(true, |slot| slot.is_some()))
}

/// Runs `work` on the writer's connection; only on the writer thread.
fn with_writer_connection<T>(work: impl FnOnce(&mut AnyConnection) -> Result<T, Failure>) -> Result<T, Failure> {
    WRITER.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return Err(Failure::Domain(Error::Store(StoreError::Internal(
                "nested use of the SQLite writer's connection".into(),
            ))));
        };
        match slot.as_mut() {
            Some(conn) => work(conn),
            None => Err(Failure::Domain(Error::Store(StoreError::Internal("not on the SQLite writer thread".into())))),
        }
    })
}

fn tx(statement: TxStatement) -> Result<(), DieselError> {
    WRITER.with(|cell| match cell.try_borrow_mut().ok().as_deref_mut().and_then(Option::as_mut) {
        Some(conn) => per_backend!(conn, |c| statement.execute(c)).map(drop),
        None => Err(DieselError::BrokenTransactionManager),
    })
}

/// How long an SQLite connection waits for a lock another holds before it gives up.
const BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 5000;";

/// How many queued writes one SQLite transaction may carry.
const MAX_BATCH: usize = 256;

/// Where writes go.
#[derive(Clone, Debug)]
enum Writer {
    /// PostgreSQL: any pooled connection, one transaction per write.
    Pool(AnyPool),
    /// SQLite: one thread owns the only write connection and commits queued writes in batches.
    Queue(SyncSender<Job>),
}

/// The database: a backend, its connection pool and its writer. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Database {
    backend: Backend,
    manager: Arc<Manager>,
    read: AnyPool,
    writer: Writer,
    /// How the SQLite writer has fared (always healthy on PostgreSQL).
    writer_health: Arc<WriterHealth>,
    /// Dropped with the last clone; the SQLite checkpointer stops when it is gone.
    _alive: Arc<()>,
}

/// The SQLite writer's record, for readiness.
#[derive(Debug, Default)]
struct WriterHealth {
    /// Set when the writer thread has ended for any reason other than the database being dropped.
    stopped: AtomicBool,
    restarts: AtomicU64,
    panicked_writes: AtomicU64,
}

impl WriterHealth {
    fn report(&self) -> HealthReport {
        HealthReport {
            writer_stopped: self.stopped.load(Ordering::Acquire),
            writer_restarts: self.restarts.load(Ordering::Relaxed),
            panicked_writes: self.panicked_writes.load(Ordering::Relaxed),
        }
    }
}

/// Where a job's answer goes. If the job is dropped without answering, the caller still hears why:
/// during a panic (the write panicked and was rolled back), otherwise because the writer dropped it.
struct Answer<T>(Option<Box<dyn FnOnce(Result<T>) + Send>>);

impl<T> Answer<T> {
    fn new(send: impl FnOnce(Result<T>) + Send + 'static) -> Self {
        Self(Some(Box::new(send)))
    }

    fn send(mut self, result: Result<T>) {
        if let Some(send) = self.0.take() {
            send(result);
        }
    }
}

impl<T> Drop for Answer<T> {
    fn drop(&mut self) {
        if let Some(send) = self.0.take() {
            send(Err(if std::thread::panicking() {
                Error::Store(StoreError::Internal("the write panicked; it was rolled back".into()))
            } else {
                Error::Store(StoreError::Unavailable("the SQLite writer stopped".into()))
            }));
        }
    }
}

/// The text of a panic's payload, for the log.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// The SQLite writer thread: owns the write connection and runs [`run_batches`] under a supervisor.
/// A panic inside one job is caught there (the job alone is rolled back); a panic anywhere else ends
/// the batch loop, which is restarted on the same connection after a rollback. After more than
/// [`MAX_RESTARTS`] restarts within [`RESTART_WINDOW`] it gives up: the thread ends, readiness
/// reports the writer stopped, and writes answer 503, so an orchestrator replaces the process.
fn run_writer(conn: AnyConnection, jobs: &Receiver<Job>, wal: &WalState, health: &WriterHealth) {
    WRITER.with(|cell| *cell.borrow_mut() = Some(conn));
    supervise(health, || run_batches(jobs, wal, health));
}

/// What the SQLite writer and checkpointer tell each other about the WAL.
#[derive(Debug, Default)]
struct WalState {
    /// Set by the writer when it committed something, taken by the checkpointer.
    written: AtomicBool,
    /// Set by the checkpointer after a checkpoint, taken by the writer before its next batch.
    restart_due: AtomicBool,
}

/// Restarts allowed within [`RESTART_WINDOW`] before the writer gives up.
const MAX_RESTARTS: usize = 5;
const RESTART_WINDOW: Duration = Duration::from_secs(60);

/// Runs `run` until it returns (every sender gone: the database was dropped), restarting it when it
/// panics, within the budget above; marks the writer stopped if it gives up.
fn supervise(health: &WriterHealth, mut run: impl FnMut()) {
    let mut recent: VecDeque<Instant> = VecDeque::new();
    loop {
        let Err(panic) = catch_unwind(AssertUnwindSafe(&mut run)) else {
            return;
        };
        health.restarts.fetch_add(1, Ordering::Relaxed);
        // Whatever the batch had written is undone; its callers were already told it failed.
        let _ = tx(TxStatement::Rollback);
        let now = Instant::now();
        recent.push_back(now);
        while recent.front().is_some_and(|at| now.duration_since(*at) > RESTART_WINDOW) {
            recent.pop_front();
        }
        if recent.len() > MAX_RESTARTS {
            tracing::error!(
                panic = panic_message(&*panic),
                "the SQLite writer failed {} times in {RESTART_WINDOW:?}; it stops, and readiness now fails",
                recent.len()
            );
            health.stopped.store(true, Ordering::Release);
            return;
        }
        tracing::error!(panic = panic_message(&*panic), "the SQLite writer failed outside a write; restarting it");
    }
}

/// The SQLite writer's loop: takes every write that is waiting (up to [`MAX_BATCH`]), runs each in its
/// own savepoint inside one transaction, commits once, and only then answers each caller. A failing
/// write rolls back its savepoint alone; a panicking one too (see [`run_job`]); a failed commit fails
/// every write of the batch. Group commit turns many small transactions (each a WAL append and lock
/// round) into one.
fn run_batches(jobs: &Receiver<Job>, wal: &WalState, health: &WriterHealth) {
    while let Ok(first) = jobs.recv() {
        if wal.restart_due.swap(false, Ordering::AcqRel) {
            restart_wal();
        }
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(err) = tx(TxStatement::Begin) {
            // The jobs are dropped unstarted; their callers hear that the writer stopped (503).
            tracing::error!(error = %err, "the SQLite writer could not begin a transaction");
            continue;
        }
        let completions: Vec<Completion> = batch.into_iter().filter_map(|job| run_job(job, health)).collect();
        let committed = tx(TxStatement::Commit);
        match committed {
            Ok(_) => wal.written.store(true, Ordering::Release),
            Err(_) => drop(tx(TxStatement::Rollback)),
        }
        for done in completions {
            // A completion only hands an answer back; should one panic, the others still answer.
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| done(committed.as_ref().map(|_| ())))) {
                health.panicked_writes.fetch_add(1, Ordering::Relaxed);
                tracing::error!(panic = panic_message(&*panic), "a write's completion panicked");
            }
        }
    }
}

/// Runs one job inside a savepoint of its own. If it panics, everything it wrote is rolled back (with
/// any savepoints it left open), the panic is counted and logged, and its caller is answered with an
/// internal error (see [`Answer`]); the batch carries on.
fn run_job(job: Job, health: &WriterHealth) -> Option<Completion> {
    if let Err(err) = tx(TxStatement::JobSavepoint) {
        tracing::error!(error = %err, "the SQLite writer could not open a savepoint; the write is dropped");
        return None;
    }
    match catch_unwind(AssertUnwindSafe(job)) {
        Ok(done) => {
            // Cannot fail after a successful SAVEPOINT; if it did, the commit fails and says so.
            let _ = tx(TxStatement::JobRelease);
            Some(done)
        }
        Err(panic) => {
            health.panicked_writes.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                panic = panic_message(&*panic),
                "a write panicked on the SQLite writer; it was rolled back"
            );
            let _ = tx(TxStatement::JobRollback);
            let _ = tx(TxStatement::JobRelease);
            None
        }
    }
}

/// Has the WAL start again from its beginning at the next commit, between two batches: the writer
/// copies what the checkpointer's last round left (what was committed meanwhile: little) and waits
/// for readers still reading the WAL (briefly). Otherwise, under a load that never pauses, the
/// checkpointer never finds the whole WAL copied with no writer about, so it never starts over: it
/// grows by every commit (seen: 1.6 GB in 10 s), and every frame written extends the file, which
/// costs the kernel a fresh, zeroed page each time (a quarter of the writer's time, measured).
/// The writer waits for readers at most a few milliseconds (not the connection's `busy_timeout`): a
/// long read (a backup's export) makes this round's restart give up, not the writes wait.
fn restart_wal() {
    let restarted = WRITER.with(|cell| match cell.try_borrow_mut().ok().as_deref_mut().and_then(Option::as_mut) {
        Some(conn) => {
            let checkpointed = conn.batch_execute("PRAGMA busy_timeout = 20; PRAGMA wal_checkpoint(RESTART);");
            conn.batch_execute(BUSY_TIMEOUT).and(checkpointed)
        }
        None => Err(DieselError::BrokenTransactionManager),
    });
    if let Err(err) = restarted {
        // Busy (a reader held on for longer than the busy timeout): the next round tries again.
        tracing::debug!(error = %err, "the SQLite WAL could not be restarted");
    }
}

/// How often the SQLite checkpointer copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// How often, at most, it also truncates the WAL file (see [`CheckpointSchedule`]).
const TRUNCATE_EVERY: Duration = Duration::from_secs(300);

/// Which checkpoint a round of the checkpointer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checkpoint {
    /// Copies what no reader still needs; never blocks the writer or the readers.
    Passive,
    /// Copies everything and truncates the WAL file to zero bytes. It waits (up to `busy_timeout`)
    /// for readers of older snapshots and holds off the writer meanwhile, so it runs rarely.
    Truncate,
}

/// When to checkpoint: a PASSIVE round whenever something was committed since the last round, and a
/// TRUNCATE instead once [`TRUNCATE_EVERY`] has passed since the last one with writes since. PASSIVE
/// alone never shrinks the WAL file: after a burst it would stay at its largest size for good.
#[derive(Debug)]
struct CheckpointSchedule {
    last_truncate: Instant,
    written_since_truncate: bool,
}

impl CheckpointSchedule {
    fn new(now: Instant) -> Self {
        Self { last_truncate: now, written_since_truncate: false }
    }

    fn next(&mut self, now: Instant, written: bool) -> Option<Checkpoint> {
        self.written_since_truncate |= written;
        if self.written_since_truncate && now.duration_since(self.last_truncate) >= TRUNCATE_EVERY {
            self.last_truncate = now;
            self.written_since_truncate = false;
            return Some(Checkpoint::Truncate);
        }
        written.then_some(Checkpoint::Passive)
    }
}

/// The SQLite checkpointer: every [`CHECKPOINT_EVERY`], on its own connection, the checkpoint
/// [`CheckpointSchedule`] picks. Stops when the database is dropped.
fn run_checkpoints(mut conn: AnyConnection, alive: &std::sync::Weak<()>, wal: &WalState) {
    let mut schedule = CheckpointSchedule::new(Instant::now());
    while alive.strong_count() > 0 {
        std::thread::sleep(CHECKPOINT_EVERY);
        let sql = match schedule.next(Instant::now(), wal.written.swap(false, Ordering::AcqRel)) {
            None => continue,
            Some(Checkpoint::Passive) => "PRAGMA wal_checkpoint(PASSIVE);",
            Some(Checkpoint::Truncate) => "PRAGMA wal_checkpoint(TRUNCATE);",
        };
        match conn.batch_execute(sql) {
            // Most of the WAL is in the database file now: the writer copies the rest and starts over.
            Ok(()) => wal.restart_due.store(true, Ordering::Release),
            Err(err) => tracing::warn!(error = %err, "SQLite checkpoint failed; retrying"),
        }
    }
}

/// Runs one write of the writer's batch in its own savepoint, so a failing write rolls back alone.
/// The savepoint statements are cached prepared statements ([`TxStatement`]): diesel's own nested
/// transactions send them through `sqlite3_exec`, which parses them on every write.
fn in_savepoint<T>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, Failure>,
) -> Result<T, Failure> {
    per_backend!(&mut *conn, |c| TxStatement::Savepoint.execute(c))?;
    match work(conn) {
        Ok(value) => {
            per_backend!(&mut *conn, |c| TxStatement::Release.execute(c))?;
            Ok(value)
        }
        Err(failure) => {
            // If even the rollback fails, the batch's commit fails too and every caller hears of it.
            let _ = per_backend!(&mut *conn, |c| TxStatement::RollbackToSavepoint.execute(c));
            let _ = per_backend!(&mut *conn, |c| TxStatement::Release.execute(c));
            Err(failure)
        }
    }
}

impl Database {
    /// Opens (and for SQLite creates) the database the URL names. Does not migrate.
    pub fn open(url: &str, sizes: PoolSizes) -> Result<Self> {
        let (backend, target) = Backend::from_url(url)?;
        if backend == Backend::Postgres {
            // Initialise OpenSSL before libpq does, with OPENSSL_INIT_NO_ATEXIT: otherwise OpenSSL's
            // exit handler frees its state while a pool thread may still be negotiating TLS with the
            // server, and the process crashes on its way out (seen as SIGSEGV after CLI commands).
            openssl_sys::init();
        }
        if backend == Backend::Sqlite
            && let Some(parent) = Path::new(target).parent().filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create the directory {} for the SQLite database: {e}",
                    parent.display()
                ))
            })?;
        }
        let manager = Arc::new(Manager { backend, target: target.to_owned() });
        let alive = Arc::new(());
        let writer_health = Arc::new(WriterHealth::default());
        let build = |size: u32| {
            Pool::builder()
                .max_size(size.max(1))
                .min_idle(Some(1))
                .connection_timeout(sizes.acquire_timeout)
                // A broken connection fails its next query and is replaced then; checking each one on
                // checkout would cost a query per request.
                .test_on_check_out(false)
                .build(Manager { backend, target: target.to_owned() })
                .map_err(|e| Error::Store(StoreError::Unavailable(format!("cannot connect to the database: {e}"))))
        };
        let read = build(sizes.connections)?;
        let writer = match backend {
            Backend::Postgres => Writer::Pool(read.clone()),
            Backend::Sqlite => {
                let mut conn = manager
                    .connect()
                    .map_err(|e| Error::Store(StoreError::Unavailable(format!("cannot open the database: {e}"))))?;
                // Checkpoints (copying the WAL back into the database file, with an fsync) run on a
                // thread of their own instead of inside whichever commit crosses 1,000 WAL pages: the
                // writer never stops for the disk.
                conn.batch_execute("PRAGMA wal_autocheckpoint = 0;").map_err(|e| {
                    Error::Store(StoreError::Unavailable(format!("cannot configure the database: {e}")))
                })?;
                let checkpoints = manager
                    .connect()
                    .map_err(|e| Error::Store(StoreError::Unavailable(format!("cannot open the database: {e}"))))?;
                let (queue, jobs) = sync_channel::<Job>(4 * MAX_BATCH);
                let writer_gone = Arc::downgrade(&alive);
                let wal = Arc::new(WalState::default());
                std::thread::Builder::new()
                    .name("sqlite-checkpoint".into())
                    .spawn({
                        let wal = Arc::clone(&wal);
                        move || run_checkpoints(checkpoints, &writer_gone, &wal)
                    })
                    .map_err(|e| {
                        Error::Store(StoreError::Internal(format!("cannot start the SQLite checkpointer: {e}")))
                    })?;
                std::thread::Builder::new()
                    .name("sqlite-writer".into())
                    .spawn({
                        let health = Arc::clone(&writer_health);
                        move || run_writer(conn, &jobs, &wal, &health)
                    })
                    .map_err(|e| Error::Store(StoreError::Internal(format!("cannot start the SQLite writer: {e}"))))?;
                Writer::Queue(queue)
            }
        };
        Ok(Self { backend, manager, read, writer, writer_health, _alive: alive })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A new connection outside the pools, for migrations and tooling.
    fn dedicated(&self) -> Result<AnyConnection> {
        self.manager
            .connect()
            .map_err(|e| Error::Store(StoreError::Unavailable(format!("cannot connect to the database: {e}"))))
    }

    /// Applies every pending embedded migration; returns their names.
    pub fn migrate(&self) -> Result<Vec<String>> {
        let mut conn = self.dedicated()?;
        let applied = match &mut conn {
            AnyConnection::Postgresql(c) => {
                c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.iter().map(ToString::to_string).collect())
            }
            AnyConnection::Sqlite(c) => {
                c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.iter().map(ToString::to_string).collect())
            }
        };
        applied.map_err(|e| Error::Store(StoreError::Internal(format!("migration failed: {e}"))))
    }

    fn checkout(&self, pool: &AnyPool) -> Result<PooledConnection<Manager>> {
        pool.get().map_err(|e| Error::Store(StoreError::Unavailable(format!("no database connection: {e}"))))
    }

    /// Runs read-only work on a reader connection.
    pub(crate) fn read<T>(&self, work: impl FnOnce(&mut AnyConnection) -> Result<T, Failure>) -> Result<T> {
        if on_writer_thread() {
            // Inside the writer's batch: its own connection sees the batch's earlier writes.
            return with_writer_connection(work).map_err(Error::from);
        }
        if in_job() {
            // Inside a PostgreSQL job: its transaction sees the job's earlier writes.
            return with_job_connection(work).map_err(Error::from);
        }
        let mut conn = self.checkout(&self.read)?;
        work(&mut conn).map_err(Error::from)
    }

    /// Runs work that writes as part of the write job it is called from, with no savepoint of its own:
    /// for writes whose failure fails the job (which then keeps none of its writes), on the hot path
    /// of every change (the webhook outbox). Outside a job it is [`Database::write`].
    pub(crate) fn write_in_job<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T> {
        match &self.writer {
            Writer::Pool(_) if in_job() => with_job_connection(work).map_err(Error::from),
            Writer::Queue(_) if on_writer_thread() => with_writer_connection(work).map_err(Error::from),
            _ => self.write(work),
        }
    }

    /// Runs work that writes, atomically: its own transaction on PostgreSQL, its own savepoint in the
    /// writer's batch on SQLite. Returns once the work is committed (or has failed).
    pub(crate) fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T> {
        match &self.writer {
            Writer::Pool(_) if in_job() => {
                // Inside a PostgreSQL job: a savepoint of its transaction, committed with it.
                with_job_connection(|conn| in_savepoint(conn, work)).map_err(Error::from)
            }
            Writer::Pool(pool) => {
                let mut conn = self.checkout(pool)?;
                let conn: &mut AnyConnection = &mut conn;
                conn.transaction(work).map_err(Error::from)
            }
            Writer::Queue(_) if on_writer_thread() => {
                // Already inside a batch (see `run_on_writer`): a savepoint of it, committed with it.
                with_writer_connection(|conn| in_savepoint(conn, work)).map_err(Error::from)
            }
            Writer::Queue(queue) => {
                let (reply, answer) = sync_channel::<Result<T>>(1);
                let reply = Answer::new(move |result| drop(reply.send(result)));
                let job: Job = Box::new(move || {
                    let outcome = with_writer_connection(|conn| in_savepoint(conn, work));
                    Box::new(move |committed| {
                        let result = match (outcome, committed) {
                            (Ok(value), Ok(())) => Ok(value),
                            (Ok(_), Err(err)) => {
                                Err(Error::Store(StoreError::Unavailable(format!("commit failed: {err}"))))
                            }
                            (Err(failure), _) => Err(failure.into()),
                        };
                        reply.send(result);
                    })
                });
                let stopped = || Error::Store(StoreError::Unavailable("the SQLite writer stopped".into()));
                queue.send(job).map_err(|_| stopped())?;
                answer.recv().map_err(|_| stopped())?
            }
        }
    }

    /// Runs `work` where writes are cheapest, and resolves once they are committed: on SQLite, on the
    /// writer thread as one job of its batch (every read and write `work` makes goes to the writer's
    /// connection, and the answer comes after the batch commits); on PostgreSQL, on a blocking thread
    /// in one transaction of its own (every read and write `work` makes goes to its connection). Either
    /// way the job is one unit of work: when `work` fails, none of its writes is kept.
    ///
    /// For request handlers that change data: awaited from async code, the request costs no blocking
    /// thread and two thread hand-offs (to the writer and back) instead of four.
    pub fn run_on_writer<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = Result<T>> + Send>> {
        let stopped = || Error::Store(StoreError::Unavailable("the SQLite writer stopped".into()));
        match &self.writer {
            Writer::Pool(pool) => {
                let pool = pool.clone();
                Box::pin(async move {
                    tokio::task::spawn_blocking(move || {
                        // The job is one transaction: every write it makes commits, or none does.
                        let conn = pool.get().map_err(|e| {
                            Error::Store(StoreError::Unavailable(format!("no database connection: {e}")))
                        })?;
                        let job = PinnedJob::begin(conn)?;
                        let outcome = work();
                        job.finish(outcome.is_ok())?;
                        outcome
                    })
                    .await
                    .map_err(|e| Error::Store(StoreError::Internal(format!("a blocking task failed: {e}"))))?
                })
            }
            Writer::Queue(queue) => {
                let (reply, answer) = tokio::sync::oneshot::channel::<Result<T>>();
                let reply = Answer::new(move |result| drop(reply.send(result)));
                let job: Job = Box::new(move || {
                    let outcome = work();
                    if outcome.is_err() {
                        // The job is one unit of work: a job that fails after some of its writes keeps
                        // none of them (run_job then releases the emptied savepoint).
                        if let Err(err) = tx(TxStatement::JobRollback) {
                            tracing::error!(error = %err, "a failed write could not be rolled back");
                        }
                    }
                    Box::new(move |committed| {
                        let result = match (outcome, committed) {
                            (Ok(value), Ok(())) => Ok(value),
                            (Ok(_), Err(err)) => {
                                Err(Error::Store(StoreError::Unavailable(format!("commit failed: {err}"))))
                            }
                            (Err(err), _) => Err(err),
                        };
                        reply.send(result);
                    })
                });
                let queue = queue.clone();
                Box::pin(async move {
                    // The queue is bounded: when it is full, wait for room off the async threads.
                    if let Err(std::sync::mpsc::TrySendError::Full(job)) = queue.try_send(job) {
                        tokio::task::spawn_blocking(move || queue.send(job))
                            .await
                            .map_err(|_| stopped())?
                            .map_err(|_| stopped())?;
                    }
                    answer.await.map_err(|_| stopped())?
                })
            }
        }
    }

    /// A connection of its own, for tests and tooling that need raw SQL.
    pub fn with_connection<T>(&self, work: impl FnOnce(&mut AnyConnection) -> diesel::QueryResult<T>) -> Result<T> {
        let mut conn = self.dedicated()?;
        work(&mut conn).map_err(|e| Error::Store(db_error(e)))
    }
}

/// The writer as core's port: record changes run through [`Database::run_on_writer`].
impl garrison_core::threads::WriteQueue for Database {
    fn submit(&self, job: garrison_core::threads::WriteJob) -> garrison_core::threads::WriteFuture {
        self.run_on_writer(job)
    }
}

/// How long readiness waits for the SQLite writer to run an empty job.
const WRITER_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

impl HealthCheck for Database {
    /// A reader answers `SELECT 1`; on SQLite the writer must also be running and take an empty job
    /// through a batch within `WRITER_PROBE_TIMEOUT` (a stopped, wedged or overfull writer is not
    /// ready: writes would fail or wait).
    fn check(&self) -> Result<()> {
        self.read(|conn| Ok(diesel::sql_query("SELECT 1").execute(conn).map(drop)?))?;
        let Writer::Queue(queue) = &self.writer else {
            return Ok(());
        };
        let unavailable = |why: &str| Error::Store(StoreError::Unavailable(why.to_owned()));
        if self.writer_health.stopped.load(Ordering::Acquire) {
            return Err(unavailable("the SQLite writer has stopped"));
        }
        let (reply, answer) = sync_channel::<()>(1);
        let probe: Job = Box::new(move || {
            Box::new(move |_| {
                let _ = reply.send(());
            })
        });
        match queue.try_send(probe) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(unavailable("the SQLite writer's queue is full")),
            Err(TrySendError::Disconnected(_)) => return Err(unavailable("the SQLite writer has stopped")),
        }
        answer.recv_timeout(WRITER_PROBE_TIMEOUT).map_err(|_| unavailable("the SQLite writer does not answer"))
    }

    fn report(&self) -> HealthReport {
        self.writer_health.report()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_picks_the_backend() {
        assert_eq!(Backend::from_url("sqlite://./data/g.db").expect("sqlite").0, Backend::Sqlite);
        assert_eq!(Backend::from_url("sqlite://./data/g.db").expect("sqlite").1, "./data/g.db");
        assert_eq!(Backend::from_url("postgres://postgres@127.0.0.1/x").expect("pg").0, Backend::Postgres);
        assert_eq!(Backend::from_url("postgresql://h/x").expect("pg").0, Backend::Postgres);
        for bad in ["mysql://h/x", "./data/garrison.db", "sqlite://", "postgress://h/x"] {
            let err = Backend::from_url(bad).expect_err(bad).to_string();
            assert!(err.starts_with("database_url:"), "{err}");
        }
    }

    fn sqlite() -> (garrison_testkit::TestDatabase, Database) {
        let fresh = garrison_testkit::TestDatabase::sqlite();
        let db = Database::open(fresh.url(), PoolSizes { connections: 2, ..PoolSizes::default() }).expect("open");
        db.migrate().expect("migrate");
        (fresh, db)
    }

    fn count_policies(db: &Database) -> usize {
        db.read(|conn| {
            Ok(crate::schema::ep_policies::table.select(crate::schema::ep_policies::server_id).load::<i64>(conn)?.len())
        })
        .expect("count")
    }

    fn add_policy(conn: &mut AnyConnection, server: i64) -> Result<(), Failure> {
        diesel::sql_query(format!("INSERT INTO ep_policies VALUES ({server}, 7, 0, 0, 0, 0, 0, 3, 0)"))
            .execute(conn)?;
        Ok(())
    }

    use diesel::QueryDsl;

    #[test]
    fn a_panicking_write_is_rolled_back_alone_and_the_writer_carries_on() {
        let (_fresh, db) = sqlite();
        // A job that writes (in a savepoint of its own, left open by the panic) and then panics.
        let err = db
            .write(|conn| {
                add_policy(conn, 1)?;
                panic!("a bug in a handler");
                #[allow(unreachable_code)]
                Ok(())
            })
            .expect_err("the panic is an error for its caller");
        assert!(matches!(err, Error::Store(StoreError::Internal(ref m)) if m.contains("panicked")), "{err:?}");
        // A job whose work panics after a completed write of its own (as a handler's run_on_writer job would).
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let inner = db.clone();
        let err = runtime
            .block_on(db.run_on_writer(move || -> Result<()> {
                inner.write(|conn| add_policy(conn, 2))?;
                panic!("after a write");
            }))
            .expect_err("panicked");
        assert!(matches!(err, Error::Store(StoreError::Internal(_))), "{err:?}");
        // The next job succeeds, nothing of the panicking ones was committed, and health says what happened.
        db.write(|conn| add_policy(conn, 3)).expect("the writer carries on");
        assert_eq!(count_policies(&db), 1, "only the write that did not panic");
        db.check().expect("ready");
        assert_eq!(db.report(), HealthReport { writer_stopped: false, writer_restarts: 0, panicked_writes: 2 });
    }

    #[test]
    fn a_write_job_that_fails_keeps_none_of_its_writes() {
        let (_fresh, db) = sqlite();
        a_failed_job_keeps_nothing(&db);
        let Some(url) = garrison_testkit::postgres_url() else {
            garrison_testkit::report_skip("write jobs as one unit of work on PostgreSQL");
            return;
        };
        let fresh = garrison_testkit::TestDatabase::postgres(&url);
        let db = Database::open(fresh.url(), PoolSizes::default()).expect("open");
        db.migrate().expect("migrate");
        a_failed_job_keeps_nothing(&db);
        // A job that panics leaves no transaction open on its thread's next job.
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let inner = db.clone();
        let panicked = runtime.block_on(db.run_on_writer(move || -> Result<()> {
            inner.write(|conn| add_policy(conn, 5))?;
            panic!("a bug after a write");
        }));
        assert!(panicked.is_err());
        let kept: Vec<i64> = db
            .read(|conn| {
                Ok(crate::schema::ep_policies::table.select(crate::schema::ep_policies::server_id).load::<i64>(conn)?)
            })
            .expect("read");
        assert!(!kept.contains(&5), "the panicked job's write was rolled back: {kept:?}");
    }

    fn a_failed_job_keeps_nothing(db: &Database) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let inner = db.clone();
        let err = runtime
            .block_on(db.run_on_writer(move || -> Result<()> {
                inner.write(|conn| add_policy(conn, 1))?;
                inner.write(|conn| add_policy(conn, 2))?;
                Err(Error::invalid("field", "a rule the job checks after its first writes"))
            }))
            .expect_err("the job failed");
        assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
        let inner = db.clone();
        runtime
            .block_on(db.run_on_writer(move || -> Result<()> {
                inner.write(|conn| add_policy(conn, 3))?;
                inner.write(|conn| add_policy(conn, 4))
            }))
            .expect("a job that succeeds keeps all its writes");
        let kept: Vec<i64> = db
            .read(|conn| {
                Ok(crate::schema::ep_policies::table
                    .select(crate::schema::ep_policies::server_id)
                    .order(crate::schema::ep_policies::server_id)
                    .load::<i64>(conn)?)
            })
            .expect("read");
        assert_eq!(kept, [3, 4], "nothing of the failed job");
    }

    #[test]
    fn the_writer_restarts_after_a_failure_and_gives_up_after_too_many() {
        let health = WriterHealth::default();
        let mut runs = 0;
        supervise(&health, || {
            runs += 1;
            assert!(runs > 2, "fails twice, then ends normally");
        });
        assert_eq!(runs, 3);
        assert_eq!(health.report(), HealthReport { writer_stopped: false, writer_restarts: 2, panicked_writes: 0 });

        let health = WriterHealth::default();
        supervise(&health, || panic!("always"));
        let report = health.report();
        assert!(report.writer_stopped);
        assert_eq!(report.writer_restarts, MAX_RESTARTS as u64 + 1);
    }

    #[test]
    fn the_wal_is_truncated_every_five_minutes_when_written() {
        let start = Instant::now();
        let mut schedule = CheckpointSchedule::new(start);
        let at = |secs| start + Duration::from_secs(secs);
        assert_eq!(schedule.next(at(1), false), None, "nothing written, nothing to do");
        assert_eq!(schedule.next(at(2), true), Some(Checkpoint::Passive));
        assert_eq!(schedule.next(at(299), false), None);
        assert_eq!(schedule.next(at(300), false), Some(Checkpoint::Truncate), "written since the last truncate");
        assert_eq!(schedule.next(at(700), false), None, "nothing written since");
        assert_eq!(schedule.next(at(701), true), Some(Checkpoint::Truncate));
        assert_eq!(schedule.next(at(702), true), Some(Checkpoint::Passive));
    }

    #[test]
    fn a_truncate_checkpoint_empties_the_wal_file() {
        let (fresh, db) = sqlite();
        for server in 10..60 {
            db.write(move |conn| add_policy(conn, server)).expect("write");
        }
        let path = fresh.url().strip_prefix("sqlite://").expect("sqlite url");
        let wal = std::fs::metadata(format!("{path}-wal")).expect("a WAL file").len();
        assert!(wal > 0);
        db.with_connection(|conn| conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")).expect("checkpoint");
        assert_eq!(std::fs::metadata(format!("{path}-wal")).expect("a WAL file").len(), 0);
        assert_eq!(count_policies(&db), 50);
    }

    /// The WAL's checkpoint sequence number (bytes 12 to 16 of its header), which grows by one each
    /// time the WAL starts over from its beginning.
    fn wal_restarts(db_path: &str) -> Option<u32> {
        use std::io::Read as _;
        let mut header = [0u8; 16];
        std::fs::File::open(format!("{db_path}-wal")).ok()?.read_exact(&mut header).ok()?;
        Some(u32::from_be_bytes([header[12], header[13], header[14], header[15]]))
    }

    #[test]
    fn the_wal_starts_over_under_a_load_that_never_pauses() {
        let (fresh, db) = sqlite();
        let path = fresh.url().trim_start_matches("sqlite://").to_owned();
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..4_i64)
            .map(|n| {
                let (db, stop) = (db.clone(), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let mut server = n * 1_000_000;
                    while !stop.load(Ordering::Acquire) {
                        server += 1;
                        db.write(move |conn| add_policy(conn, server)).expect("written");
                    }
                })
            })
            .collect();
        std::thread::sleep(CHECKPOINT_EVERY / 2);
        let first = wal_restarts(&path).expect("a WAL");
        std::thread::sleep(CHECKPOINT_EVERY * 6);
        let later = wal_restarts(&path).expect("a WAL");
        stop.store(true, Ordering::Release);
        for writer in writers {
            writer.join().expect("writer");
        }
        assert!(later > first, "the WAL never started over: it only grows ({first} then {later} restarts)");
        assert!(count_policies(&db) > 0);
    }

    #[test]
    fn readiness_fails_when_the_writer_is_gone_wedged_or_stopped() {
        let (_fresh, db) = sqlite();
        db.check().expect("ready");
        // Gone: its queue has no receiver.
        let (queue, jobs) = sync_channel::<Job>(1);
        drop(jobs);
        let gone = Database { writer: Writer::Queue(queue), ..db.clone() };
        assert!(gone.check().expect_err("gone").to_string().contains("stopped"));
        // Stopped: the supervisor gave up.
        let stopped = Database { writer_health: Arc::new(WriterHealth::default()), ..db.clone() };
        stopped.writer_health.stopped.store(true, Ordering::Release);
        assert!(stopped.check().expect_err("stopped").to_string().contains("stopped"));
        assert!(stopped.report().writer_stopped);
        // Wedged: a write that does not finish.
        let blocker = db.clone();
        let wedge = std::thread::spawn(move || {
            blocker.write(|_| {
                std::thread::sleep(WRITER_PROBE_TIMEOUT + Duration::from_millis(500));
                Ok(())
            })
        });
        std::thread::sleep(Duration::from_millis(100));
        assert!(db.check().expect_err("wedged").to_string().contains("does not answer"));
        wedge.join().expect("thread").expect("the slow write finishes");
        db.check().expect("ready again");
    }

    fn migration_names(backend: &str) -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("migrations folder")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let sqlite = migration_names("sqlite");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, migration_names("postgres"));
        for name in &sqlite {
            for backend in ["sqlite", "postgres"] {
                for file in ["up.sql", "down.sql"] {
                    let path =
                        Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend).join(name).join(file);
                    assert!(path.is_file(), "missing {}", path.display());
                }
            }
        }
    }
}
