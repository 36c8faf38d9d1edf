//! The server-wide bot (`GARRISON_DISCORD_BOT_TOKEN`): a persistent set of shards (as many as
//! `GET /gateway/bot` recommends) that registers Garrison's slash commands once READY names the
//! application, and answers each command within Discord's 3-second window: at once when the answer is
//! ready within 2 s, otherwise with a deferred (ephemeral) reply that is filled in when it is.

use std::sync::Arc;
use std::time::Duration;

use garrison_core::ServerId;
use garrison_core::discord::commands::{CommandHandler, Invocation, OptionKind, OptionValue, SlashCommand};
use garrison_core::discord::{BotToken, DiscordError, InteractionToken, MessagePatch, Permissions, Snowflake};
use serde_json::{Value, json};
use twilight_gateway::{ConfigBuilder, Event, EventTypeFlags, Intents, Shard, ShardId, StreamExt};
use twilight_http::routing::Route;
use twilight_model::application::interaction::application_command::{CommandDataOption, CommandOptionValue};
use twilight_model::application::interaction::{Interaction, InteractionData, InteractionType};
use twilight_model::gateway::CloseCode;

use crate::TwilightBots;

/// How long an answer may take before the interaction is deferred (Discord allows 3 s in all).
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// Discord's flag for a message only its recipient sees.
const EPHEMERAL: u64 = 1 << 6;
/// The most shards one process runs (a bot in 2,500 guilds per shard: 250,000 guilds).
const MAX_SHARDS: u32 = 100;

/// Where the commands are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandScope {
    /// Everywhere the bot is (Discord may take a while to show changes).
    Global,
    /// In one guild only (shown at once: for testing and single-server deployments).
    Guild(ServerId),
}

/// Discord's JSON for the commands.
pub fn command_json(commands: &[SlashCommand]) -> Value {
    let kind = |k: OptionKind| k as u8;
    Value::Array(
        commands
            .iter()
            .map(|c| {
                let options: Vec<Value> = c
                    .subcommands
                    .iter()
                    .map(|s| {
                        let options: Vec<Value> = s
                            .options
                            .iter()
                            .map(|o| {
                                json!({"type": kind(o.kind), "name": o.name, "description": o.description, "required": o.required})
                            })
                            .collect();
                        json!({"type": 1, "name": s.name, "description": s.description, "options": options})
                    })
                    .collect();
                let mut command = json!({"type": 1, "name": c.name, "description": c.description, "options": options,
                    "contexts": [0]});
                if let Some(required) = c.required
                    && let Some(object) = command.as_object_mut()
                {
                    object.insert("default_member_permissions".into(), Value::String(required.bits().to_string()));
                }
                command
            })
            .collect(),
    )
}

/// A twilight option as core's value (subcommands are read apart).
fn option_value(value: &CommandOptionValue) -> Option<OptionValue> {
    match value {
        CommandOptionValue::Boolean(b) => Some(OptionValue::Boolean(*b)),
        CommandOptionValue::Integer(i) => Some(OptionValue::Integer(*i)),
        CommandOptionValue::String(s) => Some(OptionValue::String(s.clone())),
        _ => None,
    }
}

fn options_of(options: &[CommandDataOption]) -> Vec<(String, OptionValue)> {
    options.iter().filter_map(|o| Some((o.name.clone(), option_value(&o.value)?))).collect()
}

/// An application command as core's invocation; `None` for anything else.
fn invocation(interaction: &Interaction) -> Option<Invocation> {
    if interaction.kind != InteractionType::ApplicationCommand {
        return None;
    }
    let Some(InteractionData::ApplicationCommand(data)) = &interaction.data else { return None };
    let user = interaction.member.as_ref().and_then(|m| m.user.as_ref()).or(interaction.user.as_ref())?.id.get();
    let permissions = interaction
        .member
        .as_ref()
        .and_then(|m| m.permissions)
        .map_or(Permissions::NONE, |p| Permissions::from_bits(p.bits()));
    let (subcommand, options) = match data.options.first().map(|o| &o.value) {
        Some(CommandOptionValue::SubCommand(inner)) => {
            (data.options.first().map(|o| o.name.clone()), options_of(inner))
        }
        _ => (None, options_of(&data.options)),
    };
    Some(Invocation {
        guild: interaction.guild_id.and_then(|g| ServerId::from_discord(Snowflake::from_raw(g.get()))),
        user: Snowflake::from_raw(user),
        permissions,
        command: data.name.clone(),
        subcommand,
        options,
    })
}

/// Runs the server-wide bot until the process ends (or Discord refuses the token for good).
pub(crate) async fn run(
    bots: TwilightBots,
    token: BotToken,
    url: Option<String>,
    handler: Arc<dyn CommandHandler>,
    commands: Vec<SlashCommand>,
    scope: CommandScope,
) {
    let info = match bots.gateway_bot(&token).await {
        Ok(info) => info,
        Err(error) => return tracing::error!(error = %error, "the server-wide bot cannot reach Discord's gateway"),
    };
    let url = url.unwrap_or(info.url);
    let total = info.shards.clamp(1, MAX_SHARDS);
    let limit = &info.session_start_limit;
    let queue = twilight_gateway::queue::InMemoryQueue::new(
        limit.max_concurrency.max(1),
        limit.remaining,
        Duration::from_millis(limit.reset_after),
        limit.total.max(limit.remaining),
    );
    let body = Arc::new(command_json(&commands));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..total {
        let config = ConfigBuilder::new(token.expose().to_owned(), Intents::GUILDS)
            .proxy_url(url.trim_end_matches('/').to_owned())
            .queue(queue.clone())
            .build();
        let shard = Shard::with_config(ShardId::new(index, total), config);
        let (bots, token, handler, body) = (bots.clone(), token.clone(), Arc::clone(&handler), Arc::clone(&body));
        // Only the first shard registers the commands (once per READY of a new session).
        let registers = index == 0;
        tasks.spawn(shard_loop(shard, bots, token, handler, body, scope, registers));
    }
    while tasks.join_next().await.is_some() {}
}

async fn shard_loop(
    mut shard: Shard,
    bots: TwilightBots,
    token: BotToken,
    handler: Arc<dyn CommandHandler>,
    body: Arc<Value>,
    scope: CommandScope,
    registers: bool,
) {
    let wanted = EventTypeFlags::READY | EventTypeFlags::INTERACTION_CREATE;
    while let Some(item) = shard.next_event(wanted).await {
        match item {
            Ok(Event::Ready(ready)) if registers => {
                let application = Snowflake::from_raw(ready.application.id.get());
                match bots.register_commands(&token, application, scope, &body).await {
                    Ok(()) => {
                        tracing::info!(commands = body.as_array().map_or(0, Vec::len), "slash commands registered")
                    }
                    Err(error) => tracing::error!(error = %error, "the slash commands could not be registered"),
                }
            }
            Ok(Event::InteractionCreate(created)) => {
                let interaction = created.0;
                if let Some(call) = invocation(&interaction) {
                    let (bots, handler) = (bots.clone(), Arc::clone(&handler));
                    tokio::spawn(async move { answer(bots, handler, interaction, call).await });
                }
            }
            Ok(Event::GatewayClose(Some(frame))) => {
                if CloseCode::try_from(frame.code).is_ok_and(|c| !c.can_reconnect()) {
                    tracing::error!(code = frame.code, "Discord closed the server-wide bot's gateway session for good");
                }
            }
            Ok(_) => {}
            Err(error) => tracing::debug!(error = %error, "server-wide bot: gateway receive error"),
        }
    }
}

/// Runs the command and answers the interaction: at once, or deferred then edited.
async fn answer(bots: TwilightBots, handler: Arc<dyn CommandHandler>, interaction: Interaction, call: Invocation) {
    let id = interaction.id.get();
    let application = Snowflake::from_raw(interaction.application_id.get());
    let Some(token) = InteractionToken::parse(&interaction.token) else { return };
    let command = call.command.clone();
    let mut work = handler.handle(call);
    let reply = tokio::select! {
        reply = &mut work => Some(reply),
        () = tokio::time::sleep(ANSWER_WITHIN) => None,
    };
    let result = match reply {
        Some(reply) => {
            log_failure(&command, reply.failure.as_deref());
            let body = json!({"type": 4, "data": {"content": reply.content, "flags": EPHEMERAL, "allowed_mentions": {"parse": []}}});
            bots.interaction_callback(id, &token, &body).await
        }
        None => {
            let deferred = json!({"type": 5, "data": {"flags": EPHEMERAL}});
            match bots.interaction_callback(id, &token, &deferred).await {
                Ok(()) => {
                    let reply = work.await;
                    log_failure(&command, reply.failure.as_deref());
                    let patch =
                        MessagePatch { content: Some(reply.content), components: None, flags: None, embeds: None };
                    garrison_core::discord::DiscordBots::edit_original_response(&bots, application, &token, patch).await
                }
                Err(error) => Err(error),
            }
        }
    };
    if let Err(error) = result {
        tracing::warn!(error = %error, command, "a slash command could not be answered");
    }
}

fn log_failure(command: &str, failure: Option<&str>) {
    if let Some(failure) = failure {
        tracing::warn!(command, error = failure, "a slash command failed");
    }
}

impl TwilightBots {
    /// Replaces the bot's commands (`PUT`, Discord's bulk overwrite: ids of unchanged names stay).
    pub(crate) async fn register_commands(
        &self,
        token: &BotToken,
        application: Snowflake,
        scope: CommandScope,
        body: &Value,
    ) -> Result<(), DiscordError> {
        self.resolve(token).await?;
        let route = match scope {
            CommandScope::Global => Route::SetGlobalCommands { application_id: application.get() },
            CommandScope::Guild(guild) => {
                Route::SetGuildCommands { application_id: application.get(), guild_id: guild.snowflake().get() }
            }
        };
        self.send_verified(token, &route, Some(body)).await
    }

    /// Answers an interaction the bot received over its gateway session (so it is Discord's own).
    pub(crate) async fn interaction_callback(
        &self,
        interaction: u64,
        token: &InteractionToken,
        body: &Value,
    ) -> Result<(), DiscordError> {
        let route = Route::InteractionCallback {
            interaction_id: interaction,
            interaction_token: token.expose(),
            with_response: false,
        };
        self.send_interaction(&route, body).await
    }
}
