//! Header parsing shared by the Discord routes, which take their inputs (and the caller's bot token)
//! as headers, as the Noctra specification has them.

use actix_web::HttpRequest;
use garrison_core::{
    ServerId,
    discord::{BotToken, Snowflake},
};

use super::error::ApiError;

/// A header's text, when present and not blank.
pub(super) fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// A required header: 400 `{"error":"Missing 'NAME' header."}` without it.
pub(super) fn required<'a>(req: &'a HttpRequest, name: &'static str) -> Result<&'a str, ApiError> {
    header(req, name).ok_or_else(|| ApiError::bad_request(format!("Missing '{name}' header.")))
}

/// A required header holding a Discord id (400 naming the header when it is not one).
pub(super) fn snowflake(req: &HttpRequest, name: &'static str) -> Result<Snowflake, ApiError> {
    Ok(Snowflake::parse(name, required(req, name)?)?)
}

/// A required header holding a Discord server (guild) id, by the one rule for server ids.
pub(super) fn server(req: &HttpRequest, name: &'static str) -> Result<ServerId, ApiError> {
    Ok(ServerId::parse(name, required(req, name)?)?)
}

/// A bot token from header `name`: 400 `{"error":"Missing 'NAME' header."}` when absent or not token text.
pub(super) fn token(req: &HttpRequest, name: &'static str) -> Result<BotToken, ApiError> {
    BotToken::new(required(req, name)?).ok_or_else(|| ApiError::bad_request(format!("Missing '{name}' header.")))
}

/// `X-Filename`: at most 100 letters, digits, `.`, `_` or `-`, not starting with `.`; `extension`
/// (`.html`, `.json`) added when it is not there.
pub(super) fn filename(text: Option<&str>, extension: &str) -> Result<Option<String>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let ok = text.len() <= 100
        && !text.starts_with('.')
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !ok {
        return Err(ApiError::bad_request(
            "X-Filename: at most 100 letters, digits, '.', '_' or '-', not starting with '.'",
        ));
    }
    Ok(Some(if text.to_ascii_lowercase().ends_with(extension) {
        text.to_owned()
    } else {
        format!("{text}{extension}")
    }))
}
