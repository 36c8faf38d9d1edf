//! The fetcher against a real HTTP server on loopback: what it refuses (before connecting, after DNS,
//! on redirects), its size and time caps, and a fetch that succeeds.

use std::time::Duration;

use garrison_fetch::{FetchError, FetchPolicy, Fetched, Revalidated, SafeFetcher, Validators};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A tiny HTTP/1.1 server: answers each connection by the request path.
async fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 4096];
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..n]).into_owned();
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let response: Vec<u8> = match path.as_str() {
                    "/image" => b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello".to_vec(),
                    "/big" => {
                        let mut r = b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\nconnection: close\r\n\r\n".to_vec();
                        r.extend(std::iter::repeat_n(b'x', 5000));
                        r
                    }
                    "/big-undeclared" => {
                        let mut r = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
                        r.extend(std::iter::repeat_n(b'x', 5000));
                        r
                    }
                    "/to-private" => redirect("http://10.0.0.1/image"),
                    "/to-metadata" => redirect("http://169.254.169.254/latest/meta-data/"),
                    "/to-image" => redirect("/image"),
                    "/to-other-port" => redirect("https://example.com:8443/image"),
                    "/to-mapped" => redirect("https://[::ffff:10.0.0.1]/image"),
                    "/loop" => redirect("/loop"),
                    "/tagged" if request.to_ascii_lowercase().contains("if-none-match: \"v1\"") => {
                        b"HTTP/1.1 304 Not Modified\r\netag: \"v1\"\r\nconnection: close\r\n\r\n".to_vec()
                    }
                    "/tagged" => b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\netag: \"v1\"\r\nlast-modified: Tue, 01 Dec 2026 10:00:00 GMT\r\nconnection: close\r\n\r\nhello".to_vec(),
                    "/unconditional-304" => b"HTTP/1.1 304 Not Modified\r\nconnection: close\r\n\r\n".to_vec(),
                    "/huge-etag" => {
                        format!("HTTP/1.1 200 OK\r\ncontent-length: 5\r\netag: \"{}\"\r\nconnection: close\r\n\r\nhello", "x".repeat(300)).into_bytes()
                    }
                    "/missing" => b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
                    "/slow" => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        Vec::new()
                    }
                    _ => b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n".to_vec(),
                };
                let _ = socket.write_all(&response).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn redirect(location: &str) -> Vec<u8> {
    format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").into_bytes()
}

fn fetcher(policy: FetchPolicy) -> SafeFetcher {
    install_crypto();
    SafeFetcher::new(policy).expect("client")
}

fn loopback_policy(extra_hosts: &[&str]) -> FetchPolicy {
    let mut hosts = vec!["127.0.0.1".to_owned()];
    hosts.extend(extra_hosts.iter().map(|h| (*h).to_owned()));
    FetchPolicy { allowed_hosts: hosts, allow_loopback_for_tests: true, max_bytes: 1000, ..FetchPolicy::default() }
}

#[track_caller]
fn refused(result: Result<Vec<u8>, FetchError>, needle: &str) {
    match result {
        Err(FetchError::Refused(message)) => assert!(message.contains(needle), "{message:?} lacks {needle:?}"),
        other => panic!("expected a refusal mentioning {needle:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn only_https_to_allowed_hosts() {
    let f = fetcher(FetchPolicy { allowed_hosts: vec!["cdn.discordapp.com".into()], ..FetchPolicy::default() });
    refused(f.fetch("http://cdn.discordapp.com/avatars/1/a.png").await, "only https");
    refused(f.fetch("https://evil.example/a.png").await, "host evil.example is not allowed");
    refused(f.fetch("https://cdn.discordapp.com.evil.example/a.png").await, "is not allowed");
    refused(f.fetch("https://user:secret@cdn.discordapp.com/a.png").await, "credentials");
    refused(f.fetch("not a url").await, "not a valid URL");
    refused(f.fetch("file:///etc/passwd").await, "only https");
}

#[tokio::test]
async fn loopback_private_link_local_and_metadata_addresses_are_refused() {
    let hosts = ["127.0.0.1", "10.0.0.1", "192.168.1.1", "169.254.169.254", "::1", "fd00:ec2::254", "0.0.0.0"];
    let f = fetcher(FetchPolicy {
        allowed_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        ..FetchPolicy::default()
    });
    for url in [
        "https://127.0.0.1/a.png",
        "https://10.0.0.1/a.png",
        "https://192.168.1.1/a.png",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/a.png",
        "https://[fd00:ec2::254]/a.png",
        "https://0.0.0.0/a.png",
    ] {
        refused(f.fetch(url).await, "is not public");
    }
}

#[tokio::test]
async fn names_are_checked_after_dns() {
    // `localhost` is on the allow-list, but it resolves to loopback: refused by the resolver.
    let f = fetcher(FetchPolicy { allowed_hosts: vec!["localhost".into()], ..FetchPolicy::default() });
    refused(f.fetch("https://localhost:9/a.png").await, "does not resolve to a public address");
}

#[tokio::test]
async fn redirects_are_checked_at_every_hop() {
    let base = serve().await;
    let f = fetcher(loopback_policy(&["10.0.0.1", "169.254.169.254"]));
    refused(f.fetch(&format!("{base}/to-private")).await, "address 10.0.0.1 is not public");
    refused(f.fetch(&format!("{base}/to-metadata")).await, "address 169.254.169.254 is not public");
    refused(f.fetch(&format!("{base}/loop")).await, "redirects");
    // A redirect that stays within the rules is followed.
    assert_eq!(f.fetch(&format!("{base}/to-image")).await.expect("followed"), b"hello");
    // The test switch admits loopback, never a private network.
    let off_list = fetcher(loopback_policy(&[]));
    refused(off_list.fetch(&format!("{base}/to-private")).await, "host 10.0.0.1 is not allowed");
}

#[tokio::test]
async fn size_and_time_are_capped() {
    let base = serve().await;
    let f = fetcher(loopback_policy(&[]));
    assert_eq!(f.fetch(&format!("{base}/image")).await.expect("fetched"), b"hello");
    assert!(matches!(f.fetch(&format!("{base}/big")).await, Err(FetchError::TooLarge { limit: 1000 })));
    assert!(matches!(f.fetch(&format!("{base}/big-undeclared")).await, Err(FetchError::TooLarge { limit: 1000 })));
    assert!(matches!(f.fetch(&format!("{base}/missing")).await, Err(FetchError::Status { status: 404 })));
    let quick = fetcher(FetchPolicy { timeout: Duration::from_millis(300), ..loopback_policy(&[]) });
    let started = std::time::Instant::now();
    assert!(matches!(quick.fetch(&format!("{base}/slow")).await, Err(FetchError::Timeout { .. })));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn large_bodies_stream_into_a_sink_under_their_own_limit_and_the_same_checks() {
    let base = serve().await;
    let f = fetcher(loopback_policy(&["10.0.0.1"]));
    let mut sink = Vec::new();
    let (size, _) = f.fetch_into(&format!("{base}/image"), 100, &mut sink).await.expect("fetched");
    assert_eq!((size, sink.as_slice()), (5, b"hello".as_slice()));
    let mut sink = Vec::new();
    let err = f.fetch_into(&format!("{base}/big-undeclared"), 1000, &mut sink).await;
    assert!(matches!(err, Err(FetchError::TooLarge { limit: 1000 })), "{err:?}");
    assert!(sink.len() <= 1000, "nothing past the limit is kept");
    let err = f.fetch_into(&format!("{base}/to-private"), 1000, &mut Vec::new()).await;
    assert!(matches!(err, Err(FetchError::Refused(_))), "redirects are checked too: {err:?}");
}

#[tokio::test]
async fn ipv4_addresses_carried_in_ipv6_are_judged_by_the_ipv4_address() {
    let f = fetcher(FetchPolicy::any_public_host());
    for url in [
        "https://[::ffff:10.0.0.1]/a.png",
        "https://[::ffff:127.0.0.1]/a.png",
        "https://[::ffff:169.254.169.254]/latest/meta-data/",
        "https://[::ffff:0:a00:1]/a.png",
        "https://[::ffff:0:7f00:1]/a.png",
        "https://[64:ff9b::a00:1]/a.png",
        "https://[64:ff9b:1::a00:1]/a.png",
        "https://[64:ff9b:1::808:808]/a.png",
    ] {
        refused(f.fetch(url).await, "is not public");
    }
    // The test switch admits 127.0.0.1 and ::1, not loopback wrapped in IPv6.
    let tests = fetcher(FetchPolicy { allow_loopback_for_tests: true, ..FetchPolicy::any_public_host() });
    refused(tests.fetch("http://[::ffff:127.0.0.1]:9/a.png").await, "is not public");
    refused(tests.fetch("http://[::ffff:0:7f00:1]:9/a.png").await, "is not public");
}

#[tokio::test]
async fn the_any_host_policy_fetches_only_from_port_443() {
    let f = fetcher(FetchPolicy::any_public_host());
    refused(f.fetch("https://example.com:8443/a.png").await, "only port 443");
    refused(f.fetch("https://example.com:80/a.png").await, "only port 443");
    refused(f.fetch("http://example.com/a.png").await, "only https");
    refused(f.fetch("https://10.0.0.1/a.png").await, "is not public");
    refused(f.fetch("https://169.254.169.254/latest/meta-data/").await, "is not public");
    // A name is checked after DNS like on the allow-list.
    refused(f.fetch("https://localhost/a.png").await, "does not resolve to a public address");
    // Redirects meet the same rule: a public first hop cannot send the fetch to another port or a
    // private address.
    let base = serve().await;
    let tests = fetcher(FetchPolicy { allow_loopback_for_tests: true, ..FetchPolicy::any_public_host() });
    assert_eq!(tests.fetch(&format!("{base}/image")).await.expect("loopback in tests"), b"hello");
    refused(tests.fetch(&format!("{base}/to-other-port")).await, "only port 443");
    refused(tests.fetch(&format!("{base}/to-mapped")).await, "is not public");
    // The loopback switch opens other ports on loopback literals only.
    refused(tests.fetch("https://example.com:8443/a.png").await, "only port 443");
}

#[tokio::test]
async fn a_fetch_keeps_its_validators_and_an_unchanged_image_is_not_downloaded_again() {
    let base = serve().await;
    let f = fetcher(loopback_policy(&[]));
    let url = format!("{base}/tagged");
    let first = f.fetch_unless(&url, &Validators::default()).await.expect("first fetch");
    let expected =
        Validators { etag: Some("\"v1\"".into()), last_modified: Some("Tue, 01 Dec 2026 10:00:00 GMT".into()) };
    assert_eq!(first, Revalidated::Modified(Fetched { bytes: b"hello".to_vec(), validators: expected.clone() }));
    assert_eq!(f.fetch_unless(&url, &expected).await.expect("revalidated"), Revalidated::NotModified);
    // Another tag: the body again.
    let other = Validators { etag: Some("\"v0\"".into()), last_modified: None };
    assert!(matches!(f.fetch_unless(&url, &other).await, Ok(Revalidated::Modified(_))));
    // A 304 nobody asked for is not an image.
    let err = f.fetch(&format!("{base}/unconditional-304")).await.expect_err("not an image");
    assert!(matches!(err, FetchError::Status { status: 304 }), "{err:?}");
    // An oversized validator is not kept (nor ever sent back).
    match f.fetch_unless(&format!("{base}/huge-etag"), &Validators::default()).await.expect("fetch") {
        Revalidated::Modified(fetched) => assert_eq!(fetched.validators, Validators::default()),
        other => panic!("expected a body, got {other:?}"),
    }
    // The policy still applies to conditional fetches.
    let refused = f.fetch_unless("https://10.0.0.1/x", &expected).await.expect_err("refused");
    assert!(matches!(refused, FetchError::Refused(_)), "{refused:?}");
}

/// A keep-alive receiver answering every `POST` with a short body, written a moment after the
/// answer's head; counts the connections it took.
async fn acknowledging_receiver() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&connections);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut pending: Vec<u8> = Vec::new();
                let mut buffer = vec![0u8; 4096];
                loop {
                    // A request is its headers and a content-length body.
                    let complete = pending.windows(4).position(|w| w == b"\r\n\r\n").and_then(|end| {
                        let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        (pending.len() >= end + 4 + length).then_some(end + 4 + length)
                    });
                    if let Some(size) = complete {
                        pending.drain(..size);
                        // The body a moment after the head, as a receiver that writes them apart.
                        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 17\r\n\r\n";
                        if socket.write_all(head).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        if socket.write_all(b"{\"received\":true}").await.is_err() {
                            return;
                        }
                        continue;
                    }
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => pending.extend_from_slice(&buffer[..n]),
                    }
                }
            });
        }
    });
    (format!("http://{addr}/hook"), connections)
}

#[tokio::test]
async fn posts_read_the_answer_so_one_connection_carries_them_all() {
    let (url, connections) = acknowledging_receiver().await;
    let fetcher = fetcher(loopback_policy(&[]));
    for n in 0..5 {
        let headers = [("content-type", "application/json".to_owned())];
        let answer = fetcher.post(&url, &headers, format!("{{\"n\":{n}}}")).await;
        assert_eq!(answer.expect("posted"), (200, None));
    }
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1, "the connection was used again");
}
