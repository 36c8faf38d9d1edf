use serde_json::json;

use crate::harness::{SERVER, Server, expect, on_both_backends};

on_both_backends!(medals_catalogue_and_awards, certifications_match_the_specification);

async fn medals_catalogue_and_awards(server: Server) {
    let key = server.create_key(SERVER, "bot", false);
    let created = expect(
        server
            .post(
                "/api/medals",
                &key,
                json!({"serverId": SERVER, "name": "Purple Heart", "description": "Wounded in action"}),
            )
            .await,
        200,
    );
    assert_eq!(
        created.body,
        json!({"success": true, "medal": {"name": "Purple Heart", "description": "Wounded in action"}})
    );
    let dup = expect(
        server.post("/api/medals", &key, json!({"serverId": SERVER, "name": "purple heart", "description": ""})).await,
        409,
    );
    assert!(dup.error().contains("already exists"), "{}", dup.error());
    expect(server.post("/api/medals", &key, json!({"serverId": SERVER, "name": "Bronze Star"})).await, 200);
    let list = expect(server.get("/api/medals?serverId=123456789012345678", &key).await, 200).body;
    assert_eq!(
        list,
        json!({"medals": [{"name": "Bronze Star", "description": ""}, {"name": "Purple Heart", "description": "Wounded in action"}]})
    );

    let award = json!({"serverId": SERVER, "robloxId": 123456789, "medalName": "Purple Heart"});
    let awarded = expect(server.post("/api/medals/award", &key, award.clone()).await, 200);
    assert_eq!(awarded.body, json!({"success": true, "message": "Awarded Purple Heart to 123456789."}));
    let twice = expect(server.post("/api/medals/award", &key, award.clone()).await, 409);
    assert_eq!(twice.error(), "123456789 already holds Purple Heart");
    let unknown = expect(
        server
            .post(
                "/api/medals/award",
                &key,
                json!({"serverId": SERVER, "robloxId": 123456789, "medalName": "Iron Cross"}),
            )
            .await,
        404,
    );
    assert_eq!(unknown.error(), "no medal named \"Iron Cross\" in this server's catalogue");

    let held =
        expect(server.get("/api/medals/user?serverId=123456789012345678&robloxId=123456789", &key).await, 200).body;
    assert_eq!(held["medals"][0]["name"], "Purple Heart");
    assert_eq!(held["medals"][0]["description"], "Wounded in action");
    assert!(held["medals"][0]["awardedAt"].as_i64().expect("awardedAt") > 1_700_000_000_000);

    let revoked = expect(server.post("/api/medals/revoke", &key, award.clone()).await, 200);
    assert_eq!(revoked.body, json!({"success": true, "message": "Revoked Purple Heart from 123456789."}));
    let not_held = expect(server.post("/api/medals/revoke", &key, award.clone()).await, 404);
    assert_eq!(not_held.error(), "123456789 does not hold Purple Heart");

    expect(server.post("/api/medals/award", &key, award).await, 200);
    let deleted = expect(server.delete("/api/medals?serverId=123456789012345678&name=purple%20HEART", &key).await, 200);
    assert_eq!(deleted.body["medal"]["name"], "Purple Heart");
    let held =
        expect(server.get("/api/medals/user?serverId=123456789012345678&robloxId=123456789", &key).await, 200).body;
    assert_eq!(held, json!({"medals": []}), "deleting a medal takes it from its holders");
    expect(server.delete("/api/medals?serverId=123456789012345678&name=Purple%20Heart", &key).await, 404);
    let empty = expect(server.post("/api/medals", &key, json!({"serverId": SERVER, "name": "   "})).await, 400);
    assert_eq!(empty.error(), "name: must not be empty");
}

async fn certifications_match_the_specification(server: Server) {
    let key = server.create_key(SERVER, "bot", false);
    for (reference, name, description) in [
        ("AFO", "Authorised Firearms Officer", "Certified to use firearms in the field"),
        ("fto", "Field Training Officer", "Certified to train new recruits"),
    ] {
        expect(
            server
                .post(
                    "/api/certifications",
                    &key,
                    json!({"serverId": SERVER, "reference": reference, "name": name, "description": description}),
                )
                .await,
            200,
        );
    }
    let list = expect(server.get("/api/certifications?serverId=123456789012345678", &key).await, 200).body;
    assert_eq!(
        list,
        json!({"certifications": [
            {"reference": "AFO", "name": "Authorised Firearms Officer", "description": "Certified to use firearms in the field"},
            {"reference": "FTO", "name": "Field Training Officer", "description": "Certified to train new recruits"}
        ]})
    );
    let dup = expect(
        server.post("/api/certifications", &key, json!({"serverId": SERVER, "reference": "afo", "name": "x"})).await,
        409,
    );
    assert!(dup.error().contains("\"AFO\""), "{}", dup.error());

    let award = json!({"serverId": SERVER, "robloxId": 123456789, "reference": "AFO"});
    let awarded = expect(server.post("/api/certifications/award", &key, award.clone()).await, 200);
    assert_eq!(
        awarded.body,
        json!({"success": true, "message": "Awarded Authorised Firearms Officer (AFO) to 123456789."})
    );
    expect(server.post("/api/certifications/award", &key, award.clone()).await, 409);
    let check = "/api/certifications/check?serverId=123456789012345678&robloxId=123456789&reference=";
    assert_eq!(expect(server.get(&format!("{check}afo"), &key).await, 200).body, json!({"hasCertification": true}));
    assert_eq!(expect(server.get(&format!("{check}FTO"), &key).await, 200).body, json!({"hasCertification": false}));
    // A reference the catalogue lacks is simply not held (issue 10: it used to be a 404).
    assert_eq!(expect(server.get(&format!("{check}XYZ"), &key).await, 200).body, json!({"hasCertification": false}));

    let user =
        expect(server.get("/api/certifications/user?serverId=123456789012345678&robloxId=123456789", &key).await, 200)
            .body;
    assert_eq!(user["certifications"].as_array().expect("list").len(), 1);
    assert_eq!(user["certifications"][0]["reference"], "AFO");
    assert_eq!(user["certifications"][0]["name"], "Authorised Firearms Officer");

    let revoked = expect(server.post("/api/certifications/revoke", &key, award.clone()).await, 200);
    assert_eq!(revoked.body, json!({"success": true, "message": "Revoked AFO from 123456789."}));
    expect(server.post("/api/certifications/revoke", &key, award).await, 404);
    expect(
        server
            .post("/api/certifications/award", &key, json!({"serverId": SERVER, "robloxId": 1, "reference": "NOPE"}))
            .await,
        404,
    );
    let bad = expect(
        server.post("/api/certifications", &key, json!({"serverId": SERVER, "reference": "A F O", "name": "x"})).await,
        400,
    );
    assert!(bad.error().starts_with("reference:"), "{}", bad.error());
    expect(server.delete("/api/certifications?serverId=123456789012345678&reference=fto", &key).await, 200);
    expect(server.delete("/api/certifications?serverId=123456789012345678&reference=fto", &key).await, 404);
}
