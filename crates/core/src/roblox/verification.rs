//! Who is who: links between Discord users and Roblox accounts, and the profile-code way of making
//! one for bots.
//!
//! A link pairs one Discord user with one Roblox account (each side at most once; relinking replaces,
//! and history is kept by the store). Links are global: every server sees them, as with Bloxlink or
//! RoWifi. How a link was made is kept with it:
//!
//! * [`LinkMethod::OAuth`]: the user signed in to both Discord and Roblox (the web flow). Both sides
//!   are proven.
//! * [`LinkMethod::ProfileCode`]: a server's bot asked for a phrase, the user put it in their Roblox
//!   profile, and the bot asked Garrison to check. The Roblox side is proven; the Discord side is the
//!   bot's word. So such a link never replaces one made by OAuth (for either account), and it records
//!   which server made it.

use std::sync::Arc;

use super::{RobloxError, RobloxLinks, RobloxUsers, TtlCache};
use crate::apikey::{Access, Principal};
use crate::entropy::{Entropy, EntropyError};
use crate::threads::{BlockingThreads, WriteQueue, run_blocking, run_write};
use crate::{Clock, RobloxUserId, ServerId, Timestamp, discord::Snowflake};

/// How a link was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkMethod {
    OAuth,
    ProfileCode,
}

impl LinkMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            LinkMethod::OAuth => "oauth",
            LinkMethod::ProfileCode => "profile_code",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "oauth" => Some(LinkMethod::OAuth),
            "profile_code" => Some(LinkMethod::ProfileCode),
            _ => None,
        }
    }
}

/// A Discord user and the Roblox account they proved they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub discord: Snowflake,
    pub roblox: RobloxUserId,
    pub method: LinkMethod,
    /// The server whose bot made a profile-code link; `None` for OAuth links.
    pub server: Option<ServerId>,
    pub linked_at: Timestamp,
}

/// A phrase a user is asked to put in their Roblox profile, and what it will prove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge {
    pub discord: Snowflake,
    pub roblox: RobloxUserId,
    pub phrase: String,
    pub server: ServerId,
    pub expires_at: Timestamp,
}

/// How long a phrase may be used.
pub const CODE_LIFETIME_MS: i64 = 15 * 60_000;
/// Words per phrase: 6 words of a 256-word list, 48 bits.
pub const PHRASE_WORDS: usize = 6;

/// Short, common, unambiguous English words: 256 of them, so each random byte picks one.
const WORDS: [&str; 256] = [
    "acorn",
    "amber",
    "anchor",
    "apple",
    "apron",
    "arrow",
    "aspen",
    "atlas",
    "autumn",
    "badge",
    "bagel",
    "bamboo",
    "banjo",
    "barley",
    "basil",
    "beacon",
    "beaver",
    "berry",
    "bison",
    "blanket",
    "blossom",
    "bonfire",
    "breeze",
    "brook",
    "bucket",
    "buffalo",
    "butter",
    "cabin",
    "cactus",
    "camel",
    "candle",
    "canoe",
    "canyon",
    "carrot",
    "castle",
    "cedar",
    "cello",
    "cherry",
    "chestnut",
    "cider",
    "cinnamon",
    "citrus",
    "clover",
    "cobalt",
    "coconut",
    "comet",
    "copper",
    "coral",
    "cotton",
    "cradle",
    "crane",
    "crayon",
    "cricket",
    "crystal",
    "cushion",
    "daisy",
    "dandelion",
    "delta",
    "desert",
    "diamond",
    "dolphin",
    "dragon",
    "drum",
    "eagle",
    "ember",
    "emerald",
    "falcon",
    "feather",
    "fern",
    "fiddle",
    "fig",
    "firefly",
    "flannel",
    "flute",
    "forest",
    "fossil",
    "fountain",
    "fox",
    "galaxy",
    "garden",
    "garnet",
    "gecko",
    "ginger",
    "glacier",
    "globe",
    "goose",
    "granite",
    "grape",
    "guitar",
    "hammock",
    "harbor",
    "harvest",
    "hazel",
    "hedgehog",
    "heron",
    "hickory",
    "honey",
    "horizon",
    "iceberg",
    "igloo",
    "indigo",
    "island",
    "ivory",
    "jacket",
    "jaguar",
    "jasmine",
    "jelly",
    "jigsaw",
    "juniper",
    "kayak",
    "kernel",
    "kettle",
    "kiwi",
    "koala",
    "ladder",
    "lagoon",
    "lantern",
    "lavender",
    "lemon",
    "lily",
    "lobster",
    "locket",
    "lotus",
    "lumber",
    "magnet",
    "mango",
    "maple",
    "marble",
    "meadow",
    "melon",
    "meteor",
    "mint",
    "mitten",
    "monsoon",
    "moose",
    "mosaic",
    "muffin",
    "nectar",
    "nest",
    "nickel",
    "nutmeg",
    "oak",
    "oasis",
    "ocean",
    "olive",
    "onyx",
    "orange",
    "orbit",
    "orchid",
    "otter",
    "owl",
    "paddle",
    "panda",
    "papaya",
    "parrot",
    "pasta",
    "peach",
    "pebble",
    "pelican",
    "pepper",
    "piano",
    "pickle",
    "pine",
    "planet",
    "plum",
    "pocket",
    "pony",
    "poppy",
    "prairie",
    "pretzel",
    "puffin",
    "pumpkin",
    "quartz",
    "quill",
    "rabbit",
    "radish",
    "raft",
    "rainbow",
    "raven",
    "reef",
    "ribbon",
    "river",
    "robin",
    "rocket",
    "saddle",
    "saffron",
    "salmon",
    "sandal",
    "sapphire",
    "satchel",
    "sequoia",
    "shell",
    "sierra",
    "silver",
    "sparrow",
    "spruce",
    "squash",
    "star",
    "stone",
    "sugar",
    "summit",
    "sunflower",
    "swan",
    "tangerine",
    "teapot",
    "thistle",
    "thunder",
    "tiger",
    "timber",
    "toffee",
    "tomato",
    "topaz",
    "tortoise",
    "trumpet",
    "tulip",
    "tundra",
    "turnip",
    "umbrella",
    "valley",
    "vanilla",
    "velvet",
    "violet",
    "violin",
    "volcano",
    "waffle",
    "walnut",
    "walrus",
    "wander",
    "whale",
    "wheat",
    "willow",
    "window",
    "winter",
    "wizard",
    "wombat",
    "yarrow",
    "yogurt",
    "zebra",
    "zephyr",
    "zinnia",
    "acacia",
    "alpaca",
    "basin",
    "bluebell",
    "bramble",
    "canary",
    "caramel",
    "lilac",
    "marsh",
    "pearl",
    "sage",
    "tide",
    "wren",
    "yew",
    "zest",
    "birch",
];

/// A phrase of [`PHRASE_WORDS`] words, one per random byte.
pub fn phrase(random: [u8; PHRASE_WORDS]) -> String {
    random.iter().map(|b| WORDS[usize::from(*b)]).collect::<Vec<_>>().join(" ")
}

/// Whether a profile description shows `phrase`: its words in order, separated by any whitespace,
/// in any letter case (profiles get reflowed and capitalized by their owners and by Roblox's editor).
pub fn shows_phrase(description: &str, phrase: &str) -> bool {
    let words: Vec<String> = description.split_whitespace().map(str::to_lowercase).collect();
    let wanted: Vec<&str> = phrase.split_whitespace().collect();
    !wanted.is_empty() && words.windows(wanted.len()).any(|w| w.iter().zip(&wanted).all(|(a, b)| a == b))
}

/// Which Roblox account a profile code is for: by id, or by username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RobloxAccount {
    Id(RobloxUserId),
    Username(String),
}

/// Why a verification use case failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerificationError {
    #[error(transparent)]
    Core(#[from] crate::Error),
    #[error(transparent)]
    Roblox(#[from] RobloxError),
    #[error("No Roblox user named {0:?}.")]
    NoSuchUsername(String),
    #[error("No Roblox user with id {0}.")]
    NoSuchUser(RobloxUserId),
    #[error(
        "No verification code is pending for Discord user {0} on this server (they expire after 15 minutes); ask for a new one."
    )]
    NoChallenge(Snowflake),
    #[error(
        "The phrase was not found in the Roblox profile of user {roblox}: put \"{phrase}\" in its About text and check again."
    )]
    PhraseNotFound { roblox: RobloxUserId, phrase: String },
    #[error(
        "Discord user {discord} or Roblox user {roblox} is linked through Discord and Roblox sign-in; a profile code cannot replace that link."
    )]
    SignedInLinkExists { discord: Snowflake, roblox: RobloxUserId },
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

type Outcome<T> = Result<T, VerificationError>;

/// The ports a [`VerificationService`] works through.
#[derive(Clone)]
pub struct VerificationPorts {
    pub links: Arc<dyn RobloxLinks>,
    pub users: Arc<dyn RobloxUsers>,
    pub threads: Arc<dyn BlockingThreads>,
    pub writer: Arc<dyn WriteQueue>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    /// Where a link records its `verification.linked` event.
    pub outbox: crate::webhooks::Outbox,
}

impl std::fmt::Debug for VerificationPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerificationPorts { .. }")
    }
}

/// How long a Roblox username is trusted.
const USERNAME_LIFETIME_MS: i64 = 60 * 60_000;
const USERNAME_CACHE: usize = 100_000;

/// Roblox usernames (any letter case) and the ids they name, each kept for an hour.
#[derive(Debug)]
pub(crate) struct UsernameIds(TtlCache<String, RobloxUserId>);

impl Default for UsernameIds {
    fn default() -> Self {
        Self(TtlCache::new(USERNAME_CACHE, USERNAME_LIFETIME_MS))
    }
}

impl UsernameIds {
    /// The id `name` names, from the cache or Roblox; `None` when no account has it.
    pub(crate) async fn resolve(
        &self,
        users: &dyn RobloxUsers,
        name: &str,
        now: Timestamp,
    ) -> Result<Option<RobloxUserId>, RobloxError> {
        let key = name.to_lowercase();
        if let Some(id) = self.0.get(&key, now) {
            return Ok(Some(id));
        }
        let found = users.by_username(name).await?.map(|user| user.id);
        if let Some(id) = found {
            self.0.put(key, id, now);
        }
        Ok(found)
    }
}

/// The data of a `verification.linked` or `verification.unlinked` event, sent to `server`.
pub fn link_event(server: ServerId, link: &Link) -> serde_json::Value {
    serde_json::json!({
        "serverId": server.to_string(),
        "discordId": link.discord.to_string(),
        "robloxId": link.roblox.to_string(),
        "method": link.method.as_str(),
        "linkedAt": link.linked_at.to_iso8601(),
    })
}

/// Links between Discord and Roblox accounts: look-ups, and the profile-code way of making them.
pub struct VerificationService {
    ports: VerificationPorts,
    /// Roblox id to username, and username (lower case) to id: an hour each.
    usernames: TtlCache<RobloxUserId, String>,
    ids: UsernameIds,
}

impl std::fmt::Debug for VerificationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerificationService { .. }")
    }
}

impl VerificationService {
    pub fn new(ports: VerificationPorts) -> Self {
        Self { ports, usernames: TtlCache::new(USERNAME_CACHE, USERNAME_LIFETIME_MS), ids: UsernameIds::default() }
    }

    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn RobloxLinks) -> crate::Result<T> + Send + 'static,
    ) -> Outcome<T> {
        let links = Arc::clone(&self.ports.links);
        Ok(run_blocking(&*self.ports.threads, move || work(&*links)).await.map_err(crate::Error::from)??)
    }

    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn RobloxLinks) -> crate::Result<T> + Send + 'static,
    ) -> Outcome<T> {
        let links = Arc::clone(&self.ports.links);
        Ok(run_write(&*self.ports.writer, move || work(&*links)).await?)
    }

    /// The Discord user linked to a Roblox account. Links are global: `server` (the key's own when
    /// absent) only says which server's key reads.
    pub async fn by_roblox(
        &self,
        caller: &Principal,
        server: Option<ServerId>,
        roblox: RobloxUserId,
    ) -> Outcome<Option<Link>> {
        caller.authorize(server.unwrap_or(caller.server), Access::Read)?;
        self.read(move |links| links.by_roblox(roblox)).await
    }

    /// The Roblox account linked to a Discord user, with its username (kept for an hour).
    pub async fn by_discord(
        &self,
        caller: &Principal,
        server: Option<ServerId>,
        discord: Snowflake,
    ) -> Outcome<Option<(Link, Option<String>)>> {
        caller.authorize(server.unwrap_or(caller.server), Access::Read)?;
        let Some(link) = self.read(move |links| links.by_discord(discord)).await? else { return Ok(None) };
        let now = self.ports.clock.now();
        if let Some(name) = self.usernames.get(&link.roblox, now) {
            return Ok(Some((link, Some(name))));
        }
        let name =
            self.ports.users.users(&[link.roblox]).await?.into_iter().find(|u| u.id == link.roblox).map(|u| u.name);
        if let Some(name) = &name {
            self.usernames.put(link.roblox, name.clone(), now);
        }
        Ok(Some((link, name)))
    }

    /// A phrase for the Discord user to put in the Roblox account's profile, valid 15 minutes (a new
    /// one replaces the server's earlier one for that user).
    pub async fn start_code(
        &self,
        caller: &Principal,
        server: ServerId,
        discord: Snowflake,
        account: RobloxAccount,
    ) -> Outcome<CodeChallenge> {
        caller.authorize(server, Access::Write)?;
        let roblox = match account {
            RobloxAccount::Id(id) => {
                let found = self.ports.users.users(&[id]).await?;
                found.iter().find(|u| u.id == id).ok_or(VerificationError::NoSuchUser(id))?.id
            }
            RobloxAccount::Username(name) => {
                match self.ids.resolve(&*self.ports.users, &name, self.ports.clock.now()).await? {
                    Some(id) => id,
                    None => return Err(VerificationError::NoSuchUsername(name)),
                }
            }
        };
        let mut random = [0u8; PHRASE_WORDS];
        self.ports.entropy.fill(&mut random)?;
        let now = self.ports.clock.now();
        let challenge = CodeChallenge {
            discord,
            roblox,
            phrase: phrase(random),
            server,
            expires_at: Timestamp::from_millis(now.millis().saturating_add(CODE_LIFETIME_MS)),
        };
        let kept = challenge.clone();
        self.write(move |links| links.put_challenge(&kept)).await?;
        Ok(challenge)
    }

    /// Reads the Roblox profile now; when it shows the phrase, links the accounts (a profile-code link
    /// never replaces a sign-in link) and forgets the phrase.
    pub async fn check_code(&self, caller: &Principal, server: ServerId, discord: Snowflake) -> Outcome<Link> {
        caller.authorize(server, Access::Write)?;
        let now = self.ports.clock.now();
        let challenge = self
            .read(move |links| links.challenge(server, discord))
            .await?
            .filter(|c| c.expires_at > now)
            .ok_or(VerificationError::NoChallenge(discord))?;
        let profile =
            self.ports.users.profile(challenge.roblox).await?.ok_or(VerificationError::NoSuchUser(challenge.roblox))?;
        if !shows_phrase(&profile.description, &challenge.phrase) {
            return Err(VerificationError::PhraseNotFound { roblox: challenge.roblox, phrase: challenge.phrase });
        }
        let link = Link {
            discord,
            roblox: challenge.roblox,
            method: LinkMethod::ProfileCode,
            server: Some(server),
            linked_at: now,
        };
        let (stored, outbox) = (link.clone(), self.ports.outbox.clone());
        let linked = self
            .write(move |links| {
                let linked = links.link(&stored, true)?;
                if linked {
                    links.drop_challenge(server, discord)?;
                    outbox.record(server, "verification.linked", now, || link_event(server, &stored))?;
                }
                Ok(linked)
            })
            .await?;
        if !linked {
            return Err(VerificationError::SignedInLinkExists { discord, roblox: challenge.roblox });
        }
        self.usernames.put(link.roblox, profile.user.name, now);
        Ok(link)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_word_list_has_256_distinct_plain_words() {
        let distinct: BTreeSet<&str> = WORDS.iter().copied().collect();
        assert_eq!(distinct.len(), 256, "one word per byte value");
        assert!(WORDS.iter().all(|w| w.len() <= 10 && w.bytes().all(|b| b.is_ascii_lowercase())));
    }

    #[test]
    fn a_phrase_is_found_however_the_profile_reflows_it() {
        let phrase = phrase([0, 1, 2, 3, 4, 255]);
        assert_eq!(phrase, "acorn amber anchor apple apron birch");
        assert!(shows_phrase("Hi! acorn amber anchor apple apron birch :)", &phrase));
        assert!(shows_phrase("Acorn  Amber\nanchor apple\tAPRON birch", &phrase));
        assert!(!shows_phrase("acorn amber anchor apple birch apron", &phrase), "order matters");
        assert!(!shows_phrase("acorn amber anchor apple apron", &phrase), "every word");
        assert!(!shows_phrase("anything", ""), "an empty phrase shows nowhere");
    }

    #[test]
    fn methods_round_trip_through_their_names() {
        for method in [LinkMethod::OAuth, LinkMethod::ProfileCode] {
            assert_eq!(LinkMethod::parse(method.as_str()), Some(method));
        }
        assert_eq!(LinkMethod::parse("other"), None);
    }
}
