//! The validator on small schemas: each keyword of the supported subset, and which problem it reports.

#![allow(clippy::unwrap_used)]

use garrison_openapi::{Options, Spec};
use serde_json::{Value, json};

/// A spec whose component schemas are `schemas` and which has no paths, read with `options`.
fn spec_with_options(schemas: Value, options: &Options) -> Spec {
    let document = json!({ "openapi": "3.1.0", "components": { "schemas": schemas } });
    Spec::from_json(&document.to_string(), options).unwrap()
}

fn spec_with(schemas: Value) -> Spec {
    spec_with_options(schemas, &Options::new())
}

/// Validates `value` against the anonymous schema `schema` (component `T` of a fresh spec).
fn check(schema: Value, value: Value) -> Result<(), Vec<String>> {
    spec_with(json!({ "T": schema })).validate_schema("T", &value)
}

fn errors(schema: Value, value: Value) -> Vec<String> {
    check(schema, value).unwrap_err()
}

#[test]
fn type_single_array_and_nullable() {
    assert!(check(json!({"type": "string"}), json!("a")).is_ok());
    assert_eq!(errors(json!({"type": "string"}), json!(1)), ["/: expected string, got integer"]);
    assert!(check(json!({"type": ["string", "null"]}), json!(null)).is_ok());
    assert!(check(json!({"type": ["string", "null"]}), json!("x")).is_ok());
    assert_eq!(errors(json!({"type": ["string", "null"]}), json!(true)), ["/: expected string or null, got boolean"]);
    assert!(check(json!({"type": "null"}), json!(null)).is_ok());
    assert!(check(json!({"type": "boolean"}), json!(false)).is_ok());
    assert!(check(json!({"type": "object"}), json!([])).is_err());
    assert!(check(json!({"type": "array"}), json!({})).is_err());
}

#[test]
fn integer_and_number() {
    assert!(check(json!({"type": "integer"}), json!(7)).is_ok());
    assert!(check(json!({"type": "integer"}), json!(7.0)).is_ok());
    assert!(check(json!({"type": "integer"}), json!(u64::MAX)).is_ok());
    assert_eq!(errors(json!({"type": "integer"}), json!(7.5)), ["/: expected integer, got number"]);
    assert!(check(json!({"type": "number"}), json!(7.5)).is_ok());
    assert!(check(json!({"type": "number"}), json!(7)).is_ok());
    assert!(check(json!({"type": "number"}), json!("7")).is_err());
}

#[test]
fn properties_required_and_pointers() {
    let schema = json!({
        "type": "object",
        "properties": { "roles": { "type": "array", "items": { "type": "string" } }, "a/b~": { "type": "string" } },
        "required": ["id"]
    });
    let mut found = errors(schema.clone(), json!({"roles": ["1", 2], "a/b~": 3}));
    found.sort();
    assert_eq!(
        found,
        [
            "/: missing required property \"id\"",
            "/a~1b~0: expected string, got integer",
            "/roles/1: expected string, got integer"
        ]
    );
    assert!(check(schema, json!({"id": 1, "roles": [], "extra": true})).is_ok());
}

#[test]
fn additional_properties_false_and_schema() {
    let closed = json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false});
    assert!(check(closed.clone(), json!({"a": 1})).is_ok());
    assert_eq!(errors(closed, json!({"a": 1, "b": 2})), ["/: unexpected property \"b\""]);
    let map = json!({"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "integer"}});
    assert!(check(map.clone(), json!({"a": "declared, not checked", "x": 1})).is_ok());
    assert_eq!(errors(map, json!({"x": "1"})), ["/x: expected integer, got string"]);
}

#[test]
fn array_keywords() {
    let schema =
        json!({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3, "uniqueItems": true});
    assert!(check(schema.clone(), json!([1, 2, 3])).is_ok());
    assert_eq!(errors(schema.clone(), json!([])), ["/: expected at least 1 items, got 0"]);
    assert_eq!(errors(schema.clone(), json!([1, 2, 3, 4])), ["/: expected at most 3 items, got 4"]);
    assert_eq!(errors(schema.clone(), json!([1, 2, 1.0])), ["/: items must be unique, but 0 and 2 are equal"]);
    assert_eq!(errors(schema, json!([1, "2"])), ["/1: expected integer, got string"]);
    assert!(check(json!({"uniqueItems": true}), json!([{"a": [1]}, {"a": [2]}])).is_ok());
    assert!(check(json!({"uniqueItems": true}), json!([{"a": [1]}, {"a": [1]}])).is_err());
}

#[test]
fn object_size_keywords() {
    assert!(check(json!({"maxProperties": 1}), json!({"a": 1})).is_ok());
    assert_eq!(
        errors(json!({"maxProperties": 1}), json!({"a": 1, "b": 2})),
        ["/: expected at most 1 properties, got 2"]
    );
    assert_eq!(errors(json!({"minProperties": 1}), json!({})), ["/: expected at least 1 properties, got 0"]);
    assert!(check(json!({"minProperties": 1}), json!("not an object")).is_ok());
}

#[test]
fn enum_and_const() {
    assert!(check(json!({"enum": ["a", 2]}), json!(2.0)).is_ok());
    assert_eq!(errors(json!({"enum": ["a", 2]}), json!("b")), ["/: expected one of \"a\", 2, got \"b\""]);
    assert!(check(json!({"const": {"k": [1]}}), json!({"k": [1]})).is_ok());
    assert_eq!(errors(json!({"const": 3}), json!(4)), ["/: expected 3, got 4"]);
}

#[test]
fn string_lengths_count_characters() {
    let schema = json!({"type": "string", "minLength": 2, "maxLength": 3});
    assert!(check(schema.clone(), json!("ééé")).is_ok(), "6 bytes, 3 characters");
    assert_eq!(errors(schema.clone(), json!("é")), ["/: expected at least 2 characters, got 1"]);
    assert_eq!(errors(schema, json!("abcd")), ["/: expected at most 3 characters, got 4"]);
    assert!(check(json!({"maxLength": 1}), json!(12345)).is_ok(), "applies to strings only");
}

#[test]
fn numeric_bounds_are_exact_for_integers() {
    let int53 = json!({"type": "integer", "minimum": -9007199254740991_i64, "maximum": 9007199254740991_i64});
    assert!(check(int53.clone(), json!(9007199254740991_i64)).is_ok());
    assert_eq!(
        errors(int53, json!(9007199254740992_i64)),
        ["/: expected a number at most 9007199254740991, got 9007199254740992"]
    );
    assert!(check(json!({"minimum": 0, "maximum": 7}), json!(6.5)).is_ok());
    assert!(check(json!({"minimum": 0}), json!(-0.5)).is_err());
    assert!(check(json!({"exclusiveMaximum": 7}), json!(7)).is_err());
    assert!(check(json!({"exclusiveMinimum": 0}), json!(1)).is_ok());
}

fn is_even_length(text: &str) -> bool {
    text.len().is_multiple_of(2)
}

#[test]
fn formats_are_checked_only_when_configured() {
    let options =
        Options::new().format("even", is_even_length).format("date-time", garrison_openapi::looks_like_date_time);
    let spec = spec_with_options(
        json!({"Even": {"type": "string", "format": "even"}, "When": {"type": "string", "format": "date-time"}}),
        &options,
    );
    assert!(spec.validate_schema("Even", &json!("ab")).is_ok());
    assert_eq!(spec.validate_schema("Even", &json!("abc")).unwrap_err(), ["/: expected a even string, got \"abc\""]);
    assert!(spec.validate_schema("Even", &json!(3)).is_err(), "the type still applies");
    assert!(spec.validate_schema("When", &json!("2024-05-01T12:30:00Z")).is_ok());
    assert!(spec.validate_schema("When", &json!("May 1st")).is_err());
    // Without a check, a format is an annotation.
    assert!(check(json!({"type": "string", "format": "even"}), json!("abc")).is_ok());
    for ignored in ["uri", "int64", "int32", "uuid", "nonce", "double", "date-time"] {
        assert!(check(json!({"format": ignored}), json!("anything")).is_ok(), "{ignored}");
    }
}

#[test]
fn known_patterns_are_checked_by_their_text() {
    const DIGITS: &str = "^[0-9]+$";
    let options = Options::new().pattern(DIGITS, |text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()));
    let spec = spec_with_options(
        json!({
            "Digits": {"type": "string", "pattern": DIGITS},
            "Other": {"type": "string", "pattern": "^x$"},
            "Both": {"type": "string", "format": "even", "pattern": DIGITS},
        }),
        &options.clone().format("even", is_even_length),
    );
    assert!(spec.validate_schema("Digits", &json!("0123")).is_ok());
    assert_eq!(
        spec.validate_schema("Digits", &json!("12a")).unwrap_err(),
        [format!("/: \"12a\" does not match the pattern {DIGITS}")]
    );
    assert!(spec.validate_schema("Other", &json!("unknown patterns are ignored")).is_ok());
    // A value of the wrong format is reported once, not again by the pattern.
    assert_eq!(spec.validate_schema("Both", &json!("abc")).unwrap_err().len(), 1);
    assert_eq!(spec.unsupported_features(), ["Other: unknown pattern ^x$"]);
}

#[test]
fn refs_resolve_and_recurse_with_the_value() {
    let spec = spec_with(json!({
        "Id": {"type": "string"},
        "User": {"type": "object", "properties": {"id": {"$ref": "#/components/schemas/Id"}}, "required": ["id"]},
        "Tree": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Tree"}},
        "Broken": {"$ref": "#/components/schemas/Missing"},
        "Loop": {"$ref": "#/components/schemas/Loop"},
    }));
    assert!(spec.validate_schema("User", &json!({"id": "1"})).is_ok());
    assert_eq!(spec.validate_schema("User", &json!({"id": 1})).unwrap_err(), ["/id: expected string, got integer"]);
    assert!(spec.validate_schema("Tree", &json!({"a": {"b": {"c": {}}}})).is_ok());
    assert_eq!(
        spec.validate_schema("Tree", &json!({"a": {"b": 1}})).unwrap_err(),
        ["/a/b: expected object, got integer"]
    );
    assert!(spec.validate_schema("Broken", &json!(1)).unwrap_err()[0].contains("unresolvable $ref"));
    assert!(spec.validate_schema("Loop", &json!(1)).unwrap_err()[0].contains("too deep"));
    assert!(spec.validate_schema("Nope", &json!(1)).is_err());
    // Ad-hoc schemas may refer to the document's.
    let list = json!({"type": "array", "items": {"$ref": "#/components/schemas/User"}});
    assert!(spec.validate(&list, &json!([{"id": "1"}])).is_ok());
    assert_eq!(spec.validate(&list, &json!([{}])).unwrap_err(), ["/0: missing required property \"id\""]);
}

#[test]
fn one_of_needs_at_least_one_branch() {
    // Overlapping branches both match: accepted (oneOf is checked as anyOf on purpose).
    let loose = json!({"oneOf": [{"type": "object"}, {"type": "object", "required": ["a"]}]});
    assert!(check(loose, json!({"a": 1})).is_ok());
    // Integer enums written as const branches.
    let channel_type = json!({"type": "integer", "oneOf": [{"const": 0}, {"const": 2}]});
    assert!(check(channel_type.clone(), json!(2)).is_ok());
    assert_eq!(errors(channel_type.clone(), json!(5)), ["/: expected 0 or 2, got 5"]);
    assert_eq!(errors(channel_type, json!("0")), ["/: expected integer, got string"]);
    let any = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
    assert!(check(any.clone(), json!(3)).is_ok());
    assert_eq!(errors(any, json!([])), ["/: expected string or integer, got array"]);
}

#[test]
fn nullable_one_of_reports_the_branch_that_fits_the_value() {
    let spec = spec_with(json!({
        "Emoji": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
        "T": {
            "type": "object",
            "properties": {"emoji": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Emoji"}]}}
        },
    }));
    assert!(spec.validate_schema("T", &json!({"emoji": null})).is_ok());
    assert!(spec.validate_schema("T", &json!({"emoji": {"id": "1"}})).is_ok());
    assert_eq!(
        spec.validate_schema("T", &json!({"emoji": {"id": 1}})).unwrap_err(),
        ["/emoji/id: expected string, got integer"]
    );
    assert_eq!(
        spec.validate_schema("T", &json!({"emoji": 1})).unwrap_err(),
        ["/emoji: expected null or object, got integer"]
    );
}

#[test]
fn failed_alternatives_report_the_most_useful_problem() {
    let spec = spec_with(json!({
        "Block": {
            "type": "object",
            "properties": {"type": {"enum": [1]}, "metadata": {"type": "object"}},
            "required": ["type"]
        },
        "Flag": {
            "type": "object",
            "properties": {"type": {"enum": [2]}, "metadata": {"type": "object", "required": ["channel_id"]}},
            "required": ["type", "metadata"]
        },
        "Action": {"oneOf": [{"$ref": "#/components/schemas/Block"}, {"$ref": "#/components/schemas/Flag"}]},
        "Details": {"oneOf": [
            {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Details"}},
            {
                "type": "object",
                "properties": {"_errors": {"type": "array", "items": {"type": "string"}}},
                "required": ["_errors"],
                "additionalProperties": false
            }
        ]},
    }));
    // Every branch rejects the discriminator: list what it could have been.
    assert_eq!(spec.validate_schema("Action", &json!({"type": 9})).unwrap_err(), ["/type: expected 1 or 2, got 9"]);
    // The branch whose discriminator fits explains what else is wrong.
    assert_eq!(
        spec.validate_schema("Action", &json!({"type": 2, "metadata": {}})).unwrap_err(),
        ["/metadata: missing required property \"channel_id\""]
    );
    // Recursive unions: the branch that got deepest into the value wins.
    assert_eq!(
        spec.validate_schema("Details", &json!({"a": {"_errors": [1]}})).unwrap_err(),
        ["/a/_errors/0: expected string, got integer"]
    );
}

#[test]
fn all_of_applies_every_branch() {
    let schema = json!({"allOf": [{"required": ["a"]}, {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}]});
    assert!(check(schema.clone(), json!({"a": 1, "b": true})).is_ok());
    assert_eq!(
        errors(schema, json!({"b": 1})),
        ["/: missing required property \"a\"", "/b: expected boolean, got integer"]
    );
}

#[test]
fn boolean_schemas() {
    assert!(check(json!({"properties": {"a": true}}), json!({"a": 1})).is_ok());
    assert_eq!(errors(json!({"properties": {"a": false}}), json!({"a": 1})), ["/a: no value is allowed here"]);
}

#[test]
fn unsupported_features_are_named() {
    let spec = spec_with(json!({
        "Fine": {
            "type": "object",
            "description": "annotations and extensions are fine",
            "readOnly": true,
            "example": {},
            "x-vendor": 1,
            "properties": {"a": {"type": "string", "format": "uri"}}
        },
        "Old": {"type": "integer", "nullable": true, "exclusiveMinimum": true},
        "Dangling": {"items": {"$ref": "#/components/schemas/Gone"}},
        "Deep": {"oneOf": [{"properties": {"x": {"if": {}}}}]},
    }));
    assert_eq!(
        spec.unsupported_features(),
        [
            "Dangling/items: unresolvable $ref #/components/schemas/Gone",
            "Deep/oneOf/0/properties/x: unsupported keyword if",
            "Old: exclusiveMinimum must be a number, got boolean",
            "Old: unsupported keyword nullable",
        ]
    );
}
