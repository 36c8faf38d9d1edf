//! Reading path parameters, query strings and JSON bodies the way Discord does, answering 50035
//! "Invalid Form Body" (with the offending field) when they are malformed.

use serde_json::{Map, Value};

use super::Call;
use crate::error::ApiError;
use crate::images::{self, ImageFormat, Refusal, Sniffed};
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

/// An integer field that must be one of `allowed` (50035 `BASE_TYPE_CHOICES` otherwise).
pub(crate) fn choice(body: Option<&Map<String, Value>>, name: &str, allowed: &[i64]) -> Result<Patch<i64>, ApiError> {
    Ok(match field(body, name) {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Set(value) => {
            let number = value.as_i64().ok_or_else(|| ApiError::wrong_type(name, "integer"))?;
            if !allowed.contains(&number) {
                return Err(choices(name, allowed));
            }
            Patch::Set(number)
        }
    })
}

/// 50035 `BASE_TYPE_CHOICES` naming the allowed values.
pub(crate) fn choices<T: std::fmt::Display>(path: &str, allowed: &[T]) -> ApiError {
    let list: Vec<String> = allowed.iter().map(ToString::to_string).collect();
    ApiError::invalid_field(path, "BASE_TYPE_CHOICES", &format!("Value must be one of {{{}}}.", list.join(", ")))
}

/// A list of snowflakes of at most `max` entries, without repeats (50035 otherwise).
pub(crate) fn snowflakes(
    body: Option<&Map<String, Value>>,
    name: &str,
    max: usize,
) -> Result<Patch<Vec<u64>>, ApiError> {
    Ok(match list(body, name)? {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Set(items) => {
            if items.len() > max {
                return Err(ApiError::invalid_field(
                    name,
                    "BASE_TYPE_MAX_LENGTH",
                    &format!("Must be {max} or fewer in length."),
                ));
            }
            let mut ids = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let id = snowflake_value(&format!("{name}.{i}"), item)?;
                if ids.contains(&id) {
                    return Err(ApiError::invalid_field(name, "BASE_TYPE_UNIQUE", "Values must be unique."));
                }
                ids.push(id);
            }
            Patch::Set(ids)
        }
    })
}

/// An image field: a `data:` URI of an image of one of `accepted` formats that decodes, at most
/// `max_bytes` long (50035 `IMAGE_INVALID` or `BINARY_TYPE_MAX_SIZE` otherwise).
pub(crate) fn image(
    body: Option<&Map<String, Value>>,
    name: &str,
    accepted: &[ImageFormat],
    max_bytes: usize,
) -> Result<Patch<(Vec<u8>, Sniffed)>, ApiError> {
    Ok(match field(body, name) {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Set(Value::String(text)) => {
            let bytes = images::data_uri_bytes(text).map_err(|refusal| image_error(name, refusal))?;
            let sniffed =
                images::validate_image(&bytes, accepted, max_bytes).map_err(|refusal| image_error(name, refusal))?;
            Patch::Set((bytes, sniffed))
        }
        Patch::Set(_) => return Err(ApiError::wrong_type(name, "string")),
    })
}

/// The 50035 answer to a refused upload.
pub(crate) fn image_error(name: &str, refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::TooLarge(max) => ApiError::invalid_field(
            name,
            "BINARY_TYPE_MAX_SIZE",
            &format!("File cannot be larger than {:.1} kb.", max as f64 / 1024.0),
        ),
        Refusal::NotDataUri | Refusal::Invalid => ApiError::invalid_field(name, "IMAGE_INVALID", "Invalid image data"),
    }
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
