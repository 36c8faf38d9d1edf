//! `cargo xtask <task>`: the workspace's developer and operator tasks.
//!
//! - `ci`: formatting, clippy (`-D warnings`), the docs (`cargo doc`, `-D warnings`), then `test`. With
//!   `CI=true`, a suite skipped for want of a service is a failure.
//! - `test`: every test suite, pointing the PostgreSQL suites at `GARRISON_TEST_POSTGRES_URL` or, when
//!   unset, at `postgres://postgres@127.0.0.1:5432/postgres` if a server answers there, and the S3
//!   object-store suite at `GARRISON_TEST_S3_URL` (`http://KEY:SECRET@HOST:PORT/`) if a server answers
//!   there; prints which suites ran and which were skipped.
//! - `openapi`: writes `docs/openapi.json` from the code.
//! - `tidy`: only the tidy checks (`tidy.rs`; `test` and `ci` run them too, as `cargo test -p xtask`).
//! - `bench`: drives the release server over HTTP; see `docs/benchmarks.md`.
//! - `apikey ...`: runs `garrison apikey ...` against the configured database.
#![allow(clippy::print_stdout)] // a task runner reports on standard output

mod bench;
mod bench_backup;
mod bench_cards;
mod bench_discord;
mod bench_gateway;
mod bench_peers;
mod bench_roblox;
mod bench_streams;
mod bench_transcripts;
mod bench_webhooks;
#[cfg(test)]
mod tidy;

use std::{
    net::{SocketAddr, TcpStream, ToSocketAddrs},
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{Context, bail};

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const S3_URL_VAR: &str = "GARRISON_TEST_S3_URL";
const CHROMIUM_VAR: &str = "GARRISON_TEST_CHROMIUM";

/// The headless browser the page tests should use: `GARRISON_TEST_CHROMIUM`, else Debian's
/// `/usr/bin/chromium` when installed.
fn chromium_for_tests() -> Result<String, String> {
    let path = std::env::var(CHROMIUM_VAR).ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "/usr/bin/chromium".into());
    if std::path::Path::new(&path).is_file() {
        Ok(path)
    } else {
        Err(format!("no browser at {path} (install Debian's chromium or set {CHROMIUM_VAR})"))
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = args.split_first().map_or(("help", &[][..]), |(t, r)| (t.as_str(), r));
    match task {
        "ci" => ci(),
        "test" => test(),
        "openapi" => openapi(),
        "tidy" => run(cargo().args(["test", "--quiet", "-p", "xtask", "--", "tidy::"])),
        // The load generator shares the machine with the server: run it optimised, or it measures itself.
        "bench" if cfg!(debug_assertions) && !bench::wants_help(rest) => {
            run(cargo().args(["run", "--release", "--quiet", "-p", "xtask", "--", "bench"]).args(rest))
        }
        "bench" => bench::run(rest),
        "apikey" => apikey(rest),
        _ => {
            println!("usage: cargo xtask <ci | test | tidy | openapi | bench | apikey ...>");
            Ok(())
        }
    }
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

pub fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Host and port of a `postgres://user@host:port/db` URL.
fn postgres_addr(url: &str) -> Option<SocketAddr> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let with_port = if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:5432") };
    with_port.to_socket_addrs().ok()?.next()
}

/// The PostgreSQL server the test suites should use, if one answers.
pub fn postgres_for_tests() -> Option<String> {
    let url = std::env::var("GARRISON_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES.into());
    let addr = postgres_addr(&url)?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok().map(|_| url)
}

/// Host and port of an `http://key:secret@host:port/` URL (port 80 or 443 by default).
fn s3_addr(url: &str) -> Option<SocketAddr> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let default_port = if scheme == "https" { 443 } else { 80 };
    let with_port = if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:{default_port}") };
    with_port.to_socket_addrs().ok()?.next()
}

/// The S3-compatible server the object-store suite should use: `GARRISON_TEST_S3_URL`, if set and a
/// server answers there. `Err` says why there is none.
fn s3_for_tests() -> Result<String, String> {
    let url = std::env::var(S3_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| format!("{S3_URL_VAR} is not set"))?;
    let addr = s3_addr(&url).ok_or_else(|| format!("{S3_URL_VAR} names no host:port"))?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map(|_| url)
        .map_err(|_| format!("no server answers at {addr} ({S3_URL_VAR})"))
}

fn ci() -> anyhow::Result<()> {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    // The docs stay clean too: no broken or private intra-doc links, no bare URLs.
    run(cargo().args(["doc", "--workspace", "--no-deps", "--quiet"]).env("RUSTDOCFLAGS", "-D warnings"))?;
    test()
}

fn test() -> anyhow::Result<()> {
    let postgres = postgres_for_tests();
    let mut cmd = cargo();
    cmd.args(["test", "--workspace"]);
    match &postgres {
        Some(url) => {
            cmd.env("GARRISON_TEST_POSTGRES_URL", url);
        }
        None => {
            if in_ci() {
                bail!(
                    "CI=true but no PostgreSQL answers at GARRISON_TEST_POSTGRES_URL or {DEFAULT_POSTGRES}: the PostgreSQL suites may not be skipped in CI"
                );
            }
            cmd.env_remove("GARRISON_TEST_POSTGRES_URL");
        }
    }
    let s3 = s3_for_tests();
    match &s3 {
        Ok(url) => {
            cmd.env(S3_URL_VAR, url);
        }
        Err(why) => {
            if in_ci() {
                bail!("CI=true but the S3 object-store suite cannot run: {why}; it may not be skipped in CI");
            }
            cmd.env_remove(S3_URL_VAR);
        }
    }
    let chromium = chromium_for_tests();
    match &chromium {
        Ok(path) => {
            cmd.env(CHROMIUM_VAR, path);
        }
        Err(why) => {
            if in_ci() {
                bail!("CI=true but the browser tests cannot run: {why}; they may not be skipped in CI");
            }
            cmd.env_remove(CHROMIUM_VAR);
        }
    }
    let result = run(&mut cmd);
    println!();
    println!("== test suites ==");
    println!("ran      core unit and property tests");
    println!("ran      storage contract suite on SQLite");
    println!("ran      black-box suite on SQLite");
    match &postgres {
        Some(_) => {
            println!("ran      storage contract suite on PostgreSQL");
            println!("ran      black-box suite on PostgreSQL");
        }
        None => {
            println!("SKIPPED  storage contract suite on PostgreSQL (no server; set GARRISON_TEST_POSTGRES_URL)");
            println!("SKIPPED  black-box suite on PostgreSQL (no server; set GARRISON_TEST_POSTGRES_URL)");
        }
    }
    println!("ran      object store contract suite on a local directory");
    match &s3 {
        Ok(_) => println!("ran      object store contract suite on S3 ({S3_URL_VAR})"),
        Err(why) => println!("SKIPPED  object store contract suite on S3 ({why})"),
    }
    match &chromium {
        Ok(path) => println!("ran      page tests in headless Chromium ({path})"),
        Err(why) => println!("SKIPPED  page tests in headless Chromium ({why})"),
    }
    result
}

fn openapi() -> anyhow::Result<()> {
    let out = cargo()
        .args(["run", "--quiet", "-p", "garrison", "--", "openapi"])
        .output()
        .context("cannot run garrison openapi")?;
    if !out.status.success() {
        bail!("garrison openapi failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let path = root().join("docs/openapi.json");
    std::fs::write(&path, &out.stdout).with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

fn apikey(args: &[String]) -> anyhow::Result<()> {
    run(cargo().args(["run", "--quiet", "--release", "-p", "garrison", "--", "apikey"]).args(args))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    /// The layering rules of ARCHITECTURE.md, checked against `cargo metadata`.
    #[test]
    fn crates_depend_only_in_the_allowed_direction() {
        let out = super::cargo()
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .expect("cargo metadata runs");
        let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
        let mut edges: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
        for package in meta["packages"].as_array().expect("packages") {
            let name = package["name"].as_str().expect("name").to_owned();
            // The pure crates stay pure: no runtime, network, database or web framework.
            if ["garrison-core", "garrison-backup", "garrison-render"].contains(&name.as_str()) {
                for dep in package["dependencies"].as_array().expect("dependencies") {
                    let dep = dep["name"].as_str().expect("dependency name");
                    assert!(
                        !["tokio", "reqwest", "diesel", "actix-web", "rust-s3", "twilight-http", "hyper"]
                            .contains(&dep),
                        "{name} may not depend on {dep}: it does no IO (see ARCHITECTURE.md)"
                    );
                }
            }
            let deps = package["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter_map(|d| {
                    let dep = d["name"].as_str()?;
                    (dep.starts_with("garrison")).then(|| (dep.to_owned(), d["kind"].as_str() == Some("dev")))
                })
                .collect();
            edges.insert(name, deps);
        }
        let allowed = |from: &str, to: &str, dev: bool| -> bool {
            match (from, to) {
                (_, "garrison") => false,
                // The simulators read their services' OpenAPI documents through garrison-openapi.
                ("garrison-discord-sim" | "garrison-roblox-sim", "garrison-openapi") => true,
                (
                    _,
                    "garrison-testkit"
                    | "garrison-discord-sim"
                    | "garrison-roblox-sim"
                    | "garrison-streams-sim"
                    | "garrison-openapi",
                ) => dev || from == "xtask",
                ("garrison-discord-sim" | "garrison-roblox-sim" | "garrison-streams-sim" | "garrison-openapi", _) => {
                    false
                }
                // The backup format and planner are pure and lie below core, which serves them.
                ("garrison-core", dep) => dep == "garrison-backup",
                ("garrison-backup", _) => false,
                ("garrison-testkit", dep) => dep == "garrison-core",
                ("garrison", _) => true,
                (_, dep) => dep == "garrison-core",
            }
        };
        for (from, deps) in &edges {
            for (to, dev) in deps {
                assert!(allowed(from, to, *dev), "{from} may not depend on {to} (dev: {dev}); see ARCHITECTURE.md");
            }
        }
        assert!(edges.contains_key("garrison-core") && edges.contains_key("garrison-storage"));
    }

    #[test]
    fn postgres_urls_give_an_address() {
        assert_eq!(super::postgres_addr("postgres://postgres@127.0.0.1:5432/x").map(|a| a.port()), Some(5432));
        assert_eq!(super::postgres_addr("postgres://127.0.0.1/x").map(|a| a.port()), Some(5432));
    }

    #[test]
    fn s3_urls_give_an_address() {
        assert_eq!(super::s3_addr("http://AK:SK@127.0.0.1:8014/").map(|a| a.port()), Some(8014));
        assert_eq!(super::s3_addr("http://AK:SK@127.0.0.1:8014").map(|a| a.port()), Some(8014));
        assert_eq!(super::s3_addr("http://127.0.0.1/?region=x").map(|a| a.port()), Some(80));
        assert_eq!(super::s3_addr("https://AK:SK@127.0.0.1").map(|a| a.port()), Some(443));
        assert_eq!(super::s3_addr("not a url"), None);
    }
}
