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
