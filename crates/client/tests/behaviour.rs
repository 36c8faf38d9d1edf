//! The client against a tiny local HTTP server that answers what each test scripts: the API key and
//! bot tokens it sends, refusals mapped to errors with the server's text, and `Retry-After` waited
//! out only for requests that are safe to repeat, a bounded number of times.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use garrison_client::ep::{Company, EpAdd};
use garrison_client::xp::XpChange;
use garrison_client::{ApiKeySecret, BotToken, Client, Error, RobloxUserId, ServerId, Snowflake};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A request as the server received it.
#[derive(Debug, Clone)]
struct Received {
    /// `GET /api/xp?serverId=...`
    line: String,
    /// Header names lower-cased.
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, value)| value.as_str())
    }
}

/// A server that answers its connections, one request each, with `answers` in turn (the last one
/// again when they run out), and keeps what it received.
struct Server {
    address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Server {
    async fn start(answers: &[&str]) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a local port");
        let address = listener.local_addr().expect("its address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let answers: Vec<String> = answers.iter().map(|a| (*a).to_owned()).collect();
        let log = Arc::clone(&received);
        tokio::spawn(async move {
            for turn in 0.. {
                let Ok((stream, _)) = listener.accept().await else { return };
                let mut stream = BufReader::new(stream);
                let Some(request) = read_request(&mut stream).await else { continue };
                log.lock().expect("the log").push(request);
                let answer = answers.get(turn).or(answers.last()).cloned().unwrap_or_default();
                let _ = stream.get_mut().write_all(answer.as_bytes()).await;
                let _ = stream.get_mut().shutdown().await;
            }
        });
        Server { address, received }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("the log").clone()
    }
}

async fn read_request(stream: &mut BufReader<tokio::net::TcpStream>) -> Option<Received> {
    let mut line = String::new();
    stream.read_line(&mut line).await.ok()?;
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        stream.read_line(&mut header).await.ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    let line = line.trim_end().to_owned();
    Some(Received { line, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// An HTTP/1.1 answer with a JSON body and extra header lines.
fn answer(status: &str, extra: &str, json: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{json}",
        json.len()
    )
}

const KEY: &str = "gar_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn client(server: &Server) -> Client {
    let key = ApiKeySecret::parse(KEY).expect("an API key");
    Client::builder(server.url()).api_key(key).build().expect("a client")
}

fn server_id() -> ServerId {
    ServerId::parse("serverId", "123456789012345678").expect("a server id")
}

fn member() -> RobloxUserId {
    RobloxUserId::parse("robloxId", "123456789").expect("a Roblox id")
}

const RATE_LIMITED: &str = r#"{"error":"rate limited: try again in 1 s"}"#;

#[tokio::test]
async fn the_api_key_is_sent_as_a_bearer_token() {
    let server = Server::start(&[&answer("200 OK", "", r#"{"success":true,"xp":50}"#)]).await;
    let balance = client(&server).xp().get(server_id(), member()).await.expect("a balance");
    assert_eq!(balance.xp, 50);
    let received = server.received();
    assert_eq!(received[0].line, "GET /api/xp?serverId=123456789012345678&robloxId=123456789 HTTP/1.1");
    assert_eq!(received[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
}

#[tokio::test]
async fn bodies_ids_and_bot_tokens_travel_as_the_document_says() {
    let server = Server::start(&[
        &answer("200 OK", "", r#"{"success":true,"xp":60}"#),
        &answer("200 OK", "", r#"{"message":"User successfully banned"}"#),
        &answer("200 OK", "", r#"{"status":"ok"}"#),
    ])
    .await;
    let client = client(&server);
    let change = XpChange::new(server_id(), member(), 10).reference("patrol");
    client.xp().add(&change, None).await.expect("added");
    let bot = BotToken::new("the-bot-token").expect("a token");
    let user = Snowflake::parse("user", "223456789012345678").expect("a user");
    let said = client.moderation().ban(&bot, server_id(), user).await.expect("banned");
    assert_eq!(said, "User successfully banned");
    client.health().live().await.expect("alive");

    let received = server.received();
    assert_eq!(received[0].line, "POST /api/xp/add HTTP/1.1");
    assert_eq!(received[0].header("content-type"), Some("application/json"));
    assert_eq!(
        received[0].body,
        r#"{"serverId":"123456789012345678","robloxId":"123456789","amount":10,"reference":"patrol"}"#
    );
    assert_eq!(received[1].line, "POST /api/modactions/ban HTTP/1.1");
    assert_eq!(received[1].header("bot-token"), Some("the-bot-token"));
    assert_eq!(received[1].header("server-id"), Some("123456789012345678"));
    assert_eq!(received[1].header("user-id"), Some("223456789012345678"));
    assert_eq!(received[2].line, "GET /healthz HTTP/1.1");
    assert_eq!(received[2].header("authorization"), None, "the health probes take no key");
}

#[tokio::test]
async fn refusals_carry_the_servers_text() {
    let server = Server::start(&[
        &answer("400 Bad Request", "", r#"{"error":"amount: must be an integer from 1 to 1000000000, got 0"}"#),
        &answer("401 Unauthorized", "", r#"{"error":"unknown API key"}"#),
        &answer("404 Not Found", "", r#"{"error":"no medal named Purple Heart"}"#),
        &answer("409 Conflict", "", r#"{"error":"an LOA is already active"}"#),
    ])
    .await;
    let client = client(&server);
    let change = XpChange::new(server_id(), member(), 0);
    match client.xp().add(&change, None).await {
        Err(Error::Api { status: 400, message }) => {
            assert_eq!(message, "amount: must be an integer from 1 to 1000000000, got 0");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    match client.xp().get(server_id(), member()).await {
        Err(Error::Unauthorized { message }) => assert_eq!(message, "unknown API key"),
        other => panic!("expected a 401, got {other:?}"),
    }
    let error = client.medals().list(server_id()).await.expect_err("a 404");
    assert!(matches!(&error, Error::NotFound { message } if message == "no medal named Purple Heart"), "{error}");
    let error = client.loa().get(server_id(), member()).await.expect_err("a 409");
    assert_eq!((error.status(), error.message()), (Some(409), Some("an LOA is already active")));
    assert!(!format!("{error:?} {error}").contains(KEY), "no error names the key");
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_and_the_request_sent_again() {
    let server = Server::start(&[
        &answer("429 Too Many Requests", "retry-after: 1\r\n", RATE_LIMITED),
        &answer("200 OK", "", r#"{"success":true,"xp":75}"#),
    ])
    .await;
    let started = Instant::now();
    let balance = client(&server).xp().get(server_id(), member()).await.expect("the second attempt's answer");
    assert_eq!(balance.xp, 75);
    assert!(started.elapsed() >= Duration::from_millis(900), "waited {:?}", started.elapsed());
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn retries_are_bounded() {
    let limited = answer("503 Service Unavailable", "retry-after: 1\r\n", r#"{"error":"queue full"}"#);
    let server = Server::start(&[&limited]).await;
    let key = ApiKeySecret::parse(KEY).expect("an API key");
    let client = Client::builder(server.url()).api_key(key).max_retries(1).build().expect("a client");
    let error = client.xp().get(server_id(), member()).await.expect_err("still unavailable");
    assert!(
        matches!(&error, Error::Unavailable { retry_after_secs: Some(1), message } if message == "queue full"),
        "{error:?}"
    );
    assert_eq!(server.received().len(), 2, "the first attempt and one retry");

    // A wait longer than the client may make is not made: the error comes back at once.
    let long = answer("429 Too Many Requests", "retry-after: 3600\r\n", RATE_LIMITED);
    let server = Server::start(&[&long]).await;
    let started = Instant::now();
    let error = self::client(&server).xp().get(server_id(), member()).await.expect_err("rate limited");
    assert!(matches!(error, Error::RateLimited { retry_after_secs: Some(3600), .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_post_is_retried_only_with_an_idempotency_key() {
    let limited = answer("429 Too Many Requests", "retry-after: 1\r\n", RATE_LIMITED);
    let server = Server::start(&[&limited]).await;
    let client = client(&server);
    let add = EpAdd { server_id: server_id(), roblox_id: member(), company: Company::Main, amount: 5 };
    let error = client.ep().add(&add).await.expect_err("rate limited");
    assert!(matches!(error, Error::RateLimited { retry_after_secs: Some(1), .. }), "{error:?}");
    let change = XpChange::new(server_id(), member(), 5);
    client.xp().add(&change, None).await.expect_err("rate limited");
    assert_eq!(server.received().len(), 2, "neither POST was sent again");

    let server =
        Server::start(&[&limited, &answer("200 OK", "idempotent-replayed: true\r\n", r#"{"success":true,"xp":5}"#)])
            .await;
    let added = self::client(&server).xp().add(&change, Some("event-42")).await.expect("the retry's answer");
    assert!(added.replayed && added.xp == 5, "{added:?}");
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|r| r.header("idempotency-key") == Some("event-42")), "{received:?}");
    assert_eq!(received[0].body, received[1].body, "the same request again");
}
