use reqwest::Method;

use crate::harness::{Backend, Server, command, database, expect, on_both_backends};

on_both_backends!(health_openapi_and_request_ids);

async fn health_openapi_and_request_ids(server: Server) {
    let live = expect(server.send(Method::GET, "/healthz", None, None).await, 200);
    assert_eq!(live.body["status"], "ok");
    let ready = expect(server.send(Method::GET, "/readyz", None, None).await, 200);
    assert_eq!(ready.body["status"], "ready");
    // The writer's record: readiness proves the writer takes jobs, and shows how it has fared.
    assert_eq!(ready.body["writer"], serde_json::json!({"restarts": 0, "panickedWrites": 0}));
    let id = ready.headers["x-request-id"].to_str().expect("ascii").to_owned();
    assert!(!id.is_empty());
    let other = server.send(Method::GET, "/healthz", None, None).await;
    assert_ne!(other.headers["x-request-id"], id.as_str(), "each request gets its own id");
    // A caller's own request id is kept.
    let echoed = server
        .client()
        .get(format!("{}/healthz", server.base))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .expect("reply");
    assert_eq!(echoed.headers()["x-request-id"], "trace-abc-123");
    // Errors carry one too.
    let missing = server.send(Method::GET, "/api/xp", None, None).await;
    assert!(missing.headers.contains_key("x-request-id"));

    let doc = expect(server.send(Method::GET, "/openapi.json", None, None).await, 200).body;
    assert_eq!(doc["openapi"], "3.1.0");
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/openapi.json")).expect("docs/openapi.json is JSON");
    assert!(doc == committed, "the served document differs from docs/openapi.json");
    assert!(doc["paths"]["/api/xp/add"]["post"].is_object());
}

#[test]
fn readiness_fails_while_the_database_is_down() {
    let Some(db) = database(Backend::Postgres) else {
        garrison_testkit::report_skip("blackbox postgres::operations::readiness_fails_while_the_database_is_down");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        // A short wait for a connection, so the outage shows within a second.
        let server = Server::start_with(db, &[("GARRISON_DATABASE_TIMEOUT_MS", "1000")]);
        expect(server.send(Method::GET, "/readyz", None, None).await, 200);
        // Take the database away underneath the running server.
        server.db.destroy();
        let down = expect(server.send(Method::GET, "/readyz", None, None).await, 503);
        assert_eq!(down.error(), "Database unavailable.");
        expect(server.send(Method::GET, "/healthz", None, None).await, 200);
    });
}

#[test]
fn unsupported_database_urls_stop_the_server_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database(Backend::Sqlite).expect("sqlite");
    for url in ["mysql://root@127.0.0.1/garrison", "./data/garrison.db"] {
        let out = command(dir.path(), &db).env("GARRISON_DATABASE_URL", url).arg("serve").output().expect("runs");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("unsupported scheme"), "{stderr}");
    }
    assert!(!dir.path().join("data").exists(), "no SQLite file appears from a typo");
}

#[test]
fn config_check_prints_the_effective_configuration_without_secrets() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database(Backend::Sqlite).expect("sqlite");
    std::fs::write(dir.path().join("garrison.toml"), "public_url = \"https://garrison.example\"\n")
        .expect("write config");
    let out = command(dir.path(), &db)
        .env("GARRISON_DATABASE_URL", "postgres://app:hunter2@db.internal/garrison")
        .args(["config", "check"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("public_url = \"https://garrison.example\""), "the file is read: {stdout}");
    assert!(stdout.contains("postgres://app:***@db.internal/garrison"), "{stdout}");
    assert!(!stdout.contains("hunter2"));

    std::fs::write(dir.path().join("garrison.toml"), "bnd = 1\n").expect("write config");
    let out = command(dir.path(), &db).args(["config", "check"]).output().expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `bnd`"));
}

#[test]
fn migrate_prepares_a_fresh_database_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database(Backend::Sqlite).expect("sqlite");
    for _ in 0..2 {
        let out = command(dir.path(), &db).arg("migrate").output().expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "database is up to date\n");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_with_the_request_id() {
    let db = database(Backend::Sqlite).expect("sqlite");
    let server = Server::start_with(db, &[("GARRISON_LOG_FORMAT", "json")]);
    let reply = server
        .client()
        .get(format!("{}/healthz", server.base))
        .header("x-request-id", "json-log-check")
        .send()
        .await
        .expect("reply");
    assert_eq!(reply.status().as_u16(), 200);
    // The access line is written after the response; give the logger a moment.
    let mut found = None;
    for _ in 0..50 {
        found = server.logs().lines().find(|l| l.contains("json-log-check")).map(str::to_owned);
        if found.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let line = found.expect("an access log line for the request");
    let entry: serde_json::Value = serde_json::from_str(&line).expect("the log line is JSON");
    assert_eq!(entry["span"]["request_id"], "json-log-check", "{line}");
    assert_eq!(entry["status"], 200, "{line}");
    assert!(server.logs().lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "every line is JSON");
}
