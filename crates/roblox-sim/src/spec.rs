//! Roblox's OpenAPI document, read through `garrison-openapi`.
//!
//! `spec/roblox-groups-users-openapi.json` is the groups and users part of Roblox's own description of
//! its web APIs (OpenAPI 3.0.4): Open Cloud v2 at `https://apis.roblox.com` and, with their own
//! `servers`, the legacy `users.roblox.com` and `groups.roblox.com` routes at `/v1/...`. All of them are
//! served on one address here, so templates match paths as they are, with no prefix. The document's
//! `date-time` strings are checked (`YYYY-MM-DDTHH:MM` at the start); its other formats (`int32`,
//! `int64`, `enum`) are annotations, and it has no `pattern`.
//!
//! What the document does not say, the simulator takes from Roblox's reference pages: Open Cloud v2
//! operations document no error answers at all, and legacy ones give theirs as text only
//! (`"3: The user id is invalid."`); see `crate::error` for the shapes the simulator checks its errors
//! against. Where the document contradicts what Roblox sends, `ERRATA` corrects it.

use std::sync::OnceLock;

use garrison_openapi::{Erratum, Options, Target, looks_like_date_time};
pub use garrison_openapi::{Operation, RouteMatch, Spec};
use serde_json::Value;

const DOCUMENT: &str = include_str!("../spec/roblox-groups-users-openapi.json");

fn is_empty_content(value: &Value) -> bool {
    value.as_object().is_some_and(serde_json::Map::is_empty)
}

/// What Roblox answers where the document says "no content": `{}`, the JSON of an empty message.
const EMPTY_OBJECT: &str = r#"{"application/json": {"schema": {"type": "object", "additionalProperties": false}}}"#;

/// Corrections to the vendored document where it contradicts what Roblox sends. Each applies only while
/// its target still reads as expected; a unit test asserts that all of them apply.
const ERRATA: &[Erratum] = &[
    // The legacy user answer carries `"externalAppDisplayName": null` (the document's own description
    // says "For now always null"), but types the field as a plain string.
    Erratum {
        target: Target::Schema("Roblox.Users.Api.GetUserResponse"),
        pointer: "/properties/externalAppDisplayName",
        applies: |value| value.get("type") == Some(&Value::from("string")),
        now: r#"{"type": ["string", "null"],
                 "description": "Unused, legacy attribute. For now always null to not disturb existing client code that might rely on its existence."}"#,
    },
    // Accepting and declining a join request return google.protobuf.Empty, which Open Cloud sends as
    // `{}` with `content-type: application/json`; the generated document says the 200 has no content.
    Erratum {
        target: Target::Operation("POST", "/cloud/v2/groups/{group_id}/join-requests/{join_request_id}:accept"),
        pointer: "/responses/200/content",
        applies: is_empty_content,
        now: EMPTY_OBJECT,
    },
    Erratum {
        target: Target::Operation("POST", "/cloud/v2/groups/{group_id}/join-requests/{join_request_id}:decline"),
        pointer: "/responses/200/content",
        applies: is_empty_content,
        now: EMPTY_OBJECT,
    },
];

/// Roblox's document as the simulator reads it, without its errata.
fn options_without_errata() -> Options {
    Options::new().format("date-time", looks_like_date_time)
}

/// Roblox's document as the simulator reads it: its `date-time` format and its errata.
pub fn options() -> Options {
    options_without_errata().errata(ERRATA)
}

/// The vendored document, parsed on first use, with the corrections in `ERRATA` applied.
///
/// # Panics
/// If the vendored document cannot be read (a broken checkout).
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        Spec::from_json(DOCUMENT, &options())
            .unwrap_or_else(|error| panic!("the vendored Roblox OpenAPI document is unusable: {error}"))
    })
}

/// Whether an operation is Open Cloud's (`apis.roblox.com`, keys in `x-api-key`) rather than a
/// legacy one with its own `servers`.
pub(crate) fn is_open_cloud(template: &str) -> bool {
    template.starts_with("/cloud/")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_erratum_applies_to_the_vendored_document() {
        let raw = Spec::from_json(DOCUMENT, &options_without_errata()).unwrap();
        let legacy_user = json!({"description": "", "created": "2006-02-27T21:06:40.3Z", "isBanned": false,
            "externalAppDisplayName": null, "hasVerifiedBadge": true, "id": 1, "name": "Roblox", "displayName": "Roblox"});
        assert!(raw.validate_schema("Roblox.Users.Api.GetUserResponse", &legacy_user).is_err());
        let accept = "/cloud/v2/groups/{group_id}/join-requests/{join_request_id}:accept";
        assert!(raw.validate_response("POST", accept, 200, &json!({})).is_err());

        let spec = spec();
        assert_eq!(
            spec.applied_errata(),
            [
                "Roblox.Users.Api.GetUserResponse",
                "POST /cloud/v2/groups/{group_id}/join-requests/{join_request_id}:accept",
                "POST /cloud/v2/groups/{group_id}/join-requests/{join_request_id}:decline",
            ]
        );
        assert!(spec.skipped_errata().is_empty());
        assert!(spec.validate_schema("Roblox.Users.Api.GetUserResponse", &legacy_user).is_ok());
        assert!(spec.validate_response("POST", accept, 200, &json!({})).is_ok());
        assert!(spec.validate_response("POST", accept, 200, &json!({"x": 1})).is_err());
        let twice = Spec::from_json(DOCUMENT, &options().errata(ERRATA)).unwrap();
        assert_eq!(twice.skipped_errata().len(), ERRATA.len(), "applying twice changes nothing");
    }

    /// Every keyword in the document's schemas is one the validator handles or deliberately ignores:
    /// a newer document cannot silently weaken the checks.
    #[test]
    fn the_document_uses_only_supported_schema_features() {
        let problems = spec().unsupported_features();
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(spec().schema_names().count() > 40);
    }

    #[test]
    fn routes_match_custom_methods_and_legacy_paths() {
        let spec = spec();
        assert_eq!(spec.route_for("GET", "/cloud/v2/users/156"), Some("/cloud/v2/users/{user_id}"));
        assert_eq!(
            spec.route_for("GET", "/cloud/v2/users/156:generateThumbnail?size=48"),
            Some("/cloud/v2/users/{user_id}:generateThumbnail")
        );
        let matched = spec.match_path("POST", "/cloud/v2/groups/7/memberships/MTU2:assignRole").unwrap();
        assert_eq!(matched.template, "/cloud/v2/groups/{group_id}/memberships/{membership_id}:assignRole");
        assert_eq!(matched.params, [("group_id", "7"), ("membership_id", "MTU2")]);
        assert_eq!(
            spec.route_for("PATCH", "/cloud/v2/groups/7/memberships/156"),
            Some("/cloud/v2/groups/{group_id}/memberships/{membership_id}")
        );
        assert_eq!(spec.route_for("GET", "/v1/users/156"), Some("/v1/users/{userId}"));
        assert_eq!(spec.route_for("GET", "/v1/users/avatar-headshot"), Some("/v1/users/avatar-headshot"));
        assert_eq!(spec.route_for("POST", "/v1/usernames/users"), Some("/v1/usernames/users"));
        let legacy = spec.operation("GET", "/v1/users/{userId}").unwrap();
        assert_eq!(legacy.servers().collect::<Vec<_>>(), ["https://users.roblox.com"]);
        assert_eq!(legacy.response_description(404), Some("3: The user id is invalid."));
        let get_group = spec.operation("GET", "/cloud/v2/groups/{group_id}").unwrap();
        assert_eq!(get_group.operation_id(), Some("Cloud_GetGroup"));
        assert_eq!(get_group.extension("x-roblox-rate-limits").unwrap()["perApiKeyOwner"]["maxInPeriod"], 150);
    }
}
