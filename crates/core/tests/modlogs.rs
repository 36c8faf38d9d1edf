//! `ModLogService` over a fake Discord, in-memory records and objects: entries numbered per bot and
//! guild, the history's documents mirrored to object storage in their JSON shape, pages read by view
//! id.

mod fakes;

use std::sync::Arc;

use fakes::{BOT, CountingEntropy, FakeDiscord, GUILD, MEMBER, MemoryObjects, OWNER, id, run, token};
use garrison_core::{
    ServerId, Timestamp,
    discord::{BotToken, DiscordError},
    modlog::{EntryDraft, HISTORY_PAGE_ENTRIES, ModAction, ModLogError, ModLogPorts, ModLogService},
    threads::{InlineThreads, InlineWrites},
};
use garrison_testkit::{ManualClock, MemoryRecords};

fn service() -> (ModLogService, Arc<MemoryObjects>) {
    let (service, objects, _) = service_and_records();
    (service, objects)
}

fn service_and_records() -> (ModLogService, Arc<MemoryObjects>, Arc<MemoryRecords>) {
    let objects = Arc::new(MemoryObjects::default());
    let records = Arc::new(MemoryRecords::default());
    let service = ModLogService::new(ModLogPorts {
        discord: Arc::new(FakeDiscord::default()),
        records: records.clone(),
        objects: objects.clone(),
        threads: Arc::new(InlineThreads),
        clock: Arc::new(ManualClock::at(Timestamp(1_705_341_600_000))),
        entropy: Arc::new(CountingEntropy::default()),
        writer: Arc::new(InlineWrites),
        outbox: garrison_testkit::outbox(records.clone()),
    });
    (service, objects, records)
}

fn warn(reason: &str) -> EntryDraft {
    EntryDraft::new(ModAction::Warn, OWNER, "Admin", Some(reason), None).expect("valid")
}

#[test]
fn an_add_sends_modlog_created_to_the_servers_endpoints_without_the_view_id() {
    let (service, _, records) = service_and_records();
    records.subscribe_all(GUILD);
    let added = run(service.add(&token(), GUILD, MEMBER, warn("spam"))).expect("added");
    let events = records.events();
    assert_eq!(events.len(), 1);
    let event: serde_json::Value = serde_json::from_str(&events[0]).expect("JSON");
    assert_eq!(event["type"], "modlog.created");
    assert_eq!(
        event["data"],
        serde_json::json!({"serverId": GUILD.to_string(), "botId": BOT.to_string(), "userId": MEMBER.to_string(),
            "caseNumber": 1, "action": "Warn", "moderatorId": OWNER.to_string(), "moderatorName": "Admin",
            "reason": "spam", "duration": null, "createdAt": "2024-01-15T18:00:00Z"})
    );
    assert!(!events[0].contains(added.view_id.as_str()), "the view id is a password");
}

#[test]
fn an_add_is_numbered_mirrored_as_a_document_and_readable_by_its_view_id() {
    let (service, objects) = service();
    let added = run(service.add(&token(), GUILD, MEMBER, warn("spam"))).expect("added");
    assert_eq!(added.action.logged_message(), "Warn logged.");
    assert_eq!(added.view_id.as_str(), "01".repeat(16), "drawn from the entropy port");
    let again = run(service.add(&token(), GUILD, MEMBER, warn("more spam"))).expect("added");
    assert_eq!(again.view_id, added.view_id, "one view id per subject");

    let key = format!("{BOT}/{GUILD}/{MEMBER}.json");
    let doc: serde_json::Value = serde_json::from_str(&objects.text(&key).expect("the document")).expect("JSON");
    assert_eq!(doc["viewId"], added.view_id.as_str());
    assert_eq!((doc["botId"].as_str(), doc["userId"].as_str()), (Some(&*BOT.to_string()), Some(&*MEMBER.to_string())));
    assert_eq!(doc["user"]["name"], "Display user5");
    assert_eq!(doc["guild"]["name"], "Fake Guild");
    assert_eq!(doc["totalEntries"], 2);
    assert_eq!(doc["entries"][1]["caseNumber"], 2);
    assert_eq!(doc["entries"][1]["reason"], "more spam");
    assert_eq!(doc["entries"][1]["createdAt"], "2024-01-15T18:00:00Z");

    let history = run(service.view(added.view_id.as_str(), None)).expect("found");
    assert_eq!(history.entries.len(), 2);
    let shouted = run(service.view(&added.view_id.as_str().to_ascii_uppercase(), Some(1))).expect("case-blind");
    assert_eq!(shouted.total_entries, 2);
}

#[test]
fn views_refuse_unknown_ids_page_zero_and_pages_past_the_end() {
    let (service, _) = service();
    let added = run(service.add(&token(), GUILD, MEMBER, warn("spam"))).expect("added");
    let id = added.view_id.as_str();
    assert!(matches!(run(service.view("not-a-view-id", None)), Err(ModLogError::NotFound)));
    assert!(matches!(run(service.view(&"0".repeat(32), None)), Err(ModLogError::NotFound)));
    assert!(matches!(run(service.view(id, Some(0))), Err(ModLogError::BadPage)));
    assert!(matches!(run(service.view("nope", Some(0))), Err(ModLogError::NotFound)), "the id is judged first");
    assert!(matches!(run(service.view(id, Some(2))), Err(ModLogError::NotFound)));
    assert_eq!(ModLogError::BadPage.to_string(), "page: must be a whole number from 1");
}

#[test]
fn a_full_page_is_kept_under_its_number_once() {
    let (service, objects) = service();
    for n in 0..HISTORY_PAGE_ENTRIES {
        run(service.add(&token(), GUILD, MEMBER, warn(&format!("#{n}")))).expect("added");
    }
    let pages = format!("{BOT}/{GUILD}/{MEMBER}/pages/0.json");
    let doc: serde_json::Value = serde_json::from_str(&objects.text(&pages).expect("page 0")).expect("JSON");
    assert_eq!(doc["entries"].as_array().map(Vec::len), Some(100));
    let added = run(service.add(&token(), GUILD, MEMBER, warn("101st"))).expect("added");
    let newest: serde_json::Value =
        serde_json::from_str(&objects.text(&format!("{BOT}/{GUILD}/{MEMBER}.json")).expect("newest")).expect("JSON");
    assert_eq!((newest["page"].as_u64(), newest["pages"].as_u64()), (Some(1), Some(2)));
    assert_eq!(run(service.view(added.view_id.as_str(), Some(1))).expect("page 1").entries.len(), 100);
}

#[test]
fn a_bot_must_be_in_the_guild_and_its_token_valid() {
    let (service, objects) = service();
    let outside =
        run(service.add(&token(), ServerId::from_discord(id(77)).expect("a snowflake within i64"), MEMBER, warn("x")))
            .expect_err("not in the guild");
    assert!(matches!(outside, ModLogError::Discord(DiscordError::NotMember)));
    let wrong = BotToken::new("not-a-token").expect("text");
    let refused = run(service.add(&wrong, GUILD, MEMBER, warn("x"))).expect_err("bad token");
    assert!(matches!(refused, ModLogError::Discord(DiscordError::InvalidToken)));
    assert!(objects.keys().is_empty(), "nothing was recorded or written");
}
