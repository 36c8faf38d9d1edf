//! Ids on the wire: the API's bodies carry Discord and Roblox ids as strings (a snowflake does not fit
//! a JavaScript number), its answers as strings or numbers. garrison-core's id types parse by its one
//! rule; these are the serde adapters the body and answer types use them through.

use std::fmt::Display;

use garrison_core::{RobloxUserId, ServerId, discord::Snowflake, roblox::GroupId};
use serde::{Deserialize, Deserializer, Serializer, ser::SerializeSeq as _};

/// An id type the answers carry, parsed by garrison-core's rule for it.
pub(crate) trait Id: Sized {
    fn parse_id(text: &str) -> Option<Self>;
}

impl Id for ServerId {
    fn parse_id(text: &str) -> Option<Self> {
        ServerId::parse("serverId", text).ok()
    }
}

impl Id for Snowflake {
    fn parse_id(text: &str) -> Option<Self> {
        Snowflake::parse("id", text).ok()
    }
}

impl Id for RobloxUserId {
    fn parse_id(text: &str) -> Option<Self> {
        RobloxUserId::parse("robloxId", text).ok()
    }
}

impl Id for GroupId {
    fn parse_id(text: &str) -> Option<Self> {
        GroupId::parse("groupId", text).ok()
    }
}

/// An id as an answer writes it: a string or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Text(String),
    Number(u64),
}

impl Written {
    fn parse<T: Id, E: serde::de::Error>(self) -> Result<T, E> {
        let text = match self {
            Written::Text(text) => text,
            Written::Number(number) => number.to_string(),
        };
        T::parse_id(&text).ok_or_else(|| E::custom(format!("not a valid id: {text:?}")))
    }
}

pub(crate) fn id<'de, D: Deserializer<'de>, T: Id>(deserializer: D) -> Result<T, D::Error> {
    Written::deserialize(deserializer)?.parse()
}

pub(crate) fn id_opt<'de, D: Deserializer<'de>, T: Id>(deserializer: D) -> Result<Option<T>, D::Error> {
    Option::<Written>::deserialize(deserializer)?.map(Written::parse).transpose()
}

pub(crate) fn ids<'de, D: Deserializer<'de>, T: Id>(deserializer: D) -> Result<Vec<T>, D::Error> {
    Vec::<Written>::deserialize(deserializer)?.into_iter().map(Written::parse).collect()
}

/// Writes an id (or any value) as its `Display` text.
pub(crate) fn text<S: Serializer>(value: &impl Display, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Writes `Some(id)` as its text and `None` as `null` (fields skip `None` where the document lets
/// them be absent).
pub(crate) fn text_opt<S: Serializer, T: Display>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}

/// Writes a list of ids as a list of strings.
pub(crate) fn texts<S: Serializer, T: Display>(values: &[T], serializer: S) -> Result<S::Ok, S::Error> {
    let mut seq = serializer.serialize_seq(Some(values.len()))?;
    for value in values {
        seq.serialize_element(&value.to_string())?;
    }
    seq.end()
}

/// Ids joined by commas, as the role routes take several in one header or path segment.
pub(crate) fn comma_separated(ids: &[Snowflake]) -> String {
    ids.iter().map(Snowflake::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Sample {
        #[serde(serialize_with = "text", deserialize_with = "id")]
        server: ServerId,
        #[serde(serialize_with = "texts", deserialize_with = "ids")]
        roles: Vec<Snowflake>,
        #[serde(serialize_with = "text_opt", deserialize_with = "id_opt")]
        member: Option<RobloxUserId>,
    }

    #[test]
    fn ids_travel_as_strings_and_are_read_from_either() {
        let sample: Sample =
            serde_json::from_str(r#"{"server":"123456789012345678","roles":[4194304,"4194305"],"member":7}"#)
                .expect("ids as strings or numbers");
        assert_eq!(sample.server.get(), 123_456_789_012_345_678);
        assert_eq!(
            serde_json::to_string(&sample).expect("serializes"),
            r#"{"server":"123456789012345678","roles":["4194304","4194305"],"member":"7"}"#
        );
        assert!(serde_json::from_str::<Sample>(r#"{"server":"12","roles":[],"member":null}"#).is_err());
    }
}
