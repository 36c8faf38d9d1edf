//! A server under test pointed at the Discord simulator (`garrison-discord-sim`) with its demo world,
//! and the requests the Discord route tests make. Every Discord test ends with `assert_faithful`: the
//! simulator saw no traffic that Discord's OpenAPI document forbids, and no token reached the log.

use garrison_discord_sim::{Demo, Simulator, World};
use reqwest::Method;
use serde_json::Value;

use crate::harness::{Backend, Reply, Server, database, names_a_secret, secret};

pub struct Discord {
    pub sim: Simulator,
    pub demo: Demo,
    pub server: Server,
}

impl Discord {
    /// The demo world, and a server on SQLite pointed at it (plus `env`).
    pub fn start(env: &[(&str, &str)]) -> Self {
        let (world, demo) = World::demo();
        secret(&demo.bot.token);
        let sim = Simulator::start(world);
        let url = sim.base_url();
        let mut all = vec![("GARRISON_DISCORD_API_URL", url.as_str())];
        all.extend_from_slice(env);
        let server = Server::start_with(database(Backend::Sqlite).expect("SQLite is always available"), &all);
        Self { sim, demo, server }
    }

    /// The demo world, and a server pointed at it with settings made from the demo (its bot, its
    /// guild, ...).
    pub fn start_for(env: impl FnOnce(&Demo) -> Vec<(&'static str, String)>) -> Self {
        let (world, demo) = World::demo();
        secret(&demo.bot.token);
        let sim = Simulator::start(world);
        let url = sim.base_url();
        let extra = env(&demo);
        let mut all = vec![("GARRISON_DISCORD_API_URL", url.as_str())];
        all.extend(extra.iter().map(|(name, value)| (*name, value.as_str())));
        let server = Server::start_with(database(Backend::Sqlite).expect("SQLite is always available"), &all);
        Self { sim, demo, server }
    }

    /// The demo bot's token.
    pub fn token(&self) -> &str {
        &self.demo.bot.token
    }

    /// A request with headers and an optional JSON body.
    pub async fn call(&self, method: Method, path: &str, headers: &[(&str, String)], body: Option<Value>) -> Reply {
        let mut request = self.server.client().request(method, format!("{}{path}", self.server.base));
        for (name, value) in headers {
            if names_a_secret(name) {
                secret(value);
            }
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Server::reply(request.send().await.expect("reply")).await
    }

    /// A POST with a body of the given content type.
    pub async fn post_text(&self, path: &str, headers: &[(&str, String)], content_type: &str, body: &str) -> Reply {
        let mut request = self
            .server
            .client()
            .post(format!("{}{path}", self.server.base))
            .header("content-type", content_type)
            .body(body.to_owned());
        for (name, value) in headers {
            if names_a_secret(name) {
                secret(value);
            }
            request = request.header(*name, value);
        }
        Server::reply(request.send().await.expect("reply")).await
    }

    /// `server-id`, `bot-token` and `user-id` for a moderation route.
    pub fn target(&self, user: u64) -> Vec<(&'static str, String)> {
        vec![
            ("server-id", self.demo.guild.to_string()),
            ("bot-token", self.token().to_owned()),
            ("user-id", user.to_string()),
        ]
    }

    pub fn assert_faithful(&self) {
        let violations = self.sim.spec_violations();
        assert!(violations.is_empty(), "the simulator saw traffic Discord's document forbids: {violations:#?}");
        assert!(!self.server.logs().contains(self.token()), "a bot token reached the server's log");
    }
}
