//! The server-wide bot's slash commands over in-memory API keys: only managers manage keys, a key is
//! shown once and works, a key of another server cannot be revoked here, `/verify` names the page.

mod fakes;

use std::sync::Arc;

use fakes::{CountingEntropy, GUILD, id, run};
use garrison_core::ServerId;
use garrison_core::discord::Permissions;
use garrison_core::discord::commands::{Invocation, OptionValue, SlashCommands, definitions};
use garrison_core::records::ApiKeyService;
use garrison_core::threads::{InlineThreads, InlineWrites};
use garrison_testkit::{ManualClock, MemoryRecords};

const OTHER: ServerId = ServerId::from_discord(id(9)).expect("a snowflake within i64");

fn commands(verify_url: Option<&str>) -> (SlashCommands, Arc<ApiKeyService>) {
    let records = Arc::new(MemoryRecords::default());
    let clock = Arc::new(ManualClock::at(garrison_core::Timestamp::from_millis(1_700_000_000_000)));
    let keys = Arc::new(ApiKeyService::new(records, clock));
    let commands = SlashCommands::new(
        Arc::clone(&keys),
        Arc::new(InlineThreads),
        Arc::new(InlineWrites),
        Arc::new(CountingEntropy::default()),
        verify_url.map(str::to_owned),
    );
    (commands, keys)
}

fn apikeys(sub: &str, permissions: Permissions, options: Vec<(String, OptionValue)>) -> Invocation {
    Invocation {
        guild: Some(GUILD),
        user: id(5),
        permissions,
        command: "apikeys".into(),
        subcommand: Some(sub.into()),
        options,
    }
}

#[test]
fn a_manager_makes_a_key_that_works_sees_it_listed_and_revokes_it() {
    let (commands, keys) = commands(None);
    let manage = Permissions::MANAGE_GUILD;
    let made = run(commands.run(apikeys("generate", manage, vec![("read-only".into(), OptionValue::Boolean(true))])));
    assert_eq!(made.failure, None);
    let secret = made.content.split('`').nth(1).expect("the key between backticks").to_owned();
    assert!(made.content.contains("read-only") && made.content.contains("shown this once"), "{}", made.content);
    let principal = keys.authenticate(&secret).expect("the key works");
    assert_eq!((principal.server, principal.read_only), (GUILD, true));

    let listed = run(commands.run(apikeys("list", manage, Vec::new())));
    assert!(listed.content.contains(&format!("#{}", principal.key_id.0)), "{}", listed.content);
    assert!(!listed.content.contains(&secret), "a list never shows a secret");

    let revoke = vec![("id".into(), OptionValue::Integer(principal.key_id.0))];
    let revoked = run(commands.run(apikeys("revoke", manage, revoke.clone())));
    assert!(revoked.content.starts_with("Revoked API key"), "{}", revoked.content);
    assert!(keys.authenticate(&secret).is_err(), "a revoked key no longer works");
    let again = run(commands.run(apikeys("revoke", manage, revoke)));
    assert!(again.content.contains("has no active API key"), "{}", again.content);
}

#[test]
fn only_managers_in_a_server_manage_keys_and_only_their_servers() {
    let (commands, keys) = commands(None);
    let denied = run(commands.run(apikeys("generate", Permissions::SEND_MESSAGES, Vec::new())));
    assert!(denied.content.contains("Manage Server"), "{}", denied.content);
    let mut dm = apikeys("list", Permissions::ALL, Vec::new());
    dm.guild = None;
    assert!(run(commands.run(dm)).content.contains("in a server"));
    assert!(keys.list(GUILD).expect("list").is_empty(), "nothing was made");

    let (other, _) = keys.create(OTHER, "other server", false, [7; 32]).expect("made");
    let revoke = vec![("id".into(), OptionValue::Integer(other.id.0))];
    let refused = run(commands.run(apikeys("revoke", Permissions::MANAGE_GUILD, revoke)));
    assert!(refused.content.contains("has no active API key"), "{}", refused.content);
    assert!(keys.list(OTHER).expect("list")[0].revoked_at.is_none(), "another server's key stands");
}

#[test]
fn verify_names_the_page_when_there_is_one() {
    let verify = |url: Option<&str>| {
        let (commands, _) = commands(url);
        let invocation = Invocation {
            guild: None,
            user: id(5),
            permissions: Permissions::NONE,
            command: "verify".into(),
            subcommand: None,
            options: Vec::new(),
        };
        run(commands.run(invocation)).content
    };
    assert_eq!(
        verify(Some("https://g.example/verify")),
        "Link your Discord and Roblox accounts here: https://g.example/verify"
    );
    assert!(verify(None).contains("not configured"));
}

#[test]
fn the_definitions_are_what_discord_accepts() {
    for command in definitions() {
        let valid = |name: &str| {
            (1..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_')
        };
        assert!(valid(command.name), "{}", command.name);
        assert!((1..=100).contains(&command.description.len()));
        for sub in &command.subcommands {
            assert!(valid(sub.name) && (1..=100).contains(&sub.description.len()), "{}", sub.name);
            for option in &sub.options {
                assert!(valid(option.name) && (1..=100).contains(&option.description.len()), "{}", option.name);
            }
        }
    }
    let apikeys = definitions().into_iter().find(|c| c.name == "apikeys").expect("apikeys");
    assert_eq!(apikeys.required, Some(Permissions::MANAGE_GUILD));
}
