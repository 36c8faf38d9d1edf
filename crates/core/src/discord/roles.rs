//! Role use cases: creating roles (gradient colours only where the guild has them), emptying a role,
//! and reading ranks and counts. Custom booster roles are `crate::booster`'s.

use super::{
    DiscordBot, DiscordError, Guild, Member, Permissions, RankedMember, Role, RoleSpec, Snowflake, Unknown,
    check_role_manageable,
};
use crate::ServerId;
use crate::Sleeper;

/// Members read per request when a use case walks a guild's member list (Discord's maximum).
pub const MEMBER_PAGE: u16 = 1000;

/// The guild feature that allows gradient role colours.
pub const ENHANCED_ROLE_COLORS: &str = "ENHANCED_ROLE_COLORS";
/// The guild feature that allows role icons.
pub const ROLE_ICONS: &str = "ROLE_ICONS";

/// Keeps gradient colours only for a guild with [`ENHANCED_ROLE_COLORS`]; elsewhere they are dropped
/// and the role gets the solid colour (the one asked for, else the gradient's first). Returns whether
/// the gradient is applied.
pub fn apply_gradient_policy(guild: &Guild, spec: &mut RoleSpec) -> bool {
    let Some(gradient) = spec.gradient.take() else { return false };
    if guild.features.iter().any(|f| f == ENHANCED_ROLE_COLORS) && gradient.len() >= 2 {
        spec.gradient = Some(gradient);
        true
    } else {
        spec.color = spec.color.or(gradient.first().copied());
        false
    }
}

pub(crate) fn check_icon_allowed(guild: &Guild, spec: &RoleSpec) -> Result<(), DiscordError> {
    if spec.icon.is_some() && !guild.features.iter().any(|f| f == ROLE_ICONS) {
        return Err(DiscordError::Rejected(
            "Icon-URL: this server cannot have role icons (Discord's ROLE_ICONS feature, boost level 2)".into(),
        ));
    }
    Ok(())
}

/// A role Garrison created, and whether its gradient was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedRole {
    pub role: Role,
    pub gradient_applied: bool,
}

/// The bot as the role hierarchy sees it in `guild`: its id and the position of its highest role.
async fn ranked_bot(bot: &dyn DiscordBot, guild: ServerId) -> Result<RankedMember, DiscordError> {
    let (roles, member) = futures_util::future::try_join(bot.roles(guild), bot.member(guild, bot.user().id)).await?;
    Ok(ranked(&member, &roles))
}

/// Creates a role (checking the guild first), then moves it to `position` when one is given. A
/// position at or above the bot's highest role is refused before anything is created (Discord would
/// refuse the move and leave the new role at the bottom).
pub async fn create_role(
    bot: &dyn DiscordBot,
    guild: ServerId,
    mut spec: RoleSpec,
    position: Option<i64>,
) -> Result<CreatedRole, DiscordError> {
    let info = bot.guild(guild).await?;
    if let Some(position) = position {
        check_role_manageable(info.owner_id, ranked_bot(bot, guild).await?, position)
            .map_err(DiscordError::Hierarchy)?;
    }
    let gradient_applied = apply_gradient_policy(&info, &mut spec);
    check_icon_allowed(&info, &spec)?;
    let mut role = bot.create_role(guild, spec).await.map_err(|e| e.naming(Permissions::MANAGE_ROLES))?;
    if let Some(position) = position {
        bot.set_role_positions(guild, vec![(role.id, position)])
            .await
            .map_err(|e| e.naming(Permissions::MANAGE_ROLES))?;
        role.position = position;
    }
    Ok(CreatedRole { role, gradient_applied })
}

/// The outcome of a purge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Members holding the role when the purge started.
    pub found: usize,
    /// Members it was taken from by this request (at most the batch size).
    pub removed: usize,
}

/// Members a purge takes the role from per request, as the specification sets it.
pub const PURGE_BATCH: usize = 50;

/// The guild holding `role`, searched through the bot's guilds.
pub async fn guild_of_role(bot: &dyn DiscordBot, role: Snowflake) -> Result<ServerId, DiscordError> {
    let mut after = None;
    loop {
        let page = bot.guilds(after).await?;
        let Some(last) = page.last().map(|g| g.id) else { break };
        for guild in &page {
            let Some(id) = ServerId::from_discord(guild.id) else { continue };
            if bot.roles(id).await?.iter().any(|r| r.id == role) {
                return Ok(id);
            }
        }
        after = Some(last);
    }
    Err(DiscordError::Unknown(Unknown::Role))
}

/// Walks a guild's member list a page of [`MEMBER_PAGE`] at a time, handing each page to `visit`;
/// only one page is held at once. Stops early when `visit` says so (`false`).
pub(crate) async fn each_member_page(
    bot: &dyn DiscordBot,
    guild: ServerId,
    mut visit: impl FnMut(&[Member]) -> bool + Send,
) -> Result<(), DiscordError> {
    let mut after = None;
    loop {
        let page = bot.members(guild, after, MEMBER_PAGE).await?;
        if !visit(&page) {
            return Ok(());
        }
        match page.last() {
            Some(last) if page.len() == usize::from(MEMBER_PAGE) => after = Some(last.user_id),
            _ => return Ok(()),
        }
    }
}

/// How many members of `guild` hold `role` (Discord must know the role), counted page by page so
/// memory stays at one page whatever the guild's size.
pub async fn count_role_members(bot: &dyn DiscordBot, guild: ServerId, role: Snowflake) -> Result<usize, DiscordError> {
    if !bot.roles(guild).await?.iter().any(|r| r.id == role) {
        return Err(DiscordError::Unknown(Unknown::Role));
    }
    let mut count = 0;
    each_member_page(bot, guild, |page| {
        count += page.iter().filter(|m| m.roles.contains(&role)).count();
        true
    })
    .await?;
    Ok(count)
}

/// Takes `role` from up to `batch` of its members (the specification's 50 per request). Discord's
/// rate limits are waited out by the adapter; a removal refused as rate limited anyway is retried up
/// to three times, after `retry_after` (at least 200 ms, doubling).
pub async fn purge_role(
    bot: &dyn DiscordBot,
    role: Snowflake,
    batch: usize,
    sleeper: &dyn Sleeper,
) -> Result<Purged, DiscordError> {
    let guild = guild_of_role(bot, role).await?;
    // Only the first `batch` holders are kept; the rest are counted (memory: one page and one batch).
    let (mut found, mut holders) = (0, Vec::with_capacity(batch.min(usize::from(MEMBER_PAGE))));
    each_member_page(bot, guild, |page| {
        for member in page.iter().filter(|m| m.roles.contains(&role)) {
            found += 1;
            if holders.len() < batch {
                holders.push(member.user_id);
            }
        }
        true
    })
    .await?;
    let mut removed = 0;
    for user in &holders {
        let mut backoff = 200;
        let mut attempt = 0;
        loop {
            match bot.remove_member_role(guild, *user, role, Some("Role purge".into())).await {
                Ok(()) => break,
                Err(DiscordError::RateLimited { retry_after_ms }) if attempt < 3 => {
                    attempt += 1;
                    sleeper.sleep(retry_after_ms.max(backoff)).await;
                    backoff *= 2;
                }
                Err(e) => return Err(e.naming(Permissions::MANAGE_ROLES)),
            }
        }
        removed += 1;
    }
    Ok(Purged { found, removed })
}

/// A member's highest role: the largest position, and of equal positions the older role (the smaller
/// id), as Discord orders them. `None` when they have only @everyone.
pub fn top_role<'a>(member: &Member, roles: &'a [Role]) -> Option<&'a Role> {
    roles.iter().filter(|r| member.roles.contains(&r.id)).max_by_key(|r| (r.position, std::cmp::Reverse(r.id)))
}

/// A member as the role hierarchy sees them: their id and the position of their highest role.
pub fn ranked(member: &Member, roles: &[Role]) -> RankedMember {
    RankedMember::new(member.user_id, roles.iter().filter(|r| member.roles.contains(&r.id)).map(|r| r.position))
}

/// A member's guild-wide permissions: @everyone's and their roles' together; the owner has them all.
pub fn member_permissions(guild: &Guild, roles: &[Role], member: &Member) -> Permissions {
    let everyone = roles.iter().find(|r| r.id == guild.id).map_or(Permissions::NONE, |r| r.permissions);
    let held: Vec<Permissions> = roles.iter().filter(|r| member.roles.contains(&r.id)).map(|r| r.permissions).collect();
    super::base_permissions(member.user_id == guild.owner_id, everyone, &held)
}

/// The name of a member's highest role (`@everyone` when they have none).
pub fn highest_role_name(member: &Member, roles: &[Role]) -> String {
    top_role(member, roles).map_or_else(|| "@everyone".to_owned(), |r| r.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guild(features: &[&str]) -> Guild {
        Guild {
            id: Snowflake::from_raw(1 << 40),
            name: "g".into(),
            owner_id: Snowflake::from_raw(1 << 41),
            icon: None,
            features: features.iter().map(|f| (*f).to_owned()).collect(),
            premium_tier: 2,
            premium_subscription_count: None,
            approximate_member_count: None,
            approximate_presence_count: None,
        }
    }

    #[test]
    fn gradients_only_where_the_guild_has_enhanced_role_colors() {
        let mut spec = RoleSpec { gradient: Some(vec![0xff0000, 0x00ff00]), ..RoleSpec::default() };
        assert!(apply_gradient_policy(&guild(&[ENHANCED_ROLE_COLORS]), &mut spec));
        assert_eq!(spec.gradient.as_deref(), Some([0xff0000, 0x00ff00].as_slice()));

        let mut spec = RoleSpec { gradient: Some(vec![0xff0000, 0x00ff00]), ..RoleSpec::default() };
        assert!(!apply_gradient_policy(&guild(&["ROLE_ICONS"]), &mut spec));
        assert_eq!((spec.gradient, spec.color), (None, Some(0xff0000)), "falls back to the first colour");

        let mut spec =
            RoleSpec { gradient: Some(vec![0xff0000, 0x00ff00]), color: Some(0x123456), ..RoleSpec::default() };
        assert!(!apply_gradient_policy(&guild(&[]), &mut spec));
        assert_eq!(spec.color, Some(0x123456), "an explicit solid colour wins");

        let mut spec = RoleSpec::default();
        assert!(!apply_gradient_policy(&guild(&[ENHANCED_ROLE_COLORS]), &mut spec));
    }

    #[test]
    fn icons_need_the_role_icons_feature() {
        let spec = RoleSpec { icon: Some("data:image/png;base64,AAAA".into()), ..RoleSpec::default() };
        assert!(check_icon_allowed(&guild(&[ROLE_ICONS]), &spec).is_ok());
        assert!(
            matches!(check_icon_allowed(&guild(&[]), &spec), Err(DiscordError::Rejected(m)) if m.starts_with("Icon-URL:"))
        );
    }

    #[test]
    fn the_highest_role_is_the_one_with_the_largest_position() {
        let role = |id: u64, position: i64, name: &str| Role {
            id: Snowflake::from_raw(id << 22),
            name: name.into(),
            position,
            permissions: Permissions::NONE,
            color: 0,
            hoist: false,
            mentionable: false,
            managed: false,
            premium_subscriber: false,
        };
        let roles = [role(1, 3, "Member"), role(2, 8, "Admin"), role(3, 5, "Mod")];
        let member = Member {
            user_id: Snowflake::from_raw(9 << 22),
            username: "u".into(),
            nick: None,
            roles: vec![roles[0].id, roles[2].id],
            premium_since: None,
            communication_disabled_until: None,
        };
        assert_eq!(highest_role_name(&member, &roles), "Mod");
        assert_eq!(highest_role_name(&Member { roles: vec![], ..member }, &roles), "@everyone");
    }
}
