//! The server-wide bot's slash commands: what they are (registered with Discord on start) and what
//! they do. `/apikeys generate|list|revoke` manage the server's API keys (members with Manage Server
//! only: Discord hides the command from others and Garrison checks again); `/verify` answers with the
//! verification page's address. Every answer is ephemeral: an API key is shown once, to its maker.

use std::sync::Arc;

use super::{Permissions, Snowflake};
use crate::entropy::Entropy;
use crate::records::ApiKeyService;
use crate::threads::{BlockingThreads, WriteQueue, run_blocking, run_write};
use crate::{ApiKeyId, ServerId};

/// A command option's type, as Discord numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    String = 3,
    Integer = 4,
    Boolean = 5,
}

/// One option of a subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOption {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: OptionKind,
    pub required: bool,
}

/// A subcommand (`/apikeys generate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subcommand {
    pub name: &'static str,
    pub description: &'static str,
    pub options: Vec<CommandOption>,
}

/// A top-level slash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashCommand {
    pub name: &'static str,
    pub description: &'static str,
    /// The permission a member needs to see and use it (`None`: everyone).
    pub required: Option<Permissions>,
    pub subcommands: Vec<Subcommand>,
}

/// The commands Garrison registers.
pub fn definitions() -> Vec<SlashCommand> {
    let read_only = CommandOption {
        name: "read-only",
        description: "A key that can only read (default: read and write)",
        kind: OptionKind::Boolean,
        required: false,
    };
    let id = CommandOption {
        name: "id",
        description: "The key's id (from /apikeys list)",
        kind: OptionKind::Integer,
        required: true,
    };
    vec![
        SlashCommand {
            name: "apikeys",
            description: "Manage this server's Garrison API keys",
            required: Some(Permissions::MANAGE_GUILD),
            subcommands: vec![
                Subcommand {
                    name: "generate",
                    description: "Make a new API key (shown once)",
                    options: vec![read_only],
                },
                Subcommand { name: "list", description: "List this server's API keys", options: Vec::new() },
                Subcommand { name: "revoke", description: "Revoke an API key", options: vec![id] },
            ],
        },
        SlashCommand {
            name: "verify",
            description: "Link your Discord and Roblox accounts",
            required: None,
            subcommands: Vec::new(),
        },
    ]
}

/// An option's value as the member gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    Boolean(bool),
    Integer(i64),
    String(String),
}

/// A slash command as a member used it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `None` in a direct message.
    pub guild: Option<ServerId>,
    pub user: Snowflake,
    /// The member's permissions in the channel, as Discord computed them.
    pub permissions: Permissions,
    pub command: String,
    pub subcommand: Option<String>,
    pub options: Vec<(String, OptionValue)>,
}

impl Invocation {
    fn option(&self, name: &str) -> Option<&OptionValue> {
        self.options.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// What the bot answers, seen only by the member who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandReply {
    pub content: String,
    /// Why Garrison could not do it (for the log; never shown to the member), when it could not.
    pub failure: Option<String>,
}

impl CommandReply {
    fn say(content: impl Into<String>) -> Self {
        Self { content: content.into(), failure: None }
    }

    fn failed(content: &str, failure: impl std::fmt::Display) -> Self {
        Self { content: content.to_owned(), failure: Some(failure.to_string()) }
    }
}

/// Runs the slash commands.
pub struct SlashCommands {
    keys: Arc<ApiKeyService>,
    threads: Arc<dyn BlockingThreads>,
    writer: Arc<dyn WriteQueue>,
    entropy: Arc<dyn Entropy>,
    /// The verification page, when sign-in with Discord and Roblox is configured.
    verify_url: Option<String>,
}

impl std::fmt::Debug for SlashCommands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlashCommands { .. }")
    }
}

/// The longest list `/apikeys list` shows (Discord's messages hold 2,000 characters).
const LIST_MAX: usize = 20;

impl SlashCommands {
    pub fn new(
        keys: Arc<ApiKeyService>,
        threads: Arc<dyn BlockingThreads>,
        writer: Arc<dyn WriteQueue>,
        entropy: Arc<dyn Entropy>,
        verify_url: Option<String>,
    ) -> Self {
        Self { keys, threads, writer, entropy, verify_url }
    }

    /// Answers one invocation. Failures are answers too: the member is told what went wrong.
    pub async fn run(&self, invocation: Invocation) -> CommandReply {
        match invocation.command.as_str() {
            "verify" => CommandReply::say(match &self.verify_url {
                Some(url) => format!("Link your Discord and Roblox accounts here: {url}"),
                None => "Verification is not configured on this Garrison server.".to_owned(),
            }),
            "apikeys" => self.api_keys(&invocation).await,
            other => CommandReply::say(format!("Garrison has no command /{other}.")),
        }
    }

    async fn api_keys(&self, invocation: &Invocation) -> CommandReply {
        let Some(server) = invocation.guild else {
            return CommandReply::say("Use /apikeys in a server: keys belong to a server.");
        };
        if !invocation.permissions.contains(Permissions::MANAGE_GUILD) {
            return CommandReply::say("Only members with the Manage Server permission may manage API keys.");
        }
        let keys = Arc::clone(&self.keys);
        let answer = match invocation.subcommand.as_deref() {
            Some("generate") => {
                let read_only = matches!(invocation.option("read-only"), Some(OptionValue::Boolean(true)));
                let mut entropy = [0u8; 32];
                if let Err(error) = self.entropy.fill(&mut entropy) {
                    return CommandReply::failed("Garrison could not make a key just now; try again.", error);
                }
                let name = format!("made with /apikeys by {}", invocation.user);
                run_write(&*self.writer, move || keys.create(server, &name, read_only, entropy)).await.map(
                    |(key, secret)| {
                        let access = if key.read_only { "read-only" } else { "read and write" };
                        format!(
                            "New API key #{} ({access}) for this server. It is shown this once: store it now.\n`{}`",
                            key.id.0,
                            secret.expose()
                        )
                    },
                )
            }
            Some("list") => run_blocking(&*self.threads, move || keys.list(server))
                .await
                .map_err(crate::Error::from)
                .and_then(|listed| listed)
                .map(|all| {
                    let active: Vec<_> = all.into_iter().filter(|k| k.revoked_at.is_none()).collect();
                    if active.is_empty() {
                        return "This server has no API keys. Make one with /apikeys generate.".to_owned();
                    }
                    let mut lines: Vec<String> = active
                        .iter()
                        .take(LIST_MAX)
                        .map(|k| {
                            let access = if k.read_only { "read-only" } else { "read and write" };
                            format!("#{} {} ({access}), made <t:{}:d>", k.id.0, k.name, k.created_at.millis() / 1000)
                        })
                        .collect();
                    if active.len() > LIST_MAX {
                        lines.push(format!("... and {} more", active.len() - LIST_MAX));
                    }
                    format!("API keys of this server:\n{}", lines.join("\n"))
                }),
            Some("revoke") => {
                let Some(OptionValue::Integer(id)) = invocation.option("id") else {
                    return CommandReply::say("Give the id of the key to revoke (see /apikeys list).");
                };
                let id = ApiKeyId(*id);
                run_write(&*self.writer, move || {
                    // Only this server's keys: an id from another server is not found here.
                    let owned = keys.list(server)?.into_iter().any(|k| k.id == id && k.revoked_at.is_none());
                    if !owned {
                        return Ok(format!("This server has no active API key #{}.", id.0));
                    }
                    keys.revoke(id).map(|key| format!("Revoked API key #{} ({}).", key.id.0, key.name))
                })
                .await
            }
            _ => return CommandReply::say("Use /apikeys generate, /apikeys list or /apikeys revoke."),
        };
        match answer {
            Ok(text) => CommandReply::say(text),
            Err(error) => CommandReply::failed("Garrison could not do that just now; try again.", error),
        }
    }
}

/// What the gateway adapter hands slash commands to.
pub trait CommandHandler: Send + Sync {
    fn handle(&self, invocation: Invocation) -> std::pin::Pin<Box<dyn Future<Output = CommandReply> + Send + '_>>;
}

impl CommandHandler for SlashCommands {
    fn handle(&self, invocation: Invocation) -> std::pin::Pin<Box<dyn Future<Output = CommandReply> + Send + '_>> {
        Box::pin(self.run(invocation))
    }
}
