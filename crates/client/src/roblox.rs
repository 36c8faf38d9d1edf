//! The Roblox half (tag `Roblox groups`): ranks, join requests, promotions, accounts, the server's
//! Roblox settings, and rank binds (Discord roles by Roblox rank).

use garrison_core::roblox::{GroupId, OpenCloudKey};
use garrison_core::{RobloxUserId, ServerId, discord::Snowflake};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::verification::RobloxAccount;
use crate::{Client, Operation, Result, ids};

/// A member's rank in a group.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Rank {
    #[serde(deserialize_with = "ids::id")]
    pub group_id: GroupId,
    /// `Guest` for a user who is not a member.
    pub rank_name: String,
    /// 0 for a user who is not a member, 255 for the owner.
    pub rank_id: u8,
}

/// A Roblox user's public account and headshot.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RobloxUser {
    #[serde(deserialize_with = "ids::id")]
    pub roblox_id: RobloxUserId,
    pub username: String,
    pub display_name: String,
    /// The profile's About text.
    pub about: String,
    /// When the account was made (RFC 3339), when Roblox says.
    pub created_at: Option<String>,
    pub premium: bool,
    /// The round PNG headshot; `None` while Roblox is still making it.
    pub headshot_url: Option<String>,
    pub profile_url: String,
}

/// A pending request to join a group.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct JoinRequest {
    /// What [`RobloxApi::accept_request`] and [`RobloxApi::deny_request`] take.
    pub id: String,
    pub user: JoinRequestUser,
}

/// Who asked to join.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JoinRequestUser {
    #[serde(deserialize_with = "ids::id")]
    pub user_id: RobloxUserId,
    pub display_name: String,
}

/// Up to 100 pending join requests, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct JoinRequests {
    #[serde(rename = "data")]
    pub requests: Vec<JoinRequest>,
    /// Pass as `cursor` for the requests after these; `None` after the last.
    #[serde(default)]
    pub next: Option<String>,
}

/// The body of `POST /api/group/accept-request` and `/deny-request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinRequestAnswer {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    /// A request's [`JoinRequest::id`].
    pub request_id: String,
    /// The server's main group when `None`.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ids::text_opt")]
    pub group_id: Option<GroupId>,
}

/// The body of `POST /api/group/promote` and `/demote`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RankChange {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    #[serde(serialize_with = "ids::text")]
    pub roblox_id: RobloxUserId,
    /// The server's main group when `None`.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ids::text_opt")]
    pub group_id: Option<GroupId>,
}

/// The role a promotion or demotion gave.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct GroupRole {
    pub name: String,
    pub rank: u8,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RankChanged {
    new_role: GroupRole,
}

/// The body of `PUT /api/server/roblox`. Its `Debug` never shows the key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RobloxSettingsChange {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    /// The server's main group.
    #[serde(serialize_with = "ids::text")]
    pub group_id: GroupId,
    /// An Open Cloud key with the group's `group:read` (and, to change ranks and answer join requests,
    /// `group:write`) scopes; kept sealed, never answered.
    #[serde(serialize_with = "open_cloud_key")]
    pub open_cloud_key: OpenCloudKey,
}

fn open_cloud_key<S: serde::Serializer>(key: &OpenCloudKey, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(key.expose())
}

/// A server's Roblox settings (never the key).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RobloxSettings {
    #[serde(deserialize_with = "ids::id")]
    pub server_id: ServerId,
    /// The main group, when one is configured.
    #[serde(default, deserialize_with = "ids::id_opt")]
    pub group_id: Option<GroupId>,
    pub key_set: bool,
    /// A live check of the key with Roblox, when one is set.
    #[serde(default)]
    pub key: Option<KeyStatus>,
}

/// What Roblox said of the server's key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct KeyStatus {
    /// `accepted`, `refused` or `unknown` (Roblox could not be asked).
    pub status: String,
    pub group_name: Option<String>,
    /// `group:read`, `group:write`.
    pub scopes: Vec<String>,
    pub reason: Option<String>,
}

/// A rank bind: the Discord roles members with a rank in `min_rank..=max_rank` of the main group get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bind {
    /// 0 to 255.
    pub min_rank: u8,
    /// 0 to 255, at least `min_rank`.
    pub max_rank: u8,
    /// 1 to 10 roles.
    #[serde(serialize_with = "ids::texts", deserialize_with = "ids::ids")]
    pub role_ids: Vec<Snowflake>,
}

/// The body of `PUT /api/binds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Binds {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    /// Every bind of the server (at most 50): they replace the ones it had.
    pub binds: Vec<Bind>,
}

#[derive(Deserialize)]
struct BindList {
    binds: Vec<Bind>,
}

/// The body of `POST /api/binds/sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncMember {
    #[serde(serialize_with = "ids::text")]
    pub server_id: ServerId,
    /// The Discord member to sync.
    #[serde(serialize_with = "ids::text")]
    pub discord_id: Snowflake,
}

/// What a sync changed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SyncReport {
    /// The member's linked account; `None` when they are not verified (then every bound role is taken
    /// away).
    #[serde(default, deserialize_with = "ids::id_opt")]
    pub roblox_id: Option<RobloxUserId>,
    #[serde(default)]
    pub rank: Option<SyncRank>,
    /// Roles given, in id order.
    #[serde(deserialize_with = "ids::ids")]
    pub added: Vec<Snowflake>,
    /// Roles taken away, in id order.
    #[serde(deserialize_with = "ids::ids")]
    pub removed: Vec<Snowflake>,
}

/// The rank a sync found.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SyncRank {
    #[serde(deserialize_with = "ids::id")]
    pub group_id: GroupId,
    pub name: String,
    pub rank: u8,
}

/// The Roblox routes: [`Client::roblox`].
#[derive(Debug, Clone, Copy)]
pub struct RobloxApi<'c>(&'c Client);

impl Client {
    /// The Roblox routes.
    pub fn roblox(&self) -> RobloxApi<'_> {
        RobloxApi(self)
    }
}

impl RobloxApi<'_> {
    /// `GET /api/rank`: a member's rank in the group (the server's main group when `group` is `None`).
    pub async fn rank(&self, server: ServerId, member: RobloxUserId, group: Option<GroupId>) -> Result<Rank> {
        self.0
            .call(Operation::Rank)
            .query("serverId", server)
            .query("robloxId", member)
            .query_opt("groupId", group)
            .send()
            .await
    }

    /// `GET /api/roblox/user`: an account and its headshot (`size` in pixels: 48, 50, 60, 75, 100,
    /// 110, 150 (default), 180, 352, 420 or 720), read with the server's Open Cloud key.
    pub async fn user(&self, server: ServerId, account: &RobloxAccount, size: Option<u32>) -> Result<RobloxUser> {
        let call = self.0.call(Operation::RobloxUser).query("serverId", server).query_opt("size", size);
        let call = match account {
            RobloxAccount::Id(id) => call.query("robloxId", id),
            RobloxAccount::Username(name) => call.query("username", name),
        };
        call.send().await
    }

    /// `GET /api/group/join-requests`: pending requests, up to 100 a call (`cursor`: the previous
    /// answer's `next`).
    pub async fn join_requests(
        &self,
        server: ServerId,
        group: Option<GroupId>,
        cursor: Option<&str>,
    ) -> Result<JoinRequests> {
        self.0
            .call(Operation::JoinRequests)
            .query("serverId", server)
            .query_opt("groupId", group)
            .query_opt("cursor", cursor)
            .send()
            .await
    }

    /// `POST /api/group/accept-request`: the user joins with the group's lowest role.
    pub async fn accept_request(&self, request: &JoinRequestAnswer) -> Result<()> {
        let _: IgnoredAny = self.0.call(Operation::AcceptJoinRequest).json(request).send().await?;
        Ok(())
    }

    /// `POST /api/group/deny-request`: declines the request.
    pub async fn deny_request(&self, request: &JoinRequestAnswer) -> Result<()> {
        let _: IgnoredAny = self.0.call(Operation::DenyJoinRequest).json(request).send().await?;
        Ok(())
    }

    /// `POST /api/group/promote`: the next role up (never to the owner's rank); the role given.
    pub async fn promote(&self, change: &RankChange) -> Result<GroupRole> {
        let changed: RankChanged = self.0.call(Operation::Promote).json(change).send().await?;
        Ok(changed.new_role)
    }

    /// `POST /api/group/demote`: the next role down (never to guest); the role given.
    pub async fn demote(&self, change: &RankChange) -> Result<GroupRole> {
        let changed: RankChanged = self.0.call(Operation::Demote).json(change).send().await?;
        Ok(changed.new_role)
    }

    /// `GET /api/server/roblox`: the server's main group and whether a key is set, checked live.
    pub async fn settings(&self, server: ServerId) -> Result<RobloxSettings> {
        self.0.call(Operation::GetRobloxSettings).query("serverId", server).send().await
    }

    /// `PUT /api/server/roblox`: sets the main group and Open Cloud key (read-write API keys only);
    /// Roblox is asked first whether the key may read the group.
    pub async fn set_settings(&self, settings: &RobloxSettingsChange) -> Result<RobloxSettings> {
        self.0.call(Operation::PutRobloxSettings).json(settings).send().await
    }

    /// `GET /api/binds`: the server's rank binds.
    pub async fn binds(&self, server: ServerId) -> Result<Vec<Bind>> {
        let list: BindList = self.0.call(Operation::GetBinds).query("serverId", server).send().await?;
        Ok(list.binds)
    }

    /// `PUT /api/binds`: replaces the server's rank binds.
    pub async fn set_binds(&self, binds: &Binds) -> Result<Vec<Bind>> {
        let list: BindList = self.0.call(Operation::PutBinds).json(binds).send().await?;
        Ok(list.binds)
    }

    /// `POST /api/binds/sync`: gives a member the bound roles of their rank and takes away the others,
    /// through the server's own bot.
    pub async fn sync(&self, member: &SyncMember) -> Result<SyncReport> {
        self.0.call(Operation::SyncBinds).json(member).send().await
    }
}
