//! The adapter against the Roblox simulator: its limits agree with Roblox's document, and what it
//! sends and reads is what Roblox's document describes.

use garrison_core::RobloxUserId;
use garrison_core::roblox::{GroupId, OpenCloudKey, RobloxCloudUsers, RobloxError, RobloxGroups, RobloxUsers};
use garrison_roblox::{Operation, RobloxBudget, RobloxClient, RobloxEndpoints};
use garrison_roblox_sim::{Simulator, World};

/// Every operation's per-key limit and scope are the ones Roblox publishes in its OpenAPI document.
#[test]
fn the_limits_are_robloxs_published_ones() {
    let spec = garrison_roblox_sim::spec::spec();
    for operation in Operation::ALL {
        let (method, template) = spec
            .routes()
            .find(|(m, t)| spec.operation(m, t).and_then(|o| o.operation_id()) == Some(operation.id()))
            .unwrap_or_else(|| panic!("{} is in Roblox's document", operation.id()));
        let op = spec.operation(method, template).expect("operation");
        let limit = &op.extension("x-roblox-rate-limits").expect("limits")["perApiKeyOwner"];
        assert_eq!(limit["period"], "MINUTE", "{}", operation.id());
        assert_eq!(limit["maxInPeriod"].as_u64(), Some(operation.per_minute() as u64), "{}", operation.id());
        if operation.scope() == "none" {
            // Public information: the scopes listed only widen the answer; none is required.
            let required = &op.extension("x-roblox-docs").expect("docs")["methodProperties"]["scopes"];
            assert_eq!(required.as_array().map(Vec::len), Some(0), "{}", operation.id());
        } else if let Some(scopes) = op.extension("x-roblox-scopes").and_then(|s| s.as_array()) {
            let names: Vec<&str> = scopes.iter().filter_map(|s| s["name"].as_str()).collect();
            assert!(names.contains(&operation.scope()), "{}: {names:?}", operation.id());
        }
    }
}

fn client(sim: &Simulator) -> RobloxClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let base = sim.base_url();
    RobloxClient::new(RobloxEndpoints { api_url: base.clone(), users_url: base }, RobloxBudget::default())
        .expect("client")
}

#[tokio::test]
async fn the_adapter_reads_groups_members_and_users_as_roblox_sends_them() {
    let (world, demo) = World::demo();
    let sim = Simulator::start(world);
    let roblox = client(&sim);
    let key = OpenCloudKey::parse("key", &demo.write_key).expect("key");
    let group = GroupId::new(demo.group).expect("group");
    let roles = roblox.roles(&key, group).await.expect("roles");
    let ranks: Vec<u8> = roles.iter().map(|r| r.rank.0).collect();
    assert_eq!(ranks, [0, 1, 10, 50, 100, 254, 255], "every page, ordered by rank");
    assert_eq!(roblox.group_name(&key, group).await.expect("group"), "Garrison Demo Regiment");
    let captain = RobloxUserId::from_stored(i64::try_from(demo.captain).expect("id"));
    let membership = roblox.membership(&key, group, captain).await.expect("membership").expect("a member");
    assert_eq!(membership.roles.iter().map(|r| r.0).collect::<Vec<_>>(), [demo.captain_role]);
    let outsider = RobloxUserId::from_stored(i64::try_from(demo.outsider).expect("id"));
    assert_eq!(roblox.membership(&key, group, outsider).await.expect("membership"), None);
    let page = roblox.join_requests(&key, group, None, 2).await.expect("page");
    assert_eq!(page.requests.len(), 2);
    let rest = roblox.join_requests(&key, group, page.next, 20).await.expect("rest");
    assert_eq!((rest.requests.len(), rest.next), (1, None));

    let found = roblox.by_username("CAPTAINCASEY").await.expect("lookup").expect("found");
    assert_eq!((found.id, found.name.as_str()), (captain, "CaptainCasey"));
    assert_eq!(roblox.by_username("no such name!").await.expect("lookup"), None, "never sent");
    let profile = roblox.profile(outsider).await.expect("profile").expect("exists");
    assert_eq!(profile.user.id, outsider);
    assert_eq!(roblox.profile(RobloxUserId::from_stored(9)).await.expect("profile"), None);

    let wrong = OpenCloudKey::parse("key", "not-a-key-roblox-issued").expect("key");
    assert_eq!(roblox.roles(&wrong, group).await, Err(RobloxError::KeyRejected));
    let read_only = OpenCloudKey::parse("key", &demo.read_key).expect("key");
    let refused = roblox.set_role(&read_only, group, captain, garrison_core::roblox::RoleId(demo.major_role)).await;
    assert_eq!(refused, Err(RobloxError::MissingScope { scope: "group:write" }));
    let violations = sim.spec_violations();
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn the_adapter_reads_open_cloud_users_and_their_headshots() {
    let (world, demo) = World::demo();
    let sim = Simulator::start(world);
    let roblox = client(&sim);
    let key = OpenCloudKey::parse("key", &demo.read_key).expect("key");
    let captain = RobloxUserId::from_stored(i64::try_from(demo.captain).expect("id"));
    let account = roblox.account(&key, captain).await.expect("account").expect("exists");
    assert_eq!((account.user.id, account.user.name.as_str()), (captain, "CaptainCasey"));
    assert!(account.created.is_some(), "Roblox says when the account was made");
    assert_eq!(roblox.account(&key, RobloxUserId::from_stored(9)).await.expect("answer"), None);

    let url = roblox.headshot(&key, captain, 150).await.expect("headshot").expect("made");
    let http = reqwest::Client::builder().no_proxy().build().expect("client");
    let image = http.get(&url).send().await.expect("fetched");
    assert_eq!(image.headers()["content-type"], "image/png");
    let bytes = image.bytes().await.expect("bytes");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a real PNG");
    assert!(matches!(roblox.headshot(&key, captain, 64).await, Err(RobloxError::Refused(_))), "never sent");
    assert_eq!(roblox.headshot(&key, RobloxUserId::from_stored(9), 150).await, Err(RobloxError::NotFound("user")));
    let wrong = OpenCloudKey::parse("key", "not-a-key-roblox-issued").expect("key");
    assert_eq!(roblox.account(&wrong, captain).await, Err(RobloxError::KeyRejected));
    let violations = sim.spec_violations();
    assert!(violations.is_empty(), "{violations:#?}");
}
