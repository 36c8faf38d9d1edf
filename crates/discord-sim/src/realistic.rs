//! A large, realistic guild for backup and restore tests: Discord's caps reached where a big
//! community reaches them (250 roles, 500 channels), every channel type with overwrites, AutoMod,
//! onboarding, emojis, stickers and bans. Built directly (no request is made), in a few
//! milliseconds.

use serde_json::json;

use crate::images::{Asset, ImageFormat, asset_hash, samples};
use crate::permissions::*;
use crate::world::{Bot, DefaultReaction, ForumTag, Overwrite, RoleView, World};

/// The ids of a guild made by [`World::add_realistic_guild`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealisticGuild {
    /// The guild ("Realistic Community": COMMUNITY, NEWS, ROLE_ICONS, ENHANCED_ROLE_COLORS, boost
    /// tier 2).
    pub guild: u64,
    /// Its owner.
    pub owner: u64,
    /// The bot, a member with [`RealisticGuild::bot_role`].
    pub bot: u64,
    /// The bot's managed role, at the top of the list (position 249), with what a backup and a
    /// restore need: MANAGE_GUILD, MANAGE_ROLES, MANAGE_CHANNELS, BAN_MEMBERS, MODERATE_MEMBERS,
    /// MANAGE_GUILD_EXPRESSIONS, CREATE_GUILD_EXPRESSIONS, VIEW_AUDIT_LOG and the channel basics.
    pub bot_role: u64,
    /// "Administrator" (ADMINISTRATOR), just below the bot's role.
    pub admin_role: u64,
    /// Every role but `@everyone`, lowest first: 249 roles, so the guild holds Discord's 250.
    pub roles: Vec<u64>,
    /// The 20 categories, in order.
    pub categories: Vec<u64>,
    /// Every channel, categories included: 500, Discord's cap. Each category holds 24 channels of
    /// every type: text, announcement, voice, stage, forum and media.
    pub channels: Vec<u64>,
    /// "#rules" (the guild's rules channel).
    pub rules_channel: u64,
    /// "#moderator-only" (the guild's public updates channel).
    pub updates_channel: u64,
    /// "#welcome" (the system channel).
    pub system_channel: u64,
    /// "AFK" (the AFK voice channel).
    pub afk_channel: u64,
    /// The AutoMod rules: six KEYWORD, then SPAM, KEYWORD_PRESET, MENTION_SPAM and MEMBER_PROFILE
    /// (Discord's cap of each).
    pub automod_rules: Vec<u64>,
    /// 20 emojis: 15 static PNGs, then 5 animated GIFs.
    pub emojis: Vec<u64>,
    /// 5 stickers: 4 PNGs and a GIF.
    pub stickers: Vec<u64>,
    /// 50 banned users, with reasons.
    pub banned: Vec<u64>,
    /// 40 members with roles (besides the owner and the bot).
    pub members: Vec<u64>,
}

/// The ids of [`World::demo_large`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeDemo {
    /// The bot.
    pub bot: Bot,
    /// The guild and everything in it.
    pub guild: RealisticGuild,
}

/// The bot's role in the realistic guild.
pub const REALISTIC_BOT_PERMISSIONS: u64 = MANAGE_GUILD
    | MANAGE_ROLES
    | MANAGE_CHANNELS
    | BAN_MEMBERS
    | KICK_MEMBERS
    | MODERATE_MEMBERS
    | MANAGE_GUILD_EXPRESSIONS
    | CREATE_GUILD_EXPRESSIONS
    | VIEW_AUDIT_LOG
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MANAGE_MESSAGES
    | MANAGE_WEBHOOKS
    | MANAGE_THREADS
    | CONNECT
    | SPEAK;

/// The channel types of a category's 24 channels, in order.
const CATEGORY_LAYOUT: [u8; 24] = [0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 2, 2, 2, 2, 2, 2, 13, 13, 15, 15, 16, 16, 0, 2];

const CATEGORY_NAMES: [&str; 20] = [
    "Information",
    "Community",
    "Staff",
    "Events",
    "Gaming",
    "Art",
    "Music",
    "Study",
    "Support",
    "Voice Lounge",
    "Clans",
    "Trading",
    "Media",
    "Off Topic",
    "Languages",
    "Development",
    "Partners",
    "Archive",
    "Creators",
    "Moderation",
];

const ROLE_WORDS: [&str; 10] =
    ["Member", "Veteran", "Artist", "Gamer", "Helper", "Event", "Ping", "Region", "Clan", "Level"];

impl World {
    /// Adds a large, realistic guild owned by `owner` with `bot` as a member at the top of its role
    /// list: 250 roles (colours, gradients, hoisted, mentionable, icons and emoji icons), 500 channels
    /// (20 categories of 24: text, announcement, voice, stage, forum with tags and a default reaction,
    /// media) with permission overwrites (categories with role overwrites, staff categories hidden from
    /// `@everyone`, most channels synced with their category, some with their own), guild settings
    /// (rules, updates, system and AFK channels, verification, content filter, icon), 10 AutoMod rules
    /// of every trigger type, enabled onboarding with prompts, 20 emojis, 5 stickers, 50 bans and 40
    /// members. Queues no gateway events for what it builds (a setup helper, like
    /// [`World::add_generated_members`]).
    ///
    /// # Panics
    /// If `owner` is unknown or `bot` is not a bot.
    pub fn add_realistic_guild(&mut self, owner: u64, bot: u64) -> RealisticGuild {
        assert!(self.users.get(&bot).is_some_and(|u| u.bot), "{bot} is not a bot");
        let listening = std::mem::replace(&mut self.gateway_listening, false);
        let built = self.build_realistic_guild(owner, bot);
        self.gateway_listening = listening;
        built
    }

    /// A world with an owner, a bot and [`World::add_realistic_guild`]'s guild, for backup tests.
    pub fn demo_large() -> (World, LargeDemo) {
        let mut world = World::new();
        let owner = world.add_user("Morgan");
        let bot = world.add_bot("Garrison");
        let guild = world.add_realistic_guild(owner, bot.user_id);
        (world, LargeDemo { bot, guild })
    }

    fn build_realistic_guild(&mut self, owner: u64, bot: u64) -> RealisticGuild {
        let guild = self.add_guild("Realistic Community", owner);
        self.set_guild_features(
            guild,
            &["COMMUNITY", "NEWS", "ROLE_ICONS", "ENHANCED_ROLE_COLORS", "AUTO_MODERATION", "BANNER"],
        );
        self.set_premium_tier(guild, 2);

        // Roles: 249 besides @everyone, the bot's on top.
        let mut roles = Vec::with_capacity(249);
        for position in 1..=246 {
            let word = ROLE_WORDS[position as usize % ROLE_WORDS.len()];
            let name = format!("{word} {position}");
            let permissions = if position % 7 == 0 { MANAGE_MESSAGES | MUTE_MEMBERS } else { 0 };
            let id = self.next_id();
            let mut role = RoleView::plain(id, guild, name, permissions, position);
            role.color = if position % 3 == 0 { 0 } else { (position as u32 * 0x01_0307) & 0xff_ffff };
            if position % 11 == 0 {
                role.gradient = (Some(0x00_ff88), (position % 22 == 0).then_some(0x88_00ff));
            }
            role.hoist = position % 5 == 0;
            role.mentionable = position % 4 == 0;
            if position % 13 == 0 {
                role.unicode_emoji = Some("⭐".to_owned());
            }
            if position % 17 == 0 {
                let hash = asset_hash(samples::PNG, false);
                self.cdn.insert(
                    format!("role-icons/{id}/{hash}"),
                    Asset { bytes: samples::PNG.to_vec(), format: ImageFormat::Png },
                );
                role.icon = Some(hash);
            }
            self.guild_mut(guild).roles.insert(id, role);
            roles.push(id);
        }
        let moderator_role = self.add_role(guild, "Moderator", MODERATE_MEMBERS | KICK_MEMBERS | MANAGE_MESSAGES, 247);
        let admin_role = self.add_role(guild, "Administrator", ADMINISTRATOR, 248);
        let bot_role = self.add_role(guild, "Garrison", REALISTIC_BOT_PERMISSIONS, 249);
        self.set_bot_role(guild, bot_role, bot);
        roles.extend([moderator_role, admin_role, bot_role]);
        self.add_member(guild, bot, &[bot_role]);
        let members = self.add_generated_members(guild, 40, &[roles[0]]);
        for (i, member) in members.iter().enumerate() {
            if let Some(state) = self.guilds.get_mut(&guild)
                && let Some(record) = state.members.get_mut(member)
            {
                record.roles.push(roles[1 + i * 5 % 240]);
                if i % 10 == 0 {
                    record.roles.push(moderator_role);
                }
            }
        }

        // Channels: 20 categories of 24.
        let everyone = guild;
        let mut categories = Vec::with_capacity(20);
        let mut channels = Vec::with_capacity(500);
        let (mut rules_channel, mut updates_channel, mut system_channel, mut afk_channel) = (0, 0, 0, 0);
        let mut onboarding_channels = Vec::new();
        for (c, category_name) in CATEGORY_NAMES.iter().enumerate() {
            let category = self.add_channel(guild, 4, category_name, None, c as i32);
            let staff = matches!(*category_name, "Staff" | "Moderation");
            let mut overwrites =
                vec![Overwrite { id: roles[c * 12], kind: 0, allow: VIEW_CHANNEL | SEND_MESSAGES, deny: 0 }];
            if staff {
                overwrites.push(Overwrite { id: everyone, kind: 0, allow: 0, deny: VIEW_CHANNEL });
                overwrites.push(Overwrite {
                    id: moderator_role,
                    kind: 0,
                    allow: VIEW_CHANNEL | MANAGE_MESSAGES,
                    deny: 0,
                });
            } else if c % 3 == 0 {
                overwrites.push(Overwrite { id: everyone, kind: 0, allow: 0, deny: MENTION_EVERYONE });
            }
            if let Some(channel) = self.channels.get_mut(&category) {
                channel.overwrites = overwrites.clone();
            }
            categories.push(category);
            channels.push(category);
            let mut text_index = 0;
            for (i, kind) in CATEGORY_LAYOUT.iter().enumerate() {
                let name = match (c, kind, text_index) {
                    (0, 0, 0) => "rules".to_owned(),
                    (0, 0, 1) => "moderator-only".to_owned(),
                    (0, 0, 2) => "welcome".to_owned(),
                    (9, 2, _) if i == 10 => "AFK".to_owned(),
                    (_, 0 | 5 | 15 | 16, _) => format!("{}-{i}", category_name.to_lowercase().replace(' ', "-")),
                    _ => format!("{category_name} {i}"),
                };
                let id = self.add_channel(guild, *kind, &name, Some(category), i as i32);
                channels.push(id);
                let Some(channel) = self.channels.get_mut(&id) else { continue };
                channel.overwrites = overwrites.clone();
                if i % 6 == 5 {
                    // Not synced: one more overwrite of its own (a channel has one overwrite per
                    // role or member).
                    let role = roles[(c * 7 + i) % 240 + 1];
                    match channel.overwrites.iter_mut().find(|o| o.id == role) {
                        Some(overwrite) => overwrite.deny |= SEND_MESSAGES,
                        None => channel.overwrites.push(Overwrite { id: role, kind: 0, allow: 0, deny: SEND_MESSAGES }),
                    }
                }
                if i == 7 {
                    channel.overwrites.push(Overwrite { id: owner, kind: 1, allow: MANAGE_CHANNELS, deny: 0 });
                }
                match kind {
                    0 | 5 => {
                        channel.topic = Some(format!("All about {name}"));
                        channel.rate_limit_per_user = if i % 4 == 0 { 5 } else { 0 };
                        channel.nsfw = i == 22 && c % 5 == 4;
                        channel.default_auto_archive_duration = if i % 2 == 0 { 1440 } else { 4320 };
                    }
                    2 => {
                        channel.bitrate = if i % 2 == 0 { 64_000 } else { 96_000 };
                        channel.user_limit = if i % 3 == 0 { 10 } else { 0 };
                        channel.rtc_region = (i == 12).then(|| "rotterdam".to_owned());
                        channel.video_quality_mode = (i == 13).then_some(2);
                    }
                    13 => {
                        channel.bitrate = 64_000;
                        channel.topic = None;
                    }
                    _ => {
                        channel.topic = Some(format!("Post your {name} here"));
                        channel.default_reaction_emoji =
                            Some(DefaultReaction { emoji_id: None, emoji_name: Some("👍".to_owned()) });
                        channel.default_sort_order = Some(0);
                        if *kind == 15 {
                            channel.default_forum_layout = 1;
                        }
                        channel.flags = if i % 2 == 0 { 16 } else { 0 };
                    }
                }
                if *kind == 0 {
                    match (c, text_index) {
                        (0, 0) => rules_channel = id,
                        (0, 1) => updates_channel = id,
                        (0, 2) => system_channel = id,
                        _ => {}
                    }
                    if !staff && onboarding_channels.len() < 8 && c > 0 {
                        onboarding_channels.push(id);
                    }
                    text_index += 1;
                }
                if name == "AFK" {
                    afk_channel = id;
                }
            }
        }
        // Forum and media tags need ids of their own.
        let forums: Vec<u64> = channels
            .iter()
            .copied()
            .filter(|id| self.channels.get(id).is_some_and(|c| matches!(c.kind, 15 | 16)))
            .collect();
        for forum in forums {
            let tags: Vec<ForumTag> = ["Question", "Guide", "Showcase", "Solved"]
                .iter()
                .enumerate()
                .map(|(i, name)| ForumTag {
                    id: self.next_id(),
                    name: (*name).to_owned(),
                    moderated: i == 3,
                    emoji_id: None,
                    emoji_name: (i < 2).then(|| ["❓", "📘"][i].to_owned()),
                })
                .collect();
            if let Some(channel) = self.channels.get_mut(&forum) {
                channel.available_tags = tags;
            }
        }

        // Settings.
        let icon = asset_hash(samples::PNG, false);
        self.cdn
            .insert(format!("icons/{guild}/{icon}"), Asset { bytes: samples::PNG.to_vec(), format: ImageFormat::Png });
        let info = &mut self.guild_mut(guild).info;
        info.icon = Some(icon);
        info.description = Some("A large community, for backup and restore tests.".to_owned());
        info.verification_level = 2;
        info.default_message_notifications = 1;
        info.explicit_content_filter = 2;
        info.afk_channel_id = Some(afk_channel);
        info.afk_timeout = 900;
        info.system_channel_id = Some(system_channel);
        info.system_channel_flags = 1 << 2;
        info.rules_channel_id = Some(rules_channel);
        info.public_updates_channel_id = Some(updates_channel);
        info.safety_alerts_channel_id = Some(updates_channel);
        info.preferred_locale = "en-GB".to_owned();
        info.premium_progress_bar_enabled = true;

        // AutoMod: Discord's cap of every trigger type.
        let mut automod_rules = Vec::with_capacity(10);
        for i in 0..6 {
            let mut actions = vec![json!({"type": 1, "metadata": {"custom_message": "Please keep it civil."}})];
            if i % 2 == 0 {
                actions.push(json!({"type": 2, "metadata": {"channel_id": updates_channel.to_string()}}));
            }
            if i == 4 {
                actions.push(json!({"type": 3, "metadata": {"duration_seconds": 600}}));
            }
            automod_rules.push(self.add_automod_rule_json(
                guild,
                json!({
                    "name": format!("Keyword filter {}", i + 1),
                    "event_type": 1,
                    "trigger_type": 1,
                    "trigger_metadata": {
                        "keyword_filter": [format!("badword{i}"), format!("*spam{i}*"), "free nitro"],
                        "regex_patterns": [format!("b[a@]d{i}+")],
                        "allow_list": ["scunthorpe"],
                    },
                    "actions": actions,
                    "enabled": i != 5,
                    "exempt_roles": [moderator_role.to_string(), admin_role.to_string()],
                    "exempt_channels": [updates_channel.to_string()],
                }),
            ));
        }
        for rule in [
            json!({"name": "Spam", "event_type": 1, "trigger_type": 3, "actions": [{"type": 1}], "enabled": true}),
            json!({"name": "Presets", "event_type": 1, "trigger_type": 4,
                   "trigger_metadata": {"presets": [1, 2, 3], "allow_list": ["heck"]}, "actions": [{"type": 1}],
                   "enabled": true}),
            json!({"name": "Mentions", "event_type": 1, "trigger_type": 5,
                   "trigger_metadata": {"mention_total_limit": 8, "mention_raid_protection_enabled": true},
                   "actions": [{"type": 1}, {"type": 3, "metadata": {"duration_seconds": 3600}}], "enabled": true}),
            json!({"name": "Profiles", "event_type": 2, "trigger_type": 6,
                   "trigger_metadata": {"keyword_filter": ["discord.gg/*"]}, "actions": [{"type": 4}],
                   "enabled": true}),
        ] {
            automod_rules.push(self.add_automod_rule_json(guild, rule));
        }

        // Onboarding.
        let option = |title: &str, roles: &[u64], channels: &[u64], emoji: &str| {
            json!({
                "title": title,
                "description": format!("Choose {title}"),
                "emoji_name": emoji,
                "role_ids": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
                "channel_ids": channels.iter().map(u64::to_string).collect::<Vec<_>>(),
            })
        };
        let prompt_ids = [self.next_id(), self.next_id(), self.next_id()];
        let channel_at = |c: usize, i: usize| channels[c * 25 + 1 + i];
        self.set_onboarding(
            guild,
            json!({
                "enabled": true,
                "mode": 0,
                "default_channel_ids": onboarding_channels.iter().map(u64::to_string).collect::<Vec<_>>(),
                "prompts": [
                    {"id": prompt_ids[0].to_string(), "title": "What brings you here?", "type": 0, "single_select": false,
                     "required": true, "in_onboarding": true, "options": [
                        option("Gaming", &[roles[3]], &[channel_at(4, 0)], "🎮"),
                        option("Art", &[roles[5]], &[channel_at(5, 0)], "🎨"),
                        option("Music", &[roles[7]], &[channel_at(6, 0)], "🎵"),
                     ]},
                    {"id": prompt_ids[1].to_string(), "title": "Pick your region", "type": 1, "single_select": true,
                     "required": false, "in_onboarding": true, "options": [
                        option("Europe", &[roles[17]], &[], "🇪🇺"),
                        option("Americas", &[roles[27]], &[], "🌎"),
                        option("Asia", &[roles[37]], &[], "🌏"),
                     ]},
                    {"id": prompt_ids[2].to_string(), "title": "Notifications", "type": 0, "single_select": false,
                     "required": false, "in_onboarding": false, "options": [
                        option("Events", &[roles[6]], &[channel_at(3, 0)], "📅"),
                        option("Announcements", &[roles[16]], &[channel_at(1, 8)], "📢"),
                     ]},
                ],
            }),
        );

        // Emojis and stickers.
        let mut emojis = Vec::with_capacity(20);
        for i in 0..15 {
            emojis.push(self.add_emoji(guild, &format!("emoji_{i:02}"), samples::PNG));
        }
        for i in 0..5 {
            emojis.push(self.add_emoji(guild, &format!("animated_{i}"), samples::ANIMATED_GIF));
        }
        if let Some(emoji) = self.guilds.get_mut(&guild).and_then(|g| g.emojis.get_mut(&emojis[0])) {
            emoji.roles = vec![roles[1], roles[2]];
        }
        let mut stickers = Vec::with_capacity(5);
        for i in 0..4 {
            stickers.push(self.add_sticker(guild, &format!("Sticker {i}"), "smile", samples::PNG));
        }
        stickers.push(self.add_sticker(guild, "Dancing", "dance", samples::ANIMATED_GIF));
        if let Some(sticker) = self.guilds.get_mut(&guild).and_then(|g| g.stickers.get_mut(&stickers[0])) {
            sticker.description = Some("Our mascot, smiling".to_owned());
        }

        // Bans.
        let mut banned = Vec::with_capacity(50);
        for i in 0..50 {
            let user = self.add_user(&format!("Raider {i}"));
            let reason = match i % 3 {
                0 => Some("Raiding"),
                1 => Some("Spam links"),
                _ => None,
            };
            self.add_ban(guild, user, reason);
            banned.push(user);
        }

        RealisticGuild {
            guild,
            owner,
            bot,
            bot_role,
            admin_role,
            roles,
            categories,
            channels,
            rules_channel,
            updates_channel,
            system_channel,
            afk_channel,
            automod_rules,
            emojis,
            stickers,
            banned,
            members,
        }
    }
}
