use serde_json::json;

use crate::harness::{SERVER, Server, expect, on_both_backends};

on_both_backends!(sixty_four_clients_lose_no_update);

/// 64 concurrent clients each add 1 XP 100 times: the balance is exactly 6400.
async fn sixty_four_clients_lose_no_update(server: Server) {
    let key = server.create_key(SERVER, "load", false);
    let server = std::sync::Arc::new(server);
    let clients: Vec<_> = (0..64)
        .map(|_| {
            let server = std::sync::Arc::clone(&server);
            let key = key.clone();
            tokio::spawn(async move {
                for _ in 0..100 {
                    let reply = server
                        .post("/api/xp/add", &key, json!({"serverId": SERVER, "robloxId": 777, "amount": 1}))
                        .await;
                    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("client task");
    }
    let balance = expect(server.get("/api/xp?serverId=123456789012345678&robloxId=777", &key).await, 200).body;
    assert_eq!(balance["xp"], 6400);
    let history =
        expect(server.get("/api/xp/history?serverId=123456789012345678&robloxId=777&limit=1", &key).await, 200).body;
    assert_eq!(history["entries"][0]["balance"], 6400, "the ledger's last entry agrees");
}
