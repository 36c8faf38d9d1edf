//! `BoosterRoleService` over a fake Discord and in-memory records: one role per booster, only its
//! owner changes it, and no request can give it rights.

mod fakes;

use std::sync::Arc;

use fakes::{BOOSTER, BOOSTER_ROLE, FakeDiscord, FakeIcons, GUILD, MEMBER, id, run, token};
use garrison_core::{
    ServerId, Timestamp,
    booster::{BoosterError, BoosterRoleService},
    discord::{
        BotToken, DiscordError, Permissions, RoleError, RoleRequest, RoleService,
        looks::{LooksError, LooksRequest},
    },
    threads::InlineThreads,
};
use garrison_testkit::{ManualClock, MemoryRecords};

fn service() -> (BoosterRoleService, FakeDiscord, Arc<MemoryRecords>) {
    let discord = FakeDiscord::default();
    let records = Arc::new(MemoryRecords::default());
    let service = BoosterRoleService::new(
        Arc::new(discord.clone()),
        records.clone(),
        Arc::new(InlineThreads),
        Arc::new(ManualClock::at(Timestamp(1_700_000_000_000))),
        Arc::new(FakeIcons),
    );
    (service, discord, records)
}

fn named(name: &str) -> LooksRequest {
    LooksRequest { name: Some(name.into()), color: Some("#5865f2".into()), ..LooksRequest::default() }
}

#[test]
fn a_booster_gets_one_role_without_rights_above_the_booster_role() {
    let (service, discord, records) = service();
    let role = run(service.create(&token(), GUILD, BOOSTER, named("Mine"))).expect("created");
    let (made, booster_role, holds) = discord.world(|w| {
        let holds = w.members.iter().any(|m| m.user_id == BOOSTER && m.roles.contains(&role.id));
        (w.role(role.id).cloned().expect("made"), w.role(BOOSTER_ROLE).cloned().expect("booster role"), holds)
    });
    assert_eq!((made.name.as_str(), made.permissions), ("Mine", Permissions::NONE));
    assert!(made.position > booster_role.position, "placed above the booster role");
    assert!(holds, "given to the booster");
    assert!(garrison_core::ports::BoosterRoles::find(records.as_ref(), GUILD, BOOSTER).expect("find").is_some());

    let again = run(service.create(&token(), GUILD, BOOSTER, named("Second"))).expect_err("one each");
    assert!(matches!(again, BoosterError::AlreadyHasRole { role: r } if r == role.id));
    let not_booster = run(service.create(&token(), GUILD, MEMBER, named("x"))).expect_err("not a booster");
    assert!(matches!(not_booster, BoosterError::NotBooster));
}

#[test]
fn only_the_owner_edits_or_deletes_and_an_edit_never_carries_rights() {
    let (service, discord, _) = service();
    let role = run(service.create(&token(), GUILD, BOOSTER, named("Mine"))).expect("created");
    let stranger = run(service.update(&token(), GUILD, MEMBER, role.id, named("Theirs"))).expect_err("not theirs");
    assert!(matches!(stranger, BoosterError::NotOwner));
    assert_eq!(stranger.to_string(), "You do not own this role");

    run(service.update(&token(), GUILD, BOOSTER, role.id, named("Renamed"))).expect("updated");
    let (name, last) = discord.world(|w| (w.role(role.id).map(|r| r.name.clone()), w.specs.last().cloned()));
    assert_eq!(name.as_deref(), Some("Renamed"));
    let last = last.expect("a spec went to Discord");
    assert_eq!((last.permissions, last.hoist, last.mentionable), (None, None, None), "rights are never sent");

    assert!(matches!(
        run(service.delete(&token(), GUILD, MEMBER, role.id)).expect_err("not theirs"),
        BoosterError::NotOwner
    ));
    run(service.delete(&token(), GUILD, BOOSTER, role.id)).expect("deleted");
    assert!(discord.world(|w| w.role(role.id).is_none()));
    // The record went with it: the booster may create a new one.
    run(service.create(&token(), GUILD, BOOSTER, named("Again"))).expect("a new one");
}

#[test]
fn a_bad_token_is_refused_before_anything_is_asked() {
    let (service, discord, _) = service();
    let wrong = BotToken::new("not-a-token").expect("text");
    let err = run(service.create(&wrong, GUILD, BOOSTER, named("Mine"))).expect_err("refused");
    assert!(matches!(err, BoosterError::Discord(DiscordError::InvalidToken)));
    assert!(discord.world(|w| w.calls.is_empty()));
    // A bot outside the guild learns nothing about its roles or records.
    let outside =
        run(service.delete(&token(), ServerId::from_discord(id(77)).expect("a snowflake within i64"), BOOSTER, id(78)))
            .expect_err("not a member");
    assert!(matches!(outside, BoosterError::Discord(DiscordError::NotMember)));
}

#[test]
fn looks_are_checked_after_the_token_and_before_discord_is_asked_to_change_anything() {
    let (service, discord, _) = service();
    let bad = LooksRequest { color: Some("red".into()), ..named("Mine") };
    let err = run(service.create(&token(), GUILD, BOOSTER, bad.clone())).expect_err("bad colour");
    assert!(matches!(&err, BoosterError::Looks(LooksError::Invalid(m)) if m.starts_with("Color:")), "{err}");
    let wrong = BotToken::new("not-a-token").expect("text");
    let err = run(service.create(&wrong, GUILD, BOOSTER, bad)).expect_err("the token first");
    assert!(matches!(err, BoosterError::Discord(DiscordError::InvalidToken)));
    assert!(discord.world(|w| w.calls.iter().all(|c| c != "create_role")));
    // A missing name is the default one, and an icon arrives as a data URI.
    let icon = LooksRequest { icon_url: Some("https://cdn.example/icon.png".into()), ..LooksRequest::default() };
    let role = run(service.create(&token(), GUILD, BOOSTER, icon)).expect("created");
    assert_eq!(role.name, "Custom Booster");
    let spec = discord.world(|w| w.specs.last().cloned()).expect("sent");
    assert!(spec.icon.is_some_and(|i| i.starts_with("data:image/png;base64,")));
}

#[test]
fn role_creation_checks_rights_headers_and_names_an_unknown_guild() {
    let discord = FakeDiscord::default();
    let roles = RoleService::new(Arc::new(discord.clone()), Arc::new(FakeIcons));
    let request = RoleRequest {
        looks: LooksRequest { name: Some("Staff".into()), ..LooksRequest::default() },
        permissions: Some("8".into()),
        hoist: Some("yes".into()),
        mentionable: Some("0".into()),
        position: None,
    };
    let made = run(roles.create(&token(), GUILD, request.clone())).expect("created");
    assert_eq!(
        (made.role.permissions, made.role.hoist, made.role.mentionable),
        (Permissions::ADMINISTRATOR, true, false)
    );
    let bad = RoleRequest { hoist: Some("maybe".into()), ..request.clone() };
    let err = run(roles.create(&token(), GUILD, bad)).expect_err("bad flag");
    assert_eq!(err.to_string(), "Hoist: must be true or false, got \"maybe\"");
    let err = run(roles.create(&token(), ServerId::from_discord(id(99)).expect("a snowflake within i64"), request))
        .expect_err("unknown guild");
    assert!(matches!(err, RoleError::GuildNotFound));
    assert_eq!(err.to_string(), "Guild not found.");
}
