//! `POST /api/Role/create` as a use case: the request's headers as text in, checked after the bot's
//! token (the order the route has always answered in), the icon fetched through [`IconSource`], the
//! role created by [`super::roles::create_role`].

use crate::ServerId;
use std::sync::Arc;

use super::{
    BotToken, DiscordBots, DiscordError, Permissions, RoleSpec, Unknown, connect,
    looks::{self, IconSource, LooksError, LooksRequest},
    roles::{self, CreatedRole},
};

/// A role to create, as the request wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleRequest {
    pub looks: LooksRequest,
    /// A permission integer.
    pub permissions: Option<String>,
    pub hoist: Option<String>,
    pub mentionable: Option<String>,
    /// Where to move the new role (checked against the bot's highest role first).
    pub position: Option<i64>,
}

/// Why a role could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoleError {
    /// Discord does not know the guild, or the bot is not in it.
    #[error("Guild not found.")]
    GuildNotFound,
    #[error(transparent)]
    Looks(#[from] LooksError),
    #[error(transparent)]
    Discord(#[from] DiscordError),
}

/// Creates roles with the caller's bot.
#[derive(Clone)]
pub struct RoleService {
    discord: Arc<dyn DiscordBots>,
    icons: Arc<dyn IconSource>,
}

impl std::fmt::Debug for RoleService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleService").finish_non_exhaustive()
    }
}

impl RoleService {
    pub fn new(discord: Arc<dyn DiscordBots>, icons: Arc<dyn IconSource>) -> Self {
        Self { discord, icons }
    }

    /// Creates a role in `guild`: name, solid or gradient colours (gradients only where the guild has
    /// them), permissions, hoist, mentionable, icon, position.
    pub async fn create(
        &self,
        token: &BotToken,
        guild: ServerId,
        request: RoleRequest,
    ) -> Result<CreatedRole, RoleError> {
        let bot = connect(self.discord.as_ref(), token).await?;
        let permissions = request
            .permissions
            .as_deref()
            .map(|v| {
                Permissions::parse(v)
                    .ok_or_else(|| LooksError::Invalid(format!("Permissions: must be a permission integer, got {v:?}")))
            })
            .transpose()?;
        let hoist = request.hoist.as_deref().map(|v| looks::flag("Hoist", v)).transpose()?;
        let mentionable = request.mentionable.as_deref().map(|v| looks::flag("Mentionable", v)).transpose()?;
        let looks = looks::resolve(self.icons.as_ref(), request.looks, None).await?;
        let spec = RoleSpec {
            name: looks.name,
            permissions,
            color: looks.color,
            gradient: looks.gradient,
            hoist,
            mentionable,
            icon: looks.icon,
            reason: None,
        };
        roles::create_role(bot.as_ref(), guild, spec, request.position).await.map_err(|e| match e {
            DiscordError::Unknown(Unknown::Guild) | DiscordError::NotMember => RoleError::GuildNotFound,
            other => other.into(),
        })
    }
}
