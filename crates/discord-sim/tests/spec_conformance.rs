//! The simulator against Discord's own OpenAPI document: every route it serves is one Discord documents,
//! and realistic Discord JSON passes the validator while broken variants of it do not (so the validator
//! is not vacuous).

#![allow(clippy::unwrap_used)]

use garrison_discord_sim::spec::spec;
use serde_json::{Value, json};

#[test]
fn every_simulated_route_is_documented() {
    let spec = spec();
    let missing: Vec<String> = garrison_discord_sim::ROUTES
        .iter()
        .filter(|(method, template)| !spec.has_route(method, template))
        .map(|(method, template)| format!("{method} {template}"))
        .collect();
    assert!(missing.is_empty(), "routes the simulator serves but Discord does not document: {missing:#?}");
    for (method, template) in garrison_discord_sim::ROUTES {
        // A concrete path built from the template routes back to it.
        let concrete = template
            .split('/')
            .map(|segment| if segment.starts_with('{') { "80351110224678912" } else { segment })
            .collect::<Vec<_>>()
            .join("/");
        assert_eq!(spec.route_for(method, &concrete), Some(*template), "{method} {concrete}");
    }
}

fn user() -> Value {
    json!({
        "id": "80351110224678912",
        "username": "nelly",
        "avatar": "8342729096ea3675442027381ff50dfe",
        "discriminator": "0",
        "public_flags": 64,
        "flags": 64,
        "bot": false,
        "banner": "06c16474723fe537c283b8efa61a30c8",
        "accent_color": 16711680,
        "global_name": "Nelly",
        "avatar_decoration_data": null,
        "collectibles": null,
        "primary_guild": null
    })
}

/// `GET /users/@me` adds private fields to the user.
fn current_user() -> Value {
    let mut me = user();
    me["bot"] = json!(true);
    me["mfa_enabled"] = json!(true);
    me["locale"] = json!("en-US");
    me["premium_type"] = json!(0);
    me
}

fn everyone_role() -> Value {
    json!({
        "id": "41771983423143937",
        "name": "@everyone",
        "permissions": "2222085186637376",
        "position": 0,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "managed": false,
        "mentionable": false,
        "icon": null,
        "unicode_emoji": null,
        "flags": 0
    })
}

fn bot_role() -> Value {
    json!({
        "id": "41771983423143936",
        "name": "Garrison",
        "permissions": "1099511627775",
        "position": 3,
        "color": 3447003,
        "colors": {"primary_color": 3447003, "secondary_color": null, "tertiary_color": null},
        "hoist": true,
        "managed": true,
        "mentionable": false,
        "icon": null,
        "unicode_emoji": null,
        "flags": 0,
        "tags": {"bot_id": "175928847299117063"}
    })
}

fn guild() -> Value {
    // Parsed from text: the object is too big for one `json!` within the default recursion limit.
    let mut guild: Value = serde_json::from_str(
        r#"{
        "id": "197038439483310086",
        "name": "Discord Testers",
        "icon": "f64c482b807da4f539cff778d174971c",
        "description": "The official place to report Discord Bugs!",
        "home_header": null,
        "splash": null,
        "discovery_splash": null,
        "features": ["ANIMATED_ICON", "COMMUNITY", "NEWS", "ROLE_ICONS", "THREADS_ENABLED"],
        "banner": "9b6439a7de04f1d26af92f84ac9e1e4a",
        "owner_id": "73193882359173120",
        "application_id": null,
        "region": "us-west",
        "afk_channel_id": null,
        "afk_timeout": 300,
        "system_channel_id": "197038439483310086",
        "system_channel_flags": 0,
        "widget_enabled": true,
        "widget_channel_id": null,
        "verification_level": 3,
        "roles": [],
        "default_message_notifications": 1,
        "mfa_level": 1,
        "explicit_content_filter": 2,
        "max_presences": null,
        "max_members": 250000,
        "max_stage_video_channel_users": 50,
        "max_video_channel_users": 25,
        "vanity_url_code": "discord-testers",
        "premium_tier": 3,
        "premium_subscription_count": 33,
        "preferred_locale": "en-US",
        "rules_channel_id": "441688182833020939",
        "safety_alerts_channel_id": null,
        "public_updates_channel_id": "281283303326089216",
        "premium_progress_bar_enabled": false,
        "nsfw": false,
        "nsfw_level": 0,
        "emojis": [{
            "id": "41771983429993937",
            "name": "LUL",
            "roles": [],
            "require_colons": true,
            "managed": false,
            "animated": false,
            "available": true
        }],
        "stickers": [],
        "incidents_data": null
    }"#,
    )
    .unwrap();
    guild["roles"] = json!([everyone_role(), bot_role()]);
    guild
}

fn member() -> Value {
    json!({
        "avatar": null,
        "banner": null,
        "communication_disabled_until": null,
        "flags": 0,
        "joined_at": "2015-04-26T06:26:56.936000+00:00",
        "nick": "NOT API SUPPORT",
        "pending": false,
        "premium_since": null,
        "roles": ["41771983423143936"],
        "user": user(),
        "mute": false,
        "deaf": false
    })
}

fn channel() -> Value {
    json!({
        "id": "41771983423143937",
        "type": 0,
        "last_message_id": "155117677105512449",
        "flags": 0,
        "guild_id": "197038439483310086",
        "name": "general",
        "parent_id": "399942396007890945",
        "rate_limit_per_user": 2,
        "topic": "24/7 chat about how to gank Mike #2",
        "position": 6,
        "permission_overwrites": [
            {"id": "197038439483310086", "type": 0, "allow": "0", "deny": "2048"},
            {"id": "80351110224678912", "type": 1, "allow": "2048", "deny": "0"}
        ],
        "nsfw": false
    })
}

fn message() -> Value {
    json!({
        "type": 0,
        "content": "Moderation notice for <@80351110224678912>",
        "mentions": [user()],
        "mention_roles": [],
        "attachments": [],
        "embeds": [{
            "type": "rich",
            "title": "Member timed out",
            "description": "Repeated spam in #general",
            "color": 15548997,
            "timestamp": "2024-05-01T12:00:00.000000+00:00",
            "fields": [
                {"name": "Duration", "value": "1 hour", "inline": true},
                {"name": "Moderator", "value": "<@73193882359173120>", "inline": true}
            ],
            "footer": {"text": "Garrison"}
        }],
        "timestamp": "2024-05-01T12:00:00.123000+00:00",
        "edited_timestamp": null,
        "flags": 0,
        "components": [{
            "type": 1,
            "id": 1,
            "components": [
                {"type": 2, "id": 2, "style": 1, "label": "Appeal", "custom_id": "appeal:80351110224678912"},
                {"type": 2, "id": 3, "style": 5, "label": "Rules", "url": "https://discord.com/guidelines"}
            ]
        }],
        "id": "334385199974967042",
        "channel_id": "41771983423143937",
        "author": user(),
        "pinned": false,
        "mention_everyone": false,
        "tts": false,
        "nonce": "1234567890123456789"
    })
}

fn ban() -> Value {
    json!({"user": user(), "reason": "mentioning b1nzy"})
}

fn invite() -> Value {
    json!({
        "type": 0,
        "code": "0vCdhLbwjZZTWZLD",
        "inviter": user(),
        "max_age": 86400,
        "created_at": "2024-05-01T12:00:00.000000+00:00",
        "expires_at": "2024-05-02T12:00:00+00:00",
        "flags": 0,
        "guild": {
            "id": "197038439483310086",
            "name": "Discord Testers",
            "splash": null,
            "banner": null,
            "description": null,
            "icon": "f64c482b807da4f539cff778d174971c",
            "features": ["COMMUNITY", "NEWS"],
            "verification_level": 3,
            "vanity_url_code": null,
            "nsfw_level": 0,
            "nsfw": false,
            "premium_subscription_count": 33
        },
        "guild_id": "197038439483310086",
        "channel": {"id": "165176875973476352", "type": 0, "name": "illuminati"},
        "uses": 0,
        "max_uses": 0,
        "temporary": false,
        "approximate_member_count": 84,
        "approximate_presence_count": 41
    })
}

fn automod_rule() -> Value {
    json!({
        "id": "969707018069872670",
        "guild_id": "613425648685547541",
        "creator_id": "423457898095789043",
        "name": "Keyword Filter 1",
        "event_type": 1,
        "actions": [
            {"type": 1, "metadata": {"custom_message": "Please keep financial discussions limited to #finance"}},
            {"type": 2, "metadata": {"channel_id": "123456789123456789"}},
            {"type": 3, "metadata": {"duration_seconds": 60}}
        ],
        "trigger_type": 1,
        "enabled": true,
        "exempt_roles": ["323456789123456789", "423456789123456789"],
        "exempt_channels": ["523456789123456789"],
        "trigger_metadata": {
            "keyword_filter": ["cat*", "*dog", "*ana*", "i like c++"],
            "regex_patterns": ["(b|c)at", "^(?:[0-9]{1,3}\\.){3}[0-9]{1,3}$"],
            "allow_list": ["catapult", "catch it"]
        }
    })
}

fn missing_permissions() -> Value {
    json!({"message": "Missing Permissions", "code": 50013})
}

fn invalid_form_body() -> Value {
    json!({
        "message": "Invalid Form Body",
        "code": 50035,
        "errors": {
            "name": {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]},
            "roles": {"0": {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": "Value \"x\" is not snowflake."}]}}
        }
    })
}

fn rate_limited() -> Value {
    json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false})
}

fn samples() -> Vec<(&'static str, Value)> {
    vec![
        ("UserResponse", user()),
        ("GuildResponse", guild()),
        ("GuildRoleResponse", everyone_role()),
        ("GuildRoleResponse", bot_role()),
        ("GuildMemberResponse", member()),
        ("GuildChannelResponse", channel()),
        ("MessageResponse", message()),
        ("GuildBanResponse", ban()),
        ("GuildInviteResponse", invite()),
        ("KeywordRuleResponse", automod_rule()),
        ("ErrorResponse", missing_permissions()),
        ("ErrorResponse", invalid_form_body()),
        ("RatelimitedResponse", rate_limited()),
    ]
}

#[test]
fn realistic_discord_bodies_validate_against_their_schemas() {
    let spec = spec();
    for (schema, sample) in samples() {
        if let Err(errors) = spec.validate_schema(schema, &sample) {
            panic!("{schema} rejected a realistic body: {errors:#?}");
        }
    }
}

#[test]
fn realistic_discord_bodies_validate_as_responses_of_their_operations() {
    let spec = spec();
    let cases = [
        ("GET", "/users/{user_id}", 200, user()),
        ("GET", "/users/@me", 200, current_user()),
        ("POST", "/guilds/{guild_id}/roles", 200, bot_role()),
        ("PATCH", "/guilds/{guild_id}/roles", 200, json!([everyone_role(), bot_role()])),
        ("GET", "/guilds/{guild_id}/members/{user_id}", 200, member()),
        ("GET", "/guilds/{guild_id}/members", 200, json!([member()])),
        ("GET", "/channels/{channel_id}", 200, channel()),
        ("POST", "/guilds/{guild_id}/channels", 201, channel()),
        ("POST", "/channels/{channel_id}/messages", 200, message()),
        ("GET", "/guilds/{guild_id}/bans/{user_id}", 200, ban()),
        ("GET", "/guilds/{guild_id}/bans", 200, json!([ban()])),
        ("PUT", "/guilds/{guild_id}/bans/{user_id}", 204, Value::Null),
        ("GET", "/invites/{code}", 200, invite()),
        ("POST", "/channels/{channel_id}/invites", 200, invite()),
        ("GET", "/guilds/{guild_id}/auto-moderation/rules/{rule_id}", 200, automod_rule()),
        ("PUT", "/guilds/{guild_id}/bans/{user_id}", 403, missing_permissions()),
        ("PATCH", "/guilds/{guild_id}/members/{user_id}", 400, invalid_form_body()),
        ("PATCH", "/guilds/{guild_id}/members/{user_id}", 429, rate_limited()),
    ];
    for (method, template, status, body) in cases {
        if let Err(errors) = spec.validate_response(method, template, status, &body) {
            panic!("{method} {template} {status} rejected a realistic body: {errors:#?}");
        }
    }
}

#[test]
fn realistic_requests_validate() {
    let spec = spec();
    let cases = [
        ("PUT", "/guilds/{guild_id}/bans/{user_id}", json!({"delete_message_seconds": 3600})),
        (
            "PATCH",
            "/guilds/{guild_id}/members/{user_id}",
            json!({"communication_disabled_until": "2024-05-01T13:00:00Z"}),
        ),
        ("PATCH", "/guilds/{guild_id}/members/{user_id}", json!({"nick": "Nelly", "roles": ["41771983423143936"]})),
        (
            "POST",
            "/guilds/{guild_id}/roles",
            json!({"name": "Moderator", "permissions": 8, "color": 3447003, "hoist": true}),
        ),
        ("PATCH", "/guilds/{guild_id}/roles", json!([{"id": "41771983423143936", "position": 2}])),
        (
            "POST",
            "/guilds/{guild_id}/channels",
            json!({"name": "mod-log", "type": 0, "parent_id": "399942396007890945"}),
        ),
        (
            "POST",
            "/channels/{channel_id}/messages",
            json!({
                "content": "hello",
                "embeds": [{"title": "Hi", "color": 5793266}],
                "allowed_mentions": {"parse": []}
            }),
        ),
        ("POST", "/channels/{channel_id}/invites", json!({"max_age": 86400, "max_uses": 1, "unique": true})),
    ];
    for (method, template, body) in cases {
        if let Err(errors) = spec.validate_request(method, template, &body) {
            panic!("{method} {template} rejected a realistic request: {errors:#?}");
        }
    }
}

/// Applies `edit` to a copy of `sample` and expects `schema` to reject it with an error mentioning `needle`.
fn assert_rejected(schema: &str, sample: &Value, edit: impl FnOnce(&mut Value), needle: &str) {
    let mut broken = sample.clone();
    edit(&mut broken);
    match spec().validate_schema(schema, &broken) {
        Ok(()) => panic!("{schema} accepted a broken body: {broken:#}"),
        Err(errors) => assert!(errors.iter().any(|e| e.contains(needle)), "{schema}: {needle:?} not in {errors:#?}"),
    }
}

fn set(pointer: &'static str, value: Value) -> impl FnOnce(&mut Value) {
    move |body| *body.pointer_mut(pointer).unwrap() = value
}

fn remove(pointer: &'static str, key: &'static str) -> impl FnOnce(&mut Value) {
    move |body| {
        body.pointer_mut(pointer).unwrap().as_object_mut().unwrap().remove(key).unwrap();
    }
}

#[test]
fn broken_variants_are_rejected() {
    // Snowflakes as numbers.
    assert_rejected(
        "UserResponse",
        &user(),
        set("/id", json!(80351110224678912_u64)),
        "/id: expected string, got integer",
    );
    assert_rejected(
        "GuildMemberResponse",
        &member(),
        set("/roles/0", json!(41771983423143936_u64)),
        "/roles/0: expected string",
    );
    assert_rejected("GuildBanResponse", &ban(), set("/user/id", json!(1)), "/user/id: expected string, got integer");
    assert_rejected("MessageResponse", &message(), set("/author/id", json!(1)), "/author/id");
    // Not-a-snowflake strings.
    assert_rejected("GuildResponse", &guild(), set("/owner_id", json!("nelly")), "/owner_id: expected a snowflake");
    assert_rejected("GuildChannelResponse", &channel(), set("/parent_id", json!("-1")), "/parent_id");
    // Missing required fields.
    assert_rejected("UserResponse", &user(), remove("", "username"), "missing required property \"username\"");
    assert_rejected("GuildResponse", &guild(), remove("", "roles"), "missing required property \"roles\"");
    assert_rejected("GuildRoleResponse", &bot_role(), remove("", "permissions"), "\"permissions\"");
    assert_rejected("GuildMemberResponse", &member(), remove("", "joined_at"), "\"joined_at\"");
    assert_rejected("GuildChannelResponse", &channel(), remove("", "guild_id"), "\"guild_id\"");
    assert_rejected("MessageResponse", &message(), remove("/embeds/0/fields/0", "inline"), "/embeds/0/fields/0");
    assert_rejected("GuildBanResponse", &ban(), remove("", "reason"), "\"reason\"");
    assert_rejected("GuildInviteResponse", &invite(), remove("", "code"), "\"code\"");
    assert_rejected("KeywordRuleResponse", &automod_rule(), remove("/trigger_metadata", "allow_list"), "allow_list");
    assert_rejected("ErrorResponse", &missing_permissions(), remove("", "code"), "\"code\"");
    assert_rejected("RatelimitedResponse", &rate_limited(), remove("", "retry_after"), "\"retry_after\"");
    // Wrong types, enum values and formats.
    assert_rejected("GuildRoleResponse", &bot_role(), set("/permissions", json!(8)), "/permissions: expected string");
    assert_rejected("GuildChannelResponse", &channel(), set("/type", json!(99)), "/type: expected");
    assert_rejected("GuildResponse", &guild(), set("/afk_timeout", json!(301)), "/afk_timeout");
    assert_rejected("GuildResponse", &guild(), set("/preferred_locale", json!("xx-XX")), "/preferred_locale");
    assert_rejected("GuildMemberResponse", &member(), set("/joined_at", json!("yesterday")), "/joined_at");
    assert_rejected("GuildInviteResponse", &invite(), set("/approximate_member_count", json!("84")), "approximate");
    assert_rejected("MessageResponse", &message(), set("/embeds/0/color", json!("#ed4245")), "/embeds/0/color");
    assert_rejected("MessageResponse", &message(), set("/components/0/components", json!("none")), "/components/0");
    assert_rejected("ErrorResponse", &missing_permissions(), set("/code", json!("50013")), "/code");
    assert_rejected(
        "ErrorResponse",
        &invalid_form_body(),
        set("/errors/name/_errors/0", json!({"message": "This field is required"})),
        "/errors/name",
    );
    assert_rejected("RatelimitedResponse", &rate_limited(), set("/global", json!("false")), "/global");
    // Not only the schema checks: operations reject bodies of the wrong shape and statuses they lack.
    let spec = spec();
    assert!(spec.validate_response("GET", "/guilds/{guild_id}/bans/{user_id}", 200, &user()).is_err());
    assert!(spec.validate_response("PUT", "/guilds/{guild_id}/bans/{user_id}", 204, &ban()).is_err());
    assert!(spec.validate_response("GET", "/users/{user_id}", 500, &missing_permissions()).is_err());
    // Union responses (oneOf over invite kinds, channel kinds, automod rule kinds) still reject breakage.
    let mut no_code = invite();
    no_code.as_object_mut().unwrap().remove("code");
    assert!(spec.validate_response("GET", "/invites/{code}", 200, &no_code).is_err());
    let mut numeric_id = channel();
    numeric_id["id"] = json!(41771983423143937_u64);
    assert!(spec.validate_response("GET", "/channels/{channel_id}", 200, &numeric_id).is_err());
    let mut bad_action = automod_rule();
    bad_action["actions"][0]["type"] = json!(9);
    assert!(
        spec.validate_response("GET", "/guilds/{guild_id}/auto-moderation/rules/{rule_id}", 200, &bad_action).is_err()
    );
    assert!(spec.validate_request("POST", "/guilds/{guild_id}/roles", &json!({"color": 16777216})).is_err());
    assert!(spec.validate_request("POST", "/guilds/{guild_id}/channels", &json!({"type": 0})).is_err());
    assert!(
        spec.validate_request("PUT", "/guilds/{guild_id}/bans/{user_id}", &json!({"delete_message_days": 8})).is_err()
    );
}

/// Discord's documented example of `GET /oauth2/@me` (topics/oauth2), with the fields the document
/// also requires of an application (`type`, `flags`, `flags_new`).
fn authorization() -> Value {
    json!({
        "application": {
            "id": "159799960412356608",
            "name": "AIRHORN SOLUTIONS",
            "icon": "f03590d3eb764081d154a66340ea7d6d",
            "description": "",
            "type": null,
            "hook": true,
            "bot_public": true,
            "bot_require_code_grant": false,
            "verify_key": "c8cde6a3c8c6e49d86af3191287b3ce255872be1fff6dc285bdb420c06a2c3c8",
            "flags": 0,
            "flags_new": "0"
        },
        "scopes": ["guilds.join", "identify"],
        "expires": "2021-01-23T02:33:17.017000+00:00",
        "user": user()
    })
}

#[test]
fn oauth2_bodies_are_checked_too() {
    let spec = spec();
    assert!(spec.validate_response("GET", "/oauth2/@me", 200, &authorization()).is_ok());
    let mut unknown_scope = authorization();
    unknown_scope["scopes"] = json!(["identify", "everything"]);
    assert!(spec.validate_response("GET", "/oauth2/@me", 200, &unknown_scope).is_err());
    let mut no_application = authorization();
    no_application.as_object_mut().unwrap().remove("application");
    assert!(spec.validate_response("GET", "/oauth2/@me", 200, &no_application).is_err());
    let partial_guild = json!({
        "id": "41771983423143937", "name": "Test", "icon": null, "banner": null, "owner": false,
        "permissions": "2222085186637376", "features": ["COMMUNITY"]
    });
    let guilds = "/users/@me/guilds";
    assert!(spec.validate_response("GET", guilds, 200, &json!([partial_guild.clone()])).is_ok());
    let mut numeric = partial_guild;
    numeric["permissions"] = json!(8);
    assert!(spec.validate_response("GET", guilds, 200, &json!([numeric])).is_err());
    let member_route = "/users/@me/guilds/{guild_id}/member";
    assert!(spec.validate_response("GET", member_route, 200, &member()).is_ok());
    assert!(spec.validate_response("GET", member_route, 200, &user()).is_err());
    let mut me = current_user();
    me.as_object_mut().unwrap().remove("bot");
    assert!(spec.validate_response("GET", "/users/@me", 200, &me).is_ok(), "no email without the email scope");
    me["email"] = json!("nelly@example.com");
    me["verified"] = json!(true);
    assert!(spec.validate_response("GET", "/users/@me", 200, &me).is_ok());
    me["email"] = json!(1);
    assert!(spec.validate_response("GET", "/users/@me", 200, &me).is_err());
}
