//! The bodies the client sends fit the document: a value of every request-body type, serialized as
//! the client sends it, is valid for its operation's request schema (garrison-openapi's validator),
//! names no property the schema does not declare, and every operation that takes a JSON body has one.

use std::collections::BTreeSet;

use garrison_client::certifications::{CertificationAward, NewCertification};
use garrison_client::discord::InviteQuery;
use garrison_client::ep::{Companies, Company, EpAdd, EpPolicyChange};
use garrison_client::loa::{LoaEnd, LoaStart};
use garrison_client::medals::{MedalAward, NewMedal};
use garrison_client::messages::SmartEdit;
use garrison_client::moderation::BanWithReason;
use garrison_client::roblox::{Bind, Binds, JoinRequestAnswer, RankChange, RobloxSettingsChange, SyncMember};
use garrison_client::streams::{CheckAll, CredentialChange, NewWatch, Platform, StreamKeysChange};
use garrison_client::utilities::{CommonValue, RegexMatch, SplitText};
use garrison_client::verification::{CheckCode, RobloxAccount, StartCode};
use garrison_client::webhooks::NewWebhook;
use garrison_client::xp::XpChange;
use garrison_client::{GroupId, OpenCloudKey, Operation, RobloxUserId, Secret, ServerId, Snowflake};
use garrison_openapi::{Options, Spec};
use serde::Serialize;
use serde_json::Value;

const DOCUMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

fn server() -> ServerId {
    ServerId::parse("serverId", "123456789012345678").expect("a server id")
}

fn member() -> RobloxUserId {
    RobloxUserId::parse("robloxId", "123456789").expect("a Roblox id")
}

fn snowflake(text: &str) -> Snowflake {
    Snowflake::parse("id", text).expect("a snowflake")
}

fn group() -> GroupId {
    GroupId::parse("groupId", "7").expect("a group id")
}

fn body(value: impl Serialize) -> Value {
    serde_json::to_value(value).expect("the body serializes")
}

/// A representative value of every request-body type, with its optional fields set, for each
/// operation that takes it.
fn samples() -> Vec<(Operation, Value)> {
    let xp = body(XpChange::new(server(), member(), 50).reference("event-42").reason("patrol"));
    let loa_end = body(LoaEnd { server_id: server(), roblox_id: member() });
    let medal = body(MedalAward { server_id: server(), roblox_id: member(), medal_name: "Purple Heart".into() });
    let certification = body(CertificationAward { server_id: server(), roblox_id: member(), reference: "AFO".into() });
    let join = body(JoinRequestAnswer { server_id: server(), request_id: "123".into(), group_id: Some(group()) });
    let rank = body(RankChange { server_id: server(), roblox_id: member(), group_id: Some(group()) });
    let edit = body(SmartEdit { target_content_substring: "old text".into(), new_content: "new text".into() });
    let mut policy = EpPolicyChange::new(server());
    policy.period_days = Some(7);
    policy.period_start = Some(345_600_000);
    policy.quota = Some(Companies { main: 10, sub1: 5, sub2: 0, sub3: 1 });
    policy.max_warning_level = Some(3);
    let key = Secret::parse("key", "AIzaSyExample").expect("a key");
    vec![
        (Operation::SetXp, xp.clone()),
        (Operation::AddXp, xp.clone()),
        (Operation::SubtractXp, xp),
        (Operation::AddEp, body(EpAdd { server_id: server(), roblox_id: member(), company: Company::Sub2, amount: 5 })),
        (Operation::PutEpPolicy, body(policy)),
        (Operation::PutEpPolicy, body(EpPolicyChange::new(server()))),
        (Operation::StartLoa, body(LoaStart { server_id: server(), roblox_id: member(), days: 7 })),
        (Operation::EndLoa, loa_end),
        (
            Operation::CreateMedal,
            body(NewMedal { server_id: server(), name: "Purple Heart".into(), description: Some("Wounded".into()) }),
        ),
        (Operation::AwardMedal, medal.clone()),
        (Operation::RevokeMedal, medal),
        (
            Operation::CreateCertification,
            body(NewCertification {
                server_id: server(),
                reference: "AFO".into(),
                name: "Authorised Firearms Officer".into(),
                description: Some("Certified to use firearms in the field".into()),
            }),
        ),
        (Operation::AwardCertification, certification.clone()),
        (Operation::RevokeCertification, certification),
        (
            Operation::CreateWebhook,
            body(NewWebhook {
                server_id: server(),
                url: "https://hooks.example.com/garrison".into(),
                events: vec!["xp.changed".into(), "loa.started".into()],
                description: Some("Our dashboard".into()),
            }),
        ),
        (
            Operation::StartVerificationCode,
            body(StartCode::new(server(), snowflake("223456789012345678"), RobloxAccount::Id(member()))),
        ),
        (
            Operation::StartVerificationCode,
            body(StartCode::new(
                server(),
                snowflake("223456789012345678"),
                RobloxAccount::Username("builderman".into()),
            )),
        ),
        (
            Operation::CheckVerificationCode,
            body(CheckCode { server_id: server(), discord_id: snowflake("223456789012345678") }),
        ),
        (Operation::AcceptJoinRequest, join.clone()),
        (Operation::DenyJoinRequest, join),
        (Operation::Promote, rank.clone()),
        (Operation::Demote, rank),
        (
            Operation::PutRobloxSettings,
            body(RobloxSettingsChange {
                server_id: server(),
                group_id: group(),
                open_cloud_key: OpenCloudKey::parse("openCloudKey", "open-cloud-key-text").expect("a key"),
            }),
        ),
        (
            Operation::PutBinds,
            body(Binds {
                server_id: server(),
                binds: vec![Bind {
                    min_rank: 50,
                    max_rank: 254,
                    role_ids: vec![snowflake("323456789012345678"), snowflake("323456789012345679")],
                }],
            }),
        ),
        (Operation::SyncBinds, body(SyncMember { server_id: server(), discord_id: snowflake("223456789012345678") })),
        (
            Operation::CheckAllStreams,
            body(CheckAll {
                youtube_handle: Some("@MrBeast".into()),
                twitch_user: Some("xqc".into()),
                tik_tok_user: Some("khaby.lame".into()),
            }),
        ),
        (
            Operation::AddWatch,
            body(NewWatch {
                server_id: server(),
                platform: Platform::TikTok,
                user: "xqc".into(),
                channel_id: snowflake("223456789012345678"),
                message: Some("We are live!".into()),
                role_id_to_mention: Some(snowflake("323456789012345678")),
            }),
        ),
        (
            Operation::PutStreamKeys,
            body(StreamKeysChange {
                server_id: server(),
                youtube_api_key: CredentialChange::Set(key),
                twitch_client_id: CredentialChange::Forget,
                twitch_client_secret: CredentialChange::Keep,
            }),
        ),
        (
            Operation::CommonValue,
            body(CommonValue { first: vec!["admin".into(), "mod".into()], second: vec!["mod".into()] }),
        ),
        (Operation::RegexMatch, body(RegexMatch { pattern: "^\\w+$".into(), input: "word".into() })),
        (Operation::SplitText, body(SplitText { text: "Very long text...".into(), chunk_size: Some(1800) })),
        (Operation::QueryInvite, body(InviteQuery { invite_link: "https://discord.gg/E2pce4JTSK".into() })),
        (Operation::BanWithReason, body(BanWithReason { reason: Some("Spam".into()), delete_message_days: Some(1) })),
        (Operation::SmartEdit, edit.clone()),
        (Operation::SmartEditEphemeral, edit),
    ]
}

fn document() -> (Value, Spec) {
    let text = std::fs::read_to_string(DOCUMENT).expect("docs/openapi.json is readable");
    let spec = Spec::from_json(&text, &Options::new()).expect("the document parses");
    (serde_json::from_str(&text).expect("JSON"), spec)
}

/// The schema a `$ref` names, or the schema itself.
fn resolve<'d>(document: &'d Value, schema: &'d Value) -> &'d Value {
    match schema["$ref"].as_str().and_then(|name| name.strip_prefix("#/components/schemas/")) {
        Some(name) => &document["components"]["schemas"][name],
        None => schema,
    }
}

/// Properties of `value` that `schema` does not declare (a misspelled optional field would otherwise
/// pass: most of the document's schemas allow other properties).
fn undeclared(document: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let schema = resolve(document, schema);
    for alternative in schema["oneOf"].as_array().into_iter().chain(schema["anyOf"].as_array()).flatten() {
        if resolve(document, alternative)["properties"].is_object() {
            undeclared(document, alternative, value, at, found);
        }
    }
    match value {
        Value::Object(fields) if schema["properties"].is_object() => {
            for (name, field) in fields {
                match schema["properties"].get(name) {
                    Some(property) => undeclared(document, property, field, &format!("{at}/{name}"), found),
                    None => found.push(format!("{at}/{name}")),
                }
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            for item in items {
                undeclared(document, &schema["items"], item, &format!("{at}/[]"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_request_body_fits_its_schema() {
    let (document, spec) = document();
    assert!(spec.unsupported_features().is_empty(), "the validator checks all of the document");
    for (operation, body) in samples() {
        let method = operation.method();
        if let Err(problems) = spec.validate_request(method.as_str(), operation.path(), &body) {
            panic!("{operation}: {body} does not fit: {problems:?}");
        }
        let schema = &document["paths"][operation.path()][method.as_str().to_ascii_lowercase()]["requestBody"]["content"]
            ["application/json"]["schema"];
        let mut found = Vec::new();
        undeclared(&document, schema, &body, "", &mut found);
        assert!(found.is_empty(), "{operation}: properties the schema does not declare: {found:?}");
    }
}

#[test]
fn every_json_body_of_the_document_has_a_sample() {
    let (document, _) = document();
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if operation["requestBody"]["content"]["application/json"].is_object() {
                documented.insert(format!("{} {path}", method.to_ascii_uppercase()));
            }
        }
    }
    let sampled: BTreeSet<String> = samples().iter().map(|(operation, _)| operation.to_string()).collect();
    assert_eq!(sampled, documented);
}
