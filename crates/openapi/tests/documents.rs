//! Documents as a whole: routes and their matching, operations and their data, request and response
//! bodies, and errata.

#![allow(clippy::unwrap_used)]

use garrison_openapi::{Erratum, Options, Spec, Target};
use serde_json::{Value, json};

fn json_content(schema: Value) -> Value {
    json!({"content": {"application/json": {"schema": schema}}})
}

fn ok(schema: Value) -> Value {
    json!({"200": json_content(schema)})
}

/// A small document with the shapes both simulators' documents have: literal and parameter segments,
/// Google-style custom methods, a prefix, operations with their own `servers`, shared request bodies and
/// responses, and error responses given only as text.
fn document() -> Value {
    json!({
        "openapi": "3.0.4",
        "servers": [{"url": "https://apis.example.com"}],
        "paths": {
            "/users/@me": {"get": {"responses": ok(json!({"$ref": "#/components/schemas/User"}))}},
            "/users/{user_id}": {
                "get": {
                    "operationId": "GetUser",
                    "x-rate-limits": {"perKey": {"period": "MINUTE", "maxInPeriod": 60}},
                    "responses": ok(json!({"$ref": "#/components/schemas/User"}))
                },
                "patch": {
                    "requestBody": {"$ref": "#/components/requestBodies/UserPatch"},
                    "responses": {"204": {"description": "No Content"}, "4XX": {"$ref": "#/components/responses/Error"}}
                }
            },
            "/users/{user_id}:generateThumbnail": {"get": {"operationId": "Thumbnail", "responses": ok(json!({}))}},
            "/groups/{group_id}/join-requests/{id}:accept": {"post": {
                "operationId": "Accept",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": true},
                "responses": {"200": {"description": "OK", "content": {}}}
            }},
            "/v1/usernames/users": {"post": {
                "servers": [{"url": "https://users.example.com"}],
                "requestBody": {"content": {
                    "application/json": {"schema": {"type": "object", "properties": {"usernames": {"type": "array"}}}},
                    "text/json": {"schema": {"type": "object"}}
                }},
                "responses": {
                    "200": json_content(json!({"type": "object"})),
                    "400": {"description": "2: Too many usernames."}
                }
            }},
            "/files/{name}": {"get": {"responses": {"200": {"content": {"image/png": {}}}}}}
        },
        "components": {
            "schemas": {
                "User": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
                "Error": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
            },
            "requestBodies": {"UserPatch": {"required": true, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": false
            }}}}},
            "responses": {"Error": {"description": "An error", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Error"
            }}}}}
        }
    })
}

fn spec() -> Spec {
    Spec::from_json(&document().to_string(), &Options::new().strip_prefix("/api/v2").strip_prefix("/api")).unwrap()
}

#[test]
fn routes_and_operations_are_listed() {
    let spec = spec();
    let mut routes: Vec<(&str, &str)> = spec.routes().collect();
    routes.sort();
    assert_eq!(routes.len(), 7);
    assert!(routes.contains(&("PATCH", "/users/{user_id}")));
    assert!(spec.has_route("get", "/users/{user_id}"), "methods in any case");
    assert!(!spec.has_route("GET", "/users/{id}"), "templates match by their exact spelling");
    assert!(!spec.has_route("DELETE", "/users/{user_id}"));
    let mut names: Vec<&str> = spec.schema_names().collect();
    names.sort();
    assert_eq!(names, ["Error", "User"]);
}

#[test]
fn literal_segments_and_custom_methods_win_over_bare_parameters() {
    let spec = spec();
    assert_eq!(spec.route_for("GET", "/users/@me"), Some("/users/@me"));
    assert_eq!(spec.route_for("PATCH", "/users/@me"), Some("/users/{user_id}"), "@me has no PATCH");
    let matched = spec.match_path("GET", "/users/156").unwrap();
    assert_eq!((matched.template, matched.params.clone()), ("/users/{user_id}", vec![("user_id", "156")]));
    let matched = spec.match_path("GET", "/users/156:generateThumbnail?size=48").unwrap();
    assert_eq!(matched.template, "/users/{user_id}:generateThumbnail");
    assert_eq!(matched.param("user_id"), Some("156"));
    assert_eq!(matched.param("nope"), None);
    let matched = spec.match_path("POST", "/groups/7/join-requests/156:accept").unwrap();
    assert_eq!(matched.params, [("group_id", "7"), ("id", "156")]);
    assert_eq!(spec.route_for("POST", "/groups/7/join-requests/156:decline"), None);
    assert_eq!(spec.route_for("POST", "/groups/7/join-requests/:accept"), None, "the parameter is empty");
    // Operations with their own servers are matched like any other.
    assert_eq!(spec.route_for("POST", "/v1/usernames/users"), Some("/v1/usernames/users"));
}

#[test]
fn prefixes_queries_and_edges() {
    let spec = spec();
    assert_eq!(spec.route_for("GET", "/api/v2/users/1"), Some("/users/{user_id}"));
    assert_eq!(spec.route_for("GET", "/api/users/1"), Some("/users/{user_id}"));
    assert_eq!(spec.route_for("GET", "/apiary/users/1"), None, "prefixes end at a segment boundary");
    assert_eq!(spec.route_for("GET", "/api/v2"), None);
    assert_eq!(spec.route_for("GET", "/users/1?x=1#y"), Some("/users/{user_id}"));
    assert_eq!(spec.route_for("GET", "/users/1/"), None, "trailing slash");
    assert_eq!(spec.route_for("GET", "/users//"), None);
    assert_eq!(spec.route_for("GET", "/users/1/extra"), None);
    assert_eq!(spec.route_for("GET", "users/1"), None);
    assert_eq!(spec.route_for("GET", ""), None);
    let unprefixed = Spec::from_json(&document().to_string(), &Options::new()).unwrap();
    assert_eq!(unprefixed.route_for("GET", "/api/users/1"), None);
}

#[test]
fn operations_expose_their_data() {
    let spec = spec();
    let get = spec.operation("get", "/users/{user_id}").unwrap();
    assert_eq!((get.method(), get.operation_id()), ("GET", Some("GetUser")));
    assert_eq!(get.extension("x-rate-limits").unwrap()["perKey"]["maxInPeriod"], 60);
    assert_eq!(get.extension("x-nope"), None);
    assert_eq!(get.extension("responses"), None, "only extensions");
    assert_eq!(get.servers().count(), 0);
    let lookup = spec.operation("POST", "/v1/usernames/users").unwrap();
    assert_eq!(lookup.operation_id(), None);
    assert_eq!(lookup.servers().collect::<Vec<_>>(), ["https://users.example.com"]);
    assert!(lookup.documents_status(400) && !lookup.documents_status(404));
    assert_eq!(lookup.response_description(400), Some("2: Too many usernames."));
    let patch = spec.operation("PATCH", "/users/{user_id}").unwrap();
    assert_eq!(patch.response_description(404), Some("An error"), "by range, through a shared response");
    assert_eq!(patch.response_description(500), None);
    assert!(spec.operation("GET", "/nope").is_none());
}

#[test]
fn request_bodies() {
    let spec = spec();
    let user = "/users/{user_id}";
    assert!(spec.validate_request("PATCH", user, &json!({"name": "x"})).is_ok(), "a shared request body");
    assert_eq!(
        spec.validate_request("PATCH", user, &json!({"nick": "x"})).unwrap_err(),
        ["/: unexpected property \"nick\""]
    );
    assert!(spec.validate_request("PATCH", user, &Value::Null).is_ok(), "absent, checked as {{}}");
    assert!(spec.validate_request("GET", user, &Value::Null).is_ok());
    assert!(spec.validate_request("GET", user, &json!({})).is_ok());
    assert!(spec.validate_request("GET", user, &json!({"a": 1})).is_err(), "takes no body");
    assert!(spec.validate_request("POST", "/v1/usernames/users", &json!({"usernames": []})).is_ok());
    assert!(spec.validate_request("POST", "/v1/usernames/users", &json!({"usernames": "x"})).is_err());
    assert!(spec.validate_request("POST", "/v1/usernames/users", &Value::Null).is_ok(), "not required");
    assert!(spec.validate_request("GET", "/nope", &Value::Null).unwrap_err()[0].contains("not an operation"));
}

#[test]
fn response_bodies() {
    let spec = spec();
    let user = "/users/{user_id}";
    assert!(spec.validate_response("GET", user, 200, &json!({"id": "1"})).is_ok());
    assert!(spec.validate_response("GET", user, 200, &json!({"id": 1})).is_err());
    assert!(spec.validate_response("GET", user, 404, &json!({"message": "x"})).is_err(), "no 404 documented");
    assert!(spec.validate_response("PATCH", user, 204, &Value::Null).is_ok());
    assert!(spec.validate_response("PATCH", user, 204, &json!({})).is_err());
    assert!(spec.validate_response("PATCH", user, 403, &json!({"message": "x"})).is_ok(), "4XX range");
    assert!(spec.validate_response("PATCH", user, 403, &json!({})).is_err());
    assert!(spec.validate_response("PATCH", user, 500, &json!({"message": "x"})).is_err());
    let accept = "/groups/{group_id}/join-requests/{id}:accept";
    assert!(spec.validate_response("POST", accept, 200, &Value::Null).is_ok());
    assert!(spec.validate_response("POST", accept, 200, &json!({})).unwrap_err()[0].contains("documents no body"));
    assert!(spec.validate_response("GET", "/files/{name}", 200, &Value::Null).is_ok(), "not JSON: not checked");
}

#[test]
fn errata_apply_only_where_their_target_reads_as_expected() {
    fn is_string(value: &Value) -> bool {
        value.get("type") == Some(&json!("string"))
    }
    let nullable_id = Erratum {
        target: Target::Schema("User"),
        pointer: "/properties/id",
        applies: is_string,
        now: r#"{"type": ["string", "null"]}"#,
    };
    let empty_object = Erratum {
        target: Target::Operation("post", "/groups/{group_id}/join-requests/{id}:accept"),
        pointer: "/responses/200/content",
        applies: |content| content.as_object().is_some_and(|c| c.is_empty()),
        now: r#"{"application/json": {"schema": {"type": "object", "additionalProperties": false}}}"#,
    };
    let missing = Erratum { target: Target::Schema("Gone"), pointer: "", applies: |_| true, now: "{}" };
    let broken = Erratum { target: Target::Schema("Error"), pointer: "", applies: |_| true, now: "{not json" };
    let options = Options::new().errata(&[nullable_id, empty_object, nullable_id, missing, broken]);
    let spec = Spec::from_json(&document().to_string(), &options).unwrap();
    assert_eq!(spec.applied_errata(), ["User", "POST /groups/{group_id}/join-requests/{id}:accept"]);
    assert_eq!(spec.skipped_errata(), ["User", "Gone", "Error"], "applying twice changes nothing");
    assert!(spec.validate_schema("User", &json!({"id": null})).is_ok());
    let accept = "/groups/{group_id}/join-requests/{id}:accept";
    assert!(spec.validate_response("POST", accept, 200, &json!({})).is_ok());
    assert!(spec.validate_response("POST", accept, 200, &json!({"x": 1})).is_err());
    assert!(spec.validate_schema("Error", &json!({})).is_err(), "the broken erratum left it alone");
}

#[test]
fn unusable_documents_are_errors() {
    let options = Options::new();
    assert!(Spec::from_json("{", &options).unwrap_err().starts_with("not JSON"));
    assert!(Spec::from_json(r#"{"paths": []}"#, &options).is_err());
    assert!(Spec::from_json(r#"{"paths": {"users": {}}}"#, &options).unwrap_err().contains("does not start with /"));
    assert!(Spec::from_json(r#"{"paths": {"/a/{x}{y}": {}}}"#, &options).unwrap_err().contains("one named parameter"));
    let dangling = json!({"paths": {"/a": {"post": {"requestBody": {"$ref": "#/components/requestBodies/Gone"}}}}});
    assert!(Spec::from_json(&dangling.to_string(), &options).unwrap_err().contains("unresolvable $ref"));
    let empty = Spec::from_json("{}", &options).unwrap();
    assert_eq!(empty.routes().count(), 0);
    assert!(empty.unsupported_features().is_empty());
}
