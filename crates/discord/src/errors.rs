//! Discord's failures, mapped once into [`DiscordError`].
//!
//! Discord answers errors as `{"code": N, "message": "..."}` with the HTTP status; the JSON code says
//! what is unknown or refused (see Discord's "JSON Error Codes"). Transport failures (unreachable,
//! timed out, unreadable) are [`DiscordError::Unavailable`].

use garrison_core::discord::{DiscordError, Unknown};
use twilight_http::error::{Error, ErrorType};

use crate::wire::ErrorJson;

/// Maps a twilight error.
pub(crate) fn map(error: &Error) -> DiscordError {
    match error.kind() {
        ErrorType::Response { body, status, .. } => from_response(status.get(), body),
        ErrorType::Unauthorized => DiscordError::InvalidToken,
        ErrorType::RequestTimedOut => DiscordError::Unavailable("Discord did not answer in time".into()),
        ErrorType::RequestError => DiscordError::Unavailable("Discord could not be reached".into()),
        ErrorType::RequestCanceled => DiscordError::RateLimited { retry_after_ms: 1_000 },
        ErrorType::Validation => DiscordError::Rejected(error.to_string()),
        _ => {
            tracing::warn!(error = %error, "unexpected failure talking to Discord");
            DiscordError::Unavailable("Discord's answer could not be read".into())
        }
    }
}

/// Maps an error answer: HTTP status and body.
pub(crate) fn from_response(status: u16, body: &[u8]) -> DiscordError {
    let json: Option<ErrorJson> = serde_json::from_slice(body).ok();
    let code = json.as_ref().map_or(0, |j| j.code);
    let unknown = |what| DiscordError::Unknown(what);
    match (status, code) {
        (401, _) => DiscordError::InvalidToken,
        (_, 10003) => unknown(Unknown::Channel),
        (_, 10004) => unknown(Unknown::Guild),
        (_, 10006) => unknown(Unknown::Invite),
        (_, 10007) => unknown(Unknown::Member),
        (_, 10008) => unknown(Unknown::Message),
        (_, 10011) => unknown(Unknown::Role),
        (_, 10013) => unknown(Unknown::User),
        (_, 10026) => unknown(Unknown::Ban),
        (_, 50001) => DiscordError::NotMember,
        (_, 50007) => DiscordError::CannotMessageUser,
        (_, 50013) => DiscordError::MissingPermission { permission: None },
        (429, _) => DiscordError::RateLimited { retry_after_ms: 1_000 },
        (500.., _) => DiscordError::Unavailable(format!("Discord answered {status}")),
        (403, _) => DiscordError::MissingPermission { permission: None },
        _ => {
            let (message, errors) = json.map_or((String::new(), None), |j| (j.message, j.errors));
            let detail = errors.map(|e| format!(" {e}")).unwrap_or_default();
            DiscordError::Rejected(format!("{code} {message}{detail}").trim().to_owned())
        }
    }
}

/// The JSON code of a refusal [`from_response`] mapped to [`DiscordError::Rejected`] (its text starts
/// with the code), for the few codes a caller treats as no failure (a bulk ban that banned nobody).
pub(crate) fn rejected_code(error: &DiscordError) -> Option<u64> {
    match error {
        DiscordError::Rejected(text) => text.split(' ').next()?.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_codes_say_what_went_wrong() {
        let body = |code: u32| format!(r#"{{"message":"x","code":{code}}}"#).into_bytes();
        assert_eq!(from_response(401, br#"{"message":"401: Unauthorized","code":0}"#), DiscordError::InvalidToken);
        assert_eq!(from_response(403, &body(50001)), DiscordError::NotMember);
        assert_eq!(from_response(403, &body(50013)), DiscordError::MissingPermission { permission: None });
        assert_eq!(from_response(403, &body(50007)), DiscordError::CannotMessageUser);
        assert_eq!(from_response(404, &body(10007)), DiscordError::Unknown(Unknown::Member));
        assert_eq!(from_response(404, &body(10026)), DiscordError::Unknown(Unknown::Ban));
        assert_eq!(from_response(404, &body(10006)), DiscordError::Unknown(Unknown::Invite));
        assert!(matches!(from_response(502, b"<html>bad gateway</html>"), DiscordError::Unavailable(_)));
        let rejected = from_response(
            400,
            br#"{"message":"Invalid Form Body","code":50035,"errors":{"delete_message_seconds":{"_errors":[]}}}"#,
        );
        assert!(
            matches!(&rejected, DiscordError::Rejected(m) if m.contains("50035") && m.contains("delete_message_seconds"))
        );
        assert_eq!(rejected_code(&rejected), Some(50035));
        assert_eq!(
            rejected_code(&from_response(400, br#"{"message":"Failed to ban users","code":500000}"#)),
            Some(500_000)
        );
        assert_eq!(rejected_code(&DiscordError::Rejected("the image is too large".into())), None);
    }
}
