//! `/guilds/{guild_id}/auto-moderation/rules`: listing, creating, editing and deleting AutoMod rules
//! (MANAGE_GUILD), with what Discord checks per trigger type: its metadata and limits, the actions it
//! allows, the event it runs on, and how many rules of each type a guild may have.

use serde_json::{Map, Value};

use super::input::{self, Patch};
use super::{Call, Outcome, Reply, guild_and_actor, require};
use crate::error::ApiError;
use crate::json;
use crate::permissions::{self, MANAGE_GUILD, MODERATE_MEMBERS};
use crate::world::{AuditAction, AutomodAction, AutomodRuleView, World};

/// The trigger types and how many rules of each a guild may have: KEYWORD 6, SPAM, KEYWORD_PRESET,
/// MENTION_SPAM and MEMBER_PROFILE one each.
pub(crate) const RULES_PER_TRIGGER: &[(u8, usize)] = &[(1, 6), (3, 1), (4, 1), (5, 1), (6, 1)];

/// The longest timeout an action may give (four weeks), in seconds.
const MAX_TIMEOUT_SECONDS: i64 = 2_419_200;

/// The fields of a rule body, as sent.
struct RuleInput<'a> {
    name: Patch<String>,
    event_type: Patch<i64>,
    trigger_type: Patch<i64>,
    metadata: Patch<&'a Map<String, Value>>,
    actions: Patch<&'a [Value]>,
    enabled: Patch<bool>,
    exempt_roles: Patch<Vec<u64>>,
    exempt_channels: Patch<Vec<u64>>,
}

fn parse_input(body: Option<&Map<String, Value>>) -> Result<RuleInput<'_>, ApiError> {
    let metadata = match body.and_then(|b| b.get("trigger_metadata")) {
        None => Patch::Absent,
        Some(Value::Null) => Patch::Null,
        Some(Value::Object(map)) => Patch::Set(map),
        Some(_) => return Err(ApiError::wrong_type("trigger_metadata", "object")),
    };
    Ok(RuleInput {
        name: input::string(body, "name", 1, 100)?,
        event_type: input::choice(body, "event_type", &[1, 2])?,
        trigger_type: input::choice(body, "trigger_type", &[1, 3, 4, 5, 6])?,
        metadata,
        actions: input::list(body, "actions")?,
        enabled: input::boolean(body, "enabled")?,
        exempt_roles: input::snowflakes(body, "exempt_roles", 20)?,
        exempt_channels: input::snowflakes(body, "exempt_channels", 50)?,
    })
}

/// A list of strings, each of `1..=max_len` characters, at most `max` of them.
fn strings(metadata: &Map<String, Value>, name: &str, max: usize, max_len: usize) -> Result<Vec<String>, ApiError> {
    let path = format!("trigger_metadata.{name}");
    let items = match input::list(Some(metadata), name).map_err(|e| nest(e, "trigger_metadata"))? {
        Patch::Set(items) => items,
        Patch::Null | Patch::Absent => return Ok(Vec::new()),
    };
    if items.len() > max {
        return Err(ApiError::invalid_field(
            &path,
            "BASE_TYPE_MAX_LENGTH",
            &format!("Must be {max} or fewer in length."),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let text = item.as_str().ok_or_else(|| ApiError::wrong_type(&format!("{path}.{i}"), "string"))?;
        let length = text.chars().count();
        if length == 0 || length > max_len {
            return Err(ApiError::invalid_field(
                &format!("{path}.{i}"),
                "BASE_TYPE_BAD_LENGTH",
                &format!("Must be between 1 and {max_len} in length."),
            ));
        }
        out.push(text.to_owned());
    }
    Ok(out)
}

fn nest(error: ApiError, parent: &str) -> ApiError {
    match error.errors {
        Some(tree) => {
            let mut wrapped = Map::new();
            wrapped.insert(parent.to_owned(), tree);
            ApiError { errors: Some(Value::Object(wrapped)), ..error }
        }
        None => error,
    }
}

/// Replaces the rule's trigger metadata with what the body gives for its trigger type.
fn apply_metadata(rule: &mut AutomodRuleView, metadata: Option<&Map<String, Value>>) -> Result<(), ApiError> {
    rule.keyword_filter.clear();
    rule.regex_patterns.clear();
    rule.allow_list.clear();
    rule.presets.clear();
    rule.mention_total_limit = 0;
    rule.mention_raid_protection_enabled = false;
    let empty = Map::new();
    let metadata = metadata.unwrap_or(&empty);
    match rule.trigger_type {
        1 | 6 => {
            rule.keyword_filter = strings(metadata, "keyword_filter", 1000, 60)?;
            rule.regex_patterns = strings(metadata, "regex_patterns", 10, 260)?;
            rule.allow_list = strings(metadata, "allow_list", 100, 60)?;
        }
        4 => {
            rule.allow_list = strings(metadata, "allow_list", 1000, 60)?;
            if let Patch::Set(items) =
                input::list(Some(metadata), "presets").map_err(|e| nest(e, "trigger_metadata"))?
            {
                for (i, item) in items.iter().enumerate() {
                    let path = format!("trigger_metadata.presets.{i}");
                    match item.as_u64() {
                        Some(preset @ 1..=3) if !rule.presets.contains(&(preset as u8)) => {
                            rule.presets.push(preset as u8)
                        }
                        Some(1..=3) => {
                            return Err(ApiError::invalid_field(
                                "trigger_metadata.presets",
                                "BASE_TYPE_UNIQUE",
                                "Values must be unique.",
                            ));
                        }
                        _ => return Err(input::choices(&path, &[1, 2, 3])),
                    }
                }
            }
        }
        5 => {
            let limit = input::integer(Some(metadata), "mention_total_limit", 0, 50)
                .map_err(|e| nest(e, "trigger_metadata"))?;
            rule.mention_total_limit = limit.set().and_then(|l| u32::try_from(l).ok()).unwrap_or(0);
            rule.mention_raid_protection_enabled = input::boolean(Some(metadata), "mention_raid_protection_enabled")
                .map_err(|e| nest(e, "trigger_metadata"))?
                .set()
                .unwrap_or(false);
        }
        _ => {}
    }
    Ok(())
}

/// The actions a trigger type allows: alerts everywhere; blocking messages on message rules;
/// timeouts on KEYWORD and MENTION_SPAM; blocking interactions on MEMBER_PROFILE.
fn allowed_actions(trigger_type: u8) -> &'static [i64] {
    match trigger_type {
        1 | 5 => &[1, 2, 3],
        6 => &[2, 4],
        _ => &[1, 2],
    }
}

fn parse_actions(world: &World, guild: u64, trigger_type: u8, items: &[Value]) -> Result<Vec<AutomodAction>, ApiError> {
    if items.is_empty() || items.len() > 5 {
        return Err(ApiError::invalid_field("actions", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |field: &str| format!("actions.{i}.{field}");
        let entry = item.as_object().ok_or_else(|| ApiError::wrong_type(&format!("actions.{i}"), "object"))?;
        let kind = match entry.get("type").and_then(Value::as_i64) {
            Some(kind) if allowed_actions(trigger_type).contains(&kind) => kind as u8,
            Some(_) => return Err(input::choices(&at("type"), allowed_actions(trigger_type))),
            None => return Err(ApiError::required(&at("type"))),
        };
        let metadata = match entry.get("metadata") {
            Some(Value::Object(map)) => Some(map),
            Some(Value::Null) | None => None,
            Some(_) => return Err(ApiError::wrong_type(&at("metadata"), "object")),
        };
        let mut action = AutomodAction { kind, custom_message: None, channel_id: None, duration_seconds: None };
        match kind {
            1 => {
                action.custom_message = input::string(metadata, "custom_message", 0, 150)
                    .map_err(|e| at_metadata(e, i))?
                    .set()
                    .filter(|m| !m.is_empty());
            }
            2 => {
                let channel = match input::snowflake(metadata, "channel_id").map_err(|e| at_metadata(e, i))? {
                    Patch::Set(channel) => channel,
                    Patch::Null | Patch::Absent => return Err(ApiError::required(&at("metadata.channel_id"))),
                };
                let usable = world.channels.get(&channel).is_some_and(|c| c.guild_id == Some(guild) && c.kind != 4);
                if !usable {
                    return Err(ApiError::invalid_field(
                        &at("metadata.channel_id"),
                        "CHANNEL_INVALID",
                        "Unknown channel",
                    ));
                }
                action.channel_id = Some(channel);
            }
            3 => {
                let seconds = input::integer(metadata, "duration_seconds", 0, MAX_TIMEOUT_SECONDS)
                    .map_err(|e| at_metadata(e, i))?;
                match seconds.set().and_then(|s| u32::try_from(s).ok()) {
                    Some(seconds) => action.duration_seconds = Some(seconds),
                    None => return Err(ApiError::required(&at("metadata.duration_seconds"))),
                }
            }
            _ => {}
        }
        out.push(action);
    }
    Ok(out)
}

/// An error about an action's metadata field, placed under `actions.{i}.metadata`.
fn at_metadata(error: ApiError, i: usize) -> ApiError {
    nest(input::under_index(nest(error, "metadata"), i), "actions")
}

/// Applies a body to a rule (a new one, or a copy of the one edited) and checks the result.
fn build(
    world: &World,
    guild: u64,
    actor: u64,
    mut rule: AutomodRuleView,
    input: RuleInput<'_>,
    now: crate::time::Timestamp,
) -> Result<AutomodRuleView, ApiError> {
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    if let Patch::Set(name) = input.name {
        rule.name = name;
    }
    if let Some(event) = input.event_type.set().and_then(|e| u8::try_from(e).ok()) {
        rule.event_type = event;
    }
    let expected_event = if rule.trigger_type == 6 { 2 } else { 1 };
    if rule.event_type != expected_event {
        return Err(input::choices("event_type", &[expected_event]));
    }
    match input.metadata {
        Patch::Set(metadata) => apply_metadata(&mut rule, Some(metadata))?,
        Patch::Null => apply_metadata(&mut rule, None)?,
        Patch::Absent => {}
    }
    match input.actions {
        Patch::Set(items) => rule.actions = parse_actions(world, guild, rule.trigger_type, items)?,
        Patch::Null => return Err(ApiError::required("actions")),
        Patch::Absent => {}
    }
    if rule.actions.iter().any(|a| a.kind == 3)
        && permissions::guild_permissions(state, actor, now) & MODERATE_MEMBERS == 0
    {
        return Err(ApiError::missing_permissions());
    }
    if let Patch::Set(enabled) = input.enabled {
        rule.enabled = enabled;
    }
    match input.exempt_roles {
        Patch::Set(roles) => {
            if roles.iter().any(|r| !state.roles.contains_key(r)) {
                return Err(ApiError::unknown_role());
            }
            rule.exempt_roles = roles;
        }
        Patch::Null => rule.exempt_roles.clear(),
        Patch::Absent => {}
    }
    match input.exempt_channels {
        Patch::Set(channels) => {
            if channels.iter().any(|c| world.channels.get(c).is_none_or(|c| c.guild_id != Some(guild))) {
                return Err(ApiError::unknown_channel());
            }
            rule.exempt_channels = channels;
        }
        Patch::Null => rule.exempt_channels.clear(),
        Patch::Absent => {}
    }
    let limit = RULES_PER_TRIGGER.iter().find(|(t, _)| *t == rule.trigger_type).map_or(0, |(_, n)| *n);
    let others = state.automod.values().filter(|r| r.trigger_type == rule.trigger_type && r.id != rule.id).count();
    if others >= limit {
        return Err(ApiError::invalid_field(
            "",
            "AUTO_MODERATION_MAX_RULES_OF_TYPE_EXCEEDED",
            &format!("Maximum number of rules with trigger type {} is {limit}", rule.trigger_type),
        ));
    }
    Ok(rule)
}

/// A new rule from a create body, checked; its id is minted last.
pub(crate) fn parse_new_rule(
    world: &mut World,
    guild: u64,
    actor: u64,
    body: Option<&Map<String, Value>>,
) -> Result<AutomodRuleView, ApiError> {
    let input = parse_input(body)?;
    if !matches!(input.name, Patch::Set(_)) {
        return Err(ApiError::required("name"));
    }
    let Some(event_type) = input.event_type.clone().set() else { return Err(ApiError::required("event_type")) };
    let Some(trigger_type) = input.trigger_type.clone().set() else { return Err(ApiError::required("trigger_type")) };
    if input.actions.is_absent() {
        return Err(ApiError::required("actions"));
    }
    let trigger_type = u8::try_from(trigger_type).unwrap_or(0);
    if trigger_type == 4 && !matches!(input.metadata, Patch::Set(_)) {
        return Err(ApiError::required("trigger_metadata"));
    }
    let base = AutomodRuleView {
        id: 0,
        guild_id: guild,
        creator_id: actor,
        name: String::new(),
        enabled: false,
        trigger_type,
        event_type: u8::try_from(event_type).unwrap_or(1),
        keyword_filter: Vec::new(),
        regex_patterns: Vec::new(),
        allow_list: Vec::new(),
        presets: Vec::new(),
        mention_total_limit: 0,
        mention_raid_protection_enabled: false,
        actions: Vec::new(),
        exempt_roles: Vec::new(),
        exempt_channels: Vec::new(),
    };
    let mut rule = build(world, guild, actor, base, input, crate::time::Timestamp::now())?;
    rule.id = world.next_id();
    Ok(rule)
}

/// `GET /guilds/{guild_id}/auto-moderation/rules` (MANAGE_GUILD).
pub(super) fn list(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    require(world, guild, actor, MANAGE_GUILD, call.now)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    Ok(Reply::ok(Value::Array(state.automod.values().map(json::automod_rule).collect())))
}

/// `GET /guilds/{guild_id}/auto-moderation/rules/{rule_id}` (MANAGE_GUILD; 10066 for another
/// guild's or an unknown rule).
pub(super) fn get(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let rule = input::path_id(call, "rule_id")?;
    require(world, guild, actor, MANAGE_GUILD, call.now)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let rule = state.automod.get(&rule).ok_or_else(ApiError::unknown_automod_rule)?;
    Ok(Reply::ok(json::automod_rule(rule)))
}

/// `POST /guilds/{guild_id}/auto-moderation/rules` (MANAGE_GUILD; MODERATE_MEMBERS for a timeout
/// action): `name`, `event_type`, `trigger_type` and `actions` required, `trigger_metadata`
/// (required for KEYWORD_PRESET), `enabled` (false by default), `exempt_roles` (at most 20),
/// `exempt_channels` (at most 50). Answers the rule; AUTO_MODERATION_RULE_CREATE.
pub(super) fn create(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    require(world, guild, actor, MANAGE_GUILD, call.now)?;
    let rule = parse_new_rule(world, guild, actor, input::object(call)?)?;
    let id = rule.id;
    let body = json::automod_rule(&rule);
    world.guild_mut(guild).automod.insert(id, rule);
    world.audit(guild, actor, AuditAction::AutoModerationRuleCreate, id, call.reason);
    world.emit_automod("AUTO_MODERATION_RULE_CREATE", guild, id);
    Ok(Reply::ok(body))
}

/// `PATCH /guilds/{guild_id}/auto-moderation/rules/{rule_id}` (MANAGE_GUILD): the fields of
/// creation but `trigger_type`, which cannot change; `trigger_metadata` replaces the metadata.
/// AUTO_MODERATION_RULE_UPDATE.
pub(super) fn update(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let id = input::path_id(call, "rule_id")?;
    require(world, guild, actor, MANAGE_GUILD, call.now)?;
    let input = parse_input(input::object(call)?)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let current = state.automod.get(&id).cloned().ok_or_else(ApiError::unknown_automod_rule)?;
    if let Patch::Set(trigger_type) = input.trigger_type
        && trigger_type != i64::from(current.trigger_type)
    {
        return Err(input::choices("trigger_type", &[current.trigger_type]));
    }
    if input.name == Patch::Null {
        return Err(ApiError::required("name"));
    }
    let rule = build(world, guild, actor, current, input, call.now)?;
    let body = json::automod_rule(&rule);
    world.guild_mut(guild).automod.insert(id, rule);
    world.audit(guild, actor, AuditAction::AutoModerationRuleUpdate, id, call.reason);
    world.emit_automod("AUTO_MODERATION_RULE_UPDATE", guild, id);
    Ok(Reply::ok(body))
}

/// `DELETE /guilds/{guild_id}/auto-moderation/rules/{rule_id}` (MANAGE_GUILD): 204;
/// AUTO_MODERATION_RULE_DELETE with the rule as it was.
pub(super) fn delete(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    let id = input::path_id(call, "rule_id")?;
    require(world, guild, actor, MANAGE_GUILD, call.now)?;
    let rule = world.guild_mut(guild).automod.remove(&id).ok_or_else(ApiError::unknown_automod_rule)?;
    world.audit(guild, actor, AuditAction::AutoModerationRuleDelete, id, call.reason);
    world.emit_automod_body("AUTO_MODERATION_RULE_DELETE", guild, json::automod_rule(&rule));
    Ok(Reply::no_content())
}
