//! Reading path parameters, query strings and JSON bodies the way Discord does, answering 50035
//! "Invalid Form Body" (with the offending field) when they are malformed.

use serde_json::{Map, Value};

use super::Call;
use crate::error::ApiError;
use crate::time::Timestamp;

/// A field of a PATCH body: absent (leave alone), `null` (clear) or set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Patch<T> {
    Absent,
    Null,
    Set(T),
}

impl<T> Patch<T> {
    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    /// The set value, treating `null` like absence.
    pub(crate) fn set(self) -> Option<T> {
        match self {
            Patch::Set(value) => Some(value),
            Patch::Absent | Patch::Null => None,
        }
    }
}

/// Parses a snowflake; 50035 `NUMBER_TYPE_COERCE` at `field` otherwise.
pub(crate) fn parse_snowflake(field: &str, text: &str) -> Result<u64, ApiError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::not_snowflake(field, text));
    }
    text.parse().map_err(|_| ApiError::not_snowflake(field, text))
}

/// A snowflake path parameter.
pub(crate) fn path_id(call: &Call<'_>, name: &str) -> Result<u64, ApiError> {
    parse_snowflake(name, call.param(name))
}

/// A JSON value that must be a snowflake (a string of digits, or a number).
pub(crate) fn snowflake_value(field: &str, value: &Value) -> Result<u64, ApiError> {
    match value {
        Value::String(text) => parse_snowflake(field, text),
        Value::Number(number) => number.as_u64().ok_or_else(|| ApiError::not_snowflake(field, &number.to_string())),
        other => Err(ApiError::not_snowflake(field, &other.to_string())),
    }
}

/// The body as a JSON object: an absent body is an empty object, anything else is 50035.
pub(crate) fn object<'a>(call: &'a Call<'_>) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match call.body {
        None => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(ApiError::wrong_type("", "object")),
    }
}

/// The body as a JSON array.
pub(crate) fn array<'a>(call: &'a Call<'_>) -> Result<&'a [Value], ApiError> {
    match call.body {
        Some(Value::Array(items)) => Ok(items),
        None => Err(ApiError::required("")),
        Some(_) => Err(ApiError::wrong_type("", "array")),
    }
}

fn field<'a>(body: Option<&'a Map<String, Value>>, name: &str) -> Patch<&'a Value> {
    match body.and_then(|b| b.get(name)) {
        None => Patch::Absent,
        Some(Value::Null) => Patch::Null,
        Some(value) => Patch::Set(value),
    }
}

/// A string field with a length range in characters.
pub(crate) fn string(
    body: Option<&Map<String, Value>>,
    name: &str,
    min: usize,
    max: usize,
) -> Result<Patch<String>, ApiError> {
    Ok(match field(body, name) {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Set(Value::String(text)) => {
            let length = text.chars().count();
            if length < min {
                return Err(ApiError::invalid_field(
                    name,
                    "BASE_TYPE_BAD_LENGTH",
                    &format!("Must be between {min} and {max} in length."),
                ));
            }
            if length > max {
                return Err(ApiError::invalid_field(
                    name,
                    "BASE_TYPE_MAX_LENGTH",
                    &format!("Must be {max} or fewer in length."),
                ));
            }
            Patch::Set(text.clone())
        }
        Patch::Set(_) => return Err(ApiError::wrong_type(name, "string")),
    })
}

/// A boolean field.
pub(crate) fn boolean(body: Option<&Map<String, Value>>, name: &str) -> Result<Patch<bool>, ApiError> {
    Ok(match field(body, name) {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Set(Value::Bool(flag)) => Patch::Set(*flag),
        Patch::Set(_) => return Err(ApiError::wrong_type(name, "boolean")),
    })
}

/// An integer field within `min..=max`.
pub(crate) fn integer(
    body: Option<&Map<String, Value>>,
    name: &str,
    min: i64,
    max: i64,
) -> Result<Patch<i64>, ApiError> {
    Ok(match field(body, name) {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Set(value) => {
            let number = value.as_i64().ok_or_else(|| ApiError::wrong_type(name, "integer"))?;
            check_range(name, number, min, max)?;
            Patch::Set(number)
        }
    })
}

fn check_range(name: &str, number: i64, min: i64, max: i64) -> Result<(), ApiError> {
    if number < min {
        return Err(ApiError::invalid_field(
            name,
            "NUMBER_TYPE_MIN",
            &format!("int value should be greater than or equal to {min}."),
        ));
    }
    if number > max {
        return Err(ApiError::invalid_field(
            name,
            "NUMBER_TYPE_MAX",
            &format!("int value should be less than or equal to {max}."),
        ));
    }
    Ok(())
}

/// A permissions field: a decimal string (what Discord sends) or an integer.
pub(crate) fn permissions(body: Option<&Map<String, Value>>, name: &str) -> Result<Patch<u64>, ApiError> {
    Ok(match field(body, name) {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Set(Value::String(text)) => Patch::Set(text.parse().map_err(|_| ApiError::wrong_type(name, "integer"))?),
        Patch::Set(value) => Patch::Set(value.as_u64().ok_or_else(|| ApiError::wrong_type(name, "integer"))?),
    })
}

/// A snowflake field.
pub(crate) fn snowflake(body: Option<&Map<String, Value>>, name: &str) -> Result<Patch<u64>, ApiError> {
    Ok(match field(body, name) {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Set(value) => Patch::Set(snowflake_value(name, value)?),
    })
}

/// An ISO 8601 date-time field.
pub(crate) fn date_time(body: Option<&Map<String, Value>>, name: &str) -> Result<Patch<Timestamp>, ApiError> {
    Ok(match field(body, name) {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Set(Value::String(text)) => Patch::Set(Timestamp::parse_iso(text).ok_or_else(|| {
            ApiError::invalid_field(
                name,
                "DATE_TIME_TYPE_PARSE",
                &format!("Could not parse {text}. Should be ISO8601."),
            )
        })?),
        Patch::Set(_) => return Err(ApiError::wrong_type(name, "string")),
    })
}

/// An array field.
pub(crate) fn list<'a>(body: Option<&'a Map<String, Value>>, name: &str) -> Result<Patch<&'a [Value]>, ApiError> {
    Ok(match field(body, name) {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Set(Value::Array(items)) => Patch::Set(items.as_slice()),
        Patch::Set(_) => return Err(ApiError::wrong_type(name, "array")),
    })
}

/// An integer query parameter within `min..=max`, or `default` when absent.
pub(crate) fn query_integer(call: &Call<'_>, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
    let Some(text) = call.query(name) else { return Ok(default) };
    let number = text.parse::<i64>().map_err(|_| ApiError::wrong_type(name, "integer"))?;
    check_range(name, number, min, max)?;
    Ok(number)
}

/// A snowflake query parameter.
pub(crate) fn query_snowflake(call: &Call<'_>, name: &str) -> Result<Option<u64>, ApiError> {
    call.query(name).map(|text| parse_snowflake(name, text)).transpose()
}

/// A boolean query parameter (`true`/`false`, as twilight sends them; also `1`/`0`).
pub(crate) fn query_flag(call: &Call<'_>, name: &str) -> Result<bool, ApiError> {
    match call.query(name) {
        None => Ok(false),
        Some("true" | "True" | "1") => Ok(true),
        Some("false" | "False" | "0") => Ok(false),
        Some(_) => Err(ApiError::wrong_type(name, "boolean")),
    }
}

/// A body error from the `i`th entry of an array body, placed under that index.
pub(crate) fn under_index(error: ApiError, i: usize) -> ApiError {
    match error.errors {
        Some(tree) => {
            let mut wrapped = Map::new();
            wrapped.insert(i.to_string(), tree);
            ApiError { errors: Some(Value::Object(wrapped)), ..error }
        }
        None => error,
    }
}
