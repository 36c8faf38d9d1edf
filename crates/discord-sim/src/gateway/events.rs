//! The world's side of the gateway: the dispatches each kind of change queues. Nothing is queued
//! while no session exists (`World::gateway_listening`), so worlds without a gateway client pay
//! nothing; the payloads are rendered when the change happens, as Discord sends them.

use serde_json::{Value, json};

use super::{Data, Dispatch, Effect, intents};
use crate::json;
use crate::permissions::{BAN_MEMBERS, MANAGE_GUILD, VIEW_AUDIT_LOG};
use crate::world::{VoiceStateView, World};

/// A guild event for members of the guild with any of `intents`.
fn guild_dispatch(name: &'static str, guild: u64, intents: u64, data: Value) -> Dispatch {
    Dispatch { name, guild: Some(guild), bot: None, intents, about_user: None, permissions: 0, data: Data::Json(data) }
}

/// Adds `guild_id` to an object.
fn with_guild_id(mut value: Value, guild: u64) -> Value {
    if let Some(object) = value.as_object_mut() {
        object.insert("guild_id".into(), Value::String(guild.to_string()));
    }
    value
}

impl World {
    fn queue(&mut self, dispatch: Dispatch) {
        self.events.push(Effect::Dispatch(dispatch));
    }

    /// GUILD_UPDATE (GUILDS).
    pub(crate) fn emit_guild_update(&mut self, guild: u64) {
        if !self.gateway_listening {
            return;
        }
        let Some(state) = self.guilds.get(&guild) else { return };
        let data = json::guild(self, state, false);
        self.queue(guild_dispatch("GUILD_UPDATE", guild, intents::GUILDS, data));
    }

    /// GUILD_MEMBER_ADD (GUILD_MEMBERS); a bot that joined also gets GUILD_CREATE (GUILDS).
    pub(crate) fn emit_member_add(&mut self, guild: u64, user: u64) {
        if !self.gateway_listening {
            return;
        }
        let Some(member) = self.guilds.get(&guild).and_then(|g| g.members.get(&user)) else { return };
        let data = with_guild_id(json::member(self, member), guild);
        self.queue(guild_dispatch("GUILD_MEMBER_ADD", guild, intents::GUILD_MEMBERS, data));
        if self.users.get(&user).is_some_and(|u| u.bot) {
            self.queue(Dispatch {
                name: "GUILD_CREATE",
                guild: Some(guild),
                bot: Some(user),
                intents: intents::GUILDS,
                about_user: None,
                permissions: 0,
                data: Data::GuildCreate(guild),
            });
        }
    }

    /// GUILD_MEMBER_UPDATE (GUILD_MEMBERS, or about the bot itself).
    pub(crate) fn emit_member_update(&mut self, guild: u64, user: u64) {
        if !self.gateway_listening {
            return;
        }
        let Some(member) = self.guilds.get(&guild).and_then(|g| g.members.get(&user)) else { return };
        let data = with_guild_id(json::member(self, member), guild);
        let mut dispatch = guild_dispatch("GUILD_MEMBER_UPDATE", guild, intents::GUILD_MEMBERS, data);
        dispatch.about_user = Some(user);
        self.queue(dispatch);
    }

    /// GUILD_MEMBER_UPDATE in every guild of a user whose user object changed.
    pub(crate) fn emit_user_update(&mut self, user: u64) {
        if !self.gateway_listening {
            return;
        }
        let guilds: Vec<u64> =
            self.guilds.values().filter(|g| g.members.contains_key(&user)).map(|g| g.info.id).collect();
        for guild in guilds {
            self.emit_member_update(guild, user);
        }
    }

    /// GUILD_MEMBER_REMOVE (GUILD_MEMBERS) of a user no longer in the guild; a bot that left also
    /// gets GUILD_DELETE (GUILDS).
    pub(crate) fn emit_member_remove(&mut self, guild: u64, user: u64) {
        if !self.gateway_listening {
            return;
        }
        let data = json!({"guild_id": guild.to_string(), "user": json::user_by_id(self, user)});
        self.queue(guild_dispatch("GUILD_MEMBER_REMOVE", guild, intents::GUILD_MEMBERS, data));
        if self.users.get(&user).is_some_and(|u| u.bot) {
            self.queue(Dispatch {
                name: "GUILD_DELETE",
                guild: Some(guild),
                bot: Some(user),
                intents: intents::GUILDS,
                about_user: None,
                permissions: 0,
                data: Data::Json(json!({"id": guild.to_string()})),
            });
        }
    }

    /// GUILD_ROLE_CREATE or GUILD_ROLE_UPDATE (GUILDS).
    pub(crate) fn emit_role(&mut self, name: &'static str, guild: u64, role: u64) {
        if !self.gateway_listening {
            return;
        }
        let Some(view) = self.guilds.get(&guild).and_then(|g| g.roles.get(&role)) else { return };
        let data = json!({"guild_id": guild.to_string(), "role": json::role(view)});
        self.queue(guild_dispatch(name, guild, intents::GUILDS, data));
    }

    /// GUILD_ROLE_DELETE (GUILDS).
    pub(crate) fn emit_role_delete(&mut self, guild: u64, role: u64) {
        if !self.gateway_listening {
            return;
        }
        let data = json!({"guild_id": guild.to_string(), "role_id": role.to_string()});
        self.queue(guild_dispatch("GUILD_ROLE_DELETE", guild, intents::GUILDS, data));
    }

    /// CHANNEL_CREATE or CHANNEL_UPDATE (GUILDS) of a guild channel.
    pub(crate) fn emit_channel(&mut self, name: &'static str, channel: u64) {
        if !self.gateway_listening {
            return;
        }
        let Some(view) = self.channels.get(&channel) else { return };
        let Some(guild) = view.guild_id else { return };
        let data = json::channel(self, view, None);
        self.queue(guild_dispatch(name, guild, intents::GUILDS, data));
    }

    /// CHANNEL_DELETE (GUILDS), with the channel as it was.
    pub(crate) fn emit_channel_delete(&mut self, guild: u64, channel: Value) {
        if self.gateway_listening {
            self.queue(guild_dispatch("CHANNEL_DELETE", guild, intents::GUILDS, channel));
        }
    }

    /// GUILD_BAN_ADD or GUILD_BAN_REMOVE (GUILD_MODERATION, to bots with BAN_MEMBERS or
    /// VIEW_AUDIT_LOG).
    pub(crate) fn emit_ban(&mut self, guild: u64, user: u64, added: bool) {
        if !self.gateway_listening {
            return;
        }
        let data = json!({"guild_id": guild.to_string(), "user": json::user_by_id(self, user)});
        let name = if added { "GUILD_BAN_ADD" } else { "GUILD_BAN_REMOVE" };
        let mut dispatch = guild_dispatch(name, guild, intents::GUILD_MODERATION, data);
        dispatch.permissions = BAN_MEMBERS | VIEW_AUDIT_LOG;
        self.queue(dispatch);
    }

    /// AUTO_MODERATION_RULE_CREATE or AUTO_MODERATION_RULE_UPDATE (AUTO_MODERATION_CONFIGURATION, to
    /// bots with MANAGE_GUILD).
    pub(crate) fn emit_automod(&mut self, name: &'static str, guild: u64, rule: u64) {
        if !self.gateway_listening {
            return;
        }
        let Some(view) = self.guilds.get(&guild).and_then(|g| g.automod.get(&rule)) else { return };
        self.emit_automod_body(name, guild, json::automod_rule(view));
    }

    /// An auto-moderation rule event with the rule as given (AUTO_MODERATION_RULE_DELETE sends the
    /// rule as it was).
    pub(crate) fn emit_automod_body(&mut self, name: &'static str, guild: u64, rule: Value) {
        if !self.gateway_listening {
            return;
        }
        let mut dispatch = guild_dispatch(name, guild, intents::AUTO_MODERATION_CONFIGURATION, rule);
        dispatch.permissions = MANAGE_GUILD;
        self.queue(dispatch);
    }

    /// GUILD_EMOJIS_UPDATE (GUILD_EXPRESSIONS): every emoji of the guild.
    pub(crate) fn emit_emojis_update(&mut self, guild: u64) {
        if !self.gateway_listening {
            return;
        }
        let Some(state) = self.guilds.get(&guild) else { return };
        let emojis: Vec<Value> = state.emojis.values().map(|e| json::emoji(self, e, false)).collect();
        let data = json!({"guild_id": guild.to_string(), "emojis": emojis});
        self.queue(guild_dispatch("GUILD_EMOJIS_UPDATE", guild, intents::GUILD_EXPRESSIONS, data));
    }

    /// GUILD_STICKERS_UPDATE (GUILD_EXPRESSIONS): every sticker of the guild.
    pub(crate) fn emit_stickers_update(&mut self, guild: u64) {
        if !self.gateway_listening {
            return;
        }
        let Some(state) = self.guilds.get(&guild) else { return };
        let stickers: Vec<Value> = state.stickers.values().map(|s| json::sticker(self, s, false)).collect();
        let data = json!({"guild_id": guild.to_string(), "stickers": stickers});
        self.queue(guild_dispatch("GUILD_STICKERS_UPDATE", guild, intents::GUILD_EXPRESSIONS, data));
    }

    /// INTERACTION_CREATE to one application's sessions (on the guild's shard; no intent needed).
    pub(crate) fn emit_interaction_create(&mut self, application: u64, guild: u64, payload: Value) {
        if !self.gateway_listening {
            return;
        }
        self.queue(Dispatch {
            name: "INTERACTION_CREATE",
            guild: Some(guild),
            bot: Some(application),
            intents: 0,
            about_user: None,
            permissions: 0,
            data: Data::Json(payload),
        });
    }

    /// VOICE_STATE_UPDATE (GUILD_VOICE_STATES): the state with the member, and `channel_id` null
    /// when the user left voice.
    pub(crate) fn emit_voice_state(&mut self, state: &VoiceStateView, left: bool) {
        if !self.gateway_listening {
            return;
        }
        let mut data = json::voice_state(state);
        if left {
            data["channel_id"] = Value::Null;
        }
        if let Some(member) = self.guilds.get(&state.guild_id).and_then(|g| g.members.get(&state.user_id)) {
            data["member"] = json::member(self, member);
        }
        self.queue(guild_dispatch("VOICE_STATE_UPDATE", state.guild_id, intents::GUILD_VOICE_STATES, data));
    }
}
