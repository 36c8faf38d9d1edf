use serde_json::{Value, json};

use crate::harness::{Reply, SERVER, Server, expect, on_both_backends};

on_both_backends!(
    xp_changes_and_reads,
    xp_references_are_labels,
    xp_idempotency_keys_replay_once,
    concurrent_requests_with_one_idempotency_key_apply_once,
    xp_history_and_leaderboard
);

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

/// POST `body` to `route` with an `Idempotency-Key` header.
async fn post_with_key(server: &Server, route: &str, key: &str, idempotency_key: &str, body: Value) -> Reply {
    let request = server
        .client()
        .post(format!("{}{route}", server.base))
        .bearer_auth(key)
        .header("Idempotency-Key", idempotency_key)
        .json(&body);
    Server::reply(request.send().await.expect("the server answers")).await
}

const PATROLLER: &str = "/api/xp?serverId=123456789012345678&robloxId=42";

async fn xp_references_are_labels(server: Server) {
    let key = server.create_key(SERVER, "bot", false);
    // A client that labels every patrol's award "Weekly patrol": every award counts.
    let body = json!({"serverId": SERVER, "robloxId": 42, "amount": 25, "reference": "Weekly patrol"});
    let first = expect(server.post("/api/xp/add", &key, body.clone()).await, 200);
    assert_eq!(first.body["xp"], 25);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let second = expect(server.post("/api/xp/add", &key, body).await, 200);
    assert_eq!(second.body["xp"], 50, "the second award is applied, not swallowed");
    assert!(second.headers.get("idempotent-replayed").is_none());
    assert_eq!(expect(server.get(PATROLLER, &key).await, 200).body["xp"], 50);
    let history = expect(server.get("/api/xp/history?serverId=123456789012345678&robloxId=42", &key).await, 200).body;
    let labels: Vec<&Value> = history["entries"].as_array().expect("entries").iter().map(|e| &e["reference"]).collect();
    assert_eq!(labels, [&json!("Weekly patrol"), &json!("Weekly patrol")], "both awards in the history");
}

async fn xp_idempotency_keys_replay_once(server: Server) {
    let key = server.create_key(SERVER, "bot", false);
    let body = json!({"serverId": SERVER, "robloxId": 42, "amount": 25, "reason": "attended"});
    let first = expect(post_with_key(&server, "/api/xp/add", &key, "award-7", body.clone()).await, 200);
    assert_eq!(first.body, json!({"success": true, "xp": 25}));
    assert!(first.headers.get("idempotent-replayed").is_none());
    expect(server.post("/api/xp/add", &key, json!({"serverId": SERVER, "robloxId": 42, "amount": 5})).await, 200);
    // The retry: the first answer again, marked as replayed, and the balance unchanged.
    let replay = expect(post_with_key(&server, "/api/xp/add", &key, "award-7", body.clone()).await, 200);
    assert_eq!(replay.body, json!({"success": true, "xp": 25}));
    assert_eq!(replay.headers.get("idempotent-replayed").map(|v| v.to_str().expect("ascii")), Some("true"));
    assert_eq!(expect(server.get(PATROLLER, &key).await, 200).body["xp"], 30);
    // The same key with another body is refused.
    let mut changed = body.clone();
    changed["amount"] = json!(26);
    let reused = expect(post_with_key(&server, "/api/xp/add", &key, "award-7", changed).await, 422);
    assert!(reused.error().contains("award-7") && reused.error().contains("different request"), "{}", reused.error());
    assert_eq!(expect(server.get(PATROLLER, &key).await, 200).body["xp"], 30);
    // Keys are per route and per API key.
    let other_route = expect(post_with_key(&server, "/api/xp/subtract", &key, "award-7", body.clone()).await, 200);
    assert_eq!(other_route.body["xp"], 5);
    let other_key = server.create_key(SERVER, "other bot", false);
    assert_eq!(expect(post_with_key(&server, "/api/xp/add", &other_key, "award-7", body).await, 200).body["xp"], 30);
    // A malformed key is a 400 naming the header.
    let bad = expect(
        post_with_key(&server, "/api/xp/add", &key, "   ", json!({"serverId": SERVER, "robloxId": 42, "amount": 1}))
            .await,
        400,
    );
    assert!(bad.error().starts_with("Idempotency-Key:"), "{}", bad.error());
}

async fn concurrent_requests_with_one_idempotency_key_apply_once(server: Server) {
    let key = server.create_key(SERVER, "bot", false);
    let body = json!({"serverId": SERVER, "robloxId": 77, "amount": 10});
    let replies = futures_util::future::join_all(
        (0..16).map(|_| post_with_key(&server, "/api/xp/add", &key, "burst-1", body.clone())),
    )
    .await;
    let mut replayed = 0;
    for reply in replies {
        let reply = expect(reply, 200);
        assert_eq!(reply.body["xp"], 10);
        replayed += usize::from(reply.headers.get("idempotent-replayed").is_some());
    }
    assert_eq!(replayed, 15, "one applied, every other one replayed");
    assert_eq!(expect(server.get("/api/xp?serverId=123456789012345678&robloxId=77", &key).await, 200).body["xp"], 10);
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
        json!({"entries": [{"robloxId": 3, "xp": 20, "rank": 1}, {"robloxId": 1, "xp": 10, "rank": 2}, {"robloxId": 2, "xp": 1, "rank": 3}], "next": null})
    );
    let second =
        expect(server.get("/api/xp/leaderboard?serverId=123456789012345678&limit=1&offset=1", &key).await, 200).body;
    assert_eq!(second["entries"], json!([{"robloxId": 1, "xp": 10, "rank": 2}]));
    let too_many = expect(server.get("/api/xp/leaderboard?serverId=123456789012345678&limit=101", &key).await, 400);
    assert!(too_many.error().starts_with("limit:"), "{}", too_many.error());
    // Keyset pages: `next` leads through the board with the same rows and ranks.
    let mut walked = Vec::new();
    let mut path = "/api/xp/leaderboard?serverId=123456789012345678&limit=2".to_owned();
    loop {
        let page = expect(server.get(&path, &key).await, 200).body;
        walked.extend(page["entries"].as_array().expect("entries").iter().cloned());
        match page["next"].as_str() {
            Some(next) => path = format!("/api/xp/leaderboard?serverId=123456789012345678&limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(Value::Array(walked), board["entries"]);
    // Deep offsets and huge numbers are refused, naming the parameter, never overflowing or scanning.
    for query in ["offset=10001", "offset=18446744073709551615", "offset=99999999999999999999999"] {
        let reply =
            expect(server.get(&format!("/api/xp/leaderboard?serverId=123456789012345678&{query}"), &key).await, 400);
        assert!(reply.error().starts_with("offset"), "{query}: {}", reply.error());
    }
    for after in ["x", "1.2", "18446744073709551615.5.1", "0.5.1"] {
        let reply = expect(
            server.get(&format!("/api/xp/leaderboard?serverId=123456789012345678&after={after}"), &key).await,
            400,
        );
        assert!(reply.error().starts_with("after:"), "{after}: {}", reply.error());
    }
    expect(server.get("/api/xp/leaderboard?serverId=123456789012345678&offset=10000", &key).await, 200);
}
