//! `/guilds/{guild_id}/onboarding`: what new members are asked and which channels they start in.
//! Discord checks what prompts reference (the guild's roles and channels) and, when onboarding is
//! enabled, its requirements: at least 7 default channels, 5 of them where `@everyone` may send
//! messages (in advanced mode the prompts' channels count too).

use serde_json::{Map, Value};

use super::input::{self, Patch};
use super::{Call, Outcome, Reply, guild_and_actor, require};
use crate::error::ApiError;
use crate::json;
use crate::permissions::{MANAGE_GUILD, MANAGE_ROLES, SEND_MESSAGES, VIEW_CHANNEL};
use crate::world::{AuditAction, OnboardingOption, OnboardingPrompt, OnboardingView, World};

/// Prompts onboarding may hold.
const MAX_PROMPTS: usize = 15;
/// Options a prompt may hold.
const MAX_OPTIONS: usize = 50;
/// Default channels onboarding needs when enabled, and how many of them `@everyone` must be able to
/// send messages in.
pub(crate) const REQUIRED_DEFAULT_CHANNELS: (usize, usize) = (7, 5);

fn at(path: &str, field: &str) -> String {
    format!("{path}.{field}")
}

/// The guild's onboarding with a PUT body applied (absent fields stay as they are), checked.
pub(crate) fn parse(world: &World, guild: u64, body: Option<&Map<String, Value>>) -> Result<OnboardingView, ApiError> {
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let mut next = state.onboarding.clone();
    let channel_ok = |channel: &u64| world.channels.get(channel).is_some_and(|c| c.guild_id == Some(guild));
    if let Patch::Set(enabled) = input::boolean(body, "enabled")? {
        next.enabled = enabled;
    }
    if let Some(mode) = input::choice(body, "mode", &[0, 1])?.set().and_then(|m| u8::try_from(m).ok()) {
        next.mode = mode;
    }
    match input::snowflakes(body, "default_channel_ids", 500)? {
        Patch::Set(channels) => {
            for (i, channel) in channels.iter().enumerate() {
                let path = format!("default_channel_ids.{i}");
                match world.channels.get(channel).filter(|c| c.guild_id == Some(guild)) {
                    None => return Err(ApiError::invalid_field(&path, "CHANNEL_INVALID", "Unknown channel")),
                    Some(c) if c.kind == 4 => {
                        return Err(ApiError::invalid_field(&path, "CHANNEL_TYPE_INVALID", "Invalid channel type"));
                    }
                    Some(_) => {}
                }
            }
            next.default_channel_ids = channels;
        }
        Patch::Null => next.default_channel_ids.clear(),
        Patch::Absent => {}
    }
    match input::list(body, "prompts")? {
        Patch::Set(items) => {
            if items.len() > MAX_PROMPTS {
                return Err(ApiError::invalid_field(
                    "prompts",
                    "BASE_TYPE_MAX_LENGTH",
                    &format!("Must be {MAX_PROMPTS} or fewer in length."),
                ));
            }
            let mut prompts = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let path = format!("prompts.{i}");
                let prompt = item.as_object().ok_or_else(|| ApiError::wrong_type(&path, "object"))?;
                prompts.push(parse_prompt(world, guild, &path, prompt, &channel_ok)?);
            }
            next.prompts = prompts;
        }
        Patch::Null => next.prompts.clear(),
        Patch::Absent => {}
    }
    Ok(next)
}

/// Re-roots a field error of a nested object at `path`.
fn under(error: ApiError, path: &str) -> ApiError {
    match error.errors {
        Some(mut tree) => {
            for key in path.rsplit('.') {
                let mut parent = Map::new();
                parent.insert(key.to_owned(), tree);
                tree = Value::Object(parent);
            }
            ApiError { errors: Some(tree), ..error }
        }
        None => error,
    }
}

fn parse_prompt(
    world: &World,
    guild: u64,
    path: &str,
    prompt: &Map<String, Value>,
    channel_ok: &dyn Fn(&u64) -> bool,
) -> Result<OnboardingPrompt, ApiError> {
    let body = Some(prompt);
    let id = match input::snowflake(body, "id").map_err(|e| under(e, path))? {
        Patch::Set(id) => id,
        Patch::Null | Patch::Absent => return Err(ApiError::required(&at(path, "id"))),
    };
    let title = match input::string(body, "title", 1, 100).map_err(|e| under(e, path))? {
        Patch::Set(title) => title,
        Patch::Null | Patch::Absent => return Err(ApiError::required(&at(path, "title"))),
    };
    let items = match input::list(body, "options").map_err(|e| under(e, path))? {
        Patch::Set(items) => items,
        Patch::Null | Patch::Absent => return Err(ApiError::required(&at(path, "options"))),
    };
    if items.is_empty() || items.len() > MAX_OPTIONS {
        return Err(ApiError::invalid_field(
            &at(path, "options"),
            "BASE_TYPE_BAD_LENGTH",
            &format!("Must be between 1 and {MAX_OPTIONS} in length."),
        ));
    }
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    let mut options = Vec::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        let path = format!("{path}.options.{j}");
        let option = item.as_object().ok_or_else(|| ApiError::wrong_type(&path, "object"))?;
        let body = Some(option);
        let title = match input::string(body, "title", 1, 50).map_err(|e| under(e, &path))? {
            Patch::Set(title) => title,
            Patch::Null | Patch::Absent => return Err(ApiError::required(&at(&path, "title"))),
        };
        let role_ids = input::snowflakes(body, "role_ids", 50).map_err(|e| under(e, &path))?.set().unwrap_or_default();
        for (k, role) in role_ids.iter().enumerate() {
            let usable = state.roles.get(role).is_some_and(|r| !r.managed && r.id != guild);
            if !usable {
                return Err(ApiError::invalid_field(&format!("{path}.role_ids.{k}"), "ROLE_INVALID", "Unknown role"));
            }
        }
        let channel_ids =
            input::snowflakes(body, "channel_ids", 50).map_err(|e| under(e, &path))?.set().unwrap_or_default();
        for (k, channel) in channel_ids.iter().enumerate() {
            if !channel_ok(channel) {
                return Err(ApiError::invalid_field(
                    &format!("{path}.channel_ids.{k}"),
                    "CHANNEL_INVALID",
                    "Unknown channel",
                ));
            }
        }
        let id = input::snowflake(body, "id").map_err(|e| under(e, &path))?.set();
        options.push((
            id,
            OnboardingOption {
                id: 0,
                title,
                description: input::string(body, "description", 0, 100)
                    .map_err(|e| under(e, &path))?
                    .set()
                    .filter(|d| !d.is_empty()),
                emoji_id: input::snowflake(body, "emoji_id").map_err(|e| under(e, &path))?.set(),
                emoji_name: input::string(body, "emoji_name", 1, 100).map_err(|e| under(e, &path))?.set(),
                emoji_animated: input::boolean(body, "emoji_animated")
                    .map_err(|e| under(e, &path))?
                    .set()
                    .unwrap_or(false),
                role_ids,
                channel_ids,
            },
        ));
    }
    let flag = |name: &str, default: bool| -> Result<bool, ApiError> {
        Ok(input::boolean(body, name).map_err(|e| under(e, path))?.set().unwrap_or(default))
    };
    let kind = input::choice(body, "type", &[0, 1]).map_err(|e| under(e, path))?.set().unwrap_or(0);
    Ok(OnboardingPrompt {
        id,
        kind: u8::try_from(kind).unwrap_or(0),
        title,
        // Options without an id get one when stored (see `assign_option_ids`).
        options: options.into_iter().map(|(id, option)| OnboardingOption { id: id.unwrap_or(0), ..option }).collect(),
        single_select: flag("single_select", false)?,
        required: flag("required", false)?,
        in_onboarding: flag("in_onboarding", true)?,
    })
}

/// Gives options sent without an id a new one.
fn assign_option_ids(world: &mut World, onboarding: &mut OnboardingView) {
    for option in onboarding.prompts.iter_mut().flat_map(|p| p.options.iter_mut()) {
        if option.id == 0 {
            option.id = world.next_id();
        }
    }
}

/// Whether enabled onboarding meets Discord's requirements: enough default channels (with the
/// prompts' channels in advanced mode) that `@everyone` sees, enough of them where it may talk.
pub(crate) fn meets_requirements(world: &World, guild: u64, onboarding: &OnboardingView) -> bool {
    let Some(state) = world.guilds.get(&guild) else { return false };
    let everyone = state.roles.get(&guild).map_or(0, |r| r.permissions);
    let mut channels = onboarding.default_channel_ids.clone();
    if onboarding.mode == 1 {
        for channel in onboarding.prompts.iter().flat_map(|p| p.options.iter()).flat_map(|o| o.channel_ids.iter()) {
            if !channels.contains(channel) {
                channels.push(*channel);
            }
        }
    }
    let mut visible = 0;
    let mut talkative = 0;
    for channel in channels.iter().filter_map(|c| world.channels.get(c)) {
        let mut permissions = everyone;
        if let Some(overwrite) = channel.overwrites.iter().find(|o| o.kind == 0 && o.id == guild) {
            permissions = (permissions & !overwrite.deny) | overwrite.allow;
        }
        if permissions & VIEW_CHANNEL != 0 {
            visible += 1;
            if permissions & SEND_MESSAGES != 0 {
                talkative += 1;
            }
        }
    }
    let (needed, talking) = REQUIRED_DEFAULT_CHANNELS;
    visible >= needed && talkative >= talking
}

/// Stores checked onboarding (giving new options ids).
pub(crate) fn store(world: &mut World, guild: u64, mut onboarding: OnboardingView) {
    assign_option_ids(world, &mut onboarding);
    world.guild_mut(guild).onboarding = onboarding;
}

/// `GET /guilds/{guild_id}/onboarding` (members).
pub(super) fn get(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, _) = guild_and_actor(world, call)?;
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    Ok(Reply::ok(json::onboarding(guild, &state.onboarding)))
}

/// `PUT /guilds/{guild_id}/onboarding` (MANAGE_GUILD and MANAGE_ROLES): `prompts` (at most 15, each
/// with an `id`, a `title` and 1 to 50 `options` naming the guild's roles and channels),
/// `default_channel_ids`, `enabled`, `mode` (0 default, 1 advanced); what is left out stays. Enabled
/// onboarding must meet Discord's requirements: 350000 when enabling, 350001 when already enabled.
pub(super) fn put(world: &mut World, call: &Call<'_>) -> Outcome {
    let (guild, actor) = guild_and_actor(world, call)?;
    require(world, guild, actor, MANAGE_GUILD | MANAGE_ROLES, call.now)?;
    let next = parse(world, guild, input::object(call)?)?;
    let was_enabled = world.guilds.get(&guild).is_some_and(|g| g.onboarding.enabled);
    if next.enabled && !meets_requirements(world, guild, &next) {
        return Err(if was_enabled {
            ApiError::onboarding_below_requirements()
        } else {
            ApiError::onboarding_requirements_not_met()
        });
    }
    store(world, guild, next);
    world.audit(guild, actor, AuditAction::OnboardingUpdate, guild, call.reason);
    let state = world.guilds.get(&guild).ok_or_else(ApiError::unknown_guild)?;
    Ok(Reply::ok(json::onboarding(guild, &state.onboarding)))
}
