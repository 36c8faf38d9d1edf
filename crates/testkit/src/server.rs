//! One way to start the real `garrison` binary, shared by the black-box tests (`tests/blackbox/harness.rs`)
//! and the benchmarks (`cargo xtask bench`): a [`Launch`] names the binary, the database URL, the working
//! directory and the environment; [`Launch::start`] runs `garrison serve` on `127.0.0.1:0` (or a chosen
//! port), waits for the address it logs and then for `GET /readyz` to answer 200, and keeps everything the
//! server writes to standard error. The [`Running`] server is killed when dropped.
//!
//! The readiness probe sends the request id [`PROBE_REQUEST_ID`], and the lines logged under it (its
//! access line) are left out of the kept log: a test that waits for its own requests' access lines, or
//! counts them, sees only those.

use std::{
    ffi::OsString,
    fmt,
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex, PoisonError, mpsc},
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// The `X-Request-Id` of the launcher's readiness probe; log lines carrying it are not kept.
pub const PROBE_REQUEST_ID: &str = "garrison-launch-readiness-probe";

/// How to start a `garrison` server: a builder, consumed by nothing (start it as often as needed).
#[derive(Debug, Clone)]
pub struct Launch {
    binary: PathBuf,
    database_url: String,
    dir: Option<PathBuf>,
    bind: String,
    clean_env: bool,
    env: Vec<(OsString, OsString)>,
    patience: Duration,
}

/// Why a server did not start, with everything it logged.
#[derive(Debug)]
pub struct LaunchError {
    pub reason: String,
    pub log: String,
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server did not start: {}; its log:\n{}", self.reason, self.log)
    }
}

impl std::error::Error for LaunchError {}

impl Launch {
    /// `binary` serving the database at `database_url`, on `127.0.0.1:0`, in the current directory, with
    /// this process's environment.
    pub fn new(binary: impl Into<PathBuf>, database_url: impl Into<String>) -> Self {
        Self {
            binary: binary.into(),
            database_url: database_url.into(),
            dir: None,
            bind: "127.0.0.1:0".into(),
            clean_env: false,
            env: Vec::new(),
            patience: Duration::from_secs(60),
        }
    }

    /// The server's working directory (its local object store lives in `data/objects` below it).
    #[must_use]
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Listen on `127.0.0.1:port` instead of a port the system picks.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.bind = format!("127.0.0.1:{port}");
        self
    }

    /// Start from an empty environment (only `PATH` is kept), so no `GARRISON_*` variable of the caller
    /// reaches the server.
    #[must_use]
    pub fn clean_env(mut self) -> Self {
        self.clean_env = true;
        self
    }

    /// Sets an environment variable; later values win, and these win over the database URL and bind
    /// address the launch sets itself.
    #[must_use]
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Sets several environment variables, as [`Launch::env`].
    #[must_use]
    pub fn envs<K: Into<OsString>, V: Into<OsString>>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self {
        self.env.extend(vars.into_iter().map(|(name, value)| (name.into(), value.into())));
        self
    }

    /// How long to wait for the server to listen and then to be ready (60 s by default).
    #[must_use]
    pub fn patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// The binary with this launch's directory and environment and no subcommand: for operator
    /// commands (`apikey create`, `migrate`) against the same database, or a start-up the caller watches
    /// itself.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        if self.clean_env {
            command.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
        }
        command.env("GARRISON_DATABASE_URL", &self.database_url).env("GARRISON_BIND", &self.bind);
        command.envs(self.env.iter().map(|(name, value)| (name, value)));
        command
    }

    /// Runs `garrison serve`, waits for the address it listens on and for `GET /readyz` to answer 200.
    pub fn start(&self) -> Result<Running, LaunchError> {
        let mut command = self.command();
        command.arg("serve").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| LaunchError {
            reason: format!("{} cannot run: {e}", self.binary.display()),
            log: String::new(),
        })?;
        let Some(stderr) = child.stderr.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(LaunchError { reason: "no standard error to read".into(), log: String::new() });
        };
        let logs = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&logs);
        let reader = std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains(PROBE_REQUEST_ID) {
                    continue;
                }
                if tx.is_some()
                    && let Some(addr) = listening_address(&line)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr);
                }
                let mut logs = sink.lock().unwrap_or_else(PoisonError::into_inner);
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        // From here on, dropping `running` kills the process.
        let mut running = Running {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            base: String::new(),
            logs,
            reader: Some(reader),
        };
        let deadline = Instant::now() + self.patience;
        let fail = |running: &mut Running, reason: String| -> Result<Running, LaunchError> {
            running.stop();
            Err(LaunchError { reason, log: running.logs() })
        };
        let addr = match rx.recv_timeout(self.patience) {
            Ok(addr) => addr,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return fail(&mut running, format!("it logged no address within {:?}", self.patience));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = running.child.wait().map(|s| s.to_string()).unwrap_or_default();
                return fail(&mut running, format!("it ended before listening ({status})"));
            }
        };
        let Ok(socket) = addr.parse::<SocketAddr>() else {
            return fail(&mut running, format!("it logged an address that is not one: {addr:?}"));
        };
        running.addr = socket;
        running.base = format!("http://{addr}");
        loop {
            if ready(socket) {
                return Ok(running);
            }
            if let Ok(Some(status)) = running.child.try_wait() {
                return fail(&mut running, format!("it ended before it was ready ({status})"));
            }
            if Instant::now() >= deadline {
                return fail(&mut running, format!("GET /readyz did not answer 200 within {:?}", self.patience));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The `HOST:PORT` of a `listening on http://HOST:PORT` line: text logs end the URL with a space, JSON
/// logs with a quote.
fn listening_address(line: &str) -> Option<String> {
    const MARK: &str = "listening on http://";
    let at = line.find(MARK)?;
    let addr: String =
        line[at + MARK.len()..].chars().take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\\').collect();
    (!addr.is_empty()).then_some(addr)
}

/// Whether `GET /readyz` answers 200 (HTTP/1.1 on a fresh connection, a second at most), asked with
/// the probe's request id.
fn ready(addr: SocketAddr) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
        stream.set_read_timeout(Some(Duration::from_secs(1)))?;
        stream.set_write_timeout(Some(Duration::from_secs(1)))?;
        write!(
            stream,
            "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nX-Request-Id: {PROBE_REQUEST_ID}\r\nConnection: close\r\n\r\n"
        )?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200"))
    };
    attempt().unwrap_or(false)
}

/// A started server. Dropping it kills the process and waits for it.
#[derive(Debug)]
pub struct Running {
    child: Child,
    addr: SocketAddr,
    base: String,
    logs: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl Running {
    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process id, for what only the operating system can tell (memory, CPU time).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server has written to standard error so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Stops the server as an operator's `kill` would (SIGTERM) and waits up to `patience` for it to
    /// exit; `None` if it did not.
    pub fn terminate(&mut self, patience: Duration) -> std::io::Result<Option<ExitStatus>> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(Some(status));
        }
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status()?;
        if !sent.success() {
            return Err(std::io::Error::other(format!("kill -TERM {pid} failed: {sent}")));
        }
        let started = Instant::now();
        while started.elapsed() < patience {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(None)
    }

    /// Kills the server (if it still runs), waits for it and reads the rest of its log. Idempotent.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The whole log: the reader ends when the process's standard error closes.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_from_text_and_json_logs() {
        let text = "2026-01-01T00:00:00Z  INFO garrison::cli: listening on http://127.0.0.1:4321 backend=Sqlite";
        assert_eq!(listening_address(text).as_deref(), Some("127.0.0.1:4321"));
        let json = r#"{"level":"INFO","fields":{"message":"listening on http://127.0.0.1:5555","backend":"Sqlite"}}"#;
        assert_eq!(listening_address(json).as_deref(), Some("127.0.0.1:5555"));
        assert_eq!(listening_address("listening on every interface without GARRISON_PUBLIC_URL"), None);
    }

    #[test]
    fn the_command_carries_the_database_bind_and_environment_in_order() {
        let launch = Launch::new("/bin/garrison", "sqlite:///tmp/x.db")
            .dir("/tmp")
            .port(8123)
            .clean_env()
            .env("GARRISON_LOG", "info")
            .envs([("GARRISON_BIND", "127.0.0.1:0")]);
        let command = launch.command();
        let env: Vec<(String, Option<String>)> = command
            .get_envs()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.map(|v| v.to_string_lossy().into_owned())))
            .collect();
        let value = |name: &str| env.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.clone());
        assert_eq!(value("GARRISON_DATABASE_URL").as_deref(), Some("sqlite:///tmp/x.db"));
        assert_eq!(value("GARRISON_LOG").as_deref(), Some("info"));
        assert_eq!(value("GARRISON_BIND").as_deref(), Some("127.0.0.1:0"), "the caller's value wins");
        assert_eq!(command.get_current_dir(), Some(std::path::Path::new("/tmp")));
    }

    #[test]
    fn a_server_that_ends_at_once_is_reported_with_its_log() {
        // `sh serve` as the "server": the shell reads the script `serve` in its working directory, which
        // writes to standard error and exits without listening.
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("serve"), "echo 'config error: no such setting' >&2\nexit 3\n").expect("write");
        let error = Launch::new("/bin/sh", "sqlite:///nowhere").dir(dir.path()).start().expect_err("it cannot start");
        assert!(error.reason.contains("ended before listening"), "{error}");
        assert!(error.log.contains("config error: no such setting"), "{error}");
    }
}
