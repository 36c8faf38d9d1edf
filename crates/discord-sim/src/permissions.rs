//! Discord's permission bits and how Discord computes them: base permissions from `@everyone` and a
//! member's roles, channel permissions through overwrites, and the role hierarchy.
//!
//! This is the simulator's own implementation, written from Discord's documentation, so that it can
//! check Garrison's (in `garrison-core`) rather than share its mistakes.

use std::cmp::Reverse;

use crate::time::Timestamp;
use crate::world::GuildState;

/// Allows creation of instant invites.
pub const CREATE_INSTANT_INVITE: u64 = 1 << 0;
/// Allows kicking members.
pub const KICK_MEMBERS: u64 = 1 << 1;
/// Allows banning members.
pub const BAN_MEMBERS: u64 = 1 << 2;
/// Allows all permissions and bypasses channel overwrites.
pub const ADMINISTRATOR: u64 = 1 << 3;
/// Allows management and editing of channels.
pub const MANAGE_CHANNELS: u64 = 1 << 4;
/// Allows management and editing of the guild (and its auto-moderation rules).
pub const MANAGE_GUILD: u64 = 1 << 5;
/// Allows adding reactions.
pub const ADD_REACTIONS: u64 = 1 << 6;
/// Allows viewing the audit log.
pub const VIEW_AUDIT_LOG: u64 = 1 << 7;
/// Allows using priority speaker in a voice channel.
pub const PRIORITY_SPEAKER: u64 = 1 << 8;
/// Allows going live.
pub const STREAM: u64 = 1 << 9;
/// Allows viewing a channel (reading messages in text channels, joining voice channels).
pub const VIEW_CHANNEL: u64 = 1 << 10;
/// Allows sending messages.
pub const SEND_MESSAGES: u64 = 1 << 11;
/// Allows sending text-to-speech messages.
pub const SEND_TTS_MESSAGES: u64 = 1 << 12;
/// Allows deleting and pinning other users' messages.
pub const MANAGE_MESSAGES: u64 = 1 << 13;
/// Links sent will be auto-embedded; required for a bot's own embeds.
pub const EMBED_LINKS: u64 = 1 << 14;
/// Allows uploading files.
pub const ATTACH_FILES: u64 = 1 << 15;
/// Allows reading message history.
pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
/// Allows `@everyone` and `@here` mentions.
pub const MENTION_EVERYONE: u64 = 1 << 17;
/// Allows emoji from other guilds.
pub const USE_EXTERNAL_EMOJIS: u64 = 1 << 18;
/// Allows viewing guild insights.
pub const VIEW_GUILD_INSIGHTS: u64 = 1 << 19;
/// Allows joining a voice channel.
pub const CONNECT: u64 = 1 << 20;
/// Allows speaking in a voice channel.
pub const SPEAK: u64 = 1 << 21;
/// Allows muting members in voice.
pub const MUTE_MEMBERS: u64 = 1 << 22;
/// Allows deafening members in voice.
pub const DEAFEN_MEMBERS: u64 = 1 << 23;
/// Allows moving members between voice channels.
pub const MOVE_MEMBERS: u64 = 1 << 24;
/// Allows voice activity detection.
pub const USE_VAD: u64 = 1 << 25;
/// Allows changing one's own nickname.
pub const CHANGE_NICKNAME: u64 = 1 << 26;
/// Allows changing other members' nicknames.
pub const MANAGE_NICKNAMES: u64 = 1 << 27;
/// Allows managing roles below one's highest role, and channel overwrites.
pub const MANAGE_ROLES: u64 = 1 << 28;
/// Allows managing webhooks.
pub const MANAGE_WEBHOOKS: u64 = 1 << 29;
/// Allows managing emoji, stickers and soundboard sounds.
pub const MANAGE_GUILD_EXPRESSIONS: u64 = 1 << 30;
/// Allows using application commands.
pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
/// Allows requesting to speak in stage channels.
pub const REQUEST_TO_SPEAK: u64 = 1 << 32;
/// Allows managing scheduled events.
pub const MANAGE_EVENTS: u64 = 1 << 33;
/// Allows managing threads.
pub const MANAGE_THREADS: u64 = 1 << 34;
/// Allows creating public threads.
pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
/// Allows creating private threads.
pub const CREATE_PRIVATE_THREADS: u64 = 1 << 36;
/// Allows stickers from other guilds.
pub const USE_EXTERNAL_STICKERS: u64 = 1 << 37;
/// Allows sending messages in threads.
pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
/// Allows using activities.
pub const USE_EMBEDDED_ACTIVITIES: u64 = 1 << 39;
/// Allows timing out members.
pub const MODERATE_MEMBERS: u64 = 1 << 40;
/// Allows viewing role subscription insights.
pub const VIEW_CREATOR_MONETIZATION_ANALYTICS: u64 = 1 << 41;
/// Allows using the soundboard.
pub const USE_SOUNDBOARD: u64 = 1 << 42;
/// Allows creating emoji, stickers and sounds.
pub const CREATE_GUILD_EXPRESSIONS: u64 = 1 << 43;
/// Allows creating scheduled events.
pub const CREATE_EVENTS: u64 = 1 << 44;
/// Allows sounds from other guilds.
pub const USE_EXTERNAL_SOUNDS: u64 = 1 << 45;
/// Allows sending voice messages.
pub const SEND_VOICE_MESSAGES: u64 = 1 << 46;
/// Allows sending polls.
pub const SEND_POLLS: u64 = 1 << 49;
/// Allows user-installed apps to send public responses.
pub const USE_EXTERNAL_APPS: u64 = 1 << 50;
/// Allows pinning and unpinning messages.
pub const PIN_MESSAGES: u64 = 1 << 51;

/// Every permission Discord defines (bits 0 to 51; 47 and 48 are `USE_CLYDE_AI` and
/// `SET_VOICE_CHANNEL_STATUS`, which Discord's default `@everyone` still carries).
pub const ALL: u64 = (1 << 52) - 1;

/// What Discord gives `@everyone` in a new guild (`"2248473465835073"` in Discord's answers).
pub const DEFAULT_EVERYONE: u64 = 2_248_473_465_835_073;

/// Permissions a timed-out member keeps.
const KEPT_WHILE_TIMED_OUT: u64 = VIEW_CHANNEL | READ_MESSAGE_HISTORY;

/// Permissions that depend on being able to send messages.
const NEED_SEND: u64 = MENTION_EVERYONE | SEND_TTS_MESSAGES | ATTACH_FILES | EMBED_LINKS;

/// Where a role stands in the hierarchy: higher position first, then the older (lower id) role.
pub(crate) type Rank = (i32, Reverse<u64>);

/// A role's rank.
pub(crate) fn role_rank(position: i32, id: u64) -> Rank {
    (position, Reverse(id))
}

/// The rank of a member's highest role (`@everyone` if it has none); `None` for a non-member.
pub(crate) fn top_rank(guild: &GuildState, user: u64) -> Option<Rank> {
    let member = guild.members.get(&user)?;
    let everyone = role_rank(0, guild.info.id);
    Some(
        member
            .roles
            .iter()
            .filter_map(|id| guild.roles.get(id))
            .map(|role| role_rank(role.position, role.id))
            .fold(everyone, std::cmp::max),
    )
}

/// Whether `actor` outranks `target` the way Discord requires for kicks, bans, timeouts and nicknames:
/// the owner outranks everyone, nobody outranks the owner, otherwise the actor's highest role must be
/// strictly above the target's.
pub(crate) fn outranks(guild: &GuildState, actor: u64, target: u64) -> bool {
    if target == guild.info.owner_id {
        return false;
    }
    if actor == guild.info.owner_id {
        return true;
    }
    match (top_rank(guild, actor), top_rank(guild, target)) {
        (Some(actor), Some(target)) => actor > target,
        // A user who is not a member has no roles.
        (Some(actor), None) => actor > role_rank(0, guild.info.id),
        _ => false,
    }
}

/// Whether `actor` may manage (assign, edit, move, delete) `role`: it must be below the actor's
/// highest role, unless the actor owns the guild.
pub(crate) fn can_manage_role(guild: &GuildState, actor: u64, role: u64) -> bool {
    if actor == guild.info.owner_id {
        return true;
    }
    let Some(role) = guild.roles.get(&role) else { return false };
    top_rank(guild, actor).is_some_and(|top| role_rank(role.position, role.id) < top)
}

/// Whether a member is timed out at `now`.
pub(crate) fn is_timed_out(guild: &GuildState, user: u64, now: Timestamp) -> bool {
    guild.members.get(&user).and_then(|m| m.communication_disabled_until).is_some_and(|until| until > now)
}

/// A member's guild-wide permissions: `ALL` for the owner and administrators, otherwise `@everyone`
/// and the member's roles, reduced to viewing while timed out. Zero for a non-member.
pub(crate) fn guild_permissions(guild: &GuildState, user: u64, now: Timestamp) -> u64 {
    if user == guild.info.owner_id {
        return ALL;
    }
    let Some(member) = guild.members.get(&user) else { return 0 };
    let mut permissions = guild.roles.get(&guild.info.id).map_or(0, |everyone| everyone.permissions);
    for role in member.roles.iter().filter_map(|id| guild.roles.get(id)) {
        permissions |= role.permissions;
    }
    if permissions & ADMINISTRATOR != 0 {
        return ALL;
    }
    if is_timed_out(guild, user, now) {
        permissions &= KEPT_WHILE_TIMED_OUT;
    }
    permissions
}

/// A member's permissions in a guild channel: the guild permissions, then the channel's `@everyone`
/// overwrite, the member's roles' overwrites together, and the member's own overwrite, each denying
/// before allowing. Without `VIEW_CHANNEL` nothing is left; without `SEND_MESSAGES` the permissions
/// that depend on it go too.
pub(crate) fn channel_permissions(
    guild: &GuildState,
    overwrites: &[crate::world::Overwrite],
    user: u64,
    now: Timestamp,
) -> u64 {
    let base = guild_permissions(guild, user, now);
    if base == ALL {
        return ALL;
    }
    let Some(member) = guild.members.get(&user) else { return 0 };
    let mut permissions = base;
    if let Some(everyone) = overwrites.iter().find(|o| o.kind == 0 && o.id == guild.info.id) {
        permissions = (permissions & !everyone.deny) | everyone.allow;
    }
    let (mut allow, mut deny) = (0, 0);
    for overwrite in overwrites.iter().filter(|o| o.kind == 0 && member.roles.contains(&o.id)) {
        allow |= overwrite.allow;
        deny |= overwrite.deny;
    }
    permissions = (permissions & !deny) | allow;
    if let Some(own) = overwrites.iter().find(|o| o.kind == 1 && o.id == user) {
        permissions = (permissions & !own.deny) | own.allow;
    }
    if is_timed_out(guild, user, now) {
        permissions &= KEPT_WHILE_TIMED_OUT;
    }
    if permissions & VIEW_CHANNEL == 0 {
        return 0;
    }
    if permissions & SEND_MESSAGES == 0 {
        permissions &= !NEED_SEND;
    }
    permissions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_covers_every_named_bit() {
        for bit in [CREATE_INSTANT_INVITE, SEND_VOICE_MESSAGES, SEND_POLLS, USE_EXTERNAL_APPS, PIN_MESSAGES] {
            assert_eq!(ALL & bit, bit);
        }
        assert_eq!(ALL >> 52, 0);
        assert_eq!(DEFAULT_EVERYONE & !ALL, 0, "the default is made of known bits");
        for bit in [VIEW_CHANNEL, SEND_MESSAGES, READ_MESSAGE_HISTORY, EMBED_LINKS] {
            assert_ne!(DEFAULT_EVERYONE & bit, 0);
        }
        for bit in [ADMINISTRATOR, BAN_MEMBERS, KICK_MEMBERS, MANAGE_ROLES, MODERATE_MEMBERS] {
            assert_eq!(DEFAULT_EVERYONE & bit, 0);
        }
    }
}
