//! Roblox's error answers, and the shapes the simulator checks them against.
//!
//! Open Cloud v2 answers errors as `{"code": "NOT_FOUND", "message": "...", "details": []}` with the
//! status of its code (Roblox's error reference: INVALID_ARGUMENT 400, PERMISSION_DENIED 403,
//! NOT_FOUND 404, ABORTED 409, RESOURCE_EXHAUSTED 429, CANCELLED 499, INTERNAL 500, NOT_IMPLEMENTED 501,
//! UNAVAILABLE 503; and UNAUTHENTICATED 401 for a missing or unknown key). The legacy APIs answer
//! `{"errors": [{"code": 3, "message": "The user id is invalid.", "userFacingMessage": "Something went
//! wrong"}]}`. Roblox's OpenAPI document describes neither (Open Cloud operations document only their
//! 200; legacy ones list their errors as text, "3: The user id is invalid."), so [`check`] validates
//! error bodies against these shapes, and a legacy error's code and message against the text the
//! document gives for its status.

use serde_json::{Value, json};

use crate::spec::{Spec, is_open_cloud};

/// Open Cloud v2 error codes and their statuses.
const CLOUD_CODES: &[(u16, &str)] = &[
    (400, "INVALID_ARGUMENT"),
    (401, "UNAUTHENTICATED"),
    (403, "PERMISSION_DENIED"),
    (404, "NOT_FOUND"),
    (409, "ABORTED"),
    (429, "RESOURCE_EXHAUSTED"),
    (499, "CANCELLED"),
    (500, "INTERNAL"),
    (501, "NOT_IMPLEMENTED"),
    (503, "UNAVAILABLE"),
    (504, "DEADLINE_EXCEEDED"),
];

/// The code for a status without one of its own.
const UNKNOWN: &str = "UNKNOWN";

/// What the legacy APIs add to every error for people.
const USER_FACING: &str = "Something went wrong";

/// An error answer, as Roblox sends it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

/// The Open Cloud v2 code of a status.
pub(crate) fn cloud_code(status: u16) -> &'static str {
    CLOUD_CODES.iter().find(|(s, _)| *s == status).map_or(UNKNOWN, |(_, code)| code)
}

impl ApiError {
    /// An Open Cloud v2 error with the code of `status`.
    pub(crate) fn cloud(status: u16, message: impl Into<String>) -> Self {
        let body = json!({"code": cloud_code(status), "message": message.into(), "details": []});
        Self { status, body }
    }

    /// 400 INVALID_ARGUMENT.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::cloud(400, message)
    }

    /// 401 UNAUTHENTICATED: no key, or one Roblox does not know.
    pub(crate) fn invalid_key() -> Self {
        Self::cloud(401, "Invalid API Key")
    }

    /// 403 PERMISSION_DENIED.
    pub(crate) fn denied(message: impl Into<String>) -> Self {
        Self::cloud(403, message)
    }

    /// 404 NOT_FOUND.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::cloud(404, message)
    }

    /// A legacy API error.
    pub(crate) fn legacy(status: u16, code: u32, message: &str) -> Self {
        let body = json!({"errors": [{"code": code, "message": message, "userFacingMessage": USER_FACING}]});
        Self { status, body }
    }
}

/// The shape of an Open Cloud v2 error body.
fn cloud_schema() -> Value {
    let codes: Vec<&str> = CLOUD_CODES.iter().map(|(_, code)| *code).chain([UNKNOWN]).collect();
    json!({
        "type": "object",
        "properties": {
            "code": {"type": "string", "enum": codes},
            "message": {"type": "string"},
            "details": {"type": "array", "items": {"$ref": "#/components/schemas/GoogleProtobufAny"}}
        },
        "required": ["code", "message"],
        "additionalProperties": false
    })
}

/// The shape of a legacy error body.
fn legacy_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"errors": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "userFacingMessage": {"type": "string"},
                "field": {"type": "string"}
            },
            "required": ["code", "message"],
            "additionalProperties": false
        }}},
        "required": ["errors"],
        "additionalProperties": false
    })
}

/// Checks an error answer (`status` 400 and above) of a documented operation. Open Cloud: the body has
/// the v2 shape and the code of its status. Legacy: the body has the legacy shape, and unless the status
/// is 429 or 5xx (limits and failures any route may answer with), the document lists the status and,
/// in its text for it, each error as "code: message".
pub(crate) fn check(spec: &Spec, method: &str, template: &str, status: u16, body: &Value) -> Result<(), Vec<String>> {
    if is_open_cloud(template) {
        spec.validate(&cloud_schema(), body)?;
        let code = body.get("code").and_then(Value::as_str).unwrap_or_default();
        return match code == cloud_code(status) {
            true => Ok(()),
            false => Err(vec![format!("/code: {code} is not the code of status {status} ({})", cloud_code(status))]),
        };
    }
    spec.validate(&legacy_schema(), body)?;
    if status == 429 || status >= 500 {
        return Ok(());
    }
    let Some(operation) = spec.operation(method, template) else {
        return Err(vec![format!("{method} {template} is not an operation of the document")]);
    };
    let Some(description) = operation.response_description(status) else {
        return Err(vec![format!("{method} {template} documents no {status} response")]);
    };
    let documented: Vec<&str> = description.lines().map(str::trim).collect();
    let mut problems = Vec::new();
    for error in body.get("errors").and_then(Value::as_array).into_iter().flatten() {
        let line = format!("{}: {}", error["code"], error["message"].as_str().unwrap_or_default());
        if !documented.contains(&line.as_str()) {
            problems.push(format!("\"{line}\" is not among the {status} errors the document lists: {description:?}"));
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::spec;

    #[test]
    fn open_cloud_errors_carry_the_code_of_their_status() {
        assert_eq!(
            ApiError::not_found("Group not found.").body,
            json!({"code": "NOT_FOUND", "message": "Group not found.", "details": []})
        );
        assert_eq!(ApiError::invalid_key().status, 401);
        assert_eq!(cloud_code(429), "RESOURCE_EXHAUSTED");
        assert_eq!(cloud_code(502), "UNKNOWN");
        let template = "/cloud/v2/groups/{group_id}";
        for status in [400, 401, 403, 404, 429, 500, 503] {
            assert_eq!(check(spec(), "GET", template, status, &ApiError::cloud(status, "x").body), Ok(()));
        }
        let mismatch = ApiError::cloud(404, "x").body;
        assert!(check(spec(), "GET", template, 403, &mismatch).is_err());
        assert!(check(spec(), "GET", template, 404, &json!({"message": "x"})).is_err());
        assert!(check(spec(), "GET", template, 404, &json!({"code": 5, "message": "x"})).is_err());
    }

    #[test]
    fn legacy_errors_are_the_ones_the_document_lists() {
        let template = "/v1/users/{userId}";
        let invalid = ApiError::legacy(404, 3, "The user id is invalid.");
        assert_eq!(check(spec(), "GET", template, 404, &invalid.body), Ok(()));
        let made_up = ApiError::legacy(404, 4, "The user is gone.");
        assert!(check(spec(), "GET", template, 404, &made_up.body).is_err());
        assert!(check(spec(), "GET", template, 400, &invalid.body).is_err(), "no 400 documented");
        let too_many = ApiError::legacy(400, 2, "Too many usernames.");
        assert_eq!(check(spec(), "POST", "/v1/usernames/users", 400, &too_many.body), Ok(()));
        let limited = ApiError::legacy(429, 0, "Too many requests");
        assert_eq!(check(spec(), "POST", "/v1/usernames/users", 429, &limited.body), Ok(()));
        assert!(check(spec(), "GET", template, 404, &json!({"errors": []})).is_err());
        assert!(check(spec(), "GET", template, 404, &ApiError::cloud(404, "x").body).is_err());
    }
}
