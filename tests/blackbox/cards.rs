//! Level and welcome cards through the real binary: images served by a loopback file host (the
//! server runs with its test-only loopback switch), PNGs stored in the local object store and served
//! back, failures as the specification writes them.

use base64::Engine;
use garrison_testkit::{FileHost, HostedFile};
use image::{ImageFormat, Rgba, RgbaImage};
use reqwest::Method;
use serde_json::json;

use crate::harness::{Backend, Reply, Server, database, expect};

fn png(width: u32, height: u32, color: [u8; 4]) -> Vec<u8> {
    let image = RgbaImage::from_pixel(width, height, Rgba(color));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Png).expect("encode PNG");
    bytes.into_inner()
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Jpeg).expect("encode JPEG");
    bytes.into_inner()
}

fn host() -> FileHost {
    FileHost::start([
        ("/avatar.png", HostedFile { content_type: "image/png", bytes: png(128, 128, [200, 40, 40, 255]) }),
        ("/clear.png", HostedFile { content_type: "image/png", bytes: png(64, 64, [0, 0, 0, 0]) }),
        ("/background.jpg", HostedFile { content_type: "image/jpeg", bytes: jpeg(1200, 500) }),
        ("/not-an-image.png", HostedFile { content_type: "image/png", bytes: b"<html>hello</html>".to_vec() }),
    ])
}

fn start() -> Server {
    start_with(&[])
}

/// A server fetching images from loopback, with `settings` added to the environment.
fn start_with(settings: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("GARRISON_FETCH_ALLOW_LOOPBACK", "true"),
        ("GARRISON_FETCH_ALLOWED_HOSTS", "127.0.0.1"),
        ("GARRISON_PUBLIC_URL", "https://cards.example"),
    ];
    env.extend_from_slice(settings);
    Server::start_with(database(Backend::Sqlite).expect("SQLite is always available"), &env)
}

async fn get_with(server: &Server, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = server.client().request(Method::GET, format!("{}{path}", server.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Server::reply(request.send().await.expect("reply")).await
}

/// The view path of a `directImageUrl` handed out under the public URL.
fn view_path(reply: &Reply) -> String {
    let url = reply.body["directImageUrl"].as_str().expect("directImageUrl");
    url.strip_prefix("https://cards.example").expect("under GARRISON_PUBLIC_URL").to_owned()
}

async fn fetch_png(server: &Server, path: &str) -> (reqwest::header::HeaderMap, image::RgbaImage) {
    let response = server.client().get(format!("{}{path}", server.base)).send().await.expect("view");
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body");
    (headers, image::load_from_memory_with_format(&bytes, ImageFormat::Png).expect("a PNG").to_rgba8())
}

#[tokio::test]
async fn a_level_card_is_rendered_stored_and_served() {
    let (files, server) = (host(), start());
    let avatar = files.url("/avatar.png");
    let headers = [
        ("Username", "JohnDoe"),
        ("Avatar-Url", avatar.as_str()),
        ("Level", "15"),
        ("Xp-Current", "2500"),
        ("Xp-Total", "5000"),
        ("Rank", "#3"),
        ("Voice-Time", "120"),
        ("Message-Count", "1500"),
        ("Background-Color", "#2f3136"),
        ("Progress-Bar-Start-Color", "#5865f2"),
        ("Progress-Bar-End-Color", "#7289da"),
        ("Typography-Family", "Arial"),
    ];
    let reply = expect(get_with(&server, "/api/LevelCard/generate", &headers).await, 200);
    assert_eq!(reply.body["success"], true);
    assert_eq!(reply.body["username"], "JohnDoe");
    assert_eq!(reply.body["levelPercent"], 50.0);
    let encoded = reply.body["imageBase64"].as_str().expect("imageBase64");
    let inline = base64::engine::general_purpose::STANDARD.decode(encoded).expect("Base64");
    assert_eq!(reply.body["imageSize"], inline.len());
    let path = view_path(&reply);
    assert!(path.starts_with("/api/LevelCard/view/"), "{path}");

    let (view_headers, card) = fetch_png(&server, &path).await;
    assert_eq!(view_headers["content-type"], "image/png");
    assert!(view_headers["cache-control"].to_str().expect("ascii").contains("immutable"));
    assert_eq!((card.width(), card.height()), (800, 200));
    assert_eq!(card, image::load_from_memory(&inline).expect("inline PNG").to_rgba8());
    // The avatar's red shows on the card.
    assert!(card.pixels().any(|p| p.0[0] > 180 && p.0[1] < 70 && p.0[2] < 70), "no avatar pixels");

    // The same request reuses the stored card: same id, and the avatar is not fetched again.
    assert_eq!(files.hits("/avatar.png"), 1);
    let again = expect(get_with(&server, "/api/LevelCard/generate", &headers).await, 200);
    assert_eq!(view_path(&again), path);
    assert_eq!(files.hits("/avatar.png"), 1);

    // A conditional request for the immutable card is answered 304; paths ignore case.
    let etag = view_headers["etag"].to_str().expect("ascii").to_owned();
    let lower = path.to_ascii_lowercase().replace("levelcard", "LEVELCARD");
    let response = server
        .client()
        .get(format!("{}{lower}", server.base))
        .header("If-None-Match", etag)
        .send()
        .await
        .expect("conditional view");
    assert_eq!(response.status(), 304);
}

#[tokio::test]
async fn a_welcome_card_with_cyrillic_text_and_background() {
    let (files, server) = (host(), start());
    let background = files.url("/background.jpg");
    let avatar = files.url("/clear.png");
    let name = base64::engine::general_purpose::STANDARD.encode("Алексей 🎉");
    let reply = get_with(
        &server,
        "/api/WelcomeCard/generate",
        &[
            ("Background-Image", background.as_str()),
            ("Profile-Avatar", avatar.as_str()),
            ("Display-Name", name.as_str()),
            ("Guild-Name", "%25CE%2595%25CE%25BB%25CE%25BB%25CE%25AC%25CE%25B4%25CE%25B1"),
            ("Member-Count", "Member #123"),
            ("Avatar-Shape", "rounded"),
            ("Canvas-Width", "2000"),
            ("Canvas-Height", "1000"),
        ],
    )
    .await;
    let reply = expect(reply, 200);
    assert_eq!(reply.body["success"], true);
    let path = view_path(&reply);
    assert!(path.starts_with("/api/WelcomeCard/view/"), "{path}");
    let (_, card) = fetch_png(&server, &path).await;
    assert_eq!((card.width(), card.height()), (2000, 1000));
    assert_eq!(reply.body["imageSize"].as_u64().map(|n| n > 0), Some(true));
}

#[tokio::test]
async fn missing_headers_are_answered_as_the_specification_writes() {
    let (files, server) = (host(), start());
    let level_body =
        json!({"success": false, "message": "Required headers missing", "required": ["Username", "Avatar-Url"]});
    let level = expect(get_with(&server, "/api/LevelCard/generate", &[]).await, 400);
    assert_eq!(level.body, level_body);
    let only_name = expect(get_with(&server, "/api/LevelCard/generate", &[("Username", "JohnDoe")]).await, 400);
    assert_eq!(only_name.body, level_body);
    let welcome_body =
        json!({"success": false, "message": "Required headers missing: Background-Image and Profile-Avatar"});
    let welcome = expect(get_with(&server, "/api/WelcomeCard/generate", &[]).await, 400);
    assert_eq!(welcome.body, welcome_body);
    let avatar = files.url("/avatar.png");
    let one = expect(get_with(&server, "/api/WelcomeCard/generate", &[("Profile-Avatar", &avatar)]).await, 400);
    assert_eq!(one.body, welcome_body);
}

#[tokio::test]
async fn bad_inputs_name_the_header() {
    let (files, server) = (host(), start());
    let avatar = files.url("/avatar.png");
    /// Headers that replace the valid ones, the status, and a phrase the message must contain.
    type Case = (Vec<(&'static str, String)>, u16, &'static str);
    let cases: Vec<Case> = vec![
        (vec![("Level", "high".into())], 400, "Level: must be a whole number"),
        (vec![("Level-Color", "blue".into())], 400, "Level-Color"),
        (vec![("Card-Width", "5000".into())], 400, "width"),
        (vec![("Background-Opacity", "2".into())], 400, "opacity"),
        (vec![("Format", "gif".into())], 400, "Format: must be png, webp or jpeg, got \"gif\""),
        (
            vec![("Avatar-Url", "https://evil.example/a.png".into())],
            400,
            "Avatar-Url: host evil.example is not allowed",
        ),
        (vec![("Avatar-Url", "http://10.0.0.1/a.png".into())], 400, "Avatar-Url: host 10.0.0.1 is not allowed"),
        (vec![("Avatar-Url", files.url("/not-an-image.png"))], 400, "Avatar-Url: unsupported image format"),
        (vec![("Avatar-Url", files.url("/missing.png"))], 502, "Avatar-Url: the image host answered 404"),
    ];
    for (overrides, status, needle) in cases {
        let mut headers: Vec<(&str, String)> = vec![("Username", "JohnDoe".into()), ("Avatar-Url", avatar.clone())];
        for (name, value) in overrides {
            headers.retain(|(n, _)| *n != name);
            headers.push((name, value));
        }
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let reply = expect(get_with(&server, "/api/LevelCard/generate", &pairs).await, status);
        assert_eq!(reply.body["success"], false);
        let message = reply.body["message"].as_str().expect("message");
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        assert_eq!(reply.body["error"], message);
    }
    let unknown = expect(get_with(&server, "/api/LevelCard/view/0123456789abcdef0123456789abcdef", &[]).await, 404);
    assert!(unknown.error().starts_with("no card"));
    expect(get_with(&server, "/api/WelcomeCard/view/..%2F..%2Fgarrison.db", &[]).await, 404);
    expect(get_with(&server, "/api/LevelCard/view/0123456789abcdef0123456789abcdef.gif", &[]).await, 404);
}

/// `Format: webp` and `Format: jpeg`: the same card in another file, with its own id (the PNG's with
/// an extension), content type and stored file; WebP pixel for pixel the PNG, JPEG opaque on the
/// documented matte.
#[tokio::test]
async fn cards_come_as_webp_or_jpeg_on_request() {
    let (files, server) = (host(), start());
    let (avatar, background) = (files.url("/avatar.png"), files.url("/background.jpg"));
    let level = |format: &'static str| {
        let mut headers = vec![
            ("Username", "JohnDoe"),
            ("Avatar-Url", avatar.as_str()),
            ("Background-Url", background.as_str()),
            ("Background-Blur", "4"),
        ];
        if !format.is_empty() {
            headers.push(("Format", format));
        }
        headers
    };
    let png = expect(get_with(&server, "/api/LevelCard/generate", &level("")).await, 200);
    let webp = expect(get_with(&server, "/api/LevelCard/generate", &level("WebP")).await, 200);
    let jpeg = expect(get_with(&server, "/api/LevelCard/generate", &level("jpg")).await, 200);
    assert_eq!([&png, &webp, &jpeg].map(|r| r.body["format"].clone()), [json!("png"), json!("webp"), json!("jpeg")]);
    let png_path = view_path(&png);
    assert_eq!(view_path(&webp), format!("{png_path}.webp"));
    assert_eq!(view_path(&jpeg), format!("{png_path}.jpg"));
    let (_, png_card) = fetch_png(&server, &png_path).await;

    for (reply, content_type, format) in
        [(&webp, "image/webp", ImageFormat::WebP), (&jpeg, "image/jpeg", ImageFormat::Jpeg)]
    {
        let response = server.client().get(format!("{}{}", server.base, view_path(reply))).send().await.expect("view");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], content_type);
        let bytes = response.bytes().await.expect("body");
        let inline = base64::engine::general_purpose::STANDARD
            .decode(reply.body["imageBase64"].as_str().expect("imageBase64"))
            .expect("Base64");
        assert_eq!(bytes, inline, "the view serves the file the answer carried");
        assert_eq!(reply.body["imageSize"], bytes.len());
        let card = image::load_from_memory_with_format(&bytes, format).expect("decodes as its format").to_rgba8();
        assert_eq!(card.dimensions(), png_card.dimensions());
        match format {
            ImageFormat::WebP => assert_eq!(card, png_card, "lossless WebP is the PNG's pixels"),
            _ => {
                // Opaque, the transparent corner on Discord's dark chat colour, the avatar's red kept.
                assert!(card.pixels().all(|p| p.0[3] == 255));
                let corner = card.get_pixel(0, 0).0;
                assert!(corner[..3].iter().zip([0x31u8, 0x33, 0x38]).all(|(a, b)| a.abs_diff(b) <= 6), "{corner:?}");
                assert_eq!(png_card.get_pixel(0, 0).0[3], 0);
                assert!(card.pixels().any(|p| p.0[0] > 170 && p.0[1] < 80 && p.0[2] < 80), "no avatar pixels");
            }
        }
    }
    // The formats' files are smaller than the PNG's, JPEG the smallest.
    let size = |reply: &Reply| reply.body["imageSize"].as_u64().expect("imageSize");
    assert!(size(&jpeg) < size(&webp) && size(&webp) < size(&png), "{} {} {}", size(&png), size(&webp), size(&jpeg));
    // `.png` names the PNG too; a known hash with the wrong extension is no card.
    let (_, again) = fetch_png(&server, &format!("{png_path}.png")).await;
    assert_eq!(again, png_card);

    // A welcome card as WebP; the same request again names the same stored file.
    let welcome = [("Background-Image", background.as_str()), ("Profile-Avatar", avatar.as_str()), ("Format", "webp")];
    let first = expect(get_with(&server, "/api/WelcomeCard/generate", &welcome).await, 200);
    assert_eq!(first.body["format"], "webp");
    assert!(view_path(&first).ends_with(".webp"));
    let second = expect(get_with(&server, "/api/WelcomeCard/generate", &welcome).await, 200);
    assert_eq!(view_path(&second), view_path(&first));
}

#[tokio::test]
async fn fonts_and_the_encoding_guide() {
    let server = start();
    let fonts = expect(get_with(&server, "/api/WelcomeCard/fonts", &[]).await, 200);
    assert_eq!(fonts.body["success"], true);
    let list = fonts.body["fonts"].as_array().expect("fonts");
    assert!(list.len() >= 3);
    for font in list {
        assert!(font["key"].is_string() && font["displayName"].is_string(), "{font}");
    }
    assert!(list.iter().any(|f| f["aliases"].as_array().is_some_and(|a| a.contains(&json!("Arial")))));
    let guide = expect(get_with(&server, "/api/WelcomeCard/encoding-guide", &[]).await, 200);
    assert_eq!(guide.body["system"], "Smart Auto-Detect Encoding");
    assert_eq!(guide.body["allowedDomains"], json!(["127.0.0.1"]));
    assert!(guide.body["methods"].as_array().is_some_and(|m| m.iter().any(|m| m["name"] == "base64")));
}

/// A PNG of noise: it does not compress, so each copy in memory costs its full size.
fn noise_png(side: u32) -> Vec<u8> {
    let mut state = 0x9e37_79b9_u32;
    let image = RgbaImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        Rgba([(state >> 24) as u8, (state >> 16) as u8, (state >> 8) as u8, 255])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Png).expect("encode PNG");
    bytes.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_thousand_distinct_cards_at_once_keep_memory_bounded() {
    // 256 KiB of avatar per card: were every request to fetch its image before queuing, as it once
    // did, 2,000 of them would hold half a gigabyte.
    let avatar = noise_png(256);
    assert!(avatar.len() > 256 * 1024, "{} bytes", avatar.len());
    let files = FileHost::start([("/noise.png", HostedFile { content_type: "image/png", bytes: avatar })]);
    let _alone = crate::harness::LOAD_TEST.lock().await;
    let server = std::sync::Arc::new(start());
    let url = files.url("/noise.png");
    // One connection per request, none reused: 2,000 clients, not one client's pool.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("client");
    let started = std::time::Instant::now();
    let requests: Vec<_> = (0..2000)
        .map(|n| {
            let (client, url) = (client.clone(), url.clone());
            let generate = format!("{}/api/LevelCard/generate", server.base);
            tokio::spawn(async move {
                let request = client
                    .get(generate)
                    .header("Username", format!("member{n}"))
                    .header("Avatar-Url", url)
                    .header("Card-Width", "200")
                    .header("Card-Height", "100");
                Server::reply(request.send().await.expect("an answer")).await
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::new();
    for request in requests {
        let reply = request.await.expect("request task");
        match reply.status.as_u16() {
            200 => assert_eq!(reply.body["success"], true),
            503 => {
                assert_eq!(reply.body["success"], false);
                assert!(reply.headers.contains_key("retry-after"), "503 without Retry-After");
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
        *statuses.entry(reply.status.as_u16()).or_insert(0) += 1;
    }
    let peak_mib = server.peak_rss_kib() / 1024;
    eprintln!("2,000 cards: {statuses:?} in {:?}, server peak RSS {peak_mib} MiB", started.elapsed());
    assert!(statuses.get(&200).is_some_and(|n| *n >= 1), "{statuses:?}");
    assert!(peak_mib < 300, "peak RSS {peak_mib} MiB");
    // The server is still serving cards afterwards.
    let headers = [("Username", "after"), ("Avatar-Url", url.as_str()), ("Card-Width", "200"), ("Card-Height", "100")];
    expect(get_with(&server, "/api/LevelCard/generate", &headers).await, 200);
}

/// Bytes of stored card PNGs under a server's local object store.
fn stored_card_bytes(server: &Server) -> u64 {
    fn walk(dir: &std::path::Path, total: &mut u64) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, total);
            } else if path.to_string_lossy().ends_with(".png~") {
                *total += entry.metadata().map_or(0, |m| m.len());
            }
        }
    }
    let mut total = 0;
    walk(&server.dir().join("data/objects/cards"), &mut total);
    total
}

/// Waits up to 5 s for `done` (cards are stored beside their answers, so a store shows a moment later).
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !done().await {
        assert!(std::time::Instant::now() < deadline, "{what}: not within 5 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn stored_cards_expire_least_recently_used_first() {
    let files = host();
    let avatar = files.url("/avatar.png");
    let card = |name: &'static str| {
        vec![("Username", name), ("Avatar-Url", avatar.as_str()), ("Card-Width", "200"), ("Card-Height", "100")]
    };
    // Sizes first, on a server that keeps everything (the same inputs give the same bytes).
    let mut sizes = std::collections::HashMap::new();
    {
        let sizer = start();
        for name in ["alpha", "bravo", "charlie", "delta"] {
            let reply = expect(get_with(&sizer, "/api/LevelCard/generate", &card(name)).await, 200);
            sizes.insert(name, reply.body["imageSize"].as_u64().expect("imageSize"));
        }
    }
    // Room for exactly three of them.
    let limit = sizes["alpha"] + sizes["bravo"] + sizes["charlie"];
    let server = start_with(&[("GARRISON_CARD_STORE_MAX_BYTES", &limit.to_string())]);
    let mut paths = std::collections::HashMap::new();
    for name in ["alpha", "bravo", "charlie"] {
        let reply = expect(get_with(&server, "/api/LevelCard/generate", &card(name)).await, 200);
        paths.insert(name, view_path(&reply));
    }
    eventually("all three stored", async || stored_card_bytes(&server) == limit).await;
    // Viewing alpha makes bravo the least recently used; delta then pushes it out.
    fetch_png(&server, &paths["alpha"]).await;
    let reply = expect(get_with(&server, "/api/LevelCard/generate", &card("delta")).await, 200);
    paths.insert("delta", view_path(&reply));
    // (Watched on disk: viewing bravo while waiting would make it recently used.)
    let bravo_file = |server: &Server| {
        let id = paths["bravo"].rsplit('/').next().expect("id").to_owned();
        server.dir().join(format!("data/objects/cards/level/{id}.png~")).exists()
    };
    assert!(bravo_file(&server), "bravo is stored");
    eventually("bravo expired", async || !bravo_file(&server)).await;
    expect(get_with(&server, &paths["bravo"], &[]).await, 404);
    fetch_png(&server, &paths["alpha"]).await;
    fetch_png(&server, &paths["delta"]).await;
    assert!(stored_card_bytes(&server) <= limit, "{} > {limit}", stored_card_bytes(&server));
    // Asked for again, an expired card is made again under the same id.
    let again = expect(get_with(&server, "/api/LevelCard/generate", &card("bravo")).await, 200);
    assert_eq!(view_path(&again), paths["bravo"]);
    fetch_png(&server, &paths["bravo"]).await;
    // The new card is written, then the one it pushes out deleted, after the answer: the store is back
    // under its limit once that write ends (a CI run once looked in between).
    eventually("back under the limit", async || stored_card_bytes(&server) <= limit).await;
}

/// Level cards for `names` over one avatar and one background, each answered 200.
async fn cards_for(server: &Server, files: &FileHost, names: &[&str]) -> Vec<Reply> {
    let (avatar, background) = (files.url("/avatar.png"), files.url("/background.jpg"));
    let mut replies = Vec::new();
    for name in names {
        let headers = [
            ("Username", *name),
            ("Avatar-Url", avatar.as_str()),
            ("Background-Url", background.as_str()),
            ("Background-Blur", "8"),
        ];
        replies.push(expect(get_with(server, "/api/LevelCard/generate", &headers).await, 200));
    }
    replies
}

#[tokio::test]
async fn images_are_kept_decoded_and_revalidated_with_their_host() {
    let files = host();
    // Long enough that three cards finish inside it on a loaded CI machine (one second was not).
    const FRESH_SECS: u64 = 5;
    let server = start_with(&[("GARRISON_CARD_IMAGE_FRESH_SECS", &FRESH_SECS.to_string())]);
    // Three members of one guild: the images are fetched once.
    cards_for(&server, &files, &["Ann", "Bob", "Cid"]).await;
    assert_eq!((files.hits("/avatar.png"), files.hits("/background.jpg")), (1, 1));

    // Past the freshness, the host is asked whether the images changed: "not modified", no download.
    tokio::time::sleep(std::time::Duration::from_millis(FRESH_SECS * 1000 + 100)).await;
    cards_for(&server, &files, &["Dee"]).await;
    assert_eq!((files.hits("/avatar.png"), files.hits("/background.jpg")), (2, 2));
    assert_eq!((files.not_modified("/avatar.png"), files.not_modified("/background.jpg")), (1, 1));

    // A background that changed is fetched again and shows on the next card.
    files.replace("/background.jpg", HostedFile { content_type: "image/png", bytes: png(1200, 500, [0, 220, 0, 255]) });
    tokio::time::sleep(std::time::Duration::from_millis(FRESH_SECS * 1000 + 100)).await;
    let replies = cards_for(&server, &files, &["Eve"]).await;
    assert_eq!((files.hits("/background.jpg"), files.not_modified("/background.jpg")), (3, 1));
    let (_, card) = fetch_png(&server, &view_path(&replies[0])).await;
    let green = card.pixels().filter(|p| p.0[1] > 150 && p.0[0] < 60 && p.0[2] < 60).count();
    assert!(green > 1_000, "the new background shows: {green} green pixels");
}

#[tokio::test]
async fn without_an_image_cache_every_card_fetches_its_images() {
    let files = host();
    let server = start_with(&[("GARRISON_CARD_IMAGE_CACHE_BYTES", "0")]);
    cards_for(&server, &files, &["Ann", "Bob"]).await;
    assert_eq!((files.hits("/avatar.png"), files.hits("/background.jpg")), (2, 2));
    assert_eq!(files.not_modified("/background.jpg"), 0);
}

/// `GARRISON_CARD_PNG_COMPRESSION=small`: the same pixels in a smaller PNG.
#[tokio::test]
async fn small_png_compression_keeps_the_pixels() {
    let files = host();
    let (avatar, background) = (files.url("/avatar.png"), files.url("/background.jpg"));
    let headers = [("Username", "JohnDoe"), ("Avatar-Url", avatar.as_str()), ("Background-Url", background.as_str())];
    let fast = start();
    let small = start_with(&[("GARRISON_CARD_PNG_COMPRESSION", "small")]);
    let fast_card = expect(get_with(&fast, "/api/LevelCard/generate", &headers).await, 200);
    let small_card = expect(get_with(&small, "/api/LevelCard/generate", &headers).await, 200);
    assert_eq!(view_path(&fast_card), view_path(&small_card), "the id names the card, not its compression");
    let size = |reply: &Reply| reply.body["imageSize"].as_u64().expect("imageSize");
    assert!(size(&small_card) * 10 < size(&fast_card) * 9, "{} against {}", size(&small_card), size(&fast_card));
    let (_, fast_pixels) = fetch_png(&fast, &view_path(&fast_card)).await;
    let (_, small_pixels) = fetch_png(&small, &view_path(&small_card)).await;
    assert_eq!(small_pixels, fast_pixels);
}
