//! `cargo bench -p garrison-pages --bench transcript`: renders 10,000 and 100,000 realistic messages
//! into a counting writer (no network, no disk: the render alone) and prints the median of five runs
//! and the bytes written. Peak memory is the process's `VmHWM` afterwards (Linux). Std timing only.
#![allow(clippy::print_stdout)]

use std::{
    hint::black_box,
    io::{self, Write},
    time::Instant,
};

use garrison_pages::message::{Attachment, Embed, EmbedField, EmbedFooter, Emoji, Message, Reaction, User};
use garrison_pages::{Names, TranscriptHeader, TranscriptWriter};

/// Counts bytes and keeps none.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The text of message `i`, owned; [`message`] borrows it, as the binary borrows core's messages.
struct Texts {
    timestamp: String,
    content: String,
    username: String,
    global_name: String,
    title: String,
}

impl Texts {
    fn of(i: u64) -> Self {
        let author = 1_100_000_000_000_000_000 + (i % 40);
        Self {
            timestamp: format!("2026-11-{:02}T{:02}:{:02}:00.000000+00:00", 1 + (i / 1440) % 28, (i / 60) % 24, i % 60),
            content: format!(
                "Message {i}: **bold** and *italic* text with `code`, a link https://example.com/{i} and <@{author}> ||spoiler|| > quoted"
            ),
            username: format!("user{}", i % 40),
            global_name: format!("User {}", i % 40),
            title: format!("Embed {i}"),
        }
    }
}

/// A message like a busy support channel's: markdown, mentions, a reply now and then, an embed, an
/// attachment, reactions.
fn message(i: u64, texts: &Texts) -> Message<'_> {
    let id = 1_180_000_000_000_000_000 + i * 4_194_304;
    let author = 1_100_000_000_000_000_000 + (i % 40);
    let mut m = Message {
        id: Some(id),
        kind: 0,
        timestamp: Some(&texts.timestamp),
        edited_timestamp: i.is_multiple_of(17).then_some("2026-11-01T00:00:00.000000+00:00"),
        content: &texts.content,
        author: Some(User {
            id: Some(author),
            username: &texts.username,
            global_name: Some(&texts.global_name),
            avatar: None,
            bot: false,
        }),
        ..Message::default()
    };
    if i.is_multiple_of(10) {
        m.embeds = vec![Embed {
            title: Some(&texts.title),
            description: Some("A *description* with **markdown**."),
            colour: Some(5_814_783),
            fields: vec![EmbedField { name: "Field", value: "Value", inline: true }],
            footer: Some(EmbedFooter { text: "footer", ..EmbedFooter::default() }),
            ..Embed::default()
        }];
    }
    if i.is_multiple_of(25) {
        m.attachments = vec![Attachment {
            filename: Some("report.pdf"),
            size: Some(12345),
            content_type: Some("application/pdf"),
            url: Some("https://cdn.discordapp.com/attachments/1/2/report.pdf"),
            proxy_url: Some("https://media.discordapp.net/attachments/1/2/report.pdf"),
            description: None,
        }];
    }
    if i.is_multiple_of(7) {
        m.reactions = vec![Reaction { emoji: Emoji { id: None, name: "👍" }, count: Some(3), me: false }];
    }
    if i.is_multiple_of(13) && i > 0 {
        m.referenced = Some(Box::new(Message {
            id: Some(id - 4_194_304),
            content: "the message before",
            author: Some(User { id: Some(author), username: "someone", ..User::default() }),
            ..Message::default()
        }));
        m.reference_id = Some(id - 4_194_304);
    }
    m
}

fn render(count: u64, names: &Names) -> (f64, u64) {
    let started = Instant::now();
    let header = TranscriptHeader {
        guild_name: "Bench",
        channel_name: "support",
        created_at_ms: 1_800_000_000_000,
        message_count_hint: Some(count as usize),
    };
    let mut writer =
        TranscriptWriter::start(io::BufWriter::with_capacity(64 * 1024, Counter(0)), &header).expect("start");
    let none = |_: &str| None;
    for i in 0..count {
        let texts = Texts::of(i);
        writer.message(black_box(&message(i, &texts)), names, &none).expect("message");
    }
    let out = writer.finish().expect("finish").into_inner().map_err(|_| "flush").expect("flush");
    (started.elapsed().as_secs_f64(), out.0)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let mut names = Names::new();
    for u in 0..40u64 {
        names.insert_member(1_100_000_000_000_000_000 + u, format!("User {u}"), 0x3498db);
    }
    println!("| messages | median render time (5 runs) | runs | HTML size | peak RSS of the bench |");
    println!("| ---: | ---: | --- | ---: | ---: |");
    for count in [10_000u64, 100_000] {
        let mut runs: Vec<f64> = Vec::new();
        let mut bytes = 0;
        for _ in 0..5 {
            let (seconds, written) = render(count, &names);
            runs.push(seconds);
            bytes = written;
        }
        let shown: Vec<String> = runs.iter().map(|s| format!("{s:.3}")).collect();
        runs.sort_by(f64::total_cmp);
        println!(
            "| {count} | {:.3} s | {} | {:.1} MB | {:.1} MB |",
            runs[2],
            shown.join(" / "),
            bytes as f64 / 1_000_000.0,
            peak_rss_mb()
        );
    }
}
