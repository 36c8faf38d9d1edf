//! Application commands: what an application registers (globally, or in one guild), checked the way
//! Discord checks it, and rendered the way Discord answers it.
//!
//! The routes (`routes/commands.rs`) parse bodies with [`parse_command`] and change the registry
//! through the `World` methods here; invoking a command as a user is in `interactions.rs`.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::world::World;

/// CHAT_INPUT (slash) commands an application may have globally, and in each guild.
pub const MAX_CHAT_INPUT_COMMANDS: usize = 100;
/// USER and MESSAGE (context menu) commands of each type an application may have globally, and in
/// each guild.
pub const MAX_CONTEXT_MENU_COMMANDS: usize = 15;
/// Options per command, subcommand or group; choices per option.
pub const MAX_OPTIONS: usize = 25;
/// The combined characters of a command's names, descriptions and choice values.
pub const MAX_COMMAND_SIZE: usize = 8000;

/// The largest `default_member_permissions` Discord's document accepts (2^54 - 1).
const MAX_PERMISSIONS: u64 = 18_014_398_509_481_983;
/// Integers Discord accepts in options and choices: -2^53 < n < 2^53.
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;
/// The locales Discord accepts as keys of `name_localizations` and `description_localizations`.
pub(crate) const LOCALES: &[&str] = &[
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no", "pl", "pt-BR",
    "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko",
];
/// Channel types an option's `channel_types` may list.
const CHANNEL_TYPES: &[u64] = &[0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 16];

/// An application command as registered, with what Discord answers for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationCommandView {
    /// Snowflake; kept across bulk overwrites while the name (and type) stays.
    pub id: u64,
    /// The application (a bot's user id).
    pub application_id: u64,
    /// The guild of a guild command; `None` for a global one.
    pub guild_id: Option<u64>,
    /// A snowflake that changes whenever the command does.
    pub version: u64,
    /// 1 CHAT_INPUT (slash), 2 USER, 3 MESSAGE.
    pub kind: u8,
    /// Name (lowercase for CHAT_INPUT).
    pub name: String,
    /// Localized names, by locale.
    pub name_localizations: Option<Map<String, Value>>,
    /// Description (empty for USER and MESSAGE commands).
    pub description: String,
    /// Localized descriptions, by locale.
    pub description_localizations: Option<Map<String, Value>>,
    /// Options as Discord returns them (subcommands and groups nest theirs in `options`).
    pub options: Vec<Value>,
    /// Permissions a member needs to see and use it (`None`: everyone; `Some(0)`: administrators).
    pub default_member_permissions: Option<u64>,
    /// Usable in DMs with the bot (global commands; deprecated in favour of `contexts`).
    pub dm_permission: bool,
    /// Where it may be used: 0 guild, 1 the bot's DM, 2 other DMs (`None`: Discord's default).
    pub contexts: Option<Vec<u8>>,
    /// Installation contexts: 0 guild install, 1 user install.
    pub integration_types: Vec<u8>,
    /// Age-restricted.
    pub nsfw: bool,
}

impl ApplicationCommandView {
    /// The definition without its identity, for telling whether an overwrite changed anything.
    fn same_definition(&self, other: &Self) -> bool {
        Self { id: 0, application_id: 0, guild_id: None, version: 0, ..self.clone() }
            == Self { id: 0, application_id: 0, guild_id: None, version: 0, ..other.clone() }
    }

    /// Whether it has subcommands (or groups): then only those can be invoked.
    pub fn has_subcommands(&self) -> bool {
        self.options.iter().any(|o| matches!(o["type"].as_u64(), Some(1 | 2)))
    }
}

/// The command object (`ApplicationCommandResponse`); localizations only where asked for (Discord
/// leaves them out of lists without `?with_localizations=true`).
pub(crate) fn command_json(command: &ApplicationCommandView, with_localizations: bool) -> Value {
    let mut out = json!({
        "id": command.id.to_string(),
        "application_id": command.application_id.to_string(),
        "version": command.version.to_string(),
        "default_member_permissions": command.default_member_permissions.map(|p| p.to_string()),
        "type": command.kind,
        "name": command.name,
        "description": command.description,
        "contexts": command.contexts,
        "integration_types": command.integration_types,
        "nsfw": command.nsfw,
    });
    match command.guild_id {
        Some(guild) => out["guild_id"] = Value::String(guild.to_string()),
        None => out["dm_permission"] = Value::Bool(command.dm_permission),
    }
    if with_localizations {
        out["name_localizations"] = command.name_localizations.clone().map_or(Value::Null, Value::Object);
        out["description_localizations"] = command.description_localizations.clone().map_or(Value::Null, Value::Object);
    }
    if !command.options.is_empty() {
        let options =
            if with_localizations { command.options.clone() } else { without_localizations(&command.options) };
        out["options"] = Value::Array(options);
    }
    out
}

fn without_localizations(options: &[Value]) -> Vec<Value> {
    options
        .iter()
        .map(|option| {
            let mut option = option.clone();
            if let Some(object) = option.as_object_mut() {
                object.remove("name_localizations");
                object.remove("description_localizations");
                if let Some(Value::Array(choices)) = object.get_mut("choices") {
                    for choice in choices.iter_mut().filter_map(Value::as_object_mut) {
                        choice.remove("name_localizations");
                    }
                }
                if let Some(Value::Array(children)) = object.get("options") {
                    let children = without_localizations(children);
                    object.insert("options".into(), Value::Array(children));
                }
            }
            option
        })
        .collect()
}

// ----- parsing and checking definitions -----

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn present<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

fn bad_length(path: &str, min: usize, max: usize) -> ApiError {
    ApiError::invalid_field(path, "BASE_TYPE_BAD_LENGTH", &format!("Must be between {min} and {max} in length."))
}

fn too_many(path: &str, max: usize) -> ApiError {
    ApiError::invalid_field(path, "BASE_TYPE_MAX_LENGTH", &format!("Must be {max} or fewer in length."))
}

fn choices_error(path: &str, allowed: &str) -> ApiError {
    ApiError::invalid_field(path, "BASE_TYPE_CHOICES", &format!("Value must be one of {{{allowed}}}."))
}

/// Whether a character may appear in a CHAT_INPUT command or option name: Discord's
/// `^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$`, and a letter with a lowercase variant must be
/// in lowercase.
fn name_char(c: char) -> bool {
    (c == '-' || c == '_' || c == '\'' || c.is_alphanumeric()) && c.to_lowercase().eq(std::iter::once(c))
}

/// Checks a name: 1 to 32 characters, and for CHAT_INPUT commands and all options the pattern above.
fn check_name(path: &str, value: Option<&Value>, strict: bool) -> Result<String, ApiError> {
    let name = match value {
        None | Some(Value::Null) => return Err(ApiError::required(path)),
        Some(Value::String(name)) => name,
        Some(_) => return Err(ApiError::wrong_type(path, "string")),
    };
    let length = name.chars().count();
    if !(1..=32).contains(&length) {
        return Err(bad_length(path, 1, 32));
    }
    if strict && !name.chars().all(name_char) {
        return Err(ApiError::invalid_field(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"));
    }
    Ok(name.clone())
}

/// Checks a description of 1 to 100 characters.
fn check_description(path: &str, value: Option<&Value>) -> Result<String, ApiError> {
    match value {
        None | Some(Value::Null) => Err(bad_length(path, 1, 100)),
        Some(Value::String(text)) if (1..=100).contains(&text.chars().count()) => Ok(text.clone()),
        Some(Value::String(_)) => Err(bad_length(path, 1, 100)),
        Some(_) => Err(ApiError::wrong_type(path, "string")),
    }
}

/// Localizations: an object from Discord locales to strings that pass `check`.
fn check_localizations(
    path: &str,
    value: Option<&Value>,
    check: impl Fn(&str, Option<&Value>) -> Result<String, ApiError>,
) -> Result<Option<Map<String, Value>>, ApiError> {
    let object = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(ApiError::wrong_type(path, "object")),
    };
    for (locale, text) in object {
        if !LOCALES.contains(&locale.as_str()) {
            return Err(choices_error(&join(path, locale), &LOCALES.join(", ")));
        }
        check(&join(path, locale), Some(text))?;
    }
    Ok(Some(object.clone()))
}

fn check_bool(path: &str, value: Option<&Value>) -> Result<Option<bool>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(_) => Err(ApiError::wrong_type(path, "boolean")),
    }
}

/// A list of small integers from `allowed`, unique, at least one.
fn check_enum_list(path: &str, value: Option<&Value>, allowed: &[u64]) -> Result<Option<Vec<u8>>, ApiError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::wrong_type(path, "array")),
    };
    if items.is_empty() {
        return Err(ApiError::invalid_field(path, "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = join(path, &i.to_string());
        let number = item.as_u64().ok_or_else(|| ApiError::wrong_type(&at, "integer"))?;
        let listed = allowed.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        let small = u8::try_from(number).ok().filter(|_| allowed.contains(&number));
        let small = small.ok_or_else(|| choices_error(&at, &listed))?;
        if out.contains(&small) {
            return Err(ApiError::invalid_field(&at, "BASE_TYPE_DUPLICATE", "Duplicate values are not allowed."));
        }
        out.push(small);
    }
    Ok(Some(out))
}

/// `default_member_permissions`: a string of digits (what Discord documents and answers), or an
/// integer (what its OpenAPI document says), or null.
fn check_permissions(path: &str, value: Option<&Value>) -> Result<Option<u64>, ApiError> {
    let bits = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => {
            let parsed = text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse::<u64>().ok()).flatten();
            parsed.ok_or_else(|| {
                ApiError::invalid_field(path, "NUMBER_TYPE_COERCE", &format!("Value \"{text}\" is not int."))
            })?
        }
        Some(Value::Number(number)) => number.as_u64().ok_or_else(|| ApiError::wrong_type(path, "integer"))?,
        Some(_) => return Err(ApiError::wrong_type(path, "integer")),
    };
    if bits > MAX_PERMISSIONS {
        return Err(ApiError::invalid_field(
            path,
            "NUMBER_TYPE_MAX",
            &format!("int value should be less than or equal to {MAX_PERMISSIONS}."),
        ));
    }
    Ok(Some(bits))
}

/// Where an options list sits, which decides the option types it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// A command's own options: subcommands and groups, or plain options, not both.
    Command,
    /// A group's options: subcommands only.
    Group,
    /// A subcommand's options: plain options only.
    Subcommand,
}

const MIXED_TYPES: &str = "Sub-command and sub-command group option types are mutually exclusive to all other types";

/// Checks an options list and returns it as Discord answers it; `size` adds up the characters that
/// count towards [`MAX_COMMAND_SIZE`].
fn check_options(path: &str, value: Option<&Value>, level: Level, size: &mut usize) -> Result<Vec<Value>, ApiError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::wrong_type(path, "array")),
    };
    if items.len() > MAX_OPTIONS {
        return Err(too_many(path, MAX_OPTIONS));
    }
    let mut out = Vec::with_capacity(items.len());
    let mut names = HashSet::new();
    let mut optional_seen = false;
    let mut nesting = None;
    for (i, item) in items.iter().enumerate() {
        let at = join(path, &i.to_string());
        let Value::Object(object) = item else {
            return Err(ApiError::invalid_field(
                &at,
                "MODEL_TYPE_CONVERT",
                "Only dictionaries may be used in a ModelType",
            ));
        };
        let kind = match object.get("type") {
            None | Some(Value::Null) => return Err(ApiError::required(&join(&at, "type"))),
            Some(kind) => kind
                .as_u64()
                .filter(|k| (1..=11).contains(k))
                .ok_or_else(|| choices_error(&join(&at, "type"), "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"))?,
        };
        let nests = matches!(kind, 1 | 2);
        let fits = match level {
            Level::Command => *nesting.get_or_insert(nests) == nests,
            Level::Group => kind == 1,
            Level::Subcommand => !nests,
        };
        if !fits {
            return Err(ApiError::invalid_field(&at, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", MIXED_TYPES));
        }
        let option = check_option(&at, object, kind, size)?;
        let name = option["name"].as_str().unwrap_or_default().to_owned();
        if !names.insert(name) {
            return Err(ApiError::invalid_field(
                &join(&at, "name"),
                "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME",
                "Command option names must be unique",
            ));
        }
        if !nests {
            let required = option.get("required") == Some(&Value::Bool(true));
            if required && optional_seen {
                return Err(ApiError::invalid_field(
                    &at,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                ));
            }
            optional_seen |= !required;
        }
        out.push(option);
    }
    Ok(out)
}

/// Checks one option of type `kind` and renders it.
fn check_option(at: &str, object: &Map<String, Value>, kind: u64, size: &mut usize) -> Result<Value, ApiError> {
    let name = check_name(&join(at, "name"), object.get("name"), true)?;
    let description = check_description(&join(at, "description"), object.get("description"))?;
    *size += name.chars().count() + description.chars().count();
    let mut out = Map::new();
    out.insert("type".into(), Value::from(kind));
    out.insert("name".into(), Value::String(name));
    out.insert("description".into(), Value::String(description));
    if let Some(names) =
        check_localizations(&join(at, "name_localizations"), object.get("name_localizations"), |p, v| {
            check_name(p, v, true)
        })?
    {
        out.insert("name_localizations".into(), Value::Object(names));
    }
    if let Some(descriptions) = check_localizations(
        &join(at, "description_localizations"),
        object.get("description_localizations"),
        check_description,
    )? {
        out.insert("description_localizations".into(), Value::Object(descriptions));
    }
    match kind {
        1 | 2 => {
            let level = if kind == 2 { Level::Group } else { Level::Subcommand };
            let children = check_options(&join(at, "options"), object.get("options"), level, size)?;
            if !children.is_empty() {
                out.insert("options".into(), Value::Array(children));
            }
            return Ok(Value::Object(out));
        }
        _ => {}
    }
    if check_bool(&join(at, "required"), object.get("required"))? == Some(true) {
        out.insert("required".into(), Value::Bool(true));
    }
    let autocomplete = check_bool(&join(at, "autocomplete"), object.get("autocomplete"))?.unwrap_or(false);
    if matches!(kind, 3 | 4 | 10) {
        let choices = check_choices(&join(at, "choices"), present(object, "choices"), kind, size)?;
        if autocomplete && !choices.is_empty() {
            return Err(ApiError::invalid_field(
                &join(at, "autocomplete"),
                "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_AND_CHOICES",
                "Autocomplete and choices are mutually exclusive",
            ));
        }
        if autocomplete {
            out.insert("autocomplete".into(), Value::Bool(true));
        }
        if !choices.is_empty() {
            out.insert("choices".into(), Value::Array(choices));
        }
    }
    match kind {
        3 => {
            for (field, min) in [("min_length", 0), ("max_length", 1)] {
                if let Some(value) = present(object, field) {
                    let length = value.as_i64().ok_or_else(|| ApiError::wrong_type(&join(at, field), "integer"))?;
                    if !(min..=6000).contains(&length) {
                        return Err(range_error(&join(at, field), length, min, 6000));
                    }
                    out.insert(field.into(), Value::from(length));
                }
            }
        }
        4 | 10 => {
            for field in ["min_value", "max_value"] {
                if let Some(value) = present(object, field) {
                    let path = join(at, field);
                    let checked = if kind == 4 { integer_value(&path, value)? } else { number_value(&path, value)? };
                    out.insert(field.into(), checked);
                }
            }
        }
        7 => {
            if let Some(types) =
                check_enum_list(&join(at, "channel_types"), present(object, "channel_types"), CHANNEL_TYPES)?
            {
                out.insert("channel_types".into(), json!(types));
            }
        }
        _ => {}
    }
    Ok(Value::Object(out))
}

fn range_error(path: &str, value: i64, min: i64, max: i64) -> ApiError {
    if value < min {
        ApiError::invalid_field(
            path,
            "NUMBER_TYPE_MIN",
            &format!("int value should be greater than or equal to {min}."),
        )
    } else {
        ApiError::invalid_field(path, "NUMBER_TYPE_MAX", &format!("int value should be less than or equal to {max}."))
    }
}

/// An integer within Discord's safe range.
fn integer_value(path: &str, value: &Value) -> Result<Value, ApiError> {
    let number = value.as_i64().ok_or_else(|| ApiError::wrong_type(path, "integer"))?;
    if !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&number) {
        return Err(range_error(path, number, -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER));
    }
    Ok(Value::from(number))
}

/// A finite number within Discord's safe range.
fn number_value(path: &str, value: &Value) -> Result<Value, ApiError> {
    let number = value
        .as_f64()
        .filter(|n| n.is_finite() && n.abs() <= MAX_SAFE_INTEGER as f64)
        .ok_or_else(|| ApiError::invalid_field(path, "NUMBER_TYPE_COERCE", "Value is not a valid number."))?;
    Ok(value.as_i64().map_or_else(|| json!(number), Value::from))
}

/// An option's choices: at most 25, each a name (1 to 100 characters) and a value of the option's
/// type (strings up to 100 characters).
fn check_choices(path: &str, value: Option<&Value>, kind: u64, size: &mut usize) -> Result<Vec<Value>, ApiError> {
    let items = match value {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::wrong_type(path, "array")),
    };
    if items.len() > MAX_OPTIONS {
        return Err(too_many(path, MAX_OPTIONS));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = join(path, &i.to_string());
        let Value::Object(choice) = item else {
            return Err(ApiError::invalid_field(
                &at,
                "MODEL_TYPE_CONVERT",
                "Only dictionaries may be used in a ModelType",
            ));
        };
        let name = match choice.get("name") {
            None | Some(Value::Null) => return Err(ApiError::required(&join(&at, "name"))),
            Some(Value::String(name)) if (1..=100).contains(&name.chars().count()) => name.clone(),
            Some(Value::String(_)) => return Err(bad_length(&join(&at, "name"), 1, 100)),
            Some(_) => return Err(ApiError::wrong_type(&join(&at, "name"), "string")),
        };
        let value_path = join(&at, "value");
        let value = match (kind, choice.get("value")) {
            (_, None | Some(Value::Null)) => return Err(ApiError::required(&value_path)),
            (3, Some(Value::String(text))) if text.chars().count() <= 100 => {
                *size += text.chars().count();
                Value::String(text.clone())
            }
            (3, Some(Value::String(_))) => return Err(bad_length(&value_path, 1, 100)),
            (3, Some(_)) => return Err(ApiError::wrong_type(&value_path, "string")),
            (4, Some(value)) => integer_value(&value_path, value)?,
            (_, Some(value)) => number_value(&value_path, value)?,
        };
        *size += name.chars().count();
        let mut rendered = Map::new();
        rendered.insert("name".into(), Value::String(name));
        if let Some(names) =
            check_localizations(&join(&at, "name_localizations"), choice.get("name_localizations"), |p, v| match v {
                Some(Value::String(text)) if (1..=100).contains(&text.chars().count()) => Ok(text.clone()),
                Some(Value::String(_)) | None | Some(Value::Null) => Err(bad_length(p, 1, 100)),
                Some(_) => Err(ApiError::wrong_type(p, "string")),
            })?
        {
            rendered.insert("name_localizations".into(), Value::Object(names));
        }
        rendered.insert("value".into(), value);
        out.push(Value::Object(rendered));
    }
    Ok(out)
}

/// Reads a command definition (`POST` and each entry of `PUT`; with `base` and `partial`, a `PATCH`
/// on top of the stored command) and checks it the way Discord does; 50035 with the offending
/// field otherwise. The identity fields (`id`, `application_id`, `guild_id`, `version`) are left
/// for the caller.
pub(crate) fn parse_command(
    body: &Value,
    base: Option<&ApplicationCommandView>,
    partial: bool,
) -> Result<ApplicationCommandView, ApiError> {
    let Value::Object(object) = body else { return Err(ApiError::wrong_type("", "object")) };
    let keep = |key: &str| partial && !object.contains_key(key);
    let base = base.filter(|_| partial);
    let kind = match (base, object.get("type")) {
        (Some(base), _) => base.kind,
        (None, None | Some(Value::Null)) => 1,
        (None, Some(kind)) => kind
            .as_u64()
            .filter(|k| (1..=3).contains(k))
            .and_then(|k| u8::try_from(k).ok())
            .ok_or_else(|| choices_error("type", "1, 2, 3"))?,
    };
    let chat_input = kind == 1;
    let name = match base {
        Some(base) if keep("name") => base.name.clone(),
        _ => check_name("name", object.get("name"), chat_input)?,
    };
    let description = match base {
        Some(base) if keep("description") => base.description.clone(),
        _ if chat_input => check_description("description", object.get("description"))?,
        _ => match present(object, "description") {
            None => String::new(),
            Some(Value::String(text)) if text.is_empty() => String::new(),
            Some(Value::String(_)) => return Err(too_many("description", 0)),
            Some(_) => return Err(ApiError::wrong_type("description", "string")),
        },
    };
    let name_localizations = match base {
        Some(base) if keep("name_localizations") => base.name_localizations.clone(),
        _ => check_localizations("name_localizations", object.get("name_localizations"), |p, v| {
            check_name(p, v, chat_input)
        })?,
    };
    let description_localizations = match base {
        Some(base) if keep("description_localizations") => base.description_localizations.clone(),
        _ => check_localizations(
            "description_localizations",
            object.get("description_localizations"),
            check_description,
        )?,
    };
    let mut size = name.chars().count() + description.chars().count();
    let options = match base {
        Some(base) if keep("options") => {
            size += options_size(&base.options);
            base.options.clone()
        }
        _ => {
            let options = check_options("options", object.get("options"), Level::Command, &mut size)?;
            if !chat_input && !options.is_empty() {
                return Err(too_many("options", 0));
            }
            options
        }
    };
    if size > MAX_COMMAND_SIZE {
        return Err(ApiError::invalid_field(
            "",
            "APPLICATION_COMMAND_TOO_LARGE",
            &format!("Command exceeds maximum size ({MAX_COMMAND_SIZE})"),
        ));
    }
    let default_member_permissions = match base {
        Some(base) if keep("default_member_permissions") => base.default_member_permissions,
        _ => check_permissions("default_member_permissions", object.get("default_member_permissions"))?,
    };
    let dm_permission = match base {
        Some(base) if keep("dm_permission") => base.dm_permission,
        _ => check_bool("dm_permission", object.get("dm_permission"))?.unwrap_or(true),
    };
    let contexts = match base {
        Some(base) if keep("contexts") => base.contexts.clone(),
        _ => check_enum_list("contexts", object.get("contexts"), &[0, 1, 2])?,
    };
    let integration_types = match base {
        Some(base) if keep("integration_types") => base.integration_types.clone(),
        _ => check_enum_list("integration_types", object.get("integration_types"), &[0, 1])?.unwrap_or_else(|| vec![0]),
    };
    let nsfw = match base {
        Some(base) if keep("nsfw") => base.nsfw,
        _ => check_bool("nsfw", object.get("nsfw"))?.unwrap_or(false),
    };
    Ok(ApplicationCommandView {
        id: base.map_or(0, |b| b.id),
        application_id: base.map_or(0, |b| b.application_id),
        guild_id: base.and_then(|b| b.guild_id),
        version: base.map_or(0, |b| b.version),
        kind,
        name,
        name_localizations,
        description,
        description_localizations,
        options,
        default_member_permissions,
        dm_permission,
        contexts,
        integration_types,
        nsfw,
    })
}

/// The characters of stored options that count towards [`MAX_COMMAND_SIZE`].
fn options_size(options: &[Value]) -> usize {
    options
        .iter()
        .map(|option| {
            let text = |key: &str| option[key].as_str().map_or(0, |s| s.chars().count());
            let choices = option["choices"].as_array().map_or(0, |choices| {
                choices
                    .iter()
                    .map(|c| {
                        c["name"].as_str().map_or(0, |s| s.chars().count())
                            + c["value"].as_str().map_or(0, |s| s.chars().count())
                    })
                    .sum()
            });
            text("name") + text("description") + choices + option["options"].as_array().map_or(0, |o| options_size(o))
        })
        .sum()
}

/// How many commands of a type a scope may hold.
fn limit_of(kind: u8) -> usize {
    if kind == 1 { MAX_CHAT_INPUT_COMMANDS } else { MAX_CONTEXT_MENU_COMMANDS }
}

fn max_commands(kind: u8) -> ApiError {
    ApiError::max_application_commands(limit_of(kind))
}

// ----- the registry -----

impl World {
    /// The commands of one scope (an application's global commands, or its commands in a guild).
    fn scope(&self, application: u64, guild: Option<u64>) -> impl Iterator<Item = &ApplicationCommandView> {
        self.commands.values().filter(move |c| c.application_id == application && c.guild_id == guild)
    }

    /// A command of a scope by id (10063 otherwise).
    pub(crate) fn command_in_scope(
        &self,
        application: u64,
        guild: Option<u64>,
        id: u64,
    ) -> Result<ApplicationCommandView, ApiError> {
        self.commands
            .get(&id)
            .filter(|c| c.application_id == application && c.guild_id == guild)
            .cloned()
            .ok_or_else(ApiError::unknown_application_command)
    }

    /// Creates a command, or updates the scope's command of that name and type (Discord's upsert).
    /// Returns it and whether it is new; 30032 when the scope is full.
    pub(crate) fn upsert_command(
        &mut self,
        application: u64,
        guild: Option<u64>,
        mut command: ApplicationCommandView,
    ) -> Result<(ApplicationCommandView, bool), ApiError> {
        let existing =
            self.scope(application, guild).find(|c| c.kind == command.kind && c.name == command.name).cloned();
        command.application_id = application;
        command.guild_id = guild;
        let created = existing.is_none();
        match existing {
            Some(existing) => {
                command.id = existing.id;
                command.version = if existing.same_definition(&command) { existing.version } else { self.next_id() };
            }
            None => {
                if self.scope(application, guild).filter(|c| c.kind == command.kind).count() >= limit_of(command.kind) {
                    return Err(max_commands(command.kind));
                }
                command.id = self.next_id();
                command.version = command.id;
            }
        }
        self.commands.insert(command.id, command.clone());
        Ok((command, created))
    }

    /// Replaces a scope's commands with `commands` (Discord's bulk overwrite): a command keeps its id
    /// when the entry names it by `id` or has the name and type of an existing one; the others are
    /// deleted. Answers them in the request's order. 50035 for duplicate names, 30032 beyond the
    /// limits; nothing changes on error.
    pub(crate) fn overwrite_commands(
        &mut self,
        application: u64,
        guild: Option<u64>,
        commands: Vec<(Option<u64>, ApplicationCommandView)>,
    ) -> Result<Vec<ApplicationCommandView>, ApiError> {
        let mut seen = HashSet::new();
        for (i, (_, command)) in commands.iter().enumerate() {
            if !seen.insert((command.kind, command.name.clone())) {
                return Err(ApiError::invalid_field(
                    &i.to_string(),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                ));
            }
        }
        for kind in 1..=3 {
            if commands.iter().filter(|(_, c)| c.kind == kind).count() > limit_of(kind) {
                return Err(max_commands(kind));
            }
        }
        let existing: Vec<ApplicationCommandView> = self.scope(application, guild).cloned().collect();
        let mut kept: Vec<ApplicationCommandView> = Vec::with_capacity(commands.len());
        for (id, mut command) in commands {
            let matched = id
                .and_then(|id| existing.iter().find(|c| c.id == id && c.kind == command.kind))
                .or_else(|| existing.iter().find(|c| c.kind == command.kind && c.name == command.name))
                .filter(|c| !kept.iter().any(|k| k.id == c.id));
            command.application_id = application;
            command.guild_id = guild;
            match matched {
                Some(old) => {
                    command.id = old.id;
                    command.version = if old.same_definition(&command) { old.version } else { self.next_id() };
                }
                None => {
                    command.id = self.next_id();
                    command.version = command.id;
                }
            }
            kept.push(command);
        }
        self.commands.retain(|_, c| !(c.application_id == application && c.guild_id == guild));
        for command in &kept {
            self.commands.insert(command.id, command.clone());
        }
        Ok(kept)
    }

    /// Stores an edited command (a new version if anything changed); 50035 if the new name clashes.
    pub(crate) fn replace_command(
        &mut self,
        mut command: ApplicationCommandView,
    ) -> Result<ApplicationCommandView, ApiError> {
        let clash = self
            .scope(command.application_id, command.guild_id)
            .any(|c| c.id != command.id && c.kind == command.kind && c.name == command.name);
        if clash {
            return Err(ApiError::invalid_field(
                "name",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            ));
        }
        if let Some(old) = self.commands.get(&command.id)
            && !old.same_definition(&command)
        {
            command.version = self.next_id();
        }
        self.commands.insert(command.id, command.clone());
        Ok(command)
    }

    /// Deletes a command.
    pub(crate) fn delete_command(&mut self, id: u64) {
        self.commands.remove(&id);
    }

    /// Registers a command as its application would (`POST /applications/{app}/commands`, or the
    /// guild's route with `Some(guild)`), from the JSON body Discord takes; a command of that name
    /// and type is updated. Returns its id.
    ///
    /// # Panics
    /// If `application` is not a bot, the guild is unknown, or the definition is one Discord refuses
    /// (the panic names the field): a bug in the test's setup.
    pub fn add_application_command(&mut self, application: u64, guild: Option<u64>, command: Value) -> u64 {
        assert!(self.users.get(&application).is_some_and(|u| u.bot), "{application} is not a bot");
        if let Some(guild) = guild {
            assert!(self.guilds.contains_key(&guild), "unknown guild {guild}");
        }
        let parsed = parse_command(&command, None, false)
            .unwrap_or_else(|e| panic!("Discord refuses this command: {}", e.body()));
        let (stored, _) = self
            .upsert_command(application, guild, parsed)
            .unwrap_or_else(|e| panic!("Discord refuses this command: {}", e.body()));
        stored.id
    }

    /// An application's global commands, oldest first.
    pub fn application_commands(&self, application: u64) -> Vec<ApplicationCommandView> {
        self.scope(application, None).cloned().collect()
    }

    /// An application's commands in one guild, oldest first.
    pub fn guild_commands(&self, application: u64, guild: u64) -> Vec<ApplicationCommandView> {
        self.scope(application, Some(guild)).cloned().collect()
    }

    /// A command (global or guild) by id.
    pub fn application_command(&self, id: u64) -> Option<ApplicationCommandView> {
        self.commands.get(&id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<ApplicationCommandView, Value> {
        parse_command(&body, None, false).map_err(|e| e.errors.unwrap_or(Value::Null))
    }

    #[test]
    fn names_follow_discords_pattern() {
        for good in ["ping", "rank-up", "set_role", "über", "日本", "it's", "a1"] {
            assert!(good.chars().all(name_char), "{good}");
        }
        for bad in ["Ping", "two words", "emoji😀", "dot.ted", "ÜBER"] {
            assert!(!bad.chars().all(name_char), "{bad}");
        }
        assert!(parse(json!({"name": "x".repeat(33), "description": "d"})).is_err());
        let error = parse(json!({"name": "Ping", "description": "d"})).expect_err("uppercase");
        assert_eq!(error["name"]["_errors"][0]["code"], "APPLICATION_COMMAND_INVALID_NAME");
        // USER and MESSAGE commands may be mixed case with spaces, and have no description.
        let user = parse(json!({"name": "View Rank", "type": 2})).expect("a user command");
        assert_eq!((user.kind, user.description.as_str()), (2, ""));
        assert!(parse(json!({"name": "View Rank", "type": 2, "description": "x"})).is_err());
    }

    #[test]
    fn options_nest_by_discords_rules() {
        let sub = |name: &str, options: Value| json!({"type": 1, "name": name, "description": "d", "options": options});
        let string =
            |name: &str, required: bool| json!({"type": 3, "name": name, "description": "d", "required": required});
        let ok = parse(json!({"name": "mod", "description": "d", "options": [
            {"type": 2, "name": "role", "description": "d", "options": [sub("add", json!([string("who", true)]))]},
            sub("ban", json!([string("who", true), string("why", false)])),
        ]}))
        .expect("valid nesting");
        assert!(ok.has_subcommands());
        assert_eq!(ok.options[1]["options"][1].get("required"), None, "required: false is left out");

        let mixed =
            parse(json!({"name": "x", "description": "d", "options": [string("a", false), sub("b", json!([]))]}));
        assert_eq!(
            mixed.expect_err("mixed")["options"]["1"]["_errors"][0]["code"],
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID"
        );
        let order = parse(json!({"name": "x", "description": "d", "options": [string("a", false), string("b", true)]}));
        assert_eq!(
            order.expect_err("order")["options"]["1"]["_errors"][0]["code"],
            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"
        );
        let deep = parse(json!({"name": "x", "description": "d", "options": [sub("a", json!([sub("b", json!([]))]))]}));
        assert!(deep.is_err(), "a subcommand holds no subcommands");
        let many: Vec<Value> = (0..26).map(|i| string(&format!("o{i}"), false)).collect();
        assert!(parse(json!({"name": "x", "description": "d", "options": many})).is_err());
        let twice =
            parse(json!({"name": "x", "description": "d", "options": [string("a", false), string("a", false)]}));
        assert!(twice.is_err());
    }

    #[test]
    fn permissions_are_a_string_of_digits() {
        let command = parse(json!({"name": "x", "description": "d", "default_member_permissions": "8"})).expect("ok");
        assert_eq!(command.default_member_permissions, Some(8));
        assert_eq!(command_json(&command, false)["default_member_permissions"], "8");
        assert!(parse(json!({"name": "x", "description": "d", "default_member_permissions": "8a"})).is_err());
        assert!(parse(json!({"name": "x", "description": "d", "default_member_permissions": -1})).is_err());
        assert!(parse(json!({"name": "x", "description": "d", "contexts": [0, 0]})).is_err());
        assert!(parse(json!({"name": "x", "description": "d", "contexts": [3]})).is_err());
    }

    #[test]
    fn oversized_commands_are_refused() {
        let long = "d".repeat(100);
        let options: Vec<Value> = (0..25)
            .map(|i| json!({"type": 1, "name": format!("s{i}"), "description": long, "options": (0..25).map(|j| json!({"type": 3, "name": format!("o{j}"), "description": long})).collect::<Vec<_>>()}))
            .collect();
        let error = parse(json!({"name": "x", "description": "d", "options": options})).expect_err("too large");
        assert_eq!(error["_errors"][0]["code"], "APPLICATION_COMMAND_TOO_LARGE");
    }
}
