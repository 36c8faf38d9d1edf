//! What one gateway session has seen of its guilds, kept compact: channels, roles, voice states, and
//! members (all of them once a full member list was asked for, otherwise those Discord sent). Events
//! are applied as they arrive; answers are built from here without asking Discord.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use garrison_core::ServerId;
use garrison_core::discord::Snowflake;
use garrison_core::discord::live::{GuildRoster, LiveMember, LiveRole, VoiceChannelInfo, VoiceMember};
use twilight_model::channel::Channel as TwilightChannel;
use twilight_model::gateway::event::Event;
use twilight_model::gateway::payload::incoming::GuildCreate;
use twilight_model::guild::{Member as TwilightMember, Role as TwilightRole};
use twilight_model::voice::VoiceState;

/// Discord's channel types that carry voice.
const VOICE: u8 = 2;
const STAGE: u8 = 13;

#[derive(Debug, Clone)]
struct CachedChannel {
    name: Box<str>,
    kind: u8,
    bitrate: u32,
    user_limit: u32,
    rtc_region: Option<Box<str>>,
    parent: Option<u64>,
    position: i64,
}

#[derive(Debug, Clone)]
struct CachedMember {
    username: Box<str>,
    global_name: Option<Box<str>>,
    nick: Option<Box<str>>,
    roles: Box<[u64]>,
}

impl CachedMember {
    fn from_twilight(member: &TwilightMember) -> Self {
        Self {
            username: member.user.name.as_str().into(),
            global_name: member.user.global_name.as_deref().map(Into::into),
            nick: member.nick.as_deref().map(Into::into),
            roles: member.roles.iter().map(|r| r.get()).collect(),
        }
    }

    fn display_name(&self) -> &str {
        self.nick.as_deref().or(self.global_name.as_deref()).unwrap_or(&self.username)
    }
}

#[derive(Debug, Clone, Copy)]
struct CachedVoice {
    channel: u64,
    mute: bool,
    deaf: bool,
    self_mute: bool,
    self_deaf: bool,
    self_stream: bool,
    self_video: bool,
    suppress: bool,
}

#[derive(Debug, Default)]
struct CachedGuild {
    channels: HashMap<u64, CachedChannel>,
    roles: HashMap<u64, (Box<str>, i64)>,
    voice: HashMap<u64, CachedVoice>,
    members: HashMap<u64, CachedMember>,
    /// Every member is here: a full member list arrived and events keep it so.
    complete: bool,
    /// The roster last built, until a member or role changes.
    roster: Option<GuildRoster>,
}

/// Everything one session has seen.
#[derive(Debug, Default)]
pub(crate) struct GuildCache {
    guilds: HashMap<u64, CachedGuild>,
    /// Guilds READY named whose GUILD_CREATE has not come yet.
    awaited: HashSet<u64>,
    ready: bool,
}

fn channel_of(channel: &TwilightChannel) -> CachedChannel {
    CachedChannel {
        name: channel.name.as_deref().unwrap_or_default().into(),
        kind: u8::from(channel.kind),
        bitrate: channel.bitrate.unwrap_or(0),
        user_limit: channel.user_limit.unwrap_or(0),
        rtc_region: channel.rtc_region.as_deref().map(Into::into),
        parent: channel.parent_id.map(|p| p.get()),
        position: i64::from(channel.position.unwrap_or(0)),
    }
}

fn voice_of(state: &VoiceState) -> Option<CachedVoice> {
    Some(CachedVoice {
        channel: state.channel_id?.get(),
        mute: state.mute,
        deaf: state.deaf,
        self_mute: state.self_mute,
        self_deaf: state.self_deaf,
        self_stream: state.self_stream,
        self_video: state.self_video,
        suppress: state.suppress,
    })
}

fn role_of(role: &TwilightRole) -> (u64, (Box<str>, i64)) {
    (role.id.get(), (role.name.as_str().into(), role.position))
}

impl CachedGuild {
    fn changed_members(&mut self) {
        self.roster = None;
    }

    fn put_member(&mut self, member: &TwilightMember) {
        self.members.insert(member.user.id.get(), CachedMember::from_twilight(member));
        self.changed_members();
    }
}

impl GuildCache {
    /// READY has come and every guild it named has been created (or there were none).
    pub(crate) fn is_ready(&self) -> bool {
        self.ready && self.awaited.is_empty()
    }

    /// Applies one event.
    pub(crate) fn apply(&mut self, event: &Event) {
        match event {
            Event::Ready(ready) => {
                // A new session (not a resumed one): events may have been missed since the last,
                // so no member list is known to be whole any more.
                for guild in self.guilds.values_mut() {
                    guild.complete = false;
                    guild.changed_members();
                }
                self.ready = true;
                self.awaited = ready.guilds.iter().map(|g| g.id.get()).collect();
                self.awaited.retain(|id| !self.guilds.contains_key(id));
            }
            Event::GuildCreate(create) => {
                if let GuildCreate::Available(guild) = &**create {
                    let mut cached = CachedGuild {
                        channels: guild.channels.iter().map(|c| (c.id.get(), channel_of(c))).collect(),
                        roles: guild.roles.iter().map(role_of).collect(),
                        voice: guild
                            .voice_states
                            .iter()
                            .filter_map(|v| Some((v.user_id.get(), voice_of(v)?)))
                            .collect(),
                        ..CachedGuild::default()
                    };
                    for member in &guild.members {
                        cached.put_member(member);
                    }
                    self.guilds.insert(guild.id.get(), cached);
                }
                self.awaited.remove(&create.id().get());
            }
            Event::GuildDelete(gone) => {
                self.guilds.remove(&gone.id.get());
                self.awaited.remove(&gone.id.get());
            }
            Event::ChannelCreate(c) => self.put_channel(c),
            Event::ChannelUpdate(c) => self.put_channel(c),
            Event::ChannelDelete(c) => {
                if let Some(guild) = c.guild_id.and_then(|g| self.guilds.get_mut(&g.get())) {
                    guild.channels.remove(&c.id.get());
                }
            }
            Event::RoleCreate(r) => self.put_role(r.guild_id.get(), &r.role),
            Event::RoleUpdate(r) => self.put_role(r.guild_id.get(), &r.role),
            Event::RoleDelete(r) => {
                if let Some(guild) = self.guilds.get_mut(&r.guild_id.get()) {
                    guild.roles.remove(&r.role_id.get());
                    guild.changed_members();
                }
            }
            Event::MemberAdd(m) => {
                if let Some(guild) = self.guilds.get_mut(&m.guild_id.get()) {
                    guild.put_member(&m.member);
                }
            }
            Event::MemberUpdate(m) => {
                if let Some(guild) = self.guilds.get_mut(&m.guild_id.get()) {
                    guild.members.insert(
                        m.user.id.get(),
                        CachedMember {
                            username: m.user.name.as_str().into(),
                            global_name: m.user.global_name.as_deref().map(Into::into),
                            nick: m.nick.as_deref().map(Into::into),
                            roles: m.roles.iter().map(|r| r.get()).collect(),
                        },
                    );
                    guild.changed_members();
                }
            }
            Event::MemberRemove(m) => {
                if let Some(guild) = self.guilds.get_mut(&m.guild_id.get()) {
                    guild.members.remove(&m.user.id.get());
                    guild.voice.remove(&m.user.id.get());
                    guild.changed_members();
                }
            }
            Event::MemberChunk(chunk) => {
                if let Some(guild) = self.guilds.get_mut(&chunk.guild_id.get()) {
                    for member in &chunk.members {
                        guild.put_member(member);
                    }
                }
            }
            Event::VoiceStateUpdate(update) => {
                let state = &update.0;
                if let Some(guild) = state.guild_id.and_then(|g| self.guilds.get_mut(&g.get())) {
                    match voice_of(state) {
                        Some(voice) => guild.voice.insert(state.user_id.get(), voice),
                        None => guild.voice.remove(&state.user_id.get()),
                    };
                    if let Some(member) = &state.member {
                        guild.put_member(member);
                    }
                }
            }
            _ => {}
        }
    }

    fn put_channel(&mut self, channel: &TwilightChannel) {
        if let Some(guild) = channel.guild_id.and_then(|g| self.guilds.get_mut(&g.get())) {
            guild.channels.insert(channel.id.get(), channel_of(channel));
        }
    }

    fn put_role(&mut self, guild: u64, role: &TwilightRole) {
        if let Some(guild) = self.guilds.get_mut(&guild) {
            let (id, value) = role_of(role);
            guild.roles.insert(id, value);
            guild.changed_members();
        }
    }

    /// Whether the session sees this guild.
    pub(crate) fn has_guild(&self, guild: ServerId) -> bool {
        self.guilds.contains_key(&guild.snowflake().get())
    }

    /// Whether the guild's whole member list is here.
    pub(crate) fn is_complete(&self, guild: ServerId) -> bool {
        self.guilds.get(&guild.snowflake().get()).is_some_and(|g| g.complete)
    }

    /// The member list asked for has all arrived.
    pub(crate) fn mark_complete(&mut self, guild: ServerId) {
        if let Some(guild) = self.guilds.get_mut(&guild.snowflake().get()) {
            guild.complete = true;
            guild.changed_members();
        }
    }

    /// Every member and role of a complete guild, built once per change.
    pub(crate) fn roster(&mut self, guild: ServerId) -> Option<GuildRoster> {
        let cached = self.guilds.get_mut(&guild.snowflake().get()).filter(|g| g.complete)?;
        if let Some(roster) = &cached.roster {
            return Some(roster.clone());
        }
        let roles = cached
            .roles
            .iter()
            .map(|(id, (name, position))| LiveRole {
                id: Snowflake::from_raw(*id),
                name: name.to_string(),
                position: *position,
            })
            .collect();
        let mut members: Vec<LiveMember> = cached
            .members
            .iter()
            .map(|(id, m)| LiveMember {
                id: Snowflake::from_raw(*id),
                username: m.username.to_string(),
                global_name: m.global_name.as_deref().map(str::to_owned),
                nick: m.nick.as_deref().map(str::to_owned),
                roles: m.roles.iter().map(|r| Snowflake::from_raw(*r)).collect(),
            })
            .collect();
        members.sort_by_key(|m| m.id);
        let roster = GuildRoster { roles, members: Arc::new(members) };
        cached.roster = Some(roster.clone());
        Some(roster)
    }

    /// A voice or stage channel with who is in it, if this session sees one with that id.
    pub(crate) fn voice_channel(&self, channel: Snowflake) -> Option<VoiceChannelInfo> {
        let id = channel.get();
        let (guild_id, guild, found) =
            self.guilds.iter().find_map(|(g, guild)| Some((*g, guild, guild.channels.get(&id)?)))?;
        if found.kind != VOICE && found.kind != STAGE {
            return None;
        }
        let category =
            found.parent.and_then(|p| Some((Snowflake::from_raw(p), guild.channels.get(&p)?.name.to_string())));
        let mut connected: Vec<VoiceMember> = guild
            .voice
            .iter()
            .filter(|(_, v)| v.channel == id)
            .map(|(user, v)| {
                let member = guild.members.get(user);
                let username = member.map_or_else(|| user.to_string(), |m| m.username.to_string());
                let display_name = member.map_or_else(|| username.clone(), |m| m.display_name().to_owned());
                VoiceMember {
                    user: Snowflake::from_raw(*user),
                    username,
                    display_name,
                    muted: v.mute,
                    deafened: v.deaf,
                    self_muted: v.self_mute,
                    self_deafened: v.self_deaf,
                    streaming: v.self_stream,
                    camera: v.self_video,
                    suppressed: v.suppress,
                }
            })
            .collect();
        connected.sort_by(|a, b| {
            a.display_name.to_lowercase().cmp(&b.display_name.to_lowercase()).then(a.user.cmp(&b.user))
        });
        Some(VoiceChannelInfo {
            id: channel,
            guild: ServerId::from_discord(Snowflake::from_raw(guild_id))?,
            name: found.name.to_string(),
            kind: found.kind,
            bitrate: found.bitrate,
            user_limit: found.user_limit,
            rtc_region: found.rtc_region.as_deref().map(str::to_owned),
            category,
            position: found.position,
            connected,
        })
    }
}
