//! `TranscriptService` over a fake Discord, in-memory objects and a fake renderer: the index entry's
//! layout, the post-file-or-link rule, listing with links, opening by view id.

mod fakes;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use fakes::{BOT, CHANNEL, CountingEntropy, FakeDiscord, GUILD, MemoryObjects, id, run, token};
use garrison_core::{
    Timestamp,
    discord::{DiscordBot, DiscordError, Snowflake},
    objects::{ObjectKey, ObjectStore},
    transcript::{
        ListRequest, MAX_POSTED_FILE, RenderFuture, Rendered, TranscriptError, TranscriptPorts, TranscriptRenderer,
        TranscriptRequest, TranscriptService,
    },
};
use garrison_testkit::ManualClock;

/// Stores a small page; reports `size` (so a large transcript needs no large bytes) or fails.
struct FakeRenderer {
    objects: Arc<MemoryObjects>,
    size: Option<u64>,
    fail: Mutex<Option<TranscriptError>>,
}

impl TranscriptRenderer for FakeRenderer {
    fn render<'a>(
        &'a self,
        bot: &'a dyn DiscordBot,
        channel: Snowflake,
        limit: usize,
        key: &'a ObjectKey,
        _: Timestamp,
    ) -> RenderFuture<'a> {
        Box::pin(async move {
            if let Some(err) = self.fail.lock().expect("lock").take() {
                return Err(err);
            }
            let channel = bot.channel(channel).await?;
            let page = Bytes::from_static(b"<!doctype html><title>t</title>");
            self.objects.put(key, page.clone(), "text/html; charset=utf-8").await?;
            Ok(Rendered { channel, message_count: limit.min(42), size: self.size.unwrap_or(page.len() as u64) })
        })
    }
}

fn setup(size: Option<u64>, fail: Option<TranscriptError>) -> (TranscriptService, FakeDiscord, Arc<MemoryObjects>) {
    let (service, discord, objects, _) = setup_with_records(size, fail);
    (service, discord, objects)
}

fn setup_with_records(
    size: Option<u64>,
    fail: Option<TranscriptError>,
) -> (TranscriptService, FakeDiscord, Arc<MemoryObjects>, Arc<garrison_testkit::MemoryRecords>) {
    let records = Arc::new(garrison_testkit::MemoryRecords::default());
    let discord = FakeDiscord::default();
    let objects = Arc::new(MemoryObjects::default());
    let renderer = FakeRenderer { objects: objects.clone(), size, fail: Mutex::new(fail) };
    let service = TranscriptService::new(
        TranscriptPorts {
            discord: Arc::new(discord.clone()),
            renderer: Arc::new(renderer),
            objects: objects.clone(),
            clock: Arc::new(ManualClock::at(Timestamp(1_705_312_800_000))),
            entropy: Arc::new(CountingEntropy::after(0xaa)),
            writer: Arc::new(garrison_core::threads::InlineWrites),
            outbox: garrison_testkit::outbox(records.clone()),
        },
        "https://garrison.example/",
    );
    (service, discord, objects, records)
}

#[test]
fn a_transcript_sends_transcript_created_without_its_view_id() {
    let (service, _, _, records) = setup_with_records(None, None);
    records.subscribe_all(GUILD);
    let made = run(service.generate(&token(), &request(None))).expect("made");
    let events = records.events();
    assert_eq!(events.len(), 1);
    let event: serde_json::Value = serde_json::from_str(&events[0]).expect("JSON");
    assert_eq!(event["type"], "transcript.created");
    let data = &event["data"];
    assert_eq!((data["serverId"].as_str(), data["messageCount"].as_u64()), (Some(&*GUILD.to_string()), Some(10)));
    assert_eq!(data["channelId"], CHANNEL.to_string());
    assert!(!events[0].contains(made.view_id.as_str()), "the view id is a password: {}", events[0]);
}

fn request(target: Option<Snowflake>) -> TranscriptRequest {
    TranscriptRequest { channel: CHANNEL, limit: 10, filename: None, creator: Some(id(50)), target }
}

#[test]
fn a_transcript_is_indexed_under_its_bot_and_channel_and_opened_by_its_view_id() {
    let (service, _, objects) = setup(None, None);
    let made = run(service.generate(&token(), &request(None))).expect("made");
    assert_eq!(made.view_id.as_str(), "ab".repeat(16));
    assert_eq!(made.link, format!("https://garrison.example/api/Transcript/view/{}", made.view_id));
    assert_eq!((made.message_count, made.posted.clone()), (10, None));

    let countdown = u64::MAX - 1_705_312_800_000;
    let index = format!("transcripts/index/{GUILD}/bot-{BOT}/{countdown:020}-{CHANNEL}-{}.json", made.view_id);
    let entry: serde_json::Value = serde_json::from_str(&objects.text(&index).expect("index entry")).expect("JSON");
    assert_eq!(entry["channelName"], "tickets");
    assert_eq!(entry["filename"], "transcript-tickets.html");
    assert_eq!(entry["creatorId"], id(50).to_string());
    assert_eq!(entry["botId"], BOT.to_string());
    assert_eq!(entry["createdAt"], "2024-01-15T10:00:00Z");
    assert_eq!(entry["messageCount"], 10);
    assert!(objects.text(&format!("transcripts/html/{}.html", made.view_id)).is_some());

    let listed = run(service.list(&token(), &ListRequest::new(GUILD, None, None, None).expect("valid"))).expect("list");
    assert_eq!(listed.entries.len(), 1);
    assert_eq!(listed.entries[0]["directLink"], made.link.as_str());

    run(service.open(made.view_id.as_str())).expect("the page");
    let shouted = made.view_id.as_str().to_ascii_uppercase();
    assert!(matches!(run(service.open(&shouted)), Err(TranscriptError::NotFound)), "only as the server writes them");
    assert!(matches!(run(service.open(&"0".repeat(32))), Err(TranscriptError::NotFound)));
}

#[test]
fn a_small_transcript_is_posted_as_a_file_and_a_large_one_as_its_link() {
    let target = id(60);
    let (service, discord, _) = setup(None, None);
    let made = run(service.generate(&token(), &request(Some(target)))).expect("made");
    assert_eq!(made.posted, Some((target, Ok(()))));
    let sent = discord.world(|w| w.sent.clone());
    let text = format!("Transcript (10 messages): {}", made.link);
    assert_eq!(sent, [(target, text, Some(("transcript-tickets.html".to_owned(), 31)))]);

    let (service, discord, _) = setup(Some(MAX_POSTED_FILE + 1), None);
    let made = run(service.generate(&token(), &request(Some(target)))).expect("made");
    assert_eq!(made.posted, Some((target, Ok(()))));
    let sent = discord.world(|w| w.sent.clone());
    assert_eq!(sent, [(target, format!("Transcript (10 messages): {}", made.link), None)], "the link, no file");
}

#[test]
fn renderer_refusals_reach_the_caller_naming_what_is_missing() {
    let refused = TranscriptError::Discord(DiscordError::MissingPermission { permission: None });
    let (service, _, objects) = setup(None, Some(refused));
    let err = run(service.generate(&token(), &request(None))).expect_err("refused");
    assert!(matches!(
        err,
        TranscriptError::Discord(DiscordError::MissingPermission { permission: Some("READ_MESSAGE_HISTORY") })
    ));
    assert!(objects.keys().is_empty(), "no index entry without a page");
    let (service, _, _) = setup(None, Some(TranscriptError::NoMessages));
    let err = run(service.generate(&token(), &request(None))).expect_err("empty");
    assert_eq!(err.to_string(), "No messages found in channel");
}
