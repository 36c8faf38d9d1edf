use reqwest::Method;
use serde_json::json;

use crate::harness::{OTHER_SERVER, SERVER, Server, expect, on_both_backends};

on_both_backends!(keys_authenticate_and_are_scoped, keys_are_managed_by_the_cli_and_never_logged);

const XP: &str = "/api/xp?serverId=123456789012345678&robloxId=1";

async fn keys_authenticate_and_are_scoped(server: Server) {
    let key = server.create_key(SERVER, "bot", false);
    let other = server.create_key(OTHER_SERVER, "elsewhere", false);
    let reader = server.create_key(SERVER, "dashboard", true);

    let missing = expect(server.send(Method::GET, XP, None, None).await, 401);
    assert!(missing.error().starts_with("missing API key"), "{}", missing.error());
    assert_eq!(missing.headers["www-authenticate"], "Bearer");
    let unknown = expect(server.get(XP, &format!("gar_{}", "0".repeat(64))).await, 401);
    assert_eq!(unknown.error(), "invalid API key");
    expect(server.get(XP, "not-a-key").await, 401);
    let basic = server
        .client()
        .get(format!("{}{XP}", server.base))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .expect("reply");
    assert_eq!(Server::reply(basic).await.status, 401);

    // Both header styles work.
    expect(server.get(XP, &key).await, 200);
    let via_header =
        server.client().get(format!("{}{XP}", server.base)).header("X-API-Key", &key).send().await.expect("reply");
    assert_eq!(Server::reply(via_header).await.status, 200);

    // A key acts only on its own server.
    let forbidden = expect(server.get(XP, &other).await, 403);
    assert_eq!(forbidden.error(), "this API key is not valid for server 123456789012345678");
    expect(server.post("/api/xp/add", &other, json!({"serverId": SERVER, "robloxId": 1, "amount": 1})).await, 403);

    // A read-only key reads but does not write.
    expect(server.get(XP, &reader).await, 200);
    for (route, body) in [
        ("/api/xp/add", json!({"serverId": SERVER, "robloxId": 1, "amount": 1})),
        ("/api/ep/add", json!({"serverId": SERVER, "robloxId": 1, "company": "main", "amount": 1})),
        ("/api/loa/start", json!({"serverId": SERVER, "robloxId": 1, "days": 1})),
        ("/api/medals", json!({"serverId": SERVER, "name": "X"})),
        ("/api/certifications/award", json!({"serverId": SERVER, "robloxId": 1, "reference": "AFO"})),
    ] {
        let reply = expect(server.post(route, &reader, body).await, 403);
        assert_eq!(reply.error(), "this API key is read-only", "{route}");
    }
    expect(server.put("/api/ep/policy", &reader, json!({"serverId": SERVER})).await, 403);
    expect(server.delete("/api/medals?serverId=123456789012345678&name=X", &reader).await, 403);
    assert_eq!(expect(server.get(XP, &key).await, 200).body["xp"], 0, "nothing the read-only key tried happened");
}

async fn keys_are_managed_by_the_cli_and_never_logged(server: Server) {
    let key = server.create_key(SERVER, "ops bot", false);
    let reader = server.create_key(SERVER, "viewer", true);
    expect(server.post("/api/xp/add", &key, json!({"serverId": SERVER, "robloxId": 1, "amount": 5})).await, 200);

    let (ok, listing, _) = server.cli(&["apikey", "list", "--server", SERVER]);
    assert!(ok);
    assert!(listing.contains("ops bot") && listing.contains("viewer"), "{listing}");
    assert!(listing.contains("read-only") && listing.contains("read-write"), "{listing}");
    assert!(!listing.contains(&key) && !listing.contains(&key[4..20]), "list never shows secrets");
    let id = listing
        .lines()
        .find(|l| l.ends_with("ops bot"))
        .and_then(|l| l.split_whitespace().next())
        .expect("an id column")
        .to_owned();

    let (ok, out, _) = server.cli(&["apikey", "revoke", &id]);
    assert!(ok);
    assert!(out.contains("revoked key"), "{out}");
    let revoked =
        expect(server.post("/api/xp/add", &key, json!({"serverId": SERVER, "robloxId": 1, "amount": 5})).await, 401);
    assert_eq!(revoked.error(), "invalid API key");
    expect(server.get(XP, &reader).await, 200);

    let (ok, _, err) = server.cli(&["apikey", "revoke", "99999"]);
    assert!(!ok);
    assert!(err.contains("no API key with id 99999"), "{err}");
    let (ok, _, err) = server.cli(&["apikey", "create", "--server", "abc", "--name", "x"]);
    assert!(!ok);
    assert!(err.contains("--server: must be a Discord server id"), "{err}");

    let logs = server.logs();
    assert!(logs.contains("/api/xp/add"), "requests are logged");
    for secret in [&key, &reader] {
        assert!(!logs.contains(secret.as_str()) && !logs.contains(&secret[4..]), "a key appeared in the logs");
    }
}
