//! Roblox's JSON, read into the domain's values. Nothing here leaves the crate.

use garrison_core::roblox::{
    GroupRole, JoinRequestPage as Page, Membership, Rank, RobloxAccountInfo, RobloxProfile, RobloxUser, RoleId,
};
use garrison_core::{RobloxUserId, Timestamp};
use serde::Deserialize;

/// The last segment of a resource path (`groups/7/roles/99` → 99) when the path has the expected
/// `collection` before it.
fn id_after(path: &str, collection: &str) -> Option<u64> {
    let mut segments = path.rsplit('/');
    let id = segments.next()?;
    (segments.next()? == collection).then_some(())?;
    id.parse().ok()
}

fn user_of(path: &str) -> Option<RobloxUserId> {
    let id = i64::try_from(id_after(path, "users")?).ok()?;
    (id > 0).then(|| RobloxUserId::from_stored(id))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Group {
    #[serde(default)]
    pub display_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Role {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    display_name: String,
    rank: Option<i64>,
}

impl Role {
    pub(crate) fn into_role(self) -> Option<GroupRole> {
        let id = match (&self.id, &self.path) {
            (Some(id), _) => id.parse().ok()?,
            (None, Some(path)) => id_after(path, "roles")?,
            (None, None) => return None,
        };
        let rank = u8::try_from(self.rank?).ok()?;
        Some(GroupRole { id: RoleId(id), name: self.display_name, rank: Rank(rank) })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RolePage {
    #[serde(default)]
    pub group_roles: Vec<Role>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupMembership {
    #[serde(default)]
    user: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
}

impl GroupMembership {
    /// The membership if it is `user`'s (the filter asked for them; this checks Roblox agreed).
    pub(crate) fn into_membership(self, user: RobloxUserId) -> Option<Membership> {
        (user_of(&self.user)? == user).then_some(())?;
        // `roles` holds every role; `role` only the highest (older answers have only it).
        let paths = self.roles.filter(|r| !r.is_empty()).or_else(|| self.role.map(|r| vec![r]))?;
        let roles = paths.iter().filter_map(|p| id_after(p, "roles")).map(RoleId).collect();
        Some(Membership { user, roles })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MembershipPage {
    #[serde(default)]
    pub group_memberships: Vec<GroupMembership>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinRequest {
    #[serde(default)]
    path: String,
    #[serde(default)]
    user: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinRequestPage {
    #[serde(default)]
    group_join_requests: Vec<JoinRequest>,
    next_page_token: Option<String>,
}

impl JoinRequestPage {
    pub(crate) fn into_page(self) -> Page {
        let requests = self
            .group_join_requests
            .into_iter()
            .filter_map(|r| {
                let id = r.path.rsplit('/').next().filter(|id| !id.is_empty())?.to_owned();
                Some((id, user_of(&r.user)?))
            })
            .collect();
        Page { requests, next: self.next_page_token.filter(|t| !t.is_empty()) }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LegacyUser {
    id: i64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
}

impl LegacyUser {
    pub(crate) fn into_user(self) -> Option<RobloxUser> {
        (self.id > 0).then(|| RobloxUser {
            id: RobloxUserId::from_stored(self.id),
            name: self.name,
            display_name: self.display_name,
        })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LegacyProfile {
    #[serde(flatten)]
    user: LegacyUser,
    #[serde(default)]
    description: String,
}

impl LegacyProfile {
    pub(crate) fn into_profile(self) -> Option<RobloxProfile> {
        Some(RobloxProfile { user: self.user.into_user()?, description: self.description })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct UserList {
    #[serde(default)]
    pub data: Vec<LegacyUser>,
}

/// Open Cloud's `User` (its public fields).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CloudUser {
    #[serde(default)]
    path: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    about: String,
    #[serde(default)]
    create_time: Option<String>,
    #[serde(default)]
    premium: bool,
}

impl CloudUser {
    /// The account, if Roblox answered for the user asked about.
    pub(crate) fn into_account(self, asked: RobloxUserId) -> Option<RobloxAccountInfo> {
        (user_of(&self.path)? == asked).then_some(())?;
        let created = self.create_time.as_deref().and_then(parse_time);
        Some(RobloxAccountInfo {
            user: RobloxUser { id: asked, name: self.name, display_name: self.display_name },
            about: self.about,
            created,
            premium: self.premium,
        })
    }
}

/// An RFC 3339 instant (`2023-07-05T12:34:56Z`, fractions and offsets allowed).
fn parse_time(text: &str) -> Option<Timestamp> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok().map(Timestamp::from_millis)
}

/// A long-running operation of `:generateThumbnail`.
#[derive(Debug, Deserialize)]
pub(crate) struct ThumbnailOperation {
    #[serde(default)]
    done: bool,
    #[serde(default)]
    response: Option<ThumbnailResponse>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThumbnailResponse {
    #[serde(default)]
    image_uri: String,
}

impl ThumbnailOperation {
    /// The image's address once the operation is done and gave one over HTTPS (or HTTP, which only
    /// a stand-in on this machine serves).
    pub(crate) fn image_uri(self) -> Option<String> {
        let uri = self.response.filter(|_| self.done)?.image_uri;
        let lower = uri.to_ascii_lowercase();
        let web = lower.starts_with("https://") || lower.starts_with("http://");
        (web && uri.len() <= 2048 && !uri.chars().any(char::is_control)).then_some(uri)
    }
}

#[derive(Debug, Deserialize)]
struct CloudError {
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct LegacyErrors {
    #[serde(default)]
    errors: Vec<CloudError>,
}

/// The message of an error body, Open Cloud's (`{"code","message"}`) or the legacy APIs'
/// (`{"errors":[{"code","message"}]}`); empty when there is none. Cut to one line of 200 characters.
pub(crate) fn error_message(body: &[u8]) -> String {
    let message = serde_json::from_slice::<CloudError>(body)
        .ok()
        .map(|e| e.message)
        .filter(|m| !m.is_empty())
        .or_else(|| serde_json::from_slice::<LegacyErrors>(body).ok()?.errors.into_iter().next().map(|e| e.message))
        .unwrap_or_default();
    message.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_paths_give_their_ids() {
        assert_eq!(id_after("groups/7/roles/99", "roles"), Some(99));
        assert_eq!(id_after("groups/7/roles/99", "users"), None);
        assert_eq!(id_after("99", "roles"), None);
        assert_eq!(user_of("users/156"), Some(RobloxUserId::from_stored(156)));
        assert_eq!(user_of("users/0"), None);
    }

    #[test]
    fn memberships_prefer_every_role_held() {
        let m: GroupMembership = serde_json::from_str(
            r#"{"path":"groups/7/memberships/MTU2","user":"users/156","role":"groups/7/roles/3","roles":["groups/7/roles/2","groups/7/roles/3"]}"#,
        )
        .expect("json");
        let user = RobloxUserId::from_stored(156);
        assert_eq!(m.into_membership(user).map(|m| m.roles), Some(vec![RoleId(2), RoleId(3)]));
        let old: GroupMembership =
            serde_json::from_str(r#"{"user":"users/156","role":"groups/7/roles/3"}"#).expect("json");
        assert_eq!(old.into_membership(user).map(|m| m.roles), Some(vec![RoleId(3)]));
        let other: GroupMembership =
            serde_json::from_str(r#"{"user":"users/1","role":"groups/7/roles/3"}"#).expect("json");
        assert_eq!(other.into_membership(user), None);
    }

    #[test]
    fn users_and_thumbnails_read_as_open_cloud_sends_them() {
        let user: CloudUser = serde_json::from_str(
            r#"{"path":"users/156","createTime":"2006-02-27T21:06:40.3Z","id":"156","name":"builderman","displayName":"Builderman","about":"Hi","locale":"en-us","premium":true}"#,
        )
        .expect("json");
        let account = user.into_account(RobloxUserId::from_stored(156)).expect("account");
        assert_eq!((account.user.name.as_str(), account.about.as_str(), account.premium), ("builderman", "Hi", true));
        assert_eq!(account.created, Some(Timestamp::from_millis(1_141_074_400_300)));
        let other: CloudUser = serde_json::from_str(r#"{"path":"users/1"}"#).expect("json");
        assert_eq!(other.into_account(RobloxUserId::from_stored(156)), None, "not who was asked about");

        let done: ThumbnailOperation = serde_json::from_str(
            r#"{"path":"users/156/operations/x","done":true,"response":{"@type":"t","imageUri":"https://tr.rbxcdn.com/a/150/150/AvatarHeadshot/Png"}}"#,
        )
        .expect("json");
        assert_eq!(done.image_uri().as_deref(), Some("https://tr.rbxcdn.com/a/150/150/AvatarHeadshot/Png"));
        let pending: ThumbnailOperation =
            serde_json::from_str(r#"{"path":"users/156/operations/x","done":false}"#).expect("json");
        assert_eq!(pending.image_uri(), None);
        let odd: ThumbnailOperation =
            serde_json::from_str(r#"{"done":true,"response":{"imageUri":"javascript:alert(1)"}}"#).expect("json");
        assert_eq!(odd.image_uri(), None, "only web addresses are passed on");
    }

    #[test]
    fn error_messages_come_from_either_shape() {
        assert_eq!(error_message(br#"{"code":"NOT_FOUND","message":"Group not found."}"#), "Group not found.");
        assert_eq!(
            error_message(br#"{"errors":[{"code":3,"message":"The user id is invalid."}]}"#),
            "The user id is invalid."
        );
        assert_eq!(error_message(b"<html>"), "");
    }
}
