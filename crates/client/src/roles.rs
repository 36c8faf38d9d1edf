//! Discord roles (tag `Discord roles`): counts, highest roles, role creation, boosters' own roles,
//! purges and members by role, as the bot whose token is sent.
//!
//! Answers the document describes only in prose are `serde_json::Value`.

use garrison_core::ServerId;
use garrison_core::discord::{BotToken, Snowflake};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::{Call, Client, Operation, Result, ids};

/// A role's looks: name, colours and icon.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleLooks {
    pub name: Option<String>,
    /// `#rrggbb`.
    pub color: Option<String>,
    /// Two or three `#rrggbb` colours (only where the guild has enhanced role colours; elsewhere the
    /// first).
    pub gradient: Vec<String>,
    /// An HTTPS image (the guild needs role icons).
    pub icon_url: Option<String>,
}

impl Call<'_> {
    fn role_looks(self, looks: &RoleLooks) -> Self {
        let gradient = (!looks.gradient.is_empty()).then(|| looks.gradient.join(","));
        self.header_opt("Role-Name", looks.name.as_deref())
            .header_opt("Color", looks.color.as_deref())
            .header_opt("Gradient-Color", gradient)
            .header_opt("Icon-URL", looks.icon_url.as_deref())
    }
}

/// A role for `POST /api/Role/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRole {
    pub looks: RoleLooks,
    /// Discord's permission integer.
    pub permissions: Option<u64>,
    pub hoist: Option<bool>,
    pub mentionable: Option<bool>,
    pub position: Option<i64>,
}

/// Which members `GET /api/RoleMembers/role/{roleIds}` lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleMembersQuery {
    /// Members with every one of the roles, instead of any.
    pub all: bool,
    /// List a member under every matching role, instead of their highest only.
    pub duplications: bool,
}

/// A count written as a JSON string of digits (`"42"`).
struct Count(u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.trim().parse().map(Count).map_err(|_| D::Error::custom(format!("not a count: {text:?}")))
    }
}

/// The Discord role routes: [`Client::roles`].
#[derive(Debug, Clone, Copy)]
pub struct RolesApi<'c>(&'c Client);

impl Client {
    /// The Discord role routes.
    pub fn roles(&self) -> RolesApi<'_> {
        RolesApi(self)
    }
}

impl RolesApi<'_> {
    /// `GET /api/GetRoleCount`: how many members hold a role (counted over all members).
    pub async fn count(&self, bot: &BotToken, server: ServerId, role: Snowflake) -> Result<u64> {
        let count: Count = self
            .0
            .call(Operation::RoleCount)
            .bot_token(bot)
            .query("serverid", server)
            .query("roleid", role)
            .send()
            .await?;
        Ok(count.0)
    }

    /// `GET /api/HighestRole`: the name of a member's highest role (`@everyone` when they have none).
    pub async fn highest(&self, bot: &BotToken, server: ServerId, user: Snowflake) -> Result<String> {
        self.0.call(Operation::HighestRole).bot_token(bot).query("serverid", server).query("userid", user).send().await
    }

    /// `POST /api/Role/create`: creates a role.
    pub async fn create(&self, bot: &BotToken, server: ServerId, role: &NewRole) -> Result<Value> {
        self.0
            .call(Operation::CreateRole)
            .bot_token(bot)
            .header("Guild-ID", server)
            .role_looks(&role.looks)
            .header_opt("Permissions", role.permissions)
            .header_opt("Hoist", role.hoist)
            .header_opt("Mentionable", role.mentionable)
            .header_opt("Position", role.position)
            .send()
            .await
    }

    /// `POST /api/Role/booster/{guildIdStr}/{userIdStr}`: creates a booster's own role (one per
    /// booster) right above the guild's booster role, and gives it to them.
    pub async fn create_booster_role(
        &self,
        bot: &BotToken,
        server: ServerId,
        user: Snowflake,
        looks: &RoleLooks,
    ) -> Result<Value> {
        self.0
            .call(Operation::CreateBoosterRole)
            .bot_token(bot)
            .path("guildIdStr", server)
            .path("userIdStr", user)
            .role_looks(looks)
            .send()
            .await
    }

    /// `PUT /api/Role/booster/{guildIdStr}/{userIdStr}`: edits a booster's own role (never its
    /// rights).
    pub async fn update_booster_role(
        &self,
        bot: &BotToken,
        server: ServerId,
        user: Snowflake,
        role: Snowflake,
        looks: &RoleLooks,
    ) -> Result<Value> {
        self.0
            .call(Operation::UpdateBoosterRole)
            .bot_token(bot)
            .path("guildIdStr", server)
            .path("userIdStr", user)
            .header("Role-ID", role)
            .role_looks(looks)
            .send()
            .await
    }

    /// `DELETE /api/Role/booster/{guildIdStr}/{userIdStr}`: deletes a booster's own role.
    pub async fn delete_booster_role(
        &self,
        bot: &BotToken,
        server: ServerId,
        user: Snowflake,
        role: Snowflake,
    ) -> Result<Value> {
        self.0
            .call(Operation::DeleteBoosterRole)
            .bot_token(bot)
            .path("guildIdStr", server)
            .path("userIdStr", user)
            .header("Role-ID", role)
            .send()
            .await
    }

    /// `POST /api/RoleMemberPurge/purge`: takes a role from up to 50 of its members (call again for the
    /// rest).
    pub async fn purge(&self, bot: &BotToken, role: Snowflake) -> Result<Value> {
        self.0.call(Operation::PurgeRole).bot_token(bot).header("Role-Id", role).send().await
    }

    /// `GET /api/RoleMembers/role/{roleIds}`: the guild's members with any (or all) of the roles,
    /// grouped by role, highest first.
    pub async fn members(
        &self,
        bot: &BotToken,
        server: ServerId,
        roles: &[Snowflake],
        query: RoleMembersQuery,
    ) -> Result<Value> {
        self.0
            .call(Operation::RoleMembers)
            .bot_token(bot)
            .path("roleIds", ids::comma_separated(roles))
            .header("guild-id", server)
            .header_opt("duplications", query.duplications.then_some(true))
            .query("mode", if query.all { "all" } else { "any" })
            .send()
            .await
    }
}
