//! Interactions: a user invoking one of an application's commands (checked the way Discord decides
//! whether the user may see and use it), the INTERACTION_CREATE it sends to the application's
//! gateway sessions, the response window, and what the application answered.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::commands::ApplicationCommandView;
use crate::json;
use crate::permissions::{self, USE_APPLICATION_COMMANDS, VIEW_CHANNEL};
use crate::time::Timestamp;
use crate::world::World;

/// How long after an interaction is created its first callback may come (Discord: 3 seconds);
/// later callbacks get 404 10062. `World::set_interaction_response_window` changes it.
pub const INTERACTION_RESPONSE_WINDOW: Duration = Duration::from_secs(3);
/// How long an interaction token works, for the callback once acknowledged and for its webhook
/// (`/webhooks/{application_id}/{token}/...`; Discord: 15 minutes).
pub const INTERACTION_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Interactions kept at once: beyond it (or past their token's lifetime) the oldest are forgotten.
pub const MAX_INTERACTIONS: usize = 10_000;

pub(crate) const RESPONSE_WINDOW_MS: i64 = 3_000;
pub(crate) const TOKEN_LIFETIME_MS: i64 = 15 * 60 * 1000;

/// Discord's default upload limit for an interaction response (`attachment_size_limit`, 10 MiB).
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

/// How an application answered an interaction: the callback type and its original response message
/// as it is now (a deferred response reads as loading until `PATCH .../messages/@original` fills it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionResponseView {
    /// The interaction.
    pub interaction_id: u64,
    /// The callback type: 4 CHANNEL_MESSAGE_WITH_SOURCE, 5 DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    /// 9 MODAL, 12 LAUNCH_ACTIVITY.
    pub kind: u8,
    /// When the callback came.
    pub responded_at: Timestamp,
    /// The original response message (types 4 and 5).
    pub message_id: Option<u64>,
    /// Its content.
    pub content: String,
    /// Its flags (64 ephemeral, 128 loading, 4 suppress embeds, ...).
    pub flags: u64,
    /// Only the invoking user sees it (flag 64).
    pub ephemeral: bool,
    /// A deferred response not yet filled in (flag 128).
    pub loading: bool,
    /// Its embeds, as Discord returns them.
    pub embeds: Vec<Value>,
    /// Its components, as Discord returns them.
    pub components: Vec<Value>,
    /// Its attachments, as Discord returns them.
    pub attachments: Vec<Value>,
}

/// Objects resolved from snowflake options (`data.resolved`).
#[derive(Debug, Default)]
struct Resolved {
    users: Map<String, Value>,
    members: Map<String, Value>,
    roles: Map<String, Value>,
    channels: Map<String, Value>,
}

impl Resolved {
    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.members.is_empty() && self.roles.is_empty() && self.channels.is_empty()
    }

    fn into_json(self) -> Value {
        let mut out = Map::new();
        for (key, map) in
            [("users", self.users), ("members", self.members), ("roles", self.roles), ("channels", self.channels)]
        {
            if !map.is_empty() {
                out.insert(key.into(), Value::Object(map));
            }
        }
        Value::Object(out)
    }
}

/// A checked invocation, ready to become an interaction.
#[derive(Debug)]
pub(crate) struct Invocation {
    application: u64,
    guild: u64,
    channel: u64,
    user: u64,
    data: Value,
}

/// What option values are checked against.
struct Context<'a> {
    world: &'a World,
    guild: u64,
    /// The invoking user (resolved channels carry their permissions).
    user: u64,
    channel: u64,
    now: Timestamp,
}

/// A guild member as interactions carry it (`member`): the member object with `permissions`, the
/// member's permissions in `channel`. `None` if `user` is not a member.
pub(crate) fn member_object(world: &World, guild: u64, channel: u64, user: u64) -> Option<Value> {
    let member = world.guilds.get(&guild)?.members.get(&user)?;
    let mut out = json::member(world, member);
    out["permissions"] = Value::String(permissions_in(world, channel, user, Timestamp::now()).to_string());
    Some(out)
}

/// A member's permissions in a guild channel (0 when not a member or without access).
fn permissions_in(world: &World, channel: u64, user: u64, now: Timestamp) -> u64 {
    let Some(view) = world.channels.get(&channel) else { return 0 };
    let Some(guild) = view.guild_id.and_then(|g| world.guilds.get(&g)) else { return 0 };
    permissions::channel_permissions(guild, &view.overwrites, user, now)
}

/// A snowflake given as a string of digits or a number.
fn snowflake(value: &Value) -> Option<u64> {
    match value {
        Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        Value::Number(number) => number.as_u64(),
        _ => None,
    }
}

fn type_name(kind: u64) -> &'static str {
    match kind {
        3 => "a string",
        4 => "an integer",
        5 => "a boolean",
        6 => "a user id",
        7 => "a channel id",
        8 => "a role id",
        9 => "a user or role id",
        10 => "a number",
        _ => "an attachment",
    }
}

impl Context<'_> {
    fn add_user(&self, resolved: &mut Resolved, user: u64) {
        let key = user.to_string();
        resolved.users.insert(key.clone(), json::user_by_id(self.world, user));
        if let Some(mut member) = member_object(self.world, self.guild, self.channel, user) {
            if let Some(object) = member.as_object_mut() {
                for field in ["user", "deaf", "mute"] {
                    object.remove(field);
                }
            }
            resolved.members.insert(key, member);
        }
    }

    fn add_role(&self, resolved: &mut Resolved, role: u64) -> bool {
        let Some(view) = self.world.guilds.get(&self.guild).and_then(|g| g.roles.get(&role)) else { return false };
        resolved.roles.insert(role.to_string(), json::role(view));
        true
    }

    /// The value an option carries in `data.options`, checked against its definition.
    fn value(&self, definition: &Value, given: &Value, resolved: &mut Resolved) -> Result<Value, String> {
        let name = definition["name"].as_str().unwrap_or_default();
        let kind = definition["type"].as_u64().unwrap_or(0);
        let wrong = || format!("option {name} takes {}, not {given}", type_name(kind));
        let out = match kind {
            3 => {
                let text = given.as_str().ok_or_else(wrong)?;
                let length = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
                let min = definition["min_length"].as_i64().unwrap_or(0);
                let max = definition["max_length"].as_i64().unwrap_or(6000);
                if length < min || length > max {
                    return Err(format!("option {name} takes {min} to {max} characters"));
                }
                Value::String(text.to_owned())
            }
            4 => {
                let number = given.as_i64().ok_or_else(wrong)?;
                let below = definition["min_value"].as_f64().is_some_and(|min| (number as f64) < min);
                let above = definition["max_value"].as_f64().is_some_and(|max| (number as f64) > max);
                if below || above || number.unsigned_abs() > 9_007_199_254_740_991 {
                    return Err(format!("option {name} is out of range: {number}"));
                }
                Value::from(number)
            }
            10 => {
                let number = given.as_f64().filter(|n| n.is_finite()).ok_or_else(wrong)?;
                let below = definition["min_value"].as_f64().is_some_and(|min| number < min);
                let above = definition["max_value"].as_f64().is_some_and(|max| number > max);
                if below || above {
                    return Err(format!("option {name} is out of range: {number}"));
                }
                given.clone()
            }
            5 => Value::Bool(given.as_bool().ok_or_else(wrong)?),
            6 => {
                let user = snowflake(given).ok_or_else(wrong)?;
                if !self.world.users.contains_key(&user) {
                    return Err(format!("option {name}: unknown user {user}"));
                }
                self.add_user(resolved, user);
                Value::String(user.to_string())
            }
            8 => {
                let role = snowflake(given).ok_or_else(wrong)?;
                if !self.add_role(resolved, role) {
                    return Err(format!("option {name}: {role} is not a role of guild {}", self.guild));
                }
                Value::String(role.to_string())
            }
            9 => {
                let id = snowflake(given).ok_or_else(wrong)?;
                if self.world.users.contains_key(&id) {
                    self.add_user(resolved, id);
                } else if !self.add_role(resolved, id) {
                    return Err(format!("option {name}: {id} is neither a user nor a role of guild {}", self.guild));
                }
                Value::String(id.to_string())
            }
            7 => {
                let id = snowflake(given).ok_or_else(wrong)?;
                let channel = self
                    .world
                    .channels
                    .get(&id)
                    .filter(|c| c.guild_id == Some(self.guild))
                    .ok_or_else(|| format!("option {name}: {id} is not a channel of guild {}", self.guild))?;
                if let Some(types) = definition["channel_types"].as_array()
                    && !types.iter().any(|t| t.as_u64() == Some(u64::from(channel.kind)))
                {
                    return Err(format!("option {name} does not offer channels of type {}", channel.kind));
                }
                let seen = permissions_in(self.world, id, self.user, self.now);
                resolved.channels.insert(
                    id.to_string(),
                    json!({
                        "id": id.to_string(),
                        "name": channel.name,
                        "type": channel.kind,
                        "parent_id": channel.parent_id.map(|p| p.to_string()),
                        "permissions": seen.to_string(),
                        "flags": 0,
                    }),
                );
                Value::String(id.to_string())
            }
            _ => return Err(format!("option {name}: attachment options are not simulated")),
        };
        if let Some(choices) = definition["choices"].as_array()
            && !choices
                .iter()
                .any(|c| c["value"] == out || (c["value"].as_f64().is_some() && c["value"].as_f64() == out.as_f64()))
        {
            return Err(format!("option {name}: {out} is not one of its choices"));
        }
        Ok(out)
    }

    /// The options of the level the user filled in: every given name must be defined, every
    /// required one given. In the definition's order.
    fn leaf(
        &self,
        definitions: &[Value],
        given: &Map<String, Value>,
        resolved: &mut Resolved,
    ) -> Result<Vec<Value>, String> {
        if let Some(unknown) = given.keys().find(|k| !definitions.iter().any(|d| d["name"] == k.as_str())) {
            let known: Vec<&str> = definitions.iter().filter_map(|d| d["name"].as_str()).collect();
            return Err(format!("no option named {unknown} (options: {})", known.join(", ")));
        }
        let mut out = Vec::new();
        for definition in definitions {
            let name = definition["name"].as_str().unwrap_or_default();
            match given.get(name) {
                None | Some(Value::Null) => {
                    if definition["required"] == true {
                        return Err(format!("option {name} is required"));
                    }
                }
                Some(value) => {
                    let value = self.value(definition, value, resolved)?;
                    out.push(json!({"name": name, "type": definition["type"], "value": value}));
                }
            }
        }
        Ok(out)
    }

    /// `data.options` for the subcommand path `path` (after the command's name), nesting the
    /// filled-in options under their subcommand and group as Discord does.
    fn options(
        &self,
        definitions: &[Value],
        path: &[&str],
        given: &Map<String, Value>,
        resolved: &mut Resolved,
    ) -> Result<Vec<Value>, String> {
        let nested = definitions.iter().any(|d| matches!(d["type"].as_u64(), Some(1 | 2)));
        if !nested {
            if let Some(extra) = path.first() {
                return Err(format!("there is no subcommand {extra}"));
            }
            return self.leaf(definitions, given, resolved);
        }
        let names: Vec<&str> = definitions.iter().filter_map(|d| d["name"].as_str()).collect();
        let Some((first, rest)) = path.split_first() else {
            return Err(format!("a subcommand is needed (one of: {})", names.join(", ")));
        };
        let definition = definitions
            .iter()
            .find(|d| d["name"] == *first)
            .ok_or_else(|| format!("there is no subcommand {first} (subcommands: {})", names.join(", ")))?;
        let children = definition["options"].as_array().map_or(&[][..], Vec::as_slice);
        let inner = if definition["type"] == 2 {
            if rest.is_empty() {
                let subs: Vec<&str> = children.iter().filter_map(|d| d["name"].as_str()).collect();
                return Err(format!("{first} is a group: a subcommand is needed (one of: {})", subs.join(", ")));
            }
            self.options(children, rest, given, resolved)?
        } else {
            if let Some(extra) = rest.first() {
                return Err(format!("{first} has no subcommand {extra}"));
            }
            self.leaf(children, given, resolved)?
        };
        let mut option = json!({"name": first, "type": definition["type"]});
        if !inner.is_empty() {
            option["options"] = Value::Array(inner);
        }
        Ok(vec![option])
    }
}

impl World {
    /// Sets how long after its creation an interaction takes its first callback (3 s by default,
    /// as Discord); a later callback gets 404 10062 "Unknown interaction".
    pub fn set_interaction_response_window(&mut self, window: Duration) {
        self.interaction_window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    }

    /// Ages an interaction by `by`, as if it had been created that much earlier: past the response
    /// window its callback is refused (10062), past 15 minutes its token stops working.
    pub fn age_interaction(&mut self, id: u64, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 2);
        if let Some(interaction) = self.interactions.get_mut(&id) {
            interaction.created_at = interaction.created_at.plus_ms(-ms);
        }
    }

    /// How the application answered an interaction (its callback and original response as it is
    /// now); `None` before a callback.
    pub fn interaction_response(&self, id: u64) -> Option<InteractionResponseView> {
        let interaction = self.interactions.get(&id)?;
        let kind = interaction.response_type?;
        let message = interaction.original_message.and_then(|m| self.messages.get(&m));
        Some(InteractionResponseView {
            interaction_id: id,
            kind,
            responded_at: interaction.responded_at.unwrap_or(interaction.created_at),
            message_id: message.map(|m| m.id),
            content: message.map(|m| m.content.clone()).unwrap_or_default(),
            flags: message.map_or(0, |m| m.flags),
            ephemeral: message.is_some_and(|m| m.flags & 64 != 0),
            loading: message.is_some_and(|m| m.flags & 128 != 0),
            embeds: message.map(|m| m.embeds.clone()).unwrap_or_default(),
            components: message.map(|m| m.components.clone()).unwrap_or_default(),
            attachments: message.map(|m| m.attachments.clone()).unwrap_or_default(),
        })
    }

    /// Forgets interactions whose token expired, and the oldest beyond [`MAX_INTERACTIONS`].
    pub(crate) fn prune_interactions(&mut self, now: Timestamp) {
        self.interactions.retain(|_, i| now.unix_ms() - i.created_at.unix_ms() <= TOKEN_LIFETIME_MS);
        while self.interactions.len() >= MAX_INTERACTIONS {
            self.interactions.pop_first();
        }
    }

    /// Checks that `user` can invoke `name` (`"command"`, `"command subcommand"` or `"command group
    /// subcommand"`) of `application` in `channel` of `guild` with `options` (an object of option
    /// names to values, or null), the way Discord decides what a member sees and may send.
    pub(crate) fn prepare_invocation(
        &self,
        application: u64,
        guild: u64,
        channel: u64,
        user: u64,
        name: &str,
        options: &Value,
    ) -> Result<Invocation, String> {
        let now = Timestamp::now();
        if !self.users.get(&application).is_some_and(|u| u.bot) {
            return Err(format!("{application} is not a bot's application"));
        }
        let state = self.guilds.get(&guild).ok_or_else(|| format!("unknown guild {guild}"))?;
        if !state.members.contains_key(&application) {
            return Err(format!(
                "application {application} is not in guild {guild}: its commands are not offered there"
            ));
        }
        if !state.members.contains_key(&user) {
            return Err(format!("user {user} is not a member of guild {guild}"));
        }
        if self.users.get(&user).is_some_and(|u| u.bot) {
            return Err(format!("user {user} is a bot: bots cannot use application commands"));
        }
        let place = self
            .channels
            .get(&channel)
            .filter(|c| c.guild_id == Some(guild))
            .ok_or_else(|| format!("{channel} is not a channel of guild {guild}"))?;
        if matches!(place.kind, 4 | 15) {
            return Err(format!("commands cannot be sent in channel {channel} (type {})", place.kind));
        }
        let held = permissions::channel_permissions(state, &place.overwrites, user, now);
        if held & VIEW_CHANNEL == 0 {
            return Err(format!("user {user} cannot see channel {channel}"));
        }
        if held & USE_APPLICATION_COMMANDS == 0 {
            return Err(format!("user {user} lacks USE_APPLICATION_COMMANDS in channel {channel}"));
        }
        let mut words = name.split_whitespace();
        let root = words.next().ok_or_else(|| "no command name given".to_owned())?;
        let path: Vec<&str> = words.collect();
        let find = |scope: Option<u64>| {
            self.commands
                .values()
                .find(|c| c.application_id == application && c.guild_id == scope && c.kind == 1 && c.name == root)
        };
        let command: &ApplicationCommandView = find(Some(guild)).or_else(|| find(None)).ok_or_else(|| {
            format!("/{root} is not a slash command of application {application} (globally or in guild {guild})")
        })?;
        if command.guild_id.is_none() {
            if command.contexts.as_ref().is_some_and(|c| !c.contains(&0)) {
                return Err(format!("/{root} is not offered in guilds (its contexts exclude 0)"));
            }
            if !command.integration_types.contains(&0) {
                return Err(format!("/{root} is only for users who installed the application"));
            }
        }
        if command.nsfw && !place.nsfw {
            return Err(format!("/{root} is age-restricted and channel {channel} is not"));
        }
        if let Some(needed) = command.default_member_permissions {
            let allowed = held == permissions::ALL || (needed != 0 && held & needed == needed);
            if !allowed {
                return Err(format!(
                    "/{root} is hidden from user {user}: it needs permissions {needed} and they have {held} in channel {channel}"
                ));
            }
        }
        let given = match options {
            Value::Null => Map::new(),
            Value::Object(given) => given.clone(),
            other => return Err(format!("options must be an object of option names to values (or null), not {other}")),
        };
        let context = Context { world: self, guild, user, channel, now };
        let mut resolved = Resolved::default();
        let filled = context.options(&command.options, &path, &given, &mut resolved)?;
        let mut data = json!({"id": command.id.to_string(), "name": command.name, "type": 1});
        if !filled.is_empty() {
            data["options"] = Value::Array(filled);
        }
        if !resolved.is_empty() {
            data["resolved"] = resolved.into_json();
        }
        if let Some(scope) = command.guild_id {
            data["guild_id"] = Value::String(scope.to_string());
        }
        Ok(Invocation { application, guild, channel, user, data })
    }

    /// Creates the interaction of a checked invocation and queues its INTERACTION_CREATE for the
    /// application's gateway sessions (no intent needed). Returns `(interaction_id, token)`.
    pub(crate) fn start_invocation(&mut self, invocation: Invocation) -> (u64, String) {
        let Invocation { application, guild, channel, user, data } = invocation;
        let now = Timestamp::now();
        let member = member_object(self, guild, channel, user);
        let (id, token) =
            self.create_interaction(application, Some(guild), channel, user, Some(data.clone()), member.clone());
        let mut channel_object =
            self.channels.get(&channel).map_or(Value::Null, |c| json::channel(self, c, Some(user)));
        if let Some(object) = channel_object.as_object_mut() {
            object.insert("permissions".into(), Value::String(permissions_in(self, channel, user, now).to_string()));
        }
        let features = self.guilds.get(&guild).map_or_else(Vec::new, |g| g.info.features.clone());
        let locale = self.guilds.get(&guild).map_or_else(|| "en-US".to_owned(), |g| g.info.preferred_locale.clone());
        let payload = json!({
            "id": id.to_string(),
            "application_id": application.to_string(),
            "type": 2,
            "data": data,
            "guild_id": guild.to_string(),
            "guild": {"id": guild.to_string(), "locale": locale, "features": features},
            "guild_locale": locale,
            "channel_id": channel.to_string(),
            "channel": channel_object,
            "member": member,
            "token": token,
            "version": 1,
            "app_permissions": permissions_in(self, channel, application, now).to_string(),
            "locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild.to_string()},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        });
        self.emit_interaction_create(application, guild, payload);
        (id, token)
    }
}
