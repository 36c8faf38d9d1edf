use serde_json::json;

use crate::harness::{SERVER, Server, expect, on_both_backends};

on_both_backends!(bad_input_gets_clear_json_errors);

async fn post_raw(server: &Server, path: &str, key: &str, body: Vec<u8>) -> crate::harness::Reply {
    let response = server
        .client()
        .post(format!("{}{path}", server.base))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("reply");
    Server::reply(response).await
}

async fn bad_input_gets_clear_json_errors(server: Server) {
    let key = server.create_key(SERVER, "bot", false);

    let big = format!(r#"{{"serverId":"{SERVER}","robloxId":1,"amount":1,"reason":"{}"}}"#, "x".repeat(70 * 1024));
    let too_large = expect(post_raw(&server, "/api/xp/add", &key, big.into_bytes()).await, 413);
    assert_eq!(too_large.error(), "request body is larger than 65536 bytes");

    let malformed = expect(post_raw(&server, "/api/xp/add", &key, b"{\"serverId\": ".to_vec()).await, 400);
    assert!(malformed.error().starts_with("malformed JSON"), "{}", malformed.error());
    let empty = expect(post_raw(&server, "/api/xp/add", &key, Vec::new()).await, 400);
    assert!(empty.error().starts_with("request body is empty"), "{}", empty.error());
    let missing = expect(server.post("/api/xp/add", &key, json!({"serverId": SERVER, "robloxId": 1})).await, 422);
    assert!(missing.error().starts_with("missing field `amount`"), "{}", missing.error());
    let wrong =
        expect(server.post("/api/xp/add", &key, json!({"serverId": [1], "robloxId": 1, "amount": 1})).await, 422);
    assert!(wrong.error().starts_with("serverId: invalid type"), "{}", wrong.error());

    for (server_id, roblox_id, field) in [
        ("abc", json!(1), "serverId"),
        ("-1", json!(1), "serverId"),
        (SERVER, json!(0), "robloxId"),
        (SERVER, json!("12x"), "robloxId"),
    ] {
        let reply = expect(
            server.post("/api/xp/add", &key, json!({"serverId": server_id, "robloxId": roblox_id, "amount": 1})).await,
            400,
        );
        assert!(reply.error().starts_with(&format!("{field}: must be a")), "{}", reply.error());
    }
    let query = expect(server.get("/api/xp?serverId=123456789012345678", &key).await, 400);
    assert_eq!(query.error(), "missing field `robloxId`");
    let query =
        expect(server.get("/api/xp/history?serverId=123456789012345678&robloxId=1&limit=lots", &key).await, 400);
    assert!(query.error().starts_with("limit:"), "{}", query.error());
    let reason = expect(
        server
            .post(
                "/api/xp/add",
                &key,
                json!({"serverId": SERVER, "robloxId": 1, "amount": 1, "reason": "r".repeat(501)}),
            )
            .await,
        400,
    );
    assert!(reason.error().starts_with("reason: must be at most 500 characters"), "{}", reason.error());
    let reference = expect(
        server
            .post("/api/xp/add", &key, json!({"serverId": SERVER, "robloxId": 1, "amount": 1, "reference": ""}))
            .await,
        400,
    );
    assert!(reference.error().starts_with("reference:"), "{}", reference.error());

    let unknown = expect(server.get("/api/nothing-here", &key).await, 404);
    assert_eq!(unknown.error(), "no route for GET /api/nothing-here");
    // Hostile bytes never produce a server error.
    for body in [
        vec![0xff, 0xfe, 0x00],
        b"[]".to_vec(),
        b"null".to_vec(),
        b"{\"serverId\":1e400}".to_vec(),
        "{\"serverId\":\"\u{202e}\"}".as_bytes().to_vec(),
    ] {
        let reply = post_raw(&server, "/api/xp/set", &key, body).await;
        assert!(reply.status.is_client_error(), "{} {}", reply.status, reply.body);
    }
    assert_eq!(expect(server.get("/api/xp?serverId=123456789012345678&robloxId=1", &key).await, 200).body["xp"], 0);
}
