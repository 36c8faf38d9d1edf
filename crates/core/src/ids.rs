//! Identifiers, parsed once at the edge and trusted everywhere after.
//!
//! Both kinds are stored as signed 64-bit integers (`BIGINT`), so both are bounded by `i64::MAX`:
//! Discord snowflakes stay below it until the year 2084, and Roblox user ids are far smaller.

use std::fmt;

use crate::{Error, Result, discord::Snowflake};

/// A Discord server ("guild") id, the one type for a guild on the records side (API keys, members)
/// and the Discord side: a [`Snowflake`] parsed by the one snowflake rule, so it always fits the
/// `BIGINT` it is stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerId(Snowflake);

/// A Roblox user id: a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RobloxUserId(i64);

/// The database id of an API key (what `garrison apikey list` shows and `revoke` takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiKeyId(pub i64);

/// One member's records live under this pair: the Discord server and the Roblox user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemberKey {
    pub server: ServerId,
    pub member: RobloxUserId,
}

pub(crate) fn parse_positive(field: &'static str, what: &str, text: &str) -> Result<i64> {
    let trimmed = text.trim();
    let valid = !trimmed.is_empty() && trimmed.len() <= 19 && trimmed.bytes().all(|b| b.is_ascii_digit());
    match trimmed.parse::<i64>() {
        Ok(value) if valid && value > 0 => Ok(value),
        _ => Err(Error::invalid(field, format!("must be {what} (a positive integer), got {text:?}"))),
    }
}

impl ServerId {
    /// Parses a snowflake given as decimal text; `field` names the request field in the error.
    pub fn parse(field: &'static str, text: &str) -> Result<Self> {
        Snowflake::parse_as(field, "a Discord server id", text).map(Self)
    }

    /// Wraps a value read back from storage, where it was validated on the way in.
    pub const fn from_stored(value: i64) -> Self {
        Self(Snowflake::from_raw(value.unsigned_abs()))
    }

    /// The id as stored (`BIGINT`); parsing keeps it at most `i64::MAX`.
    pub fn get(self) -> i64 {
        i64::try_from(self.0.get()).unwrap_or(i64::MAX)
    }

    /// A guild id Discord handed back (a channel's guild, a listed guild). Discord's ids are signed
    /// 64-bit integers, so this is `None` only for an id Discord cannot have sent (above `i64::MAX`),
    /// which no `ServerId` may hold: it could not be stored.
    pub const fn from_discord(id: Snowflake) -> Option<Self> {
        if id.get() <= i64::MAX as u64 { Some(Self(id)) } else { None }
    }

    /// The same id as the Discord side names it.
    pub const fn snowflake(self) -> Snowflake {
        self.0
    }
}

impl RobloxUserId {
    pub fn parse(field: &'static str, text: &str) -> Result<Self> {
        parse_positive(field, "a Roblox user id", text).map(Self)
    }

    pub const fn from_stored(value: i64) -> Self {
        Self(value)
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.get().fmt(f)
    }
}

impl fmt::Display for RobloxUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_parse_from_decimal_text() {
        let id = ServerId::parse("serverId", "123456789012345678").expect("valid snowflake");
        assert_eq!(id.get(), 123_456_789_012_345_678);
        assert_eq!(ServerId::parse("serverId", " 4194304 ").expect("trimmed").get(), 1 << 22);
    }

    #[test]
    fn a_guild_id_from_discord_fits_what_is_stored() {
        let largest = Snowflake::from_raw(i64::MAX as u64);
        assert_eq!(ServerId::from_discord(largest).map(ServerId::get), Some(i64::MAX));
        assert_eq!(ServerId::from_discord(Snowflake::from_raw(i64::MAX as u64 + 1)), None);
        let guild = ServerId::from_discord(Snowflake::from_raw(1 << 22)).expect("fits");
        assert_eq!((guild.get(), guild.snowflake().get()), (1 << 22, 1 << 22));
    }

    #[test]
    fn a_server_id_follows_the_one_snowflake_rule() {
        for text in ["", "0", "42", "4194303", "-5", "abc", "9223372036854775808", "18446744073709551615", "+7"] {
            let server = ServerId::parse("serverId", text).expect_err(text);
            assert!(server.to_string().starts_with("serverId: must be a Discord server id (a snowflake)"), "{server}");
            assert!(Snowflake::parse("guildId", text).is_err(), "{text}: the Discord side agrees");
        }
        for text in ["4194304", "123456789012345678", "9223372036854775807"] {
            let server = ServerId::parse("serverId", text).expect(text);
            assert_eq!(server.snowflake(), Snowflake::parse("guildId", text).expect(text));
            assert_eq!(server.to_string(), text);
            assert_eq!(ServerId::from_stored(server.get()), server);
        }
    }

    #[test]
    fn bad_ids_name_the_field() {
        for bad in ["", "0", "-5", "abc", "1e9", "99999999999999999999", "+7"] {
            let err = RobloxUserId::parse("robloxId", bad).expect_err(bad);
            assert!(err.to_string().starts_with("robloxId: must be a Roblox user id"), "{err}");
        }
    }
}
