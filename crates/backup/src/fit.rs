//! Fitting a backup to the guild it is restored into. What the target guild's features or boost level
//! do not allow is left out, or made into the nearest thing the guild allows, so that a migration into a
//! smaller guild restores everything else instead of failing on each such object. Each rule applied is
//! named in [`Fitted::left_out`] ("Left out: ..." or "Adapted: ..."):
//!
//! - without `ROLE_ICONS` (boost level 2): roles' icons and Unicode emojis are left out;
//! - without `ENHANCED_ROLE_COLORS`: gradients are left out (each role keeps its colour);
//! - without `NEWS` or `COMMUNITY`: announcement channels become text channels;
//! - without `COMMUNITY`: stage channels become voice channels, media channels forum channels, and
//!   onboarding is left out;
//! - voice bitrates above the boost level's (96, 128, 256 or 384 kbps; 384 with `VIP_REGIONS`) and
//!   stage bitrates above 64 kbps are lowered to it.
//!
//! The target's features are read from it ([`GuildSettings::features`], [`GuildSettings::premium_tier`]);
//! fitting the same backup to the same guild always gives the same result.

use crate::format::{Backup, GuildSettings};

/// A backup made to fit a guild, and what was changed for it (one line per rule applied).
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The backup as the guild can hold it.
    pub backup: Backup,
    /// "Left out: ..." lines, for the dry run and the report.
    pub left_out: Vec<String>,
}

const TEXT: u8 = 0;
const VOICE: u8 = 2;
const ANNOUNCEMENT: u8 = 5;
const STAGE: u8 = 13;
const FORUM: u8 = 15;
const MEDIA: u8 = 16;

/// The most a stage channel's bitrate may be.
const STAGE_BITRATE: u32 = 64_000;

/// The most a voice channel's bitrate may be in `guild`.
fn voice_bitrate(guild: &GuildSettings) -> u32 {
    if guild.has("VIP_REGIONS") {
        return 384_000;
    }
    match guild.premium_tier {
        0 => 96_000,
        1 => 128_000,
        2 => 256_000,
        _ => 384_000,
    }
}

/// `n` things, for a line.
fn many(n: usize, one: &str, more: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {more}") }
}

/// The backup as `target` can hold it.
pub fn fit(backup: &Backup, target: &GuildSettings) -> Fitted {
    let mut out = backup.clone();
    let mut left_out = Vec::new();

    if !target.has("ROLE_ICONS") {
        let with_icons = out.roles.iter_mut().filter(|r| r.icon.is_some() || r.unicode_emoji.is_some());
        let mut n = 0;
        for role in with_icons {
            (role.icon, role.unicode_emoji) = (None, None);
            n += 1;
        }
        if n > 0 {
            let roles = many(n, "role's icon", "roles' icons");
            left_out.push(format!("Left out: {roles} (the guild lacks ROLE_ICONS, boost level 2)"));
        }
    }
    if !target.has("ENHANCED_ROLE_COLORS") {
        let n = out.roles.iter_mut().filter_map(|r| r.colors.take()).count();
        if n > 0 {
            let roles = many(n, "role's gradient", "roles' gradients");
            left_out.push(format!("Left out: {roles}; each keeps its colour (the guild lacks ENHANCED_ROLE_COLORS)"));
        }
    }
    let community = target.has("COMMUNITY");
    let mut changed = |(from, from_name): (u8, &str), (to, to_name): (u8, &str), lacks: &str| {
        let n = out.channels.iter_mut().filter(|c| c.kind == from).map(|c| c.kind = to).count();
        if n > 0 {
            let made = if n == 1 {
                format!("1 {from_name} channel made a {to_name} channel")
            } else {
                format!("{n} {from_name} channels made {to_name} channels")
            };
            left_out.push(format!("Adapted: {made} (the guild lacks {lacks})"));
        }
    };
    if !community && !target.has("NEWS") {
        changed((ANNOUNCEMENT, "announcement"), (TEXT, "text"), "NEWS and COMMUNITY");
    }
    if !community {
        changed((STAGE, "stage"), (VOICE, "voice"), "COMMUNITY");
        changed((MEDIA, "media"), (FORUM, "forum"), "COMMUNITY");
        if out.onboarding.take().is_some() {
            left_out.push("Left out: onboarding (the guild lacks COMMUNITY)".to_owned());
        }
    }
    let (voice, mut lowered) = (voice_bitrate(target), 0);
    for channel in &mut out.channels {
        let most = match channel.kind {
            VOICE => voice,
            STAGE => STAGE_BITRATE,
            _ => continue,
        };
        if let Some(bitrate) = channel.bitrate.as_mut().filter(|b| **b > most) {
            *bitrate = most;
            lowered += 1;
        }
    }
    if lowered > 0 {
        let channels = many(lowered, "channel's bitrate", "channels' bitrates");
        left_out.push(format!("Adapted: {channels} lowered to the most the guild's boost level allows"));
    }
    Fitted { backup: out, left_out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Channel, Onboarding, Role, RoleColors};

    fn backup() -> Backup {
        Backup {
            roles: vec![
                Role { name: "Icon".into(), unicode_emoji: Some("⭐".into()), ..Role::default() },
                Role {
                    name: "Gradient".into(),
                    colors: Some(RoleColors { primary: 1, secondary: Some(2), tertiary: None }),
                    ..Role::default()
                },
            ],
            channels: vec![
                Channel { kind: ANNOUNCEMENT, name: "news".into(), ..Channel::default() },
                Channel { kind: STAGE, name: "stage".into(), bitrate: Some(64_000), ..Channel::default() },
                Channel { kind: MEDIA, name: "art".into(), ..Channel::default() },
                Channel { kind: VOICE, name: "hifi".into(), bitrate: Some(256_000), ..Channel::default() },
            ],
            onboarding: Some(Onboarding::default()),
            ..Backup::default()
        }
    }

    #[test]
    fn a_guild_with_everything_takes_the_backup_as_it_is() {
        let target = GuildSettings {
            features: ["COMMUNITY", "ROLE_ICONS", "ENHANCED_ROLE_COLORS"].map(String::from).to_vec(),
            premium_tier: 2,
            ..GuildSettings::default()
        };
        assert_eq!(fit(&backup(), &target), Fitted { backup: backup(), left_out: Vec::new() });
    }

    #[test]
    fn a_plain_guild_gets_the_nearest_it_allows_and_says_so() {
        let fitted = fit(&backup(), &GuildSettings::default());
        let b = &fitted.backup;
        assert_eq!((b.roles[0].unicode_emoji.as_deref(), b.roles[1].colors), (None, None));
        let kinds: Vec<u8> = b.channels.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [TEXT, VOICE, FORUM, VOICE]);
        assert_eq!(b.channels[3].bitrate, Some(96_000));
        assert_eq!(b.channels[1].bitrate, Some(64_000), "a stage's bitrate fits a voice channel at level 0");
        assert_eq!(b.onboarding, None);
        assert_eq!(
            fitted.left_out,
            [
                "Left out: 1 role's icon (the guild lacks ROLE_ICONS, boost level 2)",
                "Left out: 1 role's gradient; each keeps its colour (the guild lacks ENHANCED_ROLE_COLORS)",
                "Adapted: 1 announcement channel made a text channel (the guild lacks NEWS and COMMUNITY)",
                "Adapted: 1 stage channel made a voice channel (the guild lacks COMMUNITY)",
                "Adapted: 1 media channel made a forum channel (the guild lacks COMMUNITY)",
                "Left out: onboarding (the guild lacks COMMUNITY)",
                "Adapted: 1 channel's bitrate lowered to the most the guild's boost level allows",
            ]
        );
        assert_eq!(fit(b, &GuildSettings::default()).left_out, Vec::<String>::new(), "fitting twice changes nothing");
    }

    #[test]
    fn news_alone_keeps_announcement_channels() {
        let target = GuildSettings { features: vec!["NEWS".into()], ..GuildSettings::default() };
        assert_eq!(fit(&backup(), &target).backup.channels[0].kind, ANNOUNCEMENT);
    }
}
