//! The server-wide bot's slash commands, through the real binary and the Discord simulator's gateway:
//! registered on start in the configured guild, `/apikeys` for managers only with a key shown once
//! that then works on the record routes, `/verify` naming the page (or saying it is not set up).

use std::time::Duration;

use garrison_discord_sim::Simulator;
use serde_json::{Value, json};

use crate::harness::{expect, secret};
use crate::simulated::Discord;

/// Starts the server with its own bot (the demo bot) and its commands in the demo guild, and waits
/// until they are registered and the bot's session is up.
async fn with_commands() -> Discord {
    let d = Discord::start_for(|demo| {
        vec![
            ("GARRISON_DISCORD_BOT_TOKEN", demo.bot.token.clone()),
            ("GARRISON_DISCORD_COMMANDS_GUILD", demo.guild.to_string()),
        ]
    });
    for _ in 0..200 {
        if d.sim.world(|w| w.guild_commands(d.demo.bot.user_id, d.demo.guild).len()) == 2 {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the commands were never registered; server log:\n{}", d.server.logs());
}

/// Invokes a command as `user` and waits for Garrison's answer.
async fn invoke(d: &Discord, user: u64, name: &str, options: Value) -> Result<String, String> {
    let (interaction, token) =
        d.sim.invoke_command(d.demo.bot.user_id, d.demo.guild, d.demo.general, user, name, options)?;
    secret(&token);
    answer(&d.sim, interaction).await
}

async fn answer(sim: &Simulator, interaction: u64) -> Result<String, String> {
    for _ in 0..200 {
        if let Some(response) = sim.interaction_response(interaction)
            && !response.loading
        {
            assert!(response.ephemeral, "only the member sees the answer");
            return Ok(response.content);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err("no answer".into())
}

#[tokio::test]
async fn a_manager_makes_an_api_key_with_a_slash_command_and_it_works() {
    let d = with_commands().await;
    let commands = d.sim.world(|w| w.guild_commands(d.demo.bot.user_id, d.demo.guild));
    let apikeys = commands.iter().find(|c| c.name == "apikeys").expect("/apikeys");
    assert_eq!(apikeys.default_member_permissions, Some(1 << 5), "Manage Server only");

    let made = invoke(&d, d.demo.owner, "apikeys generate", json!({"read-only": false})).await.expect("answered");
    let key = made.split('`').nth(1).expect("the key between backticks").to_owned();
    secret(&key);
    assert!(made.contains("shown this once"), "{made}");
    // The key works on the record routes of that server.
    let body = json!({"serverId": d.demo.guild.to_string(), "robloxId": 123456789, "amount": 5});
    expect(d.server.post("/api/xp/add", &key, body).await, 200);

    let listed = invoke(&d, d.demo.owner, "apikeys list", Value::Null).await.expect("answered");
    assert!(listed.contains("made with /apikeys"), "{listed}");
    assert!(!listed.contains(&key), "a list never shows a key");
    let id: i64 = listed
        .split('#')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("an id");
    let revoked = invoke(&d, d.demo.owner, "apikeys revoke", json!({"id": id})).await.expect("answered");
    assert!(revoked.starts_with("Revoked API key"), "{revoked}");
    let body = json!({"serverId": d.demo.guild.to_string(), "robloxId": 123456789, "amount": 5});
    expect(d.server.post("/api/xp/add", &key, body).await, 401);
    d.assert_faithful();
    // Neither the key shown once nor any interaction token reaches the log.
    d.server.assert_no_secret_logged();
}

#[tokio::test]
async fn members_without_manage_server_never_get_a_key_and_verify_says_what_is_set_up() {
    let d = with_commands().await;
    // Discord does not even send the command for a member without Manage Server.
    let member = d.demo.members[0];
    let refused = invoke(&d, member, "apikeys generate", Value::Null).await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(d.sim.world(|w| w.guild_commands(d.demo.bot.user_id, d.demo.guild)).iter().any(|c| c.name == "verify"));
    let verify = invoke(&d, member, "verify", Value::Null).await.expect("answered");
    assert_eq!(verify, "Verification is not configured on this Garrison server.");
    d.assert_faithful();
    d.server.assert_no_secret_logged();
}
