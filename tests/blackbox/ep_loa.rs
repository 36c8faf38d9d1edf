use serde_json::json;

use crate::harness::{SERVER, Server, expect, on_both_backends};

on_both_backends!(ep_policy_and_points, ep_warning_levels_count_missed_periods, loa_lifecycle);

const DAY: i64 = 86_400_000;

fn now_millis() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_millis())
        .expect("fits")
}

async fn ep_policy_and_points(server: Server) {
    let key = server.create_key(SERVER, "bot", false);
    let policy = expect(server.get("/api/ep/policy?serverId=123456789012345678", &key).await, 200).body;
    assert_eq!(
        policy,
        json!({"serverId": SERVER, "periodDays": 7, "periodStart": 345_600_000, "quota": {"main": 0, "sub1": 0, "sub2": 0, "sub3": 0}, "maxWarningLevel": 3})
    );
    let set = expect(
        server
            .put(
                "/api/ep/policy",
                &key,
                json!({"serverId": SERVER, "periodDays": 14, "quota": {"main": 10, "sub1": 5}, "maxWarningLevel": 4}),
            )
            .await,
        200,
    );
    assert_eq!(set.body["quota"], json!({"main": 10, "sub1": 5, "sub2": 0, "sub3": 0}));
    // Without a periodStart the policy begins with the current period, on a Monday 00:00 UTC.
    let start = set.body["periodStart"].as_i64().expect("periodStart");
    assert!(start <= now_millis() && start > now_millis() - 14 * DAY, "{start}");
    assert_eq!((start - 345_600_000) % (14 * DAY), 0);
    assert_eq!(expect(server.get("/api/ep/policy?serverId=123456789012345678", &key).await, 200).body, set.body);

    let add = expect(
        server
            .post("/api/ep/add", &key, json!({"serverId": SERVER, "robloxId": 7, "company": "main", "amount": 10}))
            .await,
        200,
    );
    assert_eq!(add.body["success"], true);
    assert_eq!(add.body["ep"]["main"], 10);
    expect(
        server
            .post("/api/ep/add", &key, json!({"serverId": SERVER, "robloxId": "7", "company": "sub1", "amount": 5}))
            .await,
        200,
    );
    let status = expect(server.get("/api/ep?serverId=123456789012345678&robloxId=7", &key).await, 200).body;
    assert_eq!(status, json!({"ep": {"main": 10, "sub1": 5, "sub2": 0, "sub3": 0}, "warningLevel": 0}));

    let bad = expect(
        server
            .post("/api/ep/add", &key, json!({"serverId": SERVER, "robloxId": 7, "company": "sub4", "amount": 1}))
            .await,
        400,
    );
    assert!(bad.error().starts_with("company: must be one of main, sub1, sub2, sub3"), "{}", bad.error());
    let bad = expect(
        server
            .post("/api/ep/add", &key, json!({"serverId": SERVER, "robloxId": 7, "company": "main", "amount": 0}))
            .await,
        400,
    );
    assert!(bad.error().starts_with("amount:"), "{}", bad.error());
    let bad = expect(server.put("/api/ep/policy", &key, json!({"serverId": SERVER, "periodDays": 0})).await, 400);
    assert!(bad.error().starts_with("periodDays:"), "{}", bad.error());
    let bad = expect(server.put("/api/ep/policy", &key, json!({"serverId": SERVER, "quota": {"main": -1}})).await, 400);
    assert!(bad.error().starts_with("quota:"), "{}", bad.error());
    let bad = expect(server.put("/api/ep/policy", &key, json!({"serverId": SERVER, "quota": {"mian": 1}})).await, 422);
    assert!(bad.error().starts_with("quota.mian: unknown field `mian`"), "{}", bad.error());
}

async fn ep_warning_levels_count_missed_periods(server: Server) {
    let key = server.create_key(SERVER, "bot", false);
    // Daily periods that began five days ago: four completed periods, all missed, capped at 3.
    let start = now_millis() - 4 * DAY - DAY / 2;
    expect(
        server
            .put(
                "/api/ep/policy",
                &key,
                json!({"serverId": SERVER, "periodDays": 1, "periodStart": start, "quota": {"main": 10}}),
            )
            .await,
        200,
    );
    let status = expect(server.get("/api/ep?serverId=123456789012345678&robloxId=9", &key).await, 200).body;
    assert_eq!(status["warningLevel"], 3);
    // A larger cap shows all four.
    expect(server.put("/api/ep/policy", &key, json!({"serverId": SERVER, "periodDays": 1, "periodStart": start, "quota": {"main": 10}, "maxWarningLevel": 10})).await, 200);
    assert_eq!(
        expect(server.get("/api/ep?serverId=123456789012345678&robloxId=9", &key).await, 200).body["warningLevel"],
        4
    );
    // EP earned now counts toward the current period only; the level stays until that period completes.
    let add = expect(
        server
            .post("/api/ep/add", &key, json!({"serverId": SERVER, "robloxId": 9, "company": "main", "amount": 10}))
            .await,
        200,
    );
    assert_eq!(add.body["ep"]["main"], 10);
    assert_eq!(add.body["warningLevel"], 4);
    // With no quota there are no warnings.
    expect(
        server.put("/api/ep/policy", &key, json!({"serverId": SERVER, "periodDays": 1, "periodStart": start})).await,
        200,
    );
    assert_eq!(
        expect(server.get("/api/ep?serverId=123456789012345678&robloxId=9", &key).await, 200).body["warningLevel"],
        0
    );
}

async fn loa_lifecycle(server: Server) {
    let key = server.create_key(SERVER, "bot", false);
    let path = "/api/loa?serverId=123456789012345678&robloxId=55";
    assert_eq!(
        expect(server.get(path, &key).await, 200).body,
        json!({"active": false, "endsAt": null, "startedAt": null})
    );

    let before = now_millis();
    let started =
        expect(server.post("/api/loa/start", &key, json!({"serverId": SERVER, "robloxId": 55, "days": 7})).await, 200)
            .body;
    assert_eq!(started["active"], true);
    let starts = started["startedAt"].as_i64().expect("startedAt");
    assert!(starts >= before && starts <= now_millis());
    assert_eq!(started["endsAt"].as_i64().expect("endsAt") - starts, 7 * DAY);
    assert_eq!(expect(server.get(path, &key).await, 200).body, started);

    let again =
        expect(server.post("/api/loa/start", &key, json!({"serverId": SERVER, "robloxId": 55, "days": 3})).await, 409);
    assert_eq!(again.error(), "55 already has an active leave of absence");
    let ended = expect(server.post("/api/loa/end", &key, json!({"serverId": SERVER, "robloxId": 55})).await, 200).body;
    assert_eq!(ended["active"], false);
    assert_eq!(ended["startedAt"], starts);
    assert!(ended["endsAt"].as_i64().expect("ended") < starts + DAY, "endsAt shows when it really ended");
    let none = expect(server.post("/api/loa/end", &key, json!({"serverId": SERVER, "robloxId": 55})).await, 409);
    assert_eq!(none.error(), "55 has no active leave of absence");
    // A new LOA can start once the old one is over.
    expect(server.post("/api/loa/start", &key, json!({"serverId": SERVER, "robloxId": 55, "days": 1})).await, 200);

    for days in [0, 366, -1] {
        let bad = expect(
            server.post("/api/loa/start", &key, json!({"serverId": SERVER, "robloxId": 56, "days": days})).await,
            400,
        );
        assert!(bad.error().starts_with("days: must be an integer from 1 to 365"), "{}", bad.error());
    }
}
