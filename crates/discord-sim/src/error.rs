//! Discord's error answers: a status, a JSON code, a message, and for invalid form bodies an
//! `errors` tree.

use serde_json::{Map, Value, json};

/// An error answer, as Discord sends it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: u32,
    pub(crate) message: String,
    /// For 50035: `{"field": {"_errors": [{"code": "...", "message": "..."}]}}`.
    pub(crate) errors: Option<Value>,
}

impl ApiError {
    fn new(status: u16, code: u32, message: &str) -> Self {
        Self { status, code, message: message.to_owned(), errors: None }
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(401, 0, "401: Unauthorized")
    }

    pub(crate) fn not_found_route() -> Self {
        Self::new(404, 0, "404: Not Found")
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(405, 0, "405: Method Not Allowed")
    }

    pub(crate) fn unknown_application() -> Self {
        Self::new(404, 10002, "Unknown Application")
    }

    pub(crate) fn unknown_channel() -> Self {
        Self::new(404, 10003, "Unknown Channel")
    }

    pub(crate) fn unknown_guild() -> Self {
        Self::new(404, 10004, "Unknown Guild")
    }

    pub(crate) fn unknown_invite() -> Self {
        Self::new(404, 10006, "Unknown Invite")
    }

    pub(crate) fn unknown_member() -> Self {
        Self::new(404, 10007, "Unknown Member")
    }

    pub(crate) fn unknown_message() -> Self {
        Self::new(404, 10008, "Unknown Message")
    }

    pub(crate) fn unknown_role() -> Self {
        Self::new(404, 10011, "Unknown Role")
    }

    pub(crate) fn unknown_user() -> Self {
        Self::new(404, 10013, "Unknown User")
    }

    pub(crate) fn unknown_webhook() -> Self {
        Self::new(404, 10015, "Unknown Webhook")
    }

    pub(crate) fn unknown_ban() -> Self {
        Self::new(404, 10026, "Unknown Ban")
    }

    pub(crate) fn unknown_interaction() -> Self {
        Self::new(404, 10062, "Unknown interaction")
    }

    pub(crate) fn unknown_application_command() -> Self {
        Self::new(404, 10063, "Unknown application command")
    }

    pub(crate) fn not_authorized_for_application() -> Self {
        Self::new(403, 20012, "You are not authorized to perform this action on this application")
    }

    pub(crate) fn max_application_commands(limit: usize) -> Self {
        Self::new(400, 30032, &format!("Maximum number of application commands reached ({limit})"))
    }

    pub(crate) fn unknown_overwrite() -> Self {
        Self::new(404, 10009, "Unknown Overwrite")
    }

    pub(crate) fn unknown_emoji() -> Self {
        Self::new(404, 10014, "Unknown Emoji")
    }

    pub(crate) fn unknown_sticker() -> Self {
        Self::new(404, 10060, "Unknown Sticker")
    }

    pub(crate) fn unknown_automod_rule() -> Self {
        Self::new(404, 10066, "Unknown auto moderation rule")
    }

    pub(crate) fn max_emojis(limit: usize) -> Self {
        Self::new(400, 30008, &format!("Maximum number of emojis reached ({limit})"))
    }

    pub(crate) fn max_channels() -> Self {
        Self::new(400, 30013, "Maximum number of guild channels reached (500)")
    }

    pub(crate) fn max_animated_emojis(limit: usize) -> Self {
        Self::new(400, 30018, &format!("Maximum number of animated emojis reached ({limit})"))
    }

    pub(crate) fn max_stickers(limit: usize) -> Self {
        Self::new(400, 30039, &format!("Maximum number of stickers reached ({limit})"))
    }

    pub(crate) fn bitrate_too_high() -> Self {
        Self::new(400, 30052, "Bitrate is too high for channel of this type")
    }

    pub(crate) fn max_overwrites() -> Self {
        Self::new(400, 30060, "Maximum number of channel permission overwrites reached (100)")
    }

    pub(crate) fn invalid_asset() -> Self {
        Self::new(400, 50046, "Invalid Asset")
    }

    pub(crate) fn community_channel_required() -> Self {
        Self::new(400, 50074, "Cannot delete a channel required for Community guilds")
    }

    pub(crate) fn needs_more_boosts() -> Self {
        Self::new(400, 50101, "This server needs more boosts to perform this action")
    }

    pub(crate) fn invalid_lottie() -> Self {
        Self::new(400, 170001, "Invalid Lottie JSON")
    }

    pub(crate) fn lottie_too_large() -> Self {
        Self::new(400, 170005, "Lottie animation maximum dimensions exceeded")
    }

    pub(crate) fn onboarding_requirements_not_met() -> Self {
        Self::new(400, 350000, "Cannot enable onboarding, requirements are not met")
    }

    pub(crate) fn onboarding_below_requirements() -> Self {
        Self::new(400, 350001, "Cannot update onboarding while below requirements")
    }

    pub(crate) fn failed_to_ban_users() -> Self {
        Self::new(400, 500000, "Failed to ban users")
    }

    pub(crate) fn max_roles() -> Self {
        Self::new(400, 30005, "Maximum number of guild roles reached (250)")
    }

    pub(crate) fn missing_access() -> Self {
        Self::new(403, 50001, "Missing Access")
    }

    pub(crate) fn cannot_edit_others_message() -> Self {
        Self::new(403, 50005, "Cannot edit a message authored by another user")
    }

    pub(crate) fn empty_message() -> Self {
        Self::new(400, 50006, "Cannot send an empty message")
    }

    pub(crate) fn cannot_dm() -> Self {
        Self::new(403, 50007, "Cannot send messages to this user")
    }

    pub(crate) fn not_text_channel() -> Self {
        Self::new(400, 50008, "Cannot send messages in a non-text channel")
    }

    pub(crate) fn missing_permissions() -> Self {
        Self::new(403, 50013, "Missing Permissions")
    }

    pub(crate) fn invalid_webhook_token() -> Self {
        Self::new(401, 50027, "Invalid Webhook Token")
    }

    pub(crate) fn invalid_role() -> Self {
        Self::new(400, 50028, "Invalid Role")
    }

    pub(crate) fn invalid_json() -> Self {
        Self::new(400, 50109, "The request body contains invalid JSON.")
    }

    pub(crate) fn already_acknowledged() -> Self {
        Self::new(400, 40060, "Interaction has already been acknowledged.")
    }

    /// 400 50035 "Invalid Form Body" with one error at `path` (dot-separated, array indexes as
    /// numbers: `"roles.0"`; empty for the body itself), shaped as Discord nests them.
    pub(crate) fn invalid_field(path: &str, code: &str, message: &str) -> Self {
        let mut tree = json!({ "_errors": [{ "code": code, "message": message }] });
        for key in path.rsplit('.').filter(|key| !key.is_empty()) {
            let mut parent = Map::new();
            parent.insert(key.to_owned(), tree);
            tree = Value::Object(parent);
        }
        Self { status: 400, code: 50035, message: "Invalid Form Body".to_owned(), errors: Some(tree) }
    }

    /// 50035 for a field that must be a snowflake.
    pub(crate) fn not_snowflake(path: &str, value: &str) -> Self {
        Self::invalid_field(path, "NUMBER_TYPE_COERCE", &format!("Value \"{value}\" is not snowflake."))
    }

    /// 50035 for a required field that is missing.
    pub(crate) fn required(path: &str) -> Self {
        Self::invalid_field(path, "BASE_TYPE_REQUIRED", "This field is required")
    }

    /// 50035 for a field of the wrong JSON type.
    pub(crate) fn wrong_type(path: &str, expected: &str) -> Self {
        let (code, message) = match expected {
            "string" => ("BASE_TYPE_STRING", "Must be a string."),
            "integer" => ("NUMBER_TYPE_COERCE", "Must be a valid integer."),
            "boolean" => ("BASE_TYPE_BOOLEAN", "Must be either true or false."),
            "array" => ("BASE_TYPE_ARRAY", "Must be an array."),
            "object" => ("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"),
            _ => ("BASE_TYPE_BAD", "Invalid value."),
        };
        Self::invalid_field(path, code, message)
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        let mut body = json!({ "message": self.message, "code": self.code });
        if let (Some(errors), Some(object)) = (&self.errors, body.as_object_mut()) {
            object.insert("errors".to_owned(), errors.clone());
        }
        body
    }
}

/// An OAuth2 error answer from the token endpoints (RFC 6749, section 5.2), as Discord sends them:
/// `{"error": "invalid_grant", "error_description": "Invalid \"code\" in request."}`, or just
/// `{"error": "invalid_client"}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OAuthError {
    pub(crate) status: u16,
    pub(crate) error: &'static str,
    pub(crate) description: Option<String>,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: Option<String>) -> Self {
        Self { status, error, description }
    }

    /// 401: the client id and secret (HTTP Basic or form fields) are missing or wrong.
    pub(crate) fn invalid_client() -> Self {
        Self::new(401, "invalid_client", None)
    }

    /// 400: a code or refresh token that is unknown, expired, spent, another app's, or redeemed with
    /// another redirect URI or a wrong PKCE verifier. `parameter` names the field at fault.
    pub(crate) fn invalid_grant(parameter: &str) -> Self {
        Self::new(400, "invalid_grant", Some(format!("Invalid \"{parameter}\" in request.")))
    }

    /// 400: a required field is missing.
    pub(crate) fn missing(parameter: &str) -> Self {
        Self::new(400, "invalid_request", Some(format!("Missing \"{parameter}\" in request.")))
    }

    /// 400: a `grant_type` other than `authorization_code` and `refresh_token` (or none, as when the
    /// body is JSON rather than a form).
    pub(crate) fn unsupported_grant_type(grant_type: Option<&str>) -> Self {
        let named = grant_type.unwrap_or("None");
        Self::new(400, "unsupported_grant_type", Some(format!("Grant type {named} is not supported")))
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        match &self.description {
            Some(description) => json!({ "error": self.error, "error_description": description }),
            None => json!({ "error": self.error }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_errors_nest_like_discords() {
        let error = ApiError::invalid_field("roles.0", "NUMBER_TYPE_COERCE", "Value \"x\" is not snowflake.");
        assert_eq!(
            error.body(),
            json!({
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": {"roles": {"0": {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": "Value \"x\" is not snowflake."}]}}}
            })
        );
        assert_eq!(ApiError::unauthorized().body(), json!({"message": "401: Unauthorized", "code": 0}));
    }

    #[test]
    fn oauth_errors_are_rfc_6749_bodies() {
        assert_eq!(OAuthError::invalid_client().body(), json!({"error": "invalid_client"}));
        assert_eq!(
            OAuthError::invalid_grant("code").body(),
            json!({"error": "invalid_grant", "error_description": "Invalid \"code\" in request."})
        );
        assert_eq!(
            OAuthError::unsupported_grant_type(None).body(),
            json!({"error": "unsupported_grant_type", "error_description": "Grant type None is not supported"})
        );
    }
}
