//! The route table is the server's: every operation of `docs/openapi.json` is in [`OPERATIONS`] and
//! nothing else is, and what the table says of each (bot-token header, `Idempotency-Key`, API key)
//! is what the document says.

use std::collections::BTreeSet;

use garrison_client::{OPERATIONS, Operation};
use garrison_openapi::{Options, Spec};
use serde_json::Value;

const DOCUMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

fn document() -> Value {
    let text = std::fs::read_to_string(DOCUMENT).expect("docs/openapi.json is readable");
    serde_json::from_str(&text).expect("docs/openapi.json is JSON")
}

fn operation_of(document: &Value, operation: Operation) -> &Value {
    &document["paths"][operation.path()][operation.method().as_str().to_ascii_lowercase()]
}

/// The header parameters of an operation, as the document spells them.
fn headers(operation: &Value) -> Vec<&str> {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|parameter| parameter["in"] == "header")
        .filter_map(|parameter| parameter["name"].as_str())
        .collect()
}

#[test]
fn the_route_table_is_the_documents() {
    let text = std::fs::read_to_string(DOCUMENT).expect("docs/openapi.json is readable");
    let spec = Spec::from_json(&text, &Options::new()).expect("the document parses");
    let documented: BTreeSet<(String, String)> =
        spec.routes().map(|(method, path)| (method.to_owned(), path.to_owned())).collect();
    let table: BTreeSet<(String, String)> =
        OPERATIONS.iter().map(|(method, path)| ((*method).to_owned(), (*path).to_owned())).collect();
    let missing: Vec<_> = documented.difference(&table).collect();
    let extra: Vec<_> = table.difference(&documented).collect();
    assert!(missing.is_empty(), "operations the server serves that the client lacks: {missing:?}");
    assert!(extra.is_empty(), "operations in the client that the document does not have: {extra:?}");
    assert_eq!(table.len(), OPERATIONS.len(), "an operation is listed twice");
}

#[test]
fn every_operation_is_its_table_entry() {
    assert_eq!(Operation::ALL.len(), OPERATIONS.len());
    for (operation, (method, path)) in Operation::ALL.iter().zip(OPERATIONS) {
        assert_eq!((operation.method().as_str(), operation.path()), (*method, *path), "{operation:?}");
        assert_eq!(operation.to_string(), format!("{method} {path}"));
    }
}

#[test]
fn bot_tokens_go_in_the_header_each_route_names() {
    let document = document();
    for &operation in Operation::ALL {
        let documented: Vec<&str> = headers(operation_of(&document, operation))
            .into_iter()
            .filter(|name| {
                let name = name.to_ascii_lowercase();
                name.ends_with("bot-token") || name == "discord-token"
            })
            .collect();
        assert_eq!(operation.bot_token_header().into_iter().collect::<Vec<_>>(), documented, "{operation}");
    }
}

#[test]
fn idempotency_keys_are_taken_where_the_document_says() {
    let document = document();
    for &operation in Operation::ALL {
        let documented = headers(operation_of(&document, operation)).contains(&"Idempotency-Key");
        assert_eq!(operation.takes_idempotency_key(), documented, "{operation}");
    }
}

#[test]
fn the_api_key_goes_where_the_document_asks_for_it() {
    let document = document();
    assert!(document["security"].as_array().is_some_and(|schemes| !schemes.is_empty()), "a global requirement");
    for &operation in Operation::ALL {
        // An operation's own `security: [{}]` lifts the document's requirement.
        let lifted = operation_of(&document, operation)["security"]
            .as_array()
            .is_some_and(|requirements| requirements.iter().all(|r| r.as_object().is_some_and(|r| r.is_empty())));
        assert_eq!(operation.takes_api_key(), !lifted, "{operation}");
    }
}
