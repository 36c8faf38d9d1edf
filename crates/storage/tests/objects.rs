//! One contract suite for the object stores, run on a local directory (a fresh temporary directory
//! per test) and on testkit's in-memory store always, and on an S3-compatible server when
//! `GARRISON_TEST_S3_URL` is set.
//!
//! `GARRISON_TEST_S3_URL` is `http://ACCESS_KEY:SECRET_KEY@HOST:PORT/`, optionally followed by
//! `?region=NAME` (default `us-east-1`) and `&path_style=false` (default `true`). Every test creates a
//! fresh bucket named `garrison-test-<random>` on that server and deletes it (with its objects) at the
//! end. `.ci/run` starts s3s-fs on loopback and sets the variable; by hand:
//!
//! ```sh
//! s3s-fs --host 127.0.0.1 --port 8014 --access-key AKTEST --secret-key SKTEST "$(mktemp -d)" &
//! GARRISON_TEST_S3_URL=http://AKTEST:SKTEST@127.0.0.1:8014/ cargo test -p garrison-storage --test objects
//! ```

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use garrison_core::objects::{
    ByteStream, Continuation, ObjectError, ObjectKey, ObjectPrefix, ObjectStore, ObjectSummary,
};
use garrison_storage::{FsObjectStore, S3Config, S3ObjectStore};

const S3_URL_VAR: &str = "GARRISON_TEST_S3_URL";

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let clock = garrison_testkit::ManualClock::at(garrison_core::Timestamp(1_700_000_000_000));
                let store = garrison_testkit::MemoryObjectStore::new(std::sync::Arc::new(clock));
                super::$name(&store).await;
            })*
        }
        mod local {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let store = garrison_storage::FsObjectStore::open(dir.path().join("objects")).expect("open");
                super::$name(&store).await;
            })*
        }
        mod s3 {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(config) = super::s3_config() else {
                    eprintln!(
                        "SKIPPED {}: {} is not set",
                        concat!("object store s3::", stringify!($name)),
                        super::S3_URL_VAR
                    );
                    return;
                };
                let store = super::fresh_bucket(config).await;
                super::$name(&store).await;
                super::remove_bucket(&store).await;
            })*
        }
    };
}

contract!(
    put_then_get_round_trips_bytes_size_and_content_type,
    missing_objects_are_none_on_head_and_not_found_on_get,
    put_replaces_the_object,
    listing_pages_through_a_prefix_in_key_order,
    a_listing_resumes_after_any_key,
    delete_is_idempotent,
    large_objects_stream_back_intact,
    put_stream_stores_a_large_body,
    a_failing_body_stores_nothing,
    invalid_content_types_are_refused,
);

/// The S3 server for tests, from `GARRISON_TEST_S3_URL`, with a fresh bucket name.
fn s3_config() -> Option<S3Config> {
    let url = std::env::var(S3_URL_VAR).ok().filter(|u| !u.trim().is_empty())?;
    let (scheme, rest) = url.split_once("://").expect("GARRISON_TEST_S3_URL is scheme://key:secret@host:port/");
    let (authority, query) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let (credentials, host) = authority.rsplit_once('@').expect("GARRISON_TEST_S3_URL names key:secret@");
    let (access_key, secret_key) = credentials.split_once(':').expect("GARRISON_TEST_S3_URL names key:secret@");
    let query = query.trim_start_matches('?');
    let param = |name: &str| {
        query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
    };
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).expect("the OS random source works");
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    Some(S3Config {
        endpoint: Some(format!("{scheme}://{host}")),
        region: param("region").unwrap_or_else(|| "us-east-1".into()),
        bucket: format!("garrison-test-{suffix}"),
        path_style: param("path_style").is_none_or(|v| v != "false"),
        access_key: access_key.to_owned(),
        secret_key: secret_key.to_owned(),
    })
}

async fn fresh_bucket(config: S3Config) -> S3ObjectStore {
    let store = S3ObjectStore::new(config).expect("a valid S3 configuration");
    store.create_bucket().await.expect("create the test bucket");
    store
}

/// Deletes every object, then the bucket (best effort: a failed test leaves its bucket behind).
async fn remove_bucket(store: &S3ObjectStore) {
    let everything = ObjectPrefix::all();
    loop {
        let page = store.list(&everything, None, 1000).await.expect("list for cleanup");
        if page.objects.is_empty() {
            break;
        }
        for object in page.objects {
            store.delete(&object.key).await.expect("delete for cleanup");
        }
    }
    store.delete_bucket().await.expect("delete the test bucket");
}

fn key(text: &str) -> ObjectKey {
    ObjectKey::parse(text).expect("a valid key")
}

/// `len` bytes of a pattern that differs from offset to offset, so a misplaced chunk shows.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

async fn read_all(store: &dyn ObjectStore, key: &ObjectKey) -> (Vec<u8>, usize) {
    let mut body = store.get(key).await.expect("get");
    let mut bytes = Vec::with_capacity(usize::try_from(body.meta.size).unwrap_or(0));
    let mut chunks = 0;
    while let Some(chunk) = body.bytes.next().await {
        bytes.extend_from_slice(&chunk.expect("a chunk"));
        chunks += 1;
    }
    assert_eq!(bytes.len() as u64, body.meta.size, "get's size matches its bytes");
    (bytes, chunks)
}

fn keys(objects: &[ObjectSummary]) -> Vec<&str> {
    objects.iter().map(|o| o.key.as_str()).collect()
}

async fn put_then_get_round_trips_bytes_size_and_content_type(store: &dyn ObjectStore) {
    let key = key("cards/123456789012345678/avatar.png");
    let bytes = pattern(1000, 1);
    store.put(&key, Bytes::from(bytes.clone()), "image/png").await.expect("put");

    let head = store.head(&key).await.expect("head").expect("present");
    assert_eq!(head.key, key);
    assert_eq!(head.size, 1000);
    assert_eq!(head.content_type, "image/png");
    assert!(head.last_modified.millis() > 1_600_000_000_000, "a plausible time: {:?}", head.last_modified);

    let body = store.get(&key).await.expect("get");
    assert_eq!(body.meta.size, 1000);
    assert_eq!(body.meta.content_type, "image/png");
    drop(body);
    assert_eq!(read_all(store, &key).await.0, bytes);

    let json = self::key("moderation/log/1.json");
    store.put(&json, Bytes::from_static(b"{\"a\":1}"), "application/json; charset=utf-8").await.expect("put");
    let head = store.head(&json).await.expect("head").expect("present");
    assert_eq!(head.content_type, "application/json; charset=utf-8");

    let empty = self::key("empty");
    store.put(&empty, Bytes::new(), "text/plain").await.expect("put an empty object");
    assert_eq!(store.head(&empty).await.expect("head").expect("present").size, 0);
    assert_eq!(read_all(store, &empty).await.0, b"");
}

async fn missing_objects_are_none_on_head_and_not_found_on_get(store: &dyn ObjectStore) {
    let missing = key("nothing/here.bin");
    assert!(store.head(&missing).await.expect("head").is_none());
    match store.get(&missing).await {
        Err(ObjectError::NotFound(k)) => assert_eq!(k, missing),
        Err(other) => panic!("expected NotFound, got {other}"),
        Ok(_) => panic!("expected NotFound, got an object"),
    }
    // A key below an existing object is missing too.
    store.put(&key("dir/a"), Bytes::from_static(b"a"), "text/plain").await.expect("put");
    assert!(store.head(&key("dir/a/b")).await.expect("head").is_none());
    assert!(matches!(store.get(&key("dir/a/b")).await, Err(ObjectError::NotFound(_))));
}

async fn put_replaces_the_object(store: &dyn ObjectStore) {
    let key = key("transcripts/1/index.html");
    store.put(&key, Bytes::from_static(b"first version, longer"), "text/html").await.expect("put");
    store.put(&key, Bytes::from_static(b"second"), "text/plain").await.expect("overwrite");
    let head = store.head(&key).await.expect("head").expect("present");
    assert_eq!(head.size, 6);
    assert_eq!(head.content_type, "text/plain");
    assert_eq!(read_all(store, &key).await.0, b"second");
    let listed = store.list(&ObjectPrefix::parse("transcripts/").expect("valid"), None, 10).await.expect("list");
    assert_eq!(keys(&listed.objects), ["transcripts/1/index.html"], "one object, not two");
}

async fn listing_pages_through_a_prefix_in_key_order(store: &dyn ObjectStore) {
    // Put out of order, with neighbours that must not leak into the listing.
    for (i, text) in
        ["logs/c", "logs/a", "logs/e/deeper", "logs/b", "logs/d", "logsx", "log", "other/logs/a", "logs-2/a"]
            .into_iter()
            .enumerate()
    {
        let body = Bytes::from(vec![b'x'; i + 1]);
        store.put(&key(text), body, "text/plain").await.expect("put");
    }
    let prefix = ObjectPrefix::parse("logs/").expect("valid");
    let mut pages = Vec::new();
    let mut after: Option<Continuation> = None;
    loop {
        let page = store.list(&prefix, after.as_ref(), 2).await.expect("list");
        assert!(page.objects.len() <= 2, "a page holds at most the limit");
        pages.push(keys(&page.objects).into_iter().map(str::to_owned).collect::<Vec<_>>());
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(pages.len() < 10, "the listing ends");
    }
    let all: Vec<String> = pages.concat();
    assert_eq!(all, ["logs/a", "logs/b", "logs/c", "logs/d", "logs/e/deeper"]);
    assert_eq!(pages[0], ["logs/a", "logs/b"]);
    assert_eq!(pages[1], ["logs/c", "logs/d"]);
    assert_eq!(pages.last().expect("pages")[..], ["logs/e/deeper".to_owned()]);

    let first = store.list(&prefix, None, 2).await.expect("list");
    assert_eq!(first.objects[0].size, 2, "sizes are listed");
    assert!(first.objects[0].last_modified.millis() > 1_600_000_000_000);

    // A partial segment as the prefix, and no prefix at all.
    let partial = store.list(&ObjectPrefix::parse("logs").expect("valid"), None, 100).await.expect("list");
    assert_eq!(
        keys(&partial.objects),
        ["logs-2/a", "logs/a", "logs/b", "logs/c", "logs/d", "logs/e/deeper", "logsx"],
        "byte order: '-' < '/' < 'x'"
    );
    assert!(partial.next.is_none());
    let everything = store.list(&ObjectPrefix::all(), None, 1000).await.expect("list");
    assert_eq!(everything.objects.len(), 9);
    let none = store.list(&ObjectPrefix::parse("nothing/").expect("valid"), None, 10).await.expect("list");
    assert!(none.objects.is_empty() && none.next.is_none());
}

/// A continuation is the last key listed, so a listing can resume after any key (present or not):
/// keyset pagination over a prefix.
async fn a_listing_resumes_after_any_key(store: &dyn ObjectStore) {
    for text in ["idx/01", "idx/02", "idx/04", "idx/05"] {
        store.put(&key(text), Bytes::from_static(b"{}"), "application/json").await.expect("put");
    }
    let prefix = ObjectPrefix::parse("idx/").expect("valid");
    let from_present = store.list(&prefix, Some(&Continuation::new("idx/02")), 10).await.expect("list");
    assert_eq!(keys(&from_present.objects), ["idx/04", "idx/05"]);
    let from_absent = store.list(&prefix, Some(&Continuation::new("idx/03")), 1).await.expect("list");
    assert_eq!(keys(&from_absent.objects), ["idx/04"]);
    let next = from_absent.next.expect("more");
    assert_eq!(next.as_str(), "idx/04", "the continuation is the last key listed");
    let rest = store.list(&prefix, Some(&next), 10).await.expect("list");
    assert_eq!(keys(&rest.objects), ["idx/05"]);
    assert!(rest.next.is_none());
}

/// AWS lets `a` and `a/b` both be objects, and so does the local store; file-system-backed S3 servers
/// (s3s-fs, MinIO) refuse it, so the shared contract does not promise it. The local store keeps it.
#[tokio::test]
async fn the_local_store_lets_a_key_and_keys_below_it_coexist() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = FsObjectStore::open(dir.path().join("objects")).expect("open");
    let store: &dyn ObjectStore = &store;
    store.put(&key("dir/a"), Bytes::from_static(b"a"), "text/plain").await.expect("put");
    assert!(store.head(&key("dir")).await.expect("head").is_none(), "a 'directory' is no object");
    assert!(matches!(store.get(&key("dir")).await, Err(ObjectError::NotFound(_))));
    store.put(&key("a"), Bytes::from_static(b"top"), "text/plain").await.expect("put a");
    store.put(&key("a/b"), Bytes::from_static(b"below"), "text/plain").await.expect("put a/b");
    store.put(&key("a/b/c"), Bytes::from_static(b"further"), "text/plain").await.expect("put a/b/c");
    assert_eq!(read_all(store, &key("a")).await.0, b"top");
    assert_eq!(read_all(store, &key("a/b")).await.0, b"below");
    let all = store.list(&ObjectPrefix::parse("a").expect("valid"), None, 10).await.expect("list");
    assert_eq!(keys(&all.objects), ["a", "a/b", "a/b/c"]);
    store.delete(&key("a/b")).await.expect("delete");
    assert_eq!(read_all(store, &key("a/b/c")).await.0, b"further");
    let all = store.list(&ObjectPrefix::all(), None, 10).await.expect("list");
    assert_eq!(keys(&all.objects), ["a", "a/b/c", "dir/a"]);
}

async fn delete_is_idempotent(store: &dyn ObjectStore) {
    let key = key("backups/2026/snapshot.json");
    store.put(&key, Bytes::from_static(b"{}"), "application/json").await.expect("put");
    store.delete(&key).await.expect("delete");
    assert!(store.head(&key).await.expect("head").is_none());
    assert!(matches!(store.get(&key).await, Err(ObjectError::NotFound(_))));
    store.delete(&key).await.expect("deleting again succeeds");
    store.delete(&self::key("never/existed")).await.expect("deleting a missing key succeeds");
    let listed = store.list(&ObjectPrefix::all(), None, 10).await.expect("list");
    assert!(listed.objects.is_empty(), "{:?}", keys(&listed.objects));
    // The key can be used again after its "directory" was cleaned up.
    store.put(&key, Bytes::from_static(b"[]"), "application/json").await.expect("put again");
    assert_eq!(read_all(store, &key).await.0, b"[]");
}

async fn large_objects_stream_back_intact(store: &dyn ObjectStore) {
    let key = key("backups/large.bin");
    let bytes = pattern(12 * 1024 * 1024 + 17, 2);
    store.put(&key, Bytes::from(bytes.clone()), "application/octet-stream").await.expect("put 12 MB");
    let (read, chunks) = read_all(store, &key).await;
    assert!(read == bytes, "the 12 MB object reads back byte for byte");
    assert!(chunks > 1, "the body arrives as a stream of chunks, not one buffer ({chunks})");
}

/// A body of `len` bytes in chunks of `chunk`, counting how many bytes have been pulled.
fn counted_stream(len: usize, chunk: usize, seed: u64, pulled: Arc<AtomicU64>) -> (ByteStream, Vec<u8>) {
    let bytes = pattern(len, seed);
    let chunks: Vec<Bytes> = bytes.chunks(chunk).map(Bytes::copy_from_slice).collect();
    let body = stream::iter(chunks).map(move |c| {
        pulled.fetch_add(c.len() as u64, Ordering::SeqCst);
        Ok::<_, ObjectError>(c)
    });
    (Box::pin(body), bytes)
}

async fn put_stream_stores_a_large_body(store: &dyn ObjectStore) {
    let key = key("transcripts/2/full.html");
    let pulled = Arc::new(AtomicU64::new(0));
    // 20 MB in 64 KiB chunks: three parts of a multipart upload on S3.
    let (body, bytes) = counted_stream(20 * 1024 * 1024 + 5, 64 * 1024, 3, pulled.clone());
    let written = store.put_stream(&key, body, "text/html; charset=utf-8").await.expect("put_stream");
    assert_eq!(written, bytes.len() as u64);
    assert_eq!(pulled.load(Ordering::SeqCst), bytes.len() as u64, "the whole body was read");
    let head = store.head(&key).await.expect("head").expect("present");
    assert_eq!(head.size, bytes.len() as u64);
    assert_eq!(head.content_type, "text/html; charset=utf-8");
    assert!(read_all(store, &key).await.0 == bytes, "the streamed object reads back byte for byte");

    // A small stream is stored too (one plain PUT on S3).
    let small = self::key("transcripts/2/small.html");
    let (body, bytes) = counted_stream(3000, 1000, 4, Arc::new(AtomicU64::new(0)));
    assert_eq!(store.put_stream(&small, body, "text/html").await.expect("put_stream"), 3000);
    assert_eq!(read_all(store, &small).await.0, bytes);
    let empty = self::key("transcripts/2/empty.html");
    let body: ByteStream = Box::pin(stream::empty());
    assert_eq!(store.put_stream(&empty, body, "text/html").await.expect("put_stream"), 0);
    assert_eq!(store.head(&empty).await.expect("head").expect("present").size, 0);
}

async fn a_failing_body_stores_nothing(store: &dyn ObjectStore) {
    let key = key("transcripts/3/broken.html");
    // Fails after more than one S3 part, so a multipart upload has to be abandoned.
    let good = pattern(9 * 1024 * 1024, 5);
    let chunks: Vec<Result<Bytes, ObjectError>> = good
        .chunks(1024 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .chain([Err(ObjectError::Unavailable("the producer failed".into()))])
        .collect();
    let error = store.put_stream(&key, Box::pin(stream::iter(chunks)), "text/html").await.expect_err("fails");
    assert!(error.to_string().contains("the producer failed"), "{error}");
    assert!(store.head(&key).await.expect("head").is_none(), "no partial object");
    let listed = store.list(&ObjectPrefix::all(), None, 10).await.expect("list");
    assert!(listed.objects.is_empty(), "no temporary file is listed: {:?}", keys(&listed.objects));

    // A failure replacing an existing object leaves the old one.
    store.put(&key, Bytes::from_static(b"old"), "text/html").await.expect("put");
    let chunks = vec![Ok(Bytes::from_static(b"new")), Err(ObjectError::Unavailable("again".into()))];
    store.put_stream(&key, Box::pin(stream::iter(chunks)), "text/html").await.expect_err("fails");
    assert_eq!(read_all(store, &key).await.0, b"old");
}

async fn invalid_content_types_are_refused(store: &dyn ObjectStore) {
    let key = key("x");
    for bad in ["", "text/html\r\nx-injected: 1"] {
        let error = store.put(&key, Bytes::from_static(b"x"), bad).await.expect_err("refused");
        assert!(matches!(error, ObjectError::InvalidContentType { .. }), "{error}");
    }
    assert!(store.head(&key).await.expect("head").is_none());
}

/// Keys from user input are refused before any store sees them.
#[test]
fn unsafe_keys_never_reach_a_store() {
    for text in ["..", "../x", "a/../../etc/passwd", "/abs", "a//b", "a\\b", "a\u{0}b", &"k".repeat(600)] {
        assert!(
            matches!(ObjectKey::parse(text), Err(ObjectError::InvalidKey { .. })),
            "{:?} must be refused",
            text.escape_debug()
        );
    }
}

/// The local store keeps its files under its root, with the layout its docs describe.
#[tokio::test]
async fn the_local_store_writes_only_under_its_root() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path().join("objects");
    let store = FsObjectStore::open(&root).expect("open");
    store.put(&key("cards/1/a.png"), Bytes::from_static(b"png"), "image/png").await.expect("put");
    assert_eq!(std::fs::read(root.join("cards/1/a.png~")).expect("data file"), b"png");
    assert_eq!(std::fs::read_to_string(root.join("cards/1/a.png~meta")).expect("sidecar"), "image/png");
    let names: Vec<String> = std::fs::read_dir(root.join("cards/1"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file is left: {names:?}");
    store.delete(&key("cards/1/a.png")).await.expect("delete");
    assert!(!root.join("cards").exists(), "empty directories are removed");
    assert!(root.exists(), "the root stays");
}
