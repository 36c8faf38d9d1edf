use serde_json::json;

use crate::harness::{SERVER, Server, expect, on_both_backends};

on_both_backends!(xp_changes_and_reads, xp_references_are_idempotent, xp_history_and_leaderboard);

const MEMBER: &str = "/api/xp?serverId=123456789012345678&robloxId=123456789";

async fn xp_changes_and_reads(server: Server) {
    let key = server.create_key(SERVER, "bot", false);
    assert_eq!(expect(server.get(MEMBER, &key).await, 200).body, json!({"success": true, "xp": 0}));

    let add = expect(
        server.post("/api/xp/add", &key, json!({"serverId": SERVER, "robloxId": 123456789, "amount": 100})).await,
        200,
    );
    assert_eq!(add.body, json!({"success": true, "xp": 100}));
    // Ids may be JSON numbers or strings.
    let sub = expect(
        server
            .post(
                "/api/xp/subtract",
                &key,
                json!({"serverId": 123456789012345678_u64, "robloxId": "123456789", "amount": 30}),
            )
            .await,
        200,
    );
    assert_eq!(sub.body["xp"], 70);
    // Subtracting more than the balance stops at zero.
    let clamped = expect(
        server.post("/api/xp/subtract", &key, json!({"serverId": SERVER, "robloxId": 123456789, "amount": 1000})).await,
        200,
    );
    assert_eq!(clamped.body["xp"], 0);
    let set = expect(
        server.post("/api/xp/set", &key, json!({"serverId": SERVER, "robloxId": 123456789, "amount": 1234})).await,
        200,
    );
    assert_eq!(set.body["xp"], 1234);
    assert_eq!(expect(server.get(MEMBER, &key).await, 200).body["xp"], 1234);
    // set may be 0, the others may not.
    assert_eq!(
        expect(server.post("/api/xp/set", &key, json!({"serverId": SERVER, "robloxId": 5, "amount": 0})).await, 200)
            .body["xp"],
        0
    );

    for (route, amount) in [
        ("/api/xp/add", json!(0)),
        ("/api/xp/subtract", json!(-5)),
        ("/api/xp/set", json!(1_000_000_001_i64)),
        ("/api/xp/add", json!(1_000_000_001_i64)),
    ] {
        let reply =
            expect(server.post(route, &key, json!({"serverId": SERVER, "robloxId": 1, "amount": amount})).await, 400);
        assert!(reply.error().starts_with("amount: must be an integer from"), "{}", reply.error());
    }
    let reply = expect(
        server
            .post(
                "/api/xp/add",
                &key,
                json!({"serverId": SERVER, "robloxId": 1, "amount": 99_999_999_999_999_999_999.0}),
            )
            .await,
        422,
    );
    assert!(reply.error().starts_with("amount:"), "{}", reply.error());
    assert_eq!(expect(server.get(MEMBER, &key).await, 200).body["xp"], 1234, "refused changes change nothing");
}

async fn xp_references_are_idempotent(server: Server) {
    let key = server.create_key(SERVER, "bot", false);
    let body = json!({"serverId": SERVER, "robloxId": 42, "amount": 25, "reference": "event-7", "reason": "attended"});
    assert_eq!(expect(server.post("/api/xp/add", &key, body.clone()).await, 200).body["xp"], 25);
    expect(server.post("/api/xp/add", &key, json!({"serverId": SERVER, "robloxId": 42, "amount": 5})).await, 200);
    // The same request again returns the original result and changes nothing.
    assert_eq!(expect(server.post("/api/xp/add", &key, body.clone()).await, 200).body["xp"], 25);
    assert_eq!(expect(server.get("/api/xp?serverId=123456789012345678&robloxId=42", &key).await, 200).body["xp"], 30);
    // The same reference with a different body is a conflict.
    let mut changed = body.clone();
    changed["amount"] = json!(26);
    let conflict = expect(server.post("/api/xp/add", &key, changed).await, 409);
    assert!(conflict.error().contains("event-7"), "{}", conflict.error());
    let conflict = expect(server.post("/api/xp/subtract", &key, body).await, 409);
    assert!(conflict.error().contains("already used"), "{}", conflict.error());
    assert_eq!(expect(server.get("/api/xp?serverId=123456789012345678&robloxId=42", &key).await, 200).body["xp"], 30);
}

async fn xp_history_and_leaderboard(server: Server) {
    let key = server.create_key(SERVER, "leveling bot", false);
    for (member, amount) in [(1, 10), (2, 30), (3, 20), (2, 5)] {
        expect(
            server
                .post(
                    "/api/xp/add",
                    &key,
                    json!({"serverId": SERVER, "robloxId": member, "amount": amount, "reason": format!("r{amount}")}),
                )
                .await,
            200,
        );
    }
    expect(
        server
            .post(
                "/api/xp/subtract",
                &key,
                json!({"serverId": SERVER, "robloxId": 2, "amount": 100, "reference": "reset"}),
            )
            .await,
        200,
    );
    expect(server.post("/api/xp/add", &key, json!({"serverId": SERVER, "robloxId": 2, "amount": 1})).await, 200);

    let page =
        expect(server.get("/api/xp/history?serverId=123456789012345678&robloxId=2&limit=2", &key).await, 200).body;
    let entries = page["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["delta"], 1);
    assert_eq!(entries[0]["balance"], 1);
    assert_eq!(entries[1]["delta"], -35, "a clamped subtract records what really changed");
    assert_eq!(entries[1]["balance"], 0);
    assert_eq!(entries[1]["reference"], "reset");
    assert_eq!(entries[1]["keyName"], "leveling bot");
    assert!(entries[1]["at"].as_i64().expect("at") > 1_700_000_000_000);
    let next = page["next"].as_i64().expect("a next page");
    let rest = expect(
        server
            .get(&format!("/api/xp/history?serverId=123456789012345678&robloxId=2&limit=2&before={next}"), &key)
            .await,
        200,
    )
    .body;
    let deltas: Vec<i64> =
        rest["entries"].as_array().expect("entries").iter().map(|e| e["delta"].as_i64().expect("delta")).collect();
    assert_eq!(deltas, [5, 30]);
    assert_eq!(rest["entries"][1]["reason"], "r30");
    assert!(rest["next"].is_null());

    let board = expect(server.get("/api/xp/leaderboard?serverId=123456789012345678", &key).await, 200).body;
    assert_eq!(
        board,
        json!({"entries": [{"robloxId": 3, "xp": 20, "rank": 1}, {"robloxId": 1, "xp": 10, "rank": 2}, {"robloxId": 2, "xp": 1, "rank": 3}]})
    );
    let second =
        expect(server.get("/api/xp/leaderboard?serverId=123456789012345678&limit=1&offset=1", &key).await, 200).body;
    assert_eq!(second["entries"], json!([{"robloxId": 1, "xp": 10, "rank": 2}]));
    let too_many = expect(server.get("/api/xp/leaderboard?serverId=123456789012345678&limit=101", &key).await, 400);
    assert!(too_many.error().starts_with("limit:"), "{}", too_many.error());
}
