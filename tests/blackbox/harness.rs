//! Starts the real `garrison` binary on `127.0.0.1:0` with a temporary data directory and a fresh
//! database, and speaks HTTP to it. Nothing here reaches into the server's code. Starting, waiting for
//! readiness, log capture and stopping are testkit's launcher (`garrison_testkit::server`), which
//! `cargo xtask bench` uses too.
//!
//! No secret in logs, checked for every test: the harness remembers each secret a test used (API
//! keys it created or sent, token and key headers sent through `simulated::Discord`, secret
//! settings, and the view ids in the links and `viewId`s answers carry) and, when a [`Server`] is
//! dropped, fails the test if any of them appears in that server's log.

use std::{
    collections::BTreeSet,
    path::Path,
    process::Command,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use garrison_testkit::{
    TestDatabase,
    server::{Launch, Running},
};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;

pub const SERVER: &str = "123456789012345678";
pub const OTHER_SERVER: &str = "876543210987654321";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database a server under test uses; `None` when the backend is not available here.
pub fn database(backend: Backend) -> Option<TestDatabase> {
    match backend {
        Backend::Sqlite => Some(TestDatabase::sqlite()),
        Backend::Postgres => garrison_testkit::postgres_url().map(|url| TestDatabase::postgres(&url)),
    }
}

/// Every secret the tests in this process have used; shared, since the tests run in parallel and
/// `Server::reply` sees answers without a server. Another test's secret in a log is a leak too.
static SECRETS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Secrets shorter than this are test placeholders (`x`, `TOKEN`) that could occur in a log by chance.
const SHORTEST_SECRET: usize = 8;

/// Remembers `value` as a secret no server may log.
pub fn secret(value: &str) {
    let value = value.trim();
    if value.len() >= SHORTEST_SECRET {
        SECRETS.lock().unwrap_or_else(PoisonError::into_inner).insert(value.to_owned());
    }
}

/// Whether a header or setting with this name carries a credential.
pub fn names_a_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["token", "key", "secret", "auth", "password"].iter().any(|word| name.contains(word))
}

/// Remembers the view ids in an answer: the last segment of `viewUrl` / `directLink` links (and of
/// any other `/view/` link) and `viewId` values, wherever they sit in the JSON.
fn remember_view_ids(body: &Value) {
    match body {
        Value::Object(fields) => {
            for (name, value) in fields {
                match value {
                    Value::String(text) if name.eq_ignore_ascii_case("viewId") => secret(text),
                    Value::String(text) if text.contains("/view/") => {
                        secret(text.rsplit('/').next().unwrap_or_default());
                    }
                    other => remember_view_ids(other),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(remember_view_ids),
        _ => {}
    }
}

/// The secrets found in `logs`, shown by their length and first characters only.
fn leaked(logs: &str) -> Vec<String> {
    leaked_from(&SECRETS.lock().unwrap_or_else(PoisonError::into_inner), logs)
}

fn leaked_from(secrets: &BTreeSet<String>, logs: &str) -> Vec<String> {
    secrets
        .iter()
        .filter(|secret| logs.contains(secret.as_str()))
        .map(|secret| format!("{}... ({} characters)", secret.chars().take(4).collect::<String>(), secret.len()))
        .collect()
}

/// A running server. Dropping it stops the process, checks its log for secrets and removes its data.
pub struct Server {
    process: Running,
    pub base: String,
    dir: tempfile::TempDir,
    pub db: TestDatabase,
    client: reqwest::Client,
    /// The settings it was started with (a restart keeps them).
    env: Vec<(String, String)>,
    /// The logs of the processes killed before this one (see [`Server::kill_and_restart`]).
    earlier_logs: String,
}

/// Another server process on a [`Server`]'s database (see [`Server::replica`]).
pub struct Replica {
    process: Running,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Replica {
    /// Fails the test if any secret a test used so far appears in this replica's log.
    #[track_caller]
    pub fn assert_no_secret_logged(&self) {
        let leaked = leaked(&self.process.logs());
        assert!(leaked.is_empty(), "secrets in the replica's log: {leaked:?}");
    }
}

/// A response as a client sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `error` message of an error reply.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_else(|| panic!("no error message in {}: {}", self.status, self.body))
    }
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_garrison")
}

/// How the tests start a server using `db` in `dir`: an empty environment but for `PATH`, info logs,
/// two workers.
fn launch(dir: &Path, db: &TestDatabase) -> Launch {
    Launch::new(binary(), db.url()).dir(dir).clean_env().env("GARRISON_LOG", "info").env("GARRISON_WORKERS", "2")
}

/// A `garrison` command with the environment of a server using `db` in `dir`.
pub fn command(dir: &Path, db: &TestDatabase) -> Command {
    launch(dir, db).command()
}

impl Server {
    pub fn start(db: TestDatabase) -> Self {
        Self::start_with(db, &[])
    }

    pub fn start_with(db: TestDatabase, env: &[(&str, &str)]) -> Self {
        // The workspace's reqwest speaks TLS through rustls with a provider chosen by the process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Built before the process starts: a panic after it would leave the server running.
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
        let dir = tempfile::tempdir().expect("temporary directory");
        for (name, value) in env {
            if names_a_secret(name) {
                secret(value);
            }
        }
        let process = launch(dir.path(), &db).envs(env.iter().copied()).start().unwrap_or_else(|e| panic!("{e}"));
        let base = process.base().to_owned();
        let env = env.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        Self { process, base, dir, db, client, env, earlier_logs: String::new() }
    }

    /// Kills the server with SIGKILL, as a crash or the kernel's OOM killer would (nothing gets to
    /// clean up), and starts it again on the same database, directory and settings, on a new port.
    pub fn kill_and_restart(&mut self) {
        self.process.stop();
        self.earlier_logs.push_str(&self.process.logs());
        let env = self.env.iter().map(|(name, value)| (name.as_str(), value.as_str()));
        self.process = launch(self.dir.path(), &self.db).envs(env).start().unwrap_or_else(|e| panic!("{e}"));
        self.base = self.process.base().to_owned();
    }

    /// A second process on this server's database and settings, in a directory of its own: a replica
    /// behind the same load balancer (give both `GARRISON_SECRET_KEY`, or the replica cannot open
    /// what the first sealed). Stopped when dropped.
    pub fn replica(&self) -> Replica {
        let dir = tempfile::tempdir().expect("temporary directory");
        let env = self.env.iter().map(|(name, value)| (name.as_str(), value.as_str()));
        let process = launch(dir.path(), &self.db).envs(env).start().unwrap_or_else(|e| panic!("{e}"));
        let base = process.base().to_owned();
        Replica { process, base, _dir: dir }
    }

    /// Fails the test if any secret a test used so far appears in this server's log.
    #[track_caller]
    pub fn assert_no_secret_logged(&self) {
        let leaked = leaked(&self.logs());
        assert!(leaked.is_empty(), "secrets appeared in the server's log: {leaked:?}");
    }

    /// The server's working directory (its local object store lives in `data/objects` below it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the server has logged so far (its killed processes' logs first).
    pub fn logs(&self) -> String {
        format!("{}{}", self.earlier_logs, self.process.logs())
    }

    /// Runs a `garrison` subcommand against this server's database; returns (success, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let out = command(self.dir.path(), &self.db).args(args).output().expect("the garrison binary runs");
        let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.code().is_none() {
            stderr.push_str(&format!("\n(garrison {args:?} ended by a signal: {})", out.status));
        }
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
    }

    /// Creates an API key with the CLI, checking it prints the key and nothing else.
    pub fn create_key(&self, server: &str, name: &str, read_only: bool) -> String {
        let mut args = vec!["apikey", "create", "--server", server, "--name", name];
        if read_only {
            args.push("--read-only");
        }
        let (ok, stdout, stderr) = self.cli(&args);
        assert!(ok, "apikey create failed: {stderr}");
        let key = stdout.trim_end_matches('\n');
        secret(key);
        assert!(!key.contains('\n'), "apikey create printed more than the key: {stdout:?}");
        assert!(
            key.starts_with("gar_") && key.len() == 68 && key[4..].bytes().all(|b| b.is_ascii_hexdigit()),
            "{key:?}"
        );
        key.to_owned()
    }

    /// The server's process id, for what only the operating system can tell (memory, CPU time, open files).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The server's peak resident memory so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("/proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc status")
    }

    /// CPU time (user + system, in clock ticks) used so far by the server and by its child
    /// processes that are still running (not yet exited).
    pub fn cpu_ticks(&self) -> u64 {
        let pid = self.pid();
        let mut total = proc_cpu_ticks(pid).map_or(0, |(_, _, ticks)| ticks);
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Some(other) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            if let Some((parent, state, ticks)) = proc_cpu_ticks(other)
                && parent == pid
                && state != 'Z'
            {
                total += ticks;
            }
        }
        total
    }

    /// The server's child processes that have not exited (zombies waiting to be reaped excluded).
    pub fn live_children(&self) -> usize {
        let pid = self.pid();
        std::fs::read_dir("/proc")
            .expect("/proc")
            .flatten()
            .filter_map(|entry| entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
            .filter_map(proc_cpu_ticks)
            .filter(|(parent, state, _)| *parent == pid && *state != 'Z')
            .count()
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// A `garrison-client` of this server (at its current address: make another after
    /// [`Server::kill_and_restart`]) sending `key`.
    pub fn api_client(&self, key: &str) -> garrison_client::Client {
        api_client(&self.base, key)
    }

    /// Sends a request with an optional `Authorization: Bearer` key and JSON body.
    pub async fn send(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            secret(key);
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Self::reply(request.send().await.expect("the server answers")).await
    }

    pub async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("{status}: not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        remember_view_ids(&body);
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.send(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(key), Some(body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.send(Method::DELETE, path, Some(key), None).await
    }
}

impl Server {
    /// Stops the server as an operator's `kill` would (SIGTERM) and waits up to `patience` for it to
    /// exit; `None` if it did not.
    pub fn terminate(&mut self, patience: Duration) -> Option<std::process::ExitStatus> {
        self.process.terminate(patience).expect("kill -TERM runs")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Stops the process and reads the whole log (the reader ends when its standard error closes).
        self.process.stop();
        if !std::thread::panicking() {
            self.assert_no_secret_logged();
        }
    }
}

/// Held by tests that load the machine on purpose (bursts of hostile requests) and measure
/// time or memory, so that two of them do not skew each other's measurements.
pub static LOAD_TEST: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A process's parent, state and CPU time (utime + stime, clock ticks) from `/proc/<pid>/stat`.
fn proc_cpu_ticks(pid: u32) -> Option<(u32, char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is parenthesised and may hold spaces: fields restart after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let parent = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((parent, state, utime + stime))
}

/// A `garrison-client` of the server at `base` (a [`Server`]'s or a [`Replica`]'s) sending `key`, which
/// is remembered as a secret. It retries nothing: a test sees each answer as the server gave it.
pub fn api_client(base: &str, key: &str) -> garrison_client::Client {
    secret(key);
    let key = garrison_client::ApiKeySecret::parse(key).unwrap_or_else(|| panic!("not an API key: {key:?}"));
    garrison_client::Client::builder(base)
        .api_key(key)
        .timeout(Duration::from_secs(30))
        .max_retries(0)
        .build()
        .expect("a client of the server")
}

/// Asserts a status and returns the reply for further checks.
#[track_caller]
pub fn expect(reply: Reply, status: u16) -> Reply {
    assert_eq!(reply.status.as_u16(), status, "unexpected status; body: {}", reply.body);
    reply
}

/// What a test declared with [`on_both_backends!`] is given: a [`Server`] started on the database
/// with no settings, or the [`TestDatabase`] itself, for a test that starts its server with settings.
pub trait FromDatabase {
    fn from_database(db: TestDatabase) -> Self;
}

impl FromDatabase for Server {
    fn from_database(db: TestDatabase) -> Self {
        Server::start(db)
    }
}

impl FromDatabase for TestDatabase {
    fn from_database(db: TestDatabase) -> Self {
        db
    }
}

/// Declares tests that run once per backend. Each test is `async fn name(server: Server)`, or
/// `async fn name(db: TestDatabase)` to start its own server (see [`FromDatabase`]); the PostgreSQL
/// variant reports itself skipped when no server is configured.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let db = $crate::harness::database($crate::harness::Backend::Sqlite).expect("SQLite is always available");
                super::$name($crate::harness::FromDatabase::from_database(db)).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(db) = $crate::harness::database($crate::harness::Backend::Postgres) else {
                    garrison_testkit::report_skip(concat!("blackbox postgres::", module_path!(), "::", stringify!($name)));
                    return;
                };
                super::$name($crate::harness::FromDatabase::from_database(db)).await;
            })*
        }
    };
}
pub(crate) use on_both_backends;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_ids_in_answers_are_remembered_and_leaks_are_found() {
        remember_view_ids(&serde_json::json!({
            "viewUrl": "https://garrison.example/api/modlogs/view/harness-modlog-view-id",
            "nested": [{"viewId": "harness-transcript-view-id"}, {"directLink": "http://x/api/Transcript/view/harness-link-id"}],
            "message": "not a link",
        }));
        let secrets = SECRETS.lock().unwrap_or_else(PoisonError::into_inner).clone();
        for id in ["harness-modlog-view-id", "harness-transcript-view-id", "harness-link-id"] {
            assert!(secrets.contains(id), "{id} was not remembered");
        }
        assert!(!secrets.contains("not a link"));
        let log = "INFO request{route=/api/modlogs/view/{id}}: served\nGET /api/modlogs/view/harness-modlog-view-id\n";
        let found = leaked_from(&secrets, log);
        assert_eq!(found, ["harn... (22 characters)"]);
        assert!(
            names_a_secret("X-Bot-Token") && names_a_secret("GARRISON_S3_SECRET_KEY") && names_a_secret("X-Auth-Key")
        );
        assert!(!names_a_secret("X-Guild-Id") && !names_a_secret("GARRISON_PUBLIC_URL"));
    }
}
