//! Discord's OpenAPI document, read through `garrison-openapi`.
//!
//! `spec/discord-openapi-v10.json` is Discord's own description of REST v10 (OpenAPI 3.1, MIT). [`spec`]
//! parses it once and answers the questions the simulator (and its tests) ask on every request: is this
//! (method, path) a Discord route, which template does a concrete path match, and does a JSON body have
//! the shape Discord documents for it. The parser, route matching and validator are generic (see
//! `garrison-openapi`); what is Discord's is configured here:
//!
//! * concrete paths may carry `/api`, or `/api/v3` to `/api/v10`, before the document's templates;
//! * `format`: `snowflake` requires a decimal digit string that fits in a `u64`; `date-time` requires a
//!   string that starts like an RFC 3339 timestamp (`YYYY-MM-DDTHH:MM`), the rest is not parsed. Every
//!   other format (`int32`, `int64`, `double`, `uri`, `uuid`, `nonce`, ...) is an annotation only;
//! * `pattern`: the document's two patterns (the snowflake pattern and a hex colour) are checked by hand;
//! * errata: the places where the document contradicts what Discord sends (see `ERRATA`): string codes
//!   inside a 50035 `errors` tree, the optional `code` of a 429 body, the open list of guild features,
//!   role `permissions` and application command `default_member_permissions` as strings, media
//!   channels (type 16), permission overwrites' `allow` and `deny` as strings, and numeric attachment
//!   ids in uploads.
//!
//! OAuth2 needs no erratum, but two things differ from the document and are not schema corrections:
//! the token endpoints (`POST /oauth2/token`, `POST /oauth2/token/revoke`) are absent from its paths
//! (it names only `https://discord.com/api/oauth2/token` as its security scheme's `tokenUrl`), so their
//! form requests and RFC 6749 answers are not validated; and `GET /oauth2/@me` lists `BotToken` among
//! its security schemes, while Discord's documentation requires a bearer token and Discord answers a
//! bot token 401 (discord-api-docs issue #3945), as the simulator does. The authorize page checks
//! scopes against the document's `OAuth2Scopes`.

use std::sync::OnceLock;

use garrison_openapi::{Erratum, Options, Target, looks_like_date_time};
pub use garrison_openapi::{Operation, RouteMatch, Spec};
use serde_json::Value;

const DOCUMENT: &str = include_str!("../spec/discord-openapi-v10.json");
const SNOWFLAKE_PATTERN: &str = "^(0|[1-9][0-9]*)$";
const HEX_COLOR_PATTERN: &str = "^#(([0-9a-fA-F]{2}){3}|([0-9a-fA-F]){3})$";

fn is_error_ref(value: &Value) -> bool {
    value.get("$ref").and_then(Value::as_str) == Some("#/components/schemas/Error")
}

fn is_nullable_integer(value: &Value) -> bool {
    value.get("type") == Some(&serde_json::json!(["integer", "null"]))
}

/// The guild channel types the document lists where Discord also has GUILD_MEDIA (16).
fn is_guild_channel_types(value: &Value) -> bool {
    value.get("enum") == Some(&serde_json::json!([0, 2, 4, 5, 13, 14, 15]))
}

/// Corrections to the vendored document where it contradicts what Discord actually sends. Each applies
/// only while its target still reads as expected, so a newer document is not patched blindly; a unit test
/// asserts that all of them apply to the vendored one.
const ERRATA: &[Erratum] = &[
    // Field errors inside a 50035 body carry string codes ({"code": "BASE_TYPE_REQUIRED", "message":
    // "This field is required"}); the document reuses the top-level `Error`, whose code is an integer.
    // Both are accepted: what Discord sends, and what the document says.
    Erratum {
        target: Target::Schema("InnerErrors"),
        pointer: "/properties/_errors/items",
        applies: is_error_ref,
        now: r#"{"type": "object",
                 "properties": {"code": {"type": ["string", "integer"]}, "message": {"type": "string"}},
                 "required": ["code", "message"]}"#,
    },
    // Discord's rate-limit documentation makes `code` optional ("an error code for some limits"), and an
    // ordinary 429 body has none; the document builds the 429 body on `Error`, which requires it.
    Erratum {
        target: Target::Schema("RatelimitedResponse"),
        pointer: "/allOf/0",
        applies: is_error_ref,
        now: r#"{"type": "object", "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
                "required": ["message"]}"#,
    },
    // Real guilds list features the document's closed list lacks (THREADS_ENABLED, SOUNDBOARD, ...);
    // Discord's feature list is open, so any string is accepted (the arrays stay uniqueItems).
    Erratum {
        target: Target::Schema("GuildFeatures"),
        pointer: "",
        applies: |value| value.get("type") == Some(&Value::from("string")) && value.get("oneOf").is_some(),
        now: r#"{"type": "string"}"#,
    },
    // Discord's own documentation types a role's `permissions` as a string ("bitwise value of the
    // enabled/disabled permissions"), which is what Discord answers and what clients (twilight) send;
    // the document says integer. Both are accepted.
    Erratum {
        target: Target::Schema("CreateRoleRequest"),
        pointer: "/properties/permissions",
        applies: is_nullable_integer,
        now: r#"{"type": ["integer", "string", "null"]}"#,
    },
    Erratum {
        target: Target::Schema("UpdateRoleRequestPartial"),
        pointer: "/properties/permissions",
        applies: is_nullable_integer,
        now: r#"{"type": ["integer", "string", "null"]}"#,
    },
    // An application command's `default_member_permissions` is a string in Discord's documentation
    // ("Set of permissions represented as a bit set"), in what Discord answers, and in what clients
    // (twilight) send; the document's request schemas say integer. Both are accepted.
    Erratum {
        target: Target::Schema("ApplicationCommandCreateRequest"),
        pointer: "/properties/default_member_permissions",
        applies: is_nullable_integer,
        now: r#"{"type": ["integer", "string", "null"]}"#,
    },
    Erratum {
        target: Target::Schema("ApplicationCommandUpdateRequest"),
        pointer: "/properties/default_member_permissions",
        applies: is_nullable_integer,
        now: r#"{"type": ["integer", "string", "null"]}"#,
    },
    Erratum {
        target: Target::Schema("ApplicationCommandPatchRequestPartial"),
        pointer: "/properties/default_member_permissions",
        applies: is_nullable_integer,
        now: r#"{"type": ["integer", "string", "null"]}"#,
    },
    // Discord documents GUILD_MEDIA (16), a channel of media posts, in its channel types and creates,
    // edits and answers media channels; the document's lists stop at GUILD_FORUM (15).
    Erratum {
        target: Target::Schema("ChannelTypes"),
        pointer: "",
        applies: |value| {
            value.get("oneOf").and_then(Value::as_array).is_some_and(|types| {
                types.len() == 12 && !types.iter().any(|t| t.get("const") == Some(&Value::from(16)))
            })
        },
        now: r#"{"type": "integer", "enum": [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 16], "format": "int32"}"#,
    },
    Erratum {
        target: Target::Schema("GuildChannelResponse"),
        pointer: "/properties/type",
        applies: is_guild_channel_types,
        now: r#"{"type": "integer", "enum": [0, 2, 4, 5, 13, 14, 15, 16], "format": "int32"}"#,
    },
    Erratum {
        target: Target::Schema("CreateGuildChannelRequest"),
        pointer: "/properties/type/oneOf/1",
        applies: is_guild_channel_types,
        now: r#"{"type": "integer", "enum": [0, 2, 4, 5, 13, 14, 15, 16], "format": "int32"}"#,
    },
    Erratum {
        target: Target::Schema("UpdateGuildChannelRequestPartial"),
        pointer: "/properties/type/oneOf/1",
        applies: is_guild_channel_types,
        now: r#"{"type": "integer", "enum": [0, 2, 4, 5, 13, 14, 15, 16], "format": "int32"}"#,
    },
    // A permission overwrite's `allow` and `deny` are strings in Discord's documentation ("permission
    // bit set"), in what Discord answers, and in what clients (twilight) send; the document's requests
    // say integer. Both are accepted.
    Erratum {
        target: Target::Schema("ChannelPermissionOverwriteRequest"),
        pointer: "/properties/allow",
        applies: is_nullable_integer,
        now: r#"{"type": ["integer", "string", "null"]}"#,
    },
    Erratum {
        target: Target::Schema("ChannelPermissionOverwriteRequest"),
        pointer: "/properties/deny",
        applies: is_nullable_integer,
        now: r#"{"type": ["integer", "string", "null"]}"#,
    },
    Erratum {
        target: Target::Operation("PUT", "/channels/{channel_id}/permissions/{overwrite_id}"),
        pointer: "/requestBody/content/application~1json/schema/properties/allow",
        applies: is_nullable_integer,
        now: r#"{"type": ["integer", "string", "null"]}"#,
    },
    Erratum {
        target: Target::Operation("PUT", "/channels/{channel_id}/permissions/{overwrite_id}"),
        pointer: "/requestBody/content/application~1json/schema/properties/deny",
        applies: is_nullable_integer,
        now: r#"{"type": ["integer", "string", "null"]}"#,
    },
    // An upload's attachment id only pairs the entry with its `files[n]` part; Discord's own upload
    // example writes it as a number (`"id": 0`), and clients (twilight) send numbers.
    Erratum {
        target: Target::Schema("MessageAttachmentRequest"),
        pointer: "/properties/id",
        applies: |value| value.get("$ref").and_then(Value::as_str) == Some("#/components/schemas/SnowflakeType"),
        now: r##"{"oneOf": [{"$ref": "#/components/schemas/SnowflakeType"}, {"type": "integer", "minimum": 0}]}"##,
    },
];

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The `snowflake` format: a decimal digit string that fits in a `u64`.
fn is_snowflake(text: &str) -> bool {
    all_digits(text) && text.parse::<u64>().is_ok()
}

/// How Discord's document is read, without its errata (tests compare the document with and without).
fn options_without_errata() -> Options {
    let mut options = Options::new().strip_prefix("/api");
    for version in 3..=10 {
        options = options.strip_prefix(format!("/api/v{version}"));
    }
    options
        .format("snowflake", is_snowflake)
        .format("date-time", looks_like_date_time)
        .pattern(SNOWFLAKE_PATTERN, |text| {
            text == "0" || (text.starts_with(|c: char| matches!(c, '1'..='9')) && all_digits(text))
        })
        .pattern(HEX_COLOR_PATTERN, |text| {
            text.strip_prefix('#')
                .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
        })
}

/// Discord's document as the simulator reads it: its prefixes, formats, patterns and errata.
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
            .unwrap_or_else(|error| panic!("the vendored Discord OpenAPI document is unusable: {error}"))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Validates `value` against `schema` with Discord's formats and patterns.
    fn check(schema: Value, value: Value) -> Result<(), Vec<String>> {
        let document = json!({ "openapi": "3.1.0", "components": { "schemas": { "T": schema } } });
        Spec::from_json(&document.to_string(), &options_without_errata()).unwrap().validate_schema("T", &value)
    }

    #[test]
    fn formats_snowflake_and_date_time() {
        let snowflake = json!({"type": "string", "format": "snowflake"});
        assert!(check(snowflake.clone(), json!("175928847299117063")).is_ok());
        assert!(check(snowflake.clone(), json!("18446744073709551615")).is_ok());
        assert!(check(snowflake.clone(), json!("18446744073709551616")).is_err(), "beyond u64");
        assert_eq!(
            check(snowflake.clone(), json!("12a")).unwrap_err(),
            ["/: expected a snowflake string, got \"12a\""]
        );
        assert!(check(snowflake, json!(175928847299117063_u64)).is_err(), "a number is not a snowflake");
        let date_time = json!({"type": "string", "format": "date-time"});
        assert!(check(date_time.clone(), json!("2024-05-01T12:30:00.123000+00:00")).is_ok());
        assert!(check(date_time.clone(), json!("2024-05-01 12:30:00Z")).is_ok());
        assert!(check(date_time.clone(), json!("May 1st")).is_err());
        assert!(check(date_time, json!("2024-05-01")).is_err());
        for ignored in ["uri", "int64", "int32", "uuid", "nonce", "double"] {
            assert!(check(json!({"format": ignored}), json!("anything")).is_ok(), "{ignored}");
        }
    }

    #[test]
    fn known_patterns_are_checked() {
        let snowflake = json!({"type": "string", "pattern": SNOWFLAKE_PATTERN});
        assert!(check(snowflake.clone(), json!("0")).is_ok());
        assert!(check(snowflake.clone(), json!("10")).is_ok());
        assert_eq!(
            check(snowflake, json!("01")).unwrap_err(),
            [format!("/: \"01\" does not match the pattern {SNOWFLAKE_PATTERN}")]
        );
        let color = json!({"type": "string", "pattern": HEX_COLOR_PATTERN});
        assert!(check(color.clone(), json!("#fFa")).is_ok());
        assert!(check(color.clone(), json!("#00ff00")).is_ok());
        assert!(check(color.clone(), json!("#00ff0")).is_err());
        assert!(check(color, json!("00ff00")).is_err());
        // The snowflake format and pattern together report one problem, not two.
        let both = json!({"type": "string", "format": "snowflake", "pattern": SNOWFLAKE_PATTERN});
        assert_eq!(check(both, json!("x")).unwrap_err().len(), 1);
    }

    #[test]
    fn has_route_on_real_entries() {
        let spec = spec();
        assert!(spec.has_route("PUT", "/guilds/{guild_id}/bans/{user_id}"));
        assert!(spec.has_route("get", "/guilds/{guild_id}/bans/{user_id}"));
        assert!(spec.has_route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"));
        assert!(spec.has_route("GET", "/users/@me"));
        assert!(!spec.has_route("PUT", "/guilds/{guild_id}/nope"));
        assert!(!spec.has_route("POST", "/guilds/{guild_id}/bans/{user_id}"));
        assert!(!spec.has_route("GET", "/guilds/{id}/bans/{user_id}"), "templates match by their exact spelling");
        assert!(spec.routes().count() > 200);
        assert!(spec.routes().any(|route| route == ("PATCH", "/guilds/{guild_id}/members/@me")));
    }

    #[test]
    fn route_for_prefers_literal_segments() {
        let spec = spec();
        assert_eq!(spec.route_for("GET", "/users/@me"), Some("/users/@me"));
        assert_eq!(spec.route_for("GET", "/users/80351110224678912"), Some("/users/{user_id}"));
        assert_eq!(spec.route_for("GET", "/guilds/1/bans/2"), Some("/guilds/{guild_id}/bans/{user_id}"));
        assert_eq!(spec.route_for("PATCH", "/guilds/1/members/@me"), Some("/guilds/{guild_id}/members/@me"));
        assert_eq!(spec.route_for("GET", "/guilds/1/members/search"), Some("/guilds/{guild_id}/members/search"));
        // Only PATCH is documented on members/@me, so a GET falls back to the parameter.
        assert_eq!(spec.route_for("GET", "/guilds/1/members/@me"), Some("/guilds/{guild_id}/members/{user_id}"));
        assert_eq!(spec.route_for("GET", "/guilds/templates/abc"), Some("/guilds/templates/{code}"));
        assert_eq!(
            spec.route_for("GET", "/guilds/1/roles/member-counts"),
            Some("/guilds/{guild_id}/roles/member-counts")
        );
        assert_eq!(
            spec.route_for("PUT", "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me"),
            Some("/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me")
        );
        assert_eq!(
            spec.route_for("DELETE", "/channels/1/messages/2/reactions/%F0%9F%91%8D/3"),
            Some("/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/{user_id}")
        );
        assert_eq!(
            spec.route_for("GET", "/webhooks/1/tok/messages/@original"),
            Some("/webhooks/{webhook_id}/{webhook_token}/messages/@original")
        );
    }

    #[test]
    fn route_for_edges() {
        let spec = spec();
        assert_eq!(spec.route_for("GET", "/guilds/1/bans/2/extra"), None, "trailing segments");
        assert_eq!(spec.route_for("GET", "/guilds/1/bans/2/"), None, "trailing slash");
        assert_eq!(spec.route_for("GET", "/guilds//bans/2"), None, "empty parameter");
        assert_eq!(spec.route_for("GET", "/guilds/1/nope"), None);
        assert_eq!(spec.route_for("POST", "/guilds/1/bans/2"), None, "method not documented");
        assert_eq!(spec.route_for("GET", "guilds/1"), None);
        assert_eq!(spec.route_for("GET", "/guilds/1/members?limit=1000&after=0"), Some("/guilds/{guild_id}/members"));
        assert_eq!(spec.route_for("GET", "/api/v10/guilds/1"), Some("/guilds/{guild_id}"));
        assert_eq!(spec.route_for("GET", "/api/v9/guilds/1"), Some("/guilds/{guild_id}"));
        assert_eq!(spec.route_for("get", "/api/guilds/1"), Some("/guilds/{guild_id}"));
        assert_eq!(spec.route_for("GET", "/apiary/guilds/1"), None);
        assert_eq!(spec.route_for("GET", "/api/v10"), None);
        assert_eq!(spec.route_for("GET", "/api/vx/guilds/1"), None, "/api is stripped, /vx is not Discord's");
    }

    #[test]
    fn request_bodies() {
        let spec = spec();
        let ban = "/guilds/{guild_id}/bans/{user_id}";
        assert!(spec.validate_request("PUT", ban, &json!({"delete_message_seconds": 86400})).is_ok());
        assert!(spec.validate_request("PUT", ban, &Value::Null).is_ok(), "absent body checked as {{}}");
        assert_eq!(
            spec.validate_request("PUT", ban, &json!({"delete_message_seconds": 604801})).unwrap_err(),
            ["/delete_message_seconds: expected a number at most 604800, got 604801"]
        );
        let role = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}";
        assert!(spec.validate_request("PUT", role, &Value::Null).is_ok());
        assert!(spec.validate_request("PUT", role, &json!({})).is_ok());
        assert!(spec.validate_request("PUT", role, &json!({"x": 1})).is_err());
        assert!(spec.validate_request("POST", "/guilds/{guild_id}/stickers", &json!({"name": "x"})).is_err());
        assert!(spec.validate_request("PUT", "/guilds/{guild_id}/nope", &Value::Null).is_err());
        // A request schema that is an array: an absent body is not an empty array.
        let positions = "/guilds/{guild_id}/roles";
        assert!(spec.validate_request("PATCH", positions, &json!([{"id": "1", "position": 2}])).is_ok());
        assert!(spec.validate_request("PATCH", positions, &Value::Null).is_err());
    }

    #[test]
    fn response_bodies() {
        let spec = spec();
        let ban = "/guilds/{guild_id}/bans/{user_id}";
        assert!(spec.validate_response("PUT", ban, 204, &Value::Null).is_ok());
        assert!(spec.validate_response("PUT", ban, 204, &json!({})).is_err());
        assert!(spec.validate_response("PUT", ban, 200, &Value::Null).is_err(), "no 200 documented");
        let error = json!({"message": "Unknown Ban", "code": 10026});
        assert!(spec.validate_response("GET", ban, 404, &error).is_ok(), "4XX range");
        assert!(spec.validate_response("GET", ban, 404, &json!({"message": "Unknown Ban"})).is_err());
        let limited = json!({"message": "You are being rate limited.", "retry_after": 0.5, "global": false, "code": 0});
        assert!(spec.validate_response("GET", ban, 429, &limited).is_ok());
        assert!(spec.validate_response("GET", ban, 429, &error).is_err(), "429 is exact, not 4XX");
        assert!(spec.validate_response("GET", ban, 500, &error).is_err(), "no 5XX or default documented");
        assert!(spec.validate_response("GET", "/guilds/{guild_id}/widget.png", 200, &Value::Null).is_ok());
    }

    #[test]
    fn every_erratum_applies_to_the_vendored_document() {
        let raw = Spec::from_json(DOCUMENT, &options_without_errata()).unwrap();
        let raw_429 = json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false});
        assert!(raw.validate_schema("RatelimitedResponse", &raw_429).is_err(), "the document requires code");
        let spec = spec();
        assert_eq!(
            spec.applied_errata(),
            [
                "InnerErrors",
                "RatelimitedResponse",
                "GuildFeatures",
                "CreateRoleRequest",
                "UpdateRoleRequestPartial",
                "ApplicationCommandCreateRequest",
                "ApplicationCommandUpdateRequest",
                "ApplicationCommandPatchRequestPartial",
                "ChannelTypes",
                "GuildChannelResponse",
                "CreateGuildChannelRequest",
                "UpdateGuildChannelRequestPartial",
                "ChannelPermissionOverwriteRequest",
                "ChannelPermissionOverwriteRequest",
                "PUT /channels/{channel_id}/permissions/{overwrite_id}",
                "PUT /channels/{channel_id}/permissions/{overwrite_id}",
                "MessageAttachmentRequest"
            ]
        );
        assert!(spec.skipped_errata().is_empty());
        assert!(spec.validate_schema("RatelimitedResponse", &raw_429).is_ok());
        let twice = Spec::from_json(DOCUMENT, &options().errata(ERRATA)).unwrap();
        assert_eq!(twice.skipped_errata().len(), ERRATA.len(), "applying twice changes nothing");
        let field_error = json!({"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]});
        assert!(spec.validate_schema("InnerErrors", &field_error).is_ok());
        assert!(spec.validate_schema("GuildFeatures", &json!("THREADS_ENABLED")).is_ok());
        assert!(spec.validate_schema("GuildFeatures", &json!(1)).is_err());
    }

    /// Every keyword in the document's schemas is one the validator handles or deliberately ignores,
    /// every `$ref` resolves and every `pattern` is known: a newer document cannot silently weaken the
    /// checks.
    #[test]
    fn the_document_uses_only_supported_schema_features() {
        let spec = spec();
        let problems = spec.unsupported_features();
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(spec.schema_names().count() > 500, "{}", spec.schema_names().count());
    }
}
