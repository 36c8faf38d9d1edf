//! Backups' port over the adapter, against the Discord simulator: a capture of a large, realistic guild
//! (every role, channel, AutoMod rule, onboarding prompt, emoji, sticker, ban and member, images
//! downloaded from the simulator's CDN), every write a restore makes (checked in the simulator's world
//! afterwards), downloads kept to the CDN and to their size, and Discord's refusals.

use std::{collections::HashMap, sync::Arc, time::Duration};

use garrison_core::{
    ServerId,
    backups::{
        format::{
            AutoModRule, Ban, Bits, Channel, Emoji, ForumTag, GuildSettings, Id, Onboarding, OnboardingOption,
            OnboardingPrompt, Overwrite, OverwriteKind, Role, RoleColors, Sticker,
        },
        port::{BackupBot, BackupBots, Image, ImageUrl, MAX_IMAGE_BYTES, Write},
    },
    discord::{BotToken, DiscordBots, DiscordError, Snowflake},
};
use garrison_discord::{DiscordConfig, TwilightBots};
use garrison_discord_sim::{CHANNEL_CREATE_RATE_LIMIT, Simulator, World, permissions::*, samples};
use serde_json::json;

const CHANNELS: &str = "/guilds/{guild_id}/channels";

fn server(raw: u64) -> ServerId {
    ServerId::from_discord(Snowflake::from_raw(raw)).expect("a snowflake within i64")
}

/// The simulator on `world`, the adapter pointed at its API and CDN, and the backup bot of `token`.
async fn start(world: World, token: &str) -> (Simulator, TwilightBots, Arc<dyn BackupBot>) {
    start_with(world, token, DiscordConfig::default()).await
}

async fn start_with(world: World, token: &str, config: DiscordConfig) -> (Simulator, TwilightBots, Arc<dyn BackupBot>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Simulator::start(world);
    let bots =
        TwilightBots::new(DiscordConfig { api_url: Some(sim.base_url()), cdn_url: Some(sim.cdn_url()), ..config })
            .expect("config");
    let bot = BackupBots::bot(&bots, &BotToken::new(token).expect("a token")).await.expect("an accepted token");
    (sim, bots, bot)
}

fn assert_spec_clean(sim: &Simulator) {
    let violations = sim.spec_violations();
    assert!(violations.is_empty(), "requests or answers outside Discord's document: {violations:#?}");
}

/// A Community guild with role icons and gradients (boost tier 2) where the bot is an administrator,
/// with a member and a plain role.
struct Target {
    sim: Simulator,
    bot: Arc<dyn BackupBot>,
    guild: u64,
    member: u64,
    role: u64,
}

async fn target(setup: impl FnOnce(&mut World, u64)) -> Target {
    let mut world = World::new();
    let owner = world.add_user("Owner");
    let bot = world.add_bot("Garrison");
    let guild = world.add_guild("Target", owner);
    world.set_guild_features(guild, &["COMMUNITY", "NEWS", "ROLE_ICONS", "ENHANCED_ROLE_COLORS"]);
    world.set_premium_tier(guild, 2);
    let bot_role = world.add_role(guild, "Garrison", ADMINISTRATOR, 10);
    world.set_bot_role(guild, bot_role, bot.user_id);
    world.add_member(guild, bot.user_id, &[bot_role]);
    let role = world.add_role(guild, "Member", 0, 1);
    let member = world.add_user("Member");
    world.add_member(guild, member, &[role]);
    setup(&mut world, guild);
    let (sim, _, backup_bot) = start(world, &bot.token).await;
    Target { sim, bot: backup_bot, guild, member, role }
}

impl Target {
    async fn write(&self, write: Write) -> Option<Id> {
        self.bot.write(server(self.guild), write).await.expect("written")
    }

    async fn create(&self, write: Write) -> u64 {
        self.write(write).await.expect("an id of what was created").0
    }
}

// ----- capture -----

#[tokio::test]
async fn a_capture_reads_the_realistic_guild_whole() {
    let (mut world, large) = World::demo_large();
    let realistic = large.guild;
    let guild = realistic.guild;
    // Past one page of bans and of members.
    for i in 0..1_000 {
        let user = world.add_user(&format!("Spammer {i}"));
        world.add_ban(guild, user, (i % 2 == 0).then_some("Spam"));
    }
    world.add_generated_members(guild, 1_100, &[realistic.roles[3]]);
    let (sim, _, bot) = start(world, &large.bot.token).await;
    let id = server(guild);

    // The guild: settings, icon, emojis and stickers.
    let read = bot.guild(id).await.expect("the guild");
    let info = sim.world(|w| w.guild(guild)).expect("the guild");
    let settings = &read.settings;
    assert_eq!((settings.id, settings.name.as_str()), (Some(Id(guild)), "Realistic Community"));
    assert_eq!(settings.description, info.description);
    assert_eq!(
        (settings.verification_level, settings.default_message_notifications, settings.explicit_content_filter),
        (2, 1, 2)
    );
    assert_eq!((settings.afk_channel, settings.afk_timeout), (Some(Id(realistic.afk_channel)), 900));
    assert_eq!((settings.system_channel, settings.system_channel_flags), (Some(Id(realistic.system_channel)), 4));
    assert_eq!(settings.rules_channel, Some(Id(realistic.rules_channel)));
    assert_eq!(settings.public_updates_channel, Some(Id(realistic.updates_channel)));
    assert_eq!((settings.preferred_locale.as_str(), settings.icon.as_ref()), ("en-GB", None));
    let icon = read.icon.as_ref().expect("the guild's icon");
    let hash = info.icon.expect("an icon");
    assert_eq!(icon.0, format!("{}/icons/{guild}/{hash}.png", sim.cdn_url()));
    let expected = sim.world(|w| w.cdn_bytes(&format!("icons/{guild}/{hash}"))).expect("on the CDN");
    assert_eq!(bot.download(icon, MAX_IMAGE_BYTES).await.expect("downloaded"), expected);

    assert_eq!(read.emojis.len(), 20);
    for (emoji, url) in &read.emojis {
        let view = sim.world(|w| w.emoji(guild, emoji.id.0)).expect("an emoji of the guild");
        assert_eq!((&emoji.name, emoji.animated, emoji.image.as_str()), (&view.name, view.animated, ""));
        assert_eq!(emoji.roles, view.roles.iter().map(|r| Id(*r)).collect::<Vec<_>>());
        let bytes = sim.world(|w| w.cdn_bytes(&format!("emojis/{}", emoji.id))).expect("on the CDN");
        assert_eq!(bot.download(url, MAX_IMAGE_BYTES).await.expect("downloaded"), bytes);
    }
    assert_eq!(read.emojis.iter().filter(|(e, _)| e.animated).count(), 5);
    assert!(read.emojis.iter().any(|(e, _)| e.roles.len() == 2), "an emoji for two roles");
    assert_eq!(read.stickers.len(), 5);
    for (sticker, url) in &read.stickers {
        let view = sim.world(|w| w.sticker(guild, sticker.id.0)).expect("a sticker of the guild");
        assert_eq!(
            (&sticker.name, &sticker.description, &sticker.tags, sticker.format),
            (&view.name, &view.description, &view.tags, view.format_type)
        );
        let bytes = sim.world(|w| w.cdn_bytes(&format!("stickers/{}", sticker.id))).expect("on the CDN");
        assert_eq!(bot.download(url, MAX_IMAGE_BYTES).await.expect("downloaded"), bytes);
    }
    assert!(read.stickers.iter().any(|(s, _)| s.format == 4), "the GIF sticker");

    // Roles, with their icons.
    let roles = bot.roles(id).await.expect("the roles");
    assert_eq!(roles.len(), 250);
    let views = sim.world(|w| w.roles(guild));
    let mut icons = 0;
    for (role, icon) in &roles {
        let view = views.iter().find(|v| v.id == role.id.0).expect("a role of the guild");
        assert_eq!((&role.name, role.color, role.position), (&view.name, view.color, i64::from(view.position)));
        assert_eq!(
            (role.permissions, role.hoist, role.mentionable),
            (Bits(view.permissions), view.hoist, view.mentionable)
        );
        assert_eq!((&role.unicode_emoji, role.managed), (&view.unicode_emoji, view.managed));
        let gradient = role.colors.map(|c| (c.secondary, c.tertiary));
        assert_eq!(gradient, view.gradient.0.map(|_| view.gradient));
        match (&view.icon, icon) {
            (Some(hash), Some(url)) => {
                icons += 1;
                let bytes = sim.world(|w| w.cdn_bytes(&format!("role-icons/{}/{hash}", role.id))).expect("on the CDN");
                assert_eq!(bot.download(url, MAX_IMAGE_BYTES).await.expect("downloaded"), bytes);
            }
            (None, None) => {}
            other => panic!("role {} icon: {other:?}", role.id),
        }
    }
    assert_eq!(icons, 14, "every 17th role has an icon");
    assert!(roles.iter().any(|(r, _)| r.id == Id(guild) && r.position == 0), "@everyone");
    assert!(roles.iter().any(|(r, _)| r.colors.is_some_and(|c| c.tertiary.is_some())), "a three-colour gradient");

    // Channels, with overwrites, parents, tags.
    let channels = bot.channels(id).await.expect("the channels");
    assert_eq!(channels.len(), 500);
    for channel in &channels {
        let view = sim.world(|w| w.channel(channel.id.0)).expect("a channel of the guild");
        assert_eq!((channel.kind, &channel.name), (view.kind, &view.name));
        assert_eq!((channel.parent, channel.position), (view.parent_id.map(Id), i64::from(view.position)));
        assert_eq!((&channel.topic, channel.nsfw), (&view.topic, view.nsfw));
        let overwrites: Vec<Overwrite> = view
            .overwrites
            .iter()
            .map(|o| Overwrite {
                id: Id(o.id),
                kind: if o.kind == 1 { OverwriteKind::Member } else { OverwriteKind::Role },
                allow: Bits(o.allow),
                deny: Bits(o.deny),
            })
            .collect();
        assert_eq!(channel.overwrites, overwrites, "overwrites of {}", channel.name);
        let tags: Vec<(String, bool, Option<String>)> =
            view.available_tags.iter().map(|t| (t.name.clone(), t.moderated, t.emoji_name.clone())).collect();
        let read_tags: Vec<(String, bool, Option<String>)> =
            channel.available_tags.iter().map(|t| (t.name.clone(), t.moderated, t.emoji_name.clone())).collect();
        assert_eq!(read_tags, tags);
        match channel.kind {
            2 | 13 => {
                assert_eq!((channel.bitrate, channel.user_limit), (Some(view.bitrate), Some(view.user_limit)));
                assert_eq!(channel.rtc_region, view.rtc_region);
            }
            0 | 5 => {
                assert_eq!(channel.rate_limit_per_user, view.rate_limit_per_user);
                assert_eq!(channel.default_auto_archive_duration, Some(view.default_auto_archive_duration));
            }
            15 | 16 => {
                assert_eq!(channel.available_tags.len(), 4);
                assert_eq!(channel.default_reaction_emoji.as_deref(), Some("👍"));
            }
            _ => assert_eq!(channel.kind, 4),
        }
    }
    assert_eq!(channels.iter().filter(|c| c.kind == 4).count(), 20);
    for kind in [0, 2, 5, 13, 15, 16] {
        assert!(
            channels.iter().any(|c| c.kind == kind && c.parent.is_some()),
            "a channel of type {kind} in a category"
        );
    }
    assert!(channels.iter().any(|c| c.overwrites.iter().any(|o| o.kind == OverwriteKind::Member)));
    assert!(channels.iter().any(|c| c.rtc_region.as_deref() == Some("rotterdam")));

    // AutoMod, kept as Discord writes it.
    let rules = bot.auto_moderation(id).await.expect("the rules");
    assert_eq!(rules.len(), 10);
    for trigger in [1, 3, 4, 5, 6] {
        assert!(rules.iter().any(|r| r.trigger_type == trigger), "a rule of trigger {trigger}");
    }
    let first = rules.iter().find(|r| r.name == "Keyword filter 1").expect("the first keyword rule");
    assert_eq!(first.trigger_metadata["keyword_filter"], json!(["badword0", "*spam0*", "free nitro"]));
    assert_eq!(first.trigger_metadata["regex_patterns"], json!(["b[a@]d0+"]));
    assert_eq!(first.actions[1], json!({"type": 2, "metadata": {"channel_id": realistic.updates_channel.to_string()}}));
    assert_eq!(first.exempt_channels, vec![Id(realistic.updates_channel)]);
    assert_eq!(first.exempt_roles.len(), 2);
    let mentions = rules.iter().find(|r| r.trigger_type == 5).expect("mention spam");
    assert_eq!(mentions.trigger_metadata["mention_total_limit"], 8);
    assert!(!rules.iter().find(|r| r.name == "Keyword filter 6").expect("the sixth").enabled);

    // Onboarding.
    let onboarding = bot.onboarding(id).await.expect("onboarding").expect("set up");
    let view = sim.world(|w| w.onboarding(guild)).expect("onboarding");
    assert!(onboarding.enabled);
    assert_eq!(onboarding.default_channels, view.default_channel_ids.iter().map(|c| Id(*c)).collect::<Vec<_>>());
    assert_eq!(onboarding.prompts.len(), 3);
    for (prompt, view) in onboarding.prompts.iter().zip(&view.prompts) {
        assert_eq!((&prompt.title, prompt.kind, prompt.single_select), (&view.title, view.kind, view.single_select));
        assert_eq!((prompt.required, prompt.in_onboarding), (view.required, view.in_onboarding));
        for (option, view) in prompt.options.iter().zip(&view.options) {
            assert_eq!((&option.title, &option.description), (&view.title, &view.description));
            assert_eq!(option.emoji_name, view.emoji_name);
            assert_eq!(option.roles, view.role_ids.iter().map(|r| Id(*r)).collect::<Vec<_>>());
            assert_eq!(option.channels, view.channel_ids.iter().map(|c| Id(*c)).collect::<Vec<_>>());
        }
    }
    assert_eq!(onboarding.prompts[0].options[0].emoji_name.as_deref(), Some("🎮"));

    // Bans, page by page.
    let mut bans = Vec::new();
    let mut pages = 0;
    loop {
        let page = bot.bans(id, bans.last().map(|b: &Ban| b.user)).await.expect("a page of bans");
        pages += 1;
        assert!(page.len() <= 1_000);
        let last = page.len() < 1_000;
        bans.extend(page);
        if last {
            break;
        }
    }
    assert_eq!((bans.len(), pages), (1_050, 2));
    for ban in &bans {
        assert_eq!(ban.reason, sim.world(|w| w.ban_reason(guild, ban.user.0)), "the reason of {}", ban.user);
    }
    assert!(bans.iter().any(|b| b.reason.as_deref() == Some("Raiding")));
    assert!(bans.windows(2).all(|w| w[0].user < w[1].user), "in order of user id, each once");

    // Members' roles, page by page.
    let mut members = Vec::new();
    loop {
        let page = bot.members(id, members.last().map(|m: &garrison_core::backups::format::MemberRoles| m.user)).await;
        let page = page.expect("a page of members");
        let last = page.len() < 1_000;
        members.extend(page);
        if last {
            break;
        }
    }
    let world_members = sim.world(|w| w.members(guild));
    assert_eq!(members.len(), world_members.len());
    assert!(members.len() > 1_000);
    let by_user: HashMap<u64, Vec<u64>> = world_members.into_iter().map(|m| (m.user_id, m.roles)).collect();
    for member in &members {
        let roles: Vec<Id> = by_user[&member.user.0].iter().map(|r| Id(*r)).collect();
        assert_eq!(member.roles, roles, "the roles of {}", member.user);
    }
    assert!(members.iter().any(|m| m.roles.len() == 3), "a member with a moderator role too");
    assert_spec_clean(&sim);
}

#[tokio::test]
async fn onboarding_never_set_up_reads_as_none() {
    let t = target(|_, _| {}).await;
    assert_eq!(t.bot.onboarding(server(t.guild)).await.expect("onboarding"), None);
}

// ----- writes -----

fn png() -> Image {
    Image(samples::PNG.to_vec())
}

fn gif() -> Image {
    Image(samples::ANIMATED_GIF.to_vec())
}

#[tokio::test]
async fn roles_are_created_updated_positioned_and_deleted() {
    let t = target(|_, _| {}).await;
    let artists = Role {
        name: "Artists".into(),
        color: 0x11_2233,
        colors: Some(RoleColors { primary: 0x11_2233, secondary: Some(0x44_5566), tertiary: Some(0x77_8899) }),
        hoist: true,
        mentionable: true,
        permissions: Bits(MANAGE_MESSAGES | MUTE_MEMBERS),
        unicode_emoji: Some("🎨".into()),
        ..Role::default()
    };
    let created = t.create(Write::CreateRole { role: artists.clone(), icon: Some(png()) }).await;
    let view = t.sim.world(|w| w.role(t.guild, created)).expect("created");
    assert_eq!(
        (view.name.as_str(), view.color, view.gradient),
        ("Artists", 0x11_2233, (Some(0x44_5566), Some(0x77_8899)))
    );
    assert_eq!((view.hoist, view.mentionable, view.permissions), (true, true, MANAGE_MESSAGES | MUTE_MEMBERS));
    assert_eq!(view.unicode_emoji.as_deref(), Some("🎨"));
    let hash = view.icon.expect("an icon");
    assert_eq!(t.sim.world(|w| w.cdn_bytes(&format!("role-icons/{created}/{hash}"))), Some(samples::PNG.to_vec()));
    // Read back as a backup reads it: the same role, its icon downloadable.
    let roles = t.bot.roles(server(t.guild)).await.expect("roles");
    let (read, url) = roles.iter().find(|(r, _)| r.id == Id(created)).expect("listed");
    assert_eq!(Role { id: Id(0), position: 0, ..read.clone() }, artists);
    let url = url.as_ref().expect("an icon URL");
    assert_eq!(t.bot.download(url, MAX_IMAGE_BYTES).await.expect("downloaded"), samples::PNG);

    // An update sets every look and right: the gradient, emoji and icon the backup lacks go.
    let painters = Role { name: "Painters".into(), color: 0xff_0000, permissions: Bits(0), ..Role::default() };
    assert_eq!(t.write(Write::UpdateRole { target: Id(created), role: painters, icon: None }).await, None);
    let view = t.sim.world(|w| w.role(t.guild, created)).expect("updated");
    assert_eq!(
        (view.name.as_str(), view.color, view.gradient, view.permissions),
        ("Painters", 0xff_0000, (None, None), 0)
    );
    assert_eq!((view.icon, view.unicode_emoji, view.hoist, view.mentionable), (None, None, false, false));
    // An icon given is set; an icon the backup keeps but did not give stays.
    let iconic = Role { name: "Painters".into(), icon: Some("a".repeat(64)), ..Role::default() };
    t.write(Write::UpdateRole { target: Id(created), role: iconic.clone(), icon: Some(gif()) }).await;
    let hash = t.sim.world(|w| w.role(t.guild, created)).and_then(|r| r.icon).expect("an icon");
    t.write(Write::UpdateRole { target: Id(created), role: iconic, icon: None }).await;
    assert_eq!(t.sim.world(|w| w.role(t.guild, created)).and_then(|r| r.icon), Some(hash));

    // `@everyone`: its permissions only.
    let everyone = Role {
        id: Id(t.guild),
        name: "@everyone".into(),
        permissions: Bits(VIEW_CHANNEL),
        color: 5,
        ..Role::default()
    };
    t.write(Write::UpdateRole { target: Id(t.guild), role: everyone, icon: None }).await;
    let view = t.sim.world(|w| w.role(t.guild, t.guild)).expect("@everyone");
    assert_eq!((view.name.as_str(), view.permissions, view.color), ("@everyone", VIEW_CHANNEL, 0));

    // Positions, then deletion.
    let second =
        t.create(Write::CreateRole { role: Role { name: "Second".into(), ..Role::default() }, icon: None }).await;
    t.write(Write::PositionRoles(vec![(Id(second), 3), (Id(created), 2), (Id(t.role), 1)])).await;
    let position = |role| t.sim.world(|w| w.role(t.guild, role)).expect("a role").position;
    assert!(position(second) > position(created) && position(created) > position(t.role));
    t.write(Write::DeleteRole { target: Id(second) }).await;
    assert!(t.sim.world(|w| w.role(t.guild, second)).is_none());
    assert_spec_clean(&t.sim);
}

fn channel(kind: u8, name: &str) -> Channel {
    Channel { kind, name: name.into(), ..Channel::default() }
}

#[tokio::test]
async fn channels_of_every_type_are_created_updated_positioned_and_deleted() {
    let t = target(|_, _| {}).await;
    t.sim.clear_rate_limit("POST", CHANNELS);
    let (guild, everyone) = (t.guild, Id(t.guild));
    let emoji = t.sim.world(|w| w.add_emoji(guild, "wave", samples::PNG));
    let role_overwrite =
        |allow, deny| Overwrite { id: Id(t.role), kind: OverwriteKind::Role, allow: Bits(allow), deny: Bits(deny) };
    let member_overwrite =
        Overwrite { id: Id(t.member), kind: OverwriteKind::Member, allow: Bits(VIEW_CHANNEL), deny: Bits(0) };

    let category = t
        .create(Write::CreateChannel {
            channel: Channel {
                overwrites: vec![Overwrite {
                    id: everyone,
                    kind: OverwriteKind::Role,
                    allow: Bits(0),
                    deny: Bits(VIEW_CHANNEL),
                }],
                ..channel(4, "Staff")
            },
        })
        .await;
    let other_category = t.create(Write::CreateChannel { channel: channel(4, "Other") }).await;
    let text = Channel {
        parent: Some(Id(category)),
        topic: Some("Rules first".into()),
        nsfw: true,
        rate_limit_per_user: 10,
        default_auto_archive_duration: Some(4320),
        overwrites: vec![role_overwrite(SEND_MESSAGES, 0), member_overwrite],
        ..channel(0, "general")
    };
    let text_id = t.create(Write::CreateChannel { channel: text.clone() }).await;
    let view = t.sim.world(|w| w.channel(text_id)).expect("created");
    assert_eq!(
        (view.kind, view.parent_id, view.topic.as_deref(), view.nsfw),
        (0, Some(category), Some("Rules first"), true)
    );
    assert_eq!((view.rate_limit_per_user, view.default_auto_archive_duration), (10, 4320));
    assert_eq!(view.overwrites.len(), 2, "its own overwrites, not the category's");
    assert!(view.overwrites.iter().any(|o| o.id == t.member && o.kind == 1 && o.allow == VIEW_CHANNEL));
    assert!(view.overwrites.iter().any(|o| o.id == t.role && o.kind == 0 && o.allow == SEND_MESSAGES));

    let news =
        t.create(Write::CreateChannel { channel: Channel { topic: Some("News".into()), ..channel(5, "news") } }).await;
    let voice = Channel {
        parent: Some(Id(category)),
        bitrate: Some(64_000),
        user_limit: Some(5),
        rtc_region: Some("rotterdam".into()),
        ..channel(2, "Lounge")
    };
    let voice_id = t.create(Write::CreateChannel { channel: voice.clone() }).await;
    let stage = t
        .create(Write::CreateChannel {
            channel: Channel { bitrate: Some(64_000), user_limit: Some(1_000), ..channel(13, "Stage") },
        })
        .await;
    let tag = |name: &str, moderated, emoji_name: Option<&str>| ForumTag {
        name: name.into(),
        moderated,
        emoji_id: None,
        emoji_name: emoji_name.map(str::to_owned),
    };
    let forum = Channel {
        topic: Some("Ask here".into()),
        available_tags: vec![tag("Question", false, Some("❓")), tag("Solved", true, None)],
        default_reaction_emoji: Some("👍".into()),
        ..channel(15, "help")
    };
    let forum_id = t.create(Write::CreateChannel { channel: forum.clone() }).await;
    let media = Channel {
        available_tags: vec![ForumTag { emoji_id: Some(Id(emoji)), ..tag("Art", false, None) }],
        default_reaction_emoji: Some(emoji.to_string()),
        ..channel(16, "gallery")
    };
    let media_id = t.create(Write::CreateChannel { channel: media }).await;
    for (id, kind) in [(category, 4), (news, 5), (voice_id, 2), (stage, 13), (forum_id, 15), (media_id, 16)] {
        assert_eq!(t.sim.world(|w| w.channel(id)).map(|c| c.kind), Some(kind));
    }
    let view = t.sim.world(|w| w.channel(voice_id)).expect("voice");
    assert_eq!((view.bitrate, view.user_limit, view.rtc_region.as_deref()), (64_000, 5, Some("rotterdam")));
    assert_eq!(t.sim.world(|w| w.channel(stage)).map(|c| c.user_limit), Some(1_000));
    let view = t.sim.world(|w| w.channel(forum_id)).expect("forum");
    let names: Vec<&str> = view.available_tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Question", "Solved"]);
    assert_eq!(view.default_reaction_emoji.and_then(|r| r.emoji_name).as_deref(), Some("👍"));
    let view = t.sim.world(|w| w.channel(media_id)).expect("media");
    assert_eq!(view.default_reaction_emoji.and_then(|r| r.emoji_id), Some(emoji));
    assert_eq!(view.available_tags[0].emoji_id, Some(emoji));
    // Read back as a backup reads them: what was written.
    let read = t.bot.channels(server(guild)).await.expect("channels");
    let read_text = read.iter().find(|c| c.id == Id(text_id)).expect("listed");
    assert_eq!(Channel { id: Id(0), position: 0, ..read_text.clone() }, text);
    let read_forum = read.iter().find(|c| c.id == Id(forum_id)).expect("listed");
    assert_eq!(
        (&read_forum.available_tags, &read_forum.default_reaction_emoji),
        (&forum.available_tags, &forum.default_reaction_emoji)
    );
    let read_media = read.iter().find(|c| c.id == Id(media_id)).expect("listed");
    assert_eq!(read_media.default_reaction_emoji, Some(emoji.to_string()), "a custom emoji by its id");

    // Updates set every field, the parent and all overwrites (those left out go).
    let moved = Channel {
        topic: None,
        nsfw: false,
        parent: Some(Id(other_category)),
        overwrites: vec![member_overwrite],
        ..text
    };
    assert_eq!(t.write(Write::UpdateChannel { target: Id(text_id), channel: moved }).await, None);
    let view = t.sim.world(|w| w.channel(text_id)).expect("updated");
    assert_eq!((view.parent_id, view.topic, view.nsfw), (Some(other_category), None, false));
    assert_eq!(view.overwrites.iter().map(|o| (o.id, o.kind)).collect::<Vec<_>>(), [(t.member, 1)]);
    let unparented = Channel { parent: None, bitrate: Some(96_000), rtc_region: None, user_limit: Some(0), ..voice };
    t.write(Write::UpdateChannel { target: Id(voice_id), channel: unparented }).await;
    let view = t.sim.world(|w| w.channel(voice_id)).expect("updated");
    assert_eq!((view.parent_id, view.bitrate, view.rtc_region, view.user_limit), (None, 96_000, None, 0));
    let solved = t.sim.world(|w| w.channel(forum_id)).expect("forum").available_tags[1].id;
    let retagged = Channel {
        available_tags: vec![tag("Solved", true, Some("✅")), tag("New", false, None)],
        default_reaction_emoji: None,
        ..forum
    };
    t.write(Write::UpdateChannel { target: Id(forum_id), channel: retagged }).await;
    let view = t.sim.world(|w| w.channel(forum_id)).expect("updated");
    let tags: Vec<(&str, Option<&str>)> =
        view.available_tags.iter().map(|t| (t.name.as_str(), t.emoji_name.as_deref())).collect();
    assert_eq!(tags, [("Solved", Some("✅")), ("New", None)]);
    assert_eq!(view.available_tags[0].id, solved, "a tag of the same name keeps its id");
    assert_eq!(view.default_reaction_emoji, None);
    t.write(Write::UpdateChannel { target: Id(news), channel: Channel { topic: None, ..channel(0, "was-news") } })
        .await;
    assert_eq!(t.sim.world(|w| w.channel(news)).map(|c| (c.kind, c.name)), Some((0, "was-news".to_owned())));

    // Positions and parents in one call, then deletion.
    t.write(Write::PositionChannels(vec![
        (Id(text_id), Some(Id(category)), 3),
        (Id(stage), Some(Id(category)), 1),
        (Id(voice_id), None, 7),
    ]))
    .await;
    let view = |id| t.sim.world(|w| w.channel(id)).expect("a channel");
    assert_eq!((view(text_id).parent_id, view(text_id).position), (Some(category), 3));
    assert_eq!((view(stage).parent_id, view(stage).position), (Some(category), 1));
    assert_eq!((view(voice_id).parent_id, view(voice_id).position), (None, 7));
    assert_eq!(t.write(Write::DeleteChannel { target: Id(stage) }).await, None);
    assert!(t.sim.world(|w| w.channel(stage)).is_none());
    assert_spec_clean(&t.sim);
}

#[tokio::test]
async fn automod_rules_are_created_updated_and_deleted() {
    let alerts = std::cell::Cell::new(0);
    let t = target(|w, guild| alerts.set(w.add_channel(guild, 0, "alerts", None, 0))).await;
    let alerts = alerts.get();
    let rule = AutoModRule {
        name: "Links".into(),
        event_type: 1,
        trigger_type: 1,
        trigger_metadata: json!({
            "keyword_filter": ["bad", "*worse*"],
            "regex_patterns": ["b[a@]d"],
            "allow_list": ["badge"],
        }),
        actions: json!([
            {"type": 1, "metadata": {"custom_message": "Not here."}},
            {"type": 2, "metadata": {"channel_id": alerts.to_string()}},
            {"type": 3, "metadata": {"duration_seconds": 60}},
        ]),
        enabled: true,
        exempt_roles: vec![Id(t.role)],
        exempt_channels: vec![Id(alerts)],
        ..AutoModRule::default()
    };
    let created = t.create(Write::CreateAutoMod { rule: rule.clone() }).await;
    let view = t.sim.world(|w| w.automod_rule(t.guild, created)).expect("created");
    assert_eq!((view.name.as_str(), view.trigger_type, view.enabled), ("Links", 1, true));
    assert_eq!(
        (view.keyword_filter.clone(), view.regex_patterns.clone()),
        (vec!["bad".to_owned(), "*worse*".to_owned()], vec!["b[a@]d".to_owned()])
    );
    assert_eq!(view.actions.iter().map(|a| a.kind).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!((view.actions[1].channel_id, view.actions[2].duration_seconds), (Some(alerts), Some(60)));
    assert_eq!((view.exempt_roles, view.exempt_channels), (vec![t.role], vec![alerts]));
    let read = t.bot.auto_moderation(server(t.guild)).await.expect("rules");
    assert_eq!(read, vec![AutoModRule { id: Id(created), ..rule.clone() }], "read back as written");

    let changed = AutoModRule {
        name: "Links, relaxed".into(),
        trigger_metadata: json!({"keyword_filter": ["worst"], "regex_patterns": [], "allow_list": []}),
        actions: json!([{"type": 1, "metadata": {}}]),
        enabled: false,
        exempt_roles: Vec::new(),
        ..rule
    };
    assert_eq!(t.write(Write::UpdateAutoMod { target: Id(created), rule: changed }).await, None);
    let view = t.sim.world(|w| w.automod_rule(t.guild, created)).expect("updated");
    assert_eq!(
        (view.name.as_str(), view.enabled, view.keyword_filter.clone()),
        ("Links, relaxed", false, vec!["worst".to_owned()])
    );
    assert_eq!((view.actions.len(), view.exempt_roles.len()), (1, 0));
    let spam = AutoModRule {
        name: "Spam".into(),
        event_type: 1,
        trigger_type: 3,
        actions: json!([{"type": 1}]),
        ..AutoModRule::default()
    };
    let spam = t.create(Write::CreateAutoMod { rule: spam }).await;
    assert_eq!(t.sim.world(|w| w.automod_rule(t.guild, spam)).map(|r| r.trigger_type), Some(3));
    t.write(Write::DeleteAutoMod { target: Id(created) }).await;
    assert!(t.sim.world(|w| w.automod_rule(t.guild, created)).is_none());
    assert_spec_clean(&t.sim);
}

#[tokio::test]
async fn onboarding_is_put_and_reads_back_as_written() {
    let channels = std::cell::RefCell::new(Vec::new());
    let t = target(|w, guild| {
        for i in 0..8 {
            channels.borrow_mut().push(Id(w.add_channel(guild, 0, &format!("room-{i}"), None, i)));
        }
    })
    .await;
    let channels = channels.into_inner();
    let option = |title: &str, emoji: &str, channel: Id| OnboardingOption {
        title: title.into(),
        description: Some(format!("All about {title}")),
        emoji_id: None,
        emoji_name: Some(emoji.into()),
        channels: vec![channel],
        roles: vec![Id(t.role)],
    };
    let onboarding = Onboarding {
        enabled: true,
        mode: 0,
        default_channels: channels[..7].to_vec(),
        prompts: vec![
            OnboardingPrompt {
                title: "What brings you here?".into(),
                kind: 0,
                single_select: false,
                required: true,
                in_onboarding: true,
                options: vec![option("Games", "🎮", channels[1]), option("Art", "🎨", channels[7])],
            },
            OnboardingPrompt {
                title: "Region".into(),
                kind: 1,
                single_select: true,
                required: false,
                in_onboarding: false,
                options: vec![OnboardingOption {
                    description: None,
                    channels: Vec::new(),
                    ..option("Europe", "🇪🇺", channels[0])
                }],
            },
        ],
    };
    assert_eq!(t.write(Write::PutOnboarding { onboarding: onboarding.clone() }).await, None);
    let view = t.sim.world(|w| w.onboarding(t.guild)).expect("onboarding");
    assert!(view.enabled);
    assert_eq!(view.default_channel_ids, channels[..7].iter().map(|c| c.0).collect::<Vec<_>>());
    assert_eq!(view.prompts.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["What brings you here?", "Region"]);
    assert_eq!(view.prompts[0].options[1].channel_ids, [channels[7].0]);
    assert_eq!(view.prompts[0].options[1].role_ids, [t.role]);
    assert_eq!(view.prompts[1].options[0].emoji_name.as_deref(), Some("🇪🇺"));
    assert_ne!(view.prompts[0].id, view.prompts[1].id);
    assert_eq!(t.bot.onboarding(server(t.guild)).await.expect("onboarding"), Some(onboarding.clone()));

    // Put again: prompts replaced, onboarding turned off.
    let fewer = Onboarding { enabled: false, prompts: onboarding.prompts[1..].to_vec(), ..onboarding };
    t.write(Write::PutOnboarding { onboarding: fewer.clone() }).await;
    assert_eq!(t.bot.onboarding(server(t.guild)).await.expect("onboarding"), Some(fewer));
    assert_spec_clean(&t.sim);
}

#[tokio::test]
async fn settings_are_updated_with_the_icon() {
    let ids = std::cell::Cell::new((0, 0, 0));
    let t = target(|w, guild| {
        ids.set((
            w.add_channel(guild, 2, "AFK", None, 0),
            w.add_channel(guild, 0, "rules", None, 1),
            w.add_channel(guild, 0, "mods", None, 2),
        ));
    })
    .await;
    let (afk, rules, mods) = ids.get();
    let settings = GuildSettings {
        id: None,
        name: "Restored".into(),
        icon: Some("b".repeat(64)),
        description: Some("Back again".into()),
        verification_level: 2,
        default_message_notifications: 1,
        explicit_content_filter: 2,
        afk_channel: Some(Id(afk)),
        afk_timeout: 900,
        system_channel: Some(Id(rules)),
        system_channel_flags: 5,
        rules_channel: Some(Id(rules)),
        public_updates_channel: Some(Id(mods)),
        preferred_locale: "de".into(),
        // Read, never written: a restore cannot give a guild features or boosts.
        features: vec!["VERIFIED".into()],
        premium_tier: 3,
    };
    assert_eq!(t.write(Write::UpdateSettings { settings: settings.clone(), icon: Some(png()) }).await, None);
    let view = t.sim.world(|w| w.guild(t.guild)).expect("the guild");
    assert_eq!((view.name.as_str(), view.description.as_deref()), ("Restored", Some("Back again")));
    assert_eq!((view.verification_level, view.default_message_notifications, view.explicit_content_filter), (2, 1, 2));
    assert_eq!((view.afk_channel_id, view.afk_timeout), (Some(afk), 900));
    assert_eq!((view.system_channel_id, view.system_channel_flags), (Some(rules), 5));
    assert_eq!((view.rules_channel_id, view.public_updates_channel_id), (Some(rules), Some(mods)));
    assert_eq!(view.preferred_locale, "de");
    let hash = view.icon.expect("an icon");
    assert_eq!(t.sim.world(|w| w.cdn_bytes(&format!("icons/{}/{hash}", t.guild))), Some(samples::PNG.to_vec()));
    let read = t.bot.guild(server(t.guild)).await.expect("the guild");
    let (features, premium_tier) = (read.settings.features.clone(), 2);
    assert!(!features.iter().any(|f| f == "VERIFIED"), "{features:?}");
    assert_eq!(
        read.settings,
        GuildSettings { id: Some(Id(t.guild)), icon: None, features, premium_tier, ..settings.clone() }
    );
    let url = read.icon.expect("its icon's URL");
    assert_eq!(t.bot.download(&url, MAX_IMAGE_BYTES).await.expect("downloaded"), samples::PNG);

    // Channels unset; the icon the backup keeps stays when not given, goes when the backup has none.
    let unset = GuildSettings { afk_channel: None, system_channel: None, description: None, ..settings };
    t.write(Write::UpdateSettings { settings: unset.clone(), icon: None }).await;
    let view = t.sim.world(|w| w.guild(t.guild)).expect("the guild");
    assert_eq!((view.afk_channel_id, view.system_channel_id, view.description), (None, None, None));
    assert_eq!(view.icon, Some(hash));
    t.write(Write::UpdateSettings { settings: GuildSettings { icon: None, ..unset }, icon: None }).await;
    assert_eq!(t.sim.world(|w| w.guild(t.guild)).and_then(|g| g.icon), None);
    assert_spec_clean(&t.sim);
}

#[tokio::test]
async fn emojis_and_stickers_are_uploaded_edited_and_deleted() {
    let t = target(|_, _| {}).await;
    let party =
        Emoji { id: Id(0), name: "party".into(), animated: false, roles: vec![Id(t.role)], image: String::new() };
    let emoji = t.create(Write::CreateEmoji { emoji: party.clone(), image: png() }).await;
    let view = t.sim.world(|w| w.emoji(t.guild, emoji)).expect("uploaded");
    assert_eq!((view.name.as_str(), view.roles.clone(), view.animated), ("party", vec![t.role], false));
    assert_eq!(t.sim.world(|w| w.cdn_bytes(&format!("emojis/{emoji}"))), Some(samples::PNG.to_vec()));
    let dancing =
        t.create(Write::CreateEmoji { emoji: Emoji { name: "dancing".into(), ..party.clone() }, image: gif() }).await;
    assert_eq!(t.sim.world(|w| w.emoji(t.guild, dancing)).map(|e| e.animated), Some(true));
    let renamed = Emoji { name: "party_time".into(), roles: Vec::new(), ..party };
    assert_eq!(t.write(Write::UpdateEmoji { target: Id(emoji), emoji: renamed }).await, None);
    let view = t.sim.world(|w| w.emoji(t.guild, emoji)).expect("edited");
    assert_eq!((view.name.as_str(), view.roles.len()), ("party_time", 0));
    t.write(Write::DeleteEmoji { target: Id(dancing) }).await;
    assert!(t.sim.world(|w| w.emoji(t.guild, dancing)).is_none());

    let wave = Sticker {
        id: Id(0),
        name: "Wave".into(),
        description: Some("Hello there".into()),
        tags: "wave".into(),
        format: 1,
        file: String::new(),
    };
    let sticker = t.create(Write::CreateSticker { sticker: wave.clone(), file: png() }).await;
    let view = t.sim.world(|w| w.sticker(t.guild, sticker)).expect("uploaded");
    assert_eq!(
        (view.name.as_str(), view.description.as_deref(), view.tags.as_str(), view.format_type),
        ("Wave", Some("Hello there"), "wave", 1)
    );
    assert_eq!(t.sim.world(|w| w.cdn_bytes(&format!("stickers/{sticker}"))), Some(samples::PNG.to_vec()));
    let gif_sticker =
        t.create(Write::CreateSticker { sticker: Sticker { name: "Dance".into(), ..wave.clone() }, file: gif() }).await;
    assert_eq!(t.sim.world(|w| w.sticker(t.guild, gif_sticker)).map(|s| s.format_type), Some(4));
    // Read back as a backup reads them, files downloadable.
    let read = t.bot.guild(server(t.guild)).await.expect("the guild");
    let (read_sticker, url) = read.stickers.iter().find(|(s, _)| s.id == Id(gif_sticker)).expect("listed");
    assert_eq!((read_sticker.format, read_sticker.name.as_str()), (4, "Dance"));
    assert_eq!(t.bot.download(url, MAX_IMAGE_BYTES).await.expect("downloaded"), samples::ANIMATED_GIF);
    assert_eq!(read.emojis.len(), 1);

    let edited = Sticker { name: "Waving".into(), description: None, tags: "hand".into(), ..wave };
    assert_eq!(t.write(Write::UpdateSticker { target: Id(sticker), sticker: edited }).await, None);
    let view = t.sim.world(|w| w.sticker(t.guild, sticker)).expect("edited");
    assert_eq!((view.name.as_str(), view.description, view.tags.as_str()), ("Waving", None, "hand"));
    t.write(Write::DeleteSticker { target: Id(gif_sticker) }).await;
    assert!(t.sim.world(|w| w.sticker(t.guild, gif_sticker)).is_none());
    // Not an image Discord takes: refused before anything is sent.
    let refused = t
        .bot
        .write(
            server(t.guild),
            Write::CreateEmoji {
                emoji: Emoji { name: "x".repeat(3), ..read.emojis[0].0.clone() },
                image: Image(b"<html>".to_vec()),
            },
        )
        .await;
    assert!(matches!(refused, Err(DiscordError::Rejected(_))), "{refused:?}");
    assert_spec_clean(&t.sim);
}

#[tokio::test]
async fn bans_are_written_in_bulk() {
    let users = std::cell::RefCell::new(Vec::new());
    let t = target(|w, _| {
        for i in 0..6 {
            users.borrow_mut().push(w.add_user(&format!("Raider {i}")));
        }
    })
    .await;
    let users = users.into_inner();
    let ban = |user: u64, reason: Option<&str>| Ban { user: Id(user), reason: reason.map(str::to_owned) };
    // One reason for all: it is each ban's reason.
    let raid: Vec<Ban> = users[..3].iter().map(|u| ban(*u, Some("Raid"))).collect();
    assert_eq!(t.write(Write::Ban { bans: raid.clone() }).await, None);
    for user in &users[..3] {
        assert_eq!(t.sim.world(|w| w.ban_reason(t.guild, *user)).as_deref(), Some("Raid"));
    }
    // Mixed reasons: banned all the same, in one call; the member among them leaves.
    let mixed = vec![
        ban(users[3], Some("Spam")),
        ban(users[4], None),
        ban(t.member, Some("Raid")),
        ban(users[0], Some("Raid")),
    ];
    t.write(Write::Ban { bans: mixed }).await;
    for user in [users[3], users[4], t.member] {
        assert!(t.sim.world(|w| w.is_banned(t.guild, user)), "{user} banned");
    }
    assert!(t.sim.world(|w| w.member(t.guild, t.member)).is_none());
    assert_eq!(t.sim.calls("POST", "/guilds/{guild_id}/bulk-ban"), 2);
    // Nobody left to ban: no failure.
    assert_eq!(t.write(Write::Ban { bans: raid }).await, None);
    let too_many: Vec<Ban> = (0..201).map(|i| ban(users[5] + 1_000 + i, None)).collect();
    let refused = t.bot.write(server(t.guild), Write::Ban { bans: too_many }).await;
    assert!(matches!(refused, Err(DiscordError::Rejected(_))), "{refused:?}");
    assert_eq!(t.sim.calls("POST", "/guilds/{guild_id}/bulk-ban"), 3, "more than 200 are not sent");
    assert!(!t.sim.world(|w| w.is_banned(t.guild, users[5])));
    assert_spec_clean(&t.sim);
}

#[tokio::test]
async fn members_roles_are_set_whole_and_a_member_who_left_is_no_failure() {
    let extra = std::cell::Cell::new(0);
    let t = target(|w, guild| extra.set(w.add_role(guild, "Veteran", 0, 2))).await;
    let extra = extra.get();
    let roles = |t: &Target| {
        let mut roles = t.sim.world(|w| w.member(t.guild, t.member).expect("a member").roles);
        roles.sort_unstable();
        roles
    };
    // The whole list: one role added, the other taken off.
    let set = Write::SetMemberRoles { user: Id(t.member), roles: vec![Id(extra)] };
    assert_eq!(t.write(set).await, None);
    assert_eq!(roles(&t), [extra]);
    let both = Write::SetMemberRoles { user: Id(t.member), roles: vec![Id(t.role), Id(extra)] };
    t.write(both).await;
    let mut expected = vec![t.role, extra];
    expected.sort_unstable();
    assert_eq!(roles(&t), expected);
    assert_eq!(t.sim.calls("PATCH", "/guilds/{guild_id}/members/{user_id}"), 2);
    // Someone who is not (or no longer) a member: nothing to give, no failure.
    let gone = Write::SetMemberRoles { user: Id(t.member + 999), roles: vec![Id(extra)] };
    assert_eq!(t.write(gone).await, None);
    assert_spec_clean(&t.sim);
}

#[tokio::test]
async fn the_guild_s_features_and_boost_level_are_read() {
    let t = target(|_, _| {}).await;
    let guild = t.bot.guild(server(t.guild)).await.expect("the guild reads");
    let mut features = guild.settings.features.clone();
    features.sort();
    assert_eq!(features, ["COMMUNITY", "ENHANCED_ROLE_COLORS", "NEWS", "ROLE_ICONS"]);
    assert_eq!(guild.settings.premium_tier, 2);
    assert!(guild.settings.has("ROLE_ICONS"));
}

// ----- downloads -----

#[tokio::test]
async fn downloads_stay_on_the_cdn_and_within_their_size() {
    let (world, large) = World::demo_large();
    let guild = large.guild.guild;
    let (sim, _, bot) = start(world, &large.bot.token).await;
    let read = bot.guild(server(guild)).await.expect("the guild");
    let (_, url) = read.emojis.iter().find(|(e, _)| e.animated).expect("an animated emoji");
    let size = samples::ANIMATED_GIF.len() as u64;
    assert_eq!(bot.download(url, size).await.expect("exactly its size"), samples::ANIMATED_GIF);
    let too_large = bot.download(url, size - 1).await;
    assert!(matches!(too_large, Err(DiscordError::Rejected(_))), "{too_large:?}");

    let before = sim.total_calls();
    for elsewhere in [
        format!("{}/api/v10/users/@me", sim.base_url()),
        format!("{}/../api/v10/users/@me", sim.cdn_url()),
        format!("{}/%2e%2e/api/v10/guilds/{guild}", sim.cdn_url()),
        sim.cdn_url().replace("/sim/cdn", "/sim/cdnx/emojis/1.png"),
        format!("https://cdn.discordapp.com/emojis/{}.png", large.guild.emojis[0]),
        "not a url".to_owned(),
    ] {
        let refused = bot.download(&ImageUrl(elsewhere.clone()), MAX_IMAGE_BYTES).await;
        assert!(matches!(refused, Err(DiscordError::Rejected(_))), "{elsewhere}: {refused:?}");
    }
    assert_eq!(sim.total_calls(), before, "nothing was fetched");
    let missing = bot.download(&ImageUrl(format!("{}/emojis/1.png", sim.cdn_url())), MAX_IMAGE_BYTES).await;
    assert!(matches!(missing, Err(DiscordError::Rejected(_))), "{missing:?}");
}

// ----- refusals and rights -----

#[tokio::test]
async fn a_missing_permission_is_missing_permission() {
    let (mut world, large) = World::demo_large();
    let guild = large.guild.guild;
    let helper = world.add_bot("Helper");
    let role = world.add_role(guild, "Helper", VIEW_CHANNEL | SEND_MESSAGES, 5);
    world.add_member(guild, helper.user_id, &[role]);
    let (sim, bots, bot) = start(world, &helper.token).await;
    let id = server(guild);
    assert_eq!(bot.user_id(), Snowflake::from_raw(helper.user_id));
    assert_eq!(bot.bans(id, None).await, Err(DiscordError::MissingPermission { permission: None }));
    assert_eq!(bot.auto_moderation(id).await, Err(DiscordError::MissingPermission { permission: None }));
    let create =
        bot.write(id, Write::CreateRole { role: Role { name: "Nope".into(), ..Role::default() }, icon: None }).await;
    assert_eq!(create, Err(DiscordError::MissingPermission { permission: None }));
    assert!(!bot.standing(id).await.expect("its rights").administrator);
    // The realistic guild's own bot has many rights but not ADMINISTRATOR.
    let main = BackupBots::bot(&bots, &BotToken::new(&large.bot.token).expect("a token")).await.expect("accepted");
    assert!(!main.standing(id).await.expect("its rights").administrator);
    // An unknown guild, and an invalid token.
    let unknown = bot.roles(server(guild + 1_000_000)).await;
    assert!(matches!(unknown, Err(DiscordError::Unknown(_) | DiscordError::NotMember)), "{unknown:?}");
    let invalid = sim.world(World::unknown_bot_token);
    let refused = BackupBots::bot(&bots, &BotToken::new(&invalid).expect("shaped like a token")).await.map(|_| ());
    assert_eq!(refused, Err(DiscordError::InvalidToken));
}

#[tokio::test]
async fn administrators_and_owners_are_administrators() {
    let (mut world, large) = World::demo_large();
    let realistic = large.guild;
    let admin = world.add_bot("Admin");
    world.add_member(realistic.guild, admin.user_id, &[realistic.admin_role]);
    let owner = world.add_bot("Owner");
    let owned = world.add_guild("Owned", owner.user_id);
    let (_sim, bots, bot) = start(world, &admin.token).await;
    let standing = bot.standing(server(realistic.guild)).await.expect("its rights");
    assert!(standing.administrator);
    assert_eq!(standing.roles, [garrison_core::backups::format::Id(realistic.admin_role)], "the roles it holds");
    let owner = BackupBots::bot(&bots, &BotToken::new(&owner.token).expect("a token")).await.expect("accepted");
    assert!(owner.standing(server(owned)).await.expect("its rights").administrator);
    assert_eq!(owner.bans(server(owned), None).await.expect("the owner may"), Vec::new());
}

#[tokio::test]
async fn backup_bots_share_token_checks_and_rate_limits_with_every_other_route() {
    let (world, large) = World::demo_large();
    let guild = large.guild.guild;
    let config = DiscordConfig { wait_budget: Duration::from_millis(300), ..DiscordConfig::default() };
    let (sim, bots, bot) = start_with(world, &large.bot.token, config).await;
    let token = BotToken::new(&large.bot.token).expect("a token");
    DiscordBots::bot(&bots, &token).await.expect("the same bot");
    BackupBots::bot(&bots, &token).await.expect("the same bot");
    assert_eq!((bots.token_checks(), sim.calls("GET", "/users/@me")), (1, 1), "one check for both ports");
    // Room for new channels, then Discord's limit on creating them: the sixth in five seconds waits
    // longer than the budget, so the caller is told to retry.
    sim.world(|w| {
        for channel in large.guild.channels.iter().rev().take(10) {
            w.remove_channel(*channel);
        }
    });
    let (limit, _) = CHANNEL_CREATE_RATE_LIMIT;
    for i in 0..limit {
        let created = bot.write(server(guild), Write::CreateChannel { channel: channel(0, &format!("new-{i}")) }).await;
        assert!(matches!(created, Ok(Some(_))), "{created:?}");
    }
    let limited = bot.write(server(guild), Write::CreateChannel { channel: channel(0, "one-too-many") }).await;
    assert!(matches!(limited, Err(DiscordError::RateLimited { .. })), "{limited:?}");
    assert!(sim.world(|w| w.channels(guild).iter().all(|c| c.name != "one-too-many")));
}
