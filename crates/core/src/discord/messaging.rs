//! The message use cases: `sendEmbed` with its cooldown, smart edits (of a bot's own message, or of an
//! interaction's ephemeral response), the file check, and modmail in both directions. Each takes what
//! the caller sent (a bot token, ids, the request's fields), connects through the [`DiscordBots`]
//! port itself, applies the rules and answers with a [`MessagingError`] the HTTP shell maps once.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{
    BotToken, DiscordBots, DiscordError, InteractionToken, Permissions, Snowflake, Unknown, connect,
    messages::{self, EMBED_COOLDOWN_MS, EmbedRequest, SmartEditError, cooldown_message},
    modmail::{self, Sender},
};
use crate::{
    Clock, Error,
    cooldowns::{CooldownStore, Turn},
};

/// The cooldown scope of `sendEmbed` (keys: SHA-256 of the bot token, then the channel id).
pub const EMBED_COOLDOWN_SCOPE: &str = "embed";

/// Why a message use case did not happen. The `Display` text is the response's `error`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MessagingError {
    /// This bot sent an embed to this channel less than [`EMBED_COOLDOWN_MS`] ago (429, with the
    /// text as the whole body and `Retry-After`).
    #[error("{}", cooldown_message(*.wait_ms))]
    CoolingDown { wait_ms: i64 },
    /// Discord refused to let the bot post the embed (403).
    #[error("Missing permission: the bot needs SEND_MESSAGES and EMBED_LINKS in this channel.")]
    CannotPostEmbed,
    /// Discord refused to let the bot post to the staff channel (403).
    #[error("Missing permission: the bot needs SEND_MESSAGES and EMBED_LINKS in the staff channel.")]
    CannotPostToStaff,
    /// A smart edit of a message another user sent (403).
    #[error("The bot can only edit its own messages.")]
    NotOwnMessage,
    /// Text that cannot be an interaction token, refused without asking Discord (400).
    #[error("Interaction-Token: not an interaction token")]
    NotAnInteractionToken,
    /// Discord does not know the interaction (404).
    #[error("Interaction not found: the token is unknown or expired (interaction tokens last 15 minutes).")]
    InteractionNotFound,
    /// The file check's message or channel is unknown (404).
    #[error("Message or channel not found.")]
    MessageNotFound,
    /// The smart-edit rule refused (404 not found, 409 ambiguous, else 400).
    #[error(transparent)]
    SmartEdit(#[from] SmartEditError),
    /// A field breaks a rule (400 naming it), or the cooldown store failed.
    #[error(transparent)]
    Invalid(#[from] Error),
    #[error(transparent)]
    Discord(#[from] DiscordError),
}

/// The message use cases. Cheap to clone.
#[derive(Clone)]
pub struct Messaging {
    bots: Arc<dyn DiscordBots>,
    cooldowns: Arc<dyn CooldownStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Messaging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Messaging")
    }
}

/// What a modmail message says: its text and up to ten image URLs.
#[derive(Debug, Clone, Copy)]
pub struct ModmailText<'a> {
    pub text: &'a str,
    pub images: &'a [String],
}

impl Messaging {
    pub fn new(bots: Arc<dyn DiscordBots>, cooldowns: Arc<dyn CooldownStore>, clock: Arc<dyn Clock>) -> Self {
        Self { bots, cooldowns, clock }
    }

    /// `sendEmbed`: checks the embed, then sends it as the bot behind `token`, one embed per bot and
    /// channel every [`EMBED_COOLDOWN_MS`]. The turn is taken before sending, so two concurrent
    /// requests cannot both send, and given back when Discord refuses or fails, so a refusal locks
    /// nobody out. Returns the message's id.
    pub async fn send_embed(
        &self,
        token: &BotToken,
        channel: Snowflake,
        embed: &EmbedRequest,
    ) -> Result<Snowflake, MessagingError> {
        let message = messages::embed_message(embed)?;
        let bot = connect(self.bots.as_ref(), token).await?;
        let mut key = Sha256::digest(token.expose().as_bytes()).to_vec();
        key.extend_from_slice(&channel.get().to_be_bytes());
        let now = self.clock.now();
        if let Turn::Wait { ms } = self.cooldowns.try_take(EMBED_COOLDOWN_SCOPE, &key, EMBED_COOLDOWN_MS, now).await? {
            return Err(MessagingError::CoolingDown { wait_ms: ms });
        }
        match bot.send_message(channel, message).await {
            Ok(id) => Ok(id),
            Err(e) => {
                self.cooldowns.release(EMBED_COOLDOWN_SCOPE, &key, now).await?;
                Err(match e {
                    DiscordError::MissingPermission { permission: None } => MessagingError::CannotPostEmbed,
                    other => other.into(),
                })
            }
        }
    }

    /// Smart edit of a message the bot behind `token` sent (see [`messages::smart_edit`]); the bot
    /// edits only its own messages.
    pub async fn smart_edit(
        &self,
        token: &BotToken,
        channel: Snowflake,
        message: Snowflake,
        target: &str,
        new_content: &str,
    ) -> Result<(), MessagingError> {
        let bot = connect(self.bots.as_ref(), token).await?;
        let current = bot.message(channel, message).await?;
        if current.author.id != bot.user().id {
            return Err(MessagingError::NotOwnMessage);
        }
        let patch = messages::smart_edit(&current, target, new_content)?;
        bot.edit_message(channel, message, patch).await?;
        Ok(())
    }

    /// The same edit of an interaction's original (ephemeral) response, addressed by the application
    /// and the interaction token (no bot token). Text that cannot be an interaction token is refused
    /// without asking Discord.
    pub async fn smart_edit_ephemeral(
        &self,
        application: Snowflake,
        token: &str,
        target: &str,
        new_content: &str,
    ) -> Result<(), MessagingError> {
        let token = InteractionToken::parse(token).ok_or(MessagingError::NotAnInteractionToken)?;
        let current = self.bots.original_response(application, &token).await.map_err(interaction_error)?;
        let patch = messages::smart_edit(&current, target, new_content)?;
        self.bots.edit_original_response(application, &token, patch).await.map_err(interaction_error)?;
        Ok(())
    }

    /// The file a message carries (see [`messages::detect_file`]): its MIME type, or `None`.
    pub async fn file_check(
        &self,
        token: &BotToken,
        channel: Snowflake,
        message: Snowflake,
    ) -> Result<Option<String>, MessagingError> {
        let bot = connect(self.bots.as_ref(), token).await?;
        let current = bot.message(channel, message).await.map_err(|e| match e {
            DiscordError::Unknown(Unknown::Message | Unknown::Channel) => MessagingError::MessageNotFound,
            other => other.naming(Permissions::READ_MESSAGE_HISTORY).into(),
        })?;
        Ok(messages::detect_file(&current))
    }

    /// Forwards a user's DM to the staff `channel` (see [`modmail::inbound_message`]).
    pub async fn modmail_inbound(
        &self,
        token: &BotToken,
        channel: Snowflake,
        sender: &Sender,
        text: ModmailText<'_>,
    ) -> Result<(), MessagingError> {
        let message = modmail::inbound_message(sender, text.text, text.images, self.clock.now())?;
        let bot = connect(self.bots.as_ref(), token).await?;
        bot.send_message(channel, message).await.map_err(|e| match e {
            DiscordError::MissingPermission { permission: None } => MessagingError::CannotPostToStaff,
            other => other.into(),
        })?;
        Ok(())
    }

    /// Sends a staff reply to `user` as a DM (see [`modmail::outbound_message`]).
    pub async fn modmail_outbound(
        &self,
        token: &BotToken,
        user: Snowflake,
        moderator: Option<&str>,
        text: ModmailText<'_>,
    ) -> Result<(), MessagingError> {
        let message = modmail::outbound_message(moderator, text.text, text.images, self.clock.now())?;
        let bot = connect(self.bots.as_ref(), token).await?;
        let channel = bot.dm_channel(user).await?;
        bot.send_message(channel, message).await?;
        Ok(())
    }
}

/// An interaction token Discord refuses is not a bot token: it is named as what it is.
fn interaction_error(err: DiscordError) -> MessagingError {
    match err {
        DiscordError::InvalidToken | DiscordError::Unknown(_) | DiscordError::Rejected(_) => {
            MessagingError::InteractionNotFound
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use std::{
        pin::pin,
        sync::Mutex,
        task::{Context, Poll, Waker},
    };

    use super::*;
    use crate::{
        ServerId, Timestamp,
        cooldowns::MemoryCooldowns,
        discord::{
            AutoModRule, BanOptions, BotUser, Channel, ChannelPosition, Component, DiscordBot, DiscordFuture, Guild,
            GuildSummary, Invite, Member, Message, MessagePatch, NewMessage, Role, RoleSpec, User, UserProfile,
            message::IS_COMPONENTS_V2,
        },
    };

    fn now<F: Future>(future: F) -> F::Output {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("the fakes never wait"),
        }
    }

    fn id(n: u64) -> Snowflake {
        Snowflake::from_raw(n << 22)
    }

    const BOT_A: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GbtXkd.abcdefghijklmnopqrstuvwxyz-_0123456789";
    const BOT_B: &str = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs";
    /// Channel 666 is one no bot may send to.
    const CLOSED: u64 = 666;

    /// What the fake Discord was asked to do, in order.
    #[derive(Default)]
    struct World {
        calls: Mutex<Vec<String>>,
        /// The message every `message`/`original_response` call returns.
        message: Mutex<Option<Message>>,
    }

    impl World {
        fn log(&self, call: String) {
            self.calls.lock().expect("lock").push(call);
        }
        fn calls(&self) -> Vec<String> {
            self.calls.lock().expect("lock").clone()
        }
        fn current(&self) -> Result<Message, DiscordError> {
            self.message.lock().expect("lock").clone().ok_or(DiscordError::Unknown(Unknown::Message))
        }
    }

    struct Bots(Arc<World>);

    struct Bot {
        user: BotUser,
        world: Arc<World>,
    }

    fn unused<T: Send + 'static>() -> DiscordFuture<'static, T> {
        Box::pin(async { panic!("not used by the messaging tests") })
    }

    fn ok<T: Send + 'static>(value: T) -> DiscordFuture<'static, T> {
        Box::pin(std::future::ready(Ok(value)))
    }

    fn err<T: Send + 'static>(e: DiscordError) -> DiscordFuture<'static, T> {
        Box::pin(std::future::ready(Err(e)))
    }

    impl DiscordBots for Bots {
        fn bot(&self, token: &BotToken) -> DiscordFuture<'_, Arc<dyn DiscordBot>> {
            self.0.log("connect".into());
            let id = token.claimed_bot_id().expect("a shaped token");
            let bot: Arc<dyn DiscordBot> =
                Arc::new(Bot { user: BotUser { id, username: "bot".into() }, world: Arc::clone(&self.0) });
            ok(bot)
        }
        fn server_bot(&self) -> DiscordFuture<'_, Option<Arc<dyn DiscordBot>>> {
            unused()
        }
        fn original_response(&self, _: Snowflake, _: &InteractionToken) -> DiscordFuture<'_, Message> {
            self.0.log("original".into());
            Box::pin(std::future::ready(self.0.current()))
        }
        fn edit_original_response(
            &self,
            _: Snowflake,
            _: &InteractionToken,
            patch: MessagePatch,
        ) -> DiscordFuture<'_, ()> {
            self.0.log(format!("edit original {patch:?}"));
            ok(())
        }
    }

    impl DiscordBot for Bot {
        fn user(&self) -> &BotUser {
            &self.user
        }
        fn send_message(&self, channel: Snowflake, message: NewMessage) -> DiscordFuture<'_, Snowflake> {
            if channel == id(CLOSED) {
                return err(DiscordError::MissingPermission { permission: None });
            }
            self.world.log(format!(
                "send {} to {} ({} embeds)",
                self.user.id,
                channel.get() >> 22,
                message.embeds.len()
            ));
            ok(id(9_000))
        }
        fn message(&self, _: Snowflake, _: Snowflake) -> DiscordFuture<'_, Message> {
            self.world.log("fetch".into());
            Box::pin(std::future::ready(self.world.current()))
        }
        fn edit_message(&self, _: Snowflake, message: Snowflake, patch: MessagePatch) -> DiscordFuture<'_, ()> {
            self.world.log(format!("edit {} {patch:?}", message.get() >> 22));
            ok(())
        }
        fn dm_channel(&self, user: Snowflake) -> DiscordFuture<'_, Snowflake> {
            self.world.log(format!("dm {}", user.get() >> 22));
            ok(id(500))
        }
        fn user_profile(&self, _: Snowflake) -> DiscordFuture<'_, UserProfile> {
            unused()
        }
        fn guild(&self, _: ServerId) -> DiscordFuture<'_, Guild> {
            unused()
        }
        fn roles(&self, _: ServerId) -> DiscordFuture<'_, Vec<Role>> {
            unused()
        }
        fn members(&self, _: ServerId, _: Option<Snowflake>, _: u16) -> DiscordFuture<'_, Vec<Member>> {
            unused()
        }
        fn member(&self, _: ServerId, _: Snowflake) -> DiscordFuture<'_, Member> {
            unused()
        }
        fn ban(&self, _: ServerId, _: Snowflake, _: BanOptions) -> DiscordFuture<'_, ()> {
            unused()
        }
        fn unban(&self, _: ServerId, _: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
            unused()
        }
        fn kick(&self, _: ServerId, _: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
            unused()
        }
        fn set_timeout(
            &self,
            _: ServerId,
            _: Snowflake,
            _: Option<Timestamp>,
            _: Option<String>,
        ) -> DiscordFuture<'_, ()> {
            unused()
        }
        fn invite(&self, _: &str) -> DiscordFuture<'_, Invite> {
            unused()
        }
        fn channel(&self, _: Snowflake) -> DiscordFuture<'_, Channel> {
            unused()
        }
        fn guild_channels(&self, _: ServerId) -> DiscordFuture<'_, Vec<Channel>> {
            unused()
        }
        fn set_channel_positions(&self, _: ServerId, _: Vec<ChannelPosition>) -> DiscordFuture<'_, ()> {
            unused()
        }
        fn automod_rules(&self, _: ServerId) -> DiscordFuture<'_, Vec<AutoModRule>> {
            unused()
        }
        fn guilds(&self, _: Option<Snowflake>) -> DiscordFuture<'_, Vec<GuildSummary>> {
            unused()
        }
        fn create_role(&self, _: ServerId, _: RoleSpec) -> DiscordFuture<'_, Role> {
            unused()
        }
        fn update_role(&self, _: ServerId, _: Snowflake, _: RoleSpec) -> DiscordFuture<'_, Role> {
            unused()
        }
        fn delete_role(&self, _: ServerId, _: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
            unused()
        }
        fn set_role_positions(&self, _: ServerId, _: Vec<(Snowflake, i64)>) -> DiscordFuture<'_, ()> {
            unused()
        }
        fn add_member_role(&self, _: ServerId, _: Snowflake, _: Snowflake, _: Option<String>) -> DiscordFuture<'_, ()> {
            unused()
        }
        fn remove_member_role(
            &self,
            _: ServerId,
            _: Snowflake,
            _: Snowflake,
            _: Option<String>,
        ) -> DiscordFuture<'_, ()> {
            unused()
        }
        fn messages(&self, _: Snowflake, _: Option<Snowflake>, _: u8) -> DiscordFuture<'_, Vec<Message>> {
            unused()
        }
        fn send_file(&self, _: Snowflake, _: String, _: String, _: Vec<u8>) -> DiscordFuture<'_, Snowflake> {
            unused()
        }
    }

    struct FixedClock(Mutex<i64>);

    impl Clock for FixedClock {
        fn now(&self) -> Timestamp {
            Timestamp::from_millis(*self.0.lock().expect("lock"))
        }
    }

    struct Setup {
        messaging: Messaging,
        world: Arc<World>,
        clock: Arc<FixedClock>,
    }

    impl Setup {
        fn new() -> Self {
            let world = Arc::new(World::default());
            let clock = Arc::new(FixedClock(Mutex::new(1_000_000)));
            let messaging =
                Messaging::new(Arc::new(Bots(Arc::clone(&world))), Arc::new(MemoryCooldowns::new()), clock.clone());
            Self { messaging, world, clock }
        }
        fn at(&self, ms: i64) {
            *self.clock.0.lock().expect("lock") = 1_000_000 + ms;
        }
        fn holds(&self, message: Message) {
            *self.world.message.lock().expect("lock") = Some(message);
        }
    }

    fn token(text: &str) -> BotToken {
        BotToken::new(text).expect("a token")
    }

    fn embed() -> EmbedRequest {
        EmbedRequest { title: "T".into(), description: "D".into(), color: "1".into(), ..EmbedRequest::default() }
    }

    fn v2_message(author: Snowflake, texts: &[&str]) -> Message {
        Message {
            id: id(77),
            channel_id: Some(id(101)),
            kind: 0,
            content: String::new(),
            author: User { id: author, username: "bot".into(), global_name: None, avatar: None, bot: true },
            timestamp: None,
            edited_timestamp: None,
            flags: IS_COMPONENTS_V2,
            pinned: false,
            mentions: vec![],
            embeds: vec![],
            attachments: vec![],
            components: texts.iter().map(|t| Component::text_display(*t)).collect(),
            reactions: vec![],
            sticker_items: vec![],
            message_reference: None,
            referenced_message: None,
            interaction_metadata: None,
            interaction: None,
        }
    }

    #[test]
    fn embeds_cool_down_per_bot_and_channel_and_a_refused_send_takes_no_turn() {
        let s = Setup::new();
        let (a, b) = (token(BOT_A), token(BOT_B));
        let send = |t: &BotToken, channel: u64| now(s.messaging.send_embed(t, id(channel), &embed()));
        send(&a, 101).expect("sent");
        s.at(1_500);
        let cooling = send(&a, 101).expect_err("cooling down");
        assert!(matches!(cooling, MessagingError::CoolingDown { wait_ms: 8_500 }));
        assert_eq!(cooling.to_string(), "Rate limit exceeded. Try again in 8.5 seconds.");
        send(&b, 101).expect("another bot has its own turn");
        send(&a, 102).expect("another channel too");
        s.at(2_000);
        assert!(matches!(send(&a, CLOSED), Err(MessagingError::CannotPostEmbed)));
        s.at(2_001);
        assert!(matches!(send(&a, CLOSED), Err(MessagingError::CannotPostEmbed)), "the refusal gave its turn back");
        s.at(10_000);
        send(&a, 101).expect("the window is over");
        let sends = s.world.calls().into_iter().filter(|c| c.starts_with("send")).count();
        assert_eq!(sends, 4);
    }

    #[test]
    fn an_invalid_embed_or_token_shape_is_refused_before_discord_is_asked() {
        let s = Setup::new();
        let bad = EmbedRequest { color: "red".into(), ..embed() };
        let err = now(s.messaging.send_embed(&token(BOT_A), id(101), &bad)).expect_err("invalid");
        assert!(err.to_string().starts_with("color:"), "{err}");
        let err = now(s.messaging.send_embed(&token("not-a-token"), id(101), &embed())).expect_err("no token");
        assert!(matches!(err, MessagingError::Discord(DiscordError::InvalidToken)));
        assert!(s.world.calls().is_empty());
    }

    #[test]
    fn the_bot_edits_only_its_own_messages() {
        let s = Setup::new();
        let a = token(BOT_A);
        let bot_id = a.claimed_bot_id().expect("id");
        s.holds(v2_message(id(5), &["Members: 120"]));
        let err = now(s.messaging.smart_edit(&a, id(101), id(77), "members", "Members: 121")).expect_err("not its own");
        assert!(matches!(err, MessagingError::NotOwnMessage));
        assert_eq!(err.to_string(), "The bot can only edit its own messages.");
        assert_eq!(s.world.calls(), ["connect", "fetch"], "nothing was edited");

        s.holds(v2_message(bot_id, &["Members: 120", "Online: 3"]));
        now(s.messaging.smart_edit(&a, id(101), id(77), "members", "Members: 121")).expect("edited");
        let edit = s.world.calls().pop().expect("a call");
        assert!(edit.starts_with("edit 77") && edit.contains("Members: 121") && edit.contains("Online: 3"), "{edit}");

        s.holds(v2_message(bot_id, &["Score: 1", "score 2"]));
        let err = now(s.messaging.smart_edit(&a, id(101), id(77), "score", "x")).expect_err("ambiguous");
        assert!(matches!(err, MessagingError::SmartEdit(SmartEditError::Ambiguous { matches: 2, .. })));
    }

    #[test]
    fn an_ephemeral_response_is_edited_through_its_interaction_token() {
        let s = Setup::new();
        let interaction = "aW50ZXJhY3Rpb246bm90LXJlYWw";
        s.holds(v2_message(id(5), &["Status: starting"]));
        now(s.messaging.smart_edit_ephemeral(id(3), interaction, "status", "Status: ready")).expect("edited");
        let calls = s.world.calls();
        assert_eq!(calls[0], "original");
        assert!(calls[1].starts_with("edit original") && calls[1].contains("Status: ready"), "{calls:?}");

        // Discord no longer knows the interaction: named as such, not as a bad bot token.
        *s.world.message.lock().expect("lock") = None;
        let err = now(s.messaging.smart_edit_ephemeral(id(3), interaction, "status", "x")).expect_err("gone");
        assert!(matches!(err, MessagingError::InteractionNotFound));
    }

    #[test]
    fn text_that_cannot_be_an_interaction_token_is_refused_without_a_call() {
        let s = Setup::new();
        for bad in ["short", "aW50ZXJhY3Rpb246/../../users/@me", "aW50ZXJhY3Rpb246 with spaces in it"] {
            let err = now(s.messaging.smart_edit_ephemeral(id(3), bad, "a", "b")).expect_err(bad);
            assert!(matches!(err, MessagingError::NotAnInteractionToken));
            assert_eq!(err.to_string(), "Interaction-Token: not an interaction token");
            assert!(!err.to_string().contains(bad));
        }
        assert!(s.world.calls().is_empty());
    }

    #[test]
    fn the_file_check_names_an_unknown_message() {
        let s = Setup::new();
        let err = now(s.messaging.file_check(&token(BOT_A), id(101), id(77))).expect_err("unknown");
        assert!(matches!(err, MessagingError::MessageNotFound));
        s.holds(v2_message(id(5), &["no file"]));
        assert_eq!(now(s.messaging.file_check(&token(BOT_A), id(101), id(77))).expect("checked"), None);
    }

    #[test]
    fn modmail_goes_to_the_staff_channel_and_back_as_a_dm() {
        let s = Setup::new();
        let sender = Sender { id: id(42), name: "JohnDoe".into(), avatar_url: "https://cdn.example/a.png".into() };
        let images = ["https://img.example/1.png".to_owned(), "https://img.example/2.png".to_owned()];
        let text = ModmailText { text: "Hello", images: &images };
        now(s.messaging.modmail_inbound(&token(BOT_A), id(101), &sender, text)).expect("forwarded");
        let err = now(s.messaging.modmail_inbound(&token(BOT_A), id(CLOSED), &sender, text)).expect_err("closed");
        assert!(matches!(err, MessagingError::CannotPostToStaff));
        now(s.messaging.modmail_outbound(&token(BOT_A), id(42), Some("Mod"), text)).expect("replied");
        let calls = s.world.calls();
        assert!(calls.contains(&"dm 42".to_owned()) && calls.last().is_some_and(|c| c.ends_with("to 500 (2 embeds)")));
        let blank = ModmailText { text: "  ", images: &[] };
        let before = s.world.calls().len();
        let err = now(s.messaging.modmail_outbound(&token(BOT_A), id(42), None, blank)).expect_err("empty");
        assert!(err.to_string().starts_with("body:"), "{err}");
        assert_eq!(s.world.calls().len(), before, "nothing asked of Discord");
    }
}
