//! Starts the real `garrison` binary on `127.0.0.1:0` with a temporary data directory and a fresh
//! database, and speaks HTTP to it. Nothing here reaches into the server's code.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use garrison_testkit::TestDatabase;
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

/// A running server. Dropping it stops the process and removes its data.
pub struct Server {
    child: Child,
    pub base: String,
    logs: Arc<Mutex<String>>,
    dir: tempfile::TempDir,
    pub db: TestDatabase,
    client: reqwest::Client,
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

/// A `garrison` command with the environment of a server using `db` in `dir`.
pub fn command(dir: &Path, db: &TestDatabase) -> Command {
    let mut cmd = Command::new(binary());
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GARRISON_DATABASE_URL", db.url())
        .env("GARRISON_BIND", "127.0.0.1:0")
        .env("GARRISON_LOG", "info")
        .env("GARRISON_WORKERS", "2");
    cmd
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
        let mut cmd = command(dir.path(), &db);
        cmd.envs(env.iter().copied()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the garrison binary starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let logs = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&logs);
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("listening on http://")
                    && let Some(tx) = tx.take()
                {
                    // Text logs end the URL with a space, JSON logs with a quote.
                    let addr: String = line[at + "listening on ".len()..]
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '"')
                        .collect();
                    let _ = tx.send(addr);
                }
                let mut logs = sink.lock().expect("log lock");
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        let Ok(base) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("the server did not start; its log:\n{}", logs.lock().expect("log lock"));
        };
        Self { child, base, logs, dir, db, client }
    }

    /// The server's working directory (its local object store lives in `data/objects` below it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's process id (for tests that look at its open files).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server has logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().expect("log lock").clone()
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
        assert!(!key.contains('\n'), "apikey create printed more than the key: {stdout:?}");
        assert!(
            key.starts_with("gar_") && key.len() == 68 && key[4..].bytes().all(|b| b.is_ascii_hexdigit()),
            "{key:?}"
        );
        key.to_owned()
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request with an optional `Authorization: Bearer` key and JSON body.
    pub async fn send(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts a status and returns the reply for further checks.
#[track_caller]
pub fn expect(reply: Reply, status: u16) -> Reply {
    assert_eq!(reply.status.as_u16(), status, "unexpected status; body: {}", reply.body);
    reply
}

/// Declares tests that run once per backend. Each test is `async fn name(server: Server)`;
/// the PostgreSQL variant reports itself skipped when no server is configured.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let db = $crate::harness::database($crate::harness::Backend::Sqlite).expect("SQLite is always available");
                super::$name($crate::harness::Server::start(db)).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(db) = $crate::harness::database($crate::harness::Backend::Postgres) else {
                    garrison_testkit::report_skip(concat!("blackbox postgres::", module_path!(), "::", stringify!($name)));
                    return;
                };
                super::$name($crate::harness::Server::start(db)).await;
            })*
        }
    };
}
pub(crate) use on_both_backends;
