//! A seeded demo server, for trying Garrison against the simulator and for tests that want a
//! realistic guild without building one.

use serde_json::json;

use crate::permissions::*;
use crate::time::Timestamp;
use crate::world::{Bot, World};

/// The invite code of the demo server.
pub const DEMO_INVITE: &str = "garrison-demo";

/// The demo OAuth2 app's redirect URI: Garrison's Discord sign-in callback on its default address.
pub const DEMO_OAUTH_REDIRECT_URI: &str = "http://127.0.0.1:8080/verify/discord/callback";

/// The ids in the world [`World::demo`] builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demo {
    /// The bot, a member with the Moderator role and its own managed role.
    pub bot: Bot,
    /// The demo guild, "Garrison Demo".
    pub guild: u64,
    /// The guild's owner.
    pub owner: u64,
    /// A member with the Administrator role, above the bot.
    pub admin: u64,
    /// A member with the Moderator role, level with the bot (so the bot cannot act on them).
    pub moderator: u64,
    /// A member who boosts the guild (Server Booster role, `premium_since` set).
    pub booster: u64,
    /// Ordinary members with the Member role (some also Officer), by user id.
    pub members: Vec<u64>,
    /// A user with DMs closed who is a member.
    pub dms_closed: u64,
    /// A user who is banned (reason "Raiding").
    pub banned: u64,
    /// "Administrator": ADMINISTRATOR, position 8.
    pub admin_role: u64,
    /// "Moderator": moderation permissions, position 7, held by the bot.
    pub moderator_role: u64,
    /// "Garrison": the bot's managed role, position 6.
    pub bot_role: u64,
    /// "Officer", position 4.
    pub officer_role: u64,
    /// "Member", position 3.
    pub member_role: u64,
    /// "Server Booster": managed booster role, position 2.
    pub booster_role: u64,
    /// Categories: Information, Community, Staff, Voice.
    pub categories: [u64; 4],
    /// "#welcome" (text, in Information), where the invite opens.
    pub welcome: u64,
    /// "#announcements" (announcement channel, in Information).
    pub announcements: u64,
    /// "#general" (text, in Community), with a history of messages.
    pub general: u64,
    /// "#staff" (text, in Staff): hidden from `@everyone`, open to Moderator and Administrator.
    pub staff: u64,
    /// "#mod-log" (text, in Staff): the bot may not send here (overwrite denies SEND_MESSAGES).
    pub mod_log: u64,
    /// "Lounge" (voice, in Voice), where the moderator and the booster are (the booster muted).
    pub voice: u64,
    /// "suggestions" (forum, in Community).
    pub forum: u64,
    /// The invite code ("garrison-demo").
    pub invite: String,
    /// Auto-moderation rules.
    pub automod_rules: Vec<u64>,
    /// The OAuth2 app's client id: the bot's application (its user id).
    pub oauth_client_id: u64,
    /// The OAuth2 app's client secret (32 random letters and digits).
    pub oauth_client_secret: String,
    /// The OAuth2 app's one registered redirect URI, [`DEMO_OAUTH_REDIRECT_URI`] (add more with
    /// [`World::add_oauth_redirect_uri`]).
    pub oauth_redirect_uri: String,
}

/// The Moderator role's permissions: moderation without ADMINISTRATOR.
pub const MODERATOR_PERMISSIONS: u64 = KICK_MEMBERS
    | BAN_MEMBERS
    | MANAGE_CHANNELS
    | MANAGE_GUILD
    | VIEW_AUDIT_LOG
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | MANAGE_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MANAGE_NICKNAMES
    | MANAGE_ROLES
    | MODERATE_MEMBERS;

impl World {
    /// A seeded demo server: an owner, an administrator above the bot, the bot with a "Moderator"
    /// role high in the list, members with roles, a booster, categories with text, announcement,
    /// voice and forum channels, a message history, the invite `garrison-demo`, auto-moderation
    /// rules, and an OAuth2 app (the bot's application) for signing in with Discord. Nobody consents
    /// to the app until a test chooses someone with [`World::set_oauth_user`].
    pub fn demo() -> (World, Demo) {
        let mut world = World::new();
        let day = 24 * 60 * 60 * 1000;
        let now = Timestamp::now();
        let owner = world.add_user_created_at("Avery", now.plus_ms(-2200 * day));
        let bot = world.add_bot("Garrison");
        let guild = world.add_guild("Garrison Demo", owner);
        world.set_guild_features(guild, &["COMMUNITY", "ROLE_ICONS", "NEWS", "AUTO_MODERATION"]);
        world.set_premium_tier(guild, 1);
        world.set_guild_icon(guild, Some("a1b2c3d4e5f60718293a4b5c6d7e8f90"));

        let admin_role = world.add_role(guild, "Administrator", ADMINISTRATOR, 8);
        let moderator_role = world.add_role(guild, "Moderator", MODERATOR_PERMISSIONS, 7);
        let bot_role = world.add_role(guild, "Garrison", VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS, 6);
        world.set_bot_role(guild, bot_role, bot.user_id);
        let staff_role = world.add_role(guild, "Staff", VIEW_AUDIT_LOG, 5);
        let officer_role = world.add_role(guild, "Officer", 0, 4);
        let member_role = world.add_role(guild, "Member", 0, 3);
        let booster_role = world.add_role(guild, "Server Booster", 0, 2);
        world.set_booster_role(guild, booster_role);
        world.set_role_color(guild, admin_role, 0xe7_4c3c);
        world.set_role_color(guild, moderator_role, 0x34_98db);
        world.set_role_color(guild, officer_role, 0xf1_c40f);
        world.set_role_color(guild, member_role, 0x2e_cc71);
        world.set_role_color(guild, booster_role, 0xf4_7fff);
        world.set_role_icon(guild, officer_role, None, Some("🎖️"));
        for role in [admin_role, moderator_role, staff_role, officer_role] {
            world.set_role_hoist(guild, role, true);
        }

        world.add_member(guild, bot.user_id, &[moderator_role, bot_role]);
        let admin = world.add_user_created_at("Blake", now.plus_ms(-1500 * day));
        world.add_member(guild, admin, &[admin_role, staff_role]);
        let moderator = world.add_user_created_at("Casey", now.plus_ms(-900 * day));
        world.add_member(guild, moderator, &[moderator_role, staff_role]);
        let booster = world.add_user_created_at("Gray", now.plus_ms(-600 * day));
        world.add_member(guild, booster, &[member_role, booster_role]);
        world.set_premium_since(guild, booster, Some(&now.plus_ms(-45 * day).iso()));
        let dms_closed = world.add_user_created_at("Quinn", now.plus_ms(-300 * day));
        world.add_member(guild, dms_closed, &[member_role]);
        world.set_dms_open(dms_closed, false);

        let names = [
            "Devon", "Emery", "Finley", "Harper", "Indigo", "Jordan", "Kai", "Logan", "Morgan", "Nico", "Oakley",
            "Parker", "Reese", "Rowan", "Sage", "Skyler", "Tatum", "Umber", "Vesper", "Winter", "Xen", "Yael", "Zion",
            "Alex", "Bailey",
        ];
        let mut members = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let age = i64::try_from(i).unwrap_or(0) * 37 + 3;
            let user = world.add_user_created_at(name, now.plus_ms(-age * day));
            let roles: &[u64] = if i % 5 == 0 { &[member_role, officer_role] } else { &[member_role] };
            world.add_member(guild, user, roles);
            world.set_joined_at(guild, user, now.plus_ms(-(age / 2 + 1) * day));
            if i % 3 == 0 {
                world.set_online(user, true);
            }
            members.push(user);
        }
        for user in [owner, admin, moderator] {
            world.set_online(user, true);
        }
        members.sort_unstable();

        let banned = world.add_user_created_at("Raider", now.plus_ms(-2 * day));
        world.add_ban(guild, banned, Some("Raiding"));

        let information = world.add_channel(guild, 4, "Information", None, 0);
        let community = world.add_channel(guild, 4, "Community", None, 1);
        let staff_category = world.add_channel(guild, 4, "Staff", None, 2);
        let voice_category = world.add_channel(guild, 4, "Voice", None, 3);
        let welcome = world.add_channel(guild, 0, "welcome", Some(information), 0);
        let announcements = world.add_channel(guild, 5, "announcements", Some(information), 1);
        let general = world.add_channel(guild, 0, "general", Some(community), 2);
        let forum = world.add_channel(guild, 15, "suggestions", Some(community), 3);
        let staff = world.add_channel(guild, 0, "staff", Some(staff_category), 4);
        let mod_log = world.add_channel(guild, 0, "mod-log", Some(staff_category), 5);
        let voice = world.add_channel(guild, 2, "Lounge", Some(voice_category), 6);
        world.add_channel(guild, 13, "Town Hall", Some(voice_category), 7);
        world.set_voice_state(guild, moderator, Some(voice));
        world.set_voice_state(guild, booster, Some(voice));
        world.set_self_mute(guild, booster, true);
        world.set_channel_topic(welcome, Some("Say hello and read the rules."));
        world.set_channel_topic(general, Some("Anything goes (within the rules)."));
        for channel in [staff_category, staff, mod_log] {
            world.add_overwrite(channel, guild, 0, 0, VIEW_CHANNEL);
            world.add_overwrite(channel, moderator_role, 0, VIEW_CHANNEL, 0);
            world.add_overwrite(channel, admin_role, 0, VIEW_CHANNEL, 0);
        }
        world.add_overwrite(mod_log, bot.user_id, 1, 0, SEND_MESSAGES);
        world.add_overwrite(announcements, guild, 0, 0, SEND_MESSAGES);

        world.add_message(
            welcome,
            owner,
            "Welcome to the Garrison demo server! Read the rules and say hi in #general.",
        );
        world.add_message_json(
            announcements,
            bot.user_id,
            json!({
                "content": "",
                "embeds": [{
                    "title": "Garrison is online",
                    "description": "Levels, medals and moderation are ready.",
                    "color": 0x34_98db,
                    "fields": [{"name": "Prefix", "value": "/", "inline": true}]
                }],
                "components": [{"type": 1, "components": [{"type": 2, "style": 5, "label": "Docs", "url": "https://example.invalid/garrison"}]}]
            }),
        );
        let chatter = [
            "hey all",
            "anyone up for a game later?",
            "the new medals look great",
            "gg last night",
            "what's the xp rate here?",
            "lol",
            "welcome to the new folks!",
            "can a mod check #suggestions",
            "brb",
            "back",
            "who's on tonight?",
            "I just hit level 10",
            "congrats!",
            "thanks <3",
            "is the event still on saturday?",
            "yes, 8pm UTC",
            "nice",
            "see you then",
            "night all",
            "morning",
        ];
        for (i, text) in chatter.iter().enumerate() {
            let author = members[i % members.len()];
            world.add_message(general, author, text);
        }
        world.add_message(general, moderator, &format!("Reminder: be kind. <@{}> keeps score.", bot.user_id));
        world.add_message(staff, admin, "Staff meeting moved to Friday.");

        world.add_invite(DEMO_INVITE, guild, welcome);
        let slurs = world.add_automod_rule(guild, "Block slurs");
        world.set_automod_keywords(guild, slurs, &["badword", "worseword"]);
        let invites = world.add_automod_rule(guild, "No invite spam");
        world.set_automod_keywords(guild, invites, &["discord.gg/*"]);

        let oauth_client_secret = world.random_alphanumeric(32);
        world.add_oauth_app(bot.user_id, &oauth_client_secret, &[DEMO_OAUTH_REDIRECT_URI]);

        let oauth_client_id = bot.user_id;
        let demo = Demo {
            bot,
            guild,
            owner,
            admin,
            moderator,
            booster,
            members,
            dms_closed,
            banned,
            admin_role,
            moderator_role,
            bot_role,
            officer_role,
            member_role,
            booster_role,
            categories: [information, community, staff_category, voice_category],
            welcome,
            announcements,
            general,
            staff,
            mod_log,
            voice,
            forum,
            invite: DEMO_INVITE.to_owned(),
            automod_rules: vec![slurs, invites],
            oauth_client_id,
            oauth_client_secret,
            oauth_redirect_uri: DEMO_OAUTH_REDIRECT_URI.to_owned(),
        };
        (world, demo)
    }
}
